/*
 * fuzz_migration.c - libFuzzer target for the migration-file parser and
 * the statement lexer (see 'make fuzz').
 *
 * The input is a migration file. It is parsed for each dialect, as a
 * migration and as a seed; each section chosen is split into statements
 * with their normalised form, exactly as a run would, and the lexer also
 * runs on the whole input in every dialect. Invariants checked: every
 * statement lies inside its section, lines only grow, and splitting the
 * same text twice gives the same result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../migrate/error.h"
#include "../migrate/migration.h"
#include "../migrate/sqllex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	enum sql_dialect dialect;
	const char *name;
} dialects[] = {
	{ SQL_DIALECT_SQLITE, "sqlite" },
	{ SQL_DIALECT_POSTGRES, "postgres" },
	{ SQL_DIALECT_MYSQL, "mysql" },
};

static void split_checked(const char *text, size_t len, enum sql_dialect d, int first_line)
{
	struct sql_stmts a = { NULL, 0, 0 }, b = { NULL, 0, 0 };
	struct strbuf na = STRBUF_INIT, nb = STRBUF_INIT;
	char msg[256];
	int ra, rb;
	size_t i;

	ra = sqllex_split(text, len, d, first_line, &a, &na, msg, sizeof(msg));
	rb = sqllex_split(text, len, d, first_line, &b, &nb, msg, sizeof(msg));
	if (ra != rb || (ra == 0 && (a.n != b.n || na.len != nb.len ||
				     (na.len && memcmp(na.buf, nb.buf, na.len) != 0))))
		abort();
	for (i = 0; ra == 0 && i < a.n; i++) {
		if (a.v[i].off > len || a.v[i].len > len - a.v[i].off)
			abort();
		if (a.v[i].line < first_line || (i > 0 && a.v[i].line < a.v[i - 1].line))
			abort();
	}
	sql_stmts_release(&a);
	sql_stmts_release(&b);
	strbuf_release(&na);
	strbuf_release(&nb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t k;
	int seed;

	for (k = 0; k < sizeof(dialects) / sizeof(dialects[0]); k++) {
		split_checked((const char *)data, size, dialects[k].dialect, 1);
		for (seed = 0; seed < 2; seed++) {
			struct migration m;
			struct migrate_error err;
			char *text = malloc(size + 1);

			if (!text)
				return 0;
			memcpy(text, data, size);
			text[size] = '\0';
			memset(&m, 0, sizeof(m));
			merr_clear(&err);
			/* the text is m's now, and released with it on failure */
			if (migration_parse(&m, "fuzz.sql", text, size, dialects[k].dialect, dialects[k].name, seed,
					    &err) != MIGRATE_OK)
				continue;
			if (m.len > size || (m.up.present && (m.up.off > m.len || m.up.len > m.len - m.up.off)) ||
			    (m.down.present && (m.down.off > m.len || m.down.len > m.len - m.down.off)))
				abort();
			if (m.up.present)
				split_checked(m.text + m.up.off, m.up.len, dialects[k].dialect, m.up.line);
			if (m.down.present)
				split_checked(m.text + m.down.off, m.down.len, dialects[k].dialect, m.down.line);
			migration_release(&m);
		}
	}
	return 0;
}
