#include "elffile.h"
#include "le.h"
#include "zstdio.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>


/* The build-id note: name "GNU", type NT_GNU_BUILD_ID. */
#define BUILD_ID_MAX 64

#include "elffile_int.h"


static void hex(const uint8_t *id, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Find the GNU build-id among the notes in [p, p+len). Every field is
 * checked against len before use. Returns its length (0 if absent or too
 * long for out). */
static size_t find_build_id(const uint8_t *p, size_t len, size_t align, uint8_t *out)
{
	size_t pos = 0;
	while (len - pos >= 12) {
		uint32_t namesz = le32(p + pos), descsz = le32(p + pos + 4);
		uint32_t type = le32(p + pos + 8);
		pos += 12;
		size_t name = pos;
		if (namesz > len - pos)
			return 0;
		pos += namesz;
		pos += (align - pos % align) % align;
		if (pos > len)
			return 0;
		size_t desc = pos;
		if (descsz > len - pos)
			return 0;
		pos += descsz;
		pos += (align - pos % align) % align;
		if (pos > len)
			pos = len;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(p + name, "GNU", 4) == 0) {
			if (descsz == 0 || descsz > BUILD_ID_MAX)
				return 0;
			memcpy(out, p + desc, descsz);
			return descsz;
		}
	}
	return 0;
}

/* The load bias from one mapping: the PT_LOAD whose page-aligned file range
 * holds the mapping's file offset says which ELF address the start of the
 * mapping corresponds to. For the usual offset-0 mapping and first PT_LOAD
 * this is start - PAGE_DOWN(p_vaddr). */
static bool bias_from(const struct file_load *loads, size_t n, uint64_t map_start,
		      uint64_t map_offset, uint64_t *bias_ret)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t off0 = PAGE_DOWN(loads[i].offset);
		uint64_t off_end = loads[i].offset + loads[i].filesz;
		if (off_end < off0 + PAGE)
			off_end = off0 + PAGE;
		if (map_offset < off0 || map_offset >= off_end)
			continue;
		*bias_ret = map_start - (PAGE_DOWN(loads[i].vaddr) + (map_offset - off0));
		return true;
	}
	return false;
}

/* The module's mapping with the lowest file offset (the first one on ties,
 * which is the lowest address: NT_FILE is in address order). */
static const struct pha_core_mapping *lowest_mapping(const struct pha_core *core,
						     const struct mod_priv *pv)
{
	const struct pha_core_mapping *best = NULL;
	for (size_t i = 0; i < pv->nmaps; i++) {
		const struct pha_core_mapping *m = &core->mappings[pv->maps[i]];
		if (!best || m->offset < best->offset)
			best = m;
	}
	return best;
}

/* What the core itself says about a module: the kernel dumps the first page
 * of every ELF mapping, so the ELF header, program headers and (normally)
 * the build-id note are readable in memory even when the rest is not. */
static void read_core_header(const struct pha_memory *mem, const struct pha_core *core,
			     struct pha_module *mod, struct mod_priv *pv)
{
	const struct pha_core_mapping *m0 = lowest_mapping(core, pv);
	uint8_t eh[sizeof(Elf64_Ehdr)];

	if (!m0 || m0->offset != 0 || !pha_memory_read(mem, m0->start, eh, SELFMAG, NULL))
		return;		/* not known either way */
	if (memcmp(eh, ELFMAG, SELFMAG) != 0) {
		pv->core_not_elf = true;
		return;
	}
	pv->core_is_elf = true;
	if (!pha_memory_read(mem, m0->start, eh, sizeof(eh), NULL) ||
	    eh[EI_CLASS] != ELFCLASS64 || eh[EI_DATA] != ELFDATA2LSB)
		return;
	uint64_t phoff = le64(eh + offsetof(Elf64_Ehdr, e_phoff));
	unsigned phentsize = le16(eh + offsetof(Elf64_Ehdr, e_phentsize));
	unsigned phnum = le16(eh + offsetof(Elf64_Ehdr, e_phnum));
	/* Real objects have a few dozen program headers; a bigger count is a
	 * corrupt header, not worth reading 65535 entries for. */
	uint64_t span = (uint64_t)phnum * phentsize;
	if (phentsize < sizeof(Elf64_Phdr) || phnum == 0 || phnum > 1024 ||
	    m0->start > UINT64_MAX - span || phoff > UINT64_MAX - span - m0->start)
		return;

	struct file_load loads[64];
	struct { uint64_t vaddr, filesz, align; } notes[8];
	size_t nloads = 0, nnotes = 0;
	for (unsigned i = 0; i < phnum; i++) {
		uint8_t ph[sizeof(Elf64_Phdr)];
		if (!pha_memory_read(mem, m0->start + phoff + (uint64_t)i * phentsize, ph,
				     sizeof(ph), NULL))
			return;
		uint32_t type = le32(ph + offsetof(Elf64_Phdr, p_type));
		uint64_t vaddr = le64(ph + offsetof(Elf64_Phdr, p_vaddr));
		uint64_t filesz = le64(ph + offsetof(Elf64_Phdr, p_filesz));
		if (type == PT_LOAD && nloads < 64)
			loads[nloads++] = (struct file_load){
				.vaddr = vaddr, .filesz = filesz,
				.offset = le64(ph + offsetof(Elf64_Phdr, p_offset)),
			};
		else if (type == PT_NOTE && nnotes < 8)
			notes[nnotes].vaddr = vaddr, notes[nnotes].filesz = filesz,
			notes[nnotes++].align = le64(ph + offsetof(Elf64_Phdr, p_align));
	}
	uint64_t bias;
	if (!bias_from(loads, nloads, m0->start, 0, &bias))
		return;
	mod->bias = bias;
	for (size_t i = 0; i < nnotes && mod->build_id_len == 0; i++) {
		uint8_t buf[4096];
		size_t len = notes[i].filesz < sizeof(buf) ? (size_t)notes[i].filesz : sizeof(buf);
		if (!pha_memory_read(mem, bias + notes[i].vaddr, buf, len, NULL))
			continue;
		mod->build_id_len = find_build_id(buf, len, notes[i].align == 8 ? 8 : 4,
						  mod->build_id);
	}
}

static void handle_close(struct elf_handle *h)
{
	if (h->elf)
		elf_end(h->elf);
	if (h->map)
		munmap((void *)h->map, h->size);
	if (h->fd >= 0)
		close(h->fd);
	free(h->loads);
	*h = (struct elf_handle){ .fd = -1 };
}

/* Build-id of a file on disk: from its SHT_NOTE sections, else (stripped
 * section headers) from its PT_NOTE segments. Raw bytes of the mmapped
 * file, bounds-checked against its size. */
static size_t file_build_id(const struct elf_handle *h, uint8_t *out)
{
	size_t len = 0;
	Elf_Scn *scn = NULL;
	while (!len && (scn = elf_nextscn(h->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE ||
		    sh.sh_offset > h->size || sh.sh_size > h->size - sh.sh_offset)
			continue;
		len = find_build_id(h->map + sh.sh_offset, (size_t)sh.sh_size,
				    sh.sh_addralign == 8 ? 8 : 4, out);
	}
	size_t phnum = 0;
	if (!len && elf_getphdrnum(h->elf, &phnum) == 0) {
		for (size_t i = 0; i < phnum && !len; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(h->elf, (int)i, &ph) || ph.p_type != PT_NOTE ||
			    ph.p_offset > h->size || ph.p_filesz > h->size - ph.p_offset)
				continue;
			len = find_build_id(h->map + ph.p_offset, (size_t)ph.p_filesz,
					    ph.p_align == 8 ? 8 : 4, out);
		}
	}
	return len;
}

enum cand_result {
	CAND_ABSENT,		/* nothing there (or not openable) */
	CAND_NOT_ELF,		/* a file, but not ELF */
	CAND_REJECTED,		/* ELF, but not the one the process had; *why says how */
	CAND_OK,
};

/* Open one candidate path and decide whether it is the module's file. Only
 * out-of-memory is an error; everything about the file is a result. */
static struct pha_error *try_candidate(const char *file, const struct pha_module *mod,
				       struct elf_handle *h_ret, enum cand_result *res_ret,
				       char **why_ret)
{
	struct elf_handle h = { .fd = -1 };
	enum cand_result res;
	char *why = NULL;
	struct stat st;

	/* An NT_FILE path names whatever the dumping machine had there; here it
	 * may be a FIFO (open() would block until a writer comes) or a device
	 * (open() can act): anything but a regular file is not opened at all,
	 * and is reported (the module's memory stays missing). O_NONBLOCK and
	 * the fstat below cover a name replaced since the stat. */
	if (stat(file, &st) < 0) {
		res = CAND_ABSENT;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		res = CAND_REJECTED;
		if (asprintf(&why, "%s is %s, not a regular file: not opened", file,
			     pha_file_kind(st.st_mode)) < 0)
			why = NULL;
		goto out;
	}
	h.fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (h.fd < 0) {
		res = CAND_ABSENT;
		goto out;
	}
	if (fstat(h.fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)SELFMAG) {
		/* An empty file (or one replaced since the stat): no ELF in it. */
		res = CAND_NOT_ELF;
		goto out;
	}
	h.size = (size_t)st.st_size;
	void *map = mmap(NULL, h.size, PROT_READ, MAP_PRIVATE, h.fd, 0);
	if (map == MAP_FAILED) {
		res = CAND_REJECTED;
		if (asprintf(&why, "%s cannot be mapped (%s)", file, strerror(errno)) < 0)
			why = NULL;
		goto out;
	}
	h.map = map;
	if (memcmp(h.map, ELFMAG, SELFMAG) != 0) {
		res = CAND_NOT_ELF;
		goto out;
	}
	h.elf = elf_begin(h.fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	if (!h.elf || elf_kind(h.elf) != ELF_K_ELF || !gelf_getehdr(h.elf, &eh)) {
		res = CAND_REJECTED;
		if (asprintf(&why, "%s is not a readable ELF file (%s)", file, elf_errmsg(-1)) < 0)
			why = NULL;
		goto out;
	}
	if (gelf_getclass(h.elf) != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		res = CAND_REJECTED;
		if (asprintf(&why, "%s is not a 64-bit x86-64 ELF file", file) < 0)
			why = NULL;
		goto out;
	}

	size_t phnum = 0;
	if (elf_getphdrnum(h.elf, &phnum) == 0 && phnum > 0) {
		h.loads = calloc(phnum, sizeof(*h.loads));
		if (!h.loads) {
			handle_close(&h);
			return &pha_enomem;
		}
		for (size_t i = 0; i < phnum; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(h.elf, (int)i, &ph) && ph.p_type == PT_LOAD)
				h.loads[h.nloads++] = (struct file_load){
					.vaddr = ph.p_vaddr, .offset = ph.p_offset, .filesz = ph.p_filesz,
					.memsz = ph.p_memsz, .flags = ph.p_flags,
				};
		}
	}
	if (h.nloads == 0) {
		res = CAND_REJECTED;
		if (asprintf(&why, "%s has no loadable segments", file) < 0)
			why = NULL;
		goto out;
	}

	if (mod->build_id_len > 0) {
		uint8_t id[BUILD_ID_MAX];
		size_t len = file_build_id(&h, id);
		if (len != mod->build_id_len || memcmp(id, mod->build_id, len) != 0) {
			char core_hex[2 * BUILD_ID_MAX + 1], file_hex[2 * BUILD_ID_MAX + 1];
			hex(mod->build_id, mod->build_id_len, core_hex);
			hex(id, len, file_hex);
			res = CAND_REJECTED;
			if (asprintf(&why, "build-id differs from the core's (core %s, file %s has %s)",
				     core_hex, file, len ? file_hex : "none") < 0)
				why = NULL;
			goto out;
		}
	}
	res = CAND_OK;
	*h_ret = h;
	h = (struct elf_handle){ .fd = -1 };
out:
	handle_close(&h);
	if (res == CAND_REJECTED && !why)
		return &pha_enomem;
	*res_ret = res;
	*why_ret = why;
	return NULL;
}

static struct pha_error *push_candidate(char ***list, size_t *n, char *s)
{
	if (!s)
		return &pha_enomem;
	char **l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l) {
		free(s);
		return &pha_enomem;
	}
	l[(*n)++] = s;
	*list = l;
	return NULL;
}

static char *join(const char *a, const char *sep, const char *b)
{
	char *s;
	return asprintf(&s, "%s%s%s", a, sep, b) < 0 ? NULL : s;
}

/* Paths to try, best first: --executable for the main program; otherwise
 * the recorded path (under --sysroot if given), then each search directory
 * with the file's basename. */
static struct pha_error *candidate_paths(const struct pha_module *mod,
					 const struct pha_module_options *opts,
					 char ***list_ret, size_t *n_ret)
{
	struct pha_error *err = NULL;
	char **list = NULL;
	size_t n = 0;

	if (mod->is_executable && opts && opts->executable) {
		err = push_candidate(&list, &n, strdup(opts->executable));
		goto out;
	}
	/* The kernel appends " (deleted)" to files removed since they were
	 * mapped (typically replaced by a package upgrade); the copy under
	 * the original name may still be the same file, or will be reported
	 * as a mismatch. */
	char *path = strdup(mod->name);
	if (!path)
		return &pha_enomem;
	static const char deleted[] = " (deleted)";
	size_t len = strlen(path);
	if (len > sizeof(deleted) - 1 && strcmp(path + len - (sizeof(deleted) - 1), deleted) == 0)
		path[len - (sizeof(deleted) - 1)] = '\0';

	if (opts && opts->sysroot && *opts->sysroot)
		err = push_candidate(&list, &n, join(opts->sysroot, path[0] == '/' ? "" : "/", path));
	else
		err = push_candidate(&list, &n, strdup(path));
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; !err && *base && opts && opts->search_path && opts->search_path[i]; i++)
		err = push_candidate(&list, &n, join(opts->search_path[i], "/", base));
	free(path);
out:
	if (err) {
		for (size_t i = 0; i < n; i++)
			free(list[i]);
		free(list);
		return err;
	}
	*list_ret = list;
	*n_ret = n;
	return NULL;
}

static struct pha_error *resolve_module(struct pha_module *mod, const struct pha_core *core,
					const struct pha_module_options *opts)
{
	struct mod_priv *pv = priv_of(mod);
	struct pha_error *err = NULL;
	char **paths = NULL;
	size_t npaths = 0;
	bool saw_not_elf = false;

	if (pv->core_not_elf) {
		/* The core shows a non-ELF first page (locale archive, data
		 * file): nothing to look up, nothing to warn about. */
		mod->status = PHA_MODULE_NOT_ELF;
		return NULL;
	}
	if ((err = candidate_paths(mod, opts, &paths, &npaths)))
		return err;
	mod->status = PHA_MODULE_MISSING;
	for (size_t i = 0; i < npaths; i++) {
		struct elf_handle h;
		enum cand_result res;
		char *why = NULL;
		if ((err = try_candidate(paths[i], mod, &h, &res, &why)))
			break;
		if (res == CAND_NOT_ELF && pv->core_is_elf) {
			/* The process had an ELF image there: this file is not it. */
			res = CAND_REJECTED;
			if (asprintf(&why, "%s is not an ELF file, but the process mapped an ELF image",
				     paths[i]) < 0) {
				err = &pha_enomem;
				break;
			}
		}
		if (res == CAND_OK) {
			mod->status = PHA_MODULE_OK;
			mod->file = paths[i];
			paths[i] = NULL;
			pv->h = h;
			uint64_t bias;
			const struct pha_core_mapping *m0 = lowest_mapping(core, pv);
			if (m0 && bias_from(h.loads, h.nloads, m0->start, m0->offset, &bias))
				mod->bias = bias;
			break;
		}
		if (res == CAND_REJECTED) {
			mod->status = PHA_MODULE_MISMATCH;
			if (!pv->problem) {
				pv->problem = why;
				why = NULL;
			}
		}
		if (res == CAND_NOT_ELF)
			saw_not_elf = true;
		free(why);
	}
	if (!err && mod->status == PHA_MODULE_MISSING && saw_not_elf)
		mod->status = PHA_MODULE_NOT_ELF;
	if (mod->status == PHA_MODULE_OK) {
		free(pv->problem);
		pv->problem = NULL;
	}
	for (size_t i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	return err;
}


static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static struct pha_error *load_symtab(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
				     struct symtab *out)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t entsize = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	if (!data || !data->d_buf || entsize == 0)
		return NULL;
	size_t n = data->d_size / entsize;
	if (n == 0)
		return NULL;
	struct sym *syms = calloc(n, sizeof(*syms));
	if (!syms)
		return &pha_enomem;
	size_t k = 0;
	for (size_t i = 1; i < n; i++) {	/* entry 0 is the null symbol */
		GElf_Sym s;
		if (!gelf_getsym(data, (int)i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		unsigned type = GELF_ST_TYPE(s.st_info), bind = GELF_ST_BIND(s.st_info);
		if (type != STT_OBJECT && type != STT_FUNC && type != STT_NOTYPE)
			continue;
		const char *name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		syms[k++] = (struct sym){
			.name = name, .value = s.st_value, .size = s.st_size,
			.rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2,
			.absolute = s.st_shndx == SHN_ABS, .index = i,
		};
	}
	qsort(syms, k, sizeof(*syms), cmp_sym);
	out->syms = syms;
	out->n = k;
	return NULL;
}

/* Symbol tables are read and sorted once, when the module is loaded, so
 * that lookups are read-only afterwards (and safe from several threads). */
static struct pha_error *load_symbols(struct mod_priv *pv)
{
	struct pha_error *err;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(pv->h.elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNSYM && !pv->dynsym.syms &&
		    (err = load_symtab(pv->h.elf, scn, &sh, &pv->dynsym)))
			return err;
		if (sh.sh_type == SHT_SYMTAB && !pv->symtab.syms &&
		    (err = load_symtab(pv->h.elf, scn, &sh, &pv->symtab)))
			return err;
	}
	return NULL;
}

static const struct sym *symtab_find(const struct symtab *t, const char *name)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->syms[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && strcmp(t->syms[lo].name, name) == 0 ? &t->syms[lo] : NULL;
}

static struct pha_error *add_warning(struct pha_modules *mods, char *w)
{
	if (!w)
		return &pha_enomem;
	char **ws = realloc(mods->warnings, (mods->nwarnings + 1) * sizeof(*ws));
	if (!ws) {
		free(w);
		return &pha_enomem;
	}
	ws[mods->nwarnings++] = w;
	mods->warnings = ws;
	return NULL;
}

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

static struct pha_error *make_warnings(const struct pha_core *core, const struct pha_memory *mem,
				       const struct pha_module_options *opts,
				       struct pha_modules *mods, bool have_executable,
				       const struct span *eff)
{
	struct pha_error *err;
	if (opts && opts->executable && !have_executable &&
	    (err = add_warning(mods, format("--executable %s not used: the core does not show "
					    "which mapped file is the main program",
					    opts->executable))))
		return err;
	for (size_t m = 0; m < mods->nmods; m++) {
		const struct pha_module *mod = &mods->mods[m];
		const struct mod_priv *pv = priv_of(mod);
		if (mod->status != PHA_MODULE_MISSING && mod->status != PHA_MODULE_MISMATCH)
			continue;
		uint64_t missing = 0;
		for (size_t k = 0; k < pv->nmaps; k++) {
			const struct span *e = &eff[pv->maps[k]];
			if (e->lo < e->hi)
				missing += pha_elf_unavailable_bytes(mem, e->lo, e->hi);
		}
		/* A file given explicitly with --executable deserves an answer
		 * even when the core did not need its bytes. */
		bool explicit = mod->is_executable && opts && opts->executable;
		if (missing == 0 && !explicit)
			continue;
		char *w;
		if (mod->status == PHA_MODULE_MISSING)
			w = format("%s: not found on disk (use %s to point at a copy); "
				   "%llu bytes of its memory are unavailable", mod->name,
				   explicit ? "--executable FILE" :
				   mod->is_executable ? "--executable FILE, --sysroot DIR or --lib-search-path DIR" :
				   "--sysroot DIR or --lib-search-path DIR",
				   (unsigned long long)missing);
		else
			w = format("%s: %s; %llu bytes of its memory are unavailable", mod->name,
				   pv->problem, (unsigned long long)missing);
		if ((err = add_warning(mods, w)))
			return err;
	}
	return NULL;
}

static int cmp_map_index(const void *a, const void *b, void *ctx)
{
	const struct pha_core *core = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(core->mappings[x].path, core->mappings[y].path);
	if (c)
		return c;
	return x < y ? -1 : x > y;
}

static int cmp_module_order(const void *a, const void *b)
{
	const struct pha_module *x = a, *y = b;
	size_t ix = priv_of(x)->maps[0], iy = priv_of(y)->maps[0];
	return ix < iy ? -1 : ix > iy;
}

/* One module per distinct NT_FILE path, in order of first appearance. */
static struct pha_error *group_mappings(const struct pha_core *core, struct pha_modules *mods)
{
	size_t n = core->nmappings;
	if (n == 0)
		return NULL;
	size_t *idx = malloc(n * sizeof(*idx));
	if (!idx)
		return &pha_enomem;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_map_index, (void *)core);

	mods->mods = calloc(n, sizeof(*mods->mods));
	if (!mods->mods) {
		free(idx);
		return &pha_enomem;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && strcmp(core->mappings[idx[j]].path, core->mappings[idx[i]].path) == 0)
			j++;
		struct pha_module *mod = &mods->mods[mods->nmods];
		struct mod_priv *pv = calloc(1, sizeof(*pv));
		char *name = strdup(core->mappings[idx[i]].path);
		size_t *maps = malloc((j - i) * sizeof(*maps));
		if (!pv || !name || !maps) {
			free(pv);
			free(name);
			free(maps);
			free(idx);
			return &pha_enomem;
		}
		pv->h.fd = -1;
		pv->maps = maps;
		pv->nmaps = j - i;
		memcpy(maps, idx + i, (j - i) * sizeof(*maps));
		mod->name = name;
		mod->priv = pv;
		mod->start = UINT64_MAX;
		for (size_t k = i; k < j; k++) {
			const struct pha_core_mapping *m = &core->mappings[idx[k]];
			if (m->start < mod->start)
				mod->start = m->start;
			if (m->end > mod->end)
				mod->end = m->end;
		}
		mods->nmods++;
		i = j;
	}
	free(idx);
	qsort(mods->mods, mods->nmods, sizeof(*mods->mods), cmp_module_order);
	return NULL;
}

static struct pha_module *module_containing(struct pha_modules *mods, const struct pha_core *core,
					    uint64_t addr)
{
	for (size_t m = 0; addr && m < mods->nmods; m++) {
		const struct mod_priv *pv = priv_of(&mods->mods[m]);
		for (size_t k = 0; k < pv->nmaps; k++) {
			const struct pha_core_mapping *map = &core->mappings[pv->maps[k]];
			if (addr >= map->start && addr < map->end)
				return &mods->mods[m];
		}
	}
	return NULL;
}

/* The main program: the file named by AT_EXECFN when that string is the
 * exact NT_FILE path; else (relative or symlinked command, e.g.
 * "/usr/bin/python3" -> python3.12) the mapping holding AT_PHDR or AT_ENTRY. */
static struct pha_module *find_executable(struct pha_modules *mods, const struct pha_core *core,
					  const struct pha_memory *mem)
{
	char execfn[4096];
	if (core->auxv_execfn &&
	    pha_memory_read_cstr(mem, core->auxv_execfn, execfn, sizeof(execfn))) {
		for (size_t m = 0; m < mods->nmods; m++)
			if (strcmp(mods->mods[m].name, execfn) == 0)
				return &mods->mods[m];
	}
	struct pha_module *mod = module_containing(mods, core, core->auxv_phdr);
	return mod ? mod : module_containing(mods, core, core->auxv_entry);
}

struct pha_error *pha_modules_load(const struct pha_core *core, struct pha_memory *mem,
				   const struct pha_module_options *opts,
				   struct pha_modules *mods_ret)
{
	struct pha_error *err;
	struct pha_modules mods = { 0 };
	struct pha_memory saved = *mem;
	struct span *eff = NULL;
	saved.segs = NULL;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return pha_error_create(PHA_ERR_INTERNAL, "libelf is too old: %s", elf_errmsg(-1));
	if ((err = group_mappings(core, &mods)))
		goto fail;
	/* Read what the core says about each module before any file bytes go
	 * into mem: the build-id to compare must be the process's own. */
	for (size_t m = 0; m < mods.nmods; m++)
		read_core_header(mem, core, &mods.mods[m], priv_of(&mods.mods[m]));
	struct pha_module *exe = find_executable(&mods, core, mem);
	if (exe)
		exe->is_executable = true;
	for (size_t m = 0; m < mods.nmods; m++) {
		if ((err = resolve_module(&mods.mods[m], core, opts)))
			goto fail;
		if (mods.mods[m].status == PHA_MODULE_OK &&
		    (err = load_symbols(priv_of(&mods.mods[m]))))
			goto fail;
	}
	/* Filling puts pointers into the files' maps into mem; if anything
	 * fails after that, those maps are unmapped below, so mem goes back to
	 * how it was rather than keep dangling segments. */
	if (mem->nsegs > 0) {
		saved.segs = malloc(mem->nsegs * sizeof(*saved.segs));
		if (!saved.segs) {
			err = &pha_enomem;
			goto fail;
		}
		memcpy(saved.segs, mem->segs, mem->nsegs * sizeof(*saved.segs));
		saved.cap = saved.nsegs;
	}
	if (!(eff = pha_elf_disjoint_mappings(core)) ||
	    (err = pha_elf_fill_memory(core, mem, &mods, eff)) ||
	    (err = make_warnings(core, mem, opts, &mods, exe != NULL, eff))) {
		if (!eff)
			err = &pha_enomem;
		if (saved.segs) {
			free(mem->segs);
			*mem = saved;
			saved.segs = NULL;
		}
		goto fail;
	}
	free(eff);
	free(saved.segs);
	*mods_ret = mods;
	return NULL;
fail:
	free(eff);
	free(saved.segs);
	pha_modules_deinit(&mods);
	return err;
}

void pha_modules_deinit(struct pha_modules *mods)
{
	for (size_t m = 0; m < mods->nmods; m++) {
		struct pha_module *mod = &mods->mods[m];
		struct mod_priv *pv = priv_of(mod);
		if (pv) {
			handle_close(&pv->h);
			free(pv->dynsym.syms);
			free(pv->symtab.syms);
			free(pv->maps);
			free(pv->problem);
			free(pv);
		}
		free(mod->name);
		free(mod->file);
	}
	free(mods->mods);
	for (size_t i = 0; i < mods->nwarnings; i++)
		free(mods->warnings[i]);
	free(mods->warnings);
	memset(mods, 0, sizeof(*mods));
}

uint64_t pha_module_symbol(const struct pha_module *mod, const char *name, uint64_t *size_ret)
{
	if (!mod || mod->status != PHA_MODULE_OK || !mod->priv || !name)
		return 0;
	const struct mod_priv *pv = priv_of(mod);
	const struct sym *s = symtab_find(&pv->dynsym, name);
	if (!s)
		s = symtab_find(&pv->symtab, name);
	if (!s)
		return 0;
	uint64_t addr = s->absolute ? s->value : mod->bias + s->value;
	if (addr && size_ret)
		*size_ret = s->size;
	return addr;
}

uint64_t pha_module_section(const struct pha_module *mod, const char *name, uint64_t *size_ret)
{
	if (!mod || mod->status != PHA_MODULE_OK || !mod->priv || !name)
		return 0;
	const struct mod_priv *pv = priv_of(mod);
	size_t shstrndx;
	if (elf_getshdrstrndx(pv->h.elf, &shstrndx) != 0)
		return 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(pv->h.elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *sname = elf_strptr(pv->h.elf, shstrndx, sh.sh_name);
		if (!sname || strcmp(sname, name) != 0)
			continue;
		/* A non-allocated section (.symtab, .debug_*) has no address in
		 * the process. */
		if (!(sh.sh_flags & SHF_ALLOC))
			return 0;
		if (size_ret)
			*size_ret = sh.sh_size;
		return mod->bias + sh.sh_addr;
	}
	return 0;
}

bool pha_module_read_file(const struct pha_module *mod, uint64_t addr, void *buf, size_t len)
{
	if (!mod || mod->status != PHA_MODULE_OK || !mod->priv)
		return false;
	const struct mod_priv *pv = priv_of(mod);
	for (size_t i = 0; i < pv->h.nloads; i++) {
		const struct file_load *l = &pv->h.loads[i];
		uint64_t base = mod->bias + l->vaddr;
		/* Only the p_filesz part has file bytes; the rest is .bss. */
		if (addr < base || addr - base >= l->filesz || len > l->filesz - (addr - base))
			continue;
		uint64_t off = l->offset + (addr - base);
		if (off < l->offset || off > pv->h.size || len > pv->h.size - off)
			return false;
		memcpy(buf, pv->h.map + off, len);
		return true;
	}
	return false;
}

size_t pha_module_writable(const struct pha_module *mod, struct pha_range *ranges, size_t max)
{
	if (!mod || mod->status != PHA_MODULE_OK || !mod->priv)
		return 0;
	const struct mod_priv *pv = priv_of(mod);
	size_t k = 0;
	for (size_t i = 0; i < pv->h.nloads && k < max; i++) {
		const struct file_load *l = &pv->h.loads[i];
		/* A damaged header (wrapping or huge segment) gives nothing
		 * rather than a scan of the address space. */
		if (!(l->flags & PF_W) || !l->memsz || l->memsz > PHA_WRITABLE_MAX ||
		    mod->bias + l->vaddr > UINT64_MAX - l->memsz)
			continue;
		ranges[k].start = mod->bias + l->vaddr;
		ranges[k].end = ranges[k].start + l->memsz;
		k++;
	}
	return k;
}

uint64_t pha_modules_symbol(const struct pha_modules *mods, const char *name,
			    const struct pha_module **mod_ret)
{
	for (size_t m = 0; mods && m < mods->nmods; m++) {
		uint64_t addr = pha_module_symbol(&mods->mods[m], name, NULL);
		if (addr) {
			if (mod_ret)
				*mod_ret = &mods->mods[m];
			return addr;
		}
	}
	return 0;
}
