// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Flame graph SVG writer (see flame.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"

#define SVG_WIDTH	1200
#define XPAD		10
#define FRAME_H		16
#define TOP_PAD		66	/* title, subtitle, buttons */
#define BOTTOM_PAD	34	/* details line */
#define MIN_WIDTH_PX	0.1	/* narrower frames are left out, as they cannot be seen */

struct node {
	char *name;
	uint64_t count;		/* inclusive samples */
	struct node *child, *next;
};

struct flame {
	struct node root;
	int max_depth;
};

struct flame *flame_new(void)
{
	struct flame *f = calloc(1, sizeof(*f));

	if (f)
		f->root.name = strdup("all");
	if (f && !f->root.name) {
		free(f);
		return NULL;
	}
	return f;
}

static void node_free(struct node *n)
{
	struct node *c, *cn;

	for (c = n->child; c; c = cn) {
		cn = c->next;
		node_free(c);
		free(c);
	}
	free(n->name);
}

void flame_free(struct flame *f)
{
	if (!f)
		return;
	node_free(&f->root);
	free(f);
}

static struct node *get_child(struct node *p, const char *name, size_t len)
{
	struct node *c, **pp;

	/* Children kept sorted by name: the graph's left-to-right order. */
	for (pp = &p->child; (c = *pp); pp = &c->next) {
		int r = strncmp(c->name, name, len);

		if (!r && c->name[len] == '\0')
			return c;
		if (r > 0 || (!r && c->name[len] != '\0'))
			break;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->name = strndup(name, len);
	if (!c->name) {
		free(c);
		return NULL;
	}
	c->next = *pp;
	*pp = c;
	return c;
}

int flame_add(struct flame *f, const char *frames, uint64_t count)
{
	struct node *n = &f->root;
	const char *s = frames;
	int depth = 0;

	n->count += count;
	while (*s) {
		size_t len = strcspn(s, ";");

		if (len) {
			n = get_child(n, s, len);
			if (!n)
				return -1;
			n->count += count;
			depth++;
		}
		s += len;
		if (*s == ';')
			s++;
	}
	if (depth > f->max_depth)
		f->max_depth = depth;
	return 0;
}

static void xml_escape(FILE *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':  fputs("&amp;", o); break;
		case '<':  fputs("&lt;", o); break;
		case '>':  fputs("&gt;", o); break;
		case '"':  fputs("&quot;", o); break;
		case '\'': fputs("&apos;", o); break;
		default:
			/* Control characters are not allowed in XML 1.0. */
			fputc((unsigned char)*s < 0x20 ? '?' : *s, o);
		}
	}
}

/* A colour that depends only on the name, so a function keeps it across graphs. */
static void color(const char *name, int *r, int *g, int *b)
{
	size_t len = strlen(name);
	uint32_t h = 2166136261u;
	const char *s;
	double v1, v2;

	for (s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	v1 = (h & 0xffff) / 65535.0;
	v2 = (h >> 16) / 65535.0;
	if (!strcmp(name, "[unknown]")) {
		*r = *g = *b = 190;
	} else if (len > 4 && !strcmp(name + len - 4, "_[k]")) {
		*r = 60 + (int)(60 * v1);
		*g = 160 + (int)(60 * v2);
		*b = 210;
	} else {
		*r = 205 + (int)(50 * v2);
		*g = (int)(200 * v1);
		*b = (int)(55 * v2);
	}
}

struct layout {
	FILE *out;
	uint64_t total;
	double scale;		/* pixels per sample */
	int height;
};

static void write_node(struct layout *l, const struct node *n, double x, int depth)
{
	double w = n->count * l->scale;
	int y = l->height - BOTTOM_PAD - (depth + 1) * FRAME_H;
	const struct node *c;
	int r, g, b;

	if (w < MIN_WIDTH_PX)
		return;
	color(n->name, &r, &g, &b);
	fprintf(l->out, "<g class=\"f\" data-d=\"%d\" data-s=\"%llu\" data-n=\"", depth,
		(unsigned long long)n->count);
	xml_escape(l->out, n->name);
	fprintf(l->out, "\"><title>");
	xml_escape(l->out, n->name);
	fprintf(l->out, " (%llu sample%s, %.2f%%)</title>", (unsigned long long)n->count,
		n->count == 1 ? "" : "s", 100.0 * n->count / l->total);
	fprintf(l->out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
		"fill=\"rgb(%d,%d,%d)\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%d\"></text></g>\n",
		x, y, w, FRAME_H - 1, r, g, b, x + 3, y + FRAME_H - 5);
	for (c = n->child; c; c = c->next) {
		write_node(l, c, x, depth + 1);
		x += c->count * l->scale;
	}
}

/*
 * The script: frames carry their name (data-n), samples (data-s) and depth
 * (data-d); zooming rescales the x and width of the clicked frame's subtree
 * to the full width, keeps its ancestors as full-width bars and hides the
 * rest.  Search colours frames whose name matches a regular expression and
 * reports the share of samples under them (nested matches counted once).
 */
static const char script[] =
"var W, X0, frames, details, matched, unzoomBtn, searching = null;\n"
"function label(f, w) {\n"
"  var t = f.querySelector('text'), n = f.getAttribute('data-n');\n"
"  var max = Math.floor((w - 6) / 7);\n"
"  t.textContent = max < 3 ? '' : (n.length <= max ? n : n.substring(0, max - 2) + '..');\n"
"}\n"
"function place(f, x, w) {\n"
"  var r = f.querySelector('rect');\n"
"  r.setAttribute('x', x.toFixed(2)); r.setAttribute('width', w.toFixed(2));\n"
"  f.querySelector('text').setAttribute('x', (x + 3).toFixed(2));\n"
"  label(f, w);\n"
"}\n"
"function init() {\n"
"  var svg = document.documentElement;\n"
"  W = +svg.getAttribute('data-w'); X0 = +svg.getAttribute('data-x0');\n"
"  details = document.getElementById('details');\n"
"  matched = document.getElementById('matched');\n"
"  unzoomBtn = document.getElementById('unzoom');\n"
"  frames = Array.prototype.slice.call(document.querySelectorAll('g.f'));\n"
"  frames.forEach(function (f) {\n"
"    var r = f.querySelector('rect');\n"
"    f.ox = +r.getAttribute('x'); f.ow = +r.getAttribute('width');\n"
"    f.od = +f.getAttribute('data-d'); f.ofill = r.getAttribute('fill');\n"
"    label(f, f.ow);\n"
"  });\n"
"  svg.addEventListener('click', function (e) {\n"
"    var f = e.target.closest ? e.target.closest('g.f') : null;\n"
"    if (f) zoom(f);\n"
"  });\n"
"  svg.addEventListener('mouseover', function (e) {\n"
"    var f = e.target.closest ? e.target.closest('g.f') : null;\n"
"    if (f) details.textContent = f.querySelector('title').textContent;\n"
"  });\n"
"  svg.addEventListener('mouseout', function () { details.textContent = ' '; });\n"
"  document.getElementById('search').addEventListener('click', function (e) {\n"
"    e.stopPropagation(); search();\n"
"  });\n"
"  unzoomBtn.addEventListener('click', function (e) { e.stopPropagation(); unzoom(); });\n"
"  window.addEventListener('keydown', function (e) {\n"
"    if ((e.ctrlKey && e.key === 'f') || e.key === '/') { e.preventDefault(); search(); }\n"
"    if (e.key === 'Escape') { unzoom(); clearSearch(); }\n"
"  });\n"
"}\n"
"function zoom(z) {\n"
"  var x = z.ox, w = z.ow, d = z.od, s = W / w, eps = 1e-6;\n"
"  unzoomBtn.style.display = 'inline';\n"
"  frames.forEach(function (f) {\n"
"    var inside = f.ox >= x - eps && f.ox + f.ow <= x + w + eps;\n"
"    var above = f.ox <= x + eps && f.ox + f.ow >= x + w - eps;\n"
"    if (f.od >= d && inside) {\n"
"      f.style.display = ''; f.style.opacity = ''; place(f, X0 + (f.ox - x) * s, f.ow * s);\n"
"    } else if (f.od < d && above) {\n"
"      f.style.display = ''; f.style.opacity = '0.5'; place(f, X0, W);\n"
"    } else {\n"
"      f.style.display = 'none';\n"
"    }\n"
"  });\n"
"}\n"
"function unzoom() {\n"
"  unzoomBtn.style.display = 'none';\n"
"  frames.forEach(function (f) {\n"
"    f.style.display = ''; f.style.opacity = ''; place(f, f.ox, f.ow);\n"
"  });\n"
"}\n"
"function clearSearch() {\n"
"  frames.forEach(function (f) { f.querySelector('rect').setAttribute('fill', f.ofill); });\n"
"  matched.textContent = ' '; searching = null;\n"
"}\n"
"function search() {\n"
"  var term = prompt('Search frames (regular expression)', searching || '');\n"
"  if (term === null) return;\n"
"  clearSearch();\n"
"  if (term === '') return;\n"
"  var re;\n"
"  try { re = new RegExp(term); } catch (err) { matched.textContent = 'bad expression'; return; }\n"
"  searching = term;\n"
"  var spans = [];\n"
"  frames.forEach(function (f) {\n"
"    if (!re.test(f.getAttribute('data-n'))) return;\n"
"    f.querySelector('rect').setAttribute('fill', 'rgb(220,0,220)');\n"
"    spans.push([f.ox, f.ox + f.ow]);\n"
"  });\n"
"  spans.sort(function (a, b) { return a[0] - b[0]; });\n"
"  var sum = 0, end = -1;\n"
"  spans.forEach(function (p) {\n"
"    if (p[0] >= end) { sum += p[1] - p[0]; end = p[1]; }\n"
"    else if (p[1] > end) { sum += p[1] - end; end = p[1]; }\n"
"  });\n"
"  matched.textContent = 'Matched: ' + (100 * sum / W).toFixed(2) + '%';\n"
"}\n";

int flame_write_svg(struct flame *f, FILE *o, const char *title, const char *subtitle)
{
	struct layout l = { .out = o, .total = f->root.count };
	int height = TOP_PAD + BOTTOM_PAD + (f->max_depth + 1) * FRAME_H;
	double usable = SVG_WIDTH - 2 * XPAD;

	l.height = height;
	l.scale = l.total ? usable / l.total : 0;
	fprintf(o, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"data-w=\"%.2f\" data-x0=\"%d\" onload=\"init()\">\n",
		SVG_WIDTH, height, SVG_WIDTH, height, usable, XPAD);
	fprintf(o, "<style type=\"text/css\"><![CDATA[\n"
		"text { font-family: monospace; font-size: 12px; fill: rgb(0,0,0); }\n"
		"g.f:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; cursor: pointer; }\n"
		"#title { font-size: 17px; } #subtitle { fill: rgb(90,90,90); }\n"
		".btn { cursor: pointer; fill: rgb(30,30,160); }\n"
		"]]></style>\n");
	fprintf(o, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n", script);
	fprintf(o, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"rgb(248,248,240)\"/>\n",
		SVG_WIDTH, height);
	fprintf(o, "<text id=\"title\" x=\"%d\" y=\"24\" text-anchor=\"middle\">", SVG_WIDTH / 2);
	xml_escape(o, title ? title : "Flame Graph");
	fprintf(o, "</text>\n<text id=\"subtitle\" x=\"%d\" y=\"42\" text-anchor=\"middle\">",
		SVG_WIDTH / 2);
	xml_escape(o, subtitle ? subtitle : "");
	fprintf(o, "</text>\n"
		"<text id=\"unzoom\" class=\"btn\" x=\"%d\" y=\"24\" style=\"display:none\">Reset Zoom</text>\n"
		"<text id=\"search\" class=\"btn\" x=\"%d\" y=\"24\">Search</text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n"
		"<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n",
		XPAD, SVG_WIDTH - XPAD - 60, XPAD, height - 14,
		SVG_WIDTH - XPAD - 160, height - 14);
	if (l.total)
		write_node(&l, &f->root, XPAD, 0);
	fprintf(o, "</svg>\n");
	return ferror(o) ? -1 : 0;
}
