// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TCP probes on stable tracepoints only (this kernel has no kprobes and no
 * fentry): retransmits, connection life, connects, accepts, state changes,
 * resets.  One object serves the streaming commands (events through a ring
 * buffer, user space chooses the programs with autoload) and the persistent
 * mode (per-flow and total aggregates in pinned maps, no events).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tcp.h"
#include "rb.h"

#define AF_INET		2
#define AF_INET6	10

/* Set by user space before load. */
const volatile __u32 targ_netns;	/* netns inode of the sockets to see, 0 = all */
const volatile __u32 targ_tgid;		/* owner tgid, 0 = all */
const volatile __u16 targ_port;		/* local or remote port, 0 = all */
const volatile __u16 targ_family;	/* AF_INET/AF_INET6, 0 = both */
const volatile __u32 emit_mask;		/* 1 << enum ps_tcp_kind: events to stream */
const volatile bool count_only;		/* tcpretrans --count: flows map, no events */
const volatile bool emit_failed;	/* tcpretrans --failed: also attempts with err != 0 */
const volatile bool persist;		/* attach --tcp: aggregates, no events */

/*
 * What is known of a socket: when it was born and changed state, and who
 * owns it.  The owner is recorded where the kernel runs in the owner's
 * process context (connect(), listen(), accept() returning, close()),
 * never in softirq, where the current task is whoever was interrupted.
 */
struct sk_info {
	__u64 birth_ns;		/* CLOSE->SYN_SENT or LISTEN->SYN_RECV; 0: not seen */
	__u64 state_ns;		/* last state change; 0: not seen */
	__u64 syn_ns;		/* CLOSE->SYN_SENT */
	__u32 pid;
	__u8 owner;		/* enum ps_tcp_owner */
	__u8 active;		/* we saw it connect() */
	__u8 established;	/* it reached ESTABLISHED */
	__u8 has_rt_base;	/* total_retrans below is valid */
	__u32 total_retrans;	/* tcp_sock total_retrans at our last look */
	__u32 _pad0;
	char comm[PS_TCP_COMM_LEN];
};

#define PS_TCP_RB_SIZE	(1 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PS_TCP_RB_SIZE);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sk_info);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ps_tcp_flow);
	__type(value, struct ps_tcp_flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ps_tcp_totals);
} totals SEC(".maps");

/* Written once by user space in persistent mode; read back by stats. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ps_tcp_meta);
} tcp_meta SEC(".maps");

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * The socket's namespace through a typed pointer: two plain loads (the
 * verifier makes them fault-safe), not a bpf_probe_read_kernel() call each.
 */
static __always_inline bool netns_ok(const struct sock *sk)
{
	const struct sock *s;

	if (!targ_netns)
		return true;
	s = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock));
	return s->__sk_common.skc_net.net->ns.inum == targ_netns;
}

static __always_inline bool wanted(__u32 kind)
{
	return !persist && (emit_mask & (1u << kind));
}

/* The user's filters, applied to a filled event just before it is sent. */
static __always_inline bool event_ok(const struct ps_tcp_event *e)
{
	if (targ_family && e->family != targ_family)
		return false;
	if (targ_port && e->lport != targ_port && e->rport != targ_port)
		return false;
	if (targ_tgid && e->pid != targ_tgid)
		return false;
	return true;
}

/* Without a wakeup per event (bpf/rb.h; the reader drains every 100 ms). */
static __always_inline void emit(struct ps_tcp_event *e)
{
	if (event_ok(e))
		bpf_ringbuf_output(&events, e, sizeof(*e), ps_rb_flags(&events, PS_TCP_RB_SIZE));
}

static __always_inline struct ps_tcp_totals *tot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&totals, &zero);
}

static __always_inline struct ps_tcp_flow_val *flow_get(const struct ps_tcp_event *e)
{
	struct ps_tcp_flow_val zero = {}, *v;
	struct ps_tcp_flow k = {};

	__builtin_memcpy(k.laddr, e->laddr, 16);
	__builtin_memcpy(k.raddr, e->raddr, 16);
	k.lport = e->lport;
	k.rport = e->rport;
	k.family = e->family;
	v = bpf_map_lookup_elem(&flows, &k);
	if (v)
		return v;
	bpf_map_update_elem(&flows, &k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&flows, &k);
}

static __always_inline void owner_fill(struct ps_tcp_event *e, __u64 skp)
{
	struct sk_info *si = bpf_map_lookup_elem(&socks, &skp);

	if (si && si->owner) {
		e->pid = si->pid;
		e->owner = si->owner;
		__builtin_memcpy(e->comm, si->comm, sizeof(e->comm));
	}
}

static __always_inline void owner_current(struct sk_info *si, __u8 how)
{
	si->pid = bpf_get_current_pid_tgid() >> 32;
	si->owner = how;
	bpf_get_current_comm(si->comm, sizeof(si->comm));
}

/*
 * Addresses of the tracepoints that share the "sport dport family saddr
 * daddr saddr_v6 daddr_v6" layout (ports in host order, local first).
 * Read with bpf_probe_read_kernel: the arrays sit at odd offsets.
 */
#define FILL_ADDRS(e, ctx) do {							\
	(e)->family = (ctx)->family;						\
	(e)->lport = (ctx)->sport;						\
	(e)->rport = (ctx)->dport;						\
	if ((ctx)->family == AF_INET6) {					\
		bpf_probe_read_kernel((e)->laddr, 16, (ctx)->saddr_v6);		\
		bpf_probe_read_kernel((e)->raddr, 16, (ctx)->daddr_v6);		\
	} else {								\
		bpf_probe_read_kernel((e)->laddr, 4, (ctx)->saddr);		\
		bpf_probe_read_kernel((e)->raddr, 4, (ctx)->daddr);		\
	}									\
} while (0)

/* Addresses straight from a socket (accept: no tracepoint fields). */
static __always_inline void fill_from_sk(struct ps_tcp_event *e, const struct sock *sk)
{
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (e->family == AF_INET6) {
		bpf_core_read(e->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, sk, __sk_common.skc_daddr);
	}
}

/*
 * Payload bytes of a closing connection, exact, from sequence-number counters.
 * bytes_acked is the sequence space the peer acked (snd_una moves, counted in
 * tcp_snd_una_update): our SYN on the active side (the passive child starts
 * with snd_una past its SYN-ACK), the payload, and our FIN once acked.
 * Our FIN is queued only by the close()/shutdown() that leaves ESTABLISHED
 * or CLOSE_WAIT, so it exists iff the socket closes from FIN_WAIT1/2,
 * CLOSING, LAST_ACK (TIME_WAIT for completeness); write_seq then includes
 * it, and snd_una == write_seq says the peer acked it.  A RST close
 * (SO_LINGER 0, unread data) from ESTABLISHED or CLOSE_WAIT queued no FIN.
 * bytes_sent - bytes_retrans is NOT used: a transmit that fails locally (an
 * egress qdisc/TC drop, a netfilter OUTPUT drop) is counted in bytes_sent
 * and the data is sent again later as new data, not as a retransmission,
 * so that difference can exceed the payload (tcplife once said 777778 for
 * 777777 bytes sent under 2% egress loss).
 * bytes_received is the sequence space received in order (rcv_nxt moves;
 * the peer's SYN is not counted), plus the peer's FIN when it arrived in
 * order: tcp_fin() sets SOCK_DONE exactly then.
 */
static __always_inline void life_bytes(struct ps_tcp_event *e, const struct sock *sk,
				       bool active, int oldstate)
{
	const struct tcp_sock *tp = (const void *)sk;
	__u64 acked = BPF_CORE_READ(tp, bytes_acked);
	__u64 rcvd = BPF_CORE_READ(tp, bytes_received);
	__u32 snd_una = BPF_CORE_READ(tp, snd_una);
	__u32 write_seq = BPF_CORE_READ(tp, write_seq);
	unsigned long flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	bool fin_queued = oldstate == TCP_FIN_WAIT1 || oldstate == TCP_FIN_WAIT2 ||
			  oldstate == TCP_CLOSING || oldstate == TCP_LAST_ACK ||
			  oldstate == TCP_TIME_WAIT;

	if (active && acked)
		acked--;
	if (fin_queued && snd_una == write_seq && acked)
		acked--;
	e->tx_bytes = acked;
	if (rcvd && (flags & (1ul << bpf_core_enum_value(enum sock_flags, SOCK_DONE))))
		rcvd--;
	e->rx_bytes = rcvd;
}

/*
 * Write back what a state change learnt of a socket.  accept() returning
 * (on_accept_exit) writes the owner of the same entry from another CPU,
 * and can do so while the softirq is still in the child's SYN_RECV ->
 * ESTABLISHED change: the child is in the accept queue before it is
 * established.  A whole-value update from a copy taken before the other
 * writer's would undo it (it lost "established", and so the connection's
 * tcplife line, in about 1 run in 12 of test_tcplife_loss).  So each
 * writer stores only its own fields of an entry that exists, in place: a
 * state change the life fields (life), and the owner only when it set it
 * (own); accept() the owner alone.  A new entry is inserted whole, and if
 * the other writer inserted it first, written in place after all.
 */
static __always_inline void sk_info_store(struct sk_info *si, const struct sk_info *cur,
					  __u64 skp, bool life, bool own)
{
	if (!si) {
		if (!bpf_map_update_elem(&socks, &skp, cur, BPF_NOEXIST))
			return;
		si = bpf_map_lookup_elem(&socks, &skp);
		if (!si)
			return;
	}
	if (life) {
		si->birth_ns = cur->birth_ns;
		si->state_ns = cur->state_ns;
		si->syn_ns = cur->syn_ns;
		si->active = cur->active;
		si->established = cur->established;
		si->total_retrans = cur->total_retrans;
		si->has_rt_base = cur->has_rt_base;
	}
	if (own) {
		si->pid = cur->pid;
		si->owner = cur->owner;
		__builtin_memcpy(si->comm, cur->comm, sizeof(si->comm));
	}
}

SEC("tracepoint/sock/inet_sock_set_state")
int ps_tcp_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;
	__u64 skp = (__u64)sk, now = bpf_ktime_get_ns();
	int os = ctx->oldstate, ns = ctx->newstate;
	struct ps_tcp_event e = {};
	struct ps_tcp_totals *t;
	struct sk_info cur = {}, *si;
	__u64 prev_ns;
	/*
	 * Whether the entry must be written back at the end (sk_info_store).
	 * The transitions that change nothing kept (FIN_WAIT1 -> FIN_WAIT2,
	 * ESTABLISHED -> CLOSE_WAIT, ... : about half of a connection's) skip
	 * it; the time of the last change is kept only when state events are
	 * streamed.  own: this change set the owner fields.
	 */
	bool dirty = wanted(PS_TCP_STATE), own = false;

	if (ctx->protocol != IPPROTO_TCP || !netns_ok(sk))
		return 0;
	si = bpf_map_lookup_elem(&socks, &skp);
	if (si)
		cur = *si;
	else
		dirty = true;
	prev_ns = cur.state_ns;
	cur.state_ns = now;
	if (!cur.has_rt_base) {
		cur.total_retrans = BPF_CORE_READ((const struct tcp_sock *)sk, total_retrans);
		cur.has_rt_base = 1;
		dirty = true;
	}

	if (os == TCP_CLOSE && ns == TCP_SYN_SENT) {
		/* connect(): process context */
		cur.birth_ns = now;
		cur.syn_ns = now;
		cur.active = 1;
		cur.established = 0;
		owner_current(&cur, PS_OWNER_CONNECT);
		dirty = own = true;
	} else if (os == TCP_CLOSE && ns == TCP_LISTEN) {
		owner_current(&cur, PS_OWNER_LISTEN);
		dirty = own = true;
	} else if (ns == TCP_SYN_RECV) {
		/* A child cloned from its listener, in softirq: no owner yet. */
		cur.birth_ns = now;
		dirty = true;
	} else if (ns == TCP_ESTABLISHED) {
		dirty |= !cur.established;
		cur.established = 1;
	} else if (!cur.owner && ((os == TCP_ESTABLISHED && ns == TCP_FIN_WAIT1) ||
				  (os == TCP_CLOSE_WAIT && ns == TCP_LAST_ACK))) {
		/* Only close()/shutdown() make these two: process context. */
		owner_current(&cur, PS_OWNER_CLOSE);
		dirty = own = true;
	}

	/*
	 * The event's fields (two reads from the record among them) only for a
	 * transition that can make an event: with tcplife's events alone, two
	 * of a connection's ten.
	 */
	if (wanted(PS_TCP_STATE) || ns == TCP_CLOSE ||
	    (os == TCP_SYN_SENT && ns == TCP_ESTABLISHED && wanted(PS_TCP_CONNECT))) {
		FILL_ADDRS(&e, ctx);
		e.ts_ns = now;
		e.skaddr = skp;
		e.pid = cur.pid;
		e.owner = cur.owner;
		__builtin_memcpy(e.comm, cur.comm, sizeof(e.comm));
		e.oldstate = os;
		e.newstate = ns;
	}

	if (persist) {
		t = tot();
		if (t) {
			if (os == TCP_SYN_SENT && ns == TCP_ESTABLISHED)
				t->active_opens++;
			else if (os == TCP_SYN_RECV && ns == TCP_ESTABLISHED)
				t->passive_opens++;
			else if (os == TCP_SYN_SENT && ns == TCP_CLOSE)
				t->failed_connects++;
		}
	}

	if (wanted(PS_TCP_STATE)) {
		e.kind = PS_TCP_STATE;
		e.delta_ns = prev_ns ? now - prev_ns : 0;
		emit(&e);
	}

	if (os == TCP_SYN_SENT && (ns == TCP_ESTABLISHED || ns == TCP_CLOSE) &&
	    cur.syn_ns && wanted(PS_TCP_CONNECT)) {
		e.kind = PS_TCP_CONNECT;
		e.delta_ns = now - cur.syn_ns;
		e.err = ns == TCP_CLOSE ? BPF_CORE_READ(sk, sk_err) : 0;
		/* closed before it connected, without an error: say so */
		if (ns == TCP_CLOSE && !e.err)
			e.err = -1;
		emit(&e);
		e.err = 0;
	}

	if (ns == TCP_CLOSE) {
		/* Only connections seen from birth to close, and established. */
		if (cur.birth_ns && cur.established &&
		    (persist || wanted(PS_TCP_LIFE))) {
			e.kind = PS_TCP_LIFE;
			e.delta_ns = now - cur.birth_ns;
			life_bytes(&e, sk, cur.active, os);
			if (persist) {
				struct ps_tcp_flow_val *v = flow_get(&e);

				t = tot();
				if (t) {
					t->closed++;
					t->tx_bytes += e.tx_bytes;
					t->rx_bytes += e.rx_bytes;
				}
				if (v) {
					__sync_fetch_and_add(&v->closed, 1);
					__sync_fetch_and_add(&v->tx_bytes, e.tx_bytes);
					__sync_fetch_and_add(&v->rx_bytes, e.rx_bytes);
					v->last_ns = now;
				}
			} else {
				emit(&e);
			}
		}
		if (si)
			bpf_map_delete_elem(&socks, &skp);
		return 0;
	}
	if (dirty)
		sk_info_store(si, &cur, skp, true, own);
	return 0;
}

/*
 * accept()/accept4() returned fd: the task owning the new connection.
 * current->files->fdt->fd[fd]->private_data->sk through BTF pointers, plain
 * loads the verifier makes fault-safe (fdt->fd[fd] and private_data are
 * scalars to it, which bpf_rdonly_cast() types again), instead of a
 * bpf_probe_read_kernel() call each: 694 ns per run before, under bpf_stats.
 */
static __always_inline int on_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ps_tcp_event e = {};
	struct sk_info cur = {}, *si;
	struct fdtable *fdt;
	struct socket *sock;
	struct file *f;
	struct sock *sk;
	long fd = ctx->ret;
	__u64 skp;

	if (fd < 0)
		return 0;
	fdt = task->files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return 0;
	f = fdt->fd[fd];
	if (!f)
		return 0;
	f = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
	sock = bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket));
	if (!sock)
		return 0;
	sk = bpf_rdonly_cast(sock->sk, bpf_core_type_id_kernel(struct sock));
	if (!sk || sk->sk_protocol != IPPROTO_TCP || !netns_ok(sk))
		return 0;
	e.family = sk->__sk_common.skc_family;
	if (e.family != AF_INET && e.family != AF_INET6)
		return 0;

	skp = (__u64)sk;
	/* The owner fields only: the softirq may be writing the others now. */
	si = bpf_map_lookup_elem(&socks, &skp);
	if (si)
		cur = *si;
	owner_current(&cur, PS_OWNER_ACCEPT);
	sk_info_store(si, &cur, skp, false, true);

	if (!wanted(PS_TCP_ACCEPT))
		return 0;
	fill_from_sk(&e, sk);
	e.kind = PS_TCP_ACCEPT;
	e.ts_ns = bpf_ktime_get_ns();
	e.skaddr = skp;
	e.pid = cur.pid;
	e.owner = cur.owner;
	__builtin_memcpy(e.comm, cur.comm, sizeof(e.comm));
	e.newstate = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* time from the SYN's child to accept() returning, when seen */
	e.delta_ns = cur.birth_ns ? e.ts_ns - cur.birth_ns : 0;
	emit(&e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int ps_tcp_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int ps_tcp_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept_exit(ctx);
}

static __always_inline void count_retrans(struct ps_tcp_event *e, bool synack)
{
	struct ps_tcp_flow_val *v = flow_get(e);
	struct ps_tcp_totals *t;

	if (v) {
		if (!e->segs) {
			__sync_fetch_and_add(&v->retrans_fail, 1);
		} else {
			__sync_fetch_and_add(&v->retrans, 1);
			__sync_fetch_and_add(&v->retrans_segs, e->segs);
		}
		v->last_ns = e->ts_ns;
	}
	if (!persist)
		return;
	t = tot();
	if (!t)
		return;
	if (!e->segs) {
		t->retrans_fail++;
	} else {
		t->retrans++;
		t->retrans_segs += e->segs;
		if (synack)
			t->synack_retrans++;
	}
}

/*
 * Segments the kernel counted in TcpRetransSegs for this attempt.  It adds
 * tcp_skb_pcount() to TcpRetransSegs and tp->total_retrans together, before
 * transmitting: an attempt that fails early (-EBUSY: the original is still
 * in the host queue) is not counted, one that fails in transmission (a full
 * backlog on the way out) is, although err is set for both.  The change of
 * total_retrans since our last look at the socket tells them apart exactly;
 * for a socket we never saw before, err == 0 has to do.
 */
static __always_inline __u16 retrans_counted(const struct sock *sk, const struct sk_buff *skb,
					     int err)
{
	__u32 tr = BPF_CORE_READ((const struct tcp_sock *)sk, total_retrans);
	struct sk_info fresh = {}, *si;
	const struct tcp_skb_cb *cb;
	__u64 skp = (__u64)sk;
	__u32 n;

	si = bpf_map_lookup_elem(&socks, &skp);
	if (si && si->has_rt_base) {
		n = tr - si->total_retrans;
		si->total_retrans = tr;
		return n > 0xffff ? 0xffff : n;
	}
	if (si) {
		si->total_retrans = tr;
		si->has_rt_base = 1;
	} else {
		fresh.total_retrans = tr;
		fresh.has_rt_base = 1;
		bpf_map_update_elem(&socks, &skp, &fresh, BPF_NOEXIST);
	}
	if (err)
		return 0;
	cb = (const void *)skb + bpf_core_field_offset(struct sk_buff, cb);
	n = BPF_CORE_READ(cb, tcp_gso_segs);
	return n ? n : 1;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int ps_tcp_retrans(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	const struct inet_connection_sock *icsk = ctx->skaddr;
	const struct sock *sk = ctx->skaddr;
	const struct sk_buff *skb = ctx->skbaddr;
	struct ps_tcp_event e = {};

	if (!sk || !netns_ok(sk))
		return 0;
	FILL_ADDRS(&e, ctx);
	e.kind = PS_TCP_RETRANS;
	e.ts_ns = bpf_ktime_get_ns();
	e.skaddr = (__u64)sk;
	e.newstate = ctx->state;
	/* err appeared in 6.12; older kernels trace successful ones only */
	if (bpf_core_field_exists(ctx->err))
		e.err = ctx->err;
	e.segs = retrans_counted(sk, skb, e.err);
	e.ca_state = BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state);
	if (ctx->state == TCP_SYN_SENT)
		e.sub = PS_RT_SYN;
	else if (e.ca_state == TCP_CA_Loss)
		e.sub = PS_RT_RTO;
	else if (e.ca_state == TCP_CA_Open || e.ca_state == TCP_CA_CWR)
		/* tcp_schedule_loss_probe() arms only in Open/CWR; the others enter Recovery/Loss first */
		e.sub = PS_RT_TLP;
	else
		e.sub = PS_RT_RETRANS;
	owner_fill(&e, e.skaddr);

	if (persist || count_only) {
		count_retrans(&e, false);
		return 0;
	}
	/* attempts the kernel did not count (e.g. -EBUSY) only with --failed */
	if (wanted(PS_TCP_RETRANS) && (e.segs || emit_failed))
		emit(&e);
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int ps_tcp_synack(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	const struct sock *sk = ctx->skaddr;
	struct ps_tcp_event e = {};

	if (!sk || !netns_ok(sk))
		return 0;
	FILL_ADDRS(&e, ctx);
	e.kind = PS_TCP_RETRANS;
	e.sub = PS_RT_SYNACK;
	e.ts_ns = bpf_ktime_get_ns();
	e.skaddr = (__u64)ctx->req;
	e.newstate = TCP_SYN_RECV;
	e.segs = 1;
	/* the listener's owner */
	owner_fill(&e, (__u64)sk);

	if (persist || count_only) {
		count_retrans(&e, true);
		return 0;
	}
	if (wanted(PS_TCP_RETRANS))
		emit(&e);
	return 0;
}

static __always_inline void count_reset(struct ps_tcp_event *e)
{
	struct ps_tcp_flow_val *v = flow_get(e);
	struct ps_tcp_totals *t = tot();

	if (v) {
		if (e->sub == PS_RST_SENT)
			__sync_fetch_and_add(&v->rst_sent, 1);
		else
			__sync_fetch_and_add(&v->rst_rcvd, 1);
		v->last_ns = e->ts_ns;
	}
	if (t) {
		if (e->sub == PS_RST_SENT)
			t->rst_sent++;
		else
			t->rst_rcvd++;
	}
}

/*
 * saddr/daddr are sockaddr_in/sockaddr_in6 (28 bytes) here, the RST's own
 * source first.  Without a socket (RST to a closed port) the netns is that
 * of the device the offending segment came in on.
 */
SEC("tracepoint/tcp/tcp_send_reset")
int ps_tcp_send_reset(struct trace_event_raw_tcp_send_reset *ctx)
{
	const struct sock *sk = ctx->skaddr;
	const struct sk_buff *skb = ctx->skbaddr;
	struct ps_tcp_event e = {};
	__u8 sa[28], da[28];

	if (sk) {
		if (!netns_ok(sk))
			return 0;
	} else if (targ_netns) {
		if (!skb || BPF_CORE_READ(skb, dev, nd_net.net, ns.inum) != targ_netns)
			return 0;
	}
	bpf_probe_read_kernel(sa, sizeof(sa), ctx->saddr);
	bpf_probe_read_kernel(da, sizeof(da), ctx->daddr);
	e.family = *(__u16 *)sa;
	e.lport = bpf_ntohs(*(__u16 *)(sa + 2));
	e.rport = bpf_ntohs(*(__u16 *)(da + 2));
	if (e.family == AF_INET6) {
		__builtin_memcpy(e.laddr, sa + 8, 16);
		__builtin_memcpy(e.raddr, da + 8, 16);
	} else if (e.family == AF_INET) {
		__builtin_memcpy(e.laddr, sa + 4, 4);
		__builtin_memcpy(e.raddr, da + 4, 4);
	} else {
		return 0;
	}
	e.kind = PS_TCP_RESET;
	e.sub = PS_RST_SENT;
	e.ts_ns = bpf_ktime_get_ns();
	e.skaddr = (__u64)sk;
	e.newstate = ctx->state;
	if (bpf_core_field_exists(ctx->reason))
		e.reason = ctx->reason;
	if (sk)
		owner_fill(&e, e.skaddr);
	if (persist) {
		count_reset(&e);
		return 0;
	}
	if (wanted(PS_TCP_RESET))
		emit(&e);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int ps_tcp_recv_reset(struct trace_event_raw_tcp_event_sk *ctx)
{
	const struct sock *sk = ctx->skaddr;
	struct ps_tcp_event e = {};

	if (!sk || !netns_ok(sk))
		return 0;
	FILL_ADDRS(&e, ctx);
	e.kind = PS_TCP_RESET;
	e.sub = PS_RST_RCVD;
	e.ts_ns = bpf_ktime_get_ns();
	e.skaddr = (__u64)sk;
	e.newstate = BPF_CORE_READ(sk, __sk_common.skc_state);
	owner_fill(&e, e.skaddr);
	if (persist) {
		count_reset(&e);
		return 0;
	}
	if (wanted(PS_TCP_RESET))
		emit(&e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
