#!/usr/bin/env bash
# Install the Debian packages migrate needs to build and test, when missing.
#
#   scripts/install-deps.sh
#
# Does nothing (and needs no network or root) when everything is installed;
# otherwise refreshes the package lists once and installs what is missing.
# Written for Debian 12; the PostgreSQL server is version 15 there.
# Installing postgresql or mariadb-server may start their system services:
# harmless, the tests start servers of their own (tests/servers.sh).

set -euo pipefail

packages=(
	build-essential            # gcc, make
	pkg-config
	libsqlite3-dev sqlite3
	libpq-dev postgresql postgresql-client
	mariadb-server mariadb-client default-libmysqlclient-dev
	libiniparser-dev
	check
	nettle-dev
	uuid-dev
	libjansson-dev
	libcsv-dev
	clang                      # fuzzing
	scdoc                      # the man page (make install)
)

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

printf 'install-deps: installing %s\n' "${missing[*]}"

sudo=()
if ((EUID != 0)); then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		printf 'install-deps: error: not root and no sudo: install as root: apt-get install %s\n' \
			"${missing[*]}" >&2
		exit 1
	fi
fi

"${sudo[@]}" apt-get -q update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get -q install -y --no-install-recommends "${missing[@]}" </dev/null
