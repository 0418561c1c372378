// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The metrics endpoint's request parsing (ctl/http.c): the end of the
 * header block, then the request line and the headers the server reads.
 * The input is copied to a buffer of exactly its size, so ASan sees any
 * read beyond it (the server's buffer is not NUL-terminated either).
 */
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "http.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* [p, p + n) lies in [b, b + len) and has no space, tab or control character. */
static void check_word(const char *b, size_t len, const char *p, size_t n, const char *what)
{
	size_t i;

	FUZZ_CHECK(p >= b && p + n <= b + len, "%s outside the buffer", what);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(!is_ws(p[i]) && (unsigned char)p[i] >= 0x20 && p[i] != 0x7f,
			   "%s holds %#x", what,
			   (unsigned char)p[i]);
}

/* Does b[0..n) contain w, in any case? */
static int has_nocase(const char *b, size_t n, const char *w)
{
	size_t i, wl = strlen(w);

	for (i = 0; i + wl <= n; i++)
		if (!strncasecmp(b + i, w, wl))
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ps_http_req r;
	const char *eol;
	char *b;
	size_t end;
	int rc;

	/* The server reads at most PS_HTTP_HEADER_MAX - 1 bytes of a header. */
	if (size >= PS_HTTP_HEADER_MAX)
		return 0;
	b = malloc(size ? size : 1);
	if (!b)
		abort();
	memcpy(b, data, size);

	end = ps_http_header_end(b, size);
	FUZZ_CHECK(end <= size, "header end %zu beyond %zu", end, size);
	if (end) {
		/* It ends at the first blank line, "\n\n" or "\r\n\r\n". */
		FUZZ_CHECK(b[end - 1] == '\n' && (b[end - 2] == '\n' ||
			   (end >= 4 && !memcmp(b + end - 4, "\r\n\r\n", 4))),
			   "header end %zu not after a blank line", end);
		/* ... the first one: one byte less holds none. */
		FUZZ_CHECK(!ps_http_header_end(b, end - 1), "a blank line before end %zu", end);
	}
	/* The server parses only complete blocks, but any prefix must be safe. */
	rc = ps_http_parse_request(b, end ? end : size, &r);
	if (!rc) {
		size_t n = end ? end : size;

		eol = memchr(b, '\n', n);
		FUZZ_CHECK(eol, "accepted without a line end");
		FUZZ_CHECK(!memchr(b, '\0', n), "accepted a NUL");
		/* Method, target and version all lie on the request line. */
		check_word(b, eol - b, r.method, r.method_len, "method");
		check_word(b, eol - b, r.target, r.target_len, "target");
		FUZZ_CHECK(r.method_len >= 1 && r.method_len <= 15, "method length %zu",
			   r.method_len);
		FUZZ_CHECK(r.target > r.method, "target before method");
		FUZZ_CHECK(!memchr(r.target, '?', r.target_len) &&
			   !memchr(r.target, '#', r.target_len), "target keeps a query");
		FUZZ_CHECK(memmem(b, eol - b, r.http11 ? "HTTP/1.1" : "HTTP/1.0", 8),
			   "version not on the request line");
		if (!r.http11)
			FUZZ_CHECK(r.close || has_nocase(b, n, "keep-alive"),
				   "HTTP/1.0 kept open without keep-alive");
		if (r.openmetrics)
			FUZZ_CHECK(memmem(b, n, "application/openmetrics-text", 28),
				   "openmetrics without asking");
	}
	free(b);
	return 0;
}
