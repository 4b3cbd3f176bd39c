/* tracestub --selftest (stub/cmd/selftest.c). */
#ifndef TRACESTUB_STUB_CMD_SELFTEST_H
#define TRACESTUB_STUB_CMD_SELFTEST_H

/* Run the built-in checks; prints "Ran N unit tests, K failed". Returns the exit status. */
int tracestub_selftest(void);

#endif
