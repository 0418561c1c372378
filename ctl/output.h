/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one output path.  Each field is printed by one call that serves both
 * outputs: in text mode the format is applied to the value (a NULL format
 * prints nothing), in JSON mode the key names the value.
 *
 *	out_u64("packets", "%-10llu", c.pkts);
 *
 * Objects and arrays nest; out_obj_open(NULL) opens an anonymous object
 * (an array element, or the top-level document).
 */
#ifndef PKTSCOPE_OUTPUT_H
#define PKTSCOPE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

void out_init(bool json);
bool out_json(void);
/* True while a JSON object or array is open (errors then go to stderr only). */
bool out_in_doc(void);

void out_obj_open(const char *key);
void out_obj_close(void);
void out_arr_open(const char *key);
void out_arr_close(void);

void out_u64(const char *key, const char *fmt, unsigned long long v);
void out_s64(const char *key, const char *fmt, long long v);
void out_f64(const char *key, const char *fmt, double v);
void out_str(const char *key, const char *fmt, const char *s);
void out_bool(const char *key, const char *fmt, bool v);
void out_null(const char *key);

/* Text-only output (ignored in JSON mode). */
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends a JSON document (newline, flush); in text mode flushes. */
void out_doc_end(void);
/*
 * Ends one event of a stream (one JSON document each) without the flush:
 * the stream's loop flushes after every batch it reads (ring_buffer__poll
 * + consume, ps_rb_stream), so a burst is one write, not one per line.
 */
void out_event_end(void);

/* JSON string escaping for other writers (errors, metrics). */
void out_json_escape(FILE *f, const char *s);
/* inet_ntop() for AF_INET/AF_INET6 (the same text, IPv4 faster). */
const char *out_ntop(int family, const void *addr, char *buf, size_t len);

#endif /* PKTSCOPE_OUTPUT_H */
