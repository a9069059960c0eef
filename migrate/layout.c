/*
 * layout.c - other tools' migration directories, read as they are (see layout.h).
 *
 * A team adopting migrate keeps its files. Each tool's files are turned
 * here into the struct migration the core already runs: sections with
 * offsets and lines into the text, so every later error still names the
 * file and line, and nothing past this file knows which tool wrote them.
 * What each tool does, and what migrate does the same way:
 *
 *   golang-migrate  <version>_<name>.up.sql / .down.sql: each file one
 *                   section. golang-migrate sends a file as one
 *                   multi-statement exec: on PostgreSQL the server runs it
 *                   as one implicit transaction, on SQLite it wraps it in
 *                   one, on MySQL DDL commits anyway; migrate runs the
 *                   section in a transaction likewise, unless the file
 *                   controls transactions itself or holds a statement that
 *                   cannot run in one (then transaction:false). No
 *                   placeholders: the file runs as written.
 *   goose           -- +goose Up / Down sections; the text between
 *                   StatementBegin and StatementEnd is one statement, sent
 *                   as it is (on MySQL, where goose needs multiStatements
 *                   for a block of several and the server splits them,
 *                   the lexer splits it the same way); NO TRANSACTION for
 *                   the whole file. No
 *                   placeholders (ENVSUB ON is refused, not ignored).
 *   Flyway          V<version>__<description>.sql, U<version>__... its undo;
 *                   dotted versions (1.2.3, or 1_2_3 in the name); a
 *                   <file>.conf with executeInTransaction=false; a
 *                   migration runs in a transaction unless it holds a
 *                   statement that cannot; ${...} placeholders as Flyway
 *                   has them. Repeatable R__ files are refused.
 *   dbmate          migrate's own layout (the same markers).
 *
 * Divisions: formats; telling a layout from its names; statements that
 * cannot run in a transaction; goose's annotations; files in pairs
 * (golang-migrate, Flyway); the scan.
 */
#define _POSIX_C_SOURCE 200809L
#include "layout.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "error.h"
#include "sqllex.h"
#include "util.h"

/* ---- formats ---------------------------------------------------------------- */

static const char *const format_names[] = {
	[LAYOUT_AUTO] = "auto",       [LAYOUT_MIGRATE] = "migrate", [LAYOUT_GOLANG_MIGRATE] = "golang-migrate",
	[LAYOUT_GOOSE] = "goose",     [LAYOUT_FLYWAY] = "flyway",   [LAYOUT_DBMATE] = "dbmate",
};

int layout_format_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(name, format_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *layout_format_name(enum layout_format f)
{
	return format_names[f];
}

const char *layout_no_down(const char *format)
{
	int f = format ? layout_format_parse(format) : -1;

	switch (f) {
	case LAYOUT_GOLANG_MIGRATE:
		return "it has no <version>_<name>.down.sql file, or an empty one";
	case LAYOUT_GOOSE:
		return "its '-- +goose Down' section is missing or empty";
	case LAYOUT_FLYWAY:
		return "it has no U<version>__<description>.sql undo file, or an empty one";
	default:
		return NULL;
	}
}

/* How people name the tools in messages. */
static const char *tool_label(enum layout_format f)
{
	switch (f) {
	case LAYOUT_GOLANG_MIGRATE:
		return "golang-migrate's";
	case LAYOUT_GOOSE:
		return "goose's";
	case LAYOUT_FLYWAY:
		return "Flyway's";
	case LAYOUT_DBMATE:
		return "dbmate's";
	default:
		return "migrate's";
	}
}

static const char *naming_rule(enum layout_format f)
{
	switch (f) {
	case LAYOUT_GOLANG_MIGRATE:
		return "golang-migrate names them <version>_<name>.up.sql and <version>_<name>.down.sql, the version digits";
	case LAYOUT_GOOSE:
		return "goose names them <version>_<name>.sql, the version digits";
	case LAYOUT_FLYWAY:
		return "Flyway names them V<version>__<description>.sql and U<version>__<description>.sql, the version numbers separated by '.' or '_'";
	default:
		return "<version>_<name>.sql";
	}
}

/* ---- telling a layout from its names ------------------------------------------ */

enum kind { K_OTHER, K_PLAIN, K_GOLANG, K_FLYWAY };

struct entry {
	char *fn;
	enum kind kind;
	int down;        /* golang-migrate's .down.sql, Flyway's U file */
	int repeatable;  /* Flyway's R__ */
	int go;          /* a goose Go migration, <version>_<name>.go */
	char *version;   /* canonical; NULL when the version is not one */
	char *name;
};

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Fills e from its file name fn (a *.sql, or a *.go). */
static void classify(struct entry *e, const char *fn)
{
	size_t digits = strspn(fn, "0123456789"), n = strlen(fn);
	const char *sep;

	memset(e, 0, sizeof(*e));
	e->fn = xstrdup(fn);
	if (ends_with(fn, ".go")) {
		e->go = digits > 0 && fn[digits] == '_';
		return;
	}
	/*
	 * golang-migrate: ^([0-9]+)_(.*)\.(down|up)\.(.*)$, the name greedy, so
	 * the last ".up." or ".down." decides (30_x.up..sql is version 30, up)
	 */
	if (digits > 0 && fn[digits] == '_' && ends_with_ci(fn, ".sql")) {
		size_t i, at = 0;
		int down = 0;

		for (i = digits + 1; i < n; i++) {
			if (strncmp(fn + i, ".up.", 4) == 0)
				at = i, down = 0;
			else if (strncmp(fn + i, ".down.", 6) == 0)
				at = i, down = 1;
		}
		if (at) {
			e->kind = K_GOLANG;
			e->down = down;
			e->version = version_canonical(fn, digits);
			e->name = xstrndup(fn + digits + 1, at - digits - 1);
			return;
		}
	}
	if ((fn[0] == 'V' || fn[0] == 'U' || fn[0] == 'R') && (sep = strstr(fn + 1, "__")) != NULL &&
	    ends_with(fn, ".sql") && (size_t)(sep - fn) + 2 <= n - 4) {
		size_t vlen = (size_t)(sep - fn) - 1, i;
		char *v = xstrndup(fn + 1, vlen);

		e->kind = K_FLYWAY;
		e->down = fn[0] == 'U';
		e->repeatable = fn[0] == 'R';
		for (i = 0; i < vlen; i++)
			if (v[i] == '_')
				v[i] = '.';
		e->version = vlen ? version_canonical(v, vlen) : NULL;
		e->name = xstrndup(sep + 2, n - (size_t)(sep + 2 - fn) - 4);
		free(v);
		return;
	}
	if (digits > 0 && fn[digits] == '_' && ends_with_ci(fn, ".sql")) {
		e->kind = K_PLAIN;
		e->version = version_canonical(fn, digits);
		e->name = xstrndup(fn + digits + 1, n - digits - 5);
	}
}

static void entry_release(struct entry *e)
{
	free(e->fn);
	free(e->version);
	free(e->name);
}

/*
 * Is this goose's file? goose reads a line as an annotation when it is a
 * comment holding "+goose"; recognising a layout asks for more, the
 * comment starting with it ("-- +goose Up"), so a migrate file that only
 * mentions goose stays migrate's.
 */
static int goose_text(const char *s, size_t len)
{
	size_t pos = migration_bom_len(s, len);

	while (pos < len) {
		const char *nl = memchr(s + pos, '\n', len - pos);
		size_t eol = nl ? (size_t)(nl - s) : len, i = pos;

		if (eol - i >= 2 && s[i] == '-' && s[i + 1] == '-') {
			i += 2;
			while (i < eol && (s[i] == ' ' || s[i] == '\t'))
				i++;
			if (eol - i >= 6 && strncmp(s + i, "+goose", 6) == 0)
				return 1;
		}
		pos = nl ? eol + 1 : eol;
	}
	return 0;
}

/* ---- statements that cannot run in a transaction --------------------------------- */

/*
 * Does a section without markers (golang-migrate, Flyway) need to run
 * outside a transaction: it begins or ends transactions itself, or holds a
 * statement the database refuses in one (sqllex_classify, the same test
 * that refuses them in a transactional section of migrate's own files)?
 */
static int needs_no_transaction(const char *text, const struct section *sec, enum sql_dialect dialect)
{
	struct sql_stmts stmts = { NULL, 0, 0 };
	char msg[256], what[64];
	size_t i;
	int yes = 0;

	if (section_split(text, sec, dialect, &stmts, NULL, msg, sizeof(msg)))
		return 0; /* the checksum reports the lexer's error */
	for (i = 0; i < stmts.n && !yes; i++) {
		enum sql_stmt_kind k = sqllex_classify(text + sec->off + stmts.v[i].off, stmts.v[i].len, dialect, what,
						       sizeof(what));
		yes = k == SQL_STMT_TX_CONTROL || k == SQL_STMT_NO_TX;
	}
	sql_stmts_release(&stmts);
	return yes;
}

/* ---- goose's annotations ------------------------------------------------------------ */

struct blocks {
	struct section_block *v;
	size_t n, cap;
};

/* Adds the block text[from..to) to b, blanks trimmed at both ends (goose trims the statement). */
static void add_block(struct blocks *b, const char *text, size_t from, size_t to, int line)
{
	while (from < to && isspace((unsigned char)text[from]))
		line += text[from++] == '\n';
	while (to > from && isspace((unsigned char)text[to - 1]))
		to--;
	if (from == to)
		return;
	xgrow(&b->v, &b->cap, b->n + 1, sizeof(*b->v));
	b->v[b->n].off = from;
	b->v[b->n].len = to - from;
	b->v[b->n].line = line;
	b->n++;
}

/* Does s[0..n) hold word? */
static int holds(const char *s, size_t n, const char *word)
{
	size_t k = strlen(word), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(s + i, word, k) == 0)
			return 1;
	return 0;
}

/* An annotation's command: the line without its "--"s and its first "+goose", trimmed. */
static void goose_command(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i = 0, o = 0, start, end;
	int gone = 0;
	char tmp[128];

	/* strings.ReplaceAll(line, "--", ""), then strings.Replace(cmd, "+goose", "", 1) */
	while (i < n && o + 1 < sizeof(tmp)) {
		if (i + 1 < n && s[i] == '-' && s[i + 1] == '-') {
			i += 2;
		} else if (!gone && n - i >= 6 && strncmp(s + i, "+goose", 6) == 0) {
			i += 6;
			gone = 1;
		} else {
			tmp[o++] = s[i++];
		}
	}
	tmp[o] = '\0';
	for (start = 0; start < o && isspace((unsigned char)tmp[start]); start++)
		;
	for (end = o; end > start && isspace((unsigned char)tmp[end - 1]); end--)
		;
	snprintf(out, outlen, "%.*s", (int)(end - start), tmp + start);
}

/*
 * Parses m->text (normalised) as goose does: an Up section and an optional
 * Down section, statement blocks, NO TRANSACTION. Only comments and blank
 * lines may stand before Up.
 */
static enum migrate_result goose_parse(struct migration *m, const char *path, enum sql_dialect dialect,
				       struct migrate_error *err)
{
	struct blocks bl[2] = { { NULL, 0, 0 }, { NULL, 0, 0 } };
	struct section *cur = NULL;
	size_t pos = migration_bom_len(m->text, m->len), block_off = 0;
	int line = 1, state = 0, in_block = 0, block_line = 0, notx = 0, k;
	char cmd[128];

	while (pos < m->len) {
		const char *s = m->text + pos, *nl = memchr(s, '\n', m->len - pos);
		size_t eol = nl ? (size_t)(nl - m->text) : m->len, n = eol - pos, i = 0, next = nl ? eol + 1 : eol;

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (n - i >= 2 && s[i] == '-' && s[i + 1] == '-' && holds(s, n, "+goose")) {
			if (i > 0) {
				merr_set(err, MIGRATE_EUSAGE,
					 "%s:%d: a goose annotation starts at the beginning of its line (goose refuses it indented)",
					 path, line);
				goto fail;
			}
			goose_command(s, n, cmd, sizeof(cmd));
			if (strcasecmp(cmd, "Up") == 0) {
				if (state != 0) {
					merr_set(err, MIGRATE_EUSAGE, "%s:%d: a second '-- +goose Up'", path, line);
					goto fail;
				}
				state = 1;
				cur = &m->up;
				cur->off = next;
				cur->line = line + 1;
				cur->present = 1;
			} else if (strcasecmp(cmd, "Down") == 0) {
				if (state != 1 || in_block) {
					if (in_block)
						merr_set(err, MIGRATE_EUSAGE,
							 "%s:%d: '-- +goose StatementBegin' has no '-- +goose StatementEnd' before '-- +goose Down' (line %d)",
							 path, block_line, line);
					else
						merr_set(err, MIGRATE_EUSAGE, "%s:%d: '-- +goose Down' %s", path, line,
							 state == 0 ? "before '-- +goose Up'" : "a second time");
					goto fail;
				}
				m->up.len = pos - m->up.off;
				state = 2;
				cur = &m->down;
				cur->off = next;
				cur->line = line + 1;
				cur->present = 1;
			} else if (strcasecmp(cmd, "StatementBegin") == 0) {
				if (state == 0 || in_block) {
					if (in_block)
						merr_set(err, MIGRATE_EUSAGE,
							 "%s:%d: '-- +goose StatementBegin' inside the block begun at line %d, which has no '-- +goose StatementEnd' yet",
							 path, line, block_line);
					else
						merr_set(err, MIGRATE_EUSAGE,
							 "%s:%d: '-- +goose StatementBegin' before '-- +goose Up'", path, line);
					goto fail;
				}
				in_block = 1;
				block_line = line;
				block_off = next;
			} else if (strcasecmp(cmd, "StatementEnd") == 0) {
				if (!in_block) {
					merr_set(err, MIGRATE_EUSAGE,
						 "%s:%d: '-- +goose StatementEnd' without a '-- +goose StatementBegin' before it",
						 path, line);
					goto fail;
				}
				add_block(&bl[state - 1], m->text, block_off, pos, block_line + 1);
				in_block = 0;
			} else if (strcasecmp(cmd, "NO TRANSACTION") == 0) {
				notx = 1;
			} else if (strcasecmp(cmd, "ENVSUB OFF") == 0) {
				/* the default */
			} else if (strcasecmp(cmd, "ENVSUB ON") == 0) {
				merr_set(err, MIGRATE_EUSAGE,
					 "%s:%d: '-- +goose ENVSUB ON' (environment variables put into the SQL) is not supported; migrate's placeholders come from the config's [placeholders] section",
					 path, line);
				goto fail;
			} else {
				merr_set(err, MIGRATE_EUSAGE,
					 "%s:%d: unknown goose annotation '%s' (goose knows Up, Down, StatementBegin, StatementEnd, NO TRANSACTION, ENVSUB ON/OFF)",
					 path, line, cmd);
				goto fail;
			}
		} else if (state == 0 && i < n && !(n - i >= 2 && s[i] == '-' && s[i + 1] == '-')) {
			merr_set(err, MIGRATE_EUSAGE,
				 "%s:%d: a statement before '-- +goose Up' (goose allows only comments there)", path, line);
			goto fail;
		}
		pos = next;
		line++;
	}
	if (in_block) {
		merr_set(err, MIGRATE_EUSAGE, "%s:%d: '-- +goose StatementBegin' has no '-- +goose StatementEnd'", path,
			 block_line);
		goto fail;
	}
	if (state == 0) {
		merr_set(err, MIGRATE_EUSAGE, "%s: no '-- +goose Up' annotation; a goose migration needs one", path);
		goto fail;
	}
	cur->len = m->len - cur->off;
	for (k = 0; k < 2; k++) {
		struct section *sec = k == 0 ? &m->up : &m->down;
		sec->transaction = !notx;
		sec->literal = 1;
		/*
		 * On MySQL goose needs the driver's multiStatements for a block
		 * of several statements, and the server then runs them one by
		 * one; migrate's connection runs one statement an exec, so there
		 * the lexer splits the block as the server would.
		 */
		if (dialect == SQL_DIALECT_MYSQL) {
			free(bl[k].v);
			continue;
		}
		sec->blocks = bl[k].v;
		sec->nblocks = bl[k].n;
	}
	return MIGRATE_OK;
fail:
	free(bl[0].v);
	free(bl[1].v);
	return err->code;
}

/* ---- files in pairs (golang-migrate, Flyway) --------------------------------------------------- */

/* Reads a migration file whole, as the text that runs (migration_text_prepare). */
static enum migrate_result read_sql(const char *path, enum sql_dialect dialect, char **text, size_t *len,
				   struct migrate_error *err)
{
	struct stat st;
	int r;

	*text = NULL;
	/* only regular files: opening a FIFO would block the run forever */
	r = stat(path, &st);
	if (r != 0 || !S_ISREG(st.st_mode))
		return merr_set(err, MIGRATE_EUSAGE, "cannot read migration '%s': %s", path,
				r != 0 ? strerror(errno) : "not a regular file");
	r = read_file(path, text, len);
	if (r)
		return merr_set(err, MIGRATE_EUSAGE, "cannot read migration '%s': %s", path, strerror(r));
	if (memchr(*text, '\0', *len)) {
		free(*text);
		*text = NULL;
		return merr_set(err, MIGRATE_EUSAGE, "%s: holds a NUL byte; a migration must be a text file", path);
	}
	*len = migration_text_prepare(*text, *len, dialect);
	return MIGRATE_OK;
}

/* Flyway's per-script configuration, <script>.conf: executeInTransaction=false. */
static int flyway_no_transaction(const char *path)
{
	char *conf = xasprintf("%s.conf", path), *text, *p;
	size_t len;
	int no = 0;

	if (read_file(conf, &text, &len) == 0) {
		for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
			char key[64], val[16];
			if (sscanf(p, " %63[A-Za-z] = %15[A-Za-z]", key, val) == 2 &&
			    strcmp(key, "executeInTransaction") == 0 && strcasecmp(val, "false") == 0)
				no = 1;
		}
		free(text);
	}
	free(conf);
	return no;
}

struct pair {
	const struct entry *up, *down;
};

/* One migration from its up file and, when there is one, its down file: one text, two sections. */
static enum migrate_result load_pair(const char *dir, enum layout_format f, const struct pair *p,
				     enum sql_dialect dialect, struct migration *m, struct migrate_error *err)
{
	char *up = NULL, *down = NULL;
	size_t ulen = 0, dlen = 0, ubom;

	memset(m, 0, sizeof(*m));
	m->path = path_join(dir, p->up->fn);
	m->filename = xstrdup(p->up->fn);
	m->version = xstrdup(p->up->version);
	m->name = xstrdup(p->up->name);
	if (read_sql(m->path, dialect, &up, &ulen, err))
		goto fail;
	if (p->down) {
		m->down.path = path_join(dir, p->down->fn);
		if (read_sql(m->down.path, dialect, &down, &dlen, err))
			goto fail;
	}
	/* the checksum is of the up file followed by the down file */
	m->len = ulen + dlen;
	m->text = xmalloc(m->len + 1);
	memcpy(m->text, up, ulen);
	if (dlen)
		memcpy(m->text + ulen, down, dlen);
	m->text[m->len] = '\0';
	/* a byte-order mark an editor put first is not SQL */
	ubom = migration_bom_len(up, ulen);
	m->up = (struct section){ .present = 1, .transaction = 1, .off = ubom, .len = ulen - ubom, .line = 1 };
	m->up.literal = f == LAYOUT_GOLANG_MIGRATE;
	if (p->down) {
		size_t dbom = migration_bom_len(down, dlen);
		m->down.present = 1;
		m->down.transaction = 1;
		m->down.off = ulen + dbom;
		m->down.len = dlen - dbom;
		m->down.line = 1;
		m->down.literal = m->up.literal;
	}
	if (migration_checksums(m, m->path, dialect, err))
		goto fail;
	if (needs_no_transaction(m->text, &m->up, dialect) ||
	    (f == LAYOUT_FLYWAY && flyway_no_transaction(m->path)))
		m->up.transaction = 0;
	if (p->down && (needs_no_transaction(m->text, &m->down, dialect) ||
			(f == LAYOUT_FLYWAY && flyway_no_transaction(m->down.path))))
		m->down.transaction = 0;
	free(up);
	free(down);
	return MIGRATE_OK;
fail:
	free(up);
	free(down);
	migration_release(m);
	return err->code;
}

/* ---- the scan ------------------------------------------------------------------------------ */

struct entries {
	struct entry *v;
	size_t n, cap;
};

static int cmp_entry_fn(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->fn, ((const struct entry *)b)->fn);
}

static int cmp_migration(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return version_cmp(x->version, y->version);
}

/* Lists dir's *.sql (and *.go) files the scan looks at, sorted. A missing directory is empty. */
static enum migrate_result list_dir(const char *dir, const char *ignore, struct entries *out,
				    struct migrate_error *err)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno == ENOENT)
			return MIGRATE_OK;
		return merr_set(err, MIGRATE_EUSAGE, "cannot read migration directory '%s': %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		const char *fn = de->d_name;

		size_t digits = strspn(fn, "0123456789");

		/* *.sql, and what may be a goose Go migration (<version>_<name>.go) */
		if (fn[0] == '.' || migration_ignored(ignore, fn) ||
		    !(ends_with_ci(fn, ".sql") || (ends_with(fn, ".go") && digits && fn[digits] == '_')))
			continue;
		xgrow(&out->v, &out->cap, out->n + 1, sizeof(*out->v));
		classify(&out->v[out->n++], fn);
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_entry_fn);
	return MIGRATE_OK;
}

/* Which layout a plain <version>_<name>.sql is in: goose's or migrate's (by its annotations). */
static enum migrate_result plain_layout(const char *dir, const struct entry *e, enum layout_format *f,
					struct migrate_error *err)
{
	char *path = path_join(dir, e->fn), *text;
	struct stat st;
	size_t len;
	int r;

	/* a FIFO would block the run, a directory is no file: the chosen layout's scan says so */
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		*f = LAYOUT_MIGRATE;
		free(path);
		return MIGRATE_OK;
	}
	r = read_file(path, &text, &len);
	if (r) {
		merr_set(err, MIGRATE_EUSAGE, "cannot read migration '%s': %s", path, strerror(r));
		free(path);
		return err->code;
	}
	*f = goose_text(text, len) ? LAYOUT_GOOSE : LAYOUT_MIGRATE;
	free(text);
	free(path);
	return MIGRATE_OK;
}

/* The layout of a directory: the one its files share, or an error naming a file of two. */
static enum migrate_result detect(const char *dir, const struct entries *es, enum layout_format *out,
				  struct migrate_error *err)
{
	const struct entry *first[LAYOUT_DBMATE + 1] = { NULL };
	enum layout_format seen = LAYOUT_AUTO, f = LAYOUT_MIGRATE;
	size_t i;

	for (i = 0; i < es->n; i++) {
		const struct entry *e = &es->v[i];

		switch (e->kind) {
		case K_GOLANG:
			f = LAYOUT_GOLANG_MIGRATE;
			break;
		case K_FLYWAY:
			f = LAYOUT_FLYWAY;
			break;
		case K_PLAIN:
			if (plain_layout(dir, e, &f, err))
				return err->code;
			break;
		default:
			continue; /* not a migration of any layout: the chosen layout's scan says so */
		}
		if (!first[f])
			first[f] = e;
		if (seen == LAYOUT_AUTO)
			seen = f;
		if (f != seen)
			return merr_set(err, MIGRATE_EUSAGE,
					"'%s' mixes layouts: '%s/%s' is in %s layout, '%s/%s' in %s; a migrations directory holds one tool's layout (move the other files, or list them in the 'ignore' setting)",
					dir, dir, first[seen]->fn, tool_label(seen), dir, e->fn, tool_label(f));
	}
	*out = seen == LAYOUT_AUTO ? LAYOUT_MIGRATE : seen;
	return MIGRATE_OK;
}

/* Are all the files <version>_<name>.sql (migrate's, dbmate's or goose's names)? */
static int only_plain(const struct entries *es)
{
	size_t i;

	for (i = 0; i < es->n; i++)
		if (es->v[i].kind == K_GOLANG || es->v[i].kind == K_FLYWAY)
			return 0;
	return 1;
}

/* goose Go migrations (<version>_<name>.go), and no *.sql at all? */
static int go_only(const struct entries *es)
{
	size_t i;
	int go = 0;

	for (i = 0; i < es->n; i++) {
		if (!es->v[i].go)
			return 0;
		go = 1;
	}
	return go;
}

/* Does e belong to layout f (by its name)? */
static int of_layout(const struct entry *e, enum layout_format f)
{
	switch (f) {
	case LAYOUT_GOLANG_MIGRATE:
		return e->kind == K_GOLANG;
	case LAYOUT_FLYWAY:
		return e->kind == K_FLYWAY;
	default:
		return e->kind == K_PLAIN;
	}
}

/* Reads golang-migrate's, goose's or Flyway's files (their names already listed) into out. */
static enum migrate_result scan_foreign(const char *dir, enum layout_format f, const struct entries *es,
					enum sql_dialect dialect, struct migration_set *out,
					struct migrate_error *err)
{
	struct strbuf bad = STRBUF_INIT;
	struct pair *pairs = NULL;
	size_t npairs = 0, i, j;

	for (i = 0; i < es->n; i++) {
		const struct entry *e = &es->v[i];
		if (e->go && f == LAYOUT_GOOSE) {
			merr_set(err, MIGRATE_EUSAGE,
				 "'%s/%s' is a goose Go migration; migrate runs SQL migrations only (rewrite it as SQL, or list it in the 'ignore' setting if it is meant to be there)",
				 dir, e->fn);
			goto out;
		}
		if (e->kind == K_FLYWAY && e->repeatable && f == LAYOUT_FLYWAY) {
			merr_set(err, MIGRATE_EUSAGE,
				 "'%s/%s' is a Flyway repeatable migration (R__); migrate does not run repeatable migrations yet (move it out of the migrations directory, or list it in the 'ignore' setting)",
				 dir, e->fn);
			goto out;
		}
		if (e->go)
			continue;
		if (!of_layout(e, f) || !e->version)
			strbuf_addf(&bad, "%s'%s/%s'", bad.len ? ", " : "", dir, e->fn);
	}
	if (bad.len) {
		merr_set(err, MIGRATE_EUSAGE,
			 "not a %s migration file: %s; %s: rename it, or list it in the 'ignore' setting if it is meant to be there",
			 layout_format_name(f), bad.buf, naming_rule(f));
		goto out;
	}

	/* versions from the names: duplicates are found before any file is read */
	pairs = xcalloc(es->n + 1, sizeof(*pairs));
	for (i = 0; i < es->n; i++) {
		const struct entry *e = &es->v[i];
		const struct entry **slot;

		if (e->go)
			continue;
		for (j = 0; j < npairs; j++)
			if (version_cmp((pairs[j].up ? pairs[j].up : pairs[j].down)->version, e->version) == 0)
				break;
		if (j == npairs)
			npairs++;
		slot = e->down ? &pairs[j].down : &pairs[j].up;
		if (*slot) {
			merr_set(err, MIGRATE_EUSAGE, "%s/%s and %s/%s have the same version %s; give one of them another version",
				 dir, (*slot)->fn, dir, e->fn, e->version);
			goto out;
		}
		*slot = e;
	}
	for (j = 0; j < npairs; j++)
		if (!pairs[j].up) {
			merr_set(err, MIGRATE_EUSAGE, "'%s/%s' undoes version %s, which has no %s file",
				 dir, pairs[j].down->fn, pairs[j].down->version,
				 f == LAYOUT_FLYWAY ? "V<version>__ migration" : "<version>_<name>.up.sql");
			goto out;
		}

	out->v = xcalloc(npairs + 1, sizeof(*out->v));
	out->cap = npairs + 1;
	for (j = 0; j < npairs; j++) {
		struct migration *m = &out->v[out->n];

		if (f != LAYOUT_GOOSE) {
			if (load_pair(dir, f, &pairs[j], dialect, m, err))
				goto out;
		} else {
			char *text;
			size_t len;

			memset(m, 0, sizeof(*m));
			m->path = path_join(dir, pairs[j].up->fn);
			m->filename = xstrdup(pairs[j].up->fn);
			m->version = xstrdup(pairs[j].up->version);
			m->name = xstrdup(pairs[j].up->name);
			if (read_sql(m->path, dialect, &text, &len, err)) {
				migration_release(m);
				goto out;
			}
			m->text = text;
			m->len = len;
			if (goose_parse(m, m->path, dialect, err) || migration_checksums(m, m->path, dialect, err)) {
				migration_release(m);
				goto out;
			}
		}
		out->n++;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_migration);
out:
	free(pairs);
	strbuf_release(&bad);
	if (err->code)
		migration_set_release(out);
	return err->code;
}

enum migrate_result layout_detect(const char *dir, enum layout_format format, const char *ignore,
				  enum layout_format *out, struct migrate_error *err)
{
	struct entries es = { NULL, 0, 0 };
	size_t i;

	*out = format;
	if (format == LAYOUT_AUTO && list_dir(dir, ignore, &es, err) == MIGRATE_OK)
		detect(dir, &es, out, err);
	for (i = 0; i < es.n; i++)
		entry_release(&es.v[i]);
	free(es.v);
	return err->code;
}

size_t layout_new_files(enum layout_format f, const char *stamp, const char *name, struct layout_new out[2])
{
	/* goose's own template ('goose create NAME sql') */
	static const char goose_template[] =
		"-- +goose Up\n-- +goose StatementBegin\nSELECT 'up SQL query';\n-- +goose StatementEnd\n\n"
		"-- +goose Down\n-- +goose StatementBegin\nSELECT 'down SQL query';\n-- +goose StatementEnd\n";
	static const char migrate_template[] = "-- migrate:up\n\n\n-- migrate:down\n\n";

	switch (f) {
	case LAYOUT_GOLANG_MIGRATE: /* 'migrate create -ext sql' makes the pair, empty */
		out[0].filename = xasprintf("%s_%s.up.sql", stamp, name);
		out[0].text = "";
		out[1].filename = xasprintf("%s_%s.down.sql", stamp, name);
		out[1].text = "";
		return 2;
	case LAYOUT_GOOSE:
		out[0].filename = xasprintf("%s_%s.sql", stamp, name);
		out[0].text = goose_template;
		return 1;
	case LAYOUT_FLYWAY:
		out[0].filename = xasprintf("V%s__%s.sql", stamp, name);
		out[0].text = "";
		return 1;
	default:
		out[0].filename = xasprintf("%s_%s.sql", stamp, name);
		out[0].text = migrate_template;
		return 1;
	}
}

enum migrate_result layout_scan(const char *dir, enum layout_format format, enum sql_dialect dialect,
				const char *dialect_name, const char *ignore, struct migration_set *out,
				struct migrate_error *err)
{
	struct entries es = { NULL, 0, 0 };
	enum layout_format f = format;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (format != LAYOUT_MIGRATE && format != LAYOUT_DBMATE) {
		if (list_dir(dir, ignore, &es, err))
			goto out;
		if (format == LAYOUT_AUTO && go_only(&es)) {
			f = LAYOUT_GOOSE; /* goose's Go migrations and no SQL: refused, never "up to date" */
		} else if (format == LAYOUT_AUTO && only_plain(&es)) {
			/*
			 * <version>_<name>.sql only: migrate's layout unless goose's
			 * annotations say otherwise. migrate's own parse tells at no
			 * extra cost (a goose file has no '-- migrate:up'); the files
			 * are read twice only when it fails.
			 */
			struct migrate_error first;

			if (migration_scan(dir, dialect, dialect_name, ignore, out, err) == MIGRATE_OK) {
				out->format = layout_format_name(LAYOUT_MIGRATE);
				goto out;
			}
			first = *err;
			merr_clear(err);
			if (detect(dir, &es, &f, err))
				goto out;
			if (f != LAYOUT_GOOSE) {
				*err = first;
				goto out;
			}
		} else if (format == LAYOUT_AUTO && detect(dir, &es, &f, err)) {
			goto out;
		}
	}
	if (f == LAYOUT_MIGRATE || f == LAYOUT_DBMATE) {
		/* dbmate's layout is migrate's own */
		if (migration_scan(dir, dialect, dialect_name, ignore, out, err) == MIGRATE_OK)
			out->format = layout_format_name(f);
		goto out;
	}
	if (scan_foreign(dir, f, &es, dialect, out, err) == MIGRATE_OK)
		out->format = layout_format_name(f);
out:
	for (i = 0; i < es.n; i++)
		entry_release(&es.v[i]);
	free(es.v);
	return err->code;
}
