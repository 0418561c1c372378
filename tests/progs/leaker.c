// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A process with known allocations, for memleak and mallocstat.
 *
 *   leaker leak K S     K leaks of S bytes from each of leak_here (malloc),
 *                       leak_calloc, leak_realloc (grows a 16-byte block to
 *                       S) and leak_memalign (posix_memalign), plus a
 *                       balanced malloc/free loop in balanced_loop
 *   leaker stat N S     N malloc(S), each freed at once
 *   leaker statnull N S the same, then N free(NULL)
 *
 * It blocks SIGUSR1 and waits for it before allocating, so a tracer can
 * attach first; then writes "done" to stdout with write(2) (stdio would
 * allocate a buffer) and waits to be killed, so its memory stays live.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXK 100000

static void *volatile kept[4][MAXK];
static void *volatile sink;

void leak_here(int k, size_t s)
{
	for (int i = 0; i < k; i++)
		kept[0][i] = malloc(s);
}

void leak_calloc(int k, size_t s)
{
	for (int i = 0; i < k; i++)
		kept[1][i] = calloc(1, s);
}

void leak_realloc(int k, size_t s)
{
	for (int i = 0; i < k; i++) {
		void *p = malloc(16);

		kept[2][i] = realloc(p, s);
	}
}

void leak_memalign(int k, size_t s)
{
	for (int i = 0; i < k; i++) {
		void *p = NULL;

		if (posix_memalign(&p, 64, s))
			p = NULL;
		kept[3][i] = p;
	}
}

void balanced_loop(int n, size_t s)
{
	for (int i = 0; i < n; i++) {
		sink = malloc(s);
		free(sink);
	}
}

/* free(NULL) through a pointer the compiler cannot see is NULL. */
void free_null(int n)
{
	for (int i = 0; i < n; i++) {
		sink = NULL;
		free(sink);
	}
}

int main(int argc, char **argv)
{
	sigset_t set;
	int sig, n;
	size_t s;

	if (argc != 4 || (strcmp(argv[1], "leak") && strcmp(argv[1], "stat") &&
			  strcmp(argv[1], "statnull"))) {
		static const char u[] = "usage: leaker leak|stat|statnull COUNT SIZE\n";

		write(2, u, sizeof(u) - 1);
		return 2;
	}
	n = atoi(argv[2]);
	s = strtoul(argv[3], NULL, 0);
	if (n < 0 || n > MAXK)
		return 2;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	write(1, "ready\n", 6);
	sigwait(&set, &sig);

	if (!strcmp(argv[1], "leak")) {
		leak_here(n, s);
		leak_calloc(n, s);
		leak_realloc(n, s);
		leak_memalign(n, s);
		balanced_loop(1000, s);
	} else {
		balanced_loop(n, s);
		if (!strcmp(argv[1], "statnull"))
			free_null(n);
	}
	write(1, "done\n", 5);
	for (;;)
		pause();
}
