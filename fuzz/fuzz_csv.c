/*
 * fuzz_csv.c - libFuzzer target for the CSV seed reader (migrate/csvread.h),
 * see 'make fuzz'.
 *
 * The input is a CSV file, read through csvread_file from a temporary file
 * exactly as a seed is. Invariants checked on every record: a field is
 * NULL or NUL-terminated at its length with no NUL inside, it is valid
 * UTF-8, the record's line is at least 1 and never goes back, and an error
 * always comes with a message.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../migrate/csvread.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char csv_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(csv_path, sizeof(csv_path), "/tmp/fuzz_csv.%ld.csv", (long)getpid());
	return 0;
}

struct seen {
	long line;
	size_t records;
};

static int row(void *ctx, long line, size_t nfields, char *const *fields, const size_t *lens)
{
	struct seen *s = ctx;
	size_t i;

	if (line < 1 || line < s->line)
		abort();
	s->line = line;
	s->records++;
	for (i = 0; i < nfields; i++) {
		if (!fields[i])
			continue;
		if (fields[i][lens[i]] != '\0' || memchr(fields[i], '\0', lens[i]))
			abort();
		if (!csvread_utf8_valid(fields[i], lens[i]))
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { 0, 0 };
	char msg[512];
	long errline = -1;
	FILE *f = fopen(csv_path, "wb");
	int r;

	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	msg[0] = '\0';
	r = csvread_file(csv_path, row, NULL, &s, &errline, msg, sizeof(msg));
	if (r == -1 && (msg[0] == '\0' || errline < 0))
		abort();
	return 0;
}
