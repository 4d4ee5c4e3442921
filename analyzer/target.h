/* The dumped process: its core, memory, mapped binaries, and the CPython
 * runtime found in it with the layout chosen for its version. */
#ifndef PHA_TARGET_H
#define PHA_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "../formats/elfcore.h"
#include "../formats/elffile.h"
#include "../plugins/pha_layout.h"
#include "error.h"
#include "memory.h"
#include "warnings.h"

struct pha_target_options {
	struct pha_module_options modules;
	int verbose;
	bool force_layout;		/* --force-layout 3.<force_minor> */
	unsigned force_minor;
};

struct pha_target {
	struct pha_core *core;
	struct pha_memory mem;
	struct pha_modules mods;
	int verbose;

	uint64_t runtime;		/* &_PyRuntime */
	const struct pha_module *pymod;	/* module that defines it; NULL when
					 * found by scanning for _Py_DebugOffsets */
	uint32_t hexversion;
	char version[32];		/* "3.12.1", "3.13.0rc2" */
	const struct pha_layout *layout;
	struct pha_py *py;
	struct pha_services svc;

	char **warnings;		/* one line per kind (warnings.h) */
	size_t nwarnings;
	struct pha_warnings warn_kinds;
};

struct pha_error *pha_target_open(const char *path, const struct pha_target_options *opts,
				  struct pha_target **target_ret);
void pha_target_destroy(struct pha_target *t);

__attribute__((format(printf, 2, 3)))
void pha_target_warn(struct pha_target *t, const char *fmt, ...);

/* "3.12.1" from 0x030C01F0. */
void pha_version_string(uint32_t hex, char *buf, size_t size);

#endif
