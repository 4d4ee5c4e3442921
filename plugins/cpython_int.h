/* Internals of the table-driven CPython walker, shared by its files
 * (plugins/README.md has the map of which file knows what).
 *
 * Nothing outside plugins/ includes this header: the analyzer sees the
 * walker only through struct pha_layout (pha_layout.h). It holds the
 * walker's state (struct pha_py), what it knows about a type (struct
 * tinfo), the layout constants that are the same in every supported
 * version (3.8 - 3.15), the small memory and reference helpers every file
 * uses, and the functions one file offers the others (prefix cpy_).
 *
 * What differs between versions is never here: it is a member of struct
 * pha_py_offsets (cpython.h), filled in by the tables of layouts.c.
 */
#ifndef PHA_CPYTHON_INT_H
#define PHA_CPYTHON_INT_H

#include "cpython.h"

#include <string.h>

/* Type flags (Include/object.h). */
#define TPF_INLINE_VALUES (1ULL << 2)	/* 3.13 */
#define TPF_MANAGED_WEAKREF (1ULL << 3)	/* 3.12 */
#define TPF_MANAGED_DICT (1ULL << 4)	/* 3.11 */
#define TPF_HEAPTYPE (1ULL << 9)
#define TPF_READY (1ULL << 12)
#define TPF_HAVE_GC (1ULL << 14)
#define TPF_DICT_SUBCLASS (1ULL << 29)
#define TPF_BASE_EXC_SUBCLASS (1ULL << 30)
#define TPF_TYPE_SUBCLASS (1ULL << 31)

/* PyTypeObject members, identical in 3.8-3.15. */
enum {
	TP_NAME = 24, TP_BASICSIZE = 32, TP_ITEMSIZE = 40, TP_FLAGS = 168,
	TP_WEAKLISTOFFSET = 208, TP_MEMBERS = 240, TP_BASE = 256, TP_DICT = 264,
	TP_TRAVERSE = 184, TP_DICTOFFSET = 288, TP_BASES = 336, TP_MRO = 344, TP_CACHE = 352,
	TP_SUBCLASSES = 360, TP_WEAKLIST = 368, TP_DEL = 376, TP_FINALIZE = 392, TP_READ = 408,
};

/* PyModuleDef members (Include/moduleobject.h, 3.8 - 3.15) and the size
 * of PyDictObject (Include/cpython/dictobject.h, 3.8 - 3.15). */
enum { MODDEF_SIZE = 56, MODDEF_TRAVERSE = 80, DICT_BASICSIZE = 48 };


/* Frame owners (Include/internal/pycore_frame.h). */
enum { OWNED_BY_THREAD = 0, OWNED_BY_GENERATOR = 1, OWNED_BY_FRAME_OBJECT = 2 };

/* Bounds against corrupted memory: a walk longer than these is not a heap. */
#define MAX_LIST_WALK (1u << 28)
#define MAX_FRAMES 100000
#define MAX_FRAMES_TOTAL 1000000	/* all threads of one pass */
#define MAX_THREADS 100000
#define MAX_INTERPS 256
#define MAX_CONSERVATIVE_SCAN 65536
#define MAX_CONTAINER (1ULL << 32)
#define MAX_BASES 64u	/* tp_base chain */

/* functools' C LRU cache (Modules/_functoolsmodule.c; the same layout in
 * 3.8 - 3.15, a static type in 3.8 - 3.9, a heap type since): a link is
 * lru_list_elem {PyObject_HEAD; prev, next (borrowed); hash; key, result
 * (owned)}, the cache dict maps keys to links; lru_cache_object starts with
 * the list's root link, then wrapper, typed, cache (the dict), hits,
 * func. lru_cache_tp_traverse visits every link's key and result, but the
 * link type has no traverse: the references are reported from the link
 * (strong, not traversed) so that the results are explained. */
#define LRU_ELEM_TYPE "functools._lru_list_elem"
#define LRU_WRAPPER_TYPE "functools._lru_cache_wrapper"
#define LRU_ELEM_NEXT 24	/* also the wrapper's root.next */
#define LRU_ELEM_KEY 40
#define LRU_ELEM_RESULT 48
#define LRU_ROOT_END 56		/* the wrapper's members after its root link */
#define LRU_CACHE 72
#define LRU_FUNC 88

/* What the walker knows how to walk: the kind of a type's first non-heap
 * base (objects.c maps static types to kinds by tp_name). */
enum kind {
	K_OTHER = 0,	/* unknown: scan conservatively */
	K_NOREFS,	/* known to hold no object references */
	K_OBJECT, K_TYPE, K_TUPLE, K_LIST, K_DICT, K_SET, K_STR, K_BYTES, K_BYTEARRAY,
	K_INT, K_FUNCTION, K_CODE, K_CELL, K_METHOD, K_MODULE, K_FRAME, K_GEN, K_CORO,
	K_ASYNCGEN, K_WEAKREF, K_PROPERTY, K_CLASSMETHOD, K_DEQUE, K_DEFAULTDICT,
	K_ODICT, K_EXCEPTION, K_TRACEBACK, K_CFUNCTION, K_CMETHOD, K_DESCR,
	K_METHODWRAPPER, K_MAPPINGPROXY, K_SLICE, K_RANGE, K_INSTANCEMETHOD,
	K_LRU_CACHE,	/* functools._lru_cache_wrapper (referents.c: lru_cache_refs) */
};

struct tinfo {
	uint64_t addr;
	uint64_t flags, basicsize, itemsize, base, metatype, cached_keys;
	int64_t dictoffset, weaklistoffset;
	uint64_t solid;			/* first non-heap type on the tp_base chain */
	uint64_t solid_basicsize;
	enum kind kind;			/* kind of the solid base */
	bool visit_dict;		/* subtype_traverse visits the dict at dictoffset */
	uint32_t nslots, nextra;
	uint32_t *slots;		/* offsets subtype_traverse visits (heap chain) */
	uint32_t *extra;		/* T_OBJECT members of static types (exceptions) */
	char *name;			/* report name, computed lazily */
	bool finalizer;			/* tp_finalize or tp_del set (a __del__) */
	/* How sys.getsizeof sizes an instance (objects.c, size_rule_of):
	 * decided on first use from the type whose dict holds the
	 * __sizeof__ the MRO finds; size_kind picks the formula of rule
	 * SZ_KIND. */
	uint8_t size_rule;
	enum kind size_kind;
};

/* The size rules (struct tinfo.size_rule); 0 = not decided yet. */
enum size_rule {
	SZ_UNDECIDED = 0,
	SZ_KIND,		/* object.__sizeof__ or a builtin's, by size_kind */
	SZ_UNMODELED,		/* its own __sizeof__, not reproduced: by size_kind, flagged */
	SZ_BUFFERED,		/* _io.BufferedReader/Writer/Random */
	SZ_BYTESIO,		/* _io.BytesIO */
	SZ_STRUCT,		/* _struct.Struct */
	SZ_ARRAY,		/* array.array */
	SZ_DECIMAL,		/* decimal.Decimal (_decimal) */
	SZ_STGDICT,		/* ctypes' StgDict (3.8 - 3.12) */
	SZ_CTYPE_TYPE,		/* ctypes' metatypes (3.13+: _ctypes.CType_Type) */
	SZ_NUMPY_ARRAY,		/* numpy.ndarray (ext_numpy.c) */
	SZ_NUMPY_SCALAR,	/* numpy.generic (ext_numpy.c) */
};

struct dkeys {
	uint64_t addr;
	int64_t refcnt;
	uint8_t log2_size, log2_index_bytes, kind;
	int64_t usable, nentries;
	uint64_t entries;
};

struct pha_py {
	const struct pha_layout *layout;
	const struct pha_py_offsets *o;	/* points at oc */
	struct pha_py_offsets oc;	/* the layout's table, 3.13+: updated from
					 * the core's _Py_DebugOffsets */
	struct pha_services svc;
	/* The last two segments read (svc.window; issue 12): a read inside
	 * one is a copy, not three calls and a segment search. */
	struct { uint64_t start, len; const uint8_t *data; } win[2];
	uint32_t hex;
	uint64_t runtime;
	bool dict_visits_embedded;	/* see dict_visits_embedded_hex */
	uint64_t interps[MAX_INTERPS];
	size_t ninterps;
	uint64_t set_dummy;
	uint64_t str_type;		/* &PyUnicode_Type (3.8-3.10 dict keys), 0 if unknown */
	/* tp_traverse of classes made by a class statement (type_new sets it
	 * to subtype_traverse); 0 if it could not be found. Heap types with
	 * another tp_traverse come from PyType_FromSpec (C extensions). */
	uint64_t subtype_traverse;

	struct tinfo **types;		/* open addressing by address */
	size_t types_cap, ntypes;
	/* In front of it (issue 12): direct-mapped by address bits, the
	 * entries of types last looked up (a tinfo never moves or goes
	 * before the table is freed). */
	struct { uint64_t addr; struct tinfo *ti; } type_recent[64];
	/* Keys objects read and found whole, direct-mapped by address (the
	 * cached keys of a class are read for each of its instances). */
	struct dkeys keys_recent[16];
	struct tinfo bad_type;		/* marker: address known not to be a type */
};

/* A dict keys object of either layout (dicts.c reads both into this). */
/* dk_kind (3.11+); the 3.8 - 3.10 reader says GENERAL (24-byte entries). */
enum { DICT_KEYS_GENERAL = 0, DICT_KEYS_UNICODE = 1, DICT_KEYS_SPLIT = 2 };

/* ---- memory helpers ---- */

struct chain_walk;
/* One aggregated warning when a walk of a chain stopped early (frames.c). */
void cpy_chain_warn(struct pha_py *py, const struct chain_walk *w, const char *what,
		    uint64_t start);
/* The walk of one pass over the threads of an interpreter, and the walk of
 * one thread's frames within the pass's budget (frames.c). */
struct chain_walk cpy_threads_walk(struct pha_py *py);
struct chain_walk cpy_frames_walk(uint64_t *budget);
void cpy_frames_done(struct pha_py *py, uint64_t *budget, const struct chain_walk *w,
		     uint64_t ts);

bool cpy_read_slow(struct pha_py *py, uint64_t addr, void *buf, size_t len);

/* The bytes [addr, addr + len) inside one of the last two segments read,
 * or NULL. */
static inline const uint8_t *in_window(const struct pha_py *py, uint64_t addr, uint64_t len)
{
	for (int k = 0; k < 2; k++) {
		uint64_t off = addr - py->win[k].start;
		if (off < py->win[k].len && len <= py->win[k].len - off)
			return py->win[k].data + off;
	}
	return NULL;
}

static inline bool rd(struct pha_py *py, uint64_t addr, void *buf, size_t len)
{
	const uint8_t *p = in_window(py, addr, len);
	if (!p)
		return cpy_read_slow(py, addr, buf, len);
	memcpy(buf, p, len);
	return true;
}

static inline bool rd64(struct pha_py *py, uint64_t addr, uint64_t *v)
{
	return rd(py, addr, v, 8);
}

/* Bytes readable from addr without a gap (UINT64_MAX from a host that
 * cannot tell). A count or size read from the dumped memory is bounded by
 * this: an object cannot hold more than the memory after its start. */
static inline uint64_t mem_extent(struct pha_py *py, uint64_t addr)
{
	return py->svc.extent ? py->svc.extent(py->svc.ctx, addr) : UINT64_MAX;
}

/* The most objects of min_size bytes the process's memory can hold: the
 * bound of every walk of a list or chain whose elements occupy memory. */
static inline uint64_t mem_max_objects(struct pha_py *py, uint64_t min_size)
{
	uint64_t n = py->svc.readable_bytes ? py->svc.readable_bytes / min_size : UINT64_MAX;
	return n ? n : 1;
}

/* Brent's cycle detection over a walk of a linked structure: call
 * cycle_step with each node in walk order; true when the node was seen
 * before (a cycle that does not pass the walk's end). Nodes of a cycle are
 * visited at most about twice more before it is detected. */
struct cycle_check {
	uint64_t saved, power, steps;
};

static inline bool cycle_step(struct cycle_check *c, uint64_t node)
{
	if (c->steps && node == c->saved)
		return true;
	if (++c->steps >= c->power) {
		c->saved = node;
		c->power = c->power ? c->power * 2 : 2;
	}
	return false;
}

/* A bounded walk of a chain (threads, frames, exception items): stops at
 * a cycle and after limit nodes; stopped says so. A pass over all threads
 * also shares one frame budget (MAX_FRAMES_TOTAL), so that corrupted
 * links cannot make threads x frames steps. */
struct chain_walk {
	struct cycle_check cc;
	uint64_t steps, limit;
	bool looped, truncated;
};

static inline struct chain_walk chain_walk_init(uint64_t limit)
{
	return (struct chain_walk){.limit = limit};
}

static inline bool chain_step(struct chain_walk *w, uint64_t node)
{
	if (!node)
		return false;
	if (w->steps >= w->limit) {
		w->truncated = true;
		return false;
	}
	if (cycle_step(&w->cc, node)) {
		w->looped = true;
		return false;
	}
	w->steps++;
	return true;
}

static inline uint64_t u64_or0(struct pha_py *py, uint64_t addr)
{
	uint64_t v;
	return rd64(py, addr, &v) ? v : 0;
}

static inline int64_t i64_or0(struct pha_py *py, uint64_t addr)
{
	return (int64_t)u64_or0(py, addr);
}

static inline uint32_t u32_or0(struct pha_py *py, uint64_t addr)
{
	uint32_t v;
	return rd(py, addr, &v, 4) ? v : 0;
}

static inline int32_t i32_or0(struct pha_py *py, uint64_t addr)
{
	return (int32_t)u32_or0(py, addr);
}

static inline uint8_t u8_or0(struct pha_py *py, uint64_t addr)
{
	uint8_t v;
	return rd(py, addr, &v, 1) ? v : 0;
}

/* A NUL-terminated C string (tp_name, PyMemberDef.name), truncated to
 * size-1 bytes. */
static inline bool read_cstr(struct pha_py *py, uint64_t addr, char *buf, size_t size)
{
	if (!addr || size == 0)
		return false;
	for (size_t i = 0; i < size - 1; i++) {
		if (!rd(py, addr + i, &buf[i], 1))
			return false;
		if (!buf[i])
			return true;
	}
	buf[size - 1] = 0;
	return true;
}

/* ---- references ---- */

/* Emit one reference, skipping NULL. */
static inline void ref(pha_ref_fn *cb, void *arg, uint64_t addr, unsigned flags)
{
	if (addr)
		cb(arg, addr, flags);
}

static inline void ref_at(struct pha_py *py, pha_ref_fn *cb, void *arg, uint64_t field,
			  unsigned flags)
{
	ref(cb, arg, u64_or0(py, field), flags);
}

/* 3.14+ _PyStackRef (GIL build): the object is bits & ~3; NULL is encoded
 * as 1; tag 3 is a small int, not an object; bit 0 alone marks a
 * reference that does not own a refcount (borrowed or immortal), which
 * the collector skips when it subtracts references (_PyGC_VisitStackRef). */
static inline void stackref(pha_ref_fn *cb, void *arg, uint64_t bits, unsigned flags)
{
	if ((bits & 3) == 3 || !(bits & ~3ULL))
		return;
	cb(arg, bits & ~3ULL, (bits & 1) ? 0 : flags);
}

/* A frame field that is a PyObject* (<= 3.13) or a _PyStackRef (3.14+). */
static inline void frame_ref_at(struct pha_py *py, pha_ref_fn *cb, void *arg, uint64_t field,
				unsigned flags)
{
	if (py->o->stackref)
		stackref(cb, arg, u64_or0(py, field), flags);
	else
		ref_at(py, cb, arg, field, flags);
}

/* The object in a frame field or slot, a PyObject* (<= 3.13) or a
 * _PyStackRef (3.14+, masked); 0 for NULL and tagged small ints. */
static inline uint64_t frame_obj_at(struct pha_py *py, uint64_t field)
{
	uint64_t v = u64_or0(py, field);
	return py->o->stackref ? ((v & 3) == 3 ? 0 : v & ~3ULL) : v;
}

/* An array of n object pointers at addr (tuple items, list items, values). */
static inline void ref_array(struct pha_py *py, pha_ref_fn *cb, void *arg, uint64_t addr,
			     uint64_t n, unsigned flags)
{
	if (n > MAX_CONTAINER)
		return;
	/* Zero-copy only at an aligned address (a corrupted pointer may not
	 * be; the mapped core keeps the address's alignment). */
	const uint64_t *p = addr & 7 ? NULL : py->svc.ptr(py->svc.ctx, addr, n * 8);
	if (p) {
		for (uint64_t i = 0; i < n; i++)
			ref(cb, arg, p[i], flags);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v;
		if (!rd64(py, addr + 8 * i, &v))
			return;
		ref(cb, arg, v, flags);
	}
}

/* Offset of a tuple's ob_item (3.14 added ob_hash before it). */
#define TUPLE_ITEMS(py) ((uint64_t)((py)->o->tuple_ob_item ? (py)->o->tuple_ob_item : 24))

/* ob_size of a tuple; 0 when t is NULL or the size is implausible. */
static inline uint64_t tuple_len(struct pha_py *py, uint64_t t)
{
	int64_t n = t ? i64_or0(py, t + 16) : 0;
	return n > 0 && n < (1 << 24) ? (uint64_t)n : 0;
}

/* ---- what one file offers the others ---- */

/* objects.c: the type table, what a type is. */
bool cpy_types_init(struct pha_py *py);
void cpy_types_deinit(struct pha_py *py);
/* The type info of t, read on first use; NULL if t is not a type. */
struct tinfo *cpy_type_of_slow(struct pha_py *py, uint64_t t);

/* The type at t, NULL if t is not plausibly one (recent lookups answered
 * inline). */
static inline struct tinfo *cpy_type_of(struct pha_py *py, uint64_t t)
{
	size_t r = (t >> 4) & 63;
	if (t && py->type_recent[r].addr == t)
		return py->type_recent[r].ti;
	return cpy_type_of_slow(py, t);
}
uint64_t cpy_type_dict(struct pha_py *py, uint64_t t);
/* The words before an instance of ti that its memory block starts with
 * (the GC header, the managed dict/weakref pre-header). */
uint64_t cpy_preheader(struct pha_py *py, const struct tinfo *ti);

/* ext_numpy.c: numpy's __sizeof__ rules. */
enum size_rule cpy_numpy_rule(const char *owner);
bool cpy_numpy_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size_ret);
void cpy_numpy_blocks(struct pha_py *py, uint64_t a, void (*cb)(void *arg, uint64_t ptr, unsigned kind),
		      void *arg);

/* Whether obj is an object whose (solid base) type is of kind k. */
static inline bool is_kind(struct pha_py *py, uint64_t obj, enum kind k)
{
	struct tinfo *ti = obj ? cpy_type_of(py, u64_or0(py, obj + 8)) : NULL;
	return ti && ti->kind == k;
}

/* dicts.c: keys of either layout, dict_traverse, lookup, __sizeof__,
 * managed instance dicts. */
bool cpy_read_keys(struct pha_py *py, uint64_t keys, struct dkeys *k);		/* 3.11+ */
uint64_t cpy_keys_size(const struct dkeys *k);
bool cpy_read_keys_v1(struct pha_py *py, uint64_t keys, struct dkeys *k);	/* <= 3.10 */
uint64_t cpy_keys_size_v1(const struct dkeys *k);
void cpy_dict_refs(struct pha_py *py, uint64_t d, pha_ref_fn *cb, void *arg);
uint64_t cpy_dict_get_str(struct pha_py *py, uint64_t d, const char *key);
uint64_t cpy_dict_size(struct pha_py *py, uint64_t d, uint64_t basicsize);
void cpy_managed_dict_refs(struct pha_py *py, uint64_t a, const struct tinfo *ti,
			   pha_ref_fn *cb, void *arg);

/* The value array of a split dict: 3.13+ PyDictValues has a 8-byte
 * header {capacity, size, embedded, valid} before values[]. */
static inline uint64_t values_array(struct pha_py *py, uint64_t values)
{
	return values && py->o->dict_values_header ? values + 8 : values;
}

/* strings.c: str contents, sizes, repr quoting into a bounded buffer. */
bool cpy_read_str(struct pha_py *py, uint64_t addr, char *buf, size_t size);
uint64_t cpy_str_size(struct pha_py *py, uint64_t a);
bool cpy_str_codepoints(struct pha_py *py, uint64_t addr, uint32_t *cp, size_t max,
			size_t *n_ret, int64_t *len_ret);
void cpy_put(char *buf, size_t size, size_t *pos, const char *s, size_t n);
void cpy_put_quoted(char *buf, size_t size, size_t *pos, const uint32_t *cp, size_t n,
		    bool bytes);

/* frames.c: frame and generator sizes, finding and naming frames, line
 * numbers, locals. */
uint64_t cpy_code_of_gen(struct pha_py *py, uint64_t g);
uint64_t cpy_frame_slots(struct pha_py *py, uint64_t code);
uint64_t cpy_legacy_frame_nslots(struct pha_py *py, uint64_t code);
uint64_t cpy_legacy_frame_extras(struct pha_py *py, uint64_t code);
uint64_t cpy_first_frame(struct pha_py *py, uint64_t ts);
bool cpy_frame_zeroed(struct pha_py *py, uint64_t f);
bool cpy_frame_visible(struct pha_py *py, uint64_t f, uint64_t *code_ret, int64_t *lasti_ret);
void cpy_frame_names(struct pha_py *py, uint64_t code, char *func, size_t fsize, char *file,
		     size_t fisize);
int cpy_code_line(struct pha_py *py, uint64_t code, int64_t lasti);
int cpy_frame_line_v1(struct pha_py *py, uint64_t f, uint64_t code);
int64_t cpy_iframe_top(struct pha_py *py, uint64_t f);
/* Called for each local of a frame: its name, its value (a cell's
 * content) and the cell, 0 when the variable is not a cell. */
typedef void local_fn(void *arg, const char *name, uint64_t value, uint64_t cell);
void cpy_each_local(struct pha_py *py, uint64_t f, uint64_t code, local_fn *fn, void *arg);

/* referents.c: tp_traverse mirrors that roots and labels reuse. */
void cpy_iframe_refs(struct pha_py *py, uint64_t f, pha_ref_fn *cb, void *arg, unsigned flags);
void cpy_type_refs(struct pha_py *py, uint64_t t, pha_ref_fn *cb, void *arg);

#endif
