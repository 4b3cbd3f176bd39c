/* A non-nil Go `error` as its message, as err.Error() would give it, found without running
 * Go code: the interface's itab names the dynamic type (runtime.itab._type, the type's name
 * through runtime._type.str, a nameOff into runtime.firstmoduledata.types), and for the
 * error types the standard library makes the message is in their fields: *errors.errorString
 * (s), *fmt.wrapError and *fmt.wrapErrors (msg), *fs.PathError (Op Path: Err),
 * *strconv.NumError (strconv.Func: parsing "Num": Err), syscall.Errno (the errno's text).
 * Another type gives its name (e.g. "*net.OpError"). Offsets from the module's DWARF; without
 * DWARF (a stripped binary) the error stays a pointer. The memory is read from the live
 * process even for a pad's record: these objects do not change once made. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/tracer/internal.h"

#define DEPTH_MAX 3

enum {
	ITAB_TYPE,
	TYPE_TFLAG,
	TYPE_STR,
	MD_TYPES,
	ERRSTR_S,
	WRAP_MSG,
	WRAPS_MSG,
	PATH_OP,
	PATH_PATH,
	PATH_ERR,
	NUM_FUNC,
	NUM_NUM,
	NUM_ERR,
	NOFF
};

static const struct {
	const char *type, *member;
	bool required;
} offs[NOFF] = {
	[ITAB_TYPE] = {"runtime.itab", "_type", true},
	[TYPE_TFLAG] = {"runtime._type", "tflag", true},
	[TYPE_STR] = {"runtime._type", "str", true},
	[MD_TYPES] = {"runtime.moduledata", "types", true},
	[ERRSTR_S] = {"errors.errorString", "s", false},
	[WRAP_MSG] = {"fmt.wrapError", "msg", false},
	[WRAPS_MSG] = {"fmt.wrapErrors", "msg", false},
	[PATH_OP] = {"io/fs.PathError", "Op", false},
	[PATH_PATH] = {"io/fs.PathError", "Path", false},
	[PATH_ERR] = {"io/fs.PathError", "Err", false},
	[NUM_FUNC] = {"strconv.NumError", "Func", false},
	[NUM_NUM] = {"strconv.NumError", "Num", false},
	[NUM_ERR] = {"strconv.NumError", "Err", false},
};

struct tgoerr {
	uint64_t off[NOFF]; /* UINT64_MAX: not in the DWARF */
	uint64_t types;	    /* runtime.firstmoduledata.types */
};

struct ctx {
	struct trace_hitctx *hc;
	const struct tgoerr *g;
	char *out;
	size_t len, cap;
};

static int rd(struct ctx *c, uint64_t addr, void *buf, size_t len)
{
	return !addr || addr == UINT64_MAX ? -EFAULT : trace_read_live(c->hc, addr, buf, len);
}

static void put(struct ctx *c, const char *s, size_t n)
{
	if (n > c->cap - 1 - c->len)
		n = c->cap - 1 - c->len;
	memcpy(c->out + c->len, s, n);
	c->len += n;
	c->out[c->len] = 0;
}

static void puts_(struct ctx *c, const char *s)
{
	put(c, s, strlen(s));
}

/* The Go string whose header is at addr. */
static int gostr(struct ctx *c, uint64_t addr)
{
	uint64_t h[2];
	char b[200];
	size_t n;

	if (rd(c, addr, h, sizeof(h)))
		return -EFAULT;
	n = h[1] < sizeof(b) ? (size_t)h[1] : sizeof(b);
	if (n && rd(c, h[0], b, n))
		return -EFAULT;
	put(c, b, n);
	return 0;
}

/* The dynamic type's name, from an itab. */
static int type_name(struct ctx *c, uint64_t tab, char *name, size_t cap)
{
	const struct tgoerr *g = c->g;
	uint64_t typ;
	uint8_t tflag, b[80];
	int32_t str;
	size_t len = 0, at = 1;
	unsigned shift = 0;

	if (rd(c, tab + g->off[ITAB_TYPE], &typ, 8) || rd(c, typ + g->off[TYPE_TFLAG], &tflag, 1) ||
	    rd(c, typ + g->off[TYPE_STR], &str, 4) ||
	    rd(c, g->types + (uint64_t)(int64_t)str, b, sizeof(b)))
		return -EFAULT;
	/* a name: a flags byte, the length as a varint, the bytes */
	for (; at < sizeof(b); at++, shift += 7) {
		len |= (size_t)(b[at] & 0x7f) << shift;
		if (!(b[at] & 0x80))
			break;
	}
	at++;
	if (at >= sizeof(b) || len > sizeof(b) - at || len >= cap)
		return -EFAULT;
	memcpy(name, b + at, len);
	name[len] = 0;
	if ((tflag & 2) && name[0] == '*') /* tflagExtraStar: the name of *T serves T */
		memmove(name, name + 1, len);
	return 0;
}

static int message(struct ctx *c, uint64_t tab, uint64_t data, int depth);

/* The error interface at addr (two words), its message appended. */
static int inner(struct ctx *c, uint64_t addr, int depth)
{
	uint64_t w[2];

	if (rd(c, addr, w, sizeof(w)))
		return -EFAULT;
	if (!w[0]) {
		puts_(c, "<nil>");
		return 0;
	}
	return message(c, w[0], w[1], depth + 1);
}

static int message(struct ctx *c, uint64_t tab, uint64_t data, int depth)
{
	const uint64_t *o = c->g->off;
	char name[80];

	if (depth > DEPTH_MAX || type_name(c, tab, name, sizeof(name)))
		return -EFAULT;
	if (!strcmp(name, "*errors.errorString") && o[ERRSTR_S] != UINT64_MAX)
		return gostr(c, data + o[ERRSTR_S]);
	if (!strcmp(name, "*fmt.wrapError") && o[WRAP_MSG] != UINT64_MAX)
		return gostr(c, data + o[WRAP_MSG]);
	if (!strcmp(name, "*fmt.wrapErrors") && o[WRAPS_MSG] != UINT64_MAX)
		return gostr(c, data + o[WRAPS_MSG]);
	if (!strcmp(name, "*fs.PathError") && o[PATH_ERR] != UINT64_MAX) {
		if (gostr(c, data + o[PATH_OP]))
			return -EFAULT;
		puts_(c, " ");
		if (gostr(c, data + o[PATH_PATH]))
			return -EFAULT;
		puts_(c, ": ");
		return inner(c, data + o[PATH_ERR], depth);
	}
	if (!strcmp(name, "*strconv.NumError") && o[NUM_ERR] != UINT64_MAX) {
		puts_(c, "strconv.");
		if (gostr(c, data + o[NUM_FUNC]))
			return -EFAULT;
		puts_(c, ": parsing \"");
		if (gostr(c, data + o[NUM_NUM]))
			return -EFAULT;
		puts_(c, "\": ");
		return inner(c, data + o[NUM_ERR], depth);
	}
	if (!strcmp(name, "syscall.Errno")) {
		uint64_t e;
		char m[128];

		if (rd(c, data, &e, 8))
			return -EFAULT;
		snprintf(m, sizeof(m), "%s", e < 4096 ? strerror((int)e) : "errno");
		m[0] = (char)tolower((unsigned char)m[0]); /* Go's spelling */
		puts_(c, m);
		return 0;
	}
	puts_(c, name); /* a type whose message lives elsewhere: its name */
	return 0;
}

/* The module's offsets, looked up once. NULL when its DWARF lacks the runtime's. */
static const struct tgoerr *layout(struct tmod *tm)
{
	struct dwarfinfo *di;
	uint64_t md;
	struct tgoerr g;

	if (tm->goerr_tried)
		return tm->goerr;
	tm->goerr_tried = true;
	if (!(di = module_dwarf(tm->m)) ||
	    elfsym_object_addr(tm->m->syms, "runtime.firstmoduledata", &md))
		return NULL;
	for (int i = 0; i < NOFF; i++)
		if (dwarfinfo_member_offset(di, offs[i].type, offs[i].member, &g.off[i])) {
			if (offs[i].required)
				return NULL;
			g.off[i] = UINT64_MAX;
		}
	g.types = md + tm->m->bias + g.off[MD_TYPES]; /* where the base is stored */
	if (!(tm->goerr = malloc(sizeof(g))))
		return NULL;
	*tm->goerr = g;
	return tm->goerr;
}

bool trace_go_error(struct trace_hitctx *hc, struct tmod *tm, uint64_t tab, uint64_t data,
		    char *out, size_t cap)
{
	const struct tgoerr *g = tm ? layout(tm) : NULL;
	struct tgoerr local;
	struct ctx c = {hc, NULL, out, 0, cap};

	if (!g || !cap || !tab)
		return false;
	local = *g; /* the types base is read from the process (it is set at start-up) */
	c.g = &local;
	if (rd(&c, g->types, &local.types, 8))
		return false;
	out[0] = 0;
	return !message(&c, tab, data, 0) && c.len;
}
