/* The table-driven CPython walker (3.8 - 3.15).
 *
 * What it must reproduce exactly is what CPython's tp_traverse functions
 * visit: the cycle-collector arithmetic subtracts one reference per visited
 * pointer, so a missed or extra visit changes which objects look "held from
 * outside". Such references are reported with PHA_REF_TRAVERSED; strong
 * references that tp_traverse skips (str keys of unicode dicts, code object
 * constants, names of types) are reported with flags 0, and weak ones with
 * PHA_REF_WEAK. Types the walker does not know are scanned conservatively
 * for words that point at plausible objects.
 */
#include "cpython_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- frame sizes ---- */

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
	if (o->co_framesize)
		return (uint64_t)i32_or0(py, code + o->co_framesize) - o->if_localsplus / 8;
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

/* ---- threads, frames, roots ---- */

static uint64_t first_frame(struct pha_py *py, uint64_t ts)
{
	if (py->o->tstate_current_frame)
		return u64_or0(py, ts + py->o->ts_current_frame);
	uint64_t cframe = u64_or0(py, ts + py->o->ts_cframe);
	return cframe ? u64_or0(py, cframe + py->o->cf_current_frame) : 0;
}

/* A frame the interpreter shows in tracebacks: not a C-stack entry frame
 * (3.12 owner 3), and past its first RESUME (3.11+ "incomplete" frames are
 * skipped by CPython itself). */
static bool frame_visible(struct pha_py *py, uint64_t f, uint64_t *code_ret, int64_t *lasti_ret)
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
static int code_line(struct pha_py *py, uint64_t code, int64_t lasti)
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

struct frame_buf {
	struct pha_frame_info *frames;
	char **strings;
	size_t n, cap, nstrings;
};

static void fill_locals(struct pha_py *py, struct frame_buf *fb, struct pha_frame_info *fi,
			uint64_t f, uint64_t code);

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

/* ---- threads and frames, 3.8 - 3.10 (frame objects) ---- */

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
static int frame_line_v1(struct pha_py *py, uint64_t f, uint64_t code)
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

static bool is_code(struct pha_py *py, uint64_t code)
{
	struct tinfo *ti = code ? cpy_type_of(py, u64_or0(py, code + 8)) : NULL;
	return ti && ti->kind == K_CODE;
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

static struct pha_error *threads_v1(struct pha_py *py,
				    void (*cb)(void *arg, const struct pha_thread_info *t),
				    void *arg)
{
	const struct pha_py_offsets *o = py->o;
	struct frame_buf fb = {0};
	struct pha_error *err = NULL;
	for (size_t ii = 0; ii < py->ninterps && !err; ii++) {
		uint64_t ts = u64_or0(py, py->interps[ii] + o->is_threads_head);
		for (size_t nt = 0; ts && nt < MAX_THREADS; nt++) {
			frame_buf_reset(&fb);
			uint64_t f = u64_or0(py, ts + o->ts_frame);
			for (size_t nf = 0; f && nf < MAX_FRAMES; nf++) {
				uint64_t code = u64_or0(py, f + o->fo_code);
				/* No co_qualname before 3.11: co_name is what
				 * tracebacks show. */
				if (is_code(py, code) &&
				    !add_frame(py, &fb, f, code, o->co_name, frame_line_v1(py, f, code))) {
					err = &pha_enomem;
					break;
				}
				f = u64_or0(py, f + o->fo_back);
			}
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
	}
	frame_buf_reset(&fb);
	free(fb.frames);
	free(fb.strings);
	return err;
}

/* Roots of 3.8 - 3.10 threads: the thread-state objects and every frame
 * object on the thread's stack (their contents are their referents). */
static void thread_roots_v1(struct pha_py *py, uint64_t ts, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	ref_at(py, cb, arg, ts + o->ts_dict, 0);
	ref_at(py, cb, arg, ts + o->ts_curexc_type, 0);
	ref_at(py, cb, arg, ts + o->ts_curexc, 0);
	ref_at(py, cb, arg, ts + o->ts_curexc_tb, 0);
	/* exc_info -> _PyErr_StackItem {type, value, traceback, previous}. */
	uint64_t item = u64_or0(py, ts + o->ts_exc_value_item);
	for (size_t n = 0; item && n < MAX_FRAMES; n++) {
		for (unsigned i = 0; i < 3; i++)
			ref_at(py, cb, arg, item + 8 * i, 0);
		item = u64_or0(py, item + o->esi_size - 8);
	}
	uint64_t f = u64_or0(py, ts + o->ts_frame);
	for (size_t nf = 0; f && nf < MAX_FRAMES; nf++) {
		ref(cb, arg, f, 0);
		f = u64_or0(py, f + o->fo_back);
	}
}

/* A frame whose first bytes are all zero is not a frame: a real one has a
 * code object or an owner, and links to its caller. */
static bool frame_zeroed(struct pha_py *py, uint64_t f)
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

struct pha_error *pha_cpython_threads(struct pha_py *py,
				      void (*cb)(void *arg, const struct pha_thread_info *t),
				      void *arg)
{
	const struct pha_py_offsets *o = py->o;
	if (o->frame_objects)
		return threads_v1(py, cb, arg);
	struct frame_buf fb = {0};
	for (size_t ii = 0; ii < py->ninterps; ii++) {
		uint64_t ts = u64_or0(py, py->interps[ii] + o->is_threads_head);
		for (size_t nt = 0; ts && nt < MAX_THREADS; nt++) {
			frame_buf_reset(&fb);
			uint64_t f = first_frame(py, ts);
			for (size_t nf = 0; f && nf < MAX_FRAMES; nf++) {
				uint64_t code;
				int64_t lasti;
				if (frame_zeroed(py, f)) {
					py->svc.warn(py->svc.ctx, "thread %llu: the frame at 0x%llx reads as "
								  "zeros (the core writer could not read that memory, "
								  "e.g. gdb's gcore on thread stacks with guard "
								  "regions): its stack is cut there",
						     (unsigned long long)u64_or0(py, ts + o->ts_native_id),
						     (unsigned long long)f);
					break;
				}
				if (frame_visible(py, f, &code, &lasti) &&
				    !add_frame(py, &fb, f, code, o->co_qualname, code_line(py, code, lasti)))
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

struct pha_error *pha_cpython_roots(struct pha_py *py, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	for (size_t ii = 0; ii < py->ninterps; ii++) {
		uint64_t is = py->interps[ii];
		ref_at(py, cb, arg, is + o->is_modules, 0);
		ref_at(py, cb, arg, is + o->is_sysdict, 0);
		ref_at(py, cb, arg, is + o->is_builtins, 0);
		if (o->is_interned)
			ref_at(py, cb, arg, is + o->is_interned, 0);
		uint64_t ts = u64_or0(py, is + o->is_threads_head);
		for (size_t nt = 0; ts && nt < MAX_THREADS && o->frame_objects; nt++) {
			thread_roots_v1(py, ts, cb, arg);
			ts = u64_or0(py, ts + o->ts_next);
		}
		for (size_t nt = 0; ts && nt < MAX_THREADS; nt++) {
			ref_at(py, cb, arg, ts + o->ts_dict, 0);
			ref_at(py, cb, arg, ts + o->ts_curexc, 0);
			uint64_t item = u64_or0(py, ts + o->ts_exc_value_item);
			if (item)
				ref_at(py, cb, arg, item, 0);
			uint64_t f = first_frame(py, ts);
			for (size_t nf = 0; f && nf < MAX_FRAMES; nf++) {
				if (u8_or0(py, f + o->if_owner) <= OWNED_BY_FRAME_OBJECT) {
					cpy_iframe_refs(py, f, cb, arg, 0);
					ref_at(py, cb, arg, f + o->if_globals, 0);
					ref_at(py, cb, arg, f + o->if_builtins, 0);
				}
				f = u64_or0(py, f + o->if_previous);
			}
			ts = u64_or0(py, ts + o->ts_next);
		}
	}
	return NULL;
}

/* ---- open / close ---- */

/* subtype_traverse is static in typeobject.c: take it from a class every
 * process defines with a class statement, importlib's ModuleSpec. */
static void find_subtype_traverse(struct pha_py *py)
{
	uint64_t sym = py->svc.symbol(py->svc.ctx, "subtype_traverse");
	if (sym) {
		py->subtype_traverse = sym;
		return;
	}
	uint64_t modules = u64_or0(py, py->interps[0] + py->o->is_modules);
	uint64_t mod = cpy_dict_get_str(py, modules, "_frozen_importlib");
	uint64_t md = mod ? u64_or0(py, mod + 16) : 0;
	uint64_t cls = md ? cpy_dict_get_str(py, md, "ModuleSpec") : 0;
	uint64_t trav = cls ? u64_or0(py, cls + TP_TRAVERSE) : 0;
	if (cls && (u64_or0(py, cls + TP_FLAGS) & TPF_HEAPTYPE) && trav)
		py->subtype_traverse = trav;
	else
		py->svc.warn(py->svc.ctx, "could not identify classes defined in Python (no "
					  "_frozen_importlib.ModuleSpec): C extension heap types are "
					  "walked as if they were Python classes");
}

static bool is_dict(struct pha_py *py, uint64_t a)
{
	struct tinfo *ti = a ? cpy_type_of(py, u64_or0(py, a + 8)) : NULL;
	return ti && (ti->kind == K_DICT);
}

/* 3.13+: read _Py_DebugOffsets at _PyRuntime + 0 and take every offset it
 * covers from the core rather than from the static table. */
static struct pha_error *apply_debug_offsets(struct pha_py *py, uint64_t runtime)
{
	const struct pha_py_offsets *st = py->o;
	uint32_t size = st->debug_size;
	uint8_t *tab = malloc(size);
	if (!tab)
		return &pha_enomem;
	if (!rd(py, runtime, tab, size)) {
		free(tab);
		py->svc.warn(py->svc.ctx, "_Py_DebugOffsets at 0x%llx unreadable: using the static "
					  "offsets of %s", (unsigned long long)runtime,
			     py->layout->name);
		return NULL;
	}
	uint64_t version, free_threaded;
	memcpy(&version, tab + 8, 8);
	memcpy(&free_threaded, tab + 16, 8);
	if (memcmp(tab, "xdebugpy", 8) != 0) {
		free(tab);
		py->svc.warn(py->svc.ctx, "no _Py_DebugOffsets cookie at _PyRuntime (0x%llx): using "
					  "the static offsets of %s", (unsigned long long)runtime,
			     py->layout->name);
		return NULL;
	}
	if (free_threaded) {
		free(tab);
		return pha_error_create(PHA_ERR_INPUT, "free-threaded CPython builds are not "
						       "supported (_Py_DebugOffsets.free_threaded = %llu)",
					(unsigned long long)free_threaded);
	}
	if ((uint32_t)version != py->hex)
		py->svc.warn(py->svc.ctx, "_Py_DebugOffsets names version 0x%08llx, the binary "
					  "0x%08x", (unsigned long long)version, py->hex);
	for (const struct pha_py_debug_map *m = st->debug_map; m->name; m++) {
		uint64_t v;
		memcpy(&v, tab + m->pos, 8);
		if (v >= (1u << 24)) {
			py->svc.warn(py->svc.ctx, "_Py_DebugOffsets member for %s is implausible "
						  "(%llu): using %s's static value", m->name,
				     (unsigned long long)v, py->layout->name);
			continue;
		}
		uint32_t *field = (uint32_t *)((char *)&py->oc + m->field);
		if (*field != (uint32_t)v)
			py->svc.log(py->svc.ctx, "_Py_DebugOffsets: %s = %llu (static table: %u)",
				    m->name, (unsigned long long)v, *field);
		*field = (uint32_t)v;
	}
	free(tab);
	return NULL;
}

/* 3.13+: interp->types.builtins.initialized[] moves with every member
 * added to PyInterpreterState; check the static offset against two static
 * builtin types (dict, type) whose entries must name them, else search. */
static void locate_static_types(struct pha_py *py)
{
	struct pha_py_offsets *o = &py->oc;
	uint64_t is = py->interps[0];
	uint64_t dict_type = u64_or0(py, u64_or0(py, is + o->is_sysdict) + 8);
	uint64_t type_type = u64_or0(py, dict_type + 8);
	uint64_t di = u64_or0(py, dict_type + TP_SUBCLASSES);
	uint64_t ti = u64_or0(py, type_type + TP_SUBCLASSES);
	if (!dict_type || !type_type || di < 1 || di > 1000 || ti < 1 || ti > 1000) {
		o->is_types_builtins = 0;
		py->svc.warn(py->svc.ctx, "static builtin types: cannot index their state; their "
					  "dicts are not walked");
		return;
	}
	uint64_t sz = o->static_builtin_state_size;
	for (int64_t delta = 0; delta <= 65536; delta += 8) {
		for (int sign = 0; sign < 2; sign++) {
			if (sign && !delta)
				continue;
			int64_t off = (int64_t)o->is_types_builtins + (sign ? -delta : delta);
			if (off <= 0)
				continue;
			uint64_t base = is + (uint64_t)off;
			if (u64_or0(py, base + (di - 1) * sz) == dict_type &&
			    u64_or0(py, base + (ti - 1) * sz) == type_type) {
				if (delta)
					py->svc.log(py->svc.ctx, "static builtin type states at interp "
								 "+%lld (static table: %u)",
						    (long long)off, o->is_types_builtins);
				o->is_types_builtins = (uint32_t)off;
				return;
			}
		}
	}
	o->is_types_builtins = 0;
	py->svc.warn(py->svc.ctx, "static builtin types: their state array was not found in the "
				  "interpreter; their dicts are not walked");
}

struct pha_error *pha_cpython_open(const struct pha_layout *layout,
				   const struct pha_services *svc, uint64_t runtime,
				   uint32_t hexversion, struct pha_py **py_ret)
{
	const struct pha_layout_impl *impl = (const struct pha_layout_impl *)layout;
	struct pha_py *py = calloc(1, sizeof(*py));
	if (!py)
		return &pha_enomem;
	py->layout = layout;
	py->oc = *impl->off;
	py->o = &py->oc;
	if (!py->oc.tuple_ob_item)
		py->oc.tuple_ob_item = 24;
	if (!py->oc.mod_name)
		py->oc.mod_name = 48;
	py->svc = *svc;
	py->hex = hexversion;
	py->dict_visits_embedded = py->oc.dict_visits_embedded_hex &&
				   hexversion >= py->oc.dict_visits_embedded_hex;
	py->runtime = runtime;
	py->set_dummy = svc->symbol(svc->ctx, "_PySet_Dummy");
	if (impl->off->dict_keys_v1)
		py->str_type = svc->symbol(svc->ctx, "PyUnicode_Type");
	if (!cpy_types_init(py)) {
		free(py);
		return &pha_enomem;
	}

	if (py->oc.debug_map) {
		struct pha_error *err = apply_debug_offsets(py, runtime);
		if (err) {
			pha_cpython_close(py);
			return err;
		}
	}
	const struct pha_py_offsets *o = py->o;
	uint64_t interp;
	if (!rd64(py, runtime + o->rt_interpreters_head, &interp)) {
		pha_cpython_close(py);
		return pha_error_create(PHA_ERR_INPUT,
					"_PyRuntime at 0x%llx is not readable in the core",
					(unsigned long long)runtime);
	}
	while (interp && py->ninterps < MAX_INTERPS) {
		/* Validate: every thread state points back at its interpreter,
		 * and sys.modules / sys.__dict__ are dicts. */
		uint64_t ts = u64_or0(py, interp + o->is_threads_head);
		if (ts && u64_or0(py, ts + o->ts_interp) != interp) {
			pha_cpython_close(py);
			return pha_error_create(PHA_ERR_INPUT,
						"interpreter state at 0x%llx does not match layout %s "
						"(its first thread state does not point back at it)",
						(unsigned long long)interp, layout->name);
		}
		if (!is_dict(py, u64_or0(py, interp + o->is_modules)) ||
		    !is_dict(py, u64_or0(py, interp + o->is_sysdict))) {
			if (py->ninterps == 0) {
				pha_cpython_close(py);
				return pha_error_create(PHA_ERR_INPUT,
							"interpreter state at 0x%llx does not match layout %s "
							"(sys.modules or sys.__dict__ is not a dict)",
							(unsigned long long)interp, layout->name);
			}
			svc->warn(svc->ctx, "interpreter at 0x%llx skipped: sys.modules is not a dict "
					    "(finalizing or corrupted)", (unsigned long long)interp);
		} else {
			py->interps[py->ninterps++] = interp;
		}
		interp = u64_or0(py, interp + o->is_next);
	}
	if (!py->ninterps) {
		pha_cpython_close(py);
		return pha_error_create(PHA_ERR_INPUT, "no interpreter state found from _PyRuntime "
						       "at 0x%llx", (unsigned long long)runtime);
	}
	if (o->static_builtin_search)
		locate_static_types(py);
	if (o->is_interned && !is_dict(py, u64_or0(py, py->interps[0] + o->is_interned))) {
		py->oc.is_interned = 0;
		svc->warn(svc->ctx, "the interned-strings dict was not found at its expected place "
				    "in the interpreter state; interned strings only referenced from "
				    "there are missing");
	}
	find_subtype_traverse(py);
	*py_ret = py;
	return NULL;
}

/* sys.hexversion from the interpreter's sys dict: a small int (3.8 - 3.11
 * ob_size digits of 30 bits; 3.12+ lv_tag). */
uint32_t pha_cpython_hexversion(struct pha_py *py)
{
	const struct pha_py_offsets *o = py->o;
	if (!py->ninterps)
		return 0;
	uint64_t v = cpy_dict_get_str(py, u64_or0(py, py->interps[0] + o->is_sysdict), "hexversion");
	struct tinfo *ti = v ? cpy_type_of(py, u64_or0(py, v + 8)) : NULL;
	if (!ti || ti->kind != K_INT)
		return 0;
	int64_t nd = o->long_lv_tag ? (int64_t)(u64_or0(py, v + 16) >> 3) : i64_or0(py, v + 16);
	if (nd < 1 || nd > 2)
		return 0;
	uint64_t val = u32_or0(py, v + 24);
	if (nd == 2)
		val |= (uint64_t)u32_or0(py, v + 28) << 30;
	return val >> 24 == 3 ? (uint32_t)val : 0;
}

void pha_cpython_close(struct pha_py *py)
{
	if (!py)
		return;
	cpy_types_deinit(py);
	free(py);
}

/* ==== why-is-it-alive: frame locals, labelled roots, edge labels, previews ==== */

/* What the report side can rely on (3.8 - 3.15):
 *
 * threads(): every frame's nlocals/locals list the code's local, cell and
 *   free variable names in co_varnames+co_cellvars+co_freevars (<= 3.10) or
 *   co_localsplusnames (3.11+) order; value is the object (a cell variable's
 *   content, not the cell), 0 when unbound. Local slots are read whatever
 *   the saved stack top (the innermost frame has not saved it).
 *
 * labelled_roots(): per interpreter "sys.modules", "sys.__dict__",
 *   "builtins", "<interned strings>" (where the layout knows the dict);
 *   per thread "<thread 0xID dict>", "<thread 0xID context>",
 *   "<thread 0xID current exception>"
 *   (<= 3.10 also "... current exception type/traceback" and "<thread 0xID
 *   exc_info type|value|traceback>" for every exc_info item; 3.11+ "<thread
 *   0xID exc_info value>"); per frame, innermost first: "<frame of F()>",
 *   "<locals dict of F()>", "<function F()>" (3.11+), "<code of F()>",
 *   "<local 'X' in F() at FILE:LINE>" (kind FRAME_LOCAL) for every bound
 *   variable, "<cell 'X' in F() at FILE:LINE>" (kind FRAME) for the cell
 *   object of a cell/free variable, "<stack of F()>" for value-stack
 *   entries, "<globals of F()>", "<builtins of F()>"; 3.12+ "<class NAME>"
 *   (STATIC_TYPE) for every static builtin type in the interpreter's type
 *   state. F is co_qualname (3.11+) or co_name, FILE the full co_filename,
 *   LINE the line threads() reports (-1 for frames it does not show).
 *   The same address can come several times (globals of many frames, the
 *   builtins dict): the caller picks one. A superset of roots().
 *
 * edge_label(src, dst): the first way, in tp_traverse order, src refers to
 *   dst (two attributes holding the same object give the first name).
 *   False when for_each_ref(src) does not report dst.
 *
 * preview(addr): int (decimal up to 40 digits, else "int with N digits"),
 *   bool, None, float (repr), str/bytes (repr of the first 80 code points /
 *   bytes; redact: "<str len=N>", "<bytes len=N>"), "len=N" of list,
 *   tuple, dict (and subclasses), set, frozenset, deque; "" otherwise.
 *   False only when addr is not an object.
 */

/* Kinds of localsplus slots (Include/internal/pycore_code.h, 3.11+). */
enum { CO_FAST_CELL = 0x40, CO_FAST_FREE = 0x80 };

/* Offset of a tuple's ob_item (3.14 added ob_hash before it). */
#define TUPLE_ITEMS(py) ((uint64_t)((py)->o->tuple_ob_item ? (py)->o->tuple_ob_item : 24))

typedef void local_fn(void *arg, const char *name, uint64_t value, uint64_t cell);

static bool is_kind(struct pha_py *py, uint64_t obj, enum kind k)
{
	struct tinfo *ti = obj ? cpy_type_of(py, u64_or0(py, obj + 8)) : NULL;
	return ti && ti->kind == k;
}

/* Number of valid localsplus slots of a 3.11+ interpreter frame, as
 * iframe_refs counts them; -1 if unknown. */
static int64_t iframe_top(struct pha_py *py, uint64_t f)
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

/* The object in a frame slot (3.14+ stackref tag rules), 0 if none. */
static uint64_t slot_obj(struct pha_py *py, uint64_t field)
{
	uint64_t v = u64_or0(py, field);
	if (py->o->stackref)
		return ((v & 3) == 3 || !(v & ~3ULL)) ? 0 : v & ~3ULL;
	return v;
}

/* Call fn for every local, cell and free variable of a frame, in
 * localsplusnames (3.11+) or varnames + cellvars + freevars order. A cell
 * slot gives the cell's content as value and the cell as `cell`; unbound
 * slots give value 0. f: interpreter frame (3.11+) or frame object. */
static void each_local(struct pha_py *py, uint64_t f, uint64_t code, local_fn *fn, void *arg)
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
				if (!cpy_read_str(py, u64_or0(py, tabs[t] + TUPLE_ITEMS(py) + 8 * i), name, sizeof(name)))
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
		if (!cpy_read_str(py, u64_or0(py, names + TUPLE_ITEMS(py) + 8 * i), name, sizeof(name)))
			strcpy(name, "?");
		uint64_t v = slot_obj(py, f + o->if_localsplus + 8 * i);
		uint64_t cell = 0;
		uint8_t k = kinds ? u8_or0(py, kinds + 32 + i) : 0;
		if ((k & (CO_FAST_CELL | CO_FAST_FREE)) && is_kind(py, v, K_CELL)) {
			cell = v;
			v = u64_or0(py, cell + 16);
		}
		fn(arg, name, v, cell);
	}
}

/* -- frame locals for threads() -- */

struct locals_acc {
	struct frame_buf *fb;
	struct pha_py *py;
	struct pha_local_info *v;
	size_t n, cap;
	bool oom;
};

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
	each_local(py, f, code, on_local_acc, &a);
	if (a.v)
		fb_keep(fb, a.v);
	fi->nlocals = a.oom ? 0 : a.n;
	fi->locals = a.oom ? NULL : a.v;
}

/* -- labelled roots -- */

struct lroots {
	struct pha_py *py;
	void (*cb)(void *arg, const struct pha_root *root);
	void *arg;
	uint64_t thread_id;
	const char *func, *file;
	int line;
};

static void emit_root(struct lroots *r, uint64_t addr, enum pha_root_kind kind, uint64_t tid,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void emit_root(struct lroots *r, uint64_t addr, enum pha_root_kind kind, uint64_t tid,
		      const char *fmt, ...)
{
	if (!addr)
		return;
	char label[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(label, sizeof(label), fmt, ap);
	va_end(ap);
	struct pha_root root = {.addr = addr, .kind = kind, .label = label, .thread_id = tid};
	r->cb(r->arg, &root);
}

static void on_local_root(void *arg, const char *name, uint64_t value, uint64_t cell)
{
	struct lroots *r = arg;
	if (cell)
		emit_root(r, cell, PHA_ROOT_FRAME, r->thread_id, "<cell '%s' in %s() at %s:%d>", name,
			  r->func, r->file, r->line);
	emit_root(r, value, PHA_ROOT_FRAME_LOCAL, r->thread_id, "<local '%s' in %s() at %s:%d>",
		  name, r->func, r->file, r->line);
}

static void frame_names(struct pha_py *py, uint64_t code, char *func, size_t fsize, char *file,
			size_t fisize)
{
	const struct pha_py_offsets *o = py->o;
	if (!code || !cpy_read_str(py, u64_or0(py, code + (o->co_qualname ? o->co_qualname : o->co_name)),
			       func, fsize))
		snprintf(func, fsize, "?");
	if (!code || !cpy_read_str(py, u64_or0(py, code + o->co_filename), file, fisize))
		snprintf(file, fisize, "?");
}

static void thread_lroots(struct lroots *r, uint64_t ts)
{
	struct pha_py *py = r->py;
	const struct pha_py_offsets *o = py->o;
	uint64_t tid = u64_or0(py, ts + o->ts_thread_id);
	r->thread_id = tid;
	unsigned long long t = (unsigned long long)tid;
	emit_root(r, u64_or0(py, ts + o->ts_dict), PHA_ROOT_THREAD, tid, "<thread 0x%llx dict>", t);
	if (o->ts_context)
		emit_root(r, u64_or0(py, ts + o->ts_context), PHA_ROOT_THREAD, tid,
			  "<thread 0x%llx context>", t);
	if (o->frame_objects) {
		emit_root(r, u64_or0(py, ts + o->ts_curexc_type), PHA_ROOT_THREAD, tid,
			  "<thread 0x%llx current exception type>", t);
		emit_root(r, u64_or0(py, ts + o->ts_curexc), PHA_ROOT_THREAD, tid,
			  "<thread 0x%llx current exception>", t);
		emit_root(r, u64_or0(py, ts + o->ts_curexc_tb), PHA_ROOT_THREAD, tid,
			  "<thread 0x%llx current traceback>", t);
		uint64_t item = u64_or0(py, ts + o->ts_exc_value_item);
		static const char *const what[3] = {"type", "value", "traceback"};
		for (size_t n = 0; item && n < MAX_FRAMES; n++) {
			for (unsigned i = 0; i < 3; i++)
				emit_root(r, u64_or0(py, item + 8 * i), PHA_ROOT_THREAD, tid,
					  "<thread 0x%llx exc_info %s>", t, what[i]);
			item = u64_or0(py, item + o->esi_size - 8);
		}
	} else {
		emit_root(r, u64_or0(py, ts + o->ts_curexc), PHA_ROOT_THREAD, tid,
			  "<thread 0x%llx current exception>", t);
		uint64_t item = u64_or0(py, ts + o->ts_exc_value_item);
		if (item)
			emit_root(r, u64_or0(py, item), PHA_ROOT_THREAD, tid,
				  "<thread 0x%llx exc_info value>", t);
	}

	char func[512], file[1024];
	if (o->frame_objects) {
		uint64_t f = u64_or0(py, ts + o->ts_frame);
		for (size_t nf = 0; f && nf < MAX_FRAMES; nf++) {
			uint64_t code = u64_or0(py, f + o->fo_code);
			bool ok = is_code(py, code);
			frame_names(py, ok ? code : 0, func, sizeof(func), file, sizeof(file));
			r->func = func;
			r->file = file;
			r->line = ok ? frame_line_v1(py, f, code) : -1;
			emit_root(r, f, PHA_ROOT_FRAME, tid, "<frame of %s()>", func);
			if (ok)
				each_local(py, f, code, on_local_root, r);
			emit_root(r, code, PHA_ROOT_FRAME, tid, "<code of %s()>", func);
			emit_root(r, u64_or0(py, f + o->fo_globals), PHA_ROOT_FRAME, tid,
				  "<globals of %s()>", func);
			emit_root(r, u64_or0(py, f + o->fo_builtins), PHA_ROOT_FRAME, tid,
				  "<builtins of %s()>", func);
			emit_root(r, u64_or0(py, f + o->fo_locals), PHA_ROOT_FRAME, tid,
				  "<locals dict of %s()>", func);
			uint64_t vs = u64_or0(py, f + o->fo_valuestack);
			uint64_t depth = 0;
			if (vs && o->fo_stackdepth) {
				int32_t d = i32_or0(py, f + o->fo_stackdepth);
				depth = d > 0 && d < (1 << 24) ? (uint64_t)d : 0;
			} else if (vs) {
				uint64_t top = u64_or0(py, f + o->fo_stacktop);
				depth = top > vs && top - vs < (8ULL << 24) ? (top - vs) / 8 : 0;
			}
			for (uint64_t i = 0; i < depth; i++)
				emit_root(r, u64_or0(py, vs + 8 * i), PHA_ROOT_FRAME, tid,
					  "<stack of %s()>", func);
			f = u64_or0(py, f + o->fo_back);
		}
		return;
	}
	uint64_t f = first_frame(py, ts);
	for (size_t nf = 0; f && nf < MAX_FRAMES; nf++) {
		if (frame_zeroed(py, f))
			break;
		if (u8_or0(py, f + o->if_owner) <= OWNED_BY_FRAME_OBJECT) {
			uint64_t code;
			int64_t lasti;
			bool vis = frame_visible(py, f, &code, &lasti);
			if (!vis)
				code = frame_obj_at(py, f + o->if_code);
			bool ok = is_code(py, code);
			frame_names(py, ok ? code : 0, func, sizeof(func), file, sizeof(file));
			r->func = func;
			r->file = file;
			r->line = vis ? code_line(py, code, lasti) : -1;
			emit_root(r, u64_or0(py, f + o->if_frame_obj), PHA_ROOT_FRAME, tid,
				  "<frame of %s()>", func);
			emit_root(r, u64_or0(py, f + o->if_locals), PHA_ROOT_FRAME, tid,
				  "<locals dict of %s()>", func);
			emit_root(r, frame_obj_at(py, f + o->if_func), PHA_ROOT_FRAME, tid,
				  "<function %s()>", func);
			emit_root(r, frame_obj_at(py, f + o->if_code), PHA_ROOT_FRAME, tid,
				  "<code of %s()>", func);
			uint64_t nplus = 0;
			if (ok) {
				each_local(py, f, code, on_local_root, r);
				nplus = tuple_len(py, u64_or0(py, code + o->co_localsplusnames));
			}
			int64_t top = iframe_top(py, f);
			for (int64_t i = (int64_t)nplus; i < top; i++)
				emit_root(r, slot_obj(py, f + o->if_localsplus + 8 * (uint64_t)i),
					  PHA_ROOT_FRAME, tid, "<stack of %s()>", func);
			emit_root(r, u64_or0(py, f + o->if_globals), PHA_ROOT_FRAME, tid,
				  "<globals of %s()>", func);
			emit_root(r, u64_or0(py, f + o->if_builtins), PHA_ROOT_FRAME, tid,
				  "<builtins of %s()>", func);
		}
		f = u64_or0(py, f + o->if_previous);
	}
}

struct pha_error *pha_cpython_labelled_roots(struct pha_py *py,
					     void (*cb)(void *arg, const struct pha_root *root),
					     void *arg)
{
	const struct pha_py_offsets *o = py->o;
	struct lroots r = {.py = py, .cb = cb, .arg = arg};
	for (size_t ii = 0; ii < py->ninterps; ii++) {
		uint64_t is = py->interps[ii];
		emit_root(&r, u64_or0(py, is + o->is_modules), PHA_ROOT_MODULES, 0, "sys.modules");
		emit_root(&r, u64_or0(py, is + o->is_sysdict), PHA_ROOT_SYSDICT, 0, "sys.__dict__");
		emit_root(&r, u64_or0(py, is + o->is_builtins), PHA_ROOT_BUILTINS, 0, "builtins");
		if (o->is_interned)
			emit_root(&r, u64_or0(py, is + o->is_interned), PHA_ROOT_INTERNED, 0,
				  "<interned strings>");
		uint64_t ts = u64_or0(py, is + o->is_threads_head);
		for (size_t nt = 0; ts && nt < MAX_THREADS; nt++) {
			thread_lroots(&r, ts);
			ts = u64_or0(py, ts + o->ts_next);
		}
	}
	/* Static builtin types the interpreter keeps state for (3.12+). */
	if (o->static_type_dict_in_interp && o->is_types_builtins && py->ninterps &&
	    o->static_builtin_state_size) {
		uint64_t base = py->interps[0] + o->is_types_builtins;
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t t = u64_or0(py, base + i * o->static_builtin_state_size);
			struct tinfo *ti = t ? cpy_type_of(py, t) : NULL;
			if (!ti)
				break;
			if (ti->flags & TPF_HEAPTYPE)
				continue;
			emit_root(&r, t, PHA_ROOT_STATIC_TYPE, 0, "<class %s>",
				  pha_cpython_type_name(py, t));
		}
	}
	return NULL;
}

/* -- edge labels -- */

/* A dict key as a subscript: ['name'] (escaped, 40 code points at most),
 * [42]/[None]/[True] for small ints and singletons, else [<TYPE>]. */
static void key_label(struct pha_py *py, uint64_t key, bool redact, char *buf, size_t size)
{
	struct tinfo *ti = key ? cpy_type_of(py, u64_or0(py, key + 8)) : NULL;
	size_t pos = 0;
	if (ti && ti->kind == K_STR) {
		if (redact) {
			snprintf(buf, size, "[<str>]");
			return;
		}
		uint32_t cp[40];
		size_t n;
		int64_t len;
		if (cpy_str_codepoints(py, key, cp, 40, &n, &len)) {
			cpy_put(buf, size, &pos, "[", 1);
			cpy_put_quoted(buf, size, &pos, cp, n, false);
			if (len > 40)
				cpy_put(buf, size, &pos, "...", 3);
			cpy_put(buf, size, &pos, "]", 1);
			return;
		}
	}
	if (ti && !(ti->flags & TPF_HEAPTYPE)) {
		char v[128];
		const char *tn = pha_cpython_type_name(py, ti->addr);
		if ((ti->kind == K_INT || !strcmp(tn, "NoneType")) &&
		    pha_cpython_preview(py, key, redact, v, sizeof(v)) && v[0] &&
		    strncmp(v, "int with", 8) != 0 && strlen(v) <= 20) {
			snprintf(buf, size, "[%s]", v);
			return;
		}
	}
	snprintf(buf, size, "[<%s>]", ti ? pha_cpython_type_name(py, ti->addr) : "?");
}

/* A dict's reference to dst: its value under a key, or the key itself. */
static bool dict_label(struct pha_py *py, uint64_t d, uint64_t dst, bool redact, char *buf,
		       size_t size)
{
	struct dkeys k;
	uint64_t values = u64_or0(py, d + 40);
	bool v1 = py->o->dict_keys_v1;
	if (!v1)
		values = values_array(py, values);
	if (!(v1 ? cpy_read_keys_v1(py, u64_or0(py, d + 32), &k) : cpy_read_keys(py, u64_or0(py, d + 32), &k)))
		return false;
	size_t esize = v1 || k.kind == DICT_KEYS_GENERAL ? 24 : 16;
	size_t koff = esize == 24 ? 8 : 0;
	for (int64_t i = 0; i < k.nentries && i < (1LL << 32); i++) {
		uint64_t e = k.entries + esize * (uint64_t)i;
		uint64_t key = u64_or0(py, e + koff);
		uint64_t val = values ? u64_or0(py, values + 8 * (uint64_t)i) : u64_or0(py, e + koff + 8);
		if (!key || !val)
			continue;
		if (val == dst) {
			key_label(py, key, redact, buf, size);
			return true;
		}
	}
	for (int64_t i = 0; i < k.nentries && i < (1LL << 32); i++) {
		uint64_t e = k.entries + esize * (uint64_t)i;
		if (u64_or0(py, e + koff) == dst) {
			snprintf(buf, size, "<key>");
			return true;
		}
	}
	return false;
}

/* The attribute name of entry i of a type's cached (shared) keys. */
static void cached_key_name(struct pha_py *py, const struct tinfo *ti, uint64_t i, char *buf,
			    size_t size)
{
	struct dkeys k;
	uint64_t key = 0;
	if (py->o->dict_keys_v1) {
		if (cpy_read_keys_v1(py, ti->cached_keys, &k))
			key = u64_or0(py, k.entries + 24 * i + 8);
	} else if (cpy_read_keys(py, ti->cached_keys, &k)) {
		key = u64_or0(py, k.entries + (k.kind == DICT_KEYS_GENERAL ? 24 * i + 8 : 16 * i));
	}
	char name[128];
	if (key && cpy_read_str(py, key, name, sizeof(name)))
		snprintf(buf, size, ".%s", name);
	else
		snprintf(buf, size, "<attribute %llu>", (unsigned long long)i);
}

/* Name of the PyMemberDef at offset off along the heap types of t
 * (__slots__), or of the static type's members. */
static bool member_name(struct pha_py *py, uint64_t t, uint64_t off, char *buf, size_t size)
{
	for (int depth = 0; t && depth < 64; depth++) {
		uint64_t flags = u64_or0(py, t + TP_FLAGS);
		uint64_t members, count;
		if (flags & TPF_HEAPTYPE) {
			uint64_t meta = u64_or0(py, t + 8);
			members = t + u64_or0(py, meta + TP_BASICSIZE);
			count = u64_or0(py, t + 16);
		} else {
			members = u64_or0(py, t + TP_MEMBERS);
			count = members ? 4096 : 0;
		}
		for (uint64_t i = 0; i < count && i < 4096; i++) {
			uint8_t m[40];
			if (!rd(py, members + 40 * i, m, sizeof(m)))
				break;
			uint64_t name, moff;
			memcpy(&name, m, 8);
			memcpy(&moff, m + 16, 8);
			if (!name)
				break;
			char s[128];
			if (moff == off && read_cstr(py, name, s, sizeof(s))) {
				snprintf(buf, size, ".%s", s);
				return true;
			}
		}
		t = u64_or0(py, t + TP_BASE);
	}
	return false;
}

struct field_name {
	uint32_t off;
	const char *name;
};

static bool fields_label(struct pha_py *py, uint64_t a, uint64_t dst,
			 const struct field_name *f, size_t n, char *buf, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i].off && u64_or0(py, a + f[i].off) == dst) {
			snprintf(buf, size, "%s", f[i].name);
			return true;
		}
	}
	return false;
}
#define FIELDS(...) ((const struct field_name[]){__VA_ARGS__}), \
	(sizeof((const struct field_name[]){__VA_ARGS__}) / sizeof(struct field_name))

/* A 3.11+ interpreter frame's reference to dst. */
static bool iframe_label(struct pha_py *py, uint64_t f, uint64_t dst, const char *local_fmt,
			 char *buf, size_t size)
{
	const struct pha_py_offsets *o = py->o;
	if (u64_or0(py, f + o->if_frame_obj) == dst) {
		snprintf(buf, size, "<frame>");
		return true;
	}
	if (u64_or0(py, f + o->if_locals) == dst) {
		snprintf(buf, size, "<locals dict>");
		return true;
	}
	if (frame_obj_at(py, f + o->if_func) == dst) {
		snprintf(buf, size, "<function>");
		return true;
	}
	uint64_t code = frame_obj_at(py, f + o->if_code);
	if (code == dst) {
		snprintf(buf, size, "<code>");
		return true;
	}
	int64_t top = iframe_top(py, f);
	uint64_t names = code ? u64_or0(py, code + o->co_localsplusnames) : 0;
	uint64_t nplus = tuple_len(py, names);
	if (top < (int64_t)nplus)
		top = (int64_t)nplus;
	for (int64_t i = 0; i < top; i++) {
		if (slot_obj(py, f + o->if_localsplus + 8 * (uint64_t)i) != dst)
			continue;
		char name[128];
		if ((uint64_t)i < nplus &&
		    cpy_read_str(py, u64_or0(py, names + TUPLE_ITEMS(py) + 8 * (uint64_t)i), name, sizeof(name)))
			snprintf(buf, size, local_fmt, name);
		else
			snprintf(buf, size, "<stack>");
		return true;
	}
	return false;
}

/* A <= 3.10 frame object's reference to dst. */
static bool frame_label_v1(struct pha_py *py, uint64_t f, uint64_t dst, const char *local_fmt,
			   char *buf, size_t size)
{
	const struct pha_py_offsets *o = py->o;
	if (fields_label(py, f, dst,
			 FIELDS({o->fo_back, ".f_back"}, {o->fo_code, ".f_code"},
				{o->fo_builtins, ".f_builtins"}, {o->fo_globals, ".f_globals"},
				{o->fo_locals, ".f_locals"}, {o->fo_trace, ".f_trace"}),
			 buf, size))
		return true;
	uint64_t code = u64_or0(py, f + o->fo_code);
	if (!code)
		return false;
	/* each_local resolves cells; the frame holds the cell itself. */
	uint64_t slot = 0, n = cpy_legacy_frame_nslots(py, code);
	for (; slot < n && slot < (1u << 24); slot++) {
		if (u64_or0(py, f + o->fo_localsplus + 8 * slot) == dst)
			break;
	}
	if (slot < n) {
		uint64_t tabs[3] = {u64_or0(py, code + o->co_varnames),
				    u64_or0(py, code + o->co_cellvars),
				    u64_or0(py, code + o->co_freevars)};
		int32_t nl = i32_or0(py, code + o->co_nlocals);
		uint64_t lens[3] = {nl > 0 ? (uint64_t)nl : 0, tuple_len(py, tabs[1]),
				    tuple_len(py, tabs[2])};
		uint64_t i = slot;
		for (int t = 0; t < 3; t++) {
			if (i < lens[t]) {
				char name[128];
				if (cpy_read_str(py, u64_or0(py, tabs[t] + TUPLE_ITEMS(py) + 8 * i), name, sizeof(name))) {
					snprintf(buf, size, local_fmt, name);
					return true;
				}
				break;
			}
			i -= lens[t];
		}
		snprintf(buf, size, "<local>");
		return true;
	}
	uint64_t vs = u64_or0(py, f + o->fo_valuestack);
	for (uint64_t i = 0; vs && i < 4096; i++) {
		uint64_t top = o->fo_stackdepth ? vs + 8 * (uint64_t)(i32_or0(py, f + o->fo_stackdepth) > 0 ? i32_or0(py, f + o->fo_stackdepth) : 0)
						: u64_or0(py, f + o->fo_stacktop);
		if (vs + 8 * i >= top)
			break;
		if (u64_or0(py, vs + 8 * i) == dst) {
			snprintf(buf, size, "<stack>");
			return true;
		}
	}
	return false;
}

struct find_ref {
	uint64_t dst;
	bool found;
};

static void on_find_ref(void *arg, uint64_t addr, unsigned flags)
{
	struct find_ref *f = arg;
	if (addr == f->dst)
		f->found = true;
}

static bool kind_label(struct pha_py *py, uint64_t a, uint64_t dst, struct tinfo *ti, bool redact,
		       char *buf, size_t size)
{
	const struct pha_py_offsets *o = py->o;
	switch (ti->kind) {
	case K_TUPLE:
	case K_LIST: {
		int64_t n = i64_or0(py, a + 16);
		uint64_t items = ti->kind == K_TUPLE ? a + o->tuple_ob_item : u64_or0(py, a + 24);
		for (int64_t i = 0; i < n && i < (1LL << 32); i++) {
			if (u64_or0(py, items + 8 * (uint64_t)i) == dst) {
				snprintf(buf, size, "[%lld]", (long long)i);
				return true;
			}
		}
		return false;
	}
	case K_DICT:
		return dict_label(py, a, dst, redact, buf, size);
	case K_DEFAULTDICT:
		if (u64_or0(py, a + 48) == dst) {
			snprintf(buf, size, ".default_factory");
			return true;
		}
		return dict_label(py, a, dst, redact, buf, size);
	case K_ODICT:
		if (dict_label(py, a, dst, redact, buf, size))
			return true;
		if (u64_or0(py, a + o->odict_inst_dict) == dst) {
			snprintf(buf, size, ".__dict__");
			return true;
		}
		{
			uint64_t node = u64_or0(py, a + o->odict_first);
			for (uint64_t i = 0; node && i < MAX_LIST_WALK; i++) {
				if (u64_or0(py, node) == dst) {
					snprintf(buf, size, "<key>");
					return true;
				}
				node = u64_or0(py, node + 16);
			}
		}
		return false;
	case K_SET: {
		uint64_t mask = u64_or0(py, a + 32), table = u64_or0(py, a + 40);
		for (uint64_t i = 0; i <= mask && mask < MAX_CONTAINER; i++) {
			if (u64_or0(py, table + 16 * i) == dst) {
				snprintf(buf, size, "<set item>");
				return true;
			}
		}
		return false;
	}
	case K_DEQUE: {
		int64_t n = i64_or0(py, a + 16);
		uint64_t block = u64_or0(py, a + o->deque_leftblock);
		uint64_t idx = u64_or0(py, a + o->deque_leftindex);
		for (int64_t i = 0; i < n && block && idx < 64; i++) {
			if (u64_or0(py, block + 8 + 8 * idx) == dst) {
				snprintf(buf, size, "[%lld]", (long long)i);
				return true;
			}
			if (++idx == 64) {
				block = u64_or0(py, block + 520);
				idx = 0;
			}
		}
		return false;
	}
	case K_FUNCTION:
		return fields_label(py, a, dst,
				    FIELDS({o->fn_code, ".__code__"}, {o->fn_globals, ".__globals__"},
					   {o->fn_builtins, ".__builtins__"}, {o->fn_module, ".__module__"},
					   {o->fn_defaults, ".__defaults__"},
					   {o->fn_kwdefaults, ".__kwdefaults__"}, {o->fn_doc, ".__doc__"},
					   {o->fn_name, ".__name__"}, {o->fn_dict, ".__dict__"},
					   {o->fn_closure, ".__closure__"},
					   {o->fn_annotations, ".__annotations__"},
					   {o->fn_qualname, ".__qualname__"},
					   {o->fn_typeparams, ".__type_params__"},
					   {o->fn_annotate, ".__annotate__"}),
				    buf, size);
	case K_CODE:
		return fields_label(py, a, dst,
				    FIELDS({o->co_consts, ".co_consts"}, {o->co_names, ".co_names"},
					   {o->co_filename, ".co_filename"}, {o->co_name, ".co_name"},
					   {o->co_qualname, ".co_qualname"},
					   {o->co_linetable, ".co_linetable"},
					   {o->co_exceptiontable, ".co_exceptiontable"},
					   {o->co_localsplusnames, "<localsplusnames>"},
					   {o->co_localspluskinds, "<localspluskinds>"},
					   {o->co_code, ".co_code"}, {o->co_varnames, ".co_varnames"},
					   {o->co_freevars, ".co_freevars"},
					   {o->co_cellvars, ".co_cellvars"}),
				    buf, size);
	case K_CELL:
		return fields_label(py, a, dst, FIELDS({16, "<cell>"}), buf, size);
	case K_METHOD:
		return fields_label(py, a, dst, FIELDS({16, ".__func__"}, {24, ".__self__"}), buf, size);
	case K_INSTANCEMETHOD:
		return fields_label(py, a, dst, FIELDS({16, ".__func__"}), buf, size);
	case K_MODULE:
		return fields_label(py, a, dst, FIELDS({16, ".__dict__"}, {o->mod_name ? o->mod_name : 48, ".__name__"}),
				    buf, size);
	case K_FRAME:
		if (o->frame_objects)
			return frame_label_v1(py, a, dst, "<local '%s'>", buf, size);
		if (fields_label(py, a, dst, FIELDS({o->fo_back, ".f_back"}, {o->fo_trace, ".f_trace"},
						    {o->fo_extra[0], "<extra locals>"},
						    {o->fo_extra[1], "<locals cache>"},
						    {o->fo_extra[2], "<overwritten locals>"}),
				 buf, size))
			return true;
		{
			uint64_t f = u64_or0(py, a + o->fo_frame);
			return f && iframe_label(py, f, dst, "<local '%s'>", buf, size);
		}
	case K_GEN:
	case K_CORO:
	case K_ASYNCGEN:
		if (o->frame_objects) {
			uint64_t fr = u64_or0(py, a + o->gen_frame);
			if (fr == dst) {
				snprintf(buf, size, "<frame>");
				return true;
			}
		}
		if (fields_label(py, a, dst,
				 FIELDS({o->gen_code, "<code>"}, {o->gen_name, ".__name__"},
					{o->gen_qualname, ".__qualname__"},
					{o->gen_exc_value, "<exception state>"},
					{o->gen_origin, ti->kind == K_ASYNCGEN ? "<finalizer>" : "<origin>"}),
				 buf, size))
			return true;
		if (o->frame_objects) {
			uint64_t fr = u64_or0(py, a + o->gen_frame);
			for (unsigned i = 1; i < 3; i++) {
				if (u64_or0(py, a + o->gen_exc_value + 8 * i) == dst) {
					snprintf(buf, size, "<exception state>");
					return true;
				}
			}
			return fr && frame_label_v1(py, fr, dst, "<frame local '%s'>", buf, size);
		}
		return iframe_label(py, a + o->gen_iframe, dst, "<frame local '%s'>", buf, size);
	case K_WEAKREF:
		return fields_label(py, a, dst, FIELDS({24, "<callback>"}, {16, "<referent (weak)>"}), buf,
				    size);
	case K_PROPERTY:
		return fields_label(py, a, dst,
				    FIELDS({16, ".fget"}, {24, ".fset"}, {32, ".fdel"}, {40, ".__doc__"},
					   {48, ".__name__"}),
				    buf, size);
	case K_CLASSMETHOD:
		return fields_label(py, a, dst, FIELDS({16, ".__func__"}, {24, ".__dict__"}), buf, size);
	case K_EXCEPTION:
		if (fields_label(py, a, dst,
				 FIELDS({o->exc_dict, ".__dict__"}, {o->exc_args, ".args"},
					{o->exc_notes, ".__notes__"}, {o->exc_traceback, ".__traceback__"},
					{o->exc_context, ".__context__"}, {o->exc_cause, ".__cause__"}),
				 buf, size))
			return true;
		for (uint32_t i = 0; i < ti->nextra; i++) {
			if (u64_or0(py, a + ti->extra[i]) == dst)
				return member_name(py, ti->solid, ti->extra[i], buf, size) ||
				       snprintf(buf, size, "<ref at +%u>", ti->extra[i]) >= 0;
		}
		return false;
	case K_TRACEBACK:
		return fields_label(py, a, dst, FIELDS({16, ".tb_next"}, {24, ".tb_frame"}), buf, size);
	case K_CMETHOD:
		if (fields_label(py, a, dst, FIELDS({56, "<defining class>"}), buf, size))
			return true;
		/* fall through */
	case K_CFUNCTION:
		return fields_label(py, a, dst, FIELDS({24, ".__self__"}, {32, ".__module__"}), buf, size);
	case K_DESCR:
		return fields_label(py, a, dst,
				    FIELDS({16, ".__objclass__"}, {24, ".__name__"}, {32, ".__qualname__"}),
				    buf, size);
	case K_METHODWRAPPER:
		return fields_label(py, a, dst, FIELDS({16, "<descriptor>"}, {24, ".__self__"}), buf, size);
	case K_MAPPINGPROXY:
		return fields_label(py, a, dst, FIELDS({16, "<mapping>"}), buf, size);
	case K_SLICE:
		return fields_label(py, a, dst, FIELDS({16, ".start"}, {24, ".stop"}, {32, ".step"}), buf,
				    size);
	case K_RANGE:
		return fields_label(py, a, dst,
				    FIELDS({16, ".start"}, {24, ".stop"}, {32, ".step"}, {40, "<length>"}),
				    buf, size);
	case K_TYPE: {
		struct tinfo *self = cpy_type_of(py, a);
		bool heap = self && (self->flags & TPF_HEAPTYPE);
		/* tp_dict, or 3.12+ a static builtin type's dict in the interpreter. */
		struct find_ref fr = {.dst = dst};
		if (u64_or0(py, a + TP_DICT) == dst) {
			snprintf(buf, size, "<class dict>");
			return true;
		}
		if (fields_label(py, a, dst,
				 FIELDS({TP_MRO, "<mro>"}, {TP_BASES, "<bases>"}, {TP_BASE, "<base>"},
					{TP_CACHE, "<method cache>"},
					{heap ? o->ht_module : 0, "<module>"},
					{heap ? o->ht_name : 0, ".__name__"},
					{heap ? o->ht_qualname : 0, ".__qualname__"},
					{heap ? o->ht_slots : 0, ".__slots__"},
					{TP_SUBCLASSES, "<subclasses>"}, {TP_WEAKLIST, "<weakrefs>"}),
				 buf, size))
			return true;
		cpy_type_refs(py, a, on_find_ref, &fr);
		if (fr.found) {
			/* The remaining references: the static type's dict in the
			 * interpreter, or attribute names of the cached keys. */
			struct dkeys k;
			bool named = false;
			if (heap && !o->dict_keys_v1 && cpy_read_keys(py, self->cached_keys, &k)) {
				for (int64_t i = 0; i < k.nentries; i++)
					named |= u64_or0(py, k.entries + 16 * (uint64_t)i) == dst;
			} else if (heap && o->dict_keys_v1 && cpy_read_keys_v1(py, self->cached_keys, &k)) {
				for (int64_t i = 0; i < k.nentries; i++)
					named |= u64_or0(py, k.entries + 24 * (uint64_t)i + 8) == dst;
			}
			snprintf(buf, size, named ? "<attribute name>" : "<class dict>");
			return true;
		}
		return false;
	}
	default:
		return false;
	}
}

bool pha_cpython_edge_label(struct pha_py *py, uint64_t src, uint64_t dst, bool redact, char *buf,
			    size_t size)
{
	const struct pha_py_offsets *o = py->o;
	if (!size)
		return false;
	buf[0] = 0;
	uint64_t type = u64_or0(py, src + 8);
	struct tinfo *ti = cpy_type_of(py, type);
	if (!ti)
		return false;
	bool heap = ti->flags & TPF_HEAPTYPE;
	if (heap) {
		/* subtype_traverse's order: slots, the instance dict, the type. */
		for (uint32_t i = 0; i < ti->nslots; i++) {
			if (u64_or0(py, src + ti->slots[i]) == dst) {
				if (!member_name(py, type, ti->slots[i], buf, size))
					snprintf(buf, size, "<slot at +%u>", ti->slots[i]);
				return true;
			}
		}
		if ((ti->flags & TPF_MANAGED_DICT) && !o->dict_keys_v1) {
			uint64_t values = 0, dict = 0, nvalues = 0;
			if (o->managed_dict_plain) {
				dict = u64_or0(py, src - 24);
				uint8_t vh[4];
				uint64_t v = src + ti->basicsize;
				if ((ti->flags & TPF_INLINE_VALUES) && rd(py, v, vh, sizeof(vh)) && vh[3]) {
					values = v + 8;
					nvalues = vh[0];
				}
			} else {
				if (o->managed_dict_tagged) {
					uint64_t w = u64_or0(py, src - 24);
					if (w & 1)
						values = w + 1;
					else
						dict = w;
				} else {
					values = u64_or0(py, src - 32);
					dict = u64_or0(py, src - 24);
				}
				struct dkeys k;
				if (values && cpy_read_keys(py, ti->cached_keys, &k))
					nvalues = (uint64_t)k.nentries;
			}
			for (uint64_t i = 0; values && i < nvalues; i++) {
				if (u64_or0(py, values + 8 * i) == dst) {
					cached_key_name(py, ti, i, buf, size);
					return true;
				}
			}
			if (dict && dict == dst) {
				snprintf(buf, size, ".__dict__");
				return true;
			}
		} else if (ti->dictoffset) {
			int64_t off = ti->dictoffset;
			if (off < 0) {
				int64_t n = ti->itemsize ? i64_or0(py, src + 16) : 0;
				uint64_t sz = ti->basicsize + (uint64_t)(n < 0 ? -n : n) * ti->itemsize;
				off += (int64_t)((sz + 7) & ~7ULL);
			}
			if (off > 0 && u64_or0(py, src + (uint64_t)off) == dst) {
				snprintf(buf, size, ".__dict__");
				return true;
			}
		}
		if (type == dst) {
			snprintf(buf, size, "<type>");
			return true;
		}
	}
	if (kind_label(py, src, dst, ti, redact, buf, size))
		return true;
	/* Anything else for_each_ref reports: name it by its offset. */
	struct pha_object_info info;
	if (pha_cpython_object_info(py, src, &info))
		return false;
	struct find_ref fr = {.dst = dst};
	pha_cpython_for_each_ref(py, src, &info, on_find_ref, &fr);
	if (!fr.found)
		return false;
	uint64_t end = ti->basicsize;
	int64_t n = ti->itemsize == 8 ? i64_or0(py, src + 16) : 0;
	end += n > 0 && n < (1 << 20) ? (uint64_t)n * 8 : 0;
	for (uint64_t off = 16; off + 8 <= end && off < MAX_CONSERVATIVE_SCAN; off += 8) {
		if (u64_or0(py, src + off) == dst) {
			snprintf(buf, size, "<ref at +%llu>", (unsigned long long)off);
			return true;
		}
	}
	snprintf(buf, size, "<ref>");
	return true;
}
