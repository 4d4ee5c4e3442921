/* Unit tests of output safety (formats/output.c, issue 11): files replaced
 * atomically through a temporary file, the old file kept on a write error,
 * an output that is the input refused, and write errors instead of death by
 * SIGPIPE/SIGXFSZ. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../formats/output.h"
#include "check.h"

static char tmpdir[] = "/tmp/pha-test-output-XXXXXX";

static char *in_tmp(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
		exit(2);
	return p;
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) != 0) {
		perror(path);
		exit(2);
	}
	chmod(path, mode);
}

/* The whole file as a string ("" if absent). */
static char *get_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 21);
	if (f) {
		if (fread(buf, 1, (1 << 21) - 1, f) == 0 && ferror(f))
			buf[0] = 0;
		fclose(f);
	}
	return buf;
}

/* Names in tmpdir other than those given (leftover temporary files). */
static int strangers(const char *a, const char *b)
{
	int n = 0;
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (a && !strcmp(e->d_name, a)) || (b && !strcmp(e->d_name, b)))
			continue;
		printf("# leftover %s\n", e->d_name);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void test_atomic(void)
{
	char *path = in_tmp("report.json");
	struct pha_out *out = NULL;

	CASE_BEGIN("output_not_visible_until_complete_and_mode_kept");
	put_file(path, "OLD\n", 0640);
	CHECK(pha_out_open(path, false, 0, &out) == NULL);
	for (int i = 0; i < 10000; i++)
		pha_out_printf(out, "new line %d\n", i);
	char *mid = get_file(path);
	CHECKF(!strcmp(mid, "OLD\n"), "the file changed before close: %.40s", mid);
	free(mid);
	CHECK(pha_out_close(out) == NULL);
	char *end = get_file(path);
	CHECK(!strncmp(end, "new line 0\n", 11) && strstr(end, "new line 9999\n"));
	free(end);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(strangers("report.json", NULL) == 0);
	CASE_END();

	/* A write error (here: past the file size limit) used to leave the
	 * old file truncated, half-written. */
	CASE_BEGIN("output_write_error_keeps_old_file_removes_temporary");
	put_file(path, "OLD\n", 0644);
	struct rlimit saved, rl;
	getrlimit(RLIMIT_FSIZE, &saved);
	rl = saved;
	rl.rlim_cur = 64 << 10;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);
	struct pha_error *err = pha_out_open(path, false, 0, &out);
	CHECK(err == NULL);
	if (!err) {
		for (int i = 0; i < 100000; i++)
			pha_out_printf(out, "a line that does not fit %d\n", i);
		err = pha_out_close(out);
	}
	setrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, SIG_DFL);
	CHECK(err != NULL && err->kind == PHA_ERR_INTERNAL);
	CHECKF(err && strstr(err->message, path), "%s", err ? err->message : "");
	pha_error_destroy(err);
	char *kept = get_file(path);
	CHECKF(!strcmp(kept, "OLD\n"), "old file now holds %.40s", kept);
	free(kept);
	CHECK(strangers("report.json", NULL) == 0);
	CASE_END();

	CASE_BEGIN("output_discard_keeps_old_file");
	CHECK(pha_out_open(path, true, 3, &out) == NULL);
	pha_out_puts(out, "never seen");
	pha_out_discard(out);
	kept = get_file(path);
	CHECK(!strcmp(kept, "OLD\n"));
	free(kept);
	CHECK(strangers("report.json", NULL) == 0);
	pha_out_discard(NULL);
	CASE_END();

	/* Through a symbolic link the file it points to is replaced (the link
	 * stays); /dev/null is written to, never replaced. */
	CASE_BEGIN("output_symlink_followed_device_written_directly");
	char *link = in_tmp("link.json");
	CHECK(symlink(path, link) == 0);
	CHECK(pha_out_open(link, false, 0, &out) == NULL);
	pha_out_puts(out, "via link\n");
	CHECK(pha_out_close(out) == NULL);
	struct stat lst;
	CHECK(lstat(link, &lst) == 0 && S_ISLNK(lst.st_mode));
	kept = get_file(path);
	CHECK(!strcmp(kept, "via link\n"));
	free(kept);
	CHECK(pha_out_open("/dev/null", false, 0, &out) == NULL);
	pha_out_puts(out, "discarded\n");
	CHECK(pha_out_close(out) == NULL);
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
	CHECK(strangers("report.json", "link.json") == 0);
	unlink(link);
	free(link);
	CASE_END();
	unlink(path);
	free(path);
}

static void test_same_input(void)
{
	CASE_BEGIN("output_same_inode_as_input_refused");
	char *in = in_tmp("core.1"), *other = in_tmp("core.2"), *hard = in_tmp("hard.1"),
	     *soft = in_tmp("soft.1"), *absent = in_tmp("absent.json");
	put_file(in, "core", 0644);
	put_file(other, "core", 0644);
	CHECK(link(in, hard) == 0);
	CHECK(symlink(in, soft) == 0);
	const char *same[] = {in, hard, soft};
	for (size_t i = 0; i < 3; i++) {
		struct pha_error *err = pha_out_check_not_input(same[i], in);
		CHECKF(err && err->kind == PHA_ERR_USAGE && pha_error_exit_code(err) == 2,
		       "%s: %s", same[i], err ? err->message : "accepted");
		CHECKF(err && strstr(err->message, same[i]) && strstr(err->message, in), "%s",
		       err ? err->message : "");
		pha_error_destroy(err);
	}
	/* The input given through a link is the same file too. */
	struct pha_error *err = pha_out_check_not_input(in, soft);
	CHECK(err != NULL);
	pha_error_destroy(err);
	CHECK(pha_out_check_not_input(other, in) == NULL);
	CHECK(pha_out_check_not_input(absent, in) == NULL);
	CHECK(pha_out_check_not_input(in, absent) == NULL);
	/* Standard output redirected to the input. */
	fflush(stdout);
	int saved = dup(1), fd = open(in, O_WRONLY | O_APPEND);
	dup2(fd, 1);
	err = pha_out_check_not_input("-", in);
	struct pha_error *err2 = pha_out_check_not_input("-", other);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	CHECKF(err && err->kind == PHA_ERR_USAGE && strstr(err->message, "standard output"), "%s",
	       err ? err->message : "accepted");
	CHECK(err2 == NULL);
	pha_error_destroy(err);
	pha_error_destroy(err2);
	unlink(in);
	unlink(other);
	unlink(hard);
	unlink(soft);
	free(in);
	free(other);
	free(hard);
	free(soft);
	free(absent);
	CASE_END();
}

/* With the signals ignored, a closed pipe on stdout and the file size
 * limit are write errors (exit 4 from main), not deaths by signal. */
static void test_signals(void)
{
	CASE_BEGIN("output_sigpipe_and_sigxfsz_become_write_errors");
	pha_output_signals_init();
	int p[2];
	CHECK(pipe(p) == 0);
	close(p[0]);
	fflush(stdout);
	int saved = dup(1);
	dup2(p[1], 1);
	close(p[1]);
	struct pha_out *out = NULL;
	struct pha_error *err = pha_out_open("-", false, 0, &out);
	if (!err) {
		for (int i = 0; i < 100000; i++)
			pha_out_puts(out, "nobody reads this line\n");
		err = pha_out_close(out);
	}
	dup2(saved, 1);
	close(saved);
	clearerr(stdout);
	CHECKF(err && err->kind == PHA_ERR_INTERNAL && strstr(err->message, "standard output") &&
	       strstr(err->message, strerror(EPIPE)), "%s", err ? err->message : "no error");
	pha_error_destroy(err);

	char *path = in_tmp("big.json");
	struct rlimit old, rl;
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = 4096;
	setrlimit(RLIMIT_FSIZE, &rl);
	err = pha_out_open(path, false, 0, &out);
	if (!err) {
		for (int i = 0; i < 10000; i++)
			pha_out_puts(out, "more than the limit\n");
		err = pha_out_close(out);
	}
	setrlimit(RLIMIT_FSIZE, &old);
	CHECKF(err && strstr(err->message, strerror(EFBIG)), "%s", err ? err->message : "no error");
	pha_error_destroy(err);
	CHECK(access(path, F_OK) != 0);
	free(path);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	CASE_END();
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		printf("FAIL output/setup: mkdtemp failed\n");
		return 1;
	}
	test_atomic();
	test_same_input();
	test_signals();
	rmdir(tmpdir);
	CHECK_EXIT();
}
