/* Objects: what a type is, how the walker classifies it, the object
 * header and sys.getsizeof of every object, the report name of a type.
 *
 * What it knows: PyTypeObject (the TP_* offsets of cpython_int.h, the same
 * in 3.8 - 3.15) and PyHeapTypeObject (ht_name, ht_qualname, ht_slots,
 * ht_cached_keys, ht_module in layouts.c); PyMemberDef (40 bytes) for
 * __slots__ and the members of exception types; which static type is which
 * kind (by tp_name, or without the binaries by its fast-subclass flags);
 * the GC and managed pre-headers; each kind's __sizeof__ rule, and which
 * __sizeof__ an instance finds (the type in its MRO whose dict holds it:
 * builtins, a few stdlib C types, numpy through ext_numpy.c; any other is
 * flagged size_unmodeled and named in one warning by the host).
 *
 * Versions:
 *   3.8         PyTypeObject has tp_print (type_size 416, not 408).
 *   3.9         PyHeapTypeObject gained ht_module (PEP 573).
 *   <= 3.10     getsizeof adds the GC header per _PyObject_IS_GC, which is
 *               false for static types (flag sizeof_is_gc); int 0 has no
 *               digit (int_size_no_min); code objects count co_cell2arg and
 *               the opcache (co_cell2arg, co_opcache).
 *   3.11        managed dict pre-header (TPF_MANAGED_DICT, 16 bytes).
 *   3.12        managed weakref (flag managed_weakref), immortal refcounts
 *               (PEP 683: flag immortal), int size in lv_tag (long_lv_tag).
 *   3.13        static type objects have no GC pre-header in getsizeof
 *               (static_type_no_preheader).
 *   3.14        the refcount is the low 32 bits of ob_refcnt (refcnt32).
 *   3.15        a bytearray's buffer is a bytes object
 *               (bytearray_bytes_object).
 */
#include "cpython_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PyMemberDef types (Include/structmember.h / descrobject.h). */
enum { T_OBJECT = 6, T_OBJECT_EX = 16, MEMBER_READONLY = 1 };

static const struct {
	const char *name;
	enum kind kind;
} static_kinds[] = {
	{"object", K_OBJECT}, {"type", K_TYPE}, {"tuple", K_TUPLE}, {"list", K_LIST},
	{"dict", K_DICT}, {"set", K_SET}, {"frozenset", K_SET}, {"str", K_STR},
	{"bytes", K_BYTES}, {"bytearray", K_BYTEARRAY}, {"int", K_INT}, {"bool", K_INT},
	{"float", K_NOREFS}, {"complex", K_NOREFS}, {"NoneType", K_NOREFS},
	{"NotImplementedType", K_NOREFS}, {"ellipsis", K_NOREFS},
	{"function", K_FUNCTION}, {"code", K_CODE}, {"cell", K_CELL}, {"method", K_METHOD},
	{"module", K_MODULE}, {"frame", K_FRAME}, {"generator", K_GEN},
	{"coroutine", K_CORO}, {"async_generator", K_ASYNCGEN},
	{"weakref.ReferenceType", K_WEAKREF}, {"weakref.ProxyType", K_WEAKREF},
	{"weakref.CallableProxyType", K_WEAKREF}, {"weakref", K_WEAKREF},
	{"weakproxy", K_WEAKREF}, {"weakcallableproxy", K_WEAKREF},
	{"property", K_PROPERTY}, {"classmethod", K_CLASSMETHOD},
	{"staticmethod", K_CLASSMETHOD}, {"collections.deque", K_DEQUE},
	{"collections.defaultdict", K_DEFAULTDICT}, {"collections.OrderedDict", K_ODICT},
	{"traceback", K_TRACEBACK}, {"builtin_function_or_method", K_CFUNCTION},
	{"builtin_method", K_CMETHOD}, {"method_descriptor", K_DESCR},
	{"classmethod_descriptor", K_DESCR}, {"member_descriptor", K_DESCR},
	{"getset_descriptor", K_DESCR}, {"wrapper_descriptor", K_DESCR},
	{"method-wrapper", K_METHODWRAPPER}, {"mappingproxy", K_MAPPINGPROXY},
	{"slice", K_SLICE}, {"range", K_RANGE}, {"instancemethod", K_INSTANCEMETHOD},
	/* Extension types with a known layout, so that no conservative scan
	 * reads them (referents.c): a capsule's pointer, name, context and
	 * destructor are not object references; a Decimal's digits are
	 * numbers and its data pointer points at them (or at a buffer that
	 * may hold a freed object's stale header). */
	{"PyCapsule", K_NOREFS}, {"decimal.Decimal", K_NOREFS},
	/* A lock holds no object: its OS lock pointer, a `locked` byte
	 * whose word's padding keeps whatever the memory held before (a
	 * stale object address made a lock "reference" an Event on 3.8,
	 * inventing a cycle) and its weakref list. */
	{"_thread.lock", K_NOREFS}, {"_thread.RLock", K_NOREFS},
	{"functools._lru_cache_wrapper", K_LRU_CACHE},
};

/* ---- the type table: one struct tinfo per address, open addressing ---- */

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static struct tinfo **type_slot(struct pha_py *py, uint64_t addr)
{
	size_t mask = py->types_cap - 1;
	for (size_t i = hash64(addr) & mask;; i = (i + 1) & mask) {
		if (!py->types[i] || py->types[i]->addr == addr)
			return &py->types[i];
	}
}

static bool types_grow(struct pha_py *py)
{
	size_t cap = py->types_cap ? py->types_cap * 2 : 1024;
	struct tinfo **old = py->types;
	size_t oldcap = py->types_cap;
	py->types = calloc(cap, sizeof(*py->types));
	if (!py->types) {
		py->types = old;
		return false;
	}
	py->types_cap = cap;
	for (size_t i = 0; i < oldcap; i++) {
		if (old[i])
			*type_slot(py, old[i]->addr) = old[i];
	}
	free(old);
	return true;
}

/* The type table of a new pha_py. */
bool cpy_types_init(struct pha_py *py)
{
	return types_grow(py);
}

/* Frees every entry and the table. */
void cpy_types_deinit(struct pha_py *py)
{
	for (size_t i = 0; i < py->types_cap; i++) {
		struct tinfo *ti = py->types[i];
		if (ti && ti != &py->bad_type) {
			free(ti->slots);
			free(ti->extra);
			free(ti->name);
			free(ti);
		}
	}
	free(py->types);
}

/* ---- what a type is ---- */

/* A C subclass of dict (ctypes' StgDict, 3.8 - 3.12) whose tp_traverse
 * is dict's: the collector visits exactly its dict entries, so it is
 * walked as a dict (the C members it adds are scanned by referents.c,
 * untraversed). One with a traverse of its own stays unknown. */
static bool keeps_dict_traverse(struct pha_py *py, uint64_t t)
{
	uint64_t trav = u64_or0(py, t + TP_TRAVERSE);
	char name[8];
	uint64_t b = u64_or0(py, t + TP_BASE);
	for (int depth = 0; b && depth < 64; depth++, b = u64_or0(py, b + TP_BASE)) {
		if (read_cstr(py, u64_or0(py, b + TP_NAME), name, sizeof(name)) &&
		    !strcmp(name, "dict"))
			return trav && trav == u64_or0(py, b + TP_TRAVERSE);
	}
	return false;
}

/* The kind of a static type, or of a C extension's heap type: by tp_name,
 * or, when the name cannot be read, by the fast-subclass flags. */
static enum kind static_kind(struct pha_py *py, uint64_t t, uint64_t flags)
{
	char name[128];
	if (!read_cstr(py, u64_or0(py, t + TP_NAME), name, sizeof(name))) {
		/* The name is in the binary's read-only data, which the core
		 * lacks when the binaries are missing (3.13+ cores are analyzed
		 * without them): the fast-subclass flags still identify the core
		 * builtin types. */
		if (!py->o->debug_map)
			return K_OTHER;
		static const struct { uint64_t flag; enum kind kind; } by_flag[] = {
			{1ULL << 31, K_TYPE}, {1ULL << 30, K_EXCEPTION}, {1ULL << 29, K_DICT},
			{1ULL << 28, K_STR}, {1ULL << 27, K_BYTES}, {1ULL << 26, K_TUPLE},
			{1ULL << 25, K_LIST}, {1ULL << 24, K_INT},
		};
		for (size_t i = 0; i < sizeof(by_flag) / sizeof(by_flag[0]); i++) {
			if (flags & by_flag[i].flag)
				return by_flag[i].kind;
		}
		return K_OTHER;
	}
	for (size_t i = 0; i < sizeof(static_kinds) / sizeof(static_kinds[0]); i++) {
		if (!strcmp(name, static_kinds[i].name))
			return static_kinds[i].kind;
	}
	if (flags & TPF_BASE_EXC_SUBCLASS)
		return K_EXCEPTION;
	if ((flags & TPF_DICT_SUBCLASS) && keeps_dict_traverse(py, t))
		return K_DICT;
	return K_OTHER;
}

static bool push_u32(uint32_t **arr, uint32_t *n, uint32_t v)
{
	uint32_t *p = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!p)
		return false;
	p[(*n)++] = v;
	*arr = p;
	return true;
}

/* PyMemberDef entries of type t of kind T_OBJECT/T_OBJECT_EX. heap_slots
 * selects traverse_slots' rule (T_OBJECT_EX, writable) for heap types. */
static void collect_members(struct pha_py *py, uint64_t members, uint64_t count, bool heap_slots,
			    uint32_t **arr, uint32_t *n)
{
	for (uint64_t i = 0; i < count && i < 4096; i++) {
		uint8_t m[40];
		if (!rd(py, members + 40 * i, m, sizeof(m)))
			return;
		uint64_t name, off;
		int32_t type, mflags;
		memcpy(&name, m, 8);
		memcpy(&type, m + 8, 4);
		memcpy(&off, m + 16, 8);
		memcpy(&mflags, m + 24, 4);
		if (!name)
			return;
		if (heap_slots ? (type == T_OBJECT_EX && !(mflags & MEMBER_READONLY))
			       : (type == T_OBJECT || type == T_OBJECT_EX)) {
			if (off >= 16 && off < (1u << 20) && !push_u32(arr, n, (uint32_t)off))
				return;
		}
	}
}

/* heap_type_info reads the solid base of a class through it. */
static struct tinfo *get_type(struct pha_py *py, uint64_t t);

/* The PyTypeObject members the walker keeps, into ti; false if t does
 * not look like a ready type object. */
static bool read_type_header(struct pha_py *py, uint64_t t, struct tinfo *ti)
{
	uint8_t raw[TP_READ];
	uint64_t mflags = 0;
	if (!rd(py, t, raw, sizeof(raw)))
		return false;
	uint64_t metatype, flags, basicsize, itemsize, base;
	int64_t refcnt;
	memcpy(&refcnt, raw, 8);
	memcpy(&metatype, raw + 8, 8);
	memcpy(&basicsize, raw + TP_BASICSIZE, 8);
	memcpy(&itemsize, raw + TP_ITEMSIZE, 8);
	memcpy(&flags, raw + TP_FLAGS, 8);
	memcpy(&base, raw + TP_BASE, 8);
	/* The type of a type is a type: its flags carry TYPE_SUBCLASS. */
	if (!rd64(py, metatype + TP_FLAGS, &mflags) || !(mflags & TPF_TYPE_SUBCLASS) ||
	    !(flags & TPF_READY) || basicsize < 16 || basicsize > (1u << 20) ||
	    itemsize > 4096 || (uint32_t)refcnt == 0)
		return false;

	ti->addr = t;
	ti->flags = flags;
	ti->basicsize = basicsize;
	ti->itemsize = itemsize;
	ti->base = base;
	ti->metatype = metatype;
	memcpy(&ti->dictoffset, raw + TP_DICTOFFSET, 8);
	memcpy(&ti->weaklistoffset, raw + TP_WEAKLISTOFFSET, 8);
	uint64_t del, fin;
	memcpy(&del, raw + TP_DEL, 8);
	memcpy(&fin, raw + TP_FINALIZE, 8);
	ti->finalizer = del || fin;
	return true;
}

/* subtype_traverse: slots of each class-statement type up the chain,
 * then the traverse of the first type that is not one (a static type, or
 * a C extension's heap type). Collects the slots into ti and returns that
 * first type; *spec_ret says it is a C extension's heap type, of kind
 * *spec_kind_ret. */
static uint64_t walk_class_bases(struct pha_py *py, struct tinfo *ti, bool *spec_ret,
				 enum kind *spec_kind_ret)
{
	uint64_t b = ti->addr;
	unsigned depth = 0;
	while (b && depth++ < MAX_BASES) {
		uint64_t bflags = u64_or0(py, b + TP_FLAGS);
		if (!(bflags & TPF_HEAPTYPE))
			break;
		uint64_t trav = u64_or0(py, b + TP_TRAVERSE);
		uint64_t bbase = u64_or0(py, b + TP_BASE);
		if (py->subtype_traverse && trav != py->subtype_traverse &&
		    trav != u64_or0(py, bbase + TP_TRAVERSE)) {
			/* A C extension heap type with its own tp_traverse
			 * (3.12: collections.deque/defaultdict are such). */
			*spec_ret = true;
			*spec_kind_ret = static_kind(py, b, bflags);
			break;
		}
		uint64_t nmembers = u64_or0(py, b + 16);	/* Py_SIZE(type) */
		uint64_t bmeta = u64_or0(py, b + 8);
		uint64_t meta_basicsize = u64_or0(py, bmeta + TP_BASICSIZE);
		if (nmembers && meta_basicsize)
			collect_members(py, b + meta_basicsize, nmembers, true, &ti->slots,
					&ti->nslots);
		b = bbase;
	}
	return b;
}

/* A heap type: its slots, and kind, size and dict rule of its solid base. */
static void heap_type_info(struct pha_py *py, struct tinfo *ti)
{
	ti->cached_keys = u64_or0(py, ti->addr + py->o->ht_cached_keys);
	enum kind spec_kind = K_OBJECT;
	bool spec = false;
	uint64_t b = walk_class_bases(py, ti, &spec, &spec_kind);
	ti->solid = b;
	struct tinfo *solid = b && !spec ? get_type(py, b) : NULL;
	if (spec) {
		ti->kind = spec_kind;
		ti->solid_basicsize = u64_or0(py, b + TP_BASICSIZE);
		ti->visit_dict = !(ti->flags & TPF_MANAGED_DICT) && ti->dictoffset &&
				 ti->dictoffset != i64_or0(py, b + TP_DICTOFFSET);
	} else if (solid) {
		ti->kind = solid->kind;
		ti->solid_basicsize = solid->basicsize;
		ti->visit_dict = !(ti->flags & TPF_MANAGED_DICT) && ti->dictoffset &&
				 ti->dictoffset != solid->dictoffset;
		if (solid->nextra) {
			ti->extra = malloc(solid->nextra * sizeof(uint32_t));
			if (ti->extra) {
				memcpy(ti->extra, solid->extra, solid->nextra * sizeof(uint32_t));
				ti->nextra = solid->nextra;
			}
		}
	} else {
		ti->kind = K_OTHER;
		ti->solid_basicsize = ti->basicsize;
	}
}

/* A static type: its kind by name, and the members exceptions visit. */
static void static_type_info(struct pha_py *py, struct tinfo *ti)
{
	uint64_t t = ti->addr;
	ti->solid = t;
	ti->solid_basicsize = ti->basicsize;
	ti->kind = static_kind(py, t, ti->flags);
	if (ti->kind == K_EXCEPTION) {
		/* Fields of exception subclasses (StopIteration.value,
		 * OSError.filename, …) are T_OBJECT members; BaseException's
		 * own fields are visited through fixed offsets. */
		/* A corrupted tp_base can make the chain a cycle (a type its
		 * own base): stop there, and at MAX_BASES (CPython's deepest
		 * exception hierarchies are about 6 types deep). */
		struct cycle_check cc = {0};
		unsigned depth = 0;
		for (uint64_t b = t; b; b = u64_or0(py, b + TP_BASE)) {
			if (cycle_step(&cc, b) || ++depth > MAX_BASES) {
				py->svc.warn(py->svc.ctx, "type at 0x%llx: its tp_base chain loops "
							  "or is deeper than %u types (corrupted "
							  "type object): members past there are not "
							  "followed",
					     (unsigned long long)t, MAX_BASES);
				break;
			}
			uint64_t members = u64_or0(py, b + TP_MEMBERS);
			if (members)
				collect_members(py, members, 4096, false, &ti->extra, &ti->nextra);
		}
	}
}

/* Remember that t is not a type. */
static void mark_not_a_type(struct pha_py *py, struct tinfo **slot, uint64_t t)
{
	*slot = &py->bad_type;
	/* bad_type entries keep their own address: store a per-address marker. */
	struct tinfo *m = calloc(1, sizeof(*m));
	if (m) {
		m->addr = t;
		m->kind = -1;
		*slot = m;
		py->ntypes++;
	} else {
		*slot = NULL;
	}
}

/* Read and validate a type object; NULL if t is not plausibly a type. */
static struct tinfo *get_type(struct pha_py *py, uint64_t t)
{
	if (!t || (t & 7))
		return NULL;
	if (py->ntypes * 2 >= py->types_cap && !types_grow(py))
		return NULL;
	struct tinfo **slot = type_slot(py, t);
	if (*slot)
		return *slot == &py->bad_type ? NULL : *slot;

	struct tinfo header = {0};
	if (!read_type_header(py, t, &header)) {
		mark_not_a_type(py, slot, t);
		return NULL;
	}
	struct tinfo *ti = calloc(1, sizeof(*ti));
	if (!ti)
		return NULL;
	*ti = header;
	*slot = ti;
	py->ntypes++;

	/* heap_type_info may read further types, which can move the table:
	 * slot is not used past this point. */
	if (ti->flags & TPF_HEAPTYPE)
		heap_type_info(py, ti);
	else
		static_type_info(py, ti);
	return ti;
}

static inline bool tinfo_bad(const struct tinfo *ti)
{
	return (int)ti->kind == -1;
}

/* The type info of t, read on first use; NULL if t is not a type. */
/* rd's way when addr is in neither window: the window of addr's segment
 * replaces the older one, then the read (one that crosses into the next
 * segment goes to the host). */
bool cpy_read_slow(struct pha_py *py, uint64_t addr, void *buf, size_t len)
{
	uint64_t start, end;
	const uint8_t *data = py->svc.window ? py->svc.window(py->svc.ctx, addr, &start, &end)
					     : NULL;
	if (data) {
		py->win[1] = py->win[0];
		py->win[0].start = start;
		py->win[0].len = end - start;
		py->win[0].data = data;
		if (len <= end - addr) {
			memcpy(buf, data + (addr - start), len);
			return true;
		}
	}
	return py->svc.read(py->svc.ctx, addr, buf, len);
}

struct tinfo *cpy_type_of_slow(struct pha_py *py, uint64_t t)
{
	if (!t || (t & 7))
		return NULL;
	size_t r = (t >> 4) & 63;
	if (py->ntypes * 2 >= py->types_cap && !types_grow(py))
		return NULL;
	struct tinfo *ti = *type_slot(py, t);
	if (!ti)
		ti = get_type(py, t);
	if (!ti || tinfo_bad(ti))
		return NULL;
	py->type_recent[r].addr = t;
	py->type_recent[r].ti = ti;
	return ti;
}

/* The dict of type t: tp_dict, or for a static builtin type of 3.12+ the
 * one kept in the interpreter's state (as cpy_type_refs reads it). */
uint64_t cpy_type_dict(struct pha_py *py, uint64_t t)
{
	const struct pha_py_offsets *o = py->o;
	uint64_t d = u64_or0(py, t + TP_DICT);
	if (d || !o->static_type_dict_in_interp || !py->ninterps || !o->is_types_builtins ||
	    (u64_or0(py, t + TP_FLAGS) & TPF_HEAPTYPE))
		return d;
	uint64_t idx = u64_or0(py, t + TP_SUBCLASSES);
	uint64_t entry = py->interps[0] + o->is_types_builtins +
			 (idx - 1) * o->static_builtin_state_size;
	if (idx >= 1 && idx < 1000 && (!o->static_builtin_search || u64_or0(py, entry) == t))
		d = u64_or0(py, entry + o->sbs_tp_dict);
	return d;
}

/* ---- which __sizeof__ sizes an instance ---- */

/* C __sizeof__ implementations of the stdlib that object_size reproduces
 * beyond the builtins of static_kinds (the owner is the type whose dict
 * holds the method). */
static const struct {
	const char *owner;
	enum size_rule rule;
} sizeof_owners[] = {
	{"_io.BufferedReader", SZ_BUFFERED}, {"_io.BufferedWriter", SZ_BUFFERED},
	{"_io.BufferedRandom", SZ_BUFFERED}, {"_io.BytesIO", SZ_BYTESIO},
	{"_struct.Struct", SZ_STRUCT}, {"array.array", SZ_ARRAY}, {"decimal.Decimal", SZ_DECIMAL},
	{"StgDict", SZ_STGDICT},
	{"Struct", SZ_STRUCT},	/* 3.8: _struct's tp_name had no module */
	{"_ctypes.CType_Type", SZ_CTYPE_TYPE},
};

/* Kinds whose object_size formula is their builtin type's __sizeof__ (or
 * object.__sizeof__, which bytes and tuple use). */
static bool kind_has_sizeof(enum kind k)
{
	switch (k) {
	case K_LIST: case K_DICT: case K_SET: case K_STR: case K_BYTEARRAY: case K_INT:
	case K_CODE: case K_GEN: case K_CORO: case K_ASYNCGEN: case K_FRAME: case K_DEQUE:
	case K_ODICT: case K_TYPE: case K_BYTES: case K_TUPLE:
		return true;
	default:
		return false;
	}
}

/* The type whose dict holds the __sizeof__ that instances of ti find (the
 * MRO, or the tp_base chain when the MRO cannot be read), and that
 * attribute; 0 when none can be read. */
static uint64_t sizeof_owner(struct pha_py *py, const struct tinfo *ti, uint64_t *descr_ret)
{
	uint64_t mro = u64_or0(py, ti->addr + TP_MRO);
	uint64_t n = mro && is_kind(py, mro, K_TUPLE) ? tuple_len(py, mro) : 0;
	if (n && n <= 64) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t b = u64_or0(py, mro + 24 + 8 * i);
			uint64_t d = b ? cpy_type_dict(py, b) : 0;
			if (d && (*descr_ret = cpy_dict_get_str(py, d, "__sizeof__")))
				return b;
		}
		return 0;
	}
	int depth = 0;
	for (uint64_t b = ti->addr; b && depth++ < 64; b = u64_or0(py, b + TP_BASE)) {
		uint64_t d = cpy_type_dict(py, b);
		if (d && (*descr_ret = cpy_dict_get_str(py, d, "__sizeof__")))
			return b;
	}
	return 0;
}

/* Decide ti->size_rule: the formula of the type that defines the
 * __sizeof__ instances use. A __sizeof__ found in object's dict, or none
 * readable, or one of a type whose name cannot be read (3.13+ cores
 * without binaries), keeps the formula of ti's kind. A C method of a
 * known type gets that type's formula; anything else (another C type's
 * method, a __sizeof__ written in Python) is SZ_UNMODELED. */
static void decide_size_rule(struct pha_py *py, struct tinfo *ti)
{
	ti->size_rule = SZ_KIND;
	ti->size_kind = ti->kind;
	uint64_t descr = 0;
	uint64_t owner = sizeof_owner(py, ti, &descr);
	if (!owner)
		return;
	const char *oname = pha_cpython_type_name(py, owner);
	if (oname[0] == '<' || !strcmp(oname, "object"))
		return;
	const char *dtype = pha_cpython_type_name(py, u64_or0(py, descr + 8));
	if (!strcmp(dtype, "method_descriptor")) {
		for (size_t i = 0; i < sizeof(static_kinds) / sizeof(static_kinds[0]); i++) {
			if (!strcmp(oname, static_kinds[i].name) && kind_has_sizeof(static_kinds[i].kind)) {
				ti->size_kind = static_kinds[i].kind;
				return;
			}
		}
		for (size_t i = 0; i < sizeof(sizeof_owners) / sizeof(sizeof_owners[0]); i++) {
			if (!strcmp(oname, sizeof_owners[i].owner)) {
				ti->size_rule = sizeof_owners[i].rule;
				return;
			}
		}
		enum size_rule r = cpy_numpy_rule(oname);
		if (r != SZ_UNDECIDED) {
			ti->size_rule = r;
			return;
		}
	}
	ti->size_rule = SZ_UNMODELED;
}

/* ---- object header and sys.getsizeof ---- */

/* The words before the object that getsizeof counts: the GC header and
 * the managed dict/weakref pre-header. */
static uint64_t preheader(struct pha_py *py, const struct tinfo *ti)
{
	uint64_t n = 0;
	if (ti->flags & TPF_HAVE_GC)
		n += 16;
	uint64_t managed = TPF_MANAGED_DICT | (py->o->managed_weakref ? TPF_MANAGED_WEAKREF : 0);
	if (ti->flags & managed)
		n += 16;
	return n;
}

uint64_t cpy_preheader(struct pha_py *py, const struct tinfo *ti)
{
	return preheader(py, ti);
}

/* code.__sizeof__: the object with its co_code_adaptive (3.11+) or
 * nothing more (<= 3.10, where ob_size is 0), plus what it owns. */
static uint64_t code_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t absize)
{
	const struct pha_py_offsets *o = py->o;
	uint64_t size = (ti->basicsize + 2 * absize + 7) & ~7ULL;
	if (o->co_cell2arg && u64_or0(py, a + o->co_cell2arg)) {
		/* <= 3.10: the cell-to-argument map, one Py_ssize_t per cell. */
		uint64_t cells = u64_or0(py, a + o->co_cellvars);
		if (cells)
			size += 8 * u64_or0(py, cells + 16);
	}
	if (o->co_opcache && u64_or0(py, a + o->co_opcache)) {
		/* <= 3.10 opcache: a map byte per code unit, then entries. */
		uint64_t bytecode = u64_or0(py, a + o->co_code);
		if (bytecode)
			size += u64_or0(py, bytecode + 16) / 2;
		size += (uint64_t)u8_or0(py, a + o->co_opcache_size) * o->opcache_entry_size;
	}
	uint64_t extra = u64_or0(py, a + o->co_extra);
	if (extra) {
		int64_t ce = i64_or0(py, extra);
		if (ce > 0)
			size += 16 + (uint64_t)(ce - 1) * 8;
	}
	return size;
}

/* A generator, coroutine or async generator: 3.11+ embeds its frame,
 * whose size follows from the code; otherwise size stays. */
static uint64_t gen_size(struct pha_py *py, uint64_t a, uint64_t size)
{
	const struct pha_py_offsets *o = py->o;
	if (o->frame_objects)
		return size;	/* <= 3.10: the frame is a separate object */
	uint64_t code = cpy_code_of_gen(py, a);
	if (code)
		size = o->gen_iframe + o->if_localsplus + 8 * cpy_frame_slots(py, code);
	return size;
}

/* A frame object (when its code is known; otherwise size stays). */
static uint64_t frame_object_size(struct pha_py *py, uint64_t a, const struct tinfo *ti,
				  uint64_t size)
{
	const struct pha_py_offsets *o = py->o;
	if (o->frame_objects) {
		/* frame_sizeof (<= 3.10): from the code object, not ob_size
		 * (frames come from a free list and may be larger). */
		uint64_t code = u64_or0(py, a + o->fo_code);
		if (code)
			size = ti->basicsize + 8 * (cpy_legacy_frame_extras(py, code) - 1);
		return size;
	}
	uint64_t f = u64_or0(py, a + o->fo_frame);
	uint64_t code = f ? frame_obj_at(py, f + o->if_code) : 0;
	if (code)
		size = o->fo_frame_data + o->if_localsplus + 8 * cpy_frame_slots(py, code);
	return size;
}

/* type.__sizeof__ (a heap type with its cached keys), with the
 * pre-header where getsizeof counts one. */
static uint64_t type_object_size(struct pha_py *py, uint64_t a, const struct tinfo *ti)
{
	const struct pha_py_offsets *o = py->o;
	uint64_t size;
	struct tinfo *self = cpy_type_of(py, a);
	if (self && (self->flags & TPF_HEAPTYPE)) {
		size = o->heaptype_size;
		struct dkeys k;
		if (o->dict_keys_v1) {
			if (cpy_read_keys_v1(py, self->cached_keys, &k))
				size += cpy_keys_size_v1(&k);
		} else if (cpy_read_keys(py, self->cached_keys, &k)) {
			size += cpy_keys_size(&k);
		}
	} else {
		size = o->type_size;
		/* <= 3.10: _PyObject_IS_GC is false for static types;
		 * 3.13+: only GC objects get the pre-header, and static
		 * type objects are not GC objects. */
		if (o->sizeof_is_gc || o->static_type_no_preheader)
			return size;
	}
	return size + preheader(py, ti);
}

/* _io.BufferedReader/Writer/Random (Modules/_io/bufferedio.c, struct
 * buffered, the same in 3.8 - 3.15): the object and its buffer. */
enum { BUF_BUFFER = 56, BUF_BUFFER_SIZE = 120, BUF_BUFFER_MASK = 128 };

static bool buffered_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size)
{
	uint64_t buffer = u64_or0(py, a + BUF_BUFFER);
	uint64_t bsize = u64_or0(py, a + BUF_BUFFER_SIZE), mask = u64_or0(py, a + BUF_BUFFER_MASK);
	if (ti->basicsize < BUF_BUFFER_MASK + 8 || bsize > MAX_CONTAINER ||
	    (mask && mask != bsize - 1))
		return false;
	*size = ti->basicsize + (buffer ? bsize : 0);
	return true;
}

/* _io.BytesIO (Modules/_io/bytesio.c, 3.5+): the object, plus the
 * getsizeof of its bytes buffer unless that is shared (refcount > 1). */
static bool bytesio_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size)
{
	uint64_t buf = u64_or0(py, a + 16);
	*size = ti->basicsize;
	if (buf) {
		uint64_t rc = u64_or0(py, buf);
		if (py->o->refcnt32)
			rc &= 0xffffffffULL;
		int64_t len = i64_or0(py, buf + 16);
		if (len < 0 || (uint64_t)len > MAX_CONTAINER)
			return false;
		if (rc == 1)
			*size += 33 + (uint64_t)len;	/* PyBytesObject header + NUL */
	}
	return true;
}

/* _struct.Struct (Modules/_struct.c): the object and its format codes
 * (32 bytes each: formatdef pointer, offset, size, repeat) with the
 * terminating one; s_codes follows s_size and s_len. */
static bool struct_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size)
{
	uint64_t codes = u64_or0(py, a + 32), n = 0;
	/* sizeof(PyStructObject): 56 in 3.8 - 3.14, 64 in 3.15; s_codes
	 * stays at 32. */
	if (!codes || ti->basicsize < 56 || ti->basicsize > 64)
		return false;
	while (n < (1u << 20)) {
		uint64_t fmtdef;
		if (!rd64(py, codes + 32 * n, &fmtdef))
			return false;
		if (!fmtdef)
			break;
		n++;
	}
	*size = ti->basicsize + 32 * (n + 1);
	return true;
}

/* array.array (Modules/arraymodule.c): the object and its allocated
 * items (allocated, then ob_descr whose itemsize int follows the
 * typecode char). */
static bool array_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size)
{
	uint64_t allocated = u64_or0(py, a + 32), descr = u64_or0(py, a + 40);
	uint32_t itemsize = descr ? u32_or0(py, descr + 4) : 0;
	if (!itemsize || itemsize > 16 || allocated > MAX_CONTAINER)
		return false;
	*size = ti->basicsize + allocated * itemsize;
	return true;
}

/* decimal.Decimal (Modules/_decimal/_decimal.c, PyDecObject: the
 * header, the hash, an mpd_t at 24 whose flags byte comes first and whose
 * alloc is at 56, then four static words): the object, plus the
 * coefficient words when they were allocated on their own (none of
 * MPD_STATIC_DATA, MPD_SHARED_DATA, MPD_CONST_DATA: 32, 64, 128). */
enum { DEC_FLAGS = 24, DEC_ALLOC = 56, DEC_DATA_FLAGS = 32 | 64 | 128 };

static bool decimal_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size)
{
	uint8_t flags = u8_or0(py, a + DEC_FLAGS);
	int64_t alloc = i64_or0(py, a + DEC_ALLOC);
	if (ti->basicsize < DEC_ALLOC + 16 || alloc < 0 || (uint64_t)alloc > MAX_CONTAINER)
		return false;
	*size = ti->basicsize + (flags & DEC_DATA_FLAGS ? 0 : 8 * (uint64_t)alloc);
	return true;
}

/* The length of the NUL-terminated string at addr (at most 64 KiB). */
static bool c_strlen(struct pha_py *py, uint64_t addr, uint64_t *len_ret)
{
	char chunk[256];
	for (uint64_t off = 0; off < 65536; off += sizeof(chunk)) {
		size_t n = sizeof(chunk);
		/* The last page may end before a whole chunk: shrink until it reads. */
		while (n && !rd(py, addr + off, chunk, n))
			n /= 2;
		if (!n)
			return false;
		const char *z = memchr(chunk, 0, n);
		if (z) {
			*len_ret = off + (uint64_t)(z - chunk);
			return true;
		}
		if (n < sizeof(chunk))
			off -= sizeof(chunk) - n;
	}
	return false;
}

/* ctypes' StgDict, the dict of a ctypes type (Modules/_ctypes/ctypes.h,
 * 3.8 - 3.12; 3.13 moved it into the type as StgInfo): the dict as
 * dict.__sizeof__ sizes it (with StgDict's basicsize), again the 144 bytes
 * StgDictObject adds to PyDictObject, the PEP 3118 format string with its
 * NUL, the shape (ndim words) and the ffi elements array (length + 1
 * pointers). Fields: length 64, ffi_type.elements 88, format 168, ndim
 * 176 (an int). */
enum { STG_LENGTH = 64, STG_ELEMENTS = 88, STG_FORMAT = 168, STG_NDIM = 176,
       STG_SIZE = 192, STG_EXTRA = STG_SIZE - 48 };

/* What a ctypes StgDict (3.8 - 3.12) or StgInfo (3.13+) at `info` owns
 * beyond itself: the format string with its NUL, the shape (ndim words)
 * and the ffi elements array (length + 1 pointers) when there is one. */
static bool stg_owned_bytes(struct pha_py *py, uint64_t info, unsigned fmt_off, unsigned ndim_off,
			    unsigned length_off, unsigned elements_off, uint64_t *bytes_ret)
{
	uint64_t s = 0;
	uint64_t format = u64_or0(py, info + fmt_off), flen;
	if (format) {
		if (!c_strlen(py, format, &flen))
			return false;
		s += flen + 1;
	}
	int32_t ndim = i32_or0(py, info + ndim_off);
	int64_t length = i64_or0(py, info + length_off);
	if (ndim < 0 || ndim > 64 || length < 0 || (uint64_t)length > MAX_CONTAINER)
		return false;
	s += 8 * (uint64_t)ndim;
	if (u64_or0(py, info + elements_off))
		s += 8 * ((uint64_t)length + 1);
	*bytes_ret = s;
	return true;
}

static bool stgdict_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size)
{
	uint64_t owned;
	if (ti->basicsize != STG_SIZE ||
	    !stg_owned_bytes(py, a, STG_FORMAT, STG_NDIM, STG_LENGTH, STG_ELEMENTS, &owned))
		return false;
	*size = cpy_dict_size(py, a, ti->basicsize) + STG_EXTRA + owned;
	return true;
}

/* A ctypes type of 3.13+ (Modules/_ctypes/ctypes.h): its metatype
 * extends type with a StgInfo, placed at sizeof(PyHeapTypeObject) rounded
 * up to 16. CType_Type.__sizeof__ counts the metatype's basicsize and
 * items, and when the StgInfo is initialized (its first int) the PEP 3118
 * format string with its NUL, the ffi elements array (length + 1
 * pointers) and the shape (ndim words). The StgInfo's size tells its
 * layout: 160 bytes in 3.13 (format at 136, ndim at 144), 176 in 3.14+
 * (format at 144, ndim at 152); length at 24 and ffi_type.elements at 48
 * in both. */
enum { STGI_LENGTH = 24, STGI_ELEMENTS = 48 };

static bool ctype_type_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size)
{
	uint64_t data = (py->o->heaptype_size + 15) & ~15ULL;
	unsigned fmt_off, ndim_off;
	if (ti->basicsize == data + 160) {
		fmt_off = 136;
		ndim_off = 144;
	} else if (ti->basicsize == data + 176) {
		fmt_off = 144;
		ndim_off = 152;
	} else {
		return false;
	}
	int64_t nmembers = i64_or0(py, a + 16);
	if (nmembers < 0 || nmembers > 4096)
		return false;
	uint64_t s = ti->basicsize + ti->itemsize * (uint64_t)nmembers;
	uint64_t info = a + data, owned = 0;
	if (i32_or0(py, info) &&
	    !stg_owned_bytes(py, info, fmt_off, ndim_off, STGI_LENGTH, STGI_ELEMENTS, &owned))
		return false;
	*size = s + owned;
	return true;
}

/* The sizes of rules beyond SZ_KIND, without the pre-header; false when
 * the object does not read as the rule expects. */
static bool rule_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size)
{
	switch ((enum size_rule)ti->size_rule) {
	case SZ_BUFFERED:
		return buffered_size(py, a, ti, size);
	case SZ_BYTESIO:
		return bytesio_size(py, a, ti, size);
	case SZ_STRUCT:
		return struct_size(py, a, ti, size);
	case SZ_ARRAY:
		return array_size(py, a, ti, size);
	case SZ_DECIMAL:
		return decimal_size(py, a, ti, size);
	case SZ_STGDICT:
		return stgdict_size(py, a, ti, size);
	case SZ_CTYPE_TYPE:
		return ctype_type_size(py, a, ti, size);
	case SZ_NUMPY_ARRAY:
	case SZ_NUMPY_SCALAR:
		return cpy_numpy_size(py, a, ti, size);
	default:
		return false;
	}
}

/* sys.getsizeof of the object at a; *unmodeled_ret says that the type
 * has a __sizeof__ of its own that this did not reproduce. */
static uint64_t object_size(struct pha_py *py, uint64_t a, struct tinfo *ti, bool *unmodeled_ret)
{
	const struct pha_py_offsets *o = py->o;
	int64_t obsize = ti->itemsize ? i64_or0(py, a + 16) : 0;
	/* Negated in unsigned arithmetic: -INT64_MIN overflows. */
	uint64_t absize = obsize < 0 ? 0 - (uint64_t)obsize : (uint64_t)obsize;
	if (absize > MAX_CONTAINER)
		absize = 0;	/* not a size: a misidentified type */
	uint64_t size = ti->basicsize + absize * ti->itemsize;

	if (ti->size_rule == SZ_UNDECIDED)
		decide_size_rule(py, ti);
	*unmodeled_ret = ti->size_rule == SZ_UNMODELED;
	if (ti->size_rule != SZ_KIND && ti->size_rule != SZ_UNMODELED) {
		uint64_t s;
		if (rule_size(py, a, ti, &s))
			return s + preheader(py, ti);
		*unmodeled_ret = true;
		return size + preheader(py, ti);
	}

	switch (ti->size_kind) {
	case K_LIST:
		size = ti->basicsize + 8 * u64_or0(py, a + 32);
		break;
	case K_DICT:
	case K_DEFAULTDICT:
		size = cpy_dict_size(py, a, ti->basicsize);
		break;
	case K_ODICT:
		size = cpy_dict_size(py, a, ti->basicsize) +
		       8 * u64_or0(py, a + o->odict_fast_nodes_size);
		if (u64_or0(py, a + o->odict_first))
			size += 32 * u64_or0(py, a + 16);
		break;
	case K_SET:
		size = ti->basicsize;
		if (u64_or0(py, a + 40) != a + 64)
			size += 16 * (u64_or0(py, a + 32) + 1);
		break;
	case K_STR:
		size = cpy_str_size(py, a);
		break;
	case K_BYTEARRAY: {
		uint64_t alloc = u64_or0(py, a + 24);
		if (o->bytearray_bytes_object)
			/* 3.15: the buffer is a bytes object (33 + alloc bytes). */
			size = ti->basicsize + (alloc ? 33 + alloc : 0);
		else
			size = ti->basicsize + alloc;
		break;
	}
	case K_INT: {
		uint64_t nd;
		if (o->long_lv_tag)
			nd = u64_or0(py, a + 16) >> 3;
		else
			nd = absize;
		/* int.__sizeof__ uses offsetof(PyLongObject, ob_digit), not
		 * tp_basicsize (bool's basicsize is larger). */
		size = 24 + 4 * (nd || o->int_size_no_min ? nd : 1);
		break;
	}
	case K_CODE:
		size = code_size(py, a, ti, absize);
		break;
	case K_GEN:
	case K_CORO:
	case K_ASYNCGEN:
		size = gen_size(py, a, size);
		break;
	case K_FRAME:
		size = frame_object_size(py, a, ti, size);
		break;
	case K_DEQUE: {
		/* deque has tp_itemsize 0 but keeps its length in ob_size. */
		uint64_t li = u64_or0(py, a + o->deque_leftindex);
		uint64_t len = u64_or0(py, a + 16);
		size = ti->basicsize + 528 * ((li + len + 63) / 64);
		break;
	}
	case K_TYPE:
		return type_object_size(py, a, ti);
	default:
		break;
	}
	return size + preheader(py, ti);
}

struct pha_error *pha_cpython_object_info(struct pha_py *py, uint64_t addr,
					  struct pha_object_info *info_ret)
{
	uint64_t hdr[2];
	if (!addr || (addr & 7) || !rd(py, addr, hdr, sizeof(hdr)))
		return pha_error_fault(addr, "object header at 0x%llx unreadable",
				       (unsigned long long)addr);
	struct tinfo *ti = cpy_type_of(py, hdr[1]);
	if (!ti)
		return pha_error_create(PHA_ERR_INPUT, "0x%llx: type pointer 0x%llx is not a type",
					(unsigned long long)addr, (unsigned long long)hdr[1]);
	/* 3.14+: the refcount is the low 32 bits; ob_flags sit in 48-63. */
	uint64_t refcnt = py->o->refcnt32 ? (hdr[0] & 0xffffffffULL) : hdr[0];
	bool immortal = false;
	if (py->o->immortal && (int32_t)(uint32_t)hdr[0] < 0) {
		/* 3.12 immortal objects (PEP 683): the low 32 bits saturate. */
		immortal = true;
	} else if ((int64_t)refcnt <= 0) {
		return pha_error_create(PHA_ERR_INPUT, "0x%llx: refcount %lld is not positive",
					(unsigned long long)addr, (long long)hdr[0]);
	}
	bool unmodeled = false;
	uint64_t size = object_size(py, addr, ti, &unmodeled);
	/* Sizes come from lengths in memory (list allocated, set mask,
	 * bytearray alloc, deque length, frame slots): a corrupted one must
	 * not make the heap 1.5e18 bytes. No object is larger than the
	 * process's memory. */
	if (py->svc.readable_bytes && size > py->svc.readable_bytes) {
		py->svc.warn(py->svc.ctx, "object at 0x%llx (%s): its size read from memory, %llu "
					  "bytes, is more than the process's %llu bytes of memory "
					  "(corrupted length field): counted as %llu bytes",
			     (unsigned long long)addr, pha_cpython_type_name(py, hdr[1]),
			     (unsigned long long)size,
			     (unsigned long long)py->svc.readable_bytes,
			     (unsigned long long)ti->basicsize);
		size = ti->basicsize;
	}
	/* Field by field, not a struct built on the stack and copied: the
	 * copy's 16-byte loads of fields just stored one by one stalled on
	 * store forwarding, once per object (issue 12). */
	info_ret->type = hdr[1];
	info_ret->refcnt = refcnt;
	info_ret->size = size;
	info_ret->immortal = immortal;
	info_ret->conservative = ti->kind == K_OTHER;
	info_ret->finalizer = ti->finalizer;
	info_ret->size_unmodeled = unmodeled;
	return NULL;
}

/* ---- type names ---- */

/* What a type's instances are. Metaclasses: PyType_Ready gives every
 * subtype of `type` Py_TPFLAGS_TYPE_SUBCLASS (inherit_special), C
 * extensions' metatypes included (_ctypes.PyCSimpleType, numpy's
 * _DTypeMeta), whose layout kind is not K_TYPE. Modules: the solid base of
 * a module subclass is `module`. */
unsigned pha_cpython_type_kind(struct pha_py *py, uint64_t t)
{
	struct tinfo *ti = cpy_type_of(py, t);
	if (!ti)
		return PHA_TYPE_KIND_OTHER;
	if (ti->kind == K_TYPE || (ti->flags & TPF_TYPE_SUBCLASS))
		return PHA_TYPE_KIND_TYPE;
	if (ti->kind == K_MODULE)
		return PHA_TYPE_KIND_MODULE;
	return PHA_TYPE_KIND_OTHER;
}

const char *pha_cpython_type_name(struct pha_py *py, uint64_t t)
{
	struct tinfo *ti = cpy_type_of(py, t);
	if (!ti)
		return "<invalid type>";
	if (ti->name)
		return ti->name;
	char qual[512], mod[512];
	if (ti->flags & TPF_HEAPTYPE) {
		if (!cpy_read_str(py, u64_or0(py, t + py->o->ht_qualname), qual, sizeof(qual)))
			snprintf(qual, sizeof(qual), "<type at 0x%llx>", (unsigned long long)t);
		uint64_t m = cpy_dict_get_str(py, u64_or0(py, t + TP_DICT), "__module__");
		if (m && cpy_read_str(py, m, mod, sizeof(mod)) && strcmp(mod, "builtins") != 0) {
			if (asprintf(&ti->name, "%s.%s", mod, qual) < 0)
				ti->name = NULL;
		} else {
			ti->name = strdup(qual);
		}
	} else {
		if (!read_cstr(py, u64_or0(py, t + TP_NAME), qual, sizeof(qual)))
			snprintf(qual, sizeof(qual), "<type at 0x%llx>", (unsigned long long)t);
		ti->name = strdup(qual);
	}
	return ti->name ? ti->name : "<out of memory>";
}

/* ---- containers: used and allocated slots (waste report) ---- */

bool pha_cpython_container_len(struct pha_py *py, uint64_t addr, uint64_t *used_ret,
			       uint64_t *capacity_ret)
{
	struct tinfo *ti = cpy_type_of(py, u64_or0(py, addr + 8));
	if (!ti)
		return false;
	switch (ti->kind) {
	case K_LIST:
		*used_ret = u64_or0(py, addr + 16);
		*capacity_ret = u64_or0(py, addr + 32);
		break;
	case K_DICT:
	case K_DEFAULTDICT:
	case K_ODICT: {
		struct dkeys k;
		uint64_t keys = u64_or0(py, addr + 32);
		*used_ret = u64_or0(py, addr + 16);
		if (!(py->o->dict_keys_v1 ? cpy_read_keys_v1(py, keys, &k)
					  : cpy_read_keys(py, keys, &k)))
			return false;
		*capacity_ret = (2ULL << k.log2_size) / 3;
		break;
	}
	case K_SET:
		*used_ret = u64_or0(py, addr + 24);
		*capacity_ret = u64_or0(py, addr + 32) + 1;
		break;
	default:
		return false;
	}
	return *used_ret <= MAX_CONTAINER && *capacity_ret <= MAX_CONTAINER &&
	       *used_ret <= *capacity_ret;
}
