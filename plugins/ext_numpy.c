/* numpy: sys.getsizeof of arrays and scalars, as numpy's own __sizeof__
 * methods compute it (the objects.c size rules SZ_NUMPY_*).
 *
 * What it knows (numpy 1.x; checked against Debian bookworm's
 * python3-numpy 1.24 by tests/e2e, real_numpy of run_real.py):
 *   - numpy.ndarray.__sizeof__ (array_sizeof, multiarray/methods.c):
 *     tp_basicsize + 2 * nd * sizeof(npy_intp) (dimensions and strides),
 *     plus the data (elsize * product of dimensions) when the array owns
 *     it (NPY_ARRAY_OWNDATA); views and arrays over foreign buffers count
 *     no data.
 *   - numpy.generic.__sizeof__ (gentype_sizeof, scalartypes.c.src):
 *     tp_basicsize + Py_SIZE * tp_itemsize + the itemsize of the scalar's
 *     dtype (fixed per scalar type; the length for bytes_, the dtype's
 *     elsize for void). str_ finds str.__sizeof__ first in its MRO.
 *   - PyArrayObject_fields (ndarraytypes.h, the same in 1.x and 2.x):
 *     data 16, nd 24 (int), dimensions 32, strides 40, base 48, descr 56,
 *     flags 64 (int).
 *   - PyArray_Descr of numpy 1.x: elsize is an int at 32, and the struct
 *     is 96 bytes. numpy 2.x moved elsize to 40 (npy_intp) behind a 64-bit
 *     flags word: a descriptor of another size is not read (the size is
 *     then reported unmodeled, in the warning).
 * The types are found by name (numpy.ndarray, numpy.generic as the owner
 * of the __sizeof__ the MRO finds, static types of the extension module).
 */
#include "cpython_int.h"

#include <string.h>

enum {
	NPA_DATA = 16, NPA_ND = 24, NPA_DIMENSIONS = 32, NPA_DESCR = 56, NPA_FLAGS = 64,
	NPA_OWNDATA = 0x0004,
	NPD_ELSIZE_V1 = 32, NPD_SIZE_V1 = 96,
	NP_MAXDIMS = 64,
	/* PyVoidScalarObject: PyObject_VAR_HEAD, obval, descr. */
	NPV_DESCR = 32,
};

enum size_rule cpy_numpy_rule(const char *owner)
{
	if (!strcmp(owner, "numpy.ndarray"))
		return SZ_NUMPY_ARRAY;
	if (!strcmp(owner, "numpy.generic"))
		return SZ_NUMPY_SCALAR;
	return SZ_UNDECIDED;
}

/* elsize of a dtype object of numpy 1.x; false for another layout. */
static bool descr_elsize(struct pha_py *py, uint64_t descr, uint64_t *elsize_ret)
{
	struct tinfo *dt = descr ? cpy_type_of(py, u64_or0(py, descr + 8)) : NULL;
	if (!dt || dt->basicsize != NPD_SIZE_V1)
		return false;
	int32_t e = i32_or0(py, descr + NPD_ELSIZE_V1);
	if (e < 0)
		return false;
	*elsize_ret = (uint64_t)e;
	return true;
}

static bool array_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size_ret)
{
	int32_t nd = i32_or0(py, a + NPA_ND);
	if (nd < 0 || nd > NP_MAXDIMS)
		return false;
	uint64_t size = ti->basicsize + 16 * (uint64_t)nd;
	if (u32_or0(py, a + NPA_FLAGS) & NPA_OWNDATA) {
		uint64_t n, dims = u64_or0(py, a + NPA_DIMENSIONS);
		if (!descr_elsize(py, u64_or0(py, a + NPA_DESCR), &n))
			return false;
		for (int32_t i = 0; i < nd; i++) {
			int64_t d = i64_or0(py, dims + 8 * (uint64_t)i);
			if (d < 0 || (uint64_t)d > MAX_CONTAINER)
				return false;
			n *= (uint64_t)d;
			if (n > (1ULL << 48))
				return false;
		}
		size += n;
	}
	*size_ret = size;
	return true;
}

/* The itemsize of the scalar types with a fixed dtype (x86-64 Linux C
 * type sizes: long is 8 bytes, long double 16). */
static const struct {
	const char *name;
	uint8_t elsize;
} fixed_scalars[] = {
	{"bool_", 1}, {"int8", 1}, {"uint8", 1}, {"int16", 2}, {"uint16", 2},
	{"int32", 4}, {"uint32", 4}, {"int64", 8}, {"uint64", 8}, {"longlong", 8},
	{"ulonglong", 8}, {"intc", 4}, {"uintc", 4}, {"float16", 2}, {"float32", 4},
	{"float64", 8}, {"float128", 16}, {"longdouble", 16}, {"complex64", 8},
	{"complex128", 16}, {"complex256", 32}, {"clongdouble", 32}, {"datetime64", 8},
	{"timedelta64", 8}, {"object_", 8},
};

static bool scalar_itemsize(struct pha_py *py, uint64_t a, const struct tinfo *ti,
			    uint64_t *itemsize_ret)
{
	int depth = 0;
	for (uint64_t t = ti->addr; t && depth++ < 16; t = u64_or0(py, t + TP_BASE)) {
		const char *name = pha_cpython_type_name(py, t);
		if (strncmp(name, "numpy.", 6) != 0)
			continue;
		name += 6;
		if (!strcmp(name, "bytes_")) {
			int64_t len = i64_or0(py, a + 16);
			if (len < 0 || (uint64_t)len > MAX_CONTAINER)
				return false;
			*itemsize_ret = (uint64_t)len;
			return true;
		}
		if (!strcmp(name, "void"))
			return descr_elsize(py, u64_or0(py, a + NPV_DESCR), itemsize_ret);
		for (size_t i = 0; i < sizeof(fixed_scalars) / sizeof(fixed_scalars[0]); i++) {
			if (!strcmp(name, fixed_scalars[i].name)) {
				*itemsize_ret = fixed_scalars[i].elsize;
				return true;
			}
		}
	}
	return false;
}

static bool scalar_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size_ret)
{
	uint64_t itemsize, var = 0;
	if (!scalar_itemsize(py, a, ti, &itemsize))
		return false;
	if (ti->itemsize) {
		int64_t n = i64_or0(py, a + 16);
		if (n < 0 || (uint64_t)n > MAX_CONTAINER)
			return false;
		var = (uint64_t)n * ti->itemsize;
	}
	*size_ret = itemsize + ti->basicsize + var;
	return true;
}

bool cpy_numpy_size(struct pha_py *py, uint64_t a, const struct tinfo *ti, uint64_t *size_ret)
{
	if (ti->size_rule == SZ_NUMPY_ARRAY)
		return array_size(py, a, ti, size_ret);
	if (ti->size_rule == SZ_NUMPY_SCALAR)
		return scalar_size(py, a, ti, size_ret);
	return false;
}

/* The buffers an array allocated apart from its object: the data when it
 * owns it (NPY_ARRAY_OWNDATA), and the dimensions-and-strides array
 * (npy_alloc_cache_dim, one block for both); array_sizeof counts both. */
void cpy_numpy_blocks(struct pha_py *py, uint64_t a, void (*cb)(void *arg, uint64_t ptr, unsigned kind),
		      void *arg)
{
	uint64_t data = u64_or0(py, a + NPA_DATA), dims = u64_or0(py, a + NPA_DIMENSIONS);
	if (data && (u32_or0(py, a + NPA_FLAGS) & NPA_OWNDATA))
		cb(arg, data, PHA_BLOCK_NATIVE | PHA_BLOCK_IN_SIZEOF);
	if (dims)
		cb(arg, dims, PHA_BLOCK_NATIVE | PHA_BLOCK_IN_SIZEOF);
}
