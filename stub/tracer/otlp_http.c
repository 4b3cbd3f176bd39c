/* OTLP over HTTP: requests the OTLP printer made are POSTed to a collector by a thread of
 * their own (libcurl), so the tracer, and with it the traced program, never waits for the
 * network. A bounded queue: when it is full (the collector is down or slow) new requests
 * are dropped and their spans counted. Failures that may pass (no connection, 408, 429,
 * 5xx) are retried with exponential backoff; others drop the request. At the end the queue
 * is given a few seconds to drain. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "stub/tracer/internal.h"

#define QUEUE_MAX   64		/* requests waiting */
#define QUEUE_BYTES (64u << 20) /* and their bytes */
#define ATTEMPTS    6		/* per request */
#define BACKOFF_MS  250		/* first wait, doubled each time */
#define TIMEOUT_MS  10000	/* one POST */
#define DRAIN_MS    5000	/* at the end */

struct req {
	struct req *next;
	unsigned nspans;
	size_t len;
	uint8_t body[];
};

struct otlp_http {
	char url[1024];
	bool json;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct req *head, **tail;
	size_t queued, queued_bytes;
	bool closing; /* no more requests; drain until the deadline */
	bool abort;   /* the deadline passed: give up what is left */
	bool warned;
	struct otlp_http_stats st;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static int progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct otlp_http *h = ctx;
	bool stop;

	(void)a, (void)b, (void)c, (void)d;
	pthread_mutex_lock(&h->mu);
	stop = h->abort;
	pthread_mutex_unlock(&h->mu);
	return stop; /* non-zero aborts the transfer */
}

/* One line on the first failure (the end's account says the rest). */
static void warn(struct otlp_http *h, const char *what, long code)
{
	if (h->warned)
		return;
	h->warned = true;
	if (code)
		fprintf(stderr, "tracestub trace: otlp: %s: HTTP %ld%s\n", h->url, code, what);
	else
		fprintf(stderr, "tracestub trace: otlp: %s: %s\n", h->url, what);
}

/* One POST: 0 sent, -EAGAIN worth retrying, -EPROTO refused for good. */
static int post(struct otlp_http *h, CURL *c, const struct req *r)
{
	long code = 0;
	CURLcode rc;

	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)r->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		warn(h, curl_easy_strerror(rc), 0);
		return -EAGAIN;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return 0;
	if (code == 408 || code == 429 || code == 502 || code == 503 || code == 504) {
		warn(h, " (retrying)", code);
		return -EAGAIN;
	}
	warn(h, ": refused, its spans dropped", code);
	return -EPROTO;
}

/* Sleep ms unless the deadline passes first: false when it did. */
static bool backoff(struct otlp_http *h, unsigned ms)
{
	struct timespec until;
	bool go;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&h->mu);
	while (!h->abort && pthread_cond_timedwait(&h->cv, &h->mu, &until) == 0)
		;
	go = !h->abort;
	pthread_mutex_unlock(&h->mu);
	return go;
}

static void *worker(void *arg)
{
	struct otlp_http *h = arg;
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();

	hdr = curl_slist_append(hdr, h->json ? "Content-Type: application/json"
					     : "Content-Type: application/x-protobuf");
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, h->url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	}
	for (;;) {
		struct req *r;
		int rc = -EPROTO;

		pthread_mutex_lock(&h->mu);
		while (!h->head && !h->closing)
			pthread_cond_wait(&h->cv, &h->mu);
		r = h->abort ? NULL : h->head;
		if (!r) {
			pthread_mutex_unlock(&h->mu);
			break;
		}
		pthread_mutex_unlock(&h->mu);
		for (unsigned a = 0, ms = BACKOFF_MS; c && a < ATTEMPTS; a++, ms *= 2) {
			rc = post(h, c, r);
			if (rc != -EAGAIN || a + 1 == ATTEMPTS || !backoff(h, ms))
				break;
		}
		pthread_mutex_lock(&h->mu);
		h->head = r->next;
		if (!h->head)
			h->tail = &h->head;
		h->queued--;
		h->queued_bytes -= r->len;
		if (rc == 0) {
			h->st.sent += r->nspans;
			h->st.requests++;
		} else {
			h->st.dropped += r->nspans;
		}
		pthread_mutex_unlock(&h->mu);
		free(r);
	}
	curl_slist_free_all(hdr);
	if (c)
		curl_easy_cleanup(c);
	return NULL;
}

int otlp_http_open(const char *url, bool json, struct otlp_http **out)
{
	struct otlp_http *h = calloc(1, sizeof(*h));
	const char *path = strchr(url + 7, '/');
	size_t base = path ? (size_t)(path - url) : strlen(url);
	sigset_t all, old;
	int n, rc;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	/* a collector's base address gets the traces path, as OTel exporters do */
	if (path && path[1])
		n = snprintf(h->url, sizeof(h->url), "%s", url);
	else
		n = snprintf(h->url, sizeof(h->url), "%.*s/v1/traces", (int)base, url);
	if (n <= 0 || (size_t)n >= sizeof(h->url)) {
		free(h);
		return -ENAMETOOLONG;
	}
	h->json = json;
	h->tail = &h->head;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* The thread takes no signal: SIGCHLD and the quit signals are the event loop's, read
	 * through a signalfd; delivered here they would be lost. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&h->thread, NULL, worker, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		free(h);
		return -rc;
	}
	h->started = true;
	*out = h;
	return 0;
}

void otlp_http_send(void *ctx, const uint8_t *body, size_t len, unsigned nspans)
{
	struct otlp_http *h = ctx;
	struct req *r;

	pthread_mutex_lock(&h->mu);
	if (h->closing || h->queued >= QUEUE_MAX || h->queued_bytes + len > QUEUE_BYTES ||
	    !(r = malloc(sizeof(*r) + len))) {
		h->st.dropped += nspans;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	r->next = NULL;
	r->nspans = nspans;
	r->len = len;
	memcpy(r->body, body, len);
	*h->tail = r;
	h->tail = &r->next;
	h->queued++;
	h->queued_bytes += len;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

void otlp_http_close(struct otlp_http *h, struct otlp_http_stats *st)
{
	uint64_t deadline = now_ms() + DRAIN_MS;

	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->closing = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for (;;) {
		struct timespec ts = {0, 20 * 1000000};
		bool empty;

		pthread_mutex_lock(&h->mu);
		empty = !h->head;
		if (!empty && now_ms() >= deadline) {
			h->abort = true; /* what is left is dropped */
			pthread_cond_broadcast(&h->cv);
		}
		pthread_mutex_unlock(&h->mu);
		if (empty || h->abort)
			break;
		nanosleep(&ts, NULL);
	}
	pthread_join(h->thread, NULL);
	for (struct req *r = h->head, *n; r; r = n) {
		n = r->next;
		h->st.dropped += r->nspans;
		free(r);
	}
	if (st)
		*st = h->st;
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}

const char *otlp_http_url(const struct otlp_http *h)
{
	return h->url;
}
