#!/usr/bin/python3
# Compares pktscope's per-frame classification (build/tests/difftest_parser)
# with tshark's reading of the same pcap, in one vocabulary:
#   l3  ipv4 ipv6 arp other
#   l4  tcp udp icmp icmpv6 other none
#   verdict ok | trunc <layer> | malf <layer>
#       layers eth vlan arp ipv4 ipv6 ipv6_ext tcp udp icmp icmpv6
#
#   compare.py FILE.pcap FILE.desc PKTSCOPE.txt TSHARK.txt
#
# TSHARK.txt comes from (fields in this order, tab separated):
#   tshark -r FILE.pcap -o ip.defragment:FALSE -o ipv6.defragment:FALSE
#          -T fields -E separator=/t -E occurrence=a -E aggregator=,
#          -e frame.number -e frame.protocols -e _ws.malformed
#          -e _ws.expert.message -e _ws.short -e ip.hdr_len -e ip.len
#          -e ip.proto -e ip.frag_offset -e ipv6.plen -e ipv6.nxt
#          -e ipv6.hopopts.nxt -e ipv6.routing.nxt -e ipv6.dstopts.nxt
#          -e ipv6.fraghdr.nxt -e ah.next_header -e ipv6.fraghdr.offset
#          -e ip.version -e tcp.hdr_len -e ipv6.hopopts.len_oct
#          -e ipv6.routing.len_oct -e ipv6.dstopts.len_oct -e ah.length
#
# Deliberate differences (each frame they apply to is counted and printed;
# everything else must agree, for XDP and for TC ingress):
#  D-VLAN3    pktscope stops at the third VLAN tag: L3 other, L4 none, no
#             verdict; tshark walks any number of tags.
#  D-EXT8     pktscope walks at most 8 IPv6 extension headers (PS_IPV6_EXT_MAX);
#             a longer chain is L4 other with no verdict.
#  D-FRAG     a non-first fragment is counted under its IP protocol with no
#             L4 header read; tshark (reassembly off) shows it as data.  Both
#             agree on the protocol number, so only the wording differs.
#  D-ARP      pktscope wants the 8-byte fixed ARP header; tshark the whole
#             28-byte IPv4-over-Ethernet body.
#  D-IPLEN    pktscope reads headers to the end of the frame and does not bound
#             them by IPv4 total length / IPv6 payload length (Ethernet padding
#             and a lying length field are read as header bytes); tshark trims
#             to the IP length.  When the two lengths disagree in a way that
#             reaches a header, only L3 (and L4 for IPv4) is compared.
#  D-UDPLEN   pktscope's only UDP length check is length < 8; tshark also
#             flags a length beyond the IP payload.
#  D-PAYLOAD  tshark dissects payloads (DNS, GRE inner IP, an ICMP error's
#             inner packet) and flags errors there, and wants the L4 payload
#             (checksum, ICMP body) or a non-empty payload after the last
#             extension header; pktscope reads headers only.
#  D-EXTOPT   pktscope skips Hop-by-Hop / Destination Options headers by
#             their length and does not parse the options inside (as with
#             IPv4 options); tshark rejects an option that overruns its header.
#  D-V4OPT    pktscope does not parse IPv4 options; tshark rejects one whose
#             length is wrong for its type or overruns the header.
#  D-TSO      an IPv4 total length of 0: tshark takes it for TCP segmentation
#             offload and uses the frame length; pktscope calls it malformed.
#  D-ORDER    an IPv4 header both cut and with total length < header length:
#             pktscope checks that the header fits first (truncated), tshark
#             the length field first (malformed).
# Known pktscope findings, reported, not deliberate (verdict not compared):
#  K-AH8      an AH header with payload length 0 (8 bytes, shorter than the
#             12-byte minimum of RFC 4302) is walked as valid; tshark calls it
#             malformed.
import re
import struct
import sys
from collections import Counter

EXT6 = {0, 43, 44, 51, 60}
L4 = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6", 59: "none"}
LAYER = {"VLAN": "vlan", "IEEE 802.1AD": "vlan", "802.1Q Virtual LAN": "vlan",
	 "ARP": "arp", "ARP/RARP": "arp", "IPv4": "ipv4", "IPv6": "ipv6",
	 "IPv6 Hop-by-Hop": "ipv6_ext", "IPv6 Routing": "ipv6_ext",
	 "IPv6 Destination Options": "ipv6_ext", "IPv6 Fragment": "ipv6_ext",
	 "AH": "ipv6_ext", "TCP": "tcp", "UDP": "udp", "ICMP": "icmp",
	 "ICMPv6": "icmpv6", "Ethertype": "payload"}
ETH_L2 = {"eth", "ethertype", "vlan", "ieee8021ad"}


def read_pcap(path):
	frames = []
	with open(path, "rb") as f:
		f.read(24)
		while True:
			h = f.read(16)
			if len(h) < 16:
				break
			_, _, cap, orig = struct.unpack("<IIII", h)
			frames.append((f.read(cap), orig))
	return frames


def l4_of(proto):
	return L4.get(proto, "other")


def ints(s):
	return [int(x, 0) for x in s.split(",") if x != ""] if s else []


def expected(fr, orig, t):
	"""pktscope's classification as tshark's reading predicts it: (l3, l4, verdict, reasons)."""
	(protos, malformed, expert, short, ihl, iplen, ipproto, fragoff, plen, nxt,
	 hnxt, rnxt, dnxt, fnxt, anxt, foff6, ipver, tcphl, hlen6, rlen6, dlen6,
	 ahlen) = (t + [""] * 23)[1:23]
	P = protos.split(":")
	why = []
	# An ICMP error carries an inner IP header: keep the outer fields.
	ihl, iplen, ipproto, fragoff, plen, nxt = (x.split(",")[0] for x in
						    (ihl, iplen, ipproto, fragoff, plen, nxt))
	# Tags counted on the bytes: tshark's 802.1ad dissector shows one
	# protocol for an S-tag and the tag after it.
	tags, off = 0, 12
	while off + 6 <= len(fr) and fr[off:off + 2] in (b"\x81\x00", b"\x88\xa8"):
		tags += 1
		off += 4
	if tags >= 3:
		return "other", "none", "ok", ["D-VLAN3"]
	l3off = 14 + 4 * tags
	# The dissector tshark chose for the innermost EtherType.
	i = 0
	while i < len(P) and P[i] in ETH_L2:
		i += 1
	first = P[i] if i < len(P) else ""
	# Where tshark ran out of bytes, or hit an exception.
	cut = None
	m = re.search(r"Packet size limited during capture: (.*?) truncated", short)
	if not m:
		m = re.search(r"\[Malformed Packet: (.*?)\]", malformed)
	if m:
		name = m.group(1)
		cut = LAYER.get(name, "ipv6_ext" if name.startswith("IPv6 ") else "payload")
	# A cut in what follows the L4 header (an ICMP error's inner packet,
	# GRE's payload) is a payload cut.
	k = i + 1
	while k < len(P) and (P[k].startswith("ipv6.") or P[k] == "ah"):
		k += 1
	if cut and first in ("ip", "ipv6") and len(P) - 1 > k:
		cut = "payload"
	if cut == "payload":
		why.append("D-PAYLOAD")
		cut = None
	if cut == "vlan":
		return "other", "none", "trunc vlan", why
	et = struct.unpack("!H", fr[l3off - 2:l3off])[0] if len(fr) >= l3off else None
	if first == "arp" or (not first and et == 0x0806):
		if cut == "arp" and len(fr) - l3off >= 8:
			return "arp", "none", "ok", why + ["D-ARP"]
		return "arp", "none", "trunc arp" if cut == "arp" or len(fr) - l3off < 8 else "ok", why
	if first == "ip" or (not first and et == 0x0800):
		if cut == "ipv4" and len(fr) - l3off >= 20 and ipproto and \
		   l3off + (fr[l3off] & 15) * 4 <= len(fr) and (fr[l3off] & 15) > 5:
			# The header fits; tshark gave up inside the options.
			return "ipv4", l4_of(int(ipproto)), None, why + ["D-V4OPT"]
		if cut == "ipv4" or not first:
			return "ipv4", "none", "trunc ipv4", why
		if int(ipver.split(",")[0] or 4) != 4 or int(ihl or 20) < 20:
			return "ipv4", "none", "malf ipv4", why
		if iplen and int(iplen) < int(ihl):
			# pktscope checks that the header fits before it reads
			# the total length.
			if (fr[l3off] & 15) * 4 > len(fr) - l3off:
				return "ipv4", "none", "trunc ipv4", why + ["D-ORDER"]
			return "ipv4", "none", "malf ipv4", why
		if fr[l3off + 2:l3off + 4] == b"\x00\x00":
			# tshark takes a zero total length for TSO and uses the
			# frame length instead.
			return "ipv4", "none", "malf ipv4", why + ["D-TSO"]
		proto = int(ipproto, 0)
		l4 = l4_of(proto)
		if int(fragoff or 0) > 0:
			return "ipv4", l4, "ok", why + ["D-FRAG"]
		hl, tl = int(ihl), int(iplen)
		avail = orig - l3off
		min4 = {"tcp": 20, "udp": 8, "icmp": 8}.get(l4, 0)
		if tl > avail or tl - hl < min4:
			return "ipv4", l4, None, why + ["D-IPLEN"]
		return "ipv4", l4, l4_verdict(l4, cut, expert, why, fr, l3off + hl, tcphl), why
	if first == "ipv6" or (not first and et == 0x86DD) or \
	   (first == "data" and "Bogus IPv6 version" in expert):
		if first == "data" and "Bogus IPv6 version" in expert:
			return "ipv6", "none", "malf ipv6", why
		if cut == "ipv6" or not first:
			return "ipv6", "none", "trunc ipv6", why
		exts = [p for p in P[i + 1:] if p.startswith("ipv6.") or p == "ah"]
		# tshark says plen; the headers pktscope reads go to the frame end.
		bounded = int(plen) + 40 != orig - l3off
		if len(exts) > 8:
			return "ipv6", "other", "ok", why + ["D-EXT8"]
		allnxt = ints(nxt) + ints(hnxt) + ints(rnxt) + ints(dnxt) + ints(fnxt) + ints(anxt)
		last = [n for n in allnxt if n not in EXT6]
		# pktscope stops at the first non-first fragment header.
		later = [j for j, o in enumerate(ints(foff6)) if o > 0]
		if later:
			return "ipv6", l4_of(ints(fnxt)[later[0]]), "ok", why + ["D-FRAG"]
		# Where the L4 header starts, from the lengths tshark read.
		lens = ints(hlen6) + ints(rlen6) + ints(dlen6) + \
			[(a + 2) * 4 for a in ints(ahlen)] + [8] * P.count("ipv6.fraghdr")
		l4off = l3off + 40 + sum(lens)
		if cut == "ipv6_ext" or len(lens) != len(exts) or l4off > len(fr):
			if bounded:
				return "ipv6", None, None, why + ["D-IPLEN"]
			if len(lens) != len(exts) or l4off > len(fr):
				return "ipv6", "none", "trunc ipv6_ext", why
		if bounded and len(last) != 1:
			return "ipv6", None, None, why + ["D-IPLEN"]
		if cut == "ipv6_ext" and l4off < len(fr):
			# Every header tshark listed fits, bytes follow, yet it
			# gave up inside the chain: see K-AH8 and D-EXTOPT.
			if any(a < 1 for a in ints(ahlen)):
				return "ipv6", None, None, why + ["K-AH8"]
			return "ipv6", None, None, why + ["D-EXTOPT"]
		if not last:
			# The chain goes on past what tshark could list: cut.
			return "ipv6", "none", "trunc ipv6_ext", why
		if len(last) > 1:
			return "ipv6", "?", "?", why + ["unexplained"]
		l4 = l4_of(last[0])
		if bounded:
			return "ipv6", l4, None, why + ["D-IPLEN"]
		return "ipv6", l4, l4_verdict(l4, cut, expert, why, fr, l4off, tcphl), why
	return "other", "none", "ok", why


def l4_verdict(l4, cut, expert, why, fr, l4off, tcphl):
	"""The L4 verdict pktscope should give, from tshark's offsets."""
	need = {"udp": 8, "icmp": 8, "icmpv6": 4}.get(l4)
	if l4 == "tcp":
		need = 20
		if tcphl and int(tcphl.split(",")[0]) >= 20:
			need = int(tcphl.split(",")[0])
	if need is not None and l4off + need > len(fr):
		return "trunc " + l4
	if cut in ("tcp", "udp", "icmp", "icmpv6", "ipv6_ext"):
		# tshark also wants the payload (checksum, ICMP body, or a
		# non-empty next header after an extension header): pktscope
		# reads headers only.
		why.append("D-PAYLOAD")
	if l4 == "tcp" and "Bogus TCP header length" in expert:
		return "malf tcp"
	if l4 == "udp":
		m = re.search(r"Bad length value (\d+) ([<>])", expert)
		if m and m.group(2) == "<":
			return "malf udp"
		if "Length is zero but payload < 65536" in expert:
			return "malf udp"
		if m:
			why.append("D-UDPLEN")
	return "ok"


def main():
	pcap, descf, pktf, tsf = sys.argv[1:5]
	frames = read_pcap(pcap)
	desc = {}
	for line in open(descf):
		n, d = line.rstrip("\n").split("\t", 1)
		desc[int(n)] = d
	ps = {}
	for line in open(pktf):
		w = line.split()
		n = int(w[0])
		xi, ti = w.index("xdp"), w.index("tc")
		ps[n] = (w[xi + 1:ti], w[ti + 1:])
	ts = {}
	for line in open(tsf):
		t = line.rstrip("\n").split("\t")
		ts[int(t[0])] = t
	reasons = Counter()
	bad = 0
	compared = Counter()
	for n in range(1, len(frames) + 1):
		fr, orig = frames[n - 1]
		if n not in ps or n not in ts:
			print("DIFF frame %d: missing from %s" % (n, "pktscope" if n not in ps else "tshark"))
			bad += 1
			continue
		l3, l4, verdict, why = expected(fr, orig, ts[n])
		for r in why:
			reasons[r] += 1
		for hook, got in zip(("xdp", "tc"), ps[n]):
			if got == ["refused"]:
				compared[hook + "_refused"] += 1
				continue
			compared[hook] += 1
			g3, g4 = got[0], got[1]
			gv = got[2] if got[2] == "ok" else got[2] + " " + got[3]
			diffs = []
			if g3 != l3:
				diffs.append("l3 %s vs tshark %s" % (g3, l3))
			if l4 is not None and g4 != l4:
				diffs.append("l4 %s vs tshark %s" % (g4, l4))
			if verdict is not None and gv != verdict:
				diffs.append("verdict %s vs tshark %s" % (gv, verdict))
			if diffs:
				bad += 1
				print("DIFF frame %d %s (%s; %d of %d bytes): %s" %
				      (n, hook, desc.get(n, "?"), len(fr), orig, "; ".join(diffs)))
				print("     tshark: %s | %s | %s" % (ts[n][1], ts[n][3][:160], ts[n][4]))
				print("     hex: %s" % fr.hex())
	print("frames %d; compared xdp %d, tc %d (tc refused %d, xdp refused %d)" %
	      (len(frames), compared["xdp"], compared["tc"], compared["tc_refused"],
	       compared["xdp_refused"]))
	print("deliberate differences applied: " +
	      (", ".join("%s %d" % kv for kv in sorted(reasons.items())) or "none"))
	print("disagreements: %d" % bad)
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())
