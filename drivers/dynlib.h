/*
 * dynlib.h - database client libraries, loaded when a driver first connects.
 *
 * The migrate binary links neither libpq nor the MySQL client library.
 * Loading them at start-up, with the dozens of libraries they pull in
 * (Kerberos, LDAP, GnuTLS, ...), took longer than a whole 'migrate status'
 * on SQLite and tripled its memory (bench/RESULTS.md). Instead
 * drivers/postgres_lib.c and drivers/mysql_lib.c define every client
 * function a driver calls as a small trampoline into the library, which
 * dynlib_open() loads with dlopen() when the driver connects; the driver
 * code calls PQexec() or mysql_real_query() as usual, and a database that
 * is not used costs nothing.
 *
 * A driver that calls a client function with no trampoline fails to link
 * (undefined reference): add one line for it to that driver's *_lib.c.
 */
#ifndef MIGRATE_DYNLIB_H
#define MIGRATE_DYNLIB_H

#include "driver.h"

struct dynlib {
	const char *what;     /* for messages: "libpq" */
	const char *filename; /* what dlopen() is given: the soname the build linked against */
	void *handle;         /* NULL until loaded */
};

/* The libraries, defined beside their trampolines. */
extern struct dynlib pgdrv_libpq;    /* postgres_lib.c */
extern struct dynlib mydrv_libmysql; /* mysql_lib.c */

/*
 * Loads lib unless it is loaded. Returns 0, or -1 with err saying which
 * library is missing and how to install it.
 */
int dynlib_open(struct dynlib *lib, struct driver_error *err);

/*
 * Stores the address of the function called name into *slot (a function
 * pointer, seen as void *), loading lib first if need be. A library or a
 * function that is missing here is a broken installation the driver could
 * not report (its connect() loads the library first), so this aborts with
 * a message on stderr.
 */
void dynlib_sym(struct dynlib *lib, const char *name, void **slot);

/*
 * One trampoline: "ret name params { return the library's name args; }".
 * The function's declaration in the client library's header gives the
 * pointer's type, so a wrong parameter list here does not compile.
 */
#define DYNLIB_FN(lib, ret, name, params, args)                     \
	ret name params                                             \
	{                                                           \
		static __typeof__(&name) fn;                        \
		if (!fn)                                            \
			dynlib_sym(&(lib), #name, (void **)&fn);    \
		return fn args;                                     \
	}
#define DYNLIB_VOID(lib, name, params, args)                        \
	void name params                                            \
	{                                                           \
		static __typeof__(&name) fn;                        \
		if (!fn)                                            \
			dynlib_sym(&(lib), #name, (void **)&fn);    \
		fn args;                                            \
	}

#endif
