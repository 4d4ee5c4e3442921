/* Per-version offset tables and the registry of compiled-in layouts.
 *
 * Values are for x86-64 Linux default (GIL) release builds and were checked
 * against the interpreters' headers and DWARF (see tests/ for the probes
 * the suite runs against every interpreter it has). Comments name the
 * CPython version that introduced a difference. Adding a version: the
 * checklist in plugins/README.md (short form in pha_layout.h).
 */
#include "cpython.h"

/* CPython 3.8 - 3.10: frames are PyFrameObjects (GC objects) chained from
 * tstate->frame, dict keys have the 40-byte dk_size/dk_lookup header with
 * 24-byte entries and split values in ma_values[i], instance dicts sit at
 * tp_dictoffset, str keeps wstr, int keeps ob_size, no immortal objects.
 * Members common to the three are set by this macro. */
/* tracemalloc before 3.12: file statics of Modules/_tracemalloc.c (found
 * by symbol); tracing and max_nframe inside _Py_tracemalloc_config. */
#define TM_STATICS .tm_tracing = 4, .tm_max_nframe = 8
/* 3.12+: struct _tracemalloc_runtime_state, the same inside in 3.12 -
 * 3.15 (3.13 made tables_lock a PyMutex, which kept the padding). */
#define TM_RUNTIME(rt) \
	.rt_tracemalloc = (rt), .tm_tracing = 4, .tm_max_nframe = 8, .tm_traced = 144, \
	.tm_peak = 152, .tm_traces = 184, .tm_domains = 192

#define PY38_310_COMMON \
	TM_STATICS, \
	.frame_objects = 1, .dict_keys_v1 = 1, .sizeof_is_gc = 1, .int_size_no_min = 1, \
	.str_has_wstr = 1, .gen_has_code = 1, \
	.rt_interpreters_head = 32, \
	.is_next = 0, .is_threads_head = 8,	/* tstate_head */ \
	.gc_gen_head = {24, 48, 72}, .gc_permanent = 104, .gc_collecting = 200, \
	.ts_next = 8, .ts_interp = 16, .ts_frame = 24, .ts_curexc_type = 88, .ts_curexc = 96, \
	.ts_curexc_tb = 104, .ts_exc_value_item = 144,	/* exc_info */ \
	.ts_dict = 152, .ts_thread_id = 176, .esi_size = 32, \
	.fo_back = 24, .fo_code = 32, .fo_builtins = 40, .fo_globals = 48, .fo_locals = 56, \
	.fo_valuestack = 64, \
	.co_nlocals = 28, .co_stacksize = 32, .co_firstlineno = 40, .co_code = 48, \
	.co_consts = 56, .co_names = 64, .co_varnames = 72, .co_freevars = 80, \
	.co_cellvars = 88, .co_cell2arg = 96, .co_filename = 104, .co_name = 112, \
	.co_linetable = 120,	/* co_lnotab in 3.8/3.9 */ \
	.co_extra = 144, .co_opcache = 160, .co_opcache_size = 172, \
	.opcache_entry_size = 32, \
	.str_ascii_size = 48, .str_compact_size = 72, .str_utf8_length = 48, \
	.str_utf8 = 56, .str_wstr = 40, .str_wstr_length = 64, .str_data = 72, \
	.gen_frame = 16, \
	.exc_dict = 16, .exc_args = 24, .exc_traceback = 32, .exc_context = 40, \
	.exc_cause = 48, \
	.deque_leftblock = 24, .deque_leftindex = 40, .deque_rightindex = 48, \
	.odict_first = 48, .odict_fast_nodes_size = 72, .odict_inst_dict = 96, \
	.mod_def = 24, .mod_state = 32

/* Function objects of 3.8/3.9 start with func_code; 3.10 put the
 * PyFrameConstructor fields (globals, builtins, name, qualname, code,
 * defaults, kwdefaults, closure) first (bpo-42990). */
#define FUNC_38_39 \
	.fn_code = 16, .fn_globals = 24, .fn_defaults = 32, .fn_kwdefaults = 40, \
	.fn_closure = 48, .fn_doc = 56, .fn_name = 64, .fn_dict = 72, .fn_module = 88, \
	.fn_annotations = 96, .fn_qualname = 104

/* Generators of 3.8/3.9 have gi_running between gi_frame and gi_code. */
#define GEN_38_39 \
	.gen_code = 32, .gen_name = 48, .gen_qualname = 56, .gen_exc_value = 64, \
	.gen_origin = 96	/* cr_origin / ag_finalizer */

/* CPython 3.8: the GC state is _PyRuntime.gc (moved into the interpreter
 * in 3.9, bpo-36854); PyTypeObject still has tp_print (416 bytes) and
 * PyHeapTypeObject no ht_module (3.9, PEP 573). */
static const struct pha_py_offsets py38 = {
	/* PyThreadState.context: 3.8-3.10 240, 3.11 224, 3.12-3.14 208, 3.15 232 */
	.ts_context = 240,
	PY38_310_COMMON,
	FUNC_38_39,
	GEN_38_39,
	.gc_in_runtime = 1, .rt_gc = 344,
	.tm_hashtable_v1 = 1,	/* the _Py_hashtable_t of 3.8 (rewritten in 3.9, bpo-40609) */
	.is_modules = 56, .is_sysdict = 72, .is_builtins = 80,
	.fo_stacktop = 72, .fo_trace = 80, .fo_lasti = 104, .fo_lineno = 108,
	.fo_localsplus = 360,
	.type_size = 416, .heaptype_size = 880,
	.ht_name = 848, .ht_slots = 856, .ht_qualname = 864, .ht_cached_keys = 872,
	.prop_last = 40,
	.pool_size = 4096, .arena_size = 256 << 10,
};

/* CPython 3.9: GC state per interpreter; PyTypeObject lost tp_print
 * (408 bytes), PyHeapTypeObject gained ht_module. */
static const struct pha_py_offsets py39 = {
	.ts_context = 240,
	PY38_310_COMMON,
	FUNC_38_39,
	GEN_38_39,
	.is_modules = 856, .is_sysdict = 872, .is_builtins = 880, .is_gc = 616,
	.fo_stacktop = 72, .fo_trace = 80, .fo_lasti = 104, .fo_lineno = 108,
	.fo_localsplus = 360,
	.type_size = 408, .heaptype_size = 880,
	.ht_name = 840, .ht_slots = 848, .ht_qualname = 856, .ht_cached_keys = 864,
	.ht_module = 872,
	.prop_last = 40,
	/* pymalloc: file statics of obmalloc.c; 4 KiB pools in 256 KiB arenas */
	.pool_size = 4096, .arena_size = 256 << 10,
};

/* CPython 3.10: f_lasti counts code units and the line table is
 * co_linetable (PEP 626); the frame's value stack depth is an int
 * f_stackdepth instead of the f_stacktop pointer; function objects start
 * with their frame-constructor fields and have func_builtins; generators
 * lost gi_running; property gained prop_name (visited); tp_as_async grew. */
static const struct pha_py_offsets py310 = {
	.ts_context = 240,
	PY38_310_COMMON,
	.lasti_units = 1,
	.is_modules = 856, .is_sysdict = 872, .is_builtins = 880, .is_gc = 616,
	.fo_trace = 72, .fo_stackdepth = 80, .fo_lasti = 96, .fo_lineno = 100,
	.fo_localsplus = 352,
	.type_size = 408, .heaptype_size = 888,
	.ht_name = 848, .ht_slots = 856, .ht_qualname = 864, .ht_cached_keys = 872,
	.ht_module = 880,
	.fn_globals = 16, .fn_builtins = 24, .fn_name = 32, .fn_qualname = 40,
	.fn_code = 48, .fn_defaults = 56, .fn_kwdefaults = 64, .fn_closure = 72,
	.fn_doc = 80, .fn_dict = 88, .fn_module = 104, .fn_annotations = 112,
	.gen_code = 24, .gen_name = 40, .gen_qualname = 48, .gen_exc_value = 56,
	.gen_origin = 88,
	.prop_last = 48,
	/* pymalloc: file statics of obmalloc.c; 16 KiB pools in 1 MiB arenas (3.10) */
	.pool_size = 16 << 10, .arena_size = 1 << 20,
};

/* CPython 3.11: frames became _PyInterpreterFrame structs reached through
 * tstate->cframe (bpo-44590), instance attributes moved into a managed
 * pre-header (values at obj-32, dict at obj-24), int keeps ob_size. */
static const struct pha_py_offsets py311 = {
	.ts_context = 224,
	TM_STATICS,
	.str_has_wstr = 1,
	.gen_has_code = 1,

	.rt_interpreters_head = 40,
	.is_next = 0, .is_threads_head = 16, .is_modules = 888, .is_sysdict = 904,
	.is_builtins = 912, .is_gc = 648,
	.is_interned = 0,	/* a file-static variable of unicodeobject.c in 3.11 */

	.gc_gen_head = {24, 48, 72}, .gc_permanent = 104, .gc_collecting = 200,

	.ts_next = 8, .ts_interp = 16, .ts_cframe = 56, .ts_thread_id = 152,
	.ts_native_id = 160, .ts_dict = 128, .ts_curexc = 104, .ts_exc_value_item = 120,
	.cf_current_frame = 8,

	.if_func = 0, .if_globals = 8, .if_builtins = 16, .if_locals = 24, .if_code = 32,
	.if_frame_obj = 40, .if_previous = 48, .if_prev_instr = 56, .if_stacktop = 64,
	.if_owner = 69, .if_localsplus = 72,

	.co_consts = 24, .co_names = 32, .co_exceptiontable = 40, .co_stacksize = 68,
	.co_firstlineno = 72, .co_nlocalsplus = 76, .co_framesize = 0,
	.co_localsplusnames = 96, .co_localspluskinds = 104, .co_filename = 112,
	.co_name = 120, .co_qualname = 128, .co_linetable = 136,
	.co_cached = 152,	/* _co_code: a bytes object, not a struct */
	.co_firsttraceable = 168, .co_extra = 176, .co_code_adaptive = 184,

	.type_size = 408, .heaptype_size = 904,
	.ht_name = 848, .ht_slots = 856, .ht_qualname = 864, .ht_cached_keys = 872,
	.ht_module = 880,

	.str_ascii_size = 48, .str_compact_size = 72, .str_utf8_length = 48,
	.str_utf8 = 56, .str_wstr = 40, .str_wstr_length = 64, .str_data = 72,

	.fn_globals = 16, .fn_builtins = 24, .fn_name = 32, .fn_qualname = 40,
	.fn_code = 48, .fn_defaults = 56, .fn_kwdefaults = 64, .fn_closure = 72,
	.fn_doc = 80, .fn_dict = 88, .fn_module = 104, .fn_annotations = 112,
	.fn_typeparams = 0,

	.gen_code = 16, .gen_name = 32, .gen_qualname = 40, .gen_exc_value = 48,
	.gen_origin = 64, .gen_frame_state = 75, .gen_iframe = 80, .gen_state_cleared = 4,

	.fo_back = 16, .fo_frame = 24, .fo_trace = 32, .fo_frame_data = 48,

	.exc_dict = 16, .exc_args = 24, .exc_notes = 32, .exc_traceback = 40,
	.exc_context = 48, .exc_cause = 56,

	.deque_leftblock = 24, .deque_leftindex = 40, .deque_rightindex = 48,
	.odict_first = 48, .odict_fast_nodes_size = 72, .odict_inst_dict = 96,
	.mod_def = 24, .mod_state = 32,
	/* pymalloc: file statics of obmalloc.c; 16 KiB pools in 1 MiB arenas (3.10) */
	.pool_size = 16 << 10, .arena_size = 1 << 20,
};

/* CPython 3.12: immortal objects (PEP 683), int lv_tag (gh-101291),
 * _PyInterpreterFrame reordered with f_code first and C-stack entry frames
 * (owner 3), the managed dict word tagged (values pointer | 1) with a
 * managed weakref word below it, str lost wstr (PEP 623), static builtin
 * types keep their dict in the interpreter. */
static const struct pha_py_offsets py312 = {
	.ts_context = 208,
	TM_RUNTIME(2768),	/* tracemalloc moved into _PyRuntime (gh-101520) */
	.managed_dict_tagged = 1,
	.managed_weakref = 1,
	.long_lv_tag = 1,
	.immortal = 1,
	.frame_cstack_owner = 1,
	.code_has_cached = 1,
	.static_type_dict_in_interp = 1,

	.rt_interpreters_head = 40,
	.is_next = 0, .is_threads_head = 72, .is_modules = 944, .is_sysdict = 352,
	.is_builtins = 360, .is_gc = 112,
	.is_interned = 382936,	/* cached_objects.interned_strings */
	.is_types_builtins = 373704, .static_builtin_state_size = 40, .sbs_tp_dict = 16,

	.gc_gen_head = {24, 48, 72}, .gc_permanent = 104, .gc_collecting = 200,

	.ts_next = 8, .ts_interp = 16, .ts_cframe = 56, .ts_thread_id = 136,
	.ts_native_id = 144, .ts_dict = 112, .ts_curexc = 96, .ts_exc_value_item = 104,
	.cf_current_frame = 0,

	.if_code = 0, .if_previous = 8, .if_func = 16, .if_globals = 24, .if_builtins = 32,
	.if_locals = 40, .if_frame_obj = 48, .if_prev_instr = 56, .if_stacktop = 64,
	.if_owner = 70, .if_localsplus = 72,

	.co_consts = 24, .co_names = 32, .co_exceptiontable = 40, .co_stacksize = 64,
	.co_firstlineno = 68, .co_nlocalsplus = 72, .co_framesize = 76,
	.co_localsplusnames = 96, .co_localspluskinds = 104, .co_filename = 112,
	.co_name = 120, .co_qualname = 128, .co_linetable = 136,
	.co_cached = 152,	/* _co_cached: struct of 4 object pointers */
	.co_firsttraceable = 176, .co_extra = 184, .co_code_adaptive = 192,

	.type_size = 416, .heaptype_size = 920,
	.ht_name = 856, .ht_slots = 864, .ht_qualname = 872, .ht_cached_keys = 880,
	.ht_module = 888,

	.str_ascii_size = 40, .str_compact_size = 56, .str_utf8_length = 40,
	.str_utf8 = 48, .str_data = 56,

	.fn_globals = 16, .fn_builtins = 24, .fn_name = 32, .fn_qualname = 40,
	.fn_code = 48, .fn_defaults = 56, .fn_kwdefaults = 64, .fn_closure = 72,
	.fn_doc = 80, .fn_dict = 88, .fn_module = 104, .fn_annotations = 112,
	.fn_typeparams = 120,

	.gen_code = 0, .gen_name = 24, .gen_qualname = 32, .gen_exc_value = 40,
	.gen_origin = 56, .gen_frame_state = 67, .gen_iframe = 72, .gen_state_cleared = 4,

	.fo_back = 16, .fo_frame = 24, .fo_trace = 32, .fo_frame_data = 48,

	.exc_dict = 16, .exc_args = 24, .exc_notes = 32, .exc_traceback = 40,
	.exc_context = 48, .exc_cause = 56,

	.deque_leftblock = 24, .deque_leftindex = 40, .deque_rightindex = 48,
	.odict_first = 48, .odict_fast_nodes_size = 72, .odict_inst_dict = 96,
	.mod_def = 24, .mod_state = 32,
	/* pymalloc: struct _obmalloc_state embedded in the interpreter (gh-101660) */
	.is_obmalloc = 3960, .obs_arenas = 512, .obs_maxarenas = 520, .obs_narenas = 1064,
	.pool_size = 16 << 10, .arena_size = 1 << 20,
};

/* Final releases only: alphas, betas and release candidates of 3.8-3.10
 * were not verified (--force-layout X.Y opens them anyway). */
static const struct pha_layout_impl layout38 = {
	.layout = {
		.abi_version = PHA_LAYOUT_ABI_VERSION,
		.struct_size = sizeof(struct pha_layout),
		.name = "cpython-3.8",
		.min_hex = 0x030800F0, .max_hex = 0x0308FFFF,
		.description = "CPython 3.8.0 - 3.8.x final releases, x86-64 Linux, default build",
		PHA_CPYTHON_OPS,
	},
	.off = &py38,
};

static const struct pha_layout_impl layout39 = {
	.layout = {
		.abi_version = PHA_LAYOUT_ABI_VERSION,
		.struct_size = sizeof(struct pha_layout),
		.name = "cpython-3.9",
		.min_hex = 0x030900F0, .max_hex = 0x0309FFFF,
		.description = "CPython 3.9.0 - 3.9.x final releases, x86-64 Linux, default build",
		PHA_CPYTHON_OPS,
	},
	.off = &py39,
};

static const struct pha_layout_impl layout310 = {
	.layout = {
		.abi_version = PHA_LAYOUT_ABI_VERSION,
		.struct_size = sizeof(struct pha_layout),
		.name = "cpython-3.10",
		.min_hex = 0x030A00F0, .max_hex = 0x030AFFFF,
		.description = "CPython 3.10.0 - 3.10.x final releases, x86-64 Linux, default build",
		PHA_CPYTHON_OPS,
	},
	.off = &py310,
};

/* _Py_DebugOffsets positions (3.13+). Groups gain members between minor
 * versions, so every version has its own map (values of the table are
 * offsets inside the named structure). */
static const struct pha_py_debug_map dbg313[] = {
	PHA_DBG(40, rt_interpreters_head),
	PHA_DBG(64, is_next), PHA_DBG(72, is_threads_head), PHA_DBG(80, is_gc),
	PHA_DBG(88, is_modules), PHA_DBG(96, is_sysdict), PHA_DBG(104, is_builtins),
	PHA_DBG(168, ts_next), PHA_DBG(176, ts_interp), PHA_DBG(184, ts_current_frame),
	PHA_DBG(192, ts_thread_id), PHA_DBG(200, ts_native_id),
	PHA_DBG(232, if_previous), PHA_DBG(240, if_code), PHA_DBG(248, if_prev_instr),
	PHA_DBG(256, if_localsplus), PHA_DBG(264, if_owner),
	PHA_DBG(280, co_filename), PHA_DBG(288, co_name), PHA_DBG(296, co_qualname),
	PHA_DBG(304, co_linetable), PHA_DBG(312, co_firstlineno),
	PHA_DBG(328, co_localsplusnames), PHA_DBG(336, co_localspluskinds),
	PHA_DBG(344, co_code_adaptive),
	PHA_DBG(368, type_size),
	PHA_DBG(408, tuple_ob_item),
	PHA_DBG(560, str_ascii_size),
	PHA_DBG(568, gc_size), PHA_DBG(576, gc_collecting),
	{0, 0, NULL},
};

static const struct pha_py_debug_map dbg314[] = {
	PHA_DBG(40, rt_interpreters_head),
	PHA_DBG(64, is_next), PHA_DBG(72, is_threads_head), PHA_DBG(88, is_gc),
	PHA_DBG(96, is_modules), PHA_DBG(104, is_sysdict), PHA_DBG(112, is_builtins),
	PHA_DBG(192, ts_next), PHA_DBG(200, ts_interp), PHA_DBG(208, ts_current_frame),
	PHA_DBG(216, ts_thread_id), PHA_DBG(224, ts_native_id),
	PHA_DBG(256, if_previous), PHA_DBG(264, if_code), PHA_DBG(272, if_prev_instr),
	PHA_DBG(280, if_localsplus), PHA_DBG(288, if_owner), PHA_DBG(296, if_stackpointer),
	PHA_DBG(320, co_filename), PHA_DBG(328, co_name), PHA_DBG(336, co_qualname),
	PHA_DBG(344, co_linetable), PHA_DBG(352, co_firstlineno),
	PHA_DBG(368, co_localsplusnames), PHA_DBG(376, co_localspluskinds),
	PHA_DBG(384, co_code_adaptive),
	PHA_DBG(416, type_size),
	PHA_DBG(456, tuple_ob_item),
	PHA_DBG(640, str_ascii_size),
	PHA_DBG(648, gc_size), PHA_DBG(656, gc_collecting),
	PHA_DBG(672, gen_name), PHA_DBG(680, gen_iframe), PHA_DBG(688, gen_frame_state),
	{0, 0, NULL},
};

static const struct pha_py_debug_map dbg315[] = {
	PHA_DBG(40, rt_interpreters_head),
	PHA_DBG(64, is_next), PHA_DBG(72, is_threads_head), PHA_DBG(88, is_gc),
	PHA_DBG(96, is_modules), PHA_DBG(104, is_sysdict), PHA_DBG(112, is_builtins),
	PHA_DBG(192, ts_next), PHA_DBG(200, ts_interp), PHA_DBG(208, ts_current_frame),
	PHA_DBG(240, ts_thread_id), PHA_DBG(248, ts_native_id),
	PHA_DBG(288, ts_curexc),
	PHA_DBG(320, if_previous), PHA_DBG(328, if_code), PHA_DBG(336, if_prev_instr),
	PHA_DBG(344, if_localsplus), PHA_DBG(352, if_owner), PHA_DBG(360, if_stackpointer),
	PHA_DBG(384, co_filename), PHA_DBG(392, co_name), PHA_DBG(400, co_qualname),
	PHA_DBG(408, co_linetable), PHA_DBG(416, co_firstlineno),
	PHA_DBG(432, co_localsplusnames), PHA_DBG(440, co_localspluskinds),
	PHA_DBG(448, co_code_adaptive),
	PHA_DBG(480, type_size), PHA_DBG(528, heaptype_size), PHA_DBG(536, ht_cached_keys),
	PHA_DBG(552, tuple_ob_item),
	PHA_DBG(736, str_ascii_size), PHA_DBG(744, str_compact_size),
	PHA_DBG(752, gc_size), PHA_DBG(760, gc_collecting),
	PHA_DBG(800, gen_name), PHA_DBG(808, gen_iframe), PHA_DBG(816, gen_frame_state),
	{0, 0, NULL},
};

/* CPython 3.13: _Py_DebugOffsets at _PyRuntime + 0 (gh-107851), no cframe
 * (tstate->current_frame), f_executable and instr_ptr (the current
 * instruction), a plain managed dict pointer at obj-24 with inline values
 * at obj + tp_basicsize (gh-115776), PyDictValues gains a header, the GC
 * state moved behind the per-interpreter ceval state. Values of 3.13.0;
 * those the debug table covers are overridden from the core. */
static const struct pha_py_offsets py313 = {
	.ts_context = 208,
	/* 3.13.0 - 3.13.5; 3.13.18 has 10104 (tracemalloc.c locates it) */
	TM_RUNTIME(10080),
	.managed_weakref = 1,
	.long_lv_tag = 1,
	.immortal = 1,
	.frame_cstack_owner = 1,
	.code_has_cached = 1,
	.static_type_dict_in_interp = 1,
	.tstate_current_frame = 1,
	.managed_dict_plain = 1,
	.dict_values_header = 1,
	.static_builtin_search = 1,
	.static_type_no_preheader = 1,

	.rt_interpreters_head = 632,
	.is_next = 7264, .is_threads_head = 7344, .is_modules = 7656, .is_sysdict = 7640,
	.is_builtins = 7648, .is_gc = 7400,
	.is_interned = 194328,	/* cached_objects.interned_strings */
	.is_types_builtins = 182968,	/* types.builtins.initialized[] */
	.static_builtin_state_size = 48, .sbs_tp_dict = 24,	/* managed_static_type_state */

	/* Debian's packages lower PyGC_Head's alignment to 4 (heads at
	 * 20/44/68): enumerate_gc follows generation0 to tell. */
	.gc_gen_head = {24, 48, 72}, .gc_permanent = 104, .gc_collecting = 200,
	.gc_generation0 = 96, .gc_size = 240,

	.ts_next = 8, .ts_interp = 16, .ts_current_frame = 72, .ts_thread_id = 152,
	.ts_native_id = 160, .ts_dict = 128, .ts_curexc = 112, .ts_exc_value_item = 120,

	.if_code = 0, .if_previous = 8, .if_func = 16, .if_globals = 24, .if_builtins = 32,
	.if_locals = 40, .if_frame_obj = 48, .if_prev_instr = 56, .if_stacktop = 64,
	.if_owner = 70, .if_localsplus = 72,

	.co_consts = 24, .co_names = 32, .co_exceptiontable = 40, .co_stacksize = 64,
	.co_firstlineno = 68, .co_nlocalsplus = 72, .co_framesize = 76,
	.co_localsplusnames = 96, .co_localspluskinds = 104, .co_filename = 112,
	.co_name = 120, .co_qualname = 128, .co_linetable = 136,
	.co_cached = 160, .co_firsttraceable = 184, .co_extra = 192, .co_code_adaptive = 200,

	.type_size = 416, .heaptype_size = 928,
	.ht_name = 856, .ht_slots = 864, .ht_qualname = 872, .ht_cached_keys = 880,
	.ht_module = 888,

	.str_ascii_size = 40, .str_compact_size = 56, .str_utf8_length = 40,
	.str_utf8 = 48, .str_data = 56,

	.fn_globals = 16, .fn_builtins = 24, .fn_name = 32, .fn_qualname = 40,
	.fn_code = 48, .fn_defaults = 56, .fn_kwdefaults = 64, .fn_closure = 72,
	.fn_doc = 80, .fn_dict = 88, .fn_module = 104, .fn_annotations = 112,
	.fn_typeparams = 120,

	.gen_code = 0, .gen_name = 24, .gen_qualname = 32, .gen_exc_value = 40,
	.gen_origin = 56, .gen_frame_state = 67, .gen_iframe = 72, .gen_state_cleared = 4,

	.fo_back = 16, .fo_frame = 24, .fo_trace = 32, .fo_frame_data = 64,
	.fo_extra = {48, 56, 0},

	.exc_dict = 16, .exc_args = 24, .exc_notes = 32, .exc_traceback = 40,
	.exc_context = 48, .exc_cause = 56,

	.deque_leftblock = 24, .deque_leftindex = 40, .deque_rightindex = 48,
	.odict_first = 48, .odict_fast_nodes_size = 72, .odict_inst_dict = 96,
	.mod_def = 24, .mod_state = 32,

	.tuple_ob_item = 24, .mod_name = 48,
	/* gh-130327 ("always traverse managed dictionaries"), released in
	 * 3.13.3 per its merge date; verified: 3.13.0 old rule, 3.13.5 and
	 * 3.13.18 new rule. */
	.dict_visits_embedded_hex = 0x030D03F0,
	.debug_map = dbg313, .debug_size = 584,
	/* pymalloc: a pointer to the state (the main interpreter's is static) */
	.obmalloc_ptr = 1, .is_obmalloc = 10800, .obs_arenas = 512, .obs_maxarenas = 520, .obs_narenas = 1064,
	.pool_size = 16 << 10, .arena_size = 1 << 20,
};

/* CPython 3.14 (values of 3.14.10, generational GC): frame slots,
 * f_executable and f_funcobj are tagged _PyStackRefs (gh-117139) with a
 * stack pointer, entry frames have owner 3 (INTERPRETER) and C-stack
 * frames 4, refcounts live in the low 32 bits (flags in the high half),
 * tuples cache their hash (ob_item at 32), functions gain __annotate__,
 * inline values also for subclasses of fixed-size builtins. */
/* What the two 3.14 GC designs share (they differ in the interpreter
 * state members after the GC state, and the GC state itself). */
#define PY314_SHARED \
	.ts_context = 208, \
	TM_RUNTIME(10296), \
	.managed_weakref = 1, \
	.long_lv_tag = 1, \
	.immortal = 1, \
	.frame_cstack_owner = 1, \
	.code_has_cached = 1, \
	.static_type_dict_in_interp = 1, \
	.tstate_current_frame = 1, \
	.managed_dict_plain = 1, \
	.dict_values_header = 1, \
	.stackref = 1, \
	.refcnt32 = 1, \
	.static_builtin_search = 1, \
	.static_type_no_preheader = 1, \
 \
	.rt_interpreters_head = 808, \
	.static_builtin_state_size = 48, .sbs_tp_dict = 24, \
 \
	.gc_gen_head = {24, 48, 72}, .gc_permanent = 96, .gc_collecting = 192, \
 \
	.ts_next = 8, .ts_interp = 16, .ts_current_frame = 72, .ts_thread_id = 152, \
	.ts_native_id = 160, .ts_dict = 128, .ts_curexc = 112, .ts_exc_value_item = 120, \
 \
	.if_code = 0, .if_previous = 8, .if_func = 16, .if_globals = 24, .if_builtins = 32, \
	.if_locals = 40, .if_frame_obj = 48, .if_prev_instr = 56, .if_stackpointer = 64, \
	.if_owner = 74, .if_localsplus = 80, \
 \
	.co_consts = 24, .co_names = 32, .co_exceptiontable = 40, .co_stacksize = 64, \
	.co_firstlineno = 68, .co_nlocalsplus = 72, .co_framesize = 76, \
	.co_localsplusnames = 96, .co_localspluskinds = 104, .co_filename = 112, \
	.co_name = 120, .co_qualname = 128, .co_linetable = 136, \
	.co_cached = 160, .co_firsttraceable = 192, .co_extra = 200, .co_code_adaptive = 208, \
 \
	.type_size = 416, .heaptype_size = 936, \
	.ht_name = 856, .ht_slots = 864, .ht_qualname = 872, .ht_cached_keys = 880, \
	.ht_module = 888, \
 \
	.str_ascii_size = 40, .str_compact_size = 56, .str_utf8_length = 40, \
	.str_utf8 = 48, .str_data = 56, \
 \
	.fn_globals = 16, .fn_builtins = 24, .fn_name = 32, .fn_qualname = 40, \
	.fn_code = 48, .fn_defaults = 56, .fn_kwdefaults = 64, .fn_closure = 72, \
	.fn_doc = 80, .fn_dict = 88, .fn_module = 104, .fn_annotations = 112, \
	.fn_typeparams = 128, .fn_annotate = 120, \
 \
	.gen_code = 0, .gen_name = 24, .gen_qualname = 32, .gen_exc_value = 40, \
	.gen_origin = 56, .gen_frame_state = 67, .gen_iframe = 72, .gen_state_cleared = 4, \
 \
	.fo_back = 16, .fo_frame = 24, .fo_trace = 32, .fo_frame_data = 72, \
	.fo_extra = {48, 56, 64}, \
 \
	.exc_dict = 16, .exc_args = 24, .exc_notes = 32, .exc_traceback = 40, \
	.exc_context = 48, .exc_cause = 56, \
 \
	.deque_leftblock = 24, .deque_leftindex = 40, .deque_rightindex = 48, \
	.odict_first = 48, .odict_fast_nodes_size = 72, .odict_inst_dict = 96, \
	.mod_def = 24, .mod_state = 32, \
 \
	.tuple_ob_item = 32, .mod_name = 48, \
	.dict_visits_embedded_hex = 0x030E00F0, \
	.debug_map = dbg314, .debug_size = 760,

static const struct pha_py_offsets py314 = {
	PY314_SHARED
	.is_next = 7272, .is_threads_head = 7344, .is_modules = 7688, .is_sysdict = 7672,
	.is_builtins = 7680, .is_gc = 7408,
	.is_interned = 224624,
	.is_types_builtins = 180240,
	.gc_generation0 = 256, .gc_size = 264,
	/* pymalloc: a pointer to the state */
	.obmalloc_ptr = 1, .is_obmalloc = 10904, .obs_arenas = 512, .obs_maxarenas = 520, .obs_narenas = 1064,
	.pool_size = 16 << 10, .arena_size = 1 << 20,
};

/* CPython 3.14.0 - 3.14.4 shipped the incremental GC: young/old[0]/old[1]
 * at 24/48/72, permanent 96, no generation0 pointer, a 240-byte state (so
 * the interpreter members after it are 24-32 bytes lower than 3.14.10;
 * the debug table covers the ones walked, the static-type array is
 * located from the data). Not verified against a binary. */
static const struct pha_py_offsets py314inc = {
	PY314_SHARED
	.is_next = 7272, .is_threads_head = 7344, .is_modules = 7664, .is_sysdict = 7648,
	.is_builtins = 7656, .is_gc = 7408,
	.is_interned = 224592,
	.is_types_builtins = 180208,
	.gc_generation0 = 0, .gc_size = 240,
};

/* CPython 3.15 (values of 3.15.2): the GC state lost the trashcan members
 * (heads at 8/32/56, permanent 80, generation0 168), every frame chain ends
 * at a base frame in the thread state (owner 3), generator states are
 * renumbered (CLEARED 5), PyTypeObject grew (_tp_iteritem), the module
 * object dropped md_def (md_name at 40), bytearray keeps its buffer in a
 * bytes object. */
static const struct pha_py_offsets py315 = {
	.ts_context = 232,
	TM_RUNTIME(10432), .tm_filename_utf8 = 1,
	.managed_weakref = 1,
	.long_lv_tag = 1,
	.immortal = 1,
	.frame_cstack_owner = 1,
	.code_has_cached = 1,
	.static_type_dict_in_interp = 1,
	.tstate_current_frame = 1,
	.managed_dict_plain = 1,
	.dict_values_header = 1,
	.stackref = 1,
	.refcnt32 = 1,
	.bytearray_bytes_object = 1,
	.static_builtin_search = 1,
	.static_type_no_preheader = 1,

	.rt_interpreters_head = 936,
	.is_next = 7264, .is_threads_head = 7336, .is_modules = 7592, .is_sysdict = 7576,
	.is_builtins = 7584, .is_gc = 7400,
	.is_interned = 224896,
	.is_types_builtins = 180264,
	.static_builtin_state_size = 48, .sbs_tp_dict = 24,

	.gc_gen_head = {8, 32, 56}, .gc_permanent = 80, .gc_collecting = 112,
	.gc_generation0 = 168, .gc_size = 176,

	.ts_next = 8, .ts_interp = 16, .ts_current_frame = 72, .ts_thread_id = 176,
	.ts_native_id = 184, .ts_dict = 152, .ts_curexc = 136, .ts_exc_value_item = 144,

	.if_code = 0, .if_previous = 8, .if_func = 16, .if_globals = 24, .if_builtins = 32,
	.if_locals = 40, .if_frame_obj = 48, .if_prev_instr = 56, .if_stackpointer = 64,
	.if_owner = 74, .if_localsplus = 80,

	.co_consts = 24, .co_names = 32, .co_exceptiontable = 40, .co_stacksize = 64,
	.co_firstlineno = 68, .co_nlocalsplus = 72, .co_framesize = 76,
	.co_localsplusnames = 96, .co_localspluskinds = 104, .co_filename = 112,
	.co_name = 120, .co_qualname = 128, .co_linetable = 136,
	.co_cached = 160, .co_firsttraceable = 192, .co_extra = 200, .co_code_adaptive = 208,

	.type_size = 424, .heaptype_size = 944,
	.ht_name = 864, .ht_slots = 872, .ht_qualname = 880, .ht_cached_keys = 888,
	.ht_module = 896,

	.str_ascii_size = 40, .str_compact_size = 56, .str_utf8_length = 40,
	.str_utf8 = 48, .str_data = 56,

	.fn_globals = 16, .fn_builtins = 24, .fn_name = 32, .fn_qualname = 40,
	.fn_code = 48, .fn_defaults = 56, .fn_kwdefaults = 64, .fn_closure = 72,
	.fn_doc = 80, .fn_dict = 88, .fn_module = 104, .fn_annotations = 112,
	.fn_typeparams = 128, .fn_annotate = 120,

	.gen_code = 0, .gen_name = 24, .gen_qualname = 32, .gen_exc_value = 40,
	.gen_origin = 56, .gen_frame_state = 67, .gen_iframe = 72, .gen_state_cleared = 5,

	.fo_back = 16, .fo_frame = 24, .fo_trace = 32, .fo_frame_data = 72,
	.fo_extra = {48, 56, 64},

	.exc_dict = 16, .exc_args = 24, .exc_notes = 32, .exc_traceback = 40,
	.exc_context = 48, .exc_cause = 56,

	.deque_leftblock = 24, .deque_leftindex = 40, .deque_rightindex = 48,
	.odict_first = 48, .odict_fast_nodes_size = 72, .odict_inst_dict = 96,
	/* PyModuleObject lost md_def; md_state_size and md_state_traverse
	 * now sit in the module (md_token replaces the definition). */
	.mod_state = 24, .mod_state_size = 56, .mod_state_traverse = 64,

	.tuple_ob_item = 32, .mod_name = 40,
	.dict_visits_embedded_hex = 0x030F00F0,
	.debug_map = dbg315, .debug_size = 888,
	/* pymalloc: a pointer to the state */
	.obmalloc_ptr = 1, .is_obmalloc = 10880, .obs_arenas = 512, .obs_maxarenas = 520, .obs_narenas = 1064,
	.pool_size = 16 << 10, .arena_size = 1 << 20,
};

static const struct pha_layout_impl layout311 = {
	.layout = {
		.abi_version = PHA_LAYOUT_ABI_VERSION,
		.struct_size = sizeof(struct pha_layout),
		.name = "cpython-3.11",
		.min_hex = 0x030B00F0, .max_hex = 0x030BFFFF,
		.description = "CPython 3.11.0 - 3.11.x, x86-64 Linux, default build",
		PHA_CPYTHON_OPS,
	},
	.off = &py311,
};

static const struct pha_layout_impl layout312 = {
	.layout = {
		.abi_version = PHA_LAYOUT_ABI_VERSION,
		.struct_size = sizeof(struct pha_layout),
		.name = "cpython-3.12",
		.min_hex = 0x030C00F0, .max_hex = 0x030CFFFF,
		.description = "CPython 3.12.0 - 3.12.x, x86-64 Linux, default build",
		PHA_CPYTHON_OPS,
	},
	.off = &py312,
};

static const struct pha_layout_impl layout313 = {
	.layout = {
		.abi_version = PHA_LAYOUT_ABI_VERSION,
		.struct_size = sizeof(struct pha_layout),
		.name = "cpython-3.13",
		.min_hex = 0x030D00F0, .max_hex = 0x030DFFFF,
		.description = "CPython 3.13.0 - 3.13.x, x86-64 Linux, default (GIL) build",
		PHA_CPYTHON_OPS,
	},
	.off = &py313,
};

static const struct pha_layout_impl layout314inc = {
	.layout = {
		.abi_version = PHA_LAYOUT_ABI_VERSION,
		.struct_size = sizeof(struct pha_layout),
		.name = "cpython-3.14-incgc",
		.min_hex = 0x030E00F0, .max_hex = 0x030E04FF,
		.description = "CPython 3.14.0 - 3.14.4 (incremental GC), x86-64 Linux, default "
			       "(GIL) build; not verified against a binary",
		PHA_CPYTHON_OPS,
	},
	.off = &py314inc,
};

static const struct pha_layout_impl layout314 = {
	.layout = {
		.abi_version = PHA_LAYOUT_ABI_VERSION,
		.struct_size = sizeof(struct pha_layout),
		.name = "cpython-3.14",
		.min_hex = 0x030E0500, .max_hex = 0x030EFFFF,
		.description = "CPython 3.14.5 - 3.14.x (generational GC), x86-64 Linux, default "
			       "(GIL) build",
		PHA_CPYTHON_OPS,
	},
	.off = &py314,
};

static const struct pha_layout_impl layout315 = {
	.layout = {
		.abi_version = PHA_LAYOUT_ABI_VERSION,
		.struct_size = sizeof(struct pha_layout),
		.name = "cpython-3.15",
		.min_hex = 0x030F00F0, .max_hex = 0x030FFFFF,
		.description = "CPython 3.15.0 - 3.15.x, x86-64 Linux, default (GIL) build",
		PHA_CPYTHON_OPS,
	},
	.off = &py315,
};

const struct pha_layout *const pha_builtin_layouts[] = {
	&layout38.layout,
	&layout39.layout,
	&layout310.layout,
	&layout311.layout,
	&layout312.layout,
	&layout313.layout,
	&layout314inc.layout,
	&layout314.layout,
	&layout315.layout,
	NULL,
};
