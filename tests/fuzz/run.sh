#!/usr/bin/env bash
# Build and run the libFuzzer targets of tests/fuzz (see README.md there).
#
#   bash tests/fuzz/run.sh [--seconds N] [--smoke] [TARGET...]
#
# Builds them (make fuzz-build: clang, ASan+UBSan, into build-fuzz/), then
# runs each TARGET (default: all of them) for N seconds (default 60), one
# after the other, on its committed seed corpus tests/fuzz/corpus/TARGET.
# New inputs go to build-fuzz/corpus/TARGET, which later runs reuse
# (--smoke: to a temporary directory, thrown away). One line per target in
# the tests/run.sh protocol:
#   PASS fuzz/TARGET: N runs in S s, corpus C, no crash
#   FAIL fuzz/TARGET: <the sanitizer's or libFuzzer's first error line>; reproduce: BIN ARTIFACT
#   SKIP fuzz: <clang or the libFuzzer runtime is missing>
# Exit 1 if a target failed or the build failed; 0 otherwise (SKIP included).
# Crash inputs are kept in build-fuzz/artifacts/.

set -u

SECONDS_EACH=60 SMOKE=0 TARGETS=()
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_EACH=$2; shift 2 ;;
	--smoke) SMOKE=1; shift ;;
	-h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "usage: bash tests/fuzz/run.sh [--seconds N] [--smoke] [TARGET...]" >&2; exit 2 ;;
	*) TARGETS+=("$1"); shift ;;
	esac
done
case $SECONDS_EACH in
'' | *[!0-9]*) echo "tests/fuzz/run.sh: --seconds needs a number of seconds" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
CC_FUZZ=${FUZZ_CC:-clang}
OUT=build-fuzz
ALL=$(sed -n '/^FUZZ_TARGETS :=/,/^$/p' Makefile | tr -s ' \t\\' '\n' | grep '^fuzz_')
[ ${#TARGETS[@]} -eq 0 ] && read -r -d '' -a TARGETS <<<"$ALL"

# Longest input per target: a few pages of core or snapshot, short strings.
max_len() {
	case $1 in
	fuzz_memory | fuzz_json) echo 4096 ;;
	fuzz_notes) echo 16384 ;;
	*) echo 65536 ;;
	esac
}

# -- can this machine build libFuzzer targets? --------------------------------
if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "SKIP fuzz: $CC_FUZZ is not installed (sh tests/deps.sh all installs clang and libclang-rt-14-dev on Debian bookworm)"
	exit 0
fi
probe=$(mktemp -d "${TMPDIR:-/tmp}/pha-fuzz-probe.XXXXXX") || exit 1
trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
if ! "$CC_FUZZ" -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" >"$probe/log" 2>&1; then
	echo "SKIP fuzz: $CC_FUZZ cannot link a libFuzzer target ($(head -c 160 "$probe/log" | tr '\n' ' ')); on Debian bookworm: apt-get install libclang-rt-14-dev"
	exit 0
fi

# -- build --------------------------------------------------------------------
if ! make --no-print-directory -s fuzz-build FUZZ_CC="$CC_FUZZ" >"$probe/build.log" 2>&1; then
	echo "FAIL fuzz/build: make fuzz-build failed: $(grep -m1 -E 'error|Error' "$probe/build.log" | head -c 300)"
	exit 1
fi

# -- run ----------------------------------------------------------------------
failed=0
mkdir -p "$OUT/artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
for t in "${TARGETS[@]}"; do
	bin=$OUT/tests/fuzz/$t
	seeds=tests/fuzz/corpus/$t
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz/$t: $bin was not built"
		failed=1
		continue
	fi
	if [ "$SMOKE" = 1 ]; then
		work=$probe/corpus-$t
	else
		work=$OUT/corpus/$t
	fi
	mkdir -p "$work"
	log=$OUT/$t.log
	# libFuzzer's -timeout: one input running longer is a "hang" failure.
	timeout -k 10 $((SECONDS_EACH + 120)) "$bin" -max_total_time="$SECONDS_EACH" -timeout=20 \
		-rss_limit_mb=3072 -max_len="$(max_len "$t")" -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts/$t-" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	corpus=$(find "$work" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "PASS fuzz/$t: ${runs:-?} runs in ${SECONDS_EACH} s (${secs:-?}/s), corpus $corpus, no crash"
	else
		failed=1
		why=$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY:' "$log" | head -c 300)
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		[ "$rc" -eq 124 ] && why="did not stop after $((SECONDS_EACH + 120)) s"
		echo "FAIL fuzz/$t: ${why:-exit $rc} (after ${runs:-?} runs; log $log); reproduce: $bin ${art:-<no artifact>}"
	fi
done
exit "$failed"
