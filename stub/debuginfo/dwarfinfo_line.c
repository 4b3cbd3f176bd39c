/* dwarfinfo line tables: FILE:LINE -> the addresses where that line begins, and struct member
 * offsets by type name (runtime.g's goid for Go). One walk over the compilation units per
 * question; callers ask once per probe spec, never on the hit path. */
#include <errno.h>
#include <string.h>

#include "stub/debuginfo/dwarfinfo_internal.h"

static bool path_matches(const char *full, const char *file)
{
	size_t fl = strlen(full), n = strlen(file);

	if (!n || fl < n || strcmp(full + fl - n, file))
		return false;
	return fl == n || full[fl - n - 1] == '/' || file[0] == '/';
}

struct line_query {
	const char *file;
	unsigned line;
	bool file_seen;
	unsigned next_line; /* smallest line > line with code, 0 if none */
	uint64_t *addrs;
	size_t cap, n;
};

static void add_addr(struct line_query *q, uint64_t a)
{
	size_t i, k = q->n < q->cap ? q->n : q->cap;

	for (i = 0; i < k; i++)
		if (q->addrs[i] == a)
			return;
	if (q->n < q->cap)
		q->addrs[q->n] = a;
	q->n++;
}

static void scan_lines(struct dwarfinfo *di, Dwarf_Line *lines, Dwarf_Signed count,
		       struct line_query *q)
{
	bool prev_match = false;

	for (Dwarf_Signed i = 0; i < count; i++) {
		Dwarf_Unsigned ln = 0;
		Dwarf_Addr addr = 0;
		Dwarf_Bool stmt = 0, end = 0;
		char *src = NULL;
		Dwarf_Error e = NULL;
		bool match;

		if (dwarf_lineno(lines[i], &ln, &e) != DW_DLV_OK ||
		    dwarf_lineaddr(lines[i], &addr, &e) != DW_DLV_OK ||
		    dwarf_linesrc(lines[i], &src, &e) != DW_DLV_OK) {
			di_err(di, e);
			prev_match = false;
			continue;
		}
		dwarf_linebeginstatement(lines[i], &stmt, &e);
		dwarf_lineendsequence(lines[i], &end, &e);
		match = path_matches(src, q->file);
		dwarf_dealloc(di->dbg, src, DW_DLA_STRING);
		if (end) {
			prev_match = false;
			continue;
		}
		if (match) {
			q->file_seen = true;
			if (ln > q->line && (!q->next_line || ln < q->next_line))
				q->next_line = (unsigned)ln;
		}
		match = match && ln == q->line;
		if (match && stmt && !prev_match)
			add_addr(q, addr);
		prev_match = match;
	}
}

static int lines_cu(struct dwarfinfo *di, Dwarf_Die cu, enum dwlang lang, void *ctx)
{
	struct line_query *q = ctx;
	Dwarf_Unsigned ver;
	Dwarf_Small tcount;
	Dwarf_Line_Context lc = NULL;
	Dwarf_Line *lines;
	Dwarf_Signed count;
	Dwarf_Error e = NULL;

	if (dwarf_srclines_b(cu, &ver, &tcount, &lc, &e) != DW_DLV_OK) {
		di_err(di, e);
		return 0;
	}
	if (dwarf_srclines_from_linecontext(lc, &lines, &count, &e) == DW_DLV_OK)
		scan_lines(di, lines, count, q);
	else
		di_err(di, e);
	dwarf_srclines_dealloc_b(lc);
	return 0;
}

int dwarfinfo_line_addrs(struct dwarfinfo *di, const char *file, unsigned line, uint64_t *addrs,
			 size_t cap, size_t *n, unsigned *got_line)
{
	struct line_query q = {.file = file, .line = line, .addrs = addrs, .cap = cap};

	*n = 0;
	di_for_each_cu(di, lines_cu, &q);
	if (!q.n && q.next_line) {
		q.line = q.next_line;
		q.next_line = 0;
		di_for_each_cu(di, lines_cu, &q);
	}
	if (!q.n)
		return -ENOENT;
	*n = q.n;
	*got_line = q.line;
	return 0;
}

struct member_query {
	const char *type, *member;
	bool found;
	uint64_t off;
};

static bool member_in(struct dwarfinfo *di, Dwarf_Die st, struct member_query *q)
{
	for (Dwarf_Die c = di_first_child(di, st); c; c = di_next_sibling(di, c)) {
		const char *nm;
		if (di_tag(c) != DW_TAG_member || !(nm = di_name(di, c)) || strcmp(nm, q->member))
			continue;
		q->found = !di_attr_udata(di, c, DW_AT_data_member_location, &q->off);
		dwarf_dealloc_die(c);
		return q->found;
	}
	return false;
}

static int member_cu(struct dwarfinfo *di, Dwarf_Die cu, enum dwlang lang, void *ctx)
{
	struct member_query *q = ctx;

	if (q->found)
		return 0;
	for (Dwarf_Die c = di_first_child(di, cu); c; c = di_next_sibling(di, c)) {
		const char *nm;
		Dwarf_Half tag = di_tag(c);
		if ((tag != DW_TAG_structure_type && tag != DW_TAG_class_type) ||
		    !(nm = di_name(di, c)) || strcmp(nm, q->type))
			continue;
		if (member_in(di, c, q)) {
			dwarf_dealloc_die(c);
			break;
		}
	}
	return 0;
}

int dwarfinfo_member_offset(struct dwarfinfo *di, const char *type_name, const char *member,
			    uint64_t *off)
{
	struct member_query q = {type_name, member, false, 0};

	di_for_each_cu(di, member_cu, &q);
	if (!q.found)
		return -ENOENT;
	*off = q.off;
	return 0;
}
