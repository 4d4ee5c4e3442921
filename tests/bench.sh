#!/usr/bin/env bash
# Benchmark: time and peak memory of BIN on the big scenario's core.
#
#   bash tests/bench.sh BIN [RECORDS]
#
# For /usr/bin/python3.11 and (if installed) pyenv 3.12.1: runs
# tests/scenarios/big.py (RECORDS records, default 130000: about 1.5 million
# objects), dumps its core (kernel, else gcore), runs BIN -q on it and prints
# core size, objects and edges (from the report's summary), wall seconds and
# peak RSS (wait4's ru_maxrss of the analyzer).  Not part of make check.

set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: bash tests/bench.sh BIN [RECORDS]" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$PWD/$1 ;; esac
exec env PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/tests/e2e/harness.py" bench \
	--bin "$BIN" --records "${2:-130000}"
