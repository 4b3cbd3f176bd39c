/* libFuzzer target: DWARF debug info (stub/dwarfinfo*.c) and CFI (stub/cfi.c) loaded from an
 * ELF image held in memory. libdwarf 20210528 reads objects through a file descriptor, so the
 * image is put in a memfd (no file on disk) and opened through /proc/self/fd. As in module.c,
 * only images a throwaway child read whole without crashing (stub/dwarfvet.h) are then read in
 * this process, so what this target finds is a crash the tracer would have. Every query the
 * headless tracer makes is run on whatever is accepted: functions at each symbol's address,
 * their parameters' locations, inlined instances, line tables, member offsets, CFA rules and
 * a whole unwind over a stack read out of the input itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct image {
	const uint8_t *data;
	size_t size;
	struct cfi *cfi;
};

/* "Target memory" is the input itself, addressed by offset. */
static int read_image(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *im = ctx;

	if (addr > im->size || len > im->size - addr)
		return -1;
	memcpy(buf, im->data + addr, len);
	return 0;
}

static int one_module(void *ctx, uint64_t pc, struct cfi **cfi, uint64_t *bias)
{
	struct image *im = ctx;

	(void)pc;
	*cfi = im->cfi;
	*bias = 0;
	return 0;
}

static void query_func(struct dwarfinfo *di, struct image *im, uint64_t pc)
{
	const struct dwfunc *fn = dwarfinfo_func_at(di, pc);
	struct cfi_regs regs = {.valid = (1u << CFI_NREGS) - 1};
	struct cfi_frame frames[16];
	uint64_t cfa, lo, hi;
	size_t n;
	unsigned i;

	if (fn != NULL) {
		if (fn->name == NULL || fn->low > fn->high)
			__builtin_trap(); /* every function found has a name and a range */
		for (i = 0; i < fn->nparams; i++) {
			dwarfinfo_loc_at(&fn->params[i], pc);
			dwarfinfo_loc_at(&fn->params[i], fn->high);
		}
		dwarfinfo_inlined(di, fn->name, false, NULL, 0);
	}
	if (im->cfi == NULL)
		return;
	for (i = 0; i < CFI_NREGS; i++)
		regs.r[i] = (uint64_t)i * 8;
	regs.r[16] = pc;
	regs.r[7] = im->size / 2;
	cfi_cfa(im->cfi, pc, &regs, &cfa);
	cfi_fde_range(im->cfi, pc, &lo, &hi);
	if (cfi_unwind(one_module, im, &regs, read_image, im, frames, 16, &n) == 0 && n > 16)
		__builtin_trap(); /* never more frames than asked for */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im = {.data = data, .size = size};
	const struct dwfunc *inl[4];
	struct dwarfinfo *di = NULL;
	struct elfsym *es = NULL;
	char path[64];
	uint64_t addrs[8], off;
	unsigned got;
	size_t i, n;
	int fd;
	static int once;

	/* dwarfinfo keeps its indexes on disk by file identity: none for inputs that come and
	 * go (every memfd is a new file) */
	if (!once++)
		setenv("XDG_CACHE_HOME", "/nonexistent/tracestub-fuzz", 1);
	fd = memfd_create("fuzz-dwarf", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* As module.c does: libdwarf in this process only on what a child survived. */
	if (dwarfvet_check(path, 10) != 0) {
		close(fd);
		return 0;
	}
	if (cfi_open(path, &im.cfi) != 0)
		im.cfi = NULL;
	if (dwarfinfo_open(path, &di) != 0)
		di = NULL;
	if (di != NULL) {
		if (elfsym_open_mem(data, size, &es) == 0) {
			n = elfsym_count(es);
			for (i = 0; i < n && i < 32; i++)
				query_func(di, &im, elfsym_at(es, i)->addr);
			elfsym_free(es);
		}
		query_func(di, &im, 0);
		query_func(di, &im, 0x401000);
		dwarfinfo_inlined(di, "*", true, inl, 4);
		dwarfinfo_line_addrs(di, "f.c", 3, addrs, 8, &n, &got);
		dwarfinfo_member_offset(di, "s", "a", &off);
		dwarfinfo_free(di);
	}
	if (im.cfi != NULL)
		cfi_free(im.cfi);
	close(fd);
	return 0;
}
