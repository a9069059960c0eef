#!/usr/bin/env bash
# Runs every libFuzzer target in FUZZ_DIR for SECONDS each:
#
#   fuzz/run.sh FUZZ_DIR SECONDS
#
# Each target first replays its whole corpus in fuzz/corpus/<target>/ (the
# seeds and every input that once crashed it, kept as regression tests),
# then mutates for SECONDS. New interesting inputs go to a scratch
# directory, never into the repository. A crash, leak, timeout or
# sanitizer report fails the run; the input that caused it is saved as
# FUZZ_DIR/crash-<target>-* for a new corpus file and a fix.
set -euo pipefail

if (($# != 2)); then
	printf 'usage: %s FUZZ_DIR SECONDS\n' "${0##*/}" >&2
	exit 2
fi
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzz_dir=$(cd "$1" && pwd)
seconds=$2
failed=0

for bin in "$fuzz_dir"/fuzz_*; do
	[[ -x $bin && -f $bin ]] || continue
	name=${bin##*/}
	corpus=$src_dir/fuzz/corpus/$name
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
	printf '=== fuzz: %s for %s s ===\n' "$name" "$seconds"
	# -timeout: one input may take 10 s at most; -rss_limit_mb: no runaway memory
	if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$fuzz_dir/crash-$name-" "$scratch" "$corpus" > "$fuzz_dir/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fuzz_dir/$name.log")
		printf '=== fuzz: %s: passed, %s executions ===\n' "$name" "${runs:-?}"
	else
		failed=1
		tail -n 60 "$fuzz_dir/$name.log"
		printf '=== fuzz: %s: FAILED (see %s/%s.log and %s/crash-%s-*) ===\n' "$name" "$fuzz_dir" "$name" "$fuzz_dir" "$name"
	fi
	rm -rf "$scratch"
done
exit "$failed"
