#!/usr/bin/env bash
# The benchmarks of issue 7 (and the seeding benchmark of issue 4), run by
# `make bench`:
#
#   bench/bench.sh BUILD_DIR [WORKLOAD...]     WORKLOAD: w1 w2 w3 w4 (default: all)
#
# Starts throwaway PostgreSQL and MariaDB servers (tests/servers.sh, stopped
# on exit), then, on SQLite, PostgreSQL and MariaDB, times migrate against
# the database's own command-line client doing the same work, ALTERNATING the
# two in one run (BUILD_DIR/benchrun), and prints medians, the ratio and the
# peak memory of each. The results go to bench/RESULTS.md (BENCH_OUT to
# write elsewhere), with the machine, the versions and the date.
#
#   W1  'migrate status' on an up-to-date database holding the example
#       (migrations/ and seeds/) against the CLI reading the tracking table.
#   W2  'migrate up' of 500 generated migrations (400 CREATE TABLE, 100
#       ALTER TABLE ADD COLUMN) on an empty database against the CLI running
#       the same statements from one script, with one transaction and one
#       tracking-row insert per migration; and 'up --single-transaction'
#       against the same script in one transaction (PostgreSQL and SQLite:
#       MySQL has no transactional DDL and migrate refuses it there).
#   W3  seeding (issue 4 item 8): 'migrate seed' of CSV files (100,000
#       customers with 100,000 linked addresses; 1,000,000 rows) against
#       sqlite3 .import, psql \copy and LOAD DATA LOCAL INFILE on the same
#       files; reported as TODO while migrate cannot load CSV seeds.
#   W4  test databases (issue 14): 'migrate testdb' from the warm pool, a
#       clone with the pool empty against CREATE DATABASE ... TEMPLATE and
#       'up', and a 50-test suite against 'up' per test (bench/w4.sh, whose
#       knobs are BENCH_W4_*); its own section of the results.
#   W5  fleets (issue 16): 'status --targets' and 'up --targets' over 300
#       PostgreSQL schemas and 1,000 SQLite files against a shell loop of
#       single migrate calls (bench/w5.sh, knobs BENCH_W5_*); its own
#       section of the results.
#
# Knobs: BENCH_REPS (W1 repetitions of each command, default 30),
# BENCH_W2_REPS (default 10), BENCH_W2_N (migrations, default 500),
# BENCH_W3_REPS (default 5), BENCH_W3_N (customers, default 100000),
# BENCH_W3_ROWS (default 1000000),
# BENCH_DRIVERS (default "sqlite postgres mysql"),
# BENCH_OUT (results file, default bench/RESULTS.md; '-' for none),
# BENCH_COMMIT (what to call the code measured, default git describe),
# BENCH_W2_BASE (another build's migrate binary: W2 then times it as the
# reference instead of the database's client, for what a change costs; the
# target is then 1.05x).
# No timing is asserted anywhere: this reports, it does not fail on speed.

set -euo pipefail

prog=${0##*/}
if (($# < 1)); then
	printf 'usage: %s BUILD_DIR [w1 w2 w3 w4 w5]\n' "$prog" >&2
	exit 2
fi
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$(cd "$1" && pwd)
shift
workloads=("$@")
((${#workloads[@]})) || workloads=(w1 w2 w3 w4 w5)

migrate=$build_dir/migrate
runner=$build_dir/benchrun
reps=${BENCH_REPS:-30}
w2_reps=${BENCH_W2_REPS:-10}
w2_n=${BENCH_W2_N:-500}
out=${BENCH_OUT:-$src_dir/bench/RESULTS.md}
read -r -a drivers <<<"${BENCH_DRIVERS:-sqlite postgres mysql}"
for d in "${drivers[@]}"; do
	case $d in
	sqlite | postgres | mysql) ;;
	*)
		printf '%s: error: unknown driver %s in BENCH_DRIVERS (sqlite, postgres, mysql)\n' "$prog" "$d" >&2
		exit 2
		;;
	esac
done

for f in "$migrate" "$runner"; do
	[[ -x $f ]] || {
		printf '%s: error: %s not found: run "make bench"\n' "$prog" "$f" >&2
		exit 2
	}
done
for c in sqlite3 psql mariadb; do
	command -v "$c" >/dev/null 2>&1 || {
		printf '%s: error: %s not found: run scripts/install-deps.sh\n' "$prog" "$c" >&2
		exit 2
	}
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d "${TMPDIR:-/tmp}/migrate-bench.XXXXXX")
srv=$work/servers
cleanup() {
	"$src_dir/tests/servers.sh" stop "$srv" >/dev/null 2>&1 || true
	rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Always our own servers: the figures are for a known, local set-up. No
# Galera cluster: no workload uses it, and its nodes would share the CPU. The
# servers' users (postgres, mysql) must reach DIR through WORK.
unset MIGRATE_TEST_PG_URL MIGRATE_TEST_MYSQL_URL MIGRATE_TEST_GALERA_URLS
export MIGRATE_TEST_GALERA=off
chmod 0711 "$work"
"$src_dir/tests/servers.sh" start "$srv"
# shellcheck source=/dev/null
source "$srv/env"
pg_base=${MIGRATE_TEST_PG_URL%/*}    # postgres://user:pass@host:port
pg_user=${pg_base#postgres://}
pg_user=${pg_user%%:*}
pg_port=${pg_base##*:}
pg_root=$(<"$srv/pg.root") # its Unix socket's directory (trust for local connections)
my_base=${MIGRATE_TEST_MYSQL_URL%/*} # mysql://user:pass@host:port
my_hostport=${my_base#*@}
my_userpass=${my_base#mysql://}
my_userpass=${my_userpass%@*}
my_args=(--no-defaults --protocol=TCP -h "${my_hostport%:*}" -P "${my_hostport##*:}"
	-u "${my_userpass%%:*}" "-p${my_userpass#*:}")


# url DRIVER DB: the URL of database DB on that driver's server.
url() {
	case $1 in
	sqlite) printf 'sqlite://%s/%s.db\n' "$work" "$2" ;;
	postgres) printf '%s/%s\n' "$pg_base" "$2" ;;
	mysql) printf '%s/%s\n' "$my_base" "$2" ;;
	esac
}

# A shell command that makes database DB empty (run untimed before each run).
reset_cmd() {
	local q
	case $1 in
	sqlite) printf 'rm -f %q %q' "$work/$2.db" "$work/$2.db.migrate-lock" ;;
	postgres)
		# as the superuser over the socket: only it may end an autovacuum
		# worker still busy in the database (WITH (FORCE))
		printf 'PGOPTIONS=-c\\ client_min_messages=warning psql -X -q -v ON_ERROR_STOP=1 -h %q -p %q -U postgres -d postgres -c %q -c %q >/dev/null' \
			"$pg_root" "$pg_port" "DROP DATABASE IF EXISTS $2 WITH (FORCE)" "CREATE DATABASE $2 OWNER $pg_user"
		;;
	mysql)
		printf -v q '%q ' mariadb "${my_args[@]}" -e "DROP DATABASE IF EXISTS $2; CREATE DATABASE $2 CHARACTER SET utf8mb4"
		printf '%s' "$q"
		;;
	esac
}

# cli DRIVER DB: the database's own client, as an argv prefix; the SQL follows.
cli_argv() {
	case $1 in
	sqlite) cli=(sqlite3 "$work/$2.db") ;;
	postgres) cli=(psql -X -q -v ON_ERROR_STOP=1 -d "$(url postgres "$2")" -c) ;;
	mysql) cli=(mariadb "${my_args[@]}" "$2" -e) ;;
	esac
}

results=$work/results.tsv
w3_todo=0
: >"$results"

# record WORKLOAD DRIVER WHAT TARGET-KIND TARGET: reads benchrun's two lines
# (ours, then the reference) from $work/last and appends one result row.
record() {
	local w=$1 drv=$2 what=$3 kind=$4 target=$5
	{
		IFS=$'\t' read -r on om _ _ ok _ oc
		IFS=$'\t' read -r rn rm _ _ rk _ rc
	} <"$work/last"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$drv" "$what" "$on" "$om" "$ok" \
		"$rn" "$rm" "$rk" "$kind" "$target" "$oc" "$rc" >>"$results"
	awk -v w="$w" -v d="$drv" -v what="$what" -v on="$on" -v om="$om" -v ok="$ok" -v oc="$oc" \
		-v rn="$rn" -v rm="$rm" -v rk="$rk" -v rc="$rc" 'BEGIN {
		printf "%s %s %s: %s %.2f ms (cpu %.2f) %.1f MiB | %s %.2f ms (cpu %.2f) %.1f MiB | ratio %.2f\n",
			w, d, what, on, om, oc, ok / 1024, rn, rm, rc, rk / 1024, om / rm }'
}

# ---- W1: status on an up-to-date database ------------------------------------------

w1() {
	local drv db=bench_w1 u
	printf '\n== W1: migrate status on an up-to-date database (example migrations and seeds), %d runs each\n' "$reps"
	mkdir -p "$work/w1"
	for drv in "${drivers[@]}"; do
		u=$(url "$drv" "$db")
		sh -c "$(reset_cmd "$drv" "$db")"
		# from an empty directory, so no config.ini is read: the URL says all
		(cd "$work/w1" && "$migrate" -q -u "$u" --migrations-dir "$src_dir/migrations" \
			--seeds-dir "$src_dir/seeds" up &&
			"$migrate" -q -u "$u" --migrations-dir "$src_dir/migrations" \
				--seeds-dir "$src_dir/seeds" seed)
		cli_argv "$drv" "$db"
		(cd "$work/w1" && "$runner" -n "$reps" -w 2 -- \
			"migrate status" "$migrate" -u "$u" --migrations-dir "$src_dir/migrations" \
			--seeds-dir "$src_dir/seeds" status ::: \
			"$(basename "${cli[0]}") select" "${cli[@]}" "SELECT * FROM schema_migrations") >"$work/last"
		case $drv in
		sqlite) record W1 "$drv" status ratio 1.3 ;;
		postgres) record W1 "$drv" status ms 15 ;;
		mysql) record W1 "$drv" status ms 12 ;;
		esac
	done
	# PostgreSQL again over its Unix socket with trust authentication: no
	# SCRAM-SHA-256 exchange, whose 4096 HMAC rounds in libpq (OpenSSL 3)
	# take some 12 ms of CPU on each side of the comparison above.
	u="postgres://${pg_user}@localhost:$pg_port/$db?socket=$pg_root"
	(cd "$work/w1" && "$runner" -n "$reps" -w 2 -- \
		"migrate status" "$migrate" -u "$u" --migrations-dir "$src_dir/migrations" \
		--seeds-dir "$src_dir/seeds" status ::: \
		"psql select" psql -X -q -h "$pg_root" -p "$pg_port" -U "$pg_user" -d "$db" \
		-c "SELECT * FROM schema_migrations") >"$work/last"
	record W1 "postgres (socket, trust)" status ms 15
}

# ---- W2: up of 500 small migrations -------------------------------------------------

# Writes $1/migrations (N files) and the reference scripts $1/ref-<driver>.sql
# (a transaction and a tracking-row insert per migration) and
# $1/ref1-<driver>.sql (everything in one transaction).
w2_generate() {
	local dir=$1 n=$2 i t=0 ver name up down sum drv
	mkdir -p "$dir/migrations"
	for ((i = 1; i <= n; i++)); do
		ver=$(printf '%06d' "$i")
		if ((i % 5 == 0)); then
			name=add_extra_$i
			up="ALTER TABLE w2_t$t ADD COLUMN extra_$i INTEGER;"
			down="ALTER TABLE w2_t$t DROP COLUMN extra_$i;"
		else
			t=$((t + 1))
			name=create_w2_t$t
			up="CREATE TABLE w2_t$t (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, amount INTEGER, note VARCHAR(255));"
			down="DROP TABLE w2_t$t;"
		fi
		printf -- '-- migrate:up\n%s\n\n-- migrate:down\n%s\n' "$up" "$down" \
			>"$dir/migrations/${ver}_$name.sql"
		printf '%s\t%s\t%s\t%s\n' "$i" "$name" "$up" "$down" >>"$dir/list.tsv"
	done
	# checksums of the same length as the real ones
	sum=$(printf 'bench' | sha256sum)
	sum=${sum%% *}
	for drv in "${drivers[@]}"; do
		local text=TEXT ts=TIMESTAMP begin=BEGIN
		case $drv in
		sqlite) ts=TEXT ;;
		mysql) text=LONGTEXT ts=DATETIME begin='START TRANSACTION' ;;
		esac
		local create="CREATE TABLE schema_migrations (version VARCHAR(255) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, checksum CHAR(64) NOT NULL, checksum_sql CHAR(64) NOT NULL, down_sql $text, applied_at $ts NOT NULL, duration_ms BIGINT NOT NULL, status VARCHAR(16) NOT NULL);"
		awk -F'\t' -v create="$create" -v begin="$begin" -v sum="$sum" -v one=0 '
			function row(v, n, d) {
				gsub(/\047/, "\047\047", d)
				return sprintf("INSERT INTO schema_migrations VALUES (\047%s\047, \047%s\047, \047%s\047, \047%s\047, \047-- migrate:down\n%s\n\047, \0472026-01-01 00:00:00\047, 0, \047applied\047);", v, n, sum, sum, d)
			}
			BEGIN { print create }
			{ printf "%s;\n%s\n%s\nCOMMIT;\n", begin, $3, row($1, $2, $4) }' \
			"$dir/list.tsv" >"$dir/ref-$drv.sql"
		awk -F'\t' -v create="$create" -v begin="$begin" -v sum="$sum" '
			function row(v, n, d) {
				gsub(/\047/, "\047\047", d)
				return sprintf("INSERT INTO schema_migrations VALUES (\047%s\047, \047%s\047, \047%s\047, \047%s\047, \047-- migrate:down\n%s\n\047, \0472026-01-01 00:00:00\047, 0, \047applied\047);", v, n, sum, sum, d)
			}
			BEGIN { print create; printf "%s;\n", begin }
			{ printf "%s\n%s\n", $3, row($1, $2, $4) }
			END { print "COMMIT;" }' \
			"$dir/list.tsv" >"$dir/ref1-$drv.sql"
	done
}

w2() {
	local drv db=bench_w2 u dir=$work/w2 ref_argv=()
	printf '\n== W2: migrate up of %d migrations on an empty database, %d runs each\n' "$w2_n" "$w2_reps"
	w2_generate "$dir" "$w2_n"
	for drv in "${drivers[@]}"; do
		u=$(url "$drv" "$db")
		for mode in per-migration single; do
			local script=$dir/ref-$drv.sql flag=() what="up"
			if [[ $mode == single ]]; then
				[[ $drv == mysql ]] && continue # refused: no transactional DDL
				script=$dir/ref1-$drv.sql flag=(--single-transaction) what="up --single-transaction"
			fi
			case $drv in
			sqlite) ref_argv=(sqlite3 "$work/$db.db" ".read $script") ;;
			postgres) ref_argv=(psql -X -q -v ON_ERROR_STOP=1 -d "$u" -f "$script") ;;
			mysql) ref_argv=(mariadb "${my_args[@]}" "$db" -e "source $script") ;;
			esac
			local ref_name
			ref_name="$(basename "${ref_argv[0]}") script"
			if [[ -n ${BENCH_W2_BASE:-} ]]; then
				ref_argv=("$BENCH_W2_BASE" -q -u "$u" --migrations-dir "$dir/migrations"
					--seeds-dir "$dir/none" up "${flag[@]}")
				ref_name="base migrate $what"
			fi
			(cd "$dir" && "$runner" -n "$w2_reps" -w 1 -p "$(reset_cmd "$drv" "$db")" -- \
				"migrate $what" "$migrate" -q -u "$u" --migrations-dir "$dir/migrations" \
				--seeds-dir "$dir/none" up "${flag[@]}" ::: \
				"$ref_name" "${ref_argv[@]}") >"$work/last"
			if [[ -n ${BENCH_W2_BASE:-} ]]; then
				record W2 "$drv" "$what" ratio 1.05
			elif [[ $mode == single ]]; then
				record W2 "$drv" "$what" ratio 1.2
			else
				record W2 "$drv" "$what" ratio 1.1
			fi
		done
		# lint (SPEC section 12): what linting the migrations costs up, and lint --all
		# alone (it needs no database) against reading the same files (lint 1)
		(cd "$dir" && "$runner" -n "$w2_reps" -w 1 -p "$(reset_cmd "$drv" "$db")" -- \
			"migrate up" "$migrate" -q -u "$u" --migrations-dir "$dir/migrations" \
			--seeds-dir "$dir/none" up ::: \
			"migrate up --no-lint" "$migrate" -q -u "$u" --migrations-dir "$dir/migrations" \
			--seeds-dir "$dir/none" up --no-lint) >"$work/last"
		record W2 "$drv" "up (lint on)" ratio 1.05
		(cd "$dir" && "$runner" -n "$reps" -w 2 -- \
			"migrate lint --all" "$migrate" -q -u "$u" --migrations-dir "$dir/migrations" lint --all ::: \
			"migrate lint 1" "$migrate" -q -u "$u" --migrations-dir "$dir/migrations" lint 1) >"$work/last"
		record W2 "$drv" "lint --all" ms 50
	done
}

# ---- W3: seeding ----------------------------------------------------------------------

# Seeding (issue 4 item 8): 'migrate seed' of CSV seeds against the
# database's own bulk loader on the same files (sqlite3 .import, psql \copy,
# MariaDB LOAD DATA LOCAL INFILE): W3a 100,000 customers and 100,000 linked
# addresses (two files), W3b 1,000,000 rows of one table. Each run starts from
# a fresh database holding the schema (migrate up, untimed). The CSV files
# name every column, timestamps included, so the CLIs' loaders (which map
# fields to columns by position) take them as they are.

# w3_generate DIR N ROWS: the CSV files and the migrations (the example's and
# a table for the large file).
w3_generate() {
	local dir=$1 n=$2 rows=$3
	mkdir -p "$dir/migrations" "$dir/seeds-linked" "$dir/seeds-rows"
	cp "$src_dir"/migrations/*.sql "$dir/migrations/"
	printf -- '-- migrate:up\nCREATE TABLE bench_rows (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, amount INTEGER NOT NULL, note VARCHAR(255));\n\n-- migrate:down\nDROP TABLE bench_rows;\n' \
		>"$dir/migrations/29990101000000_create_bench_rows.sql"
	awk -v n="$n" -v dir="$dir/seeds-linked" 'BEGIN {
		c = dir "/01_customers.csv"; a = dir "/02_addresses.csv"
		print "uuid,firstname,lastname,age,createdAt,updatedAt" > c
		print "id,street,phone,fk_customerid,createdAt,updatedAt" > a
		for (i = 1; i <= n; i++) {
			u = sprintf("%08x-%04x-1%03x-8%03x-%012x", i, i % 65536, i % 4096, (i * 7) % 4096, i * 2654435761 % 281474976710656)
			printf "%s,First%d,\"Last, %d\",%d,2026-01-01 00:00:00,2026-01-01 00:00:00\n", u, i, i, 18 + i % 70 > c
			printf "%d,\"%d Main Street\",+1-555-%07d,%s,2026-01-01 00:00:00,2026-01-01 00:00:00\n", i, i, i, u > a
		}
	}'
	awk -v n="$rows" 'BEGIN {
		print "id,name,amount,note"
		for (i = 1; i <= n; i++)
			printf "%d,name %d,%d,\"a note, with a comma and \"\"quotes\"\" %d\"\n", i, i, i % 100000, i
	}' >"$dir/seeds-rows/01_bench_rows.csv"
}

# Does this migrate load CSV seeds? (Until issue 4 lands, it does not.)
w3_supported() {
	local d=$work/w3probe
	mkdir -p "$d/m" "$d/s"
	printf -- '-- migrate:up\nCREATE TABLE t (a INTEGER);\n' >"$d/m/1_t.sql"
	printf 'a\n1\n' >"$d/s/01_t.csv"
	"$migrate" -q -u "sqlite://$d/p.db" --migrations-dir "$d/m" --seeds-dir "$d/s" up >/dev/null 2>&1 &&
		"$migrate" -q -u "sqlite://$d/p.db" --migrations-dir "$d/m" --seeds-dir "$d/s" seed >/dev/null 2>&1 &&
		[[ $(sqlite3 "$d/p.db" 'SELECT count(*) FROM t') == 1 ]]
}

w3() {
	local n=${BENCH_W3_N:-100000} rows=${BENCH_W3_ROWS:-1000000} reps=${BENCH_W3_REPS:-5}
	local dir=$work/w3 db=bench_w3 drv u set f prep
	printf '\n== W3: migrate seed of CSV files against the native loaders, %d runs each\n' "$reps"
	if ! w3_supported; then
		printf 'W3: TODO: this migrate does not load CSV seeds yet (issue 4)\n'
		w3_todo=1
		return 0
	fi
	w3_generate "$dir" "$n" "$rows"
	for drv in "${drivers[@]}"; do
		u=$(url "$drv" "$db")
		# a fresh database with the schema before every run
		prep="$(reset_cmd "$drv" "$db") && $(printf '%q ' "$migrate" -q -u "$u" --migrations-dir "$dir/migrations" --seeds-dir "$dir/none" up)"
		for set in linked rows; do
			local files=() tables=() ref_argv=() what
			if [[ $set == linked ]]; then
				files=("$dir/seeds-linked/01_customers.csv" "$dir/seeds-linked/02_addresses.csv")
				tables=(customers addresses)
				what="seed ${n} + ${n} linked"
			else
				files=("$dir/seeds-rows/01_bench_rows.csv")
				tables=(bench_rows)
				what="seed ${rows} rows"
			fi
			case $drv in
			sqlite)
				ref_argv=(sqlite3 "$work/$db.db" -cmd 'PRAGMA foreign_keys = ON' -cmd '.mode csv')
				for f in "${!files[@]}"; do ref_argv+=(".import --skip 1 ${files[$f]} ${tables[$f]}"); done
				;;
			postgres)
				ref_argv=(psql -X -q -v ON_ERROR_STOP=1 -d "$u")
				for f in "${!files[@]}"; do
					ref_argv+=(-c "\\copy ${tables[$f]} FROM '${files[$f]}' WITH (FORMAT csv, HEADER true)")
				done
				;;
			mysql)
				local sql=""
				for f in "${!files[@]}"; do
					sql+="LOAD DATA LOCAL INFILE '${files[$f]}' INTO TABLE ${tables[$f]} FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' IGNORE 1 LINES; "
				done
				ref_argv=(mariadb "${my_args[@]}" --local-infile=1 "$db" -e "$sql")
				;;
			esac
			(cd "$dir" && "$runner" -n "$reps" -w 0 -p "$prep" -- \
				"migrate seed" "$migrate" -q -u "$u" --migrations-dir "$dir/migrations" \
				--seeds-dir "$dir/seeds-$set" seed ::: \
				"$(basename "${ref_argv[0]}") load" "${ref_argv[@]}") >"$work/last"
			record W3 "$drv" "$what" ratio 1.2
		done
	done
}

# ---- W4: test databases (bench/w4.sh) -------------------------------------------------

: >"$work/w4.md"
w4() {
	printf '\n== W4: migrate testdb (bench/w4.sh)\n'
	mkdir -p "$work/w4"
	HARNESS=$build_dir/harness "$src_dir/bench/w4.sh" "$migrate" "$work/w4" "${drivers[@]}" | tee "$work/w4.md"
}

# ---- the report -----------------------------------------------------------------------

for w in "${workloads[@]}"; do
	case $w in
	w1 | w2 | w3 | w4) "$w" ;;
	w5) PG_SOCKET_DIR=$pg_root "$src_dir/bench/w5.sh" "$migrate" "$work" | tee "$work/w5.md" ;;
	*)
		printf '%s: error: unknown workload %s (w1, w2, w3, w4, w5)\n' "$prog" "$w" >&2
		exit 2
		;;
	esac
done

[[ $out == - ]] && exit 0

version_of() { "$@" 2>/dev/null | head -n 1 || echo unknown; }
{
	printf '# Benchmark results\n\n'
	printf 'Written by `make bench` (bench/bench.sh); compare a later run with `git diff bench/RESULTS.md`.\n'
	printf 'Medians of interleaved runs (migrate and the reference alternate, ABBA) of the wall time and,\n'
	printf 'in brackets, of the client'"'"'s own CPU time (user + system), which a busy machine disturbs less;\n'
	printf 'peak memory is the highest ru_maxrss of any run. The ratio is migrate / reference (wall);\n'
	printf 'the targets are issue 7'"'"'s.\n\n'
	printf -- '- date: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf -- '- command: `bench/bench.sh %s %s` (BENCH_REPS=%s, BENCH_W2_REPS=%s, BENCH_W2_N=%s)\n' \
		"${build_dir/#$src_dir\//}" "${workloads[*]}" "$reps" "$w2_reps" "$w2_n"
	printf -- '- commit: %s\n' "${BENCH_COMMIT:-$(git -C "$src_dir" describe --always --dirty 2>/dev/null || echo unknown)}"
	printf -- '- machine: `%s`, %s CPUs; load average %s at the start, %s at the end\n' \
		"$(uname -a)" "$(nproc)" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf -- '- sqlite3 %s; %s; %s; %s\n' "$(version_of sqlite3 --version | cut -d' ' -f1)" \
		"$(version_of psql --version)" "$(version_of mariadb --version)" "$(version_of "${CC:-cc}" --version)"
	printf -- '- servers: tests/servers.sh (loopback TCP, password auth: SCRAM-SHA-256 on PostgreSQL; fsync off)\n\n'
	printf '| workload | driver | migrate | median (cpu) | peak | reference | median (cpu) | peak | ratio | target | met |\n'
	printf '|---|---|---|---:|---:|---|---:|---:|---:|---|---|\n'
	awk -F'\t' '{
		ratio = $5 / $8
		if ($10 == "ratio") { target = sprintf("<= %gx", $11); met = ratio <= $11 }
		else { target = sprintf("<= %d ms", $11); met = $5 <= $11 }
		if ($1 == "W1") { target = target ", < 5 MiB"; met = met && $6 < 5 * 1024 }
		if ($1 == "W3") { target = target ", < 10 MiB"; met = met && $6 < 10 * 1024 }
		printf "| %s | %s | `%s` | %.2f ms (%.2f) | %.1f MiB | `%s` | %.2f ms (%.2f) | %.1f MiB | %.2f | %s | %s |\n",
			$1, $2, "migrate " $3, $5, $12, $6 / 1024, $7, $8, $13, $9 / 1024, ratio, target, met ? "yes" : "no"
	}' "$results"
	if ((w3_todo)); then
		printf '\nW3 (seeding, issue 4 item 8): TODO: this migrate does not load CSV seeds yet.\n'
	fi
	cat "$work/w4.md"
	if [[ -f $work/w5.md ]]; then
		printf '\n'
		cat "$work/w5.md"
	fi
} >"$work/results.md"
# keep the notes written by hand below the generated part
if [[ -f $out ]] && grep -q '^## Notes' "$out"; then
	sed -n '/^## Notes/,$p' "$out" >"$work/notes.md"
	{ cat "$work/results.md"; printf '\n'; cat "$work/notes.md"; } >"$out"
else
	cp "$work/results.md" "$out"
fi
printf '\nresults written to %s\n' "$out"
