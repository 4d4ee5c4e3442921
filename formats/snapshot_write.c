/* Writing a heap snapshot with msgpack-c's packer into an output stream
 * (plain or zstd). Objects go out in id order, 4096 to a record, so a
 * reader can stream them and a truncated file still has whole records. */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "snapshot.h"
#include "snapshot_allocs.h"

enum { CHUNK = 4096 };

static int write_cb(void *data, const char *buf, size_t len)
{
	pha_out_write(data, buf, len);
	return 0;	/* the stream's error is sticky and checked at close */
}


static void record(msgpack_packer *pk, const char *t, uint32_t entries)
{
	msgpack_pack_map(pk, entries + 1);
	pha_mp_put_str(pk, "t");
	pha_mp_put_str(pk, t);
}

static void header(msgpack_packer *pk, const struct pha_source *s, const struct pha_heap *h,
		   const struct pha_snapshot_write_options *o)
{
	msgpack_pack_map(pk, 10);
	/* "format" first: the magic that pha_snapshot_sniff looks for. */
	pha_mp_put_str(pk, "format");
	pha_mp_put_str(pk, PHA_SNAPSHOT_FORMAT);
	pha_mp_put_str(pk, "version");
	msgpack_pack_uint32(pk, PHA_SNAPSHOT_VERSION);
	pha_mp_put_str(pk, "written_by");
	pha_mp_put_str(pk, o->written_by);
	pha_mp_put_str(pk, "source");
	pha_mp_put_str(pk, s->origin ? s->origin : "core");
	pha_mp_put_str(pk, "time");
	msgpack_pack_int64(pk, s->time >= 0 ? s->time : (int64_t)time(NULL));
	pha_mp_put_str(pk, "redacted");
	if (o->redact)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	pha_mp_put_str(pk, "input");
	msgpack_pack_map(pk, 3);
	pha_mp_put_str(pk, "path");
	pha_mp_put_str(pk, s->input_path);
	pha_mp_put_str(pk, "bytes");
	msgpack_pack_uint64(pk, s->input_bytes);
	pha_mp_put_str(pk, "compressed");
	if (s->compressed)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);

	pha_mp_put_str(pk, "python");
	msgpack_pack_map(pk, 4);
	pha_mp_put_str(pk, "version");
	pha_mp_put_str(pk, s->version);
	pha_mp_put_str(pk, "hexversion");
	msgpack_pack_uint32(pk, s->hexversion);
	pha_mp_put_str(pk, "layout");
	pha_mp_put_str(pk, s->layout);
	pha_mp_put_str(pk, "free_threaded");
	if (s->free_threaded)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);

	pha_mp_put_str(pk, "process");
	msgpack_pack_map(pk, 4);
	pha_mp_put_str(pk, "pid");
	if (s->pid >= 0)
		msgpack_pack_int64(pk, s->pid);
	else
		msgpack_pack_nil(pk);
	pha_mp_put_str(pk, "signal");
	if (s->signal)
		msgpack_pack_int(pk, s->signal);
	else
		msgpack_pack_nil(pk);
	pha_mp_put_str(pk, "executable");
	pha_mp_put_str(pk, s->executable);
	pha_mp_put_str(pk, "argv");
	if (s->argc && !o->redact) {
		msgpack_pack_array(pk, s->argc);
		for (size_t i = 0; i < s->argc; i++)
			pha_mp_put_str(pk, s->argv[i]);
	} else {
		msgpack_pack_nil(pk);
	}
	pha_mp_put_str(pk, "counts");
	msgpack_pack_map(pk, 3);
	pha_mp_put_str(pk, "objects");
	msgpack_pack_uint32(pk, h->n);
	pha_mp_put_str(pk, "edges");
	msgpack_pack_uint64(pk, h->nedges);
	pha_mp_put_str(pk, "types");
	msgpack_pack_uint32(pk, h->ntypes);
}

static void types(msgpack_packer *pk, const struct pha_heap *h)
{
	record(pk, "types", 1);
	pha_mp_put_str(pk, "types");
	msgpack_pack_array(pk, h->ntypes);
	for (uint32_t i = 0; i < h->ntypes; i++) {
		/* [address, name, basicsize, flags, kind]: a core's heap model
		 * keeps neither basicsize nor flags. */
		msgpack_pack_array(pk, 5);
		msgpack_pack_uint64(pk, h->types[i].addr);
		pha_mp_put_str(pk, h->types[i].name);
		msgpack_pack_nil(pk);
		msgpack_pack_nil(pk);
		msgpack_pack_uint8(pk, h->types[i].kind);
	}
}

/* tbmap: the allocations record's index of each traceback (NULL: no
 * object has a site, and the objects have 9 fields as in version 1). */
static void objects(msgpack_packer *pk, const struct pha_heap *h, const struct pha_allocs *al,
		    const uint32_t *tbmap)
{
	for (uint32_t start = 0; start < h->n; start += CHUNK) {
		uint32_t end = h->n - start > CHUNK ? start + CHUNK : h->n;
		record(pk, "objects", 1);
		pha_mp_put_str(pk, "objects");
		msgpack_pack_array(pk, end - start);
		for (uint32_t v = start; v < end; v++) {
			/* [addr, type, size, refcnt, flags, gen, refs, kinds, preview,
			 *  site] */
			msgpack_pack_array(pk, tbmap ? 10 : 9);
			msgpack_pack_uint64(pk, h->addr[v]);
			msgpack_pack_uint32(pk, h->type[v]);
			msgpack_pack_uint64(pk, pha_heap_size(h, v));
			msgpack_pack_uint64(pk, pha_heap_refcnt(h, v));
			msgpack_pack_uint8(pk, h->flags[v]);
			if (h->gen[v] == 255)
				msgpack_pack_nil(pk);
			else
				msgpack_pack_uint8(pk, h->gen[v]);
			uint32_t a = h->first[v], b = h->first[v + 1];
			bool plain = true;
			msgpack_pack_array(pk, b - a);
			for (uint32_t e = a; e < b; e++) {
				msgpack_pack_uint64(pk, h->addr[h->dst[e]]);
				plain &= h->eflags[e] == PHA_EDGE_TRAVERSED;
			}
			/* Kinds only when some edge is not a plain traversed one. */
			if (plain) {
				msgpack_pack_nil(pk);
			} else {
				msgpack_pack_bin(pk, b - a);
				msgpack_pack_bin_body(pk, h->eflags + a, b - a);
			}
			msgpack_pack_nil(pk);
			if (!tbmap)
				continue;
			uint32_t tb = v < al->nobj ? al->obj_tb[v] : PHA_NO_TB;
			if (tb < al->ntb && tbmap[tb] != PHA_NO_TB)
				msgpack_pack_uint32(pk, tbmap[tb]);
			else
				msgpack_pack_nil(pk);
		}
	}
}

static void threads(msgpack_packer *pk, const struct pha_source *s)
{
	record(pk, "threads", 1);
	pha_mp_put_str(pk, "threads");
	msgpack_pack_array(pk, s->nthreads);
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct pha_report_thread *t = &s->threads[i];
		msgpack_pack_map(pk, 4);
		pha_mp_put_str(pk, "thread_id");
		msgpack_pack_uint64(pk, t->thread_id);
		pha_mp_put_str(pk, "native_id");
		if (t->native_id)
			msgpack_pack_uint64(pk, t->native_id);
		else
			msgpack_pack_nil(pk);
		pha_mp_put_str(pk, "crashed");
		if (t->crashed)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		pha_mp_put_str(pk, "frames");
		msgpack_pack_array(pk, t->nframes);
		for (size_t k = 0; k < t->nframes; k++) {
			const struct pha_report_frame *f = &t->frames[k];
			/* [function, filename, line, locals {name: address}] */
			msgpack_pack_array(pk, 4);
			pha_mp_put_str(pk, f->function);
			pha_mp_put_str(pk, f->filename);
			if (f->line >= 0)
				msgpack_pack_int(pk, f->line);
			else
				msgpack_pack_nil(pk);
			if (!f->locals) {
				msgpack_pack_nil(pk);
				continue;
			}
			msgpack_pack_map(pk, f->nlocals);
			for (size_t j = 0; j < f->nlocals; j++) {
				pha_mp_put_str(pk, f->locals[j].name);
				msgpack_pack_uint64(pk, f->locals[j].addr);
			}
		}
	}
}

struct pha_error *pha_snapshot_write(const char *path, const struct pha_source *s,
				     const struct pha_heap *h,
				     const struct pha_snapshot_write_options *o)
{
	struct pha_out *out;
	uint32_t *tbmap, ntb;
	struct pha_error *err = pha_snap_allocs_map(&s->allocs, &tbmap, &ntb);
	if (err)
		return err;
	if ((err = pha_out_open(path, o->compress, 6, &out))) {
		free(tbmap);
		return err;
	}
	msgpack_packer pk;
	msgpack_packer_init(&pk, out, write_cb);

	header(&pk, s, h, o);
	types(&pk, h);
	objects(&pk, h, &s->allocs, s->allocs.obj_tb ? tbmap : NULL);

	record(&pk, "roots", 1);
	pha_mp_put_str(&pk, "roots");
	msgpack_pack_array(&pk, s->nroots);
	for (size_t i = 0; i < s->nroots; i++) {
		msgpack_pack_array(&pk, 3);	/* [address, label, kind] */
		msgpack_pack_uint64(&pk, s->roots[i]);
		pha_mp_put_str(&pk, s->root_labels ? s->root_labels[i] : NULL);
		msgpack_pack_uint32(&pk, s->root_kinds ? s->root_kinds[i] : 0);
	}
	threads(&pk, s);
	pha_snap_allocs_write(&pk, &s->allocs, tbmap, ntb);
	free(tbmap);

	record(&pk, "warnings", 1);
	pha_mp_put_str(&pk, "warnings");
	msgpack_pack_array(&pk, s->nwarnings);
	for (size_t i = 0; i < s->nwarnings; i++)
		pha_mp_put_str(&pk, s->warnings[i]);

	record(&pk, "stats", 2);
	pha_mp_put_str(&pk, "unknown_refs");
	msgpack_pack_uint64(&pk, h->unknown_refs);
	pha_mp_put_str(&pk, "bad_objects");
	msgpack_pack_uint64(&pk, h->bad_objects);

	record(&pk, "end", 2);
	pha_mp_put_str(&pk, "objects");
	msgpack_pack_uint32(&pk, h->n);
	pha_mp_put_str(&pk, "edges");
	msgpack_pack_uint64(&pk, h->nedges);
	return pha_out_close(out);
}
