#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Both ends of many TCP connections with known byte counts, for the tcplife
loss test.  One process holds both ends so that it can wait until each side's
data is acked before it resets a connection (the RST cases are exact only then).

  lifepeer.py NS_CLIENT NS_SERVER SPEC...
	SPEC is MODE:FAMILY:CSEND:SSEND, MODE one of
	  cfin  client sends CSEND, shutdown(WR); server reads to EOF, sends SSEND,
	        closes; client reads to EOF, closes (client closes first)
	  sfin  client sends CSEND; server reads CSEND, sends SSEND, closes;
	        client reads to EOF, closes (server closes first)
	  crst  both send; once both sides have all their data acked (SIOCOUTQ 0)
	        the client closes with SO_LINGER 0: RST from ESTABLISHED
	  srst  client sends, shutdown(WR); server reads to EOF, sends; once all is
	        acked (the client's FIN too) the server closes with SO_LINGER 0:
	        RST from CLOSE_WAIT, received in FIN_WAIT2
	FAMILY is 4 or 6.  The server listens on 10.123.0.2 / fd00:123::2 port 7400
	in NS_SERVER; clients connect from NS_CLIENT.
Prints one JSON line per connection: {"i","mode","family","cport","csend","ssend"}
after both ends are closed.  Exit 1 when a byte count read differs.
"""
import ctypes
import fcntl
import json
import os
import socket
import struct
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
SIOCOUTQ = 0x5411
PORT = 7400
ADDR = {4: "10.123.0.2", 6: "fd00:123::2"}
libc = ctypes.CDLL(None, use_errno=True)
buf = b"x" * 65536


def setns(name):
	fd = os.open("/run/netns/" + name, os.O_RDONLY)
	if libc.setns(fd, CLONE_NEWNET):
		raise OSError(ctypes.get_errno(), "setns " + name)
	os.close(fd)


def send_all(s, n):
	while n:
		n -= s.send(buf[:min(n, len(buf))])


def recv_n(s, n):
	"""Read exactly n bytes (or until EOF/reset); return the count read."""
	got = 0
	while got < n:
		d = s.recv(min(n - got, 65536))
		if not d:
			break
		got += len(d)
	return got


def recv_eof(s):
	"""Read until EOF or a reset; return the count read."""
	got = 0
	while True:
		try:
			d = s.recv(65536)
		except ConnectionResetError:
			return got
		if not d:
			return got
		got += len(d)


def outq(s):
	return struct.unpack("i", fcntl.ioctl(s.fileno(), SIOCOUTQ, b"\0" * 4))[0]


def wait_acked(*socks):
	"""Until every socket's sent data (and FIN) is acked: write_seq == snd_una."""
	deadline = time.monotonic() + 20
	while any(outq(s) for s in socks):
		if time.monotonic() > deadline:
			raise TimeoutError("data not acked in 20 s")
		time.sleep(0.002)


def rst_close(s):
	s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
	s.close()


errors = []


def server_side(srv, mode, csend, ssend, ready, done):
	c, _ = srv.accept()
	peer_got = [None]
	ready.append((c, peer_got))
	if mode == "cfin":
		got = recv_eof(c)
		send_all(c, ssend)
		c.close()
	elif mode == "sfin":
		got = recv_n(c, csend)
		send_all(c, ssend)
		c.close()
	elif mode == "crst":
		got = recv_n(c, csend)
		send_all(c, ssend)
		recv_eof(c)		# returns on the client's RST
		c.close()
	else:	# srst
		got = recv_eof(c)
		send_all(c, ssend)
		done.wait()		# the client read it all; its FIN is in
		while not cli_sock[0]:
			time.sleep(0.001)
		wait_acked(c, cli_sock[0])
		rst_close(c)
	if got != csend:
		errors.append("server read %d, wanted %d" % (got, csend))


cli_sock = [None]


def one(i, mode, fam, csend, ssend, listeners):
	ready, done = [], threading.Event()
	cli_sock[0] = None
	t = threading.Thread(target=server_side,
			     args=(listeners[fam], mode, csend, ssend, ready, done))
	t.start()
	s = socket.socket(socket.AF_INET if fam == 4 else socket.AF_INET6, socket.SOCK_STREAM)
	s.connect((ADDR[fam], PORT))
	cport = s.getsockname()[1]
	cli_sock[0] = s
	if mode == "cfin":
		send_all(s, csend)
		s.shutdown(socket.SHUT_WR)
		got = recv_eof(s)
		s.close()
	elif mode == "sfin":
		send_all(s, csend)
		got = recv_eof(s)
		s.close()
	elif mode == "crst":
		send_all(s, csend)
		got = recv_n(s, ssend)
		while not ready:
			time.sleep(0.001)
		wait_acked(s, ready[0][0])
		rst_close(s)
	else:	# srst
		send_all(s, csend)
		s.shutdown(socket.SHUT_WR)
		got = recv_n(s, ssend)
		done.set()
		recv_eof(s)		# returns on the server's RST
		s.close()
	t.join()
	if got != ssend:
		errors.append("client %d read %d, wanted %d" % (i, got, ssend))
	print(json.dumps({"i": i, "mode": mode, "family": fam, "cport": cport,
			  "csend": csend, "ssend": ssend}), flush=True)


def main():
	if len(sys.argv) < 4:
		print(__doc__, file=sys.stderr)
		return 2
	specs = []
	for a in sys.argv[3:]:
		mode, fam, cs, ss = a.split(":")
		specs.append((mode, int(fam), int(cs), int(ss)))
	setns(sys.argv[2])
	listeners = {}
	for fam in (4, 6):
		ls = socket.socket(socket.AF_INET if fam == 4 else socket.AF_INET6, socket.SOCK_STREAM)
		ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		ls.bind((ADDR[fam], PORT))
		ls.listen(16)
		listeners[fam] = ls
	setns(sys.argv[1])
	for i, (mode, fam, cs, ss) in enumerate(specs):
		one(i, mode, fam, cs, ss, listeners)
	for ls in listeners.values():
		ls.close()
	for e in errors:
		print("lifepeer: " + e, file=sys.stderr)
	return 1 if errors else 0


if __name__ == "__main__":
	sys.exit(main())
