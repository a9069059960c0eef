#!/usr/bin/env bash
# The worst stall an application sees while 'migrate up' waits for a lock
# (issue 13; SPEC section 9), on PostgreSQL and MariaDB:
#
#   bench/stall.sh BUILD_DIR [LOCK_WAIT...]      (default: 200ms 1s 3s 0)
#
# A long transaction reads table st and stays open for 6 s; 'up' then runs
# ALTER TABLE st, which queues behind it, and every application read of st
# that arrives after the ALTER queues behind the ALTER. An application
# loop reads st every 50 ms (one client process per read, so each figure
# includes that client's start, some 20 ms) and the worst read is printed.
# With lock_wait the ALTER gives up its place after lock_wait and retries
# (the stall is about lock_wait); with 0, as every migration tool does by
# default, the application waits for the long transaction to end.
# Servers: tests/servers.sh in a temporary directory, stopped on exit.
# A benchmark that reports, never a test: nothing is asserted.

set -euo pipefail

if (($# < 1)); then
	printf 'usage: %s BUILD_DIR [LOCK_WAIT...]\n' "${0##*/}" >&2
	exit 2
fi
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
migrate=$(cd "$1" && pwd)/migrate
shift
waits=("$@")
((${#waits[@]})) || waits=(200ms 1s 3s 0)

work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-stall.XXXXXX")
cleanup() {
	"$src_dir/tests/servers.sh" stop "$work/servers" >/dev/null 2>&1 || true
	rm -rf -- "$work"
}
trap cleanup EXIT
# No Galera cluster (not used here); the servers' users must reach the work directory.
unset MIGRATE_TEST_PG_URL MIGRATE_TEST_MYSQL_URL MIGRATE_TEST_GALERA_URLS
export MIGRATE_TEST_GALERA=off
chmod 0711 "$work"
"$src_dir/tests/servers.sh" start "$work/servers" >/dev/null
# shellcheck source=/dev/null
source "$work/servers/env"
my_base=${MIGRATE_TEST_MYSQL_URL#mysql://}
my_user=${my_base%%:*}
my_pass=${my_base#*:}
my_pass=${my_pass%%@*}
my_hostport=${my_base#*@}
my_hostport=${my_hostport%%/*}
my_db=${my_base##*/}
my=(mariadb --no-defaults --protocol=TCP -h "${my_hostport%:*}" -P "${my_hostport##*:}" -u "$my_user"
	"-p$my_pass" "$my_db")

sql() { # DRIVER SQL: run it as the application would
	if [[ $1 == postgres ]]; then psql -X -qAt "$MIGRATE_TEST_PG_URL" -c "$2"; else "${my[@]}" -N -e "$2"; fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

for drv in postgres mysql; do
	url=$MIGRATE_TEST_PG_URL
	[[ $drv == mysql ]] && url=$MIGRATE_TEST_MYSQL_URL
	for wait in "${waits[@]}"; do
		dir=$work/p
		rm -rf "$dir"
		mkdir -p "$dir/migrations"
		printf -- '-- migrate:up\nALTER TABLE st ADD COLUMN c INTEGER;\n-- migrate:down\n' >"$dir/migrations/1_alter.sql"
		printf '[migrate]\ntable = stall_migrations\nlock_wait = %s\nretries = 30\n' "$wait" >"$dir/config.ini"
		sql "$drv" "DROP TABLE IF EXISTS st" >/dev/null 2>&1
		sql "$drv" "DROP TABLE IF EXISTS stall_migrations" >/dev/null 2>&1
		sql "$drv" "CREATE TABLE st (id INTEGER)" >/dev/null
		if [[ $drv == postgres ]]; then
			(printf 'BEGIN;\nSELECT count(*) FROM st;\n'; sleep 6; printf 'COMMIT;\n') |
				psql -X -q "$MIGRATE_TEST_PG_URL" >/dev/null &
		else
			"${my[@]}" -e "BEGIN; SELECT count(*) FROM st; DO SLEEP(6); COMMIT;" >/dev/null &
		fi
		holder=$!
		sleep 0.3
		(cd "$dir" && DATABASE_URL=$url "$migrate" -q up 2>/dev/null) &
		up=$!
		sleep 0.2
		worst=0
		end=$(($(now_ms) + 7000))
		while (($(now_ms) < end)); do
			t0=$(now_ms)
			sql "$drv" "SELECT count(*) FROM st" >/dev/null
			ms=$(($(now_ms) - t0))
			((ms > worst)) && worst=$ms
			sleep 0.05
		done
		rc=0
		wait "$up" || rc=$?
		wait "$holder" || true
		printf '%-8s lock_wait %-6s up exit %d, worst application read %d ms\n' "$drv" "$wait" "$rc" "$worst"
	done
done
