/*
 * layout.h - other tools' migration directories, read as they are (SPEC
 * section 14): golang-migrate, goose and Flyway files become the same
 * struct migration the core runs; dbmate's layout is migrate's own.
 */
#ifndef MIGRATE_LAYOUT_H
#define MIGRATE_LAYOUT_H

#include "migration.h"

enum layout_format {
	LAYOUT_AUTO,           /* recognise it from the files */
	LAYOUT_MIGRATE,        /* <version>_<name>.sql with -- migrate:up / -- migrate:down */
	LAYOUT_GOLANG_MIGRATE, /* <version>_<name>.up.sql and .down.sql */
	LAYOUT_GOOSE,          /* <version>_<name>.sql with -- +goose Up / -- +goose Down */
	LAYOUT_FLYWAY,         /* V<version>__<description>.sql and U<version>__<description>.sql */
	LAYOUT_DBMATE,         /* migrate's own layout */
};

#define LAYOUT_NAMES "auto, migrate, golang-migrate, goose, flyway, dbmate"

/* The format of that name (the 'format' setting), or -1. */
int layout_format_parse(const char *name);
const char *layout_format_name(enum layout_format f);

/*
 * The layout of the migrations directory without reading it as migrations
 * (for 'new'): format itself, or with LAYOUT_AUTO the one its files are in
 * (LAYOUT_MIGRATE for an empty or missing directory). MIGRATE_EUSAGE for a
 * directory that mixes layouts.
 */
enum migrate_result layout_detect(const char *dir, enum layout_format format, const char *ignore,
				  enum layout_format *out, struct migrate_error *err);

/* A file 'new' creates: its name (the caller frees) and its text (static). */
struct layout_new {
	char *filename;
	const char *text;
};

/*
 * The files 'migrate new' creates in layout f for version stamp and name,
 * as that tool's own 'create' would: one, or golang-migrate's pair (up
 * first). Returns how many (1 or 2).
 */
size_t layout_new_files(enum layout_format f, const char *stamp, const char *name, struct layout_new out[2]);

/*
 * Why a migration of that layout (a format name) cannot be rolled back,
 * in that tool's terms, or NULL for migrate's own layout.
 */
const char *layout_no_down(const char *format);

/*
 * Reads the migrations directory in the given format (LAYOUT_AUTO: the one
 * its files are in; out->format names it) into out, sorted by version,
 * under migration_scan's rules: a *.sql that is not a migration of that
 * layout is MIGRATE_EUSAGE unless it matches an 'ignore' pattern, and so
 * are a directory that mixes layouts (naming a file of each), a Flyway
 * repeatable (R__) file, a goose Go migration, duplicate versions and
 * malformed files (path:line).
 */
enum migrate_result layout_scan(const char *dir, enum layout_format format, enum sql_dialect dialect,
				const char *dialect_name, const char *ignore, struct migration_set *out,
				struct migrate_error *err);

#endif
