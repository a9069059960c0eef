#!/bin/sh
# Writes a large CSV data set for the example's tables, for benchmarks:
#
#   scripts/gen-seed-data.sh DIR [N] [--no-addresses]
#
#   DIR/01_customers.csv   N customers: uuid,firstname,lastname,age
#   DIR/02_addresses.csv   N addresses, one per customer: street,phone,fk_customerid
#
# N defaults to 100000. The UUIDs are fixed (made from the row number, in
# the v4 layout), so two runs write the same bytes and the addresses link
# to their customers. The files are CSV seeds: point --seeds-dir at DIR
# (after 'migrate up' of the example's migrations) to load them, or give
# them to psql \copy, sqlite3 .import or LOAD DATA LOCAL INFILE.
# A quarter of the names are quoted with a comma inside, a tenth of the
# ages are NULL (an empty field), so the loaders parse real CSV.
# Not committed: 100,000 pairs are about 11 MB, 1,000,000 about 110 MB.
set -eu

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
	echo "usage: $0 DIR [N] [--no-addresses]" >&2
	exit 2
fi
dir=$1
n=${2:-100000}
addresses=1
[ "${3:-}" = "--no-addresses" ] && addresses=0
case $n in
'' | *[!0-9]*) echo "$0: N must be a number, not '$n'" >&2; exit 2 ;;
esac
mkdir -p "$dir"

awk -v n="$n" -v dir="$dir" -v addresses="$addresses" 'BEGIN {
	split("Jack Mary Peter Amos Craig Laura Ada Linus Grace Ken", first, " ")
	split("Davis Taylor Thomas Nelson White Lewis Lovelace Torvalds Hopper Thompson", last, " ")
	split("W NORMA ST|SW 8TH AVE|N MAIN ST|E ELM AVE|S PARK RD|W LAKE DR", street, "|")
	c = dir "/01_customers.csv"
	a = dir "/02_addresses.csv"
	print "uuid,firstname,lastname,age" > c
	if (addresses)
		print "street,phone,fk_customerid" > a
	for (i = 1; i <= n; i++) {
		u = sprintf("%08x-%04x-4%03x-8%03x-%012x", i, i % 65536, i % 4096, (i * 7) % 4096, i * 2654435761 % 281474976710656)
		f = first[i % 10 + 1]
		l = last[int(i / 10) % 10 + 1]
		if (i % 4 == 0)
			l = "\"" l ", Jr.\""
		age = (i % 10 == 0) ? "" : 18 + i % 70
		print u "," f "," l "," age > c
		if (addresses)
			printf "\"%d %s\",(%03d) %03d-%04d,%s\n", i, street[i % 6 + 1], 200 + i % 800, i % 1000, i % 10000, u > a
	}
}'
[ "$addresses" = 1 ] && what="customers and $n addresses" || what=customers
echo "wrote $n $what to $dir" >&2
