#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "stub/os/os.h"

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}

static int rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};
	(void)ctx;
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -1;
}

static uint64_t libc_addr;
static int cb(struct dl_phdr_info *info, size_t size, void *data)
{
	if (strstr(info->dlpi_name, "libc.so.6"))
		libc_addr = info->dlpi_addr;
	return 0;
}

int main(void)
{
	struct rsp_library libs[64];
	char strings[8192];
	size_t n = 0;
	int found = 0, first_main = 0;

	printf("1..3\n");
	dl_iterate_phdr(cb, NULL);
	ok(svr4_libraries(getpid(), rd, NULL, libs, 64, &n, strings, sizeof strings) == 0 && n > 0,
	   "list libraries");
	for (size_t i = 0; i < n; i++) {
		if (strstr(libs[i].name, "libc.so.6") && libs[i].l_addr == libc_addr && libc_addr)
			found = 1;
		if (libs[i].name[0] == '\0')
			first_main = 1;
	}
	ok(found, "libc.so.6 with dl_iterate_phdr's l_addr");
	ok(!first_main, "no empty names (main program excluded)");
	return 0;
}
