#!/usr/bin/env bash
# Three hosts: a client and a server with a router between them.
#
#   netns-scripts/three-hosts.sh up TAG     create TAG-c, TAG-r, TAG-s
#   netns-scripts/three-hosts.sh down TAG   remove them (idempotent)
#
# TAG-c veth0 10.124.1.2/24 fd00:124:1::2/64 -- TAG-r veth1 10.124.1.1 fd00:124:1::1
# TAG-r veth2 10.124.2.1/24 fd00:124:2::1/64 -- TAG-s veth0 10.124.2.2 fd00:124:2::2
# The router forwards IPv4 and IPv6; client and server route through it.
set -u

three_hosts_vars() {
	NS_C="$1-c" NS_R="$1-r" NS_S="$1-s"
	IP_C=10.124.1.2 IP_R1=10.124.1.1 IP_R2=10.124.2.1 IP_S=10.124.2.2
	IP6_C=fd00:124:1::2 IP6_R1=fd00:124:1::1 IP6_R2=fd00:124:2::1 IP6_S=fd00:124:2::2
}

three_hosts_down() {
	three_hosts_vars "$1"
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	return 0
}

three_hosts_up() {
	local tag=$1 ns
	three_hosts_down "$tag"
	three_hosts_vars "$tag"
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		ip netns add "$ns" || { three_hosts_down "$tag"; return 1; }
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null
		ip -n "$ns" link set lo up
	done
	ip link add "$tag-c0" netns "$NS_C" type veth peer name "$tag-r1" netns "$NS_R" &&
	ip link add "$tag-s0" netns "$NS_S" type veth peer name "$tag-r2" netns "$NS_R" ||
		{ three_hosts_down "$tag"; return 1; }
	ip -n "$NS_C" link set "$tag-c0" name veth0
	ip -n "$NS_S" link set "$tag-s0" name veth0
	ip -n "$NS_R" link set "$tag-r1" name veth1
	ip -n "$NS_R" link set "$tag-r2" name veth2
	ip -n "$NS_C" addr add "$IP_C/24" dev veth0
	ip -n "$NS_C" addr add "$IP6_C/64" dev veth0 nodad
	ip -n "$NS_R" addr add "$IP_R1/24" dev veth1
	ip -n "$NS_R" addr add "$IP6_R1/64" dev veth1 nodad
	ip -n "$NS_R" addr add "$IP_R2/24" dev veth2
	ip -n "$NS_R" addr add "$IP6_R2/64" dev veth2 nodad
	ip -n "$NS_S" addr add "$IP_S/24" dev veth0
	ip -n "$NS_S" addr add "$IP6_S/64" dev veth0 nodad
	ip -n "$NS_C" link set veth0 up
	ip -n "$NS_S" link set veth0 up
	ip -n "$NS_R" link set veth1 up
	ip -n "$NS_R" link set veth2 up
	ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
	ip -n "$NS_C" route add default via "$IP_R1"
	ip -n "$NS_S" route add default via "$IP_R2"
	ip -n "$NS_C" -6 route add default via "$IP6_R1"
	ip -n "$NS_S" -6 route add default via "$IP6_R2"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	up)   [ $# -ge 2 ] && three_hosts_up "$2" ;;
	down) [ $# -ge 2 ] && three_hosts_down "$2" ;;
	*)    echo "usage: $0 up TAG | down TAG" >&2; exit 2 ;;
	esac
fi
