#!/usr/bin/env bash
# Checks the offset tables of plugins/layouts.c against the real headers of
# every CPython interpreter on this machine: tests/layout/probe.c is compiled
# against each interpreter's installed headers (internal ones included) and
# its offsetof/sizeof values are compared with the table the analyzer would
# pick for that PY_VERSION_HEX (printed by tests/layout/dump_tables.c).
#
#   tests/layout/check_layouts.sh [PREFIX...]
#
# Interpreters: every pyenv version ($PYENV_ROOT, `pyenv root` or ~/.pyenv)
# with an include/python3.X directory, the system's /usr/include/python3.X
# (Debian: libpython3.X-dev), every interpreter tests/provision.sh unpacked
# into its cache (CACHE/matrix.tsv; CACHE = $PYHEAP_CACHE_DIR, default
# ${XDG_CACHE_HOME:-~/.cache}/pyheap-analyze) with its libpython3.X-dev
# headers, and each PREFIX given (PREFIX/include/python3.X).
#
# Output: one line per check, starting with PASS, FAIL or SKIP; lines
# starting with `#` are details. Exit status 1 if any check failed, else 0.
# Environment: CC (default cc).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CC=${CC:-cc}

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "SKIP layout: no C compiler ($CC)"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pha-layout.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

failed=0

# First line of a compiler's error output, for a one-line FAIL.
first_error() {
	local line
	line=$(grep -m1 -E 'error|Error' "$1" || head -n1 "$1")
	printf '%s' "${line:-no compiler output}"
}

# --- the table dumper ------------------------------------------------------

dump="$tmp/dump_tables"
# The layout walker's files: the allocator plugins (pymalloc*.c,
# glibc_malloc.c) read the core through the analyzer's memory and module
# functions, which this small program does not link.
walker=()
for f in "$root"/plugins/*.c; do
	case ${f##*/} in
	pymalloc*.c | glibc_malloc*.c) ;;
	*) walker+=("$f") ;;
	esac
done
if ! "$CC" -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow \
	-Wstrict-prototypes -D_GNU_SOURCE -DPHA_VERSION='"test"' -o "$dump" \
	"$here/dump_tables.c" "${walker[@]}" \
	"$root/analyzer/error.c" 2>"$tmp/dump.err"; then
	echo "FAIL layout/dump_tables: does not build: $(first_error "$tmp/dump.err")"
	exit 1
fi

# --- every member of struct pha_py_offsets is in dump_tables' list ---------
# dump_tables.c checks sizes and offsets at compile time; this catches what
# that cannot (an added 1-bit flag, a member added into padding).

# Member names declared in struct pha_py_offsets, arrays as name[i].
header_fields() {
	awk '
		/^struct pha_py_offsets[ \t]*\{/ { on = 1; next }
		on && /^\};/ { on = 0 }
		on { body = body " " $0 }
		END {
			# Drop comments, then split the declarations.
			while (match(body, /\/\*([^*]|\*+[^*\/])*\*+\//))
				body = substr(body, 1, RSTART - 1) " " substr(body, RSTART + RLENGTH)
			n = split(body, decl, ";")
			for (i = 1; i <= n; i++) {
				d = decl[i]
				gsub(/:[ \t]*[0-9]+/, "", d)	# bit-field widths
				m = split(d, part, ",")
				for (j = 1; j <= m; j++) {
					p = part[j]
					gsub(/^[ \t]+|[ \t]+$/, "", p)
					if (p == "")
						continue
					k = split(p, w, /[ \t]+/)
					name = w[k]
					sub(/^\*+/, "", name)	# pointer members
					if (match(name, /\[[0-9]+\]$/)) {
						len = substr(name, RSTART + 1, RLENGTH - 2) + 0
						base = substr(name, 1, RSTART - 1)
						for (e = 0; e < len; e++)
							print base "[" e "]"
					} else {
						print name
					}
				}
			}
		}' "$root/plugins/cpython.h"
}

header_fields | sort >"$tmp/fields.header"
first_layout=$("$dump" --list | awk -F'\t' 'NR == 1 { print $1 }')
if [ -z "$first_layout" ]; then
	echo "FAIL layout/fields: no built-in layouts"
	exit 1
fi
"$dump" "$first_layout" | cut -f1 | sort >"$tmp/fields.listed"
if [ ! -s "$tmp/fields.header" ]; then
	echo "FAIL layout/fields: found no members of struct pha_py_offsets in plugins/cpython.h"
	failed=1
elif ! cmp -s "$tmp/fields.header" "$tmp/fields.listed"; then
	missing=$(comm -23 "$tmp/fields.header" "$tmp/fields.listed" | paste -sd' ')
	extra=$(comm -13 "$tmp/fields.header" "$tmp/fields.listed" | paste -sd' ')
	echo "FAIL layout/fields: PY_OFFSET_FIELDS in tests/layout/dump_tables.c differs" \
		"from struct pha_py_offsets: missing [${missing}], not in the struct [${extra}]"
	failed=1
else
	echo "PASS layout/fields: all $(wc -l <"$tmp/fields.header") members of struct pha_py_offsets are listed"
fi

# --- interpreters ------------------------------------------------------------

# PY_VERSION_HEX of the headers in $1 (patchlevel.h needs nothing else).
header_hexversion() {
	printf '#include <stdio.h>\n#include "patchlevel.h"\nint main(void) { printf("0x%%08lx\\n", (unsigned long)PY_VERSION_HEX); return 0; }\n' \
		>"$tmp/hexversion.c"
	"$CC" -I"$1" -o "$tmp/hexversion" "$tmp/hexversion.c" 2>/dev/null && "$tmp/hexversion"
}

# The -D options of the build's own core CFLAGS (they can change layouts,
# e.g. _Py_TIER2 in 3.15); Py_BUILD_CORE is set anyway and _FORTIFY_SOURCE
# only matters to code generation.
core_defines() {
	local py=$1 flags="" f data
	if [ -x "$py" ]; then
		flags=$("$py" -S -c 'import sysconfig; print(sysconfig.get_config_var("PY_CORE_CFLAGS") or "")' 2>/dev/null) || flags=""
	fi
	if [ -z "$flags" ]; then
		# An interpreter that does not run here (another distribution's
		# glibc): read its installed sysconfig data instead.
		for data in "$(dirname "$(dirname "$py")")"/lib/$(basename "$py")/_sysconfigdata_*.py; do
			[ -f "$data" ] || continue
			flags=$(sed -n "s/^ *'PY_CORE_CFLAGS': '\(.*\)',\$/\1/p" "$data" | head -n1)
			break
		done
	fi
	[ -n "$flags" ] || return 0
	for f in $flags; do
		case $f in
		-DPy_BUILD_CORE*|-D_FORTIFY_SOURCE*) ;;
		-D*) [[ $f =~ ^-D[A-Za-z_][A-Za-z0-9_]*(=[A-Za-z0-9_.]*)?$ ]] && printf '%s\n' "$f" ;;
		esac
	done
}

# check_interpreter LABEL INCDIR PYTHON
check_interpreter() {
	local label=$1 inc=$2 py=$3 hex minor layout extra=() defs=() triplet
	if [ ! -f "$inc/Python.h" ]; then
		echo "SKIP layout/$label: no Python.h in $inc"
		return
	fi
	if ! hex=$(header_hexversion "$inc"); then
		echo "SKIP layout/$label: cannot read PY_VERSION_HEX from $inc/patchlevel.h"
		return
	fi
	minor="$((hex >> 24)).$(((hex >> 16) & 255))"
	if ! layout=$("$dump" --for-hex "$hex"); then
		echo "SKIP layout/$label: no layout for $minor yet (PY_VERSION_HEX $hex)"
		return
	fi
	if [ ! -d "$inc/internal" ]; then
		echo "SKIP layout/$label: $inc has no internal/ headers (needed for the probe)"
		return
	fi
	# Debian keeps pyconfig.h in <prefix>/include/<triplet>/python3.X and the
	# one in $inc includes it by that path.
	# (clang's -dumpmachine says x86_64-pc-linux-gnu, hence -print-multiarch.)
	for triplet in $("$CC" -print-multiarch 2>/dev/null) $("$CC" -dumpmachine 2>/dev/null); do
		if [ -f "$(dirname "$inc")/$triplet/$(basename "$inc")/pyconfig.h" ]; then
			extra=(-I"$(dirname "$inc")")
			break
		fi
	done
	mapfile -t defs < <(core_defines "$py")

	local bin="$tmp/probe-$label" out="$tmp/probe-$label.txt" table="$tmp/table-$layout.txt"
	if ! "$CC" -std=gnu11 -DPy_BUILD_CORE "${defs[@]}" -I"$inc" -I"$inc/internal" \
		"${extra[@]}" -o "$bin" "$here/probe.c" 2>"$bin.err"; then
		echo "FAIL layout/$label: probe.c does not compile against $inc: $(first_error "$bin.err")"
		failed=1
		return
	fi
	if ! "$bin" >"$out"; then
		echo "FAIL layout/$label: the probe failed"
		failed=1
		return
	fi
	if [ ! -f "$table" ] && ! "$dump" "$layout" >"$table"; then
		echo "FAIL layout/$label: dump_tables $layout failed"
		failed=1
		return
	fi

	# Every probed value must equal the table. Fields the probe leaves out
	# must be declared by it: #absent ones must be 0 in the table (0 = "not in
	# this version" to the walker), #unchecked ones are listed.
	local result
	result=$(awk -F'\t' -v hex="$hex" '
		FNR == NR { table[$1] = $2; order[++n] = $1; next }
		$1 == "#hexversion" {
			if ($2 != hex) bad = bad sprintf("; probe built for %s, headers say %s", $2, hex)
			next
		}
		$1 == "#absent" || $1 == "#unchecked" {
			if (!($2 in table)) { bad = bad "; probe.c names " $2 ", which the table does not have"; next }
			why[$2] = $1
			next
		}
		/^#/ { next }
		{
			if (!($1 in table)) { bad = bad "; probe.c prints " $1 ", which the table does not have"; next }
			probed[$1] = 1
			if ($2 != table[$1]) {
				diff = diff sprintf("; %s: table %s, headers %s (%s)", $1, table[$1], $2, $3)
				wrong[$1] = 1
			}
		}
		END {
			for (i = 1; i <= n; i++) {
				f = order[i]
				if (f in probed) {
					if (!(f in wrong)) equal++
				} else if (why[f] == "#absent") {
					if (table[f] != 0)
						diff = diff sprintf("; %s: table %s, headers: not in this version (table must be 0)", f, table[f])
					else
						absent = absent " " f
				} else if (why[f] == "#unchecked") {
					unchecked = unchecked " " f
				} else {
					bad = bad "; " f " is neither probed nor declared by probe.c"
				}
			}
			# One item per line: fields may be empty.
			print (diff bad == "" ? "ok" : "bad")
			print equal + 0
			print substr(diff bad, 3)
			print substr(absent, 2)
			print substr(unchecked, 2)
		}' "$table" "$out")

	local lines status equal problems absent unchecked
	mapfile -t lines <<<"$result"
	status=${lines[0]-} equal=${lines[1]-} problems=${lines[2]-}
	absent=${lines[3]-} unchecked=${lines[4]-}
	if [ "$status" = ok ]; then
		echo "PASS layout/$label: $equal fields equal ($layout, headers $hex)"
	else
		echo "FAIL layout/$label: $problems ($layout, headers $hex)"
		failed=1
	fi
	[ -n "$absent" ] && echo "#   not in $minor, 0 in the table: $absent"
	[ -n "$unchecked" ] && echo "#   not checkable from headers: $unchecked"

	# 3.13+: the debug-offsets table of the binary itself.
	if [ "$(((hex >> 16) & 255))" -ge 13 ]; then
		local pyx=$(basename "$inc") bindir libdir
		bindir=$(dirname "$py")
		libdir=$(dirname "$bindir")/lib
		if python3 "$here/check_debug_offsets.py" "$label" "$dump" "$layout" "$hex" \
			"$libdir/lib${pyx}.so.1.0" "$libdir/x86_64-linux-gnu/lib${pyx}.so.1.0" \
			"$bindir/$pyx" "$(dirname "$(dirname "$inc")")/bin/$pyx" \
			"$(dirname "$(dirname "$inc")")/lib/x86_64-linux-gnu/lib${pyx}.so.1.0" \
			>"$tmp/dbg-$label.txt" 2>&1; then
			cat "$tmp/dbg-$label.txt"
		else
			cat "$tmp/dbg-$label.txt"
			grep -q '^FAIL ' "$tmp/dbg-$label.txt" || echo "FAIL layout/$label/debug-offsets: check_debug_offsets.py failed"
			failed=1
		fi
	fi
	return 0
}

found=0

# pyenv builds
pyenv_root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
for vdir in "$pyenv_root"/versions/*/; do
	[ -d "$vdir" ] || continue
	v=$(basename "$vdir")
	for inc in "$vdir"include/python3*; do
		[ -d "$inc" ] || continue
		found=1
		x=$(basename "$inc")
		check_interpreter "pyenv-$v" "$inc" "${vdir}bin/${x%m}"
	done
done

# The system interpreter's headers (Debian/Ubuntu: libpython3.X-dev).
sys_label=system
[ -f /etc/debian_version ] && sys_label=debian
for inc in /usr/include/python3*; do
	[ -d "$inc" ] || continue
	found=1
	x=$(basename "$inc")
	check_interpreter "$sys_label-${x#python}" "$inc" "/usr/bin/${x%m}"
done
# An installed system interpreter without its headers.
for py in /usr/bin/python3.*; do
	x=$(basename "$py")
	[[ $x =~ ^python3\.[0-9]+$ ]] || continue
	[ -d "/usr/include/$x" ] && continue
	found=1
	echo "SKIP layout/$sys_label-${x#python}: $py has no headers in /usr/include/$x (Debian: apt-get install lib$x-dev)"
done

# Interpreters provisioned by tests/provision.sh (Debian packages unpacked
# into its cache, headers from libpython3.X-dev); pyenv and /usr/include ones
# are checked above.
matrix=${PYHEAP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pyheap-analyze}/matrix.tsv
if [ -f "$matrix" ]; then
	while IFS=$'\t' read -r label status _ _ _ _ _ py inc _; do
		[ "$label" = label ] && continue
		[ "$status" = ok ] || continue
		case $inc in "" | /usr/include/* | "$pyenv_root"/*) continue ;; esac
		found=1
		check_interpreter "$label" "$inc" "$py"
	done <"$matrix"
fi

# Prefixes given on the command line.
for prefix in "$@"; do
	found=1
	any=0
	for inc in "$prefix"/include/python3*; do
		[ -d "$inc" ] || continue
		any=1
		x=$(basename "$inc")
		name=$(basename "$prefix")
		# An extracted Debian package root is PREFIX/usr: name it by PREFIX.
		[ "$name" = usr ] && name=$(basename "$(dirname "$prefix")")
		check_interpreter "$name-${x#python}" "$inc" "$prefix/bin/${x%m}"
	done
	[ "$any" = 1 ] || echo "SKIP layout/$(basename "$prefix"): no include/python3.X in $prefix"
done

[ "$found" = 1 ] || echo "SKIP layout: no CPython headers found (pyenv, /usr/include/python3.X)"
exit "$failed"
