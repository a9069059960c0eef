#!/usr/bin/env bash
# W5 (issue 16): fleets. Run by bench/bench.sh (w5), or alone:
#
#   bench/w5.sh MIGRATE_BIN WORKDIR      (PostgreSQL: MIGRATE_TEST_PG_URL, and PG_SOCKET_DIR for
#                                          the socket runs; without MIGRATE_TEST_PG_URL, SQLite only)
#
# A history of BENCH_W5_M migrations (default 20) applied to BENCH_W5_SCHEMAS
# PostgreSQL schemas of one database (default 300) and BENCH_W5_FILES SQLite
# files (default 1,000). On each fleet, side by side:
#   status, nothing pending:   'migrate status --targets F'  against a shell
#                              loop of one 'migrate status' per database
#   up, nothing pending:       'migrate up --targets F'      against the loop of 'up'
#   up, one new migration:     'migrate up --targets F'      against the loop of 'up'
#                              (each side applies a new migration of its own,
#                              a CREATE TABLE, so both do the same work)
# The loop reaches a schema as a single call can: a URL whose options set the
# search_path. PostgreSQL runs over loopback TCP with SCRAM-SHA-256 (the
# harness's servers) and, with PG_SOCKET_DIR, over the Unix socket (trust),
# where the connection costs the least. BENCH_W5_REPS (default 3) runs of
# each, alternating fleet and loop; medians. --parallel is the default (4).
# Prints a Markdown section on stdout. Reports; asserts nothing.
set -euo pipefail

migrate=$1
work=$2
m=${BENCH_W5_M:-20}
nschemas=${BENCH_W5_SCHEMAS:-300}
nfiles=${BENCH_W5_FILES:-1000}
reps=${BENCH_W5_REPS:-3}

# bash's own clock ($EPOCHREALTIME): a reading forks nothing
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# history DIR: BENCH_W5_M migrations, one table each.
history() {
	local i
	mkdir -p "$1/migrations"
	for ((i = 1; i <= m; i++)); do
		printf -- '-- migrate:up\nCREATE TABLE t%d (id INTEGER PRIMARY KEY, name VARCHAR(100));\n-- migrate:down\nDROP TABLE t%d;\n' \
			"$i" "$i" >"$1/migrations/$(printf '%06d' "$i")_t$i.sql"
	done
}

# new_migration DIR N: one more migration, version 900000+N.
new_migration() {
	printf -- '-- migrate:up\nCREATE TABLE n%d (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE n%d;\n' "$2" "$2" \
		>"$1/migrations/$((900000 + $2))_n$2.sql"
}

# time_ms CMD...: the wall time of CMD in ms (its output dropped; a failure stops the benchmark).
time_ms() {
	local t0 t1
	t0=${EPOCHREALTIME//[!0-9]/}
	"$@" >/dev/null 2>"$work/w5.err" || {
		printf 'w5: failed: %s\n' "$*" >&2
		cat "$work/w5.err" >&2
		exit 1
	}
	t1=${EPOCHREALTIME//[!0-9]/}
	echo $(((t1 - t0) / 1000))
}

# loop DIR CMD: one 'migrate CMD' per line of DIR/loop.urls.
loop() {
	local dir=$1 cmd=$2 u
	(
		cd "$dir"
		while IFS= read -r u; do
			"$migrate" -q -u "$u" "$cmd" || exit 1
		done <loop.urls
	)
}

fleet() {
	(cd "$1" && "$migrate" -q "$2" --targets fleet)
}

rows=()
newk=0 # the new migrations' numbers, never reused across runs on the same schemas
# side_by_side DIR LABEL: the three measurements on the fleet in DIR.
side_by_side() {
	local dir=$1 label=$2 r k f l fs ls
	for what in status up up-new; do
		fs=()
		ls=()
		for ((r = 0; r < reps; r++)); do
			cmd=${what%-new}
			if [[ $what == up-new ]]; then
				newk=$((newk + 1))
				new_migration "$dir" "$newk"
				fs+=("$(time_ms fleet "$dir" up)")
				newk=$((newk + 1))
				new_migration "$dir" "$newk"
				ls+=("$(time_ms loop "$dir" up)")
			else
				fs+=("$(time_ms fleet "$dir" "$cmd")")
				ls+=("$(time_ms loop "$dir" "$cmd")")
			fi
		done
		f=$(printf '%s\n' "${fs[@]}" | median)
		l=$(printf '%s\n' "${ls[@]}" | median)
		rows+=("$(printf '| %s | %s | %s ms | %s ms | %.1fx |' "$label" \
			"$(case $what in status) echo 'status, nothing pending' ;; up) echo 'up, nothing pending' ;; *) echo 'up, one new migration' ;; esac)" \
			"$f" "$l" "$(awk -v a="$l" -v b="$f" 'BEGIN { print a / b }')")")
	done
}

# ---- SQLite: files ----
sq=$work/w5-sqlite
rm -rf "$sq"
mkdir -p "$sq/db"
history "$sq"
for ((i = 1; i <= nfiles; i++)); do echo "sqlite:db/f$i.db"; done >"$sq/loop.urls"
cp "$sq/loop.urls" "$sq/targets.txt"
printf '[development]\ndriver = sqlite\ndatabase = dev.db\n\n[targets fleet]\nurls_file = targets.txt\n' >"$sq/config.ini"
(cd "$sq" && "$migrate" -q up --targets fleet) >/dev/null
side_by_side "$sq" "SQLite, $nfiles files"

# ---- PostgreSQL: schemas of one database ----
pg_runs=()
if [[ -n ${MIGRATE_TEST_PG_URL:-} ]]; then
	base=${MIGRATE_TEST_PG_URL%/*}
	db=w5_fleet
	psql -X -q "$base/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null 2>&1
	for ((i = 1; i <= nschemas; i++)); do echo "CREATE SCHEMA s$i;"; done | psql -X -q "$base/$db" >/dev/null
	pg_runs+=("tcp|$base/$db|PostgreSQL, $nschemas schemas (TCP, SCRAM)")
	if [[ -n ${PG_SOCKET_DIR:-} ]]; then
		user=${base#postgres://}
		user=${user%%:*}
		port=${base##*:}
		pg_runs+=("sock|postgres://$user@/$db?host=$PG_SOCKET_DIR&port=$port|PostgreSQL, $nschemas schemas (Unix socket)")
	fi
	first=1
	for run in "${pg_runs[@]}"; do
		IFS='|' read -r tag url label <<<"$run"
		dir=$work/w5-pg-$tag
		rm -rf "$dir"
		mkdir -p "$dir"
		history "$dir"
		sep='?'
		[[ $url == *\?* ]] && sep='&'
		for ((i = 1; i <= nschemas; i++)); do echo "s$i"; done >"$dir/targets.txt"
		for ((i = 1; i <= nschemas; i++)); do echo "$url${sep}options=-csearch_path%3Ds$i"; done >"$dir/loop.urls"
		printf '[development]\nurl = %s\n\n[targets fleet]\nurls_file = targets.txt\n' "$url" >"$dir/config.ini"
		if ((first)); then
			(cd "$dir" && "$migrate" -q up --targets fleet) >/dev/null
			first=0
		else
			# the same schemas: the new migrations of the first run are applied already
			cp "$work/w5-pg-tcp/migrations/"* "$dir/migrations/"
			(cd "$dir" && "$migrate" -q up --targets fleet) >/dev/null
		fi
		side_by_side "$dir" "$label"
	done
fi

printf '### W5: fleets (issue 16)\n\n'
printf -- '- command: `bench/w5.sh` (BENCH_W5_M=%s, BENCH_W5_SCHEMAS=%s, BENCH_W5_FILES=%s, BENCH_W5_REPS=%s), --parallel 4 (the default), %s CPUs\n' \
	"$m" "$nschemas" "$nfiles" "$reps" "$(nproc)"
printf -- '- goals: status with nothing pending over 300 schemas < 2 s; up >= 4x faster than the loop on 2 cores\n\n'
printf '| fleet | work | migrate --targets | shell loop of migrate | loop / fleet |\n|---|---|---:|---:|---:|\n'
printf '%s\n' "${rows[@]}"
