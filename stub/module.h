/* Loaded modules of a process: path, load bias, symbols, lazily opened CFI. Built from
 * /proc/PID/maps text; never touches the process otherwise. */
#ifndef STUB_MODULE_H
#define STUB_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cfi;
struct elfsym;

struct module {
	char *path;
	uint64_t start, end; /* first executable mapping's range */
	uint64_t bias;	     /* runtime address = link-time address + bias */
	struct elfsym *syms; /* never NULL */
	struct cfi *cfi;     /* lazy: use module_cfi() */
	int cfi_err;	     /* 1 = not tried yet */
};

struct module_set {
	struct module *mods;
	size_t n;
};

/* Parse maps text (len bytes, /proc/PID/maps format): one module per file-backed executable
 * mapping; files that are not readable ELF are skipped. 0 or -errno. */
int module_set_from_maps(const char *maps, size_t len, struct module_set **out);
int module_set_from_pid(pid_t pid, struct module_set **out);
void module_set_free(struct module_set *set);
/* Module whose executable mapping holds addr; NULL if none. */
struct module *module_set_find(struct module_set *set, uint64_t addr);
/* The module's CFI, opened on first use; NULL when it has none. */
struct cfi *module_cfi(struct module *m);
/* cfi_module_fn adapter: ctx is a struct module_set *. */
int module_set_cfi_lookup(void *ctx, uint64_t pc, struct cfi **cfi, uint64_t *bias);

#endif
