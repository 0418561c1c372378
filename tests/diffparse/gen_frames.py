#!/usr/bin/python3
# Frame generator for the differential parser test (tests/test_diffparse.sh):
# valid frames of every kind bpf/parse.h knows, then mutated ones, written to
# a pcap (caplen == origlen, so a cut frame is a short packet, not a short
# capture) and a side file "number<TAB>description" naming how each was made.
#   gen_frames.py OUT.pcap OUT.desc FRAMES SEED
# Run it with Debian's /usr/bin/python3 (python3-scapy).
import logging
import random
import struct
import sys

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.inet import IP, TCP, UDP, ICMP, IPOption_NOP, IPOption_Router_Alert
from scapy.layers.inet6 import IPv6, ICMPv6EchoRequest, ICMPv6DestUnreach
from scapy.layers.l2 import Ether, ARP
from scapy.packet import Raw

MAC = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def l4_v4(rnd):
	k = rnd.choice(["tcp", "tcp_opt", "udp", "icmp", "gre", "zero_tcp", "zero_udp"])
	pay = Raw(bytes(rnd.randrange(256) for _ in range(rnd.choice([0, 1, 7, 32, 100]))))
	if k == "tcp":
		return k, TCP(sport=rnd.randrange(1, 65535), dport=80, flags="S") / pay
	if k == "tcp_opt":
		return k, TCP(sport=1234, dport=443, flags="A",
			      options=[("MSS", 1460), ("NOP", None), ("WScale", 7),
				       ("Timestamp", (rnd.randrange(1 << 32), 0))]) / pay
	if k == "udp":
		return k, UDP(sport=rnd.randrange(1, 65535), dport=rnd.choice([53, 9999, 4790])) / pay
	if k == "icmp":
		return k, ICMP(type=8, id=1, seq=rnd.randrange(65536)) / pay
	if k == "gre":
		return k, Raw(b"\x00\x00\x08\x00") / pay
	return k, None


def ipv4(rnd, kind, l4):
	proto = {"tcp": 6, "tcp_opt": 6, "zero_tcp": 6, "udp": 17, "zero_udp": 17,
		 "icmp": 1, "gre": 47}[kind]
	opts = []
	if rnd.random() < 0.25:
		opts = [IPOption_Router_Alert()] + [IPOption_NOP()] * rnd.randrange(0, 9)
	ip = IP(src="10.0.0.1", dst="10.0.0.2", proto=proto, options=opts,
		id=rnd.randrange(65536), ttl=64)
	return ip / l4 if l4 is not None else ip


def ext_hdr(kind, nh):
	"""One IPv6 extension header, raw, the smallest of its kind."""
	if kind in (0, 60):		# hop-by-hop, destination options: PadN
		return bytes([nh, 0, 1, 4, 0, 0, 0, 0])
	if kind == 43:			# routing type 0, no segments left
		return bytes([nh, 0, 0, 0, 0, 0, 0, 0])
	# AH: payload length 4 -> (4 + 2) * 4 = 24 bytes, 12-byte ICV
	return bytes([nh, 4, 0, 0]) + struct.pack("!II", 1, 1) + bytes(12)


def l4_v6(rnd):
	k = rnd.choice(["tcp", "udp", "icmpv6", "icmpv6_unreach", "none", "esp", "zero_tcp", "zero_udp"])
	pay = Raw(bytes(rnd.randrange(256) for _ in range(rnd.choice([0, 3, 40]))))
	src, dst = "2001:db8::1", "2001:db8::2"
	if k == "tcp":
		l4 = TCP(sport=5555, dport=80, flags="PA") / pay
		return k, 6, bytes(IPv6(src=src, dst=dst) / l4)[40:]
	if k in ("zero_tcp", "zero_udp"):
		return k, 6 if k == "zero_tcp" else 17, b""
	if k == "udp":
		l4 = UDP(sport=5353, dport=5353) / pay
		return k, 17, bytes(IPv6(src=src, dst=dst) / l4)[40:]
	if k == "icmpv6":
		l4 = ICMPv6EchoRequest(id=7, seq=rnd.randrange(65536)) / pay
		return k, 58, bytes(IPv6(src=src, dst=dst) / l4)[40:]
	if k == "icmpv6_unreach":
		l4 = ICMPv6DestUnreach() / IPv6(src=dst, dst=src) / UDP()
		return k, 58, bytes(IPv6(src=src, dst=dst) / l4)[40:]
	if k == "none":
		return k, 59, b""
	return k, 50, b"\x00\x00\x00\x01\x00\x00\x00\x01" + bytes(pay)


def ipv6(rnd):
	"""IPv6 with 0..3 extension headers (maybe a fragment header) and an L4."""
	kind, nh, l4 = l4_v6(rnd)
	chain = [rnd.choice([0, 43, 60, 51]) for _ in range(rnd.choice([0, 0, 1, 2, 3]))]
	desc = "ipv6/" + "".join({0: "H", 43: "R", 60: "D", 51: "A"}[c] for c in chain)
	frag = None
	if rnd.random() < 0.15:
		later = rnd.random() < 0.5
		off = rnd.randrange(1, 100) if later else 0
		m = 1 if not later else rnd.randrange(2)
		frag = struct.pack("!BBHI", 0, 0, off << 3 | m, rnd.randrange(1 << 32))
		desc += "F" + ("later" if later else "first")
	kinds = chain + ([44] if frag else [])
	body = l4
	nxt = nh
	for k in reversed(kinds):
		h = frag if k == 44 else ext_hdr(k, 0)
		body = bytes([nxt]) + h[1:] + body
		nxt = k
	hdr = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2", nh=nxt, plen=len(body)))
	return desc + "/" + kind, hdr + body


def valid_frame(rnd):
	"""One valid frame (bytes, description)."""
	k = rnd.choices(["ipv4", "ipv4_frag", "ipv6", "arp", "other", "dot3"],
			weights=[40, 8, 36, 6, 4, 2])[0]
	ntag = rnd.choices([0, 1, 2], weights=[70, 20, 10])[0]
	if k == "ipv4":
		kind, l4 = l4_v4(rnd)
		ip = ipv4(rnd, kind, l4)
		desc = "ipv4%s/%s" % ("_opt" if ip.options else "", kind)
		etype, raw = 0x0800, bytes(ip)
	elif k == "ipv4_frag":
		kind, l4 = l4_v4(rnd)
		ip = ipv4(rnd, kind, l4)
		later = rnd.random() < 0.5
		ip.flags = "MF" if not later or rnd.random() < 0.5 else 0
		ip.frag = rnd.randrange(1, 200) if later else 0
		desc = "ipv4_frag_%s/%s" % ("later" if later else "first", kind)
		etype, raw = 0x0800, bytes(ip)
	elif k == "ipv6":
		desc, raw = ipv6(rnd)
		etype = 0x86DD
	elif k == "arp":
		etype, raw = 0x0806, bytes(ARP(op=rnd.choice([1, 2]), psrc="10.0.0.1", pdst="10.0.0.2"))
		desc = "arp"
	elif k == "other":
		etype, raw = rnd.choice([0x88CC, 0x8847, 0x88B5, 0x0842]), bytes(46)
		desc = "other_ethertype"
	else:
		ntag, etype, raw, desc = 0, 46, bytes(46), "dot3_length"
	b = fix_vlan_wrap(rnd, bytes(Ether(**MAC, type=etype)) + raw, ntag)
	return pad(b), "vlan%d/%s" % (ntag, desc)


def fix_vlan_wrap(rnd, b, ntag):
	"""Insert ntag tags (802.1Q or 802.1ad) after the MAC addresses."""
	types = [0x88A8 if rnd.random() < 0.3 else 0x8100 for _ in range(ntag)]
	types.append(struct.unpack("!H", b[12:14])[0])
	out = bytearray(b[:12]) + struct.pack("!H", types[0])
	for i in range(ntag):
		out += struct.pack("!HH", rnd.randrange(1, 4095), types[i + 1])
	return bytes(out) + b[14:]


def pad(b):
	"""Ethernet minimum (without FCS): what a real NIC would deliver."""
	return b + bytes(max(0, 60 - len(b)))


def l3_off(b):
	off = 12
	et = struct.unpack("!H", b[off:off + 2])[0]
	n = 0
	while et in (0x8100, 0x88A8) and off + 6 <= len(b):
		off += 4
		n += 1
		et = struct.unpack("!H", b[off:off + 2])[0]
	return off + 2, et


def mutate(rnd, b, desc):
	"""One mutation of a valid frame; returns (bytes, description) or None."""
	b = bytearray(b)
	off, et = l3_off(b)
	m = rnd.choice(["trunc", "trunc", "ihl", "totlen", "version", "proto",
			"nexthdr", "extlen", "vlan3", "optover", "zero_l4", "tcpdoff",
			"udplen", "bytes"])
	if m == "trunc":
		if len(b) <= 14:
			return None
		n = rnd.randrange(14, len(b))
		return bytes(b[:n]), "%s|trunc@%d" % (desc, n), len(b)
	if m == "vlan3":
		n = rnd.randrange(3, 6)
		inner = b[12:]
		tags = b""
		for _ in range(n):
			tags += struct.pack("!HH", rnd.choice([0x8100, 0x88A8]), rnd.randrange(1, 4095))
		return bytes(b[:12] + tags + inner), "%s|vlan+%d" % (desc, n)
	if m == "bytes":
		for _ in range(rnd.randrange(1, 4)):
			i = rnd.randrange(12, len(b))
			b[i] = rnd.randrange(256)
		return bytes(b), desc + "|bytes"
	if et == 0x0800 and off + 20 <= len(b):
		if m == "ihl":
			v = rnd.randrange(16)
			b[off] = 0x40 | v
			return bytes(b), "%s|ihl=%d" % (desc, v)
		if m == "totlen":
			v = rnd.choice([0, 1, 19, 20, rnd.randrange(65536), len(b) - off + 1])
			struct.pack_into("!H", b, off + 2, v)
			return bytes(b), "%s|totlen=%d" % (desc, v)
		if m == "version":
			v = rnd.choice([0, 5, 6, 15])
			b[off] = (v << 4) | (b[off] & 15)
			return bytes(b), "%s|version=%d" % (desc, v)
		if m == "proto":
			v = rnd.choice([1, 6, 17, 58, 0, 41, 47, 255])
			b[off + 9] = v
			return bytes(b), "%s|proto=%d" % (desc, v)
		if m == "optover":
			# An option whose length runs past the IHL.
			ihl = b[off] & 15
			if ihl <= 5:
				# Make room: IHL 6, then an option claiming 40 bytes.
				b[off + 20:off + 20] = b"\x94\x28\x00\x00"
				b[off] = 0x46
				struct.pack_into("!H", b, off + 2, struct.unpack("!H", b[off + 2:off + 4])[0] + 4)
			else:
				b[off + 20 + 1] = 40
			return bytes(b), desc + "|optover"
		if m == "zero_l4":
			hl = (b[off] & 15) * 4
			b = b[:off + hl]
			struct.pack_into("!H", b, off + 2, hl)
			# Not a fragment: the L4 header is really missing.
			b[off + 6] = 0
			b[off + 7] = 0
			return bytes(b), desc + "|zero_l4"
	if et == 0x86DD and off + 40 <= len(b):
		if m in ("nexthdr", "proto"):
			v = rnd.choice([0, 43, 44, 51, 60, 59, 6, 17, 58, 50, 135, 255])
			b[off + 6] = v
			return bytes(b), "%s|nh=%d" % (desc, v)
		if m == "extlen" and b[off + 6] in (0, 43, 60, 51) and off + 42 <= len(b):
			v = rnd.choice([0, 1, 255, rnd.randrange(256)])
			b[off + 41] = v
			if rnd.random() < 0.5:
				b[off + 40] = rnd.choice([0, 43, 60, 44, 51])
			return bytes(b), "%s|ext0len=%d,nh=%d" % (desc, v, b[off + 40])
		if m == "version":
			v = rnd.choice([0, 4, 7, 15])
			b[off] = (v << 4) | (b[off] & 15)
			return bytes(b), "%s|version=%d" % (desc, v)
		if m == "totlen":
			v = rnd.choice([0, 1, rnd.randrange(65536)])
			struct.pack_into("!H", b, off + 4, v)
			return bytes(b), "%s|plen=%d" % (desc, v)
		if m == "zero_l4":
			b = b[:off + 40]
			b[off + 6] = rnd.choice([6, 17, 1, 58])
			struct.pack_into("!H", b, off + 4, 0)
			return bytes(b), "%s|zero_l4_nh=%d" % (desc, b[off + 6])
	# TCP/UDP fields: find the L4 header the simple way (no IPv6 ext).
	l4off, proto = None, None
	if et == 0x0800 and off + 20 <= len(b):
		l4off, proto = off + (b[off] & 15) * 4, b[off + 9]
	elif et == 0x86DD and off + 40 <= len(b):
		l4off, proto = off + 40, b[off + 6]
	if l4off is not None and m == "tcpdoff" and proto == 6 and l4off + 13 <= len(b):
		v = rnd.randrange(16)
		b[l4off + 12] = (v << 4) | (b[l4off + 12] & 15)
		return bytes(b), "%s|doff=%d" % (desc, v)
	if l4off is not None and m == "udplen" and proto == 17 and l4off + 6 <= len(b):
		v = rnd.choice([0, 7, 8, 9, 65535])
		struct.pack_into("!H", b, l4off + 4, v)
		return bytes(b), "%s|udplen=%d" % (desc, v)
	return None


def ext_chain_bogus(rnd):
	"""IPv6 with an extension chain around and beyond the walk limit (8)."""
	n = rnd.choice([7, 8, 9, 10, 12])
	last = rnd.choice([6, 17, 58, 59])
	body = b""
	nhs = [rnd.choice([0, 60, 43]) for _ in range(n)]
	for i in range(n):
		nxt = nhs[i + 1] if i + 1 < n else last
		body += bytes([nxt, 0]) + bytes(6)
	l4 = {6: bytes(TCP(sport=1, dport=2)), 17: bytes(UDP(sport=1, dport=2)),
	      58: bytes(ICMPv6EchoRequest()), 59: b""}[last]
	body += l4
	ip6 = bytearray(bytes(IPv6(src="2001:db8::1", dst="2001:db8::2", nh=nhs[0], plen=len(body))))
	return pad(bytes(Ether(**MAC, type=0x86DD)) + bytes(ip6) + body), "ipv6_ext_chain_%d/%d" % (n, last)


def main():
	out, descf, nframes, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
	rnd = random.Random(seed)
	frames = []
	# Truncation at every byte of valid frames of distinct kinds (one with
	# an L4 header each), a quarter of the run, then a random mix.
	seen = set()
	tries = 0
	while len(frames) < nframes // 4:
		b, d = valid_frame(rnd)
		kind = d.split("/")[1] + "/" + d.split("/")[-1]
		tries += 1
		# Repeat kinds once new ones stop coming (long runs).
		if "zero_" in d or (kind in seen and tries < 500):
			continue
		seen.add(kind)
		tries = 0
		for n in range(14, len(b)):
			frames.append((b[:n], "%s|trunc@%d" % (d, n), len(b)))
	while len(frames) < nframes:
		r = rnd.random()
		if r < 0.35:
			frames.append(valid_frame(rnd))
		elif r < 0.42:
			frames.append(ext_chain_bogus(rnd))
		else:
			b, d = valid_frame(rnd)
			m = mutate(rnd, b, d)
			if m:
				frames.append(m)
	frames = frames[:nframes]
	with open(out, "wb") as f, open(descf, "w") as df:
		# pcap: magic, v2.4, tz 0, sigfigs 0, snaplen 262144, LINKTYPE_ETHERNET
		f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
		for i, fr in enumerate(frames):
			b, d = fr[0], fr[1]
			orig = fr[2] if len(fr) > 2 else len(b)
			f.write(struct.pack("<IIII", 1700000000 + i // 1000, i % 1000, len(b), orig))
			f.write(b)
			df.write("%d\t%s\n" % (i + 1, d))


if __name__ == "__main__":
	main()
