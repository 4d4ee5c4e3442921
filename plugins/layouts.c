/* Per-version offset tables and the registry of compiled-in layouts.
 *
 * Values are for x86-64 Linux default (GIL) release builds and were checked
 * against the interpreters' headers and DWARF (see tests/ for the probes
 * the suite runs against every interpreter it has). Comments name the
 * CPython version that introduced a difference.
 */
#include "cpython.h"

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
	&layout311.layout,
	&layout312.layout,
	NULL,
};
