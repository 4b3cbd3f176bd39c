/* Do the x86 debug registers trigger on this machine? Some hypervisors accept DR0-7 writes
 * through ptrace but never raise the trap; gdbserver then accepts Z1/Z2 and silently never
 * stops. tracestub checks once, on a forked copy of itself, and refuses instead. */
#ifndef TRACESTUB_STUB_HWPROBE_H
#define TRACESTUB_STUB_HWPROBE_H

#include <stdbool.h>

/* true when an execution breakpoint in DR0 stopped a traced child. Cached after the first
 * call (about one fork + exit). */
bool hwprobe_debugregs_work(void);

#endif
