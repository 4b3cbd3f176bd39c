/* elfsym against real files: the dw_args and go_args fixtures, libc (.dynsym only), libpq. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"

static int n_test;
__attribute__((format(printf, 2, 3))) static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}
static void skip(int n, const char *why)
{
	for (int i = 0; i < n; i++)
		printf("ok %d # SKIP %s\n", ++n_test, why);
}

static void test_fixture(void)
{
	const char *path = "build/fixtures/dw_args";
	struct elfsym *es = NULL;
	if (access(path, R_OK) != 0) {
		skip(7, "build/fixtures/dw_args absent (make fixtures)");
		return;
	}
	ok(elfsym_open(path, &es) == 0 && es, "open dw_args");
	if (!es) {
		skip(6, "open failed");
		return;
	}
	const struct elfsym_func *f = elfsym_find(es, "f_many");
	ok(f && f->size > 0 && !f->dynamic && f->file_off != UINT64_MAX, "f_many in .symtab");
	uint64_t off = 99;
	const struct elfsym_func *g = f ? elfsym_lookup(es, f->addr + 3, &off) : NULL;
	ok(g == f && off == 3, "lookup f_many+3");
	ok(f && elfsym_lookup(es, f->addr + f->size, &off) != f, "lookup past the end is another");
	const struct elfsym_func *m[32];
	size_t n = elfsym_glob(es, "f_*", m, 32);
	ok(n == 15, "glob f_* finds the 15 out-of-line functions");
	ok(elfsym_find(es, "no_such_function") == NULL, "missing name");
	/* The function's bytes start with endbr64 or push %rbp at its file offset. */
	size_t len;
	const uint8_t *img = elfsym_image(es, &len);
	ok(f && f->file_off < len &&
		   (img[f->file_off] == 0x55 ||
		    memcmp(img + f->file_off, "\xf3\x0f\x1e\xfa", 4) == 0),
	   "file_off points at the prologue");
	elfsym_free(es);
}

static void test_libc(void)
{
	struct elfsym *es = NULL;
	ok(elfsym_open("/lib/x86_64-linux-gnu/libc.so.6", &es) == 0 && es, "open libc");
	if (!es) {
		skip(4, "libc");
		return;
	}
	const struct elfsym_func *f = elfsym_find(es, "malloc");
	ok(f && f->dynamic && f->size > 0, "malloc from .dynsym");
	uint64_t off;
	const struct elfsym_func *g = f ? elfsym_lookup(es, f->addr + 1, &off) : NULL;
	ok(g && g->addr == f->addr && off == 1, "lookup malloc+1 names an alias at malloc");
	ok(elfsym_is_dyn(es), "libc is ET_DYN");
	uint64_t va = 0;
	ok(elfsym_offset_to_vaddr(es, f->file_off & ~0xfffull, true, &va) == 0 &&
		   va == (f->addr & ~0xfffull),
	   "offset to vaddr for the text mapping");
	elfsym_free(es);
}

static void test_go(void)
{
	const char *path = "build/fixtures/go_args";
	struct elfsym *es = NULL;
	if (access(path, R_OK) != 0) {
		skip(2, "build/fixtures/go_args absent (make fixtures)");
		return;
	}
	ok(elfsym_open(path, &es) == 0, "open go_args");
	const struct elfsym_func *f = es ? elfsym_find(es, "main.greet") : NULL;
	ok(f && f->size > 0 && elfsym_glob(es, "main.*", NULL, 0) >= 5, "main.greet and main.*");
	elfsym_free(es);
}

/* The same program built with -ldflags='-s -w': its functions come from .gopclntab, at the
 * addresses .symtab gives in the unstripped build, with sizes that end where the next
 * function starts (symtab sizes leave out the padding). */
static void test_go_stripped(void)
{
	const char *path = "build/fixtures/go_args_stripped", *full = "build/fixtures/go_args";
	static const char *const names[] = {"main.main",  "main.add", "main.fact",
					    "main.greet", "main.sum", "runtime.main"};
	struct elfsym *es = NULL, *ref = NULL;
	size_t same = 0, n = sizeof(names) / sizeof(names[0]);

	if (access(path, R_OK) != 0 || access(full, R_OK) != 0) {
		skip(3, "build/fixtures/go_args_stripped absent (make fixtures)");
		return;
	}
	int r = elfsym_open(path, &es);
	size_t count = es ? elfsym_count(es) : 0;

	ok(r == 0 && count > 1000, "stripped Go: %zu functions from .gopclntab", count);
	if (es && elfsym_open(full, &ref) == 0)
		for (size_t i = 0; i < n; i++) {
			const struct elfsym_func *a = elfsym_find(es, names[i]);
			const struct elfsym_func *b = elfsym_find(ref, names[i]);
			same += a && b && a->addr == b->addr && a->size >= b->size &&
				a->size < b->size + 32;
		}
	ok(same == n, "stripped Go: %zu of %zu functions at the unstripped symtab's address", same,
	   n);
	const struct elfsym_func *f = es ? elfsym_find(es, "main.add") : NULL;
	uint64_t off = 0;
	ok(f && elfsym_lookup(es, f->addr + 1, &off) == f && off == 1,
	   "stripped Go: lookup by address inside main.add");
	elfsym_free(es);
	elfsym_free(ref);
}

static void test_pq_and_bad(void)
{
	struct elfsym *es = NULL;
	const char *pq = "/usr/lib/x86_64-linux-gnu/libpq.so.5";
	if (access(pq, R_OK) == 0) {
		ok(elfsym_open(pq, &es) == 0 && elfsym_find(es, "PQexec") != NULL, "libpq PQexec");
		elfsym_free(es);
		es = NULL;
	} else {
		skip(1, "libpq not installed");
	}
	ok(elfsym_open_mem("\x7f"
			   "ELFgarbage",
			   10, &es) == -ENOEXEC &&
		   !es,
	   "garbage is -ENOEXEC");
	ok(elfsym_open("/nonexistent/x", &es) == -ENOENT, "missing file is -ENOENT");
	/* what a process maps that is no ELF (a shared memory file, a device): said without
	 * reading it (a FIFO's read would wait for a writer) */
	ok(elfsym_open("/dev/zero", &es) == -ENOEXEC && !es, "a device is -ENOEXEC");
	{
		char fifo[] = "/tmp/test_elfsym_fifoXXXXXX";
		int fd = mkstemp(fifo);

		if (fd >= 0) {
			close(fd);
			unlink(fifo);
		}
		ok(fd >= 0 && !mkfifo(fifo, 0600) && elfsym_open(fifo, &es) == -ENOEXEC && !es,
		   "a FIFO is -ENOEXEC, at once");
		unlink(fifo);
	}
}

int main(void)
{
	test_fixture();
	test_libc();
	test_go();
	test_go_stripped();
	test_pq_and_bad();
	printf("1..%d\n", n_test);
	return 0;
}
