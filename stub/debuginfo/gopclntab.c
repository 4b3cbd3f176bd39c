/* gopclntab: Go 1.18+ function table parsing (see gopclntab.h). Reads nothing but the bytes
 * given; never trusts an offset or a count from them. */
#include "stub/debuginfo/gopclntab.h"

#include <errno.h>
#include <string.h>

#define PCLN_MAGIC_118 0xfffffff0u /* Go 1.18, 1.19 */
#define PCLN_MAGIC_120 0xfffffff1u /* Go 1.20 and later: same fields this file reads */
#define PCLN_HDR_SIZE  (8 + 8 * 8)
#define FUNC_NAMEOFF   4 /* _func: entryOff uint32, nameOff int32, ... */

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The NUL-terminated name at off in [base, len), or NULL. */
static const char *name_at(const uint8_t *tab, size_t len, uint64_t base, uint64_t off)
{
	if (base >= len || off >= len - base || !memchr(tab + base + off, 0, len - base - off))
		return NULL;
	return (const char *)tab + base + off;
}

int gopclntab_walk(const uint8_t *tab, size_t len, gopclntab_fn fn, void *ctx)
{
	uint64_t nfunc, text, names, pcln;
	uint32_t magic;

	if (len < PCLN_HDR_SIZE)
		return -ENOENT;
	magic = u32(tab);
	/* pad bytes 0, instruction quantum 1 (x86), pointer size 8 */
	if ((magic != PCLN_MAGIC_118 && magic != PCLN_MAGIC_120) || tab[4] || tab[5] ||
	    tab[6] != 1 || tab[7] != 8)
		return -ENOENT;
	nfunc = u64(tab + 8);
	text = u64(tab + 24);
	names = u64(tab + 32);
	pcln = u64(tab + 64);
	/* nfunc + 1 functab entries of 8 bytes (the last one holds the end of text) */
	if (pcln >= len || nfunc >= (len - pcln) / 8)
		return -EINVAL;
	for (uint64_t i = 0; i < nfunc; i++) {
		const uint8_t *ft = tab + pcln + 8 * i;
		uint32_t entry = u32(ft), funcoff = u32(ft + 4), next = u32(ft + 8);
		const char *name;
		int r;

		if (next < entry || funcoff >= len - pcln ||
		    len - pcln - funcoff < FUNC_NAMEOFF + 4)
			return -EINVAL;
		name = name_at(
			tab, len, names,
			(uint64_t)(int64_t)(int32_t)u32(tab + pcln + funcoff + FUNC_NAMEOFF));
		if (!name)
			return -EINVAL;
		r = fn(ctx, name, text + entry, text + next);
		if (r)
			return r;
	}
	return 0;
}
