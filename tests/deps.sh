#!/bin/sh
# Check (and, as root with apt-get, install) what pyheap-analyze needs.
#
#   sh tests/deps.sh build   compiler, make, pkg-config; libdw libelf libzstd msgpack
#   sh tests/deps.sh all     the above, plus what the tests use: /usr/bin/python3.11
#                            (the interpreter under test), gdb (gcore), the zstd CLI,
#                            python3-jsonschema for /usr/bin/python3; for
#                            tests/provision.sh: readelf (binutils) and, on
#                            Debian, debian-archive-keyring; for
#                            tests/e2e/run_real.py the real libraries of
#                            /usr/bin/python3.11: python3-numpy, -lxml,
#                            -flask, -sqlalchemy, -django, -aiohttp, -yaml;
#                            for the fuzz targets (tests/fuzz): clang and its
#                            libFuzzer runtime (libclang-rt-14-dev on bookworm);
#                            for tests/e2e/run_ticket.py: chromium (headless)
#
# Silent when everything is present.  Missing pieces: as root with apt-get,
# `apt-get update -qq` (once) and `apt-get install -y --no-install-recommends`;
# otherwise the exact `sudo apt-get install ...` command is printed and the
# script exits 1.  POSIX sh.

set -u

mode=${1:-all}
case $mode in
build|all) ;;
*) echo "usage: sh tests/deps.sh build|all" >&2; exit 2 ;;
esac

missing=""      # Debian packages to install
why=""          # what is missing, for the message

need() {        # need PACKAGE WHAT
	case " $missing " in
	*" $1 "*) ;;
	*) missing="${missing:+$missing }$1"; why="${why:+$why, }$2" ;;
	esac
}

check_all() {
	missing=""
	why=""
	command -v gcc >/dev/null 2>&1 || need gcc "gcc"
	command -v make >/dev/null 2>&1 || need make "make"
	if command -v pkg-config >/dev/null 2>&1; then
		pkg-config --exists libdw || need libdw-dev "pkg-config libdw"
		pkg-config --exists libelf || need libelf-dev "pkg-config libelf"
		pkg-config --exists libzstd || need libzstd-dev "pkg-config libzstd"
		pkg-config --exists msgpack || need libmsgpack-dev "pkg-config msgpack"
	else
		need pkg-config "pkg-config"
		need libdw-dev "libdw"
		need libelf-dev "libelf"
		need libzstd-dev "libzstd"
		need libmsgpack-dev "msgpack"
	fi
	if [ "$mode" = all ]; then
		[ -x /usr/bin/python3.11 ] || need python3.11 "/usr/bin/python3.11"
		command -v gdb >/dev/null 2>&1 || need gdb "gdb"
		command -v gcore >/dev/null 2>&1 || need gdb "gcore"
		command -v zstd >/dev/null 2>&1 || need zstd "zstd"
		# tests/provision.sh: build kind / stripped from readelf; the Debian
		# archive keys of bullseye, trixie and sid for its private apt config.
		command -v readelf >/dev/null 2>&1 || need binutils "readelf (binutils)"
		if [ -f /etc/debian_version ] && [ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
			need debian-archive-keyring "the Debian archive keyring"
		fi
		# tests/e2e/run_real.py: real applications under /usr/bin/python3.11
		# (Debian's packages of these libraries are built for it).
		if [ -x /usr/bin/python3.11 ] && [ -f /etc/debian_version ]; then
			for pair in numpy:python3-numpy lxml.etree:python3-lxml flask:python3-flask \
				sqlalchemy:python3-sqlalchemy django:python3-django \
				aiohttp:python3-aiohttp yaml:python3-yaml; do
				/usr/bin/python3.11 -c "import ${pair%%:*}" >/dev/null 2>&1 ||
					need "${pair#*:}" "${pair#*:} (for /usr/bin/python3.11)"
			done
		fi
		# tests/fuzz: clang with its libFuzzer runtime. Debian ships the
		# runtime as libclang-rt-N-dev for clang N (14 on bookworm).
		command -v clang >/dev/null 2>&1 || need clang "clang (fuzz targets)"
		if [ -f /etc/debian_version ] && ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
			cv=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\)\..*/\1/p' | head -1)
			[ -z "$cv" ] && grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null && cv=14
			[ -n "$cv" ] && need "libclang-rt-$cv-dev" "the libFuzzer runtime (libclang-rt-$cv-dev)"
		fi
		# tests/e2e/run_memory.py: a process with jemalloc preloaded.
		if [ -f /etc/debian_version ] && ! ls /usr/lib/*/libjemalloc.so.2 >/dev/null 2>&1; then
			need libjemalloc2 "libjemalloc2 (an allocator other than glibc's, for the memory test)"
		fi
		# tests/e2e/run_ticket.py renders the HTML report in it.
		command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
			need chromium "chromium (headless, for the HTML report test)"
		# Internal headers of Debian's 3.11, for the layout-table check.
		[ -f /usr/include/python3.11/internal/pycore_frame.h ] ||
			need libpython3.11-dev "CPython 3.11 internal headers"
		if [ -x /usr/bin/python3 ]; then
			/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1 ||
				need python3-jsonschema "python3-jsonschema (for /usr/bin/python3)"
		else
			need python3 "/usr/bin/python3"
			need python3-jsonschema "python3-jsonschema"
		fi
	fi
}

check_all
[ -z "$missing" ] && exit 0

uid=$(id -u 2>/dev/null || echo 1)
if [ "$uid" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "pyheap-analyze: missing: $why" >&2
	echo "Install them with:" >&2
	echo "  sudo apt-get install -y --no-install-recommends $missing" >&2
	exit 1
fi

echo "deps.sh: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get update -qq >/dev/null; then
	echo "pyheap-analyze: apt-get update failed" >&2
	exit 1
fi
# shellcheck disable=SC2086  # one word per package
if ! apt-get install -y --no-install-recommends $missing >/dev/null; then
	echo "pyheap-analyze: apt-get install $missing failed" >&2
	exit 1
fi

still="$missing"
check_all
if [ -n "$missing" ]; then
	echo "pyheap-analyze: still missing after installing $still: $why" >&2
	exit 1
fi
exit 0
