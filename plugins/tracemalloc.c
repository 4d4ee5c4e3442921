/* tracemalloc: whether it was tracing, and its traces (memory block ->
 * size + traceback; traceback -> frames of (filename, line)), read as
 * tracemalloc.take_snapshot() would have read them.
 *
 * Where the state lives:
 *   3.8 - 3.11  file statics of Modules/_tracemalloc.c (tracemalloc_traces,
 *               _domains, _traced_memory, _peak_traced_memory): local
 *               symbols, only in .symtab or DWARF. _Py_tracemalloc_config
 *               (tracing, max_nframe) is exported, so a stripped binary
 *               still says whether it was tracing.
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
		st->unavailable = "tracemalloc was tracing, but its traces are file statics of "
				  "Modules/_tracemalloc.c (tracemalloc_traces, "
				  "tracemalloc_traced_memory) that only the binary's .symtab or "
				  "DWARF names, and this binary is stripped";
		return NULL;
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
