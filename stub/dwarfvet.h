/* dwarfvet: is an ELF file's DWARF safe to hand to libdwarf in this process?
 * libdwarf 20210528 (the Debian 12 library) crashes on some malformed sections (found by
 * tests/fuzz/fuzz_dwarf.c: a double free on a zero-length .debug_rnglists unit). A traced
 * program's files are not trusted, and a crash of the tracer would leave int3s in a running
 * program, so before the first dwarfinfo_open/cfi_open of a file, a throwaway child process
 * walks everything libdwarf would read there (every DIE and attribute, location and range
 * lists, line tables, every FDE's rules). A file on which that child dies or hangs is used
 * without DWARF (symbols and the ABI only), with one warning. */
#ifndef TRACESTUB_STUB_DWARFVET_H
#define TRACESTUB_STUB_DWARFVET_H

/* 0 when libdwarf survives the whole file (or the file has no DWARF at all), -EILSEQ when the
 * walk crashed, -ETIMEDOUT when it took longer than timeout_s seconds, or -errno (no such
 * file, fork failed). Verdicts are remembered per (device, inode, size, mtime). */
#define DWARFVET_TIMEOUT_S 60
int dwarfvet_check(const char *path, unsigned timeout_s);

/* What a child's full walk of path did, without forking: for tests. */
void dwarfvet_walk(const char *path);

#endif
