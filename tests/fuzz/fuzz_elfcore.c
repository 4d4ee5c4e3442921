/* libFuzzer target: the ELF core reader (formats/elfcore.c) end to end --
 * headers, program headers, notes, zstd-compressed cores -- then the
 * segment table (analyzer/memory.c) and the mapped-file loader
 * (formats/elffile.c: NT_FILE grouping, build-ids from the core's memory,
 * filling omitted memory from a file on disk).
 *
 * Mapped files: every NT_FILE path is looked up by its basename in one
 * directory holding "a.so", a link to /bin/true (a small real ELF file with
 * dynamic symbols; this fuzzer's own executable if there is none); the seed
 * corpus names it. Nothing else on the machine is opened (--sysroot points
 * nowhere). */
#include "../../formats/elfcore.h"
#include "../../formats/elffile.h"
#include "fuzz_common.h"

static char search_dir[64], search_link[128];

static void cleanup(void)
{
	unlink(search_link);
	rmdir(search_dir);
}

static void setup(void)
{
	fuzz_setup_once();
	const char *t = getenv("TMPDIR");
	snprintf(search_dir, sizeof(search_dir), "%s/pha-fuzz-XXXXXX", t ? t : "/tmp");
	if (!mkdtemp(search_dir))
		abort();
	snprintf(search_link, sizeof(search_link), "%s/a.so", search_dir);
	char self[4096] = "/bin/true";
	if (access(self, R_OK) != 0) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			abort();
		self[n] = 0;
	}
	if (symlink(self, search_link) != 0)
		abort();
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file f;
	static int ready;
	if (!ready) {
		setup();
		ready = 1;
	}
	const char *path = fuzz_file_put(&f, "core", data, size);
	struct pha_core *core = NULL;
	struct pha_error *err = pha_core_open(path, &core);
	if (err) {
		pha_error_destroy(err);
		return 0;
	}
	struct pha_memory mem;
	pha_memory_init(&mem);
	if (!(err = pha_core_memory(core, &mem))) {
		const char *search[] = {search_dir, NULL};
		struct pha_module_options opts = {
			.sysroot = "/nonexistent-pha-fuzz-sysroot", .search_path = search,
		};
		struct pha_modules mods = {0};
		err = pha_modules_load(core, &mem, &opts, &mods);
		char buf[256];
		uint8_t bytes[64];
		pha_memory_read_cstr(&mem, core->auxv_execfn, buf, sizeof(buf));
		for (size_t i = 0; i < core->nloads; i++)
			pha_memory_read(&mem, core->loads[i].vaddr + core->loads[i].memsz / 2, bytes,
					sizeof(bytes), NULL);
		if (!err) {
			for (size_t m = 0; m < mods.nmods; m++) {
				pha_module_symbol(&mods.mods[m], "LLVMFuzzerTestOneInput", NULL);
				pha_module_section(&mods.mods[m], ".text", NULL);
				pha_module_read_file(&mods.mods[m], mods.mods[m].start, bytes, 16);
			}
			pha_modules_deinit(&mods);
		}
	}
	pha_error_destroy(err);
	pha_memory_deinit(&mem);
	pha_core_close(core);
	return 0;
}
