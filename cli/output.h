/*
 * output.h - what the CLI prints: text for people, JSON for programs.
 *
 * The library reports through events; this module turns them into lines on
 * stdout (results) and stderr (warnings, errors), or collects them into one
 * JSON document printed at the end. Colour only on a terminal, never with
 * NO_COLOR set.
 */
#ifndef MIGRATE_OUTPUT_H
#define MIGRATE_OUTPUT_H

#include "migrate.h"

struct output;

struct output *output_new(int json, int quiet, int verbose, int dry_run);
void output_free(struct output *o);

/* The progress callback: pass output as its ctx. */
void output_event(void *ctx, const struct migrate_event *ev);

/* Starts the JSON document of a command ("up", "down", ...). */
void output_begin(struct output *o, const char *command);
/* Ends it: prints the document (with "ok") in JSON mode. */
void output_end(struct output *o, enum migrate_result r);

/* Adds a string field to the JSON document (text mode: nothing). */
void output_set_string(struct output *o, const char *key, const char *value);
/* Adds an array of strings (list is NULL-terminated) to the JSON document. */
void output_set_strings(struct output *o, const char *key, const char *const *list);

/*
 * The error of the first write to stdout that failed (EPIPE, ENOSPC), or 0:
 * by the time main checks ferror(stdout), errno says something else.
 */
int output_stdout_errno(void);

/* Prints an error: "migrate: error: ..." (JSON on stderr in JSON mode). */
void output_error(const struct output *o, enum migrate_result code, const char *message);
/* Prints a line for people on stdout, unless quiet or JSON. */
void output_line(const struct output *o, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

void output_status(struct output *o, const migrate *m, const struct migrate_status *st);
void output_version(struct output *o, const char *version);
/* dump: the schema on stdout, or a line saying where it went; JSON: fields of the document. */
void output_dump(struct output *o, const migrate *m, const char *schema, const char *file);
/* verify: the result line; JSON: fields of the document. */
void output_verify(struct output *o, const struct migrate_verify_report *rep, enum migrate_result r);
/* verify: the unified diff of a difference, on stderr (after the error line). */
void output_verify_diff(const struct output *o, const struct migrate_verify_report *rep);

/* lint: each finding and a summary line; JSON: scope, checked, errors, warnings, findings. */
void output_lint(struct output *o, const struct migrate_lint_report *rep);
/* lint --rules: the rule table (ends with an entry whose id is NULL). */
void output_lint_rules(struct output *o, const struct migrate_lint_rule *rules);

/*
 * testdb: the URL handed out (text: alone on its line, for $(migrate testdb)),
 * or the databases removed; JSON: url, database, template, from_pool, ms, ...
 */
void output_testdb(struct output *o, const struct migrate_testdb_report *rep, const char *url);

/* drift: each difference on stdout, or that there is none; JSON: fields of the document. */
void output_drift(struct output *o, const struct migrate_drift_report *rep, enum migrate_result r);

/* --targets: the document (or nothing in text), one line or entry per target, the summary. */
void output_fleet_begin(struct output *o, const char *command, const char *targets);
void output_fleet_event(void *ctx, const struct migrate_fleet_result *t, const struct migrate_event *ev);
void output_fleet_result(struct output *o, const struct migrate_fleet_result *res);
void output_fleet_end(struct output *o, size_t ok, size_t failed, size_t skipped, enum migrate_result worst);

#endif
