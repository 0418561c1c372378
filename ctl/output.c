// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Text and JSON output through one call per field (see output.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "output.h"

#define OUT_DEPTH 32

static bool json;
static int depth;
static bool first[OUT_DEPTH];	/* no element printed yet at this depth */

void out_init(bool j)
{
	static char obuf[1 << 16];
	static bool buffered;

	/*
	 * pktscope writes stdout from one thread only: skip stdio's lock on
	 * every fputc/printf (a listing of 65,536 flows makes millions of them).
	 */
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
	/*
	 * Not a terminal: 64 KiB writes instead of 4 KiB ones (a 15 MB listing
	 * made 3,700 write calls).  Once, before anything is written.
	 */
	if (!buffered) {
		buffered = true;
		if (!isatty(STDOUT_FILENO))
			setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	}
	json = j;
	depth = 0;
	first[0] = true;
}

bool out_json(void)
{
	return json;
}

bool out_in_doc(void)
{
	return depth > 0;
}

void out_json_escape(FILE *f, const char *s)
{
	size_t plain = 0;

	fputc('"', f);
	/* Most strings (every key) need no escape: one write for the run. */
	while (s && s[plain] && s[plain] != '"' && s[plain] != '\\' &&
	       (unsigned char)s[plain] >= 0x20)
		plain++;
	if (plain) {
		fwrite(s, 1, plain, f);
		s += plain;
	}
	for (; s && *s; s++) {
		unsigned char c = *s;

		switch (c) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

#define KEY_MAX	48	/* room for a ,"key": built in place */

/*
 * Comma and key before a JSON value, into buf (KEY_MAX bytes), so that the
 * value can follow and the field go out in one write: 65,536 flows of 13
 * fields each were 2 million stdio calls.  Returns its length; a key to be
 * escaped (or a long one) is written at once, and 0 returned.
 */
static size_t json_key_buf(char *buf, const char *key)
{
	size_t n = 0, i;

	if (!first[depth])
		buf[n++] = ',';
	first[depth] = false;
	if (!key)
		return n;
	buf[n++] = '"';
	for (i = 0; key[i]; i++) {
		if (n >= KEY_MAX - 2 || key[i] == '"' || key[i] == '\\' ||
		    (unsigned char)key[i] < 0x20) {
			fwrite_unlocked(buf, 1, n - i - 1, stdout);	/* the comma */
			out_json_escape(stdout, key);
			putc_unlocked(':', stdout);
			return 0;
		}
		buf[n++] = key[i];
	}
	buf[n++] = '"';
	buf[n++] = ':';
	return n;
}

static void open_(const char *key, char c)
{
	char buf[KEY_MAX + 1];
	size_t n;

	if (!json)
		return;
	n = json_key_buf(buf, key);
	buf[n++] = c;
	fwrite_unlocked(buf, 1, n, stdout);
	if (depth < OUT_DEPTH - 1)
		depth++;
	first[depth] = true;
}

static void close_(char c)
{
	if (!json)
		return;
	putc_unlocked(c, stdout);
	if (depth > 0)
		depth--;
}

void out_obj_open(const char *key)  { open_(key, '{'); }
void out_obj_close(void)            { close_('}'); }
void out_arr_open(const char *key)  { open_(key, '['); }
void out_arr_close(void)            { close_(']'); }

/* Comma and key before a JSON value. */
static void json_key(const char *key)
{
	char buf[KEY_MAX];

	fwrite_unlocked(buf, 1, json_key_buf(buf, key), stdout);
}

/* Decimal digits of v into buf (20 at most) without printf's format parsing. */
static size_t fmt_u64(char *buf, unsigned long long v)
{
	char tmp[20], *p = tmp + sizeof(tmp);
	size_t n;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(buf, p, n);
	return n;
}

void out_u64(const char *key, const char *fmt, unsigned long long v)
{
	char buf[KEY_MAX + 20];
	size_t n;

	if (json) {
		n = json_key_buf(buf, key);
		n += fmt_u64(buf + n, v);
		fwrite_unlocked(buf, 1, n, stdout);
	} else if (fmt) {
		printf(fmt, v);
	}
}

void out_s64(const char *key, const char *fmt, long long v)
{
	if (json) {
		json_key(key);
		printf("%lld", v);
	} else if (fmt) {
		printf(fmt, v);
	}
}

void out_f64(const char *key, const char *fmt, double v)
{
	if (json) {
		json_key(key);
		/* JSON has no NaN or infinity. */
		if (isfinite(v))
			printf("%.6g", v);
		else
			fputs("null", stdout);
	} else if (fmt) {
		printf(fmt, v);
	}
}

void out_str(const char *key, const char *fmt, const char *s)
{
	if (json) {
		char buf[KEY_MAX + 64];
		size_t n = json_key_buf(buf, key), len = 0;

		if (!s)
			s = "";
		/* most values (names, addresses) need no escapes: one write with the key */
		while ((unsigned char)s[len] >= 0x20 && s[len] != '"' && s[len] != '\\')
			len++;
		if (!s[len] && n + len + 2 <= sizeof(buf)) {
			buf[n++] = '"';
			memcpy(buf + n, s, len);
			n += len;
			buf[n++] = '"';
			fwrite_unlocked(buf, 1, n, stdout);
		} else {
			fwrite_unlocked(buf, 1, n, stdout);
			out_json_escape(stdout, s);
		}
	} else if (fmt) {
		printf(fmt, s ? s : "");
	}
}

void out_bool(const char *key, const char *fmt, bool v)
{
	if (json) {
		json_key(key);
		fputs(v ? "true" : "false", stdout);
	} else if (fmt) {
		printf(fmt, v ? "yes" : "no");
	}
}

void out_null(const char *key)
{
	if (json) {
		json_key(key);
		fputs("null", stdout);
	}
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* One event of a stream ends; the stream's loop flushes once per batch. */
void out_event_end(void)
{
	if (json) {
		fputc('\n', stdout);
		depth = 0;
		first[0] = true;
	}
}

void out_doc_end(void)
{
	out_event_end();
	fflush(stdout);
}

/*
 * inet_ntop() for AF_INET and AF_INET6, the same text; IPv4 without its
 * sprintf (a listing of 65,536 flows formats 131,072 addresses).
 */
const char *out_ntop(int family, const void *addr, char *buf, size_t len)
{
	const unsigned char *a = addr;
	char tmp[16], *p = tmp;
	int i;

	if (family != AF_INET)
		return inet_ntop(family, addr, buf, len);
	for (i = 0; i < 4; i++) {
		if (a[i] >= 100)
			*p++ = (char)('0' + a[i] / 100);
		if (a[i] >= 10)
			*p++ = (char)('0' + a[i] / 10 % 10);
		*p++ = (char)('0' + a[i] % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	if ((size_t)(p - tmp) > len) {
		errno = ENOSPC;
		return NULL;
	}
	memcpy(buf, tmp, (size_t)(p - tmp));
	return buf;
}
