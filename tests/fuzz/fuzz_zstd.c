/* libFuzzer target: zstd input (formats/zstdio.c): decompression to the
 * temporary file with the head check and the size cap, for a core and a
 * snapshot, plus pha_snapshot_sniff's look at a compressed head. The
 * decompressed size must be what the data holds and the file must have it. */
#include "../../formats/snapshot.h"
#include "../../formats/zstdio.h"
#include "fuzz_common.h"

static bool any_head(const uint8_t *head, size_t len)
{
	(void)head;
	(void)len;
	return true;
}

static bool elf_head(const uint8_t *head, size_t len)
{
	return memcmp(head, "\x7f" "ELF", len < 4 ? len : 4) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file f;
	fuzz_setup_once();
	const char *path = fuzz_file_put(&f, "in.zst", data, size);
	static const struct pha_zstd_expect expect[2] = {
		{.what = "core", .head_ok = elf_head, .head_len = 4, .mismatch = "not ELF"},
		{.what = "snapshot", .head_ok = any_head, .head_len = 1, .mismatch = "never"},
	};
	for (int k = 0; k < 2; k++) {
		int fd = -1;
		uint64_t n = 0;
		struct pha_error *err = pha_zstd_decompress_to_tmpfile(f.fd, path, &expect[k], &fd, &n);
		if (!err) {
			struct stat st;
			if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != n)
				abort();
			close(fd);
		} else if (strncmp(err->message, path, strlen(path)) != 0 &&
			   err->kind != PHA_ERR_NOMEM) {
			abort();	/* every message names the input */
		}
		pha_error_destroy(err);
	}
	(void)pha_snapshot_sniff(path);
	return 0;
}
