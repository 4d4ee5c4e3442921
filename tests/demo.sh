#!/usr/bin/env bash
# Demo: dump a core of a Python process full of garbage cycles, analyze it.
#
#   bash tests/demo.sh BIN
#
# Runs tests/scenarios/garbage.py under the machine's python3
# (/usr/bin/python3.11 preferred), gets a kernel core (os.abort() with
# ulimit -c unlimited; gcore when the kernel pipes cores elsewhere) into a
# temporary directory, runs BIN on it from ./demo-out/, prints the summary
# and the path of the report.

set -eu
[ $# -eq 1 ] || { echo "usage: bash tests/demo.sh BIN" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$PWD/$1 ;; esac
[ -x "$BIN" ] || { echo "demo: $BIN is not an executable (run make first)" >&2; exit 1; }

PY=/usr/bin/python3.11
[ -x "$PY" ] || PY=$(command -v python3)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pyheap-demo.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

echo "demo: running tests/scenarios/garbage.py under $PY and dumping its core..."
core=$(PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/tests/e2e/harness.py" core \
	--python "$PY" --scenario garbage --out "$TMP/scenario")
name="garbage-$(basename "$PY").core"
mv "$core" "$TMP/$name"
echo "demo: core $TMP/$name ($(du -h --apparent-size "$TMP/$name" | cut -f1))"
echo

OUT=$ROOT/demo-out
mkdir -p "$OUT"
cd "$OUT"
"$BIN" "$TMP/$name"
echo
echo "demo: report written to $OUT/$name.pyheap.json.zst"
echo "demo: read it with: zstd -dc $OUT/$name.pyheap.json.zst | python3 -m json.tool | less"
