/* stub/replay/: `tracestub replay`: a recorded trace served as a target that runs forward and
 * backward over its frames, with the files' read-only segments for code and constants. */
#ifndef TRACESTUB_STUB_REPLAY_REPLAY_H
#define TRACESTUB_STUB_REPLAY_REPLAY_H

#include <stddef.h>

#include "protocol/target.h"

/* Post-mortem replay (issue 6): `tracestub replay FILE COMM` serves a trace file written by
 * tracestub (the headless tracer's -o, or a tsave of a tracestub session) to gdb and lldb as
 * a stopped program whose execution history is the file's frames. Registers come from the
 * frame (what was not collected is unavailable), memory from its collected blocks and from
 * the read-only segments of the executable and libraries on disk, and nothing else.
 * continue/step move forward through the frames, reverse-continue/reverse-step (bc/bs)
 * back; the ends are reported the way rr does (replaylog:begin/end). gdb's tfind family
 * works too. */
struct replay;

/* `tracestub replay [OPTIONS] FILE COMM` (argv[0] is "replay"). Returns the exit status. */
int replay_main(int argc, char **argv);

/* Load the trace file at path. exe (may be NULL) overrides the executable the file names.
 * Warnings (a library that cannot be opened) go to warn (may be NULL). NULL on failure, with
 * a one-line reason in err. */
struct replay *replay_open(const char *path, const char *exe, void (*warn)(const char *msg),
			   char *err, size_t errlen);
void replay_free(struct replay *r);

/* The target ops; their context is the struct replay. */
const struct rsp_target_ops *replay_target_ops(void);
/* The stop a resume produced: 1 and *stop once, then 0. */
int replay_next_stop(void *r, struct rsp_stop *stop);
/* Console text for the stop just handed out (gdb clients), or NULL. */
const char *replay_stop_note(void *r);

#endif
