/* Replay: loading a trace file into a struct replay (frames in the link-address view, the
 * executable and libraries it names, the history index, the definitions) and the
 * `tracestub replay` command line around the server loop. */
#include "stub/replay/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/serve/serve.h"
#include "stub/replay/view.h"
#include "stub/tracefile/tracefile.h"

struct replay *replay_of(void *t)
{
	return t;
}

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void warnf(void (*warn)(const char *), const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(msg);
}

/* The g block layout, from the one register table. */
static void build_layout(struct replay *r)
{
	const struct x86_64_reg *x = x86_64_regs();

	for (unsigned i = 0; i < X86_64_NREGS; i++)
		r->reginfo[i] = (struct rsp_reg_info){
			.name = x[i].name,
			.bitsize = x[i].bitsize,
			.offset = x[i].offset,
			.dwarf_regno = x[i].dwarf,
			.ehframe_regno = x[i].dwarf,
			.generic = x[i].generic,
			.encoding = x[i].encoding,
			.format = x[i].format,
			.set = x[i].set,
			.expedite = x[i].expedite,
		};
	r->layout = (struct rsp_reg_layout){r->reginfo, X86_64_NREGS, x86_64_g_size()};
}

static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	const char *ba = strrchr(a, '/'), *bb = strrchr(b, '/');

	if (realpath(a, ra) && realpath(b, rb))
		return !strcmp(ra, rb);
	return !strcmp(ba ? ba + 1 : a, bb ? bb + 1 : b);
}

/* The executable (at its link addresses, as the frames hold it) and the libraries. */
static void open_modules(struct replay *r, const char *exe, void (*warn)(const char *))
{
	int rc;

	if (!exe)
		warnf(warn,
		      "the trace file does not name its executable (use --exe PROG): code and "
		      "constants will be unavailable");
	else if ((rc = replay_mod_open(&r->mods[0], exe, 0)))
		warnf(warn, "cannot open the executable %s: %s", exe, strerror(-rc));
	else
		r->have_exe = true;
	r->nmods = 1;
	for (size_t i = 0; i < r->meta.nlibs; i++) {
		struct replay_mod *m = &r->mods[r->nmods];

		if ((rc = replay_mod_open(m, r->meta.lib_path[i], r->meta.lib_bias[i]))) {
			warnf(warn, "cannot open the library %s: %s", r->meta.lib_path[i],
			      strerror(-rc));
			continue;
		}
		if (r->have_exe && r->mods[0].interp[0] && !r->interp &&
		    same_file(r->mods[0].interp, m->path))
			r->interp = r->nmods;
		r->nmods++;
	}
}

static taddr_t tp_addr(void *ctx, uint16_t num)
{
	struct replay_tp *tp = replay_tp_find(ctx, num);

	return tp ? tp->def.addr : 0;
}

static int load_frames(struct replay *r, char *err, size_t errlen)
{
	size_t rip_off = r->layout.regs[X86_64_RIP].offset;
	const struct replay_mod *e = &r->mods[0];
	uint64_t bias = r->have_exe && r->meta.has_bias ? r->meta.bias : 0;
	int rc;

	r->tb = replay_view_link(r->tf->tb, rip_off, bias, e->lo, e->hi);
	if (!r->tb) {
		fail(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = replay_hist_build(&r->h, r->tb, rip_off, r->meta.pid, tp_addr, r);
	if (rc) {
		fail(err, errlen, rc == -ENOMEM ? "out of memory" : "malformed frames");
		return rc;
	}
	if (!r->h.n) {
		fail(err, errlen, "no trace frames to replay");
		return -ENOENT;
	}
	r->emu = calloc(r->h.nth, sizeof(*r->emu));
	if (!r->emu) {
		fail(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->h.nth; i++)
		r->emu[i].base = -1;
	return 0;
}

static void set_name(struct replay *r)
{
	const char *p = r->have_exe ? r->mods[0].path : "replay", *b = strrchr(p, '/');

	snprintf(r->name, sizeof(r->name), "%s", b ? b + 1 : p);
}

struct replay *replay_open(const char *path, const char *exe, void (*warn)(const char *msg),
			   char *err, size_t errlen)
{
	struct replay *r = calloc(1, sizeof(*r));
	char why[200] = "";
	int rc;

	if (!r) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	build_layout(r);
	r->tsel = r->goto_idx = -1;
	rc = tfile_read(path, &r->tf, why, sizeof(why));
	if (rc) {
		/* tfile_read names the path in open/read errors itself */
		if (!strncmp(why, path, strlen(path)) && why[strlen(path)] == ':')
			fail(err, errlen, "cannot read %s", why);
		else
			fail(err, errlen, "cannot read %s: %s", path, why[0] ? why : strerror(-rc));
		goto bad;
	}
	if (r->tf->regs_size != r->layout.g_size) {
		fail(err, errlen, "%s: register blocks of %zu bytes, not tracestub's %zu", path,
		     r->tf->regs_size, r->layout.g_size);
		goto bad;
	}
	tfile_meta_parse(r->tf->status, &r->meta);
	if (replay_defs_load(r, why, sizeof(why))) {
		fail(err, errlen, "%s: %s", path, why);
		goto bad;
	}
	open_modules(r, exe ? exe : r->meta.exe, warn);
	if (load_frames(r, why, sizeof(why))) {
		fail(err, errlen, "%s: %s", path, why);
		goto bad;
	}
	if (r->have_exe && r->mods[0].lo == 0 && !r->meta.has_bias)
		warnf(warn,
		      "no load bias recorded (gdb's own tsave?): values that pointed into the "
		      "executable (return addresses) stay at run-time addresses; tsave -r or "
		      "tracestub trace -o record it");
	if (r->h.skipped)
		warnf(warn, "%llu frames of other processes left out",
		      (unsigned long long)r->h.skipped);
	replay_build_auxv(r);
	set_name(r);
	replay_reset(r);
	return r;
bad:
	replay_free(r);
	return NULL;
}

void replay_free(struct replay *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmods; i++)
		if (i || r->have_exe)
			replay_mod_close(&r->mods[i]);
	for (size_t i = 0; r->emu && i < r->h.nth; i++)
		replay_emu_free(&r->emu[i]);
	free(r->emu);
	replay_hist_fini(&r->h);
	tracebuf_free(r->tb);
	replay_defs_free(r);
	tfile_meta_fini(&r->meta);
	tfile_free(r->tf);
	free(r);
}

const struct rsp_target_ops *replay_target_ops(void)
{
	return &replay_ops;
}

int replay_next_stop(void *t, struct rsp_stop *stop)
{
	struct replay *r = t;

	if (!r->pending)
		return 0;
	r->pending = false;
	*stop = r->stop;
	return 1;
}

const char *replay_stop_note(void *t)
{
	struct replay *r = t;

	if (!r->note_due || r->lldb)
		return NULL;
	r->note_due = false;
	return r->note;
}

/* ---- the command line ---- */

static void usage(FILE *f)
{
	fputs("Usage: tracestub replay [OPTIONS] FILE COMM\n"
	      "\n"
	      "Serve a trace file (tracestub trace -o FILE, or a tsave of a tracestub session) to\n"
	      "gdb (target remote) or lldb (gdb-remote) as a stopped program: continue and step\n"
	      "move to the next trace frame, reverse-continue and reverse-step to the previous.\n"
	      "\n"
	      "COMM: HOST:PORT, :PORT (loopback; 0 picks a free port), unix:PATH, or -\n"
	      "\n"
	      "Options:\n"
	      "  --exe PROG   the traced executable, when the file does not name it\n"
	      "  --once       exit after the first connection closes\n"
	      "  --debug      log packets on stderr\n"
	      "  --help\n"
	      "\n"
	      "Monitor commands (gdb: monitor CMD; lldb: process plugin packet monitor CMD):\n"
	      "  info, frames [FROM [COUNT]], frame N (the next continue goes there),\n"
	      "  tp N|all, thread TID|all (what continue stops at)\n",
	      f);
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "tracestub replay: %s%s%s (see --help)\n", what, arg ? " " : "",
		arg ? arg : "");
	return 2;
}

struct ropts {
	const char *file, *comm, *exe;
	bool once, debug;
};

static int parse(struct ropts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(a, "--once"))
			o->once = true;
		else if (!strcmp(a, "--debug"))
			o->debug = true;
		else if (!strcmp(a, "--exe") || !strncmp(a, "--exe=", 6)) {
			if (a[5] == '=')
				o->exe = a + 6;
			else if (i + 1 < argc)
				o->exe = argv[++i];
			else
				return bad("--exe needs a program", NULL);
		} else if (a[0] == '-' && a[1] == '-')
			return bad("unknown option", a);
		else if (!o->file)
			o->file = a;
		else if (!o->comm)
			o->comm = a;
		else
			return bad("unexpected argument", a);
	}
	if (!o->file)
		return bad("missing FILE (a trace file)", NULL);
	if (!o->comm)
		return bad("missing COMM (HOST:PORT, :PORT, unix:PATH or -)", NULL);
	if (!comm_is_spec(o->comm))
		return bad("bad COMM", o->comm);
	return 0;
}

static void warn_stderr(const char *msg)
{
	fprintf(stderr, "tracestub replay: warning: %s\n", msg);
}

static void client_gone(void *t)
{
	replay_reset(t); /* the next client starts at the first frame */
}

static bool has_file(void *t)
{
	return true; /* the trace stays: serve the next client */
}

int replay_main(int argc, char **argv)
{
	struct ropts o = {0};
	struct server_config sc;
	struct comm comm;
	struct replay *r;
	sigset_t waitmask;
	char err[512];
	int rc = parse(&o, argc, argv);

	if (rc)
		return rc == 1 ? 0 : rc;
	r = replay_open(o.file, o.exe, warn_stderr, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "tracestub replay: %s\n", err);
		return 2;
	}
	rc = comm_open(&comm, o.comm, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tracestub replay: %s\n", err);
		replay_free(r);
		return rc == -EINVAL ? 2 : 1;
	}
	fprintf(stderr, "Replaying %zu frames of process %lld (%zu threads) from %s\n", r->h.n,
		(long long)r->h.pid, r->h.nth, o.file);
	server_setup_signals(comm.kind == COMM_STDIO, &waitmask);
	server_announce(&comm);
	sc = (struct server_config){
		.comm = &comm,
		.once = o.once,
		.debug = o.debug,
		.tgt = {.ops = &replay_ops,
			.target = r,
			.event_fd = -1,
			.next_stop = replay_next_stop,
			.stop_note = replay_stop_note,
			.client_gone = client_gone,
			.has_process = has_file},
	};
	rc = server_run(&sc, &waitmask);
	comm_close(&comm);
	replay_free(r);
	return rc;
}
