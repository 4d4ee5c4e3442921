/* Reading a saved JSON report (report/3, formats/REPORT.md) back into the
 * report model (analyzer/report.h), so that every writer renders from the
 * report alone exactly as from the core (`pyheap-analyze report.json.zst
 * -o report.html`), and so that `pyheap-analyze diff` can compare two
 * reports.
 *
 * The JSON is parsed by a small, strict, bounded parser (json_parse.c:
 * depth, size and count limits, valid UTF-8 and escapes); a `.zst` report
 * is decompressed through zstdio.c with its bomb cap. Malformed or hostile
 * input is an error naming the file and the place (PHA_EXIT_INPUT), never
 * a crash or a hang.
 */
#ifndef PHA_REPORT_READ_H
#define PHA_REPORT_READ_H

#include <stdbool.h>

#include "../analyzer/error.h"
#include "../analyzer/report.h"

/* True when the file at path is a JSON report, plain or zstd-compressed,
 * by its content (its first non-blank byte starts a JSON object or array:
 * '{' or '['; pha_report_read then explains what is wrong with it), not by
 * its name. False when it cannot be read. */
bool pha_report_sniff(const char *path);

/* Read the report at path (plain or zstd-compressed JSON) into a new
 * report: header, summary, types, unreachable, cycles, threads with frames
 * and locals, why (roots, retained, top with paths, suspects, held_by_c),
 * waste, memory (a struct pha_procmem holding what the JSON has),
 * allocations (tracemalloc) and warnings. The returned report owns every
 * string and array it points to; free it with pha_report_read_destroy,
 * never with pha_report_destroy. Its `unreachable` per-object array is
 * NULL (there is no heap). An unknown schema is an error naming the file
 * and the schema found; a report/2 file is read with the report/3-only
 * sections left empty. */
struct pha_error *pha_report_read(const char *path, struct pha_report **report_ret);

/* Accepts NULL. */
void pha_report_read_destroy(struct pha_report *r);

#endif
