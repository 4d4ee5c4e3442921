/* Waste (report/2): duplicate str and bytes values, empty and mostly-empty
 * containers. Cores only: it reads values through the layout's value_bytes
 * and container_len and the core's memory; snapshots carry previews only.
 *
 * Duplicates: every object whose type is exactly "str" or "bytes" is hashed
 * (FNV-1a over kind, unit, length and content, read in chunks); the (hash,
 * id) pairs are grouped by hash and each run of equal hashes is split into
 * groups of byte-equal values (compared chunk by chunk against the group's
 * first, lowest-address member). A group of c >= 2 copies wastes the
 * shallow sizes of all copies but that first one. Memory: 16 bytes per
 * str/bytes object, freed before returning.
 */
#include "bigmem.h"
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugins/pha_layout.h"
#include "progress.h"

#define WASTE_TOP 20
#define CHUNK 4096

struct hid {
	uint64_t hash;
	uint32_t id;
	uint32_t kind;	/* 0 str, 1 bytes */
};

struct grp {
	uint64_t copies, wasted, addr;
	uint32_t id, kind;
};

static int cmp_hid(const void *a, const void *b)
{
	const struct hid *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_grp(const void *a, const void *b)
{
	const struct grp *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->wasted != y->wasted)
		return x->wasted > y->wasted ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_wtype(const void *a, const void *b)
{
	const struct pha_waste_type *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool hash_value(const struct pha_source *src, uint64_t addr, uint32_t kind, uint64_t *h_ret)
{
	uint64_t data, len;
	unsigned unit;
	if (!src->lay->value_bytes(src->py, addr, &data, &len, &unit))
		return false;
	uint64_t h = 1469598103934665603ULL;
	uint64_t hdr[3] = {kind, unit, len};
	const unsigned char *p = (const unsigned char *)hdr;
	for (size_t i = 0; i < sizeof(hdr); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	unsigned char buf[CHUNK];
	for (uint64_t off = 0; off < len; off += CHUNK) {
		size_t n = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
		if (!src->svc->read(src->svc->ctx, data + off, buf, n))
			return false;
		for (size_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
	}
	*h_ret = h;
	return true;
}

static bool same_value(const struct pha_source *src, uint64_t a, uint64_t b)
{
	uint64_t da, la, db, lb;
	unsigned ua, ub;
	if (!src->lay->value_bytes(src->py, a, &da, &la, &ua) ||
	    !src->lay->value_bytes(src->py, b, &db, &lb, &ub) || la != lb || ua != ub)
		return false;
	unsigned char x[CHUNK], y[CHUNK];
	for (uint64_t off = 0; off < la; off += CHUNK) {
		size_t n = la - off < CHUNK ? (size_t)(la - off) : CHUNK;
		if (!src->svc->read(src->svc->ctx, da + off, x, n) ||
		    !src->svc->read(src->svc->ctx, db + off, y, n) || memcmp(x, y, n) != 0)
			return false;
	}
	return true;
}

static struct pha_error *containers(const struct pha_source *src, const struct pha_heap *h,
				    struct pha_waste *w)
{
	uint8_t *is_cont = calloc(h->ntypes ? h->ntypes : 1, 1);
	uint64_t *ec = calloc(h->ntypes ? h->ntypes : 1, 4 * sizeof(uint64_t));
	if (!is_cont || !ec) {
		free(is_cont);
		free(ec);
		return &pha_enomem;
	}
	for (uint32_t t = 0; t < h->ntypes; t++) {
		const char *nm = h->types[t].name;
		is_cont[t] = nm && (!strcmp(nm, "list") || !strcmp(nm, "dict") || !strcmp(nm, "set") ||
				    !strcmp(nm, "frozenset"));
	}
	for (uint32_t v = 0; v < h->n; v++) {
		uint32_t t = h->type[v];
		uint64_t used, cap;
		if (!is_cont[t] || !src->lay->container_len(src->py, h->addr[v], &used, &cap))
			continue;
		if (used == 0) {
			ec[4 * t]++;
			ec[4 * t + 1] += pha_heap_size(h, v);
		} else if (cap >= 8 && used * 8 <= cap) {
			ec[4 * t + 2]++;
			ec[4 * t + 3] += pha_heap_size(h, v);
		}
	}
	for (int m = 0; m < 2; m++) {
		struct pha_container_waste *cw = m ? &w->mostly_empty : &w->empty;
		size_t nt = 0;
		for (uint32_t t = 0; t < h->ntypes; t++)
			nt += ec[4 * t + 2 * m] != 0;
		cw->types = calloc(nt ? nt : 1, sizeof(*cw->types));
		if (!cw->types) {
			free(is_cont);
			free(ec);
			return &pha_enomem;
		}
		for (uint32_t t = 0; t < h->ntypes; t++) {
			if (!ec[4 * t + 2 * m])
				continue;
			struct pha_waste_type *wt = &cw->types[cw->ntypes++];
			wt->name = h->types[t].name;
			wt->count = ec[4 * t + 2 * m];
			wt->bytes = ec[4 * t + 2 * m + 1];
			cw->count += wt->count;
			cw->bytes += wt->bytes;
		}
		if (cw->ntypes > 1)	/* qsort(NULL, 0) is undefined */
			qsort(cw->types, cw->ntypes, sizeof(*cw->types), cmp_wtype);
	}
	free(is_cont);
	free(ec);
	return NULL;
}

/* Duplicate groups found so far (grows by doubling from 64). */
struct grps {
	struct grp *g;
	size_t n, cap;
};

/* kind[t] for every heap type: 1 str, 2 bytes, 0 neither (exact names). */
static uint8_t *value_kinds(const struct pha_heap *h)
{
	uint8_t *kind = calloc(h->ntypes ? h->ntypes : 1, 1);
	if (!kind)
		return NULL;
	for (uint32_t t = 0; t < h->ntypes; t++) {
		const char *nm = h->types[t].name;
		kind[t] = !nm ? 0 : !strcmp(nm, "str") ? 1 : !strcmp(nm, "bytes") ? 2 : 0;
	}
	return kind;
}

/* a[0..n) with equal hashes together, ids ascending within a hash (as
 * they come): LSD radix in two 16-bit passes through tmp (n entries) on
 * the low 32 bits, then the rare runs of equal low halves whose high
 * halves differ sorted by (hash, id). find_duplicates needs the runs,
 * not their order (its groups are sorted by cmp_grp): two passes fewer
 * than a full sort by hash (issue 12). */
static bool radix_by_hash(struct hid *a, size_t n)
{
	struct hid *tmp = pha_big_malloc(n * sizeof(*tmp));
	size_t *cnt = malloc(65536 * sizeof(*cnt));
	if (!tmp || !cnt) {
		pha_big_free(tmp);
		free(cnt);
		return false;
	}
	struct hid *from = a, *to = tmp;
	for (int pass = 0; pass < 2; pass++) {
		int shift = 16 * pass;
		memset(cnt, 0, 65536 * sizeof(*cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(from[i].hash >> shift) & 0xffff]++;
		size_t sum = 0;
		for (size_t d = 0; d < 65536; d++) {
			size_t c = cnt[d];
			cnt[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			to[cnt[(from[i].hash >> shift) & 0xffff]++] = from[i];
		struct hid *t = from;
		from = to;
		to = t;
	}
	/* two passes: the result is back in a */
	pha_big_free(tmp);
	free(cnt);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		bool mixed = false;
		while (j < n && (uint32_t)a[j].hash == (uint32_t)a[i].hash) {
			mixed |= a[j].hash != a[i].hash;
			j++;
		}
		if (mixed)
			qsort(a + i, j - i, sizeof(*a), cmp_hid);
		i = j;
	}
	return true;
}

/* (hash, id, kind) of every str and bytes value that can be read, sorted
 * by hash then id. */
static struct pha_error *hash_values(const struct pha_source *src, const struct pha_heap *h,
				     const uint8_t *kind, struct hid **a_ret, size_t *na_ret)
{
	size_t cnt = 0, na = 0;
	for (uint32_t v = 0; v < h->n; v++)
		cnt += kind[h->type[v]] != 0;
	struct hid *a = pha_big_malloc((cnt ? cnt : 1) * sizeof(*a));
	if (!a)
		return &pha_enomem;
	for (uint32_t v = 0; v < h->n; v++) {
		if (!kind[h->type[v]])
			continue;
		uint64_t hv;
		if (!hash_value(src, h->addr[v], kind[h->type[v]] - 1u, &hv))
			continue;
		a[na++] = (struct hid){.hash = hv, .id = v, .kind = kind[h->type[v]] - 1u};
	}
	/* a is in id order: equal hashes together, ids ascending (few
	 * values: qsort by (hash, id), which needs no 512 KiB of counters) */
	if (na > 1 && na < 4096) {
		qsort(a, na, sizeof(*a), cmp_hid);
	} else if (na > 1 && !radix_by_hash(a, na)) {
		pha_big_free(a);
		return &pha_enomem;
	}
	*a_ret = a;
	*na_ret = na;
	return NULL;
}

/* Split one run of k >= 2 equal hashes (run[0..k)) into groups of equal
 * values, each led by its first (lowest-id) member; count groups of two
 * or more copies into w and keep them in gs. done: k bytes of scratch. */
static struct pha_error *split_run(const struct pha_source *src, const struct pha_heap *h,
				   const struct hid *run, size_t k, uint8_t *done,
				   struct pha_waste *w, struct grps *gs)
{
	for (size_t r = 0; r < k; r++) {
		if (done[r])
			continue;
		uint32_t first = run[r].id;
		struct grp gr = {.copies = 1, .addr = h->addr[first], .id = first, .kind = run[r].kind};
		for (size_t s = r + 1; s < k; s++) {
			if (done[s] || run[s].kind != gr.kind ||
			    !same_value(src, h->addr[first], h->addr[run[s].id]))
				continue;
			done[s] = 1;
			gr.copies++;
			gr.wasted += pha_heap_size(h, run[s].id);
		}
		if (gr.copies < 2)
			continue;
		struct pha_dup_kind *dk = gr.kind ? &w->dup_bytes : &w->dup_str;
		dk->groups++;
		dk->copies += gr.copies;
		dk->wasted_bytes += gr.wasted;
		if (gs->n == gs->cap) {
			gs->cap = gs->cap ? 2 * gs->cap : 64;
			struct grp *ng = realloc(gs->g, gs->cap * sizeof(*ng));
			if (!ng)
				return &pha_enomem;
			gs->g = ng;
		}
		gs->g[gs->n++] = gr;
	}
	return NULL;
}

/* Every duplicate group among the sorted hashes a[0..na). */
static struct pha_error *find_duplicates(const struct pha_source *src, const struct pha_heap *h,
					 const struct hid *a, size_t na, struct pha_waste *w,
					 struct grps *gs)
{
	uint8_t *done = NULL;
	for (size_t i = 0; i < na;) {
		size_t j = i + 1;
		while (j < na && a[j].hash == a[i].hash)
			j++;
		if (j - i >= 2) {
			free(done);
			if (!(done = calloc(j - i, 1)))
				return &pha_enomem;
			struct pha_error *err = split_run(src, h, a + i, j - i, done, w, gs);
			if (err) {
				free(done);
				return err;
			}
		}
		i = j;
	}
	free(done);
	return NULL;
}

/* The WASTE_TOP groups of each kind that waste most, with previews. */
static struct pha_error *top_values(const struct pha_source *src,
				    const struct pha_report_options *opts, struct grps *gs,
				    struct pha_waste *w)
{
	if (gs->n > 1)
		qsort(gs->g, gs->n, sizeof(*gs->g), cmp_grp);
	for (int kd = 0; kd < 2; kd++) {
		struct pha_dup_kind *dk = kd ? &w->dup_bytes : &w->dup_str;
		if (!(dk->top = calloc(WASTE_TOP, sizeof(*dk->top))))
			return &pha_enomem;
	}
	for (size_t i = 0; i < gs->n; i++) {
		const struct grp *g = &gs->g[i];
		struct pha_dup_kind *dk = g->kind ? &w->dup_bytes : &w->dup_str;
		if (dk->ntop >= WASTE_TOP)
			continue;
		char buf[512] = "";
		if (src->lay->preview)
			src->lay->preview(src->py, g->addr, opts->redact, buf, sizeof(buf));
		struct pha_dup_value *dv = &dk->top[dk->ntop];
		if (!(dv->preview = strdup(buf)))
			return &pha_enomem;
		dv->copies = g->copies;
		dv->wasted_bytes = g->wasted;
		dv->address = g->addr;
		dk->ntop++;
	}
	return NULL;
}

/* Duplicate values (hash_values, find_duplicates, top_values; the hashes
 * are freed before the previews are read), then empty containers. */
struct pha_error *pha_waste_build(struct pha_source *src, const struct pha_heap *h,
				  const struct pha_report_options *opts, struct pha_waste *w)
{
	memset(w, 0, sizeof(*w));
	if (!src->lay || !src->py || !src->svc) {
		w->reason = "needs the values' contents: a snapshot stores 80-character previews only";
		return NULL;
	}
	if (!src->lay->value_bytes || !src->lay->container_len) {
		w->reason = "the layout does not expose values' contents (value_bytes, container_len)";
		return NULL;
	}
	pha_progress("finding duplicate values", 0, 0);
	struct hid *a = NULL;
	size_t na = 0;
	struct grps gs = {0};
	struct pha_error *err = &pha_enomem;
	uint8_t *kind = value_kinds(h);
	if (!kind)
		return err;
	if ((err = hash_values(src, h, kind, &a, &na)))
		goto out;
	if ((err = find_duplicates(src, h, a, na, w, &gs)))
		goto out;
	pha_big_free(a);
	a = NULL;
	if ((err = top_values(src, opts, &gs, w)))
		goto out;
	pha_progress("finding empty containers", 0, 0);
	if ((err = containers(src, h, w)))
		goto out;
	w->available = true;
out:
	free(kind);
	pha_big_free(a);
	free(gs.g);
	if (err)
		pha_waste_deinit(w);
	return err;
}

void pha_waste_deinit(struct pha_waste *w)
{
	for (int kd = 0; kd < 2; kd++) {
		struct pha_dup_kind *dk = kd ? &w->dup_bytes : &w->dup_str;
		for (size_t i = 0; i < dk->ntop; i++)
			free(dk->top[i].preview);
		free(dk->top);
	}
	free(w->empty.types);
	free(w->mostly_empty.types);
	memset(w, 0, sizeof(*w));
}
