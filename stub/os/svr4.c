/* The dynamic loader's library list: walk r_debug / link_map through a memory reader. */
#include "stub/os/os.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

int svr4_auxv(pid_t pid, uint64_t type, uint64_t *val)
{
	uint8_t buf[4096];
	size_t len = 0;
	int r = procfs_auxv(pid, 0, buf, sizeof buf, &len);

	if (r < 0)
		return r;
	for (size_t i = 0; i + 16 <= len; i += 16) {
		uint64_t t, v;

		memcpy(&t, buf + i, 8);
		memcpy(&v, buf + i + 8, 8);
		if (t == AT_NULL)
			break;
		if (t == type) {
			*val = v;
			return 0;
		}
	}
	return -ENOENT;
}

static int read_cstr(svr4_read_fn rd, void *ctx, uint64_t addr, char *dst, size_t cap)
{
	size_t k = 0;

	while (k < cap) {
		char c;

		if (rd(ctx, addr + k, &c, 1) < 0)
			return -EIO;
		dst[k++] = c;
		if (c == '\0')
			return (int)k;
	}
	return -ENOSPC;
}

/* The main executable's program headers, read once through auxv AT_PHDR/AT_PHNUM. */
struct exec_phdrs {
	bool have_bias; /* PT_PHDR seen */
	uint64_t bias, lo, hi, dyn_vaddr;
	bool have_tls; /* PT_TLS seen */
	uint64_t tls_vaddr, tls_memsz, tls_align;
};

static int exec_phdrs(pid_t pid, svr4_read_fn rd, void *ctx, struct exec_phdrs *x)
{
	uint64_t phdr = 0, phnum = 0, phdr_vaddr = 0;
	int r;

	memset(x, 0, sizeof(*x));
	x->lo = UINT64_MAX;
	if ((r = svr4_auxv(pid, AT_PHDR, &phdr)) < 0 || (r = svr4_auxv(pid, AT_PHNUM, &phnum)) < 0)
		return r;
	for (uint64_t i = 0; i < phnum; i++) {
		Elf64_Phdr ph;

		if (rd(ctx, phdr + i * sizeof ph, &ph, sizeof ph) < 0)
			return -EIO;
		if (ph.p_type == PT_PHDR) {
			phdr_vaddr = ph.p_vaddr;
			x->have_bias = true;
		} else if (ph.p_type == PT_DYNAMIC) {
			x->dyn_vaddr = ph.p_vaddr;
		} else if (ph.p_type == PT_TLS) {
			x->have_tls = true;
			x->tls_vaddr = ph.p_vaddr;
			x->tls_memsz = ph.p_memsz;
			x->tls_align = ph.p_align ? ph.p_align : 1;
		} else if (ph.p_type == PT_LOAD) {
			if (ph.p_vaddr < x->lo)
				x->lo = ph.p_vaddr;
			if (ph.p_vaddr + ph.p_memsz > x->hi)
				x->hi = ph.p_vaddr + ph.p_memsz;
		}
	}
	x->bias = x->have_bias ? phdr - phdr_vaddr : 0;
	return 0;
}

int svr4_exec_bias(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *bias)
{
	struct exec_phdrs x;
	int r = exec_phdrs(pid, rd, ctx, &x);

	if (r)
		return r;
	*bias = x.bias;
	return x.have_bias ? 0 : -ENOENT;
}

int svr4_exec_span(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *lo, uint64_t *hi)
{
	struct exec_phdrs x;
	int r = exec_phdrs(pid, rd, ctx, &x);

	if (r)
		return r;
	*lo = x.lo;
	*hi = x.hi;
	return x.hi ? 0 : -ENOENT;
}

int svr4_rdebug(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *rdebug_out)
{
	struct exec_phdrs x;
	uint64_t dyn, rdebug = 0;
	int r;

	*rdebug_out = 0;
	r = exec_phdrs(pid, rd, ctx, &x);
	if (r < 0)
		return r;
	if (!x.have_bias)
		return -ENOENT; /* no PT_PHDR (static, or ld.so run as the program): like gdbserver
				 */
	dyn = x.dyn_vaddr ? x.bias + x.dyn_vaddr : 0;
	if (!dyn)
		return 0;
	for (uint64_t a = dyn;; a += sizeof(Elf64_Dyn)) {
		Elf64_Dyn d;

		if (rd(ctx, a, &d, sizeof d) < 0)
			return -EIO;
		if (d.d_tag == DT_NULL)
			return -ENOENT; /* no DT_DEBUG: ld.so run as the program */
		if (d.d_tag == DT_DEBUG) {
			rdebug = d.d_un.d_ptr;
			break;
		}
	}
	*rdebug_out = rdebug;
	return 0;
}

int svr4_libraries(pid_t pid, svr4_read_fn rd, void *ctx, struct rsp_library *out, size_t cap,
		   size_t *n, char *strings, size_t strcap)
{
	uint64_t rdebug = 0, lm = 0;
	size_t used = 0, k = 0;
	int r;

	*n = 0;
	r = svr4_rdebug(pid, rd, ctx, &rdebug);
	if (r < 0)
		return r;
	if (!rdebug)
		return 0; /* loader has not initialised r_debug yet */
	/* struct r_debug { int r_version; struct link_map *r_map; ... } */
	if (rd(ctx, rdebug + 8, &lm, 8) < 0)
		return -EIO;
	for (size_t hops = 0; lm && hops < 4096; hops++) {
		/* struct link_map { l_addr; l_name; l_ld; l_next; l_prev; } */
		uint64_t f[5];

		if (rd(ctx, lm, f, sizeof f) < 0)
			return -EIO;
		if (hops > 0 && f[1]) {
			int len = read_cstr(rd, ctx, f[1], strings + used, strcap - used);

			if (len < 0)
				return len == -ENOSPC ? -ENOSPC : len;
			if (len > 1) {
				if (k == cap)
					return -ENOSPC;
				out[k].name = strings + used;
				out[k].lm = lm;
				out[k].l_addr = f[0];
				out[k].l_ld = f[2];
				out[k].lmid = 0;
				k++;
				used += (size_t)len;
				*n = k;
			}
		}
		lm = f[3];
	}
	*n = k;
	return 0;
}

int svr4_exec_tls_offset(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *off)
{
	struct exec_phdrs x;
	uint64_t a, first;
	int r = exec_phdrs(pid, rd, ctx, &x);

	if (r)
		return r;
	a = x.tls_align;
	if (!x.have_tls || (a & (a - 1)) || x.tls_memsz > (1ull << 32))
		return -ENOENT;
	/* glibc's x86_64 (TLS variant II) block of the executable, the first module: it ends at
	 * the thread pointer, its first byte as aligned as p_vaddr is (_dl_determine_tlsoffset). */
	first = (0 - (x.tls_vaddr & (a - 1))) & (a - 1);
	*off = ((x.tls_memsz - first + a - 1) & ~(a - 1)) + first;
	return 0;
}

int svr4_main_lm(pid_t pid, svr4_read_fn rd, void *ctx, uint64_t *lm)
{
	uint64_t rdebug = 0;
	int r = svr4_rdebug(pid, rd, ctx, &rdebug);

	*lm = 0;
	if (r < 0)
		return r;
	/* struct r_debug { int r_version; struct link_map *r_map; ... }: r_map at 8 */
	if (!rdebug || rd(ctx, rdebug + 8, lm, sizeof(*lm)) < 0 || !*lm)
		return -ENOENT;
	return 0;
}
