/* Unit tests for protocol/hex.c, protocol/buf.c and protocol/signals.c (TAP). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protocol/buf.h"
#include "protocol/hex.h"
#include "protocol/signals.h"

static int n_test;
static int failed;

static void ok(int cond, const char *name)
{
	n_test++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n_test, name);
}

#define U(s) ((const uint8_t *)(s))

static void test_hex(void)
{
	uint8_t out[8];
	size_t n = 99;
	uint64_t v;
	int64_t i;
	char enc[8];
	const uint8_t *p;

	ok(rsp_hex_val('a') == 10 && rsp_hex_val('F') == 15 && rsp_hex_val('9') == 9,
	   "hex digit values");
	ok(rsp_hex_val('g') == -1 && rsp_hex_val(' ') == -1, "non-hex digits rejected");
	ok(rsp_hex_decode(U("00ff7A"), 6, out, sizeof(out), &n) == 0 && n == 3 && out[0] == 0 &&
		   out[1] == 0xff && out[2] == 0x7a,
	   "decode 00ff7A");
	ok(rsp_hex_decode(U("abc"), 3, out, sizeof(out), &n) == -EINVAL, "odd length rejected");
	ok(rsp_hex_decode(U("zz"), 2, out, sizeof(out), &n) == -EINVAL, "garbage rejected");
	ok(rsp_hex_decode(U("0000"), 4, out, 1, &n) == -ENOSPC, "decode overflow rejected");
	rsp_hex_encode(U("\x01\xab\xff"), 3, enc);
	ok(!memcmp(enc, "01abff", 6), "encode lower-case");
	ok(rsp_hex_parse_u64(U("7fffffffffffffff"), 16, &v) == 0 && v == 0x7fffffffffffffffull,
	   "parse 16 digits");
	ok(rsp_hex_parse_u64(U("00000000000000001"), 17, &v) == 0 && v == 1,
	   "leading zeros beyond 16 digits accepted");
	ok(rsp_hex_parse_u64(U("10000000000000000"), 17, &v) == -ERANGE, "overflow rejected");
	ok(rsp_hex_parse_u64(U(""), 0, &v) == -EINVAL, "empty number rejected");
	ok(rsp_hex_parse_u64(U("12x"), 3, &v) == -EINVAL, "trailing garbage rejected");
	p = U("1a,5");
	ok(rsp_hex_scan_u64(&p, p + 4, &v) == 0 && v == 0x1a && *p == ',', "scan stops at comma");
	p = U("-1");
	ok(rsp_hex_scan_i64(&p, p + 2, &i) == 0 && i == -1, "scan -1");
	p = U("-");
	ok(rsp_hex_scan_i64(&p, p + 1, &i) == -EINVAL, "lone minus rejected");
	ok(rsp_dec_parse_u64(U("123"), 3, &v) == 0 && v == 123, "decimal parse");
	ok(rsp_dec_parse_u64(U("12a"), 3, &v) == -EINVAL, "decimal garbage rejected");
	ok(rsp_dec_parse_u64(U("99999999999999999999"), 20, &v) == -ERANGE,
	   "decimal overflow rejected");
}

static void test_escape(void)
{
	uint8_t out[16];
	size_t n, used;

	ok(rsp_bin_unescape(U("a}\x03}]b"), 6, out, sizeof(out), &n) == 0 && n == 4 &&
		   !memcmp(out, "a#}b", 4),
	   "unescape }\\x03 -> # and }] -> }");
	ok(rsp_bin_unescape(U("ab}"), 3, out, sizeof(out), &n) == -EINVAL,
	   "trailing lone } rejected");
	ok(rsp_bin_unescape(U("abcd"), 4, out, 2, &n) == -ENOSPC, "unescape overflow rejected");
	n = rsp_bin_escape(U("#$}*x"), 5, out, sizeof(out), &used);
	ok(n == 9 && used == 5 && !memcmp(out, "}\x03}\x04}]}\nx", 9), "escape # $ } *");
	n = rsp_bin_escape(U("a#"), 2, out, 2, &used);
	ok(n == 1 && used == 1, "escape never splits an escape pair");
	ok(rsp_bin_needs_escape('*') && !rsp_bin_needs_escape(0x03), "needs_escape set");
}

static void test_buf(void)
{
	uint8_t mem[8];
	struct rsp_buf b;
	size_t used;

	rsp_buf_init(&b, mem, sizeof(mem));
	ok(rsp_buf_puts(&b, "OK") == 0 && b.len == 2, "puts");
	ok(rsp_buf_hex_u64(&b, 0x1f) == 0 && !memcmp(mem, "OK1f", 4), "hex number unpadded");
	ok(rsp_buf_puts(&b, "12345") == -ENOSPC && b.len == 4 && b.overflow,
	   "overflow is all-or-nothing");
	rsp_buf_reset(&b);
	ok(rsp_buf_hex_u64_w(&b, 5, 2) == 0 && !memcmp(mem, "05", 2), "padded hex");
	ok(rsp_buf_hex_i64(&b, -1) == 0 && !memcmp(mem, "05-1", 4), "negative hex");
	ok(rsp_buf_hex(&b, U("\xab\xcd\xef"), 3) == -ENOSPC && b.len == 4,
	   "hex bytes overflow leaves buffer");
	rsp_buf_reset(&b);
	ok(rsp_buf_dec_u64(&b, 1234) == 0 && rsp_buf_dec_i64(&b, -5) == 0 &&
		   !memcmp(mem, "1234-5", 6),
	   "decimal");
	rsp_buf_reset(&b);
	rsp_buf_bin(&b, U("}}}}}"), 5, &used);
	ok(used == 4 && b.len == 8 && !b.overflow, "partial escaped binary");
	rsp_buf_reset(&b);
	ok(rsp_buf_bin_all(&b, U("}}}}}"), 5) == -ENOSPC && b.len == 0,
	   "bin_all is all-or-nothing");
	rsp_buf_reset(&b);
	ok(rsp_buf_hex_str(&b, "AB") == 0 && !memcmp(mem, "4142", 4), "hex of string");
}

static void test_signals(void)
{
	ok(rsp_signal_to_gdb(0) == 0, "signal 0");
	ok(rsp_signal_to_gdb(5) == 5 && rsp_signal_to_gdb(2) == 2, "TRAP and INT unchanged");
	ok(rsp_signal_to_gdb(7) == 10, "SIGBUS 7 -> 10");
	ok(rsp_signal_to_gdb(10) == 30 && rsp_signal_to_gdb(12) == 31, "SIGUSR1/2 -> 30/31");
	ok(rsp_signal_to_gdb(17) == 20, "SIGCHLD 17 -> 20");
	ok(rsp_signal_to_gdb(18) == 19 && rsp_signal_to_gdb(19) == 17 &&
		   rsp_signal_to_gdb(20) == 18,
	   "CONT/STOP/TSTP");
	ok(rsp_signal_to_gdb(23) == 16, "SIGURG 23 -> 16");
	ok(rsp_signal_to_gdb(29) == 23 && rsp_signal_to_gdb(30) == 32 &&
		   rsp_signal_to_gdb(31) == 12,
	   "IO/PWR/SYS");
	ok(rsp_signal_to_gdb(16) == RSP_GDB_SIGNAL_UNKNOWN, "SIGSTKFLT has no gdb number");
	ok(rsp_signal_to_gdb(32) == 77 && rsp_signal_to_gdb(33) == 45 &&
		   rsp_signal_to_gdb(34) == 46 && rsp_signal_to_gdb(63) == 75 &&
		   rsp_signal_to_gdb(64) == 78,
	   "realtime signals");
	int round = 1;
	for (int sgn = 1; sgn <= 64; sgn++)
		if (sgn != 16 && rsp_signal_from_gdb(rsp_signal_to_gdb(sgn)) != sgn)
			round = 0;
	ok(round, "round trip of every host signal but SIGSTKFLT");
	ok(rsp_signal_from_gdb(33) == 29, "gdb SIGPOLL -> SIGIO");
	ok(rsp_signal_from_gdb(7) == -1 && rsp_signal_from_gdb(143) == -1,
	   "gdb EMT and UNKNOWN have no host signal");
}

int main(void)
{
	printf("1..47\n");
	test_hex();
	test_escape();
	test_buf();
	test_signals();
	return failed ? 1 : 0;
}
