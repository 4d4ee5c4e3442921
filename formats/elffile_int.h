/* Private to formats/elffile.c and formats/elffill.c: a module's opened
 * file and symbol tables, and the filling of the core's missing
 * file-backed memory from the files on disk. */
#ifndef PHA_ELFFILE_INT_H
#define PHA_ELFFILE_INT_H

#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elfcore.h"
#include "elffile.h"

/* The kernel maps ELF segments at page granularity, and x86-64 pages are
 * 4 KiB (NT_FILE's page size field cannot be used: gdb writes 1 there). */
#define PAGE 4096ULL
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))

struct sym {
	const char *name;	/* points into libelf's string table data */
	uint64_t value;
	uint64_t size;
	unsigned rank;		/* 0 GLOBAL, 1 WEAK, 2 other: the best binding wins */
	bool absolute;		/* SHN_ABS: value is not an address in the file */
	size_t index;		/* keeps the sort stable: first in the file wins */
};

struct symtab {
	struct sym *syms;	/* sorted by name, then rank, then index */
	size_t n;
};

struct file_load {		/* a PT_LOAD of an ELF file */
	uint64_t vaddr, offset, filesz;
	uint64_t memsz;		/* of the file on disk only (0 when read from the core) */
	uint32_t flags;		/* p_flags, idem */
};

/* An ELF file opened on disk. */
struct elf_handle {
	int fd;
	const uint8_t *map;
	size_t size;
	Elf *elf;
	struct file_load *loads;
	size_t nloads;
};

struct mod_priv {
	struct elf_handle h;	/* open file of an OK module (fd -1 otherwise) */
	struct symtab dynsym, symtab;
	size_t *maps;		/* indices into core->mappings, in NT_FILE order */
	size_t nmaps;
	char *problem;		/* why the module is MISMATCH, for its warning */
	bool core_is_elf;	/* the core's copy of its first page has ELF magic */
	bool core_not_elf;	/* ... has something else: a data file */
};

static inline struct mod_priv *priv_of(const struct pha_module *mod)
{
	return mod->priv;
}

/* The part of each NT_FILE mapping that no mapping with a lower start (or
 * the same start, earlier in the note) already covers: [lo, hi), empty
 * when lo >= hi. The kernel's mappings never overlap, so this is each
 * mapping whole; a damaged or hostile core's may all cover the same range,
 * and handling each whole would cost mappings x segments time and as many
 * ranges of memory. Indexed like core->mappings; NULL on OOM. */
struct span {
	uint64_t lo, hi;
};

/* elffill.c */
struct span *pha_elf_disjoint_mappings(const struct pha_core *core);
/* Fill the PHA_SEG_MISSING parts of mem inside the OK modules' mappings
 * (eff: pha_elf_disjoint_mappings) with the files' bytes. */
struct pha_error *pha_elf_fill_memory(const struct pha_core *core, struct pha_memory *mem,
				      struct pha_modules *mods, const struct span *eff);
/* Bytes of [lo, hi) that mem does not hold. */
uint64_t pha_elf_unavailable_bytes(const struct pha_memory *mem, uint64_t lo, uint64_t hi);

#endif
