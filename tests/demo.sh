#!/usr/bin/env bash
# Demo: dump a core of a small leaking service and analyze it.
#
#   bash tests/demo.sh BIN
#
# Runs tests/scenarios/demo_service.py (an order service whose pricing module
# memoizes every quote in a module-level dict: the leak; finished orders are
# garbage cycles) under the machine's python3 (/usr/bin/python3.11
# preferred), gets a kernel core (os.abort() with ulimit -c unlimited; gcore
# when the kernel pipes cores elsewhere), keeps it in ./demo-out/ so that it
# can be analyzed again with other options, runs BIN on it there and prints
# the summary and the paths of the core and the report.

set -eu
[ $# -eq 1 ] || { echo "usage: bash tests/demo.sh BIN" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $1 in /*) BIN=$1 ;; *) BIN=$PWD/$1 ;; esac
[ -x "$BIN" ] || { echo "demo: $BIN is not an executable (run make first)" >&2; exit 1; }

PY=/usr/bin/python3.11
[ -x "$PY" ] || PY=$(command -v python3)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pyheap-demo.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

echo "demo: running tests/scenarios/demo_service.py under $PY and dumping its core..."
core=$(PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/tests/e2e/harness.py" core \
	--python "$PY" --scenario demo_service --out "$TMP/scenario")
OUT=$ROOT/demo-out
mkdir -p "$OUT"
name="demo_service-$(basename "$PY").core"
mv "$core" "$OUT/$name"
echo "demo: core $OUT/$name ($(du -h --apparent-size "$OUT/$name" | cut -f1))"
echo

cd "$OUT"
"$BIN" "$name"
echo
echo "demo: report written to $OUT/$name.pyheap.json.zst"
echo "demo: read it with: zstd -dc $OUT/$name.pyheap.json.zst | python3 -m json.tool | less"
echo "demo: analyze the core again, e.g.: $BIN --top 20 -v $OUT/$name"
