/* Unit tests of reading a report back: the strict JSON parser
 * (formats/json_parse.c) on valid and hostile text, and the report reader
 * (formats/report_read.c) on a small report holding every section: read,
 * written again by the JSON writer, read and written again gives the same
 * bytes, and the model holds what the text says. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../formats/json_parse.h"
#include "../../formats/output.h"
#include "../../formats/report_read.h"
#include "../../formats/report_write.h"
#include "check.h"

static char tmpdir[] = "/tmp/pha-test-report-read-XXXXXX";

static const struct pha_json_limits lim = {.max_depth = 8, .max_values = 64, .max_bytes = 4096};

/* Parse text; *msg gets the error message (or NULL). */
static const struct pha_jv *parse(struct pha_arena *a, const char *text, size_t len, char **msg)
{
	const struct pha_jv *v = NULL;
	struct pha_error *err = pha_json_parse(text, len, "t.json", &lim, a, a, &v);
	*msg = NULL;
	if (err) {
		*msg = strdup(err->message);
		pha_error_destroy(err);
	}
	return v;
}

static void test_valid(void)
{
	struct pha_arena a;
	char *msg;
	CASE_BEGIN("json_parse/valid");
	pha_arena_init(&a);
	static const char text[] = " {\"a\": [0, -5, 18446744073709551615, 18446744073709551616, 1.5e3,"
				   " -9223372036854775808, true, false, null, {}, []],"
				   " \"s\": \"\\u00e9\\ud83d\\ude00\\n\\\"\\/\\t\xc3\xa9\"} ";
	const struct pha_jv *v = parse(&a, text, sizeof(text) - 1, &msg);
	CHECKF(v && !msg, "%s", msg ? msg : "");
	const struct pha_jv *arr = pha_jv_get(v, "a"), *s = pha_jv_get(v, "s");
	CHECK(arr && arr->type == PHA_JV_ARRAY && arr->n == 11);
	if (arr && arr->n == 11) {
		CHECK(arr->kids[0].num == PHA_JNUM_UINT && arr->kids[0].u == 0);
		CHECK(arr->kids[1].num == PHA_JNUM_NEG && arr->kids[1].i == -5);
		CHECK(arr->kids[2].num == PHA_JNUM_UINT && arr->kids[2].u == UINT64_MAX);
		CHECK(arr->kids[3].num == PHA_JNUM_OTHER);
		CHECK(arr->kids[4].num == PHA_JNUM_OTHER);
		CHECK(arr->kids[5].num == PHA_JNUM_NEG && arr->kids[5].i == INT64_MIN);
		CHECK(arr->kids[6].type == PHA_JV_TRUE && arr->kids[8].type == PHA_JV_NULL);
		CHECK(arr->kids[9].type == PHA_JV_OBJECT && arr->kids[9].n == 0);
	}
	CHECK(s && s->type == PHA_JV_STRING &&
	      !strcmp(s->s, "\xc3\xa9\xf0\x9f\x98\x80\n\"/\t\xc3\xa9") && s->n == strlen(s->s));
	free(msg);
	pha_arena_deinit(&a);
	CASE_END();
}

static void test_invalid(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"", "unexpected end of input"},
		{"  ", "unexpected end of input"},
		{"[1,]", "unexpected character ']'"},
		{"{\"a\":1,}", "expected a string key"},
		{"{\"a\" 1}", "expected ':'"},
		{"[01]", "leading zero"},
		{"[1.]", "no digit after '.'"},
		{"[1e]", "exponent"},
		{"[-]", "invalid number"},
		{"[NaN]", "unexpected character 'N'"},
		{"[tru]", "unexpected character 't'"},
		{"{} x", "data after the JSON value"},
		{"\"abc", "unterminated string"},
		{"\"\\ud800\"", "lone high surrogate"},
		{"\"\\ud800\\u0041\"", "lone high surrogate"},
		{"\"\\udc00\"", "lone low surrogate"},
		{"\"\\u0000\"", "NUL"},
		{"\"\\u12\"", "4 hex digits"},
		{"\"\\x\"", "invalid escape"},
		{"\"a\tb\"", "control character"},
		{"\"\xc0\x80\"", "invalid UTF-8"},
		{"\"\xed\xa0\x80\"", "invalid UTF-8"},
		{"\"\xf5\x80\x80\x80\"", "invalid UTF-8"},
		{"\"\xe2\x82\"", "invalid UTF-8"},
		{"\xef\xbb\xbf{}", "unexpected character \\xef"},
		{"[[[[[[[[[1]]]]]]]]]", "nested deeper than 8"},
		{"[{\"a\":1,\"b\":2,\"c\":3}, 1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,"
		 "1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0]", "more than 64 values"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[64], *msg;
		struct pha_arena a;
		snprintf(name, sizeof(name), "json_parse/invalid-%zu", i);
		CASE_BEGIN(name);
		pha_arena_init(&a);
		const struct pha_jv *v = parse(&a, cases[i].text, strlen(cases[i].text), &msg);
		CHECKF(!v && msg && strstr(msg, cases[i].want) && strstr(msg, "t.json: not valid JSON at byte offset"),
		       "%s: got %s", cases[i].want, msg ? msg : "success");
		free(msg);
		pha_arena_deinit(&a);
		CASE_END();
	}
	/* a NUL byte inside, and the size limit */
	char *msg;
	struct pha_arena a;
	CASE_BEGIN("json_parse/nul-byte-and-size");
	pha_arena_init(&a);
	CHECK(!parse(&a, "\"a\0b\"", 5, &msg) && msg && strstr(msg, "control character \\x00"));
	free(msg);
	char *big = calloc(1, 5000);
	memset(big, ' ', 4999);
	big[0] = '1';
	CHECK(!parse(&a, big, 4999, &msg) && msg && strstr(msg, "more than the 4096"));
	free(msg);
	free(big);
	pha_arena_deinit(&a);
	CASE_END();
}

/* Every section, each with something in it. */
static const char report_text[] =
	"{\"schema\": \"pyheap-analyze.report/3\", \"tool\": {\"name\": \"pyheap-analyze\", \"version\": \"x\"},"
	" \"input\": {\"path\": \"/tmp/core.1\", \"kind\": \"core\", \"bytes\": 123, \"compressed\": true},"
	" \"python\": {\"version\": \"3.12.1\", \"hexversion\": 51118576, \"layout\": \"3.12\", \"free_threaded\": false},"
	" \"process\": {\"pid\": 42, \"signal\": 6, \"executable\": \"/usr/bin/python3\", \"argv\": [\"python3\", \"a b.py\"]},"
	" \"redacted\": false, \"future_key\": {\"x\": [1, 2.5]},"
	" \"summary\": {\"objects\": 10, \"gc_objects\": 4, \"bytes\": 1000, \"edges\": 20, \"unreachable_objects\": 2,"
	" \"unreachable_bytes\": 100, \"unreachable_freed_objects\": 3, \"cycles\": 1, \"cycle_objects\": 2, \"cycle_bytes\": 100,"
	" \"user_cycles\": 1, \"user_cycle_objects\": 2, \"user_cycle_bytes\": 100, \"permanent_objects\": 0,"
	" \"conservative_objects\": 0, \"unknown_refs\": 5},"
	" \"types\": [{\"name\": \"dict\", \"count\": 5, \"bytes\": 600, \"gc_count\": 5, \"unreachable\": 0, \"unreachable_bytes\": 0,"
	"  \"top_allocation\": {\"filename\": \"b.py\", \"line\": 3, \"count\": 2}},"
	"  {\"name\": \"__main__.Node\", \"count\": 2, \"bytes\": 100, \"gc_count\": 2, \"unreachable\": 2, \"unreachable_bytes\": 100}],"
	" \"unreachable\": {\"types\": [{\"name\": \"__main__.Node\", \"count\": 2, \"bytes\": 100}],"
	"  \"groups\": [{\"signature\": \"__main__.Node\\u00d72\", \"instances\": 1, \"objects\": 2, \"bytes\": 100}]},"
	" \"cycles\": [{\"signature\": \"__main__.Node\\u00d72\", \"instances\": 1, \"objects\": 2, \"bytes\": 100,"
	"  \"unreachable\": true, \"kind\": \"user\"}, {\"signature\": \"module\", \"instances\": 1, \"objects\": 3,"
	"  \"bytes\": 10, \"unreachable\": false, \"kind\": \"module-world\"}],"
	" \"threads\": [{\"thread_id\": 1, \"native_id\": null, \"crashed\": true, \"frames\": [{\"function\": \"f\","
	"  \"filename\": \"a.py\", \"line\": null, \"locals\": [{\"name\": \"x\", \"type\": \"dict\", \"address\": 4096,"
	"  \"preview\": \"len=1\", \"retained\": 600}, {\"name\": \"y\", \"type\": null, \"address\": null, \"preview\": null,"
	"  \"retained\": 0}]}, {\"function\": \"<module>\", \"filename\": \"a.py\", \"line\": 9, \"locals\": []}]}],"
	" \"roots\": {\"interpreter\": 3, \"held_from_outside\": 1, \"held_from_outside_bytes\": 50, \"labelled\": true, \"edge_labels\": true},"
	" \"retained\": {\"heap_objects\": 8, \"heap_bytes\": 900, \"top_level_bytes\": 900, \"unrooted_objects\": 2,"
	"  \"unrooted_bytes\": 100, \"types\": [{\"name\": \"dict\", \"retained_bytes\": 700}],"
	"  \"top\": [{\"address\": 4096, \"type\": \"dict\", \"shallow\": 100, \"retained\": 600, \"retained_native\": 7,"
	"  \"path\": [{\"label\": \"sys.modules\", \"type\": \"dict\", \"address\": 8192}, {\"label\": \"['app']\", \"type\": \"module\","
	"  \"address\": 4096}], \"path_elided\": 0, \"allocated_at\": {\"filename\": \"a.py\", \"line\": 2, \"objects\": 1}}]},"
	" \"leak_suspects\": [{\"kind\": \"accumulation\", \"type\": \"dict\", \"address\": 4096, \"objects\": 3, \"excess_refs\": 0,"
	"  \"retained_bytes\": 600, \"native_bytes\": 0, \"holds\": {\"type\": \"str\", \"count\": 2, \"retained_bytes\": 100},"
	"  \"path\": [], \"path_elided\": 0, \"sentence\": \"A dict holds it.\"}, {\"kind\": \"unexplained_refs\", \"type\": \"list\","
	"  \"address\": null, \"objects\": 1, \"excess_refs\": 200, \"retained_bytes\": 56, \"native_bytes\": 0, \"holds\": null,"
	"  \"path\": [], \"path_elided\": 0, \"sentence\": \"leak\"}],"
	" \"held_by_c\": {\"objects\": 1, \"bytes\": 8, \"types\": [{\"type\": \"type\", \"objects\": 1, \"excess_refs\": 1, \"bytes\": 8,"
	"  \"retained_bytes\": 8, \"example\": 12288, \"reason\": \"static\"}]},"
	" \"waste\": {\"available\": true, \"duplicate_str\": {\"groups\": 1, \"copies\": 2, \"wasted_bytes\": 60, \"top\":"
	"  [{\"preview\": \"'ab'\", \"copies\": 2, \"wasted_bytes\": 60, \"address\": 16384}]}, \"duplicate_bytes\": {\"groups\": 0,"
	"  \"copies\": 0, \"wasted_bytes\": 0, \"top\": []}, \"empty_containers\": {\"count\": 1, \"bytes\": 64, \"types\":"
	"  [{\"name\": \"dict\", \"count\": 1, \"bytes\": 64}]}, \"mostly_empty_containers\": {\"count\": 0, \"bytes\": 0, \"types\": []}},"
	" \"memory\": {\"available\": true, \"total_bytes\": 4096, \"mappings\": 2, \"file_mappings\": 1, \"anonymous_mappings\": 1,"
	"  \"stack_mappings\": 0, \"categories\": [{\"name\": \"python_objects\", \"bytes\": 1000}, {\"name\": \"executable_and_libraries\", \"bytes\": 3096}],"
	"  \"attributed_bytes\": 1000, \"unattributed_bytes\": 0, \"pymalloc\": {\"found\": true, \"how\": \"symbols\", \"arenas\": 1,"
	"  \"arena_size\": 1048576, \"pool_size\": 16384, \"arena_bytes\": 1048576, \"allocated_bytes\": 1000, \"free_bytes\": 2000,"
	"  \"available_block_bytes\": 100, \"empty_pools\": 3, \"overhead_bytes\": 1045576, \"corrupt\": 0, \"arena_table\": 1, \"arena_slots\": 16,"
	"  \"size_classes\": [{\"block_size\": 16, \"pools\": 1, \"used_blocks\": 3, \"free_blocks\": 4}]}, \"malloc\": {\"allocator\": \"glibc\","
	"  \"walked\": true, \"how\": \"symbol main_arena\", \"in_use_bytes\": 1, \"in_use_chunks\": 1, \"free_bytes\": 2, \"free_chunks\": 1,"
	"  \"tcache_bytes\": 0, \"top_bytes\": 3, \"mmapped_bytes\": 0, \"mmapped_chunks\": 0, \"overhead_bytes\": 0, \"corrupt\": 0, \"arenas\":"
	"  [{\"address\": 1, \"main\": true, \"heaps\": 1, \"system_bytes\": 6, \"in_use_bytes\": 1, \"free_bytes\": 2, \"top_bytes\": 3}]},"
	"  \"native_by_type\": [{\"type\": \"numpy.ndarray\", \"objects\": 1, \"bytes\": 7, \"inferred_bytes\": 0}],"
	"  \"largest_unattributed\": [{\"address\": 5, \"bytes\": 6}]},"
	" \"allocations\": {\"tracing\": true, \"available\": true, \"max_frames\": 2, \"traced_bytes\": 10, \"peak_bytes\": 20, \"traces\": 3,"
	"  \"by_line\": [{\"filename\": \"z.py\", \"line\": 1, \"bytes\": 6, \"count\": 2}, {\"filename\": \"a.py\", \"line\": 2, \"bytes\": 4,"
	"  \"count\": 1}], \"by_traceback\": [{\"frames\": [{\"filename\": \"z.py\", \"line\": 1}, {\"filename\": \"m.py\", \"line\": 7}],"
	"  \"bytes\": 6, \"count\": 2}]},"
	" \"warnings\": [\"one\", \"two \\u001b[31m\"]}";

static char *tmp_path(const char *name)
{
	static char buf[4][256];
	static int k;
	char *p = buf[k++ % 4];
	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return false;
	bool ok = fwrite(text, 1, strlen(text), f) == strlen(text);
	return fclose(f) == 0 && ok;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	(void)n;
	fclose(f);
	return buf;
}

static bool write_json(const struct pha_report *r, const char *path, bool zst)
{
	struct pha_out *out;
	if (pha_out_open(path, zst, 3, &out))
		return false;
	pha_report_write_json(r, out);
	return pha_out_close(out) == NULL;
}

static void check_model(const struct pha_report *r)
{
	CHECK(!strcmp(r->input_path, "/tmp/core.1") && r->compressed && r->input_bytes == 123);
	CHECK(!strcmp(r->version, "3.12.1") && r->hexversion == 51118576 && r->pid == 42 && r->signal == 6);
	CHECK(r->argc == 2 && !strcmp(r->argv[1], "a b.py") && !r->redacted);
	CHECK(r->ntypes == 2 && r->types[0].top_alloc.file && r->types[0].top_alloc.objects == 2);
	CHECK(r->nunreachable_types == 1 && r->unreachable_types[0] == &r->types[1]);
	CHECK(r->ncycles == 2 && !r->cycles[0].world && r->cycles[1].world && r->cycles[0].unreachable);
	CHECK(r->nthreads == 1 && r->threads[0].nframes == 2 && r->threads[0].native_id == 0);
	CHECK(r->threads[0].frames[0].line == -1 && r->threads[0].frames[1].line == 9);
	CHECK(r->why.locals && r->threads[0].frames[0].nlocals == 2 &&
	      !strcmp(r->why.locals[0][0][0].name, "x") && !r->why.locals[0][0][1].type);
	CHECK(r->why.ntop == 1 && r->why.top[0].path.n == 2 && r->why.top[0].retained_native == 7);
	CHECK(r->why.nsuspects == 2 && r->why.suspects[0].kind == PHA_SUSPECT_ACCUMULATION &&
	      !strcmp(r->why.suspects[0].holds_type, "str") && !r->why.suspects[1].holds_type);
	CHECK(r->why.nheld_by_c == 1 && r->why.waste.available && r->why.waste.dup_str.ntop == 1);
	CHECK(r->memory && r->memory->cat[PHA_MEM_PYTHON_OBJECTS] == 1000 && r->memory->cat[PHA_MEM_IMAGES] == 3096);
	CHECK(r->memory->pymalloc.nclasses == 1 && r->memory->malloc.narenas == 1 && r->memory->nlargest == 1);
	const struct pha_allocs *a = r->allocs;
	CHECK(a && a->traces && a->nfiles == 3 && !strcmp(a->files[0], "a.py") && !strcmp(a->files[2], "z.py"));
	CHECK(a && a->nby_line == 2 && a->by_line[0].file == 2 && a->ntb == 1 && a->tb_first[1] == 2);
	CHECK(r->nwarnings == 2 && !strcmp(r->warnings[1], "two \x1b[31m"));
}

static void test_report(void)
{
	struct pha_report *r = NULL, *r2 = NULL;
	struct pha_error *err;
	CASE_BEGIN("report_read/every-section-round-trip");
	CHECK(write_file(tmp_path("in.json"), report_text));
	CHECK(pha_report_sniff(tmp_path("in.json")));
	err = pha_report_read(tmp_path("in.json"), &r);
	CHECKF(!err, "%s", err ? err->message : "");
	if (r) {
		check_model(r);
		CHECK(write_json(r, tmp_path("out1.json.zst"), true));
		CHECK(pha_report_sniff(tmp_path("out1.json.zst")));
		err = pha_report_read(tmp_path("out1.json.zst"), &r2);
		CHECKF(!err, "%s", err ? err->message : "");
	}
	if (r2) {
		check_model(r2);
		CHECK(write_json(r, tmp_path("out1.json"), false));
		CHECK(write_json(r2, tmp_path("out2.json"), false));
		char *a = slurp(tmp_path("out1.json")), *b = slurp(tmp_path("out2.json"));
		CHECK(a && b && !strcmp(a, b) && strlen(a) > 1000);
		free(a);
		free(b);
	}
	pha_report_read_destroy(r);
	pha_report_read_destroy(r2);
	pha_report_read_destroy(NULL);
	CASE_END();
}

/* Replace the first `from` in the report text by `to` and read it. */
static char *read_edited(const char *from, const char *to)
{
	const char *at = strstr(report_text, from);
	if (!at)
		return strdup("test bug: no such text");
	size_t n = strlen(report_text) + strlen(to) + 1;
	char *text = malloc(n);
	snprintf(text, n, "%.*s%s%s", (int)(at - report_text), report_text, to, at + strlen(from));
	write_file(tmp_path("edited.json"), text);
	free(text);
	struct pha_report *r = NULL;
	struct pha_error *err = pha_report_read(tmp_path("edited.json"), &r);
	pha_report_read_destroy(r);
	char *msg = err ? strdup(err->message) : NULL;
	if (err && pha_error_exit_code(err) != PHA_EXIT_INPUT) {
		free(msg);
		msg = strdup("wrong exit code");
	}
	pha_error_destroy(err);
	return msg;
}

static void test_report_errors(void)
{
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
		{"report/3", "report/9", "unknown report schema \"pyheap-analyze.report/9\""},
		{"\"bytes\": 123", "\"bytes\": -1", "$.input.bytes: expected an unsigned integer"},
		{"\"objects\": 10", "\"objects\": 1e3", "$.summary.objects: expected an unsigned"},
		{"\"hexversion\": 51118576", "\"hexversion\": 4294967296", "$.python.hexversion"},
		{"\"line\": 9", "\"line\": \"9\"", "$.threads[0].frames[1].line: expected an unsigned integer, found a string"},
		{"\"kind\": \"module-world\"", "\"kind\": \"other\"", "$.cycles[1].kind"},
		{"\"name\": \"executable_and_libraries\"", "\"name\": \"nope\"", "$.memory.categories[1]: unknown memory category"},
		{"\"redacted\": false,", "\"redacted\": false, \"redacted\": true,", "$.redacted: the key appears twice"},
		{"\"types\": [{\"name\": \"dict\", \"count\": 5", "\"types\": [{\"count\": 5", "$.types[0]: the key \"name\" is missing"},
		{"\"version\": \"3.12.1\"", "\"version\": \"3.12.1-with-a-very-long-suffix-0123456789\"", "$.python.version"},
		{"\"threads\": [", "\"threadz\": [", "the key \"threads\" is missing"},
		{"{\"schema\": \"pyheap-analyze.report/3\",", "{", "no \"schema\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[64];
		snprintf(name, sizeof(name), "report_read/error-%zu", i);
		CASE_BEGIN(name);
		char *msg = read_edited(cases[i].from, cases[i].to);
		CHECKF(msg && strstr(msg, cases[i].want) && strstr(msg, "edited.json"), "want %s, got %s",
		       cases[i].want, msg ? msg : "success");
		free(msg);
		CASE_END();
	}
	CASE_BEGIN("report_read/report2-and-sniff");
	{
		char *msg = read_edited("report/3", "report/2");
		CHECKF(!msg, "%s", msg);
		free(msg);
		write_file(tmp_path("core"), "\x7f" "ELF");
		CHECK(!pha_report_sniff(tmp_path("core")) && !pha_report_sniff(tmp_path("missing")));
	}
	CASE_END();
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("FAIL setup: mkdtemp\n");
		return 1;
	}
	test_valid();
	test_invalid();
	test_report();
	test_report_errors();
	const char *names[] = {"in.json", "out1.json.zst", "out1.json", "out2.json", "edited.json", "core"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(tmp_path(names[i]));
	rmdir(tmpdir);
	CHECK_EXIT();
}
