/* Prints a compiled-in offset table (plugins/layouts.c) as `name<TAB>value`
 * lines, with the names tests/layout/probe.c uses, so check_layouts.sh can
 * compare the table with what an interpreter's headers say.
 *
 *   dump_tables NAME          the table of layout NAME (e.g. cpython-3.12)
 *   dump_tables --for-hex HEX the name of the layout whose version range
 *                             holds PY_VERSION_HEX HEX; exit 1 if none
 *   dump_tables --list        every layout: name, min_hex, max_hex
 *   dump_tables --debug-map NAME  the _Py_DebugOffsets members layout NAME
 *                             reads: position, member, static value
 *
 * The field list below must name every member of struct pha_py_offsets in
 * declaration order. The compiler checks it: a mirror struct built from the
 * list must have the same size and the same member offsets. What that cannot
 * see (a new 1-bit flag, a member that lands in padding) check_layouts.sh
 * catches by comparing this program's output with the names it parses from
 * plugins/cpython.h.
 */
#include "../../plugins/cpython.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct pha_layout *const pha_builtin_layouts[];

/* FLAG: 1-bit feature flag; U32: uint32_t offset or size; ARR: uint32_t
 * array with its length; I8: int8_t value; PTR: a pointer (printed as 1 if
 * set, else 0). */
#define PY_OFFSET_FIELDS(FLAG, U32, ARR, I8, PTR) \
	FLAG(managed_dict_tagged) FLAG(managed_weakref) FLAG(long_lv_tag) \
	FLAG(immortal) FLAG(frame_cstack_owner) FLAG(str_has_wstr) \
	FLAG(code_has_cached) FLAG(gen_has_code) FLAG(static_type_dict_in_interp) \
	\
	U32(rt_interpreters_head) \
	U32(is_next) U32(is_threads_head) U32(is_modules) U32(is_sysdict) \
	U32(is_builtins) U32(is_gc) U32(is_interned) U32(is_types_builtins) \
	U32(static_builtin_state_size) U32(sbs_tp_dict) \
	ARR(gc_gen_head, 3) U32(gc_permanent) U32(gc_collecting) \
	U32(ts_next) U32(ts_interp) U32(ts_cframe) U32(ts_thread_id) \
	U32(ts_native_id) U32(ts_dict) U32(ts_curexc) U32(ts_exc_value_item) \
	U32(cf_current_frame) \
	U32(if_code) U32(if_func) U32(if_globals) U32(if_builtins) U32(if_locals) \
	U32(if_frame_obj) U32(if_previous) U32(if_prev_instr) U32(if_stacktop) \
	U32(if_owner) U32(if_localsplus) \
	U32(co_consts) U32(co_names) U32(co_exceptiontable) U32(co_firstlineno) \
	U32(co_nlocalsplus) U32(co_stacksize) U32(co_framesize) \
	U32(co_localsplusnames) U32(co_localspluskinds) U32(co_filename) \
	U32(co_name) U32(co_qualname) U32(co_linetable) U32(co_code_adaptive) \
	U32(co_firsttraceable) U32(co_extra) U32(co_cached) \
	U32(type_size) U32(heaptype_size) \
	U32(ht_name) U32(ht_slots) U32(ht_qualname) U32(ht_cached_keys) U32(ht_module) \
	U32(str_ascii_size) U32(str_compact_size) U32(str_utf8_length) U32(str_utf8) \
	U32(str_wstr) U32(str_wstr_length) U32(str_data) \
	U32(fn_globals) U32(fn_builtins) U32(fn_name) U32(fn_qualname) U32(fn_code) \
	U32(fn_defaults) U32(fn_kwdefaults) U32(fn_closure) U32(fn_doc) U32(fn_dict) \
	U32(fn_module) U32(fn_annotations) U32(fn_typeparams) \
	U32(gen_code) U32(gen_name) U32(gen_qualname) U32(gen_exc_value) \
	U32(gen_origin) U32(gen_frame_state) U32(gen_iframe) \
	I8(gen_state_cleared) \
	U32(fo_back) U32(fo_frame) U32(fo_trace) U32(fo_frame_data) \
	U32(exc_dict) U32(exc_args) U32(exc_notes) U32(exc_traceback) \
	U32(exc_context) U32(exc_cause) \
	U32(deque_leftblock) U32(deque_leftindex) U32(deque_rightindex) \
	U32(odict_first) U32(odict_fast_nodes_size) U32(odict_inst_dict) \
	\
	FLAG(frame_objects) FLAG(dict_keys_v1) FLAG(gc_in_runtime) FLAG(lasti_units) \
	FLAG(sizeof_is_gc) FLAG(int_size_no_min) \
	U32(rt_gc) U32(ts_frame) U32(ts_curexc_type) U32(ts_curexc_tb) U32(esi_size) \
	U32(fo_code) U32(fo_builtins) U32(fo_globals) U32(fo_locals) U32(fo_valuestack) \
	U32(fo_stacktop) U32(fo_stackdepth) U32(fo_lasti) U32(fo_lineno) U32(fo_localsplus) \
	U32(co_nlocals) U32(co_code) U32(co_varnames) U32(co_freevars) U32(co_cellvars) \
	U32(co_cell2arg) U32(gen_frame) U32(prop_last) \
	U32(co_opcache) U32(co_opcache_size) U32(opcache_entry_size) \
	FLAG(tstate_current_frame) FLAG(managed_dict_plain) FLAG(dict_values_header) \
	FLAG(stackref) FLAG(refcnt32) FLAG(bytearray_bytes_object) \
	FLAG(static_builtin_search) FLAG(static_type_no_preheader) \
	U32(ts_current_frame) U32(if_stackpointer) U32(tuple_ob_item) U32(mod_name) \
	U32(fn_annotate) ARR(fo_extra, 3) U32(dict_visits_embedded_hex) \
	U32(gc_generation0) U32(gc_size) PTR(debug_map) U32(debug_size) \
	U32(ts_context) U32(mod_def) U32(mod_state) U32(mod_state_size) \
	U32(mod_state_traverse) U32(rt_tracemalloc) U32(tm_tracing) U32(tm_max_nframe) \
	U32(tm_traced) U32(tm_peak) U32(tm_traces) U32(tm_domains) FLAG(tm_hashtable_v1) \
	FLAG(tm_filename_utf8) \
	FLAG(obmalloc_ptr) U32(is_obmalloc) U32(obs_arenas) U32(obs_maxarenas) \
	U32(obs_narenas) U32(pool_size) U32(arena_size)

/* The list, turned back into a struct: same size and offsets as the real
 * one, or the list is out of date. */
#define M_FLAG(n) unsigned n : 1;
#define M_U32(n) uint32_t n;
#define M_ARR(n, len) uint32_t n[len];
#define M_I8(n) int8_t n;
#define M_PTR(n) const void *n;
struct mirror {
	PY_OFFSET_FIELDS(M_FLAG, M_U32, M_ARR, M_I8, M_PTR)
};
_Static_assert(sizeof(struct mirror) == sizeof(struct pha_py_offsets),
	       "PY_OFFSET_FIELDS does not match struct pha_py_offsets (plugins/cpython.h)");

#define SAME_OFFSET(n) \
	_Static_assert(offsetof(struct mirror, n) == offsetof(struct pha_py_offsets, n), \
		       "PY_OFFSET_FIELDS: " #n " is out of place or of another type");
#define A_FLAG(n)
#define A_ARR(n, len) SAME_OFFSET(n) \
	_Static_assert(sizeof(((struct mirror *)0)->n) == \
		       sizeof(((struct pha_py_offsets *)0)->n), \
		       "PY_OFFSET_FIELDS: length of " #n);
PY_OFFSET_FIELDS(A_FLAG, SAME_OFFSET, A_ARR, SAME_OFFSET, SAME_OFFSET)

static void dump(const struct pha_py_offsets *o)
{
#define D_FLAG(n) printf("%s\t%u\n", #n, (unsigned)o->n);
#define D_U32(n) printf("%s\t%lu\n", #n, (unsigned long)o->n);
#define D_ARR(n, len) \
	for (size_t i = 0; i < (len); i++) \
		printf("%s[%zu]\t%lu\n", #n, i, (unsigned long)o->n[i]);
#define D_I8(n) printf("%s\t%d\n", #n, (int)o->n);
#define D_PTR(n) printf("%s\t%d\n", #n, o->n != NULL);
	PY_OFFSET_FIELDS(D_FLAG, D_U32, D_ARR, D_I8, D_PTR)
}

static int usage(void)
{
	fprintf(stderr, "usage: dump_tables NAME | --for-hex HEX | --list | --debug-map NAME\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (const struct pha_layout *const *l = pha_builtin_layouts; *l; l++)
			printf("%s\t0x%08lx\t0x%08lx\n", (*l)->name,
			       (unsigned long)(*l)->min_hex, (unsigned long)(*l)->max_hex);
		goto out;
	}
	if (argc == 3 && strcmp(argv[1], "--for-hex") == 0) {
		char *end;
		unsigned long hex = strtoul(argv[2], &end, 0);
		if (*argv[2] == '\0' || *end != '\0')
			return usage();
		for (const struct pha_layout *const *l = pha_builtin_layouts; *l; l++) {
			if (hex >= (*l)->min_hex && hex <= (*l)->max_hex) {
				printf("%s\n", (*l)->name);
				goto out;
			}
		}
		return 1;
	}
	if (argc == 3 && strcmp(argv[1], "--debug-map") == 0) {
		for (const struct pha_layout *const *l = pha_builtin_layouts; *l; l++) {
			if (strcmp((*l)->name, argv[2]) != 0)
				continue;
			const struct pha_py_offsets *o = ((const struct pha_layout_impl *)*l)->off;
			if (o->debug_map) {
				printf("#size\t%lu\n", (unsigned long)o->debug_size);
				for (const struct pha_py_debug_map *m = o->debug_map; m->name; m++)
					printf("%u\t%s\t%lu\n", (unsigned)m->pos, m->name,
					       (unsigned long)*(const uint32_t *)((const char *)o +
										   m->field));
			}
			goto out;
		}
		fprintf(stderr, "dump_tables: no layout named %s\n", argv[2]);
		return 1;
	}
	if (argc != 2 || argv[1][0] == '-')
		return usage();
	for (const struct pha_layout *const *l = pha_builtin_layouts; *l; l++) {
		if (strcmp((*l)->name, argv[1]) == 0) {
			/* Every built-in layout is a struct pha_layout_impl. */
			dump(((const struct pha_layout_impl *)*l)->off);
			goto out;
		}
	}
	fprintf(stderr, "dump_tables: no layout named %s\n", argv[1]);
	return 1;
out:
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("dump_tables: stdout");
		return 1;
	}
	return 0;
}
