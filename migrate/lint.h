/*
 * lint.h - migrate lint inside the library: the rule table for the config,
 * and the one call 'up' makes before it applies anything.
 */
#ifndef MIGRATE_LINT_H
#define MIGRATE_LINT_H

#include "config.h"
#include "migrate.h"
#include "migration.h"

/* The rule's index in migrate_lint_rules(), or -1 when there is no such rule. */
int lint_rule_index(const char *id);

/* [lint] names only rules that exist: MIGRATE_EUSAGE with file:line otherwise. */
enum migrate_result lint_check_config(const struct config *c, struct migrate_error *err);

/*
 * up's gate: lints the migrations about to be applied (todo, in order),
 * reading every migration of the handle before them for context. Reports
 * error-level findings (every finding under --dry-run) through
 * MIGRATE_EVENT_LINT and returns MIGRATE_EFAIL naming the first, unless
 * [lint] enforce = false (then they are only told). no_lint: do nothing.
 */
enum migrate_result lint_gate(migrate *m, const struct migration *const *todo, size_t ntodo,
			      int no_lint, struct migrate_error *err);

#endif
