/* libFuzzer target: reading a saved report back (formats/report_read.c,
 * json_parse.c), plain or .zst. Whatever the bytes: an error, or a report
 * that every writer renders; and then the JSON written from it reads back
 * and is written again byte for byte (the reader keeps everything the
 * JSON writer writes). */
#include "../../formats/report_read.h"
#include "../../formats/report_write.h"
#include "fuzz_common.h"

static char out1[64], out2[64];

static void cleanup(void)
{
	unlink(out1);
	unlink(out2);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		abort();
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void write_json(const struct pha_report *r, const char *path)
{
	struct pha_out *out;
	if (pha_out_open(path, false, 0, &out))
		abort();
	pha_report_write_json(r, out);
	if (pha_out_close(out))
		abort();
}

static void render_all(const struct pha_report *r)
{
	struct pha_out *out;
	if (pha_out_open("/dev/null", false, 0, &out))
		abort();
	pha_report_write_text(r, out, 10);
	pha_error_destroy(pha_report_write_md(r, out));
	pha_error_destroy(pha_report_write_html(r, out));
	pha_error_destroy(pha_out_close(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file in;
	fuzz_setup_once();
	if (!out1[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(out1, sizeof(out1), "%s/pha-fuzz-rr1-%d.json", t ? t : "/tmp", (int)getpid());
		snprintf(out2, sizeof(out2), "%s/pha-fuzz-rr2-%d.json", t ? t : "/tmp", (int)getpid());
		atexit(cleanup);
	}
	const char *path = fuzz_file_put(&in, "report", data, size);
	(void)pha_report_sniff(path);
	struct pha_report *r = NULL;
	struct pha_error *err = pha_report_read(path, &r);
	if (err) {
		if (!strstr(err->message, path) && err != &pha_enomem)
			abort();	/* every message names the input */
		pha_error_destroy(err);
		return 0;
	}
	render_all(r);
	write_json(r, out1);
	pha_report_read_destroy(r);
	struct pha_report *r2 = NULL;
	if ((err = pha_report_read(out1, &r2))) {
		fprintf(stderr, "the JSON written does not read back: %s\n", err->message);
		abort();
	}
	write_json(r2, out2);
	pha_report_read_destroy(r2);
	size_t n1, n2;
	char *a = slurp(out1, &n1), *b = slurp(out2, &n2);
	if (n1 != n2 || memcmp(a, b, n1))
		abort();
	free(a);
	free(b);
	return 0;
}
