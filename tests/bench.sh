#!/usr/bin/env bash
# Benchmark: time and peak memory of BIN on the big scenario's cores.
#
#   bash tests/bench.sh BIN [SIZES] [-- TOOL ARGS]
#
# SIZES: objects per heap, comma-separated (default 1e6,1e7,5e7; make bench
# BENCH_SIZES=1e6,1e7).  For each, /usr/bin/python3.11 runs
# tests/scenarios/big.py with the matching number of records; a forked child
# first times a pure-Python analysis of the same live heap (the baseline),
# then the process aborts and its kernel core is cached in
# ${PYHEAP_CACHE_DIR:-~/.cache/pyheap-analyze}/bench (reused while big.py,
# _truth.py and the interpreter are unchanged; the 5e7 core is about 4.5 GB).
# Then: one cat of the core from page cache, and BIN -q on it, with its CPU
# seconds (user+sys, wait4), wall seconds and peak RssAnon (sampled from
# /proc/PID/status).  Not part of make check.  Runs under nice.

set -eu
[ $# -ge 1 ] || { echo "usage: bash tests/bench.sh BIN [SIZES] [-- TOOL ARGS]" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$PWD/$1 ;; esac
shift
SIZES=1e6,1e7,5e7
if [ $# -ge 1 ] && [ "$1" != -- ]; then SIZES=$1; shift; fi
exec nice env PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/tests/e2e/harness.py" bench \
	--bin "$BIN" --sizes "$SIZES" "$@"
