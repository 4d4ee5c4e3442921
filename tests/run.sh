#!/usr/bin/env bash
# The whole test suite, one summary line.
#
#   bash tests/run.sh --bin BIN --unit DIR [--asan-bin BIN2 --asan-unit DIR2]
#       [--tsan-bin BIN3] [--ci]
#
# 1. every unit test binary DIR/test_* (those the Makefile's UNIT_TESTS and
#    tests/unit/test_*.c promise; a missing one is a FAIL);
# 2. tests/provision.sh: the interpreter matrix (pyenv, system, Debian
#    bullseye/trixie/sid interpreters unpacked into the cache; cached between
#    runs; what cannot be obtained is a SKIP of run_e2e.py);
# 3. tests/layout/check_layouts.sh (layout tables against every interpreter's
#    headers, the provisioned ones included);
# 4. tests/e2e/run_e2e.py --bin BIN   (every interpreter of the matrix, real
#    cores; versions the tool does not support yet are SKIPs), which writes
#    CACHE/e2e-results.json for tests/supported_versions.py;
# 5. tests/e2e/bad_input.py --bin BIN (bad input, usage errors);
#    tests/e2e/run_snapshot.py --bin BIN (heap snapshots);
#    tests/e2e/run_labels.py --bin BIN (labelled roots, frame locals, edge
#    labels and previews of the layout, through --dump-why);
#    tests/e2e/run_why.py --bin BIN (report/2: retained sizes, paths, suspects);
#    tests/e2e/run_real.py --bin BIN (real applications under Debian's
#    python3.11 and its numpy/lxml/Flask/SQLAlchemy/Django/aiohttp packages,
#    exact against the interpreter's own numbers);
#    tests/e2e/run_memory.py --bin BIN (issue 10: the memory section against
#    RssAnon, mallinfo2() and sys._debugmallocstats() of the dumped process);
#    tests/e2e/run_hostile.py --bin BIN (issue 11: corrupted words of real
#    cores end in bounded time with one warning; outputs naming an input);
#    tests/e2e/run_tracemalloc.py --bin BIN (issue 15: the allocations
#    section against tracemalloc's own statistics in a forked child);
#    tests/e2e/run_malloc.py --bin BIN (issue 10: glibc malloc's arenas,
#    chunks, tcache and mmapped chunks exact against mallinfo2, bookworm's,
#    trixie's and sid's glibc; corrupted chunk headers);
#    tests/e2e/run_pymalloc.py --bin BIN (issue 10: memory.pymalloc against
#    sys._debugmallocstats() of the dumped process, corrupted pools);
#    tests/e2e/run_ticket.py --bin BIN (issue 13: Markdown, HTML rendered
#    by headless chromium, .heapsnapshot loaded by DevTools' own loader;
#    every format rendered from the saved .json.zst byte-identical to the
#    core's, malformed saved reports);
#    tests/e2e/run_diff.py --bin BIN (issue 14: `diff` on two gcores of one
#    process: exact per-type deltas, the growing dict by path and address,
#    thresholds and exit codes, reports as inputs, usage errors);
# 5b. tests/fuzz/run.sh --smoke: every libFuzzer target of tests/fuzz for
#    PYHEAP_FUZZ_SECONDS (default 5) seconds under ASan+UBSan, built with
#    clang into build-fuzz/ ("SKIP fuzz: ..." without clang or libFuzzer);
# 6. with --asan-*: the unit tests in DIR2, bad_input.py, run_e2e.py --quick
#    (and the other runners' --quick, run_ticket.py --reread-only) with the
#    ASan+UBSan binary; their case names get the prefix "asan/";
# 6b. with --tsan-bin: runners that exercise the report's second thread
#    (waste beside the unreachable set, the memory section beside the cycle
#    search: analyzer/report.c) with the ThreadSanitizer binary, which exits
#    66 on any data race: run_memory.py on numpy and lxml, run_e2e.py
#    --quick, run_hostile.py --quick; prefix "tsan/";
# 7. the matrix rule: how many distinct minor versions (3.X) passed their
#    end-to-end scenarios.  Under CI (CI=true or --ci) fewer than
#    PYHEAP_MIN_MINORS (default 6) is a FAIL line; locally it is a warning
#    unless PYHEAP_MIN_MINORS is set (0 turns the rule off).
#
# Environment: PYHEAP_FUZZ_SECONDS (fuzz smoke, per target), PYHEAP_CACHE_DIR (provisioning cache, default
# ${XDG_CACHE_HOME:-~/.cache}/pyheap-analyze), PYHEAP_PROVISION=0 (do not run
# tests/provision.sh; use its last manifest), PYHEAP_PROVISION_OFFLINE=1 (no
# network: only what is cached), PYHEAP_MIN_MINORS, CI.
#
# Every PASS/FAIL/SKIP line is echoed as it comes; then the skipped cases with
# their reasons, the failed ones, and exactly one last line
# "N passed, N failed, N skipped".  Exit 1 if anything failed or nothing passed.
# Cores are generated once into a temporary directory shared by all runners.

set -u

usage() {
	echo "usage: bash tests/run.sh --bin BIN --unit DIR [--asan-bin BIN --asan-unit DIR] [--tsan-bin BIN] [--ci]" >&2
	exit 2
}

BIN="" UNIT="" ASAN_BIN="" ASAN_UNIT="" TSAN_BIN="" CI_MODE=0
[ "${CI:-}" = true ] && CI_MODE=1
# The number of distinct minor versions CI requires (the issue's rule).
CI_MIN_MINORS_DEFAULT=6
while [ $# -gt 0 ]; do
	case $1 in
	--ci) CI_MODE=1; shift ;;
	--bin) [ $# -ge 2 ] || usage; BIN=$2; shift 2 ;;
	--unit) [ $# -ge 2 ] || usage; UNIT=$2; shift 2 ;;
	--asan-bin) [ $# -ge 2 ] || usage; ASAN_BIN=$2; shift 2 ;;
	--asan-unit) [ $# -ge 2 ] || usage; ASAN_UNIT=$2; shift 2 ;;
	--tsan-bin) [ $# -ge 2 ] || usage; TSAN_BIN=$2; shift 2 ;;
	*) usage ;;
	esac
done
[ -n "$BIN" ] && [ -n "$UNIT" ] || usage
if { [ -n "$ASAN_BIN" ] && [ -z "$ASAN_UNIT" ]; } || { [ -z "$ASAN_BIN" ] && [ -n "$ASAN_UNIT" ]; }; then
	usage
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
BIN=$(abs "$BIN")
UNIT=$(abs "$UNIT")
[ -n "$ASAN_BIN" ] && ASAN_BIN=$(abs "$ASAN_BIN") && ASAN_UNIT=$(abs "$ASAN_UNIT")
[ -n "$TSAN_BIN" ] && TSAN_BIN=$(abs "$TSAN_BIN")
cd "$ROOT" || exit 1

RESULTS=$(mktemp "${TMPDIR:-/tmp}/pyheap-results.XXXXXX") || exit 1
CACHE=$(mktemp -d "${TMPDIR:-/tmp}/pyheap-cores.XXXXXX") || exit 1
trap 'rm -rf "$CACHE" "$RESULTS"' EXIT
export PYTHONDONTWRITEBYTECODE=1
PYHEAP_CACHE_DIR=${PYHEAP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pyheap-analyze}
export PYHEAP_CACHE_DIR
E2E_RESULTS=$PYHEAP_CACHE_DIR/e2e-results.json

count() { grep -c "^$1 " "$RESULTS"; }

# result LINE: record and echo one result line.
result() {
	printf '%s\n' "$1" >>"$RESULTS"
	printf '%s\n' "$1"
}

# stream PREFIX CMD...: run CMD, echo its output, prefix and record its
# result lines.  Returns CMD's exit status.
stream() {
	local prefix=$1
	shift
	"$@" 2>&1 | while IFS= read -r line; do
		case $line in
		"PASS "* | "FAIL "* | "SKIP "*)
			line="${line%% *} $prefix${line#* }"
			printf '%s\n' "$line" >>"$RESULTS"
			;;
		esac
		printf '%s\n' "$line"
	done
	return "${PIPESTATUS[0]}"
}

# The unit test binaries the tree promises.
unit_names() {
	{
		sed -n 's/^UNIT_TESTS[[:space:]]*:=//p' Makefile | tr -s ' \t' '\n'
		for f in tests/unit/test_*.c; do
			[ -e "$f" ] && basename "$f" .c
		done
	} | grep -E '^test_[A-Za-z0-9_]+$' | sort -u
}

run_units() {   # PREFIX DIR
	local prefix=$1 dir=$2 name bin before fails rc extra
	local names
	names=$(unit_names)
	for extra in "$dir"/test_*; do
		[ -f "$extra" ] && [ -x "$extra" ] || continue
		names=$(printf '%s\n%s\n' "$names" "$(basename "$extra")" | grep . | sort -u)
	done
	if [ -z "$names" ]; then
		result "SKIP ${prefix}unit: no unit tests declared (Makefile UNIT_TESTS, tests/unit/test_*.c)"
		return
	fi
	for name in $names; do
		bin=$dir/$name
		if [ ! -x "$bin" ]; then
			result "FAIL ${prefix}unit/$name: $bin is missing (not built?)"
			continue
		fi
		before=$(wc -l <"$RESULTS")
		stream "$prefix" timeout 600 "$bin"
		rc=$?
		fails=$(tail -n +"$((before + 1))" "$RESULTS" | grep -c '^FAIL ')
		if [ "$rc" -eq 124 ]; then
			result "FAIL ${prefix}unit/$name: timed out after 600 s"
		elif [ "$rc" -gt 128 ]; then
			result "FAIL ${prefix}unit/$name: killed by signal $((rc - 128))"
		elif [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
			result "FAIL ${prefix}unit/$name: exit $rc without a FAIL line"
		elif [ "$(wc -l <"$RESULTS")" -eq "$before" ]; then
			result "FAIL ${prefix}unit/$name: printed no PASS/FAIL/SKIP line"
		fi
	done
}

run_py() {      # PREFIX NAME SCRIPT ARGS...
	local prefix=$1 name=$2 before rc fails
	shift 2
	before=$(wc -l <"$RESULTS")
	stream "$prefix" "$PY" "$@" --cache-dir "$CACHE"
	rc=$?
	fails=$(tail -n +"$((before + 1))" "$RESULTS" | grep -c '^FAIL ')
	if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
		result "FAIL ${prefix}$name: the runner exited with status $rc without a FAIL line"
	elif [ "$(wc -l <"$RESULTS")" -eq "$before" ]; then
		result "FAIL ${prefix}$name: the runner printed no result"
	fi
}

echo "# unit tests ($UNIT)"
run_units "" "$UNIT"
echo "# interpreter matrix (tests/provision.sh, cache $PYHEAP_CACHE_DIR)"
if [ "${PYHEAP_PROVISION:-1}" = 0 ]; then
	echo "# PYHEAP_PROVISION=0: not provisioning; using the last manifest if there is one"
else
	before=$(wc -l <"$RESULTS")
	stream "" bash tests/provision.sh
	rc=$?
	if [ "$rc" -ne 0 ] && ! tail -n +"$((before + 1))" "$RESULTS" | grep -q '^FAIL '; then
		result "FAIL provision: tests/provision.sh exited with status $rc"
	fi
fi
echo "# layout tables against each interpreter's headers"
before=$(wc -l <"$RESULTS")
# PYHEAP_LAYOUT_PREFIXES: extra interpreter prefixes (PREFIX/include/python3.X),
# e.g. Debian packages extracted with dpkg -x (PREFIX = ROOT/usr).
# shellcheck disable=SC2086
stream "" bash tests/layout/check_layouts.sh ${PYHEAP_LAYOUT_PREFIXES:-}
rc=$?
if [ "$rc" -ne 0 ] && ! tail -n +"$((before + 1))" "$RESULTS" | grep -q '^FAIL '; then
	result "FAIL layout: check_layouts.sh exited with status $rc without a FAIL line"
fi
echo "# end-to-end ($BIN)"
mkdir -p "$PYHEAP_CACHE_DIR" && rm -f "$E2E_RESULTS"
run_py "" e2e tests/e2e/run_e2e.py --bin "$BIN" --results "$E2E_RESULTS"
echo "# bad input ($BIN)"
run_py "" bad_input tests/e2e/bad_input.py --bin "$BIN"
echo "# heap snapshots ($BIN)"
run_py "" snapshot tests/e2e/run_snapshot.py --bin "$BIN"
# --- why-is-it-alive, layout side (labelled roots, frame locals, edge labels,
# previews through --dump-why); see tests/e2e/run_labels.py ---
echo "# labels: roots, locals, edge labels, previews ($BIN)"
run_py "" labels tests/e2e/run_labels.py --bin "$BIN"
# --- end of the labels block ---
# --- fuzz smoke (issue 11): each libFuzzer target for a few seconds ----------
echo "# fuzz smoke: libFuzzer targets under ASan+UBSan (tests/fuzz/run.sh)"
before=$(wc -l <"$RESULTS")
stream "" bash tests/fuzz/run.sh --smoke --seconds "${PYHEAP_FUZZ_SECONDS:-5}"
rc=$?
if [ "$rc" -ne 0 ] && ! tail -n +"$((before + 1))" "$RESULTS" | grep -q '^FAIL '; then
	result "FAIL fuzz: tests/fuzz/run.sh exited with status $rc without a FAIL line"
elif [ "$(wc -l <"$RESULTS")" -eq "$before" ]; then
	result "FAIL fuzz: tests/fuzz/run.sh printed no result"
fi
# --- end fuzz smoke -------------------------------------------------------------
# --- why is it alive (report/2), issue 4 -------------------------------------
echo "# why is it alive: roots, retained sizes, paths, leak suspects ($BIN)"
run_py "" why tests/e2e/run_why.py --bin "$BIN"
# --- end why ------------------------------------------------------------------
# --- real applications, issue 9 -----------------------------------------------
echo "# real applications: exact counts, sizes, unreachable set, suspects ($BIN)"
run_py "" real tests/e2e/run_real.py --bin "$BIN"
# --- end real -----------------------------------------------------------------
# --- pymalloc (issue 10): memory.pymalloc against sys._debugmallocstats() ------
echo "# pymalloc: arenas, pools, blocks per size class, corrupted pools ($BIN)"
run_py "" pymalloc tests/e2e/run_pymalloc.py --bin "$BIN"
# --- end pymalloc -------------------------------------------------------------
# --- hostile and corrupted cores, command line misuse (issue 11) -------------
echo "# hostile: corrupted words of real cores, outputs naming inputs ($BIN)"
run_py "" hostile tests/e2e/run_hostile.py --bin "$BIN"
# --- end hostile --------------------------------------------------------------
# --- memory section (issue 10) ------------------------------------------------
echo "# memory: mappings, pymalloc, glibc malloc, attribution ($BIN)"
run_py "" memory tests/e2e/run_memory.py --bin "$BIN"
# --- end memory ---------------------------------------------------------------
# --- tracemalloc's traces from the core (issue 15) ------------------------------
echo "# allocations: tracemalloc's traces, per-object sites ($BIN)"
run_py "" tracemalloc tests/e2e/run_tracemalloc.py --bin "$BIN"
# --- end tracemalloc ------------------------------------------------------------
# --- glibc malloc against mallinfo2 (issue 10) --------------------------------
echo "# glibc malloc: arenas, chunks, tcache, mmapped against mallinfo2 ($BIN)"
run_py "" malloc tests/e2e/run_malloc.py --bin "$BIN"
# --- end malloc ---------------------------------------------------------------
# --- reports for tickets: md, html, heapsnapshot (issue 13) -------------------
echo "# ticket: Markdown, HTML (headless chromium), .heapsnapshot (DevTools' loader) ($BIN)"
run_py "" ticket tests/e2e/run_ticket.py --bin "$BIN"
# --- end ticket ---------------------------------------------------------------
# --- what grew: pyheap-analyze diff (issue 14) ---------------------------------
echo "# diff: two gcores of one process, growth by path and address, exit codes ($BIN)"
run_py "" diff tests/e2e/run_diff.py --bin "$BIN"
# --- end diff -------------------------------------------------------------------

if [ -n "$ASAN_BIN" ]; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
	echo "# unit tests under ASan+UBSan ($ASAN_UNIT)"
	run_units "asan/" "$ASAN_UNIT"
	echo "# bad input under ASan+UBSan ($ASAN_BIN)"
	run_py "asan/" bad_input tests/e2e/bad_input.py --bin "$ASAN_BIN"
	echo "# end-to-end, quick, under ASan+UBSan ($ASAN_BIN)"
	run_py "asan/" e2e tests/e2e/run_e2e.py --quick --timeout 900 --bin "$ASAN_BIN"
	echo "# heap snapshots, quick, under ASan+UBSan ($ASAN_BIN)"
	run_py "asan/" snapshot tests/e2e/run_snapshot.py --quick --timeout 900 --bin "$ASAN_BIN"
	echo "# pymalloc, quick, under ASan+UBSan ($ASAN_BIN)"
	run_py "asan/" pymalloc tests/e2e/run_pymalloc.py --quick --timeout 900 --bin "$ASAN_BIN"
	echo "# hostile, quick, under ASan+UBSan ($ASAN_BIN)"
	run_py "asan/" hostile tests/e2e/run_hostile.py --quick --timeout 900 --bin "$ASAN_BIN"
	echo "# diff, quick, under ASan+UBSan ($ASAN_BIN)"
	run_py "asan/" diff tests/e2e/run_diff.py --quick --timeout 900 --bin "$ASAN_BIN"
	echo "# glibc malloc, quick, under ASan+UBSan ($ASAN_BIN)"
	run_py "asan/" malloc tests/e2e/run_malloc.py --quick --timeout 900 --bin "$ASAN_BIN"
	echo "# memory section under ASan+UBSan ($ASAN_BIN)"
	run_py "asan/" memory tests/e2e/run_memory.py --interp debian-bookworm-3.11 --program mem_numpy \
		--program mem_lxml --program mem_plain+jemalloc --timeout 900 --bin "$ASAN_BIN"
	echo "# rendering from saved reports, malformed reports, quick, under ASan+UBSan ($ASAN_BIN)"
	run_py "asan/" ticket tests/e2e/run_ticket.py --quick --reread-only --timeout 900 --bin "$ASAN_BIN"
fi

if [ -n "$TSAN_BIN" ]; then
	# exitcode 66 (the default) on any race; the first one ends the run
	export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1}"
	# ThreadSanitizer cannot run under every kernel's address-space layout
	# (FATAL: unexpected memory mapping): a SKIP naming the cause, not FAILs
	if ! tsan_out=$("$TSAN_BIN" --version 2>&1); then
		result "SKIP tsan: $TSAN_BIN does not start: $(printf '%s\n' "$tsan_out" | grep -m1 . | cut -c1-200)"
		TSAN_BIN=""
	fi
fi
if [ -n "$TSAN_BIN" ]; then
	echo "# memory section beside the cycle search, under ThreadSanitizer ($TSAN_BIN)"
	run_py "tsan/" memory tests/e2e/run_memory.py --interp debian-bookworm-3.11 --program mem_numpy \
		--program mem_lxml --timeout 900 --bin "$TSAN_BIN"
	echo "# end-to-end, quick, under ThreadSanitizer ($TSAN_BIN)"
	run_py "tsan/" e2e tests/e2e/run_e2e.py --quick --timeout 900 --bin "$TSAN_BIN"
	echo "# hostile, quick, under ThreadSanitizer ($TSAN_BIN)"
	run_py "tsan/" hostile tests/e2e/run_hostile.py --quick --timeout 900 --bin "$TSAN_BIN"
fi

# The matrix rule: distinct minor versions whose e2e scenarios passed.
minors=""
[ -f "$E2E_RESULTS" ] && minors=$("$PY" tests/supported_versions.py --results "$E2E_RESULTS" --minors 2>/dev/null)
nminors=$(printf '%s\n' "$minors" | wc -w)
enforce=$CI_MODE min=$CI_MIN_MINORS_DEFAULT
if [ -n "${PYHEAP_MIN_MINORS:-}" ]; then
	enforce=1 min=$PYHEAP_MIN_MINORS
fi
if ! [ "$min" -ge 0 ] 2>/dev/null; then
	result "FAIL matrix/minor-versions: PYHEAP_MIN_MINORS=$min is not a number"
elif [ "$nminors" -ge "$min" ]; then
	[ "$min" -gt 0 ] && result "PASS matrix/minor-versions: $nminors distinct minor versions passed their end-to-end scenarios (${minors:-none}; at least $min required)"
elif [ "$enforce" = 1 ]; then
	result "FAIL matrix/minor-versions: only $nminors distinct minor versions passed their end-to-end scenarios (${minors:-none}); at least $min required (PYHEAP_MIN_MINORS; CI=${CI:-})"
else
	echo "# WARNING: only $nminors distinct minor versions passed their end-to-end scenarios (${minors:-none});" \
		"CI (CI=true or --ci) requires $min -- see tests/supported_versions.py --print"
fi

passed=$(count PASS)
failed=$(count FAIL)
skipped=$(count SKIP)
echo
if [ "$skipped" -gt 0 ]; then
	echo "Skipped:"
	grep '^SKIP ' "$RESULTS" | sed 's/^SKIP /  /'
fi
if [ "$failed" -gt 0 ]; then
	echo "Failed:"
	grep '^FAIL ' "$RESULTS" | sed 's/^FAIL /  /'
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
