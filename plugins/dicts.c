/* Dicts in all their forms: what dict_traverse visits, key lookup by
 * str, dict.__sizeof__, and the managed instance dicts of 3.11+.
 *
 * What it knows: PyDictObject {ma_used +16, ma_keys +32, ma_values +40};
 * the keys object (dk_refcnt first; a dict counts its keys in __sizeof__
 * only while it is their only owner); split tables (values apart from
 * keys shared with the type's ht_cached_keys).
 *
 * Versions:
 *   3.8 - 3.10  keys header {dk_refcnt, dk_size, dk_lookup, dk_usable,
 *               dk_nentries} (40 bytes), indices of 1/2/4/8 bytes by
 *               dk_size, 24-byte {hash, key, value} entries; dict_traverse
 *               visits keys only under the general lookdict (flag
 *               dict_keys_v1, the *_v1 functions below).
 *   3.11        keys header {dk_refcnt, dk_log2_size, dk_log2_index_bytes,
 *               dk_kind, dk_version, dk_usable, dk_nentries} (32 bytes);
 *               all-str tables (DICT_KEYS_UNICODE/SPLIT) have 16-byte
 *               {key, value} entries; instance attributes of classes live
 *               in a managed pre-header (values at obj-32, dict at obj-24).
 *   3.12        the managed word at obj-24 holds the dict or the values
 *               pointer minus one (flag managed_dict_tagged); a managed
 *               weakref list at obj-32.
 *   3.13        PyDictValues has an 8-byte header {capacity, size,
 *               embedded, valid} (flag dict_values_header); the values are
 *               inline at obj + tp_basicsize (TPF_INLINE_VALUES) and obj-24
 *               is a plain dict pointer (flag managed_dict_plain).
 *   3.13.3      gh-130327: a materialised dict visits the embedded values
 *               (dict_visits_embedded_hex).
 */
#include "cpython_int.h"

#include <string.h>

/* A keys object whose header claims more bytes than the memory after it
 * holds is corrupted: a dk_size or dk_nentries near 2^40 made every loop
 * over its entries (traverse, labels, lookups, a type's cached keys) run
 * for hours. Its real size bounds every walk of it. */
static bool keys_fit(struct pha_py *py, const struct dkeys *k, uint64_t size)
{
	if (in_window(py, k->addr, size))	/* inside a segment read before */
		return true;
	uint64_t have = mem_extent(py, k->addr);
	if (size <= have)
		return true;
	py->svc.warn(py->svc.ctx, "dict keys at 0x%llx claim %llu bytes (%lld entries) but only "
				  "%llu bytes are readable there (corrupted keys object): the "
				  "dict's contents are skipped",
		     (unsigned long long)k->addr, (unsigned long long)size,
		     (long long)k->nentries, (unsigned long long)have);
	return false;
}

/* ---- 3.11+ keys layout ---- */

/* A keys object read before and found whole: the same answer (the core
 * does not change), without the checks again. A corrupted one is read
 * again each time, so that each reader warns as before. */
static bool keys_recent(struct pha_py *py, uint64_t keys, struct dkeys *k)
{
	const struct dkeys *c = &py->keys_recent[(keys >> 4) & 15];
	if (!keys || c->addr != keys)
		return false;
	*k = *c;
	return true;
}

static bool keys_remember(struct pha_py *py, const struct dkeys *k)
{
	py->keys_recent[(k->addr >> 4) & 15] = *k;
	return true;
}

bool cpy_read_keys(struct pha_py *py, uint64_t keys, struct dkeys *k)
{
	uint8_t hdr[32];
	if (keys_recent(py, keys, k))
		return true;
	if (!keys || !rd(py, keys, hdr, sizeof(hdr)))
		return false;
	k->addr = keys;
	memcpy(&k->refcnt, hdr, 8);
	k->log2_size = hdr[8];
	k->log2_index_bytes = hdr[9];
	k->kind = hdr[10];
	memcpy(&k->usable, hdr + 16, 8);
	memcpy(&k->nentries, hdr + 24, 8);
	if (k->log2_size > 40 || k->log2_index_bytes > 43 || k->kind > 2 || k->nentries < 0 ||
	    (uint64_t)k->nentries > (1ULL << k->log2_size))
		return false;
	/* Indices are 1 - 8 bytes each. */
	if (k->log2_index_bytes < k->log2_size || k->log2_index_bytes > k->log2_size + 3)
		return false;
	k->entries = keys + 32 + (1ULL << k->log2_index_bytes);
	return keys_fit(py, k, cpy_keys_size(k)) && keys_remember(py, k);
}

uint64_t cpy_keys_size(const struct dkeys *k)
{
	uint64_t n = 1ULL << k->log2_size;
	return 32 + (1ULL << k->log2_index_bytes) +
	       ((2 * n) / 3) * (k->kind == DICT_KEYS_GENERAL ? 24 : 16);
}

/* ---- 3.8 - 3.10 keys layout ----
 * PyDictKeysObject{dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries}
 * (40 bytes), then dk_size indices of 1/2/4/8 bytes by dk_size, then
 * 24-byte {hash, key, value} entries. A split table keeps its values in
 * ma_values[i]. */

bool cpy_read_keys_v1(struct pha_py *py, uint64_t keys, struct dkeys *k)
{
	int64_t hdr[5];
	if (keys_recent(py, keys, k))
		return true;
	if (!keys || !rd(py, keys, hdr, sizeof(hdr)))
		return false;
	int64_t n = hdr[1];
	if (n < 1 || n > (1LL << 40) || (n & (n - 1)) || hdr[4] < 0 || hdr[4] > n)
		return false;
	unsigned w = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffffLL ? 4 : 8;
	k->addr = keys;
	k->refcnt = hdr[0];
	k->usable = hdr[3];
	k->nentries = hdr[4];
	k->kind = DICT_KEYS_GENERAL;
	k->log2_size = (uint8_t)__builtin_ctzll((uint64_t)n);
	k->log2_index_bytes = (uint8_t)__builtin_ctzll((uint64_t)n * w);
	k->entries = keys + 40 + (uint64_t)n * w;
	return keys_fit(py, k, cpy_keys_size_v1(k)) && keys_remember(py, k);
}

/* _PyDict_KeysSize: header, indices, USABLE_FRACTION(n) entries. */
uint64_t cpy_keys_size_v1(const struct dkeys *k)
{
	uint64_t n = 1ULL << k->log2_size;
	return 40 + (1ULL << k->log2_index_bytes) + ((2 * n) / 3) * 24;
}

/* An exact str (not a subclass): what keeps a 3.8 - 3.10 dict off lookdict. */
static bool is_exact_str(struct pha_py *py, uint64_t o)
{
	uint64_t t = u64_or0(py, o + 8);
	if (py->str_type)
		return t == py->str_type;
	struct tinfo *ti = cpy_type_of(py, t);
	return ti && ti->kind == K_STR && !(ti->flags & TPF_HEAPTYPE);
}

/* dict_traverse of 3.8 - 3.10: values (ma_values[i] for a split table);
 * keys only when dk_lookup is the general lookdict, which a table uses
 * once it holds a key that is not an exact str. lookdict is a static
 * function (no symbol in a stripped binary), so the key's own type
 * decides: exact str keys are never GC objects, so whether they count as
 * visited does not change the collector's arithmetic. */
static void dict_refs_v1(struct pha_py *py, uint64_t d, pha_ref_fn *cb, void *arg)
{
	struct dkeys k;
	uint64_t values = u64_or0(py, d + 40);
	if (!cpy_read_keys_v1(py, u64_or0(py, d + 32), &k))
		return;
	uint64_t n = (uint64_t)k.nentries;
	if (values) {
		ref_array(py, cb, arg, values, n, PHA_REF_TRAVERSED);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e[3];
		if (!rd(py, k.entries + 24 * i, e, sizeof(e)))
			return;
		if (e[2]) {
			ref(cb, arg, e[2], PHA_REF_TRAVERSED);
			ref(cb, arg, e[1], is_exact_str(py, e[1]) ? 0 : PHA_REF_TRAVERSED);
		}
	}
}

static uint64_t dict_get_str_v1(struct pha_py *py, uint64_t d, const char *key)
{
	struct dkeys k;
	uint64_t values = u64_or0(py, d + 40);
	if (!cpy_read_keys_v1(py, u64_or0(py, d + 32), &k))
		return 0;
	char buf[256];
	for (int64_t i = 0; i < k.nentries; i++) {
		uint64_t e = k.entries + 24 * (uint64_t)i;
		uint64_t kaddr = u64_or0(py, e + 8);
		if (!kaddr || !cpy_read_str(py, kaddr, buf, sizeof(buf)) || strcmp(buf, key) != 0)
			continue;
		if (values)
			return u64_or0(py, values + 8 * (uint64_t)i);
		return u64_or0(py, e + 16);
	}
	return 0;
}

/* dict.__sizeof__ of 3.8 - 3.10: a split table adds USABLE_FRACTION(n)
 * value slots; keys count when the dict owns them (dk_refcnt == 1). */
static uint64_t dict_size_v1(struct pha_py *py, uint64_t d, uint64_t basicsize)
{
	struct dkeys k;
	uint64_t res = basicsize;
	if (!cpy_read_keys_v1(py, u64_or0(py, d + 32), &k))
		return res;
	if (u64_or0(py, d + 40))
		res += 8 * (((2ULL << k.log2_size)) / 3);
	if (k.refcnt == 1)
		res += cpy_keys_size_v1(&k);
	return res;
}

/* ---- dict_traverse, lookup, __sizeof__ (either keys layout) ---- */

/* What dict_traverse visits, plus (flags 0) the keys it skips. */
void cpy_dict_refs(struct pha_py *py, uint64_t d, pha_ref_fn *cb, void *arg)
{
	if (py->o->dict_keys_v1) {
		dict_refs_v1(py, d, cb, arg);
		return;
	}
	struct dkeys k;
	uint64_t values = u64_or0(py, d + 40);
	/* 3.13.0-3.13.2: values embedded in their object are visited by the
	 * object, not by the dict (3.13.3+: by the dict, which the object
	 * visits). */
	if (values && py->o->dict_values_header && !py->dict_visits_embedded &&
	    u8_or0(py, values + 2))
		return;
	values = values_array(py, values);
	if (!cpy_read_keys(py, u64_or0(py, d + 32), &k))
		return;
	uint64_t n = (uint64_t)k.nentries;
	if (k.kind == DICT_KEYS_GENERAL) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t e[3];
			if (!rd(py, k.entries + 24 * i, e, sizeof(e)))
				return;
			if (e[2]) {
				ref(cb, arg, e[2], PHA_REF_TRAVERSED);
				ref(cb, arg, e[1], PHA_REF_TRAVERSED);
			}
		}
		return;
	}
	if (values) {
		/* Split table: values live apart from the shared keys; the keys
		 * (attribute names) belong to the type's cached keys. */
		ref_array(py, cb, arg, values, n, PHA_REF_TRAVERSED);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e[2];
		if (!rd(py, k.entries + 16 * i, e, sizeof(e)))
			return;
		if (e[1]) {
			ref(cb, arg, e[1], PHA_REF_TRAVERSED);
			ref(cb, arg, e[0], 0);
		}
	}
}

/* Look a str key up in a dict by value; returns the value or 0. */
uint64_t cpy_dict_get_str(struct pha_py *py, uint64_t d, const char *key)
{
	if (py->o->dict_keys_v1)
		return dict_get_str_v1(py, d, key);
	struct dkeys k;
	uint64_t values = values_array(py, u64_or0(py, d + 40));
	if (!cpy_read_keys(py, u64_or0(py, d + 32), &k))
		return 0;
	size_t esize = k.kind == DICT_KEYS_GENERAL ? 24 : 16;
	size_t koff = k.kind == DICT_KEYS_GENERAL ? 8 : 0;
	char buf[256];
	for (int64_t i = 0; i < k.nentries; i++) {
		uint64_t kaddr = u64_or0(py, k.entries + esize * (uint64_t)i + koff);
		if (!kaddr || !cpy_read_str(py, kaddr, buf, sizeof(buf)) || strcmp(buf, key) != 0)
			continue;
		if (values)
			return u64_or0(py, values + 8 * (uint64_t)i);
		return u64_or0(py, k.entries + esize * (uint64_t)i + koff + 8);
	}
	return 0;
}

uint64_t cpy_dict_size(struct pha_py *py, uint64_t d, uint64_t basicsize)
{
	if (py->o->dict_keys_v1)
		return dict_size_v1(py, d, basicsize);
	struct dkeys k;
	uint64_t res = basicsize;
	if (!cpy_read_keys(py, u64_or0(py, d + 32), &k))
		return res;
	if (u64_or0(py, d + 40))
		res += 8 * (uint64_t)(k.nentries + k.usable);
	if (k.refcnt == 1)
		res += cpy_keys_size(&k);
	return res;
}

/* ---- managed instance dicts (3.11+) ---- */

/* What subtype_traverse visits of a managed dict (TPF_MANAGED_DICT): the
 * inline or pre-header values, the dict, the managed weakref list. */
void cpy_managed_dict_refs(struct pha_py *py, uint64_t a, const struct tinfo *ti,
			   pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	uint64_t values = 0, dict = 0;
	if (o->managed_dict_plain) {
		/* 3.13+ PyObject_VisitManagedDict: while the inline values at
		 * obj + tp_basicsize are valid it visits their `capacity` slots
		 * and not the dict (a materialised dict then shares them);
		 * otherwise the dict pointer at obj-24. */
		ref_at(py, cb, arg, a - 32, PHA_REF_WEAK);	/* managed weakref list */
		dict = u64_or0(py, a - 24);
		if ((ti->flags & TPF_INLINE_VALUES) && !(dict && py->dict_visits_embedded)) {
			uint8_t vh[4];
			uint64_t v = a + ti->basicsize;
			if (rd(py, v, vh, sizeof(vh)) && vh[3]) {
				ref_array(py, cb, arg, v + 8, vh[0], PHA_REF_TRAVERSED);
				ref(cb, arg, dict, 0);
				return;
			}
		}
		ref(cb, arg, dict, PHA_REF_TRAVERSED);
		return;
	}
	if (o->managed_dict_tagged) {
		/* 3.12: one word holding either the dict or the values pointer
		 * minus one (so bit 0 is set; _PyDictOrValues_GetValues adds 1). */
		uint64_t w = u64_or0(py, a - 24);
		if (w & 1)
			values = w + 1;
		else
			dict = w;
		ref_at(py, cb, arg, a - 32, PHA_REF_WEAK);	/* managed weakref list */
	} else {
		/* 3.11: values at obj-32 (NULL once a dict exists), dict at obj-24. */
		values = u64_or0(py, a - 32);
		dict = u64_or0(py, a - 24);
	}
	if (values) {
		struct dkeys k;
		if (cpy_read_keys(py, ti->cached_keys, &k))
			ref_array(py, cb, arg, values, (uint64_t)k.nentries, PHA_REF_TRAVERSED);
	}
	/* 3.11 subtype_traverse visits both the values and the dict pointer. */
	ref(cb, arg, dict, PHA_REF_TRAVERSED);
}
