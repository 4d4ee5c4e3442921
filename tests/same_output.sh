#!/usr/bin/env bash
# Byte-identity check for refactors: run two builds of the tool over every
# core below DIR (e.g. the --cache-dir of tests/e2e/run_e2e.py, run_why.py,
# run_labels.py) and compare everything they write: the JSON report, the text
# summary, --dump-objects, --save-snapshot, --dump-why, the report of the
# saved snapshot, and the report of a run without other outputs.
#
#   bash tests/same_output.sh OLD_BIN NEW_BIN DIR
#
# Prints one line per core that differs (with the first differing file) and a
# last line "N cores identical, N differ"; exit 1 when any differs.
set -u
[ $# -eq 3 ] || { echo "usage: bash tests/same_output.sh OLD_BIN NEW_BIN DIR" >&2; exit 2; }
OLD=$1 NEW=$2 DIR=$3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pyheap-same.XXXXXX") || exit 4
trap 'rm -rf "$WORK"' EXIT

run_all() { # BIN OUTDIR CORE
	local bin=$1 out=$2 core=$3
	mkdir -p "$out"
	(cd "$out" && "$bin" -q -o report.json --dump-objects objects.tsv \
		--save-snapshot snap.msgpack --dump-why why.tsv "$core" >/dev/null 2>stderr.txt
	echo "exit $?" >rc.txt
	"$bin" -o - --format text "$core" >summary.txt 2>>stderr.txt
	"$bin" -q -o redacted.json --redact "$core" >/dev/null 2>>stderr.txt
	# alone, as most runs are (with --save-snapshot the memory section
	# is built before the report, not beside it: analyze.c)
	"$bin" -q -o plain.json "$core" >/dev/null 2>>stderr.txt
	[ -f snap.msgpack ] && "$bin" -q -o snapreport.json snap.msgpack >/dev/null 2>>stderr.txt
	true)
}

same=0 differ=0
while IFS= read -r core; do
	rm -rf "$WORK/a" "$WORK/b"
	run_all "$OLD" "$WORK/a" "$core"
	run_all "$NEW" "$WORK/b" "$core"
	# The snapshot records the time it was written (a msgpack uint32): equal
	# sizes and at most 4 differing bytes is the same snapshot written in
	# another second; anything else is a difference.
	if [ -f "$WORK/a/snap.msgpack" ] && [ -f "$WORK/b/snap.msgpack" ] &&
		[ "$(stat -c %s "$WORK/a/snap.msgpack")" = "$(stat -c %s "$WORK/b/snap.msgpack")" ] &&
		[ "$(cmp -l "$WORK/a/snap.msgpack" "$WORK/b/snap.msgpack" | wc -l)" -le 4 ]; then
		cp "$WORK/a/snap.msgpack" "$WORK/b/snap.msgpack"
	fi
	if d=$(diff -rq "$WORK/a" "$WORK/b" 2>&1); then
		same=$((same + 1))
	else
		differ=$((differ + 1))
		echo "DIFFER $core: $(printf '%s\n' "$d" | head -1)"
	fi
done < <(find "$DIR" -type f -name core | sort)
echo "$same cores identical, $differ differ"
[ "$differ" -eq 0 ]
