/* /proc readers. */
#include "stub/os/os.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_small(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got + 1 < cap) {
		ssize_t r = read(fd, buf + got, cap - 1 - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	if (len)
		*len = got;
	return 0;
}

int procfs_auxv(pid_t pid, uint64_t off, uint8_t *buf, size_t len, size_t *out_len)
{
	char path[64];
	int fd;
	ssize_t r;

	snprintf(path, sizeof path, "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		r = pread(fd, buf, len, (off_t)off);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	*out_len = (size_t)r;
	return 0;
}

static int readlink_into(const char *path, char *buf, size_t cap)
{
	ssize_t r;

	if (cap == 0)
		return -ENAMETOOLONG;
	r = readlink(path, buf, cap - 1);
	if (r < 0)
		return -errno;
	if ((size_t)r >= cap - 1)
		return -ENAMETOOLONG;
	buf[r] = '\0';
	return 0;
}

int procfs_exec_file(pid_t pid, char *buf, size_t cap)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	return readlink_into(path, buf, cap);
}

int procfs_cwd(pid_t pid, char *buf, size_t cap)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
	return readlink_into(path, buf, cap);
}

int procfs_region(pid_t pid, uint64_t addr, struct rsp_region_info *out)
{
	char path[64], line[4352];
	FILE *f;
	uint64_t next = 0;
	bool have_next = false;

	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(out, 0, sizeof *out);
	while (fgets(line, sizeof line, f)) {
		uint64_t lo, hi;
		char perms[8];
		int name_at = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %*s %*s %*s %n", &lo, &hi, perms,
			   &name_at) < 3)
			continue;
		if (addr >= lo && addr < hi) {
			char *name = line + name_at;
			size_t nl = strcspn(name, "\n");

			out->start = lo;
			out->size = hi - lo;
			out->mapped = true;
			out->r = perms[0] == 'r';
			out->w = perms[1] == 'w';
			out->x = perms[2] == 'x';
			if (name_at > 0 && nl > 0) {
				if (nl >= sizeof out->name)
					nl = sizeof out->name - 1;
				memcpy(out->name, name, nl);
				out->name[nl] = '\0';
			}
			fclose(f);
			return 0;
		}
		if (lo > addr && (!have_next || lo < next)) {
			next = lo;
			have_next = true;
		}
	}
	fclose(f);
	/* Unmapped gap from addr up to the next mapping (or the end of the address space). */
	out->start = addr;
	out->size = have_next ? next - addr : (uint64_t)0 - addr;
	out->mapped = false;
	return 0;
}

static int status_field(const char *text, const char *key, int64_t v[4], int want)
{
	const char *p = strstr(text, key);
	long long a[4] = {0, 0, 0, 0};
	int got;

	if (!p)
		return -ENOENT;
	p += strlen(key);
	got = sscanf(p, "%lld %lld %lld %lld", &a[0], &a[1], &a[2], &a[3]);
	if (got < want)
		return -EINVAL;
	for (int i = 0; i < want; i++)
		v[i] = a[i];
	return 0;
}

int procfs_process_info(pid_t pid, struct rsp_process_info *out, char *namebuf, size_t cap)
{
	char path[64], text[4096];
	int64_t v[4];
	int r;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	r = read_small(path, text, sizeof text, NULL);
	if (r < 0)
		return r;
	memset(out, 0, sizeof *out);
	out->pid = pid;
	if (status_field(text, "\nPPid:", v, 1) == 0)
		out->ppid = v[0];
	if (status_field(text, "\nUid:", v, 2) == 0) {
		out->uid = v[0];
		out->euid = v[1];
	}
	if (status_field(text, "\nGid:", v, 2) == 0) {
		out->gid = v[0];
		out->egid = v[1];
	}
	if (namebuf && cap > 0 && procfs_exec_file(pid, namebuf, cap) == 0)
		out->name = namebuf;
	return 0;
}

int procfs_thread_name(pid_t pid, pid_t tid, char *buf, size_t cap)
{
	char path[80];
	size_t len;
	int r;

	snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	r = read_small(path, buf, cap, &len);
	if (r < 0)
		return r;
	if (len > 0 && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return 0;
}

int procfs_thread_core(pid_t pid, pid_t tid)
{
	char path[80], text[1024];
	char *p;
	int field = 0;

	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (read_small(path, text, sizeof text, NULL) < 0)
		return -1;
	p = strrchr(text, ')'); /* comm may contain spaces and ')' */
	if (!p)
		return -1;
	p++;
	/* after ')', field 3 (state) starts; "processor" is field 39 */
	for (field = 3; field < 39 && p; field++) {
		p = strchr(p + 1, ' ');
	}
	if (!p)
		return -1;
	return atoi(p + 1);
}

int procfs_thread_sigpending(pid_t pid, pid_t tid, uint64_t *mask)
{
	char path[80], text[4096];
	const char *p;

	snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if (read_small(path, text, sizeof text, NULL) < 0)
		return -ESRCH;
	p = strstr(text, "\nSigPnd:");
	if (!p)
		return -EINVAL;
	*mask = strtoull(p + 8, NULL, 16);
	return 0;
}

int procfs_list_tids(pid_t pid, pid_t *out, size_t cap, size_t *n)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	size_t k = 0;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long t = strtol(e->d_name, &end, 10);

		if (*end || end == e->d_name || t <= 0)
			continue;
		if (k == cap) {
			closedir(d);
			*n = k;
			return -ENOSPC;
		}
		out[k++] = (pid_t)t;
	}
	closedir(d);
	*n = k;
	return 0;
}
