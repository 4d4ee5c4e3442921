/* What an object occupies and owns in the allocators (the layout hook
 * owned_blocks, for the memory section): its own block, then the buffers
 * allocated apart from it.
 *
 * What it knows (the object implementations of 3.8 - 3.15, the same offsets in every GIL
 * build):
 *   - the object's block starts before the object by the PyGC_Head (16,
 *     GC types) and, 3.11+, the managed dict/weakref pre-header (16);
 *   - list: ob_item +24 (PyMem_Malloc'd, allocated +32);
 *   - dict: ma_keys +32 unless the table is split (ma_values +40 set: the
 *     keys are the class's ht_cached_keys), ma_values when split; 3.13+
 *     values embedded in the object (PyDictValues.embedded, byte +2 of its
 *     header) are not a block of their own;
 *   - instances with a managed dict: 3.11 values at obj-32, 3.12 obj-24
 *     tagged (values | 1); 3.13+ inline values are part of the object;
 *   - 3.11/3.12 values arrays (split dicts, managed dicts) start after
 *     their insertion-order prefix, whose size is the byte before them
 *     (free_values frees values - prefix); 3.13+ put the order after the
 *     values and <= 3.10 has none: the pointer is the block;
 *   - set: table +40 unless it is the smalltable (+64);
 *   - bytearray: ob_bytes +32 (3.15: a bytes object, an object of its own);
 *   - deque: blocks of 64 items linked by rightlink (+520) from leftblock;
 *   - heap types: ht_cached_keys;
 *   - numpy.ndarray: plugins/ext_numpy.c.
 */
#include "cpython_int.h"

typedef void block_fn(void *arg, uint64_t ptr, unsigned kind);

/* The block of a values array (see above). */
static uint64_t values_block(struct pha_py *py, uint64_t values)
{
	if (!values || py->o->dict_keys_v1 || py->o->dict_values_header)
		return values;
	return values - u8_or0(py, values - 1);
}

static void block(block_fn *cb, void *arg, uint64_t ptr, unsigned kind)
{
	if (ptr)
		cb(arg, ptr, kind);
}

static void dict_blocks(struct pha_py *py, uint64_t d, block_fn *cb, void *arg)
{
	uint64_t values = u64_or0(py, d + 40);
	if (!values) {
		block(cb, arg, u64_or0(py, d + 32), PHA_BLOCK_BUFFER);
		return;
	}
	/* 3.13+: values embedded in their object belong to that object. */
	if (py->o->dict_values_header && u8_or0(py, values + 2))
		return;
	block(cb, arg, values_block(py, values), PHA_BLOCK_BUFFER);
}

/* 3.11/3.12 pre-header values of an instance whose dict was never made. */
static void managed_values(struct pha_py *py, uint64_t a, const struct tinfo *ti,
			   block_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	if (!(ti->flags & TPF_MANAGED_DICT) || o->managed_dict_plain)
		return;
	if (o->managed_dict_tagged) {
		uint64_t w = u64_or0(py, a - 24);
		if (w & 1)
			block(cb, arg, values_block(py, w & ~1ULL), PHA_BLOCK_BUFFER);
		return;
	}
	if (!u64_or0(py, a - 24))
		block(cb, arg, values_block(py, u64_or0(py, a - 32)), PHA_BLOCK_BUFFER);
}

static void deque_blocks(struct pha_py *py, uint64_t a, block_fn *cb, void *arg)
{
	uint64_t b = u64_or0(py, a + py->o->deque_leftblock);
	/* A deque of n items spans at most n / 64 + 2 blocks. */
	uint64_t max = (uint64_t)i64_or0(py, a + 16);
	max = max > MAX_CONTAINER ? 0 : max / 64 + 2;
	struct cycle_check c = {0};
	for (uint64_t i = 0; b && i < max && !cycle_step(&c, b); i++) {
		cb(arg, b, PHA_BLOCK_BUFFER);
		b = u64_or0(py, b + 520);
	}
}

void pha_cpython_owned_blocks(struct pha_py *py, uint64_t a, block_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	struct tinfo *ti = cpy_type_of(py, u64_or0(py, a + 8));
	if (!ti)
		return;
	struct tinfo *self = ti->kind == K_TYPE ? cpy_type_of(py, a) : NULL;
	if (!self || (self->flags & TPF_HEAPTYPE)) {
		uint64_t pre = 0;
		if (ti->flags & TPF_HAVE_GC)
			pre += 16;
		uint64_t managed = TPF_MANAGED_DICT | (o->managed_weakref ? TPF_MANAGED_WEAKREF : 0);
		if (ti->flags & managed)
			pre += 16;
		cb(arg, a - pre, PHA_BLOCK_OBJECT);
		managed_values(py, a, ti, cb, arg);
	}
	switch (ti->kind) {
	case K_LIST:
		block(cb, arg, u64_or0(py, a + 24), PHA_BLOCK_BUFFER);
		break;
	case K_DICT:
	case K_DEFAULTDICT:
	case K_ODICT:
		dict_blocks(py, a, cb, arg);
		break;
	case K_SET: {
		uint64_t table = u64_or0(py, a + 40);
		if (table != a + 64)
			block(cb, arg, table, PHA_BLOCK_BUFFER);
		break;
	}
	case K_BYTEARRAY:
		if (!o->bytearray_bytes_object)
			block(cb, arg, u64_or0(py, a + 32), PHA_BLOCK_BUFFER);
		break;
	case K_DEQUE:
		deque_blocks(py, a, cb, arg);
		break;
	case K_TYPE:
		if (self && (self->flags & TPF_HEAPTYPE))
			block(cb, arg, self->cached_keys, PHA_BLOCK_BUFFER);
		break;
	default:
		break;
	}
	if (ti->size_rule == SZ_NUMPY_ARRAY)
		cpy_numpy_blocks(py, a, cb, arg);
}
