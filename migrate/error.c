/*
 * error.c - the first-error-wins error buffer (see error.h).
 */
#include "error.h"

#include <stdio.h>
#include <string.h>

void merr_clear(struct migrate_error *err)
{
	if (err) {
		err->code = MIGRATE_OK;
		err->message[0] = '\0';
	}
}

enum migrate_result merr_set(struct migrate_error *err, enum migrate_result code,
			     const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	if (err->code != MIGRATE_OK)
		return err->code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

void merr_append(struct migrate_error *err, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (!err)
		return;
	n = strlen(err->message);
	va_start(ap, fmt);
	vsnprintf(err->message + n, sizeof(err->message) - n, fmt, ap);
	va_end(ap);
}
