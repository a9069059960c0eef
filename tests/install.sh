#!/usr/bin/env bash
# Installs migrate the way a user or a packager does, and uses the result:
#
#   tests/install.sh
#
# 1. 'make install DESTDIR=$tmp/stage PREFIX=/usr' (a packager's staging
#    install): every file is where it belongs, the binary runs, the man page
#    renders, the completion loads, migrate.h compiles on its own in C and
#    C++, and 'make uninstall' with the same variables removes it all.
# 2. 'make install PREFIX=$tmp/prefix': examples/embed.c, copied out of the
#    tree, is built by its own Makefile against the installed library through
#    pkg-config (PKG_CONFIG_PATH), then migrates a SQLite database: exit 0 and
#    the table exists; a second run applies nothing; a broken migration exits
#    non-zero with the message.
#
# Builds into its own temporary directory (a plain build, whatever the caller's
# make variables), so it never disturbs the build under test. Prints one line
# per check and ends with "N checks ok, N failed"; exit 0 only when none failed.

set -uo pipefail

prog=${0##*/}
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/migrate-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
log=$tmp/log

ok() {
	printf 'ok     %s\n' "$1"
	passed=$((passed + 1))
}

# not_ok WHAT [FILE]: a failed check, with the tail of FILE (a command's output).
not_ok() {
	printf 'FAILED %s\n' "$1"
	if [[ -n ${2:-} && -s $2 ]]; then
		sed 's/^/       | /' "$2" | tail -n 25
	fi
	failed=$((failed + 1))
}

# check WHAT CMD...: runs CMD with its output in $log; passes when it exits 0.
check() {
	local what=$1
	shift
	if "$@" >"$log" 2>&1; then
		ok "$what"
	else
		not_ok "$what (exit $?)" "$log"
	fi
}

finish() {
	printf '%s: %d checks ok, %d failed\n' "$prog" "$passed" "$failed"
	((failed == 0))
	exit
}

# make, without the caller's make variables (make check SANITIZE=... passes
# them down, through MAKEFLAGS and the environment): a user's plain build.
umake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u BUILD -u PREFIX -u DESTDIR \
		make --no-print-directory -C "$src_dir" BUILD="$tmp/build" "$@"
}

version=$(sed -n 's/^#define MIGRATE_VERSION "\(.*\)"/\1/p' "$src_dir/migrate/migrate.h")
stage=$tmp/stage
files=(bin/migrate lib/libmigrate.a include/migrate.h lib/pkgconfig/migrate.pc
	share/man/man1/migrate.1 share/bash-completion/completions/migrate)

# ---- 1. a staging install: DESTDIR and PREFIX=/usr ----------------------------------

if ! umake -j"$(nproc 2>/dev/null || echo 2)" install DESTDIR="$stage" PREFIX=/usr >"$log" 2>&1; then
	not_ok "make install DESTDIR=... PREFIX=/usr" "$log"
	finish
fi
ok "make install DESTDIR=... PREFIX=/usr"

for f in "${files[@]}"; do
	if [[ -f $stage/usr/$f ]]; then
		ok "installed $f"
	else
		not_ok "installed $f: missing"
	fi
done
check "bin/migrate is executable" test -x "$stage/usr/bin/migrate"
check "no file outside DESTDIR/usr" \
	bash -c '[[ -z $(find "$1" -mindepth 1 -maxdepth 1 ! -name usr) ]]' _ "$stage"

out=$("$stage/usr/bin/migrate" --version 2>&1)
if [[ $out == "migrate $version" ]]; then
	ok "migrate --version prints 'migrate $version'"
else
	not_ok "migrate --version printed '$out', expected 'migrate $version'"
fi

pc=$stage/usr/lib/pkgconfig/migrate.pc
check "migrate.pc names prefix=/usr" grep -qx 'prefix=/usr' "$pc"
check "migrate.pc has version $version" grep -qx "Version: $version" "$pc"
check "migrate.pc Requires.private sqlite3" grep -q '^Requires.private:.*sqlite3' "$pc"
check "migrate.pc Libs.private -liniparser" grep -q '^Libs.private:.*-liniparser' "$pc"

# The man page renders without warnings and has its sections.
man_page=$stage/usr/share/man/man1/migrate.1
if command -v man >/dev/null; then
	MANWIDTH=80 man --warnings -l "$man_page" >"$tmp/man.txt" 2>"$log"
else
	# -P-bcu: plain text, neither overstrike nor SGR bold and underline
	groff -man -Tutf8 -ww -P-bcu "$man_page" >"$tmp/man.txt" 2>"$log"
fi
if [[ ! -s $log ]] && grep -q '^NAME' "$tmp/man.txt"; then
	ok "the man page renders without warnings"
else
	not_ok "the man page renders without warnings" "$log"
fi
for section in SYNOPSIS 'GLOBAL OPTIONS' COMMANDS CONFIGURATION 'MIGRATION FILES' 'EXIT STATUS' ENVIRONMENT; do
	check "the man page has $section" grep -q "^$section" "$tmp/man.txt"
done
# Every command of the built binary is in the man page.
for cmd in $("$stage/usr/bin/migrate" help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'); do
	check "the man page documents '$cmd'" grep -Eq "^       $cmd( |$)" "$tmp/man.txt"
done

check "the completion loads and completes migrate" \
	bash -c 'source "$1" && complete -p migrate | grep -q _migrate' _ "$stage/usr/share/bash-completion/completions/migrate"
check "the completion offers commands" \
	bash -c 'source "$1"; COMP_WORDS=("$2" s); COMP_CWORD=1; _migrate; [[ " ${COMPREPLY[*]} " == *" status "* ]]' \
	_ "$stage/usr/share/bash-completion/completions/migrate" "$stage/usr/bin/migrate"

printf '[migrate]\nlock_timeout = 5\n[development] ; the default\ndriver = sqlite\n[ci]\nurl = sqlite::memory:\n' \
	>"$tmp/comp.ini"
check "the completion offers --env from the config file's sections" \
	bash -c 'source "$1"; COMP_WORDS=("$2" -c "$3" --env ""); COMP_CWORD=4; _migrate
		[[ " ${COMPREPLY[*]} " == " development ci " ]]' \
	_ "$stage/usr/share/bash-completion/completions/migrate" "$stage/usr/bin/migrate" "$tmp/comp.ini"
check "the completion offers a command's own options" \
	bash -c 'source "$1"; COMP_WORDS=("$2" up --out); COMP_CWORD=2; _migrate
		[[ " ${COMPREPLY[*]} " == " --out-of-order " ]]' \
	_ "$stage/usr/share/bash-completion/completions/migrate" "$stage/usr/bin/migrate"

# The installed header stands alone: only -I to the installed include directory.
printf '#include <migrate.h>\nint main(void) { struct migrate_options o = MIGRATE_OPTIONS_INIT; (void)o; return 0; }\n' \
	>"$tmp/hdr.c"
cp "$tmp/hdr.c" "$tmp/hdr.cpp"
check "migrate.h compiles alone in C" \
	cc -std=c99 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$stage/usr/include" "$tmp/hdr.c"
if command -v c++ >/dev/null; then
	check "migrate.h compiles alone in C++" \
		c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$stage/usr/include" "$tmp/hdr.cpp"
else
	not_ok "migrate.h compiles alone in C++: no c++ compiler (apt-get install g++)"
fi

check "make uninstall DESTDIR=... PREFIX=/usr" umake uninstall DESTDIR="$stage" PREFIX=/usr
left=$(find "$stage" -type f 2>/dev/null)
if [[ -z $left ]]; then
	ok "make uninstall removes every installed file"
else
	printf '%s\n' "$left" >"$log"
	not_ok "make uninstall left files behind" "$log"
fi

# ---- 2. an install under PREFIX, used through pkg-config -------------------------

prefix=$tmp/prefix
if ! umake install PREFIX="$prefix" >"$log" 2>&1; then
	not_ok "make install PREFIX=..." "$log"
	finish
fi
ok "make install PREFIX=..."

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
check "pkg-config finds the installed migrate.pc" \
	bash -c '[[ $(pkg-config --variable=prefix migrate) == "$1" && $(pkg-config --modversion migrate) == "$2" ]]' \
	_ "$prefix" "$version"

ex=$tmp/example
mkdir -p "$ex"
cp "$src_dir/examples/embed.c" "$src_dir/examples/harness.c" "$src_dir/examples/Makefile" "$ex/"
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE make --no-print-directory -C "$ex" >"$log" 2>&1; then
	not_ok "examples/ builds against the installed library with pkg-config" "$log"
	finish
fi
ok "examples/ builds against the installed library with pkg-config"

run=$tmp/run
mkdir -p "$run/migrations"
cat >"$run/migrations/1_widgets.sql" <<'EOF'
-- migrate:up
CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL);

-- migrate:down
DROP TABLE widgets;
EOF
db=$run/app.db
first=$tmp/first-run.out
if "$ex/embed" "sqlite:$db" "$run/migrations" >"$first" 2>&1; then
	ok "embed migrates a SQLite database (exit 0)"
else
	not_ok "embed migrates a SQLite database (exit $?)" "$first"
fi
check "embed printed its own progress line" grep -q 'migrated to 1' "$first"
tables=$(sqlite3 "$db" "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name" 2>&1)
if [[ $tables == *widgets* ]]; then
	ok "the table exists afterwards"
else
	printf '%s\n' "$tables" >"$log"
	not_ok "the table exists afterwards" "$log"
fi

if "$ex/embed" "sqlite:$db" "$run/migrations" >"$log" 2>&1 && ! grep -q 'migrated to' "$log" &&
	[[ $(sqlite3 "$db" 'SELECT count(*) FROM schema_migrations') == 1 ]]; then
	ok "a second run applies nothing"
else
	not_ok "a second run applies nothing" "$log"
fi

printf -- '-- migrate:up\nCREATE TABLE broken (;\n' >"$run/migrations/2_broken.sql"
if "$ex/embed" "sqlite:$db" "$run/migrations" >"$log" 2>&1; then
	not_ok "embed exits non-zero on a failing migration (it exited 0)" "$log"
elif grep -q '^embed: cannot migrate the database: .*2_broken.sql' "$log"; then
	ok "embed exits non-zero on a failing migration, with the message"
else
	not_ok "embed exits non-zero on a failing migration, with the message" "$log"
fi

# examples/harness.c: one database per test through migrate_testdb(), each
# at the current version, each a file of its own, none left afterwards.
hp=$tmp/harness-project
mkdir -p "$hp/migrations"
cp "$run/migrations/1_widgets.sql" "$hp/migrations/"
printf '[development]\ndriver = sqlite\ndatabase = dev.db\n' >"$hp/config.ini"
if "$ex/harness" "$hp/config.ini" 3 >"$log" 2>&1; then
	ok "harness runs 3 tests, each on a database of its own (exit 0)"
else
	not_ok "harness runs 3 tests, each on a database of its own (exit $?)" "$log"
fi
if [[ $(grep -c 'at version 1 ' "$log") == 3 &&
	$(grep -o 'migrate_test_[0-9a-f]*_[0-9]*' "$log" | sort -u | wc -l) == 3 ]]; then
	ok "harness: three distinct databases, each at version 1"
else
	not_ok "harness: three distinct databases, each at version 1" "$log"
fi
if [[ -z $(find "$hp" -maxdepth 1 -name 'migrate_test_*' ! -name 'migrate_test_tpl_*') ]]; then
	ok "harness: every test database is dropped afterwards"
else
	find "$hp" -maxdepth 1 >"$log"
	not_ok "harness: every test database is dropped afterwards" "$log"
fi

out=$("$prefix/bin/migrate" --version 2>&1)
if [[ $out == "migrate $version" ]]; then
	ok "the installed migrate --version under PREFIX"
else
	not_ok "the installed migrate --version under PREFIX printed '$out'"
fi

check "make uninstall PREFIX=..." umake uninstall PREFIX="$prefix"
left=$(find "$prefix" -type f 2>/dev/null)
if [[ -z $left ]]; then
	ok "make uninstall under PREFIX removes every installed file"
else
	printf '%s\n' "$left" >"$log"
	not_ok "make uninstall under PREFIX left files behind" "$log"
fi

finish
