/* target.xml for qXfer:features:read, generated from the register table in
 * regs.c: all features inline (no xi:include), types defined in the feature
 * that first uses them. Extra lldb attributes (generic, encoding, format,
 * dwarf_regnum) are ignored by gdb. */
#include "arch/x86_64/regs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct xml_out {
	char *buf;
	size_t cap;
	size_t len;
};

static void out_put(struct xml_out *o, const char *s)
{
	size_t n = strlen(s);
	if (o->len < o->cap) {
		size_t room = o->cap - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

__attribute__((format(printf, 2, 3))) static void out_fmt(struct xml_out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(tmp))
		out_put(o, tmp);
}

struct flag_field {
	const char *name;
	unsigned bit;
};

static const struct flag_field eflags_fields[] = {
	{"CF", 0},  {"", 1},	{"PF", 2},   {"AF", 4},	  {"ZF", 6},  {"SF", 7},
	{"TF", 8},  {"IF", 9},	{"DF", 10},  {"OF", 11},  {"NT", 14}, {"RF", 16},
	{"VM", 17}, {"AC", 18}, {"VIF", 19}, {"VIP", 20}, {"ID", 21},
};

static const struct flag_field mxcsr_fields[] = {
	{"IE", 0}, {"DE", 1}, {"ZE", 2}, {"OE", 3},  {"UE", 4},	 {"PE", 5},  {"DAZ", 6},
	{"IM", 7}, {"DM", 8}, {"ZM", 9}, {"OM", 10}, {"UM", 11}, {"PM", 12}, {"FZ", 15},
};

static void out_flags(struct xml_out *o, const char *id, const struct flag_field *f, size_t n)
{
	out_fmt(o, "<flags id=\"%s\" size=\"4\">\n", id);
	for (size_t i = 0; i < n; i++)
		out_fmt(o, "<field name=\"%s\" start=\"%u\" end=\"%u\"/>\n", f[i].name, f[i].bit,
			f[i].bit);
	out_put(o, "</flags>\n");
}

static void out_types(struct xml_out *o, const char *feature)
{
	if (strcmp(feature, "org.gnu.gdb.i386.core") == 0) {
		out_flags(o, "i386_eflags", eflags_fields,
			  sizeof(eflags_fields) / sizeof(eflags_fields[0]));
	} else if (strcmp(feature, "org.gnu.gdb.i386.sse") == 0) {
		out_put(o, "<vector id=\"v8bf16\" type=\"bfloat16\" count=\"8\"/>\n"
			   "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
			   "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
			   "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
			   "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
			   "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
			   "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
			   "<union id=\"vec128\">\n"
			   "<field name=\"v8_bfloat16\" type=\"v8bf16\"/>\n"
			   "<field name=\"v4_float\" type=\"v4f\"/>\n"
			   "<field name=\"v2_double\" type=\"v2d\"/>\n"
			   "<field name=\"v16_int8\" type=\"v16i8\"/>\n"
			   "<field name=\"v8_int16\" type=\"v8i16\"/>\n"
			   "<field name=\"v4_int32\" type=\"v4i32\"/>\n"
			   "<field name=\"v2_int64\" type=\"v2i64\"/>\n"
			   "<field name=\"uint128\" type=\"uint128\"/>\n"
			   "</union>\n");
		out_flags(o, "i386_mxcsr", mxcsr_fields,
			  sizeof(mxcsr_fields) / sizeof(mxcsr_fields[0]));
	}
}

static void out_reg(struct xml_out *o, int regno, const struct x86_64_reg *r)
{
	out_fmt(o, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%d\" group=\"%s\"",
		r->name, r->bitsize, r->type, regno, r->group);
	out_fmt(o, " offset=\"%u\" encoding=\"%s\" format=\"%s\"", r->offset, r->encoding,
		r->format);
	if (r->dwarf >= 0)
		out_fmt(o, " dwarf_regnum=\"%d\" ehframe_regnum=\"%d\"", r->dwarf, r->dwarf);
	if (r->generic)
		out_fmt(o, " generic=\"%s\"", r->generic);
	out_put(o, "/>\n");
}

size_t x86_64_target_xml(char *buf, size_t cap)
{
	const struct x86_64_reg *t = x86_64_regs();
	struct xml_out o = {buf, cap, 0};
	const char *cur = NULL;

	out_put(&o, "<?xml version=\"1.0\"?>\n"
		    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		    "<target version=\"1.0\">\n"
		    "<architecture>i386:x86-64</architecture>\n"
		    "<osabi>GNU/Linux</osabi>\n");
	for (int r = 0; r < X86_64_NREGS; r++) {
		if (!cur || strcmp(cur, t[r].feature) != 0) {
			if (cur)
				out_put(&o, "</feature>\n");
			cur = t[r].feature;
			out_fmt(&o, "<feature name=\"%s\">\n", cur);
			out_types(&o, cur);
		}
		out_reg(&o, r, &t[r]);
	}
	out_put(&o, "</feature>\n</target>\n");
	return o.len;
}

int x86_64_target_xml_read(const char *annex, size_t annex_len, uint64_t off, uint8_t *buf,
			   size_t len, size_t *out_len)
{
	static char xml[65536];
	static size_t xml_len;

	*out_len = 0;
	if (annex_len != strlen("target.xml") || memcmp(annex, "target.xml", annex_len))
		return -ENOENT;
	if (!xml_len)
		xml_len = x86_64_target_xml(xml, sizeof(xml));
	if (xml_len > sizeof(xml))
		return -EOVERFLOW;
	if (off >= xml_len)
		return 0;
	*out_len = xml_len - off < len ? xml_len - off : len;
	memcpy(buf, xml + off, *out_len);
	return 0;
}
