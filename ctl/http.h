/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The daemon's small HTTP/1.1 server: GET /metrics and /healthz. */
#ifndef PKTSCOPE_HTTP_H
#define PKTSCOPE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define PS_HTTP_DEFAULT_LISTEN	"127.0.0.1:9435"
#define PS_HTTP_HEADER_MAX	8192	/* larger request headers get 431 */
/* Longest "[IPv6]:PORT" accepted, with its NUL: a buffer this size holds any valid spec. */
#define PS_HTTP_ADDR_MAX	64

struct ps_http_cfg {
	int max_conns;		/* client slots; more connections get 503 */
	double read_timeout;	/* seconds for a whole request header (and keep-alive idle) */
	double write_timeout;	/* seconds for a whole response */
	double start_time;	/* for pktscope_daemon_start_time_seconds */
};

/* "IPv4:PORT", "[IPv6]:PORT" (< PS_HTTP_ADDR_MAX chars): 0, or -1 with a reason in why. */
int ps_http_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		       const char **why);
/* A listening, non-blocking socket, or -1 after printing why (port in use...). */
int ps_http_listen(const struct sockaddr_storage *ss, socklen_t len, const char *spec);
/*
 * A parsed request header block.  Pointers point into the parsed buffer;
 * target is the path without query or fragment.
 */
struct ps_http_req {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	bool http11;		/* HTTP/1.1 (else HTTP/1.0) */
	bool close;		/* close after the response (version, Connection, a body) */
	bool openmetrics;	/* Accept names application/openmetrics-text */
};

/* Length of the header block ("\r\n\r\n" or "\n\n" included) in b[0..n), or 0. */
size_t ps_http_header_end(const char *b, size_t n);
/*
 * Parse the header block b[0..n) (n from ps_http_header_end): 0, or -1 when
 * the request line is not METHOD TARGET HTTP/1.x or the block holds a NUL.
 * Never reads outside b[0..n); b need not be NUL-terminated.
 */
int ps_http_parse_request(const char *b, size_t n, struct ps_http_req *r);

/* Serve until ps_exiting; closes every client, not lfd. */
int ps_http_serve(int lfd, const struct ps_http_cfg *cfg);

#endif /* PKTSCOPE_HTTP_H */
