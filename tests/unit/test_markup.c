/* Unit tests of formats/markup.c: the Markdown, HTML and <script> JSON
 * escapers, on the text a dumped process can hold (table pipes, backticks,
 * HTML, newlines, terminal escapes, bidi controls, invalid UTF-8). */
#include <string.h>

#include "../../formats/markup.h"
#include "check.h"

static char out[4096];

static const char *md(const char *s, size_t max)
{
	struct pha_buf b;
	pha_buf_init(&b);
	pha_md_escape(&b, s, max);
	snprintf(out, sizeof(out), "%s", b.len ? b.data : "");
	pha_buf_deinit(&b);
	return out;
}

static const char *html(const char *s)
{
	struct pha_buf b;
	pha_buf_init(&b);
	pha_html_escape(&b, s);
	snprintf(out, sizeof(out), "%s", b.len ? b.data : "");
	pha_buf_deinit(&b);
	return out;
}

static const char *script(const char *s)
{
	struct pha_buf b;
	pha_buf_init(&b);
	pha_json_script_string(&b, s);
	snprintf(out, sizeof(out), "%s", b.len ? b.data : "");
	pha_buf_deinit(&b);
	return out;
}

/* No byte of s may be one that starts Markdown or HTML unescaped. */
static int md_inert(const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F)
			return 0;
		if (strchr("`*_[]<>|~#@!{}", c) && (i == 0 || s[i - 1] != '\\'))
			return 0;
	}
	return 1;
}

int main(void)
{
	CASE_BEGIN("markup/md_plain");
	CHECK(!strcmp(md("dict", 0), "dict"));
	CHECK(!strcmp(md("shop.pricing.Quote", 0), "shop.pricing.Quote"));
	CHECK(!strcmp(md("", 0), ""));
	CASE_END();

	CASE_BEGIN("markup/md_markup");
	CHECK(!strcmp(md("a|b", 0), "a\\|b"));
	CHECK(!strcmp(md("`x`", 0), "\\`x\\`"));
	CHECK(!strcmp(md("<script>alert(1)</script>", 0), "\\<script\\>alert(1)\\</script\\>"));
	CHECK(!strcmp(md("__dict__", 0), "\\_\\_dict\\_\\_"));
	CHECK(!strcmp(md("[x](javascript:y)", 0), "\\[x\\](javascript:y)"));
	CHECK(!strcmp(md("a & b", 0), "a &amp; b"));
	CHECK(!strcmp(md("@user #1", 0), "\\@user \\#1"));
	CHECK(!strcmp(md("C:\\dir", 0), "C:\\\\dir"));
	CASE_END();

	CASE_BEGIN("markup/md_controls");
	CHECK(!strcmp(md("a\nb", 0), "a\\\\nb"));
	CHECK(!strcmp(md("\x1b[31m", 0), "\\\\x1b\\[31m"));
	CHECK(!strcmp(md("x\xe2\x80\xaey", 0), "x\\\\u202ey"));	/* U+202E */
	CHECK(!strcmp(md("\xff", 0), "\\\\xff"));
	CHECK(md_inert(md("|`<>\n\r\t\x01*_[]~#@!{}\x7f", 0)));
	CASE_END();

	CASE_BEGIN("markup/md_max");
	CHECK(!strcmp(md("abcdef", 3), "abc…"));
	CHECK(!strcmp(md("abc", 3), "abc"));
	/* never inside a character: é is 2 bytes */
	CHECK(!strcmp(md("a\xc3\xa9z", 2), "a…"));
	CASE_END();

	CASE_BEGIN("markup/html");
	CHECK(!strcmp(html("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;"));
	CHECK(!strcmp(html("a\nb\x1b"), "a\\nb\\x1b"));
	CHECK(!strcmp(html("caf\xc3\xa9"), "caf\xc3\xa9"));
	CHECK(!strcmp(html("\xc3"), "\\xc3"));
	CHECK(!strcmp(html("\xe2\x80\x8b"), "\\u200b"));
	CASE_END();

	CASE_BEGIN("markup/script_json");
	CHECK(!strcmp(script("</script><!--"), "\"\\u003c/script\\u003e\\u003c!--\""));
	CHECK(!strcmp(script("a&b"), "\"a\\u0026b\""));
	CHECK(!strcmp(script("\xe2\x80\xa8\xe2\x80\xa9"), "\"\\u2028\\u2029\""));
	CHECK(!strcmp(script("\"\\\n\x01"), "\"\\\"\\\\\\n\\u0001\""));
	CHECK(!strcmp(script("\xff"), "\"\\ufffd\""));
	CHECK(!strcmp(script(NULL), "\"\""));
	CASE_END();

	CASE_BEGIN("markup/buf");
	struct pha_buf b;
	pha_buf_init(&b);
	for (int i = 0; i < 2000; i++)
		pha_buf_printf(&b, "%04d", i);
	CHECK(b.len == 8000 && !b.oom && !strncmp(b.data + 7996, "1999", 4));
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	pha_buf_reset(&b);
	pha_buf_printf(&b, "%s!", big);
	CHECK(b.len == 600 && b.data[599] == '!');
	pha_buf_deinit(&b);
	CASE_END();

	CHECK_EXIT();
}
