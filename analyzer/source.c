#include "source.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap.h"
#include "procmem.h"
#include "target.h"

void pha_source_init(struct pha_source *s)
{
	memset(s, 0, sizeof(*s));
	s->pid = -1;
	s->time = -1;
}

static void free_threads(struct pha_report_thread *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < t[i].nframes; k++) {
			struct pha_report_frame *f = &t[i].frames[k];
			free(f->function);
			free(f->filename);
			for (size_t j = 0; j < f->nlocals; j++)
				free(f->locals[j].name);
			free(f->locals);
		}
		free(t[i].frames);
	}
	free(t);
}

void pha_source_deinit(struct pha_source *s)
{
	free(s->input_path);
	free(s->layout);
	free(s->executable);
	for (size_t i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	free(s->origin);
	free(s->written_by);
	free_threads(s->threads, s->nthreads);
	if (s->root_labels) {
		for (size_t i = 0; i < s->nroots; i++)
			free(s->root_labels[i]);
	}
	free(s->root_labels);
	free(s->root_kinds);
	pha_procmem_destroy(s->memory);
	free(s->roots);
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	pha_warnings_deinit(&s->warn_kinds);
	pha_allocs_deinit(&s->allocs);
	for (size_t i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	memset(s, 0, sizeof(*s));
}

bool pha_strv_push(char ***v, size_t *n, char *s)
{
	if (!s)
		return false;
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		return false;
	}
	*v = nv;
	nv[(*n)++] = s;
	return true;
}

void pha_source_warn(struct pha_source *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pha_warnings_vadd(&s->warn_kinds, &s->warnings, &s->nwarnings, s->verbose, fmt, ap);
	va_end(ap);
}

struct thread_ctx {
	struct pha_source *s;
	bool oom;
	bool locals;	/* the layout fills pha_frame_info.locals */
	uint64_t *tstates;	/* [i]: the thread state of s->threads[i] */
};

static void on_thread(void *arg, const struct pha_thread_info *ti)
{
	struct thread_ctx *c = arg;
	struct pha_source *s = c->s;
	struct pha_report_thread *nt = realloc(s->threads, (s->nthreads + 1) * sizeof(*nt));
	if (!nt) {
		c->oom = true;
		return;
	}
	s->threads = nt;
	uint64_t *ts = realloc(c->tstates, (s->nthreads + 1) * sizeof(*ts));
	if (!ts) {
		c->oom = true;
		return;
	}
	c->tstates = ts;
	ts[s->nthreads] = ti->tstate;
	struct pha_report_thread *t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof(*t));
	t->thread_id = ti->thread_id;
	t->native_id = ti->native_id;
	t->frames = calloc(ti->nframes ? ti->nframes : 1, sizeof(*t->frames));
	if (!t->frames) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < ti->nframes; i++) {
		t->frames[i].function = strdup(ti->frames[i].function);
		t->frames[i].filename = strdup(ti->frames[i].filename);
		t->frames[i].line = ti->frames[i].line;
		t->nframes++;
		if (!t->frames[i].function || !t->frames[i].filename)
			c->oom = true;
		const struct pha_frame_info *fi = &ti->frames[i];
		if (c->locals && fi->nlocals && fi->locals) {
			struct pha_report_frame *f = &t->frames[i];
			f->locals = calloc(fi->nlocals, sizeof(*f->locals));
			if (!f->locals) {
				c->oom = true;
				continue;
			}
			for (size_t k = 0; k < fi->nlocals; k++) {
				f->locals[k].name = strdup(fi->locals[k].name ? fi->locals[k].name : "?");
				f->locals[k].addr = fi->locals[k].value;
				f->nlocals++;
				if (!f->locals[k].name)
					c->oom = true;
			}
		}
	}
}

static bool argv_from_stack(struct pha_target *t, struct pha_source *s);
static void argv_from_psargs(const struct pha_core *core, struct pha_source *s);

static void fill_process(struct pha_target *t, struct pha_source *s)
{
	const struct pha_core *core = t->core;
	s->pid = core->have_prpsinfo ? core->pid : -1;
	s->signal = core->signo;
	char buf[4096];
	if (core->auxv_execfn && pha_memory_read_cstr(&t->mem, core->auxv_execfn, buf, sizeof(buf)))
		s->executable = strdup(buf);
	else {
		for (size_t i = 0; i < t->mods.nmods; i++) {
			if (t->mods.mods[i].is_executable) {
				s->executable = strdup(t->mods.mods[i].name);
				break;
			}
		}
	}
	if (!argv_from_stack(t, s))
		argv_from_psargs(core, s);
}

/* At most this many places hold the argv[0] string in a real stack (argv[0]
 * itself and AT_EXECFN's copy of the path); a segment with more is hostile,
 * and the search must stay linear in its size whatever it holds. */
#define ARGV0_CANDIDATES 64

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The argv array whose first pointer is the word at base + w: argc before
 * it, NULL after its last entry, every string readable. */
static bool argv_at(const struct pha_memory *mem, const uint8_t *base, uint64_t len, uint64_t w,
		    char ***argv_ret, size_t *argc_ret)
{
	uint64_t argc, end;
	memcpy(&argc, base + w - 8, 8);
	if (argc < 1 || argc > 65536 || w + 8 * (argc + 1) > len)
		return false;
	memcpy(&end, base + w + 8 * argc, 8);
	if (end)
		return false;
	char **argv = NULL;
	size_t n = 0;
	for (uint64_t k = 0; k < argc; k++) {
		uint64_t a;
		char buf[4096];
		memcpy(&a, base + w + 8 * k, 8);
		if (!pha_memory_read_cstr(mem, a, buf, sizeof(buf)) ||
		    !pha_strv_push(&argv, &n, strdup(buf)))
			break;
	}
	if (n == argc) {
		*argv_ret = argv;
		*argc_ret = n;
		return true;
	}
	for (size_t k = 0; k < n; k++)
		free(argv[k]);
	free(argv);
	return false;
}

bool pha_argv_from_stack(const struct pha_memory *mem, uint64_t execfn, const char *psargs,
			 char ***argv_ret, size_t *argc_ret)
{
	const struct pha_segment *seg = execfn ? pha_memory_find(mem, execfn) : NULL;
	if (!seg || !seg->data || !psargs[0])
		return false;
	const uint8_t *base = seg->data;
	uint64_t len = seg->end - seg->start;
	char arg0[PHA_PSARGS_SIZE];
	size_t n0 = strcspn(psargs, " ");
	if (n0 == 0 || n0 + 1 >= sizeof(arg0) - 1)
		return false;	/* argv[0] itself may be cut off */
	memcpy(arg0, psargs, n0);
	arg0[n0] = 0;
	/* Where "\0arg0\0" occurs: the candidates for the argv[0] string. */
	uint64_t cand[ARGV0_CANDIDATES];
	size_t ncand = 0;
	for (uint64_t i = 1; ncand < ARGV0_CANDIDATES && i + n0 + 1 < len;) {
		const uint8_t *hit = memmem(base + i, len - i, arg0, n0 + 1);
		if (!hit)
			break;
		i = (uint64_t)(hit - base);
		if (i + n0 + 1 >= len)
			break;
		if (!base[i - 1])
			cand[ncand++] = seg->start + i;
		i++;
	}
	if (!ncand)
		return false;
	qsort(cand, ncand, sizeof(*cand), cmp_u64);
	/* One pass over the words: a pointer to a candidate may start argv
	 * (argc before it, NULL after it). The array lies below the strings,
	 * so the first one that reads back whole is it. */
	for (uint64_t w = 8; w + 8 <= len; w += 8) {
		uint64_t v;
		memcpy(&v, base + w, 8);
		if (bsearch(&v, cand, ncand, sizeof(*cand), cmp_u64) &&
		    argv_at(mem, base, len, w, argv_ret, argc_ret))
			return true;
	}
	return false;
}

/* The whole command line from the process's initial stack: the string of
 * argv[0] sits in the strings area around AT_EXECFN, and the argv array
 * that points at it is preceded by argc and ended by NULL. */
static bool argv_from_stack(struct pha_target *t, struct pha_source *s)
{
	const struct pha_core *core = t->core;
	if (!core->have_prpsinfo)
		return false;
	return pha_argv_from_stack(&t->mem, core->auxv_execfn, core->psargs, &s->argv, &s->argc);
}

/* pr_psargs: the command line, space-separated and cut at 80 bytes by the
 * kernel; a last word that reaches the cut may itself be cut, so it goes. */
static void argv_from_psargs(const struct pha_core *core, struct pha_source *s)
{
	if (!core->have_prpsinfo || !core->psargs[0])
		return;
	char *copy = strdup(core->psargs), *save = NULL;
	bool cut = strlen(core->psargs) >= sizeof(core->psargs) - 2;
	for (char *tok = copy ? strtok_r(copy, " ", &save) : NULL; tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (cut && tok + strlen(tok) == copy + strlen(core->psargs))
			break;
		pha_strv_push(&s->argv, &s->argc, strdup(tok));
	}
	free(copy);
}

struct roots_ctx {
	struct pha_source *s;
	size_t cap;
	bool oom;
	bool labelled;
};

static bool root_push(struct roots_ctx *c, uint64_t addr, const char *label, int kind)
{
	struct pha_source *s = c->s;
	if (s->nroots == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		uint64_t *n = realloc(s->roots, cap * sizeof(*n));
		if (!n)
			return false;
		s->roots = n;
		if (c->labelled) {
			char **nl = realloc(s->root_labels, cap * sizeof(*nl));
			if (!nl)
				return false;
			s->root_labels = nl;
			uint8_t *nk = realloc(s->root_kinds, cap);
			if (!nk)
				return false;
			s->root_kinds = nk;
		}
		c->cap = cap;
	}
	if (c->labelled) {
		s->root_labels[s->nroots] = label ? strdup(label) : NULL;
		s->root_kinds[s->nroots] = (uint8_t)kind;
		if (label && !s->root_labels[s->nroots])
			return false;
	}
	s->roots[s->nroots++] = addr;
	return true;
}

static void on_root(void *arg, uint64_t addr, unsigned flags)
{
	(void)flags;
	struct roots_ctx *c = arg;
	if (!root_push(c, addr, NULL, 0))
		c->oom = true;
}

static void on_labelled_root(void *arg, const struct pha_root *root)
{
	struct roots_ctx *c = arg;
	if (!root_push(c, root->addr, root->label, (int)root->kind))
		c->oom = true;
}

/* The live stack of a core thread (its rsp up to the first gap, at most
 * 8 MiB) holds the 8-aligned word v. */
#define STACK_SCAN_MAX (8u << 20)
static bool stack_holds(const struct pha_memory *mem, const struct pha_core_thread *ct,
			uint64_t v)
{
	uint64_t sp = ct->rsp & ~(uint64_t)7;
	uint64_t n = sp ? pha_memory_extent(mem, sp) : 0;
	if (n > STACK_SCAN_MAX)
		n = STACK_SCAN_MAX;
	uint64_t buf[512];
	for (uint64_t off = 0; off + 8 <= n; off += sizeof(buf)) {
		size_t len = n - off < sizeof(buf) ? (size_t)((n - off) & ~(uint64_t)7) : sizeof(buf);
		if (!pha_memory_read(mem, sp + off, buf, len, NULL))
			return false;
		for (size_t k = 0; k < len / 8; k++)
			if (buf[k] == v)
				return true;
	}
	return false;
}

/* 3.12's _xxsubinterpreters runs a sub-interpreter's code in the
 * interpreter's head thread state, whatever thread runs it: that state
 * keeps the ids of the thread that created the interpreter (often the
 * main thread). When several thread states carry one native id, a state
 * whose address is on the live stack of exactly one core thread, another
 * one, is that thread's (the evaluation loop keeps its tstate there). */
static void native_ids_from_stacks(struct pha_target *t, struct pha_source *s,
				   const uint64_t *tstates)
{
	const struct pha_core *core = t->core;
	size_t moved = 0;
	for (size_t i = 0; tstates && i < s->nthreads; i++) {
		struct pha_report_thread *ti = &s->threads[i];
		bool shared = false;
		for (size_t j = 0; ti->native_id && j < s->nthreads && !shared; j++)
			shared = j != i && s->threads[j].native_id == ti->native_id;
		if (!shared || !tstates[i])
			continue;
		size_t found = 0, at = 0;
		for (size_t j = 0; j < core->nthreads && found < 2; j++) {
			if (stack_holds(&t->mem, &core->threads[j], tstates[i])) {
				found++;
				at = j;
			}
		}
		if (found != 1 || (uint64_t)core->threads[at].tid == ti->native_id)
			continue;
		ti->native_id = (uint64_t)core->threads[at].tid;
		if (core->threads[at].fs_base)
			ti->thread_id = core->threads[at].fs_base;
		moved++;
	}
	if (moved)
		pha_source_warn(s, "%zu thread state%s carried the ids of another thread (a 3.12 "
				   "sub-interpreter runs in its head thread state, created by another "
				   "thread): reported with the ids of the core's thread whose stack "
				   "holds the thread state", moved, moved == 1 ? "" : "s");
}

/* C globals: every 8-aligned word of the writable data (PF_W PT_LOADs:
 * .data, .bss) of each mapped ELF image that holds the exact start of an
 * object of the heap model. The interpreter keeps objects there itself
 * (3.11+ _PyRuntime's main interpreter: the codec caches, the builtins
 * copy; the import extensions dict in .bss), and so do extension modules
 * (Cython's constants, module-level caches): without these roots those
 * objects' references look unexplained and join the leak suspects.
 * Only heap-model addresses become roots (pha_heap_find): a stale word
 * makes an object a root, never an object. Bounded by the segments'
 * sizes (PHA_WRITABLE_MAX each, a handful per module); the heap's own
 * mappings are not ELF images and are never scanned. A word the core does
 * not hold is skipped (page by page). */
#define CGLOBAL_SEGS 16
#define CGLOBAL_PAGE 4096
static struct pha_error *c_global_roots(struct pha_target *t, const struct pha_heap *h,
					struct roots_ctx *rc)
{
	uint64_t words = 0, found = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t m = 0; m < t->mods.nmods; m++) {
		const struct pha_module *mod = &t->mods.mods[m];
		struct pha_range seg[CGLOBAL_SEGS];
		size_t nseg = pha_module_writable(mod, seg, CGLOBAL_SEGS);
		const char *base = strrchr(mod->name, '/');
		base = base ? base + 1 : mod->name;
		for (size_t i = 0; i < nseg; i++) {
			uint64_t a = (seg[i].start + 7) & ~7ull;
			while (a + 8 <= seg[i].end) {
				uint64_t page_end = (a | (CGLOBAL_PAGE - 1)) + 1;
				if (page_end > seg[i].end)
					page_end = seg[i].end & ~7ull;
				size_t len = (size_t)(page_end - a);
				uint64_t buf[CGLOBAL_PAGE / 8];
				if (!len || !pha_memory_read(&t->mem, a, buf, len, NULL)) {
					a = page_end > a ? page_end : a + 8;
					continue;
				}
				for (size_t w = 0; w < len / 8; w++) {
					if (buf[w] < h->addr[0] || buf[w] > h->addr[h->n - 1] ||
					    pha_heap_find(h, buf[w]) == PHA_NO_ID)
						continue;
					char label[160];
					/* The file's own address (nm, objdump). */
					snprintf(label, sizeof(label), "<C global in %s+0x%llx>", base,
						 (unsigned long long)(a + 8 * w - mod->bias));
					if (!root_push(rc, buf[w], label, PHA_ROOT_C_GLOBAL))
						return &pha_enomem;
					found++;
				}
				words += len / 8;
				a = page_end;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (t->verbose >= 2)
		fprintf(stderr, "pyheap-analyze: C globals: %llu words scanned, %llu roots, %.3f s\n",
			(unsigned long long)words, (unsigned long long)found,
			(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return NULL;
}

struct pha_error *pha_source_from_target(struct pha_target *t, const struct pha_heap *h,
					 struct pha_source *s)
{
	struct pha_error *err;
	s->verbose = t->verbose;
	s->input_path = strdup(t->core->path);
	s->input_kind = "core";
	s->input_bytes = t->core->input_bytes;
	s->compressed = t->core->compressed;
	memcpy(s->version, t->version, sizeof(s->version));
	s->hexversion = t->hexversion;
	s->layout = strdup(t->layout->name);
	if (!s->input_path || !s->layout)
		return &pha_enomem;
	fill_process(t, s);

	s->lay = t->layout;
	s->py = t->py;
	s->svc = &t->svc;
	/* pha_frame_info.locals is part of the report/2 layout ABI; a layout
	 * that has labelled_roots fills it (older layouts leave it unset). */
	struct thread_ctx tc = {.s = s, .locals = t->layout->labelled_roots != NULL};
	err = t->layout->threads(t->py, on_thread, &tc);
	if (err || tc.oom) {
		free(tc.tstates);
		return err ? err : &pha_enomem;
	}
	/* Before 3.11 the thread state has no native id: the core's thread
	 * whose fs_base is the pthread_t (glibc x86-64) is the same thread. */
	for (size_t i = 0; i < s->nthreads; i++) {
		for (size_t j = 0; !s->threads[i].native_id && j < t->core->nthreads; j++) {
			if (s->threads[i].thread_id && t->core->threads[j].fs_base == s->threads[i].thread_id)
				s->threads[i].native_id = (uint64_t)t->core->threads[j].tid;
		}
	}
	native_ids_from_stacks(t, s, tc.tstates);
	free(tc.tstates);
	/* 3.12 sub-interpreter threads can carry the main thread's native
	 * id: only the first thread with the signalled tid claims the signal,
	 * and the duplicates are named. */
	size_t claims = 0;
	for (size_t i = 0; i < s->nthreads; i++) {
		if (t->core->nthreads && s->threads[i].native_id &&
		    s->threads[i].native_id == (uint64_t)t->core->threads[0].tid && t->core->signo)
			s->threads[i].crashed = claims++ == 0;
	}
	if (claims > 1)
		pha_source_warn(s, "%zu Python threads carry the native id %lld of the thread that "
				   "received the signal (sub-interpreter thread states share it): "
				   "only the first is marked as the crashed thread", claims,
				(long long)t->core->threads[0].tid);
	struct roots_ctx rc = {.s = s, .labelled = t->layout->labelled_roots != NULL};
	if (rc.labelled)
		err = t->layout->labelled_roots(t->py, on_labelled_root, &rc);
	else
		err = t->layout->roots(t->py, on_root, &rc);
	if (err)
		return err;
	if (rc.oom)
		return &pha_enomem;
	/* Only with kinds: without them every root is an interpreter
	 * structure, and a layout without labels reports no kinds. */
	if (rc.labelled && h->n && (err = c_global_roots(t, h, &rc)))
		return err;
	s->target_at = s->nwarnings;
	for (size_t i = 0; i < t->nwarnings; i++) {
		if (!pha_strv_push(&s->warnings, &s->nwarnings, strdup(t->warnings[i])))
			return &pha_enomem;
	}
	s->target_n = t->nwarnings;
	return pha_allocs_from_target(s, h);
}

struct pha_error *pha_source_update_target_warnings(struct pha_source *s,
						    const struct pha_target *t)
{
	size_t at = s->target_at, old = s->target_n, now = t->nwarnings;
	if (at + old > s->nwarnings || now < old)
		return pha_error_create(PHA_ERR_INTERNAL, "the target's warnings are not where "
					"they were put");
	if (!now)
		return NULL;
	char **fresh = calloc(now, sizeof(*fresh));
	if (fresh && now > old) {
		char **v = realloc(s->warnings, (s->nwarnings + now - old) * sizeof(*v));
		if (v) {
			s->warnings = v;
		} else {
			free(fresh);
			fresh = NULL;
		}
	}
	for (size_t i = 0; fresh && i < now; i++) {
		if (!(fresh[i] = strdup(t->warnings[i]))) {
			while (i)
				free(fresh[--i]);
			free(fresh);
			fresh = NULL;
		}
	}
	if (!fresh)
		return &pha_enomem;
	for (size_t i = 0; i < old; i++)
		free(s->warnings[at + i]);
	memmove(s->warnings + at + now, s->warnings + at + old,
		(s->nwarnings - at - old) * sizeof(*s->warnings));
	memcpy(s->warnings + at, fresh, now * sizeof(*fresh));
	free(fresh);
	/* the source's own kinds after the block moved with it */
	for (size_t k = 0; k < s->warn_kinds.nkinds; k++) {
		if (s->warn_kinds.kinds[k].line >= at + old)
			s->warn_kinds.kinds[k].line += now - old;
	}
	s->nwarnings += now - old;
	s->target_n = now;
	return NULL;
}
