/* Breakpoint site table over a fake memory: insert/remove, owners, shadowed reads, writes
 * through sites, 10,000 sites, restore-all; multi-byte patches beside int3s. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stub/live/bkpt.h"

static int n_test, failed;

static void ok(int cond, const char *name)
{
	n_test++;
	failed |= !cond;
	printf("%sok %d - %s\n", cond ? "" : "not ", n_test, name);
}

#define MEM_BASE 0x400000u
#define MEM_SIZE 65536u
static uint8_t mem[MEM_SIZE];
static int writes;

static int fake_read(void *ctx, taddr_t addr, uint8_t *buf, size_t len)
{
	if (addr < MEM_BASE || addr - MEM_BASE + len > MEM_SIZE)
		return -EIO;
	memcpy(buf, mem + (addr - MEM_BASE), len);
	return 0;
}

static int fake_write(void *ctx, taddr_t addr, const uint8_t *buf, size_t len)
{
	if (addr < MEM_BASE || addr - MEM_BASE + len > MEM_SIZE)
		return -EIO;
	memcpy(mem + (addr - MEM_BASE), buf, len);
	writes++;
	return 0;
}

static const struct bkpt_mem fm = {NULL, fake_read, fake_write};

int main(void)
{
	struct bkpt_table *t = bkpt_table_new();
	uint8_t buf[8], want[8], orig;
	size_t i;
	int bad;

	for (i = 0; i < MEM_SIZE; i++)
		mem[i] = (uint8_t)(i * 7 + 1);
	ok(t != NULL, "new");
	ok(bkpt_insert(t, &fm, MEM_BASE + 16, BKPT_OWNER_USER) == 0, "insert user");
	ok(mem[16] == 0xcc, "int3 written");
	ok(bkpt_orig_byte(t, MEM_BASE + 16, &orig) == 0 && orig == (uint8_t)(16 * 7 + 1),
	   "original byte saved");
	writes = 0;
	ok(bkpt_insert(t, &fm, MEM_BASE + 16, BKPT_OWNER_TRACE) == 0 && writes == 0 &&
		   bkpt_owners(t, MEM_BASE + 16) == (BKPT_OWNER_USER | BKPT_OWNER_TRACE),
	   "second owner: no memory write");
	ok(bkpt_insert(t, &fm, 0x10, BKPT_OWNER_USER) == -EIO && bkpt_count(t) == 1,
	   "unreadable address fails, nothing added");

	memcpy(buf, mem + 12, 8);
	bkpt_shadow(t, MEM_BASE + 12, buf, 8);
	for (i = 0; i < 8; i++)
		want[i] = (uint8_t)((12 + i) * 7 + 1);
	ok(!memcmp(buf, want, 8), "shadowed read shows original bytes");

	memset(buf, 0x90, 8);
	bkpt_write_through(t, MEM_BASE + 12, buf, 8);
	ok(buf[4] == 0xcc && buf[3] == 0x90 && bkpt_orig_byte(t, MEM_BASE + 16, &orig) == 0 &&
		   orig == 0x90,
	   "write over a site updates the saved byte, keeps int3");
	fake_write(NULL, MEM_BASE + 12, buf, 8);

	ok(bkpt_remove(t, &fm, MEM_BASE + 16, BKPT_OWNER_USER) == 0 && mem[16] == 0xcc,
	   "remove one owner keeps the site");
	ok(bkpt_remove(t, &fm, MEM_BASE + 16, BKPT_OWNER_USER) == -ENOENT, "remove absent owner");
	ok(bkpt_remove(t, &fm, MEM_BASE + 16, BKPT_OWNER_TRACE) == 0 && mem[16] == 0x90 &&
		   !bkpt_is_inserted(t, MEM_BASE + 16) && bkpt_count(t) == 0,
	   "last owner restores the byte written through");

	for (i = 0; i < MEM_SIZE; i++)
		mem[i] = (uint8_t)(i * 7 + 1);
	bad = 0;
	for (i = 0; i < 10000; i++)
		bad |= bkpt_insert(t, &fm, MEM_BASE + i * 6, BKPT_OWNER_USER);
	ok(!bad && bkpt_count(t) == 10000, "10,000 sites");
	bad = 0;
	for (i = 0; i < 10000; i++)
		bad |= !bkpt_is_inserted(t, MEM_BASE + i * 6) ||
		       bkpt_is_inserted(t, MEM_BASE + i * 6 + 1) || mem[i * 6] != 0xcc;
	ok(!bad, "every site found, neighbours not");
	{
		static uint8_t big[MEM_SIZE];

		memcpy(big, mem, MEM_SIZE);
		bkpt_shadow(t, MEM_BASE, big, MEM_SIZE);
		bad = 0;
		for (i = 0; i < MEM_SIZE; i++)
			bad |= big[i] != (uint8_t)(i * 7 + 1);
		ok(!bad, "64 KiB shadowed read equals original memory");
	}
	for (i = 0; i < 5000; i++)
		bkpt_remove(t, &fm, MEM_BASE + i * 6, BKPT_OWNER_USER);
	ok(bkpt_count(t) == 5000 && mem[0] == 1 && mem[5000 * 6] == 0xcc, "half removed");
	ok(bkpt_remove_all(t, &fm) == 0 && bkpt_count(t) == 0, "remove all");
	bad = 0;
	for (i = 0; i < MEM_SIZE; i++)
		bad |= mem[i] != (uint8_t)(i * 7 + 1);
	ok(!bad, "memory identical to before");
	bkpt_insert(t, &fm, MEM_BASE + 1, BKPT_OWNER_INTERNAL);
	bkpt_forget_all(t);
	ok(bkpt_count(t) == 0 && mem[1] == 0xcc, "forget_all leaves memory alone");
	mem[1] = (uint8_t)(1 * 7 + 1);

	/* ---- patches (a fast site's jmp over 5+ bytes) ---- */
	static const uint8_t jmp[6] = {0xe9, 1, 2, 3, 4, 0xcc};
	uint8_t rd[16], child[16];
	const taddr_t P = MEM_BASE + 0x100;
	ok(!bkpt_patch_insert(t, &fm, P, jmp, 6) && !memcmp(mem + 0x100, jmp, 6) &&
		   bkpt_patch_count(t) == 1,
	   "patch: 6 bytes written");
	memcpy(rd, mem + 0xfe, 10);
	bkpt_shadow(t, P - 2, rd, 10);
	bad = 0;
	for (i = 0; i < 10; i++)
		bad |= rd[i] != (uint8_t)((0xfe + i) * 7 + 1);
	ok(!bad, "patch: a read across it shows the original bytes");
	ok(bkpt_insert(t, &fm, P + 3, BKPT_OWNER_TRACE) == -EBUSY && bkpt_count(t) == 0,
	   "patch: an int3 inside it is refused");
	ok(bkpt_patch_insert(t, &fm, P + 5, jmp, 6) == -EBUSY &&
		   bkpt_patch_insert(t, &fm, P - 3, jmp, 5) == -EBUSY,
	   "patch: overlapping patches refused");
	bkpt_insert(t, &fm, P + 20, BKPT_OWNER_TRACE);
	ok(bkpt_patch_insert(t, &fm, P + 16, jmp, 6) == -EBUSY,
	   "patch: a patch over an int3 refused");
	struct bkpt_mem cm = {NULL, fake_read, fake_write};
	memcpy(child, mem + 0x100, 16);
	ok(!bkpt_restore_into(t, &cm) && mem[0x100] == (uint8_t)(0x100 * 7 + 1) &&
		   mem[P + 20 - MEM_BASE] == (uint8_t)((0x100 + 20) * 7 + 1),
	   "restore_into (a fork child): patch and int3 undone");
	memcpy(mem + 0x100, child, 16); /* back to patched, as the table says */
	ok(!bkpt_patch_remove(t, &fm, P) && mem[0x100] == (uint8_t)(0x100 * 7 + 1) &&
		   bkpt_patch_count(t) == 0 && bkpt_patch_remove(t, &fm, P) == -ENOENT,
	   "patch removed: originals back; twice: -ENOENT");
	bkpt_patch_insert(t, &fm, P, jmp, 6);
	ok(!bkpt_remove_all(t, &fm) && !bkpt_patch_count(t) && !bkpt_count(t) &&
		   mem[0x100 + 4] == (uint8_t)((0x100 + 4) * 7 + 1),
	   "remove_all restores patches too");
	bkpt_table_free(t);
	printf("1..%d\n", n_test);
	return failed;
}
