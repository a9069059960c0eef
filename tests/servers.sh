#!/usr/bin/env bash
# Throwaway PostgreSQL and MariaDB servers for the test suite.
#
#   tests/servers.sh start DIR   start both servers with their data in DIR,
#                                listening on 127.0.0.1 only, and write DIR/env
#   tests/servers.sh stop DIR    stop what "start DIR" started and remove DIR
#
# Each server gets a user "migrate" (password "migrate-secret") that may create
# and drop databases, and a database "migrate_test". DIR/env exports
#   MIGRATE_TEST_PG_URL=postgres://migrate:migrate-secret@127.0.0.1:PORT/migrate_test
#   MIGRATE_TEST_MYSQL_URL=mysql://migrate:migrate-secret@127.0.0.1:PORT/migrate_test
#   MIGRATE_TEST_PGBOUNCER_URL=postgres://migrate:migrate-secret@127.0.0.1:PORT/migrate_test
#   MIGRATE_TEST_GALERA_URLS="mysql://...:PORT1/migrate_test mysql://...:PORT2/... mysql://...:PORT3/..."
# the third through PgBouncer in pool_mode = transaction in front of the
# PostgreSQL server (any database name: a new test database works too), the
# last the three nodes of a MariaDB Galera cluster (node 1 bootstrapped,
# nodes 2 and 3 joined by rsync state transfer; as root the nodes run as the
# mysql user).
# When either variable is already set, that server is not started and the
# given URL is recorded instead (to run the tests against existing servers).
#
# The servers trade durability for speed (no fsync): they exist for one test
# run. A server that cannot start is an error, never a silent skip.
#
# Environment knobs: PG_BINDIR (directory of initdb/pg_ctl), MIGRATE_TEST_PG_PORT,
# MIGRATE_TEST_MYSQL_PORT and MIGRATE_TEST_GALERA_PORT (first port tried;
# default 54330, 33070 and 24570; the cluster takes twelve free ports from
# there), GALERA_PROVIDER (libgalera_smm.so), MIGRATE_TEST_GALERA=off (no
# cluster: MIGRATE_TEST_GALERA_URLS is then empty; for the benchmarks, which
# do not use it and should not share the CPU with it).

set -euo pipefail

readonly DB_USER=migrate
readonly DB_PASSWORD=migrate-secret
readonly DB_NAME=migrate_test
readonly MARKER=.migrate-test-servers
readonly WAIT_SECONDS=60

prog=${0##*/}

die() {
	printf '%s: error: %s\n' "$prog" "$*" >&2
	exit 1
}

usage() {
	printf 'usage: %s start|stop DIR\n' "$prog" >&2
	exit 2
}

# Absolute path of $1, which need not exist yet.
abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$PWD" "$1" ;;
	esac
}

# Report a server that did not start: what, which command, its log, the fix.
# Args: server-name command-string log-file fix-text
start_failed() {
	local server=$1 cmd=$2 log=$3 fix=$4
	{
		printf '\n%s: error: %s did not start\n' "$prog" "$server"
		printf '  command: %s\n' "$cmd"
		if [[ $log == /dev/null ]]; then
			:
		elif [[ -s $log ]]; then
			printf '  last 20 lines of %s:\n' "$log"
			tail -n 20 "$log" | sed 's/^/    | /'
		else
			printf '  log %s is empty or missing\n' "$log"
		fi
		printf '  how to fix: %s\n' "$fix"
		printf '  or point the tests at a running server with MIGRATE_TEST_PG_URL / MIGRATE_TEST_MYSQL_URL\n\n'
	} >&2
}

# True when something accepts TCP connections on 127.0.0.1:$1 or ss lists a
# listener on that port on any address.
port_in_use() {
	local port=$1
	if command -v ss >/dev/null 2>&1 &&
		[[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
		return 0
	fi
	# shellcheck disable=SC2016 # $1 expands in the inner shell
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$port" 2>/dev/null
}

# First free port at or above $1.
free_port() {
	[[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1024 && $1 <= 65535)) || return 1
	local port=$1 limit=$(($1 + 200 < 65536 ? $1 + 200 : 65536))
	while ((port < limit)); do
		if ! port_in_use "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
		port=$((port + 1))
	done
	return 1
}

# True when pid $1 is alive and its command line mentions $2 (so a stale pid
# file never makes us signal an unrelated process).
pid_is() {
	local pid=$1 needle=$2
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	! pid_gone "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle"
}

# True when pid $1 is gone. A zombie counts as gone: the servers are
# reparented to init, which may take a while to reap them.
pid_gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ ${stat%% *} == Z ]]
}

# Wait up to $2 seconds for pid $1 to exit.
wait_exit() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		pid_gone "$pid" && return 0
		sleep 0.1
	done
	return 1
}

# --- PostgreSQL -------------------------------------------------------------

pg_bindir() {
	local d
	for d in "${PG_BINDIR:-}" /usr/lib/postgresql/15/bin \
		"$(pg_config --bindir 2>/dev/null || true)"; do
		if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then
			printf '%s\n' "$d"
			return 0
		fi
	done
	# Any other installed major version, newest first.
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5 -rn); do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			printf '%s\n' "$d"
			return 0
		fi
	done
	return 1
}

# PostgreSQL refuses to run as root: as root, run it as the postgres user.
as_pg() {
	if ((EUID != 0)); then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u postgres -- "$@"
	else
		su postgres -s /bin/bash -c '"$@"' -- _ "$@"
	fi
}

# Where the PostgreSQL files go: DIR/pg, unless the postgres user cannot reach
# DIR (e.g. it is under /root), then a directory of its own under /tmp.
pg_root_for() {
	local dir=$1 root
	if ((EUID != 0)) || as_pg test -x "$dir" 2>/dev/null; then
		root=$dir/pg
		mkdir -p "$root"
	else
		root=$(mktemp -d /tmp/migrate-pg.XXXXXX)
	fi
	if ((EUID == 0)); then
		chown postgres: "$root"
	fi
	chmod 0700 "$root"
	printf '%s\n' "$root" >"$dir/pg.root"
	printf '%s\n' "$root"
}

start_pg() {
	local dir=$1 bindir root data log port attempt rc
	if ! bindir=$(pg_bindir); then
		start_failed PostgreSQL "initdb" /dev/null \
			"install the PostgreSQL server: scripts/install-deps.sh (Debian package postgresql), or set PG_BINDIR to the directory that has initdb and pg_ctl"
		return 1
	fi
	if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
		start_failed PostgreSQL "runuser -u postgres" /dev/null \
			"PostgreSQL refuses to run as root and there is no 'postgres' user: install the postgresql package (scripts/install-deps.sh) or run the tests as a normal user"
		return 1
	fi
	root=$(pg_root_for "$dir")
	data=$root/data
	log=$root/server.log

	local initdb=("$bindir/initdb" -D "$data" -U postgres -N -E UTF8
		--locale=C --auth-local=trust --auth-host=scram-sha-256)
	if ! (cd "$root" && as_pg "${initdb[@]}") >"$dir/pg-initdb.log" 2>&1; then
		start_failed PostgreSQL "${initdb[*]}" "$dir/pg-initdb.log" \
			"check that $root is writable by the user running PostgreSQL and that the disk is not full"
		return 1
	fi

	port=${MIGRATE_TEST_PG_PORT:-54330}
	for attempt in 1 2 3 4 5; do
		if ! port=$(free_port "$port"); then
			start_failed PostgreSQL "(port search)" /dev/null \
				"no free TCP port on 127.0.0.1 from ${MIGRATE_TEST_PG_PORT:-54330} on (MIGRATE_TEST_PG_PORT must be a number from 1024 to 65535): set MIGRATE_TEST_PG_PORT to another start"
			return 1
		fi
		# Later settings win: rewriting the tail on a retry is fine.
		cat >>"$data/postgresql.conf" <<-EOF
			# tests/servers.sh: throwaway server, speed over durability
			listen_addresses = '127.0.0.1'
			port = $port
			unix_socket_directories = '$root'
			password_encryption = 'scram-sha-256'
			fsync = off
			synchronous_commit = off
			full_page_writes = off
			max_connections = 100
			logging_collector = off
		EOF
		local pgctl=("$bindir/pg_ctl" -D "$data" -l "$log" -w -t "$WAIT_SECONDS" start)
		rc=0
		(cd "$root" && as_pg "${pgctl[@]}") >"$dir/pg-ctl.log" 2>&1 || rc=$?
		if ((rc == 0)); then
			break
		fi
		if grep -qi 'address already in use' "$log" 2>/dev/null && ((attempt < 5)); then
			port=$((port + 1))
			continue
		fi
		cat "$dir/pg-ctl.log" >>"$log" 2>/dev/null || true
		start_failed PostgreSQL "${pgctl[*]}" "$log" \
			"read the log above; a stale server may hold the port (try another with MIGRATE_TEST_PG_PORT), or shared memory may be short"
		return 1
	done

	local psql=("$bindir/psql" -X -q -h "$root" -p "$port" -U postgres -d postgres
		-v ON_ERROR_STOP=1
		-c "CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
		-c "CREATE DATABASE $DB_NAME OWNER $DB_USER")
	if ! (cd "$root" && as_pg "${psql[@]}") >"$dir/pg-setup.log" 2>&1; then
		start_failed PostgreSQL "${psql[*]}" "$dir/pg-setup.log" \
			"the server started but creating the '$DB_USER' role or '$DB_NAME' database failed"
		return 1
	fi

	# Prove the URL works as written: TCP, password authentication.
	local i ok=0
	for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
		if PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=2 "$bindir/psql" -X -q -w \
			-h 127.0.0.1 -p "$port" -U "$DB_USER" -d "$DB_NAME" \
			-c 'SELECT 1' >"$dir/pg-check.log" 2>&1; then
			ok=1
			break
		fi
		sleep 0.1
	done
	if ((!ok)); then
		start_failed PostgreSQL "psql -h 127.0.0.1 -p $port -U $DB_USER $DB_NAME" \
			"$dir/pg-check.log" "the server runs but refuses '$DB_USER' over TCP: check $data/pg_hba.conf"
		return 1
	fi
	printf 'postgres://%s:%s@127.0.0.1:%s/%s\n' "$DB_USER" "$DB_PASSWORD" "$port" "$DB_NAME" \
		>"$dir/pg.url"
}

stop_pg() {
	local dir=$1 root data bindir pid
	[[ -f $dir/pg.root ]] || return 0
	root=$(<"$dir/pg.root")
	data=$root/data
	if [[ -f $data/postmaster.pid ]]; then
		pid=$(head -n 1 "$data/postmaster.pid")
		if pid_is "$pid" postgres; then
			bindir=$(pg_bindir || true)
			if [[ -z $bindir ]] ||
				! (cd / && as_pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 30 stop) >/dev/null 2>&1; then
				kill -QUIT "$pid" 2>/dev/null || true
			fi
			if ! wait_exit "$pid" 30; then
				kill -KILL "$pid" 2>/dev/null || true
				wait_exit "$pid" 5 || printf '%s: warning: PostgreSQL pid %s did not exit\n' "$prog" "$pid" >&2
			fi
		fi
	fi
	# The root lives outside DIR when DIR was not reachable by postgres.
	case $root in
	"$dir"/*) ;;
	/tmp/migrate-pg.*) rm -rf -- "$root" ;;
	esac
	rm -f -- "$dir/pg.root"
}

# --- PgBouncer, in transaction pooling mode in front of PostgreSQL ------------

start_pgbouncer() {
	local dir=$1 pg_url=$2 root port hostport pgport log i ok=0
	if ! command -v pgbouncer >/dev/null 2>&1 && [[ ! -x /usr/sbin/pgbouncer ]]; then
		start_failed PgBouncer pgbouncer /dev/null "install PgBouncer: scripts/install-deps.sh test (Debian package pgbouncer)"
		return 1
	fi
	root=$dir/pgbouncer
	mkdir -p "$root"
	hostport=${pg_url#*@}
	hostport=${hostport%%/*}
	pgport=${hostport##*:}
	port=$(free_port "${MIGRATE_TEST_PGBOUNCER_PORT:-64330}") || {
		start_failed PgBouncer "(port search)" /dev/null "no free TCP port: set MIGRATE_TEST_PGBOUNCER_PORT"
		return 1
	}
	log=$root/pgbouncer.log
	cat >"$root/pgbouncer.ini" <<-EOF
		; tests/servers.sh: transaction pooling, as production set-ups behind it run
		[databases]
		* = host=${hostport%:*} port=$pgport
		[pgbouncer]
		listen_addr = 127.0.0.1
		listen_port = $port
		unix_socket_dir =
		auth_type = plain
		auth_file = $root/users.txt
		pool_mode = transaction
		default_pool_size = 4
		max_client_conn = 200
		ignore_startup_parameters = extra_float_digits,options
		logfile = $log
		pidfile = $root/pgbouncer.pid
	EOF
	printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" >"$root/users.txt"
	chmod 0600 "$root/users.txt"
	((EUID == 0)) && chown -R postgres: "$root"
	# PgBouncer refuses to run as root too
	if ! (cd "$root" && as_pg "$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" -d "$root/pgbouncer.ini") \
		>"$root/start.log" 2>&1; then
		start_failed PgBouncer "pgbouncer -d $root/pgbouncer.ini" "$root/start.log" "read the log above"
		return 1
	fi
	for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
		if PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=2 psql -X -q -w -h 127.0.0.1 -p "$port" -U "$DB_USER" \
			-d "$DB_NAME" -c 'SELECT 1' >"$root/check.log" 2>&1; then
			ok=1
			break
		fi
		sleep 0.1
	done
	if ((!ok)); then
		start_failed PgBouncer "psql -h 127.0.0.1 -p $port" "$log" "PgBouncer started but does not pass connections on"
		return 1
	fi
	printf 'postgres://%s:%s@127.0.0.1:%s/%s\n' "$DB_USER" "$DB_PASSWORD" "$port" "$DB_NAME" >"$dir/pgbouncer.url"
}

stop_pgbouncer() {
	local dir=$1 pid
	[[ -f $dir/pgbouncer/pgbouncer.pid ]] || return 0
	pid=$(<"$dir/pgbouncer/pgbouncer.pid")
	if pid_is "$pid" pgbouncer; then
		kill -TERM "$pid" 2>/dev/null || true
		wait_exit "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
	fi
}

# --- MariaDB ----------------------------------------------------------------

mariadb_server() {
	local b
	for b in mariadbd /usr/sbin/mariadbd mysqld /usr/sbin/mysqld; do
		if command -v "$b" >/dev/null 2>&1; then
			command -v "$b"
			return 0
		fi
	done
	return 1
}

mariadb_client() {
	local b
	for b in mariadb mysql; do
		if command -v "$b" >/dev/null 2>&1; then
			command -v "$b"
			return 0
		fi
	done
	return 1
}

start_mysql() {
	local dir=$1 root=$1/my server installdb client port attempt
	local fix_install="install MariaDB: scripts/install-deps.sh (Debian packages mariadb-server mariadb-client)"
	if ! server=$(mariadb_server); then
		start_failed MariaDB mariadbd /dev/null "$fix_install"
		return 1
	fi
	installdb=$(command -v mariadb-install-db || command -v mysql_install_db || true)
	client=$(mariadb_client || true)
	if [[ -z $installdb || -z $client ]]; then
		start_failed MariaDB mariadb-install-db /dev/null "$fix_install"
		return 1
	fi
	mkdir -p "$root/tmp"
	chmod 0700 "$root"

	local userarg=()
	((EUID == 0)) && userarg=(--user=root)
	# Settings shared by the bootstrap and the server: the redo log size must
	# match or the server resizes it at start.
	local common=(--innodb-buffer-pool-size=32M --innodb-log-file-size=16M
		--innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0
		--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
		--skip-log-bin --skip-name-resolve)

	# Account management works in bootstrap mode only after FLUSH PRIVILEGES.
	cat >"$root/init.sql" <<-EOF
		FLUSH PRIVILEGES;
		CREATE USER '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
		CREATE USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
		GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
		GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
		CREATE DATABASE $DB_NAME CHARACTER SET utf8mb4;
	EOF
	local install=("$installdb" --no-defaults --datadir="$root/data" "${userarg[@]}"
		--skip-test-db --extra-file="$root/init.sql" --tmpdir="$root/tmp" "${common[@]}")
	if ! "${install[@]}" </dev/null >"$root/install.log" 2>&1; then
		start_failed MariaDB "${install[*]}" "$root/install.log" \
			"check that $root is writable and that the disk is not full"
		return 1
	fi

	local log=$root/server.log pid
	port=${MIGRATE_TEST_MYSQL_PORT:-33070}
	for attempt in 1 2 3 4 5; do
		if ! port=$(free_port "$port"); then
			start_failed MariaDB "(port search)" /dev/null \
				"no free TCP port on 127.0.0.1 from ${MIGRATE_TEST_MYSQL_PORT:-33070} on (MIGRATE_TEST_MYSQL_PORT must be a number from 1024 to 65535): set MIGRATE_TEST_MYSQL_PORT to another start"
			return 1
		fi
		local cmd=("$server" --no-defaults --datadir="$root/data"
			--socket="$root/mysqld.sock" --pid-file="$root/mysqld.pid"
			--port="$port" --bind-address=127.0.0.1 "${userarg[@]}"
			--tmpdir="$root/tmp" --log-error="$log" "${common[@]}"
			--plugin-load-add=metadata_lock_info)
		# metadata_lock_info lets migrate name the session that holds a
		# table when a lock wait runs out (SPEC section 9).
		# Own session and no inherited descriptors: the server must neither
		# hold the caller's pipes open nor get the terminal's Ctrl-C.
		setsid "${cmd[@]}" </dev/null >>"$root/stdout.log" 2>&1 &
		pid=$!
		printf '%s\n' "$pid" >"$root/launch.pid"

		local i ok=0 dead=0
		for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
			if pid_gone "$pid"; then
				dead=1
				break
			fi
			if "$client" --no-defaults --connect-timeout=2 --protocol=TCP \
				-h 127.0.0.1 -P "$port" -u "$DB_USER" -p"$DB_PASSWORD" \
				-e 'SELECT 1' "$DB_NAME" >"$root/check.log" 2>&1; then
				ok=1
				break
			fi
			sleep 0.1
		done
		if ((ok)); then
			break
		fi
		if ((dead)) && grep -qi 'address already in use' "$log" 2>/dev/null && ((attempt < 5)); then
			port=$((port + 1))
			continue
		fi
		if ((!dead)); then
			cat "$root/check.log" >>"$log" 2>/dev/null || true
		fi
		start_failed MariaDB "${cmd[*]}" "$log" \
			"read the log above; a stale server may hold the port (try another with MIGRATE_TEST_MYSQL_PORT)"
		return 1
	done
	printf 'mysql://%s:%s@127.0.0.1:%s/%s\n' "$DB_USER" "$DB_PASSWORD" "$port" "$DB_NAME" \
		>"$dir/mysql.url"
}

stop_mysql() {
	local dir=$1 root=$1/my pid f
	for f in "$root/mysqld.pid" "$root/launch.pid"; do
		[[ -f $f ]] || continue
		pid=$(<"$f")
		# Only a server whose command line names this directory.
		pid_is "$pid" "$root/data" || continue
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_exit "$pid" 30; then
			kill -KILL "$pid" 2>/dev/null || true
			wait_exit "$pid" 5 || printf '%s: warning: MariaDB pid %s did not exit\n' "$prog" "$pid" >&2
		fi
	done
	rm -f -- "$root/launch.pid"
}

# --- MariaDB Galera, three nodes on loopback --------------------------------

readonly GALERA_NODES=3
readonly GALERA_WAIT_SECONDS=120
# As root the nodes run as this user: the rsync daemon of a state transfer,
# started as root, would write as 'nobody'.
readonly GALERA_USER=mysql

galera_provider() {
	local p
	for p in "${GALERA_PROVIDER:-}" /usr/lib/galera/libgalera_smm.so /usr/lib/libgalera_smm.so; do
		if [[ -n $p && -f $p ]]; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

# galera_sql N SQL: run SQL on node N as root over its socket, print the rows.
galera_sql() {
	local root=$1/galera/node$2
	"$(mariadb_client)" --no-defaults --connect-timeout=2 -S "$root/mysqld.sock" -u root \
		-N -B -e "$3" 2>>"$root/check.log"
}

# galera_status N VAR: the value of a wsrep status variable on node N.
galera_status() {
	galera_sql "$1" "$2" "SHOW GLOBAL STATUS LIKE '$3'" | cut -f2
}

# Start node N and wait until it is Synced in a cluster of N nodes.
start_galera_node() {
	local dir=$1 n=$2 root=$1/galera/node$2 server provider cluster pid i dead=0
	server=$(mariadb_server)
	provider=$(galera_provider)
	cluster=$(<"$dir/galera/cluster")
	local ports # client gcomm ist sst
	read -ra ports <"$root/ports"
	local userarg=()
	((EUID == 0)) && userarg=(--user="$GALERA_USER")
	local cmd=("$server" --no-defaults --datadir="$root/data"
		--socket="$root/mysqld.sock" --pid-file="$root/mysqld.pid"
		--port="${ports[0]}" --bind-address=127.0.0.1 "${userarg[@]}"
		--tmpdir="$root/tmp" --log-error="$root/server.log"
		--innodb-buffer-pool-size=32M --innodb-log-file-size=16M
		--innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0
		--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
		--skip-name-resolve --binlog-format=ROW --innodb-autoinc-lock-mode=2
		--default-storage-engine=InnoDB
		--wsrep-on=ON --wsrep-provider="$provider"
		--wsrep-cluster-name=migrate_test --wsrep-cluster-address="gcomm://$cluster"
		--wsrep-node-name="node$n" --wsrep-node-address=127.0.0.1
		--wsrep-node-incoming-address="127.0.0.1:${ports[0]}"
		--wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:${ports[3]}"
		--wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:${ports[1]};ist.recv_addr=127.0.0.1:${ports[2]};gcache.size=32M;evs.suspect_timeout=PT5S;evs.inactive_timeout=PT10S;evs.install_timeout=PT7S")
	((n == 1)) && cmd+=(--wsrep-new-cluster)
	printf '%s\n' "${cmd[*]}" >"$root/command"
	setsid "${cmd[@]}" </dev/null >>"$root/stdout.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$root/launch.pid"
	for ((i = 0; i < GALERA_WAIT_SECONDS * 10; i++)); do
		if pid_gone "$pid"; then
			dead=1
			break
		fi
		if [[ $(galera_status "$dir" "$n" wsrep_local_state_comment) == Synced &&
			$(galera_status "$dir" "$n" wsrep_cluster_size) == "$n" ]]; then
			return 0
		fi
		sleep 0.2
	done
	((dead)) || cat "$root/check.log" >>"$root/server.log" 2>/dev/null || true
	start_failed "MariaDB Galera node $n" "${cmd[*]}" "$root/server.log" \
		"read the log above (the other nodes' logs are in $dir/galera); a stale server may hold a port (try another start with MIGRATE_TEST_GALERA_PORT)"
	return 1
}

# One attempt at the cluster from port $2 on.
galera_try() {
	local dir=$1 base=$1/galera installdb n k port=$2 addrs=()
	local fix_install="install MariaDB Galera: scripts/install-deps.sh test (Debian packages galera-4 mariadb-server rsync)"
	if ! mariadb_server >/dev/null || ! galera_provider >/dev/null || ! command -v rsync >/dev/null 2>&1; then
		start_failed "MariaDB Galera" mariadbd /dev/null "$fix_install"
		return 1
	fi
	installdb=$(command -v mariadb-install-db || command -v mysql_install_db || true)
	if [[ -z $installdb ]] || ! mariadb_client >/dev/null; then
		start_failed "MariaDB Galera" mariadb-install-db /dev/null "$fix_install"
		return 1
	fi
	if ((EUID == 0)) && ! id "$GALERA_USER" >/dev/null 2>&1; then
		start_failed "MariaDB Galera" "--user=$GALERA_USER" /dev/null \
			"as root the nodes run as the '$GALERA_USER' user (the rsync state transfer daemon drops root to 'nobody' otherwise): install mariadb-server, which creates it, or run the tests as a normal user"
		return 1
	fi
	mkdir -p "$base"
	chmod 0755 "$base"
	# Four ports a node, each one searched: client, group communication,
	# incremental state transfer, full state transfer (rsync).
	for ((n = 1; n <= GALERA_NODES; n++)); do
		local ports=()
		for ((k = 0; k < 4; k++)); do
			if ! port=$(free_port "$port"); then
				start_failed "MariaDB Galera" "(port search)" /dev/null \
					"no free TCP port on 127.0.0.1 from ${MIGRATE_TEST_GALERA_PORT:-24570} on: set MIGRATE_TEST_GALERA_PORT to another start"
				return 1
			fi
			ports+=("$port")
			port=$((port + 1))
		done
		mkdir -p "$base/node$n/tmp"
		printf '%s\n' "${ports[*]}" >"$base/node$n/ports"
		addrs+=("127.0.0.1:${ports[1]}")
	done
	(IFS=,; printf '%s\n' "${addrs[*]}") >"$base/cluster"
	for ((n = 1; n <= GALERA_NODES; n++)); do
		mkdir -p "$base/node$n/data"
	done
	if ((EUID == 0)); then
		chown -R "$GALERA_USER": "$base"
	fi

	# Node 1 gets the accounts; the others receive its data by state transfer.
	local userarg=()
	((EUID == 0)) && userarg=(--user="$GALERA_USER")
	cat >"$base/init.sql" <<-EOF
		FLUSH PRIVILEGES;
		CREATE USER '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
		CREATE USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
		GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
		GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
		CREATE DATABASE $DB_NAME CHARACTER SET utf8mb4;
	EOF
	local install=("$installdb" --no-defaults --datadir="$base/node1/data" "${userarg[@]}"
		--skip-test-db --extra-file="$base/init.sql" --tmpdir="$base/node1/tmp"
		--innodb-buffer-pool-size=32M --innodb-log-file-size=16M
		--innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0
		--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
		--skip-log-bin --skip-name-resolve)
	if ! "${install[@]}" </dev/null >"$base/install.log" 2>&1; then
		start_failed "MariaDB Galera" "${install[*]}" "$base/install.log" \
			"check that $base is writable and that the disk is not full"
		return 1
	fi
	# Bootstrap node 1, then the joiners one at a time (one donor serves one
	# state transfer at a time).
	for ((n = 1; n <= GALERA_NODES; n++)); do
		start_galera_node "$dir" "$n" || return 1
	done
	local urls=()
	for ((n = 1; n <= GALERA_NODES; n++)); do
		local p
		read -ra p <"$base/node$n/ports"
		urls+=("mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:${p[0]}/$DB_NAME")
	done
	printf '%s\n' "${urls[*]}" >"$dir/galera.urls"
}

# The nodes start one after another, and their connections to each other
# take local ports: a port found free may be taken before its node binds it
# (the default start, 24570, is below Linux's ephemeral range to make that
# rare). A cluster that failed so is stopped and formed again on other ports.
start_galera() {
	local dir=$1 port=${MIGRATE_TEST_GALERA_PORT:-24570} attempt
	for attempt in 1 2 3; do
		if galera_try "$dir" "$port"; then
			return 0
		fi
		stop_galera "$dir"
		if ((attempt == 3)) || ! grep -qs 'Address already in use' "$dir"/galera/node*/server.log; then
			return 1
		fi
		printf '%s: a Galera port was taken before its node bound it: forming the cluster again on other ports\n' "$prog" >&2
		mv -- "$dir/galera" "$dir/galera.failed$attempt"
		port=$((port + 12))
	done
	return 1
}

stop_galera() {
	local dir=$1 n root pid f
	# Joiners first, the bootstrap node last: the cluster shrinks cleanly.
	for ((n = GALERA_NODES; n >= 1; n--)); do
		root=$dir/galera/node$n
		for f in "$root/mysqld.pid" "$root/launch.pid"; do
			[[ -f $f ]] || continue
			pid=$(<"$f")
			pid_is "$pid" "$root/data" || continue
			kill -TERM "$pid" 2>/dev/null || true
			if ! wait_exit "$pid" 30; then
				kill -KILL "$pid" 2>/dev/null || true
				wait_exit "$pid" 5 || printf '%s: warning: Galera node %s pid %s did not exit\n' "$prog" "$n" "$pid" >&2
			fi
		done
		rm -f -- "$root/launch.pid"
	done
}

# --- commands ---------------------------------------------------------------

cmd_start() {
	local dir=$1
	if [[ -e $dir/$MARKER ]]; then
		die "'$dir' already holds servers: run '$prog stop $dir' first"
	fi
	mkdir -p "$dir"
	if [[ -n $(ls -A "$dir") ]]; then
		die "'$dir' is not empty: give a new or empty directory"
	fi
	touch "$dir/$MARKER"
	# The postgres user must be able to reach DIR/pg.
	chmod 0755 "$dir"

	local pg_url=${MIGRATE_TEST_PG_URL:-} my_url=${MIGRATE_TEST_MYSQL_URL:-}
	local pg_pid='' my_rc=0 pg_rc=0

	# The servers start at once: each takes a few seconds, mostly waiting (the
	# cluster longest: its nodes join one after another).
	local galera_urls=${MIGRATE_TEST_GALERA_URLS:-} galera_pid='' galera_rc=0 galera=1
	[[ ${MIGRATE_TEST_GALERA:-} == off && -z $galera_urls ]] && galera=0
	if [[ -z $pg_url ]]; then
		start_pg "$dir" 2>"$dir/pg-start.err" &
		pg_pid=$!
	fi
	if [[ -z $galera_urls ]] && ((galera)); then
		start_galera "$dir" 2>"$dir/galera-start.err" &
		galera_pid=$!
	fi
	if [[ -z $my_url ]]; then
		start_mysql "$dir" || my_rc=$?
	fi
	if [[ -n $pg_pid ]]; then
		wait "$pg_pid" || pg_rc=$?
		cat "$dir/pg-start.err" >&2
	fi
	if [[ -n $galera_pid ]]; then
		wait "$galera_pid" || galera_rc=$?
		cat "$dir/galera-start.err" >&2
	fi
	if ((pg_rc != 0 || my_rc != 0 || galera_rc != 0)); then
		# Leave nothing running; DIR stays for its logs until "stop".
		stop_galera "$dir"
		stop_pg "$dir"
		stop_mysql "$dir"
		die "test servers did not start (details above); '$prog stop $dir' removes '$dir'"
	fi

	[[ -n $pg_url ]] || pg_url=$(<"$dir/pg.url")
	[[ -n $my_url ]] || my_url=$(<"$dir/mysql.url")
	[[ -n $galera_urls ]] || ! ((galera)) || galera_urls=$(<"$dir/galera.urls")
	local bouncer_url=${MIGRATE_TEST_PGBOUNCER_URL:-}
	if [[ -z $bouncer_url ]]; then
		if ! start_pgbouncer "$dir" "$pg_url"; then
			stop_pgbouncer "$dir"
			stop_galera "$dir"
			stop_pg "$dir"
			stop_mysql "$dir"
			die "PgBouncer did not start (details above); '$prog stop $dir' removes '$dir'"
		fi
		bouncer_url=$(<"$dir/pgbouncer.url")
	fi
	{
		printf 'export MIGRATE_TEST_PG_URL=%q\n' "$pg_url"
		printf 'export MIGRATE_TEST_MYSQL_URL=%q\n' "$my_url"
		printf 'export MIGRATE_TEST_PGBOUNCER_URL=%q\n' "$bouncer_url"
		printf 'export MIGRATE_TEST_GALERA_URLS=%q\n' "$galera_urls"
	} >"$dir/env"
	printf '%s: PostgreSQL at %s\n' "$prog" "${pg_url/:$DB_PASSWORD@/:****@}" >&2
	printf '%s: MariaDB at %s\n' "$prog" "${my_url/:$DB_PASSWORD@/:****@}" >&2
	printf '%s: PgBouncer (transaction pooling) at %s\n' "$prog" "${bouncer_url/:$DB_PASSWORD@/:****@}" >&2
	((galera)) && printf '%s: MariaDB Galera cluster at %s\n' "$prog" "${galera_urls//:$DB_PASSWORD@/:****@}" >&2
	return 0
}

cmd_stop() {
	local dir=$1
	[[ -d $dir ]] || return 0
	if [[ ! -e $dir/$MARKER ]]; then
		die "'$dir' was not made by '$prog start': not touching it"
	fi
	stop_galera "$dir"
	stop_pgbouncer "$dir"
	stop_pg "$dir"
	stop_mysql "$dir"
	rm -rf -- "$dir"
}

main() {
	(($# == 2)) || usage
	[[ -n $2 ]] || usage
	local dir
	dir=$(abspath "$2")
	dir=${dir%/}
	[[ -n $dir && $dir != / ]] || die "refusing to use '/' as the server directory"
	case $1 in
	start) cmd_start "$dir" ;;
	stop) cmd_stop "$dir" ;;
	*) usage ;;
	esac
}

main "$@"
