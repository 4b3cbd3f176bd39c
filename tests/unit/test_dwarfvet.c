/* dwarfvet: the throwaway child's verdict on good files, on a file that crashes libdwarf
 * 20210528 (the fuzz_dwarf finding, checked in as a seed), on one whose read hangs, and the
 * cache keyed by the file's identity. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"

#define CRASHER "tests/fuzz/corpus/dwarf/crash-rnglists-doublefree"
#define GOOD	"tests/fuzz/corpus/dwarf/dwarf5-eh_frame"

static int n_test;
static void ok(int cond, const char *name)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n_test, name);
}

static int copy(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;
	int err = in < 0 || out < 0 ? -1 : 0;

	while (!err && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			err = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return err;
}

int main(void)
{
	char dir[] = "/tmp/dwarfvet-XXXXXX", file[64], fifo[64], cache[96], forged[64], line[160];
	struct stat st;
	FILE *f;
	pid_t pid;
	int status = -1;

	printf("1..11\n");
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return 1;
	}
	setenv("XDG_CACHE_HOME", dir, 1); /* verdicts kept on disk here, not in ~/.cache */
	ok(dwarfvet_check(GOOD, 10) == 0, "a gcc DWARF 5 executable: safe");
	ok(dwarfvet_check("tests/fuzz/corpus/dwarf/rel-debug_frame", 10) == 0,
	   "a relocatable object with .debug_frame: safe");
	ok(dwarfvet_check("/bin/true", 10) == 0, "a stripped system binary (no DWARF): safe");
	ok(dwarfvet_check(CRASHER, 10) == -EILSEQ,
	   "zero-length .debug_rnglists unit (libdwarf double free): -EILSEQ, this process alive");
	ok(dwarfvet_check("/nonexistent/x", 10) == -ENOENT, "no such file: -ENOENT");
	snprintf(file, sizeof(file), "%s/f", dir);
	ok(copy(CRASHER, file) == 0 && dwarfvet_check(file, 10) == -EILSEQ,
	   "a copy of the crasher: -EILSEQ");
	/* Same inode, new size and mtime: the verdict is not reused. */
	ok(copy(GOOD, file) == 0 && dwarfvet_check(file, 10) == 0,
	   "the same file rewritten good: checked again, safe");
	/* A FIFO nobody writes: the child blocks in open until its alarm. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ok(mkfifo(fifo, 0600) == 0 && dwarfvet_check(fifo, 1) == -ETIMEDOUT,
	   "a read that never ends: -ETIMEDOUT after the timeout");
	ok(dwarfvet_check(CRASHER, 10) == -EILSEQ, "cached verdict is the same");
	snprintf(cache, sizeof(cache), "%s/tracestub/dwarfvet-1", dir);
	ok(stat(cache, &st) == 0 && st.st_size > 0,
	   "verdicts written to $XDG_CACHE_HOME/tracestub");
	/* A verdict on disk is what a new process goes by: forge one for a good file. */
	snprintf(forged, sizeof(forged), "%s/g", dir);
	if (copy(GOOD, forged) == 0 && stat(forged, &st) == 0 && (f = fopen(cache, "a"))) {
		snprintf(line, sizeof(line), "%llu %llu %lld %llu %llu %d\n",
			 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			 (long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec,
			 (unsigned long long)st.st_mtim.tv_nsec, -EILSEQ);
		fputs(line, f);
		fclose(f);
		if ((pid = fork()) == 0)
			_exit(dwarfvet_check(forged, 10) == -EILSEQ ? 0 : 1);
		waitpid(pid, &status, 0);
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a new process takes the verdict from disk (no second vet)");
	unlink(forged);
	unlink(cache);
	snprintf(cache, sizeof(cache), "%s/tracestub", dir);
	rmdir(cache);
	unlink(file);
	unlink(fifo);
	rmdir(dir);
	return 0;
}
