/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel/user contract of pktscope's TCP tracepoint probes: the event
 * streamed by tcpretrans/tcplife/tcpconnect/tcpaccept/tcpstates/tcpresets,
 * and the per-flow aggregates of the persistent mode (`attach --tcp`).
 *
 * Included by BPF (after vmlinux.h) and by user space (after <linux/types.h>).
 * Bump PS_TCP_LAYOUT_VERSION whenever a struct or enum below changes.
 */
#ifndef PKTSCOPE_TCP_H
#define PKTSCOPE_TCP_H

#define PS_TCP_LAYOUT_VERSION	1
#define PS_TCP_MAGIC		0x70737470u	/* "pstp" */

#define PS_TCP_COMM_LEN	16

/* What an event reports; also selects what the BPF side emits. */
enum ps_tcp_kind {
	PS_TCP_RETRANS = 0,	/* tcp_retransmit_skb / tcp_retransmit_synack */
	PS_TCP_LIFE,		/* a connection reached TCP_CLOSE */
	PS_TCP_CONNECT,		/* SYN_SENT -> ESTABLISHED or -> CLOSE (failed) */
	PS_TCP_ACCEPT,		/* accept()/accept4() returned a TCP socket */
	PS_TCP_STATE,		/* any state change */
	PS_TCP_RESET,		/* RST sent or received */
	PS_TCP_KIND_MAX
};

/*
 * Kind of a retransmission.  The tracepoint does not say; it is inferred
 * from the TCP state and the congestion-avoidance state at that moment
 * (see tcp.bpf.c): a retransmission while still Open/CWR can only be a tail
 * loss probe, one in Loss follows an RTO, one in Recovery/Disorder is fast
 * retransmit.
 */
enum ps_tcp_rtype {
	PS_RT_RETRANS = 0,	/* fast retransmit / recovery */
	PS_RT_RTO,		/* after a retransmission timeout */
	PS_RT_TLP,		/* tail loss probe (inferred) */
	PS_RT_SYN,		/* SYN retransmitted */
	PS_RT_SYNACK,		/* SYN-ACK retransmitted */
	PS_RT_MAX
};

/* Direction of a reset. */
enum ps_tcp_rst_dir {
	PS_RST_SENT = 0,
	PS_RST_RCVD,
};

/* Where pid/comm of an event come from. */
enum ps_tcp_owner {
	PS_OWNER_NONE = 0,	/* unknown: the socket predates the tracing */
	PS_OWNER_CONNECT,	/* the task that called connect() */
	PS_OWNER_ACCEPT,	/* the task that accept()ed it */
	PS_OWNER_LISTEN,	/* the task that called listen() */
	PS_OWNER_CLOSE,		/* the task that called close()/shutdown() */
	PS_OWNER_CURRENT,	/* the current task (may be unrelated in softirq) */
	PS_OWNER_MAX
};

struct ps_tcp_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 skaddr;		/* kernel address of the socket, an id */
	__u64 delta_ns;		/* life: lifetime; connect: SYN_SENT->final; state: time in old state */
	__u64 tx_bytes;		/* life: payload bytes sent and acked */
	__u64 rx_bytes;		/* life: payload bytes received in order */
	__u8 laddr[16];		/* local address (IPv4 in the first 4 bytes) */
	__u8 raddr[16];		/* remote address */
	__u32 pid;		/* tgid of the owner (see owner) */
	__s32 err;		/* retrans: tracepoint's err; connect: sk_err (0 = connected) */
	__u16 lport;		/* host byte order */
	__u16 rport;
	__u16 family;		/* AF_INET or AF_INET6 */
	__u16 segs;		/* retrans: segments the kernel counted in TcpRetransSegs (0: not counted) */
	__u8 kind;		/* enum ps_tcp_kind */
	__u8 sub;		/* retrans: enum ps_tcp_rtype; reset: enum ps_tcp_rst_dir */
	__u8 oldstate;		/* TCP_* (1..12), 0 unknown */
	__u8 newstate;		/* state: new state; retrans/reset: state of the socket */
	__u8 owner;		/* enum ps_tcp_owner */
	__u8 ca_state;		/* retrans: icsk_ca_state */
	__u16 reason;		/* reset sent: enum sk_rst_reason */
	char comm[PS_TCP_COMM_LEN];
};
_Static_assert(sizeof(struct ps_tcp_event) == 112, "struct ps_tcp_event layout changed");

/* A flow, seen from the local side. */
struct ps_tcp_flow {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u16 family;
	__u16 _pad0;
};
_Static_assert(sizeof(struct ps_tcp_flow) == 40, "struct ps_tcp_flow layout changed");

/* Per-flow counts (tcpretrans --count, and the pinned "flows" map). */
struct ps_tcp_flow_val {
	__u64 retrans;		/* retransmissions the kernel counted */
	__u64 retrans_segs;	/* their segments: sums to TcpRetransSegs */
	__u64 retrans_fail;	/* attempts it did not count (e.g. -EBUSY) */
	__u64 rst_sent;
	__u64 rst_rcvd;
	__u64 closed;		/* connections of this 4-tuple that reached CLOSE */
	__u64 tx_bytes;		/* of the closed connections */
	__u64 rx_bytes;
	__u64 last_ns;		/* bpf_ktime_get_ns() of the last update */
};
_Static_assert(sizeof(struct ps_tcp_flow_val) == 72, "struct ps_tcp_flow_val layout changed");

/* Host/netns-wide totals of the persistent mode (per-CPU array, one slot). */
struct ps_tcp_totals {
	__u64 retrans;
	__u64 retrans_segs;
	__u64 retrans_fail;
	__u64 synack_retrans;
	__u64 rst_sent;
	__u64 rst_rcvd;
	__u64 active_opens;	/* SYN_SENT -> ESTABLISHED */
	__u64 passive_opens;	/* SYN_RECV -> ESTABLISHED */
	__u64 failed_connects;	/* SYN_SENT -> CLOSE */
	__u64 closed;		/* connections seen from birth to CLOSE */
	__u64 tx_bytes;
	__u64 rx_bytes;
};
_Static_assert(sizeof(struct ps_tcp_totals) == 96, "struct ps_tcp_totals layout changed");

/* The single value of the pinned "tcp_meta" array. */
struct ps_tcp_meta {
	__u32 magic;		/* PS_TCP_MAGIC */
	__u32 layout_version;	/* PS_TCP_LAYOUT_VERSION */
	__u64 netns_ino;
	__u64 attach_time;	/* CLOCK_REALTIME seconds */
	__u32 max_flows;
	__u32 _pad0;
};
_Static_assert(sizeof(struct ps_tcp_meta) == 32, "struct ps_tcp_meta layout changed");

#endif /* PKTSCOPE_TCP_H */
