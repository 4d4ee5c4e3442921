/* Roots: what the interpreter itself holds. roots() lists the addresses
 * (to find objects no GC object refers to); labelled_roots() names each
 * one for the why-is-it-alive paths.
 *
 * What the report side can rely on from labelled_roots() (3.8 - 3.15):
 *   per interpreter "sys.modules", "sys.__dict__", "builtins",
 *   "<interned strings>" (where the layout knows the dict);
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
 * Versions: <= 3.10 a thread state holds the current exception as
 * curexc type/value/traceback and an exc_info chain of _PyErr_StackItem
 * {type, value, traceback, previous}; 3.11 kept only exc_value in
 * _PyErr_StackItem (bpo-45711) and the walker reads curexc_value, 3.12
 * has one current exception (gh-101578; both are ts_curexc). The
 * contextvars context is PyThreadState.context (ts_context). 3.12+ keep
 * static builtin types' state in the interpreter
 * (static_type_dict_in_interp, is_types_builtins). frames.c has the
 * versions of the frames.
 */
#include "cpython_int.h"

#include <stdarg.h>
#include <stdio.h>

/* ---- roots() ---- */

/* Roots of 3.8 - 3.10 threads: the thread-state objects and every frame
 * object on the thread's stack (their contents are their referents). */
static void thread_roots_v1(struct pha_py *py, uint64_t ts, pha_ref_fn *cb, void *arg,
			    uint64_t *budget)
{
	const struct pha_py_offsets *o = py->o;
	ref_at(py, cb, arg, ts + o->ts_dict, 0);
	ref_at(py, cb, arg, ts + o->ts_curexc_type, 0);
	ref_at(py, cb, arg, ts + o->ts_curexc, 0);
	ref_at(py, cb, arg, ts + o->ts_curexc_tb, 0);
	/* exc_info -> _PyErr_StackItem {type, value, traceback, previous}. */
	uint64_t item = u64_or0(py, ts + o->ts_exc_value_item);
	struct chain_walk iw = chain_walk_init(MAX_FRAMES);
	while (chain_step(&iw, item)) {
		for (unsigned i = 0; i < 3; i++)
			ref_at(py, cb, arg, item + 8 * i, 0);
		item = u64_or0(py, item + o->esi_size - 8);
	}
	uint64_t f = u64_or0(py, ts + o->ts_frame);
	struct chain_walk fw = cpy_frames_walk(budget);
	while (chain_step(&fw, f)) {
		ref(cb, arg, f, 0);
		f = u64_or0(py, f + o->fo_back);
	}
	cpy_frames_done(py, budget, &fw, ts);
}

struct pha_error *pha_cpython_roots(struct pha_py *py, pha_ref_fn *cb, void *arg)
{
	const struct pha_py_offsets *o = py->o;
	uint64_t budget = MAX_FRAMES_TOTAL;
	for (size_t ii = 0; ii < py->ninterps; ii++) {
		uint64_t is = py->interps[ii];
		ref_at(py, cb, arg, is + o->is_modules, 0);
		ref_at(py, cb, arg, is + o->is_sysdict, 0);
		ref_at(py, cb, arg, is + o->is_builtins, 0);
		if (o->is_interned)
			ref_at(py, cb, arg, is + o->is_interned, 0);
		uint64_t ts = u64_or0(py, is + o->is_threads_head);
		struct chain_walk tw = cpy_threads_walk(py);
		uint64_t ts0 = ts;
		while (o->frame_objects && chain_step(&tw, ts)) {
			thread_roots_v1(py, ts, cb, arg, &budget);
			ts = u64_or0(py, ts + o->ts_next);
		}
		while (!o->frame_objects && chain_step(&tw, ts)) {
			ref_at(py, cb, arg, ts + o->ts_dict, 0);
			ref_at(py, cb, arg, ts + o->ts_curexc, 0);
			uint64_t item = u64_or0(py, ts + o->ts_exc_value_item);
			if (item)
				ref_at(py, cb, arg, item, 0);
			uint64_t f = cpy_first_frame(py, ts);
			struct chain_walk fw = cpy_frames_walk(&budget);
			while (chain_step(&fw, f)) {
				if (u8_or0(py, f + o->if_owner) <= OWNED_BY_FRAME_OBJECT) {
					cpy_iframe_refs(py, f, cb, arg, 0);
					ref_at(py, cb, arg, f + o->if_globals, 0);
					ref_at(py, cb, arg, f + o->if_builtins, 0);
				}
				f = u64_or0(py, f + o->if_previous);
			}
			cpy_frames_done(py, &budget, &fw, ts);
			ts = u64_or0(py, ts + o->ts_next);
		}
		cpy_chain_warn(py, &tw, "the thread list", ts0);
	}
	return NULL;
}

/* ---- labelled_roots() ---- */

/* The walk's callback and the frame whose locals are being named. */
struct lroots {
	struct pha_py *py;
	uint64_t budget;	/* frames left for this pass (MAX_FRAMES_TOTAL) */
	void (*cb)(void *arg, const struct pha_root *root);
	void *arg;
	uint64_t thread_id;
	const char *func, *file;
	int line;
};

/* One root labelled by fmt (nothing for NULL). */
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

/* local_fn of each_local: a root per bound variable, and per cell. */
static void on_local_root(void *arg, const char *name, uint64_t value, uint64_t cell)
{
	struct lroots *r = arg;
	if (cell)
		emit_root(r, cell, PHA_ROOT_FRAME, r->thread_id, "<cell '%s' in %s() at %s:%d>", name,
			  r->func, r->file, r->line);
	emit_root(r, value, PHA_ROOT_FRAME_LOCAL, r->thread_id, "<local '%s' in %s() at %s:%d>",
		  name, r->func, r->file, r->line);
}

/* What a thread state holds: its dict, its contextvars context and the
 * exceptions being raised or handled. */
static void thread_state_lroots(struct lroots *r, uint64_t ts, uint64_t tid)
{
	struct pha_py *py = r->py;
	const struct pha_py_offsets *o = py->o;
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
		struct chain_walk iw = chain_walk_init(MAX_FRAMES);
		while (chain_step(&iw, item)) {
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
}

/* A <= 3.10 frame object: itself, its locals, code, globals, builtins,
 * locals dict and value stack. */
static void frame_lroots_v1(struct lroots *r, uint64_t f, uint64_t tid)
{
	struct pha_py *py = r->py;
	const struct pha_py_offsets *o = py->o;
	char func[512], file[1024];
	uint64_t code = u64_or0(py, f + o->fo_code);
	bool ok = is_kind(py, code, K_CODE);
	cpy_frame_names(py, ok ? code : 0, func, sizeof(func), file, sizeof(file));
	r->func = func;
	r->file = file;
	r->line = ok ? cpy_frame_line_v1(py, f, code) : -1;
	emit_root(r, f, PHA_ROOT_FRAME, tid, "<frame of %s()>", func);
	if (ok)
		cpy_each_local(py, f, code, on_local_root, r);
	emit_root(r, code, PHA_ROOT_FRAME, tid, "<code of %s()>", func);
	emit_root(r, u64_or0(py, f + o->fo_globals), PHA_ROOT_FRAME, tid, "<globals of %s()>",
		  func);
	emit_root(r, u64_or0(py, f + o->fo_builtins), PHA_ROOT_FRAME, tid, "<builtins of %s()>",
		  func);
	emit_root(r, u64_or0(py, f + o->fo_locals), PHA_ROOT_FRAME, tid, "<locals dict of %s()>",
		  func);
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
		emit_root(r, u64_or0(py, vs + 8 * i), PHA_ROOT_FRAME, tid, "<stack of %s()>", func);
}

/* A 3.11+ interpreter frame of Python code (not a C-stack entry frame):
 * its frame object, locals dict, function, code, locals, value stack,
 * globals and builtins. */
static void iframe_lroots(struct lroots *r, uint64_t f, uint64_t tid)
{
	struct pha_py *py = r->py;
	const struct pha_py_offsets *o = py->o;
	char func[512], file[1024];
	uint64_t code;
	int64_t lasti;
	bool vis = cpy_frame_visible(py, f, &code, &lasti);
	if (!vis)
		code = frame_obj_at(py, f + o->if_code);
	bool ok = is_kind(py, code, K_CODE);
	cpy_frame_names(py, ok ? code : 0, func, sizeof(func), file, sizeof(file));
	r->func = func;
	r->file = file;
	r->line = vis ? cpy_code_line(py, code, lasti) : -1;
	emit_root(r, u64_or0(py, f + o->if_frame_obj), PHA_ROOT_FRAME, tid, "<frame of %s()>",
		  func);
	emit_root(r, u64_or0(py, f + o->if_locals), PHA_ROOT_FRAME, tid, "<locals dict of %s()>",
		  func);
	emit_root(r, frame_obj_at(py, f + o->if_func), PHA_ROOT_FRAME, tid, "<function %s()>",
		  func);
	emit_root(r, frame_obj_at(py, f + o->if_code), PHA_ROOT_FRAME, tid, "<code of %s()>",
		  func);
	uint64_t nplus = 0;
	if (ok) {
		cpy_each_local(py, f, code, on_local_root, r);
		nplus = tuple_len(py, u64_or0(py, code + o->co_localsplusnames));
	}
	int64_t top = cpy_iframe_top(py, f);
	for (int64_t i = (int64_t)nplus; i < top; i++)
		emit_root(r, frame_obj_at(py, f + o->if_localsplus + 8 * (uint64_t)i),
			  PHA_ROOT_FRAME, tid, "<stack of %s()>", func);
	emit_root(r, u64_or0(py, f + o->if_globals), PHA_ROOT_FRAME, tid, "<globals of %s()>",
		  func);
	emit_root(r, u64_or0(py, f + o->if_builtins), PHA_ROOT_FRAME, tid, "<builtins of %s()>",
		  func);
}

/* One thread: its thread state, then its frames, innermost first. */
static void thread_lroots(struct lroots *r, uint64_t ts)
{
	struct pha_py *py = r->py;
	const struct pha_py_offsets *o = py->o;
	uint64_t tid = u64_or0(py, ts + o->ts_thread_id);
	r->thread_id = tid;
	thread_state_lroots(r, ts, tid);
	if (o->frame_objects) {
		uint64_t f = u64_or0(py, ts + o->ts_frame);
		struct chain_walk fw = cpy_frames_walk(&r->budget);
		while (chain_step(&fw, f)) {
			frame_lroots_v1(r, f, tid);
			f = u64_or0(py, f + o->fo_back);
		}
		cpy_frames_done(py, &r->budget, &fw, ts);
		return;
	}
	uint64_t f = cpy_first_frame(py, ts);
	struct chain_walk fw = cpy_frames_walk(&r->budget);
	while (chain_step(&fw, f)) {
		if (cpy_frame_zeroed(py, f))
			break;
		if (u8_or0(py, f + o->if_owner) <= OWNED_BY_FRAME_OBJECT)
			iframe_lroots(r, f, tid);
		f = u64_or0(py, f + o->if_previous);
	}
	cpy_frames_done(py, &r->budget, &fw, ts);
}

/* Static builtin types the interpreter keeps state for (3.12+). */
static void static_type_lroots(struct lroots *r)
{
	struct pha_py *py = r->py;
	const struct pha_py_offsets *o = py->o;
	uint64_t base = py->interps[0] + o->is_types_builtins;
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t t = u64_or0(py, base + i * o->static_builtin_state_size);
		struct tinfo *ti = t ? cpy_type_of(py, t) : NULL;
		if (!ti)
			break;
		if (ti->flags & TPF_HEAPTYPE)
			continue;
		emit_root(r, t, PHA_ROOT_STATIC_TYPE, 0, "<class %s>",
			  pha_cpython_type_name(py, t));
	}
}

struct pha_error *pha_cpython_labelled_roots(struct pha_py *py,
					     void (*cb)(void *arg, const struct pha_root *root),
					     void *arg)
{
	const struct pha_py_offsets *o = py->o;
	struct lroots r = {.py = py, .cb = cb, .arg = arg, .budget = MAX_FRAMES_TOTAL};
	for (size_t ii = 0; ii < py->ninterps; ii++) {
		uint64_t is = py->interps[ii];
		emit_root(&r, u64_or0(py, is + o->is_modules), PHA_ROOT_MODULES, 0, "sys.modules");
		emit_root(&r, u64_or0(py, is + o->is_sysdict), PHA_ROOT_SYSDICT, 0, "sys.__dict__");
		emit_root(&r, u64_or0(py, is + o->is_builtins), PHA_ROOT_BUILTINS, 0, "builtins");
		if (o->is_interned)
			emit_root(&r, u64_or0(py, is + o->is_interned), PHA_ROOT_INTERNED, 0,
				  "<interned strings>");
		uint64_t ts = u64_or0(py, is + o->is_threads_head);
		struct chain_walk tw = cpy_threads_walk(py);
		uint64_t ts0 = ts;
		while (chain_step(&tw, ts)) {
			thread_lroots(&r, ts);
			ts = u64_or0(py, ts + o->ts_next);
		}
		cpy_chain_warn(py, &tw, "the thread list", ts0);
	}
	if (o->static_type_dict_in_interp && o->is_types_builtins && py->ninterps &&
	    o->static_builtin_state_size)
		static_type_lroots(&r);
	return NULL;
}
