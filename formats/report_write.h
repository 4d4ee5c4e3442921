/* Report writers, one file each, all walking the report's sections
 * (analyzer/report.h: enum pha_report_section, pha_report_walk): JSON (the
 * contract, formats/REPORT.md) and the text summary. Both are
 * deterministic for a given report.
 *
 * Adding a format (Markdown, HTML, a DevTools .heapsnapshot): a new
 * formats/report_FMT.c with one function per section it shows, its
 * struct pha_report_writer (which sections, in which order) and an entry
 * point declared here; analyze.c's write_report picks it. The other
 * writers do not change. */
#ifndef PHA_REPORT_WRITE_H
#define PHA_REPORT_WRITE_H

#include "../analyzer/report.h"
#include "output.h"

void pha_report_write_json(const struct pha_report *r, struct pha_out *out);
/* top: rows shown per table. */
void pha_report_write_text(const struct pha_report *r, struct pha_out *out, int top);

/* The Markdown summary for a ticket (report_md.c), never more than
 * PHA_MD_MAX_BYTES; an error only for out of memory. */
#define PHA_MD_MAX_BYTES 10240
struct pha_error *pha_report_write_md(const struct pha_report *r, struct pha_out *out);

/* The self-contained HTML page (report_html.c); an error only for out of
 * memory. */
struct pha_error *pha_report_write_html(const struct pha_report *r, struct pha_out *out);

/* The heap graph as a Chrome DevTools .heapsnapshot (report_heapsnapshot.c):
 * not a view of the report but of the heap and the source's roots; node
 * self sizes sum to the report's summary.bytes. Streamed from the heap's
 * arrays; an error only for out of memory. */
struct pha_error *pha_report_write_heapsnapshot(const struct pha_heap *h,
						const struct pha_source *src, struct pha_out *out);

#endif
