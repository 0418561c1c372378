# Frames no host of the capture bench sends by itself, sent across it while
# it is captured so that the replayed pcap also holds them (this kernel may
# have no 802.1Q module, so VLAN traffic cannot come from a VLAN device):
#   crafted.py IFACE DST_MAC SRC_IP DST_IP SRC_IP6 DST_IP6
# 5 ICMP echoes in one 802.1Q tag, 3 UDP datagrams in 802.1ad + 802.1Q
# (QinQ), 1 in three 802.1Q tags (pktscope stops at the third: L3 other),
# 2 UDP datagrams over IPv6 with destination-options and routing
# headers, 2 frames of the local experimental EtherType 0x88b5, 2 IPv4 GRE
# packets (L4 other), 1 IPv6 packet with no next header (59), 2 UDP
# datagrams with an IPv4 Router Alert option.
# Run with Debian's python (scapy).
import sys
from scapy.all import (Dot1AD, Dot1Q, Ether, ICMP, IP, IPOption_Router_Alert, IPv6,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, Raw, UDP, sendp)

iface, mac, ip_a, ip_b, ip6_a, ip6_b = sys.argv[1:7]
frames = []
for i in range(5):
	frames.append(Ether(dst=mac) / Dot1Q(vlan=100) / IP(src=ip_a, dst=ip_b) /
		      ICMP(id=77, seq=i) / Raw(b"v" * (100 + 40 * i)))
for i in range(3):
	frames.append(Ether(dst=mac, type=0x88a8) / Dot1AD(vlan=200) / Dot1Q(vlan=100) /
		      IP(src=ip_a, dst=ip_b) / UDP(sport=4000, dport=4001) / Raw(b"q" * (300 + i)))
frames.append(Ether(dst=mac) / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) /
	      IP(src=ip_a, dst=ip_b) / UDP(sport=4000, dport=4001) / Raw(b"3" * 200))
for i in range(2):
	frames.append(Ether(dst=mac) / IPv6(src=ip6_a, dst=ip6_b) / IPv6ExtHdrDestOpt() /
		      IPv6ExtHdrRouting(addresses=[]) / UDP(sport=4000, dport=4001) / Raw(b"6" * 600))
for i in range(2):
	frames.append(Ether(dst=mac, type=0x88b5) / Raw(b"e" * (46 + 1000 * i)))
for i in range(2):
	frames.append(Ether(dst=mac) / IP(src=ip_a, dst=ip_b, proto=47) / Raw(b"g" * (60 + 700 * i)))
frames.append(Ether(dst=mac) / IPv6(src=ip6_a, dst=ip6_b, nh=59) / Raw(b"n" * 20))
for i in range(2):
	frames.append(Ether(dst=mac) / IP(src=ip_a, dst=ip_b, options=[IPOption_Router_Alert()]) /
		      UDP(sport=4000, dport=4001) / Raw(b"o" * 1400))
sendp(frames, iface=iface, verbose=False)
