// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A TCP client/server pair with known behaviour, for the TCP probe tests.
 *
 *   tcpxfer server ADDR PORT REPLY_BYTES [CONNS]
 *	listen on ADDR:PORT; for each of CONNS connections (default 1): read
 *	until the peer's FIN, send REPLY_BYTES back, close.  Prints "ready"
 *	once listening, and "got N" per connection.
 *   tcpxfer client ADDR PORT SEND_BYTES [CONNS]
 *	CONNS times: connect, send SEND_BYTES, shutdown(SHUT_WR), read until
 *	the server closes, close.  Prints "got N" per connection.  Exit 1 if a
 *	connect fails (the errno is printed).
 *
 * Both close gracefully, so every byte is acked before the sockets close.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[65536];

static socklen_t addr_of(const char *host, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	fprintf(stderr, "tcpxfer: bad address %s\n", host);
	exit(2);
}

static int send_all(int fd, unsigned long long n)
{
	memset(buf, 'x', sizeof(buf));
	while (n) {
		ssize_t w = send(fd, buf, n < sizeof(buf) ? n : sizeof(buf), MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("tcpxfer: send");
			return -1;
		}
		n -= w;
	}
	return 0;
}

static long long recv_all(int fd)
{
	long long total = 0;
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), 0)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("tcpxfer: recv");
			return -1;
		}
		total += r;
	}
	return total;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	unsigned long long bytes;
	socklen_t len;
	int conns, i, fd, c, one = 1;

	if (argc < 5) {
		fprintf(stderr, "usage: tcpxfer server|client ADDR PORT BYTES [CONNS]\n");
		return 2;
	}
	len = addr_of(argv[2], atoi(argv[3]), &ss);
	bytes = strtoull(argv[4], NULL, 0);
	conns = argc > 5 ? atoi(argv[5]) : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(argv[1], "server")) {
		fd = socket(ss.ss_family, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128)) {
			perror("tcpxfer: listen");
			return 1;
		}
		printf("ready\n");
		for (i = 0; i < conns; i++) {
			c = accept(fd, NULL, NULL);
			if (c < 0) {
				perror("tcpxfer: accept");
				return 1;
			}
			printf("got %lld\n", recv_all(c));
			if (send_all(c, bytes))
				return 1;
			close(c);
		}
		close(fd);
		return 0;
	}
	for (i = 0; i < conns; i++) {
		fd = socket(ss.ss_family, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&ss, len)) {
			printf("connect failed: %s\n", strerror(errno));
			return 1;
		}
		if (send_all(fd, bytes))
			return 1;
		shutdown(fd, SHUT_WR);
		printf("got %lld\n", recv_all(fd));
		close(fd);
	}
	return 0;
}
