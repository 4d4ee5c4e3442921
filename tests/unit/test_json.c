/* Unit tests of the output side of formats/: JSON writer, escaping, the
 * zstd output stream (round trip through libzstd) and the sticky error. */
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

	unlink(plain);
	unlink(packed);
	rmdir(tmpdir);
	free(plain);
	free(packed);
	CHECK_EXIT();
}
