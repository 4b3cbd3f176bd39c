/* Unit tests for the tracepoint packets (TAP): a session over the fake target with its
 * trace ops (fake_trace.h), packets in, exact reply bytes out. Covers qSupported and the
 * no-trace case, the QTDP streams gdb 13 sends (PROTOCOL.md §3.3, §4.3), settings, status,
 * upload iteration, QTFrame forms, qTV, qTBuffer chunking, traceframe-info XML, QTSave,
 * malformed packets, and the tpfmt / tpparse functions directly. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_TARGET_TRACE
#include "protocol/ax.h"
#include "protocol/hex.h"
#include "protocol/session.h"
#include "protocol/tpfmt.h"
#include "protocol/tpparse.h"
#include "tests/unit/fake_target.h"

static int n_test, failed;

static void ok(int cond, const char *name)
{
	n_test++;
	failed += !cond;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

/* ---- a session whose write callback keeps the last packet's payload ---- */

static char last[1 << 15];
static int nsent;

static int keep_last(void *ctx, const uint8_t *buf, size_t len)
{
	/* One call per framed packet; single bytes are acks. */
	if (len >= 4 && buf[0] == '$' && len - 4 < sizeof(last)) {
		memcpy(last, buf + 1, len - 4);
		last[len - 4] = 0;
		nsent++;
	}
	return 0;
}

static struct fake fk;
static struct fake_trace tr;
static struct rsp_target_ops ops;
static struct rsp_session *S;

static void start(bool trace)
{
	struct rsp_session_config cfg = {.ops = &ops, .target = &fk, .write = keep_last};
	fake_init(&fk, &ops);
	memset(&tr, 0, sizeof(tr));
	if (trace)
		fake_trace_init(&fk, &tr, &ops);
	S = rsp_session_new(&cfg);
}

static const char *rq(const char *pkt)
{
	static char framed[1 << 15];
	unsigned sum = 0;
	size_t n = strlen(pkt);
	int before = nsent;
	for (size_t i = 0; i < n; i++)
		sum += (uint8_t)pkt[i];
	snprintf(framed, sizeof(framed), "$%s#%02x", pkt, sum & 0xff);
	if (rsp_session_feed(S, (const uint8_t *)framed, n + 4) != RSP_SESSION_OPEN)
		return "(closed)";
	return nsent == before + 1 ? last : "(no reply)";
}

static bool is(const char *pkt, const char *want)
{
	const char *r = rq(pkt);
	if (strcmp(r, want)) {
		printf("# %.200s\n#  -> '%.300s'\n#  want '%.300s'\n", pkt, r, want);
		return false;
	}
	return true;
}

/* Hex of a C string, from a small ring of buffers. */
static const char *hx(const char *s)
{
	static char ring[4][512];
	static int k;
	char *o = ring[k++ & 3];
	rsp_hex_encode((const uint8_t *)s, strlen(s), o);
	o[2 * strlen(s)] = 0;
	return o;
}

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	static char ring[4][4096];
	static int k;
	char *o = ring[k++ & 3];
	va_list ap;
	va_start(ap, f);
	vsnprintf(o, sizeof(ring[0]), f, ap);
	va_end(ap);
	return o;
}

/* ---- bytecode gdb 13 emits (PROTOCOL.md §4.3) ---- */

#define TP2	  "0000555555555163"
#define TP3	  "0000555555555170"
#define AX_A	  "26000622100222dc16080222040c27"	   /* collect a (int at CFA-36) */
#define AX_B	  "26000622100222d816080222040c27"	   /* collect b */
#define AX_P2	  "26000622100222d01608020d081a22080c27"   /* collect *p@2 */
#define AX_S	  "26000622100222e81608020d081a2300c82f27" /* collect/s s */
#define AX_ARR	  "24004040402201220404022a4022080c27"	   /* collect arr[1]@2 */
#define AX_CNT	  "2c00022e00022927"			   /* collect $cnt */
#define AX_TEVAL  "2c000222010216402d000227"		   /* teval $cnt = $cnt + 1 */
#define COND_A3	  "26000622100222dc16080219162022031327"   /* a == 3 */
#define MASK149	  "1fffffffffffffffffffffffffffffffffffff"
#define MASK_LONG "0000000000000000000000000000000000000000000000000000000000000000000001"

static const char *status_gdb_features =
	"qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;"
	"exec-events+;vContSupported+;QThreadEvents+;no-resumed+;memory-tagging+;"
	"xmlRegisters=i386";

static void test_no_trace(void)
{
	start(false);
	const char *r = rq(status_gdb_features);
	ok(!strstr(r, "Tracepoints") && !strstr(r, "tracenz") && !strstr(r, "traceframe"),
	   "no trace ops: no trace features");
	ok(is("qTStatus", "") && is("QTinit", "") && is("QTDP:1:1000:E:0:0", "") &&
		   is("qTfP", "") && is("qTfV", "") && is("QTFrame:0", "") &&
		   is("qTBuffer:0,10", "") && is("qXfer:traceframe-info:read::0,100", ""),
	   "no trace ops: qTStatus probe and every trace packet empty");
	rsp_session_free(S);
}

static int min_fast_one(void *t)
{
	return 1;
}

static void test_qsupported(void)
{
	struct rsp_trace_ops partial;
	const char *want =
		";ConditionalTracepoints+;tracenz+;InstallInTrace+;TracepointSource+;"
		"TraceStateVariables+;DisconnectedTracing+;QTBuffer:size+;"
		"EnableDisableTracepoints+;qXfer:traceframe-info:read+;QNonStop+;multiprocess+";
	start(true);
	const char *r = rq(status_gdb_features);
	ok(strstr(r, want) != NULL, "trace features advertised from the ops");
	ok(!strstr(r, "FastTracepoints") && !strstr(r, "StaticTracepoints"),
	   "no fast/static tracepoints advertised");
	ok(is("qTStatus", "T0;tnotrun:0;tframes:0;tcreated:0;tfree:500000;tsize:500000;"
			  "circular:0;disconn:0;starttime:0;stoptime:0;username:;notes:"),
	   "qTStatus at connect: not run");
	rsp_session_free(S);

	start(true);
	partial = fake_trace_ops;
	partial.enable = NULL;
	partial.frame_info = NULL;
	partial.add_source = NULL;
	ops.trace = &partial;
	r = rq(status_gdb_features);
	ok(strstr(r, "ConditionalTracepoints+") && !strstr(r, "EnableDisable") &&
		   !strstr(r, "traceframe-info") && !strstr(r, "TracepointSource"),
	   "features follow the present ops");
	ok(is("QTEnable:1:1000", "") && is("QTDisable:1:1000", "") &&
		   is("qXfer:traceframe-info:read::0,10", "") && is("QTDPsrc:1:1:at:0:1:61", ""),
	   "packets of missing ops get the empty reply");
	ok(is("qTMinFTPILen", ""), "no fast tracepoints: qTMinFTPILen empty");
	rsp_session_free(S);

	start(true);
	partial = fake_trace_ops;
	partial.min_fast_len = min_fast_one;
	ops.trace = &partial;
	r = rq(status_gdb_features);
	ok(strstr(r, "FastTracepoints+") != NULL, "min_fast_len: FastTracepoints+ advertised");
	ok(is("qTMinFTPILen", "1"), "qTMinFTPILen: the target's minimum, in hex");
	rsp_session_free(S);

	start(true);
	struct rsp_session_config cfg = {.ops = &ops, .target = &fk, .write = keep_last};
	rsp_session_free(S);
	cfg.disabled = "QTDP,qTStatus";
	S = rsp_session_new(&cfg);
	r = rq(status_gdb_features);
	ok(!strstr(r, "ConditionalTracepoints") && !strstr(r, "tracenz") &&
		   strstr(r, "TraceStateVariables+") && is("qTStatus", "") &&
		   is("QTDP:1:1000:E:0:0", ""),
	   "--disable-packet=QTDP drops its packet and all its features");
	rsp_session_free(S);
}

/* The `trace work` stream of PROTOCOL.md §3.3 plus the §4.3 expressions. */
static void define_tp2(void)
{
	ok(is("QTinit", "OK") && tr.inits == 2, "QTinit");
	ok(is("QTDP:2:" TP2 ":E:0:2-", "OK") && tr.ntps == 1 && tr.tps[0].def.num == 2 &&
		   tr.tps[0].def.addr == 0x555555555163 && tr.tps[0].def.enabled &&
		   tr.tps[0].def.pass_count == 2 && !tr.tps[0].def.cond,
	   "QTDP create with pass count and trailing -");
	ok(is("QTDP:-2:" TP2 ":R" MASK149 "-", "OK") && tr.tps[0].nacts == 1,
	   "QTDP action: $regs mask");
	const uint8_t *m = tr.tps[0].acts[0].mask;
	bool mask_ok = tr.tps[0].acts[0].kind == RSP_TPA_REGS && m[18] == 0x1f && m[19] == 0;
	for (int i = 0; i < 18; i++)
		mask_ok = mask_ok && m[i] == 0xff;
	ok(mask_ok, "149-bit mask decoded big-endian into mask[]");
	ok(is("QTDP:-2:" TP2 ":X0000000F," AX_A "X0000000F," AX_B "X00000012," AX_P2
	      "X00000013," AX_S "-",
	      "OK") &&
		   tr.tps[0].nacts == 5,
	   "QTDP: four X actions in one packet");
	ok(is("QTDP:-2:" TP2 ":X00000011," AX_ARR "X00000008," AX_CNT "X0000000C," AX_TEVAL,
	      "OK") &&
		   tr.tps[0].nacts == 8,
	   "QTDP: last action packet, no trailing -");
	const struct rsp_tp_action *a = &tr.tps[0].acts[1];
	ok(a->kind == RSP_TPA_EXPR && a->code_len == 15 && a->code[0] == 0x26 &&
		   a->code[14] == 0x27 && !a->stepping && a->text_len == 10 + 30 &&
		   !memcmp(a->text, "X0000000F," AX_A, a->text_len),
	   "X action: bytecode decoded, raw text kept");
	ok(tr.tps[0].acts[7].code_len == 12 && tr.tps[0].acts[7].code[10] == 0x02,
	   "teval bytecode kept");
	ok(is("QTDPsrc:2:" TP2 ":at:0:4:776f726b", "OK") &&
		   is(fmt("QTDPsrc:2:" TP2 ":cmd:0:d:%s", hx("collect $regs")), "OK") &&
		   tr.tps[0].nsrcs == 2 && !strcmp(tr.tps[0].srcs[1].type, "cmd") &&
		   tr.tps[0].srcs[1].len == 13 &&
		   !memcmp(tr.tps[0].srcs[1].text, "collect $regs", 13),
	   "QTDPsrc at/cmd decoded");
}

/* `trace t.c:5 if a == 3` + `collect g` + `while-stepping 3 collect $rip, $rsp`. */
static void define_tp3(void)
{
	struct fake_tp *t3 = &tr.tps[1];
	ok(is("QTDP:3:" TP3 ":E:3:0:X12," COND_A3 "-", "OK") && tr.ntps == 2 &&
		   t3->def.step_count == 3 && t3->def.cond_len == 0x12 && t3->def.cond[0] == 0x26 &&
		   t3->def.cond[17] == 0x27,
	   "QTDP with condition and while-stepping count");
	ok(is("QTDP:-3:" TP3 ":M-1,555555558028,4-", "OK") && t3->acts[0].kind == RSP_TPA_MEM &&
		   t3->acts[0].basereg == -1 && t3->acts[0].offset == 0x555555558028 &&
		   t3->acts[0].len == 4,
	   "M action, absolute");
	ok(is("QTDP:-3:" TP3 ":SR010080", "OK") && t3->nacts == 2 && t3->acts[1].stepping &&
		   t3->acts[1].mask[0] == 0x80 && t3->acts[1].mask[1] == 0 &&
		   t3->acts[1].mask[2] == 1 && t3->acts[1].text_len == 7,
	   "while-stepping packet: S prefix, rip+rsp mask");
	ok(is(fmt("QTDPsrc:3:" TP3 ":cond:0:6:%s", hx("a == 3")), "OK") &&
		   is(fmt("QTDPsrc:3:" TP3 ":cmd:0:10:%s", hx("while-stepping 3")), "OK"),
	   "QTDPsrc cond and cmd");
	ok(is("QTDP:4:000055555555516c:E:0:0:F6", "OK") && tr.tps[2].def.fast &&
		   tr.tps[2].def.fast_len == 6,
	   "ftrace download: F<len> passed on");
	ok(is("QTDP:5:0000555555555180:D:0:0:S-", "OK") && tr.tps[3].def.is_static &&
		   !tr.tps[3].def.enabled,
	   "static marker, disabled");
	ok(is("QTDP:-5:0000555555555180:R40X0000000F," AX_A "L", "OK") && tr.tps[3].nacts == 3 &&
		   tr.tps[3].acts[0].mask[0] == 0x40 && tr.tps[3].acts[2].kind == RSP_TPA_SDATA,
	   "R40 + X + L in one packet");
	ok(is("QTDP:-5:0000555555555180:R" MASK_LONG, "OK") && tr.tps[3].acts[3].mask[0] == 1,
	   "long mask with leading zeros");
}

static void settings(void)
{
	ok(is("QTDV:1:0000000000000000:1:74726163655f74696d657374616d70", "OK") &&
		   is("QTDV:2:0000000000000007:0:636e74", "OK") &&
		   is("QTDV:3:ffffffffffffffff:0:6e", "OK") && tr.ntsvs == 3 &&
		   tr.tsvs[0].builtin && !strcmp(tr.tsvs[0].name, "trace_timestamp") &&
		   tr.tsvs[1].initial == 7 && tr.tsvs[2].initial == -1,
	   "QTDV builtin, user, negative");
	ok(is("QTro:318,31c:2000,2100", "OK") && tr.nro == 2 && tr.ro[1].start == 0x2000 &&
		   tr.ro[1].end == 0x2100,
	   "QTro ranges");
	ok(is("QTDisconnected:1", "OK") && tr.disconnected && is("QTDisconnected:0", "OK") &&
		   !tr.disconnected,
	   "QTDisconnected");
	ok(is("QTBuffer:circular:1", "OK") && tr.circular, "QTBuffer:circular");
	ok(is("QTBuffer:size:100000", "OK") && tr.bufsize == 0x100000 &&
		   is("QTBuffer:size:-1", "OK") && tr.bufsize == 0x500000,
	   "QTBuffer:size hex and -1");
	ok(is(fmt("QTNotes:user:%s;notes:%s;", hx("me"), hx("n1")), "OK") &&
		   !strcmp(tr.user, "me") && !strcmp(tr.notes, "n1"),
	   "QTNotes user and notes");
	ok(is("QTEnable:2:" TP2, "OK") && is("QTDisable:2:" TP2, "OK") && !tr.tps[0].def.enabled &&
		   is("QTEnable:2:" TP2, "OK") && tr.tps[0].def.enabled,
	   "QTEnable / QTDisable");
	ok(is("QTEnable:9:1000", "E02"), "QTEnable of an unknown tracepoint -> E02");
	ok(is("QTDP:-9:1000:R1", "E02"), "actions for an unknown tracepoint -> E02");
}

static void run_and_stop(void)
{
	ok(is("QTStart", "OK") && tr.running, "QTStart");
	ok(is("QTStart", "E10"), "QTStart while running -> E10");
	ok(is("QTBuffer:size:1000", "E10"), "buffer size refused while running");
	ok(is("qTStatus", "T1;tnotrun:0;tframes:0;tcreated:0;tfree:500000;tsize:500000;"
			  "circular:1;disconn:0;starttime:0;stoptime:0;username:6d65;notes:6e31"),
	   "qTStatus running");
	ok(is("qTP:2:" TP2, "V2:80") && is("qTP:3:" TP3, "V1:40"), "qTP hits and bytes");
	ok(is("qTP:9:1", "E02"), "qTP unknown tracepoint");
	ok(is("QTStop", "OK") && !tr.running, "QTStop");
	ok(is(fmt("QTNotes:tstop:%s;", hx("done")), "OK"), "QTNotes tstop");
	ok(is("qTStatus", "T0;tstop:646f6e65:0;tframes:4;tcreated:4;tfree:4fdf00;tsize:500000;"
			  "circular:1;disconn:0;starttime:10;stoptime:20;username:6d65;notes:6e31"),
	   "qTStatus stopped by the user with a note");
	ok(is("QTNotes:tstop:;", "OK") && is("qTStatus", "T0;tstop::0;tframes:4;tcreated:4;"
							 "tfree:4fdf00;tsize:500000;circular:1;"
							 "disconn:0;starttime:10;stoptime:20;"
							 "username:6d65;notes:6e31"),
	   "tstop::0 with an empty note");
}

static void upload(void)
{
	static const char *want[] = {
		"T2:" TP2 ":E:0:2",
		"A2:" TP2 ":R" MASK149,
		"A2:" TP2 ":X0000000F," AX_A,
		"A2:" TP2 ":X0000000F," AX_B,
		"A2:" TP2 ":X00000012," AX_P2,
		"A2:" TP2 ":X00000013," AX_S,
		"A2:" TP2 ":X00000011," AX_ARR,
		"A2:" TP2 ":X00000008," AX_CNT,
		"A2:" TP2 ":X0000000C," AX_TEVAL,
		"Z2:" TP2 ":at:0:4:776f726b",
		"Z2:" TP2 ":cmd:0:d:636f6c6c656374202472656773",
		"T3:" TP3 ":E:3:0:X12," COND_A3,
		"A3:" TP3 ":M-1,555555558028,4",
		"S3:" TP3 ":R010080",
		"Z3:" TP3 ":cond:0:6:61203d3d2033",
		"Z3:" TP3 ":cmd:0:10:7768696c652d7374657070696e672033",
		"T4:000055555555516c:E:0:0:F6",
		"T5:0000555555555180:D:0:0:S",
		"A5:0000555555555180:R40",
		"A5:0000555555555180:X0000000F," AX_A,
		"A5:0000555555555180:L",
		"A5:0000555555555180:R" MASK_LONG,
		"l",
	};
	int all = 1;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		all &= is(i ? "qTsP" : "qTfP", want[i]);
	ok(all, "qTfP/qTsP: T, A per action, S per stepping action, Z per source, l");
	ok(is("qTsP", "l"), "qTsP after the end stays l");
	ok(is("qTfP", "T2:" TP2 ":E:0:2") && is("qTsP", "A2:" TP2 ":R" MASK149),
	   "qTfP restarts the upload");
	ok(is("qTfV", "1:0:1:74726163655f74696d657374616d70") && is("qTsV", "2:7:0:636e74") &&
		   is("qTsV", "3:ffffffffffffffff:0:6e") && is("qTsV", "l") && is("qTsV", "l"),
	   "qTfV/qTsV");
	ok(is("qTV:2", "V7") && is("qTV:3", "Vffffffffffffffff") && is("qTV:9", "U"),
	   "qTV live values, unknown -> U");
}

static void frames(void)
{
	ok(is("QTFrame:0", "F0T2") && tr.frame == 0, "QTFrame:N");
	ok(is("QTFrame:pc:1010", "F2T2"), "QTFrame:pc searches after the selected frame");
	ok(is("QTFrame:pc:1010", "F-1") && tr.frame == -1, "QTFrame:pc miss -> F-1");
	ok(is("QTFrame:tdp:3", "F1T3"), "QTFrame:tdp");
	ok(is("qTV:2", "Va") && is("qTV:1", "U"), "qTV in a frame: collected / not collected");
	ok(is("qXfer:traceframe-info:read::0,1000",
	      "l<traceframe-info><memory start=\"0x1000\" length=\"0x4\"/><memory "
	      "start=\"0x2010\" length=\"0x10\"/><tvar id=\"2\"/></traceframe-info>"),
	   "traceframe-info XML");
	ok(is("qXfer:traceframe-info:read::0,10", "m<traceframe-info") &&
		   is("qXfer:traceframe-info:read::10,1000",
		      "l><memory start=\"0x1000\" length=\"0x4\"/><memory start=\"0x2010\" "
		      "length=\"0x10\"/><tvar id=\"2\"/></traceframe-info>") &&
		   is("qXfer:traceframe-info:read::200,10", "l"),
	   "traceframe-info in chunks");
	ok(is("QTFrame:range:1020:1024", "F3T3"), "QTFrame:range inclusive");
	ok(is("QTFrame:ffffffff", "OK") && tr.frame == -1, "QTFrame:ffffffff -> live");
	ok(is("qXfer:traceframe-info:read::0,1000", "E01"), "traceframe-info without a frame");
	ok(is("QTFrame:outside:1010:1020", "F3T3"), "QTFrame:outside exclusive");
	ok(is("QTFrame:-1", "OK") && tr.frame == -1, "QTFrame:-1 -> live");
	ok(is("QTFrame:4", "F-1"), "QTFrame past the last frame");
}

static void buffer_and_save(void)
{
	char want[2 * FT_BUF_SIZE + 1];
	const char *r;
	for (int i = 0; i < 16; i++)
		snprintf(want + 2 * i, 3, "%02x", (uint8_t)(i * 7 + 3));
	ok(is("qTBuffer:0,10", want), "qTBuffer first bytes");
	r = rq("qTBuffer:0,7d0");
	ok(strlen(r) == 2 * 0x7d0 && !strncmp(r, want, 32), "qTBuffer:0,7d0 as tsave asks");
	r = rq("qTBuffer:0,3000");
	ok(strlen(r) == 2 * 0x1fff, "qTBuffer capped at half a packet");
	r = rq("qTBuffer:1fff,3000");
	snprintf(want, 3, "%02x", (uint8_t)(0x1fff * 7 + 3));
	ok(strlen(r) == 2 * 0x101 && !strncmp(r, want, 2), "qTBuffer rest of the stream");
	ok(is("qTBuffer:2100,7d0", "l"), "qTBuffer at the end -> l");
	ok(is("qTBuffer:2101,1", "E01"), "qTBuffer beyond the end -> E01");
	ok(is(fmt("QTSave:%s", hx("/tmp/t.tf")), "OK") && !strcmp(tr.saved, "/tmp/t.tf"), "QTSave");
	ok(is(fmt("QTSave:%s", hx("/bad")), "E0d"), "QTSave failure -> Enn");
}

static void test_gdb_session(void)
{
	start(true);
	rq(status_gdb_features);
	ok(is("QStartNoAckMode", "OK"), "no-ack");
	define_tp2();
	define_tp3();
	settings();
	run_and_stop();
	upload();
	frames();
	buffer_and_save();
	ok(is("QTinit", "OK") && tr.ntps == 0 && is("qTfP", "l") && is("qTfV", "l"),
	   "QTinit clears; uploads then empty");
	ok(is("QTStart", "E.no tracepoints ? defined"), "QTStart failure -> E.text, sanitised");
	rsp_session_free(S);
}

static void test_malformed(void)
{
	static const char *bad[] = {
		"QTDP:",
		"QTDP:2",
		"QTDP:2:1000",
		"QTDP:2:1000:",
		"QTDP:2:1000:X:0:0",
		"QTDP:2:1000:E:zz:0",
		"QTDP:2:1000:E:0",
		"QTDP:2:1000:E:0:0x",
		"QTDP:2:1000:E:0:0:",
		"QTDP:2:1000:E:0:0:Q",
		"QTDP:2:1000:E:0:0:X03,2627",
		"QTDP:2:1000:E:0:0:X2,2z27",
		"QTDP:2:1000:E:0:0:X02",
		"QTDP:2:1000:E:0:0:X0,",
		"QTDP:2:1000:E:0:0:Xffffffffffffffff,27",
		"QTDP:2:1000:E:0:0:X02,2227",
		"QTDP:2:1000:E:0:0:X01,01",
		"QTDP:2:1000:E:0:0:X03,200000",
		"QTDP:2:1000:E:0:0:X01,27--",
		"QTDP:100000000:1000:E:0:0",
		"QTDP:2:10000000000000000:E:0:0",
		"QTDP:-2",
		"QTDP:-2:1000",
		"QTDP:-2:1000:R",
		"QTDP:-2:1000:R1z",
		"QTDP:-2:1000:Mx",
		"QTDP:-2:1000:M-1,10",
		"QTDP:-2:1000:M-1,10,",
		"QTDP:-2:1000:X02,27",
		"QTDP:-2:1000:X01,01",
		"QTDP:-2:1000:X01,29",
		"QTDP:-2:1000:R10000000000000000000000000000000000000000000000000000000000000000",
		"QTDP:-2:1000:SS",
		"QTDPsrc:2:1000",
		"QTDPsrc:2:1000:at",
		"QTDPsrc:2:1000::0:1:61",
		"QTDPsrc:2:1000:at:0:1",
		"QTDPsrc:2:1000:at:0:1:6",
		"QTDPsrc:2:1000:at:x:1:61",
		"QTDV:2",
		"QTDV:2:0:2:6e",
		"QTDV:2:0:0:6",
		"QTDV:2:0:0:6e00",
		"QTDV:2:zz:0:6e",
		"QTro:1",
		"QTro:1,2:3",
		"QTro1,2",
		"QTDisconnected:2",
		"QTDisconnected:",
		"QTBuffer:circular:",
		"QTBuffer:circular:10",
		"QTBuffer:size:-2",
		"QTBuffer:size:",
		"QTNotes:bogus:00;",
		"QTNotes:user:zz;",
		"QTNotes:user",
		"QTEnable:2",
		"QTDisable:2:1000:",
		"qTP:2",
		"qTV:zz",
		"qTV:",
		"QTFrame:zz",
		"QTFrame:pc:",
		"QTFrame:range:1",
		"QTFrame:outside:1:",
		"QTFrame:-2",
		"QTFrame:1x",
		"qTBuffer:zz",
		"qTBuffer:0",
		"qXfer:traceframe-info:read:x:0,10",
		"qXfer:traceframe-info:read::0",
		"QTSave:",
		"QTSave:zz",
		"QTSave:2f00",
	};
	int all = 1;
	start(true);
	rq(status_gdb_features);
	ok(is("QTDP:2:1000:E:0:0", "OK"), "tracepoint 2 at 0x1000 for the action tests");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *r = rq(bad[i]);
		if (r[0] != 'E' || r[1] == '.') {
			printf("# malformed %s -> %s\n", bad[i], r);
			all = 0;
		}
	}
	ok(all, "every malformed trace packet gets an Enn reply");
	ok(tr.ntps == 1 && tr.tps[0].nacts == 0 && tr.ntsvs == 0,
	   "nothing malformed reached the target");
	ok(is("QTDP:-2:1000:R1", "OK") && is("qTStatus", "T0;tnotrun:0;tframes:0;tcreated:0;"
							 "tfree:500000;tsize:500000;circular:0;"
							 "disconn:0;starttime:0;stoptime:0;"
							 "username:;notes:"),
	   "session goes on after malformed packets");
	ok(is("QEnableErrorStrings", "OK") &&
		   is("QTDP:7:1000:E:0:0:X01,01", fmt("E16;%s", hx("unsupported"))) &&
		   is("QTDP:-2:1000:Q", fmt("E16;%s", hx("unknown action"))),
	   "refusal reasons with error strings");
	rsp_session_free(S);
}

/* ---- tpfmt / tpparse directly ---- */

static const char *fmt_status(const struct rsp_trace_status *st)
{
	static uint8_t mem[512];
	static struct rsp_buf b;
	rsp_buf_init(&b, mem, sizeof(mem) - 1);
	if (rsp_tpfmt_status(&b, st))
		return "(overflow)";
	mem[b.len] = 0;
	return (const char *)mem;
}

static void test_tpfmt(void)
{
	struct rsp_trace_status st = {0};
	uint8_t mem[256];
	struct rsp_buf b;

	st.stop = RSP_TSTOP_FULL;
	st.frames = 0x10;
	ok(!strcmp(fmt_status(&st), "0;tfull:0;tframes:10;tcreated:0;tfree:0;tsize:0;circular:0;"
				    "disconn:0;starttime:0;stoptime:0;username:;notes:"),
	   "status tfull");
	st.stop = RSP_TSTOP_PASSCOUNT;
	st.stop_tp = 3;
	ok(!strncmp(fmt_status(&st), "0;tpasscount:3;", 15), "status tpasscount");
	st.stop = RSP_TSTOP_ERROR;
	st.error = "bad";
	ok(!strncmp(fmt_status(&st), "0;terror:626164:3;", 18), "status terror");
	st.stop = RSP_TSTOP_DISCONNECTED;
	ok(!strncmp(fmt_status(&st), "0;tdisconnected:0;", 18), "status tdisconnected");
	st.stop = (enum rsp_trace_stop)99;
	ok(!strncmp(fmt_status(&st), "0;tunknown:0;", 13), "status tunknown");

	struct rsp_tp_def def = {.num = 7,
				 .addr = 0x401150,
				 .enabled = false,
				 .step_count = 2,
				 .pass_count = 5,
				 .fast = true,
				 .fast_len = 5};
	static const uint8_t cond[2] = {0x22, 0x27};
	def.cond = cond;
	def.cond_len = 2;
	rsp_buf_init(&b, mem, sizeof(mem));
	ok(!rsp_tpfmt_tp(&b, &def) && b.len == 36 &&
		   !memcmp(mem, "T7:0000000000401150:D:2:5:F5:X2,2227", 36),
	   "tp T with F and X");
	struct rsp_tsv v = {.num = 4, .initial = -2, .builtin = false, .name = "x"};
	rsp_buf_init(&b, mem, sizeof(mem));
	ok(!rsp_tpfmt_tsv(&b, &v) && b.len == 23 && !memcmp(mem, "4:fffffffffffffffe:0:78", 23),
	   "tsv negative initial");
	rsp_buf_init(&b, mem, sizeof(mem));
	ok(!rsp_tpfmt_hits(&b, 1, 0x401150, 6, 0x120) &&
		   b.len == strlen("V1:0000000000401150:6:120") &&
		   !memcmp(mem, "V1:0000000000401150:6:120", b.len),
	   "tp V hits line");
	rsp_buf_init(&b, mem, 10);
	ok(rsp_tpfmt_tp(&b, &def) == -ENOSPC && b.overflow, "formatter reports overflow");
}

static void test_tpparse(void)
{
	uint8_t wmem[512];
	struct rsp_tp_work w = {wmem, sizeof(wmem), 0};
	struct rsp_trace_status st;
	const char *why = NULL;
	const char *gs = "1;tstop::0;tframes:6;tcreated:7;tfree:4ff000;tsize:500000;circular:1;"
			 "disconn:0;starttime:5d1e;stoptime:0;username:;notes:6e6f7465:";
	ok(!rsp_tpparse_status((const uint8_t *)gs, strlen(gs), &st, &w, &why) && st.running &&
		   st.stop == RSP_TSTOP_USER && st.stop_note && !st.stop_note[0] &&
		   st.frames == 6 && st.created == 7 && st.free == 0x4ff000 &&
		   st.size == 0x500000 && st.circular && !st.disconnected &&
		   st.start_us == 0x5d1e && !strcmp(st.notes, "note") && !strcmp(st.user, ""),
	   "parse gdbserver's qTStatus (trailing ':')");
	const char *tf = "0;terror:626164:3;tframes:2;foo:bar;disconn:1;username:75";
	w.used = 0;
	ok(!rsp_tpparse_status((const uint8_t *)tf, strlen(tf), &st, &w, &why) &&
		   st.stop == RSP_TSTOP_ERROR && !strcmp(st.error, "bad") && st.stop_tp == 3 &&
		   st.frames == 2 && st.disconnected && !strcmp(st.user, "u") && !st.notes,
	   "parse a trace-file status line, unknown field skipped");
	w.used = 0;
	ok(!rsp_tpparse_status((const uint8_t *)"0;tstop:0", 9, &st, &w, &why) &&
		   st.stop == RSP_TSTOP_USER && !st.stop_note,
	   "older tstop:0 form");
	struct rsp_trace_status in = {.running = false,
				      .stop = RSP_TSTOP_PASSCOUNT,
				      .stop_tp = 9,
				      .frames = 3,
				      .size = 0x1000,
				      .circular = true,
				      .stop_us = 0x77,
				      .user = "me",
				      .notes = "n"};
	const char *s1 = fmt_status(&in);
	w.used = 0;
	ok(!rsp_tpparse_status((const uint8_t *)s1, strlen(s1), &st, &w, &why) &&
		   !strcmp(fmt_status(&st), s1),
	   "format -> parse -> format round trip");
	static const char *badst[] = {"",	    "2;tnotrun:0", "1;tframes",	  "1;tframes:zz",
				      "1;terror:0", "1tnotrun:0",  "1;username:6"};
	int all = 1;
	for (size_t i = 0; i < sizeof(badst) / sizeof(badst[0]); i++) {
		w.used = 0;
		all &= rsp_tpparse_status((const uint8_t *)badst[i], strlen(badst[i]), &st, &w,
					  &why) < 0;
	}
	ok(all, "malformed status lines refused");

	struct rsp_tp_def def;
	bool more;
	const char *tl = "T1:0000000000401150:E:0:0";
	w.used = 0;
	ok(!rsp_tpparse_def((const uint8_t *)tl + 1, strlen(tl) - 1, &def, &more, &w, &why) &&
		   def.num == 1 && def.addr == 0x401150 && !more,
	   "a trace file's tp T line parses as a QTDP body");
	w.used = 0;
	ok(rsp_tpparse_def((const uint8_t *)"1:1:E:0:0:X01,27", 16, &def, &more, &w, &why) == 0 &&
		   def.cond_len == 1,
	   "condition decoded");
	w.cap = 0;
	w.used = 0;
	ok(rsp_tpparse_def((const uint8_t *)"1:1:E:0:0:X01,27", 16, &def, &more, &w, &why) ==
		   -ENOSPC,
	   "work area too small -> ENOSPC");
	struct rsp_tp_action acts[2];
	size_t n;
	w.cap = sizeof(wmem);
	ok(rsp_tpparse_actions((const uint8_t *)"LLL", 3, false, acts, 2, &n, &w, &why) == -E2BIG,
	   "more actions than room -> E2BIG");
	const char *al = "R1ffM2,fffffffffffffff8,4";
	ok(!rsp_tpparse_actions((const uint8_t *)al, strlen(al), true, acts, 2, &n, &w, &why) &&
		   n == 2 && acts[0].mask[0] == 0xff && acts[0].mask[1] == 1 &&
		   acts[0].text_len == 4 && acts[1].basereg == 2 &&
		   acts[1].offset == 0xfffffffffffffff8 && acts[1].len == 4 && acts[1].stepping &&
		   acts[1].text_len == 21,
	   "register-relative M after an odd-length mask");
	ok(rsp_tpparse_actions((const uint8_t *)"M2,-8,4", 7, true, acts, 2, &n, &w, &why) ==
		   -EINVAL,
	   "negative M offset refused (gdb sends it unsigned)");
	struct rsp_tsv v;
	w.used = 0;
	ok(!rsp_tpparse_tsv((const uint8_t *)"2:-5:0:61", 9, &v, &w, &why) && v.initial == -5 &&
		   !strcmp(v.name, "a"),
	   "tsv with '-' initial");
	struct rsp_tp_src src;
	w.used = 0;
	ok(!rsp_tpparse_src((const uint8_t *)"1:401150:cmd:0:0:", 17, &src, &w, &why) &&
		   src.len == 0 && !strcmp(src.type, "cmd"),
	   "source with empty text");
}

int main(void)
{
	test_no_trace();
	test_qsupported();
	test_gdb_session();
	test_malformed();
	test_tpfmt();
	test_tpparse();
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
