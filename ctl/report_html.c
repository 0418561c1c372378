// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pktscope report: the HTML page.  One file, nothing fetched: CSS, SVG
 * charts and a few lines of script inline; the flame graph (flame.c) is
 * embedded as a data: URI in an iframe, so that its own script and ids stay
 * in their own document.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "report.h"
#include "../cpu-mem-io/flame.h"

static void esc(FILE *o, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default: fputc(*s, o);
		}
	}
}

static void base64(FILE *o, const unsigned char *p, size_t n)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];

		fputc(t[v >> 18], o);
		fputc(t[(v >> 12) & 63], o);
		fputc(t[(v >> 6) & 63], o);
		fputc(t[v & 63], o);
	}
	if (i < n) {
		unsigned v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0);

		fputc(t[v >> 18], o);
		fputc(t[(v >> 12) & 63], o);
		fputc(i + 1 < n ? t[(v >> 6) & 63] : '=', o);
		fputc('=', o);
	}
}

static const char css[] =
	"body{font-family:sans-serif;margin:24px;color:#222;background:#fff;max-width:1240px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;"
	"border-bottom:1px solid #ccc;padding-bottom:3px}"
	".meta{color:#555;font-size:13px}"
	".verdict{border:2px solid #b22;background:#fff4f0;padding:12px 16px;margin:16px 0}"
	".verdict.calm{border-color:#484;background:#f2fff2}"
	".verdict .cls{font-size:24px;font-weight:bold;text-transform:uppercase}"
	".partial{background:#fe8;padding:4px 8px;font-weight:bold}"
	"ul.ev{margin:6px 0 0 0}ul.ev li{margin:2px 0;font-family:monospace;font-size:13px;word-break:break-all}"
	"table{border-collapse:collapse;font-size:13px;margin:6px 0}"
	"th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}"
	"td.n{text-align:right;font-family:monospace}th{background:#eee;cursor:pointer}"
	"td.s{font-family:monospace;font-size:12px;word-break:break-all}"
	"svg text{font-family:sans-serif;font-size:11px}"
	"iframe{border:1px solid #ccc;width:100%}"
	".note{color:#666;font-size:12px}";

/* Click a column header to sort the table by it. */
static const char js[] =
	"document.querySelectorAll('table.sort th').forEach(function (th) {\n"
	"  th.addEventListener('click', function () {\n"
	"    var tb = th.closest('table').tBodies[0], i = th.cellIndex;\n"
	"    var dir = th.getAttribute('data-dir') === 'a' ? 'd' : 'a';\n"
	"    th.setAttribute('data-dir', dir);\n"
	"    Array.prototype.slice.call(tb.rows).sort(function (a, b) {\n"
	"      var x = a.cells[i].textContent, y = b.cells[i].textContent;\n"
	"      var nx = parseFloat(x), ny = parseFloat(y);\n"
	"      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);\n"
	"      return dir === 'a' ? c : -c;\n"
	"    }).forEach(function (r) { tb.appendChild(r); });\n"
	"  });\n"
	"});\n";

static double pctd(double a, double b)
{
	return b > 0 ? 100.0 * a / b : 0;
}

static void class_bars(FILE *o, const struct rep *r)
{
	int i, w = 600, rowh = 26, h = REP_NCLS * rowh + 24;

	fprintf(o, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
		"<title>class scores</title>\n", w + 200, h, w + 200, h);
	for (i = 0; i < REP_NCLS; i++) {
		const struct rep_cls *c = &r->cls[r->rank[i]];
		int y = 4 + i * rowh, bw = (int)(c->score * w / 100);

		fprintf(o, "<text x=\"0\" y=\"%d\">%s</text>", y + 15, c->name);
		fprintf(o, "<rect x=\"80\" y=\"%d\" width=\"%d\" height=\"18\" fill=\"%s\">"
			"<title>", y, bw > 1 ? bw : 1, c->ratio >= 1 ? "#c33" : "#6a6");
		esc(o, c->what);
		fprintf(o, ": %.3g%s (threshold %.3g%s)</title></rect>", c->metric,
			c->unit ? c->unit : "", c->threshold, c->unit ? c->unit : "");
		fprintf(o, "<text x=\"%d\" y=\"%d\">%.0f</text>\n", 86 + bw, y + 14, c->score);
	}
	fprintf(o, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\" stroke=\"#000\" "
		"stroke-dasharray=\"4,3\"/><text x=\"%d\" y=\"%d\">threshold (50)</text>\n",
		80 + w / 2, 80 + w / 2, h - 14, 84 + w / 2, h - 2);
	fprintf(o, "</svg>\n");
}

enum tl_field { TL_CPU, TL_PID, TL_HEAP, TL_IOPS, TL_MISS, TL_OUT, TL_RETRANS, TL_PKTS, TL_DROPS };

static double tl_get(const struct rep_tl *p, enum tl_field f)
{
	switch (f) {
	case TL_CPU:		return p->cpu_busy;
	case TL_PID:		return p->pid_cpu;
	case TL_HEAP:		return p->heap_mib;
	case TL_IOPS:		return p->block_iops;
	case TL_MISS:		return p->cache_miss;
	case TL_OUT:		return p->tcp_out;
	case TL_RETRANS:	return p->tcp_retrans;
	case TL_PKTS:		return p->pkts;
	default:		return p->drops;
	}
}

/* One line chart of a timeline series. */
static void series(FILE *o, const struct rep *r, const char *title, const char *unit,
		   enum tl_field off)
{
	int w = 1000, h = 90, lm = 60, i;
	double max = 0, tmax = r->ntl ? r->tl[r->ntl - 1].t : 1;

	for (i = 0; i < r->ntl; i++) {
		double v = tl_get(&r->tl[i], off);

		if (v > max)
			max = v;
	}
	if (tmax <= 0)
		tmax = 1;
	fprintf(o, "<div><svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
		"<title>", w + lm + 10, h + 30, w + lm + 10, h + 30);
	esc(o, title);
	fprintf(o, "</title>\n<rect x=\"%d\" y=\"4\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
		"stroke=\"#ccc\"/>\n", lm, w, h);
	fprintf(o, "<text x=\"%d\" y=\"16\" font-weight=\"bold\">", lm + 6);
	esc(o, title);
	fprintf(o, " (%s, max %.4g)</text>\n", unit, max);
	fprintf(o, "<text x=\"%d\" y=\"14\" text-anchor=\"end\">%.3g</text>"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", lm - 4, max, lm - 4, h + 4);
	fprintf(o, "<text x=\"%d\" y=\"%d\">0 s</text><text x=\"%d\" y=\"%d\" "
		"text-anchor=\"end\">%.0f s</text>\n", lm, h + 20, lm + w, h + 20, tmax);
	if (r->ntl) {
		fprintf(o, "<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"2\" points=\"");
		for (i = 0; i < r->ntl; i++) {
			double v = tl_get(&r->tl[i], off);

			fprintf(o, "%s%.1f,%.1f", i ? " " : "", lm + w * r->tl[i].t / tmax,
				4 + h - (max > 0 ? h * v / max : 0));
		}
		fprintf(o, "\"/>\n");
		for (i = 0; i < r->ntl; i++) {
			double v = tl_get(&r->tl[i], off);

			fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f5fa8\">"
				"<title>t=%.1f s: %.4g %s</title></circle>\n",
				lm + w * r->tl[i].t / tmax, 4 + h - (max > 0 ? h * v / max : 0),
				r->tl[i].t, v, unit);
		}
	}
	fprintf(o, "</svg></div>\n");
}

/* A log2 histogram as SVG bars; slot k >= 1 holds [2^(k-1), 2^k) of unit. */
static void log2_svg(FILE *o, const unsigned long long *slots, int nslots, const char *title,
		     const char *what, bool bytes, const char *fill)
{
	int lo = -1, hi = -1, i, n, bw = 36, h = 120, w;
	unsigned long long max = 0;

	for (i = 0; i < nslots; i++) {
		if (!slots[i])
			continue;
		if (lo < 0)
			lo = i;
		hi = i;
		if (slots[i] > max)
			max = slots[i];
	}
	if (lo < 0)
		return;
	n = hi - lo + 1;
	w = n * bw + 20;
	fprintf(o, "<div><svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
		"<title>", w, h + 50, w, h + 50);
	esc(o, title);
	fprintf(o, "</title>\n");
	for (i = lo; i <= hi; i++) {
		int bh = (int)(h * (double)slots[i] / max), x = 10 + (i - lo) * bw;
		double up = i ? ldexp(1.0, i) : 1;
		const char *u = bytes ? "B" : "us";
		double lab = up;

		if (bytes && up >= 1024) {
			lab = up >= 1048576 ? up / 1048576 : up / 1024;
			u = up >= 1048576 ? "MiB" : "KiB";
		} else if (!bytes && up >= 1000) {
			lab = up >= 1e6 ? up / 1e6 : up / 1000;
			u = up >= 1e6 ? "s" : "ms";
		}
		fprintf(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
			"<title>%llu %s in [%.0f, %.0f) %s</title></rect>\n", x, 4 + h - bh,
			bw - 4, bh > 0 ? bh : 0, fill, slots[i], what,
			i > 1 ? up / 2 : (i ? 1 : 0), up, bytes ? "bytes" : "us");
		fprintf(o, "<text x=\"%d\" y=\"%d\" transform=\"rotate(45 %d %d)\">&lt;%.0f%s</text>\n",
			x + 2, h + 16, x + 2, h + 16, lab, u);
	}
	fprintf(o, "</svg></div>\n");
}

static void latency_hist(FILE *o, const struct rep_disk *d)
{
	unsigned long long s[PS_LOG2_SLOTS];
	char title[80];
	int i;

	for (i = 0; i < PS_LOG2_SLOTS; i++)
		s[i] = d->slots[i];
	snprintf(title, sizeof(title), "block IO latency on %s", d->name);
	log2_svg(o, s, PS_LOG2_SLOTS, title, "requests", false, "#c73");
}

static int flame(FILE *o, const struct rep *r)
{
	struct flame *fl;
	char *buf = NULL, sub[160];
	size_t len = 0, i;
	FILE *m;
	int err = 0, height = 400;
	const char *hp;

	if (!r->have_prof || !r->prof.nstacks) {
		fprintf(o, "<p class=\"note\">no samples</p>\n");
		return 0;
	}
	fl = flame_new();
	if (!fl)
		return -ENOMEM;
	for (i = 0; i < r->prof.nstacks && !err; i++)
		err = flame_add(fl, r->prof.stacks[i].folded, r->prof.stacks[i].count);
	m = open_memstream(&buf, &len);
	if (!m) {
		flame_free(fl);
		return -ENOMEM;
	}
	snprintf(sub, sizeof(sub), "%llu samples at %llu Hz over %.1f s",
		 (unsigned long long)r->prof.samples, (unsigned long long)r->freq, r->elapsed);
	if (!err)
		err = flame_write_svg(fl, m, r->pid ? "CPU flame graph of the target" :
				      "CPU flame graph, all processes", sub);
	flame_free(fl);
	if (fclose(m) || err) {
		free(buf);
		return -EIO;
	}
	hp = strstr(buf, "height=\"");
	if (hp)
		height = atoi(hp + 8);
	fprintf(o, "<iframe title=\"flame graph\" height=\"%d\" src=\"data:image/svg+xml;base64,",
		height + 8);
	base64(o, (const unsigned char *)buf, len);
	fprintf(o, "\"></iframe>\n<p class=\"note\">Click a frame to zoom, Search to highlight; "
		"frames ending in _[k] are kernel functions.</p>\n");
	free(buf);
	return 0;
}

static void td_num(FILE *o, const char *fmt, double v)
{
	fprintf(o, "<td class=\"n\">");
	fprintf(o, fmt, v);
	fprintf(o, "</td>");
}

static void td_str(FILE *o, const char *s, bool mono)
{
	fprintf(o, mono ? "<td class=\"s\">" : "<td>");
	esc(o, s);
	fprintf(o, "</td>");
}

static void tables(FILE *o, const struct rep *r)
{
	size_t i;
	int k;

	fprintf(o, "<h2>CPU: hottest functions</h2>\n");
	fprintf(o, "<p class=\"meta\">system busy %.1f%%, iowait %.1f%%", r->cpu_busy, r->cpu_iowait);
	if (r->pid)
		fprintf(o, "; the target: %.1f%% user, %.1f%% system of one CPU", r->pid_user,
			r->pid_sys);
	fprintf(o, "; %llu samples</p>\n", (unsigned long long)r->prof.samples);
	fprintf(o, "<table class=\"sort\"><thead><tr><th>self</th><th>self %%</th><th>total %%</th>"
		"<th>function</th><th>module</th></tr></thead><tbody>\n");
	for (i = 0; i < r->prof.ntop && i < 20; i++) {
		const struct prof_fn *f = &r->prof.top[i];
		const char *m = f->module ? strrchr(f->module, '/') : NULL;

		fprintf(o, "<tr>");
		td_num(o, "%.0f", f->self);
		td_num(o, "%.2f", pctd(f->self, r->prof.samples));
		td_num(o, "%.2f", pctd(f->total, r->prof.samples));
		td_str(o, f->name, true);
		td_str(o, m ? m + 1 : f->module ? f->module : "", false);
		fprintf(o, "</tr>\n");
	}
	fprintf(o, "</tbody></table>\n");

	if (r->have_sys) {
		fprintf(o, "<h3>syscalls by time%s</h3>\n", r->pid ? " (the target)" : "");
		fprintf(o, "<table class=\"sort\"><thead><tr><th>syscall</th><th>calls</th>"
			"<th>total ms</th><th>mean us</th><th>max ms</th></tr></thead><tbody>\n");
		for (k = 0; k < r->nsys; k++) {
			const struct sys_top *y = &r->sys[k];

			fprintf(o, "<tr>");
			td_str(o, y->name, true);
			td_num(o, "%.0f", y->count);
			td_num(o, "%.3f", y->total_ns / 1e6);
			td_num(o, "%.2f", y->count ? y->total_ns / 1e3 / y->count : 0);
			td_num(o, "%.3f", y->max_ns / 1e6);
			fprintf(o, "</tr>\n");
		}
		fprintf(o, "</tbody></table>\n");
	}

	fprintf(o, "<h2>Memory: outstanding heap by stack</h2>\n");
	if (!r->have_mem) {
		fprintf(o, "<p class=\"note\">not measured: memleak needs -p PID</p>\n");
	} else {
		fprintf(o, "<p class=\"meta\">%.2f MiB outstanding in %llu allocations; growth "
			"%.3f MiB/s; %llu allocations, %llu frees seen%s</p>\n",
			r->leak.bytes / 1048576.0, r->leak.allocs, r->heap_rate / 1048576.0,
			r->leak.total_allocs, r->leak.total_frees,
			r->leak.dropped ? " (allocation map full: some not tracked)" : "");
		fprintf(o, "<table class=\"sort\"><thead><tr><th>bytes</th><th>allocations</th>"
			"<th>stack (caller first)</th></tr></thead><tbody>\n");
		for (k = 0; k < r->leak.nstacks && k < MEM_SUM_TOP; k++) {
			fprintf(o, "<tr>");
			td_num(o, "%.0f", r->leak.top[k].bytes);
			td_num(o, "%.0f", r->leak.top[k].allocs);
			td_str(o, r->leak.top[k].frames, true);
			fprintf(o, "</tr>\n");
		}
		fprintf(o, "</tbody></table>\n");
	}
	if (r->have_mstat) {
		fprintf(o, "<h3>mallocstat: allocation calls of the target</h3>\n"
			"<table class=\"sort\" id=\"mallocstat\"><thead><tr><th>allocation calls</th>"
			"<th>frees</th><th>bytes requested</th><th>mean bytes</th></tr></thead>"
			"<tbody>\n<tr>");
		td_num(o, "%.0f", r->mstat.mallocs);
		td_num(o, "%.0f", r->mstat.frees);
		td_num(o, "%.0f", r->mstat.bytes);
		td_num(o, "%.1f", r->mstat.mallocs ? (double)r->mstat.bytes / r->mstat.mallocs : 0);
		fprintf(o, "</tr>\n</tbody></table>\n");
		log2_svg(o, r->mstat.hist, PS_LOG2_SLOTS, "allocation sizes", "calls", true,
			 "#7a5");
	}

	fprintf(o, "<h2>IO: block devices and page cache</h2>\n");
	if (r->pid)
		fprintf(o, "<p class=\"meta\">the target was in uninterruptible (IO) sleep in "
			"%.1f%% of %llu state samples</p>\n", r->dstate_pct,
			(unsigned long long)r->dstate_samples);
	if (r->have_cache)
		fprintf(o, "<p class=\"meta\">page cache%s: %llu lookups, %llu hits, %llu misses, "
			"hit ratio %.1f%%, %llu pages dirtied</p>\n", r->pid ? " (the target)" : "",
			r->cache_lookups, r->cache_hits, r->cache_misses, r->cache_hit_pct,
			r->cache_dirtied);
	if (r->have_bio) {
		fprintf(o, "<table class=\"sort\"><thead><tr><th>disk</th><th>requests</th>"
			"<th>p50 ms</th><th>p99 ms</th><th>target's requests</th>"
			"<th>target's MiB</th><th>target's mean ms</th></tr></thead><tbody>\n");
		for (k = 0; k < r->ndisks; k++) {
			const struct rep_disk *d = &r->disks[k];

			fprintf(o, "<tr>");
			td_str(o, d->name, false);
			td_num(o, "%.0f", d->count);
			td_num(o, "%.3g", d->p50_ms);
			td_num(o, "%.3g", d->p99_ms);
			td_num(o, "%.0f", d->pid_ios);
			td_num(o, "%.2f", d->pid_bytes / 1048576.0);
			td_num(o, "%.3g", d->pid_lat_ms);
			fprintf(o, "</tr>\n");
		}
		fprintf(o, "</tbody></table>\n");
		for (k = 0; k < r->ndisks && k < 4; k++) {
			fprintf(o, "<h3>block IO latency: ");
			esc(o, r->disks[k].name);
			fprintf(o, "</h3>\n");
			latency_hist(o, &r->disks[k]);
		}
	}
	if (r->have_files) {
		fprintf(o, "<h3>filetop: files by bytes read and written%s</h3>\n"
			"<p class=\"meta\">%llu files seen (regular files)</p>\n"
			"<table class=\"sort\" id=\"files\"><thead><tr><th>file</th><th>PID</th>"
			"<th>comm</th><th>reads</th><th>read bytes</th><th>writes</th>"
			"<th>write bytes</th></tr></thead><tbody>\n", r->pid ? " (the target)" : "",
			r->files_total);
		for (k = 0; k < r->nfiles; k++) {
			const struct rep_file *f = &r->files[k];

			fprintf(o, "<tr>");
			td_str(o, f->path, true);
			td_num(o, "%.0f", f->pid);
			td_str(o, f->comm, false);
			td_num(o, "%.0f", f->reads);
			td_num(o, "%.0f", f->rbytes);
			td_num(o, "%.0f", f->writes);
			td_num(o, "%.0f", f->wbytes);
			fprintf(o, "</tr>\n");
		}
		fprintf(o, "</tbody></table>\n");
	}

	fprintf(o, "<h2>Network</h2>\n<p class=\"meta\">TCP%s%s: %llu segments sent, %llu "
		"received, %llu retransmitted (%.2f%%)</p>\n", r->netns ? " in netns " : "",
		r->netns ? r->netns : "", r->tcp_out, r->tcp_in, r->tcp_retrans,
		pctd(r->tcp_retrans, r->tcp_out));
	if (r->have_iface)
		fprintf(o, "<p class=\"meta\">%s: %llu packets, %llu bytes, %llu dropped by "
			"pktscope's rules (%.2f%%)</p>\n", r->iface, r->if_pkts, r->if_bytes,
			r->if_drops, pctd(r->if_drops, r->if_pkts));
	if (r->have_drops) {
		fprintf(o, "<p class=\"meta\">kernel drops (skb:kfree_skb with reason): %llu</p>\n"
			"<table class=\"sort\"><thead><tr><th>reason</th><th>where</th>"
			"<th>packets</th><th>bytes</th></tr></thead><tbody>\n", r->kdrops);
		for (k = 0; k < r->ndrops; k++) {
			fprintf(o, "<tr>");
			td_str(o, r->drops[k].reason, true);
			td_str(o, r->drops[k].where, false);
			td_num(o, "%.0f", r->drops[k].count);
			td_num(o, "%.0f", r->drops[k].bytes);
			fprintf(o, "</tr>\n");
		}
		fprintf(o, "</tbody></table>\n");
	}
	fprintf(o, "<table class=\"sort\"><thead><tr><th>local</th><th>remote</th>"
		"<th>retransmits</th><th>segments</th></tr></thead><tbody>\n");
	for (k = 0; k < r->nflows; k++) {
		fprintf(o, "<tr>");
		td_str(o, r->flows[k].l, true);
		td_str(o, r->flows[k].r, true);
		td_num(o, "%.0f", r->flows[k].retrans);
		td_num(o, "%.0f", r->flows[k].segs);
		fprintf(o, "</tr>\n");
	}
	fprintf(o, "</tbody></table>\n");
	if (r->have_life) {
		fprintf(o, "<h3>tcplife: connections closed</h3>\n<p class=\"meta\">%llu "
			"connection%s closed%s%s; mean %.3g ms, longest %.3g ms</p>\n"
			"<table class=\"sort\" id=\"conns\"><thead><tr><th>local</th><th>remote</th>"
			"<th>PID</th><th>comm</th><th>tx bytes</th><th>rx bytes</th><th>ms</th>"
			"</tr></thead><tbody>\n", r->conns_total, r->conns_total == 1 ? "" : "s",
			r->netns ? " in netns " : "",
			r->netns ? r->netns : "",
			r->conns_total ? r->conns_ms_sum / r->conns_total : 0, r->conns_ms_max);
		for (k = 0; k < r->nconns; k++) {
			const struct rep_conn *c = &r->conns[k];

			fprintf(o, "<tr>");
			td_str(o, c->l, true);
			td_str(o, c->r, true);
			td_num(o, "%.0f", c->pid);
			td_str(o, c->comm, false);
			td_num(o, "%.0f", c->tx_bytes);
			td_num(o, "%.0f", c->rx_bytes);
			td_num(o, "%.3f", c->ms);
			fprintf(o, "</tr>\n");
		}
		fprintf(o, "</tbody></table>\n");
	}
	if (r->have_rtt) {
		char title[80];

		fprintf(o, "<h3>RTT on ");
		esc(o, r->iface);
		fprintf(o, " (attach --rtt)</h3>\n<p class=\"meta\">%llu samples in the report's "
			"window, mean %.1f us; flows: since attach</p>\n", r->rtt_count,
			r->rtt_count ? r->rtt_sum_us / r->rtt_count : 0);
		snprintf(title, sizeof(title), "RTT samples on %s, log2 microseconds", r->iface);
		log2_svg(o, r->rtt_slots, REP_RTT_SLOTS, title, "samples", false, "#37a");
		fprintf(o, "<table class=\"sort\" id=\"rtt\"><thead><tr><th>proto</th>"
			"<th>local</th><th>remote</th><th>samples</th><th>min us</th><th>p50 us</th>"
			"<th>avg us</th><th>max us</th><th>retransmitted</th></tr></thead><tbody>\n");
		for (k = 0; k < r->nrtt; k++) {
			const struct rep_rtt_flow *f = &r->rtt_flows[k];

			fprintf(o, "<tr>");
			td_str(o, f->proto, false);
			td_str(o, f->l, true);
			td_str(o, f->r, true);
			td_num(o, "%.0f", f->samples);
			td_num(o, "%.1f", f->min_us);
			td_num(o, "%.1f", f->p50_us);
			td_num(o, "%.1f", f->avg_us);
			td_num(o, "%.1f", f->max_us);
			td_num(o, "%.0f", f->retrans);
			fprintf(o, "</tr>\n");
		}
		fprintf(o, "</tbody></table>\n");
	}
}

/* The HTML document to o; report.c opens, syncs and renames the file. */
int report_write_html(const struct rep *r, FILE *o)
{
	const struct rep_cls *top = &r->cls[r->rank[0]], *second = &r->cls[r->rank[1]];
	int i, err;

	fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>pktscope report</title>\n<style>%s</style></head>\n<body>\n", css);
	fprintf(o, "<h1>pktscope report</h1>\n<p class=\"meta\">started %s; collected %.1f of "
		"%.1f s", r->started, r->elapsed, r->duration);
	if (r->pid) {
		fprintf(o, "; PID %d (", r->pid);
		esc(o, r->comm);
		fprintf(o, ")%s", r->pid_exited ? ", exited early" : "");
	}
	if (r->netns) {
		fprintf(o, "; netns ");
		esc(o, r->netns);
	}
	fprintf(o, "<br>attached: ");
	esc(o, r->attached);
	fprintf(o, "</p>\n");
	if (r->partial)
		fprintf(o, "<p class=\"partial\">PARTIAL: interrupted after %.1f s; this is what was "
			"collected until then.</p>\n", r->elapsed);

	fprintf(o, "<div class=\"verdict%s\"><div>dominant bottleneck: <span class=\"cls\">%s"
		"</span> (score %.0f/100%s)</div>\n<ul class=\"ev\">\n", top->ratio >= 1 ? "" : " calm",
		top->name, top->score, top->ratio >= 1 ? "" : "; no class crossed its threshold");
	for (i = 0; i < top->nev; i++) {
		fprintf(o, "<li>");
		esc(o, top->ev[i]);
		fprintf(o, "</li>\n");
	}
	fprintf(o, "</ul>\n<div style=\"margin-top:8px\">second: <b>%s</b> (score %.0f/100)</div>\n"
		"<ul class=\"ev\">\n", second->name, second->score);
	for (i = 0; i < second->nev; i++) {
		fprintf(o, "<li>");
		esc(o, second->ev[i]);
		fprintf(o, "</li>\n");
	}
	fprintf(o, "</ul></div>\n");

	fprintf(o, "<h2>Classes</h2>\n<p class=\"note\">score = 50 &#215; measure / threshold, "
		"capped at 100; ranked by the uncapped ratio.</p>\n");
	class_bars(o, r);
	for (i = 2; i < REP_NCLS; i++) {
		const struct rep_cls *c = &r->cls[r->rank[i]];
		int k;

		fprintf(o, "<p><b>%s</b> (score %.0f)</p><ul class=\"ev\">\n", c->name, c->score);
		for (k = 0; k < c->nev; k++) {
			fprintf(o, "<li>");
			esc(o, c->ev[k]);
			fprintf(o, "</li>\n");
		}
		fprintf(o, "</ul>\n");
	}

	fprintf(o, "<h2>Timeline (per second)</h2>\n");
	series(o, r, "CPU busy, system-wide", "%", TL_CPU);
	if (r->pid)
		series(o, r, "target CPU", "% of one CPU", TL_PID);
	if (r->have_mem)
		series(o, r, "target outstanding heap", "MiB", TL_HEAP);
	if (r->have_bio)
		series(o, r, "block requests completed", "/s", TL_IOPS);
	if (r->have_cache)
		series(o, r, "page cache misses", "pages/s", TL_MISS);
	series(o, r, "TCP segments sent", "/s", TL_OUT);
	series(o, r, "TCP segments retransmitted", "/s", TL_RETRANS);
	if (r->have_iface) {
		series(o, r, "packets on the interface", "/s", TL_PKTS);
		series(o, r, "packets dropped by pktscope", "/s", TL_DROPS);
	}

	fprintf(o, "<h2>CPU flame graph</h2>\n");
	err = flame(o, r);
	tables(o, r);
	fprintf(o, "<script>\n%s</script>\n</body></html>\n", js);
	return err;
}
