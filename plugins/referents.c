/* Referents: what an object refers to, as CPython's tp_traverse functions
 * visit it (for_each_ref), plus the strong references they skip (flags 0)
 * and weak ones (PHA_REF_WEAK).
 *
 * What it must reproduce exactly is what tp_traverse visits: the cycle-
 * collector arithmetic subtracts one reference per visited pointer, so a
 * missed or extra visit changes which objects look "held from outside".
 * Types the walker does not know are scanned conservatively for words
 * that point at plausible objects (plausible_object: a sound refcount
 * bound and GC-list membership, so that a pointer into a freed object or
 * a C buffer is not taken for one); so are what a module's m_traverse
 * visits (its state: mod_def, mod_state) and the members a C dict
 * subclass adds. Extension types whose words are not object references
 * (a capsule's pointer, a Decimal's digits) have a known kind in
 * objects.c instead.
 *
 * Versions (each a flag or an offset of layouts.c):
 *   <= 3.10  frames are GC objects (frame_traverse), generators point at
 *            theirs; code objects are not GC objects (flag frame_objects).
 *   3.10     property visits prop_name (prop_last); lru_cache also visits
 *            its type and each link's type (both became heap types).
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
 *   3.15     a module's state size and traverse are in the module, not its
 *            definition (mod_state_size, mod_state_traverse).
 * All: functools' LRU cache (K_LRU_CACHE): the wrapper visits its links'
 *      keys and results, as lru_cache_tp_traverse does; the links (plain
 *      objects to the walker) report nothing, so that cycles through a
 *      cache have the collector's shape.
 */
#include "cpython_int.h"

#include <string.h>

/* ---- conservative scans ---- */

/* The largest refcount a live object can have: every owned reference is
 * a pointer stored in a word of the process (objects, C heaps, stacks,
 * static data), so a count above the number of pointer-sized words of the
 * readable memory is not a refcount but a pointer, a digit or other data
 * where ob_refcnt would be. Only a leak of more references than memory
 * has words breaks the bound, and the bound is applied only to candidates
 * that nothing but a conservative scan vouches for. 3.11 starts its
 * statically allocated objects (singletons, deep-frozen code) at
 * STATIC_REFCNT (_PyObject_IMMORTAL_INIT): the same bound holds around
 * that start. */
#define STATIC_REFCNT 999999999ULL

static bool plausible_refcount(struct pha_py *py, uint64_t refcnt)
{
	uint64_t words = py->svc.readable_bytes ? py->svc.readable_bytes / 8 : UINT64_MAX / 4;
	if ((int64_t)refcnt <= 0)
		return false;
	return refcnt <= words ||
	       (refcnt + words >= STATIC_REFCNT && refcnt <= STATIC_REFCNT + words);
}

/* Whether the word v that a conservative scan found is a plausible live
 * object: aligned, readable, its type a type, a plausible refcount (see
 * plausible_refcount; 3.12+ immortal ones have nothing above the low 32 bits
 * before 3.14, whose ob_flags live there), and for an instance of a GC
 * type a GC header that is either untracked (_gc_next == 0, 3.8 - 3.15)
 * or linked in a GC list (both neighbours link back to it). A freed GC
 * object was unlinked, so its stale links do not pass; a freed non-GC
 * object's first word is an allocator's free-list pointer, which fails
 * the refcount bound. An untracked GC object (_gc_next 0, which is also
 * what the last block of a pool's free list holds) must in addition have
 * at most UNTRACKED_REFCNT_MAX references, unless immortal (3.12+) or a
 * 3.11 static singleton (the empty tuple starts at STATIC_SINGLETON_REFCNT
 * and never goes below it): 2^28 references are 2 GiB of pointers; a
 * stale word of freed memory was taken for an exception with 997,537,392
 * references (run_real, real_cext_leak, a gcore core).
 * Returns v's type, NULL if v is not plausible. */
#define UNTRACKED_REFCNT_MAX (1ULL << 28)
#define STATIC_SINGLETON_REFCNT 999999999ULL
static const struct tinfo *plausible_object(struct pha_py *py, uint64_t v)
{
	const struct pha_py_offsets *o = py->o;
	uint64_t hdr[2];
	if (!v || (v & 7) || v < 16 || !rd(py, v, hdr, sizeof(hdr)))
		return NULL;
	uint64_t refcnt = o->refcnt32 ? (hdr[0] & 0xffffffffULL) : hdr[0];
	bool immortal = o->immortal && (int32_t)(uint32_t)hdr[0] < 0;
	if (immortal) {
		if (!o->refcnt32 && (hdr[0] >> 32))
			return NULL;
	} else if (!plausible_refcount(py, refcnt)) {
		return NULL;
	}
	struct tinfo *ti = cpy_type_of(py, hdr[1]);
	if (!ti || !(ti->flags & TPF_HAVE_GC))
		return ti;
	uint64_t gc[2], next[2], prev[2], self = v - 16;
	if (!rd(py, self, gc, sizeof(gc)))
		return NULL;
	if (gc[0] == 0)	/* untracked */
		return immortal || refcnt <= UNTRACKED_REFCNT_MAX || refcnt >= STATIC_SINGLETON_REFCNT ?
			       ti : NULL;
	bool linked = rd(py, gc[0] & ~3ULL, next, sizeof(next)) && (next[1] & ~3ULL) == self &&
		      rd(py, gc[1] & ~3ULL, prev, sizeof(prev)) && (prev[0] & ~3ULL) == self;
	return linked ? ti : NULL;
}

/* The words of [base, base + len) (at most MAX_CONSERVATIVE_SCAN bytes)
 * that point at plausible objects (plausible_object), reported with
 * flags. Pointers into [lo, hi) (the object or state being scanned: a
 * Decimal's digits, a C struct's own list head) are not objects it holds;
 * the words at the addresses skip[] are borrowed pointers (a weakref list
 * head) or visited already (an instance dict). Type objects are reported
 * with type_flags: an instance of a C type often keeps borrowed pointers
 * to types (sqlite3's Connection: its module's ten exception types), and
 * counting those as visited makes the types' gc_refs negative, while the
 * objects a module state or an lru_cache holds are owned and visited. */
static void conservative_scan(struct pha_py *py, uint64_t base, uint64_t len, uint64_t lo,
			      uint64_t hi, const uint64_t skip[2], unsigned flags,
			      unsigned type_flags, pha_ref_fn *cb, void *arg)
{
	if (len > MAX_CONSERVATIVE_SCAN)
		len = MAX_CONSERVATIVE_SCAN;
	for (uint64_t off = 0; off + 8 <= len; off += 8) {
		if (base + off == skip[0] || base + off == skip[1])
			continue;
		uint64_t v;
		if (!rd64(py, base + off, &v))
			return;
		if (v >= lo && v < hi)
			continue;
		const struct tinfo *vt = plausible_object(py, v);
		if (vt)
			cb(arg, v, (vt->flags & TPF_TYPE_SUBCLASS) ? type_flags : flags);
	}
}

/* Words in [start, end) of the object at a that point at plausible
 * objects (conservative_scan), reported with flags (types with
 * type_flags). The weakref list head is borrowed; the instance dict, when
 * instance_refs visits it, is not reported twice. */
static void conservative_refs(struct pha_py *py, uint64_t a, uint64_t start, uint64_t end,
			      const struct tinfo *ti, unsigned flags, unsigned type_flags,
			      pha_ref_fn *cb, void *arg)
{
	if (end <= start)
		return;
	uint64_t skip[2] = {
		ti->weaklistoffset > 0 ? a + (uint64_t)ti->weaklistoffset : 0,
		ti->visit_dict && ti->dictoffset > 0 ? a + (uint64_t)ti->dictoffset : 0,
	};
	conservative_scan(py, a + start, end - start, a, a + end, skip, flags, type_flags, cb,
			  arg);
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
		conservative_refs(py, a, 16, ti->solid_basicsize, ti, PHA_REF_TRAVERSED, 0, cb,
				  arg);
	else {
		int64_t n = ti->itemsize == 8 ? i64_or0(py, a + 16) : 0;
		uint64_t end = ti->basicsize + (n > 0 ? (uint64_t)n * 8 : 0);
		conservative_refs(py, a, 16, end, ti, PHA_REF_TRAVERSED, 0, cb, arg);
	}
}

/* lru_cache_tp_traverse of a functools._lru_cache_wrapper: the key and
 * result of each link of a bounded cache's circular list (root.next at
 * +24, link->next +24, key +40, result +48: lru_list_elem, the same in
 * 3.8 - 3.15), and since 3.10, when lru_list_elem became a heap type, each
 * link's type; then the wrapper's members after its root (cache, func,
 * kwd_mark, the two types, __dict__; their order differs between
 * versions), conservatively. The links are owned by the cache dict (the
 * list's pointers are borrowed), which bounds the walk: len(cache) + 1.
 * Offsets checked on the matrix's interpreters (ctypes: root.next,
 * link->next, link->result, cache at +72; LRU_* in cpython_int.h). */
static void lru_cache_refs(struct pha_py *py, uint64_t a, const struct tinfo *ti, pha_ref_fn *cb,
			   void *arg)
{
	const unsigned T = PHA_REF_TRAVERSED;
	uint64_t cache = u64_or0(py, a + LRU_CACHE);
	uint64_t limit = cache ? u64_or0(py, cache + 16) + 1 : 0;
	uint64_t link = u64_or0(py, a + LRU_ELEM_NEXT);
	for (uint64_t i = 0; link && link != a && i < limit && i < MAX_LIST_WALK; i++) {
		ref_at(py, cb, arg, link + LRU_ELEM_KEY, T);
		ref_at(py, cb, arg, link + LRU_ELEM_RESULT, T);
		uint64_t lt = u64_or0(py, link + 8);
		if (u64_or0(py, lt + TP_FLAGS) & TPF_HEAPTYPE)
			ref(cb, arg, lt, T);
		link = u64_or0(py, link + LRU_ELEM_NEXT);
	}
	conservative_refs(py, a, LRU_ROOT_END, ti->solid_basicsize, ti, T, T, cb, arg);
}

/* Whether key is the set's dummy (a deleted entry) when the binary's
 * symbols did not name _PySet_Dummy (a stripped static python3.X): the
 * dummy's type is never made ready, so it is not a type, and its tp_name
 * is "<dummy key> type" (3.8 - 3.15). The first one found is kept. */
static bool is_set_dummy(struct pha_py *py, uint64_t key)
{
	char name[20];
	uint64_t t = u64_or0(py, key + 8);
	if (py->set_dummy || !t || cpy_type_of(py, t) ||
	    !read_cstr(py, u64_or0(py, t + TP_NAME), name, sizeof(name)) ||
	    strcmp(name, "<dummy key> type") != 0)
		return false;
	py->set_dummy = key;
	return true;
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
		/* A C subclass that keeps dict's traverse (ctypes' StgDict,
		 * objects.c) owns the members it adds, untraversed. */
		if (ti->solid_basicsize > DICT_BASICSIZE)
			conservative_refs(py, a, DICT_BASICSIZE, ti->solid_basicsize, ti, 0, 0,
					  cb, arg);
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
			if (key && key != py->set_dummy && !is_set_dummy(py, key))
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

/* module_traverse's call of the definition's m_traverse: what a module
 * keeps in its state (3.9+ posix: a str, an int and its struct types;
 * _functools: kwd_mark and its types; …). m_traverse is C code the walker
 * cannot run, so the state's m_size bytes are scanned conservatively, as
 * traversed, with the plausibility rule of every conservative scan. CPython
 * calls it only when the state exists (or m_size <= 0, no state to scan);
 * 3.15 keeps size and traverse in the module (mod_state_size). */
static void module_state_refs(struct pha_py *py, uint64_t a, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	if (!o->mod_state)
		return;
	uint64_t state = u64_or0(py, a + o->mod_state), trav;
	int64_t size;
	if (o->mod_state_size) {
		size = i64_or0(py, a + o->mod_state_size);
		trav = u64_or0(py, a + o->mod_state_traverse);
	} else {
		uint64_t def = u64_or0(py, a + o->mod_def);
		size = def ? i64_or0(py, def + MODDEF_SIZE) : 0;
		trav = def ? u64_or0(py, def + MODDEF_TRAVERSE) : 0;
	}
	if (!state || !trav || size <= 0)
		return;
	const uint64_t skip[2] = {0, 0};
	conservative_scan(py, state, (uint64_t)size, state, state + (uint64_t)size, skip,
			  PHA_REF_TRAVERSED, PHA_REF_TRAVERSED, cb, arg);
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
		module_state_refs(py, a, cb, arg);
		ref_at(py, cb, arg, a + 16, T);	/* md_dict */
		ref_at(py, cb, arg, a + o->mod_name, 0);	/* md_name */
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

	/* Every kind is listed (no default), so that -Wswitch names a new
	 * kind nobody walks. */
	switch (ti->kind) {
	case K_OTHER:
		unknown_refs(py, a, ti, cb, arg);
		break;
	case K_LRU_CACHE:
		lru_cache_refs(py, a, ti, cb, arg);
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
