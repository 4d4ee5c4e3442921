/* libFuzzer target: the heap snapshot reader (formats/snapshot_read.c,
 * formats/mpcursor.c; a .zst snapshot through formats/zstdio.c) into the
 * heap model. Built with -DFUZZ_REPORT (fuzz_snapshot_report) it also runs
 * the whole analysis (analyzer/report.c: reachability, cycles, dominators,
 * paths, waste) on the heap read and writes the JSON report: hostile heap
 * graphs for the analyzer. */
#include "../../analyzer/heap.h"
#include "../../analyzer/source.h"
#include "../../formats/snapshot.h"
#ifdef FUZZ_REPORT
#include "../../analyzer/report.h"
#include "../../formats/report_write.h"
#endif
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file f;
	fuzz_setup_once();
	const char *path = fuzz_file_put(&f, "heap.msgpack", data, size);
	struct pha_source src;
	struct pha_heap *h = NULL;
	pha_source_init(&src);
	struct pha_error *err = pha_snapshot_read(path, &src, &h);
	if (!err) {
		/* The heap model's invariants the analysis relies on. */
		for (uint32_t v = 0; v + 1 < h->n; v++)
			if (h->addr[v] >= h->addr[v + 1])
				abort();
		for (uint32_t v = 0; v < h->n; v++)
			if (h->first[v] > h->first[v + 1] || h->type[v] >= h->ntypes)
				abort();
		for (uint64_t e = 0; e < h->nedges; e++)
			if (h->dst[e] >= h->n)
				abort();
#ifdef FUZZ_REPORT
		struct pha_report *r = NULL;
		struct pha_report_options ro = {.suspect_threshold = 0.1, .top = 20};
		if (!(err = pha_report_build(&src, h, &ro, &r))) {
			struct pha_out *out;
			if (!(err = pha_out_open("/dev/null", false, 0, &out))) {
				pha_report_write_json(r, out);
				pha_report_write_text(r, out, 20);
				err = pha_out_close(out);
			}
		}
		pha_report_destroy(r);
#endif
	}
	pha_error_destroy(err);
	pha_heap_destroy(h);
	pha_source_deinit(&src);
	return 0;
}
