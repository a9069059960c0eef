#!/usr/bin/env bash
# migrate lint's PostgreSQL rules next to squawk's, on the same statements.
#
#   bench/squawk.sh BUILD_DIR
#
# A one-off comparison, not a test (make test never runs it): installs the
# npm package squawk-cli into a temporary directory (network needed), then,
# for each PostgreSQL hazard and each safe way of writing it, prints what
# 'migrate lint' finds (the statement as migration 2, after a migration 1
# that makes the tables, so lint knows they exist) and what squawk finds in
# the statement alone (--assume-in-transaction, as migrate runs a section;
# squawk's rules that ask for lock_timeout/statement_timeout and its style
# rules are left out: migrate sets the timeouts itself, SPEC section 9).

set -euo pipefail

prog=${0##*/}
if (($# != 1)); then
	printf 'usage: %s BUILD_DIR\n' "$prog" >&2
	exit 2
fi
migrate=$(cd "$1" && pwd)/migrate
tmp=$(mktemp -d "${TMPDIR:-/tmp}/migrate-squawk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

npm install --silent --prefix "$tmp/npm" squawk-cli >/dev/null 2>&1 ||
	{ printf '%s: npm install squawk-cli failed\n' "$prog" >&2; exit 1; }
squawk=$tmp/npm/node_modules/.bin/squawk
printf 'squawk %s; migrate %s\n\n' "$("$squawk" --version | cut -d' ' -f2)" "$("$migrate" --version | cut -d' ' -f2)"

base='CREATE TABLE t (id bigint PRIMARY KEY, a integer, b varchar(20), c bigint);
CREATE TABLE u (id bigint PRIMARY KEY);'

# case NAME OPTS SQL [HISTORY...]: OPTS after the up marker; HISTORY: up sections between base and SQL
case_() {
	local name=$1 opts=$2 sql=$3 dir=$tmp/$1 n=2 h m s
	shift 3
	mkdir -p "$dir/migrations"
	printf -- '-- migrate:up\n%s\n' "$base" >"$dir/migrations/1_base.sql"
	for h in "$@"; do
		printf -- '-- migrate:up\n%s\n' "$h" >"$dir/migrations/${n}_history.sql"
		n=$((n + 1))
	done
	printf -- '-- migrate:up%s\n%s\n' "$opts" "$sql" >"$dir/migrations/${n}_case.sql"
	printf '%s\n' "$sql" >"$dir/case.sql"
	m=$("$migrate" -u postgres://lint@127.0.0.1:1/none --migrations-dir "$dir/migrations" --format json \
		lint "$n" 2>/dev/null | sed -n 's/^ *"rule": "\(.*\)",$/\1/p' | sort -u | tr '\n' ' ' || true)
	s=$("$squawk" --reporter gcc --assume-in-transaction --pg-version 16 \
		-e require-lock-timeout,require-statement-timeout,prefer-bigint-over-int,prefer-robust-stmts,prefer-text-field,prefer-identity \
		"$dir/case.sql" 2>/dev/null | sed -n 's/.*: \(warning\|error\): \([a-z-]*\) .*/\2/p' | sort -u | tr '\n' ' ' || true)
	printf '| %s | %s | %s |\n' "$name" "${m:--}" "${s:--}"
}

printf '| case | migrate lint | squawk |\n|---|---|---|\n'
case_ index '' 'CREATE INDEX t_a ON t (a);'
case_ index-concurrently-in-transaction '' 'CREATE INDEX CONCURRENTLY t_a ON t (a);'
case_ add-not-null-column '' 'ALTER TABLE t ADD COLUMN d integer NOT NULL;'
case_ set-not-null '' 'ALTER TABLE t ALTER COLUMN a SET NOT NULL;'
case_ column-type '' 'ALTER TABLE t ALTER COLUMN a TYPE bigint;'
case_ volatile-default '' 'ALTER TABLE t ADD COLUMN d uuid DEFAULT gen_random_uuid();'
case_ serial-column '' 'ALTER TABLE t ADD COLUMN d bigserial;'
case_ identity-column '' 'ALTER TABLE t ADD COLUMN d bigint GENERATED ALWAYS AS IDENTITY;'
case_ foreign-key '' 'ALTER TABLE t ADD CONSTRAINT t_c_fk FOREIGN KEY (c) REFERENCES u (id);'
case_ column-references '' 'ALTER TABLE t ADD COLUMN d bigint REFERENCES u (id);'
case_ check '' 'ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0);'
case_ unique '' 'ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE (b);'
case_ unique-column '' 'ALTER TABLE t ADD COLUMN d bigint UNIQUE;'
case_ drop-column '' 'ALTER TABLE t DROP COLUMN b;'
case_ drop-table '' 'DROP TABLE t;'
case_ rename-column '' 'ALTER TABLE t RENAME COLUMN a TO a2;'
case_ rename-table '' 'ALTER TABLE t RENAME TO t2;'
case_ update-without-where '' 'UPDATE t SET a = 0;'
case_ delete-without-where '' 'DELETE FROM t;'
case_ backfill-in-ddl-transaction '' 'ALTER TABLE t ADD COLUMN d integer;
UPDATE t SET d = a WHERE id < 1000;'
printf '\nsafe forms:\n\n| case | migrate lint | squawk |\n|---|---|---|\n'
case_ index-concurrently ' transaction:false' 'CREATE INDEX CONCURRENTLY t_a ON t (a);'
case_ index-on-new-table '' 'CREATE TABLE v (x integer);
CREATE INDEX v_x ON v (x);'
case_ not-null-with-default '' 'ALTER TABLE t ADD COLUMN d integer NOT NULL DEFAULT 0;'
case_ set-not-null-after-validated-check '' 'ALTER TABLE t ALTER COLUMN a SET NOT NULL;' \
	'ALTER TABLE t ADD CONSTRAINT t_a_nn CHECK (a IS NOT NULL) NOT VALID;' 'ALTER TABLE t VALIDATE CONSTRAINT t_a_nn;'
case_ longer-varchar '' 'ALTER TABLE t ALTER COLUMN b TYPE varchar(40);'
case_ varchar-to-text '' 'ALTER TABLE t ALTER COLUMN b TYPE text;'
case_ stable-default '' 'ALTER TABLE t ADD COLUMN d timestamptz NOT NULL DEFAULT now();'
case_ foreign-key-not-valid '' 'ALTER TABLE t ADD CONSTRAINT t_c_fk FOREIGN KEY (c) REFERENCES u (id) NOT VALID;'
case_ validate-constraint '' 'ALTER TABLE t VALIDATE CONSTRAINT t_c_fk;' \
	'ALTER TABLE t ADD CONSTRAINT t_c_fk FOREIGN KEY (c) REFERENCES u (id) NOT VALID;'
case_ unique-using-index '' 'ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE USING INDEX t_b_idx;'
case_ drop-column-of-new-table '' 'CREATE TABLE v (x integer, y integer);
ALTER TABLE v DROP COLUMN y;'
case_ table-rebuild '' 'CREATE TABLE t_new (id bigint PRIMARY KEY, a integer);
INSERT INTO t_new (id, a) SELECT id, a FROM t;
DROP TABLE t;
ALTER TABLE t_new RENAME TO t;'
case_ batched-backfill ' transaction:false' 'UPDATE t SET a = 0 WHERE id BETWEEN 1 AND 1000;'
