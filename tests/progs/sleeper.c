// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sleeper COUNT MS: waits for SIGUSR1, then sleeps COUNT times for MS
 * milliseconds, each inside one clock_nanosleep() system call, and exits.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 1, ms = argc > 2 ? atol(argv[2]) : 10, i;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (sigwait(&set, &sig))
		return 1;
	for (i = 0; i < count; i++)
		syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
	return 0;
}
