// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Text and JSON output through one call per field (see output.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio_ext.h>
#include <string.h>

#include "output.h"

#define OUT_DEPTH 32

static bool json;
static int depth;
static bool first[OUT_DEPTH];	/* no element printed yet at this depth */

void out_init(bool j)
{
	/*
	 * pktscope writes stdout from one thread only: skip stdio's lock on
	 * every fputc/printf (a listing of 65,536 flows makes millions of them).
	 */
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
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

/* Comma and key before a JSON value. */
static void json_key(const char *key)
{
	if (!first[depth])
		fputc(',', stdout);
	first[depth] = false;
	if (key) {
		out_json_escape(stdout, key);
		fputc(':', stdout);
	}
}

static void open_(const char *key, char c)
{
	if (!json)
		return;
	json_key(key);
	fputc(c, stdout);
	if (depth < OUT_DEPTH - 1)
		depth++;
	first[depth] = true;
}

static void close_(char c)
{
	if (!json)
		return;
	fputc(c, stdout);
	if (depth > 0)
		depth--;
}

void out_obj_open(const char *key)  { open_(key, '{'); }
void out_obj_close(void)            { close_('}'); }
void out_arr_open(const char *key)  { open_(key, '['); }
void out_arr_close(void)            { close_(']'); }

/* Decimal digits of v without printf's format parsing (hot in long listings). */
static void put_u64(unsigned long long v)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), stdout);
}

void out_u64(const char *key, const char *fmt, unsigned long long v)
{
	if (json) {
		json_key(key);
		put_u64(v);
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
		json_key(key);
		out_json_escape(stdout, s ? s : "");
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

void out_doc_end(void)
{
	if (json) {
		fputc('\n', stdout);
		depth = 0;
		first[0] = true;
	}
	fflush(stdout);
}
