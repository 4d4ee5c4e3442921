/* Referents: what an object refers to, as CPython's tp_traverse functions
 * visit it (for_each_ref), plus the strong references they skip (flags 0)
 * and weak ones (PHA_REF_WEAK).
 *
 * What it must reproduce exactly is what tp_traverse visits: the cycle-
 * collector arithmetic subtracts one reference per visited pointer, so a
 * missed or extra visit changes which objects look "held from outside".
 * Types the walker does not know are scanned conservatively for words
 * that point at plausible objects.
 *
 * Versions (each a flag or an offset of layouts.c):
 *   <= 3.10  frames are GC objects (frame_traverse), generators point at
 *            theirs; code objects are not GC objects (flag frame_objects).
 *   3.10     property visits prop_name (prop_last).
 *   3.11     _PyInterpreterFrame inside generators and frame objects;
 *            BaseException gained __notes__ (exc_notes); managed dicts
 *            (dicts.c).
 *   3.12     static builtin types keep their dict in the interpreter
 *            (static_type_dict_in_interp); code objects cache
 *            _co_cached (code_has_cached); function type params.
 *   3.13     frame objects gained f_extra_locals and f_locals_cache
 *            (fo_extra); interp->types.builtins entries name their type
 *            (static_builtin_search).
 *   3.14     frame slots are tagged _PyStackRef (flag stackref, see
 *            stackref() in cpython_int.h); tuples gained ob_hash
 *            (tuple_ob_item); functions gained __annotate__;
 *            f_overwritten_fast_locals.
 * All: functools' LRU cache links (LRU_ELEM_TYPE) by type name.
 */
#include "cpython_int.h"

#include <string.h>

/* Words in [start, end) of the memory at a (at most MAX_CONSERVATIVE_SCAN
 * bytes) that point at plausible objects, reported with flags; the word at
 * offset skip (a borrowed pointer; -1: none) is left out. */
static void scan_words(struct pha_py *py, uint64_t a, uint64_t start, uint64_t end, int64_t skip,
		       unsigned flags, pha_ref_fn *cb, void *arg)
{
	if (end > start + MAX_CONSERVATIVE_SCAN)
		end = start + MAX_CONSERVATIVE_SCAN;
	for (uint64_t off = start; off + 8 <= end; off += 8) {
		if ((int64_t)off == skip)
			continue;
		uint64_t v;
		if (!rd64(py, a + off, &v))
			return;
		if (!v || (v & 7) || v == a)
			continue;
		/* A plausible object: positive refcount and a valid type. */
		uint64_t hdr[2];
		if (!rd(py, v, hdr, sizeof(hdr)) || (int32_t)(uint32_t)hdr[0] == 0 ||
		    (!py->o->immortal && (int64_t)hdr[0] <= 0) || !cpy_type_of(py, hdr[1]))
			continue;
		cb(arg, v, flags);
	}
}

/* The words of an object of unknown layout, reported as traversed; its
 * weakref list head is a borrowed pointer. */
static void conservative_refs(struct pha_py *py, uint64_t a, uint64_t start, uint64_t end,
			      const struct tinfo *ti, pha_ref_fn *cb, void *arg)
{
	scan_words(py, a, start, end, ti->weaklistoffset, PHA_REF_TRAVERSED, cb, arg);
}

/* A module's state (PEP 3121/489: md_state, m_size bytes of its
 * PyModuleDef; PyModuleObject {HEAD, md_dict, md_def, md_state, ...} and
 * PyModuleDef {m_base (40 bytes), m_name, m_doc, m_size, ...} in 3.8 -
 * 3.15): what the module's C code holds (its heap types, exceptions,
 * caches). m_traverse visits it, but which words it visits is the
 * module's own code: reported as strong references, not traversed, so
 * they explain the refcounts without changing the collector's
 * arithmetic. */
static void module_state_refs(struct pha_py *py, uint64_t m, pha_ref_fn *cb, void *arg)
{
	uint64_t def = u64_or0(py, m + 24), state = u64_or0(py, m + 32);
	if (!def || !state || (state & 7))
		return;
	int64_t size = i64_or0(py, def + 56);
	if (size > 0)
		scan_words(py, state, 0, (uint64_t)size, -1, 0, cb, arg);
}

/* _PyFrame_Traverse: frame object, locals dict, function, code, and the
 * first stacktop slots of localsplus. Globals and builtins are borrowed. */
void cpy_iframe_refs(struct pha_py *py, uint64_t f, pha_ref_fn *cb, void *arg, unsigned flags)
{
	const struct pha_py_offsets *o = py->o;
	ref_at(py, cb, arg, f + o->if_frame_obj, flags);
	ref_at(py, cb, arg, f + o->if_locals, flags);
	frame_ref_at(py, cb, arg, f + o->if_func, flags);
	frame_ref_at(py, cb, arg, f + o->if_code, flags);
	if (o->stackref) {
		/* 3.14+: tagged slots from localsplus up to the stack pointer. */
		uint64_t sp = u64_or0(py, f + o->if_stackpointer);
		uint64_t base = f + o->if_localsplus;
		if (sp < base || sp - base > (8ULL << 20))
			return;
		uint64_t n = (sp - base) / 8;
		const uint64_t *p = py->svc.ptr(py->svc.ctx, base, n * 8);
		for (uint64_t i = 0; i < n; i++)
			stackref(cb, arg, p ? p[i] : u64_or0(py, base + 8 * i), flags);
		return;
	}
	int32_t top = i32_or0(py, f + o->if_stacktop);
	if (top > 0 && top < (1 << 20))
		ref_array(py, cb, arg, f + o->if_localsplus, (uint64_t)top, flags);
}

/* type_traverse, plus what it skips (names, __slots__, subclasses, the
 * attribute names of the cached keys) untraversed; a static type's
 * references are all untraversed. */
void cpy_type_refs(struct pha_py *py, uint64_t t, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	struct tinfo *ti = cpy_type_of(py, t);
	if (!ti)
		return;
	bool heap = ti->flags & TPF_HEAPTYPE;
	/* type_traverse (heap types only; static types are not GC objects). */
	unsigned f = heap ? PHA_REF_TRAVERSED : 0;
	uint64_t tp_dict = u64_or0(py, t + TP_DICT);
	if (!tp_dict && !heap && o->static_type_dict_in_interp && py->ninterps &&
	    o->is_types_builtins) {
		/* 3.12: tp_subclasses of a static builtin type holds index + 1 of
		 * its state in interp->types.builtins. */
		uint64_t idx = u64_or0(py, t + TP_SUBCLASSES);
		uint64_t entry = py->interps[0] + o->is_types_builtins +
				 (idx - 1) * o->static_builtin_state_size;
		/* 3.13+: the entry names its type (extension modules' static
		 * types index another array). */
		if (idx >= 1 && idx < 1000 &&
		    (!o->static_builtin_search || u64_or0(py, entry) == t))
			tp_dict = u64_or0(py, entry + o->sbs_tp_dict);
	}
	ref(cb, arg, tp_dict, f);
	ref_at(py, cb, arg, t + TP_CACHE, f);
	ref_at(py, cb, arg, t + TP_MRO, f);
	ref_at(py, cb, arg, t + TP_BASES, f);
	ref_at(py, cb, arg, t + TP_BASE, heap ? PHA_REF_TRAVERSED : 0);
	if (heap) {
		if (o->ht_module)	/* 3.9+ */
			ref_at(py, cb, arg, t + o->ht_module, PHA_REF_TRAVERSED);
		ref_at(py, cb, arg, t + o->ht_name, 0);
		ref_at(py, cb, arg, t + o->ht_qualname, 0);
		ref_at(py, cb, arg, t + o->ht_slots, 0);
		/* The attribute names of instances live in the cached keys. */
		struct dkeys k;
		if (o->dict_keys_v1) {
			if (cpy_read_keys_v1(py, ti->cached_keys, &k)) {
				for (int64_t i = 0; i < k.nentries; i++)
					ref_at(py, cb, arg, k.entries + 24 * (uint64_t)i + 8, 0);
			}
		} else if (cpy_read_keys(py, ti->cached_keys, &k)) {
			for (int64_t i = 0; i < k.nentries; i++)
				ref_at(py, cb, arg, k.entries + 16 * (uint64_t)i, 0);
		}
	}
	if (heap || !o->static_type_dict_in_interp)
		ref_at(py, cb, arg, t + TP_SUBCLASSES, 0);
	ref_at(py, cb, arg, t + TP_WEAKLIST, PHA_REF_WEAK);
}

/* Code objects of 3.11+: everything they hold, untraversed (as for
 * 3.8 - 3.10 below). */
static void code_refs(struct pha_py *py, uint64_t c, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	static const size_t n = 9;
	const uint32_t offs[] = {o->co_consts, o->co_names, o->co_exceptiontable,
				 o->co_localsplusnames, o->co_localspluskinds, o->co_filename,
				 o->co_name, o->co_qualname, o->co_linetable};
	for (size_t i = 0; i < n; i++)
		ref_at(py, cb, arg, c + offs[i], 0);
	uint64_t cached = u64_or0(py, c + o->co_cached);
	if (cached && o->code_has_cached)
		ref_array(py, cb, arg, cached, 4, 0);	/* _co_code, _co_varnames, _co_cellvars, _co_freevars */
	else
		ref(cb, arg, cached, 0);
}

/* ---- 3.8 - 3.10 (frame objects) ---- */

/* code objects are not GC objects: everything they hold is reported
 * untraversed. co_zombieframe is a dead frame kept for reuse (refcount
 * 0, untracked), not an object. */
static void code_refs_v1(struct pha_py *py, uint64_t c, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	const uint32_t offs[] = {o->co_code, o->co_consts, o->co_names, o->co_varnames,
				 o->co_freevars, o->co_cellvars, o->co_filename, o->co_name,
				 o->co_linetable};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		ref_at(py, cb, arg, c + offs[i], 0);
}

/* frame_traverse (<= 3.10): f_back, f_code, f_builtins, f_globals,
 * f_locals, f_trace, the locals/cells/frees slots, then the value stack:
 * 3.8/3.9 up to f_stacktop (NULL while the frame executes), 3.10 the
 * first f_stackdepth entries (-1 while it executes). */
static void frame_refs_v1(struct pha_py *py, uint64_t f, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	const unsigned T = PHA_REF_TRAVERSED;
	ref_at(py, cb, arg, f + o->fo_back, T);
	ref_at(py, cb, arg, f + o->fo_code, T);
	ref_at(py, cb, arg, f + o->fo_builtins, T);
	ref_at(py, cb, arg, f + o->fo_globals, T);
	ref_at(py, cb, arg, f + o->fo_locals, T);
	ref_at(py, cb, arg, f + o->fo_trace, T);
	uint64_t code = u64_or0(py, f + o->fo_code);
	uint64_t valuestack = u64_or0(py, f + o->fo_valuestack);
	uint64_t nslots = code ? cpy_legacy_frame_nslots(py, code) : 0;
	if (nslots < (1u << 24))
		ref_array(py, cb, arg, f + o->fo_localsplus, nslots, T);
	if (!valuestack)
		return;
	if (o->fo_stackdepth) {
		int32_t depth = i32_or0(py, f + o->fo_stackdepth);
		if (depth > 0 && depth < (1 << 24))
			ref_array(py, cb, arg, valuestack, (uint64_t)depth, T);
	} else {
		uint64_t top = u64_or0(py, f + o->fo_stacktop);
		if (top > valuestack && top - valuestack < (8ULL << 24))
			ref_array(py, cb, arg, valuestack, (top - valuestack) / 8, T);
	}
}

/* gen_traverse (<= 3.10): gi_frame, gi_code, gi_name, gi_qualname and
 * the exception state (type, value, traceback); async generators also
 * visit ag_finalizer, coroutines keep cr_origin unvisited. */
static void gen_refs_v1(struct pha_py *py, uint64_t g, enum kind kind, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	const unsigned T = PHA_REF_TRAVERSED;
	if (kind == K_ASYNCGEN)
		ref_at(py, cb, arg, g + o->gen_origin, T);
	else if (kind == K_CORO)
		ref_at(py, cb, arg, g + o->gen_origin, 0);
	ref_at(py, cb, arg, g + o->gen_frame, T);
	ref_at(py, cb, arg, g + o->gen_code, T);
	ref_at(py, cb, arg, g + o->gen_name, T);
	ref_at(py, cb, arg, g + o->gen_qualname, T);
	for (unsigned i = 0; i < 3; i++)
		ref_at(py, cb, arg, g + o->gen_exc_value + 8 * i, T);
}

/* ---- for_each_ref: one step per family of kinds ---- */

/* subtype_traverse of an instance of a heap type: its slots, the
 * instance dict, then the type. */
static void instance_refs(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t type,
			  pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	const unsigned T = PHA_REF_TRAVERSED;
	for (uint32_t i = 0; i < ti->nslots; i++)
		ref_at(py, cb, arg, a + ti->slots[i], T);
	if ((ti->flags & TPF_MANAGED_DICT) && !o->dict_keys_v1) {
		cpy_managed_dict_refs(py, a, ti, cb, arg);
	} else if (ti->visit_dict) {
		int64_t off = ti->dictoffset;
		if (off < 0) {
			int64_t n = ti->itemsize ? i64_or0(py, a + 16) : 0;
			uint64_t sz = ti->basicsize + (uint64_t)(n < 0 ? -n : n) * ti->itemsize;
			off += (int64_t)((sz + 7) & ~7ULL);
		}
		if (off > 0)
			ref_at(py, cb, arg, a + (uint64_t)off, T);
	}
	ref(cb, arg, type, T);
}

/* An object whose (solid base) type the walker does not know: the words
 * of its solid base, or of the whole object when it has pointer-sized
 * items, that point at plausible objects. */
static void unknown_refs(struct pha_py *py, uint64_t a, const struct tinfo *ti, pha_ref_fn *cb,
			 void *arg)
{
	if (ti->flags & TPF_HEAPTYPE)
		conservative_refs(py, a, 16, ti->solid_basicsize, ti, cb, arg);
	else {
		int64_t n = ti->itemsize == 8 ? i64_or0(py, a + 16) : 0;
		uint64_t end = ti->basicsize + (n > 0 ? (uint64_t)n * 8 : 0);
		conservative_refs(py, a, 16, end, ti, cb, arg);
	}
}

/* tuple, list, dict (and defaultdict, OrderedDict), set, deque. */
static void container_refs(struct pha_py *py, uint64_t a, const struct tinfo *ti, pha_ref_fn *cb,
			   void *arg)
{
	const struct pha_py_offsets *o = py->o;
	const unsigned T = PHA_REF_TRAVERSED;
	switch (ti->kind) {
	case K_TUPLE: {
		int64_t n = i64_or0(py, a + 16);
		if (n > 0)
			ref_array(py, cb, arg, a + o->tuple_ob_item, (uint64_t)n, T);
		break;
	}
	case K_LIST: {
		int64_t n = i64_or0(py, a + 16);
		if (n > 0)
			ref_array(py, cb, arg, u64_or0(py, a + 24), (uint64_t)n, T);
		break;
	}
	case K_DICT:
		cpy_dict_refs(py, a, cb, arg);
		break;
	case K_DEFAULTDICT:
		ref_at(py, cb, arg, a + 48, T);	/* default_factory */
		cpy_dict_refs(py, a, cb, arg);
		break;
	case K_ODICT: {
		ref_at(py, cb, arg, a + o->odict_inst_dict, T);
		uint64_t node = u64_or0(py, a + o->odict_first);
		uint64_t limit = u64_or0(py, a + 16) + 1;
		for (uint64_t i = 0; node && i < limit && i < MAX_LIST_WALK; i++) {
			ref_at(py, cb, arg, node, T);	/* node->key */
			node = u64_or0(py, node + 16);
		}
		cpy_dict_refs(py, a, cb, arg);
		break;
	}
	case K_SET: {
		uint64_t mask = u64_or0(py, a + 32), table = u64_or0(py, a + 40);
		if (mask >= MAX_CONTAINER)
			break;
		for (uint64_t i = 0; i <= mask; i++) {
			uint64_t key;
			if (!rd64(py, table + 16 * i, &key))
				break;
			if (key && key != py->set_dummy)
				cb(arg, key, T);
		}
		break;
	}
	case K_DEQUE: {
		int64_t n = i64_or0(py, a + 16);
		uint64_t block = u64_or0(py, a + o->deque_leftblock);
		uint64_t idx = u64_or0(py, a + o->deque_leftindex);
		for (int64_t i = 0; i < n && block && idx < 64; i++) {
			ref_at(py, cb, arg, block + 8 + 8 * idx, T);
			if (++idx == 64) {
				block = u64_or0(py, block + 520);
				idx = 0;
			}
		}
		break;
	}
	default:
		break;
	}
}

/* frame_tp_traverse (3.11+): f_back, f_trace, the 3.13+ extra members,
 * and the interpreter frame while the frame object owns it. */
static void frame_object_refs(struct pha_py *py, uint64_t a, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	const unsigned T = PHA_REF_TRAVERSED;
	ref_at(py, cb, arg, a + o->fo_back, T);
	ref_at(py, cb, arg, a + o->fo_trace, T);
	for (size_t i = 0; i < 3; i++) {
		if (o->fo_extra[i])	/* 3.13+ f_extra_locals, f_locals_cache, … */
			ref_at(py, cb, arg, a + o->fo_extra[i], T);
	}
	uint64_t f = u64_or0(py, a + o->fo_frame);
	if (f && u8_or0(py, f + o->if_owner) == OWNED_BY_FRAME_OBJECT)
		cpy_iframe_refs(py, f, cb, arg, T);
}

/* gen_traverse (3.11+) of a generator, coroutine or async generator. */
static void gen_refs(struct pha_py *py, uint64_t a, enum kind kind, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	const unsigned T = PHA_REF_TRAVERSED;
	/* gi_origin_or_finalizer: the finalizer of an async generator
	 * (visited), the origin tuple of a coroutine (not visited); plain
	 * generators do not use it. */
	if (kind == K_ASYNCGEN)
		ref_at(py, cb, arg, a + o->gen_origin, T);
	else if (kind == K_CORO)
		ref_at(py, cb, arg, a + o->gen_origin, 0);
	if (o->gen_has_code)
		ref_at(py, cb, arg, a + o->gen_code, T);
	ref_at(py, cb, arg, a + o->gen_name, T);
	ref_at(py, cb, arg, a + o->gen_qualname, T);
	int8_t state = (int8_t)u8_or0(py, a + o->gen_frame_state);
	if (state < o->gen_state_cleared)
		cpy_iframe_refs(py, a + o->gen_iframe, cb, arg, T);
	ref_at(py, cb, arg, a + o->gen_exc_value, T);
}

/* Objects with a fixed set of object members: functions, cells, methods,
 * modules, weakrefs, descriptors, exceptions, tracebacks, slices… */
static void member_refs(struct pha_py *py, uint64_t a, const struct tinfo *ti, pha_ref_fn *cb,
			void *arg)
{
	const struct pha_py_offsets *o = py->o;
	const unsigned T = PHA_REF_TRAVERSED;
	switch (ti->kind) {
	case K_FUNCTION: {
		const uint32_t offs[] = {o->fn_code, o->fn_globals, o->fn_builtins, o->fn_module,
					 o->fn_defaults, o->fn_kwdefaults, o->fn_doc, o->fn_name,
					 o->fn_dict, o->fn_closure, o->fn_annotations,
					 o->fn_qualname, o->fn_typeparams, o->fn_annotate};
		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			if (offs[i])
				ref_at(py, cb, arg, a + offs[i], T);
		}
		break;
	}
	case K_CELL:
		ref_at(py, cb, arg, a + 16, T);
		break;
	case K_METHOD:
		ref_at(py, cb, arg, a + 16, T);	/* im_func */
		ref_at(py, cb, arg, a + 24, T);	/* im_self */
		break;
	case K_INSTANCEMETHOD:
		ref_at(py, cb, arg, a + 16, T);
		break;
	case K_MODULE:
		ref_at(py, cb, arg, a + 16, T);	/* md_dict */
		ref_at(py, cb, arg, a + o->mod_name, 0);	/* md_name */
		module_state_refs(py, a, cb, arg);
		break;
	case K_WEAKREF:
		ref_at(py, cb, arg, a + 16, PHA_REF_WEAK);	/* wr_object */
		ref_at(py, cb, arg, a + 24, T);			/* wr_callback */
		break;
	case K_PROPERTY:
		for (uint64_t off = 16; off <= (o->prop_last ? o->prop_last : 48); off += 8)
			ref_at(py, cb, arg, a + off, T);
		break;
	case K_CLASSMETHOD:
		ref_at(py, cb, arg, a + 16, T);
		ref_at(py, cb, arg, a + 24, T);
		break;
	case K_EXCEPTION: {
		const uint32_t offs[] = {o->exc_dict, o->exc_args, o->exc_notes, o->exc_traceback,
					 o->exc_context, o->exc_cause};
		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			if (offs[i])	/* exc_notes: 3.11+ */
				ref_at(py, cb, arg, a + offs[i], T);
		}
		for (uint32_t i = 0; i < ti->nextra; i++)
			ref_at(py, cb, arg, a + ti->extra[i], T);
		break;
	}
	case K_TRACEBACK:
		ref_at(py, cb, arg, a + 16, T);
		ref_at(py, cb, arg, a + 24, T);
		break;
	case K_CMETHOD:
		ref_at(py, cb, arg, a + 56, T);	/* mm_class */
		/* fall through */
	case K_CFUNCTION:
		ref_at(py, cb, arg, a + 24, T);	/* m_self */
		ref_at(py, cb, arg, a + 32, T);	/* m_module */
		break;
	case K_DESCR:
		ref_at(py, cb, arg, a + 16, T);	/* d_type */
		ref_at(py, cb, arg, a + 24, 0);	/* d_name */
		ref_at(py, cb, arg, a + 32, 0);	/* d_qualname */
		break;
	case K_METHODWRAPPER:
		ref_at(py, cb, arg, a + 16, T);
		ref_at(py, cb, arg, a + 24, T);
		break;
	case K_MAPPINGPROXY:
		ref_at(py, cb, arg, a + 16, T);
		break;
	case K_SLICE:
		ref_at(py, cb, arg, a + 16, T);
		ref_at(py, cb, arg, a + 24, T);
		ref_at(py, cb, arg, a + 32, T);
		break;
	case K_RANGE:
		for (uint64_t off = 16; off <= 40; off += 8)
			ref_at(py, cb, arg, a + off, 0);
		break;
	default:
		break;
	}
}

struct pha_error *pha_cpython_for_each_ref(struct pha_py *py, uint64_t a,
					   const struct pha_object_info *info,
					   pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	struct tinfo *ti = cpy_type_of(py, info->type);
	if (!ti)
		return NULL;
	if (ti->flags & TPF_HEAPTYPE)
		instance_refs(py, a, ti, info->type, cb, arg);

	/* A link of functools' LRU cache (see LRU_ELEM_TYPE): its key and
	 * result, strong, not traversed. */
	if ((ti->kind == K_OTHER || ti->kind == K_OBJECT) &&
	    !strcmp(pha_cpython_type_name(py, info->type), LRU_ELEM_TYPE)) {
		ref_at(py, cb, arg, a + LRU_ELEM_KEY, 0);
		ref_at(py, cb, arg, a + LRU_ELEM_RESULT, 0);
		return NULL;
	}

	/* Every kind is listed (no default), so that -Wswitch names a new
	 * kind nobody walks. */
	switch (ti->kind) {
	case K_OTHER:
		unknown_refs(py, a, ti, cb, arg);
		break;
	case K_NOREFS:
	case K_OBJECT:
	case K_STR:
	case K_BYTES:
	case K_BYTEARRAY:
	case K_INT:
		break;
	case K_TYPE:
		cpy_type_refs(py, a, cb, arg);
		break;
	case K_TUPLE:
	case K_LIST:
	case K_DICT:
	case K_DEFAULTDICT:
	case K_ODICT:
	case K_SET:
	case K_DEQUE:
		container_refs(py, a, ti, cb, arg);
		break;
	case K_CODE:
		if (o->frame_objects)
			code_refs_v1(py, a, cb, arg);
		else
			code_refs(py, a, cb, arg);
		break;
	case K_FRAME:
		if (o->frame_objects)
			frame_refs_v1(py, a, cb, arg);
		else
			frame_object_refs(py, a, cb, arg);
		break;
	case K_GEN:
	case K_CORO:
	case K_ASYNCGEN:
		if (o->frame_objects)
			gen_refs_v1(py, a, ti->kind, cb, arg);
		else
			gen_refs(py, a, ti->kind, cb, arg);
		break;
	case K_FUNCTION:
	case K_CELL:
	case K_METHOD:
	case K_INSTANCEMETHOD:
	case K_MODULE:
	case K_WEAKREF:
	case K_PROPERTY:
	case K_CLASSMETHOD:
	case K_EXCEPTION:
	case K_TRACEBACK:
	case K_CMETHOD:
	case K_CFUNCTION:
	case K_DESCR:
	case K_METHODWRAPPER:
	case K_MAPPINGPROXY:
	case K_SLICE:
	case K_RANGE:
		member_refs(py, a, ti, cb, arg);
		break;
	}
	return NULL;
}
