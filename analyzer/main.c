/* pyheap-analyze: the command line. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../formats/output.h"
#include "../formats/report_write.h"
#include "../formats/snapshot.h"
#include "error.h"
#include "heap.h"
#include "progress.h"
#include "report.h"
#include "source.h"
#include "target.h"

enum format { FMT_AUTO, FMT_JSON, FMT_JSON_ZST, FMT_TEXT };

static const char usage_text[] =
	"Usage: pyheap-analyze [OPTIONS] CORE|SNAPSHOT\n"
	"\n"
	"Rebuild the object heap of a CPython process from its core file (plain or\n"
	"zstd-compressed) without running any Python code, and report what is on the\n"
	"heap, what gc.collect() would free, reference cycles and thread stacks.\n"
	"A heap snapshot (.msgpack or .msgpack.zst, from --save-snapshot or from\n"
	"pyheap_dump.py inside the process) is analyzed the same way.\n"
	"\n"
	"Prints a summary on standard output and writes the report to\n"
	"INPUT-BASENAME.pyheap.json.zst in the current directory.\n"
	"\n"
	"Output:\n"
	"  -o, --output FILE         write the report to FILE ('-' = standard output)\n"
	"      --format FMT          json, json.zst or text (default: from the -o name;\n"
	"                            .json -> json, .txt -> text, otherwise json.zst)\n"
	"      --top N               rows per table in the summary (default 10)\n"
	"      --dump-objects FILE   also write every object as TSV (address, type,\n"
	"                            size, refcnt, flags, unreachable) for debugging\n"
	"      --save-snapshot FILE  also write the reconstructed heap as a snapshot\n"
	"                            (zstd-compressed when FILE ends in .zst), small\n"
	"                            enough to attach to a ticket instead of the core\n"
	"      --redact              leave the command line, string and bytes contents\n"
	"                            and dict-key strings out of the report (previews,\n"
	"                            path labels) and of the snapshot\n"
	"      --suspect-threshold P  report an object retaining at least P percent of\n"
	"                            the heap as a leak suspect (default 10)\n"
	"      --dump-why FILE       debugging aid: write the layout's labelled roots,\n"
	"                            frame locals with previews and the labelled\n"
	"                            references of each local's value as TSV (core only)\n"
	"  -q, --quiet               no summary, no progress\n"
	"  -v, --verbose             explain what was found and chosen (repeat for more)\n"
	"\n"
	"Finding the binaries the process had mapped (needed for symbols and for\n"
	"memory the core left out):\n"
	"      --executable FILE     the program's executable\n"
	"      --lib-search-path DIR[:DIR...]\n"
	"                            look for shared libraries by file name here\n"
	"      --sysroot DIR         prefix for the paths recorded in the core\n"
	"                            (cores from containers or other machines)\n"
	"\n"
	"      --list-layouts        list the CPython layouts this build knows\n"
	"      --force-layout X.Y    use the layout of CPython X.Y whatever the version\n"
	"                            found (pre-releases and unverified versions)\n"
	"  -h, --help                this help\n"
	"  -V, --version             version\n"
	"\n"
	"Exit status: 0 done, 2 usage error, 3 input not usable (not a core, truncated\n"
	"beyond use, no CPython found, unsupported version, needed binaries missing,\n"
	"malformed snapshot),\n"
	"4 internal or resource error.\n";

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "pyheap-analyze: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'pyheap-analyze --help' for more information.\n");
	exit(PHA_EXIT_USAGE);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static const char *flag_names(uint8_t f, char *buf, size_t size)
{
	buf[0] = 0;
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {
		{PHA_OBJ_GC, "gc"}, {PHA_OBJ_PERMANENT, "permanent"},
		{PHA_OBJ_IMMORTAL, "immortal"}, {PHA_OBJ_CONSERVATIVE, "conservative"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (f & names[i].bit) {
			if (buf[0])
				strncat(buf, ",", size - strlen(buf) - 1);
			strncat(buf, names[i].name, size - strlen(buf) - 1);
		}
	}
	if (!buf[0])
		snprintf(buf, size, "-");
	return buf;
}

static struct pha_error *dump_objects(const char *path, const struct pha_heap *h,
				      const struct pha_report *r)
{
	struct pha_out *out;
	struct pha_error *err = pha_out_open(path, false, 0, &out);
	if (err)
		return err;
	pha_out_puts(out, "address\ttype\tsize\trefcnt\tflags\tunreachable\n");
	for (uint32_t v = 0; v < h->n; v++) {
		char fb[64];
		pha_out_printf(out, "0x%" PRIx64 "\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\t%d\n",
			       h->addr[v], h->types[h->type[v]].name, h->size[v], h->refcnt[v],
			       flag_names(h->flags[v], fb, sizeof(fb)), r->unreachable[v]);
	}
	return pha_out_close(out);
}

/* --dump-why FILE (a debugging aid for the tests of the layout's
 * why-is-it-alive operations): TSV lines
 *   root   ADDR KIND THREAD LABEL             every labelled root
 *   local  THREAD FRAME FUNC FILE LINE NAME ADDR PREVIEW   frame locals
 *   edge   SRC DST LABEL PREVIEW              references of each local's value */
struct why_dump {
	struct pha_out *out;
	const struct pha_target *t;
};

static const char *why_clean(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '\t' || *p == '\n')
			*p = ' ';
	return s;
}

static void why_root(void *arg, const struct pha_root *root)
{
	static const char *const kinds[] = {"?", "modules", "sysdict", "builtins", "interned",
					    "thread", "frame_local", "frame", "static_type"};
	struct why_dump *d = arg;
	char label[1024];
	snprintf(label, sizeof(label), "%s", root->label);
	pha_out_printf(d->out, "root\t0x%" PRIx64 "\t%s\t0x%" PRIx64 "\t%s\n", root->addr,
		       root->kind >= 1 && root->kind <= 8 ? kinds[root->kind] : "?", root->thread_id,
		       why_clean(label));
}

struct why_edges {
	struct why_dump *d;
	uint64_t src;
	unsigned n;
};

static void why_edge(void *arg, uint64_t addr, unsigned flags)
{
	struct why_edges *e = arg;
	const struct pha_layout *l = e->d->t->layout;
	if (e->n++ >= 64)
		return;
	char label[256], prev[512];
	if (!l->edge_label(e->d->t->py, e->src, addr, false, label, sizeof(label)))
		snprintf(label, sizeof(label), "-");
	if (!l->preview(e->d->t->py, addr, false, prev, sizeof(prev)))
		prev[0] = 0;
	pha_out_printf(e->d->out, "edge\t0x%" PRIx64 "\t0x%" PRIx64 "\t%s\t%s\n", e->src, addr,
		       why_clean(label), why_clean(prev));
}

static void why_thread(void *arg, const struct pha_thread_info *th)
{
	struct why_dump *d = arg;
	const struct pha_layout *l = d->t->layout;
	for (size_t i = 0; i < th->nframes; i++) {
		const struct pha_frame_info *f = &th->frames[i];
		for (size_t j = 0; j < f->nlocals; j++) {
			uint64_t v = f->locals[j].value;
			char prev[512], fn[512], file[1024], name[256];
			if (!v || !l->preview(d->t->py, v, false, prev, sizeof(prev)))
				prev[0] = 0;
			snprintf(fn, sizeof(fn), "%s", f->function);
			snprintf(file, sizeof(file), "%s", f->filename);
			snprintf(name, sizeof(name), "%s", f->locals[j].name);
			pha_out_printf(d->out, "local\t0x%" PRIx64 "\t%zu\t%s\t%s\t%d\t%s\t0x%" PRIx64 "\t%s\n",
				       th->thread_id, i, why_clean(fn), why_clean(file), f->line,
				       why_clean(name), v, why_clean(prev));
			struct pha_object_info info;
			struct pha_error *e;
			if (!v || (e = l->object_info(d->t->py, v, &info))) {
				if (v)
					pha_error_destroy(e);
				continue;
			}
			struct why_edges we = {.d = d, .src = v};
			if ((e = l->for_each_ref(d->t->py, v, &info, why_edge, &we)))
				pha_error_destroy(e);
		}
	}
}

static struct pha_error *dump_why(const char *path, const struct pha_target *t)
{
	if (!t->layout->labelled_roots || !t->layout->edge_label || !t->layout->preview)
		return pha_error_create(PHA_ERR_INPUT, "--dump-why: the layout %s does not provide "
						     "labelled roots, edge labels and previews",
				     t->layout->name);
	struct why_dump d = {.t = t};
	struct pha_error *err = pha_out_open(path, false, 0, &d.out);
	if (err)
		return err;
	if (!(err = t->layout->labelled_roots(t->py, why_root, &d)))
		err = t->layout->threads(t->py, why_thread, &d);
	struct pha_error *e2 = pha_out_close(d.out);
	if (err) {
		if (e2)
			pha_error_destroy(e2);
		return err;
	}
	return e2;
}

static char **split_path(const char *s)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ':';
	char **v = calloc(n + 1, sizeof(*v));
	char *copy = strdup(s);
	if (!v || !copy) {
		free(v);
		free(copy);
		return NULL;
	}
	size_t k = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		v[k++] = strdup(tok);
	free(copy);
	return v;
}

int main(int argc, char **argv)
{
	const char *output = NULL, *dump = NULL, *save_snapshot = NULL, *dump_why_path = NULL;
	bool redact = false;
	double threshold = 10.0;
	enum format fmt = FMT_AUTO;
	int top = 10, quiet = 0, verbose = 0;
	struct pha_target_options topts = {0};
	char **search = NULL;

	enum { OPT_FORMAT = 256, OPT_EXE, OPT_LIBPATH, OPT_SYSROOT, OPT_DUMP, OPT_TOP, OPT_LIST,
	       OPT_FORCE, OPT_SAVE_SNAPSHOT, OPT_REDACT, OPT_DUMP_WHY, OPT_THRESHOLD };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"executable", required_argument, NULL, OPT_EXE},
		{"lib-search-path", required_argument, NULL, OPT_LIBPATH},
		{"sysroot", required_argument, NULL, OPT_SYSROOT},
		{"dump-objects", required_argument, NULL, OPT_DUMP},
		{"top", required_argument, NULL, OPT_TOP},
		{"list-layouts", no_argument, NULL, OPT_LIST},
		{"force-layout", required_argument, NULL, OPT_FORCE},
		{"save-snapshot", required_argument, NULL, OPT_SAVE_SNAPSHOT},
		{"redact", no_argument, NULL, OPT_REDACT},
		{"dump-why", required_argument, NULL, OPT_DUMP_WHY},
		{"suspect-threshold", required_argument, NULL, OPT_THRESHOLD},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":o:qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "json"))
				fmt = FMT_JSON;
			else if (!strcmp(optarg, "json.zst"))
				fmt = FMT_JSON_ZST;
			else if (!strcmp(optarg, "text"))
				fmt = FMT_TEXT;
			else
				die_usage("unknown format '%s' (json, json.zst or text)", optarg);
			break;
		case OPT_EXE:
			topts.modules.executable = optarg;
			break;
		case OPT_LIBPATH:
			free(search);
			search = split_path(optarg);
			topts.modules.search_path = (const char *const *)search;
			break;
		case OPT_SYSROOT:
			topts.modules.sysroot = optarg;
			break;
		case OPT_DUMP:
			dump = optarg;
			break;
		case OPT_SAVE_SNAPSHOT:
			save_snapshot = optarg;
			break;
		case OPT_REDACT:
			redact = true;
			break;
		case OPT_DUMP_WHY:
			dump_why_path = optarg;
			break;
		case OPT_THRESHOLD: {
			char *end;
			double v = strtod(optarg, &end);
			if (*end || !(v > 0 && v <= 100))
				die_usage("--suspect-threshold needs a percentage above 0 and at most 100, "
					  "not '%s'", optarg);
			threshold = v;
			break;
		}
		case OPT_TOP: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1000000)
				die_usage("--top needs a number from 1 to 1000000, not '%s'", optarg);
			top = (int)v;
			break;
		}
		case OPT_FORCE: {
			unsigned maj, min;
			char extra;
			if (sscanf(optarg, "%u.%u%c", &maj, &min, &extra) != 2 || maj != 3 || min > 255)
				die_usage("--force-layout needs a version 3.Y, not '%s'", optarg);
			topts.force_minor = min;
			topts.force_layout = true;
			break;
		}
		case OPT_LIST:
			for (size_t i = 0; pha_builtin_layouts[i]; i++)
				printf("%-14s %s\n", pha_builtin_layouts[i]->name,
				       pha_builtin_layouts[i]->description);
			return 0;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("pyheap-analyze %s\n", PHA_VERSION);
			return 0;
		case ':':
			die_usage("option '%s' needs an argument", argv[optind - 1]);
			break;
		default:
			die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die_usage("%s", "no core file given");
	if (optind + 1 < argc)
		die_usage("only one core file at a time (extra argument '%s')", argv[optind + 1]);
	const char *core = argv[optind];
	topts.verbose = verbose;

	char *default_out = NULL;
	if (!output) {
		const char *b = strrchr(core, '/');
		b = b ? b + 1 : core;
		if (asprintf(&default_out, "%s.pyheap.%s", b,
			     fmt == FMT_TEXT ? "txt" : fmt == FMT_JSON ? "json" : "json.zst") < 0)
			return PHA_EXIT_INTERNAL;
		output = default_out;
	}
	if (fmt == FMT_AUTO)
		fmt = ends_with(output, ".json") ? FMT_JSON
		      : ends_with(output, ".txt") ? FMT_TEXT
		      : !strcmp(output, "-") ? FMT_JSON : FMT_JSON_ZST;
	pha_progress_enable(!quiet);

	struct pha_target *t = NULL;
	struct pha_source src;
	struct pha_heap *h = NULL;
	struct pha_report *r = NULL;
	struct pha_out *out = NULL;
	struct pha_error *err;
	int code = 0;
	pha_source_init(&src);
	src.verbose = verbose;
	if (pha_snapshot_sniff(core)) {
		if ((err = pha_snapshot_read(core, &src, &h)))
			goto fail;
	} else {
		if ((err = pha_target_open(core, &topts, &t)))
			goto fail;
		if ((err = pha_heap_build(t, &h)))
			goto fail;
		if ((err = pha_source_from_target(t, &src)))
			goto fail;
		if (dump_why_path && (err = dump_why(dump_why_path, t)))
			goto fail;
	}
	if (save_snapshot) {
		struct pha_snapshot_write_options so = {
			.compress = ends_with(save_snapshot, ".zst"),
			.redact = redact,
			.written_by = "pyheap-analyze " PHA_VERSION,
		};
		if ((err = pha_snapshot_write(save_snapshot, &src, h, &so)))
			goto fail;
	}
	struct pha_report_options ropts = {
		.suspect_threshold = threshold / 100.0, .redact = redact, .top = 20,
	};
	if ((err = pha_report_build(&src, h, &ropts, &r)))
		goto fail;
	if (dump && (err = dump_objects(dump, h, r)))
		goto fail;
	if ((err = pha_out_open(output, fmt == FMT_JSON_ZST, 6, &out)))
		goto fail;
	if (fmt == FMT_TEXT)
		pha_report_write_text(r, out, top);
	else
		pha_report_write_json(r, out);
	err = pha_out_close(out);
	if (err)
		goto fail;
	if (!quiet && strcmp(output, "-")) {
		struct pha_out *so;
		if (!pha_out_open("-", false, 0, &so)) {
			if (fmt != FMT_TEXT)
				pha_report_write_text(r, so, top);
			pha_out_printf(so, "\nReport written to %s\n", output);
			struct pha_error *e2 = pha_out_close(so);
			if (e2) {
				err = e2;
				goto fail;
			}
		}
	}
	goto out;

fail:
	pha_progress_done();
	fprintf(stderr, "pyheap-analyze: %s\n", err->message);
	code = pha_error_exit_code(err);
	pha_error_destroy(err);
out:
	pha_report_destroy(r);
	pha_heap_destroy(h);
	pha_source_deinit(&src);
	pha_target_destroy(t);
	free(default_out);
	if (search) {
		for (size_t i = 0; search[i]; i++)
			free(search[i]);
		free(search);
	}
	return code;
}
