/* tracestub: the command line. `tracestub [OPTIONS] COMM [PROG ARGS...]` serves the gdb
 * remote protocol like gdbserver; `tracestub trace ...` traces without a debugger. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/serve/serve.h"
#include "stub/os/os.h"
#include "stub/live/live.h"
#include "stub/cmd/selftest.h"
#include "stub/replay/replay.h"
#include "stub/tracepoints/tracepoints.h"
#include "stub/tracer/tracer.h"

#define TRACESTUB_VERSION "0.1"

struct opts {
	bool once, multi, debug, no_vfile, shell;
	int no_aslr; /* 1 (gdbserver's default), 0 with --no-disable-randomization */
	pid_t attach;
	bool attach_pending; /* gdbserver's `--attach COMM PID` form */
	const char *comm, *file_root, *disabled;
	char **wrapper;
	char **prog;
};

static void usage(FILE *f)
{
	fputs("Usage: tracestub [OPTIONS] COMM PROG [ARGS...]\n"
	      "       tracestub [OPTIONS] --attach PID COMM\n"
	      "       tracestub [OPTIONS] --multi COMM\n"
	      "       tracestub trace [OPTIONS] (-p PID | -- PROG ARGS...)   (see trace --help)\n"
	      "       tracestub replay [OPTIONS] FILE COMM   (see replay --help)\n"
	      "\n"
	      "A gdb remote protocol stub for gdb (target remote / extended-remote) and lldb\n"
	      "(gdb-remote), a drop-in for gdbserver.\n"
	      "\n"
	      "COMM:\n"
	      "  HOST:PORT            listen on TCP (any address: the protocol has no\n"
	      "                       authentication, prefer unix: or an SSH tunnel)\n"
	      "  :PORT                listen on 127.0.0.1 only (PORT 0 picks a free port)\n"
	      "  unix:PATH            listen on a unix socket created with mode 0600\n"
	      "  -, stdio             talk on stdin/stdout (target remote | tracestub - PROG);\n"
	      "                       the program's stdout then goes to stderr\n"
	      "\n"
	      "Options (also accepted after COMM):\n"
	      "  --attach PID         debug a running process\n"
	      "  --multi              extended mode: stay up with no process (vRun, vAttach)\n"
	      "  --once               exit after the first connection closes\n"
	      "  --wrapper CMD... --  start PROG (and, with --multi, every program run) through "
	      "CMD\n"
	      "  --[no-]startup-with-shell  run PROG through $SHELL -c (off by default)\n"
	      "  --[no-]disable-randomization  launch PROG with ASLR off (on by default)\n"
	      "  --disable-packet=L   comma-separated packets to refuse (e.g. vCont,Tthread)\n"
	      "  --file-root DIR      confine vFile (remote file access) to DIR\n"
	      "  --no-vfile           refuse vFile packets\n"
	      "  --debug              log packets and events on stderr\n"
	      "  --selftest           check this binary's tables and codecs, then exit\n"
	      "  --help, --version\n",
	      f);
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "tracestub: %s%s%s (see --help)\n", what, arg ? " " : "", arg ? arg : "");
	return 2;
}

static bool parse_pid(const char *s, pid_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 0x3fffffff)
		return false;
	*out = (pid_t)v;
	return true;
}

/* One option at argv[*i]; 0 consumed, 1 help/version printed, 2 error. */
static int option(struct opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (!strcmp(a, "--help")) {
		usage(stdout);
		return 1;
	}
	if (!strcmp(a, "--version")) {
		printf("tracestub %s\n", TRACESTUB_VERSION);
		return 1;
	}
	if (!strcmp(a, "--once"))
		o->once = true;
	else if (!strcmp(a, "--multi"))
		o->multi = true;
	else if (!strcmp(a, "--debug") || !strcmp(a, "--remote-debug"))
		o->debug = true;
	else if (!strcmp(a, "--no-vfile"))
		o->no_vfile = true;
	else if (!strcmp(a, "--startup-with-shell"))
		o->shell = true;
	else if (!strcmp(a, "--no-startup-with-shell"))
		o->shell = false;
	else if (!strcmp(a, "--disable-randomization"))
		o->no_aslr = 1;
	else if (!strcmp(a, "--no-disable-randomization"))
		o->no_aslr = 0;
	else if (!strncmp(a, "--disable-packet=", 17))
		o->disabled = a + 17;
	else if (!strcmp(a, "--file-root") || !strncmp(a, "--file-root=", 12)) {
		if (a[11] == '=')
			o->file_root = a + 12;
		else if (*i + 1 < argc)
			o->file_root = argv[++*i];
		else
			return bad("--file-root needs a directory", NULL);
	} else if (!strcmp(a, "--attach")) {
		if (*i + 1 < argc && parse_pid(argv[*i + 1], &o->attach))
			++*i;
		else
			o->attach_pending = true;
	} else if (!strcmp(a, "--wrapper")) {
		int j = *i + 1;

		while (j < argc && strcmp(argv[j], "--"))
			j++;
		if (j == argc || j == *i + 1)
			return bad("--wrapper needs CMD... --", NULL);
		argv[j] = NULL; /* the wrapper argv ends here */
		o->wrapper = argv + *i + 1;
		*i = j;
	} else
		return bad("unknown option", a);
	return 0;
}

static int parse(struct opts *o, int argc, char **argv)
{
	int i, r;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] == '-' && a[1] == '-' && !o->prog) {
			if (!a[2]) { /* `--` before PROG */
				if (i + 1 < argc)
					o->prog = argv + i + 1;
				break;
			}
			if ((r = option(o, argc, argv, &i)))
				return r;
			continue;
		}
		if (!o->comm) {
			o->comm = a;
			continue;
		}
		if (o->attach_pending && !o->attach) {
			if (!parse_pid(a, &o->attach))
				return bad("--attach needs a process id, not", a);
			continue;
		}
		o->prog = argv + i;
		break;
	}
	if (!o->comm)
		return bad("missing COMM (HOST:PORT, :PORT, unix:PATH or -)", NULL);
	if (!comm_is_spec(o->comm))
		return bad("bad COMM", o->comm);
	if (o->attach_pending && !o->attach)
		return bad("--attach needs a process id", NULL);
	if (o->attach && o->prog)
		return bad("--attach and a program are exclusive:", o->prog[0]);
	if (!o->attach && !o->prog && !o->multi)
		return bad("missing PROG to run (or --attach PID, or --multi)", NULL);
	/* With --multi the wrapper starts every program gdb runs (vRun), as with gdbserver. */
	if (o->wrapper && !o->prog && !o->multi)
		return bad("--wrapper needs a program to run (or --multi)", NULL);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.no_aslr = 1};
	struct live_config lc = {0};
	struct comm comm;
	struct server_config sc;
	struct hostio *hio = NULL;
	struct live *l;
	struct tpoints *tp;
	char abspath[PATH_MAX];
	sigset_t waitmask;
	char err[256];
	int r;

	if (argc == 2 && !strcmp(argv[1], "--selftest"))
		return tracestub_selftest();
	if (argc > 1 && !strcmp(argv[1], "trace"))
		return trace_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "replay"))
		return replay_main(argc - 1, argv + 1);
	r = parse(&o, argc, argv);
	if (r)
		return r == 1 ? 0 : r;
	if (!o.no_vfile && !(hio = hostio_new(o.file_root))) {
		fprintf(stderr, "tracestub: out of memory\n");
		return 1;
	}
	lc.hostio = hio;
	lc.wrapper = o.wrapper;
	lc.startup_with_shell = o.shell;
	lc.debug = o.debug;
	l = live_new(&lc);
	tp = l ? tpoints_new(l) : NULL;
	if (!tp) {
		live_free(l);
		fprintf(stderr, "tracestub: cannot set up the ptrace engine: %s\n",
			strerror(errno));
		return 1;
	}
	/* Open the channel first: in - mode this moves fds 0/1 away before the program starts
	 * and inherits them. */
	r = comm_open(&comm, o.comm, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "tracestub: %s\n", err);
		live_free(l);
		tpoints_free(tp);
		return r == -EINVAL ? 2 : 1;
	}
	if (comm.kind == COMM_STDIO)
		fprintf(stderr, "stdin/stdout redirected\n"); /* as gdbserver says it */
	if (comm.kind == COMM_TCP && !comm.loopback)
		fprintf(stderr, "tracestub: warning: listening on a non-loopback address; the "
				"protocol has no authentication (prefer :PORT, unix:PATH or an SSH "
				"tunnel)\n");
	/* Programs started from here or by vRun, until gdb says otherwise (QDisableRandomization):
	 * randomisation off by default, as gdbserver does. */
	live_target_ops()->set_disable_aslr(l, o.no_aslr == 1);
	if (o.prog) {
		/* gdbserver's lookup: a bare name that is a file here runs from here, by its
		 * absolute path (gdb then finds the same file); else the PATH search. */
		if (!strchr(o.prog[0], '/') && !access(o.prog[0], F_OK) &&
		    realpath(o.prog[0], abspath))
			o.prog[0] = abspath;
		r = live_launch(l, o.prog);
		if (r < 0) {
			/* gdbserver's words (GDB's testsuite waits for them): the shell's, then
			 * the exit code a shell gives a program it cannot run */
			if (r == -ENOENT || r == -EACCES)
				fprintf(stderr,
					"tracestub: exec: %s: %s\nDuring startup program exited "
					"with code %d.\nExiting\n",
					o.prog[0], r == -ENOENT ? "not found" : "Permission denied",
					r == -ENOENT ? 127 : 126);
			else
				fprintf(stderr, "tracestub: cannot run %s: %s\n", o.prog[0],
					strerror(-r));
			comm_close(&comm);
			live_free(l);
			tpoints_free(tp);
			return 1;
		}
	} else if (o.attach) {
		r = live_attach(l, o.attach);
		if (r < 0) {
			fprintf(stderr, "tracestub: cannot attach to process %d: %s\n", o.attach,
				strerror(-r));
			comm_close(&comm);
			live_free(l);
			tpoints_free(tp);
			return 1;
		}
		fprintf(stderr, "Attached; pid = %d\n", o.attach);
	}
	server_setup_signals(comm.kind == COMM_STDIO, &waitmask);
	server_announce(&comm);
	sc = (struct server_config){.comm = &comm,
				    .once = o.once,
				    .multi = o.multi,
				    .debug = o.debug,
				    .disabled = o.disabled};
	server_target_live(&sc.tgt, l, tpoints_target_ops(), tpoints_client_gone, tpoints_tick);
	r = server_run(&sc, &waitmask);
	comm_close(&comm);
	live_free(l);
	tpoints_free(tp);
	hostio_free(hio);
	return r;
}
