/* Layout plugin ABI: what the analyzer needs from a CPython version.
 *
 * A layout knows one family of CPython memory layouts (e.g. 3.11, 3.12).
 * The host finds _PyRuntime and the exact PY_VERSION_HEX, picks the layout
 * whose [min_hex, max_hex] contains it, and calls open() with services to
 * read the dumped process's memory. Before 3.11 the binary has no
 * Py_Version: the host opens the layout of the minor version the file
 * name gives, asks it for sys.hexversion (hexversion() below) and checks
 * that against [min_hex, max_hex] afterwards. Everything the layout returns is
 * addresses, numbers and strings; it never sees the heap model.
 *
 * Adding a CPython version (plugins/README.md has the full checklist):
 *   1. Verify the offsets of the new version against its headers/DWARF (the
 *      project's tests compile an offsetof probe against each interpreter
 *      the test matrix has) and add a `struct pha_py_offsets` table in
 *      plugins/layouts.c, citing the CPython version that changed each
 *      field.
 *   2. If an algorithm changed (dict value order, frame chain, refcount
 *      encoding…), add a feature flag to the table and branch on it in the
 *      plugins/ file of the concept that changed (dicts.c, frames.c, …; the
 *      map is in plugins/README.md) — never on the version number directly.
 *   3. Add a `struct pha_layout` entry with its version range to the
 *      registry in layouts.c, and the interpreter to the e2e matrix.
 *
 * ABI rules for a plugin loaded from a shared object: abi_version must equal
 * PHA_LAYOUT_ABI_VERSION and struct_size must equal sizeof(struct
 * pha_layout) exactly, or the host refuses it with a message naming the
 * mismatch.
 */
#ifndef PHA_LAYOUT_H
#define PHA_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../analyzer/error.h"

/* 2: type_kind appended to struct pha_layout.
 * 3: owned_blocks appended (the memory section); tm_traces, tm_traceback,
 *    tm_filename, alloc_offset (tracemalloc).
 * (struct pha_services gained `window` at its end, NULL from an older
 * host: no new version, a layout checks it before use.) */
#define PHA_LAYOUT_ABI_VERSION 3

/* Services the host gives a layout. */
struct pha_services {
	void *ctx;
	/* Copy len bytes at addr; false on a fault. */
	bool (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	/* Zero-copy view of len bytes at addr inside one segment, or NULL. */
	const void *(*ptr)(void *ctx, uint64_t addr, size_t len);
	/* Runtime address of an ELF symbol in any loaded module, 0 if unknown. */
	uint64_t (*symbol)(void *ctx, const char *name);
	/* Add one line to the report's warnings. */
	void (*warn)(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	/* Debug log for -v. */
	void (*log)(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	/* Appended in round 2 (NULL from an older host): bytes readable from
	 * addr without a gap (0: addr unreadable), and the total readable bytes
	 * of the process. Every size or count read from the dumped memory is
	 * bounded by what that memory can hold: a corrupted word must not make a
	 * walk run for 2^40 steps or a size say 1.5e18 bytes. */
	uint64_t (*extent)(void *ctx, uint64_t addr);
	uint64_t readable_bytes;
	/* Appended in round 4 (NULL from an older host): the bytes of the
	 * readable segment holding addr, [*start_ret, *end_ret) at the
	 * returned pointer, or NULL. A layout may copy reads that fall inside
	 * it directly: the same bytes read gives, without a call per word. */
	const uint8_t *(*window)(void *ctx, uint64_t addr, uint64_t *start_ret, uint64_t *end_ret);
};

/* Generation of a GC-tracked object as found on the GC lists. */
enum {
	PHA_GEN_PERMANENT = 3,	/* gc.freeze()'s permanent generation */
};

/* Flags of pha_ref callbacks (values equal PHA_EDGE_* in analyzer/graph.h). */
enum {
	PHA_REF_TRAVERSED = 1u << 0,	/* tp_traverse visits it */
	PHA_REF_WEAK = 1u << 1,		/* a weak reference (weakref referent) */
};

typedef void pha_ref_fn(void *arg, uint64_t addr, unsigned flags);

struct pha_object_info {
	uint64_t type;		/* address of the type object */
	uint64_t refcnt;	/* reference count (3.14+: the low 32 bits) */
	uint64_t size;		/* shallow size as sys.getsizeof reports it */
	bool immortal;		/* 3.12+ immortal refcount */
	bool conservative;	/* referents are found by scanning memory */
	bool finalizer;		/* its type has tp_finalize or tp_del (__del__) */
	/* The type has a __sizeof__ of its own that the layout does not
	 * reproduce: size is tp_basicsize-based (the host names such types
	 * in one warning). */
	bool size_unmodeled;
};

/* One local variable of a frame (fast locals, cells and free variables;
 * a cell's value is the cell's content). */
struct pha_local_info {
	const char *name;	/* valid during the callback */
	uint64_t value;		/* object address, 0 if unbound */
};

struct pha_frame_info {
	const char *function;	/* co_qualname, valid during the callback */
	const char *filename;
	int line;		/* -1 if unknown */
	size_t nlocals;
	const struct pha_local_info *locals;	/* in co_varnames/localsplusnames order */
};

struct pha_thread_info {
	uint64_t thread_id;	/* pthread_t */
	uint64_t native_id;	/* kernel tid, 0 if unknown */
	uint64_t tstate;	/* address of the PyThreadState */
	size_t nframes;
	const struct pha_frame_info *frames;	/* innermost first */
};

/* What holds a root (DESIGN "Roots"). */
enum pha_root_kind {
	PHA_ROOT_MODULES = 1,	/* interp->modules (sys.modules) */
	PHA_ROOT_SYSDICT,	/* interp->sysdict (sys.__dict__) */
	PHA_ROOT_BUILTINS,	/* interp->builtins */
	PHA_ROOT_INTERNED,	/* the interned-strings dict */
	PHA_ROOT_THREAD,	/* thread state: dict, current exception, context */
	PHA_ROOT_FRAME_LOCAL,	/* a frame's local variable (cells included) */
	PHA_ROOT_FRAME,		/* a frame's code, function, globals, builtins, locals dict, stack */
	PHA_ROOT_STATIC_TYPE,	/* a static (non-heap) type object */
	/* Found by the analyzer, not a layout: a word of a mapped ELF image's
	 * writable data (.data/.bss of the interpreter, libpython, extension
	 * modules) holding the object's address (analyzer/source.c). */
	PHA_ROOT_C_GLOBAL,
};

struct pha_root {
	uint64_t addr;
	enum pha_root_kind kind;
	/* People's name for the reference, valid during the callback:
	 * "sys.modules", "<local 'batch' in handle() at worker.py:88>",
	 * "<thread 0x7f.. dict>", "<globals of handle()>", "<class int>". */
	const char *label;
	uint64_t thread_id;	/* PHA_ROOT_THREAD/FRAME*: the thread; else 0 */
};

/* What the instances of a type are (type_kind below). */
enum pha_type_kind {
	PHA_TYPE_KIND_OTHER = 0,
	PHA_TYPE_KIND_TYPE,	/* type objects: the type is `type` or a metaclass */
	PHA_TYPE_KIND_MODULE,	/* module objects: types.ModuleType or a subclass */
};

/* tracemalloc's state (tm_traces below). */
struct pha_tm_state {
	bool found;		/* the state was located (else `unavailable` says why) */
	bool tracing;		/* tracemalloc was tracing at the dump moment */
	bool traces_read;	/* every trace was given to the callback */
	uint32_t max_frames;	/* the traceback limit (tracemalloc.start(N)) */
	uint64_t traced_bytes, peak_bytes;	/* tracemalloc.get_traced_memory() */
	const char *unavailable;	/* static text: why the traces cannot be read */
};

/* One trace: a memory block tracemalloc follows. traceback is an opaque
 * id (equal tracebacks have equal ids: tracemalloc interns them). */
struct pha_tm_trace {
	uint32_t domain;	/* 0: Python's allocators; others: PyTraceMalloc_Track */
	uint64_t ptr, size, traceback;
};

/* One frame of a traceback; filename is an opaque id for tm_filename. */
struct pha_tm_frame {
	uint64_t filename;
	uint32_t line;
};

struct pha_py;	/* a layout's state for one interpreter runtime */

struct pha_layout {
	uint32_t abi_version;
	uint32_t struct_size;
	const char *name;		/* e.g. "cpython-3.12" */
	uint32_t min_hex, max_hex;	/* PY_VERSION_HEX range, inclusive */
	const char *description;

	/* Validate the runtime at `runtime` (interpreter <-> thread-state back
	 * pointers, modules/sysdict are dicts) and prepare. */
	struct pha_error *(*open)(const struct pha_layout *layout, const struct pha_services *svc,
				  uint64_t runtime, uint32_t hexversion, struct pha_py **py_ret);
	void (*close)(struct pha_py *py);

	/* Every object on the GC lists of every interpreter, with its
	 * generation (0..2 or PHA_GEN_PERMANENT). */
	struct pha_error *(*enumerate_gc)(struct pha_py *py,
					  void (*cb)(void *arg, uint64_t addr, unsigned gen),
					  void *arg);
	/* Objects the interpreter holds directly: modules, sysdict, builtins,
	 * frame locals/code/function/globals of every thread, thread-state
	 * objects. Used to discover objects that no GC object references. */
	struct pha_error *(*roots)(struct pha_py *py, pha_ref_fn *cb, void *arg);

	/* Header, type and size of the object at addr. An error (fault, or
	 * not plausibly an object) means the address is not used. */
	struct pha_error *(*object_info)(struct pha_py *py, uint64_t addr,
					 struct pha_object_info *info_ret);
	/* References held by the object, in a deterministic order. */
	struct pha_error *(*for_each_ref)(struct pha_py *py, uint64_t addr,
					  const struct pha_object_info *info,
					  pha_ref_fn *cb, void *arg);
	/* The report name of a type: the text between the quotes of
	 * repr(type). The string lives as long as py. */
	const char *(*type_name)(struct pha_py *py, uint64_t type);

	/* Thread stacks of every interpreter. */
	struct pha_error *(*threads)(struct pha_py *py,
				     void (*cb)(void *arg, const struct pha_thread_info *t),
				     void *arg);

	/* Optional (NULL: not provided). The exact PY_VERSION_HEX as the heap
	 * says it (sys.hexversion), 0 if it cannot be read. The host uses it
	 * before 3.11, where the binary has no Py_Version: it opens the layout
	 * of the minor version the file name gives, then asks. */
	uint32_t (*hexversion)(struct pha_py *py);

	/* --- why-is-it-alive (report/2) --- */

	/* Optional. Every root the interpreter holds, with what it is
	 * (see struct pha_root). Supersedes roots() for the dominator tree. */
	struct pha_error *(*labelled_roots)(struct pha_py *py,
					    void (*cb)(void *arg, const struct pha_root *root),
					    void *arg);
	/* Optional. How people read the reference from src to dst, written to
	 * buf: ".attr", "['key']", "[3]", "<cell>", "<closure>", "<class dict>",
	 * "<mro>", "<bases>", "<key>", "<set item>", "<type>", "<func globals>",
	 * "<code>", "<default>"... False if src does not refer to dst.
	 * Called only for the few edges shown in paths. With redact, dict keys
	 * that are strings are not shown ("[<str>]"). */
	bool (*edge_label)(struct pha_py *py, uint64_t src, uint64_t dst, bool redact,
			   char *buf, size_t size);
	/* Optional. A short, safe preview of an object's value, written to buf:
	 * numbers, the first 80 characters of str (escaped) and bytes, lengths
	 * of containers ("len=3"); empty when there is nothing to say. With
	 * redact, str/bytes contents are left out. */
	bool (*preview)(struct pha_py *py, uint64_t addr, bool redact, char *buf, size_t size);

	/* --- waste (report/2) --- */

	/* Optional. Where the raw content of a str or bytes object lives:
	 * its address, its length in bytes, and its unit (1, 2 or 4: the
	 * character width of a str; 0: bytes). False for other objects or
	 * when the object cannot be read. */
	bool (*value_bytes)(struct pha_py *py, uint64_t addr, uint64_t *data_ret,
			    uint64_t *len_ret, unsigned *unit_ret);
	/* Optional. Items used and slots allocated of a list (ob_size,
	 * allocated), dict (ma_used, usable entries of its keys) or
	 * set/frozenset (used, mask + 1). False for other objects. */
	bool (*container_len)(struct pha_py *py, uint64_t addr, uint64_t *used_ret,
			      uint64_t *capacity_ret);

	/* --- cycles (report/2) --- */

	/* Optional (NULL: the host goes by the names "type" and "module").
	 * What the instances of the type at `type` are: enum pha_type_kind
	 * (a metaclass gives TYPE, a subclass of types.ModuleType MODULE).
	 * Called once per type. */
	unsigned (*type_kind)(struct pha_py *py, uint64_t type);

	/* --- memory (report/3) --- */

	/* Optional. The allocations the object occupies and owns, each as the
	 * address the allocator returned: first the object's own block (the
	 * object minus its GC and managed pre-headers; none for an object
	 * that is not allocated on its own, such as a static type), then each
	 * buffer allocated apart from it: a list's item array, a dict's keys
	 * (unless shared with the class) and values, a set's table, a
	 * bytearray's buffer, a deque's blocks, a heap type's cached keys, an
	 * instance's pre-header values; PHA_BLOCK_NATIVE for an extension's
	 * buffers (numpy's data and shape). Bounded like every walk. */
	void (*owned_blocks)(struct pha_py *py, uint64_t addr,
			     void (*cb)(void *arg, uint64_t ptr, unsigned kind), void *arg);

	/* --- allocations: tracemalloc (report/2, added later) --- */

	/* Optional. tracemalloc's state in *st and, when it was tracing and
	 * its tables can be read, every trace (any order). An error only for
	 * OOM; what cannot be read is said in st. */
	struct pha_error *(*tm_traces)(struct pha_py *py, struct pha_tm_state *st,
				       void (*cb)(void *arg, const struct pha_tm_trace *t),
				       void *arg);
	/* Optional (with tm_traces). The frames of a traceback id, most recent
	 * first, at most max: how many were written (0: unreadable). */
	size_t (*tm_traceback)(struct pha_py *py, uint64_t tb, struct pha_tm_frame *frames,
			       size_t max);
	/* Optional (with tm_traces). The file name a frame's filename id
	 * names (UTF-8, truncated to size - 1 bytes). */
	bool (*tm_filename)(struct pha_py *py, uint64_t filename, char *buf, size_t size);
	/* Optional. How far before an instance of `type` its memory block
	 * starts (GC header, managed dict/weakref pre-header): object address
	 * minus this is the key of its trace (_PyTraceMalloc_GetObjectTraceback). */
	uint64_t (*alloc_offset)(struct pha_py *py, uint64_t type);
};

/* Kinds of owned_blocks. */
enum {
	PHA_BLOCK_OBJECT = 0,	/* the object itself */
	PHA_BLOCK_BUFFER = 1,	/* a buffer of the interpreter's own types */
	PHA_BLOCK_NATIVE = 2,	/* a buffer of an extension type (numpy data) */
	/* Flag: sys.getsizeof of the object already counts the buffer (numpy
	 * counts an owning array's data), so retained sizes include it. */
	PHA_BLOCK_IN_SIZEOF = 0x100,
};

/* The compiled-in layouts, NULL-terminated. */
extern const struct pha_layout *const pha_builtin_layouts[];

#endif
