/* Collecting at a hit: a value's bytes assembled from its DWARF pieces or ABI parts
 * (registers from the hit, xmm registers fetched once when a float needs them, memory read
 * in one call), then rendered into struct tvalue: integers by size and sign, C strings up to
 * their NUL, Go strings by length, slice elements, struct leaves. Plus --stack, --regs and
 * --bt. Writes only into the session's preallocated scratch: no malloc here. */
#include <errno.h>
#include <string.h>

#include "arch/x86_64/regs.h"
#include "stub/debuginfo/debuginfo.h"
#include "stub/tracer/internal.h"

#define VAL_MAX 32 /* bytes of one value assembled (a slice is 24) */

/* A fast hit reads what its record holds (the memory as it was at the hit), a trap hit the
 * process. */
int trace_read_live(struct trace_hitctx *hc, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};
	ssize_t n = hc->t->env.readv(hc->t->env.ctx, hc->hit->pid, &l, &r, 1);

	return n < 0 ? (int)n : (size_t)n == len ? 0 : -EFAULT;
}

ssize_t trace_read_some(struct trace_hitctx *hc, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = {buf, len}, r = {(void *)(uintptr_t)addr, len};
	size_t n;

	if (!hc->t->rec)
		return hc->t->env.readv(hc->t->env.ctx, hc->hit->pid, &l, &r, 1);
	n = agent_rec_read(hc->t->rec, addr, buf, len);
	return n ? (ssize_t)n : -EFAULT;
}

int trace_read(struct trace_hitctx *hc, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = trace_read_some(hc, addr, buf, len);

	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

bool trace_fpregs(struct trace_hitctx *hc)
{
	if (!hc->fp_tried) {
		hc->fp_tried = true;
		hc->fp_ok = hc->t->env.fpregs && !hc->t->rec &&
			    !hc->t->env.fpregs(hc->t->env.ctx, hc->hit->tid, &hc->fp);
	}
	return hc->fp_ok;
}

/* Register by DWARF number: 8 bytes for GPRs, 16 for xmm0-15 (17-32). Returns the byte
 * count or -ENODATA. */
static int dwreg_bytes(struct trace_hitctx *hc, int dwreg, uint8_t *out)
{
	uint64_t v;

	if (dwreg >= 17 && dwreg <= 32) {
		if (!trace_fpregs(hc))
			return -ENODATA;
		memcpy(out, (const uint8_t *)hc->fp.xmm_space + 16 * (dwreg - 17), 16);
		return 16;
	}
	if (x86_64_gpr_value(hc->hit->regs, x86_64_regno_from_dwarf(dwreg), &v))
		return -ENODATA;
	memcpy(out, &v, 8);
	return 8;
}

static int base_value(struct trace_hitctx *hc, int base, bool at_entry, uint64_t *v)
{
	const struct user_regs_struct *r = hc->hit->regs;
	uint8_t b[16];
	struct module *m;
	struct cfi_regs cr = {0};

	if (base == DWBASE_NONE) {
		*v = 0;
		return 0;
	}
	if (base != DWBASE_CFA) {
		if (dwreg_bytes(hc, base, b) != 8)
			return -ENODATA;
		memcpy(v, b, 8);
		return 0;
	}
	if (at_entry) {
		*v = r->rsp + 8;
		return 0;
	}
	m = module_set_find(hc->space->mods, hc->hit->addr);
	if (!m || !module_cfi(m))
		return -ENODATA;
	for (int i = 0; i < 17; i++) {
		uint64_t x;
		if (!x86_64_gpr_value(r, x86_64_regno_from_dwarf(i), &x)) {
			cr.r[i] = x;
			cr.valid |= 1u << i;
		}
	}
	cr.r[16] = hc->hit->addr;
	return cfi_cfa(module_cfi(m), hc->hit->addr - m->bias, &cr, v) ? -ENODATA : 0;
}

/* The value's bytes from DWARF pieces. 0, -ENODATA (optimised out / unknown) or -EFAULT. */
static int from_dwarf(struct trace_hitctx *hc, const struct dwloc *l, uint32_t size, bool at_entry,
		      uint8_t *buf)
{
	uint32_t at = 0;

	for (unsigned i = 0; i < l->npieces && at < size; i++) {
		const struct dwpiece *p = &l->pieces[i];
		uint32_t n = p->size ? p->size : size - at;
		uint8_t rb[16];
		uint64_t v;
		int k;

		if (n > size - at)
			n = size - at;
		switch (p->kind) {
		case DWP_ENTRY_REG:
			if (!at_entry)
				return -ENODATA;
			/* At entry the register still holds it. */
			__attribute__((fallthrough));
		case DWP_REG:
			if ((k = dwreg_bytes(hc, p->dwreg, rb)) < 0)
				return k;
			memcpy(buf + at, rb, n < (uint32_t)k ? n : (uint32_t)k);
			break;
		case DWP_MEM:
			if ((k = base_value(hc, p->dwreg, at_entry, &v)) ||
			    (k = trace_read(hc, v + (uint64_t)p->off, buf + at, n)))
				return k;
			break;
		case DWP_VALUE:
			if ((k = base_value(hc, p->dwreg, at_entry, &v)))
				return k;
			v += (uint64_t)p->off;
			memcpy(buf + at, &v, n < 8 ? n : 8);
			break;
		default:
			return -ENODATA;
		}
		at += n;
	}
	return 0;
}

/* The value's bytes from ABI parts (results: the result registers, stack results above the
 * return address, an indirect result at rax). */
static int from_abi(struct trace_hitctx *hc, const struct tval_plan *p, enum x86_64_abi abi,
		    bool results, bool indirect, uint8_t *buf)
{
	const struct user_regs_struct *r = hc->hit->regs;

	for (unsigned i = 0; i < p->abi.nparts; i++) {
		const struct x86_64_abi_part *pt = &p->abi.parts[i];
		uint32_t n = pt->size;
		uint64_t v;
		int regno, err;

		if (pt->offset + n > VAL_MAX)
			return -ENODATA;
		switch (pt->where) {
		case X86_64_IN_INT:
			regno = results ? x86_64_abi_result_regno(abi, pt->reg)
					: x86_64_abi_arg_regno(abi, pt->reg);
			if (regno < 0 || x86_64_gpr_value(r, regno, &v))
				return -ENODATA;
			memcpy(buf + pt->offset, &v, n < 8 ? n : 8);
			break;
		case X86_64_IN_SSE:
			if (!trace_fpregs(hc))
				return -ENODATA;
			memcpy(buf + pt->offset, (const uint8_t *)hc->fp.xmm_space + 16 * pt->reg,
			       n < 16 ? n : 16);
			break;
		case X86_64_IN_STACK:
			v = indirect ? r->rax : r->rsp + 8 + pt->stack_off;
			if ((err = trace_read(hc, v, buf + pt->offset, n)))
				return err;
			break;
		}
	}
	return 0;
}

static uint64_t get_u(const uint8_t *b, uint32_t size)
{
	uint64_t v = 0;

	memcpy(&v, b, size > 8 ? 8 : size);
	return v;
}

static int64_t get_i(const uint8_t *b, uint32_t size)
{
	uint64_t v = get_u(b, size);
	unsigned sh = size >= 8 ? 0 : 64 - 8 * size;

	return (int64_t)(v << sh) >> sh;
}

static void note_read(struct trace_hitctx *hc, uint64_t addr, const uint8_t *b, size_t len)
{
	if (hc->nreads < sizeof(hc->reads) / sizeof(hc->reads[0]) && len)
		hc->reads[hc->nreads++] = (typeof(hc->reads[0])){addr, b, (uint16_t)len};
}

static uint8_t *strbuf(struct trace_hitctx *hc)
{
	unsigned n = sizeof(hc->t->strbuf) / sizeof(hc->t->strbuf[0]);

	return hc->nstr < n ? hc->t->strbuf[hc->nstr++] : NULL;
}

static void cstring(struct trace_hitctx *hc, uint64_t addr, struct tvalue *v)
{
	uint8_t *b = strbuf(hc);
	ssize_t n;
	uint8_t *nul;

	if (!addr) {
		v->kind = TV_PTR;
		v->v.u = 0;
		return;
	}
	if (!b || (n = trace_read_some(hc, addr, b, TRACE_STR_MAX)) <= 0) {
		v->kind = TV_ERROR;
		v->v.err = -EFAULT;
		return;
	}
	nul = memchr(b, 0, (size_t)n);
	note_read(hc, addr, b, nul ? (size_t)(nul - b) + 1 : (size_t)n);
	v->kind = TV_STR;
	v->v.s.bytes = b;
	v->v.s.len = nul ? (size_t)(nul - b) : (size_t)n;
	v->v.s.truncated = !nul;
}

static void gostring(struct trace_hitctx *hc, uint64_t addr, uint64_t len, struct tvalue *v)
{
	uint8_t *b = strbuf(hc);
	size_t want = len > TRACE_STR_MAX ? TRACE_STR_MAX : (size_t)len;

	v->kind = TV_STR;
	v->v.s.bytes = b;
	v->v.s.len = 0;
	if (!len)
		return;
	if (!b || (int64_t)len < 0 || trace_read(hc, addr, b, want)) {
		v->kind = TV_ERROR;
		v->v.err = -EFAULT;
		return;
	}
	note_read(hc, addr, b, want);
	v->v.s.len = want;
	v->v.s.truncated = want < len;
}

static enum tvalue_kind scalar_tv(enum dwt_kind k, uint32_t size)
{
	switch (k) {
	case DWT_INT:
		return TV_INT;
	case DWT_UINT:
		return TV_UINT;
	case DWT_BOOL:
		return TV_BOOL;
	case DWT_CHAR:
		return TV_CHAR;
	case DWT_FLOAT:
		return size == 4 ? TV_FLOAT : TV_DOUBLE;
	case DWT_PTR:
	case DWT_CSTR:
		return TV_PTR;
	default:
		return TV_UNAVAILABLE;
	}
}

static void goslice(struct trace_hitctx *hc, const struct dwtype *t, const uint8_t *b,
		    struct tvalue *v)
{
	uint64_t addr = get_u(b, 8), len = get_u(b + 8, 8), cap = get_u(b + 16, 8);
	uint32_t es = t->elem_size;
	uint8_t *buf;
	uint64_t n;

	if (t->elem_kind == DWT_UINT && es == 1) {
		gostring(hc, addr, len, v);
		return;
	}
	v->kind = TV_SLICE;
	v->v.sl.addr = addr;
	v->v.sl.len = len;
	v->v.sl.cap = cap;
	v->v.sl.elem_size = (uint8_t)es;
	v->v.sl.elem_kind = scalar_tv(t->elem_kind, es);
	if (v->v.sl.elem_kind == TV_UNAVAILABLE || v->v.sl.elem_kind == TV_CHAR ||
	    (es != 1 && es != 2 && es != 4 && es != 8) || (int64_t)len <= 0)
		return;
	n = len < TRACE_SLICE_MAX ? len : TRACE_SLICE_MAX;
	if (n * es > TRACE_STR_MAX)
		n = TRACE_STR_MAX / es;
	buf = strbuf(hc);
	if (buf && !trace_read(hc, addr, buf, n * es)) {
		note_read(hc, addr, buf, n * es);
		v->v.sl.elems = buf;
		v->v.sl.n = (unsigned)n;
	}
}

static void scalar(const uint8_t *b, enum dwt_kind k, uint32_t size, struct tvalue *v)
{
	float fl;

	v->kind = scalar_tv(k, size);
	switch (v->kind) {
	case TV_INT:
		v->v.i = get_i(b, size);
		break;
	case TV_BOOL:
		v->v.b = b[0] != 0;
		break;
	case TV_FLOAT:
		memcpy(&fl, b, 4);
		v->v.d = fl;
		break;
	case TV_DOUBLE:
		memcpy(&v->v.d, b, 8);
		break;
	default:
		v->v.u = get_u(b, size);
	}
}

/* A std::vector {begin, end, cap} as a slice of its elements. */
static void cxxvec(struct trace_hitctx *hc, const struct dwtype *t, const uint8_t *b,
		   struct tvalue *v)
{
	uint64_t begin = get_u(b, 8), end = get_u(b + 8, 8), cap = get_u(b + 16, 8);
	uint32_t es = t->elem_size ? t->elem_size : 1;
	uint8_t go[24];
	uint64_t w[3] = {begin, end >= begin ? (end - begin) / es : 0,
			 cap >= begin ? (cap - begin) / es : 0};

	memcpy(go, w, sizeof(go));
	goslice(hc, t, go, v);
}

/* Read the object a reference points to (n bytes) into obj; 0 or -errno. */
static int deref(struct trace_hitctx *hc, const uint8_t *b, uint8_t *obj, size_t n)
{
	uint64_t addr = get_u(b, 8);

	return addr ? trace_read(hc, addr, obj, n) : -EFAULT;
}

/* A Rust String or Vec<T> (or &[T]) from its object bytes. */
static void rustvec(struct trace_hitctx *hc, const struct dwtype *t, const uint8_t *b,
		    struct tvalue *v)
{
	uint64_t w[3];

	if (t->ptr_off + 8 > VAL_MAX || t->len_off + 8 > VAL_MAX) {
		v->kind = TV_UNAVAILABLE;
		return;
	}
	w[0] = get_u(b + t->ptr_off, 8);
	w[1] = w[2] = get_u(b + t->len_off, 8);
	if (t->kind == DWT_RSTRING) {
		gostring(hc, w[0], w[1], v);
		return;
	}
	goslice(hc, t, (const uint8_t *)w, v);
}

/* A Rust enum's variant from its tag (in registers: the first of rustc's scalar pair). */
static void rustenum(const struct dwtype *t, const uint8_t *b, bool object, struct tvalue *v)
{
	uint64_t tag;
	int pick = -1;

	v->kind = TV_UNAVAILABLE;
	if ((!object && t->tag_off) || t->tag_off + t->tag_size > VAL_MAX)
		return;
	tag = get_u(b + t->tag_off, t->tag_size);
	/* the variant of that tag, else the one without a tag value (niche-encoded enums) */
	for (unsigned i = 0; i < t->nvariants; i++) {
		if (!t->variants[i].dflt && t->variants[i].value == tag) {
			pick = (int)i;
			break;
		}
		if (t->variants[i].dflt)
			pick = (int)i;
	}
	if (pick < 0)
		return;
	v->kind = TV_VARIANT;
	v->v.s.bytes = (const uint8_t *)t->variants[pick].name;
	v->v.s.len = strlen(t->variants[pick].name);
}

/* Render one assembled value into out (a struct gives one value per leaf). */
static unsigned render(struct trace_hitctx *hc, const struct tval_plan *p, const uint8_t *b,
		       struct tvalue *out, unsigned cap)
{
	const struct dwtype *t = &p->type;
	unsigned n = 0;
	uint8_t obj[VAL_MAX];

	out[0] = (struct tvalue){.name = p->name};
	if (t->deref) { /* an argument passed by invisible reference: the object behind it */
		int err = t->size <= VAL_MAX ? deref(hc, b, obj, t->size) : -ENODATA;

		if (err) {
			out[0].kind = err == -ENODATA ? TV_UNAVAILABLE : TV_ERROR;
			out[0].v.err = err;
			return 1;
		}
		b = obj;
	}
	switch (t->kind) {
	case DWT_CSTR:
		cstring(hc, get_u(b, 8), &out[0]);
		return 1;
	case DWT_GOSTRING:
		gostring(hc, get_u(b, 8), get_u(b + 8, 8), &out[0]);
		return 1;
	case DWT_GOSLICE:
		goslice(hc, t, b, &out[0]);
		return 1;
	case DWT_CXXSTR:
		gostring(hc, get_u(b, 8), get_u(b + 8, 8), &out[0]);
		return 1;
	case DWT_CXXSV:
		gostring(hc, get_u(b + 8, 8), get_u(b, 8), &out[0]);
		return 1;
	case DWT_CXXVEC:
		cxxvec(hc, t, b, &out[0]);
		return 1;
	case DWT_RSTRING:
	case DWT_RVEC:
		rustvec(hc, t, b, &out[0]);
		return 1;
	case DWT_RENUM:
		rustenum(t, b, t->by_ref || t->deref, &out[0]);
		return 1;
	case DWT_GOIFACE: {
		uint8_t *m;

		out[0].kind = TV_PTR;
		out[0].v.u = get_u(b, 8);
		out[0].go_error = t->go_error;
		/* a non-nil error: its message, where it can be told */
		if (t->go_error && out[0].v.u && (m = strbuf(hc)) &&
		    trace_go_error(hc, hc->mod, get_u(b, 8), get_u(b + 8, 8), (char *)m,
				   TRACE_STR_MAX)) {
			out[0].kind = TV_STR;
			out[0].v.s.bytes = m;
			out[0].v.s.len = strlen((char *)m);
		}
		return 1;
	}
	case DWT_STRUCT:
		for (unsigned i = 0; i < t->nleaves && n < cap; i++) {
			const struct dwleaf *lf = &t->leaves[i];
			out[n] = (struct tvalue){.name = lf->name};
			if (lf->offset + lf->size <= VAL_MAX && lf->kind != DWT_NONE)
				scalar(b + lf->offset, lf->kind, lf->size, &out[n]);
			else
				out[n].kind = TV_UNAVAILABLE;
			n++;
		}
		return n;
	case DWT_MEMORY:
	case DWT_NONE:
		out[0].kind = TV_UNAVAILABLE;
		return 1;
	default:
		scalar(b, t->kind, t->size, &out[0]);
		return 1;
	}
}

static void failed(const struct tval_plan *p, int err, struct tvalue *out)
{
	*out = (struct tvalue){.name = p->name};
	if (err == -ENODATA) {
		out->kind = TV_UNAVAILABLE;
	} else {
		out->kind = TV_ERROR;
		out->v.err = err;
	}
}

unsigned trace_collect(struct trace_hitctx *hc, const struct tplan *pl, bool results, bool at_entry,
		       struct tvalue *out, unsigned cap)
{
	const struct tval_plan *p = results ? pl->rets : pl->args;
	unsigned n = results ? pl->nrets : pl->nargs, k = 0;
	struct module *m = module_set_find(hc->space->mods, hc->hit->addr);
	uint64_t pc = hc->hit->addr - (m ? m->bias : 0);

	for (unsigned i = 0; i < n && k < cap; i++) {
		uint8_t buf[VAL_MAX] = {0};
		const struct dwloc *l;
		int err = -ENODATA;

		if (p[i].type.size > VAL_MAX && p[i].type.kind != DWT_MEMORY &&
		    p[i].type.kind != DWT_NONE) {
			failed(&p[i], -ENODATA, &out[k++]);
			continue;
		}
		if (p[i].src == TSRC_DWARF) {
			l = dwarfinfo_loc_at(p[i].dw, pc);
			err = l ? from_dwarf(hc, l, p[i].type.size, at_entry, buf) : -ENODATA;
		} else if (p[i].src == TSRC_ABI) {
			err = from_abi(hc, &p[i], pl->abi, results, results && pl->ret_indirect,
				       buf);
		}
		if (err)
			failed(&p[i], err, &out[k++]);
		else
			k += render(hc, &p[i], buf, out + k, cap - k);
	}
	return k;
}

int64_t trace_goid(struct trace_hitctx *hc, struct tmod *mod, uint64_t g)
{
	int64_t id;

	if (!mod || !g)
		return -1;
	if (!mod->goid_tried) {
		struct dwarfinfo *di = module_dwarf(mod->m);
		mod->goid_tried = true;
		mod->has_goid =
			di && !dwarfinfo_member_offset(di, "runtime.g", "goid", &mod->goid_off);
	}
	if (!mod->has_goid || trace_read(hc, g + mod->goid_off, &id, 8))
		return -1;
	return id;
}
