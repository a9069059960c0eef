#!/usr/bin/env bash
# W4 (issue 14): test databases. Run by bench/bench.sh (w4), or alone:
#
#   bench/w4.sh MIGRATE_BIN WORKDIR DRIVER...      (servers: MIGRATE_TEST_PG_URL, MIGRATE_TEST_MYSQL_URL)
#
# A synthetic history of BENCH_W4_N migrations (default 500) over 40 tables
# with indexes and seeded rows, the shape of a long-lived application:
#   W4a  hand-out from a warm pool: 'migrate testdb' with the pool full, the
#        refill it starts let finish before the next (the hand-out itself);
#        and in a harness (HARNESS: examples/harness.c built against the
#        library; one handle, its server connection kept), BENCH_W4_REPS
#        tests in a row, each taking a database from a full pool (the first,
#        which loads the client library and connects, not counted)
#   W4b  a clone with the pool empty (pool = 0, the template built): against
#        the server's own CREATE DATABASE ... TEMPLATE (PostgreSQL), and 'up'
#        of the whole history into an empty database
#   W4c  a suite of BENCH_W4_TESTS tests (default 50), one after another, each
#        taking a database and working 200 ms, the pool (4) prefilled at its
#        start: total wall time against the same suite running 'up' per test
#        (drivers in BENCH_W4_SUITE, default "sqlite postgres": 50 'up's of the
#        history on MariaDB take many minutes); and the floor, the tests' work
#        alone, which bounds what any hand-out can gain (the ceiling)
# Prints a Markdown section on stdout. Reports; asserts nothing.
set -euo pipefail

migrate=$1
work=$2
shift 2
n=${BENCH_W4_N:-500}
tests=${BENCH_W4_TESTS:-50}
reps=${BENCH_W4_REPS:-10}
suite_drivers=" ${BENCH_W4_SUITE:-sqlite postgres} "
harness=${HARNESS:-}

# Times are taken from bash's own clock ($EPOCHREALTIME, microseconds), so
# taking one forks nothing: a 'date' and an 'awk' per reading cost some
# milliseconds, as much as a hand-out itself.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The history: 40 CREATE TABLE, then ALTER TABLE ADD COLUMN, CREATE INDEX and
# INSERTs of 20 rows in turn, all portable SQL.
generate() {
	local dir=$1 i t k
	mkdir -p "$dir/migrations"
	for ((i = 1; i <= n; i++)); do
		t=$(((i - 1) % 40 + 1))
		if ((i <= 40)); then
			printf -- '-- migrate:up\nCREATE TABLE t%d (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, n INTEGER);\n-- migrate:down\nDROP TABLE t%d;\n' "$t" "$t"
		elif ((i % 3 == 0)); then
			printf -- '-- migrate:up\nALTER TABLE t%d ADD COLUMN c%d INTEGER;\n' "$t" "$i"
		elif ((i % 3 == 1)); then
			printf -- '-- migrate:up\nCREATE INDEX i%d ON t%d (n, id);\n' "$i" "$t"
		else
			printf -- '-- migrate:up\nINSERT INTO t%d (id, name, n) VALUES ' "$t"
			for ((k = 0; k < 20; k++)); do
				printf "%s(%d, 'row %d', %d)" "$([[ $k == 0 ]] || echo ', ')" $((i * 100 + k)) "$k" "$k"
			done
			printf ';\n'
		fi >"$dir/migrations/$(printf '%06d' "$i")_m$i.sql"
	done
}

# project DRIVER: a directory with the history and a config for the driver.
project() {
	local drv=$1 dir=$work/w4-$1 url
	case $drv in
	sqlite) url="sqlite:$dir/app.db" ;;
	postgres) url=${MIGRATE_TEST_PG_URL%/*}/w4_app ;;
	mysql) url=${MIGRATE_TEST_MYSQL_URL%/*}/w4_app ;;
	esac
	rm -rf "$dir"
	generate "$dir"
	printf '[migrate]\nlock_timeout = 600\npool = %s\n[development]\nurl = %s\n' "${2:-4}" "$url" >"$dir/config.ini"
	printf '%s\n' "$dir"
}

pool_conf() { sed -i "s/^pool = .*/pool = $2/" "$1/config.ini"; }

# wait_pid PID: until the (detached) process is gone.
wait_pid() { while [[ $1 != null && $1 != 0 ]] && kill -0 "$1" 2>/dev/null; do sleep 0.01; done; }

json_field() { sed -n "s/^  \"$1\": \\(.*\\),\\{0,1\\}\$/\\1/p" | tr -d '",'; }

printf '\n## W4: test databases (issue 14)\n\n'
printf 'History: %d migrations over 40 tables (CREATE TABLE, ADD COLUMN, CREATE INDEX, INSERT of 20 rows);\n' "$n"
printf 'medians of %d runs; wall time of the whole command as a caller sees it, and in brackets the\n' "$reps"
printf "time testdb reports itself (\`ms\`: from the call to the URL, without the process start).\n\n"
printf '| driver | W4a hand-out from the pool | W4a in a harness | W4b clone, pool empty | server CREATE DATABASE ... TEMPLATE | up of the history | W4b / server | W4b / up |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
suite_rows=()
for drv in "$@"; do
	dir=$(project "$drv" 8)
	cd "$dir"
	"$migrate" testdb --gc >/dev/null
	# W4a: the pool full, one hand-out at a time
	"$migrate" testdb --prefill 8 >/dev/null
	a=() ai=()
	for ((i = 0; i < reps; i++)); do
		t0=${EPOCHREALTIME//[!0-9]/}
		out=$("$migrate" --format json testdb)
		t1=${EPOCHREALTIME//[!0-9]/}
		a+=($((t1 - t0))) # microseconds
		ai+=("$(json_field ms <<<"$out")")
		wait_pid "$(json_field refill_pid <<<"$out")"
	done
	mh=-
	if [[ -n $harness ]]; then
		pool_conf "$dir" $((reps + 1))
		"$migrate" testdb --prefill $((reps + 1)) >/dev/null
		mh=$("$harness" "$dir/config.ini" "$reps" | sed -n 's/^harness: test \([0-9]*\):.* \([0-9]*\) ms)$/\1 \2/p' |
			awk '$1 > 1 { print $2 }' | median)
		sleep 2 # the refills the harness started
	fi
	# W4b: the pool off, the template there
	pool_conf "$dir" 0
	b=() bi=() s=() u=()
	tpl=$("$migrate" --format json testdb | json_field template)
	tpl=${tpl##*/}
	for ((i = 0; i < reps; i++)); do
		t0=${EPOCHREALTIME//[!0-9]/}
		out=$("$migrate" --format json testdb)
		t1=${EPOCHREALTIME//[!0-9]/}
		b+=($((t1 - t0)))
		bi+=("$(json_field ms <<<"$out")")
		if [[ $drv == postgres ]]; then
			t0=${EPOCHREALTIME//[!0-9]/}
			psql -X -q -d "$MIGRATE_TEST_PG_URL" -c "CREATE DATABASE w4_ref_$i TEMPLATE $tpl"
			t1=${EPOCHREALTIME//[!0-9]/}
			s+=($(((t1 - t0) / 1000)))
			psql -X -q -d "$MIGRATE_TEST_PG_URL" -c "DROP DATABASE w4_ref_$i"
		fi
	done
	for ((i = 0; i < (reps < 3 ? reps : 3); i++)); do
		"$migrate" drop --yes >/dev/null 2>&1 || rm -f "$dir/app.db"
		"$migrate" create >/dev/null 2>&1 || true
		t0=${EPOCHREALTIME//[!0-9]/}
		"$migrate" -q up
		t1=${EPOCHREALTIME//[!0-9]/}
		u+=($(((t1 - t0) / 1000)))
	done
	ma=$(printf '%s\n' "${a[@]}" | median) mai=$(printf '%s\n' "${ai[@]}" | median)
	mb=$(printf '%s\n' "${b[@]}" | median) mbi=$(printf '%s\n' "${bi[@]}" | median)
	ma=$(awk -v x="$ma" 'BEGIN { printf "%.1f", x / 1000 }') mb=$(awk -v x="$mb" 'BEGIN { printf "%.1f", x / 1000 }')
	ms_=$( ((${#s[@]})) && printf '%s\n' "${s[@]}" | median || echo -)
	mu=$(printf '%s\n' "${u[@]}" | median)
	printf '| %s | %s ms (%s) | %s | %s ms (%s) | %s | %s ms | %s | %s |\n' "$drv" "$ma" "$mai" \
		"$([[ $mh == - ]] && echo - || echo "$mh ms")" "$mb" "$mbi" \
		"$([[ $ms_ == - ]] && echo - || echo "$ms_ ms")" "$mu" \
		"$([[ $ms_ == - ]] && echo - || awk -v x="$mb" -v y="$ms_" 'BEGIN { printf "%.2f", x / y }')" \
		"$(awk -v x="$mb" -v y="$mu" 'BEGIN { printf "%.2f", x / y }')"
	# W4c: the suite
	if [[ $suite_drivers == *" $drv "* ]]; then
		"$migrate" testdb --gc >/dev/null
		pool_conf "$dir" 4
		t0=${EPOCHREALTIME//[!0-9]/}
		"$migrate" testdb --prefill 4 >/dev/null
		for ((i = 0; i < tests; i++)); do
			"$migrate" testdb >/dev/null
			sleep 0.2
		done
		t1=${EPOCHREALTIME//[!0-9]/}
		pooled=$(((t1 - t0) / 1000))
		t0=${EPOCHREALTIME//[!0-9]/}
		for ((i = 0; i < tests; i++)); do
			"$migrate" drop --yes >/dev/null 2>&1 || rm -f "$dir/app.db"
			"$migrate" create >/dev/null 2>&1 || true
			"$migrate" -q up
			sleep 0.2
		done
		t1=${EPOCHREALTIME//[!0-9]/}
		ups=$(((t1 - t0) / 1000))
		# the floor: the tests' own work alone, as if a database came in no time
		t0=${EPOCHREALTIME//[!0-9]/}
		for ((i = 0; i < tests; i++)); do
			sleep 0.2
		done
		t1=${EPOCHREALTIME//[!0-9]/}
		floor=$(((t1 - t0) / 1000))
		lib=-
		if [[ -n $harness ]]; then
			sleep 2
			"$migrate" testdb --gc >/dev/null
			t0=${EPOCHREALTIME//[!0-9]/}
			"$migrate" testdb --prefill 4 >/dev/null
			"$harness" "$dir/config.ini" "$tests" 200 keep >/dev/null
			t1=${EPOCHREALTIME//[!0-9]/}
			lib=$(((t1 - t0) / 1000))
		fi
		suite_rows+=("| $drv | $tests | $pooled ms | $([[ $lib == - ]] && echo - || echo "$lib ms") | $ups ms | $(awk -v x="$ups" -v y="$pooled" 'BEGIN { printf "%.1f", x / y }')x | $([[ $lib == - ]] && echo - || awk -v x="$ups" -v y="$lib" 'BEGIN { printf "%.1fx", x / y }') | $floor ms | $(awk -v x="$ups" -v y="$floor" 'BEGIN { printf "%.1f", x / y }')x |")
	fi
	sleep 2 # let the last refills end before gc
	"$migrate" testdb --gc >/dev/null
	"$migrate" drop --yes >/dev/null 2>&1 || true
	cd "$work"
done
if ((${#suite_rows[@]})); then
	printf '\nW4c: a suite of tests run one after another, each taking a database and working 200 ms; the\n'
	printf 'pool (4) prefilled at the start (included in the time) against a fresh database and `up` per test.\n\n'
	printf 'The harness (examples/harness.c) does the same in one process through migrate_testdb(). Neither\n'
	printf 'testdb suite drops its databases (gc after the suite, untimed); the up suite drops and creates one per test.\n\n'
	printf 'The floor is the tests'"'"' work alone (%d x 200 ms), as if each database came in no time: no\n' "$tests"
	printf 'hand-out, however fast, beats up per test by more than up per test / floor (the ceiling).\n\n'
	printf '| driver | tests | migrate testdb, pool prefilled | harness, pool prefilled | up per test | faster (CLI) | faster (harness) | floor | ceiling |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
	printf '%s\n' "${suite_rows[@]}"
fi
printf '\nGoals (issue 14): W4a <= 25 ms on PostgreSQL and MySQL, 5 ms on SQLite; W4b <= 1.15x the\n'
printf "server's CREATE DATABASE ... TEMPLATE on PostgreSQL; W4c at least 3x faster on PostgreSQL.\n"
