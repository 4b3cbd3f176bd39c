/* dwarfstr: could a file's DWARF name a function? A DIE's name is bytes of .debug_str (strp,
 * strx) or of .debug_info itself (an inline string), so a name none of them holds names no
 * DIE: the file's DWARF need not be read at all to look for inlined instances of it. Read with
 * libelf only (compressed sections inflated by it); never libdwarf. Where names may live
 * elsewhere (a dwz supplementary file, old .zdebug sections) the answer is always "maybe".
 * Answers are kept in $XDG_CACHE_HOME/tracestub per file identity and name: reading a big
 * compressed debug file's strings costs more than the rest of a warm start. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stub/debuginfo/debuginfo.h"
#include "stub/debuginfo/dwarfinfo_internal.h"

struct dwarfstr {
	char *bytes; /* .debug_str, then .debug_info */
	size_t len;
	bool always; /* names may be outside these bytes */
};

static int append(struct dwarfstr *ds, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d;
	char *n;

	if ((sh->sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0)
		return -EINVAL;
	if (!(d = elf_getdata(scn, NULL)) || !d->d_buf)
		return d ? 0 : -EINVAL;
	if (!(n = realloc(ds->bytes, ds->len + d->d_size + 1)))
		return -ENOMEM;
	ds->bytes = n;
	memcpy(n + ds->len, d->d_buf, d->d_size);
	ds->len += d->d_size;
	n[ds->len++] = 0;
	return 0;
}

int dwarfstr_open(const char *path, struct dwarfstr **out)
{
	struct dwarfstr *ds = calloc(1, sizeof(*ds));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e = NULL;
	size_t shstr;
	int err = 0;

	*out = NULL;
	if (!ds || fd < 0) {
		err = !ds ? -ENOMEM : -errno;
		goto out;
	}
	elf_version(EV_CURRENT);
	if (!(e = elf_begin(fd, ELF_C_READ, NULL)) || elf_getshdrstrndx(e, &shstr)) {
		err = -EINVAL;
		goto out;
	}
	for (Elf_Scn *scn = elf_nextscn(e, NULL); scn && !err; scn = elf_nextscn(e, scn)) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstr, sh.sh_name)))
			continue;
		if (!strcmp(name, ".debug_str") || !strcmp(name, ".debug_info"))
			err = sh.sh_type == SHT_NOBITS ? 0 : append(ds, scn, &sh);
		else if (!strcmp(name, ".gnu_debugaltlink") || !strcmp(name, ".debug_sup") ||
			 !strncmp(name, ".zdebug", 7))
			ds->always = true;
	}
out:
	if (err == -EINVAL)
		ds->always = true, err = 0; /* what cannot be read is a "maybe" */
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	if (err) {
		dwarfstr_free(ds);
		return err;
	}
	*out = ds;
	return 0;
}

void dwarfstr_free(struct dwarfstr *ds)
{
	if (ds)
		free(ds->bytes);
	free(ds);
}

/* The last identifier a DIE of the name would carry: after the last "::", up to a parameter
 * list or template arguments ("shop::Cart::add(int)" -> "add", "twice<int>" -> "twice"); *whole
 * when nothing was cut (then the DIE's name ends there). */
static size_t ident(const char *name, const char **start, bool *whole)
{
	const char *s = name, *p;

	for (p = name; *p && *p != '(' && *p != '<'; p++)
		if (p[0] == ':' && p[1] == ':')
			s = p + 2;
	*start = s;
	*whole = !*p;
	return (size_t)(p - s);
}

bool dwarfstr_may_name(const struct dwarfstr *ds, const char *name)
{
	const char *id, *at, *end;
	bool whole;
	size_t n = ident(name, &id, &whole);

	if (!ds || ds->always || n < 2)
		return true;
	/* A whole name is a string's end (strings are NUL-terminated; the linker may have
	 * merged it into the tail of a longer one, so what precedes it is anything). */
	end = ds->bytes + ds->len;
	for (at = ds->bytes; (at = memmem(at, (size_t)(end - at), id, n)); at++)
		if (!whole || (at + n < end && !at[n]))
			return true;
	return false;
}

/* ---- answers on disk: "dev ino size mtime.sec mtime.nsec answer name" per line ---- */

#define NAMES_FILE "dwarfnames-1"

int dwarfstr_known(const char *path, const char *name)
{
	char file[4096], k[128], line[512];
	struct stat st;
	int n, r = -ENOENT;
	FILE *f;

	if (stat(path, &st) || (n = di_file_key(k, sizeof(k), &st)) < 0 ||
	    di_cache_named(file, sizeof(file), NAMES_FILE, false) || !(f = fopen(file, "re")))
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');

		if (!nl || strncmp(line, k, (size_t)n) || (line[n] != '0' && line[n] != '1') ||
		    line[n + 1] != ' ')
			continue;
		*nl = 0;
		if (!strcmp(line + n + 2, name))
			r = line[n] == '1';
	}
	fclose(f);
	return r;
}

void dwarfstr_remember(const char *path, const char *name, bool may)
{
	char line[512];
	struct stat st;
	int n;

	if (stat(path, &st) || (n = di_file_key(line, sizeof(line), &st)) < 0 || strchr(name, '\n'))
		return;
	n += snprintf(line + n, sizeof(line) - (size_t)n, "%d %s\n", may, name);
	if ((size_t)n < sizeof(line))
		di_cache_append(NAMES_FILE, line, (size_t)n);
}
