/* tracestub --selftest: checks of this binary's own tables and codecs, as gdbserver's
 * --selftest runs its unit tests (GDB's testsuite asks for "Ran N unit tests, 0 failed").
 * Touches no process: the register table against target.xml and DWARF numbering, packet
 * framing both ways, the signal tables, the x86 decoder on known bytes, and this binary's own
 * symbols. The full suites are `make check`. */
#include "stub/cmd/selftest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/insn.h"
#include "arch/x86_64/regs.h"
#include "protocol/framing.h"
#include "protocol/signals.h"
#include "stub/debuginfo/debuginfo.h"

static int ran, failed;

static void check(int ok, const char *what)
{
	ran++;
	if (!ok) {
		failed++;
		fprintf(stderr, "selftest failed: %s\n", what);
	}
}

static void regs_vs_xml(void)
{
	static char xml[65536];
	const struct x86_64_reg *r = x86_64_regs();
	size_t n = x86_64_target_xml(xml, sizeof(xml) - 1), sum = 0;
	char want[64];
	int all = 1;

	xml[n < sizeof(xml) ? n : sizeof(xml) - 1] = 0;
	for (size_t i = 0; i < X86_64_NREGS; i++) {
		snprintf(want, sizeof(want), "name=\"%s\"", r[i].name);
		all &= strstr(xml, want) != NULL && r[i].offset == sum;
		sum += r[i].bitsize / 8;
		if (r[i].dwarf >= 0)
			all &= x86_64_regno_from_dwarf(r[i].dwarf) == (int)i;
	}
	check(n < sizeof(xml) && all && sum == x86_64_g_size(),
	      "register table: target.xml names, g offsets, DWARF numbers");
}

static void framing(void)
{
	static const uint8_t payload[] = "m4015bc,40";
	uint8_t wire[64], buf[64];
	size_t n = rsp_frame_encode('$', payload, sizeof(payload) - 1, wire, sizeof(wire)), len = 0;
	struct rsp_framer f;
	int got = 0;

	rsp_framer_init(&f, buf, sizeof(buf));
	for (size_t i = 0; i < n; i++)
		got |= rsp_framer_byte(&f, wire[i]) == RSP_FRAME_PACKET;
	check(n == sizeof(payload) - 1 + 4 && got &&
		      !memcmp(rsp_framer_packet(&f, &len), payload, sizeof(payload) - 1) &&
		      len == sizeof(payload) - 1,
	      "packet framing: encode, then decode the same bytes");
}

static void signals(void)
{
	int all = 1;

	for (int s = 1; s < 32; s++)
		all &= rsp_signal_from_gdb(rsp_signal_to_gdb(s)) == s ||
		       s == 16; /* gdb has no 16 */
	check(all, "signal tables: host -> gdb -> host");
}

static void decoder(void)
{
	static const uint8_t code[] = {0x55, 0x48, 0x89, 0xe5, 0xe8, 0x10, 0, 0, 0, 0xc3};
	struct x86_64_insn a, b, c, d;

	check(!x86_64_insn_decode(code, sizeof(code), 0x1000, &a) && a.len == 1 &&
		      !x86_64_insn_decode(code + 1, 9, 0x1001, &b) && b.len == 3 &&
		      !x86_64_insn_decode(code + 4, 6, 0x1004, &c) && c.len == 5 &&
		      c.target == 0x1019 && !x86_64_insn_decode(code + 9, 1, 0x1009, &d) &&
		      d.len == 1,
	      "x86 decoder: push, mov, call (target), ret");
}

static void own_symbols(void)
{
	struct elfsym *es = NULL;
	const struct elfsym_func *f;

	/* A stripped install has no .symtab: then the entry point alone. */
	check(!elfsym_open("/proc/self/exe", &es) && elfsym_entry(es) &&
		      (!elfsym_count(es) ||
		       ((f = elfsym_find(es, "tracestub_selftest")) && f->addr && f->size)),
	      "ELF: this binary's entry point and its own tracestub_selftest");
	elfsym_free(es);
}

int tracestub_selftest(void)
{
	regs_vs_xml();
	framing();
	signals();
	decoder();
	own_symbols();
	printf("Ran %d unit tests, %d failed\n", ran, failed);
	return failed ? 1 : 0;
}
