/*
 * drivers.c - the list of drivers this build has, and helpers every driver
 * shares. A driver is compiled in when its HAVE_* macro is defined by the
 * Makefile (it is, whenever its client library is found).
 */
#include "driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern const struct driver sqlite_driver;
#ifdef HAVE_POSTGRES
extern const struct driver postgres_driver;
#endif
#ifdef HAVE_MYSQL
extern const struct driver mysql_driver;
#endif

const struct driver *const driver_list[] = {
	&sqlite_driver,
#ifdef HAVE_POSTGRES
	&postgres_driver,
#endif
#ifdef HAVE_MYSQL
	&mysql_driver,
#endif
	NULL,
};

const struct driver *driver_find(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	if (strcmp(name, "postgresql") == 0)
		name = "postgres";
	else if (strcmp(name, "mariadb") == 0)
		name = "mysql";
	else if (strcmp(name, "sqlite3") == 0)
		name = "sqlite";
	for (i = 0; driver_list[i]; i++)
		if (strcmp(driver_list[i]->name, name) == 0)
			return driver_list[i];
	return NULL;
}

void driver_error_set(struct driver_error *err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	/* Database messages end in newlines and sometimes span lines; keep one. */
	n = strlen(err->message);
	while (n > 0 && (err->message[n - 1] == '\n' || err->message[n - 1] == ' '))
		err->message[--n] = '\0';
	err->offset = -1;
}
