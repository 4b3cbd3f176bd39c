/* Unit tests for arch/x86_64/funcscan.c: rets, tail jmps (direct, conditional, a 10-byte
 * thunk like libpq's PQsendQuery), indirect jumps and their run-time targets, calls. TAP. */
#include "arch/x86_64/funcscan.h"
#include "arch/x86_64/regs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/user.h>

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}

static uint64_t mem_slot = 0x401000, mem_val = 0x7777;
static int rd(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr != mem_slot || len != 8)
		return -EFAULT;
	memcpy(buf, &mem_val, 8);
	return 0;
}

int main(void)
{
	struct x86_64_site s[16];
	size_t n = 99;

	/* PQsendQuery: mov $1,%edx; jmp 0x164b0 (at 0x17900). */
	static const uint8_t thunk[] = {0xba, 0x01, 0x00, 0x00, 0x00, 0xe9, 0xa6, 0xeb, 0xff, 0xff};
	ok(!x86_64_funcscan(thunk, sizeof(thunk), 0x17900, s, 16, &n) && n == 1 &&
		   s[0].kind == X86_64_SITE_JMP_OUT && s[0].addr == 0x17905 && s[0].len == 5 &&
		   s[0].target == 0x164b0,
	   "10-byte thunk: one tail jmp to 0x164b0");

	/* push %rbp; test %edi,%edi; je +3 (inside); jne out; pop %rbp; ret; call rel32;
	 * jmp *%rax; ret $8 */
	static const uint8_t body[] = {
		0x55,					  /* 0x1000 push %rbp */
		0x85, 0xff,				  /* 0x1001 test %edi,%edi */
		0x74, 0x06,				  /* 0x1003 je 0x100b (inside) */
		0x0f, 0x85, 0x00, 0x10, 0x00, 0x00,	  /* 0x1005 jne 0x200b (outside) */
		0x5d,					  /* 0x100b pop %rbp */
		0xe8, 0xf0, 0xff, 0xff, 0xff,		  /* 0x100c call 0x1001 */
		0xff, 0xe0,				  /* 0x1011 jmp *%rax */
		0xff, 0x24, 0xc5, 0x00, 0x20, 0x00, 0x00, /* 0x1013 jmp *0x2000(,%rax,8) */
		0xc3,					  /* 0x101a ret */
		0xc2, 0x08, 0x00,			  /* 0x101b ret $8 */
	};
	ok(!x86_64_funcscan(body, sizeof(body), 0x1000, s, 16, &n) && n == 6,
	   "body: 6 sites (jne out, call, 2 indirect jmps, 2 rets); je inside is not one");
	ok(s[0].kind == X86_64_SITE_JMP_OUT && s[0].addr == 0x1005 && s[0].target == 0x200b,
	   "conditional jump out of the function is a tail exit");
	ok(s[1].kind == X86_64_SITE_CALL && s[1].addr == 0x100c && s[1].target == 0x1001,
	   "direct call with its target");
	ok(s[2].kind == X86_64_SITE_JMP_INDIRECT && !s[2].ind.mem && s[2].ind.reg == X86_64_RAX,
	   "jmp *%rax");
	ok(s[3].kind == X86_64_SITE_JMP_INDIRECT && s[3].ind.mem && s[3].ind.base == -1 &&
		   s[3].ind.index == X86_64_RAX && s[3].ind.scale == 8 && s[3].ind.disp == 0x2000,
	   "jmp *0x2000(,%rax,8)");
	ok(s[4].kind == X86_64_SITE_RET && s[4].addr == 0x101a && s[5].kind == X86_64_SITE_RET &&
		   s[5].len == 3,
	   "ret and ret $8");

	struct user_regs_struct regs;
	uint64_t t = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rax = 0x123;
	ok(!x86_64_indirect_target(&s[2].ind, &regs, rd, NULL, &t) && t == 0x123,
	   "register target from regs");
	regs.rax = (mem_slot - 0x2000) / 8;
	ok(!x86_64_indirect_target(&s[3].ind, &regs, rd, NULL, &t) && t == mem_val,
	   "memory target read through the reader");
	regs.rax = 0;
	ok(x86_64_indirect_target(&s[3].ind, &regs, rd, NULL, &t) == -EFAULT,
	   "unreadable slot: the reader's error");

	/* jmp *0x10(%rip) at 0x5000: slot at 0x5000 + 6 + 0x10 */
	static const uint8_t plt[] = {0xff, 0x25, 0x10, 0x00, 0x00, 0x00};
	ok(!x86_64_funcscan(plt, sizeof(plt), 0x5000, s, 16, &n) && n == 1 && s[0].ind.mem &&
		   s[0].ind.base == -1 && s[0].ind.index == -1 && s[0].ind.disp == 0x5016,
	   "rip-relative indirect jmp: absolute slot");
	static const uint8_t bad[] = {0xc3, 0x0f};
	ok(x86_64_funcscan(bad, sizeof(bad), 0, s, 16, &n) == -EINVAL && n == 1,
	   "undecodable tail: -EINVAL, sites before it kept");
	ok(!x86_64_funcscan(body, sizeof(body), 0x1000, NULL, 0, &n) && n == 6,
	   "count without storage");
	/* glibc's _start (Debian 12 psql): lea -0x11db(%rip),%rdi at 0x19ea4; call *... */
	static const uint8_t start[] = {0x31, 0xed, 0x49, 0x89, 0xd1, 0x5e, 0x48, 0x89, 0xe2,
					0x48, 0x83, 0xe4, 0xf0, 0x50, 0x54, 0x45, 0x31, 0xc0,
					0x31, 0xc9, 0x48, 0x8d, 0x3d, 0x25, 0xee, 0xff, 0xff,
					0xff, 0x15, 0x2f, 0x61, 0x0a, 0x00, 0xf4};
	uint64_t m = 0;
	ok(!x86_64_find_main(start, sizeof(start), 0x19e90, &m) && m == 0x18cd0,
	   "main of a stripped program from its _start");
	ok(x86_64_find_main(body, sizeof(body), 0x1000, &m) == -ENOENT, "no lea into rdi: -ENOENT");
	printf("1..%d\n", n_test);
	return 0;
}
