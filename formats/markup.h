/* Heap text for documents people open: a growable memory buffer and the
 * escapers of the Markdown and HTML writers (formats/report_md.c,
 * report_html.c).
 *
 * Everything that comes from the dumped process (type names, labels,
 * previews, file names, argv, warnings) can hold any byte: a str with `|`,
 * backticks, "<script>", newlines, bidirectional controls, invalid UTF-8.
 * Each escaper makes it inert text in its destination and keeps it
 * readable: control and invisible characters become visible escapes
 * ("\n", "\x1b", "\u202e"), invalid UTF-8 becomes "\xNN" per byte, like the
 * text summary's escaper (json.c pha_text_escape). */
#ifndef PHA_MARKUP_H
#define PHA_MARKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "output.h"

/* A growable buffer; oom is sticky (later writes do nothing). */
struct pha_buf {
	char *data;	/* NUL-terminated when len > 0 */
	size_t len, cap;
	bool oom;
};

void pha_buf_init(struct pha_buf *b);
void pha_buf_deinit(struct pha_buf *b);
void pha_buf_reset(struct pha_buf *b);
void pha_buf_write(struct pha_buf *b, const void *p, size_t n);
void pha_buf_puts(struct pha_buf *b, const char *s);
__attribute__((format(printf, 2, 3)))
void pha_buf_printf(struct pha_buf *b, const char *fmt, ...);
/* Write the buffer's content to out and empty it. */
void pha_buf_flush(struct pha_buf *b, struct pha_out *out);

/* Inline Markdown (a table cell, a list item, a paragraph) for GitHub,
 * GitLab and CommonMark renderers: the ASCII punctuation that starts
 * markup (\ ` * _ [ ] < > | ~ # @ !) gets a backslash, & becomes &amp;, so
 * no emphasis, code span, link, table column, raw HTML, mention or
 * heading can start. max: at most that many bytes of s are shown (cut at a
 * character boundary, then "…"); 0 = all of it. */
void pha_md_escape(struct pha_buf *b, const char *s, size_t max);

/* Plain text for a terminal, as json.c's pha_text_escape writes it, into
 * a buffer (the diff's text writer renders the same rows as its Markdown
 * and HTML writers). */
void pha_text_escape_buf(struct pha_buf *b, const char *s);

/* HTML text or a quoted attribute value: & < > " ' as character
 * references. */
void pha_html_escape(struct pha_buf *b, const char *s);

/* A JSON string (with its quotes) that is safe inside an HTML <script>
 * element: besides JSON's own escapes, < > & become \u003c \u003e \u0026
 * (no "</script>" or "<!--" can appear) and U+2028, U+2029 \u2028 \u2029;
 * invalid UTF-8 becomes U+FFFD. */
void pha_json_script_string(struct pha_buf *b, const char *s);

#endif
