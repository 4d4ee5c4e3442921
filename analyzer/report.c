#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "progress.h"

/* Signature entries shown before "+ N more types". */
#define SIG_MAX_ENTRIES 6

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_types(const void *a, const void *b)
{
	const struct pha_report_type *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_unreach_types(const void *a, const void *b)
{
	const struct pha_report_type *x = *(struct pha_report_type *const *)a;
	const struct pha_report_type *y = *(struct pha_report_type *const *)b;
	if (x->unreachable_bytes != y->unreachable_bytes)
		return x->unreachable_bytes > y->unreachable_bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_groups_by_sig(const void *a, const void *b)
{
	const struct pha_report_group *x = a, *y = b;
	int c = strcmp(x->signature, y->signature);
	if (c)
		return c;
	return (int)x->unreachable - (int)y->unreachable;
}

static int cmp_groups_by_bytes(const void *a, const void *b)
{
	const struct pha_report_group *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return cmp_groups_by_sig(a, b);
}

struct sig_entry {
	uint32_t group;	/* report type index */
	uint32_t count;
};

static const struct pha_report_type *sig_types;

static int cmp_sig_entry(const void *a, const void *b)
{
	const struct sig_entry *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(sig_types[x->group].name, sig_types[y->group].name);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* "__main__.Node×2", "list (self)", "dict×40 + function×35 + … (+12 types)". */
static char *signature(const struct pha_report_type *types, uint32_t *groups, size_t n,
		       bool self_loop, struct sig_entry *scratch)
{
	qsort(groups, n, sizeof(*groups), cmp_u32);
	size_t ne = 0;
	for (size_t i = 0; i < n; i++) {
		if (ne && scratch[ne - 1].group == groups[i])
			scratch[ne - 1].count++;
		else
			scratch[ne++] = (struct sig_entry){.group = groups[i], .count = 1};
	}
	sig_types = types;
	qsort(scratch, ne, sizeof(*scratch), cmp_sig_entry);
	size_t cap = 256, len = 0;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	s[0] = 0;
	for (size_t i = 0; i < ne; i++) {
		char part[600];
		if (i == SIG_MAX_ENTRIES) {
			snprintf(part, sizeof(part), " + … (+%zu types)", ne - i);
		} else if (scratch[i].count > 1) {
			snprintf(part, sizeof(part), "%s%s×%u", i ? " + " : "",
				 types[scratch[i].group].name, scratch[i].count);
		} else {
			snprintf(part, sizeof(part), "%s%s", i ? " + " : "",
				 types[scratch[i].group].name);
		}
		size_t pl = strlen(part);
		if (len + pl + 16 > cap) {
			cap = (len + pl + 16) * 2;
			char *ns = realloc(s, cap);
			if (!ns) {
				free(s);
				return NULL;
			}
			s = ns;
		}
		memcpy(s + len, part, pl + 1);
		len += pl;
		if (i == SIG_MAX_ENTRIES)
			break;
	}
	if (n == 1 && self_loop)
		strcat(s, " (self)");
	return s;
}

/* Merge groups with equal (signature, unreachable); frees duplicate
 * signatures. Returns the new count. */
static size_t merge_groups(struct pha_report_group *g, size_t n)
{
	if (n == 0)
		return 0;
	qsort(g, n, sizeof(*g), cmp_groups_by_sig);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && g[out - 1].unreachable == g[i].unreachable &&
		    !strcmp(g[out - 1].signature, g[i].signature)) {
			g[out - 1].instances += g[i].instances;
			g[out - 1].objects += g[i].objects;
			g[out - 1].bytes += g[i].bytes;
			free(g[i].signature);
		} else {
			g[out++] = g[i];
		}
	}
	qsort(g, out, sizeof(*g), cmp_groups_by_bytes);
	return out;
}

struct thread_ctx {
	struct pha_report *r;
	bool oom;
};

static void on_thread(void *arg, const struct pha_thread_info *ti)
{
	struct thread_ctx *c = arg;
	struct pha_report *r = c->r;
	struct pha_report_thread *nt = realloc(r->threads, (r->nthreads + 1) * sizeof(*nt));
	if (!nt) {
		c->oom = true;
		return;
	}
	r->threads = nt;
	struct pha_report_thread *t = &r->threads[r->nthreads++];
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
	}
}

static bool argv_from_stack(struct pha_target *t, struct pha_report *r);
static void argv_from_psargs(const struct pha_core *core, struct pha_report *r);

static void fill_process(struct pha_target *t, struct pha_report *r)
{
	const struct pha_core *core = t->core;
	r->pid = core->have_prpsinfo ? core->pid : -1;
	r->signal = core->signo;
	char buf[4096];
	if (core->auxv_execfn && pha_memory_read_cstr(&t->mem, core->auxv_execfn, buf, sizeof(buf)))
		r->executable = strdup(buf);
	else {
		for (size_t i = 0; i < t->mods.nmods; i++) {
			if (t->mods.mods[i].is_executable) {
				r->executable = strdup(t->mods.mods[i].name);
				break;
			}
		}
	}
	if (!argv_from_stack(t, r))
		argv_from_psargs(core, r);
}

static bool push_arg(struct pha_report *r, const char *s)
{
	char **na = realloc(r->argv, (r->argc + 1) * sizeof(*na));
	if (!na)
		return false;
	r->argv = na;
	r->argv[r->argc] = strdup(s);
	if (!r->argv[r->argc])
		return false;
	r->argc++;
	return true;
}

/* The whole command line from the process's initial stack: the string of
 * argv[0] is the lowest string of the area around AT_EXECFN, and the argv
 * array that points at it is preceded by argc and ended by NULL. */
static bool argv_from_stack(struct pha_target *t, struct pha_report *r)
{
	const struct pha_core *core = t->core;
	if (!core->auxv_execfn || !core->have_prpsinfo || !core->psargs[0])
		return false;
	const struct pha_segment *seg = pha_memory_find(&t->mem, core->auxv_execfn);
	if (!seg || !seg->data)
		return false;
	const uint8_t *base = seg->data;
	uint64_t len = seg->end - seg->start;
	char arg0[sizeof(core->psargs)];
	size_t n0 = strcspn(core->psargs, " ");
	memcpy(arg0, core->psargs, n0);
	arg0[n0] = 0;
	if (n0 == 0 || n0 + 1 >= sizeof(core->psargs) - 1)
		return false;	/* argv[0] itself may be cut off */
	/* Every occurrence of "\0arg0\0" is a candidate for the argv[0] string. */
	for (uint64_t i = 1; i + n0 + 1 < len; i++) {
		if (base[i - 1] || memcmp(base + i, arg0, n0 + 1))
			continue;
		uint64_t str = seg->start + i;
		for (uint64_t w = 8; w + 8 <= len; w += 8) {
			uint64_t v, argc, end;
			memcpy(&v, base + w, 8);
			if (v != str)
				continue;
			memcpy(&argc, base + w - 8, 8);
			if (argc < 1 || argc > 65536 || w + 8 * (argc + 1) > len)
				continue;
			memcpy(&end, base + w + 8 * argc, 8);
			if (end)
				continue;
			size_t done = 0;
			for (uint64_t k = 0; k < argc; k++) {
				uint64_t a;
				char buf[4096];
				memcpy(&a, base + w + 8 * k, 8);
				if (!pha_memory_read_cstr(&t->mem, a, buf, sizeof(buf)) || !push_arg(r, buf))
					break;
				done++;
			}
			if (done == argc)
				return true;
			for (size_t k = 0; k < r->argc; k++)
				free(r->argv[k]);
			free(r->argv);
			r->argv = NULL;
			r->argc = 0;
		}
	}
	return false;
}

/* pr_psargs: the command line, space-separated and cut at 80 bytes by the
 * kernel; a last word that reaches the cut may itself be cut, so it goes. */
static void argv_from_psargs(const struct pha_core *core, struct pha_report *r)
{
	if (!core->have_prpsinfo || !core->psargs[0])
		return;
	char *copy = strdup(core->psargs), *save = NULL;
	bool cut = strlen(core->psargs) >= sizeof(core->psargs) - 2;
	for (char *tok = copy ? strtok_r(copy, " ", &save) : NULL; tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (cut && tok + strlen(tok) == copy + strlen(core->psargs))
			break;
		if (!push_arg(r, tok))
			break;
	}
	free(copy);
}

struct pha_error *pha_report_build(struct pha_target *t, const struct pha_heap *h,
				   struct pha_report **report_ret)
{
	struct pha_error *err = NULL;
	struct pha_report *r = calloc(1, sizeof(*r));
	uint32_t *comp = NULL, *csize = NULL, *cstart = NULL, *members = NULL, *group_of = NULL;
	uint32_t *tmp = NULL;
	uint8_t *self = NULL;
	const char **names = NULL;
	struct sig_entry *scratch = NULL;
	if (!r)
		return &pha_enomem;
	uint32_t n = h->n;
	struct pha_graph g = pha_heap_graph(h);

	r->input_path = t->core->path;
	r->input_kind = "core";
	r->input_bytes = t->core->input_bytes;
	r->compressed = t->core->compressed;
	memcpy(r->version, t->version, sizeof(r->version));
	r->hexversion = t->hexversion;
	r->layout = t->layout->name;
	fill_process(t, r);

	/* Unreachable: CPython's own arithmetic. */
	r->unreachable = calloc(n ? n : 1, 1);
	if (!r->unreachable) {
		err = &pha_enomem;
		goto out;
	}
	uint64_t negative = 0;
	pha_progress("finding unreachable objects", 0, 0);
	if ((err = pha_gc_unreachable(&g, h->flags, h->refcnt, r->unreachable, &negative)))
		goto out;
	if (negative)
		pha_target_warn(t, "%llu GC objects have more references than their refcount "
				   "allows (layout mismatch or a core taken mid-update); they are "
				   "treated as reachable", (unsigned long long)negative);

	/* Type histogram, grouped by report name. */
	names = malloc((h->ntypes ? h->ntypes : 1) * sizeof(*names));
	group_of = malloc((h->ntypes ? h->ntypes : 1) * sizeof(*group_of));
	r->types = calloc(h->ntypes ? h->ntypes : 1, sizeof(*r->types));
	if (!names || !group_of || !r->types) {
		err = &pha_enomem;
		goto out;
	}
	for (uint32_t i = 0; i < h->ntypes; i++)
		names[i] = h->types[i].name;
	qsort(names, h->ntypes, sizeof(*names), cmp_str_ptr);
	for (uint32_t i = 0; i < h->ntypes; i++) {
		if (!r->ntypes || strcmp(r->types[r->ntypes - 1].name, names[i]))
			r->types[r->ntypes++].name = names[i];
	}
	for (uint32_t i = 0; i < h->ntypes; i++) {
		const char *key = h->types[i].name;
		size_t lo = 0, hi = r->ntypes;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strcmp(r->types[mid].name, key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		group_of[i] = (uint32_t)lo;
	}
	for (uint32_t v = 0; v < n; v++) {
		struct pha_report_type *rt = &r->types[group_of[h->type[v]]];
		rt->count++;
		rt->bytes += h->size[v];
		if (h->flags[v] & PHA_OBJ_GC)
			rt->gc_count++;
		r->summary.bytes += h->size[v];
		if (r->unreachable[v]) {
			rt->unreachable++;
			rt->unreachable_bytes += h->size[v];
			r->summary.unreachable_objects++;
			r->summary.unreachable_bytes += h->size[v];
		}
	}
	r->summary.objects = n;
	r->summary.gc_objects = h->gc_listed;
	r->summary.edges = h->nedges;
	r->summary.permanent_objects = h->permanent;
	r->summary.conservative_objects = h->conservative;
	r->summary.unknown_refs = h->unknown_refs;

	/* Strongly connected components; members grouped by component. */
	pha_progress("finding reference cycles", 0, 0);
	uint32_t ncomp = 0;
	comp = malloc((n ? n : 1) * sizeof(*comp));
	self = calloc(n ? n : 1, 1);
	if (!comp || !self) {
		err = &pha_enomem;
		goto out;
	}
	if ((err = pha_scc(&g, comp, &ncomp, self)))
		goto out;
	csize = calloc(ncomp + 1, sizeof(*csize));
	cstart = calloc(ncomp + 1, sizeof(*cstart));
	members = malloc((n ? n : 1) * sizeof(*members));
	if (!csize || !cstart || !members) {
		err = &pha_enomem;
		goto out;
	}
	for (uint32_t v = 0; v < n; v++)
		csize[comp[v]]++;
	/* Signature scratch sized by the largest component, not the heap. */
	uint32_t maxc = 1;
	for (uint32_t c = 0; c < ncomp; c++)
		maxc = csize[c] > maxc ? csize[c] : maxc;
	tmp = malloc(maxc * sizeof(*tmp));
	scratch = malloc(maxc * sizeof(*scratch));
	if (!tmp || !scratch) {
		err = &pha_enomem;
		goto out;
	}
	for (uint32_t c = 0; c < ncomp; c++)
		cstart[c + 1] = cstart[c] + csize[c];
	for (uint32_t v = 0; v < n; v++)
		members[cstart[comp[v]]++] = v;
	for (uint32_t c = 0; c < ncomp; c++)
		cstart[c] -= csize[c];

	/* One group per interesting component, merged by signature below. */
	size_t ncyc = 0, nug = 0, cyc_cap = 0, ug_cap = 0;
	for (uint32_t c = 0; c < ncomp; c++) {
		uint32_t first = members[cstart[c]];
		bool cyclic = csize[c] >= 2 || self[first];
		uint64_t unreach = 0, ubytes = 0, bytes = 0;
		for (uint32_t k = 0; k < csize[c]; k++) {
			uint32_t v = members[cstart[c] + k];
			bytes += h->size[v];
			if (r->unreachable[v]) {
				unreach++;
				ubytes += h->size[v];
			}
		}
		if (!cyclic && !unreach)
			continue;
		for (uint32_t k = 0; k < csize[c]; k++)
			tmp[k] = group_of[h->type[members[cstart[c] + k]]];
		char *sig = signature(r->types, tmp, csize[c], self[first], scratch);
		if (!sig) {
			err = &pha_enomem;
			goto out;
		}
		if (cyclic) {
			if (ncyc == cyc_cap) {
				cyc_cap = cyc_cap ? cyc_cap * 2 : 64;
				struct pha_report_group *ng = realloc(r->cycles, cyc_cap * sizeof(*ng));
				if (!ng) {
					free(sig);
					err = &pha_enomem;
					goto out;
				}
				r->cycles = ng;
			}
			char *dup = unreach ? strdup(sig) : sig;
			if (!dup) {
				free(sig);
				err = &pha_enomem;
				goto out;
			}
			r->cycles[ncyc++] = (struct pha_report_group){
				.signature = dup, .instances = 1, .objects = csize[c], .bytes = bytes,
				.unreachable = unreach > 0,
			};
			r->ncycles = ncyc;	/* so pha_report_destroy frees it on error */
			r->summary.cycles++;
			r->summary.cycle_objects += csize[c];
			r->summary.cycle_bytes += bytes;
			if (!unreach)
				continue;
		}
		if (nug == ug_cap) {
			ug_cap = ug_cap ? ug_cap * 2 : 64;
			struct pha_report_group *ng = realloc(r->ugroups, ug_cap * sizeof(*ng));
			if (!ng) {
				free(sig);
				err = &pha_enomem;
				goto out;
			}
			r->ugroups = ng;
		}
		r->ugroups[nug++] = (struct pha_report_group){
			.signature = sig, .instances = 1, .objects = unreach, .bytes = ubytes,
			.unreachable = true,
		};
		r->nugroups = nug;
	}
	r->ncycles = merge_groups(r->cycles, ncyc);
	r->nugroups = merge_groups(r->ugroups, nug);

	qsort(r->types, r->ntypes, sizeof(*r->types), cmp_types);
	r->unreachable_types = malloc((r->ntypes ? r->ntypes : 1) * sizeof(*r->unreachable_types));
	if (!r->unreachable_types) {
		err = &pha_enomem;
		goto out;
	}
	for (size_t i = 0; i < r->ntypes; i++) {
		if (r->types[i].unreachable)
			r->unreachable_types[r->nunreachable_types++] = &r->types[i];
	}
	qsort(r->unreachable_types, r->nunreachable_types, sizeof(*r->unreachable_types),
	      cmp_unreach_types);

	/* Thread stacks. */
	struct thread_ctx tc = {.r = r};
	if ((err = t->layout->threads(t->py, on_thread, &tc)))
		goto out;
	if (tc.oom) {
		err = &pha_enomem;
		goto out;
	}
	/* Before 3.11 the thread state has no native id: the core's thread
	 * whose fs_base is the pthread_t (glibc x86-64) is the same thread. */
	for (size_t i = 0; i < r->nthreads; i++) {
		for (size_t j = 0; !r->threads[i].native_id && j < t->core->nthreads; j++) {
			if (r->threads[i].thread_id && t->core->threads[j].fs_base == r->threads[i].thread_id)
				r->threads[i].native_id = (uint64_t)t->core->threads[j].tid;
		}
	}
	for (size_t i = 0; i < r->nthreads; i++) {
		if (t->core->nthreads && r->threads[i].native_id &&
		    r->threads[i].native_id == (uint64_t)t->core->threads[0].tid && t->core->signo)
			r->threads[i].crashed = true;
	}
	pha_progress_done();

	r->warnings = t->warnings;
	r->nwarnings = t->nwarnings;
	*report_ret = r;
	r = NULL;
out:
	free(comp);
	free(self);
	free(csize);
	free(cstart);
	free(members);
	free(tmp);
	free(scratch);
	free(names);
	free(group_of);
	pha_report_destroy(r);
	return err;
}

void pha_report_destroy(struct pha_report *r)
{
	if (!r)
		return;
	free(r->executable);
	for (size_t i = 0; i < r->argc; i++)
		free(r->argv[i]);
	free(r->argv);
	free(r->types);
	free(r->unreachable_types);
	for (size_t i = 0; i < r->nugroups; i++)
		free(r->ugroups[i].signature);
	free(r->ugroups);
	for (size_t i = 0; i < r->ncycles; i++)
		free(r->cycles[i].signature);
	free(r->cycles);
	for (size_t i = 0; i < r->nthreads; i++) {
		for (size_t k = 0; k < r->threads[i].nframes; k++) {
			free(r->threads[i].frames[k].function);
			free(r->threads[i].frames[k].filename);
		}
		free(r->threads[i].frames);
	}
	free(r->threads);
	free(r->unreachable);
	free(r);
}
