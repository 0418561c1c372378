// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A small HTTP/1.1 server for the metrics endpoint: one thread, one poll()
 * loop, non-blocking sockets.
 *
 * A client cannot hold the server: a request header must arrive whole
 * within read_timeout (a deadline per request, not per byte, so a trickle
 * of one byte a second is cut off like a silent client), a response must be
 * taken within write_timeout, headers are bounded (431 beyond
 * PS_HTTP_HEADER_MAX), and the client slots are bounded: a connection that
 * finds them all busy gets a 503 at once instead of waiting in the backlog.
 * Scrapes are generated synchronously; they take milliseconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "http.h"
#include "metrics.h"

enum conn_state { C_FREE = 0, C_READ, C_WRITE, C_DRAIN };

struct conn {
	int fd;
	enum conn_state st;
	double deadline;
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	bool close_after;
	char in[PS_HTTP_HEADER_MAX];
};

struct server {
	const struct ps_http_cfg *cfg;
	struct conn *conns;
	int nconns;		/* in use */
	unsigned long long scrapes, refused, bad;
};

int ps_http_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len,
		       const char **why)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	size_t hl;
	uint64_t port = 0;
	char *end = NULL;

	memset(ss, 0, sizeof(*ss));
	/*
	 * Callers store the text and parse it again to bind: a longer one
	 * (a port with many leading zeros) would be cut to another port.
	 */
	if (strlen(s) >= PS_HTTP_ADDR_MAX) {
		*why = "longer than 63 characters";
		return -1;
	}
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':') {
			*why = "expected [IPv6]:PORT";
			return -1;
		}
		h = s + 1;
		hl = rb - h;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*why = "expected ADDRESS:PORT, e.g. 127.0.0.1:9435";
			return -1;
		}
		hl = colon - s;
	}
	if (hl >= sizeof(host)) {
		*why = "address too long";
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = 0;
	errno = 0;
	if (colon[1] >= '0' && colon[1] <= '9')
		port = strtoull(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || errno || !end || *end || port < 1 || port > 65535) {
		*why = "the port must be a number 1..65535";
		return -1;
	}
	if (*s != '[' && inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return 0;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	*why = "the address must be a numeric IPv4 address or [IPv6] (no host names)";
	return -1;
}

int ps_http_listen(const struct sockaddr_storage *ss, socklen_t len, const char *spec)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ps_err("socket for %s: %s", spec, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len)) {
		int e = errno;

		ps_err("listen on %s: %s%s", spec, strerror(e),
		       e == EADDRINUSE ? " (another process has this port: pick another "
		       "with 'listen = ADDRESS:PORT' or --listen)" :
		       e == EADDRNOTAVAIL ? " (no interface has this address in this netns)" : "");
		close(fd);
		return -1;
	}
	if (listen(fd, 1024)) {
		ps_err("listen on %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- connections -------------------------------------------------------------- */

static void conn_close(struct server *s, struct conn *c)
{
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->st = C_FREE;
	c->fd = -1;
	s->nconns--;
}

static void conn_reset(struct server *s, struct conn *c, double now)
{
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	c->inlen = 0;
	c->close_after = false;
	c->st = C_READ;
	c->deadline = now + s->cfg->read_timeout;
}

static const char *reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default:  return "Error";
	}
}

/* Queue a response; body may be NULL (HEAD, or no body). */
static void respond(struct server *s, struct conn *c, int code, const char *ctype,
		    const char *body, size_t blen, bool head, double now)
{
	char hdr[512];
	int hl;

	if (code >= 400)
		s->bad++;
	hl = snprintf(hdr, sizeof(hdr),
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "%s%s\r\n", code, reason(code), ctype, blen,
		      code == 405 ? "Allow: GET, HEAD\r\n" : "",
		      c->close_after ? "Connection: close\r\n" : "");
	c->outlen = hl + (head ? 0 : blen);
	c->out = malloc(c->outlen);
	if (!c->out) {
		c->close_after = true;
		c->outlen = 0;
	} else {
		memcpy(c->out, hdr, hl);
		if (!head && blen)
			memcpy(c->out + hl, body, blen);
	}
	c->outoff = 0;
	c->st = C_WRITE;
	c->deadline = now + s->cfg->write_timeout;
}

static void respond_text(struct server *s, struct conn *c, int code, const char *msg,
			 bool head, double now)
{
	respond(s, c, code, "text/plain; charset=utf-8", msg, strlen(msg), head, now);
}

/* The first header called name (any case) in b[0..n): its value, to the line end. */
static bool header(const char *b, size_t n, const char *name, const char **val, size_t *vlen)
{
	const char *p = b, *end = b + n, *v, *e;
	size_t nl = strlen(name);

	while ((p = memchr(p, '\n', end - p))) {
		p++;
		if ((size_t)(end - p) <= nl || strncasecmp(p, name, nl) || p[nl] != ':')
			continue;
		v = p + nl + 1;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		for (e = v; e < end && *e != '\r' && *e != '\n'; e++)
			;
		*val = v;
		*vlen = e - v;
		return true;
	}
	return false;
}

/* Does [s, s + n) equal the string w (case-insensitive when nocase)? */
static bool word_is(const char *s, size_t n, const char *w, bool nocase)
{
	return n == strlen(w) && !(nocase ? strncasecmp(s, w, n) : memcmp(s, w, n));
}

/* The next space- or tab-separated word of [*p, end), or NULL; moves *p past it. */
static const char *next_word(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *e;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	for (e = s; e < end && *e != ' ' && *e != '\t'; e++)
		;
	*p = e;
	*len = e - s;
	return e > s ? s : NULL;
}

int ps_http_parse_request(const char *b, size_t n, struct ps_http_req *r)
{
	const char *eol, *p = b, *ver, *v;
	size_t verlen, vlen, i, extra;

	memset(r, 0, sizeof(*r));
	/* A NUL cannot be part of a request; C string functions would stop at it. */
	if (memchr(b, '\0', n))
		return -1;
	/* The request line alone: METHOD TARGET HTTP/1.x, nothing after. */
	eol = memchr(b, '\n', n);
	if (!eol)
		return -1;
	if (eol > b && eol[-1] == '\r')
		eol--;
	/* Control characters have no place in a request line (a stray CR included). */
	for (p = b; p < eol; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return -1;
	p = b;
	r->method = next_word(&p, eol, &r->method_len);
	r->target = next_word(&p, eol, &r->target_len);
	ver = next_word(&p, eol, &verlen);
	if (!r->method || r->method_len > 15 || !r->target || !ver || next_word(&p, eol, &extra) ||
	    verlen != 8 || memcmp(ver, "HTTP/1.", 7) || (ver[7] != '0' && ver[7] != '1'))
		return -1;
	for (i = 0; i < r->target_len && r->target[i] != '?' && r->target[i] != '#'; i++)
		;
	r->target_len = i;
	r->http11 = ver[7] == '1';
	r->close = !r->http11;
	if (header(b, n, "Connection", &v, &vlen)) {
		if (word_is(v, vlen, "close", true))
			r->close = true;
		else if (word_is(v, vlen, "keep-alive", true))
			r->close = false;
	}
	/* No request here has a body: one that comes is not read, so close after. */
	if ((header(b, n, "Content-Length", &v, &vlen) && !word_is(v, vlen, "0", false)) ||
	    header(b, n, "Transfer-Encoding", &v, &vlen))
		r->close = true;
	r->openmetrics = header(b, n, "Accept", &v, &vlen) &&
			 memmem(v, vlen, "application/openmetrics-text", 28);
	return 0;
}

static void handle(struct server *s, struct conn *c, size_t hdr_end, double now)
{
	struct ps_metrics_info info;
	struct ps_http_req r;
	char *body = NULL;
	size_t blen = 0;
	bool head;
	FILE *f;

	if (ps_http_parse_request(c->in, hdr_end, &r)) {
		c->close_after = true;
		respond_text(s, c, 400, "bad request line\n", false, now);
		return;
	}
	c->close_after = r.close;
	head = word_is(r.method, r.method_len, "HEAD", false);
	if (!head && !word_is(r.method, r.method_len, "GET", false)) {
		c->close_after = true;
		respond_text(s, c, 405, "only GET and HEAD\n", false, now);
		return;
	}
	if (word_is(r.target, r.target_len, "/healthz", false)) {
		respond_text(s, c, 200, "ok\n", head, now);
		return;
	}
	if (!word_is(r.target, r.target_len, "/metrics", false)) {
		respond_text(s, c, 404, "not found: the endpoints are /metrics and /healthz\n",
			     head, now);
		return;
	}
	info = (struct ps_metrics_info){
		.start_time = s->cfg->start_time, .scrapes = s->scrapes++,
		.refused = s->refused, .bad_requests = s->bad, .conns = s->nconns,
	};
	f = open_memstream(&body, &blen);
	if (!f || ps_metrics_write(f, r.openmetrics, &info) || fclose(f)) {
		free(body);
		c->close_after = true;
		respond_text(s, c, 503, "out of memory\n", head, now);
		return;
	}
	respond(s, c, 200, r.openmetrics ? PS_METRICS_CT_OM : PS_METRICS_CT_TEXT, body, blen,
		head, now);
	free(body);
}

size_t ps_http_header_end(const char *b, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i - 1] == '\n')
			return i + 1;
		if (i >= 3 && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r')
			return i + 1;
	}
	return 0;
}

static void on_read(struct server *s, struct conn *c, double now)
{
	ssize_t n;
	size_t end;

	if (c->st == C_DRAIN) {
		char junk[4096];

		n = recv(c->fd, junk, sizeof(junk), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(s, c);
		return;
	}
	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(s, c);
		return;
	}
	if (n < 0)
		return;
	c->inlen += n;
	end = ps_http_header_end(c->in, c->inlen);
	if (end) {
		handle(s, c, end, now);
		return;
	}
	if (c->inlen >= sizeof(c->in) - 1) {
		c->close_after = true;
		respond_text(s, c, 431, "request header larger than 8 KiB\n", false, now);
	}
}

static void on_write(struct server *s, struct conn *c, double now)
{
	ssize_t n;

	if (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				conn_close(s, c);
			return;
		}
		c->outoff += n;
	}
	if (c->outoff < c->outlen)
		return;
	if (!c->close_after) {
		conn_reset(s, c, now);
		return;
	}
	/*
	 * Closing with unread input makes the kernel send a reset, which can
	 * destroy the response before the client reads it (a 431 to a client
	 * still sending its headers): stop writing, read until its end.
	 */
	shutdown(c->fd, SHUT_WR);
	free(c->out);
	c->out = NULL;
	c->st = C_DRAIN;
	c->deadline = now + 2;
}

static void on_accept(struct server *s, int lfd, double now)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
				   "Content-Length: 28\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
				   "too many connections, retry\n";
	int fd, i, n;

	for (n = 0; n < 256; n++) {
		/* cppcheck 2.10's gnu.cfg marks addrlen not-null; accept4(2) allows NULL. */
		// cppcheck-suppress nullPointer
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (s->nconns >= s->cfg->max_conns) {
			/* A fresh socket's send buffer takes this whole. */
			(void)!send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			shutdown(fd, SHUT_WR);
			close(fd);
			s->refused++;
			continue;
		}
		for (i = 0; i < s->cfg->max_conns; i++)
			if (s->conns[i].st == C_FREE)
				break;
		s->conns[i].fd = fd;
		s->nconns++;
		conn_reset(s, &s->conns[i], now);
	}
}

int ps_http_serve(int lfd, const struct ps_http_cfg *cfg)
{
	struct server s = { .cfg = cfg };
	struct pollfd *pfd;
	int *idx, i, n, np;

	s.conns = calloc(cfg->max_conns, sizeof(*s.conns));
	pfd = calloc(cfg->max_conns + 1, sizeof(*pfd));
	idx = calloc(cfg->max_conns + 1, sizeof(*idx));
	if (!s.conns || !pfd || !idx) {
		ps_err("out of memory for %d client slots", cfg->max_conns);
		free(s.conns);
		free(pfd);
		free(idx);
		return -1;
	}
	for (i = 0; i < cfg->max_conns; i++)
		s.conns[i].fd = -1;

	while (!ps_exiting) {
		double now = ps_now(), next = now + 1;
		int timeout;

		np = 0;
		pfd[np++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < cfg->max_conns; i++) {
			struct conn *c = &s.conns[i];

			if (c->st == C_FREE)
				continue;
			if (c->deadline <= now) {
				conn_close(&s, c);
				continue;
			}
			if (c->deadline < next)
				next = c->deadline;
			idx[np] = i;
			pfd[np++] = (struct pollfd){
				.fd = c->fd, .events = c->st == C_WRITE ? POLLOUT : POLLIN };
		}
		timeout = (int)((next - now) * 1000) + 1;
		n = poll(pfd, np, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ps_err("poll: %s", strerror(errno));
			break;
		}
		now = ps_now();
		for (i = 1; i < np; i++) {
			struct conn *c = &s.conns[idx[i]];

			if (!pfd[i].revents || c->st == C_FREE)
				continue;
			if (c->st == C_WRITE) {
				if (pfd[i].revents & (POLLERR | POLLHUP))
					conn_close(&s, c);
				else
					on_write(&s, c, now);
			} else {
				on_read(&s, c, now);
			}
			/* A keep-alive client may have sent its next request already. */
			if (c->st == C_WRITE)
				on_write(&s, c, now);
		}
		if (pfd[0].revents & POLLIN)
			on_accept(&s, lfd, now);
	}
	for (i = 0; i < cfg->max_conns; i++)
		if (s.conns[i].st != C_FREE)
			conn_close(&s, &s.conns[i]);
	free(s.conns);
	free(pfd);
	free(idx);
	return 0;
}
