/* Report writers: JSON (the contract, formats/REPORT.md) and the text
 * summary. Both are deterministic for a given report. */
#ifndef PHA_REPORT_WRITE_H
#define PHA_REPORT_WRITE_H

#include "../analyzer/report.h"
#include "output.h"

void pha_report_write_json(const struct pha_report *r, struct pha_out *out);
/* top: rows shown per table. */
void pha_report_write_text(const struct pha_report *r, struct pha_out *out, int top);

#endif
