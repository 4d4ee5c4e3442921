/* Layout probe: the offsets and sizes of struct pha_py_offsets
 * (plugins/cpython.h), computed by the compiler from one interpreter's own
 * installed headers, internal ones included.
 *
 * Build (tests/layout/check_layouts.sh does this for every interpreter it
 * finds):
 *   cc -DPy_BUILD_CORE -I$INC -I$INC/internal [-I$EXTRA] probe.c -o probe
 * where $INC is PREFIX/include/python3.X and $EXTRA the directory that holds
 * an out-of-tree pyconfig.h (Debian's multiarch include directory).
 *
 * Output: one line per field, `name<TAB>value<TAB>C expression`, with the
 * field names of struct pha_py_offsets (array elements as gc_gen_head[1]).
 * A name may appear more than once when several CPython structures must
 * agree with one table entry (generators, coroutines and async generators
 * share the gen_* offsets). The first line is `#hexversion<TAB>0x...`, the
 * PY_VERSION_HEX of the headers.
 *
 * Every other field of the struct is declared by a comment line instead,
 * so that a new field cannot go unnoticed (check_layouts.sh fails on a
 * field that is neither printed nor declared):
 *   #absent<TAB>name     the member does not exist in this version; the
 *                        table must hold 0 there (the walker's "absent")
 *   #unchecked<TAB>name  headers cannot tell: members of structs private to
 *                        a .c file (deque_*, odict_*), and feature flags that
 *                        describe how the walker reads memory
 *
 * Member names are chosen per version with PY_VERSION_HEX; a guard that
 * picks the wrong member fails to compile rather than printing a wrong
 * number, so only 3.8 - 3.15 are accepted. 3.8 - 3.10 (frame objects, the
 * old dict keys) and 3.11+ (interpreter frames) have separate bodies;
 * each declares the other family's members absent or unchecked.
 */
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include "Python.h"

#if PY_VERSION_HEX < 0x03080000 || PY_VERSION_HEX >= 0x03100000
#error "tests/layout/probe.c knows the member names of CPython 3.8 - 3.15 only"
#endif

#define LEGACY (PY_VERSION_HEX < 0x030B0000)	/* 3.8 - 3.10 */

#if LEGACY
#include "frameobject.h"
#include "pycore_code.h"	/* _PyOpcache */
#if PY_VERSION_HEX < 0x03090000
#include "pycore_pystate.h"	/* 3.8: _PyRuntimeState, struct _is, GC state */
#else
#include "pycore_gc.h"
#include "pycore_interp.h"
#include "pycore_runtime.h"
#endif
#else
#include "pycore_gc.h"
#include "pycore_frame.h"
#include "pycore_interp.h"
#include "pycore_runtime.h"
#if PY_VERSION_HEX >= 0x030C0000
#include "pycore_typeobject.h"	/* static_builtin_state, struct types_state */
#endif
#if PY_VERSION_HEX >= 0x030D0000
#include "pycore_genobject.h"
#endif
#endif
#if PY_VERSION_HEX >= 0x030A0000
#include "pycore_moduleobject.h"	/* PyModuleObject (3.10+) */
#endif

#if PY_VERSION_HEX >= 0x030C0000
#include "pycore_obmalloc.h"	/* struct _obmalloc_state, POOL_SIZE, ARENA_SIZE */
#endif

#include <stddef.h>
#include <stdio.h>

#define V312 (PY_VERSION_HEX >= 0x030C0000)
#define V313 (PY_VERSION_HEX >= 0x030D0000)
#define V314 (PY_VERSION_HEX >= 0x030E0000)

static void emit(const char *name, long long value, const char *expr)
{
	printf("%s\t%lld\t%s\n", name, value, expr);
}

/* offsetof with a member designator: GCC and Clang accept nested members
 * and constant array indices (interpreters.head, generations[1].head). */
#define OFF(name, type, member) \
	emit(name, (long long)offsetof(type, member), "offsetof(" #type ", " #member ")")
#define OFF2(name, type, member, type2, member2) \
	emit(name, (long long)(offsetof(type, member) + offsetof(type2, member2)), \
	     "offsetof(" #type ", " #member ") + offsetof(" #type2 ", " #member2 ")")
#define SIZE(name, type) emit(name, (long long)sizeof(type), "sizeof(" #type ")")
#define VALUE(name, value, why) emit(name, (long long)(value), why)
#define ABSENT(name) printf("#absent\t%s\n", name)
#define UNCHECKED(name) printf("#unchecked\t%s\n", name)

#if PY_VERSION_HEX >= 0x03090000 && PY_VERSION_HEX < 0x030C0000
#include "pycore_pymem.h"	/* struct _PyTraceMalloc_Config (3.9 - 3.11) */
#endif

/* tracemalloc (plugins/tracemalloc.c): 3.12+ _PyRuntime.tracemalloc;
 * before, file statics of Modules/_tracemalloc.c and the exported
 * _Py_tracemalloc_config. Its tables (_Py_hashtable_t, trace_t,
 * traceback_t) are private to .c files before 3.12: the flags are
 * unchecked. */
static void tracemalloc_members(void)
{
#if PY_VERSION_HEX >= 0x030C0000
#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
	/* Moved within 3.13 (10080 in 3.13.0 - 3.13.5, 10104 in 3.13.18):
	 * the walker starts at the table's value and locates the state from
	 * the data (locate_runtime). */
	UNCHECKED("rt_tracemalloc");
#else
	OFF("rt_tracemalloc", _PyRuntimeState, tracemalloc);
#endif
	OFF("tm_tracing", struct _tracemalloc_runtime_state, config.tracing);
	OFF("tm_max_nframe", struct _tracemalloc_runtime_state, config.max_nframe);
	OFF("tm_traced", struct _tracemalloc_runtime_state, traced_memory);
	OFF("tm_peak", struct _tracemalloc_runtime_state, peak_traced_memory);
	OFF("tm_traces", struct _tracemalloc_runtime_state, traces);
	OFF("tm_domains", struct _tracemalloc_runtime_state, domains);
#else
	ABSENT("rt_tracemalloc");
	OFF("tm_tracing", struct _PyTraceMalloc_Config, tracing);
	OFF("tm_max_nframe", struct _PyTraceMalloc_Config, max_nframe);
	ABSENT("tm_traced");
	ABSENT("tm_peak");
	ABSENT("tm_traces");
	ABSENT("tm_domains");
#endif
	UNCHECKED("tm_hashtable_v1");
	UNCHECKED("tm_filename_utf8");
}

/* pymalloc's state: 3.12 embeds it in the interpreter, 3.13+ points at
 * it from there. Before 3.12 it is file statics of obmalloc.c and
 * POOL_SIZE/ARENA_SIZE are private to that file. */
static void pymalloc_members(void)
{
#if PY_VERSION_HEX >= 0x030C0000
	OFF("is_obmalloc", PyInterpreterState, obmalloc);
	OFF2("obs_arenas", struct _obmalloc_state, mgmt, struct _obmalloc_mgmt, arenas);
	OFF2("obs_maxarenas", struct _obmalloc_state, mgmt, struct _obmalloc_mgmt, maxarenas);
	OFF2("obs_narenas", struct _obmalloc_state, mgmt, struct _obmalloc_mgmt,
	     narenas_currently_allocated);
	VALUE("pool_size", POOL_SIZE, "POOL_SIZE");
	VALUE("arena_size", ARENA_SIZE, "ARENA_SIZE");
#if PY_VERSION_HEX >= 0x030D0000
	VALUE("obmalloc_ptr", 1, "PyInterpreterState.obmalloc is a pointer");
	_Static_assert(sizeof(((PyInterpreterState *)0)->obmalloc) == sizeof(void *),
		       "3.13+: PyInterpreterState.obmalloc is a pointer");
#else
	VALUE("obmalloc_ptr", 0, "PyInterpreterState.obmalloc is the struct");
#endif
#else
	ABSENT("is_obmalloc");
	ABSENT("obs_arenas");
	ABSENT("obs_maxarenas");
	ABSENT("obs_narenas");
	ABSENT("obmalloc_ptr");
	UNCHECKED("pool_size");
	UNCHECKED("arena_size");
#endif
}

#if !LEGACY
/* The three generator-like types share _PyGenObject_HEAD; the walker uses
 * the gen_* offsets for all of them, so every one is checked. */
#define GEN_FIELDS(type, p) \
	do { \
		OFF("gen_name", type, p##_name); \
		OFF("gen_qualname", type, p##_qualname); \
		OFF2("gen_exc_value", type, p##_exc_state, _PyErr_StackItem, exc_value); \
		OFF("gen_origin", type, p##_origin_or_finalizer); \
		OFF("gen_frame_state", type, p##_frame_state); \
		OFF("gen_iframe", type, p##_iframe); \
	} while (0)

/* Members only the frame-object walker (3.8 - 3.10) reads. */
static void legacy_members(void)
{
	UNCHECKED("frame_objects");
	UNCHECKED("dict_keys_v1");
	UNCHECKED("gc_in_runtime");
	UNCHECKED("lasti_units");
	UNCHECKED("sizeof_is_gc");
	UNCHECKED("int_size_no_min");
	ABSENT("rt_gc");
	ABSENT("ts_frame");
	ABSENT("ts_curexc_type");
	ABSENT("ts_curexc_tb");
	UNCHECKED("esi_size");	/* exists, not read from 3.11 on */
	ABSENT("fo_code");
	ABSENT("fo_builtins");
	ABSENT("fo_globals");
	ABSENT("fo_locals");
	ABSENT("fo_valuestack");
	ABSENT("fo_stacktop");
	ABSENT("fo_stackdepth");
	ABSENT("fo_lasti");
	UNCHECKED("fo_lineno");	/* exists, not read from 3.11 on */
	ABSENT("fo_localsplus");
	UNCHECKED("co_nlocals");	/* exists, not read from 3.11 on */
	ABSENT("co_code");
	ABSENT("co_varnames");
	ABSENT("co_freevars");
	ABSENT("co_cellvars");
	ABSENT("co_cell2arg");
	ABSENT("gen_frame");
	UNCHECKED("prop_last");	/* propertyobject is private to descrobject.c */
	ABSENT("co_opcache");	/* replaced by inline caches in 3.11 */
	ABSENT("co_opcache_size");
	ABSENT("opcache_entry_size");
}

int main(void)
{
	printf("#hexversion\t0x%08lx\n", (unsigned long)PY_VERSION_HEX);
	legacy_members();

	/* Feature flags that a header macro answers. The others
	 * (managed_dict_tagged, frame_cstack_owner, code_has_cached,
	 * gen_has_code, static_type_dict_in_interp) describe how the walker
	 * reads memory, which headers cannot confirm. */
	UNCHECKED("managed_dict_tagged");
	UNCHECKED("frame_cstack_owner");
	UNCHECKED("code_has_cached");
	UNCHECKED("gen_has_code");
	UNCHECKED("static_type_dict_in_interp");
#ifdef PyUnicode_WSTR_LENGTH
	VALUE("str_has_wstr", 1, "defined(PyUnicode_WSTR_LENGTH)");
#else
	VALUE("str_has_wstr", 0, "!defined(PyUnicode_WSTR_LENGTH)");
#endif
#if defined(_Py_IMMORTAL_REFCNT)
	VALUE("immortal", 1, "defined(_Py_IMMORTAL_REFCNT)");
#elif defined(_Py_IMMORTAL_INITIAL_REFCNT)	/* 3.14 */
	VALUE("immortal", 1, "defined(_Py_IMMORTAL_INITIAL_REFCNT)");
#else
	VALUE("immortal", 0, "!defined(_Py_IMMORTAL_REFCNT)");
#endif
#ifdef Py_TPFLAGS_MANAGED_WEAKREF
	VALUE("managed_weakref", 1, "defined(Py_TPFLAGS_MANAGED_WEAKREF)");
#else
	VALUE("managed_weakref", 0, "!defined(Py_TPFLAGS_MANAGED_WEAKREF)");
#endif
#ifdef _PyLong_NON_SIZE_BITS
	VALUE("long_lv_tag", 1, "defined(_PyLong_NON_SIZE_BITS)");
#else
	VALUE("long_lv_tag", 0, "!defined(_PyLong_NON_SIZE_BITS)");
#endif

	/* _PyRuntimeState / PyInterpreterState */
	OFF("rt_interpreters_head", _PyRuntimeState, interpreters.head);
	OFF("is_next", PyInterpreterState, next);
	OFF("is_threads_head", PyInterpreterState, threads.head);
#if V312
	OFF("is_modules", PyInterpreterState, imports.modules);
#else
	OFF("is_modules", PyInterpreterState, modules);
#endif
	OFF("is_sysdict", PyInterpreterState, sysdict);
	OFF("is_builtins", PyInterpreterState, builtins);
	OFF("is_gc", PyInterpreterState, gc);
#if V313
	OFF("is_interned", PyInterpreterState, cached_objects.interned_strings);
	OFF("is_types_builtins", PyInterpreterState, types.builtins.initialized);
	SIZE("static_builtin_state_size", managed_static_type_state);
	OFF("sbs_tp_dict", managed_static_type_state, tp_dict);
#elif V312
	OFF("is_interned", PyInterpreterState, cached_objects.interned_strings);
	OFF("is_types_builtins", PyInterpreterState, types.builtins);
	SIZE("static_builtin_state_size", static_builtin_state);
	OFF("sbs_tp_dict", static_builtin_state, tp_dict);
#else
	/* The interned dict is a file-static variable of unicodeobject.c, and
	 * static builtin types keep their own tp_dict. */
	ABSENT("is_interned");
	ABSENT("is_types_builtins");
	ABSENT("static_builtin_state_size");
	ABSENT("sbs_tp_dict");
#endif

	/* struct _gc_runtime_state: the walker reads each generation's list
	 * head, so the offset is of the head inside the generation. */
#if V313
	/* 3.13+: the walker follows generation0 to the first head and keeps
	 * the spacing of the table; Debian's 3.13 packages align PyGC_Head to
	 * 4, which moves the heads (20/44/68), so only check them here when
	 * the headers have the upstream 8-byte alignment. */
	if (offsetof(struct _gc_runtime_state, generations[0].head) % 8 == 0) {
		OFF("gc_gen_head[0]", struct _gc_runtime_state, generations[0].head);
		OFF("gc_gen_head[1]", struct _gc_runtime_state, generations[1].head);
		OFF("gc_gen_head[2]", struct _gc_runtime_state, generations[2].head);
	} else {
		printf("#note\tgeneration heads at %zu/%zu/%zu (PyGC_Head aligned to 4): "
		       "found through generation0 at run time\n",
		       offsetof(struct _gc_runtime_state, generations[0].head),
		       offsetof(struct _gc_runtime_state, generations[1].head),
		       offsetof(struct _gc_runtime_state, generations[2].head));
		UNCHECKED("gc_gen_head[0]");
		UNCHECKED("gc_gen_head[1]");
		UNCHECKED("gc_gen_head[2]");
	}
	OFF("gc_generation0", struct _gc_runtime_state, generation0);
	SIZE("gc_size", struct _gc_runtime_state);
#else
	OFF("gc_gen_head[0]", struct _gc_runtime_state, generations[0].head);
	OFF("gc_gen_head[1]", struct _gc_runtime_state, generations[1].head);
	OFF("gc_gen_head[2]", struct _gc_runtime_state, generations[2].head);
	/* Not used before 3.13 (0 in the table). */
	UNCHECKED("gc_generation0");
	UNCHECKED("gc_size");
#endif
	OFF("gc_permanent", struct _gc_runtime_state, permanent_generation.head);
	OFF("gc_collecting", struct _gc_runtime_state, collecting);

	/* PyThreadState / _PyCFrame */
	OFF("ts_next", PyThreadState, next);
	OFF("ts_interp", PyThreadState, interp);
#if V313
	ABSENT("ts_cframe");	/* gh-106023: tstate->current_frame */
	OFF("ts_current_frame", PyThreadState, current_frame);
#else
	OFF("ts_cframe", PyThreadState, cframe);
	ABSENT("ts_current_frame");
#endif
	OFF("ts_thread_id", PyThreadState, thread_id);
	OFF("ts_native_id", PyThreadState, native_thread_id);
	OFF("ts_dict", PyThreadState, dict);
	OFF("ts_context", PyThreadState, context);
#if V312
	OFF("ts_curexc", PyThreadState, current_exception);	/* gh-102192 */
#else
	OFF("ts_curexc", PyThreadState, curexc_value);
#endif
	OFF("ts_exc_value_item", PyThreadState, exc_info);
#if V313
	ABSENT("cf_current_frame");
#else
	OFF("cf_current_frame", _PyCFrame, current_frame);
#endif

	/* _PyInterpreterFrame */
#if V313
	OFF("if_code", _PyInterpreterFrame, f_executable);
#else
	OFF("if_code", _PyInterpreterFrame, f_code);
#endif
#if V312
	OFF("if_func", _PyInterpreterFrame, f_funcobj);
#else
	OFF("if_func", _PyInterpreterFrame, f_func);
#endif
	OFF("if_globals", _PyInterpreterFrame, f_globals);
	OFF("if_builtins", _PyInterpreterFrame, f_builtins);
	OFF("if_locals", _PyInterpreterFrame, f_locals);
	OFF("if_frame_obj", _PyInterpreterFrame, frame_obj);
	OFF("if_previous", _PyInterpreterFrame, previous);
#if V313
	OFF("if_prev_instr", _PyInterpreterFrame, instr_ptr);
#else
	OFF("if_prev_instr", _PyInterpreterFrame, prev_instr);
#endif
#if V314
	ABSENT("if_stacktop");
	OFF("if_stackpointer", _PyInterpreterFrame, stackpointer);
#else
	OFF("if_stacktop", _PyInterpreterFrame, stacktop);
	ABSENT("if_stackpointer");
#endif
	OFF("if_owner", _PyInterpreterFrame, owner);
	OFF("if_localsplus", _PyInterpreterFrame, localsplus);

	/* PyCodeObject */
	OFF("co_consts", PyCodeObject, co_consts);
	OFF("co_names", PyCodeObject, co_names);
	OFF("co_exceptiontable", PyCodeObject, co_exceptiontable);
	OFF("co_firstlineno", PyCodeObject, co_firstlineno);
	OFF("co_nlocalsplus", PyCodeObject, co_nlocalsplus);
	OFF("co_stacksize", PyCodeObject, co_stacksize);
#if V312
	OFF("co_framesize", PyCodeObject, co_framesize);
#else
	ABSENT("co_framesize");
#endif
	OFF("co_localsplusnames", PyCodeObject, co_localsplusnames);
	OFF("co_localspluskinds", PyCodeObject, co_localspluskinds);
	OFF("co_filename", PyCodeObject, co_filename);
	OFF("co_name", PyCodeObject, co_name);
	OFF("co_qualname", PyCodeObject, co_qualname);
	OFF("co_linetable", PyCodeObject, co_linetable);
	OFF("co_code_adaptive", PyCodeObject, co_code_adaptive);
	OFF("co_firsttraceable", PyCodeObject, _co_firsttraceable);
	OFF("co_extra", PyCodeObject, co_extra);
#if V312
	OFF("co_cached", PyCodeObject, _co_cached);
#else
	OFF("co_cached", PyCodeObject, _co_code);
#endif

	/* PyTypeObject / PyHeapTypeObject */
	SIZE("type_size", PyTypeObject);
	SIZE("heaptype_size", PyHeapTypeObject);
	OFF("ht_name", PyHeapTypeObject, ht_name);
	OFF("ht_slots", PyHeapTypeObject, ht_slots);
	OFF("ht_qualname", PyHeapTypeObject, ht_qualname);
	OFF("ht_cached_keys", PyHeapTypeObject, ht_cached_keys);
	OFF("ht_module", PyHeapTypeObject, ht_module);

	/* str */
	SIZE("str_ascii_size", PyASCIIObject);
	SIZE("str_compact_size", PyCompactUnicodeObject);
	OFF("str_utf8_length", PyCompactUnicodeObject, utf8_length);
	OFF("str_utf8", PyCompactUnicodeObject, utf8);
#if !V312
	OFF("str_wstr", PyASCIIObject, wstr);	/* removed by PEP 623 in 3.12 */
	OFF("str_wstr_length", PyCompactUnicodeObject, wstr_length);
#else
	ABSENT("str_wstr");
	ABSENT("str_wstr_length");
#endif
	OFF("str_data", PyUnicodeObject, data);

	/* function */
	OFF("fn_globals", PyFunctionObject, func_globals);
	OFF("fn_builtins", PyFunctionObject, func_builtins);
	OFF("fn_name", PyFunctionObject, func_name);
	OFF("fn_qualname", PyFunctionObject, func_qualname);
	OFF("fn_code", PyFunctionObject, func_code);
	OFF("fn_defaults", PyFunctionObject, func_defaults);
	OFF("fn_kwdefaults", PyFunctionObject, func_kwdefaults);
	OFF("fn_closure", PyFunctionObject, func_closure);
	OFF("fn_doc", PyFunctionObject, func_doc);
	OFF("fn_dict", PyFunctionObject, func_dict);
	OFF("fn_module", PyFunctionObject, func_module);
	OFF("fn_annotations", PyFunctionObject, func_annotations);
#if V312
	OFF("fn_typeparams", PyFunctionObject, func_typeparams);	/* PEP 695 */
#else
	ABSENT("fn_typeparams");
#endif
#if V314
	OFF("fn_annotate", PyFunctionObject, func_annotate);	/* PEP 649 */
#else
	ABSENT("fn_annotate");
#endif

	/* generator / coroutine / async generator */
#if !V312
	OFF("gen_code", PyGenObject, gi_code);
	OFF("gen_code", PyCoroObject, cr_code);
	OFF("gen_code", PyAsyncGenObject, ag_code);
#else
	ABSENT("gen_code");
#endif
	GEN_FIELDS(PyGenObject, gi);
	GEN_FIELDS(PyCoroObject, cr);
	GEN_FIELDS(PyAsyncGenObject, ag);
	VALUE("gen_state_cleared", FRAME_CLEARED, "FRAME_CLEARED");

	/* PyFrameObject */
	OFF("fo_back", PyFrameObject, f_back);
	OFF("fo_frame", PyFrameObject, f_frame);
	OFF("fo_trace", PyFrameObject, f_trace);
	OFF("fo_frame_data", PyFrameObject, _f_frame_data);
#if V313
	OFF("fo_extra[0]", PyFrameObject, f_extra_locals);
	OFF("fo_extra[1]", PyFrameObject, f_locals_cache);
#else
	ABSENT("fo_extra[0]");
	ABSENT("fo_extra[1]");
#endif
#if V314
	OFF("fo_extra[2]", PyFrameObject, f_overwritten_fast_locals);
#else
	ABSENT("fo_extra[2]");
#endif

	/* tuple and module objects; the table holds 0 before 3.13 (the
	 * walker's default: 24 and 48) */
#if V313
	OFF("tuple_ob_item", PyTupleObject, ob_item);
	OFF("mod_name", PyModuleObject, md_name);
	SIZE("debug_size", _Py_DebugOffsets);
#else
	ABSENT("tuple_ob_item");
	ABSENT("mod_name");
	ABSENT("debug_size");
#endif
	/* 3.15 moved the state's size and traverse into the module. */
#if PY_VERSION_HEX >= 0x030F0000
	ABSENT("mod_def");
	OFF("mod_state_size", PyModuleObject, md_state_size);
	OFF("mod_state_traverse", PyModuleObject, md_state_traverse);
#else
	OFF("mod_def", PyModuleObject, md_def);
	ABSENT("mod_state_size");
	ABSENT("mod_state_traverse");
#endif
	OFF("mod_state", PyModuleObject, md_state);
	/* How the walker reads memory: not visible in headers (the debug
	 * table itself is compared with the binaries' by check_debug_offsets). */
	UNCHECKED("tstate_current_frame");
	UNCHECKED("managed_dict_plain");
	UNCHECKED("dict_values_header");
	UNCHECKED("stackref");
	UNCHECKED("refcnt32");
	UNCHECKED("bytearray_bytes_object");
	UNCHECKED("static_builtin_search");
	UNCHECKED("static_type_no_preheader");
	UNCHECKED("dict_visits_embedded_hex");
	UNCHECKED("debug_map");

	/* BaseException */
	OFF("exc_dict", PyBaseExceptionObject, dict);
	OFF("exc_args", PyBaseExceptionObject, args);
	OFF("exc_notes", PyBaseExceptionObject, notes);
	OFF("exc_traceback", PyBaseExceptionObject, traceback);
	OFF("exc_context", PyBaseExceptionObject, context);
	OFF("exc_cause", PyBaseExceptionObject, cause);

	/* dequeobject and PyODictObject are defined in
	 * Modules/_collectionsmodule.c and Objects/odictobject.c, not in any
	 * header. */
	UNCHECKED("deque_leftblock");
	UNCHECKED("deque_leftindex");
	UNCHECKED("deque_rightindex");
	UNCHECKED("odict_first");
	UNCHECKED("odict_fast_nodes_size");
	UNCHECKED("odict_inst_dict");
	pymalloc_members();

	tracemalloc_members();

	return ferror(stdout) || fclose(stdout) ? 1 : 0;
}

#else /* LEGACY: CPython 3.8 - 3.10 */

#define V39 (PY_VERSION_HEX >= 0x03090000)
#define V310 (PY_VERSION_HEX >= 0x030A0000)

/* Generators, coroutines and async generators share _PyGenObject_HEAD. */
#define GEN_FIELDS(type, p) \
	do { \
		OFF("gen_frame", type, p##_frame); \
		OFF("gen_code", type, p##_code); \
		OFF("gen_name", type, p##_name); \
		OFF("gen_qualname", type, p##_qualname); \
		OFF2("gen_exc_value", type, p##_exc_state, _PyErr_StackItem, exc_type); \
	} while (0)

int main(void)
{
	printf("#hexversion\t0x%08lx\n", (unsigned long)PY_VERSION_HEX);

	/* Feature flags: how the walker reads memory. */
	UNCHECKED("managed_dict_tagged");
	UNCHECKED("frame_cstack_owner");
	UNCHECKED("code_has_cached");
	UNCHECKED("gen_has_code");
	UNCHECKED("static_type_dict_in_interp");
	UNCHECKED("frame_objects");
	UNCHECKED("dict_keys_v1");
	UNCHECKED("gc_in_runtime");
	UNCHECKED("lasti_units");
	UNCHECKED("sizeof_is_gc");
	UNCHECKED("int_size_no_min");
	VALUE("str_has_wstr", 1, "3.8 - 3.10 str objects have wstr");
	VALUE("immortal", 0, "no immortal objects before 3.12");
	VALUE("managed_weakref", 0, "no managed pre-header before 3.11");
	VALUE("long_lv_tag", 0, "ob_size digits before 3.12");

	/* _PyRuntimeState / PyInterpreterState */
	OFF("rt_interpreters_head", _PyRuntimeState, interpreters.head);
#if V39
	ABSENT("rt_gc");
	OFF("is_gc", PyInterpreterState, gc);
#else
	OFF("rt_gc", _PyRuntimeState, gc);	/* moved into the interpreter in 3.9 */
	ABSENT("is_gc");
#endif
	OFF("is_next", PyInterpreterState, next);
	OFF("is_threads_head", PyInterpreterState, tstate_head);
	OFF("is_modules", PyInterpreterState, modules);
	OFF("is_sysdict", PyInterpreterState, sysdict);
	OFF("is_builtins", PyInterpreterState, builtins);
	ABSENT("is_interned");
	ABSENT("is_types_builtins");
	ABSENT("static_builtin_state_size");
	ABSENT("sbs_tp_dict");

	OFF("gc_gen_head[0]", struct _gc_runtime_state, generations[0].head);
	OFF("gc_gen_head[1]", struct _gc_runtime_state, generations[1].head);
	OFF("gc_gen_head[2]", struct _gc_runtime_state, generations[2].head);
	OFF("gc_permanent", struct _gc_runtime_state, permanent_generation.head);
	OFF("gc_collecting", struct _gc_runtime_state, collecting);

	/* PyThreadState */
	OFF("ts_next", PyThreadState, next);
	OFF("ts_interp", PyThreadState, interp);
	OFF("ts_frame", PyThreadState, frame);
	OFF("ts_thread_id", PyThreadState, thread_id);
	OFF("ts_dict", PyThreadState, dict);
	OFF("ts_context", PyThreadState, context);
	OFF("ts_curexc_type", PyThreadState, curexc_type);
	OFF("ts_curexc", PyThreadState, curexc_value);
	OFF("ts_curexc_tb", PyThreadState, curexc_traceback);
	OFF("ts_exc_value_item", PyThreadState, exc_info);
	SIZE("esi_size", _PyErr_StackItem);
	/* 3.10's tstate->cframe exists but frames are reached via tstate->frame. */
	ABSENT("ts_cframe");
	ABSENT("ts_native_id");
	ABSENT("cf_current_frame");
	ABSENT("if_code");
	ABSENT("if_func");
	ABSENT("if_globals");
	ABSENT("if_builtins");
	ABSENT("if_locals");
	ABSENT("if_frame_obj");
	ABSENT("if_previous");
	ABSENT("if_prev_instr");
	ABSENT("if_stacktop");
	ABSENT("if_owner");
	ABSENT("if_localsplus");

	/* PyFrameObject */
	OFF("fo_back", PyFrameObject, f_back);
	OFF("fo_code", PyFrameObject, f_code);
	OFF("fo_builtins", PyFrameObject, f_builtins);
	OFF("fo_globals", PyFrameObject, f_globals);
	OFF("fo_locals", PyFrameObject, f_locals);
	OFF("fo_valuestack", PyFrameObject, f_valuestack);
#if V310
	ABSENT("fo_stacktop");
	OFF("fo_stackdepth", PyFrameObject, f_stackdepth);
#else
	OFF("fo_stacktop", PyFrameObject, f_stacktop);
	ABSENT("fo_stackdepth");
#endif
	OFF("fo_trace", PyFrameObject, f_trace);
	OFF("fo_lasti", PyFrameObject, f_lasti);
	OFF("fo_lineno", PyFrameObject, f_lineno);
	OFF("fo_localsplus", PyFrameObject, f_localsplus);
	ABSENT("fo_frame");
	ABSENT("fo_frame_data");

	/* PyCodeObject */
	OFF("co_nlocals", PyCodeObject, co_nlocals);
	OFF("co_stacksize", PyCodeObject, co_stacksize);
	OFF("co_firstlineno", PyCodeObject, co_firstlineno);
	OFF("co_code", PyCodeObject, co_code);
	OFF("co_consts", PyCodeObject, co_consts);
	OFF("co_names", PyCodeObject, co_names);
	OFF("co_varnames", PyCodeObject, co_varnames);
	OFF("co_freevars", PyCodeObject, co_freevars);
	OFF("co_cellvars", PyCodeObject, co_cellvars);
	OFF("co_cell2arg", PyCodeObject, co_cell2arg);
	OFF("co_filename", PyCodeObject, co_filename);
	OFF("co_name", PyCodeObject, co_name);
#if V310
	OFF("co_linetable", PyCodeObject, co_linetable);	/* PEP 626 */
#else
	OFF("co_linetable", PyCodeObject, co_lnotab);
#endif
	OFF("co_extra", PyCodeObject, co_extra);
	OFF("co_opcache", PyCodeObject, co_opcache);
	OFF("co_opcache_size", PyCodeObject, co_opcache_size);
	SIZE("opcache_entry_size", _PyOpcache);
	ABSENT("co_exceptiontable");
	ABSENT("co_nlocalsplus");
	ABSENT("co_framesize");
	ABSENT("co_localsplusnames");
	ABSENT("co_localspluskinds");
	ABSENT("co_qualname");
	ABSENT("co_code_adaptive");
	ABSENT("co_firsttraceable");
	ABSENT("co_cached");

	/* PyTypeObject / PyHeapTypeObject */
	SIZE("type_size", PyTypeObject);
	SIZE("heaptype_size", PyHeapTypeObject);
	OFF("ht_name", PyHeapTypeObject, ht_name);
	OFF("ht_slots", PyHeapTypeObject, ht_slots);
	OFF("ht_qualname", PyHeapTypeObject, ht_qualname);
	OFF("ht_cached_keys", PyHeapTypeObject, ht_cached_keys);
#if V39
	OFF("ht_module", PyHeapTypeObject, ht_module);	/* PEP 573 */
#else
	ABSENT("ht_module");
#endif

	/* str */
	SIZE("str_ascii_size", PyASCIIObject);
	SIZE("str_compact_size", PyCompactUnicodeObject);
	OFF("str_utf8_length", PyCompactUnicodeObject, utf8_length);
	OFF("str_utf8", PyCompactUnicodeObject, utf8);
	OFF("str_wstr", PyASCIIObject, wstr);
	OFF("str_wstr_length", PyCompactUnicodeObject, wstr_length);
	OFF("str_data", PyUnicodeObject, data);

	/* function */
	OFF("fn_globals", PyFunctionObject, func_globals);
#if V310
	OFF("fn_builtins", PyFunctionObject, func_builtins);	/* bpo-42990 */
#else
	ABSENT("fn_builtins");
#endif
	OFF("fn_name", PyFunctionObject, func_name);
	OFF("fn_qualname", PyFunctionObject, func_qualname);
	OFF("fn_code", PyFunctionObject, func_code);
	OFF("fn_defaults", PyFunctionObject, func_defaults);
	OFF("fn_kwdefaults", PyFunctionObject, func_kwdefaults);
	OFF("fn_closure", PyFunctionObject, func_closure);
	OFF("fn_doc", PyFunctionObject, func_doc);
	OFF("fn_dict", PyFunctionObject, func_dict);
	OFF("fn_module", PyFunctionObject, func_module);
	OFF("fn_annotations", PyFunctionObject, func_annotations);
	ABSENT("fn_typeparams");

	/* generator / coroutine / async generator; gen_origin is cr_origin of
	 * a coroutine and ag_finalizer of an async generator. */
	GEN_FIELDS(PyGenObject, gi);
	GEN_FIELDS(PyCoroObject, cr);
	GEN_FIELDS(PyAsyncGenObject, ag);
	OFF("gen_origin", PyCoroObject, cr_origin);
	OFF("gen_origin", PyAsyncGenObject, ag_finalizer);
	ABSENT("gen_frame_state");
	ABSENT("gen_iframe");
	ABSENT("gen_state_cleared");

	/* BaseException */
	OFF("exc_dict", PyBaseExceptionObject, dict);
	OFF("exc_args", PyBaseExceptionObject, args);
	OFF("exc_traceback", PyBaseExceptionObject, traceback);
	OFF("exc_context", PyBaseExceptionObject, context);
	OFF("exc_cause", PyBaseExceptionObject, cause);
	ABSENT("exc_notes");

	/* Private to .c files: dequeobject, PyODictObject, propertyobject. */
	UNCHECKED("deque_leftblock");
	UNCHECKED("deque_leftindex");
	UNCHECKED("deque_rightindex");
	UNCHECKED("odict_first");
	UNCHECKED("odict_fast_nodes_size");
	UNCHECKED("odict_inst_dict");
	UNCHECKED("prop_last");

	/* PyModuleObject: private to moduleobject.c before 3.10. */
#if V310
	OFF("mod_def", PyModuleObject, md_def);
	OFF("mod_state", PyModuleObject, md_state);
#else
	UNCHECKED("mod_def");
	UNCHECKED("mod_state");
#endif
	ABSENT("mod_state_size");
	ABSENT("mod_state_traverse");

	/* Members only the 3.13+ walker reads: zero in these tables. */
	static const char *const absent313[] = {
		"ts_current_frame", "if_stackpointer", "tuple_ob_item", "mod_name",
		"fn_annotate", "fo_extra[0]", "fo_extra[1]", "fo_extra[2]",
		"gc_generation0", "gc_size", "debug_size",
	};
	for (size_t i = 0; i < sizeof(absent313) / sizeof(absent313[0]); i++)
		ABSENT(absent313[i]);
	UNCHECKED("tstate_current_frame");
	UNCHECKED("managed_dict_plain");
	UNCHECKED("dict_values_header");
	UNCHECKED("stackref");
	UNCHECKED("refcnt32");
	UNCHECKED("bytearray_bytes_object");
	UNCHECKED("static_builtin_search");
	UNCHECKED("static_type_no_preheader");
	UNCHECKED("dict_visits_embedded_hex");
	UNCHECKED("debug_map");
	tracemalloc_members();
	pymalloc_members();

	return ferror(stdout) || fclose(stdout) ? 1 : 0;
}
#endif
