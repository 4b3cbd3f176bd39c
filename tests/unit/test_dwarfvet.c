/* dwarfvet: the throwaway child's verdict on good files, on a file that crashes libdwarf
 * 20210528 (the fuzz_dwarf finding, checked in as a seed), on one whose read hangs, and the
 * cache keyed by the file's identity; the narrower parts (CFI, the index walks, one unit) and
 * dwarfinfo reading a unit only after its vet; dwarfstr's "could this file name f". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/debuginfo/dwarfinfo_internal.h"

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

/* A unit's verdict forged on disk, as a crash of its vet would leave it. */
static void forge_unit(const char *cache, const char *path, uint64_t off, int result)
{
	struct stat st;
	FILE *f;

	if (stat(path, &st) || !(f = fopen(cache, "a")))
		return;
	fprintf(f, "%llu %llu %lld %llu %llu u%llx %d\n", (unsigned long long)st.st_dev,
		(unsigned long long)st.st_ino, (long long)st.st_size,
		(unsigned long long)st.st_mtim.tv_sec, (unsigned long long)st.st_mtim.tv_nsec,
		(unsigned long long)off, result);
	fclose(f);
}

static void test_parts(const char *dir)
{
	const char *args = "build/fixtures/dw_args";
	char file[64], cache[96], text[8192] = "";
	const struct elfsym_func *sym = NULL;
	const struct dwfunc *f = NULL;
	struct dwarfinfo *di = NULL;
	struct elfsym *es = NULL;
	struct dwarfstr *ds = NULL;
	size_t len = 0;
	FILE *in;

	snprintf(cache, sizeof(cache), "%s/tracestub/dwarfvet-2", dir);
	snprintf(file, sizeof(file), "%s/a", dir);
	ok(dwarfvet_cfi(CRASHER, 10) == 0 && dwarfvet_index(CRASHER, 10) == -EILSEQ,
	   "the crasher: its CFI is safe, the walk of its units' DIEs is not");
	if (access(args, R_OK) || copy(args, file) || elfsym_open(file, &es)) {
		for (int i = 0; i < 9; i++)
			ok(1, "# SKIP dw_args absent (make fixtures)");
		return;
	}
	sym = elfsym_find(es, "f_int");
	ok(sym && !dwarfinfo_cached(file) && dwarfvet_index_at(file, &sym->addr, 1, 10) == 0 &&
		   dwarfinfo_cached(file),
	   "the index vet's child leaves the indexes in the cache");
	if ((in = fopen(cache, "r"))) {
		len = fread(text, 1, sizeof(text) - 1, in);
		fclose(in);
	}
	text[len] = 0;
	ok(strstr(text, " u0 0\n") && strstr(text, " index 0\n"),
	   "the same child walked the unit of f_int (the pc it was given): a u0 verdict");
	ok(!dwarfinfo_open(file, &di) && di->from_cache && di->nunits >= 1 && di->units[0].off == 0,
	   "dwarfinfo_open takes the indexes from the cache, with the units' offsets");
	dwarfinfo_vet_units(di);
	f = sym ? dwarfinfo_func_at(di, sym->addr) : NULL;
	ok(f && f->nparams == 1 && di->units[0].state == 1,
	   "f_int read after its unit's verdict was found on disk");
	dwarfinfo_free(di);
	di = NULL;
	/* A unit whose vet crashed: nothing in it is read, the rest goes on. */
	forge_unit(cache, file, 0, -EILSEQ);
	ok(!dwarfinfo_open(file, &di) && (dwarfinfo_vet_units(di), 1) && sym &&
		   !dwarfinfo_func_at(di, sym->addr) && di->units[0].state == -1,
	   "a unit with a crash verdict: its functions have no DWARF");
	ok(dwarfinfo_inlined(di, "f_inl", false, NULL, 0) == 0,
	   "nor its inlined instances (the index knows them; they are not parsed)");
	dwarfinfo_free(di);
	ok(!dwarfstr_open(file, &ds) && dwarfstr_may_name(ds, "f_inl") &&
		   dwarfstr_may_name(ds, "ns::f_int(int)") && dwarfstr_may_name(ds, "f_int<int>"),
	   "dwarfstr: names the file's DWARF holds (last identifier of C++ and template specs)");
	ok(ds && !dwarfstr_may_name(ds, "no_such_function_here"),
	   "dwarfstr: a name it does not hold is surely absent");
	dwarfstr_free(ds);
	dwarfstr_remember(file, "gone", false);
	dwarfstr_remember(file, "here", true);
	ok(dwarfstr_known(file, "gone") == 0 && dwarfstr_known(file, "here") == 1 &&
		   dwarfstr_known(file, "other") == -ENOENT,
	   "dwarfstr answers kept on disk per file and name");
	elfsym_free(es);
	unlink(file);
}

int main(void)
{
	char dir[] = "/tmp/dwarfvet-XXXXXX", file[64], fifo[64], cache[96], forged[64], line[160];
	struct stat st;
	FILE *f;
	pid_t pid;
	int status = -1;

	printf("1..21\n");
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
	snprintf(cache, sizeof(cache), "%s/tracestub/dwarfvet-2", dir);
	ok(stat(cache, &st) == 0 && st.st_size > 0,
	   "verdicts written to $XDG_CACHE_HOME/tracestub");
	/* A verdict on disk is what a new process goes by: forge one for a good file. */
	snprintf(forged, sizeof(forged), "%s/g", dir);
	if (copy(GOOD, forged) == 0 && stat(forged, &st) == 0 && (f = fopen(cache, "a"))) {
		snprintf(line, sizeof(line), "%llu %llu %lld %llu %llu all %d\n",
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
	test_parts(dir);
	unlink(cache);
	snprintf(cache, sizeof(cache), "%s/tracestub", dir);
	rmdir(cache);
	unlink(file);
	unlink(fifo);
	rmdir(dir);
	return 0;
}
