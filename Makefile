# pyheap-analyze — one non-recursive GNU Makefile.
#
#   make            build ./pyheap-analyze
#   make check      install missing dependencies, build, run every test (unit,
#                   end-to-end on real cores, then the same under ASan+UBSan,
#                   and the report's two threads under ThreadSanitizer)
#   make demo       build, dump a core of a bundled scenario, analyze it
#   make asan       build the ASan+UBSan binary (build-asan/pyheap-analyze)
#   make fuzz       FUZZ_SECONDS=N: build the libFuzzer targets (clang) and run
#                   each for N seconds (tests/fuzz/README.md)
#   make fuzz-smoke each target for a few seconds: PASS/FAIL/SKIP lines
#   make bench      time and peak memory on generated, cached cores
#                   (BENCH_SIZES=1e6,1e7,5e7: objects per heap)
#   make install    PREFIX=/usr/local DESTDIR=

VERSION := 0.3.0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin

CC ?= cc
PKGS := libdw libelf libzstd msgpack
# pkg-config runs only when something is built, after the dependency check.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -pthread $(WARN) $(CFLAGS) $(PKG_CFLAGS) -DPHA_VERSION='"$(VERSION)"' -D_GNU_SOURCE
LDLIBS = $(PKG_LIBS) -lm -pthread

B ?= build

LIB_SRCS := \
	analyzer/error.c analyzer/warnings.c analyzer/memory.c analyzer/addrset.c analyzer/bigmem.c analyzer/target.c analyzer/heap.c \
	analyzer/scc.c analyzer/reach.c analyzer/dominators.c analyzer/report.c analyzer/progress.c \
	analyzer/source.c analyzer/why.c analyzer/suspects.c analyzer/waste.c analyzer/allocations.c analyzer/analyze.c analyzer/dump.c \
	analyzer/procmem.c analyzer/paths.c analyzer/growth.c analyzer/diff.c analyzer/diffcmd.c analyzer/par.c \
	formats/mpcursor.c formats/snapshot_read.c formats/snapshot_write.c formats/snapshot_allocs.c \
	formats/elfcore.c formats/elffile.c formats/elffill.c formats/zstdio.c formats/output.c formats/json.c \
	formats/report_json.c formats/report_text.c \
	formats/markup.c formats/report_common.c formats/report_md.c formats/report_heapsnapshot.c \
	formats/report_html.c formats/diff_json.c formats/diff_doc.c \
	formats/json_parse.c formats/report_read.c formats/report_read_why.c \
	plugins/cpython.c plugins/layouts.c plugins/objects.c plugins/gc_lists.c \
	plugins/referents.c plugins/dicts.c plugins/strings.c plugins/previews.c \
	plugins/frames.c plugins/roots.c plugins/labels.c plugins/ext_numpy.c plugins/owned.c \
	plugins/pymalloc.c plugins/pymalloc_scan.c plugins/glibc_malloc.c plugins/tracemalloc.c
MAIN_SRC := analyzer/main.c
UNIT_TESTS := test_memory test_addrset test_elfcore test_scc test_reach test_dominators test_json test_snapshot test_why \
	test_output test_source test_warnings test_markup test_diff test_report_read

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(B)/%.o)
UNIT_BINS := $(UNIT_TESTS:%=$(B)/tests/unit/%)
HDRS := $(wildcard analyzer/*.h formats/*.h plugins/*.h tests/unit/*.h)

.PHONY: all deps check check-fast demo asan bench install clean unit fuzz fuzz-smoke fuzz-build
.DEFAULT_GOAL := all

ifeq ($(B),build)
all: pyheap-analyze
pyheap-analyze: $(B)/pyheap-analyze
	cp $< $@
else
all: $(B)/pyheap-analyze
endif

$(B)/pyheap-analyze: $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Objects are compiled with -DPHA_VERSION: a new VERSION names a new stamp,
# which does not exist yet, so everything is rebuilt with it.
VERSION_STAMP := $(B)/.version-$(VERSION)
$(VERSION_STAMP):
	@mkdir -p $(B)
	@rm -f $(B)/.version-*
	@touch $@

$(B)/%.o: %.c $(HDRS) $(VERSION_STAMP) | deps-build
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/unit/%: tests/unit/%.c $(LIB_OBJS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

unit: $(UNIT_BINS)

# Build dependencies: present, or installed (root + apt-get), or the exact
# command is printed and make stops.
.PHONY: deps-build
deps-build:
	@sh tests/deps.sh build

deps:
	@sh tests/deps.sh all

# The whole suite: normal build, then the ASan+UBSan and ThreadSanitizer
# builds. One summary line.
check: deps
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory B=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" build-asan/pyheap-analyze unit
	@$(MAKE) --no-print-directory B=build-tsan \
		CFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=thread" build-tsan/pyheap-analyze
	@bash tests/run.sh --bin build/pyheap-analyze --unit build/tests/unit \
		--asan-bin build-asan/pyheap-analyze --asan-unit build-asan/tests/unit \
		--tsan-bin build-tsan/pyheap-analyze

# Without the sanitizer pass (development loop).
check-fast: deps
	@$(MAKE) --no-print-directory all unit
	@bash tests/run.sh --bin build/pyheap-analyze --unit build/tests/unit

asan:
	@$(MAKE) --no-print-directory B=build-asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" build-asan/pyheap-analyze unit

# Fuzzing: libFuzzer targets in tests/fuzz, built with clang and ASan+UBSan
# into build-fuzz/ (the library objects too), run by tests/fuzz/run.sh,
# which prints one PASS/FAIL/SKIP line per target (SKIP: no clang or no
# libFuzzer runtime; `sh tests/deps.sh all` installs them on Debian).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_TARGETS := fuzz_elfcore fuzz_notes fuzz_snapshot fuzz_snapshot_report fuzz_zstd \
	fuzz_memory fuzz_json fuzz_report_read
FUZZ_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

fuzz-build:
	@$(MAKE) --no-print-directory B=build-fuzz CC=$(FUZZ_CC) \
		CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" \
		LDFLAGS="-fsanitize=address,undefined" $(FUZZ_TARGETS:%=build-fuzz/tests/fuzz/%)

$(B)/tests/fuzz/fuzz_snapshot_report: tests/fuzz/fuzz_snapshot.c tests/fuzz/fuzz_common.h $(LIB_OBJS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_REPORT -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

$(B)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_common.h $(LIB_OBJS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

fuzz:
	@bash tests/fuzz/run.sh --seconds $(FUZZ_SECONDS)

fuzz-smoke:
	@bash tests/fuzz/run.sh --seconds $(FUZZ_SMOKE_SECONDS) --smoke

demo: deps
	@$(MAKE) --no-print-directory all
	@bash tests/demo.sh ./pyheap-analyze

BENCH_SIZES ?= 1e6,1e7,5e7
bench: deps
	@$(MAKE) --no-print-directory all
	@bash tests/bench.sh ./pyheap-analyze $(BENCH_SIZES)

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 pyheap-analyze $(DESTDIR)$(BINDIR)/pyheap-analyze

clean:
	rm -rf build build-asan build-tsan build-fuzz pyheap-analyze
