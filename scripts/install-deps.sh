#!/usr/bin/env bash
# Install the Debian packages a job needs, when missing.
#
#   scripts/install-deps.sh [run|test|bench]
#
#   run    (the default) building migrate and running the example on its
#          embedded SQLite default: the compiler and the libraries migrate
#          links. No database server, no test tools. 'make run' uses it.
#   test   everything the whole suite needs besides: the PostgreSQL and
#          MariaDB servers and clients it starts in a temporary directory,
#          the MySQL client library (the mysql driver), Check, clang for the
#          fuzzers, scdoc and groff for the man page. 'make test' uses it.
#   bench  what 'make bench' needs: test's packages (the databases' own
#          clients are the reference it measures against).
#
# Does nothing (and needs no network or root) when everything is installed;
# otherwise refreshes the package lists once and installs what is missing,
# without recommends. Written for a plain Debian 12 (bookworm) machine.
# Installing postgresql or mariadb-server may start their system services:
# harmless, the tests start servers of their own (tests/servers.sh).

set -euo pipefail

prog=${0##*/}
job=${1:-run}

run_packages=(
	build-essential            # gcc, make
	pkg-config
	libsqlite3-dev             # the sqlite driver
	libiniparser-dev           # config.ini
	nettle-dev                 # SHA-256 checksums
	uuid-dev                   # ${uuid:KEY}
	libjansson-dev             # --format json
	libcsv-dev                 # CSV seeds
)

test_packages=(
	"${run_packages[@]}"
	sqlite3                    # the reference client
	libpq-dev postgresql postgresql-client
	mariadb-server mariadb-client default-libmysqlclient-dev
	pgbouncer                  # tests/servers.sh: transaction pooling in front of PostgreSQL
	galera-4 rsync             # tests/servers.sh: a 3-node MariaDB Galera cluster, rsync state transfer
	check                      # the unit and integration suites
	clang libclang-rt-dev      # the fuzzers: libFuzzer and the sanitizer runtimes
	scdoc                      # the man page (make doc, make install)
	groff-base                 # tests/install.sh renders the installed man page
	iproute2                   # ss: tests/servers.sh looks for free ports
)

case $job in
run) packages=("${run_packages[@]}") ;;
test | bench) packages=("${test_packages[@]}") ;;
-h | --help)
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	printf '%s: error: unknown job '\''%s'\'': use run, test or bench\n' "$prog" "$job" >&2
	exit 2
	;;
esac

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	if [[ $status != installed ]]; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

printf '%s: installing for %s: %s\n' "$prog" "$job" "${missing[*]}"

sudo=()
if ((EUID != 0)); then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		printf '%s: error: not root and no sudo: install as root: apt-get install %s\n' \
			"$prog" "${missing[*]}" >&2
		exit 1
	fi
fi

"${sudo[@]}" apt-get -q update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get -q install -y --no-install-recommends "${missing[@]}" </dev/null
