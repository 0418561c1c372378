#!/usr/bin/env bash
# Two hosts over a veth pair, each in its own network namespace.
#
#   netns-scripts/two-hosts.sh up TAG [MTU]    create TAG-a and TAG-b
#   netns-scripts/two-hosts.sh down TAG        remove them (idempotent)
#
# TAG-a: veth0 10.123.0.1/24 fd00:123::1/64  <->  TAG-b: veth0 10.123.0.2/24 fd00:123::2/64
# Addresses are fixed: the namespaces are isolated, so benches with different
# tags never see each other.  IPv6 DAD is off so addresses work at once.
# Source it to get the variables without running anything:
#   . netns-scripts/two-hosts.sh; echo "$NS_A $IP_B"
set -u

TWO_IP_A=10.123.0.1 TWO_IP_B=10.123.0.2
TWO_IP6_A=fd00:123::1 TWO_IP6_B=fd00:123::2

two_hosts_vars() {
	NS_A="$1-a" NS_B="$1-b"
	IP_A=$TWO_IP_A IP_B=$TWO_IP_B IP6_A=$TWO_IP6_A IP6_B=$TWO_IP6_B
	IF_A=veth0 IF_B=veth0
}

two_hosts_down() {
	two_hosts_vars "$1"
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	return 0
}

two_hosts_up() {
	local tag=$1 mtu=${2:-1500} ns
	two_hosts_down "$tag"
	two_hosts_vars "$tag"
	ip netns add "$NS_A" && ip netns add "$NS_B" || return 1
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null
		ip -n "$ns" link set lo up
	done
	ip link add "$tag-x" mtu "$mtu" netns "$NS_A" type veth \
		peer name "$tag-y" mtu "$mtu" netns "$NS_B" || { two_hosts_down "$tag"; return 1; }
	ip -n "$NS_A" link set "$tag-x" name veth0
	ip -n "$NS_B" link set "$tag-y" name veth0
	ip -n "$NS_A" addr add "$IP_A/24" dev veth0
	ip -n "$NS_B" addr add "$IP_B/24" dev veth0
	ip -n "$NS_A" addr add "$IP6_A/64" dev veth0 nodad
	ip -n "$NS_B" addr add "$IP6_B/64" dev veth0 nodad
	ip -n "$NS_A" link set veth0 up
	ip -n "$NS_B" link set veth0 up
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	up)   [ $# -ge 2 ] && two_hosts_up "$2" "${3:-1500}" ;;
	down) [ $# -ge 2 ] && two_hosts_down "$2" ;;
	*)    echo "usage: $0 up TAG [MTU] | down TAG" >&2; exit 2 ;;
	esac
fi
