/*
 * error.h - filling a struct migrate_error: the first error wins.
 *
 * Library functions return an enum migrate_result and describe the failure
 * once, here. Later calls on an error that is already set change nothing,
 * so the message a person reads is about the cause, not a consequence.
 */
#ifndef MIGRATE_ERROR_H
#define MIGRATE_ERROR_H

#include "migrate.h"
#include "util.h"

/* Clears err (out-parameters are cleared on entry). err may be NULL. */
void merr_clear(struct migrate_error *err);

/* Sets err to code and the message unless already set. Returns err's code. */
enum migrate_result merr_set(struct migrate_error *err, enum migrate_result code,
			     const char *fmt, ...) MIGRATE_PRINTF(3, 4);

/* Appends a sentence to an error that is already set (what state it left). */
void merr_append(struct migrate_error *err, const char *fmt, ...) MIGRATE_PRINTF(2, 3);

#endif
