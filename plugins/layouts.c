/* Per-version offset tables and the registry of compiled-in layouts.
 *
 * Values are for x86-64 Linux default (GIL) release builds and were checked
 * against the interpreters' headers and DWARF (see tests/ for the probes
 * the suite runs against every interpreter it has). Comments name the
 * CPython version that introduced a difference.
 */
#include "cpython.h"

/* CPython 3.8 - 3.10: frames are PyFrameObjects (GC objects) chained from
 * tstate->frame, dict keys have the 40-byte dk_size/dk_lookup header with
 * 24-byte entries and split values in ma_values[i], instance dicts sit at
 * tp_dictoffset, str keeps wstr, int keeps ob_size, no immortal objects.
 * Members common to the three are set by this macro. */
#define PY38_310_COMMON \
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
	.odict_first = 48, .odict_fast_nodes_size = 72, .odict_inst_dict = 96

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
	PY38_310_COMMON,
	FUNC_38_39,
	GEN_38_39,
	.gc_in_runtime = 1, .rt_gc = 344,
	.is_modules = 56, .is_sysdict = 72, .is_builtins = 80,
	.fo_stacktop = 72, .fo_trace = 80, .fo_lasti = 104, .fo_lineno = 108,
	.fo_localsplus = 360,
	.type_size = 416, .heaptype_size = 880,
	.ht_name = 848, .ht_slots = 856, .ht_qualname = 864, .ht_cached_keys = 872,
	.prop_last = 40,
};

/* CPython 3.9: GC state per interpreter; PyTypeObject lost tp_print
 * (408 bytes), PyHeapTypeObject gained ht_module. */
static const struct pha_py_offsets py39 = {
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
};

/* CPython 3.10: f_lasti counts code units and the line table is
 * co_linetable (PEP 626); the frame's value stack depth is an int
 * f_stackdepth instead of the f_stacktop pointer; function objects start
 * with their frame-constructor fields and have func_builtins; generators
 * lost gi_running; property gained prop_name (visited); tp_as_async grew. */
static const struct pha_py_offsets py310 = {
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
};

/* CPython 3.11: frames became _PyInterpreterFrame structs reached through
 * tstate->cframe (bpo-44590), instance attributes moved into a managed
 * pre-header (values at obj-32, dict at obj-24), int keeps ob_size. */
static const struct pha_py_offsets py311 = {
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
};

/* CPython 3.12: immortal objects (PEP 683), int lv_tag (gh-101291),
 * _PyInterpreterFrame reordered with f_code first and C-stack entry frames
 * (owner 3), the managed dict word tagged (values pointer | 1) with a
 * managed weakref word below it, str lost wstr (PEP 623), static builtin
 * types keep their dict in the interpreter. */
static const struct pha_py_offsets py312 = {
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

const struct pha_layout *const pha_builtin_layouts[] = {
	&layout38.layout,
	&layout39.layout,
	&layout310.layout,
	&layout311.layout,
	&layout312.layout,
	NULL,
};
