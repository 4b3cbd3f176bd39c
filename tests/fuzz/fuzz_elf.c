/* libFuzzer target: ELF symbol loading from memory (stub/elfsym.c over libelf) and every query
 * on whatever it accepts. */
#include <stddef.h>
#include <stdint.h>

#include "stub/debuginfo/debuginfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct elfsym_func *f[8];
	struct elfsym *es;
	size_t i, n, len;
	uint64_t off, va;

	if (elfsym_open_mem(data, size, &es))
		return 0;
	n = elfsym_count(es);
	for (i = 0; i < n && i < 64; i++) {
		const struct elfsym_func *fn = elfsym_at(es, i);

		if (elfsym_find(es, fn->name) == NULL)
			__builtin_trap(); /* every listed name must be found again */
		elfsym_lookup(es, fn->addr, &off);
		elfsym_offset_to_vaddr(es, fn->file_off, true, &va);
	}
	elfsym_glob(es, "*", f, 8);
	elfsym_glob(es, "m*n", f, 8);
	elfsym_lookup(es, 0x1000, &off);
	elfsym_is_dyn(es);
	elfsym_image(es, &len);
	elfsym_free(es);
	return 0;
}
