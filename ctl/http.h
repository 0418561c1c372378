/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The daemon's small HTTP/1.1 server: GET /metrics and /healthz. */
#ifndef PKTSCOPE_HTTP_H
#define PKTSCOPE_HTTP_H

#include <sys/socket.h>

#define PS_HTTP_DEFAULT_LISTEN	"127.0.0.1:9435"
#define PS_HTTP_HEADER_MAX	8192	/* larger request headers get 431 */

struct ps_http_cfg {
	int max_conns;		/* client slots; more connections get 503 */
	double read_timeout;	/* seconds for a whole request header (and keep-alive idle) */
	double write_timeout;	/* seconds for a whole response */
	double start_time;	/* for pktscope_daemon_start_time_seconds */
};

/* "IPv4:PORT", "[IPv6]:PORT": 0, or -1 with a reason in why. */
int ps_http_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		       const char **why);
/* A listening, non-blocking socket, or -1 after printing why (port in use...). */
int ps_http_listen(const struct sockaddr_storage *ss, socklen_t len, const char *spec);
/* Serve until ps_exiting; closes every client, not lfd. */
int ps_http_serve(int lfd, const struct ps_http_cfg *cfg);

#endif /* PKTSCOPE_HTTP_H */
