/* cfi: unwind the test process itself from inside a qsort comparator, through libc. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}

/* Stores the caller's registers as they are right after the call returns: rip = return address,
 * rsp = rsp + 8, callee-saved registers unchanged. */
void h6_capture(struct cfi_regs *r);
__asm__(".text\n.globl h6_capture\n.type h6_capture,@function\nh6_capture:\n"
	"movq %rbx, 24(%rdi)\nmovq %rbp, 48(%rdi)\nmovq %r12, 96(%rdi)\nmovq %r13, 104(%rdi)\n"
	"movq %r14, 112(%rdi)\nmovq %r15, 120(%rdi)\nleaq 8(%rsp), %rax\nmovq %rax, 56(%rdi)\n"
	"movq (%rsp), %rax\nmovq %rax, 128(%rdi)\nmovl $0x1f0c8, 136(%rdi)\nret\n"
	".size h6_capture, .-h6_capture\n");

static struct cfi_regs captured;
static int captured_once;
static void unwind_now(void);

__attribute__((noinline)) static int cmp_cb(const void *a, const void *b)
{
	if (!captured_once++) {
		h6_capture(&captured);
		/* The captured frames must still be live while they are read. */
		unwind_now();
	}
	return *(const int *)a - *(const int *)b;
}

__attribute__((noinline)) static void do_sort(void)
{
	int v[64];
	for (int i = 0; i < 64; i++)
		v[i] = (i * 37) % 64;
	qsort(v, 64, sizeof(v[0]), cmp_cb);
}

static int rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -1;
}

#define MAXMOD 16
static struct {
	char path[256];
	struct cfi *cfi;
} mods[MAXMOD];

static int lookup(void *ctx, uint64_t pc, struct cfi **c, uint64_t *bias)
{
	Dl_info di;
	if (!dladdr((void *)(uintptr_t)pc, &di) || !di.dli_fname)
		return -2;
	const char *p = di.dli_fname[0] ? di.dli_fname : "/proc/self/exe";
	*bias = (uint64_t)(uintptr_t)di.dli_fbase;
	for (int i = 0; i < MAXMOD; i++) {
		if (!mods[i].path[0]) {
			snprintf(mods[i].path, sizeof(mods[i].path), "%s", p);
			cfi_open(p, &mods[i].cfi);
		}
		if (strcmp(mods[i].path, p) == 0) {
			*c = mods[i].cfi;
			return 0;
		}
	}
	return -2;
}

static struct cfi_frame fr[32];
static size_t n;
static int unwind_rc = -1;

static void unwind_now(void)
{
	unwind_rc = cfi_unwind(lookup, NULL, &captured, rd, NULL, fr, 32, &n);
}

int main(void)
{
	printf("1..5\n");
	do_sort();
	ok(unwind_rc == 0 && n >= 4, "unwind from the comparator");
	struct elfsym *es = NULL;
	elfsym_open("/proc/self/exe", &es);
	Dl_info di;
	dladdr((void *)main, &di);
	uint64_t bias = (uint64_t)(uintptr_t)di.dli_fbase;
	int i_cmp = -1, i_libc = -1, i_sort = -1, i_main = -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t pc = i ? fr[i].pc - 1 : fr[i].pc;
		const struct elfsym_func *f = es ? elfsym_lookup(es, pc - bias, NULL) : NULL;
		Dl_info d2;
		const char *lib = dladdr((void *)(uintptr_t)pc, &d2) ? d2.dli_fname : "";
		printf("# #%zu %#llx %s %s\n", i, (unsigned long long)fr[i].pc, f ? f->name : "?",
		       lib);
		if (f && strcmp(f->name, "cmp_cb") == 0 && i_cmp < 0)
			i_cmp = (int)i;
		/* ASan's qsort interceptor sorts in libasan itself; plain builds go through libc.
		 */
		if ((strstr(lib, "libc.so.6") || strstr(lib, "libasan")) && i_libc < 0)
			i_libc = (int)i;
		if (f && strcmp(f->name, "do_sort") == 0 && i_sort < 0)
			i_sort = (int)i;
		if (f && strcmp(f->name, "main") == 0 && i_main < 0)
			i_main = (int)i;
	}
	ok(i_cmp == 0, "frame 0 is the comparator");
	ok(i_libc > i_cmp, "then the qsort implementation (libc or libasan)");
	ok(i_sort > i_libc, "then do_sort");
	ok(i_main > i_sort, "then main");
	elfsym_free(es);
	for (int i = 0; i < MAXMOD; i++)
		cfi_free(mods[i].cfi);
	return 0;
}
