/* Edge labels: how people read a reference from one object to another
 * (".attr", "['key']", "[3]", "<cell>", "<local 'x'>", "<class dict>"…),
 * for the few edges the why-is-it-alive paths show.
 *
 * What the report side can rely on from edge_label(src, dst): the first
 * way, in tp_traverse order, src refers to dst (two attributes holding the
 * same object give the first name). False when for_each_ref(src) does not
 * report dst. Every label mirrors a walk of referents.c and must follow
 * its order; names come from the layout tables (the fn_*, co_*, exc_*,
 * fo_*, gen_* offsets, 0 where a version lacks the member), from
 * PyMemberDef names (__slots__, exception members) and from dict keys
 * (dicts.c's forms, redacted on request).
 */
#include "cpython_int.h"

#include <stdio.h>
#include <string.h>

/* ---- names: dict keys, attributes, members ---- */

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
	if (!(v1 ? cpy_read_keys_v1(py, u64_or0(py, d + 32), &k)
		 : cpy_read_keys(py, u64_or0(py, d + 32), &k)))
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

/* A fixed member of an object and its label; FIELDS() makes the array
 * and its count for fields_label. */
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

/* ---- frames ---- */

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
	int64_t top = cpy_iframe_top(py, f);
	uint64_t names = code ? u64_or0(py, code + o->co_localsplusnames) : 0;
	uint64_t nplus = tuple_len(py, names);
	if (top < (int64_t)nplus)
		top = (int64_t)nplus;
	for (int64_t i = 0; i < top; i++) {
		if (frame_obj_at(py, f + o->if_localsplus + 8 * (uint64_t)i) != dst)
			continue;
		char name[128];
		if ((uint64_t)i < nplus &&
		    cpy_read_str(py, u64_or0(py, names + TUPLE_ITEMS(py) + 8 * (uint64_t)i), name,
				 sizeof(name)))
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
				if (cpy_read_str(py, u64_or0(py, tabs[t] + TUPLE_ITEMS(py) + 8 * i), name,
						 sizeof(name))) {
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

/* ---- by kind ---- */

/* pha_ref_fn that tells whether a walk reports dst. */
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

/* Items of a tuple, list or deque, dict values and keys (and the members
 * of defaultdict and OrderedDict), set items. */
static bool container_label(struct pha_py *py, uint64_t a, uint64_t dst, const struct tinfo *ti,
			    bool redact, char *buf, size_t size)
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
	default:
		return false;
	}
}

/* A frame object (3.11+: with its interpreter frame) or a generator,
 * coroutine or async generator. */
static bool frame_kind_label(struct pha_py *py, uint64_t a, uint64_t dst, const struct tinfo *ti,
			     char *buf, size_t size)
{
	const struct pha_py_offsets *o = py->o;
	switch (ti->kind) {
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
	default:
		return false;
	}
}

/* A type object: tp_dict, the members type_traverse visits, and what it
 * skips (cpy_type_refs). */
static bool type_label(struct pha_py *py, uint64_t a, uint64_t dst, char *buf, size_t size)
{
	const struct pha_py_offsets *o = py->o;
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
		} else if (heap && o->dict_keys_v1 &&
			   cpy_read_keys_v1(py, self->cached_keys, &k)) {
			for (int64_t i = 0; i < k.nentries; i++)
				named |= u64_or0(py, k.entries + 24 * (uint64_t)i + 8) == dst;
		}
		snprintf(buf, size, named ? "<attribute name>" : "<class dict>");
		return true;
	}
	return false;
}

/* A word of a module's state (referents.c: module_state_refs scans it):
 * "<module state +OFF>". */
static bool module_state_label(struct pha_py *py, uint64_t a, uint64_t dst, char *buf,
			       size_t size)
{
	const struct pha_py_offsets *o = py->o;
	if (!o->mod_state)
		return false;
	uint64_t state = u64_or0(py, a + o->mod_state);
	int64_t n;
	if (o->mod_state_size) {
		n = i64_or0(py, a + o->mod_state_size);
	} else {
		uint64_t def = u64_or0(py, a + o->mod_def);
		n = def ? i64_or0(py, def + MODDEF_SIZE) : 0;
	}
	for (int64_t off = 0; state && off + 8 <= n && off < MAX_CONSERVATIVE_SCAN; off += 8) {
		if (u64_or0(py, state + (uint64_t)off) == dst) {
			snprintf(buf, size, "<module state +%lld>", (long long)off);
			return true;
		}
	}
	return false;
}

/* Objects with a fixed set of members (as member_refs in referents.c
 * walks them). */
static bool member_label(struct pha_py *py, uint64_t a, uint64_t dst, const struct tinfo *ti,
			 char *buf, size_t size)
{
	const struct pha_py_offsets *o = py->o;
	switch (ti->kind) {
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
		if (fields_label(py, a, dst, FIELDS({16, ".__dict__"}, {o->mod_name ? o->mod_name : 48, ".__name__"}),
				 buf, size))
			return true;
		return module_state_label(py, a, dst, buf, size);
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
	default:
		return false;
	}
}

/* A functools._lru_cache_wrapper: its cache dict, or the key or result of
 * a link of its list (as lru_cache_refs in referents.c walks it). */
static bool lru_cache_label(struct pha_py *py, uint64_t a, uint64_t dst, char *buf, size_t size)
{
	uint64_t cache = u64_or0(py, a + LRU_CACHE);
	if (cache && cache == dst) {
		snprintf(buf, size, "<lru_cache dict>");
		return true;
	}
	uint64_t limit = cache ? u64_or0(py, cache + 16) + 1 : 0;
	uint64_t link = u64_or0(py, a + LRU_ELEM_NEXT);
	for (uint64_t i = 0; link && link != a && i < limit && i < MAX_LIST_WALK; i++) {
		if (u64_or0(py, link + LRU_ELEM_RESULT) == dst) {
			snprintf(buf, size, "<lru_cache result>");
			return true;
		}
		if (u64_or0(py, link + LRU_ELEM_KEY) == dst) {
			snprintf(buf, size, "<lru_cache key>");
			return true;
		}
		link = u64_or0(py, link + LRU_ELEM_NEXT);
	}
	return false;
}

/* How src, of kind ti->kind, refers to dst; false if none of the kind's
 * members does. */
static bool kind_label(struct pha_py *py, uint64_t a, uint64_t dst, struct tinfo *ti, bool redact,
		       char *buf, size_t size)
{
	switch (ti->kind) {
	case K_TUPLE:
	case K_LIST:
	case K_DICT:
	case K_DEFAULTDICT:
	case K_ODICT:
	case K_SET:
	case K_DEQUE:
		return container_label(py, a, dst, ti, redact, buf, size);
	case K_FRAME:
	case K_GEN:
	case K_CORO:
	case K_ASYNCGEN:
		return frame_kind_label(py, a, dst, ti, buf, size);
	case K_TYPE:
		return type_label(py, a, dst, buf, size);
	case K_FUNCTION:
	case K_CODE:
	case K_CELL:
	case K_METHOD:
	case K_INSTANCEMETHOD:
	case K_MODULE:
	case K_WEAKREF:
	case K_PROPERTY:
	case K_CLASSMETHOD:
	case K_EXCEPTION:
	case K_TRACEBACK:
	case K_CMETHOD:
	case K_CFUNCTION:
	case K_DESCR:
	case K_METHODWRAPPER:
	case K_MAPPINGPROXY:
	case K_SLICE:
	case K_RANGE:
		return member_label(py, a, dst, ti, buf, size);
	case K_LRU_CACHE:
		return lru_cache_label(py, a, dst, buf, size);
	default:
		return false;
	}
}

/* ---- edge_label() ---- */

/* A managed instance dict (3.11+): an inline or pre-header value, named by
 * the type's cached keys, or the dict itself. */
static bool managed_dict_label(struct pha_py *py, uint64_t src, uint64_t dst,
			       const struct tinfo *ti, char *buf, size_t size)
{
	const struct pha_py_offsets *o = py->o;
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
	return false;
}

/* An instance of a heap type, in subtype_traverse's order: slots, the
 * instance dict, the type. */
static bool instance_label(struct pha_py *py, uint64_t src, uint64_t dst, const struct tinfo *ti,
			   uint64_t type, char *buf, size_t size)
{
	for (uint32_t i = 0; i < ti->nslots; i++) {
		if (u64_or0(py, src + ti->slots[i]) == dst) {
			if (!member_name(py, type, ti->slots[i], buf, size))
				snprintf(buf, size, "<slot at +%u>", ti->slots[i]);
			return true;
		}
	}
	if ((ti->flags & TPF_MANAGED_DICT) && !py->o->dict_keys_v1) {
		if (managed_dict_label(py, src, dst, ti, buf, size))
			return true;
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
	return false;
}

/* Anything else for_each_ref reports: name it by its offset. */
static bool offset_label(struct pha_py *py, uint64_t src, uint64_t dst, const struct tinfo *ti,
			 char *buf, size_t size)
{
	struct pha_object_info info;
	if (pha_cpython_object_info(py, src, &info))
		return false;
	struct find_ref fr = {.dst = dst};
	pha_cpython_for_each_ref(py, src, &info, on_find_ref, &fr);
	if (!fr.found)
		return false;
	const char *tn = pha_cpython_type_name(py, info.type);
	if (!strcmp(tn, LRU_WRAPPER_TYPE) || !strcmp(tn, LRU_ELEM_TYPE)) {
		static const struct {
			bool wrapper;
			uint32_t off;
			const char *label;
		} lru[] = {
			{true, LRU_CACHE, "<lru_cache dict>"}, {true, LRU_FUNC, "<lru_cache func>"},
			{false, LRU_ELEM_KEY, "<lru_cache key>"},
			{false, LRU_ELEM_RESULT, "<lru_cache result>"},
		};
		bool wrapper = tn[sizeof("functools._lru_") - 1] == 'c';
		for (size_t i = 0; i < sizeof(lru) / sizeof(lru[0]); i++) {
			if (lru[i].wrapper == wrapper && u64_or0(py, src + lru[i].off) == dst) {
				snprintf(buf, size, "%s", lru[i].label);
				return true;
			}
		}
	}
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

bool pha_cpython_edge_label(struct pha_py *py, uint64_t src, uint64_t dst, bool redact, char *buf,
			    size_t size)
{
	if (!size)
		return false;
	buf[0] = 0;
	uint64_t type = u64_or0(py, src + 8);
	struct tinfo *ti = cpy_type_of(py, type);
	if (!ti)
		return false;
	if ((ti->flags & TPF_HEAPTYPE) && instance_label(py, src, dst, ti, type, buf, size))
		return true;
	if (kind_label(py, src, dst, ti, redact, buf, size))
		return true;
	return offset_label(py, src, dst, ti, buf, size);
}
