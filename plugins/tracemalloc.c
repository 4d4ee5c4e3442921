/* tracemalloc: whether it was tracing, and its traces (memory block ->
 * size + traceback; traceback -> frames of (filename, line)), read as
 * tracemalloc.take_snapshot() would have read them.
 *
 * Where the state lives:
 *   3.8 - 3.11  file statics of Modules/_tracemalloc.c (tracemalloc_traces,
 *               _domains, _traced_memory, _peak_traced_memory): local
 *               symbols, only in .symtab or DWARF. _Py_tracemalloc_config
 *               (tracing, max_nframe) is exported; in a stripped binary the
 *               statics are found by a validated scan (scan_statics).
 *   3.12+       _PyRuntime.tracemalloc (struct _tracemalloc_runtime_state).
 *               Its offset moved within 3.13 (10080 in 3.13.0 - 3.13.5,
 *               10104 in 3.13.18): the table's value is where the search
 *               starts, and a place is taken only when the data agrees
 *               (see locate_runtime).
 * Tables:
 *   3.8         old _Py_hashtable_t: {num_buckets, entries, buckets,
 *               key_size, data_size, ...}; an entry is {next, key_hash}
 *               followed by the key and the data inline. The traces' key
 *               is the pointer, or the packed {pointer, domain} (12 bytes)
 *               once a second domain was used (use_domain); the data is
 *               trace_t {size, traceback}.
 *   3.9+        _Py_hashtable_t {nentries, nbuckets, buckets, ...}; an entry
 *               is {next, key_hash, key, value}: traces map the pointer to
 *               a trace_t *, domains map a domain to its own traces table.
 * A traceback is {hash, nframe (int in 3.8, uint16 since), total_nframe,
 * frames[]} with packed 12-byte frames {filename, lineno}; the filename is
 * a str object (3.8 - 3.14) or an interned UTF-8 char * (3.15+).
 *
 * Every walk is bounded by the table's own counts, by what the memory can
 * hold and by cycle detection.
 */
#include <stdlib.h>
#include <string.h>

#include "cpython_int.h"

/* _Py_hashtable_t and its entries. */
enum { HT_NENTRIES = 0, HT_NBUCKETS = 8, HT_BUCKETS = 16, HT_ENTRY_KEY = 16, HT_ENTRY_VALUE = 24 };
enum { HT1_NBUCKETS = 0, HT1_ENTRIES = 8, HT1_KEY_SIZE = 24, HT1_DATA_SIZE = 32, HT1_ENTRY = 16 };
/* trace_t, traceback_t, frame_t. */
enum { TRACE_SIZE = 0, TRACE_TB = 8, TB_NFRAME = 8, TB_FRAMES = 12, FRAME_SIZE = 12 };
/* MAX_NFRAME of 3.9+ (uint16_t); 3.8 allows more but tracebacks that deep
 * are not plausible. */
#define TM_MAX_NFRAME 65535
/* How far from the table's offset the 3.12+ state is searched for. */
#define TM_SEARCH 512

struct tm_loc {
	uint64_t config;	/* tracing at config + tm_tracing */
	uint64_t traced, peak;	/* size_t words */
	uint64_t traces, domains;	/* where the table pointers are (0: none) */
};

struct walk {
	struct pha_py *py;
	void (*cb)(void *arg, const struct pha_tm_trace *t);
	void *arg;
	uint64_t budget;	/* traces still allowed (what the memory can hold) */
	uint64_t sum, count;
	bool bad;		/* a table was not plausible or a walk was cut */
};

static void emit(struct walk *w, uint32_t domain, uint64_t ptr, uint64_t size, uint64_t tb)
{
	w->sum += size;
	w->count++;
	if (w->cb)
		w->cb(w->arg, &(struct pha_tm_trace){.domain = domain, .ptr = ptr, .size = size,
						      .traceback = tb});
}

/* The entries of one bucket chain, at most *left of them. */
typedef void entry_fn(struct walk *w, uint64_t entry, uint64_t ctx);

static void walk_chain(struct walk *w, uint64_t e, uint64_t *left, entry_fn *fn, uint64_t ctx)
{
	struct cycle_check cc = {0};
	while (e) {
		if (!*left || !w->budget || cycle_step(&cc, e)) {
			w->bad = true;
			return;
		}
		(*left)--;
		w->budget--;
		fn(w, e, ctx);
		if (!rd64(w->py, e, &e)) {
			w->bad = true;
			return;
		}
	}
}

/* Every entry of the table at t (3.9+ or 3.8 layout). */
static void walk_table(struct walk *w, uint64_t t, entry_fn *fn, uint64_t ctx)
{
	struct pha_py *py = w->py;
	bool v1 = py->o->tm_hashtable_v1;
	uint64_t nbuckets = u64_or0(py, t + (v1 ? HT1_NBUCKETS : HT_NBUCKETS));
	uint64_t left = u64_or0(py, t + (v1 ? HT1_ENTRIES : HT_NENTRIES));
	uint64_t buckets = u64_or0(py, t + HT_BUCKETS);
	if (!buckets || !nbuckets || nbuckets > mem_extent(py, buckets) / 8 ||
	    left > mem_max_objects(py, 32)) {
		w->bad = !!left;
		return;
	}
	const uint64_t *b = buckets & 7 ? NULL : py->svc.ptr(py->svc.ctx, buckets, nbuckets * 8);
	for (uint64_t i = 0; i < nbuckets && !w->bad; i++)
		walk_chain(w, b ? b[i] : u64_or0(py, buckets + 8 * i), &left, fn, ctx);
	if (left)
		w->bad = true;	/* fewer entries than the table counts */
}

/* 3.9+: key = pointer, value = trace_t *. */
static void trace_entry(struct walk *w, uint64_t e, uint64_t domain)
{
	uint64_t ptr = u64_or0(w->py, e + HT_ENTRY_KEY), tr = u64_or0(w->py, e + HT_ENTRY_VALUE);
	uint64_t v[2];
	if (!tr || !rd(w->py, tr, v, sizeof(v))) {
		w->bad = true;
		return;
	}
	emit(w, (uint32_t)domain, ptr, v[TRACE_SIZE / 8], v[TRACE_TB / 8]);
}

/* 3.9+: key = domain, value = that domain's traces table. */
static void domain_entry(struct walk *w, uint64_t e, uint64_t unused)
{
	uint64_t domain = u64_or0(w->py, e + HT_ENTRY_KEY), t = u64_or0(w->py, e + HT_ENTRY_VALUE);
	if (t)
		walk_table(w, t, trace_entry, (uint32_t)domain);
}

/* 3.8: key (pointer, or packed pointer + domain) and trace_t inline. */
static void trace_entry_v1(struct walk *w, uint64_t e, uint64_t key_size)
{
	uint8_t buf[12 + 16];
	if (!rd(w->py, e + HT1_ENTRY, buf, key_size + 16)) {
		w->bad = true;
		return;
	}
	uint64_t ptr, size, tb;
	uint32_t domain = 0;
	memcpy(&ptr, buf, 8);
	if (key_size == 12)
		memcpy(&domain, buf + 8, 4);
	memcpy(&size, buf + key_size + TRACE_SIZE, 8);
	memcpy(&tb, buf + key_size + TRACE_TB, 8);
	emit(w, domain, ptr, size, tb);
}

/* Every trace of every domain; sum and count in w. */
static void walk_traces(struct walk *w, const struct tm_loc *l)
{
	struct pha_py *py = w->py;
	uint64_t traces = l->traces ? u64_or0(py, l->traces) : 0;
	if (!traces) {
		w->bad = true;
		return;
	}
	if (py->o->tm_hashtable_v1) {
		uint64_t ks = u64_or0(py, traces + HT1_KEY_SIZE);
		if ((ks != 8 && ks != 12) || u64_or0(py, traces + HT1_DATA_SIZE) != 16) {
			w->bad = true;
			return;
		}
		walk_table(w, traces, trace_entry_v1, ks);
		return;
	}
	walk_table(w, traces, trace_entry, 0);
	uint64_t domains = l->domains ? u64_or0(py, l->domains) : 0;
	if (domains)
		walk_table(w, domains, domain_entry, 0);
}

/* 3.12+: the config words at base look like tracemalloc's: initialized
 * 0..2, tracing 0..1, 1 <= max_nframe <= 65535. */
static bool config_plausible(struct pha_py *py, uint64_t base)
{
	uint32_t c[3];
	if (!rd(py, base, c, sizeof(c)))
		return false;
	return c[0] <= 2 && c[1] <= 1 && c[2] >= 1 && c[2] <= TM_MAX_NFRAME;
}

static struct tm_loc loc_at(struct pha_py *py, uint64_t base)
{
	const struct pha_py_offsets *o = py->o;
	return (struct tm_loc){.config = base, .traced = base + o->tm_traced,
			       .peak = base + o->tm_peak, .traces = base + o->tm_traces,
			       .domains = base + o->tm_domains};
}

/* A tracing state at base is taken only when the traces add up to its
 * traced_memory, exactly as tracemalloc keeps them. */
static bool tracing_state_at(struct pha_py *py, uint64_t base)
{
	if (!config_plausible(py, base) || u32_or0(py, base + py->o->tm_tracing) != 1)
		return false;
	struct tm_loc l = loc_at(py, base);
	uint64_t traced = u64_or0(py, l.traced);
	if (u64_or0(py, l.peak) < traced || !u64_or0(py, l.traces))
		return false;
	struct walk w = {.py = py, .budget = mem_max_objects(py, 32)};
	walk_traces(&w, &l);
	return !w.bad && w.sum == traced;
}

/* 3.12+: the nearest place within TM_SEARCH bytes of the table's offset
 * where a tracing state adds up; else the table's offset if its config is
 * plausible (a tracing state whose tables were being changed at the dump
 * moment, or tracing off); else the nearest plausible config that says
 * tracing is off. */
static bool locate_runtime(struct pha_py *py, struct tm_loc *l)
{
	uint64_t base = py->runtime + py->o->rt_tracemalloc;
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t d = 0; d <= TM_SEARCH; d += 8) {
			for (int sign = 0; sign < 2; sign++) {
				uint64_t b = sign ? base - d : base + d;
				if ((sign && (!d || d > base)) || !config_plausible(py, b))
					continue;
				bool on = u32_or0(py, b + py->o->tm_tracing) == 1;
				if (pass ? !on : tracing_state_at(py, b)) {
					*l = loc_at(py, b);
					return true;
				}
			}
		}
		if (pass == 0 && config_plausible(py, base)) {
			*l = loc_at(py, base);
			return true;
		}
	}
	return false;
}

static uint64_t sym(struct pha_py *py, const char *name)
{
	return py->svc.symbol ? py->svc.symbol(py->svc.ctx, name) : 0;
}

/* ---- 3.8 - 3.11 stripped: the statics by their shape ----
 *
 * The statics of Modules/_tracemalloc.c sit in the writable data of the
 * binary that exports _Py_tracemalloc_config, within SCAN_SPAN of it
 * (Debian's LTO builds: .data and .bss together are 0.4 - 1.4 MiB; their
 * order there is the linker's, not the source's). A word there is taken as
 * `tracemalloc_traces` when it points at a hashtable built as tracemalloc
 * builds it -- 3.9+: hash _Py_hashtable_hash_ptr, compare
 * _Py_hashtable_compare_direct (both exported), no key destructor; 3.8:
 * 8- or 12-byte keys, 16-byte data -- whose walk is consistent (the count
 * of entries found equals nentries, every bucket chain bounded and
 * acyclic, every trace's traceback readable with 1 - max_nframe frames).
 * `tracemalloc_domains` (3.9+) is a table whose values are destroyed by
 * _Py_hashtable_destroy (exported), each value a traces table. The sum of
 * every trace's size must equal a word of that data, exactly
 * (`tracemalloc_traced_memory`); `tracemalloc_peak_traced_memory` is the
 * word beside it that is not smaller. One combination, or none is taken. */
#define SCAN_SPAN (4u << 20)
#define SCAN_MAX_CAND 8
enum { HT_HASH = 32, HT_COMPARE = 40, HT_KEY_DESTROY = 48, HT_VALUE_DESTROY = 56,
       HT1_HASH = 40 };

struct scan {
	struct pha_py *py;
	uint64_t lo, hi;	/* the words scanned */
	uint64_t hash_ptr, compare_direct, destroy;	/* exported functions */
	uint64_t traces[SCAN_MAX_CAND], domains[SCAN_MAX_CAND];	/* candidate words */
	unsigned ntraces, ndomains;
	uint32_t max_nframe;
};

/* The kind of table at p: 1 a traces table, 2 the domains table, 0 none. */
static int table_kind(const struct scan *sc, uint64_t p)
{
	uint64_t h[8];	/* 3.9+: nentries, nbuckets, buckets, get, hash, compare, destroys */
	if (!p || p & 7 || !rd(sc->py, p, h, sizeof(h)))
		return 0;
	if (sc->py->o->tm_hashtable_v1) {
		/* {num_buckets, entries, buckets, key_size, data_size, hash, ...} */
		bool ok = (h[HT1_KEY_SIZE / 8] == 8 && h[HT1_HASH / 8] == sc->hash_ptr) ||
			  h[HT1_KEY_SIZE / 8] == 12;
		return ok && h[HT1_DATA_SIZE / 8] == 16 && h[HT1_NBUCKETS / 8] ? 1 : 0;
	}
	if (h[HT_COMPARE / 8] != sc->compare_direct || !h[HT_NBUCKETS / 8])
		return 0;
	if (h[HT_HASH / 8] == sc->hash_ptr && !h[HT_KEY_DESTROY / 8])
		return 1;
	return sc->destroy && h[HT_VALUE_DESTROY / 8] == sc->destroy ? 2 : 0;
}

/* Every word of [lo, hi) that points at a traces or domains table. */
static void find_tables(struct scan *sc)
{
	struct pha_py *py = sc->py;
	for (uint64_t page = sc->lo; page < sc->hi; page += 4096) {
		const uint64_t *w = py->svc.ptr(py->svc.ctx, page, 4096);
		for (unsigned i = 0; w && i < 4096 / 8; i++) {
			int k = table_kind(sc, w[i]);
			if (k == 1 && sc->ntraces < SCAN_MAX_CAND)
				sc->traces[sc->ntraces++] = page + 8 * i;
			else if (k == 2 && sc->ndomains < SCAN_MAX_CAND)
				sc->domains[sc->ndomains++] = page + 8 * i;
		}
	}
}

struct check {
	struct pha_py *py;
	uint32_t max_nframe;
	uint64_t bad;
};

/* A trace whose traceback is not one tracemalloc made. */
static void check_trace(void *arg, const struct pha_tm_trace *t)
{
	struct check *c = arg;
	uint32_t n = 0;
	if (!t->traceback ||
	    !rd(c->py, t->traceback + TB_NFRAME, &n, c->py->o->tm_hashtable_v1 ? 4 : 2) || !n ||
	    n > c->max_nframe || !mem_extent(c->py, t->traceback + TB_FRAMES + FRAME_SIZE * n - 1))
		c->bad++;
}

/* The words of [lo, hi) equal to v, at most max of them, into at[]. */
static unsigned words_equal(struct pha_py *py, uint64_t lo, uint64_t hi, uint64_t v, uint64_t *at,
			    unsigned max)
{
	unsigned n = 0;
	for (uint64_t page = lo; page < hi && n < max; page += 4096) {
		const uint64_t *w = py->svc.ptr(py->svc.ctx, page, 4096);
		for (unsigned i = 0; w && i < 4096 / 8 && n < max; i++) {
			if (w[i] == v)
				at[n++] = page + 8 * i;
		}
	}
	return n;
}

/* The peak beside the traced counter at q: the neighbour not smaller than
 * it (the following one when both are; 0 when neither). */
static uint64_t peak_beside(struct pha_py *py, uint64_t q, uint64_t traced)
{
	uint64_t after = u64_or0(py, q + 8), before = u64_or0(py, q - 8);
	bool a = after >= traced && after <= py->svc.readable_bytes;
	bool b = before >= traced && before <= py->svc.readable_bytes;
	return a ? q + 8 : b ? q - 8 : 0;
}

/* Traces table word ti with domains word di (or none): the counter that
 * equals their traces' sizes. *n_ret: how many combinations hold. */
static void try_combination(struct scan *sc, uint64_t tw, uint64_t dw, struct tm_loc *l,
			    unsigned *n_ret)
{
	struct pha_py *py = sc->py;
	struct check c = {.py = py, .max_nframe = sc->max_nframe};
	struct tm_loc cand = {.config = l->config, .traces = tw, .domains = dw};
	struct walk w = {.py = py, .cb = check_trace, .arg = &c,
			 .budget = mem_max_objects(py, 32)};
	walk_traces(&w, &cand);
	if (w.bad || c.bad || !w.count)
		return;
	uint64_t at[4];
	unsigned n = words_equal(py, sc->lo, sc->hi, w.sum, at, 4), with_peak = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t peak = peak_beside(py, at[i], w.sum);
		if (!peak)
			continue;
		with_peak++;
		cand.traced = at[i];
		cand.peak = peak;
	}
	if (with_peak == 1) {
		*l = cand;
		(*n_ret)++;
	} else if (with_peak > 1) {
		*n_ret += with_peak;	/* ambiguous */
	}
}

/* The statics of a stripped 3.8 - 3.11 binary; NULL when found, else why
 * not. */
static const char *scan_statics(struct pha_py *py, struct tm_loc *l)
{
	struct scan sc = {.py = py, .max_nframe = u32_or0(py, l->config + py->o->tm_max_nframe)};
	sc.hash_ptr = sym(py, "_Py_hashtable_hash_ptr");
	sc.compare_direct = sym(py, "_Py_hashtable_compare_direct");
	sc.destroy = sym(py, "_Py_hashtable_destroy");
	if (!py->svc.ptr || (!py->o->tm_hashtable_v1 && (!sc.hash_ptr || !sc.compare_direct)))
		return "tracemalloc was tracing, but this stripped binary does not export "
		       "_Py_hashtable_hash_ptr and _Py_hashtable_compare_direct, by which the "
		       "scan recognises its traces table";
	sc.lo = (l->config > SCAN_SPAN ? l->config - SCAN_SPAN : 0) & ~(uint64_t)4095;
	sc.hi = l->config + SCAN_SPAN;
	find_tables(&sc);
	/* Per traces table: with a domains table (an empty one adds nothing),
	 * else without; tables that hold count once each. */
	unsigned found = 0;
	for (unsigned t = 0; t < sc.ntraces; t++) {
		unsigned with = 0;
		for (unsigned d = 0; d < sc.ndomains; d++)
			try_combination(&sc, sc.traces[t], sc.domains[d], l, &with);
		if (!with)
			try_combination(&sc, sc.traces[t], 0, l, &with);
		found += with;
	}
	if (found == 1)
		return NULL;
	l->traces = l->domains = l->traced = l->peak = 0;
	if (!found)
		return "tracemalloc was tracing, but no table in the writable data near "
		       "_Py_tracemalloc_config of this stripped binary is its traces table (no "
		       "consistent table whose trace sizes add up to a counter beside it)";
	return "tracemalloc was tracing, but several tables in the writable data of this "
	       "stripped binary could be its traces table (ambiguous: none is taken)";
}

/* 3.8 - 3.11: the statics by symbol. */
static bool locate_statics(struct pha_py *py, struct tm_loc *l)
{
	l->config = sym(py, "_Py_tracemalloc_config");
	l->traces = sym(py, "tracemalloc_traces");
	l->domains = sym(py, "tracemalloc_domains");
	l->traced = sym(py, "tracemalloc_traced_memory");
	l->peak = sym(py, "tracemalloc_peak_traced_memory");
	return l->config && config_plausible(py, l->config);
}

struct pha_error *pha_cpython_tm_traces(struct pha_py *py, struct pha_tm_state *st,
					void (*cb)(void *arg, const struct pha_tm_trace *t),
					void *arg)
{
	const struct pha_py_offsets *o = py->o;
	struct tm_loc l = {0};
	memset(st, 0, sizeof(*st));
	if (!(o->rt_tracemalloc ? locate_runtime(py, &l) : locate_statics(py, &l))) {
		st->unavailable = o->rt_tracemalloc
			? "tracemalloc's state was not found in _PyRuntime (no place near its "
			  "offset holds a plausible configuration)"
			: "_Py_tracemalloc_config is not a symbol of the interpreter's binary, or "
			  "does not hold a plausible configuration";
		return NULL;
	}
	st->found = true;
	st->tracing = u32_or0(py, l.config + o->tm_tracing) == 1;
	st->max_frames = u32_or0(py, l.config + o->tm_max_nframe);
	if (!st->tracing)
		return NULL;
	if (!l.traces || !l.traced) {
		/* Stripped: the statics by their shape. */
		if ((st->unavailable = scan_statics(py, &l)))
			return NULL;
		if (py->svc.log)
			py->svc.log(py->svc.ctx, "tracemalloc: stripped binary, traces table "
				    "pointer at 0x%llx, traced memory at 0x%llx (scan)",
				    (unsigned long long)l.traces, (unsigned long long)l.traced);
	}
	st->traced_bytes = u64_or0(py, l.traced);
	st->peak_bytes = l.peak ? u64_or0(py, l.peak) : 0;
	struct walk w = {.py = py, .cb = cb, .arg = arg, .budget = mem_max_objects(py, 32)};
	walk_traces(&w, &l);
	st->traces_read = !w.bad;
	if (w.bad)
		st->unavailable = "tracemalloc's traces table is not readable as a whole (a "
				  "bucket chain is cut, loops or holds more entries than counted): "
				  "the traces found are reported";
	return NULL;
}

size_t pha_cpython_tm_traceback(struct pha_py *py, uint64_t tb, struct pha_tm_frame *frames,
				size_t max)
{
	uint32_t n32 = 0;
	if (!tb || !rd(py, tb + TB_NFRAME, &n32, py->o->tm_hashtable_v1 ? 4 : 2))
		return 0;
	size_t n = n32 > TM_MAX_NFRAME ? 0 : n32;
	if (n > max)
		n = max;
	uint8_t f[FRAME_SIZE];
	for (size_t i = 0; i < n; i++) {
		if (!rd(py, tb + TB_FRAMES + FRAME_SIZE * i, f, sizeof(f)))
			return i;
		memcpy(&frames[i].filename, f, 8);
		memcpy(&frames[i].line, f + 8, 4);
	}
	return n;
}

bool pha_cpython_tm_filename(struct pha_py *py, uint64_t filename, char *buf, size_t size)
{
	if (py->o->tm_filename_utf8)
		return read_cstr(py, filename, buf, size);
	return cpy_read_str(py, filename, buf, size);
}

uint64_t pha_cpython_alloc_offset(struct pha_py *py, uint64_t type)
{
	struct tinfo *ti = cpy_type_of(py, type);
	return ti ? cpy_preheader(py, ti) : 0;
}
