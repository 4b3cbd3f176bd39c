/* libFuzzer entry point: agent-expression bytecode (PROTOCOL.md §4) through the verifier and,
 * verified or not, the interpreter over a fake machine: registers and 4 KiB of memory taken
 * from the input, trace state variables, recording into a bounded frame. Checks the promises
 * of protocol/ax.h: no crash on any input, the step bound holds, a verified expression never
 * under- or overflows its stack. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM_BASE 0x10000
#define MEM_SIZE 4096

struct machine {
	uint64_t regs[24];
	uint8_t mem[MEM_SIZE];
	int64_t tsv[8];
	uint64_t recorded;
};

static int rd_reg(void *ctx, unsigned regno, uint64_t *val)
{
	struct machine *m = ctx;

	if (regno >= 24)
		return -ENOENT;
	*val = m->regs[regno];
	return 0;
}

static int rd_mem(void *ctx, uint64_t addr, uint8_t *buf, size_t len)
{
	struct machine *m = ctx;

	if (addr < MEM_BASE || len > MEM_SIZE || addr - MEM_BASE > MEM_SIZE - len)
		return -EFAULT;
	memcpy(buf, m->mem + (addr - MEM_BASE), len);
	return 0;
}

static int rec_mem(void *ctx, uint64_t addr, uint64_t len)
{
	struct machine *m = ctx;
	uint8_t tmp[64];

	if (m->recorded + len > 1u << 20)
		return -ENOSPC;
	m->recorded += len;
	return rd_mem(ctx, addr, tmp, len < sizeof(tmp) ? (size_t)len : sizeof(tmp));
}

static int get_tsv(void *ctx, unsigned num, int64_t *val)
{
	struct machine *m = ctx;

	if (num >= 8)
		return -ENOENT;
	*val = m->tsv[num];
	return 0;
}

static int set_tsv(void *ctx, unsigned num, int64_t val)
{
	struct machine *m = ctx;

	if (num >= 8)
		return -ENOENT;
	m->tsv[num] = val;
	return 0;
}

static int rec_tsv(void *ctx, unsigned num)
{
	return num < 8 ? 0 : -ENOENT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct machine m;
	struct ax_env env = {&m, rd_reg, rd_mem, rec_mem, get_tsv, set_tsv, rec_tsv};
	struct ax_verify_info vi;
	struct ax_result res;
	enum ax_status vs, es;
	size_t split = size ? data[0] : 0;

	/* First byte: how much of the rest is machine state; the remainder is the bytecode. */
	if (split > size - (size ? 1 : 0))
		split = size ? size - 1 : 0;
	memset(&m, 0, sizeof(m));
	memcpy(m.regs, data + (size ? 1 : 0), split < sizeof(m.regs) ? split : sizeof(m.regs));
	memcpy(m.mem, data + (size ? 1 : 0), split < sizeof(m.mem) ? split : sizeof(m.mem));
	data += (size ? 1 : 0) + split;
	size -= (size ? 1 : 0) + split;

	vs = ax_verify(data, size, &vi);
	{
		/* the frame-size bound and the register check read any bytes safely */
		uint64_t bytes;
		unsigned mem, tsv;

		ax_trace_bound(data, size, &bytes, &mem, &tsv);
		ax_reads_regs(data, size);
	}
	if (!vi.reason)
		abort();
	es = ax_eval(data, size, &env, &res);
	if (es == AX_OK && res.steps > AX_STEP_MAX)
		abort();
	if (vs == AX_OK && (es == AX_E_UNDERFLOW || es == AX_E_OVERFLOW || es == AX_E_BAD_OPCODE ||
			    es == AX_E_BAD_JUMP || es == AX_E_TRUNCATED))
		abort(); /* the verifier let through what the interpreter found broken */
	(void)ax_status_str(es);
	return 0;
}
