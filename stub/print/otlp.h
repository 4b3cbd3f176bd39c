/* The OTLP printer's insides, shared by otlp.c (events to spans, batches) and otlp_enc.c
 * (a batch to protobuf or OTLP/JSON bytes). Only the print folder includes this. */
#ifndef TRACESTUB_STUB_PRINT_OTLP_H
#define TRACESTUB_STUB_PRINT_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "stub/print/print.h"

#define OTLP_OPEN      1024	     /* calls open at once (more are dropped, counted) */
#define OTLP_BATCH     256	     /* spans per request */
#define OTLP_ATTRS     40	     /* attributes per span */
#define OTLP_VALUE_MAX 256	     /* bytes of one string value */
#define OTLP_FLUSH_NS  1000000000ull /* a batch is sent at most this long after its first span */
/* A request's size bound: every byte of every span's strings escaped six times over, plus
 * the fixed fields. */
#define OTLP_BODY_MAX (OTLP_BATCH * (6 * 2048 + 64 * OTLP_ATTRS + 256) + 65536)

enum otlp_type { OTLP_STR, OTLP_INT, OTLP_DOUBLE, OTLP_BOOL };
enum { OTLP_KIND_INTERNAL = 1, OTLP_KIND_SERVER = 2, OTLP_KIND_CLIENT = 3 };
enum { OTLP_STATUS_UNSET = 0, OTLP_STATUS_ERROR = 2 };

struct otlp_attr {
	uint32_t key, s; /* offsets into the span's strs */
	enum otlp_type type;
	int64_t i;
	double d;
};

struct otlp_span {
	uint8_t trace_id[16];
	uint64_t span_id, parent_id;
	uint8_t link_trace_id[16]; /* a link to a span of another trace (link_span_id 0: none) */
	uint64_t link_span_id;
	uint64_t start_ns, end_ns; /* Unix time */
	int32_t pid;
	int32_t next; /* free list of open calls */
	int kind, status;
	uint32_t name, exe, status_msg; /* offsets into strs (status_msg 0: none) */
	unsigned nattr;
	struct otlp_attr attr[OTLP_ATTRS];
	uint32_t used;
	char strs[2048]; /* NUL-terminated strings, valid UTF-8; strs[0] is unused */
};

struct otlp_batch {
	struct otlp_span *spans;
	size_t n;
};

/* Length of the valid UTF-8 sequence at p (1 for ASCII), 0 when p does not start one. */
size_t otlp_utf8_len(const uint8_t *p, size_t left);
/* The request holding b's spans, one resource per process, into out[cap]: its length, 0
 * when it does not fit. */
size_t otlp_encode(const struct otlp_batch *b, const char *host, bool json, uint8_t *out,
		   size_t cap);

#endif
