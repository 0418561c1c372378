# A minimal authoritative DNS responder over UDP for the replay suite's
# capture bench: every A query gets 192.0.2.<n>, every AAAA query
# 2001:db8::<n>, anything else an empty NOERROR answer.  One socket on [::]
# with IPv6-only off serves IPv4 and IPv6 clients.  Run with Debian's python.
#   dns_server.py PORT
import socket
import struct
import sys

port = int(sys.argv[1])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", port))
print("ready", flush=True)
n = 0
while True:
	q, peer = s.recvfrom(4096)
	if len(q) < 12:
		continue
	qid, flags, qdcount = struct.unpack("!HHH", q[:6])
	if qdcount != 1:
		continue
	# The question: labels up to the zero byte, then QTYPE and QCLASS.
	end = 12
	while end < len(q) and q[end] != 0:
		end += 1 + q[end]
	end += 5
	if end > len(q):
		continue
	question = q[12:end]
	qtype = struct.unpack("!H", question[-4:-2])[0]
	n = n % 250 + 1
	if qtype == 1:
		rdata = bytes([192, 0, 2, n])
	elif qtype == 28:
		rdata = bytes.fromhex("20010db8" + "00" * 11) + bytes([n])
	else:
		rdata = None
	# QR, opcode 0, AA, RD copied from the query, RA.
	rflags = 0x8400 | (flags & 0x0100) | 0x0080
	ans = b""
	if rdata is not None:
		# A pointer to the name in the question (offset 12), TTL 60.
		ans = struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
	hdr = struct.pack("!HHHHHH", qid, rflags, 1, 1 if ans else 0, 0, 0)
	s.sendto(hdr + question + ans, peer)
