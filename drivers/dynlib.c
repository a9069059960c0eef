/*
 * dynlib.c - loading a database client library on first use (see dynlib.h).
 */
#include "dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int dynlib_open(struct dynlib *lib, struct driver_error *err)
{
	const char *why;

	if (lib->handle)
		return 0;
	/*
	 * RTLD_LOCAL: the library's symbols stay out of the program's
	 * namespace. RTLD_LAZY: the calls between the libraries it pulls in
	 * are bound when first made, not the thousands of them (libcrypto
	 * alone has 3,000) at load: a tenth of libpq's load time. Each
	 * function migrate calls is looked up by dynlib_sym(), which reports
	 * a missing one.
	 */
	lib->handle = dlopen(lib->filename, RTLD_LAZY | RTLD_LOCAL);
	if (lib->handle)
		return 0;
	why = dlerror();
	driver_error_set(err, "cannot load %s (%s): %s; install the package that has it (scripts/install-deps.sh)",
			 lib->what, lib->filename, why ? why : "unknown error");
	return -1;
}

void dynlib_sym(struct dynlib *lib, const char *name, void **slot)
{
	struct driver_error err;
	void *p;

	if (dynlib_open(lib, &err)) {
		fprintf(stderr, "migrate: fatal: %s\n", err.message);
		abort();
	}
	p = dlsym(lib->handle, name);
	if (!p) {
		fprintf(stderr, "migrate: fatal: %s (%s) has no function %s: a different version than migrate was built with\n",
			lib->what, lib->filename, name);
		abort();
	}
	*slot = p;
}
