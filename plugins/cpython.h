/* Shared CPython walker: one implementation of the pha_layout operations,
 * parameterised by a per-version offset table (plugins/layouts.c).
 * Offsets are x86-64 Linux, default (GIL) release builds.
 *
 * This header is what layouts.c (and tests/layout/dump_tables.c) need:
 * the table and the operations. The walker's internals are in
 * cpython_int.h, its operations in one file per concept (README.md).
 */
#ifndef PHA_CPYTHON_H
#define PHA_CPYTHON_H

#include "pha_layout.h"

struct pha_py_offsets {
	/* --- algorithm features (see layouts.c for the versions) --- */
	unsigned managed_dict_tagged : 1;	/* 3.12: obj-24 is dict-or-(values|1) */
	unsigned managed_weakref : 1;		/* 3.12: MANAGED_WEAKREF pre-header word */
	unsigned long_lv_tag : 1;		/* 3.12: int size in lv_tag */
	unsigned immortal : 1;			/* 3.12: immortal refcounts */
	unsigned frame_cstack_owner : 1;	/* 3.12: owner 3 = C-stack entry frame */
	unsigned str_has_wstr : 1;		/* <= 3.11: wstr cache in str objects */
	unsigned code_has_cached : 1;		/* 3.12: _co_cached struct pointer */
	unsigned gen_has_code : 1;		/* 3.11: gi_code field */
	unsigned static_type_dict_in_interp : 1;	/* 3.12: static builtin tp_dict in interp */

	/* _PyRuntimeState / PyInterpreterState */
	uint32_t rt_interpreters_head;
	uint32_t is_next, is_threads_head, is_modules, is_sysdict, is_builtins, is_gc;
	uint32_t is_interned;		/* 0: not reachable from the interpreter */
	uint32_t is_types_builtins;	/* 3.12: static_builtin_state array */
	uint32_t static_builtin_state_size, sbs_tp_dict;
	/* struct _gc_runtime_state */
	uint32_t gc_gen_head[3], gc_permanent, gc_collecting;
	/* PyThreadState / _PyCFrame */
	uint32_t ts_next, ts_interp, ts_cframe, ts_thread_id, ts_native_id, ts_dict;
	uint32_t ts_curexc, ts_exc_value_item;	/* exception roots */
	uint32_t cf_current_frame;
	/* _PyInterpreterFrame */
	uint32_t if_code, if_func, if_globals, if_builtins, if_locals, if_frame_obj,
		 if_previous, if_prev_instr, if_stacktop, if_owner, if_localsplus;
	/* PyCodeObject */
	uint32_t co_consts, co_names, co_exceptiontable, co_firstlineno, co_nlocalsplus,
		 co_stacksize, co_framesize, co_localsplusnames, co_localspluskinds,
		 co_filename, co_name, co_qualname, co_linetable, co_code_adaptive,
		 co_firsttraceable, co_extra, co_cached;
	/* PyTypeObject / PyHeapTypeObject sizes and members */
	uint32_t type_size, heaptype_size;
	uint32_t ht_name, ht_slots, ht_qualname, ht_cached_keys, ht_module;
	/* str */
	uint32_t str_ascii_size, str_compact_size, str_utf8_length, str_utf8, str_wstr,
		 str_wstr_length, str_data;
	/* function */
	uint32_t fn_globals, fn_builtins, fn_name, fn_qualname, fn_code, fn_defaults,
		 fn_kwdefaults, fn_closure, fn_doc, fn_dict, fn_module, fn_annotations,
		 fn_typeparams;
	/* generator / coroutine / async generator */
	uint32_t gen_code, gen_name, gen_qualname, gen_exc_value, gen_origin,
		 gen_frame_state, gen_iframe;
	int8_t gen_state_cleared;
	/* PyFrameObject (3.11+) */
	uint32_t fo_back, fo_frame, fo_trace, fo_frame_data;
	/* BaseException */
	uint32_t exc_dict, exc_args, exc_notes, exc_traceback, exc_context, exc_cause;
	/* collections */
	uint32_t deque_leftblock, deque_leftindex, deque_rightindex;
	uint32_t odict_first, odict_fast_nodes_size, odict_inst_dict;

	/* --- CPython 3.8 - 3.10 (frame objects, 40-byte dict keys header) ---
	 * Zero in the 3.11+ tables: the features below are off there. */
	unsigned frame_objects : 1;	/* <= 3.10: PyFrameObject chain from tstate->frame */
	unsigned dict_keys_v1 : 1;	/* <= 3.10: dk_size/dk_lookup keys, 24-byte entries */
	unsigned gc_in_runtime : 1;	/* 3.8: one GC state in _PyRuntime for all interpreters */
	unsigned lasti_units : 1;	/* 3.10: f_lasti counts code units; co_linetable */
	unsigned sizeof_is_gc : 1;	/* <= 3.10: getsizeof adds the GC head per _PyObject_IS_GC */
	unsigned int_size_no_min : 1;	/* <= 3.10: int.__sizeof__ of 0 is 24 (no digit) */
	uint32_t rt_gc;				/* 3.8: _PyRuntime.gc */
	uint32_t ts_frame, ts_curexc_type, ts_curexc_tb;	/* PyThreadState */
	uint32_t esi_size;			/* _PyErr_StackItem: type, value, traceback */
	/* PyFrameObject (<= 3.10) */
	uint32_t fo_code, fo_builtins, fo_globals, fo_locals, fo_valuestack,
		 fo_stacktop, fo_stackdepth, fo_lasti, fo_lineno, fo_localsplus;
	/* PyCodeObject (<= 3.10) */
	uint32_t co_nlocals, co_code, co_varnames, co_freevars, co_cellvars, co_cell2arg;
	uint32_t gen_frame;			/* <= 3.10: gi_frame */
	uint32_t prop_last;			/* last member property_traverse visits (0: 48) */
	/* 3.8 - 3.10 LOAD_GLOBAL/LOAD_ATTR cache of a code object, counted by
	 * code.__sizeof__: one map byte per code unit + co_opcache_size entries */
	uint32_t co_opcache, co_opcache_size, opcache_entry_size;
	/* --- 3.13+ (appended; zero in the 3.11/3.12 tables) --- */
	unsigned tstate_current_frame : 1;	/* 3.13: tstate->current_frame, no cframe */
	unsigned managed_dict_plain : 1;	/* 3.13: obj-24 plain dict pointer, inline
						 * values at obj + tp_basicsize */
	unsigned dict_values_header : 1;	/* 3.13: PyDictValues{capacity,size,
						 * embedded,valid} before values[] (+8) */
	unsigned stackref : 1;			/* 3.14: tagged _PyStackRef frame slots,
						 * stackpointer instead of stacktop */
	unsigned refcnt32 : 1;			/* 3.14: refcount = low 32 bits of ob_refcnt */
	unsigned bytearray_bytes_object : 1;	/* 3.15: bytearray buffer is a bytes object */
	unsigned static_builtin_search : 1;	/* 3.13: locate interp->types.builtins from
						 * the data when the static offset is off */
	unsigned static_type_no_preheader : 1;	/* 3.13: getsizeof(static type) has no
						 * GC pre-header */
	uint32_t ts_current_frame, if_stackpointer;
	uint32_t tuple_ob_item;			/* 0 means 24 */
	uint32_t mod_name;			/* 0 means 48 */
	uint32_t fn_annotate;			/* 3.14 */
	uint32_t fo_extra[3];			/* 3.13 frame object: f_extra_locals,
						 * f_locals_cache, (3.14) f_overwritten_fast_locals */
	/* 3.13.3+ (gh-130327): an object whose inline values were
	 * materialised into a dict visits that dict, and the dict visits the
	 * embedded values; before, the object visited its valid inline values
	 * and never the dict. First PY_VERSION_HEX with the new rule, 0 = never. */
	uint32_t dict_visits_embedded_hex;
	uint32_t gc_generation0;		/* 0: no generation0 pointer to validate with */
	uint32_t gc_size;
	/* _Py_DebugOffsets (3.13+): NULL-terminated map of table positions to
	 * members of this struct; open() overrides those members from the
	 * table found at _PyRuntime + 0 in the core. */
	const struct pha_py_debug_map *debug_map;
	uint32_t debug_size;			/* expected sizeof(_Py_DebugOffsets) */
	uint32_t ts_context;			/* PyThreadState.context (contextvars) */
	/* PyModuleObject: md_def and md_state (0: the state is not walked);
	 * 3.15 moved the state's size and traverse from the PyModuleDef into
	 * the module (md_state_size, md_state_traverse; 0 before). */
	uint32_t mod_def, mod_state, mod_state_size, mod_state_traverse;
	/* tracemalloc (tracemalloc.c). 3.12+: its state is _PyRuntime +
	 * rt_tracemalloc (struct _tracemalloc_runtime_state; tm_* are offsets
	 * inside it). 3.8 - 3.11: rt_tracemalloc is 0, the state is the file
	 * statics of Modules/_tracemalloc.c found by symbol, and tm_tracing,
	 * tm_max_nframe are offsets inside _Py_tracemalloc_config. */
	uint32_t rt_tracemalloc, tm_tracing, tm_max_nframe, tm_traced, tm_peak, tm_traces,
		 tm_domains;
	unsigned tm_hashtable_v1 : 1;	/* 3.8: keys and values inline in the hashtable
					 * entries, int nframe, one traces table */
	unsigned tm_filename_utf8 : 1;	/* 3.15: a frame names its file by a char *,
					 * not a str object */
	/* pymalloc (plugins/pymalloc.c). 3.8 - 3.11 keep its state in file
	 * statics of obmalloc.c (found through .symtab or the data): these
	 * offsets are 0 there. 3.12 embeds struct _obmalloc_state in
	 * PyInterpreterState at is_obmalloc; 3.13+ has a pointer to it there
	 * (obmalloc_ptr). obs_*: mgmt.arenas, mgmt.maxarenas and
	 * mgmt.narenas_currently_allocated inside the state. pool_size and
	 * arena_size: POOL_SIZE/ARENA_SIZE (3.10 made them 16 KiB/1 MiB). */
	unsigned obmalloc_ptr : 1;
	uint32_t is_obmalloc, obs_arenas, obs_maxarenas, obs_narenas;
	uint32_t pool_size, arena_size;
};

/* One _Py_DebugOffsets member used by a layout: its byte position in the
 * table and the uint32_t member of struct pha_py_offsets it sets. */
struct pha_py_debug_map {
	uint16_t pos;
	uint16_t field;		/* offsetof(struct pha_py_offsets, member) */
	const char *name;
};
#define PHA_DBG(pos, member) {(pos), offsetof(struct pha_py_offsets, member), #member}

struct pha_layout_impl {
	struct pha_layout layout;
	const struct pha_py_offsets *off;
};

/* The operations every table-driven layout uses. */
struct pha_error *pha_cpython_open(const struct pha_layout *layout,
				   const struct pha_services *svc, uint64_t runtime,
				   uint32_t hexversion, struct pha_py **py_ret);
void pha_cpython_close(struct pha_py *py);
struct pha_error *pha_cpython_enumerate_gc(struct pha_py *py,
					   void (*cb)(void *arg, uint64_t addr, unsigned gen),
					   void *arg);
struct pha_error *pha_cpython_roots(struct pha_py *py, pha_ref_fn *cb, void *arg);
struct pha_error *pha_cpython_object_info(struct pha_py *py, uint64_t addr,
					  struct pha_object_info *info_ret);
struct pha_error *pha_cpython_for_each_ref(struct pha_py *py, uint64_t addr,
					   const struct pha_object_info *info,
					   pha_ref_fn *cb, void *arg);
const char *pha_cpython_type_name(struct pha_py *py, uint64_t type);
unsigned pha_cpython_type_kind(struct pha_py *py, uint64_t type);
uint32_t pha_cpython_hexversion(struct pha_py *py);
void pha_cpython_owned_blocks(struct pha_py *py, uint64_t addr,
			      void (*cb)(void *arg, uint64_t ptr, unsigned kind), void *arg);
struct pha_error *pha_cpython_threads(struct pha_py *py,
				      void (*cb)(void *arg, const struct pha_thread_info *t),
				      void *arg);
struct pha_error *pha_cpython_labelled_roots(struct pha_py *py,
					     void (*cb)(void *arg, const struct pha_root *root),
					     void *arg);
bool pha_cpython_edge_label(struct pha_py *py, uint64_t src, uint64_t dst, bool redact, char *buf,
			    size_t size);
bool pha_cpython_preview(struct pha_py *py, uint64_t addr, bool redact, char *buf, size_t size);
bool pha_cpython_value_bytes(struct pha_py *py, uint64_t addr, uint64_t *data_ret,
			     uint64_t *len_ret, unsigned *unit_ret);
bool pha_cpython_container_len(struct pha_py *py, uint64_t addr, uint64_t *used_ret,
			       uint64_t *capacity_ret);
struct pha_error *pha_cpython_tm_traces(struct pha_py *py, struct pha_tm_state *st,
					void (*cb)(void *arg, const struct pha_tm_trace *t),
					void *arg);
size_t pha_cpython_tm_traceback(struct pha_py *py, uint64_t tb, struct pha_tm_frame *frames,
				size_t max);
bool pha_cpython_tm_filename(struct pha_py *py, uint64_t filename, char *buf, size_t size);
uint64_t pha_cpython_alloc_offset(struct pha_py *py, uint64_t type);

#define PHA_CPYTHON_OPS \
	.open = pha_cpython_open, .close = pha_cpython_close, \
	.enumerate_gc = pha_cpython_enumerate_gc, .roots = pha_cpython_roots, \
	.object_info = pha_cpython_object_info, .for_each_ref = pha_cpython_for_each_ref, \
	.type_name = pha_cpython_type_name, .threads = pha_cpython_threads, \
	.hexversion = pha_cpython_hexversion, \
	.labelled_roots = pha_cpython_labelled_roots, .edge_label = pha_cpython_edge_label, \
	.preview = pha_cpython_preview, .value_bytes = pha_cpython_value_bytes, \
	.container_len = pha_cpython_container_len, .type_kind = pha_cpython_type_kind, \
	.owned_blocks = pha_cpython_owned_blocks, \
	.tm_traces = pha_cpython_tm_traces, .tm_traceback = pha_cpython_tm_traceback, \
	.tm_filename = pha_cpython_tm_filename, .alloc_offset = pha_cpython_alloc_offset

#endif
