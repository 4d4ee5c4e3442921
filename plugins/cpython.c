/* The table-driven CPython walker (3.8 - 3.15): one implementation of the
 * pha_layout operations for every version, parameterised by the offset
 * tables of layouts.c. This file is its entry and exit: open() finds the
 * interpreters from _PyRuntime and prepares what the other operations
 * need, close() frees it, hexversion() reads sys.hexversion. The other
 * operations live in the file of the concept they need (plugins/README.md
 * has the map; cpython_int.h the shared state).
 *
 * Versions:
 *   3.8 - 3.10  no Py_Version in the binary: the host asks hexversion()
 *               (sys.hexversion, an int of 30-bit digits; 3.12+ lv_tag).
 *   3.12        static builtin types keep their state in the interpreter
 *               (is_types_builtins).
 *   3.13+       _PyRuntime starts with _Py_DebugOffsets: open() takes every
 *               offset the table's debug_map covers from the core; the
 *               static types' state array is checked against dict and type
 *               and searched for when it moved (static_builtin_search).
 */
#include "cpython_int.h"

#include <stdlib.h>
#include <string.h>

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

/* The interpreters of _PyRuntime's list whose state matches the layout:
 * every thread state points back at its interpreter, and sys.modules /
 * sys.__dict__ are dicts (a later interpreter that fails the second test
 * is skipped with a warning, the first one is an error). */
static struct pha_error *find_interpreters(struct pha_py *py, uint64_t runtime)
{
	const struct pha_py_offsets *o = py->o;
	uint64_t interp;
	if (!rd64(py, runtime + o->rt_interpreters_head, &interp))
		return pha_error_create(PHA_ERR_INPUT,
					"_PyRuntime at 0x%llx is not readable in the core",
					(unsigned long long)runtime);
	py->svc.log(py->svc.ctx, "interpreters head link at 0x%llx",
		    (unsigned long long)(runtime + o->rt_interpreters_head));
	while (interp && py->ninterps < MAX_INTERPS) {
		py->svc.log(py->svc.ctx, "interpreter state 0x%llx: sys.modules link at 0x%llx, "
					 "next link at 0x%llx",
			    (unsigned long long)interp, (unsigned long long)(interp + o->is_modules),
			    (unsigned long long)(interp + o->is_next));
		/* A corrupted next link can make the list a cycle: the same
		 * interpreter walked 256 times. */
		bool seen = false;
		for (size_t i = 0; i < py->ninterps && !seen; i++)
			seen = py->interps[i] == interp;
		if (seen) {
			py->svc.warn(py->svc.ctx, "the interpreter list loops back to 0x%llx "
						  "(corrupted link): the rest is not followed",
				     (unsigned long long)interp);
			break;
		}
		uint64_t ts = u64_or0(py, interp + o->is_threads_head);
		if (ts && u64_or0(py, ts + o->ts_interp) != interp)
			return pha_error_create(PHA_ERR_INPUT,
						"interpreter state at 0x%llx does not match layout %s "
						"(its first thread state does not point back at it)",
						(unsigned long long)interp, py->layout->name);
		uint64_t modules = u64_or0(py, interp + o->is_modules);
		if (!is_kind(py, modules, K_DICT) ||
		    !is_kind(py, u64_or0(py, interp + o->is_sysdict), K_DICT)) {
			/* Name the symptom a user can act on before the cause
			 * the layout sees. */
			if (py->ninterps == 0 && !modules)
				return pha_error_create(PHA_ERR_INPUT,
							"interpreter state at 0x%llx has no sys.modules: "
							"the interpreter was not initialized yet, or was "
							"being finalized, when the core was taken",
							(unsigned long long)interp);
			if (py->ninterps == 0 && !mem_extent(py, modules))
				return pha_error_create(PHA_ERR_INPUT,
							"the core does not hold the Python heap: "
							"sys.modules (0x%llx) is not in it; the process's "
							"coredump_filter (or a core size limit) left the "
							"heap out: dump again with coredump_filter 0x33 "
							"(the default) or with gdb's gcore",
							(unsigned long long)modules);
			if (py->ninterps == 0)
				return pha_error_create(PHA_ERR_INPUT,
							"interpreter state at 0x%llx does not match layout %s "
							"(sys.modules or sys.__dict__ is not a dict)",
							(unsigned long long)interp, py->layout->name);
			py->svc.warn(py->svc.ctx, "interpreter at 0x%llx skipped: sys.modules is not "
						  "a dict (finalizing or corrupted)",
				     (unsigned long long)interp);
		} else {
			py->interps[py->ninterps++] = interp;
		}
		interp = u64_or0(py, interp + o->is_next);
	}
	if (!py->ninterps)
		return pha_error_create(PHA_ERR_INPUT, "_PyRuntime at 0x%llx lists no interpreter: "
						       "the interpreter was never initialized, or was "
						       "finalized, when the core was taken",
					(unsigned long long)runtime);
	if (py->ninterps > 1)
		py->svc.warn(py->svc.ctx, "the process had %zu interpreters (sub-interpreters): "
					  "their heaps, roots and threads are reported together",
			     py->ninterps);
	return NULL;
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
	/* _PySet_Dummy is a PyObject * variable pointing at the dummy key
	 * (3.8 - 3.15), not the dummy itself; without the symbol the set walk
	 * recognises the dummy by its type (referents.c: is_set_dummy). */
	uint64_t dummy = svc->symbol(svc->ctx, "_PySet_Dummy");
	py->set_dummy = dummy ? u64_or0(py, dummy) : 0;
	if (impl->off->dict_keys_v1)
		py->str_type = svc->symbol(svc->ctx, "PyUnicode_Type");
	if (!cpy_types_init(py)) {
		free(py);
		return &pha_enomem;
	}

	struct pha_error *err = NULL;
	if (py->oc.debug_map)
		err = apply_debug_offsets(py, runtime);
	if (!err)
		err = find_interpreters(py, runtime);
	if (err) {
		pha_cpython_close(py);
		return err;
	}
	const struct pha_py_offsets *o = py->o;
	if (o->static_builtin_search)
		locate_static_types(py);
	if (o->is_interned && !is_kind(py, u64_or0(py, py->interps[0] + o->is_interned), K_DICT)) {
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
	uint64_t sysdict = u64_or0(py, py->interps[0] + o->is_sysdict);
	uint64_t v = cpy_dict_get_str(py, sysdict, "hexversion");
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
