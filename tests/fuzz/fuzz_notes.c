/* libFuzzer target: the note parsers of formats/elfcore.c (NT_PRSTATUS,
 * NT_PRPSINFO, NT_AUXV, NT_FILE and the note walk itself) on one PT_NOTE
 * segment's bytes, without the ELF around them. */
#include "../../formats/elfcore.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pha_core *core = calloc(1, sizeof(*core));
	if (!core)
		return 0;
	core->fd = -1;
	/* A copy of exactly size bytes, so that ASan sees any overread. */
	uint8_t *copy = malloc(size ? size : 1);
	if (copy) {
		memcpy(copy, data, size);
		pha_error_destroy(pha_core_parse_notes(core, copy, size));
		/* What the parsed notes promise must hold. */
		for (size_t i = 0; i < core->nmappings; i++) {
			if (core->mappings[i].end <= core->mappings[i].start || !core->mappings[i].path)
				abort();
			(void)strlen(core->mappings[i].path);
		}
		if (core->fname[sizeof(core->fname) - 1] || core->psargs[sizeof(core->psargs) - 1])
			abort();
		free(copy);
	}
	pha_core_close(core);
	return 0;
}
