/* libFuzzer target: text safety of formats/json.c. Whatever bytes a heap
 * string holds, pha_json_escape must produce a JSON string body that is
 * valid UTF-8 with no raw control character, and pha_text_escape text with
 * no control character at all (nothing that can act on a terminal). */
#include "../../formats/json.h"
#include "fuzz_common.h"

/* Unicode table 3-7, written independently of formats/json.c. */
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
			if (k == 1 && c == 0xE0) lo = 0xA0;
			if (k == 1 && c == 0xED) hi = 0x9F;
			if (k == 1 && c == 0xF0) lo = 0x90;
			if (k == 1 && c == 0xF4) hi = 0x8F;
			if (b < lo || b > hi)
				return false;
		}
		i += n;
	}
	return true;
}

static void check(void (*fn)(struct pha_out *, const char *), const char *s, bool json,
		  const char *path)
{
	struct pha_out *out;
	if (pha_out_open(path, false, 0, &out))
		abort();
	fn(out, s);
	if (pha_out_close(out))
		abort();
	FILE *in = fopen(path, "rb");
	static unsigned char buf[1 << 20];
	size_t n = in ? fread(buf, 1, sizeof(buf), in) : 0;
	if (in)
		fclose(in);
	if (!valid_utf8(buf, n))
		abort();
	for (size_t i = 0; i < n; i++) {
		if (buf[i] < 0x20 || buf[i] == 0x7f)
			abort();
		if (!json)
			continue;
		if (buf[i] == '\\')
			i++;		/* an escape: the next byte is part of it */
		else if (buf[i] == '"')
			abort();	/* an unescaped quote would end the string */
	}
}

static char path[64];

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_setup_once();
	if (!path[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/pha-fuzz-json-%d", t ? t : "/tmp", (int)getpid());
		atexit(cleanup);
	}
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	check(pha_json_escape, s, true, path);
	check(pha_text_escape, s, false, path);
	free(s);
	return 0;
}
