/* ELF core files: validation, PT_LOAD segments and the notes a heap
 * analyzer needs (threads, process, auxv, mapped files).
 *
 * The core is mmapped, never read whole. A zstd-compressed core (detected
 * by magic bytes, not by name) is decompressed once into an unlinked
 * temporary file which is then mmapped.
 */
#ifndef PHA_ELFCORE_H
#define PHA_ELFCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/error.h"
#include "../analyzer/memory.h"

struct pha_core_thread {
	int32_t tid;		/* pr_pid of NT_PRSTATUS: the kernel thread id */
	int32_t signo;		/* pr_cursig */
	uint64_t fs_base;	/* = pthread_t of the thread on glibc x86-64 */
	uint64_t rip, rsp, rbp;
};

struct pha_core_mapping {	/* one NT_FILE entry */
	uint64_t start, end;	/* virtual address range */
	uint64_t offset;	/* file offset in bytes (page offset * page size) */
	char *path;
};

struct pha_core_load {		/* one PT_LOAD */
	uint64_t vaddr, memsz, filesz, offset;
	uint32_t flags;		/* PF_R | PF_W | PF_X */
	uint64_t avail;		/* bytes of filesz actually present in the file (truncation) */
};

struct pha_core {
	char *path;		/* as given by the user */
	int fd;
	const uint8_t *map;	/* whole (decompressed) core, read-only */
	size_t size;
	bool compressed;	/* input was zstd; map is the decompressed temp file */
	uint64_t input_bytes;	/* size of the file the user gave */

	struct pha_core_load *loads;
	size_t nloads;
	struct pha_core_thread *threads;	/* NT_PRSTATUS order (first = signalled thread) */
	size_t nthreads;
	struct pha_core_mapping *mappings;	/* NT_FILE order */
	size_t nmappings;
	uint64_t page_size;	/* from NT_FILE */

	int32_t pid;		/* NT_PRPSINFO pr_pid (0 if absent) */
	int32_t signo;		/* signal of the first NT_PRSTATUS (0 if none) */
	char fname[17];		/* NT_PRPSINFO pr_fname */
	char psargs[81];	/* NT_PRPSINFO pr_psargs */
	bool have_prpsinfo;

	uint64_t auxv_execfn;	/* AT_EXECFN address (0 if absent) */
	uint64_t auxv_phdr, auxv_entry, auxv_base;

	bool truncated;		/* some PT_LOAD extends past the end of the file */
	uint64_t truncated_bytes;	/* sum of filesz bytes missing because of truncation */
};

/* Open and validate a core. Errors (kind PHA_ERR_INPUT) name the file and
 * the cause: empty, not ELF, not a core (e.g. an executable), not x86-64 /
 * not 64-bit little-endian, headers truncated, no PT_LOAD left. A core
 * truncated inside its segments is accepted (core->truncated). */
struct pha_error *pha_core_open(const char *path, struct pha_core **core_ret);
void pha_core_close(struct pha_core *core);	/* accepts NULL */

/* Add every PT_LOAD to mem: the bytes present in the core as PHA_SEG_CORE,
 * the rest of each segment (p_filesz < p_memsz, or cut off by truncation)
 * as PHA_SEG_MISSING. Calls pha_memory_finish. */
struct pha_error *pha_core_memory(const struct pha_core *core, struct pha_memory *mem);

/* Parse the notes of one PT_NOTE segment ([p, p+len), what the file has
 * of it) into core: threads, process, auxv, mapped files. pha_core_open
 * calls it for each PT_NOTE; exposed for the tests and fuzz targets
 * (tests/fuzz/fuzz_notes.c). Only out-of-memory is an error: malformed
 * notes are skipped. */
struct pha_error *pha_core_parse_notes(struct pha_core *core, const uint8_t *p, size_t len);

/* Read a NUL-terminated string from process memory (e.g. AT_EXECFN). */
bool pha_memory_read_cstr(const struct pha_memory *mem, uint64_t addr, char *buf, size_t size);

#endif
