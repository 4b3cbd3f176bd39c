/* Agent-expression verifier and interpreter (PROTOCOL.md §4). Owns the opcode table. The
 * interpreter must never allocate, never read outside the bytecode and never loop forever,
 * even on bytecode the verifier never saw (the fuzzer feeds it raw). */
#include "protocol/ax.h"

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

enum { OPF_DEFINED = 1, OPF_UNSUPPORTED = 2 };

struct ax_opinfo {
	const char *name;
	uint8_t imm;  /* operand bytes */
	uint8_t pop;  /* values consumed */
	uint8_t push; /* values produced */
	uint8_t flags;
};

#define OP(code, n, i, po, pu)	[code] = {n, i, po, pu, OPF_DEFINED}
#define OPX(code, n, i, po, pu) [code] = {n, i, po, pu, OPF_DEFINED | OPF_UNSUPPORTED}

/* pops/pushes for pick and printf depend on operands; handled in code. tracev leaves the
 * stack alone as gdbserver does (ax.def's 0->1 is not what the agent executes). */
static const struct ax_opinfo ops[0x35] = {
	OPX(0x01, "float", 0, 0, 0),
	OP(0x02, "add", 0, 2, 1),
	OP(0x03, "sub", 0, 2, 1),
	OP(0x04, "mul", 0, 2, 1),
	OP(0x05, "div_signed", 0, 2, 1),
	OP(0x06, "div_unsigned", 0, 2, 1),
	OP(0x07, "rem_signed", 0, 2, 1),
	OP(0x08, "rem_unsigned", 0, 2, 1),
	OP(0x09, "lsh", 0, 2, 1),
	OP(0x0a, "rsh_signed", 0, 2, 1),
	OP(0x0b, "rsh_unsigned", 0, 2, 1),
	OP(0x0c, "trace", 0, 2, 0),
	OP(0x0d, "trace_quick", 1, 1, 1),
	OP(0x0e, "log_not", 0, 1, 1),
	OP(0x0f, "bit_and", 0, 2, 1),
	OP(0x10, "bit_or", 0, 2, 1),
	OP(0x11, "bit_xor", 0, 2, 1),
	OP(0x12, "bit_not", 0, 1, 1),
	OP(0x13, "equal", 0, 2, 1),
	OP(0x14, "less_signed", 0, 2, 1),
	OP(0x15, "less_unsigned", 0, 2, 1),
	OP(0x16, "ext", 1, 1, 1),
	OP(0x17, "ref8", 0, 1, 1),
	OP(0x18, "ref16", 0, 1, 1),
	OP(0x19, "ref32", 0, 1, 1),
	OP(0x1a, "ref64", 0, 1, 1),
	OPX(0x1b, "ref_float", 0, 1, 1),
	OPX(0x1c, "ref_double", 0, 1, 1),
	OPX(0x1d, "ref_long_double", 0, 1, 1),
	OPX(0x1e, "l_to_d", 0, 1, 1),
	OPX(0x1f, "d_to_l", 0, 1, 1),
	OP(0x20, "if_goto", 2, 1, 0),
	OP(0x21, "goto", 2, 0, 0),
	OP(0x22, "const8", 1, 0, 1),
	OP(0x23, "const16", 2, 0, 1),
	OP(0x24, "const32", 4, 0, 1),
	OP(0x25, "const64", 8, 0, 1),
	OP(0x26, "reg", 2, 0, 1),
	OP(0x27, "end", 0, 0, 0),
	OP(0x28, "dup", 0, 1, 2),
	OP(0x29, "pop", 0, 1, 0),
	OP(0x2a, "zero_ext", 1, 1, 1),
	OP(0x2b, "swap", 0, 2, 2),
	OP(0x2c, "getv", 2, 0, 1),
	OP(0x2d, "setv", 2, 1, 1),
	OP(0x2e, "tracev", 2, 0, 0),
	OP(0x2f, "tracenz", 0, 2, 0),
	OP(0x30, "trace16", 2, 1, 1),
	OP(0x32, "pick", 1, 0, 1),
	OP(0x33, "rot", 0, 3, 3),
	OPX(0x34, "printf", 0, 0, 0),
};

static const struct ax_opinfo *op_info(uint8_t op)
{
	if (op >= sizeof(ops) / sizeof(ops[0]) || !(ops[op].flags & OPF_DEFINED))
		return NULL;
	return &ops[op];
}

const char *ax_op_name(uint8_t op)
{
	const struct ax_opinfo *oi = op_info(op);
	return oi ? oi->name : NULL;
}

const char *ax_status_str(enum ax_status st)
{
	switch (st) {
	case AX_OK:
		return "ok";
	case AX_E_BAD_OPCODE:
		return "bad opcode";
	case AX_E_UNSUPPORTED:
		return "unsupported";
	case AX_E_TRUNCATED:
		return "truncated operand";
	case AX_E_BAD_OPERAND:
		return "bad operand";
	case AX_E_OVERFLOW:
		return "stack overflow";
	case AX_E_UNDERFLOW:
		return "stack underflow";
	case AX_E_BAD_JUMP:
		return "bad jump target";
	case AX_E_NO_END:
		return "missing end";
	case AX_E_DEPTH_MISMATCH:
		return "inconsistent stack depth";
	case AX_E_TOO_LONG:
		return "bad expression length";
	case AX_E_DIV_ZERO:
		return "division by zero";
	case AX_E_MEM_FAULT:
		return "memory fault";
	case AX_E_REG_UNAVAILABLE:
		return "register unavailable";
	case AX_E_TSV:
		return "trace state variable error";
	case AX_E_RECORD:
		return "collection failed";
	case AX_E_STEPS:
		return "step limit exceeded";
	case AX_E_NO_MEMORY:
		return "out of memory";
	}
	return "unknown";
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- verifier ---- */

static enum ax_status vfail(struct ax_verify_info *info, enum ax_status st, size_t pc)
{
	info->pc = pc;
	info->reason = ax_status_str(st);
	return st;
}

/* Pass 1: every instruction decodes and its operands are inside the code. */
static enum ax_status decode_all(const uint8_t *code, size_t len, uint8_t *start,
				 struct ax_verify_info *info)
{
	size_t pc = 0;
	while (pc < len) {
		const struct ax_opinfo *oi = op_info(code[pc]);
		if (!oi)
			return vfail(info, AX_E_BAD_OPCODE, pc);
		if (oi->flags & OPF_UNSUPPORTED)
			return vfail(info, AX_E_UNSUPPORTED, pc);
		if (len - pc - 1 < oi->imm)
			return vfail(info, AX_E_TRUNCATED, pc);
		if (code[pc] == 0x16 && code[pc + 1] == 0)
			return vfail(info, AX_E_BAD_OPERAND, pc);
		start[pc] = 1;
		pc += 1u + oi->imm;
	}
	return AX_OK;
}

/* Depth after executing the instruction at pc with depth d on entry, or an error. */
static enum ax_status step_depth(const uint8_t *code, size_t pc, int d, int *out)
{
	const struct ax_opinfo *oi = op_info(code[pc]);
	int pop = oi->pop, push = oi->push;

	if (code[pc] == AX_OP_PICK)
		pop = code[pc + 1] + 1, push = code[pc + 1] + 2;
	if (d < pop)
		return AX_E_UNDERFLOW;
	d = d - pop + push;
	if (d > AX_STACK_MAX)
		return AX_E_OVERFLOW;
	*out = d;
	return AX_OK;
}

/* Pass 2: abstract interpretation of stack depth over all paths (worklist). */
static enum ax_status flow_all(const uint8_t *code, size_t len, const uint8_t *start, int *depth,
			       size_t *work, struct ax_verify_info *info)
{
	size_t nwork = 0;
	unsigned maxd = 0;

	depth[0] = 0;
	work[nwork++] = 0;
	while (nwork) {
		size_t pc = work[--nwork], succ[2];
		unsigned nsucc = 0;
		uint8_t op = code[pc];
		int d;
		enum ax_status st = step_depth(code, pc, depth[pc], &d);

		if (st)
			return vfail(info, st, pc);
		if ((unsigned)d > maxd)
			maxd = (unsigned)d;
		if ((unsigned)depth[pc] > maxd)
			maxd = (unsigned)depth[pc];
		if (op == AX_OP_END)
			continue;
		if (op == AX_OP_GOTO || op == AX_OP_IF_GOTO) {
			uint64_t t = get_be(code + pc + 1, 2);
			if (t >= len || !start[t])
				return vfail(info, AX_E_BAD_JUMP, pc);
			succ[nsucc++] = t;
		}
		if (op != AX_OP_GOTO) {
			size_t next = pc + 1 + op_info(op)->imm;
			if (next >= len)
				return vfail(info, AX_E_NO_END, pc);
			succ[nsucc++] = next;
		}
		for (unsigned i = 0; i < nsucc; i++) {
			if (depth[succ[i]] < 0) {
				depth[succ[i]] = d;
				work[nwork++] = succ[i];
			} else if (depth[succ[i]] != d) {
				return vfail(info, AX_E_DEPTH_MISMATCH, succ[i]);
			}
		}
	}
	info->max_depth = maxd;
	return AX_OK;
}

enum ax_status ax_verify(const uint8_t *code, size_t len, struct ax_verify_info *info)
{
	struct ax_verify_info dummy;
	uint8_t *start = NULL;
	int *depth = NULL;
	size_t *work = NULL;
	enum ax_status st;

	if (!info)
		info = &dummy;
	info->pc = 0;
	info->max_depth = 0;
	info->reason = ax_status_str(AX_OK);
	if (len == 0 || len > AX_MAX_LEN)
		return vfail(info, AX_E_TOO_LONG, 0);
	start = calloc(len, 1);
	depth = malloc(len * sizeof(*depth));
	work = malloc(len * sizeof(*work));
	if (!start || !depth || !work) {
		st = vfail(info, AX_E_NO_MEMORY, 0);
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		depth[i] = -1;
	st = decode_all(code, len, start, info);
	if (st == AX_OK)
		st = flow_all(code, len, start, depth, work, info);
out:
	free(start);
	free(depth);
	free(work);
	return st;
}

int ax_trace_bound(const uint8_t *code, size_t len, uint64_t *bytes, unsigned *mem_ops,
		   unsigned *tsv_ops)
{
	size_t pc = 0, prev = SIZE_MAX;

	*bytes = 0;
	*mem_ops = *tsv_ops = 0;
	while (pc < len) {
		const struct ax_opinfo *oi = op_info(code[pc]);
		uint8_t op = code[pc];
		uint64_t n = 0;

		if (!oi || len - pc - 1 < oi->imm)
			return -EINVAL;
		switch (op) {
		case 0x0c: /* trace: the length is on top; known when a constant was just pushed */
			if (prev == SIZE_MAX || code[prev] < 0x22 || code[prev] > 0x25)
				return -ERANGE;
			for (unsigned i = 0; i < op_info(code[prev])->imm; i++)
				n = n << 8 | code[prev + 1 + i];
			*bytes += n;
			*mem_ops += 1 + (unsigned)(n / 65535);
			break;
		case 0x2f: /* tracenz: up to a limit from the stack */
			return -ERANGE;
		case 0x0d: /* trace_quick N */
			*bytes += code[pc + 1];
			++*mem_ops;
			break;
		case 0x30: /* trace16 N */
			*bytes += (uint64_t)code[pc + 1] << 8 | code[pc + 2];
			++*mem_ops;
			break;
		case 0x2e: /* tracev */
			++*tsv_ops;
			break;
		case 0x20: /* if_goto, goto: a jump back may repeat the trace ops */
		case 0x21:
			if (((size_t)code[pc + 1] << 8 | code[pc + 2]) <= pc)
				return -ERANGE;
			break;
		default:
			break;
		}
		prev = pc;
		pc += 1u + oi->imm;
	}
	return 0;
}

bool ax_reads_regs(const uint8_t *code, size_t len)
{
	for (size_t pc = 0; pc < len;) {
		const struct ax_opinfo *oi = op_info(code[pc]);

		if (!oi || len - pc - 1 < oi->imm)
			return true;  /* not decodable: assume it does */
		if (code[pc] == 0x26) /* reg */
			return true;
		pc += 1u + oi->imm;
	}
	return false;
}

/* ---- interpreter ---- */

struct vm {
	const uint8_t *code;
	size_t len, pc;
	const struct ax_env *env;
	uint64_t stack[AX_STACK_MAX];
	unsigned sp; /* number of values */
};

static enum ax_status push(struct vm *vm, uint64_t v)
{
	if (vm->sp >= AX_STACK_MAX)
		return AX_E_OVERFLOW;
	vm->stack[vm->sp++] = v;
	return AX_OK;
}

static uint64_t sign_extend(uint64_t v, unsigned bits)
{
	if (bits >= 64)
		return v;
	uint64_t m = (uint64_t)1 << (bits - 1);
	v &= ((uint64_t)1 << bits) - 1;
	return (v ^ m) - m;
}

static enum ax_status binop(uint8_t op, uint64_t a, uint64_t b, uint64_t *r)
{
	int64_t sa = (int64_t)a, sb = (int64_t)b;

	switch (op) {
	case 0x02:
		*r = a + b;
		break;
	case 0x03:
		*r = a - b;
		break;
	case 0x04:
		*r = a * b;
		break;
	case 0x05:
	case 0x07:
		if (b == 0)
			return AX_E_DIV_ZERO;
		/* INT64_MIN / -1 wraps (no trap), remainder 0. */
		if (sb == -1)
			*r = op == 0x05 ? (uint64_t)0 - a : 0;
		else
			*r = op == 0x05 ? (uint64_t)(sa / sb) : (uint64_t)(sa % sb);
		break;
	case 0x06:
	case 0x08:
		if (b == 0)
			return AX_E_DIV_ZERO;
		*r = op == 0x06 ? a / b : a % b;
		break;
	/* Shift counts >= 64 give the mathematically shifted-out value, not C's UB. */
	case 0x09:
		*r = b >= 64 ? 0 : a << b;
		break;
	case 0x0a:
		*r = b >= 64 ? (sa < 0 ? UINT64_MAX : 0) : (uint64_t)(sa >> b);
		break;
	case 0x0b:
		*r = b >= 64 ? 0 : a >> b;
		break;
	case 0x0f:
		*r = a & b;
		break;
	case 0x10:
		*r = a | b;
		break;
	case 0x11:
		*r = a ^ b;
		break;
	case 0x13:
		*r = a == b;
		break;
	case 0x14:
		*r = sa < sb;
		break;
	case 0x15:
		*r = a < b;
		break;
	default:
		return AX_E_BAD_OPCODE;
	}
	return AX_OK;
}

static enum ax_status do_ref(struct vm *vm, unsigned n)
{
	uint8_t b[8] = {0};
	uint64_t v = 0;
	if (!vm->env->read_mem || vm->env->read_mem(vm->env->ctx, vm->stack[vm->sp - 1], b, n))
		return AX_E_MEM_FAULT;
	/* x86_64 target memory is little-endian; zero-extend. */
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | b[i];
	vm->stack[vm->sp - 1] = v;
	return AX_OK;
}

static enum ax_status record(struct vm *vm, uint64_t addr, uint64_t len)
{
	if (!vm->env->record_mem || vm->env->record_mem(vm->env->ctx, addr, len))
		return AX_E_RECORD;
	return AX_OK;
}

/* Collect up to limit bytes at addr, through the first NUL inclusive. */
static enum ax_status do_tracenz(struct vm *vm, uint64_t addr, uint64_t limit)
{
	uint8_t chunk[64];
	uint64_t n = 0;

	if (!vm->env->read_mem)
		return AX_E_MEM_FAULT;
	while (n < limit) {
		size_t want = limit - n < sizeof(chunk) ? (size_t)(limit - n) : sizeof(chunk);
		/* A chunk crossing into an unmapped page may fault; retry bytewise. */
		if (vm->env->read_mem(vm->env->ctx, addr + n, chunk, want)) {
			if (want == 1 || vm->env->read_mem(vm->env->ctx, addr + n, chunk, 1))
				return AX_E_MEM_FAULT;
			want = 1;
		}
		const uint8_t *z = memchr(chunk, 0, want);
		if (z) {
			n += (uint64_t)(z - chunk) + 1;
			break;
		}
		n += want;
	}
	return record(vm, addr, n);
}

static enum ax_status do_tsv(struct vm *vm, uint8_t op, unsigned num)
{
	const struct ax_env *e = vm->env;
	int64_t v;

	if (op == AX_OP_GETV) {
		if (!e->get_tsv || e->get_tsv(e->ctx, num, &v))
			return AX_E_TSV;
		return push(vm, (uint64_t)v);
	}
	if (op == AX_OP_SETV) {
		if (!e->set_tsv || e->set_tsv(e->ctx, num, (int64_t)vm->stack[vm->sp - 1]))
			return AX_E_TSV;
		return AX_OK;
	}
	if (!e->record_tsv || e->record_tsv(e->ctx, num))
		return AX_E_RECORD;
	return AX_OK;
}

/* Executes one instruction whose operands are known to be in range and whose pops are
 * satisfied. Sets *done at `end`. */
static enum ax_status exec1(struct vm *vm, const struct ax_opinfo *oi, bool *done)
{
	uint8_t op = vm->code[vm->pc];
	const uint8_t *imm = vm->code + vm->pc + 1;
	uint64_t *s = vm->stack, a, b, r;
	unsigned sp = vm->sp;
	size_t next = vm->pc + 1 + oi->imm;
	enum ax_status st = AX_OK;

	switch (op) {
	case 0x02 ... 0x0b:
	case 0x0f ... 0x11:
	case 0x13 ... 0x15:
		a = s[sp - 2], b = s[sp - 1];
		st = binop(op, a, b, &r);
		if (st)
			return st;
		s[sp - 2] = r;
		vm->sp--;
		break;
	case 0x0c:
		st = record(vm, s[sp - 2], s[sp - 1]);
		vm->sp -= 2;
		break;
	case 0x0d:
		st = record(vm, s[sp - 1], imm[0]);
		break;
	case 0x30:
		st = record(vm, s[sp - 1], get_be(imm, 2));
		break;
	case 0x0e:
		s[sp - 1] = !s[sp - 1];
		break;
	case 0x12:
		s[sp - 1] = ~s[sp - 1];
		break;
	case 0x16:
		if (imm[0] == 0)
			return AX_E_BAD_OPERAND;
		s[sp - 1] = sign_extend(s[sp - 1], imm[0]);
		break;
	case 0x2a:
		if (imm[0] < 64)
			s[sp - 1] &= ((uint64_t)1 << imm[0]) - 1;
		break;
	case 0x17:
		st = do_ref(vm, 1);
		break;
	case 0x18:
		st = do_ref(vm, 2);
		break;
	case 0x19:
		st = do_ref(vm, 4);
		break;
	case 0x1a:
		st = do_ref(vm, 8);
		break;
	case 0x20:
		vm->sp--;
		if (s[sp - 1])
			next = (size_t)get_be(imm, 2);
		break;
	case 0x21:
		next = (size_t)get_be(imm, 2);
		break;
	case 0x22 ... 0x25:
		st = push(vm, get_be(imm, oi->imm));
		break;
	case 0x26: {
		uint64_t v;
		if (!vm->env->read_reg ||
		    vm->env->read_reg(vm->env->ctx, (unsigned)get_be(imm, 2), &v))
			return AX_E_REG_UNAVAILABLE;
		st = push(vm, v);
		break;
	}
	case 0x27:
		*done = true;
		return AX_OK;
	case 0x28:
		st = push(vm, s[sp - 1]);
		break;
	case 0x29:
		vm->sp--;
		break;
	case 0x2b:
		a = s[sp - 1], s[sp - 1] = s[sp - 2], s[sp - 2] = a;
		break;
	case 0x2c:
	case 0x2d:
	case 0x2e:
		st = do_tsv(vm, op, (unsigned)get_be(imm, 2));
		break;
	case 0x2f:
		st = do_tracenz(vm, s[sp - 2], s[sp - 1]);
		vm->sp -= 2;
		break;
	case 0x32:
		if (imm[0] >= sp)
			return AX_E_UNDERFLOW;
		st = push(vm, s[sp - 1 - imm[0]]);
		break;
	case 0x33: /* a b c -> c a b */
		a = s[sp - 1];
		s[sp - 1] = s[sp - 2];
		s[sp - 2] = s[sp - 3];
		s[sp - 3] = a;
		break;
	default:
		return AX_E_BAD_OPCODE;
	}
	if (st == AX_OK)
		vm->pc = next;
	return st;
}

enum ax_status ax_eval(const uint8_t *code, size_t len, const struct ax_env *env,
		       struct ax_result *out)
{
	struct vm vm = {.code = code, .len = len, .env = env};
	enum ax_status st = AX_OK;
	unsigned steps = 0;
	bool done = false;

	if (len == 0 || len > AX_MAX_LEN)
		st = AX_E_TOO_LONG;
	while (st == AX_OK && !done) {
		const struct ax_opinfo *oi;
		if (vm.pc >= len) {
			st = AX_E_NO_END;
			break;
		}
		if (steps++ >= AX_STEP_MAX) {
			st = AX_E_STEPS;
			break;
		}
		oi = op_info(code[vm.pc]);
		if (!oi)
			st = AX_E_BAD_OPCODE;
		else if (oi->flags & OPF_UNSUPPORTED)
			st = AX_E_UNSUPPORTED;
		else if (len - vm.pc - 1 < oi->imm)
			st = AX_E_TRUNCATED;
		else if (vm.sp < oi->pop)
			st = AX_E_UNDERFLOW;
		else
			st = exec1(&vm, oi, &done);
	}
	if (out) {
		out->has_value = done && vm.sp > 0;
		out->value = out->has_value ? vm.stack[vm.sp - 1] : 0;
		out->pc = vm.pc;
		out->steps = steps;
	}
	return st;
}
