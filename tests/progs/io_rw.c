// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * File IO with known counts, for the filetop/fileslower tests.
 *
 *   io_rw read PATH R B    R read() calls of B bytes on PATH
 *   io_rw sock R B         R messages of B bytes over an AF_UNIX seqpacket
 *                          pair: R write() calls on one socket, R read() on the other
 *   io_rw mixed PATH B     on PATH, B bytes each: write, pwrite64, writev,
 *                          pwritev, pwritev2, then read, pread64, readv,
 *                          preadv, preadv2 (5 writes, 5 reads)
 *
 * Every call must move exactly B bytes, else the exit status is 1.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static char *buf;
static size_t B;

static void check(ssize_t got, const char *what)
{
	if (got != (ssize_t)B) {
		fprintf(stderr, "io_rw: %s returned %zd, wanted %zu\n", what, got, B);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct iovec iov;
	long r, i;
	int fd, sv[2];

	if (argc < 4) {
		fprintf(stderr, "usage: io_rw read PATH R B | sock R B | mixed PATH B\n");
		return 2;
	}
	if (!strcmp(argv[1], "read") && argc == 5) {
		r = atol(argv[3]);
		B = atol(argv[4]);
	} else if (!strcmp(argv[1], "sock") && argc == 4) {
		r = atol(argv[2]);
		B = atol(argv[3]);
	} else if (!strcmp(argv[1], "mixed") && argc == 4) {
		r = 0;
		B = atol(argv[3]);
	} else {
		fprintf(stderr, "io_rw: bad arguments\n");
		return 2;
	}
	buf = calloc(1, B ? B : 1);
	if (!buf)
		return 1;
	iov.iov_base = buf;
	iov.iov_len = B;

	if (!strcmp(argv[1], "read")) {
		fd = open(argv[2], O_RDONLY);
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		for (i = 0; i < r; i++)
			check(read(fd, buf, B), "read");
		close(fd);
	} else if (!strcmp(argv[1], "sock")) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)) {
			perror("socketpair");
			return 1;
		}
		for (i = 0; i < r; i++) {
			check(write(sv[0], buf, B), "write");
			check(read(sv[1], buf, B), "read");
		}
		close(sv[0]);
		close(sv[1]);
	} else {
		fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		check(write(fd, buf, B), "write");
		check(pwrite(fd, buf, B, B), "pwrite64");
		lseek(fd, 2 * B, SEEK_SET);
		check(writev(fd, &iov, 1), "writev");
		check(pwritev(fd, &iov, 1, 3 * B), "pwritev");
		check(pwritev2(fd, &iov, 1, 4 * B, 0), "pwritev2");
		lseek(fd, 0, SEEK_SET);
		check(read(fd, buf, B), "read");
		check(pread(fd, buf, B, B), "pread64");
		check(readv(fd, &iov, 1), "readv");
		check(preadv(fd, &iov, 1, 3 * B), "preadv");
		check(preadv2(fd, &iov, 1, 4 * B, 0), "preadv2");
		close(fd);
	}
	return 0;
}
