/* Unit tests for the protocol session (TAP): a fake target from memory (fake_target.h),
 * packets in, exact reply bytes out. Covers framing through the session, qSupported
 * derivation, --disable-packet, every packet family, stop replies, the waiting queue,
 * lldb-style traffic and malformed packets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/session.h"
#include "tests/unit/fake_target.h"

static int n_test;
static int failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

/* ---- the wire ---- */

static uint8_t wire[1 << 17];
static size_t wire_len;

static int wire_write(void *ctx, const uint8_t *buf, size_t len)
{
	if (len > sizeof(wire) - wire_len)
		return -ENOSPC;
	memcpy(wire + wire_len, buf, len);
	wire_len += len;
	return 0;
}

static struct fake fk;
static struct rsp_target_ops ops;
static struct rsp_session *S;
static int last_state;

static struct rsp_session *open_session(bool extended, const char *disabled)
{
	struct rsp_session_config cfg = {0};
	fake_init(&fk, &ops);
	cfg.ops = &ops;
	cfg.target = &fk;
	cfg.write = wire_write;
	cfg.extended = extended;
	cfg.disabled = disabled;
	wire_len = 0;
	return rsp_session_new(&cfg);
}

static void send_raw(const void *p, size_t n)
{
	last_state = rsp_session_feed(S, p, n);
}

/* Frame and feed a packet (len given, so binary payloads work). */
static void send_pkt(const char *payload, size_t len)
{
	static uint8_t buf[1 << 15];
	uint8_t sum = 0;
	buf[0] = '$';
	for (size_t i = 0; i < len; i++) {
		buf[1 + i] = (uint8_t)payload[i];
		sum = (uint8_t)(sum + (uint8_t)payload[i]);
	}
	snprintf((char *)buf + 1 + len, 4, "#%02x", sum);
	send_raw(buf, len + 4);
}

/* Packets seen on the wire since the last call. */
static char pkts[16][1 << 14];
static size_t pkt_lens[16];
static int npkts, nacks;

static void parse_wire(void)
{
	npkts = 0;
	nacks = 0;
	for (size_t i = 0; i < wire_len;) {
		if (wire[i] == '+') {
			nacks++;
			i++;
			continue;
		}
		if (wire[i] != '$' && wire[i] != '%') {
			i++;
			continue;
		}
		/* a notification is kept with its '%' */
		size_t j = i + 1, skip = wire[i] == '%' ? 0 : 1;
		while (j < wire_len && wire[j] != '#')
			j++;
		if (npkts < 16) {
			pkt_lens[npkts] = j - i - skip;
			memcpy(pkts[npkts], wire + i + skip, j - i - skip);
			pkts[npkts][j - i - skip] = 0;
			npkts++;
		}
		i = j + 3;
	}
	wire_len = 0;
}

/* Send a text packet and return the last reply payload. */
static const char *q(const char *payload)
{
	send_pkt(payload, strlen(payload));
	parse_wire();
	return npkts ? pkts[npkts - 1] : NULL;
}

static bool is(const char *payload, const char *want)
{
	const char *r = q(payload);
	if (!r || strcmp(r, want)) {
		printf("# %s -> '%s' (want '%s')\n", payload, r ? r : "(none)", want);
		return false;
	}
	return true;
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static const char gdb_features[] = "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;"
				   "fork-events+;vfork-events+;exec-events+;vContSupported+;"
				   "QThreadEvents+;no-resumed+;memory-tagging+;xmlRegisters=i386";

static void gdb_connect(void)
{
	q(gdb_features);
	q("QStartNoAckMode");
}

/* ---- tests ---- */

static void test_handshake(void)
{
	const char *r;
	S = open_session(false, NULL);
	ok(S != NULL, "session created");
	r = q(gdb_features);
	ok(nacks == 1, "qSupported acked in ack mode");
	ok(r && !strcmp(r,
			"PacketSize=4000;QStartNoAckMode+;qEcho+;vContSupported+;"
			"QListThreadsInStopReply+;QThreadSuffixSupported+;QThreadEvents+;"
			"qXfer:features:read+;qXfer:auxv:read+;qXfer:libraries-svr4:read+;"
			"qXfer:threads:read+;qXfer:exec-file:read+;qXfer:siginfo:read+;"
			"qXfer:siginfo:write+;QDisableRandomization+;QStartupWithShell+;"
			"QEnvironmentHexEncoded+;QEnvironmentUnset+;QEnvironmentReset+;"
			"QSetWorkingDir+;QPassSignals+;QProgramSignals+;QCatchSyscalls+;QNonStop+;"
			"multiprocess+;"
			"swbreak+;hwbreak+;fork-events+;vfork-events+;exec-events+;no-resumed+"),
	   "qSupported reply derived from ops");
	ok(fk.feat_calls == 1 && fk.feat.multiprocess && fk.feat.swbreak && !fk.feat.is_lldb,
	   "gdb features told to the target");
	ok(is("vMustReplyEmpty", ""), "vMustReplyEmpty is empty");
	ok(is("QStartNoAckMode", "OK") && nacks == 1, "QStartNoAckMode acked and OK");
	ok(is("vMustReplyEmpty", "") && nacks == 0, "no acks after QStartNoAckMode");
	ok(is("qFooBarUnknown", ""), "unknown packet -> empty");
	ok(is("qOffsets", ""), "qOffsets empty");
	ok(is("qSymbol::", "OK"), "qSymbol OK");
	ok(is("qAttached:64", "1") && is("qAttached:65", "0"), "qAttached");
	ok(is("qAttached:zz", "E16"), "qAttached garbage");
	rsp_session_free(S);
}

static void test_regs(void)
{
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("g", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b"
		   "xxxxxxxxxxxxxxxxxxxx"),
	   "g with unavailable st0 as xx");
	ok(is("p2", "1011121314151617"), "p rip");
	ok(is("p4", "xxxxxxxxxxxxxxxxxxxx"), "p unavailable");
	ok(is("p5", "E16"), "p out of range");
	ok(is("P2=8877665544332211", "OK") && is("p2", "8877665544332211"), "P then p");
	ok(is("P2=88", "E16"), "P wrong size");
	ok(is("P3=zzzzzzzz", "E16"), "P garbage value");
	ok(is("Hgp64.65", "OK") && is("p2", "9091929394959697"), "Hg selects the thread");
	ok(is("Hgp64.99", "OK") && is("p0", "E03"), "dead thread -> E03");
	ok(is("Hgp64.64", "OK"), "Hg back");
	char G[2 * FAKE_G_SIZE + 2] = "G";
	for (int i = 0; i < FAKE_G_SIZE; i++)
		snprintf(G + 1 + 2 * i, 3, "%02x", 0xa0 + i % 16);
	ok(is(G, "OK") && fk.regs[0][0] == 0xa0 && fk.regs[0][17] == 0xa1, "G writes the block");
	ok(is("G00", "E16"), "G wrong length");
	ok(is("Hcp64.-1", "OK") && is("Hc-1", "OK") && is("Hg0", "OK"), "Hc/Hg forms");
	ok(is("Hx1", "E16"), "H with bad kind");
	rsp_session_free(S);
}

static void test_mem(void)
{
	const char *r;
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("m1000,4", "00010203"), "m");
	ok(is("m1ffe,10", "feff"), "m short read at the end");
	ok(is("m0,4", "E05"), "m unreadable -> E05");
	ok(is("m1000,0", ""), "m zero length");
	ok(is("M1000,2:abcd", "OK") && is("m1000,2", "abcd"), "M then m");
	ok(is("M1000,2:abc", "E16"), "M odd hex");
	ok(is("M1000,2:abcdef", "E16"), "M length mismatch");
	ok(is("X1000,0:", "OK"), "X zero-length probe");
	send_pkt("X1000,3:}\x03}]*", 14 - 1);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "OK") && fk.mem[2] == '*', "X with escapes and raw *");
	send_pkt("X1000,2:}\x03}]", 12);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "OK") && is("m1000,2", "237d"), "X escaped bytes");
	ok(is("X1000,1:ab", "E16"), "X length mismatch");
	ok(is("x0,0", "OK"), "lldb x probe");
	r = q("x1000,4");
	ok(r && pkt_lens[0] == 7 && !memcmp(r, "}\x03}]}\n\x03", 7), "x escapes # } *");
	/* lldb <= 16 copies past its buffer on a short reply to a cache-line read; lldb-server
	 * 14 answers those with an error, and so does tracestub (m stays short) */
	ok(is("x1ffe,10", "E05"), "x short read -> E05, whole or nothing");
	r = q("x1ffe,2");
	ok(r && pkt_lens[0] == 2 && !memcmp(r, "\xfe\xff", 2), "x whole read at the end");
	ok(is("qMemoryRegionInfo", "OK"), "qMemoryRegionInfo probe");
	ok(is("qMemoryRegionInfo:1000",
	      "start:1000;size:1000;permissions:rx;name:2f62696e2f70726f67;"),
	   "qMemoryRegionInfo mapped");
	ok(is("qMemoryRegionInfo:5000", "start:5000;size:10;"), "qMemoryRegionInfo unmapped");
	ok(is("qMemoryRegionInfo:zz", "E16"), "qMemoryRegionInfo garbage");
	ok(is("_M1000,rwx", "7007") && is("_M10,r", "7001"), "_M alloc");
	ok(is("_M10,q", "E16"), "_M bad perms");
	ok(is("_m7000", "OK") && is("_m1", "E16"), "_m free");
	/* CRC of bytes 23 7d 02 03 (gdb's crc32: MSB-first, init ~0). */
	uint32_t crc = 0xffffffffu;
	const uint8_t bytes[4] = {0x23, 0x7d, 0x2a, 3};
	for (int i = 0; i < 4; i++) {
		crc ^= (uint32_t)bytes[i] << 24;
		for (int k = 0; k < 8; k++)
			crc = crc & 0x80000000u ? crc << 1 ^ 0x04c11db7u : crc << 1;
	}
	char want[16];
	snprintf(want, sizeof(want), "C%x", crc);
	ok(is("qCRC:1000,4", want), "qCRC");
	ok(is("qCRC:0,4", "E05"), "qCRC unreadable");
	ok(is("qSearch:memory:1000;1000;2a03", "1,1002"), "qSearch found");
	ok(is("qSearch:memory:1000;1000;fffe", "0"), "qSearch not found");
	ok(is("qSearch:memory:1100;f00;fe", "1,11fe"), "qSearch later match");
	ok(is("qSearch:memory:1000;10;", "E16"), "qSearch empty pattern");
	ok(rsp_session_console(S, "x", 1) == 0 && wire_len == 0,
	   "console ignored when not waiting");
	rsp_session_free(S);
}

static void test_points(void)
{
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("Z0,1234,1", "OK") && fk.pt_addr == 0x1234 && fk.pt_kind == 1 &&
		   fk.pt_type == RSP_POINT_SW,
	   "Z0");
	ok(is("Z2,2000,4", "OK") && fk.pt_type == RSP_POINT_WRITE, "Z2");
	ok(is("Z3,2000,4", ""), "Z3 unsupported by target -> empty");
	ok(is("z0,1234,1", "OK"), "z0");
	ok(is("Z0,0,1", "E05"), "Z0 failure -> E05");
	ok(is("Z9,1,1", "E16") && is("Z0,1", "E16") && is("Z0,zz,1", "E16"), "malformed Z");
	ok(is("Z0,1234,1;X3,220101", "OK"), "Z with condition suffix accepted");
	rsp_session_free(S);
}

static void stop_at(enum rsp_stop_reason reason)
{
	struct rsp_stop st = {.kind = RSP_STOP_SIGNAL,
			      .reason = reason,
			      .signo = 5,
			      .thread = {0x64, 0x64},
			      .core = 1};
	rsp_session_report_stop(S, &st);
}

static void test_run(void)
{
	struct rsp_stop st;
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("vCont?", "vCont;c;C;s;S;t;r"), "vCont?");
	ok(q("vCont;c:p64.-1") == NULL && rsp_session_is_waiting(S), "vCont;c waits, no reply");
	ok(fk.nacts == 1 && fk.acts[0].kind == RSP_RESUME_CONTINUE &&
		   fk.acts[0].thread.pid == 0x64 && fk.acts[0].thread.tid == -1,
	   "vCont action parsed");
	stop_at(RSP_REASON_SWBREAK);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "T0502:1011121314151617;03:18191a1b;thread:p64.64;"
					  "core:1;swbreak:;"),
	   "T stop reply with expedited regs and swbreak");
	ok(!rsp_session_is_waiting(S), "not waiting after the stop");
	ok(rsp_session_report_stop(S, &st) == 0 && wire_len == 0,
	   "report_stop ignored when not waiting");

	q("vCont;C1e:p64.65;s:p64.64;r1000,1010;t");
	ok(fk.nacts == 4 && fk.acts[0].signo == 10 && fk.acts[0].thread.tid == 0x65 &&
		   fk.acts[1].kind == RSP_RESUME_STEP && fk.acts[2].kind == RSP_RESUME_RANGE_STEP &&
		   fk.acts[2].start == 0x1000 && fk.acts[2].end == 0x1010 &&
		   fk.acts[3].kind == RSP_RESUME_STOP && fk.acts[3].thread.tid == -1,
	   "vCont with signal (gdb 0x1e -> SIGUSR1), step, range, default");
	/* While waiting: an interrupt goes to the target, packets are queued. */
	send_raw("\x03", 1);
	ok(fk.interrupts == 1, "interrupt byte while waiting -> ops->interrupt");
	ok(q("m1000,2") == NULL, "packet while waiting is queued, not answered");
	struct rsp_stop sig = {.kind = RSP_STOP_SIGNAL,
			       .reason = RSP_REASON_SIGNAL,
			       .signo = 2,
			       .thread = {0x64, 0x64},
			       .core = -1};
	rsp_session_report_stop(S, &sig);
	parse_wire();
	ok(npkts == 2 && !strncmp(pkts[0], "T02", 3) && !strcmp(pkts[1], "0001"),
	   "stop reply then the queued reply, in order");
	ok(is("vCont;x", "E16") && is("vCont;C", "E16") && is("vCont", "E16") &&
		   is("vCont;c:zz", "E16"),
	   "malformed vCont");
	ok(is("vCont;C07", "E16"), "vCont with gdb signal having no host number");
	q("c");
	ok(fk.acts[0].kind == RSP_RESUME_CONTINUE && !fk.acts[0].has_addr, "c");
	stop_at(RSP_REASON_NONE);
	parse_wire();
	q("C0b;1234");
	ok(fk.acts[0].signo == 11 && fk.acts[0].has_addr && fk.acts[0].addr == 0x1234,
	   "C sig;addr");
	st = (struct rsp_stop){.kind = RSP_STOP_EXITED, .status = 0, .thread = {0x64, 0x64}};
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "W00;process:64"), "W with process");
	q("s");
	ok(fk.acts[0].kind == RSP_RESUME_STEP && fk.acts[0].thread.tid == 0x64, "s uses Hg thread");
	st = (struct rsp_stop){.kind = RSP_STOP_TERMINATED, .signo = 9, .thread = {0x64, 0x64}};
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "X09;process:64"), "X with process");
	q("S1e");
	st = (struct rsp_stop){.kind = RSP_STOP_THREAD_EXITED, .status = 3, .thread = {0x64, 0x65}};
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "w03;p64.65"), "w thread exit");
	q("c");
	st = (struct rsp_stop){.kind = RSP_STOP_NO_RESUMED};
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "N"), "N");
	q("c");
	st = (struct rsp_stop){.kind = RSP_STOP_SIGNAL,
			       .reason = RSP_REASON_WATCH,
			       .signo = 5,
			       .thread = {0x64, 0x64},
			       .core = -1,
			       .watch_addr = 0x1008};
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], ";thread:p64.64;watch:1008;"), "watch reason");
	q("c");
	st.reason = RSP_REASON_FORK;
	st.child = (struct rsp_ptid){0x70, 0x70};
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], "fork:p70.70;"), "fork reason when negotiated");
	q("c");
	st.reason = RSP_REASON_EXEC;
	st.exec_path = "/a";
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], "exec:2f61;"), "exec reason hex path");
	q("c");
	st.reason = RSP_REASON_CREATE;
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && !has(pkts[0], "create"), "create: only after QThreadEvents:1");
	ok(is("QThreadEvents:1", "OK") && fk.feat.thread_events, "QThreadEvents");
	q("c");
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], "create:;"), "create: after QThreadEvents:1");
	q("c");
	st.reason = RSP_REASON_SYSCALL_ENTRY;
	st.syscall_no = 0x3c;
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], "syscall_entry:3c;"), "syscall_entry");
	q("c");
	st.reason = RSP_REASON_REPLAY_BEGIN;
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], "replaylog:begin;"), "replaylog");
	q("c");
	st.reason = RSP_REASON_LIBRARY;
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], "library:;") && !has(pkts[0], "reason:"),
	   "library: and no lldb keys for gdb");
	q("c");
	ok(rsp_session_console(S, "hi", 2) == 0, "console while waiting");
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "O6869"), "console O packet");
	stop_at(RSP_REASON_NONE);
	parse_wire();
	ok(is("vCtrlC", "OK") && fk.interrupts == 2, "vCtrlC");
	ok(is("Tp64.65", "OK") && is("Tp64.99", "E03") && is("Tzz", "E16"), "T thread alive");
	fk.has_process = false;
	ok(is("c", "E03") && !rsp_session_is_waiting(S), "resume failure -> E, not waiting");
	fk.has_process = true;
	ok(is("vKill;64", "OK") && fk.kill_pid == 0x64, "vKill");
	ok(is("vKill;", "E16"), "vKill malformed");
	rsp_session_free(S);
}

/* Non-stop: resumes answer OK at once; each stop is a %Stop notification when nothing is
 * outstanding, else queued; vStopped acknowledges and fetches the next; `?` lists every
 * stopped thread; vAttach answers OK. */
static void test_non_stop(void)
{
	struct rsp_stop st = {
		.kind = RSP_STOP_SIGNAL, .signo = 0, .thread = {0x64, 0x65}, .core = 0};
	S = open_session(true, NULL);
	gdb_connect();
	ok(is("QNonStop:1", "OK") && fk.non_stop, "QNonStop:1 -> OK, target told");
	ok(is("QNonStop:2", "E16") && is("QNonStop", "E16"), "QNonStop garbage -> E16");
	ok(is("vCont;c:p64.65", "OK") && !rsp_session_is_waiting(S) &&
		   fk.acts[0].thread.tid == 0x65,
	   "vCont answers OK at once and the session does not wait");
	ok(is("m1000,2", "0001"), "packets served while threads run");
	stop_at(RSP_REASON_SWBREAK);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "%Stop:T0502:1011121314151617;03:18191a1b;"
					  "thread:p64.64;core:1;swbreak:;"),
	   "a stop is sent at once as a %Stop notification");
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 0, "a second stop waits while the first is not acknowledged");
	ok(is("vStopped", "T0002:9091929394959697;03:98999a9b;thread:p64.65;core:0;"),
	   "vStopped acknowledges the first and gets the second");
	ok(is("vStopped", "OK"), "vStopped with nothing left -> OK");
	ok(is("vStopped", "OK"), "vStopped again -> OK");
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && !strncmp(pkts[0], "%Stop:T00", 9), "the next stop is notified again");
	ok(is("?", "T0502:1011121314151617;03:18191a1b;thread:p64.64;core:1;"),
	   "? in non-stop: the queue is replaced by every stopped thread");
	ok(is("vStopped", "OK"), "...and vStopped ends the list");
	ok(is("Hgp64.65", "OK") && is("vCtrlC", "OK") && fk.interrupts == 1, "vCtrlC -> OK");
	send_raw("\x03", 1);
	ok(fk.interrupts == 2, "interrupt byte in non-stop interrupts");
	ok(is("vAttach;64", "OK"), "vAttach in non-stop -> OK (stops come as notifications)");
	ok(is("QNonStop:0", "OK") && !fk.non_stop, "QNonStop:0 -> all-stop");
	ok(q("vCont;c") == NULL && rsp_session_is_waiting(S), "all-stop again: vCont waits");
	rsp_session_free(S);
}

static void test_catch_syscalls(void)
{
	char big[8192] = "QCatchSyscalls:1";
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("QCatchSyscalls:1", "OK") && fk.sc_on && fk.sc_n == 0, "QCatchSyscalls:1 -> all");
	ok(is("QCatchSyscalls:1;1;e7;1b3", "OK") && fk.sc_on && fk.sc_n == 3 && fk.sc_last == 0x1b3,
	   "QCatchSyscalls:1;1;e7;1b3 -> three numbers");
	ok(is("QCatchSyscalls:0", "OK") && !fk.sc_on, "QCatchSyscalls:0 -> off");
	ok(is("QCatchSyscalls:0;1", "E16") && is("QCatchSyscalls:1;", "E16") &&
		   is("QCatchSyscalls:1;zz", "E16") && is("QCatchSyscalls:2", "E16") &&
		   is("QCatchSyscalls", "E16") && is("QCatchSyscalls:1;100000000", "E16"),
	   "malformed QCatchSyscalls -> E16");
	for (int i = 0; i < 1100; i++)
		strcat(big, ";1");
	ok(is(big, "E16"), "more than 1024 numbers -> E16");
	ok(fk.sc_n == 0 && !fk.sc_on, "a refused packet changes nothing");
	rsp_session_free(S);
}

static void test_threads(void)
{
	const char *r;
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("qfThreadInfo", "mp64.64,p64.65") && is("qsThreadInfo", "l"), "thread list");
	ok(is("qC", "QCp64.64"), "qC");
	ok(is("qThreadExtraInfo,p64.65", "776f22726b7d6572"), "qThreadExtraInfo");
	ok(is("qThreadExtraInfo,p64.99", "E03"), "qThreadExtraInfo unknown");
	r = q("qXfer:threads:read::0,1000");
	ok(r && !strcmp(r, "l<?xml version=\"1.0\"?>\n<threads>\n<thread id=\"p64.64\" "
			   "core=\"1\" name=\"main\"/>\n<thread id=\"p64.65\" "
			   "name=\"wo&quot;rk}]er\"/>\n</threads>\n"),
	   "qXfer:threads XML, escaped");
	r = q("qXfer:threads:read::0,5");
	ok(r && !strcmp(r, "m<?xml"), "qXfer:threads first chunk");
	r = q("qXfer:threads:read::1000,5");
	ok(r && !strcmp(r, "l"), "qXfer past the end");
	ok(is("qXfer:threads:read:x:0,5", "E16"), "qXfer:threads with annex");
	rsp_session_free(S);
}

static void test_xfer(void)
{
	const char *r;
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("qXfer:features:read:target.xml:0,a", "m<target><a"), "features chunk");
	ok(is("qXfer:features:read:target.xml:a,1000",
	      "lrchitecture>i386:x86-64</architecture></target>"),
	   "features last chunk");
	ok(is("qXfer:features:read:foo.xml:0,10", "E00"), "bad annex -> E00");
	ok(is("qXfer:features:read:target.xml:0", "E16"), "features missing length");
	r = q("qXfer:auxv:read::0,100");
	ok(r && pkt_lens[0] == 13 && !memcmp(r, "l}\x03}\x04}]}\n\0\1\2\3", 13), "auxv escaped");
	r = q("qXfer:auxv:read::2,2");
	ok(r && pkt_lens[0] == 5 && !memcmp(r, "m}]}\n", 5), "auxv middle chunk is m");
	ok(is("qXfer:libraries-svr4:read::0,1000", "l<library-list-svr4 version=\"1.0\"/>"),
	   "empty library list");
	fk.nlibs = 2;
	ok(is("qXfer:libraries-svr4:read::0,1000",
	      "l<library-list-svr4 version=\"1.0\"><library name=\"/lib/libc.so.6\" lm=\"0x7f00\" "
	      "l_addr=\"0x7e00\" l_ld=\"0x7f10\" lmid=\"0x0\"/><library name=\"/lib/libc.so.6\" "
	      "lm=\"0x7f01\" l_addr=\"0x7e00\" l_ld=\"0x7f10\" lmid=\"0x0\"/></library-list-svr4>"),
	   "library list, no main-lm");
	ok(is("qXfer:exec-file:read:64:0,100", "l/bin/prog"), "exec-file");
	ok(is("qXfer:exec-file:read:64:4,3", "m/pr"), "exec-file chunk");
	ok(is("qXfer:exec-file:read:zz:0,100", "E16"), "exec-file bad pid");
	ok(is("qXfer:siginfo:write::0:abc", "3") && is("qXfer:siginfo:read::0,3", "mabc"),
	   "siginfo write then read");
	ok(is("qXfer:unknown:read::0,10", ""), "unknown qXfer object -> empty");
	rsp_session_free(S);
}

static void test_vfile(void)
{
	const char *r;
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("vFile:setfs:0", "F0") && fk.fs_pid == 0, "setfs");
	ok(is("vFile:open:6a7573742070726f62696e67,0,1c0", "F-1,2"), "open just probing");
	ok(is("vFile:open:2f66,0,0", "F5"), "open");
	ok(is("vFile:open:2f66,a00,1a4", "F-1,11"), "open O_CREAT|O_EXCL -> EEXIST");
	ok(is("vFile:open:2f66,10000,0", "F-1,16"), "open unknown flag -> EINVAL");
	ok(is("vFile:open:2f6,0,0", "F-1,16"), "open odd hex path");
	r = q("vFile:pread:5,100,0");
	ok(r && pkt_lens[0] == 17 && !memcmp(r, "Fc;hello}]world}\x03", 17), "pread escaped");
	ok(is("vFile:pread:5,3,2", "F3;llo"), "pread offset");
	ok(is("vFile:pread:6,3,2", "F-1,9"), "pread bad fd");
	send_pkt("vFile:pwrite:5,0,}]X", 20);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "F2") && fk.file[0] == '}' && fk.file[1] == 'X',
	   "pwrite unescapes");
	r = q("vFile:fstat:5");
	ok(r && pkt_lens[0] == 4 + 65 && !memcmp(r, "F40;", 4) &&
		   !memcmp(r + 4, "\0\0\0\0\0\0\0}\x03", 9),
	   "fstat big-endian, escaped");
	ok(is("vFile:close:5", "F0") && is("vFile:close:7", "F-1,9"), "close");
	ok(is("vFile:unlink:2f66", "F0") && is("vFile:unlink:2f67", "F-1,5b"),
	   "unlink and ENAMETOOLONG -> 91");
	ok(is("vFile:readlink:2f70726f632f73656c662f657865", "F9;/bin/prog"), "readlink");
	ok(is("vFile:size:2f66", "Fc") && is("vFile:exists:2f66", "F,1") &&
		   is("vFile:exists:2f67", "F,0") && is("vFile:mode:2f66", "F1a4"),
	   "lldb vFile:size/exists/mode");
	ok(is("vFile:pread:5", "F-1,16"), "pread malformed");
	rsp_session_free(S);
}

static void test_launch_general(void)
{
	const char *r;
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("QEnvironmentHexEncoded:413d31", "OK") && !strcmp(fk.env, "A=1"), "env set");
	ok(is("QEnvironmentHexEncoded:41", "E16"), "env set without =");
	ok(is("QEnvironmentUnset:41", "OK") && !strcmp(fk.env, "-A"), "env unset");
	ok(is("QEnvironmentReset", "OK") && !fk.env[0], "env reset");
	ok(is("QSetWorkingDir:2f746d70", "OK") && !strcmp(fk.cwd, "/tmp"), "set cwd");
	ok(is("QSetWorkingDir:", "OK") && !fk.cwd[0], "reset cwd");
	ok(is("QDisableRandomization:1", "OK") && fk.aslr_off, "QDisableRandomization");
	ok(is("QSetDisableASLR:0", "OK") && !fk.aslr_off, "QSetDisableASLR");
	ok(is("QStartupWithShell:1", "OK") && fk.shell, "QStartupWithShell");
	ok(is("QStartupWithShell:2", "E16"), "QStartupWithShell bad value");
	ok(is("QPassSignals:e;1e;14", "OK") && fk.pass[14] && fk.pass[10] && fk.pass[17] &&
		   !fk.pass[20],
	   "QPassSignals translated to host numbers");
	ok(is("QPassSignals:zz", "E16"), "QPassSignals garbage");
	ok(is("QLaunchArch:x86_64", "OK"), "QLaunchArch");
	ok(is("qHostInfo", "triple:7838365f36342d70632d6c696e75782d676e75;ptrsize:8;"
			   "endian:little;ostype:linux;watchpoint_exceptions_received:after;"),
	   "qHostInfo");
	ok(is("qProcessInfo", "pid:64;parent-pid:1;real-uid:0;real-gid:0;effective-uid:0;"
			      "effective-gid:0;triple:7838365f36342d70632d6c696e75782d676e75;"
			      "ostype:linux;endian:little;ptrsize:8;name:2f62696e2f70726f67;"),
	   "qProcessInfo");
	ok(is("qGetWorkingDir", "2f746d70"), "qGetWorkingDir");
	ok(is("qEcho:7", "qEcho:7"), "qEcho");
	ok(is("qWatchpointSupportInfo:", "num:4;"), "qWatchpointSupportInfo");
	r = q("qRcmd,68656c6c6f");
	ok(npkts == 2 && !strcmp(pkts[0], "O68690a") && !strcmp(r, "OK"), "monitor hello");
	r = q("qRcmd,68656c70");
	ok(npkts == 6 && pkts[0][0] == 'O' && !strcmp(pkts[4], "O202068656c6c6f0a") &&
		   !strcmp(r, "OK"),
	   "monitor help: gdbserver's header, the session's commands (one packet a line), then "
	   "the target's");
	r = q("qRcmd,78");
	ok(npkts == 7 &&
		   !strcmp(pkts[0], "O556e6b6e6f776e206d6f6e69746f7220636f6d6d616e642e0a0a") &&
		   !strcmp(r, "E01"),
	   "unknown monitor command: gdbserver's message, the list, E01");
	r = q("qRcmd,");
	ok(npkts == 7 && !strcmp(r, "E01"),
	   "empty monitor command: the same (gdb: Protocol error)");
	r = q("qRcmd,7365742072656d6f74652d64656275672031"); /* set remote-debug 1 */
	ok(npkts == 2 && !strcmp(r, "OK") &&
		   !strcmp(pkts[0],
			   "O50726f746f636f6c206465627567206f757470757420656e61626c65642e0a"),
	   "set remote-debug 1: gdbserver's answer");
	r = q("qRcmd,7365742064656275672d666f726d617420616c6c2c6e6f6e65"); /* set debug-format
									      all,none */
	ok(npkts == 3 && !strcmp(r, "OK"), "set debug-format all,none: one line each");
	r = q("qRcmd,7365742064656275672d666f726d61742078"); /* set debug-format x */
	ok(npkts == 2 && !strcmp(r, "OK") && pkts[0][0] == 'O',
	   "set debug-format x: the usage line");
	ok(is("qRcmd,7", "E16"), "qRcmd odd hex");
	ok(is("QEnableErrorStrings", "OK"), "QEnableErrorStrings");
	r = q("m0,4");
	ok(r && !strncmp(r, "E05;", 4) && strlen(r) > 6, "error string after QEnableErrorStrings");
	r = q("qRcmd,65786974");
	ok(r && !strcmp(r, "OK") && last_state == RSP_SESSION_EXIT, "monitor exit -> EXIT");
	rsp_session_free(S);
}

static void test_malformed(void)
{
	static const char *bad[] = {
		"m",
		"m,",
		"mzz,1",
		"m1000",
		"m1000,",
		"M1000,2",
		"X1000",
		"p",
		"P",
		"Pzz",
		"Z",
		"z0",
		"qXfer:auxv:read::",
		"qXfer:auxv:read::0,",
		"vFile:close:zz",
		"D;zz",
		"Tp",
		"H",
		"Hg",
		"qCRC:1",
		"_M",
		"QPassSignals:1;;",
		"qRegisterInfozz",
		"C",
		"Cz",
		"S",
		"c1000x",
		"vAttach;zz",
		"qThreadExtraInfo",
		"qXfer:siginfo:write::0",
		"m10000000000000000,1",
		"p;thread:zz;",
	};
	int all = 1;
	S = open_session(false, NULL);
	gdb_connect();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *r = q(bad[i]);
		bool good = r && (r[0] == 'E' || (r[0] == 'F' && r[1] == '-')) &&
			    last_state == RSP_SESSION_OPEN;
		if (!good) {
			printf("# malformed %s -> %s\n", bad[i], r ? r : "(none)");
			all = 0;
		}
	}
	ok(all, "every malformed packet gets an error reply");
	ok(is("m1000,1", "00"), "session continues after malformed packets");
	/* Binary junk as a packet. */
	send_pkt("\x01\x02\xff", 3);
	parse_wire();
	ok(npkts == 1 && pkt_lens[0] == 0, "binary junk -> empty reply");
	rsp_session_free(S);
}

static void test_framing_faults(void)
{
	struct rsp_session_stats st;
	S = open_session(false, NULL);
	send_raw("$m1000,1#00", 11);
	parse_wire();
	ok(wire_len == 0 && npkts == 0, "bad checksum: no reply");
	rsp_session_stats(S, &st);
	ok(st.bad_checksum == 1, "bad checksum counted");
	send_raw("$m1000,1#00", 11);
	ok(wire_len == 1 && wire[0] == '-', "bad checksum answered with -");
	wire_len = 0;
	send_raw("junk", 4);
	rsp_session_stats(S, &st);
	ok(st.garbage_bytes == 4 && wire_len == 0, "garbage skipped and counted");
	q("m1000,1");
	send_raw("-", 1);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "00"), "- resends the last reply");
	rsp_session_stats(S, &st);
	ok(st.nacks == 1 && st.packets == 1, "nack and packet counted");
	char big[0x4100];
	memset(big, 'm', sizeof(big));
	send_pkt(big, sizeof(big));
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "E07"), "oversized packet -> E07");
	rsp_session_stats(S, &st);
	ok(st.overflow == 1, "oversize counted");
	ok(is("m1000,1", "00"), "resync after oversize");
	send_raw("\x03", 1);
	rsp_session_stats(S, &st);
	ok(st.interrupts == 1 && fk.interrupts == 0, "interrupt while not waiting: counted only");
	rsp_session_free(S);
}

static void test_disabled(void)
{
	const char *r;
	S = open_session(false, "qXfer:auxv:read,vCont,Z0,multiprocess");
	r = q(gdb_features);
	ok(r && !has(r, "qXfer:auxv:read+") && !has(r, "vContSupported+") &&
		   has(r, "qXfer:features:read+") && !has(r, "multiprocess+"),
	   "disabled packets not advertised");
	ok(!fk.feat.multiprocess, "disabled multiprocess not negotiated");
	ok(is("qXfer:auxv:read::0,10", ""), "disabled qXfer:auxv -> empty");
	ok(is("vCont?", "") && is("vCont;c", "") && fk.resumes == 0, "disabled vCont -> empty");
	ok(is("Z0,1000,1", "") && is("Z1,1000,1", "OK"), "Z0 disabled, Z1 not");
	ok(is("qfThreadInfo", "m64,65"), "no multiprocess: plain tids");
	rsp_session_free(S);

	/* Capabilities missing from ops are neither served nor advertised. */
	S = open_session(false, NULL);
	ops.xfer_auxv = NULL;
	ops.resume = NULL;
	ops.list_libraries = NULL;
	r = q(gdb_features);
	ok(r && !has(r, "auxv") && !has(r, "vCont") && !has(r, "libraries"),
	   "NULL ops not advertised");
	ok(is("qXfer:auxv:read::0,10", "") && is("c", "") && is("vCont?", ""),
	   "NULL ops -> empty replies");
	rsp_session_free(S);
}

static void test_lldb(void)
{
	const char *r;
	S = open_session(false, NULL);
	/* lldb sends QStartNoAckMode first; that exchange is acked. */
	r = q("QStartNoAckMode");
	ok(r && !strcmp(r, "OK") && nacks == 1, "QStartNoAckMode first, acked");
	r = q("qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+;fork-events+;"
	      "vfork-events+");
	ok(nacks == 0 && r && !has(r, "swbreak+") && has(r, "multiprocess+"),
	   "lldb qSupported, no acks");
	ok(fk.feat.is_lldb && !fk.feat.swbreak, "lldb detected");
	ok(!has(r, "QNonStop+") && is("QNonStop:1", "") && !fk.non_stop,
	   "non-stop is not offered to lldb (QNonStop: empty reply)");
	ok(is("QThreadSuffixSupported", "OK"), "QThreadSuffixSupported");
	ok(is("QListThreadsInStopReply", "OK"), "QListThreadsInStopReply");
	ok(is("p2;thread:0065;", "9091929394959697"), "p with zero-padded thread suffix");
	ok(is("p2;thread:p64.64;", "1011121314151617"), "p with multiprocess thread suffix");
	ok(is("P0=0102030405060708;thread:65;", "OK") && fk.regs[1][0] == 1 && fk.regs[0][0] == 0,
	   "P with thread suffix");
	ok(is("g;thread:00000065;", "010203040506070888898a8b8c8d8e8f909192939495969798999a9b"
				    "xxxxxxxxxxxxxxxxxxxx"),
	   "g with thread suffix");
	ok(is("p2;thread:65", "9091929394959697"), "suffix without trailing ;");
	ok(is("p2;thread:65;x", "E16"), "suffix with junk");
	r = q("?");
	ok(r && !strcmp(r, "T0500:0001020304050607;01:08090a0b0c0d0e0f;02:1011121314151617;"
			   "03:18191a1b;04:xxxxxxxxxxxxxxxxxxxx;thread:p64.64;core:1;"
			   "name:main;threads:64,65;thread-pcs:1716151413121110,"
			   "9796959493929190;"),
	   "lldb ? with all GPRs, name, threads, thread-pcs");
	ok(is("qRegisterInfo0", "name:rax;bitsize:64;offset:0;encoding:uint;format:hex;"
				"set:General Purpose Registers;ehframe:0;dwarf:0;"),
	   "qRegisterInfo0");
	ok(is("qRegisterInfo2", "name:rip;alt-name:pc;bitsize:64;offset:16;encoding:uint;"
				"format:hex;set:General Purpose Registers;ehframe:16;dwarf:16;"
				"generic:pc;"),
	   "qRegisterInfo with generic");
	ok(is("qRegisterInfo5", "E45"), "qRegisterInfo end");
	r = q("jThreadsInfo");
	ok(r && !strncmp(r,
			 "[{\"tid\":100,\"name\":\"main\",\"reason\":\"signal\",\"signal\":5,"
			 "\"registers\":{\"0\":\"0001020304050607\",",
			 90),
	   "jThreadsInfo start");
	ok(r && has(r, "\"name\":\"wo\\\"rk}]er\"") && has(r, "}]]") && !has(r, "}}"),
	   "jThreadsInfo escapes } and quotes");
	ok(is("QSaveRegisterState;thread:65;", "1"), "QSaveRegisterState");
	ok(is("P0=1111111111111111;thread:65;", "OK") && fk.regs[1][0] == 0x11, "clobber");
	ok(is("QRestoreRegisterState:1;thread:65;", "OK") && fk.regs[1][0] == 1,
	   "QRestoreRegisterState");
	ok(is("QRestoreRegisterState:1;thread:65;", "E02"), "restore twice -> E02");
	ok(is("qThreadStopInfo65", "T0000:0102030405060708;01:88898a8b8c8d8e8f;"
				   "02:9091929394959697;03:98999a9b;04:xxxxxxxxxxxxxxxxxxxx;"
				   "thread:p64.65;core:1;hexname:776f22726b7d6572;threads:64,65;"
				   "thread-pcs:1716151413121110,9796959493929190;"),
	   "qThreadStopInfo for a non-signalled thread");
	q("vCont;s:0065");
	ok(fk.acts[0].kind == RSP_RESUME_STEP && fk.acts[0].thread.tid == 0x65 &&
		   fk.acts[0].thread.pid == 0,
	   "lldb zero-padded vCont thread");
	stop_at(RSP_REASON_SWBREAK);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], "reason:breakpoint;") && !has(pkts[0], "swbreak"),
	   "lldb breakpoint stop: reason:breakpoint, no swbreak");
	q("c");
	stop_at(RSP_REASON_TRACE);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], "reason:trace;"), "lldb trace stop");
	ok(is("D;0000000000000064", "OK") && fk.detach_pid == 0x64 &&
		   last_state == RSP_SESSION_CLOSE,
	   "D with zero-padded pid closes (non-extended, nothing left)");
	rsp_session_free(S);

	S = open_session(false, NULL);
	q("QStartNoAckMode");
	q("qSupported:xmlRegisters=i386,arm,mips,arc;multiprocess+");
	fk.has_process = false;
	ok(is("?", "E02"), "lldb ? without process -> E02");
	fk.has_process = true;
	ok(is("k", "X09") && fk.kills == 1 && last_state == RSP_SESSION_CLOSE, "k -> X09, close");
	rsp_session_free(S);
}

static void test_extended(void)
{
	S = open_session(false, NULL);
	gdb_connect();
	ok(is("!", "OK"), "! enables extended mode");
	fk.has_process = false;
	ok(is("?", "W00"), "? without process in extended mode -> W00");
	ok(is("vRun;2f62696e2f74727565;2d61",
	      "T0502:1011121314151617;03:18191a1b;thread:p64.64;") &&
		   !strcmp(fk.argv0, "/bin/true") && fk.argc == 2,
	   "vRun returns the new process's stop");
	ok(is("vRun;2f6", "E16"), "vRun bad hex");
	ok(is("vRun", "E16"), "vRun without program");
	ok(is("D", "OK") && last_state == RSP_SESSION_OPEN, "D in extended mode stays open");
	ok(is("vAttach;64", "T0502:1011121314151617;03:18191a1b;thread:p64.64;"), "vAttach");
	ok(is("vAttach;99", "E03"), "vAttach failure");
	ok(is("k", "X09") && last_state == RSP_SESSION_OPEN, "k in extended mode stays open");
	q("R00");
	ok(npkts == 0 && fk.has_process, "R restarts without a reply");
	rsp_session_free(S);

	S = open_session(false, NULL);
	gdb_connect();
	ok(is("R00", "E01"), "R outside extended mode refused");
	ok(is("D", "OK") && last_state == RSP_SESSION_CLOSE, "D in normal mode closes");
	rsp_session_free(S);
}

/* Issue 2 audit: reasons, packets and --disable-packet names not covered above. */
static void test_audit_stops(void)
{
	S = open_session(false, NULL);
	gdb_connect();
	q("c");
	stop_at(RSP_REASON_HWBREAK);
	parse_wire();
	ok(npkts == 1 && !strcmp(pkts[0], "T0502:1011121314151617;03:18191a1b;thread:p64.64;"
					  "core:1;hwbreak:;"),
	   "hwbreak reason when negotiated");
	q("c");
	struct rsp_stop st = {.kind = RSP_STOP_SIGNAL,
			      .reason = RSP_REASON_AWATCH,
			      .signo = 5,
			      .thread = {0x64, 0x65},
			      .core = -1,
			      .watch_addr = 0x2000};
	rsp_session_report_stop(S, &st);
	parse_wire();
	ok(npkts == 1 && has(pkts[0], ";thread:p64.65;awatch:2000;"), "awatch reason");
	ok(is("QProgramSignals:e;1e", "OK") && fk.pass[14] && fk.pass[10] && !fk.pass[2],
	   "QProgramSignals translated to host numbers");
	ok(is("QProgramSignals:1;zz", "E16"), "QProgramSignals garbage");
	ok(is("Z1,1000,1", "OK") && fk.pt_type == RSP_POINT_HW && is("z1,1000,1", "OK"), "Z1/z1");
	ok(is("Z4,2000,8", "OK") && fk.pt_type == RSP_POINT_ACCESS, "Z4");
	rsp_session_free(S);

	S = open_session(false, NULL);
	q("qSupported:multiprocess+;hwbreak-");
	q("c");
	stop_at(RSP_REASON_HWBREAK);
	parse_wire();
	ok(npkts == 1 && !has(pkts[0], "hwbreak"), "no hwbreak key unless negotiated");
	rsp_session_free(S);
}

static void test_audit_disabled(void)
{
	S = open_session(false, "T");
	gdb_connect();
	ok(is("?", "S05") && is("Tp64.65", "OK"), "--disable-packet=T: S replies, T alive kept");
	rsp_session_free(S);

	S = open_session(false, "Tthread");
	gdb_connect();
	ok(is("?", "T0502:1011121314151617;03:18191a1b;") && is("qC", "QCp64.64"),
	   "--disable-packet=Tthread: no thread or core in T");
	rsp_session_free(S);

	S = open_session(false, "threads");
	const char *r = q(gdb_features);
	ok(r && !has(r, "vContSupported+"), "--disable-packet=threads: no vContSupported");
	ok(is("qC", "") && is("qfThreadInfo", "") && is("qsThreadInfo", "") && is("vCont?", "") &&
		   is("?", "T0502:1011121314151617;03:18191a1b;"),
	   "--disable-packet=threads: vCont, Tthread, qC, qfThreadInfo (gdbserver's group)");
	rsp_session_free(S);

	S = open_session(false, "qfThreadInfo");
	gdb_connect();
	ok(is("qfThreadInfo", "") && is("qsThreadInfo", "") && is("qC", "QCp64.64"),
	   "--disable-packet=qfThreadInfo takes qsThreadInfo along");
	rsp_session_free(S);
}

static void test_audit_extended(void)
{
	S = open_session(true, NULL);
	gdb_connect();
	fk.argc = 99;
	q("R00");
	ok(npkts == 0 && fk.has_process && fk.argc == 0, "R asks for the last program and args");
	ok(is("?", "T0502:1011121314151617;03:18191a1b;thread:p64.64;"), "? after R: the new stop");
	ok(is("vRun;;61", "T0502:1011121314151617;03:18191a1b;thread:p64.64;") && !fk.argv0[0] &&
		   fk.argc == 2,
	   "vRun with an empty name keeps the packet's arguments");
	rsp_session_free(S);
}

int main(void)
{
	test_handshake();
	test_regs();
	test_mem();
	test_points();
	test_run();
	test_non_stop();
	test_catch_syscalls();
	test_threads();
	test_xfer();
	test_vfile();
	test_launch_general();
	test_malformed();
	test_framing_faults();
	test_disabled();
	test_lldb();
	test_extended();
	test_audit_stops();
	test_audit_disabled();
	test_audit_extended();
	printf("1..%d\n", n_test);
	return failed ? 1 : 0;
}
