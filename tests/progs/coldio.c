// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * coldio DIR SECONDS: an IO-bound process.  Writes DIR/cold (32 MiB), then
 * for SECONDS alternates cold_read(), which drops DIR/cold from the page
 * cache (posix_fadvise DONTNEED) and reads it back through the cache in
 * 128 KiB calls (every page a miss), and direct_write(), 4 MiB of O_DIRECT
 * writes to DIR/direct in 64 KiB blocks.  Prints "ready" when the loop
 * starts.  Exit 1 on any IO error.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FILE_MB		32
#define RCHUNK		(128 * 1024)
#define WBLOCK		(64 * 1024)

static char *buf;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) int cold_read(int fd)
{
	ssize_t n;

	fdatasync(fd);
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		return -1;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while ((n = read(fd, buf, RCHUNK)) > 0)
		;
	return n < 0 ? -1 : 0;
}

__attribute__((noinline)) int direct_write(int fd)
{
	int i;

	for (i = 0; i < 4 * 1024 * 1024 / WBLOCK; i++)
		if (pwrite(fd, buf, WBLOCK, (off_t)i * WBLOCK) != WBLOCK)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char path[4096];
	double end;
	int rfd, wfd, i;

	if (argc != 3 || atof(argv[2]) <= 0) {
		fprintf(stderr, "usage: coldio DIR SECONDS\n");
		return 2;
	}
	if (posix_memalign((void **)&buf, 4096, RCHUNK))
		return 1;
	memset(buf, 0x5a, RCHUNK);
	snprintf(path, sizeof(path), "%s/cold", argv[1]);
	rfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (rfd < 0) {
		perror(path);
		return 1;
	}
	for (i = 0; i < FILE_MB * 8; i++)
		if (write(rfd, buf, RCHUNK) != RCHUNK) {
			perror("write");
			return 1;
		}
	snprintf(path, sizeof(path), "%s/direct", argv[1]);
	wfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0644);
	if (wfd < 0) {
		perror(path);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	end = now() + atof(argv[2]);
	while (now() < end) {
		if (cold_read(rfd) || direct_write(wfd)) {
			perror("coldio");
			return 1;
		}
	}
	return 0;
}
