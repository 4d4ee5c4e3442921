#include "dump.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../formats/output.h"
#include "../plugins/pha_layout.h"

static const char *flag_names(uint8_t f, char *buf, size_t size)
{
	buf[0] = 0;
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = {
		{PHA_OBJ_GC, "gc"}, {PHA_OBJ_PERMANENT, "permanent"},
		{PHA_OBJ_IMMORTAL, "immortal"}, {PHA_OBJ_CONSERVATIVE, "conservative"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (f & names[i].bit) {
			if (buf[0])
				strncat(buf, ",", size - strlen(buf) - 1);
			strncat(buf, names[i].name, size - strlen(buf) - 1);
		}
	}
	if (!buf[0])
		snprintf(buf, size, "-");
	return buf;
}

struct pha_error *pha_dump_objects(const char *path, const struct pha_heap *h,
				   const uint8_t *unreachable)
{
	struct pha_out *out;
	struct pha_error *err = pha_out_open(path, false, 0, &out);
	if (err)
		return err;
	pha_out_puts(out, "address\ttype\tsize\trefcnt\tflags\tunreachable\n");
	for (uint32_t v = 0; v < h->n; v++) {
		char fb[64];
		pha_out_printf(out, "0x%" PRIx64 "\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\t%d\n",
			       h->addr[v], h->types[h->type[v]].name, pha_heap_size(h, v), pha_heap_refcnt(h, v),
			       flag_names(h->flags[v], fb, sizeof(fb)), unreachable[v]);
	}
	return pha_out_close(out);
}

/* --dump-why FILE (a debugging aid for the tests of the layout's
 * why-is-it-alive operations): TSV lines
 *   root   ADDR KIND THREAD LABEL             every labelled root
 *   local  THREAD FRAME FUNC FILE LINE NAME ADDR PREVIEW   frame locals
 *   edge   SRC DST LABEL PREVIEW              references of each local's value */
struct why_dump {
	struct pha_out *out;
	const struct pha_target *t;
	bool redact;	/* --redact: previews and labels as the report shows them */
};

static const char *why_clean(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '\t' || *p == '\n')
			*p = ' ';
	return s;
}

static void why_root(void *arg, const struct pha_root *root)
{
	static const char *const kinds[] = {"?", "modules", "sysdict", "builtins", "interned",
					    "thread", "frame_local", "frame", "static_type"};
	struct why_dump *d = arg;
	char label[1024];
	snprintf(label, sizeof(label), "%s", root->label);
	pha_out_printf(d->out, "root\t0x%" PRIx64 "\t%s\t0x%" PRIx64 "\t%s\n", root->addr,
		       root->kind >= 1 && root->kind <= 8 ? kinds[root->kind] : "?", root->thread_id,
		       why_clean(label));
}

struct why_edges {
	struct why_dump *d;
	uint64_t src;
	unsigned n;
};

static void why_edge(void *arg, uint64_t addr, unsigned flags)
{
	struct why_edges *e = arg;
	const struct pha_layout *l = e->d->t->layout;
	if (e->n++ >= 64)
		return;
	char label[256], prev[512];
	if (!l->edge_label(e->d->t->py, e->src, addr, e->d->redact, label, sizeof(label)))
		snprintf(label, sizeof(label), "-");
	if (!l->preview(e->d->t->py, addr, e->d->redact, prev, sizeof(prev)))
		prev[0] = 0;
	pha_out_printf(e->d->out, "edge\t0x%" PRIx64 "\t0x%" PRIx64 "\t%s\t%s\n", e->src, addr,
		       why_clean(label), why_clean(prev));
}

static void why_thread(void *arg, const struct pha_thread_info *th)
{
	struct why_dump *d = arg;
	const struct pha_layout *l = d->t->layout;
	for (size_t i = 0; i < th->nframes; i++) {
		const struct pha_frame_info *f = &th->frames[i];
		for (size_t j = 0; j < f->nlocals; j++) {
			uint64_t v = f->locals[j].value;
			char prev[512], fn[512], file[1024], name[256];
			if (!v || !l->preview(d->t->py, v, d->redact, prev, sizeof(prev)))
				prev[0] = 0;
			snprintf(fn, sizeof(fn), "%s", f->function);
			snprintf(file, sizeof(file), "%s", f->filename);
			snprintf(name, sizeof(name), "%s", f->locals[j].name);
			pha_out_printf(d->out, "local\t0x%" PRIx64 "\t%zu\t%s\t%s\t%d\t%s\t0x%" PRIx64 "\t%s\n",
				       th->thread_id, i, why_clean(fn), why_clean(file), f->line,
				       why_clean(name), v, why_clean(prev));
			struct pha_object_info info;
			struct pha_error *e;
			if (!v || (e = l->object_info(d->t->py, v, &info))) {
				if (v)
					pha_error_destroy(e);
				continue;
			}
			struct why_edges we = {.d = d, .src = v};
			if ((e = l->for_each_ref(d->t->py, v, &info, why_edge, &we)))
				pha_error_destroy(e);
		}
	}
}

struct pha_error *pha_dump_why(const char *path, const struct pha_target *t, bool redact)
{
	if (!t->layout->labelled_roots || !t->layout->edge_label || !t->layout->preview)
		return pha_error_create(PHA_ERR_INPUT, "--dump-why: the layout %s does not provide "
						     "labelled roots, edge labels and previews",
				     t->layout->name);
	struct why_dump d = {.t = t, .redact = redact};
	struct pha_error *err = pha_out_open(path, false, 0, &d.out);
	if (err)
		return err;
	if (!(err = t->layout->labelled_roots(t->py, why_root, &d)))
		err = t->layout->threads(t->py, why_thread, &d);
	struct pha_error *e2 = pha_out_close(d.out);
	if (err) {
		if (e2)
			pha_error_destroy(e2);
		return err;
	}
	return e2;
}
