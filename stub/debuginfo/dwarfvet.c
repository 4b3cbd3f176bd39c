/* dwarfvet: what a throwaway child reads with libdwarf before this process does (every
 * reader dwarfinfo*.c and cfi.c use): every FDE's rules, or every DIE, attribute, location and
 * range list and line table of chosen compilation units. dwarfvet_run.c runs the child and
 * keeps the verdicts. Never touches a traced process. */
#include "stub/debuginfo/debuginfo.h"
#include "stub/debuginfo/dwarfinfo_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>

#define VET_MAX_DEPTH 512 /* deeper DIE trees are not walked further (nor used by dwarfinfo) */

static void drop(Dwarf_Debug dbg, Dwarf_Error *e)
{
	if (*e)
		dwarf_dealloc_error(dbg, *e);
	*e = NULL;
}

static void walk_loclist(Dwarf_Debug dbg, Dwarf_Attribute a)
{
	Dwarf_Loc_Head_c head = NULL;
	Dwarf_Unsigned count = 0;
	Dwarf_Error e = NULL;
	unsigned kind;

	if (dwarf_get_loclist_c(a, &head, &count, &e) != DW_DLV_OK) {
		drop(dbg, &e);
		return;
	}
	if (dwarf_get_loclist_head_kind(head, &kind, &e) != DW_DLV_OK)
		drop(dbg, &e);
	for (Dwarf_Unsigned i = 0; i < count; i++) {
		Dwarf_Small lle, src;
		Dwarf_Unsigned rlo, rhi, lo, hi, nops, eoff, doff;
		Dwarf_Bool unavail;
		Dwarf_Locdesc_c desc = NULL;

		if (dwarf_get_locdesc_entry_d(head, i, &lle, &rlo, &rhi, &unavail, &lo, &hi, &nops,
					      &desc, &src, &eoff, &doff, &e) != DW_DLV_OK) {
			drop(dbg, &e);
			continue;
		}
		for (Dwarf_Unsigned j = 0; j < nops; j++) {
			Dwarf_Small op;
			Dwarf_Unsigned o1, o2, o3, r1, r2, r3, br;

			if (dwarf_get_location_op_value_d(desc, j, &op, &o1, &o2, &o3, &r1, &r2,
							  &r3, &br, &e) != DW_DLV_OK) {
				drop(dbg, &e);
				break;
			}
		}
	}
	dwarf_loc_head_c_dealloc(head);
}

/* DW_AT_ranges as dwarfinfo_inline.c reads it: .debug_rnglists from DWARF 5 on, else
 * .debug_ranges. */
static void walk_ranges(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Attribute a, Dwarf_Half form)
{
	Dwarf_Unsigned val = 0, count = 0, goff, bytes;
	Dwarf_Off ref = 0, real;
	Dwarf_Rnglists_Head head = NULL;
	Dwarf_Ranges *r = NULL;
	Dwarf_Signed n = 0;
	Dwarf_Half ver = 0, offsz;
	Dwarf_Error e = NULL;

	if (dwarf_global_formref(a, &ref, &e) != DW_DLV_OK) {
		drop(dbg, &e);
		if (dwarf_formudata(a, &val, &e) != DW_DLV_OK) {
			drop(dbg, &e);
			return;
		}
		ref = val;
	}
	dwarf_get_version_of_die(die, &ver, &offsz);
	if (form != DW_FORM_rnglistx && ver < 5) {
		if (dwarf_get_ranges_b(dbg, ref, die, &real, &r, &n, &bytes, &e) == DW_DLV_OK)
			dwarf_ranges_dealloc(dbg, r, n);
		else
			drop(dbg, &e);
		return;
	}
	if (dwarf_rnglists_get_rle_head(a, form, ref, &head, &count, &goff, &e) != DW_DLV_OK) {
		drop(dbg, &e);
		return;
	}
	for (Dwarf_Unsigned i = 0; i < count; i++) {
		unsigned len, code;
		Dwarf_Unsigned r1, r2, c1, c2;
		Dwarf_Bool unavail = 0;

		if (dwarf_get_rnglists_entry_fields_a(head, i, &len, &code, &r1, &r2, &unavail, &c1,
						      &c2, &e) != DW_DLV_OK)
			drop(dbg, &e);
	}
	dwarf_dealloc_rnglists_head(head);
}

/* Every scalar reader on every attribute, whatever its form: libdwarf refuses what does not
 * fit, and dwarfinfo's readers are among them. */
static void walk_attr(Dwarf_Debug dbg, Dwarf_Die die, Dwarf_Attribute a)
{
	Dwarf_Half form = 0, at = 0;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	Dwarf_Addr addr;
	Dwarf_Bool flag;
	Dwarf_Off ref;
	Dwarf_Die target = NULL;
	char *str;
	Dwarf_Error e = NULL;

	if (dwarf_whatform(a, &form, &e) != DW_DLV_OK || dwarf_whatattr(a, &at, &e) != DW_DLV_OK) {
		drop(dbg, &e);
		return;
	}
	if (dwarf_formudata(a, &u, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_formsdata(a, &s, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_formaddr(a, &addr, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_formflag(a, &flag, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_formstring(a, &str, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_global_formref(a, &ref, &e) == DW_DLV_OK) {
		if (dwarf_offdie_b(dbg, ref, 1, &target, &e) == DW_DLV_OK)
			dwarf_dealloc_die(target);
		else
			drop(dbg, &e);
	} else {
		drop(dbg, &e);
	}
	/* Location and range lists only where dwarfinfo reads them: libdwarf 20210528 crashes
	 * when asked for a location list of other attributes even in well-formed files. */
	if (at == DW_AT_ranges)
		walk_ranges(dbg, die, a, form);
	else if (at == DW_AT_location || at == DW_AT_frame_base)
		walk_loclist(dbg, a);
}

static void walk_one_die(Dwarf_Debug dbg, Dwarf_Die die)
{
	Dwarf_Attribute *attrs = NULL;
	Dwarf_Signed n = 0;
	Dwarf_Half tag, ver, offsize;
	Dwarf_Addr lo, hi;
	Dwarf_Off off;
	enum Dwarf_Form_Class cls;
	char *name;
	Dwarf_Error e = NULL;

	if (dwarf_tag(die, &tag, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_diename(die, &name, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_dieoffset(die, &off, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_get_version_of_die(die, &ver, &offsize) != DW_DLV_OK)
		ver = 0;
	if (dwarf_lowpc(die, &lo, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_highpc_b(die, &hi, NULL, &cls, &e) != DW_DLV_OK)
		drop(dbg, &e);
	if (dwarf_attrlist(die, &attrs, &n, &e) != DW_DLV_OK) {
		drop(dbg, &e);
		return;
	}
	for (Dwarf_Signed i = 0; i < n; i++) {
		walk_attr(dbg, die, attrs[i]);
		dwarf_dealloc_attribute(attrs[i]);
	}
	dwarf_dealloc(dbg, attrs, DW_DLA_LIST);
}

/* die and its siblings, children first; takes ownership of die. */
static void walk_dies(Dwarf_Debug dbg, Dwarf_Die die, unsigned depth)
{
	Dwarf_Error e = NULL;

	while (die) {
		Dwarf_Die child = NULL, next = NULL;

		walk_one_die(dbg, die);
		if (depth < VET_MAX_DEPTH) {
			if (dwarf_child(die, &child, &e) == DW_DLV_OK)
				walk_dies(dbg, child, depth + 1);
			else
				drop(dbg, &e);
		}
		if (dwarf_siblingof_b(dbg, die, 1, &next, &e) != DW_DLV_OK)
			drop(dbg, &e), next = NULL;
		dwarf_dealloc_die(die);
		die = next;
	}
}

static void walk_lines(Dwarf_Debug dbg, Dwarf_Die cu)
{
	Dwarf_Unsigned ver, u;
	Dwarf_Small tcount;
	Dwarf_Line_Context lc = NULL;
	Dwarf_Line *lines = NULL;
	Dwarf_Signed count = 0, nfiles = 0;
	Dwarf_Addr addr;
	Dwarf_Bool b;
	char **files = NULL, *src;
	Dwarf_Error e = NULL;

	if (dwarf_srcfiles(cu, &files, &nfiles, &e) == DW_DLV_OK) {
		for (Dwarf_Signed i = 0; i < nfiles; i++)
			dwarf_dealloc(dbg, files[i], DW_DLA_STRING);
		dwarf_dealloc(dbg, files, DW_DLA_LIST);
	} else {
		drop(dbg, &e);
	}
	if (dwarf_srclines_b(cu, &ver, &tcount, &lc, &e) != DW_DLV_OK) {
		drop(dbg, &e);
		return;
	}
	if (dwarf_srclines_from_linecontext(lc, &lines, &count, &e) == DW_DLV_OK) {
		for (Dwarf_Signed i = 0; i < count; i++) {
			if (dwarf_lineaddr(lines[i], &addr, &e) != DW_DLV_OK)
				drop(dbg, &e);
			if (dwarf_lineno(lines[i], &u, &e) != DW_DLV_OK)
				drop(dbg, &e);
			if (dwarf_linebeginstatement(lines[i], &b, &e) != DW_DLV_OK)
				drop(dbg, &e);
			if (dwarf_lineendsequence(lines[i], &b, &e) != DW_DLV_OK)
				drop(dbg, &e);
			if (dwarf_linesrc(lines[i], &src, &e) == DW_DLV_OK)
				dwarf_dealloc(dbg, src, DW_DLA_STRING);
			else
				drop(dbg, &e);
		}
	} else {
		drop(dbg, &e);
	}
	dwarf_srclines_dealloc_b(lc);
}

/* The units whose headers start at the offsets in units[n] (sorted), or all when units is
 * NULL. Every header is read on the way, as dwarfinfo's walks read them. */
static void walk_info(Dwarf_Debug dbg, const uint64_t *units, size_t n)
{
	Dwarf_Unsigned next, at = 0;
	Dwarf_Half ver, cutype;
	Dwarf_Error e = NULL;
	int r;

	while ((r = dwarf_next_cu_header_d(dbg, 1, NULL, &ver, NULL, NULL, NULL, NULL, NULL, NULL,
					   &next, &cutype, &e)) == DW_DLV_OK) {
		Dwarf_Die cu = NULL;
		uint64_t hdr = at;

		at = next;
		if (units && !bsearch(&hdr, units, n, sizeof(*units), di_u64_cmp))
			continue;
		if (dwarf_siblingof_b(dbg, NULL, 1, &cu, &e) != DW_DLV_OK) {
			drop(dbg, &e);
			continue;
		}
		walk_lines(dbg, cu);
		walk_dies(dbg, cu, 0);
	}
	drop(dbg, &e);
}

/* Each FDE's CFA and register rules at its first and last byte (every instruction run). */
static void walk_fdes(Dwarf_Debug dbg, Dwarf_Fde *fdes, Dwarf_Signed nfde)
{
	Dwarf_Error e = NULL;

	for (Dwarf_Signed i = 0; i < nfde; i++) {
		Dwarf_Addr lo, at, row, flo, fhi;
		Dwarf_Unsigned len, flen;
		Dwarf_Ptr bytes;
		Dwarf_Off off, cie_off;
		Dwarf_Signed cie_idx, rel, reg, off2;
		Dwarf_Small vt;
		Dwarf_Ptr blk;
		Dwarf_Fde found = NULL;

		if (dwarf_get_fde_range(fdes[i], &lo, &len, &bytes, &flen, &cie_off, &cie_idx, &off,
					&e) != DW_DLV_OK) {
			drop(dbg, &e);
			continue;
		}
		if (dwarf_get_fde_at_pc(fdes, lo, &found, &flo, &fhi, &e) != DW_DLV_OK)
			drop(dbg, &e);
		for (int k = 0; k < 2; k++) {
			at = k == 0 ? lo : lo + (len ? len - 1 : 0);
			if (dwarf_get_fde_info_for_cfa_reg3(fdes[i], at, &vt, &rel, &reg, &off2,
							    &blk, &row, &e) != DW_DLV_OK)
				drop(dbg, &e);
			for (Dwarf_Half col = 0; col < 17; col++)
				if (dwarf_get_fde_info_for_reg3(fdes[i], col, at, &vt, &rel, &reg,
								&off2, &blk, &row, &e) != DW_DLV_OK)
					drop(dbg, &e);
		}
	}
}

static void walk_frames(Dwarf_Debug dbg)
{
	Dwarf_Cie *cies;
	Dwarf_Fde *fdes;
	Dwarf_Signed ncie, nfde;
	Dwarf_Error e = NULL;

	dwarf_set_frame_rule_initial_value(dbg, DW_FRAME_SAME_VAL);
	for (int eh = 1; eh >= 0; eh--) {
		int r = eh ? dwarf_get_fde_list_eh(dbg, &cies, &ncie, &fdes, &nfde, &e)
			   : dwarf_get_fde_list(dbg, &cies, &ncie, &fdes, &nfde, &e);
		if (r != DW_DLV_OK) {
			drop(dbg, &e);
			continue;
		}
		walk_fdes(dbg, fdes, nfde);
		dwarf_fde_cie_list_dealloc(dbg, cies, ncie, fdes, nfde);
	}
}

void dwarfvet_walk_some(const char *path, bool frames, const uint64_t *units, size_t n,
			bool all_units)
{
	Dwarf_Debug dbg = NULL;
	Dwarf_Error e = NULL;

	/* Each on its own handle, as cfi.c and dwarfinfo.c each open their own. */
	for (int pass = 0; pass < 2; pass++) {
		int fd;

		if (pass == 0 ? !frames : !all_units && !n)
			continue;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return;
		if (dwarf_init_b(fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &dbg, &e) ==
		    DW_DLV_OK) {
			if (pass == 0)
				walk_frames(dbg);
			else
				walk_info(dbg, all_units ? NULL : units, n);
			dwarf_finish(dbg, &e);
		}
		drop(NULL, &e);
		close(fd);
	}
}

void dwarfvet_walk_units(Dwarf_Debug dbg, const uint64_t *units, size_t n)
{
	walk_info(dbg, units, n);
}

void dwarfvet_walk(const char *path)
{
	dwarfvet_walk_some(path, true, NULL, 0, true);
}
