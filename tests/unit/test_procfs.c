#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/os/os.h"

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}

static void code_marker(void) {}

int main(void)
{
	uint8_t buf[4096];
	size_t len = 0;
	char path[4096], self[4096];
	struct rsp_region_info ri;
	pid_t pid = getpid(), tids[16];
	size_t n = 0;
	int stack_var = 0, has_phdr = 0;
	void *heap = malloc(64);

	printf("1..10\n");
	ok(procfs_auxv(pid, 0, buf, sizeof buf, &len) == 0 && len % 16 == 0, "auxv read");
	for (size_t i = 0; i + 16 <= len; i += 16) {
		uint64_t t;
		memcpy(&t, buf + i, 8);
		if (t == AT_PHDR)
			has_phdr = 1;
	}
	ok(has_phdr, "auxv contains AT_PHDR");
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	self[sl > 0 ? sl : 0] = '\0';
	ok(procfs_exec_file(pid, path, sizeof path) == 0 && strcmp(path, self) == 0, "exec file");
	ok(procfs_region(pid, (uint64_t)(uintptr_t)&stack_var, &ri) == 0 && ri.mapped && ri.r &&
		   ri.w && strcmp(ri.name, "[stack]") == 0,
	   "stack region");
	ok(procfs_region(pid, (uint64_t)(uintptr_t)heap, &ri) == 0 && ri.mapped && ri.w,
	   "heap region");
	ok(procfs_region(pid, (uint64_t)(uintptr_t)&code_marker, &ri) == 0 && ri.mapped && ri.x &&
		   strcmp(ri.name, self) == 0,
	   "code region");
	ok(procfs_region(pid, 0x1000, &ri) == 0 && !ri.mapped && ri.start == 0x1000 && ri.size > 0,
	   "unmapped gap");
	ok(procfs_list_tids(pid, tids, 16, &n) == 0 && n == 1 && tids[0] == pid, "tids");
	ok(procfs_thread_name(pid, pid, path, sizeof path) == 0 && strcmp(path, "test_procfs") == 0,
	   "thread name");
	int core = procfs_thread_core(pid, pid);
	ok(core >= 0 && core < sysconf(_SC_NPROCESSORS_CONF), "thread core");
	free(heap);
	return 0;
}
