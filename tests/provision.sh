#!/usr/bin/env bash
# Assembles the interpreter test matrix, prints it and writes a manifest the
# end-to-end harness and the layout check read.
#
#   bash tests/provision.sh [--offline] [--refresh] [--no-verify-cores] [--quiet]
#
# Interpreters:
#   pyenv-3.X.Y            every pyenv build of CPython >= 3.8 on this machine
#                          ($PYENV_ROOT, `pyenv root` or ~/.pyenv); used when
#                          present, never required
#   debian-<codename>-3.X  the system's /usr/bin/python3.X (Debian package)
#   debian-bullseye-3.9    Debian bullseye python3.9-minimal + libs + -dev
#   debian-trixie-3.13     Debian trixie python3.13-minimal + libs + -dev + libc6
#   debian-sid-3.13/3.14/3.15   Debian sid, likewise, run with sid's own loader
#                          and glibc
# The Debian packages come from the mirror the host's apt uses, through a
# private apt configuration in the cache (`apt-get download`), and are unpacked
# with `dpkg -x` into the cache -- nothing is installed into the system. Each
# gets a launcher CACHE/<label>/python that runs it with the right loader.
# After unpacking, each one must run `import gc, os, sys, ...`; whether a
# forked-then-aborted process leaves a kernel core and whether gcore works is
# checked and recorded too.
#
# Idempotent: an interpreter with a complete stamp (same package list) is not
# fetched again, so a second run makes no network access. A version that
# cannot be obtained (no network, package gone, does not run) is listed as
# SKIP with the reason; the script still exits 0 (only usage errors exit 2).
#
# Cache: $PYHEAP_CACHE_DIR, default ${XDG_CACHE_HOME:-$HOME/.cache}/pyheap-analyze.
# Writes CACHE/matrix.json (read by tests/e2e/harness.py) and CACHE/matrix.tsv
# (read by tests/layout/check_layouts.sh).
#
# Options / environment:
#   --offline            never touch the network (use what is cached)
#                        (also PYHEAP_PROVISION_OFFLINE=1)
#   --refresh            fetch every Debian interpreter again
#   --no-verify-cores    skip the kernel-core/gcore check at provisioning time
#   --quiet              only the matrix table
#   PYHEAP_DEBIAN_MIRROR http://HOST/debian (default: the host's apt sources)
#   PYHEAP_PROVISION_TIMEOUT  seconds per apt-get call (default 600)
#
# Needs: apt-get, dpkg-deb (Debian/Ubuntu), readelf (binutils). Without them the
# Debian interpreters are SKIPs.

set -u
umask 022

OFFLINE=${PYHEAP_PROVISION_OFFLINE:-0}
REFRESH=0
VERIFY_CORES=1
QUIET=0
while [ $# -gt 0 ]; do
	case $1 in
	--offline) OFFLINE=1 ;;
	--refresh) REFRESH=1 ;;
	--no-verify-cores) VERIFY_CORES=0 ;;
	--quiet) QUIET=1 ;;
	-h | --help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "usage: bash tests/provision.sh [--offline] [--refresh] [--no-verify-cores] [--quiet]" >&2; exit 2 ;;
	esac
	shift
done

CACHE=${PYHEAP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pyheap-analyze}
TIMEOUT=${PYHEAP_PROVISION_TIMEOUT:-600}
ARCH=x86_64-linux-gnu
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Bump when the layout of the cache or the stamp contents change.
STAMP_FORMAT=1

mkdir -p "$CACHE" || { echo "provision: cannot create $CACHE" >&2; exit 1; }
CACHE=$(cd "$CACHE" && pwd)
T0=$(date +%s)

say() { [ "$QUIET" = 1 ] || printf '# provision: %s\n' "$*"; }

# ---------------------------------------------------------------------------
# The Debian interpreters: label suite minor own-libc packages...
# Packages: the interpreter, its stdlib, the -dev package with the internal
# headers (tests/layout/check_layouts.sh), and for suites newer than the host
# their own glibc plus the libraries python3.X-minimal links (libexpat, zlib).
# Bullseye also gets libffi7, which the host (bookworm and later: libffi8)
# lacks, so that its ctypes imports (tm_records.py forks with the C
# library's fork() through it, run_malloc.py reads mallinfo2()); its
# launcher puts the unpacked libraries on LD_LIBRARY_PATH. Nothing else:
# the scenarios import only modules built into the interpreter or written
# in Python (and ctypes: no ssl, sqlite, ...).
DEBIAN_SPECS=(
	"debian-bullseye-3.9 bullseye 3.9 no python3.9-minimal libpython3.9-minimal libpython3.9-stdlib libpython3.9-dev libffi7"
	"debian-trixie-3.13 trixie 3.13 yes python3.13-minimal libpython3.13-minimal libpython3.13-stdlib libpython3.13-dev libc6 libexpat1 zlib1g"
	"debian-sid-3.13 sid 3.13 yes python3.13-minimal libpython3.13-minimal libpython3.13-stdlib libpython3.13-dev libc6 libexpat1 zlib1g"
	"debian-sid-3.14 sid 3.14 yes python3.14-minimal libpython3.14-minimal libpython3.14-stdlib libpython3.14-dev libc6 libexpat1 zlib1g"
	"debian-sid-3.15 sid 3.15 yes python3.15-minimal libpython3.15-minimal libpython3.15-stdlib libpython3.15-dev libc6 libexpat1 zlib1g"
)

# The Debian mirror of the host (first enabled http(s) URI ending in /debian).
host_mirror() {
	local f uri
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case $f in *.sources)
			uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f") ;;
		*)
			uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' "$f") ;;
		esac
		for u in $uri; do
			case ${u%/} in */debian) printf '%s\n' "${u%/}"; return ;; esac
		done
	done
	echo "http://deb.debian.org/debian"
}
MIRROR=${PYHEAP_DEBIAN_MIRROR:-$(host_mirror)}

# ---------------------------------------------------------------------------
# Result rows (one per interpreter), printed and written at the end.

ROWS=()	# label|status|version|minor|source|kind|stripped|python|include|reason|kcore|gcore|bytes

add_row() { ROWS+=("$(IFS='|'; echo "$*")"); }

# kind_of EXE LIBDIR... -> "static|shared PATH-OF-THE-BINARY-WITH-THE-INTERPRETER"
kind_of() {
	local exe=$1 lib d
	shift
	lib=$(readelf -d "$exe" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(libpython[^]]*\)\].*/\1/p' | head -n1)
	if [ -z "$lib" ]; then
		echo "static $exe"
		return
	fi
	for d in "$@"; do
		if [ -e "$d/$lib" ]; then
			echo "shared $(readlink -f "$d/$lib")"
			return
		fi
	done
	echo "shared $lib"
}

# stripped FILE -> yes|no|unknown (no .symtab = stripped)
stripped_of() {
	[ -f "$1" ] || { echo unknown; return; }
	if readelf -S -W "$1" 2>/dev/null | grep -q ' \.symtab '; then echo no; else echo yes; fi
}

# python_version PYTHON -> "3.X.Y" or nothing
python_version() {
	timeout 60 "$1" -E -s -B -c 'import sys; print(sys.implementation.name, "%d.%d.%d" % sys.version_info[:3])' 2>/dev/null |
		awk '$1 == "cpython" { print $2 }'
}

SMOKE='import gc, os, sys, threading, json, collections, weakref; print(sys.version.split()[0])'

# smoke PYTHON -> prints the version or fails with the error on stdout
smoke() {
	local out
	if out=$(timeout 60 "$1" -E -s -B -c "$SMOKE" 2>&1); then
		printf '%s\n' "$out" | tail -n1
		return 0
	fi
	printf '%s\n' "$out" | tail -n1 | cut -c1-200
	return 1
}

# check_kernel_core PYTHON -> yes | no (reason) | n/a (reason)
check_kernel_core() {
	local py=$1 tmp pat
	pat=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
	case $pat in
	"") echo "n/a (core_pattern unreadable)"; return ;;
	"|"*) echo "n/a (core_pattern pipes to ${pat%% *})"; return ;;
	/*) echo "n/a (core_pattern writes to ${pat%/*})"; return ;;
	esac
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pha-prov.XXXXXX") || { echo "no (mktemp)"; return; }
	(
		cd "$tmp" && ulimit -c unlimited 2>/dev/null
		exec timeout 60 "$py" -E -s -B -c 'import os
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
os.abort()'
	) >/dev/null 2>&1
	local f found=no
	for f in "$tmp/${pat%%%*}"*; do
		[ -f "$f" ] && found=yes
	done
	if [ "$found" = yes ]; then
		echo yes
	else
		echo "no (no core after os.abort())"
	fi
	rm -rf "$tmp"
}

# check_gcore PYTHON -> yes | no (reason)
check_gcore() {
	local py=$1 tmp pid line ok=no
	command -v gcore >/dev/null 2>&1 || { echo "n/a (no gcore)"; return; }
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pha-prov.XXXXXX") || { echo "no (mktemp)"; return; }
	mkfifo "$tmp/ready"
	"$py" -E -s -B -c 'import os, sys, time
with open(sys.argv[1], "w") as f:
    f.write("READY %d\n" % os.getpid())
time.sleep(120)' "$tmp/ready" >/dev/null 2>&1 &
	pid=$!
	if read -r -t 60 line <"$tmp/ready" && [ "${line%% *}" = READY ]; then
		if DEBUGINFOD_URLS='' timeout 300 gcore -o "$tmp/g" "${line#READY }" >/dev/null 2>&1 &&
			[ -s "$tmp/g.${line#READY }" ]; then
			ok=yes
		fi
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -rf "$tmp"
	[ "$ok" = yes ] && echo yes || echo "no (gcore failed)"
}

# ---------------------------------------------------------------------------
# pyenv and the system interpreters: found, not provisioned.

pyenv_root=${PYENV_ROOT:-}
if [ -z "$pyenv_root" ] || [ ! -d "$pyenv_root" ]; then
	pyenv_root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
fi
# shellcheck disable=SC2012  # version directory names, sorted by version
for v in $(ls "$pyenv_root/versions" 2>/dev/null | sort -V); do
	vdir=$pyenv_root/versions/$v/
	[[ $v =~ ^3\.([0-9]+)\.[0-9]+$ ]] || continue
	[ "${BASH_REMATCH[1]}" -ge 8 ] || continue
	minor=3.${BASH_REMATCH[1]}
	py=${vdir}bin/python$minor
	label=pyenv-$v
	if [ ! -x "$py" ]; then
		add_row "$label" skip "" "$minor" "pyenv" "" "" "$py" "" "no $py" "" "" ""
		continue
	fi
	if ! ver=$(smoke "$py"); then
		add_row "$label" skip "" "$minor" "pyenv" "" "" "$py" "" "does not run: $ver" "" "" ""
		continue
	fi
	read -r kind bin < <(kind_of "$py" "${vdir}lib")
	inc=${vdir}include/python$minor
	[ -d "$inc" ] || inc=""
	add_row "$label" ok "$ver" "$minor" "pyenv build" "$kind" "$(stripped_of "$bin")" "$py" "$inc" "" "" "" ""
done

codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
for py in /usr/bin/python3.*; do
	x=$(basename "$py")
	[[ $x =~ ^python(3\.([0-9]+))$ ]] || continue
	minor=${BASH_REMATCH[1]}
	[ "${BASH_REMATCH[2]}" -ge 8 ] || continue
	label="debian${codename:+-$codename}-$minor"
	[ -f /etc/debian_version ] || label="system-$minor"
	src="system package"
	pkgver=$(dpkg-query -W -f '${Version}' "python$minor-minimal" 2>/dev/null) && src="Debian ${codename:-?} python$minor $pkgver (system package)"
	if ! ver=$(smoke "$py"); then
		add_row "$label" skip "" "$minor" "$src" "" "" "$py" "" "does not run: $ver" "" "" ""
		continue
	fi
	read -r kind bin < <(kind_of "$py" /usr/lib/$ARCH /usr/lib)
	inc=/usr/include/python$minor
	[ -d "$inc/internal" ] || inc=""
	add_row "$label" ok "$ver" "$minor" "$src" "$kind" "$(stripped_of "$bin")" "$py" "$inc" "" "" "" ""
done

# ---------------------------------------------------------------------------
# Debian suites through a private apt configuration.

declare -A SUITE_STATE	# suite -> ok | "error: why"

apt_opts() {	# apt_opts SUITE
	local d=$CACHE/apt/$1
	printf '%s\n' -o "Dir::Etc::SourceList=$d/sources.list" -o "Dir::Etc::SourceParts=/nonexistent" \
		-o "Dir::Etc::Preferences=/nonexistent" -o "Dir::Etc::PreferencesParts=/nonexistent" \
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "Debug::NoLocking=1" \
		-o "APT::Sandbox::User=root" -o "Acquire::Retries=2" -o "APT::Architecture=amd64" \
		-o "APT::Architectures::=amd64"
}

# suite_ready SUITE: apt lists of SUITE present and fresh for this run.
suite_ready() {
	local suite=$1 d=$CACHE/apt/$1 opts out
	[ -n "${SUITE_STATE[$suite]:-}" ] && { [ "${SUITE_STATE[$suite]}" = ok ]; return; }
	if [ "$OFFLINE" = 1 ]; then
		SUITE_STATE[$suite]="offline (--offline / PYHEAP_PROVISION_OFFLINE=1) and not cached"
		return 1
	fi
	if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
		SUITE_STATE[$suite]="apt-get/dpkg-deb not available on this machine"
		return 1
	fi
	if [ ! -f "$KEYRING" ]; then
		SUITE_STATE[$suite]="no $KEYRING (package debian-archive-keyring)"
		return 1
	fi
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$MIRROR" "$suite" >"$d/sources.list"
	mapfile -t opts < <(apt_opts "$suite")
	say "apt-get update ($suite from $MIRROR)"
	if ! out=$(timeout "$TIMEOUT" apt-get "${opts[@]}" -q update 2>&1) ||
		printf '%s\n' "$out" | grep -qE '^(W|E): (Failed|Some index|The repository|GPG error)'; then
		SUITE_STATE[$suite]="apt-get update of $suite failed: $(printf '%s\n' "$out" | grep -E '^(E|W|Err):' | head -n1 | cut -c1-200)"
		return 1
	fi
	SUITE_STATE[$suite]=ok
}

# write_launcher LABEL ROOT MINOR OWN_LIBC
write_launcher() {
	local dir=$CACHE/$1 root=$2 minor=$3 own=$4
	{
		echo "#!/bin/sh"
		echo "# $1: written by tests/provision.sh; runs the unpacked interpreter."
		echo "PYTHONHOME='$root/usr'"
		echo "export PYTHONHOME"
		if [ "$own" = yes ]; then
			echo "exec '$root/usr/lib64/ld-linux-x86-64.so.2' --library-path '$root/usr/lib/$ARCH:$root/lib/$ARCH' '$root/usr/bin/python$minor' \"\$@\""
		else
			# the host's loader and glibc; the suite's other libraries
			# (libffi7) after any the caller set
			echo "LD_LIBRARY_PATH=\"\${LD_LIBRARY_PATH:+\$LD_LIBRARY_PATH:}$root/usr/lib/$ARCH\""
			echo "export LD_LIBRARY_PATH"
			echo "exec '$root/usr/bin/python$minor' \"\$@\""
		fi
	} >"$dir/python.tmp" && chmod 755 "$dir/python.tmp" && mv "$dir/python.tmp" "$dir/python"
}

# provision_debian LABEL SUITE MINOR OWN_LIBC PKG...
provision_debian() {
	local label=$1 suite=$2 minor=$3 own=$4 dir=$CACHE/$1
	shift 4
	local pkgs=("$@") spec stamp why opts deb ver pkgver kind bin stripped src inc kcore gcore
	spec="format=$STAMP_FORMAT suite=$suite mirror=$MIRROR packages=${pkgs[*]}"
	stamp=$dir/stamp
	if [ "$REFRESH" = 0 ] && [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$spec" ] &&
		[ -x "$dir/python" ] && [ -f "$dir/info" ]; then
		# Cached: no network.
		IFS='|' read -r ver src kind stripped inc kcore gcore <"$dir/info"
		if smoke "$dir/python" >/dev/null; then
			add_row "$label" ok "$ver" "$minor" "$src" "$kind" "$stripped" "$dir/python" "$inc" "" "$kcore" "$gcore" ""
			return
		fi
		say "$label: cached copy does not run any more; fetching again"
	fi
	if ! suite_ready "$suite"; then
		add_row "$label" skip "" "$minor" "Debian $suite" "" "" "" "" "${SUITE_STATE[$suite]}" "" "" ""
		return
	fi
	rm -rf "$dir" && mkdir -p "$dir/debs" || {
		add_row "$label" skip "" "$minor" "Debian $suite" "" "" "" "" "cannot write $dir" "" "" ""
		return
	}
	mapfile -t opts < <(apt_opts "$suite")
	say "$label: apt-get download ${pkgs[*]}"
	if ! why=$(cd "$dir/debs" && timeout "$TIMEOUT" apt-get "${opts[@]}" -q download "${pkgs[@]}" 2>&1); then
		add_row "$label" skip "" "$minor" "Debian $suite" "" "" "" "" \
			"apt-get download failed: $(printf '%s\n' "$why" | grep -E '^(E|W|Err):' | head -n1 | cut -c1-200)" "" "" ""
		rm -rf "$dir"
		return
	fi
	for deb in "$dir"/debs/*.deb; do
		if ! dpkg-deb -x "$deb" "$dir/root"; then
			add_row "$label" skip "" "$minor" "Debian $suite" "" "" "" "" "dpkg -x $(basename "$deb") failed" "" "" ""
			rm -rf "$dir"
			return
		fi
	done
	pkgver=$(dpkg-deb -f "$dir/debs/python${minor}-minimal_"*.deb Version 2>/dev/null)
	rm -rf "$dir/debs"
	write_launcher "$label" "$dir/root" "$minor" "$own"
	if ! ver=$(smoke "$dir/python"); then
		add_row "$label" skip "" "$minor" "Debian $suite" "" "" "$dir/python" "" "does not run: $ver" "" "" ""
		return
	fi
	read -r kind bin < <(kind_of "$dir/root/usr/bin/python$minor" "$dir/root/usr/lib/$ARCH")
	stripped=$(stripped_of "$bin")
	src="Debian $suite python$minor-minimal $pkgver"
	[ "$own" = yes ] && src="$src ($suite glibc)"
	inc=$dir/root/usr/include/python$minor
	[ -d "$inc/internal" ] || inc=""
	kcore="not checked" gcore="not checked"
	if [ "$VERIFY_CORES" = 1 ]; then
		kcore=$(check_kernel_core "$dir/python")
		gcore=$(check_gcore "$dir/python")
	fi
	printf '%s|%s|%s|%s|%s|%s|%s\n' "$ver" "$src" "$kind" "$stripped" "$inc" "$kcore" "$gcore" >"$dir/info"
	printf '%s\n%s\n' "$spec" "provisioned $(date -u +%FT%TZ)" >"$stamp"
	add_row "$label" ok "$ver" "$minor" "$src" "$kind" "$stripped" "$dir/python" "$inc" "" "$kcore" "$gcore" ""
}

for spec in "${DEBIAN_SPECS[@]}"; do
	# shellcheck disable=SC2086  # one word per field
	provision_debian $spec
done

# ---------------------------------------------------------------------------
# Manifest and summary.

json_str() {	# a JSON string (paths and messages here have no control characters)
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

tsv=$CACHE/matrix.tsv.tmp
json=$CACHE/matrix.json.tmp
printf 'label\tstatus\tversion\tminor\tsource\tkind\tstripped\tpython\tinclude\treason\n' >"$tsv"
{
	printf '{\n  "format": "pyheap-analyze.matrix/1",\n  "cache": %s,\n  "interpreters": [' "$(json_str "$CACHE")"
	sep=""
	for row in "${ROWS[@]}"; do
		IFS='|' read -r label status ver minor src kind stripped py inc reason kcore gcore _ <<<"$row"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$status" "$ver" "$minor" "$src" "$kind" "$stripped" "$py" "$inc" "$reason" >>"$tsv"
		printf '%s\n    {"label": %s, "status": %s, "version": %s, "minor": %s, "source": %s, "kind": %s, "stripped": %s, "python": %s, "include": %s, "reason": %s, "kernel_core": %s, "gcore": %s}' \
			"$sep" "$(json_str "$label")" "$(json_str "$status")" "$(json_str "$ver")" "$(json_str "$minor")" \
			"$(json_str "$src")" "$(json_str "$kind")" "$(json_str "$stripped")" "$(json_str "$py")" \
			"$(json_str "$inc")" "$(json_str "$reason")" "$(json_str "$kcore")" "$(json_str "$gcore")"
		sep=","
	done
	printf '\n  ]\n}\n'
} >"$json"
mv "$tsv" "$CACHE/matrix.tsv"
mv "$json" "$CACHE/matrix.json"

echo "# interpreter matrix ($CACHE):"
{
	printf 'status\tlabel\tversion\tkind\tstripped\tsource / reason\tpath\n'
	for row in "${ROWS[@]}"; do
		IFS='|' read -r label status ver minor src kind stripped py inc reason kcore gcore _ <<<"$row"
		if [ "$status" = ok ]; then
			extra=""
			[ -n "$kcore" ] && extra=" [kernel core: $kcore; gcore: $gcore]"
			printf 'ok\t%s\t%s\t%s\t%s\t%s%s\t%s\n' "$label" "$ver" "$kind" "$stripped" "$src" "$extra" "$py"
		else
			printf 'skip\t%s\t%s\t-\t-\tSKIPPED: %s\t%s\n' "$label" "${minor}" "$reason" "${py:--}"
		fi
	done
} | { if command -v column >/dev/null 2>&1; then column -t -s "$(printf '\t')"; else cat; fi; } | sed 's/^/#   /'
nok=0 nskip=0
for row in "${ROWS[@]}"; do
	case $row in *"|ok|"*) nok=$((nok + 1)) ;; *) nskip=$((nskip + 1)) ;; esac
done
minors=$(for row in "${ROWS[@]}"; do IFS='|' read -r _ st _ mi _ <<<"$row"; [ "$st" = ok ] && echo "$mi"; done | sort -uV | paste -sd' ')
size=$(du -sh "$CACHE" 2>/dev/null | cut -f1)
echo "# provision: $nok interpreters ($minors), $nskip skipped; cache $size; $(($(date +%s) - T0)) s"
exit 0
