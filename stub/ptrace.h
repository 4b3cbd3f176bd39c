/* Thin wrappers over ptrace(2): the only file in the tree that calls it. Each
 * returns 0 or -errno; results come back through out-parameters. No policy
 * lives here. */
#ifndef TRACESTUB_STUB_PTRACE_H
#define TRACESTUB_STUB_PTRACE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct user_regs_struct;
struct user_fpregs_struct;

/* PTRACE_SEIZE tid with PTRACE_O_* options. */
int ptr_seize(pid_t tid, unsigned long options);
int ptr_setoptions(pid_t tid, unsigned long options);
/* PTRACE_INTERRUPT: a seized running thread enters PTRACE_EVENT_STOP. */
int ptr_interrupt(pid_t tid);
/* Resume (continue / single-step) delivering signal sig (0 = none). */
int ptr_cont(pid_t tid, int sig);
int ptr_step(pid_t tid, int sig);
int ptr_detach(pid_t tid, int sig);

int ptr_getregs(pid_t tid, struct user_regs_struct *regs);
int ptr_setregs(pid_t tid, const struct user_regs_struct *regs);
int ptr_getfpregs(pid_t tid, struct user_fpregs_struct *fp);
int ptr_setfpregs(pid_t tid, const struct user_fpregs_struct *fp);
/* NT_X86_XSTATE through PTRACE_GETREGSET; *len = bytes the kernel filled. */
int ptr_getxstate(pid_t tid, uint8_t *buf, size_t cap, size_t *len);
int ptr_setxstate(pid_t tid, const uint8_t *buf, size_t len);

/* PEEKUSER / POKEUSER at a byte offset into struct user (debug registers). */
int ptr_peekuser(pid_t tid, size_t off, uint64_t *val);
int ptr_pokeuser(pid_t tid, size_t off, uint64_t val);

int ptr_getsiginfo(pid_t tid, siginfo_t *si);
int ptr_setsiginfo(pid_t tid, const siginfo_t *si);
/* PTRACE_GETEVENTMSG: new tid/pid after clone/fork, exit status... */
int ptr_geteventmsg(pid_t tid, unsigned long *msg);

#endif
