/*
 * fuzz_config.c - libFuzzer target for the configuration and URL parser:
 * url_parse, expand_vars, and config_load on a temporary file holding the
 * input (see fuzz/README and 'make fuzz').
 *
 * The input is used three ways at once: as a URL, as a value with ${VAR}
 * references (a few variables are set, one is unset), and as a whole
 * config.ini read for the development environment. Every error is an
 * expected outcome; only a crash, a leak or undefined behaviour is a find.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../migrate/config.h"
#include "../migrate/error.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PASSWORD_MARK "Zq9-the-password-mark"

static char cfg_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("FUZZ_A", "alpha", 1);
	setenv("FUZZ_EMPTY", "", 1);
	setenv("FUZZ_URL", "postgres://u:p%40ss@h:5432/db?sslmode=require", 1);
	unsetenv("FUZZ_UNSET");
	unsetenv("DATABASE_URL");
	unsetenv("MIGRATE_ENV");
	unsetenv("MIGRATE_CONFIG");
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/fuzz_config.%ld.ini", (long)getpid());
	return 0;
}

static const char *lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *expanded;
	char msg[512];
	struct db_url u;
	struct migrate_options opt = MIGRATE_OPTIONS_INIT;
	struct config cfg;
	struct migrate_error err;
	FILE *f;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	memset(&u, 0, sizeof(u));
	if (url_parse(s, &u, msg, sizeof(msg)) == 0) {
		char *shown;
		/*
		 * The display never shows the password field. A marker stands in
		 * for it, as the input may hold the password's text elsewhere
		 * (in a query parameter, say), where showing it is no leak.
		 */
		if (u.password) {
			free(u.password);
			u.password = strdup(PASSWORD_MARK);
		}
		shown = db_url_display(&u);
		if (strstr(shown, PASSWORD_MARK) && !strstr(s, PASSWORD_MARK))
			abort();
		free(shown);
	}
	db_url_release(&u);

	expanded = expand_vars(s, lookup, NULL, msg, sizeof(msg));
	free(expanded);

	f = fopen(cfg_path, "wb");
	if (f) {
		fwrite(data, 1, size, f);
		fclose(f);
		opt.config_path = cfg_path;
		opt.env = "development";
		opt.no_connect = 1;
		memset(&cfg, 0, sizeof(cfg));
		merr_clear(&err);
		config_load(&opt, 1, &cfg, &err);
		config_release(&cfg);
	}
	free(s);
	return 0;
}
