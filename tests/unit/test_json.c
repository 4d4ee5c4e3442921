/* Unit tests of the output side of formats/: JSON writer, escaping, the
 * zstd output stream (round trip through libzstd) and the sticky error. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "../../formats/json.h"
#include "../../formats/output.h"
#include "check.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		*len = (size_t)n;
	}
	return buf;
}

static char tmpdir[] = "/tmp/pha-test-json-XXXXXX";

static char *path_in_tmp(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
		return NULL;
	return p;
}

static void write_sample(struct pha_out *out)
{
	struct pha_json j;
	pha_json_init(&j, out);
	pha_json_object_begin(&j);
	pha_json_key(&j, "s");
	pha_json_string(&j, "a\"b\\c\n\t\x01 é \xff end");
	pha_json_key(&j, "n");
	pha_json_uint(&j, 18446744073709551615ULL);
	pha_json_key(&j, "i");
	pha_json_int(&j, -5);
	pha_json_key(&j, "e");
	pha_json_array_begin(&j);
	pha_json_array_end(&j);
	pha_json_key(&j, "a");
	pha_json_array_begin(&j);
	pha_json_bool(&j, true);
	pha_json_null(&j);
	pha_json_string(&j, NULL);
	pha_json_object_begin(&j);
	pha_json_object_end(&j);
	pha_json_array_end(&j);
	pha_json_object_end(&j);
}

static const char expected[] =
	"{\n"
	"  \"s\": \"a\\\"b\\\\c\\n\\t\\u0001 é \\ufffd end\",\n"
	"  \"n\": 18446744073709551615,\n"
	"  \"i\": -5,\n"
	"  \"e\": [],\n"
	"  \"a\": [\n"
	"    true,\n"
	"    null,\n"
	"    null,\n"
	"    {}\n"
	"  ]\n"
	"}\n";

/* s escaped by fn, as a string. */
static char *escaped(void (*fn)(struct pha_out *, const char *), const char *s)
{
	char *path = path_in_tmp("esc.txt");
	struct pha_out *out;
	char *got = NULL;
	size_t len;
	if (pha_out_open(path, false, 0, &out) == NULL) {
		fn(out, s);
		if (pha_out_close(out) == NULL)
			got = slurp(path, &len);
	}
	unlink(path);
	free(path);
	return got ? got : strdup("(write failed)");
}

/* Is s (len bytes) well-formed UTF-8? An independent check: Unicode's
 * table 3-7 as a byte-range automaton. */
static bool valid_utf8(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned c = s[i];
		size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 :
			   c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (!n || i + n > len)
			return false;
		for (size_t k = 1; k < n; k++) {
			unsigned lo = 0x80, hi = 0xBF, b = s[i + k];
			if (k == 1) {
				if (c == 0xE0) lo = 0xA0;
				if (c == 0xED) hi = 0x9F;
				if (c == 0xF0) lo = 0x90;
				if (c == 0xF4) hi = 0x8F;
			}
			if (b < lo || b > hi)
				return false;
		}
		i += n;
	}
	return true;
}

struct esc_case {
	const char *in, *json, *text;
};

/* Heap strings are any bytes: the JSON writer used to pass overlong forms,
 * UTF-8-encoded surrogates and code points above U+10FFFF through raw
 * (invalid UTF-8 in the report), and C1 controls, DEL and bidi overrides
 * unescaped. */
static const struct esc_case esc_cases[] = {
	{"plain é ü 😀", "plain é ü 😀", "plain é ü 😀"},
	{"\xf5\x80", "\\ufffd\\ufffd", "\\xf5\\x80"},		/* never a lead byte */
	{"a\xff" "b", "a\\ufffdb", "a\\xffb"},
	{"\xc0\xaf", "\\ufffd\\ufffd", "\\xc0\\xaf"},		/* overlong '/' */
	{"\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd", "\\xe0\\x80\\xaf"},	/* overlong, 3 bytes */
	{"\xf0\x80\x80\xaf", "\\ufffd\\ufffd\\ufffd\\ufffd", "\\xf0\\x80\\x80\\xaf"},
	{"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd", "\\xf4\\x90\\x80\\x80"},	/* > U+10FFFF */
	{"\xf7\xbf\xbf\xbf", "\\ufffd\\ufffd\\ufffd\\ufffd", "\\xf7\\xbf\\xbf\\xbf"},
	{"\xed\xa0\x80x", "\\ufffd\\ufffd\\ufffdx", "\\xed\\xa0\\x80x"},	/* lone surrogate D800 */
	{"\xed\xb2\x80\xed\xa0\xbd", "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd",
	 "\\xed\\xb2\\x80\\xed\\xa0\\xbd"},
	{"\xe2\x82", "\\ufffd", "\\xe2\\x82"},			/* cut: one maximal subpart */
	{"\xf0\x9f\x98" "A", "\\ufffdA", "\\xf0\\x9f\\x98A"},
	{"\x80\xbf", "\\ufffd\\ufffd", "\\x80\\xbf"},		/* stray continuations */
	{"\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xf4\x8f\xbf\xbf",
	 "\xef\xbf\xbf\xf4\x8f\xbf\xbf"},			/* U+FFFF, U+10FFFF: valid */
	{"\x1b[31mred\x1b[0m", "\\u001b[31mred\\u001b[0m", "\\x1b[31mred\\x1b[0m"},
	{"\x9b" "31m", "\\ufffd31m", "\\x9b31m"},		/* raw 8-bit CSI */
	{"\xc2\x9b" "31m\xc2\x85", "\\u009b31m\\u0085", "\\u009b31m\\u0085"},	/* C1 CSI, NEL */
	{"del\x7f", "del\\u007f", "del\\x7f"},
	{"a\nb\tc\rd\x07", "a\\nb\\tc\\rd\\u0007", "a\\nb\\tc\\rd\\x07"},
	{"q\"\\", "q\\\"\\\\", "q\"\\"},
	{"evil\xe2\x80\xae" "txt.exe", "evil\\u202etxt.exe", "evil\\u202etxt.exe"},	/* RLO */
	{"\xe2\x80\xa8\xe2\x81\xa6\xef\xbb\xbf\xe2\x80\x8b", "\\u2028\\u2066\\ufeff\\u200b",
	 "\\u2028\\u2066\\ufeff\\u200b"},
};

static void test_escaping(void)
{
	CASE_BEGIN("json/escape-always-valid-utf8");
	for (size_t i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		char *got = escaped(pha_json_escape, esc_cases[i].in);
		CHECKF(!strcmp(got, esc_cases[i].json), "case %zu: got '%s', want '%s'", i, got,
		       esc_cases[i].json);
		free(got);
	}
	/* Every 1-, 2- and 3-byte string (and 4-byte ones over the lead bytes
	 * that matter) comes out as valid UTF-8 with no raw control. */
	unsigned char in[5] = {0};
	size_t bad = 0;
	char *path = path_in_tmp("all.txt");
	struct pha_out *out;
	CHECK(pha_out_open(path, false, 0, &out) == NULL);
	for (unsigned a = 1; a < 256; a++) {
		for (unsigned b = 0; b < 256; b++) {
			for (unsigned c = 0; c < 256; c += (b >= 0x80 && b < 0xC0) ? 1 : 37) {
				in[0] = (unsigned char)a, in[1] = (unsigned char)b, in[2] = (unsigned char)c;
				in[3] = a >= 0xF0 ? 0xBF : 0;
				pha_json_escape(out, (const char *)in);
				pha_out_puts(out, "\n");
			}
		}
	}
	CHECK(pha_out_close(out) == NULL);
	size_t len = 0;
	char *all = slurp(path, &len);
	CHECK(all && valid_utf8((const unsigned char *)all, len));
	for (size_t i = 0; all && i < len; i++)
		bad += ((unsigned char)all[i] < 0x20 && all[i] != '\n') || all[i] == 0x7f;
	CHECKF(bad == 0, "%zu raw control bytes", bad);
	free(all);
	unlink(path);
	free(path);
	CASE_END();

	CASE_BEGIN("text/escape-for-terminal");
	for (size_t i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		char *got = escaped(pha_text_escape, esc_cases[i].in);
		CHECKF(!strcmp(got, esc_cases[i].text), "case %zu: got '%s', want '%s'", i, got,
		       esc_cases[i].text);
		CHECK(valid_utf8((const unsigned char *)got, strlen(got)));
		for (const char *p = got; *p; p++)
			CHECKF((unsigned char)*p >= 0x20 && *p != 0x7f, "case %zu: raw control 0x%02x",
			       i, (unsigned char)*p);
		free(got);
	}
	CASE_END();
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("FAIL setup: mkdtemp\n");
		return 1;
	}
	char *plain = path_in_tmp("r.json"), *packed = path_in_tmp("r.json.zst");

	CASE_BEGIN("json/structure-and-escaping");
	{
		struct pha_out *out;
		CHECK(pha_out_open(plain, false, 0, &out) == NULL);
		write_sample(out);
		CHECK(pha_out_close(out) == NULL);
		size_t len = 0;
		char *got = slurp(plain, &len);
		CHECK(got != NULL);
		CHECKF(got && !strcmp(got, expected), "got:\n%s", got ? got : "(null)");
		free(got);
	}
	CASE_END();

	CASE_BEGIN("output/zstd-round-trip");
	{
		struct pha_out *out;
		CHECK(pha_out_open(packed, true, 3, &out) == NULL);
		/* More than one internal buffer's worth, so streaming is exercised. */
		for (int i = 0; i < 20000; i++)
			pha_out_printf(out, "line %d of the report\n", i);
		CHECK(pha_out_close(out) == NULL);
		size_t len = 0;
		char *z = slurp(packed, &len);
		CHECK(z != NULL);
		unsigned long long raw = z ? ZSTD_getFrameContentSize(z, len) : 0;
		size_t cap = 1 << 20;
		char *dec = malloc(cap);
		size_t n = z ? ZSTD_decompress(dec, cap, z, len) : 0;
		CHECKF(z && !ZSTD_isError(n), "decompress: %s", ZSTD_getErrorName(n));
		(void)raw;
		size_t want = 0;
		char line[64];
		int ok = 1;
		for (int i = 0; i < 20000 && !ZSTD_isError(n); i++) {
			int l = snprintf(line, sizeof(line), "line %d of the report\n", i);
			if (want + (size_t)l > n || memcmp(dec + want, line, (size_t)l)) {
				ok = 0;
				break;
			}
			want += (size_t)l;
		}
		CHECK(ok && want == n);
		free(dec);
		free(z);
	}
	CASE_END();

	CASE_BEGIN("output/error-names-path");
	{
		struct pha_out *out = NULL;
		struct pha_error *err = pha_out_open("/nonexistent-dir/x.json", false, 0, &out);
		CHECK(err != NULL);
		CHECKF(err && strstr(err->message, "/nonexistent-dir/x.json"), "message: %s",
		       err ? err->message : "");
		CHECK(err && pha_error_exit_code(err) == PHA_EXIT_INTERNAL);
		pha_error_destroy(err);
	}
	CASE_END();

	CASE_BEGIN("output/sticky-error-on-full-disk");
	{
		struct pha_out *out = NULL;
		if (access("/dev/full", W_OK) != 0) {
			SKIP_CASE("output/sticky-error-on-full-disk", "/dev/full not available");
		} else {
			CHECK(pha_out_open("/dev/full", false, 0, &out) == NULL);
			for (int i = 0; i < 100000; i++)
				pha_out_puts(out, "some bytes that cannot be written\n");
			struct pha_error *err = pha_out_close(out);
			CHECK(err != NULL);
			CHECKF(err && strstr(err->message, "/dev/full"), "message: %s",
			       err ? err->message : "");
			pha_error_destroy(err);
			CASE_END();
		}
	}

	test_escaping();

	unlink(plain);
	unlink(packed);
	rmdir(tmpdir);
	free(plain);
	free(packed);
	CHECK_EXIT();
}
