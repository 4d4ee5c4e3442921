#include "target.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void target_vwarn(struct pha_target *t, const char *fmt, va_list ap)
{
	pha_warnings_vadd(&t->warn_kinds, &t->warnings, &t->nwarnings, t->verbose, fmt, ap);
}

void pha_target_warn(struct pha_target *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	target_vwarn(t, fmt, ap);
	va_end(ap);
}

void pha_version_string(uint32_t hex, char *buf, size_t size)
{
	unsigned major = hex >> 24, minor = (hex >> 16) & 0xff, micro = (hex >> 8) & 0xff;
	unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;
	const char *lv = level == 0xA ? "a" : level == 0xB ? "b" : level == 0xC ? "rc" : "";
	if (level == 0xF)
		snprintf(buf, size, "%u.%u.%u", major, minor, micro);
	else
		snprintf(buf, size, "%u.%u.%u%s%u", major, minor, micro, lv, serial);
}

/* ---- services for layout plugins ---- */

static bool svc_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct pha_target *t = ctx;
	return pha_memory_read(&t->mem, addr, buf, len, NULL);
}

static const void *svc_ptr(void *ctx, uint64_t addr, size_t len)
{
	struct pha_target *t = ctx;
	return pha_memory_ptr(&t->mem, addr, len);
}

static const uint8_t *svc_window(void *ctx, uint64_t addr, uint64_t *start_ret,
				 uint64_t *end_ret)
{
	struct pha_target *t = ctx;
	const struct pha_segment *s = pha_memory_find(&t->mem, addr);
	if (!s || !s->data)
		return NULL;
	*start_ret = s->start;
	*end_ret = s->end;
	return s->data;
}

static uint64_t svc_extent(void *ctx, uint64_t addr)
{
	struct pha_target *t = ctx;
	return pha_memory_extent(&t->mem, addr);
}

static uint64_t svc_symbol(void *ctx, const char *name)
{
	struct pha_target *t = ctx;
	if (t->pymod) {
		uint64_t a = pha_module_symbol(t->pymod, name, NULL);
		if (a)
			return a;
	}
	return pha_modules_symbol(&t->mods, name, NULL);
}

static void svc_warn(void *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	target_vwarn(ctx, fmt, ap);
	va_end(ap);
}

static void svc_log(void *ctx, const char *fmt, ...)
{
	struct pha_target *t = ctx;
	if (t->verbose < 2)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("pyheap-analyze: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- locating the interpreter ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* A module that looks like it carries the interpreter: libpython3.X.so or
 * a python3.X executable. */
static bool looks_like_python(const struct pha_module *m)
{
	const char *b = base_name(m->name);
	return !strncmp(b, "libpython", 9) || !strncmp(b, "python", 6);
}

/* 3.13+ without any interpreter binary: _PyRuntime starts with
 * _Py_DebugOffsets ("xdebugpy", version, free_threaded, then the runtime
 * state's size and offsets), and the runtime lives in writable memory the
 * core holds. Accept the first 8-aligned cookie whose table is plausible
 * and whose interpreters_head leads to readable memory. */
static bool scan_debug_offsets(struct pha_target *t)
{
	for (size_t i = 0; i < t->mem.nsegs; i++) {
		const struct pha_segment *s = &t->mem.segs[i];
		if (s->source != PHA_SEG_CORE || !(s->prot & PF_W) || !s->data)
			continue;
		for (uint64_t a = (s->start + 7) & ~7ULL; a + 48 <= s->end; a += 8) {
			const uint8_t *p = s->data + (a - s->start);
			if (memcmp(p, "xdebugpy", 8) != 0)
				continue;
			uint64_t v[5];
			memcpy(v, p + 8, sizeof(v));
			/* version, free_threaded, runtime size, finalizing, interpreters_head */
			unsigned major = v[0] >> 24, minor = (v[0] >> 16) & 0xff;
			if (major != 3 || minor < 13 || minor > 15 || v[1] > 1 ||
			    v[2] < 100000 || v[2] > 4000000 || v[4] >= v[2])
				continue;
			uint64_t interp, probe;
			if (!pha_memory_read_u64(&t->mem, a + v[4], &interp) || !interp ||
			    !pha_memory_read_u64(&t->mem, interp, &probe))
				continue;
			t->runtime = a;
			t->hexversion = (uint32_t)v[0];
			pha_version_string(t->hexversion, t->version, sizeof(t->version));
			return true;
		}
	}
	return false;
}

static struct pha_error *find_runtime(struct pha_target *t)
{
	/* Prefer the module that looks like Python; any module exporting
	 * _PyRuntime (an embedding application) will do. */
	const struct pha_module *found = NULL;
	uint64_t addr = 0;
	for (int pass = 0; pass < 2 && !addr; pass++) {
		for (size_t i = 0; i < t->mods.nmods && !addr; i++) {
			const struct pha_module *m = &t->mods.mods[i];
			if (m->status != PHA_MODULE_OK || (pass == 0 && !looks_like_python(m)))
				continue;
			addr = pha_module_symbol(m, "_PyRuntime", NULL);
			if (!addr)
				addr = pha_module_section(m, ".PyRuntime", NULL);
			if (addr)
				found = m;
		}
	}
	if (addr) {
		t->runtime = addr;
		t->pymod = found;
		return NULL;
	}
	/* Not found: say why, naming every interpreter binary that is missing
	 * or is not the file the process used. */
	char names[2048] = "";
	bool mismatch = false;
	for (size_t i = 0; i < t->mods.nmods; i++) {
		const struct pha_module *m = &t->mods.mods[i];
		if (!looks_like_python(m) ||
		    (m->status != PHA_MODULE_MISSING && m->status != PHA_MODULE_MISMATCH))
			continue;
		mismatch |= m->status == PHA_MODULE_MISMATCH;
		size_t n = strlen(names);
		snprintf(names + n, sizeof(names) - n, "%s%s%s", n ? ", " : "", m->name,
			 m->status == PHA_MODULE_MISMATCH ? " (build-id differs)" : " (not found)");
	}
	if (scan_debug_offsets(t)) {
		pha_target_warn(t, "no interpreter binary%s%s: _PyRuntime (CPython %s) was found by "
				   "scanning the core for _Py_DebugOffsets; what only the binaries "
				   "hold (symbols, read-only data such as the names of static types) "
				   "is missing, so type names and sizes of such objects may be "
				   "degraded", names[0] ? " usable: " : "", names, t->version);
		return NULL;
	}
	if (names[0])
		return pha_error_create(PHA_ERR_INPUT,
					"%s: the interpreter's binaries are needed but %s on this "
					"machine: %s; point at copies with --sysroot DIR, "
					"--lib-search-path DIR or --executable FILE",
					t->core->path, mismatch ? "do not match" : "missing", names);
	/* An interpreter older than 3.7 has no _PyRuntime at all: name it. */
	for (size_t i = 0; i < t->mods.nmods; i++) {
		const char *p = strstr(base_name(t->mods.mods[i].name), "python3.");
		unsigned minor;
		if (looks_like_python(&t->mods.mods[i]) && p && sscanf(p + 8, "%u", &minor) == 1)
			return pha_error_create(PHA_ERR_INPUT,
						"%s: unsupported Python version 3.%u (from %s, which "
						"defines no _PyRuntime); this build supports CPython "
						"3.8 - 3.15", t->core->path, minor, t->mods.mods[i].name);
	}
	return pha_error_create(PHA_ERR_INPUT,
				"%s: no CPython found in this core (no loaded module defines "
				"_PyRuntime; process: %s)",
				t->core->path, t->core->fname[0] ? t->core->fname : "unknown");
}

/* The version as far as the binary tells it. 3.11+: Py_Version, exact.
 * Before 3.11 there is no Py_Version: the file name gives the minor
 * version (libpython3.10.so.1.0, python3.9), and the exact version is
 * read from the heap (sys.hexversion) once that minor's layout is open. */
static struct pha_error *find_version(struct pha_target *t, const struct pha_target_options *opts,
				      bool *exact_ret, unsigned *minor_ret)
{
	if (!t->pymod) {
		/* Set from the _Py_DebugOffsets found by scanning the core. */
		*exact_ret = true;
		*minor_ret = (t->hexversion >> 16) & 0xff;
		return NULL;
	}
	/* Py_Version (3.11+) lives in .rodata, usually not in the core: the
	 * memory reader fills it from the ELF file. */
	uint64_t sym = pha_module_symbol(t->pymod, "Py_Version", NULL);
	uint64_t v = 0;
	if (sym && !pha_memory_read(&t->mem, sym, &v, 8, NULL) &&
	    !pha_module_read_file(t->pymod, sym, &v, 8))
		v = 0;
	if (v && (v >> 24) == 3) {
		t->hexversion = (uint32_t)v;
		pha_version_string(t->hexversion, t->version, sizeof(t->version));
		*exact_ret = true;
		*minor_ret = (t->hexversion >> 16) & 0xff;
		return NULL;
	}
	const char *b = base_name(t->pymod->name);
	const char *p = strstr(b, "python3.");
	unsigned minor;
	if (p && sscanf(p + 8, "%u", &minor) == 1 && minor < 256) {
		*minor_ret = minor;
	} else if (opts->force_layout) {
		*minor_ret = opts->force_minor;
	} else {
		return pha_error_create(PHA_ERR_INPUT,
					"%s: cannot tell the Python version of %s (no readable "
					"Py_Version, and the file name has no python3.X); name it "
					"with --force-layout 3.X",
					t->core->path, t->pymod->name);
	}
	/* Provisional until the heap says more: 3.X.0 final. */
	t->hexversion = 0x030000F0u | (*minor_ret << 16);
	snprintf(t->version, sizeof(t->version), "3.%u", *minor_ret);
	*exact_ret = false;
	return NULL;
}

static void layout_list(char *list, size_t size)
{
	list[0] = 0;
	for (size_t i = 0; pha_builtin_layouts[i]; i++) {
		size_t n = strlen(list);
		snprintf(list + n, size - n, "%s%s", i ? ", " : "", pha_builtin_layouts[i]->name);
	}
}

/* The layout of minor version 3.<minor>, or NULL; of several (3.14's two
 * GC designs) the one for the latest releases. */
static const struct pha_layout *layout_of_minor(unsigned minor)
{
	const struct pha_layout *found = NULL;
	for (size_t i = 0; pha_builtin_layouts[i]; i++) {
		const struct pha_layout *l = pha_builtin_layouts[i];
		if ((l->min_hex >> 16) == (0x0300u | minor))
			found = l;
	}
	return found;
}

static struct pha_error *choose_layout(struct pha_target *t, const struct pha_target_options *opts,
				       bool exact, unsigned minor)
{
	char list[256];
	const char *where = t->pymod ? t->pymod->name : "the core";
	layout_list(list, sizeof(list));
	if (opts->force_layout) {
		t->layout = layout_of_minor(opts->force_minor);
		if (!t->layout)
			return pha_error_create(PHA_ERR_INPUT,
						"--force-layout 3.%u: no such layout in this build "
						"(layouts: %s)", opts->force_minor, list);
		return NULL;
	}
	if (!exact) {
		t->layout = layout_of_minor(minor);
		if (t->layout)
			return NULL;
		return pha_error_create(PHA_ERR_INPUT,
					"%s: unsupported Python version 3.%u (from %s, which has "
					"no Py_Version); this build supports CPython 3.8 - 3.15 "
					"(layouts: %s)",
					t->core->path, minor, t->pymod->name, list);
	}
	for (size_t i = 0; pha_builtin_layouts[i]; i++) {
		const struct pha_layout *l = pha_builtin_layouts[i];
		if (t->hexversion >= l->min_hex && t->hexversion <= l->max_hex) {
			t->layout = l;
			return NULL;
		}
	}
	return pha_error_create(PHA_ERR_INPUT,
				"%s: unsupported Python version %s (0x%08x) in %s; supported layouts: %s "
				"(final releases only; --force-layout X.Y tries one anyway)",
				t->core->path, t->version, t->hexversion, where, list);
}

/* Before 3.11: the exact version from the heap, checked against what the
 * chosen layout was verified for (final releases of its minor version). */
static struct pha_error *heap_version(struct pha_target *t, const struct pha_target_options *opts,
				      unsigned minor)
{
	const struct pha_layout *l = t->layout;
	uint32_t hv = l->hexversion ? l->hexversion(t->py) : 0;
	if (!hv) {
		if (opts->force_layout) {
			pha_target_warn(t, "the exact Python version could not be read (sys.hexversion); "
					   "reported as %s", t->version);
			return NULL;
		}
		return pha_error_create(PHA_ERR_INPUT,
					"%s: Python 3.%u (from the name of %s), but its exact version "
					"cannot be read from the heap (sys.hexversion); --force-layout "
					"3.%u tries layout %s anyway",
					t->core->path, minor, t->pymod->name, minor, l->name);
	}
	t->hexversion = hv;
	pha_version_string(hv, t->version, sizeof(t->version));
	if (opts->force_layout)
		return NULL;
	if (((hv >> 16) & 0xff) != minor)
		return pha_error_create(PHA_ERR_INPUT,
					"%s: %s is named for Python 3.%u but sys.hexversion says %s",
					t->core->path, t->pymod->name, minor, t->version);
	if (hv < l->min_hex || hv > l->max_hex || ((hv >> 4) & 0xf) != 0xf) {
		char lo[32];
		pha_version_string(l->min_hex, lo, sizeof(lo));
		return pha_error_create(PHA_ERR_INPUT,
					"%s: unsupported Python version %s (0x%08x) in %s: layout %s "
					"is verified for final releases from %s on only; "
					"--force-layout 3.%u uses it anyway",
					t->core->path, t->version, hv, t->pymod->name, l->name, lo, minor);
	}
	return NULL;
}

struct pha_error *pha_target_open(const char *path, const struct pha_target_options *opts,
				  struct pha_target **target_ret)
{
	struct pha_error *err;
	struct pha_target *t = calloc(1, sizeof(*t));
	if (!t)
		return &pha_enomem;
	t->verbose = opts->verbose;
	pha_memory_init(&t->mem);

	if ((err = pha_core_open(path, &t->core)))
		goto out;
	if (t->core->truncated)
		pha_target_warn(t, "the core file is truncated: %llu bytes of memory it should "
				   "hold are missing; objects there are skipped",
				(unsigned long long)t->core->truncated_bytes);
	if ((err = pha_core_memory(t->core, &t->mem)))
		goto out;
	if ((err = pha_modules_load(t->core, &t->mem, &opts->modules, &t->mods)))
		goto out;
	for (size_t i = 0; i < t->mods.nwarnings; i++)
		pha_target_warn(t, "%s", t->mods.warnings[i]);

	bool exact = false;
	unsigned minor = 0;
	if ((err = find_runtime(t)) || (err = find_version(t, opts, &exact, &minor)) ||
	    (err = choose_layout(t, opts, exact, minor)))
		goto out;

	t->svc = (struct pha_services){
		.ctx = t, .read = svc_read, .ptr = svc_ptr, .symbol = svc_symbol,
		.warn = svc_warn, .log = svc_log, .extent = svc_extent, .window = svc_window,
		.readable_bytes = pha_memory_readable_bytes(&t->mem),
	};
	if ((err = t->layout->open(t->layout, &t->svc, t->runtime, t->hexversion, &t->py))) {
		/* On a truncated core the likeliest cause is the missing part. */
		if (t->core->truncated)
			err = pha_error_prefix(err, "%s: truncated beyond use: %llu bytes of the "
						    "process's memory are cut off and the interpreter "
						    "state cannot be read", path,
					       (unsigned long long)t->core->truncated_bytes);
		else if (err != &pha_enomem && t->pymod && !t->pymod->build_id_len) {
			/* Without build-ids an upgraded binary is accepted, and
			 * its layout or symbols do not match the core's. */
			struct pha_error *e2 = pha_error_create(
				err->kind, "%s: %s; the core records no build-id for %s, so a "
				"binary upgraded since the core was taken goes undetected: if it "
				"changed, pass the original with --executable or --sysroot",
				path, err->message, t->pymod->name);
			pha_error_destroy(err);
			err = e2;
		} else {
			err = pha_error_prefix(err, "%s", path);
		}
		goto out;
	}
	if (!exact && (err = heap_version(t, opts, minor)))
		goto out;
	if (opts->force_layout)
		pha_target_warn(t, "layout %s forced (--force-layout) for CPython %s: results may "
				   "be wrong", t->layout->name, t->version);
	if (t->verbose)
		fprintf(stderr, "pyheap-analyze: CPython %s%s, _PyRuntime at 0x%llx in %s, layout %s\n",
			t->version, exact ? "" : " (version from sys.hexversion)",
			(unsigned long long)t->runtime,
			t->pymod ? t->pymod->name : "the core (found by scanning)", t->layout->name);
	*target_ret = t;
	return NULL;
out:
	pha_target_destroy(t);
	return err;
}

void pha_target_destroy(struct pha_target *t)
{
	if (!t)
		return;
	if (t->py)
		t->layout->close(t->py);
	pha_modules_deinit(&t->mods);
	pha_memory_deinit(&t->mem);
	pha_core_close(t->core);
	for (size_t i = 0; i < t->nwarnings; i++)
		free(t->warnings[i]);
	free(t->warnings);
	pha_warnings_deinit(&t->warn_kinds);
	free(t);
}
