/* Frames and threads: each thread's Python stack (function, file, line,
 * locals), the line tables, the locals of a frame, and the sizes of
 * frames and generators.
 *
 * What the report side can rely on from threads() (3.8 - 3.15): every
 * frame's nlocals/locals list the code's local, cell and free variable
 * names in co_varnames+co_cellvars+co_freevars (<= 3.10) or
 * co_localsplusnames (3.11+) order; value is the object (a cell variable's
 * content, not the cell), 0 when unbound. Local slots are read whatever
 * the saved stack top (the innermost frame has not saved it).
 *
 * Versions:
 *   3.8 - 3.10  frames are PyFrameObjects chained by f_back from
 *               tstate->frame (flag frame_objects, the *_v1 functions);
 *               3.8/3.9 line numbers from co_lnotab and f_lasti in bytes,
 *               3.10 co_linetable (PEP 626) and f_lasti in code units
 *               (flag lasti_units); no native thread id.
 *   3.11        _PyInterpreterFrame structs reached through tstate->cframe
 *               (bpo-44590), the PEP 657 location table, co_qualname,
 *               "incomplete" frames before their first RESUME are hidden.
 *   3.12        f_code first in the frame; C-stack entry frames (owner 3,
 *               flag frame_cstack_owner).
 *   3.13        tstate->current_frame, no _PyCFrame (flag
 *               tstate_current_frame).
 *   3.14        frame slots are tagged _PyStackRef and the frame keeps a
 *               stackpointer instead of stacktop (flag stackref).
 *   3.15        every frame chain ends at a base frame in the thread
 *               state (owner 3).
 */
#include "cpython_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kinds of localsplus slots (Include/internal/pycore_code.h, 3.11+). */
enum { CO_FAST_CELL = 0x40, CO_FAST_FREE = 0x80 };

/* ---- sizes of frames and generators (objects.c asks) ---- */

/* The code object a 3.11+ generator runs (3.11: also gi_code). */
uint64_t cpy_code_of_gen(struct pha_py *py, uint64_t g)
{
	const struct pha_py_offsets *o = py->o;
	if (o->gen_has_code)
		return u64_or0(py, g + o->gen_code);
	return frame_obj_at(py, g + o->gen_iframe + o->if_code);
}

/* Slots of a 3.11+ interpreter frame of this code (localsplus and the
 * value stack): co_framesize (3.12+) less the frame header, else
 * co_nlocalsplus + co_stacksize. */
uint64_t cpy_frame_slots(struct pha_py *py, uint64_t code)
{
	const struct pha_py_offsets *o = py->o;
	if (o->co_framesize) {
		/* A corrupted (or zero) co_framesize smaller than the frame
		 * header would underflow to 2^64 slots. */
		int32_t fs = i32_or0(py, code + o->co_framesize);
		return fs > (int32_t)(o->if_localsplus / 8) ? (uint64_t)fs - o->if_localsplus / 8 : 0;
	}
	return (uint64_t)i32_or0(py, code + o->co_nlocalsplus) +
	       (uint64_t)i32_or0(py, code + o->co_stacksize);
}

/* frame_nslots: co_nlocals + cells + frees, the f_localsplus slots
 * before the value stack. */
uint64_t cpy_legacy_frame_nslots(struct pha_py *py, uint64_t code)
{
	const struct pha_py_offsets *o = py->o;
	int32_t nlocals = i32_or0(py, code + o->co_nlocals);
	return (uint64_t)(nlocals > 0 ? nlocals : 0) +
	       tuple_len(py, u64_or0(py, code + o->co_cellvars)) +
	       tuple_len(py, u64_or0(py, code + o->co_freevars));
}

/* <= 3.10: co_stacksize + co_nlocals + cells + frees, the slots a frame
 * of this code has (f_localsplus). */
uint64_t cpy_legacy_frame_extras(struct pha_py *py, uint64_t code)
{
	int32_t stack = i32_or0(py, code + py->o->co_stacksize);
	return cpy_legacy_frame_nslots(py, code) + (uint64_t)(stack > 0 ? stack : 0);
}

/* ---- finding and naming frames ---- */

/* The innermost interpreter frame of a thread state (3.11+). */
uint64_t cpy_first_frame(struct pha_py *py, uint64_t ts)
{
	if (py->o->tstate_current_frame)
		return u64_or0(py, ts + py->o->ts_current_frame);
	uint64_t cframe = u64_or0(py, ts + py->o->ts_cframe);
	return cframe ? u64_or0(py, cframe + py->o->cf_current_frame) : 0;
}

/* A frame whose first bytes are all zero is not a frame: a real one has a
 * code object or an owner, and links to its caller. */
bool cpy_frame_zeroed(struct pha_py *py, uint64_t f)
{
	uint64_t w[8];
	if (!rd(py, f, w, sizeof(w)))
		return false;
	for (size_t i = 0; i < 8; i++) {
		if (w[i])
			return false;
	}
	return true;
}

/* A frame the interpreter shows in tracebacks: not a C-stack entry frame
 * (3.12 owner 3), and past its first RESUME (3.11+ "incomplete" frames are
 * skipped by CPython itself). */
bool cpy_frame_visible(struct pha_py *py, uint64_t f, uint64_t *code_ret, int64_t *lasti_ret)
{
	const struct pha_py_offsets *o = py->o;
	uint8_t owner = u8_or0(py, f + o->if_owner);
	if (owner > OWNED_BY_FRAME_OBJECT)
		return false;
	uint64_t code = frame_obj_at(py, f + o->if_code);
	struct tinfo *ti = code ? cpy_type_of(py, u64_or0(py, code + 8)) : NULL;
	if (!ti || ti->kind != K_CODE)
		return false;
	uint64_t instr = u64_or0(py, f + o->if_prev_instr);
	int64_t lasti = ((int64_t)instr - (int64_t)(code + o->co_code_adaptive)) / 2;
	int32_t firsttraceable = i32_or0(py, code + o->co_firsttraceable);
	if (owner != OWNED_BY_GENERATOR && lasti < firsttraceable)
		return false;
	*code_ret = code;
	*lasti_ret = lasti;
	return true;
}

/* The function name (co_qualname, <= 3.10 co_name) and the file name of
 * code, "?" for what cannot be read. */
void cpy_frame_names(struct pha_py *py, uint64_t code, char *func, size_t fsize, char *file,
		     size_t fisize)
{
	const struct pha_py_offsets *o = py->o;
	if (!code ||
	    !cpy_read_str(py, u64_or0(py, code + (o->co_qualname ? o->co_qualname : o->co_name)),
			  func, fsize))
		snprintf(func, fsize, "?");
	if (!code || !cpy_read_str(py, u64_or0(py, code + o->co_filename), file, fisize))
		snprintf(file, fisize, "?");
}

/* ---- line numbers ---- */

/* One varint of the 3.11+ location table (6 bits per byte, bit 6 says
 * more follow). */
static bool varint(const uint8_t *p, size_t n, size_t *i, uint64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;
	while (*i < n) {
		uint8_t b = p[(*i)++];
		r |= (uint64_t)(b & 63) << shift;
		shift += 6;
		if (!(b & 64)) {
			*v = r;
			return true;
		}
		if (shift > 60)
			return false;
	}
	return false;
}

/* PEP 657 location table (3.11+): the line of code unit `lasti`. */
int cpy_code_line(struct pha_py *py, uint64_t code, int64_t lasti)
{
	const struct pha_py_offsets *o = py->o;
	int line = i32_or0(py, code + o->co_firstlineno);
	if (lasti < 0)
		return line;
	uint64_t table = u64_or0(py, code + o->co_linetable);
	int64_t n = table ? i64_or0(py, table + 16) : 0;
	if (n <= 0 || n > (1 << 24))
		return -1;
	uint8_t *buf = malloc((size_t)n);
	if (!buf || !rd(py, table + 32, buf, (size_t)n)) {
		free(buf);
		return -1;
	}
	size_t i = 0;
	int64_t addr = 0;
	int result = -1;
	while (i < (size_t)n) {
		uint8_t b = buf[i++];
		if (!(b & 0x80))
			break;	/* entries start with bit 7 set */
		unsigned code_kind = (b >> 3) & 15;
		int64_t len = (b & 7) + 1;
		int delta = 0;
		bool has_line = true;
		uint64_t v;
		if (code_kind == 15) {
			has_line = false;
		} else if (code_kind == 14) {
			if (!varint(buf, (size_t)n, &i, &v))
				break;
			delta = (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
			for (int k = 0; k < 3; k++)
				if (!varint(buf, (size_t)n, &i, &v))
					goto out;
		} else if (code_kind == 13) {
			if (!varint(buf, (size_t)n, &i, &v))
				break;
			delta = (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
		} else if (code_kind >= 10) {
			delta = (int)code_kind - 10;
			i += 2;
		} else {
			i += 1;
		}
		line += delta;
		if (lasti >= addr && lasti < addr + len) {
			result = has_line ? line : -1;
			break;
		}
		addr += len;
	}
out:
	free(buf);
	return result;
}

/* 3.8/3.9 co_lnotab: (bytecode offset delta, signed line delta) pairs;
 * the line of byte offset `addr` (PyCode_Addr2Line). */
static int lnotab_line(const uint8_t *p, size_t n, int line, int64_t addr)
{
	int64_t a = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		a += p[i];
		if (a > addr)
			break;
		line += (int8_t)p[i + 1];
	}
	return line;
}

/* 3.10 co_linetable (PEP 626): (byte length, signed line delta) pairs,
 * delta -128 = the range has no line. */
static int linetable310_line(const uint8_t *p, size_t n, int line, int64_t addr)
{
	int64_t start = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		int64_t end = start + p[i];
		int8_t delta = (int8_t)p[i + 1];
		if (delta != -128)
			line += delta;
		if (addr >= start && addr < end)
			return delta == -128 ? -1 : line;
		start = end;
	}
	return -1;
}

/* PyFrame_GetLineNumber of a frame object. */
int cpy_frame_line_v1(struct pha_py *py, uint64_t f, uint64_t code)
{
	const struct pha_py_offsets *o = py->o;
	int32_t lineno = i32_or0(py, f + o->fo_lineno);
	/* While tracing, f_lineno is authoritative (3.10: whenever non-zero;
	 * 3.8/3.9: when f_trace is set). */
	if (o->lasti_units ? lineno != 0 : (u64_or0(py, f + o->fo_trace) != 0))
		return lineno;
	int line = i32_or0(py, code + o->co_firstlineno);
	int64_t lasti = i32_or0(py, f + o->fo_lasti);
	if (lasti < 0)
		return line;
	if (o->lasti_units)
		lasti *= 2;
	uint64_t table = u64_or0(py, code + o->co_linetable);
	int64_t n = table ? i64_or0(py, table + 16) : -1;
	if (n < 0 || n > (1 << 24))
		return -1;
	if (n == 0)
		return o->lasti_units ? -1 : line;
	uint8_t *buf = malloc((size_t)n);
	if (!buf || !rd(py, table + 32, buf, (size_t)n)) {
		free(buf);
		return -1;
	}
	int r = o->lasti_units ? linetable310_line(buf, (size_t)n, line, lasti)
			       : lnotab_line(buf, (size_t)n, line, lasti);
	free(buf);
	return r;
}

/* ---- locals ---- */

/* Number of valid localsplus slots of a 3.11+ interpreter frame, as
 * iframe_refs counts them; -1 if unknown. */
int64_t cpy_iframe_top(struct pha_py *py, uint64_t f)
{
	const struct pha_py_offsets *o = py->o;
	if (o->stackref) {
		uint64_t sp = u64_or0(py, f + o->if_stackpointer);
		uint64_t base = f + o->if_localsplus;
		if (sp < base || sp - base > (8ULL << 20))
			return -1;
		return (int64_t)((sp - base) / 8);
	}
	int32_t top = i32_or0(py, f + o->if_stacktop);
	return top > 0 && top < (1 << 20) ? top : -1;
}

/* Call fn for every local, cell and free variable of a frame, in
 * localsplusnames (3.11+) or varnames + cellvars + freevars order. A cell
 * slot gives the cell's content as value and the cell as `cell`; unbound
 * slots give value 0. f: interpreter frame (3.11+) or frame object. */
void cpy_each_local(struct pha_py *py, uint64_t f, uint64_t code, local_fn *fn, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	char name[256];
	if (o->frame_objects) {
		uint64_t tabs[3] = {u64_or0(py, code + o->co_varnames),
				    u64_or0(py, code + o->co_cellvars),
				    u64_or0(py, code + o->co_freevars)};
		int32_t nlocals = i32_or0(py, code + o->co_nlocals);
		uint64_t slot = 0;
		for (int t = 0; t < 3; t++) {
			uint64_t n = tuple_len(py, tabs[t]);
			if (t == 0 && nlocals >= 0 && (uint64_t)nlocals < n)
				n = (uint64_t)nlocals;
			for (uint64_t i = 0; i < n; i++, slot++) {
				if (!cpy_read_str(py, u64_or0(py, tabs[t] + TUPLE_ITEMS(py) + 8 * i), name,
						  sizeof(name)))
					strcpy(name, "?");
				uint64_t v = u64_or0(py, f + o->fo_localsplus + 8 * slot), cell = 0;
				if (t > 0 && is_kind(py, v, K_CELL)) {
					cell = v;
					v = u64_or0(py, cell + 16);
				}
				fn(arg, name, v, cell);
			}
			if (t == 0 && nlocals >= 0 && tuple_len(py, tabs[0]) < (uint64_t)nlocals)
				slot += (uint64_t)nlocals - tuple_len(py, tabs[0]);
		}
		return;
	}
	uint64_t names = u64_or0(py, code + o->co_localsplusnames);
	uint64_t kinds = u64_or0(py, code + o->co_localspluskinds);
	uint64_t n = tuple_len(py, names);
	/* The local slots are set (NULL = unbound) from the frame's creation
	 * on; only the value stack above them depends on the stack top, which
	 * a frame calling into C (the innermost one, usually) has not saved. */
	for (uint64_t i = 0; i < n; i++) {
		if (!cpy_read_str(py, u64_or0(py, names + TUPLE_ITEMS(py) + 8 * i), name,
				  sizeof(name)))
			strcpy(name, "?");
		uint64_t v = frame_obj_at(py, f + o->if_localsplus + 8 * i);
		uint64_t cell = 0;
		uint8_t k = kinds ? u8_or0(py, kinds + 32 + i) : 0;
		if ((k & (CO_FAST_CELL | CO_FAST_FREE)) && is_kind(py, v, K_CELL)) {
			cell = v;
			v = u64_or0(py, cell + 16);
		}
		fn(arg, name, v, cell);
	}
}

/* ---- threads() ---- */

/* The frames of one thread and the strings they point at, reused from
 * thread to thread. */
struct frame_buf {
	struct pha_frame_info *frames;
	char **strings;
	size_t n, cap, nstrings;
};

static void frame_buf_reset(struct frame_buf *fb)
{
	for (size_t i = 0; i < fb->nstrings; i++)
		free(fb->strings[i]);
	fb->nstrings = 0;
	fb->n = 0;
}

static const char *frame_buf_str(struct frame_buf *fb, struct pha_py *py, uint64_t s)
{
	char buf[1024];
	if (!cpy_read_str(py, s, buf, sizeof(buf)))
		strcpy(buf, "?");
	char **ns = realloc(fb->strings, (fb->nstrings + 1) * sizeof(*ns));
	if (!ns)
		return "?";
	fb->strings = ns;
	char *d = strdup(buf);
	if (!d)
		return "?";
	fb->strings[fb->nstrings++] = d;
	return d;
}

static void fb_keep(struct frame_buf *fb, void *p)
{
	char **ns = realloc(fb->strings, (fb->nstrings + 1) * sizeof(*ns));
	if (!ns) {
		free(p);
		return;
	}
	fb->strings = ns;
	fb->strings[fb->nstrings++] = p;
}

struct locals_acc {
	struct frame_buf *fb;
	struct pha_py *py;
	struct pha_local_info *v;
	size_t n, cap;
	bool oom;
};

static void on_local_acc(void *arg, const char *name, uint64_t value, uint64_t cell)
{
	(void)cell;
	struct locals_acc *a = arg;
	if (a->oom)
		return;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct pha_local_info *nv = realloc(a->v, cap * sizeof(*nv));
		if (!nv) {
			a->oom = true;
			return;
		}
		a->v = nv;
		a->cap = cap;
	}
	char *d = strdup(name);
	if (!d) {
		a->oom = true;
		return;
	}
	fb_keep(a->fb, d);
	a->v[a->n].name = d;
	a->v[a->n].value = value;
	a->n++;
}

static void fill_locals(struct pha_py *py, struct frame_buf *fb, struct pha_frame_info *fi,
			uint64_t f, uint64_t code)
{
	struct locals_acc a = {.fb = fb, .py = py};
	cpy_each_local(py, f, code, on_local_acc, &a);
	if (a.v)
		fb_keep(fb, a.v);
	fi->nlocals = a.oom ? 0 : a.n;
	fi->locals = a.oom ? NULL : a.v;
}

static bool grow_frames(struct frame_buf *fb)
{
	if (fb->n < fb->cap)
		return true;
	size_t cap = fb->cap ? fb->cap * 2 : 32;
	struct pha_frame_info *nfr = realloc(fb->frames, cap * sizeof(*nfr));
	if (!nfr)
		return false;
	fb->frames = nfr;
	fb->cap = cap;
	return true;
}

/* Append frame f running code to fb: its name (the code member at
 * name_off), file, line and locals. False when out of memory. */
static bool add_frame(struct pha_py *py, struct frame_buf *fb, uint64_t f, uint64_t code,
		      uint32_t name_off, int line)
{
	if (!grow_frames(fb))
		return false;
	struct pha_frame_info *fi = &fb->frames[fb->n++];
	fi->function = frame_buf_str(fb, py, u64_or0(py, code + name_off));
	fi->filename = frame_buf_str(fb, py, u64_or0(py, code + py->o->co_filename));
	fi->line = line;
	fill_locals(py, fb, fi, f, code);
	return true;
}

struct chain_walk cpy_threads_walk(struct pha_py *py)
{
	/* A thread state is several hundred bytes; 128 is a safe floor. */
	uint64_t limit = mem_max_objects(py, 128);
	return chain_walk_init(limit < MAX_THREADS ? limit : MAX_THREADS);
}

struct chain_walk cpy_frames_walk(uint64_t *budget)
{
	return chain_walk_init(*budget < MAX_FRAMES ? *budget : MAX_FRAMES);
}

void cpy_chain_warn(struct pha_py *py, const struct chain_walk *w, const char *what,
		    uint64_t start)
{
	if (w->looped)
		py->svc.warn(py->svc.ctx, "%s starting at 0x%llx loops back on itself after %llu "
					  "entries (corrupted link): the rest is not followed",
			     what, (unsigned long long)start, (unsigned long long)w->steps);
	else if (w->truncated)
		py->svc.warn(py->svc.ctx, "%s starting at 0x%llx is longer than %llu entries (the "
					  "bound of one walk): the rest is not followed",
			     what, (unsigned long long)start, (unsigned long long)w->limit);
}

void cpy_frames_done(struct pha_py *py, uint64_t *budget, const struct chain_walk *w,
		     uint64_t ts)
{
	*budget -= w->steps;
	if (w->looped || (w->truncated && w->limit == MAX_FRAMES)) {
		char what[64];
		snprintf(what, sizeof(what), "the frame chain of thread state 0x%llx",
			 (unsigned long long)ts);
		cpy_chain_warn(py, w, what, ts);
	} else if (w->truncated) {
		py->svc.warn(py->svc.ctx, "the walk of all threads' frames stopped after %u frames "
					  "(the bound of one pass; corrupted frame links?): frames "
					  "of thread state 0x%llx and later threads are missing",
			     MAX_FRAMES_TOTAL, (unsigned long long)ts);
	}
}

static struct pha_error *threads_v1(struct pha_py *py,
				    void (*cb)(void *arg, const struct pha_thread_info *t),
				    void *arg)
{
	const struct pha_py_offsets *o = py->o;
	struct frame_buf fb = {0};
	struct pha_error *err = NULL;
	uint64_t budget = MAX_FRAMES_TOTAL;
	for (size_t ii = 0; ii < py->ninterps && !err; ii++) {
		uint64_t ts = u64_or0(py, py->interps[ii] + o->is_threads_head);
		struct chain_walk tw = cpy_threads_walk(py);
		uint64_t ts0 = ts;
		while (chain_step(&tw, ts)) {
			frame_buf_reset(&fb);
			uint64_t f = u64_or0(py, ts + o->ts_frame);
			py->svc.log(py->svc.ctx, "thread state 0x%llx: next link at 0x%llx, "
						 "innermost frame 0x%llx, its back link at 0x%llx",
				    (unsigned long long)ts, (unsigned long long)(ts + o->ts_next),
				    (unsigned long long)f, (unsigned long long)(f + o->fo_back));
			struct chain_walk fw = cpy_frames_walk(&budget);
			while (chain_step(&fw, f)) {
				uint64_t code = u64_or0(py, f + o->fo_code);
				/* No co_qualname before 3.11: co_name is what
				 * tracebacks show. */
				if (is_kind(py, code, K_CODE) &&
				    !add_frame(py, &fb, f, code, o->co_name,
					       cpy_frame_line_v1(py, f, code))) {
					err = &pha_enomem;
					break;
				}
				f = u64_or0(py, f + o->fo_back);
			}
			cpy_frames_done(py, &budget, &fw, ts);
			if (err)
				break;
			/* No native thread id in the thread state before 3.11: the
			 * host matches thread_id (pthread_t) with the core's threads. */
			struct pha_thread_info t = {
				.thread_id = u64_or0(py, ts + o->ts_thread_id),
				.native_id = 0,
				.tstate = ts,
				.nframes = fb.n,
				.frames = fb.frames,
			};
			cb(arg, &t);
			ts = u64_or0(py, ts + o->ts_next);
		}
		cpy_chain_warn(py, &tw, "the thread list", ts0);
	}
	frame_buf_reset(&fb);
	free(fb.frames);
	free(fb.strings);
	return err;
}

struct pha_error *pha_cpython_threads(struct pha_py *py,
				      void (*cb)(void *arg, const struct pha_thread_info *t),
				      void *arg)
{
	const struct pha_py_offsets *o = py->o;
	if (o->frame_objects)
		return threads_v1(py, cb, arg);
	struct frame_buf fb = {0};
	uint64_t budget = MAX_FRAMES_TOTAL;
	for (size_t ii = 0; ii < py->ninterps; ii++) {
		uint64_t ts = u64_or0(py, py->interps[ii] + o->is_threads_head);
		struct chain_walk tw = cpy_threads_walk(py);
		uint64_t ts0 = ts;
		while (chain_step(&tw, ts)) {
			frame_buf_reset(&fb);
			uint64_t f = cpy_first_frame(py, ts);
			py->svc.log(py->svc.ctx, "thread state 0x%llx: next link at 0x%llx, "
						 "innermost frame 0x%llx, its back link at 0x%llx",
				    (unsigned long long)ts, (unsigned long long)(ts + o->ts_next),
				    (unsigned long long)f, (unsigned long long)(f + o->if_previous));
			struct chain_walk fw = cpy_frames_walk(&budget);
			while (chain_step(&fw, f)) {
				uint64_t code;
				int64_t lasti;
				if (cpy_frame_zeroed(py, f)) {
					py->svc.warn(py->svc.ctx, "thread %llu: the frame at 0x%llx reads as "
								  "zeros (the core writer could not read that memory, "
								  "e.g. gdb's gcore on thread stacks with guard "
								  "regions): its stack is cut there",
						     (unsigned long long)u64_or0(py, ts + o->ts_native_id),
						     (unsigned long long)f);
					break;
				}
				if (cpy_frame_visible(py, f, &code, &lasti) &&
				    !add_frame(py, &fb, f, code, o->co_qualname,
					       cpy_code_line(py, code, lasti)))
					goto oom;
				uint64_t prev;
				if (!rd64(py, f + o->if_previous, &prev)) {
					py->svc.warn(py->svc.ctx, "thread %llu: frame at 0x%llx unreadable: "
								  "its stack is cut there",
						     (unsigned long long)u64_or0(py, ts + o->ts_native_id),
						     (unsigned long long)f);
					break;
				}
				f = prev;
			}
			cpy_frames_done(py, &budget, &fw, ts);
			struct pha_thread_info t = {
				.thread_id = u64_or0(py, ts + o->ts_thread_id),
				.native_id = u64_or0(py, ts + o->ts_native_id),
				.tstate = ts,
				.nframes = fb.n,
				.frames = fb.frames,
			};
			cb(arg, &t);
			ts = u64_or0(py, ts + o->ts_next);
		}
		cpy_chain_warn(py, &tw, "the thread list", ts0);
	}
	frame_buf_reset(&fb);
	free(fb.frames);
	free(fb.strings);
	return NULL;
oom:
	frame_buf_reset(&fb);
	free(fb.frames);
	free(fb.strings);
	return &pha_enomem;
}
