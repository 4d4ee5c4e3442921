/* ELF files that were mapped into the dumped process (executable and shared
 * libraries): finding them on disk, checking build-ids, symbols, sections,
 * and filling the memory the core left out with their bytes.
 */
#ifndef PHA_ELFFILE_H
#define PHA_ELFFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/error.h"
#include "../analyzer/memory.h"
#include "elfcore.h"

enum pha_module_status {
	PHA_MODULE_OK = 1,		/* file found, build-id matches (or core had none to compare) */
	PHA_MODULE_MISSING,		/* no file found at any candidate path */
	PHA_MODULE_MISMATCH,		/* a file was found but its build-id differs */
	PHA_MODULE_NOT_ELF,		/* mapped file is not ELF (locale archive, data file) */
};

struct pha_module {
	char *name;		/* path as the core's NT_FILE note has it */
	char *file;		/* path of the file opened on disk (NULL if none) */
	enum pha_module_status status;
	uint8_t build_id[64];	/* from the core's memory (first page of the mapping) */
	size_t build_id_len;	/* 0 if the core did not have it */
	uint64_t start, end;	/* lowest and highest address of its mappings */
	uint64_t bias;		/* load bias: runtime address = bias + ELF vaddr */
	bool is_executable;	/* matches AT_EXECFN / the main program */

	/* private to elffile.c: mapped file, libelf handle, symbol tables */
	void *priv;
};

struct pha_module_options {
	const char *executable;		/* --executable FILE: overrides the main program's path */
	const char *const *search_path;	/* --lib-search-path dirs (NULL-terminated), tried by basename */
	const char *sysroot;		/* --sysroot DIR: prefix for NT_FILE paths */
};

struct pha_modules {
	struct pha_module *mods;
	size_t nmods;
	char **warnings;	/* human-readable lines for the report (missing/mismatched files, …) */
	size_t nwarnings;
};

/* Build the module list from the core's NT_FILE note, open the files
 * (sysroot + path, then each search dir + basename; --executable for the
 * main program), compare build-ids, compute load biases, and fill the
 * PHA_SEG_MISSING parts of mem that lie inside file-backed mappings with
 * the files' bytes at the right file offsets. A missing or mismatched file
 * is not an error: it is recorded in the module status and warnings, and its
 * memory stays missing.
 * mem must come from pha_core_memory (finished). Segments added to mem
 * point into the files' mappings owned by *mods_ret: deinit the modules
 * only after the last read of mem. On error mem is left as it was. */
struct pha_error *pha_modules_load(const struct pha_core *core, struct pha_memory *mem,
				   const struct pha_module_options *opts,
				   struct pha_modules *mods_ret);
void pha_modules_deinit(struct pha_modules *mods);

/* Symbol lookup in .dynsym then .symtab of one module (OBJECT/FUNC/NOTYPE,
 * defined). Returns the runtime address (bias applied) or 0. */
uint64_t pha_module_symbol(const struct pha_module *mod, const char *name, uint64_t *size_ret);
/* Runtime address and size of a section by name (e.g. ".PyRuntime"), 0 if absent. */
uint64_t pha_module_section(const struct pha_module *mod, const char *name, uint64_t *size_ret);
/* Read bytes at a runtime address from the module's file on disk (for
 * constants in .rodata that the core did not keep). False if not backed. */
bool pha_module_read_file(const struct pha_module *mod, uint64_t addr, void *buf, size_t len);

struct pha_range {
	uint64_t start, end;	/* runtime addresses, end exclusive */
};
/* A writable PT_LOAD larger than this is taken for a damaged header. */
#define PHA_WRITABLE_MAX (1ull << 30)
/* The writable data of an OK module: its PT_LOAD segments with PF_W
 * (.data, .bss and the like, p_memsz so .bss past the file's bytes is
 * included), as runtime addresses from the file's program headers; at most
 * max of them into ranges. Returns how many (0 for a module not OK). */
size_t pha_module_writable(const struct pha_module *mod, struct pha_range *ranges, size_t max);

/* Look a symbol up in every OK module; returns the first hit (0 if none)
 * and the module in *mod_ret. */
uint64_t pha_modules_symbol(const struct pha_modules *mods, const char *name,
			    const struct pha_module **mod_ret);

#endif
