/* Program headers of a replayed module, read from the file image elfsym holds, every offset
 * and size checked against the image. Only read-only PT_LOAD segments are served. */
#include "stub/replay/mod.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stub/debuginfo/debuginfo.h"

static int load_segs(struct replay_mod *m, const Elf64_Ehdr *eh)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > m->len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > m->len - eh->e_phoff)
		return -ENOEXEC;
	m->phnum = eh->e_phnum;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, m->img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_PHDR)
			m->phdr = ph.p_vaddr;
		if (ph.p_type == PT_DYNAMIC)
			m->dynamic = ph.p_vaddr;
		if (ph.p_type == PT_INTERP && ph.p_offset < m->len &&
		    ph.p_filesz < sizeof(m->interp) && ph.p_filesz <= m->len - ph.p_offset) {
			memcpy(m->interp, m->img + ph.p_offset, ph.p_filesz);
			m->interp[ph.p_filesz] = '\0';
		}
		if (ph.p_type != PT_LOAD || m->nsegs == REPLAY_MOD_MAX_SEGS)
			continue;
		if (ph.p_offset > m->len || ph.p_filesz > m->len - ph.p_offset ||
		    ph.p_filesz > ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return -ENOEXEC;
		/* Without PT_PHDR the headers sit in the segment that maps file offset 0. */
		if (!m->phdr && ph.p_offset == 0 && eh->e_phoff < ph.p_filesz)
			m->phdr = ph.p_vaddr + eh->e_phoff;
		m->segs[m->nsegs++] = (struct replay_seg){ph.p_vaddr,
							  ph.p_memsz,
							  ph.p_filesz,
							  ph.p_offset,
							  (ph.p_flags & PF_R) != 0,
							  (ph.p_flags & PF_W) != 0,
							  (ph.p_flags & PF_X) != 0};
		lo = ph.p_vaddr < lo ? ph.p_vaddr : lo;
		hi = ph.p_vaddr + ph.p_memsz > hi ? ph.p_vaddr + ph.p_memsz : hi;
	}
	if (!m->nsegs)
		return -ENOEXEC;
	m->lo = lo;
	m->hi = hi;
	return 0;
}

int replay_mod_open(struct replay_mod *m, const char *path, uint64_t bias)
{
	Elf64_Ehdr eh;
	int rc;

	memset(m, 0, sizeof(*m));
	m->bias = bias;
	m->path = strdup(path);
	if (!m->path)
		return -ENOMEM;
	rc = elfsym_open(path, &m->es);
	if (rc)
		goto fail;
	m->img = elfsym_image(m->es, &m->len);
	rc = -ENOEXEC;
	if (m->len < sizeof(eh))
		goto fail;
	memcpy(&eh, m->img, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
		goto fail;
	m->entry = eh.e_entry;
	rc = load_segs(m, &eh);
	if (!rc)
		return 0;
fail:
	replay_mod_close(m);
	return rc;
}

void replay_mod_close(struct replay_mod *m)
{
	elfsym_free(m->es);
	free(m->path);
	memset(m, 0, sizeof(*m));
}

#define PAGE 4096u

static uint64_t page_down(uint64_t a)
{
	return a & ~(uint64_t)(PAGE - 1);
}

static uint64_t page_up(uint64_t a)
{
	return page_down(a + PAGE - 1);
}

/* The segment whose mapping (whole pages, as the kernel maps it) holds link-time a; a
 * writable one wins a shared page, as its mapping is made after (over) the others. */
static const struct replay_seg *seg_at(const struct replay_mod *m, uint64_t a)
{
	const struct replay_seg *hit = NULL;

	for (size_t i = 0; i < m->nsegs; i++) {
		const struct replay_seg *s = &m->segs[i];

		if (a >= page_down(s->vaddr) && a < page_up(s->vaddr + s->memsz) && (!hit || s->w))
			hit = s;
	}
	return hit;
}

int replay_mod_read(const struct replay_mod *m, taddr_t addr, uint8_t *buf, size_t len,
		    size_t *done)
{
	uint64_t a = addr - m->bias, start, end, file_end, off, n, k;
	const struct replay_seg *s;

	*done = 0;
	if (addr < m->bias || !len || !(s = seg_at(m, a)) || s->w)
		return -EIO;
	/* The file pages from page_down(p_offset), zeros after the file bytes (bss) */
	start = page_down(s->vaddr);
	end = page_up(s->vaddr + s->memsz);
	file_end = page_up(s->vaddr + s->filesz);
	n = end - a < len ? end - a : len;
	off = page_down(s->off) + (a - start);
	k = a < file_end ? file_end - a : 0;
	k = k < n ? k : n;
	k = off < m->len ? (m->len - off < k ? m->len - off : k) : 0;
	memcpy(buf, m->img + off, k);
	memset(buf + k, 0, n - k);
	*done = n;
	return 0;
}

bool replay_mod_region(const struct replay_mod *m, taddr_t addr, struct rsp_region_info *out)
{
	const struct replay_seg *s = addr >= m->bias ? seg_at(m, addr - m->bias) : NULL;

	if (!s)
		return false;
	memset(out, 0, sizeof(*out));
	out->start = page_down(s->vaddr) + m->bias;
	out->size = page_up(s->vaddr + s->memsz) - page_down(s->vaddr);
	out->mapped = true;
	out->r = s->r;
	out->w = s->w;
	out->x = s->x;
	strncpy(out->name, m->path, sizeof(out->name) - 1);
	return true;
}

taddr_t replay_mod_next(const struct replay_mod *m, taddr_t addr)
{
	taddr_t best = UINT64_MAX;

	for (size_t i = 0; i < m->nsegs; i++) {
		taddr_t a = page_down(m->segs[i].vaddr) + m->bias;

		if (a > addr && a < best)
			best = a;
	}
	return best;
}
