#!/usr/bin/env bash
# The whole test suite against the binaries in BUILD_DIR:
#
#   tests/run.sh BUILD_DIR
#
# Starts throwaway PostgreSQL and MariaDB servers (tests/servers.sh), then runs
# BUILD_DIR/check_migrate six times: unit tests alone, then the driver and CLI
# tests on sqlite, postgres and mysql, then the lease suite with migrate
# connecting through PgBouncer in transaction pooling mode ("pgbouncer"), then
# the lease's cluster case on the three nodes of a MariaDB Galera cluster
# ("galera"); a
# last run, "install", is tests/install.sh (make install into a temporary
# directory, the example built against it with pkg-config). All run even when
# one fails; the servers are stopped on exit, whatever happens. Exit status 0
# only when all passed. Set MIGRATE_TEST_PG_URL / MIGRATE_TEST_MYSQL_URL to use existing
# servers instead of throwaway ones.

set -euo pipefail

prog=${0##*/}
if (($# != 1)); then
	printf 'usage: %s BUILD_DIR\n' "$prog" >&2
	exit 2
fi

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$(cd "$1" && pwd)
runner=$build_dir/check_migrate

export MIGRATE_SOURCE_DIR=$src_dir
export MIGRATE_BIN=$build_dir/migrate
export CK_DEFAULT_TIMEOUT=120
# Timeouts are caps for a hang, never waited out: room for a machine three times slower.
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-3}

srv_dir=$(mktemp -d "${TMPDIR:-/tmp}/migrate-test.XXXXXX")
cleanup() {
	"$src_dir/tests/servers.sh" stop "$srv_dir" || true
}
trap cleanup EXIT
# Turn signals into an exit so the EXIT trap stops the servers.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

servers_ok=1
if "$src_dir/tests/servers.sh" start "$srv_dir"; then
	# shellcheck source=/dev/null
	source "$srv_dir/env"
else
	servers_ok=0
	printf '%s: the database servers did not start: the postgres and mysql runs fail\n' "$prog" >&2
fi

names=()
results=()
passed=0
failed=0

# run NAME [VAR=VALUE...]: one run of check_migrate with those variables
# (MIGRATE_TEST_DRIVER and MIGRATE_TEST_URL are unset unless given).
run() {
	local name=$1 rc=0 start=$SECONDS status
	shift
	printf '\n=== check_migrate: %s ===\n' "$name"
	if [[ ! -x $runner ]]; then
		printf '%s: %s not found: build it with "make %s"\n' "$prog" "$runner" "$runner" >&2
		rc=127
	else
		env -u MIGRATE_TEST_DRIVER -u MIGRATE_TEST_URL -u MIGRATE_TEST_PROXY_URL -u MIGRATE_TEST_GALERA_URLS "$@" "$runner" || rc=$?
	fi
	record "$name" "$rc" "$start" check_migrate
}

# step NAME CMD...: a run that is a script rather than check_migrate.
step() {
	local name=$1 rc=0 start=$SECONDS
	shift
	printf '\n=== %s: %s ===\n' "${1##*/}" "$name"
	"$@" || rc=$?
	record "$name" "$rc" "$start" "${1##*/}"
}

# record NAME RC START LABEL: counts a run that exited RC, started at START.
record() {
	local name=$1 rc=$2 start=$3 label=$4 status
	if ((rc == 0)); then
		status="passed"
		passed=$((passed + 1))
	else
		status="FAILED (exit $rc)"
		failed=$((failed + 1))
	fi
	names+=("$name")
	results+=("$status in $((SECONDS - start)) s")
	printf '=== %s: %s: %s ===\n' "$label" "$name" "$status"
}

# A run that cannot happen, counted as failed with the reason.
fail_run() {
	local name=$1 why=$2
	printf '\n=== check_migrate: %s: FAILED (%s) ===\n' "$name" "$why"
	names+=("$name")
	results+=("FAILED ($why)")
	failed=$((failed + 1))
}

run unit
run sqlite MIGRATE_TEST_DRIVER=sqlite
if ((servers_ok)); then
	run postgres MIGRATE_TEST_DRIVER=postgres MIGRATE_TEST_URL="$MIGRATE_TEST_PG_URL"
	run mysql MIGRATE_TEST_DRIVER=mysql MIGRATE_TEST_URL="$MIGRATE_TEST_MYSQL_URL"
	# the lease through PgBouncer in transaction pooling mode (SPEC section 10)
	run pgbouncer MIGRATE_TEST_DRIVER=postgres MIGRATE_TEST_URL="$MIGRATE_TEST_PG_URL" \
		MIGRATE_TEST_PROXY_URL="$MIGRATE_TEST_PGBOUNCER_URL" CK_RUN_SUITE=lease
	# six runs over the three nodes of a Galera cluster (SPEC section 10); the
	# test's own sessions go to node 1
	run galera MIGRATE_TEST_DRIVER=mysql MIGRATE_TEST_URL="${MIGRATE_TEST_GALERA_URLS%% *}" \
		MIGRATE_TEST_GALERA_URLS="$MIGRATE_TEST_GALERA_URLS" CK_RUN_SUITE=lease CK_RUN_CASE=galera
else
	fail_run postgres "server did not start, see above"
	fail_run mysql "server did not start, see above"
	fail_run pgbouncer "server did not start, see above"
	fail_run galera "server did not start, see above"
fi
step install "$src_dir/tests/install.sh"

printf '\n=== summary (%s) ===\n' "$build_dir"
for i in "${!names[@]}"; do
	printf '  %-9s %s\n' "${names[$i]}:" "${results[$i]}"
done
printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
