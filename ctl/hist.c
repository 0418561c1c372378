// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Histogram printing, bpftrace style, for explicit bucket bounds (packet
 * sizes) and for log2 slots (bpf/log2.h).  JSON: an array of
 * {"lo": N, "hi": N|null, "count": N}, hi exclusive, null for open-ended.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "output.h"

#define BAR_WIDTH 52

/* 1024 -> "1K", 1500 -> "1500", 1048576 -> "1M" (bpftrace's labels). */
void ps_size_label(__u64 v, char *buf, size_t len)
{
	if (v >= (1ull << 20) && !(v % (1ull << 20)))
		snprintf(buf, len, "%lluM", (unsigned long long)(v >> 20));
	else if (v >= 1024 && !(v % 1024))
		snprintf(buf, len, "%lluK", (unsigned long long)(v >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

static void bar(__u64 count, __u64 max)
{
	int n = max ? (int)((count * BAR_WIDTH) / max) : 0;
	char b[BAR_WIDTH + 1];

	memset(b, '@', n);
	memset(b + n, ' ', BAR_WIDTH - n);
	b[BAR_WIDTH] = '\0';
	out_text("|%s|\n", b);
}

/* One bucket: text row "[lo, hi)  count |@@@ |" or a JSON element. */
static void bucket(const char *range, __u64 lo, __u64 hi, bool open, __u64 count, __u64 max)
{
	out_obj_open(NULL);
	out_text("%-16s", range);
	out_u64("lo", NULL, lo);
	if (open)
		out_null("hi");
	else
		out_u64("hi", NULL, hi);
	out_u64("count", " %10llu ", count);
	bar(count, max);
	out_obj_close();
}

void ps_print_bounds_hist(const char *key, const __u64 *counts, const __u32 *bounds,
			  int nbuckets)
{
	int i, first = -1, last = -1;
	__u64 max = 0;

	for (i = 0; i < nbuckets; i++) {
		if (!counts[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (counts[i] > max)
			max = counts[i];
	}
	out_text("@%s:\n", key);
	out_arr_open(key);
	/* Text shows the populated range only, as bpftrace does; JSON all. */
	for (i = 0; i < nbuckets; i++) {
		char lo[24], hi[24], range[56];
		bool open = i == nbuckets - 1;

		if (!out_json() && (first < 0 || i < first || i > last))
			continue;
		ps_size_label(bounds[i], lo, sizeof(lo));
		if (open) {
			snprintf(range, sizeof(range), "[%s, ...)", lo);
		} else {
			ps_size_label(bounds[i + 1], hi, sizeof(hi));
			snprintf(range, sizeof(range), "[%s, %s)", lo, hi);
		}
		bucket(range, bounds[i], open ? 0 : bounds[i + 1], open, counts[i], max);
	}
	out_arr_close();
	out_text("\n");
}

void ps_print_log2_hist(const char *key, const __u64 *slots, int nslots, const char *unit)
{
	int i, first = -1, last = -1;
	__u64 max = 0;

	for (i = 0; i < nslots; i++) {
		if (!slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	out_text("@%s%s%s%s:\n", key, unit ? " (" : "", unit ? unit : "", unit ? ")" : "");
	out_arr_open(key);
	for (i = 0; i < nslots; i++) {
		char lo[24], hi[24], range[56];
		__u64 l, h;

		if (!out_json() && (first < 0 || i < first || i > last))
			continue;
		if (out_json() && !slots[i])
			continue;
		l = i == 0 ? 0 : 1ull << (i - 1);
		h = i == 0 ? 1 : 1ull << i;
		ps_size_label(l, lo, sizeof(lo));
		ps_size_label(h, hi, sizeof(hi));
		if (i <= 1)
			snprintf(range, sizeof(range), "[%s]", lo);
		else
			snprintf(range, sizeof(range), "[%s, %s)", lo, hi);
		bucket(range, l, h, false, slots[i], max);
	}
	out_arr_close();
	out_text("\n");
}
