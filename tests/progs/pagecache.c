// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Known page cache traffic, for cachestat and cachetop.
 *
 *   pagecache evict FILE         fdatasync + POSIX_FADV_DONTNEED, then exit
 *   pagecache read FILE          after SIGUSR1: read FILE 4096 bytes at a time
 *   pagecache write FILE PAGES   after SIGUSR1: write PAGES pages of 4096 bytes
 *                                to a new FILE, 4096 bytes at a time, no sync
 *
 * read and write print "ready" before waiting and "done" after, then exit.
 * Before "ready" every page of the program is locked in memory (mlockall):
 * after the go signal its only page cache traffic is FILE's, not a fault
 * on a code page of its own or of libc that would read ahead a whole
 * window of pages (counted as misses, taken from the hits).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[4096];
	sigset_t set;
	int fd, sig;
	long i, n;

	if (argc < 3)
		return 2;
	if (!strcmp(argv[1], "evict")) {
		fd = open(argv[2], O_RDONLY);
		if (fd < 0 || fdatasync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
			return 1;
		return 0;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (!strcmp(argv[1], "read"))
		fd = open(argv[2], O_RDONLY);
	else if (!strcmp(argv[1], "write") && argc == 4)
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	else
		return 2;
	if (fd < 0)
		return 1;
	if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
		perror("pagecache: mlockall");
		close(fd);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	if (argv[1][0] == 'r') {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	} else {
		n = atol(argv[3]);
		memset(buf, 'x', sizeof(buf));
		for (i = 0; i < n; i++)
			if (write(fd, buf, sizeof(buf)) != sizeof(buf))
				return 1;
	}
	printf("done\n");
	fflush(stdout);
	return 0;
}
