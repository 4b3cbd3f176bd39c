#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub/os/os.h"

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}

int main(void)
{
	char dir[] = "/tmp/hostio_test_XXXXXX", p[512], buf[64];
	struct hostio *h;
	struct rsp_file_stat st;
	uint8_t data[16];
	size_t done = 0, len = 0;
	int fd = -1;

	printf("1..9\n");
	if (!mkdtemp(dir))
		return 1;
	snprintf(p, sizeof p, "%s/f", dir);
	FILE *f = fopen(p, "w");
	fputs("hello world", f);
	fclose(f);
	snprintf(buf, sizeof buf, "%s/f", dir);
	snprintf(p, sizeof p, "%s/ln", dir);
	if (symlink("f", p) != 0)
		return 1;
	snprintf(p, sizeof p, "%s/esc", dir);
	if (symlink("/etc/passwd", p) != 0)
		return 1;
	h = hostio_new(dir);
	ok(h && hostio_open(h, "f", O_RDONLY, 0, &fd) == 0, "open inside root");
	ok(hostio_pread(h, fd, data, 5, 6, &done) == 0 && done == 5 &&
		   memcmp(data, "world", 5) == 0,
	   "pread bytes");
	ok(hostio_fstat(h, fd, &st) == 0 && st.size == 11 && S_ISREG(st.mode), "fstat");
	ok(hostio_close(h, fd) == 0 && hostio_close(h, fd) == -EBADF, "close / bad fd");
	ok(hostio_readlink(h, "ln", buf, sizeof buf, &len) == 0 && len == 1 && buf[0] == 'f',
	   "readlink");
	ok(hostio_open(h, "../../etc/passwd", O_RDONLY, 0, &fd) == -EACCES, "dotdot escape");
	ok(hostio_open(h, "esc", O_RDONLY, 0, &fd) == -EACCES, "symlink escape");
	ok(hostio_unlink(h, "f") == 0 && hostio_open(h, "f", O_RDONLY, 0, &fd) == -ENOENT,
	   "unlink");
	ok(hostio_unlink(h, "../x") == -EACCES, "unlink escape refused");
	hostio_free(h);
	snprintf(p, sizeof p, "%s/ln", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/esc", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}
