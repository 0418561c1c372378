/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A flame graph from folded stacks ("a;b;c COUNT"), written as one
 * self-contained SVG: frames as rectangles whose widths are proportional
 * to samples, <title> tooltips with counts and percentages, and a small
 * script for click-to-zoom and search.  Frames ending in "_[k]" are
 * kernel frames and get their own colour.
 */
#ifndef PKTSCOPE_FLAME_H
#define PKTSCOPE_FLAME_H

#include <stdint.h>
#include <stdio.h>

struct flame;

struct flame *flame_new(void);
void flame_free(struct flame *f);
/* frames: root first, separated by ';'. */
int flame_add(struct flame *f, const char *frames, uint64_t count);
int flame_write_svg(struct flame *f, FILE *out, const char *title, const char *subtitle);

#endif
