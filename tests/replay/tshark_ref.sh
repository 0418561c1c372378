#!/usr/bin/env bash
# What pktscope should count for a pcap, from tshark's dissection of it:
#   tshark_ref.sh PCAP "LO1 LO2 ..."
# prints "key value" lines with the keys of `pktscope stats -j` (packets,
# bytes, l3_packets.<l3>, l3_bytes.<l3>, l4_packets.<l4>, l4_bytes.<l4>,
# vlan, qinq, ipv4_frag, ipv6_frag, ipv4_options, ipv6_ext) and hist.<lo>
# for the size buckets whose lower bounds are given (each [lo, next lo)).
#
# tshark reads the header fields; the mapping from fields to pktscope's
# classes is the one the README states ("How packets are classified"):
#  - size: frame.len (the wire length without FCS; every frame must be
#    captured whole, cap_len == len, or the replay would send less).
#  - VLAN tags: the "vlan" (802.1Q) and "ieee8021ad" layers that
#    frame.protocols lists between "eth" and the first other layer; one tag
#    counts as vlan, two or more as qinq.
#  - L3: the EtherType after the tags: eth.type without tags; behind an
#    802.1Q tag its vlan.etype (the occurrence of that tag); behind an
#    802.1ad tag, which has no EtherType field in tshark 4.0, the layer that
#    frame.protocols names next (ip 0x0800, ipv6 0x86dd, arp 0x0806).
#    0x0800 ipv4, 0x86dd ipv6, 0x0806 arp, anything else other; a third tag
#    is not walked (pktscope stops there on purpose): other.
#  - L4 of IPv4: the first ip.proto (an ICMP error quotes a second header).
#  - L4 of IPv6: the next header of the last extension header of the outer
#    chain, read from the ipv6.<ext>.nxt field of the extension that
#    frame.protocols lists last before the first non-IPv6 layer; ipv6.nxt
#    when there is none.  6 tcp, 17 udp, 1 icmp, 58 icmpv6, 59 none, other
#    numbers other; ARP and other L3 have L4 none.
#  - Fragments: IPv4 with MF set or a non-zero offset; IPv6 with a fragment
#    header.  Reassembly is off so that each frame is dissected alone.
#  - ipv4_options: ip.hdr_len > 20; ipv6_ext: any extension header.
set -u
pcap=$1 bounds=$2

tshark -n -r "$pcap" -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
	-T fields -E separator=/t -E occurrence=a -E aggregator=, \
	-e frame.len -e frame.cap_len -e frame.protocols -e eth.type -e vlan.etype \
	-e ip.proto -e ip.hdr_len -e ip.flags.mf -e ip.frag_offset \
	-e ipv6.nxt -e ipv6.hopopts.nxt -e ipv6.routing.nxt -e ipv6.dstopts.nxt \
	-e ipv6.fraghdr.nxt |
awk -F'\t' -v bounds="$bounds" '
function first(s,   a) { split(s, a, ","); return a[1] }
function nth(s, k,   a) { split(s, a, ","); return a[k] }
function l4name(p) {
	if (p == 6) return "tcp"; if (p == 17) return "udp"
	if (p == 1) return "icmp"; if (p == 58) return "icmpv6"
	if (p == 59) return "none"; return "other"
}
function add(k, v) { n[k] += v }
BEGIN {
	nb = split(bounds, lo, " ")
	split("ipv4 ipv6 arp other", L3, " ")
	split("tcp udp icmp icmpv6 other none", L4, " ")
	split("packets bytes vlan qinq ipv4_frag ipv6_frag ipv4_options ipv6_ext", FL, " ")
	for (i in FL) n[FL[i]] = 0
	for (i in L3) { n["l3_packets." L3[i]] = 0; n["l3_bytes." L3[i]] = 0 }
	for (i in L4) { n["l4_packets." L4[i]] = 0; n["l4_bytes." L4[i]] = 0 }
	for (i = 1; i <= nb; i++) n["hist." lo[i]] = 0
}
{
	len = $1; cap = $2; protos = $3
	if (cap != len) { print "error frame " NR " captured " cap " of " len " bytes" > "/dev/stderr"; bad = 1 }
	# Tags, then the EtherType behind them.
	np = split(protos, pr, ":"); ntag = nq = 0; et = tolower($4)
	split($5, vt, ",")
	for (i = 2; i <= np && pr[i] ~ /^(ethertype|vlan|ieee8021ad)$/; i++) {
		if (pr[i] == "ethertype") continue
		ntag++; lastag = pr[i]
		if (pr[i] == "vlan") nq++
	}
	if (ntag > 0 && lastag == "vlan") et = tolower(vt[nq])
	else if (ntag > 0) et = (pr[i] == "ip") ? "0x0800" : (pr[i] == "ipv6") ? "0x86dd" : (pr[i] == "arp") ? "0x0806" : "?"
	if (ntag > 2) l3 = "other"
	else if (et == "0x0800") l3 = "ipv4"
	else if (et == "0x86dd") l3 = "ipv6"
	else if (et == "0x0806") l3 = "arp"
	else l3 = "other"
	if (ntag >= 2) add("qinq", 1); else if (ntag == 1) add("vlan", 1)
	l4 = "none"
	if (l3 == "ipv4" && $6 != "") {
		l4 = l4name(first($6))
		if (first($7) > 20) add("ipv4_options", 1)
		mf = first($8)
		if (mf == "1" || mf == "True" || first($9) > 0) add("ipv4_frag", 1)
	} else if (l3 == "ipv6" && $10 != "") {
		# Outer extension chain: the "ipv6.*" layers right after the first "ipv6".
		last = ""; cnt["hopopts"] = cnt["routing"] = cnt["dstopts"] = cnt["fraghdr"] = 0
		for (i = 1; i <= np && pr[i] != "ipv6"; i++) ;
		for (i++; i <= np && pr[i] ~ /^ipv6\./; i++) {
			ext = substr(pr[i], 6); cnt[ext]++; last = ext
		}
		if (last == "") nh = first($10)
		else {
			col = (last == "hopopts") ? 11 : (last == "routing") ? 12 : (last == "dstopts") ? 13 : (last == "fraghdr") ? 14 : 0
			if (col == 0) { print "error frame " NR ": IPv6 extension " last " not mapped" > "/dev/stderr"; bad = 1; nh = -1 }
			else nh = nth($col, cnt[last])
			add("ipv6_ext", 1)
		}
		if (cnt["fraghdr"] > 0) add("ipv6_frag", 1)
		l4 = l4name(nh)
	}
	add("packets", 1); add("bytes", len)
	add("l3_packets." l3, 1); add("l3_bytes." l3, len)
	add("l4_packets." l4, 1); add("l4_bytes." l4, len)
	b = lo[1]
	for (i = 1; i <= nb && lo[i] + 0 <= len + 0; i++) b = lo[i]
	add("hist." b, 1)
}
END {
	for (k in n) print k, n[k]
	exit bad
}' | sort
exit "${PIPESTATUS[1]}"
