// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TCP commands on tracepoints: tcpretrans, tcplife, tcpconnect, tcpaccept,
 * tcpstates, tcpresets (streaming, one line or JSON object per event), and
 * the persistent mode (tcp-persist attach|detach|stats: aggregates pinned
 * under /sys/fs/bpf/pktscope/tcp-<netns inode>/).
 *
 * All six share one BPF object (bpf/tcp.bpf.c); a command loads only the
 * programs it needs (autoload) and tells the BPF side which events to emit.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "output.h"
#include "tcp.h"
#include "tcp.skel.h"
#include "report.h"

#define TCP_DEFAULT_FLOWS	65536

/* ---- names ------------------------------------------------------------------ */

static const char *const state_names[] = {
	"UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
};

static const char *const kind_names[PS_TCP_KIND_MAX] = {
	"retransmit", "life", "connect", "accept", "state", "reset",
};

static const char *const rtype_names[PS_RT_MAX] = { "RETRANS", "RTO", "TLP", "SYN", "SYNACK" };

static const char *const owner_names[PS_OWNER_MAX] = {
	"unknown", "connect", "accept", "listen", "close", "current",
};

static const char *const ca_names[] = { "Open", "Disorder", "CWR", "Recovery", "Loss" };

/* enum sk_rst_reason, as the tcp_send_reset format prints it */
static const char *const rst_reasons[] = {
	"NOT_SPECIFIED", "NO_SOCKET", "TCP_INVALID_ACK_SEQUENCE", "TCP_RFC7323_PAWS",
	"TCP_TOO_OLD_ACK", "TCP_ACK_UNSENT_DATA", "TCP_FLAGS", "TCP_OLD_ACK",
	"TCP_ABORT_ON_DATA", "TCP_TIMEWAIT_SOCKET", "INVALID_SYN", "TCP_ABORT_ON_CLOSE",
	"TCP_ABORT_ON_LINGER", "TCP_ABORT_ON_MEMORY", "TCP_STATE", "TCP_KEEPALIVE_TIMEOUT",
	"TCP_DISCONNECT_WITH_DATA",
};

#define NAME(tab, i) ((unsigned)(i) < sizeof(tab) / sizeof((tab)[0]) ? (tab)[i] : "?")

static const char *state_name(unsigned s)
{
	return NAME(state_names, s);
}

/* ---- tracepoints ------------------------------------------------------------ */

struct tp {
	const char *prog;	/* BPF program name */
	const char *cat, *name;
};

static const struct tp tps[] = {
	{ "ps_tcp_state",	"sock",		"inet_sock_set_state" },
	{ "ps_tcp_accept4",	"syscalls",	"sys_exit_accept4" },
	{ "ps_tcp_accept",	"syscalls",	"sys_exit_accept" },
	{ "ps_tcp_retrans",	"tcp",		"tcp_retransmit_skb" },
	{ "ps_tcp_synack",	"tcp",		"tcp_retransmit_synack" },
	{ "ps_tcp_send_reset",	"tcp",		"tcp_send_reset" },
	{ "ps_tcp_recv_reset",	"tcp",		"tcp_receive_reset" },
};
#define NTPS (sizeof(tps) / sizeof(tps[0]))

#define TP_STATE	(1u << 0)
#define TP_ACCEPT	((1u << 1) | (1u << 2))
#define TP_RETRANS	((1u << 3) | (1u << 4))
#define TP_RESET	((1u << 5) | (1u << 6))

/* PKTSCOPE_TRACEFS points at another tracefs mount (and lets tests fake a kernel). */
static const char *tracefs(void)
{
	const char *t = getenv("PKTSCOPE_TRACEFS");

	return t && *t ? t : PS_TRACEFS;
}

static int check_tracepoints(unsigned mask)
{
	char path[PATH_MAX];
	size_t i;

	if (!getenv("PKTSCOPE_TRACEFS") && ps_mount_tracefs())
		return -1;
	for (i = 0; i < NTPS; i++) {
		if (!(mask & (1u << i)))
			continue;
		snprintf(path, sizeof(path), "%s/events/%s/%s", tracefs(), tps[i].cat, tps[i].name);
		if (access(path, F_OK)) {
			ps_err("tracepoint %s:%s is missing on this kernel (no %s): "
			       "this command needs it", tps[i].cat, tps[i].name, path);
			return -1;
		}
	}
	return 0;
}

/* Enable the programs in mask, disable the others; before load. */
static void select_progs(struct tcp_bpf *skel, unsigned mask)
{
	struct bpf_program *p;
	size_t i;

	for (i = 0; i < NTPS; i++) {
		p = bpf_object__find_program_by_name(skel->obj, tps[i].prog);
		if (p)
			bpf_program__set_autoload(p, !!(mask & (1u << i)));
	}
}

/* Attach the programs in mask; links go to *links (NTPS entries). */
static int attach_progs(struct tcp_bpf *skel, unsigned mask, struct bpf_link **links)
{
	struct bpf_program *p;
	size_t i;
	int err;

	for (i = 0; i < NTPS; i++) {
		if (!(mask & (1u << i)))
			continue;
		p = bpf_object__find_program_by_name(skel->obj, tps[i].prog);
		links[i] = bpf_program__attach(p);
		if (!links[i]) {
			err = -errno;
			ps_err("attach to tracepoint %s:%s: %s", tps[i].cat, tps[i].name,
			       strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Load with libbpf's copy of the kernel BTF in huge pages (ps_btf_mem_begin). */
static int load_skel(struct tcp_bpf *skel)
{
	int err;

	ps_btf_mem_begin();
	err = tcp_bpf__load(skel);
	ps_btf_mem_end();
	return err;
}

static void destroy_links(struct bpf_link **links)
{
	size_t i;

	for (i = 0; i < NTPS; i++) {
		bpf_link__destroy(links[i]);
		links[i] = NULL;
	}
}

/* ---- formatting ------------------------------------------------------------- */

static void addr_str(__u16 family, const __u8 *a, char *buf, size_t len)
{
	if (!out_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, a, buf, len))
		snprintf(buf, len, "?");
}

/* "1.2.3.4:80" or "[fd00::1]:80" */
static void endpoint_str(__u16 family, const __u8 *a, __u16 port, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	addr_str(family, a, ip, sizeof(ip));
	snprintf(buf, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

struct stream {
	int kind;		/* enum ps_tcp_kind of the command */
	bool ts;		/* -t */
	__u64 mono0;		/* CLOCK_MONOTONIC ns at start */
	double real0;		/* CLOCK_REALTIME s at start */
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void print_header(const struct stream *s)
{
	if (out_json())
		return;
	if (s->ts)
		printf("%-10s ", "TIME(s)");
	switch (s->kind) {
	case PS_TCP_RETRANS:
		printf("%-8s %-7s %-16s %-26s %-26s %-12s %s\n", "TIME", "PID", "COMM",
		       "LADDR:LPORT", "   RADDR:RPORT", "STATE", "TYPE");
		break;
	case PS_TCP_LIFE:
		printf("%-7s %-16s %-15s %-5s %-15s %-5s %8s %8s %10s\n", "PID", "COMM",
		       "LADDR", "LPORT", "RADDR", "RPORT", "TX_KB", "RX_KB", "MS");
		break;
	case PS_TCP_CONNECT:
		printf("%-7s %-16s %-2s %-15s %-5s %-15s %-5s %9s %s\n", "PID", "COMM", "IP",
		       "LADDR", "LPORT", "RADDR", "RPORT", "LAT(ms)", "RESULT");
		break;
	case PS_TCP_ACCEPT:
		printf("%-7s %-16s %-2s %-15s %-5s %-15s %-5s\n", "PID", "COMM", "IP",
		       "RADDR", "RPORT", "LADDR", "LPORT");
		break;
	case PS_TCP_STATE:
		printf("%-18s %-7s %-16s %-15s %-5s %-15s %-5s %-11s -> %-11s %10s\n", "SKADDR",
		       "PID", "COMM", "LADDR", "LPORT", "RADDR", "RPORT", "OLDSTATE", "NEWSTATE",
		       "MS");
		break;
	case PS_TCP_RESET:
		printf("%-8s %-4s %-7s %-16s %-26s %-26s %-12s %s\n", "TIME", "DIR", "PID",
		       "COMM", "LADDR:LPORT", "   RADDR:RPORT", "STATE", "REASON");
		break;
	}
	fflush(stdout);
}

/* Columns every event has: time, pid, comm, family, addresses. */
static void print_common(const struct stream *s, const struct ps_tcp_event *e,
			 bool hms, bool ip_col, bool addr_cols)
{
	char wall[32], frac[16], la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];
	double real = s->real0 + (double)(e->ts_ns - s->mono0) / 1e9;
	time_t t = (time_t)real;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(wall, sizeof(wall), "%H:%M:%S", &tm);
	snprintf(frac, sizeof(frac), ".%06ld", (long)((real - t) * 1e6));
	if (s->ts)
		out_f64("time_s", "%-10.6f ", (double)(e->ts_ns - s->mono0) / 1e9);
	if (out_json()) {
		char iso[64];

		strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
		strncat(iso, frac, sizeof(iso) - strlen(iso) - 1);
		out_str("time", NULL, iso);
		out_u64("ts_ns", NULL, e->ts_ns);
		out_str("event", NULL, kind_names[e->kind]);
	} else if (hms) {
		out_text("%-8s ", wall);
	}
	addr_str(e->family, e->laddr, la, sizeof(la));
	addr_str(e->family, e->raddr, ra, sizeof(ra));
	if (e->kind == PS_TCP_RESET)
		out_str("dir", "%-4s ", e->sub == PS_RST_SENT ? "sent" : "rcvd");
	out_u64("pid", "%-7llu ", e->pid);
	out_str("comm", "%-16s ", e->owner ? e->comm : "-");
	out_str("owner", NULL, NAME(owner_names, e->owner));
	out_str("family", NULL, e->family == AF_INET6 ? "ipv6" : "ipv4");
	if (ip_col)
		out_text("%-2d ", e->family == AF_INET6 ? 6 : 4);
	if (out_json()) {
		out_str("laddr", NULL, la);
		out_u64("lport", NULL, e->lport);
		out_str("raddr", NULL, ra);
		out_u64("rport", NULL, e->rport);
	} else if (addr_cols) {
		if (e->kind == PS_TCP_ACCEPT)
			printf("%-15s %-5u %-15s %-5u ", ra, e->rport, la, e->lport);
		else
			printf("%-15s %-5u %-15s %-5u ", la, e->lport, ra, e->rport);
	} else {
		char l[64], r[64];

		endpoint_str(e->family, e->laddr, e->lport, l, sizeof(l));
		endpoint_str(e->family, e->raddr, e->rport, r, sizeof(r));
		printf("%-26s -> %-23s ", l, r);
	}
}

static const char *err_name(int err, char *buf, size_t len)
{
	const char *n;

	if (err == 0)
		return "OK";
	if (err < 0)
		return "CLOSED";
	n = strerrorname_np(err);
	if (n)
		return n;
	snprintf(buf, len, "E%d", err);
	return buf;
}

static int on_event(void *ctx, void *data, size_t len)
{
	const struct stream *s = ctx;
	const struct ps_tcp_event *e = data;
	char buf[32];

	if (len < sizeof(*e) || e->kind != s->kind)
		return 0;
	out_obj_open(NULL);
	switch (e->kind) {
	case PS_TCP_RETRANS:
		print_common(s, e, true, false, false);
		out_str("state", "%-12s ", state_name(e->newstate));
		out_str("type", "%s", NAME(rtype_names, e->sub));
		out_u64("segs", NULL, e->segs);
		out_s64("err", NULL, e->err);
		if (e->err)
			out_text(" (failed: %s)", strerrorname_np(-e->err) ?: "?");
		out_text("\n");
		if (e->sub != PS_RT_SYNACK)
			out_str("ca_state", NULL, NAME(ca_names, e->ca_state));
		break;
	case PS_TCP_LIFE:
		print_common(s, e, false, false, true);
		out_u64("tx_bytes", NULL, e->tx_bytes);
		out_u64("rx_bytes", NULL, e->rx_bytes);
		out_u64("tx_kb", "%8llu ", e->tx_bytes / 1024);
		out_u64("rx_kb", "%8llu ", e->rx_bytes / 1024);
		out_f64("ms", "%10.2f\n", e->delta_ns / 1e6);
		break;
	case PS_TCP_CONNECT:
		print_common(s, e, false, true, true);
		out_f64("latency_ms", "%9.3f ", e->delta_ns / 1e6);
		out_str("result", "%s\n", err_name(e->err, buf, sizeof(buf)));
		out_s64("err", NULL, e->err);
		break;
	case PS_TCP_ACCEPT:
		print_common(s, e, false, true, true);
		out_text("\n");
		if (e->delta_ns)
			out_f64("accept_delay_ms", NULL, e->delta_ns / 1e6);
		else
			out_null("accept_delay_ms");
		break;
	case PS_TCP_STATE:
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)e->skaddr);
		out_text("%-18s ", buf);
		print_common(s, e, false, false, true);
		out_str("skaddr", NULL, buf);
		out_str("oldstate", "%-11s -> ", state_name(e->oldstate));
		out_str("newstate", "%-11s ", state_name(e->newstate));
		if (e->delta_ns)
			out_f64("ms", "%10.3f\n", e->delta_ns / 1e6);
		else {
			out_null("ms");
			out_text("%10s\n", "-");
		}
		break;
	case PS_TCP_RESET:
		print_common(s, e, true, false, false);
		out_str("state", "%-12s ", e->newstate ? state_name(e->newstate) : "-");
		if (e->sub == PS_RST_SENT)
			out_str("reason", "%s\n", NAME(rst_reasons, e->reason));
		else
			out_text("-\n");
		break;
	}
	out_obj_close();
	out_event_end();
	return 0;
}

/* ---- streaming commands ----------------------------------------------------- */

struct tcp_opts {
	int pid;
	int port;
	int family;
	double duration;
	double interval;
	bool ts;
	bool count;
	bool failed;
	bool all_netns;
};

#define OPT_PORT	0x2001
#define OPT_FAILED	0x2002
#define OPT_ALL_NETNS	0x2003

#define STREAM_HELP							\
	"  -p, --pid PID           only connections owned by process PID\n"	\
	"      --port N            only flows with local or remote port N\n"	\
	"  -4, --ipv4 / -6, --ipv6 only IPv4 / only IPv6 sockets\n"		\
	"  -d, --duration SECONDS  stop after SECONDS (default: until Ctrl-C)\n" \
	"  -t, --timestamp         first column: seconds since tracing started\n" \
	"      --all-netns         sockets of every network namespace, not only\n" \
	"                          this one (one process for all, as libbpf-tools)\n"
#define RETRANS_HELP							\
	"  -c, --count             per-flow retransmit counts instead of events\n" \
	"  -i, --interval SECONDS  with --count: print (and reset) every SECONDS\n" \
	"      --failed            also attempts the kernel did not count (e.g. EBUSY)\n"

static int parse_opts(const char *name, int kind, int argc, char **argv, struct tcp_opts *o)
{
	static const struct option opts[] = {
		{ "pid",	required_argument,	NULL, 'p' },
		{ "port",	required_argument,	NULL, OPT_PORT },
		{ "ipv4",	no_argument,		NULL, '4' },
		{ "ipv6",	no_argument,		NULL, '6' },
		{ "duration",	required_argument,	NULL, 'd' },
		{ "timestamp",	no_argument,		NULL, 't' },
		{ "count",	no_argument,		NULL, 'c' },
		{ "interval",	required_argument,	NULL, 'i' },
		{ "failed",	no_argument,		NULL, OPT_FAILED },
		{ "all-netns",	no_argument,		NULL, OPT_ALL_NETNS },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *shortopts = kind == PS_TCP_RETRANS ? "p:46d:tci:" PS_COMMON_SHORTOPTS :
							 "p:46d:t" PS_COMMON_SHORTOPTS;
	uint64_t v;
	int c, r;

	memset(o, 0, sizeof(*o));
	while ((c = ps_getopt(argc, argv, shortopts, opts)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &o->pid))
				return EXIT_USAGE;
			break;
		case OPT_PORT:
			if (parse_u64("port", optarg, 1, 65535, &v))
				return EXIT_USAGE;
			o->port = v;
			break;
		case '4':
		case '6':
			if (o->family && o->family != (c == '4' ? AF_INET : AF_INET6)) {
				ps_err("-4 and -6 exclude each other: give one, or neither for both");
				return EXIT_USAGE;
			}
			o->family = c == '4' ? AF_INET : AF_INET6;
			break;
		case 'd':
			if (parse_seconds("duration", optarg, 0.001, 31536000, &o->duration))
				return EXIT_USAGE;
			break;
		case 't':
			o->ts = true;
			break;
		case OPT_ALL_NETNS:
			o->all_netns = true;
			break;
		case 'c':
		case 'i':
		case OPT_FAILED:
			if (kind != PS_TCP_RETRANS) {
				ps_err("%s has no %s option (tcpretrans has): see '%s --help'", name,
				       c == 'c' ? "-c/--count" : c == 'i' ? "-i/--interval" : "--failed",
				       name);
				return EXIT_USAGE;
			}
			if (c == 'c')
				o->count = true;
			else if (c == OPT_FAILED)
				o->failed = true;
			else if (parse_seconds("interval", optarg, 0.01, 86400, &o->interval))
				return EXIT_USAGE;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				char help[1024];

				snprintf(help, sizeof(help), "%s%s", STREAM_HELP,
					 kind == PS_TCP_RETRANS ? RETRANS_HELP : "");
				ps_cmd_help(name, help);
				return -1;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		ps_err("%s takes no arguments ('%s'): see '%s --help'", name, argv[optind], name);
		return EXIT_USAGE;
	}
	if (o->all_netns && g.netns) {
		ps_err("--all-netns sees every network namespace: drop --netns %s, or --all-netns",
		       g.netns);
		return EXIT_USAGE;
	}
	if (o->interval > 0 && !o->count) {
		ps_err("-i/--interval needs --count");
		return EXIT_USAGE;
	}
	if (o->count && (o->port || o->pid || o->family || o->ts)) {
		ps_err("--count counts every flow: -p, --port, -4/-6 and -t apply to events only");
		return EXIT_USAGE;
	}
	return 0;
}

static unsigned progs_for(int kind)
{
	switch (kind) {
	case PS_TCP_RETRANS:	return TP_RETRANS | TP_STATE | TP_ACCEPT;
	case PS_TCP_LIFE:	return TP_STATE | TP_ACCEPT;
	case PS_TCP_CONNECT:	return TP_STATE;
	case PS_TCP_ACCEPT:	return TP_ACCEPT | TP_STATE;
	case PS_TCP_STATE:	return TP_STATE | TP_ACCEPT;
	case PS_TCP_RESET:	return TP_RESET | TP_STATE | TP_ACCEPT;
	}
	return 0;
}

static const char *const tracing_what[PS_TCP_KIND_MAX] = {
	"TCP retransmits", "TCP connection lifespans", "TCP active opens",
	"TCP passive opens (accept)", "TCP state changes", "TCP resets",
};

/* --count: read, print and clear the flows map. */
static int print_counts(int fd, bool clear)
{
	struct ps_tcp_flow key, next, *keys = NULL;
	struct ps_tcp_flow_val val;
	size_t n = 0, cap = 0, i;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (n == cap) {
			struct ps_tcp_flow *k;

			cap = cap ? cap * 2 : 256;
			k = realloc(keys, cap * sizeof(*keys));
			if (!k) {
				free(keys);
				return -ENOMEM;
			}
			keys = k;
		}
		keys[n++] = next;
		key = next;
		prev = &key;
	}
	out_obj_open(NULL);
	out_arr_open("flows");
	out_text("%-26s    %-26s %8s %8s %8s\n", "LADDR:LPORT", "RADDR:RPORT", "RETRANS",
		 "SEGS", "FAILED");
	for (i = 0; i < n; i++) {
		char l[64], r[64], la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];

		if (bpf_map_lookup_elem(fd, &keys[i], &val))
			continue;
		if (clear)
			bpf_map_delete_elem(fd, &keys[i]);
		endpoint_str(keys[i].family, keys[i].laddr, keys[i].lport, l, sizeof(l));
		endpoint_str(keys[i].family, keys[i].raddr, keys[i].rport, r, sizeof(r));
		addr_str(keys[i].family, keys[i].laddr, la, sizeof(la));
		addr_str(keys[i].family, keys[i].raddr, ra, sizeof(ra));
		out_obj_open(NULL);
		out_text("%-26s -> %-26s ", l, r);
		out_str("family", NULL, keys[i].family == AF_INET6 ? "ipv6" : "ipv4");
		out_str("laddr", NULL, la);
		out_u64("lport", NULL, keys[i].lport);
		out_str("raddr", NULL, ra);
		out_u64("rport", NULL, keys[i].rport);
		out_u64("retransmits", "%8llu ", val.retrans);
		out_u64("segs", "%8llu ", val.retrans_segs);
		out_u64("failed", "%8llu\n", val.retrans_fail);
		out_obj_close();
	}
	out_arr_close();
	out_obj_close();
	if (!n)
		out_text("(no retransmits)\n");
	out_doc_end();
	free(keys);
	return 0;
}

static int run_stream(const char *name, int kind, int argc, char **argv)
{
	struct bpf_link *links[NTPS] = {};
	struct ring_buffer *rb = NULL;
	struct stream s = { .kind = kind };
	struct tcp_bpf *skel = NULL;
	struct tcp_opts o;
	unsigned mask = progs_for(kind);
	uint64_t ino;
	double end = 0, next = 0;
	struct timespec rt;
	int err, rc = EXIT_RUNTIME;

	err = parse_opts(name, kind, argc, argv, &o);
	if (err)
		return err < 0 ? EXIT_OK : err;
	if (ps_need_root(name) || ps_netns_ino(&ino) || check_tracepoints(mask))
		return EXIT_RUNTIME;

	skel = tcp_bpf__open();
	if (!skel) {
		ps_err("open the TCP BPF object: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* 0: every namespace (--all-netns). */
	skel->rodata->targ_netns = o.all_netns ? 0 : ino;
	skel->rodata->targ_tgid = o.pid;
	skel->rodata->targ_port = o.port;
	skel->rodata->targ_family = o.family;
	skel->rodata->emit_mask = 1u << kind;
	skel->rodata->count_only = o.count;
	skel->rodata->emit_failed = o.failed;
	/*
	 * LRU maps are always preallocated: creating the 65536-entry tables
	 * took 50 ms (flows) and 33 ms (socks) of the start-up.  Streaming
	 * modes never touch flows (only --count and the persistent probes do),
	 * and 16384 sockets in flight is plenty for a live view (LRU: the
	 * oldest idle one goes first).
	 */
	if (!o.count)
		bpf_map__set_max_entries(skel->maps.flows, 1);
	bpf_map__set_max_entries(skel->maps.socks, 16384);
	select_progs(skel, mask);
	err = load_skel(skel);
	if (err) {
		ps_err("load the TCP BPF programs: %s (run with -v for the verifier log)",
		       strerror(-err));
		goto out;
	}
	if (attach_progs(skel, mask, links))
		goto out;
	if (!o.count) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &s, NULL);
		if (!rb) {
			ps_err("open the event ring buffer: %s", strerror(errno));
			goto out;
		}
	}

	ps_install_signals();
	clock_gettime(CLOCK_REALTIME, &rt);
	s.ts = o.ts;
	s.mono0 = mono_ns();
	s.real0 = rt.tv_sec + rt.tv_nsec / 1e9;
	if (o.duration > 0)
		end = ps_now() + o.duration;
	if (o.interval > 0)
		next = ps_now() + o.interval;
	if (!o.count)
		print_header(&s);
	ps_info("Tracing %s%s. Ctrl-C to end.", tracing_what[kind],
		o.count ? " (counting per flow)" : "");

	rc = EXIT_OK;
	while (!ps_exiting) {
		double now = ps_now(), wait = 0.1;

		if (end && now >= end)
			break;
		if (end && end - now < wait)
			wait = end - now;
		if (o.count) {
			if (next && now >= next) {
				print_counts(bpf_map__fd(skel->maps.flows), true);
				next += o.interval;
			}
			if (next && next - now < wait)
				wait = next - now;
			ps_sleep(wait);
			continue;
		}
		/*
		 * Most events come without a wakeup (bpf/tcp.bpf.c, emit()):
		 * after the poll's timeout, whatever is waiting is read, and
		 * what was printed goes out in one write.
		 */
		err = ring_buffer__poll(rb, (int)(wait * 1000) + 1);
		if (err >= 0)
			err = ring_buffer__consume(rb);
		fflush(stdout);
		if (err == -EINTR)
			break;
		if (err < 0) {
			ps_err("read the event ring buffer: %s", strerror(-err));
			rc = EXIT_RUNTIME;
			break;
		}
	}
	/*
	 * Events already in the buffer at -d's end or at Ctrl-C are complete:
	 * print them (they came without a wakeup).
	 */
	if (rb && rc == EXIT_OK) {
		ring_buffer__consume(rb);
		fflush(stdout);
	}
	if (o.count && rc == EXIT_OK)
		print_counts(bpf_map__fd(skel->maps.flows), false);
out:
	ring_buffer__free(rb);
	destroy_links(links);
	tcp_bpf__destroy(skel);
	return rc;
}

int cmd_tcpretrans(int argc, char **argv)
{
	return run_stream("tcpretrans", PS_TCP_RETRANS, argc, argv);
}

int cmd_tcplife(int argc, char **argv)
{
	return run_stream("tcplife", PS_TCP_LIFE, argc, argv);
}

int cmd_tcpconnect(int argc, char **argv)
{
	return run_stream("tcpconnect", PS_TCP_CONNECT, argc, argv);
}

int cmd_tcpaccept(int argc, char **argv)
{
	return run_stream("tcpaccept", PS_TCP_ACCEPT, argc, argv);
}

int cmd_tcpstates(int argc, char **argv)
{
	return run_stream("tcpstates", PS_TCP_STATE, argc, argv);
}

int cmd_tcpresets(int argc, char **argv)
{
	return run_stream("tcpresets", PS_TCP_RESET, argc, argv);
}

/* ---- persistent mode -------------------------------------------------------- */
/*
 * `attach --tcp`: the same programs with persist set, aggregating into
 * "flows" (LRU, --max-flows bound) and "totals" (per-CPU), pinned with their
 * links under PS_PIN_ROOT/tcp-<netns inode>/ so they outlive this process.
 * Only sockets of the netns it was attached in are counted.
 */
#define PERSIST_PROGS	(TP_STATE | TP_RETRANS | TP_RESET)

static const struct ps_persist tpersist = {
	.name = "tcp",
	.probes = "TCP probes",
	.detach = "pktscope tcp-persist detach",
	.bound_key = "max_flows",
	.bound_what = "flow table bound",
};

static int persist_dir(char *buf, size_t len, uint64_t *ino)
{
	return ps_persist_dir(&tpersist, buf, len, ino);
}

int tcp_persist_attach_flows(uint32_t max_flows)
{
	struct bpf_link *links[NTPS] = {};
	struct ps_tcp_meta meta = {};
	struct tcp_bpf *skel = NULL;
	char dir[PATH_MAX], name[64];
	uint64_t ino;
	__u32 zero = 0;
	size_t i;
	int err, rc = EXIT_RUNTIME;
	bool made_dir = false;

	if (ps_need_root("attach --tcp") || ps_mount_bpffs() || check_tracepoints(PERSIST_PROGS) ||
	    ps_persist_begin(&tpersist, dir, sizeof(dir), &ino))
		return EXIT_RUNTIME;

	skel = tcp_bpf__open();
	if (!skel) {
		ps_err("open the TCP BPF object: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	skel->rodata->persist = true;
	skel->rodata->targ_netns = ino;
	/*
	 * --tcp-flows is the bound of the table, exactly.  An LRU map starts
	 * evicting a little before it is full (each CPU keeps a local list of
	 * free nodes the others cannot use): 65,536 entries held 65,298 flows
	 * on 2 CPUs.  Whoever needs N live flows asks for N + 256 per CPU.
	 */
	bpf_map__set_max_entries(skel->maps.flows, max_flows);
	bpf_map__set_max_entries(skel->maps.socks, max_flows);
	/* no events in this mode: the smallest ring buffer there is */
	bpf_map__set_max_entries(skel->maps.events, getpagesize());
	select_progs(skel, PERSIST_PROGS);
	err = load_skel(skel);
	if (err) {
		ps_err("load the TCP BPF programs: %s (run with -v for the verifier log)",
		       strerror(-err));
		goto out;
	}
	ps_failpoint("tcp-load");
	if (ps_persist_mkdir(&tpersist, dir))
		goto out;
	made_dir = true;
	meta.magic = PS_TCP_MAGIC;
	meta.layout_version = PS_TCP_LAYOUT_VERSION;
	meta.netns_ino = ino;
	meta.attach_time = time(NULL);
	meta.max_flows = max_flows;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.tcp_meta), &zero, &meta, BPF_ANY)) {
		ps_err("write %s/tcp_meta: %s", dir, strerror(errno));
		goto out;
	}
	if (ps_pin_fd(bpf_map__fd(skel->maps.tcp_meta), dir, "tcp_meta") ||
	    ps_pin_fd(bpf_map__fd(skel->maps.flows), dir, "flows") ||
	    ps_pin_fd(bpf_map__fd(skel->maps.totals), dir, "totals"))
		goto out;
	if (attach_progs(skel, PERSIST_PROGS, links))
		goto out;
	ps_failpoint("tcp-attach");
	for (i = 0; i < NTPS; i++) {
		if (!links[i])
			continue;
		snprintf(name, sizeof(name), "link_%s", tps[i].name);
		if (ps_pin_fd(bpf_link__fd(links[i]), dir, name))
			goto out;
		ps_failpoint("tcp-pin-link");
	}
	ps_persist_attached(&tpersist, dir, ino, max_flows);
	rc = EXIT_OK;
out:
	if (rc && made_dir)
		ps_unpin_all(dir);
	/* the pinned links keep the programs attached after this */
	destroy_links(links);
	tcp_bpf__destroy(skel);
	return rc;
}

int tcp_persist_attach(void)
{
	return tcp_persist_attach_flows(TCP_DEFAULT_FLOWS);
}

int tcp_persist_detach(void)
{
	return ps_persist_detach(&tpersist, "detach --tcp");
}

struct persist_pins {
	int meta_fd, flows_fd, totals_fd;
	struct ps_tcp_meta meta;
};

static void persist_close(struct persist_pins *p)
{
	if (p->meta_fd >= 0)
		close(p->meta_fd);
	if (p->flows_fd >= 0)
		close(p->flows_fd);
	if (p->totals_fd >= 0)
		close(p->totals_fd);
}

static int open_pin(const char *dir, const char *name, __u32 value_size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		ps_err("open pinned map %s: %s", path, strerror(errno));
		return -1;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.value_size != value_size) {
		ps_err("pinned map %s has value size %u, this build expects %u: it was made by "
		       "another pktscope version; detach with that version, or remove %s",
		       path, info.value_size, value_size, dir);
		close(fd);
		return -1;
	}
	return fd;
}

static int persist_open(struct persist_pins *p, char *dir, size_t len)
{
	uint64_t ino;
	__u32 zero = 0;

	p->meta_fd = p->flows_fd = p->totals_fd = -1;
	if (ps_need_root("stats --tcp") || ps_mount_bpffs() || persist_dir(dir, len, &ino))
		return EXIT_RUNTIME;
	if (access(dir, F_OK)) {
		ps_err("no TCP probes attached in this netns (no %s): run "
		       "'pktscope tcp-persist attach' first", dir);
		return EXIT_RUNTIME;
	}
	p->meta_fd = open_pin(dir, "tcp_meta", sizeof(struct ps_tcp_meta));
	if (p->meta_fd < 0)
		goto err;
	if (bpf_map_lookup_elem(p->meta_fd, &zero, &p->meta) || p->meta.magic != PS_TCP_MAGIC ||
	    p->meta.layout_version != PS_TCP_LAYOUT_VERSION) {
		ps_err("pinned maps in %s have TCP layout version %u, this build reads %u: "
		       "detach with the pktscope that attached them, or remove %s", dir,
		       p->meta.layout_version, PS_TCP_LAYOUT_VERSION, dir);
		goto err;
	}
	p->flows_fd = open_pin(dir, "flows", sizeof(struct ps_tcp_flow_val));
	p->totals_fd = open_pin(dir, "totals", sizeof(struct ps_tcp_totals));
	if (p->flows_fd < 0 || p->totals_fd < 0)
		goto err;
	return 0;
err:
	persist_close(p);
	return EXIT_RUNTIME;
}

static int read_totals(int fd, struct ps_tcp_totals *t)
{
	int ncpu = ps_ncpus(), cpu;
	struct ps_tcp_totals *v = calloc(ncpu, sizeof(*v));
	__u32 zero = 0;
	size_t f;

	if (!v)
		return -1;
	memset(t, 0, sizeof(*t));
	if (bpf_map_lookup_elem(fd, &zero, v)) {
		free(v);
		return -1;
	}
	for (cpu = 0; cpu < ncpu; cpu++)
		for (f = 0; f < sizeof(*t) / 8; f++)
			((__u64 *)t)[f] += ((__u64 *)&v[cpu])[f];
	free(v);
	return 0;
}

/*
 * The flows of one read, as the map gave them, and the order they are
 * printed in.  The arrays are written once, in bulk, straight by the batch
 * lookups: huge pages (ps_big_alloc), where 65,536 flows in a realloc'd
 * array of 4 KiB pages took 1,800 page faults.
 */
struct flow_set {
	struct ps_tcp_flow *k;
	struct ps_tcp_flow_val *v;
	size_t n, cap;
	uint32_t *order;	/* indexes into k and v, most retransmits first */
};

/* Size of the block holding cap keys and values. */
static size_t flows_size(size_t cap)
{
	return cap * (sizeof(struct ps_tcp_flow) + sizeof(struct ps_tcp_flow_val));
}

static void flows_free(struct flow_set *f)
{
	ps_big_free(f->k, flows_size(f->cap));
	free(f->order);
	memset(f, 0, sizeof(*f));
}

/* Room for want flows; -1 when out of memory (f keeps what it had). */
static int flows_reserve(struct flow_set *f, size_t want)
{
	size_t cap = f->cap * 2 > want ? f->cap * 2 : want;
	struct ps_tcp_flow *k;
	struct ps_tcp_flow_val *v;

	if (want <= f->cap)
		return 0;
	/* one block, keys then values: what is touched fills whole huge pages */
	k = ps_big_alloc(flows_size(cap));
	if (!k)
		return -1;
	v = (struct ps_tcp_flow_val *)(k + cap);
	if (f->n) {
		memcpy(k, f->k, f->n * sizeof(*k));
		memcpy(v, f->v, f->n * sizeof(*v));
	}
	ps_big_free(f->k, flows_size(f->cap));
	f->k = k;
	f->v = v;
	f->cap = cap;
	return 0;
}

/* Byte b (0..15) of a flow's descending sort key: closed, then retransmits + resets. */
static unsigned sort_digit(const struct ps_tcp_flow_val *v, unsigned b)
{
	__u64 w = b < 8 ? v->closed : v->retrans + v->rst_sent + v->rst_rcvd;

	return 255 - (unsigned)((w >> (8 * (b & 7))) & 255);
}

/*
 * The order the text table promises (README): most retransmits + resets
 * first, then most connections closed; ties in map order, as the stable
 * merge sort of glibc's qsort left them, so -j lists the flows as before.
 * A stable LSD radix sort over the 16 key bytes that skips the bytes every
 * flow has alike (most of them): a few linear passes instead of a million
 * comparisons of 112-byte rows.
 */
static int flows_sort(struct flow_set *f)
{
	size_t (*cnt)[256] = calloc(16, sizeof(*cnt)), i, b, d, pos;
	uint32_t *tmp = malloc(f->n * sizeof(*tmp) + 1), *swap;

	f->order = malloc(f->n * sizeof(*f->order) + 1);
	if (!cnt || !tmp || !f->order) {
		free(cnt);
		free(tmp);
		return -1;
	}
	for (i = 0; i < f->n; i++) {
		f->order[i] = i;
		for (b = 0; b < 16; b++)
			cnt[b][sort_digit(&f->v[i], b)]++;
	}
	for (b = 0; b < 16 && f->n; b++) {
		if (cnt[b][sort_digit(&f->v[0], b)] == f->n)
			continue;	/* every flow has this byte: nothing moves */
		for (d = 0, pos = 0; d < 256; d++) {
			size_t c = cnt[b][d];

			cnt[b][d] = pos;
			pos += c;
		}
		for (i = 0; i < f->n; i++)
			tmp[cnt[b][sort_digit(&f->v[f->order[i]], b)]++] = f->order[i];
		swap = f->order;
		f->order = tmp;
		tmp = swap;
	}
	free(cnt);
	free(tmp);
	return 0;
}

/*
 * All flows updated since since_ns, into f.  Batch lookups, 4096 flows a
 * system call: walking 65536 flows key by key took two system calls per
 * flow.  Kernels without batch ops on this map type get the key walk.
 */
static int read_flows(int fd, struct flow_set *f, __u64 since_ns)
{
	enum { CHUNK = 4096 };
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct ps_tcp_flow key, next;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u64 batch = 0;
	size_t got = 0, room;
	bool first = true;
	void *prev = NULL;

	memset(f, 0, sizeof(*f));
	/*
	 * Room for the table's bound (up to 2^20 flows; past that it grows):
	 * all that is ever touched unless the map changes under us.
	 */
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	room = info.max_entries < (1u << 20) ? info.max_entries : 1u << 20;
	if (flows_reserve(f, room + CHUNK))
		return -1;
	for (;;) {
		__u32 count = CHUNK, i, kept;
		int err;

		/* each chunk goes straight into place */
		if (flows_reserve(f, f->n + CHUNK))
			goto done;	/* out of memory: what we have */
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, f->k + f->n,
					   f->v + f->n, &count, &opts);
		if (err && errno != ENOENT) {
			if (got)
				goto done;	/* the map changed under us: what we have */
			break;			/* no batch support: walk the keys */
		}
		first = false;
		got += count;
		for (i = kept = 0; i < count; i++) {
			if (f->v[f->n + i].last_ns < since_ns)
				continue;
			if (kept != i) {
				f->k[f->n + kept] = f->k[f->n + i];
				f->v[f->n + kept] = f->v[f->n + i];
			}
			kept++;
		}
		f->n += kept;
		if (err)
			goto done;	/* ENOENT: that was the last chunk */
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (flows_reserve(f, f->n + 1))
			break;
		if (bpf_map_lookup_elem(fd, &key, &f->v[f->n]) || f->v[f->n].last_ns < since_ns)
			continue;
		f->k[f->n++] = key;
	}
done:
	return flows_sort(f);
}

#define TEXT_FLOWS 20

static void print_persist(const struct persist_pins *p, const char *dir,
			  const struct ps_tcp_totals *t, const struct flow_set *f, double interval)
{
	char ns[64], when[32];
	time_t tt = interval > 0 ? time(NULL) : (time_t)p->meta.attach_time;
	struct tm tm;
	size_t i;

	localtime_r(&tt, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	out_obj_open(NULL);
	out_str("netns", "TCP in netns %s", ps_netns_name(p->meta.netns_ino, ns, sizeof(ns)));
	out_u64("netns_ino", NULL, p->meta.netns_ino);
	out_u64("max_flows", "  (flow table bound %llu", p->meta.max_flows);
	out_str("pin_dir", ", %s)", dir);
	if (interval > 0) {
		out_f64("interval_s", "  interval %.3gs", interval);
		out_str("time", "  %s\n", when);
	} else {
		out_u64("attach_time", NULL, p->meta.attach_time);
		out_text("  since %s\n", when);
	}
	out_obj_open("totals");
	out_u64("retransmits", "  retransmits     %llu", t->retrans);
	out_u64("retrans_segs", " (segments %llu", t->retrans_segs);
	out_u64("synack_retrans", ", SYN-ACK %llu", t->synack_retrans);
	out_u64("retrans_failed", ", refused attempts %llu)\n", t->retrans_fail);
	out_u64("resets_sent", "  resets          sent %llu", t->rst_sent);
	out_u64("resets_received", ", received %llu\n", t->rst_rcvd);
	out_u64("active_opens", "  opens           active %llu", t->active_opens);
	out_u64("passive_opens", ", passive %llu", t->passive_opens);
	out_u64("failed_connects", ", failed connects %llu\n", t->failed_connects);
	out_u64("closed", "  closed          %llu connections", t->closed);
	out_u64("tx_bytes", ", tx %llu bytes", t->tx_bytes);
	out_u64("rx_bytes", ", rx %llu bytes\n", t->rx_bytes);
	out_obj_close();

	out_arr_open("flows");
	out_text("\n%-26s    %-26s %8s %8s %8s %8s %7s %12s %12s\n", "LADDR:LPORT", "RADDR:RPORT",
		 "RETRANS", "SEGS", "RST_SENT", "RST_RCVD", "CLOSED", "TX_BYTES", "RX_BYTES");
	for (i = 0; i < f->n; i++) {
		const struct ps_tcp_flow *k = &f->k[f->order[i]];
		const struct ps_tcp_flow_val *v = &f->v[f->order[i]];
		char l[64], rr[64], la[INET6_ADDRSTRLEN], ra[INET6_ADDRSTRLEN];
		bool show = out_json() || i < TEXT_FLOWS;

		if (!show)
			break;
		/* Text shows ADDR:PORT, JSON the parts: format only what is printed. */
		if (out_json()) {
			addr_str(k->family, k->laddr, la, sizeof(la));
			addr_str(k->family, k->raddr, ra, sizeof(ra));
			l[0] = rr[0] = '\0';
		} else {
			endpoint_str(k->family, k->laddr, k->lport, l, sizeof(l));
			endpoint_str(k->family, k->raddr, k->rport, rr, sizeof(rr));
			la[0] = ra[0] = '\0';
		}
		out_obj_open(NULL);
		out_text("%-26s -> %-26s ", l, rr);
		out_str("family", NULL, k->family == AF_INET6 ? "ipv6" : "ipv4");
		out_str("laddr", NULL, la);
		out_u64("lport", NULL, k->lport);
		out_str("raddr", NULL, ra);
		out_u64("rport", NULL, k->rport);
		out_u64("retransmits", "%8llu ", v->retrans);
		out_u64("retrans_segs", "%8llu ", v->retrans_segs);
		out_u64("retrans_failed", NULL, v->retrans_fail);
		out_u64("resets_sent", "%8llu ", v->rst_sent);
		out_u64("resets_received", "%8llu ", v->rst_rcvd);
		out_u64("closed", "%7llu ", v->closed);
		out_u64("tx_bytes", "%12llu ", v->tx_bytes);
		out_u64("rx_bytes", "%12llu\n", v->rx_bytes);
		out_obj_close();
	}
	out_arr_close();
	if (!out_json() && f->n > TEXT_FLOWS)
		out_text("(%zu more flows: -j lists them all)\n", f->n - TEXT_FLOWS);
	out_text("\n");
	out_obj_close();
	out_doc_end();
}

int tcp_persist_stats(double interval, uint64_t count)
{
	struct ps_tcp_totals prev, cur, delta;
	struct persist_pins p;
	struct flow_set flows;
	char dir[PATH_MAX];
	uint64_t n;
	size_t f;
	double t0, t1;
	__u64 since;
	int rc;

	rc = persist_open(&p, dir, sizeof(dir));
	if (rc)
		return rc;
	if (read_totals(p.totals_fd, &cur)) {
		ps_err("read %s/totals: %s", dir, strerror(errno));
		persist_close(&p);
		return EXIT_RUNTIME;
	}
	if (interval <= 0) {
		rc = read_flows(p.flows_fd, &flows, 0);
		if (!rc)
			print_persist(&p, dir, &cur, &flows, 0);
		else
			ps_err("read %s/flows: %s", dir, strerror(ENOMEM));
		flows_free(&flows);
		persist_close(&p);
		return rc ? EXIT_RUNTIME : EXIT_OK;
	}
	/* -i: totals are deltas; flows are those updated in the interval */
	ps_install_signals();
	t0 = ps_now();
	for (n = 0; !count || n < count; n++) {
		prev = cur;
		since = mono_ns();
		if (ps_sleep(interval))
			break;
		if (read_totals(p.totals_fd, &cur)) {
			ps_err("read %s/totals: %s", dir, strerror(errno));
			persist_close(&p);
			return EXIT_RUNTIME;
		}
		t1 = ps_now();
		for (f = 0; f < sizeof(cur) / 8; f++)
			((__u64 *)&delta)[f] = ((__u64 *)&cur)[f] - ((__u64 *)&prev)[f];
		rc = read_flows(p.flows_fd, &flows, since);
		if (!rc)
			print_persist(&p, dir, &delta, &flows, t1 - t0);
		flows_free(&flows);
		if (rc) {
			ps_err("read %s/flows: %s", dir, strerror(ENOMEM));
			persist_close(&p);
			return EXIT_RUNTIME;
		}
		t0 = t1;
	}
	persist_close(&p);
	return EXIT_OK;
}

#define PERSIST_HELP							\
	"  attach [--max-flows N]   pin the TCP probes for this netns; N bounds the\n" \
	"                           LRU flow and socket tables (default 65536)\n" \
	"  detach                   remove them\n"				\
	"  stats [-i SECONDS] [-c N] totals and per-flow counts (-i: per interval)\n"

int cmd_tcp_persist(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max-flows",	required_argument,	NULL, 'm' },
		{ "interval",	required_argument,	NULL, 'i' },
		{ "count",	required_argument,	NULL, 'c' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	uint64_t flows = TCP_DEFAULT_FLOWS, count = 0;
	double interval = 0;
	bool set_flows = false, set_iv = false;
	const char *sub;
	int c, r;

	while ((c = ps_getopt(argc, argv, "i:c:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'm':
			if (parse_u64("--max-flows", optarg, 16, 1u << 24, &flows))
				return EXIT_USAGE;
			set_flows = true;
			break;
		case 'i':
			if (parse_seconds("interval", optarg, 0.01, 86400, &interval))
				return EXIT_USAGE;
			set_iv = true;
			break;
		case 'c':
			if (parse_u64("count", optarg, 1, UINT32_MAX, &count))
				return EXIT_USAGE;
			set_iv = true;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("tcp-persist", PERSIST_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		ps_err("tcp-persist takes one action: attach, detach or stats (see --help)");
		return EXIT_USAGE;
	}
	sub = argv[optind];
	if (!strcmp(sub, "attach")) {
		if (set_iv) {
			ps_err("-i/-c go with 'stats', not 'attach'");
			return EXIT_USAGE;
		}
		return tcp_persist_attach_flows(flows);
	}
	if (set_flows) {
		ps_err("--max-flows goes with 'attach'");
		return EXIT_USAGE;
	}
	if (!strcmp(sub, "detach")) {
		if (set_iv) {
			ps_err("-i/-c go with 'stats', not 'detach'");
			return EXIT_USAGE;
		}
		return tcp_persist_detach();
	}
	if (!strcmp(sub, "stats")) {
		if (count && interval <= 0) {
			ps_err("-c/--count needs -i/--interval");
			return EXIT_USAGE;
		}
		return tcp_persist_stats(interval, count);
	}
	ps_err("unknown action '%s': give attach, detach or stats", sub);
	return EXIT_USAGE;
}

/* ---- tcplife as a collector for `pktscope report` ---------------------------- */

#define LIFE_MAX_KEPT	65536

struct tcplife_session {
	struct tcp_bpf *skel;
	struct bpf_link *links[NTPS];
	struct ring_buffer *rb;
	struct rep_conn *conns;
	size_t n, cap;
	unsigned long long total;
	double ms_max, ms_sum;
};

static int on_life(void *ctx, void *data, size_t len)
{
	struct tcplife_session *s = ctx;
	const struct ps_tcp_event *e = data;
	struct rep_conn *c;
	double ms;

	if (len < sizeof(*e) || e->kind != PS_TCP_LIFE)
		return 0;
	ms = e->delta_ns / 1e6;
	s->total++;
	s->ms_sum += ms;
	if (ms > s->ms_max)
		s->ms_max = ms;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;

		if (cap > LIFE_MAX_KEPT)
			return 0;	/* counted, not kept */
		c = realloc(s->conns, cap * sizeof(*c));
		if (!c)
			return 0;
		s->conns = c;
		s->cap = cap;
	}
	c = &s->conns[s->n++];
	memset(c, 0, sizeof(*c));
	endpoint_str(e->family, e->laddr, e->lport, c->l, sizeof(c->l));
	endpoint_str(e->family, e->raddr, e->rport, c->r, sizeof(c->r));
	c->pid = e->pid;
	snprintf(c->comm, sizeof(c->comm), "%.*s", PS_TCP_COMM_LEN, e->comm);
	c->tx_bytes = e->tx_bytes;
	c->rx_bytes = e->rx_bytes;
	c->ms = ms;
	return 0;
}

void tcplife_collect_end(struct tcplife_session *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	destroy_links(s->links);
	tcp_bpf__destroy(s->skel);
	free(s->conns);
	free(s);
}

struct tcplife_session *tcplife_collect_start(void)
{
	struct tcplife_session *s = calloc(1, sizeof(*s));
	unsigned mask = progs_for(PS_TCP_LIFE);
	uint64_t ino;

	if (!s)
		return NULL;
	if (ps_netns_ino(&ino) || check_tracepoints(mask))
		goto fail;
	s->skel = tcp_bpf__open();
	if (!s->skel)
		goto fail;
	s->skel->rodata->targ_netns = ino;
	s->skel->rodata->emit_mask = 1u << PS_TCP_LIFE;
	select_progs(s->skel, mask);
	if (load_skel(s->skel) || attach_progs(s->skel, mask, s->links))
		goto fail;
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_life, s, NULL);
	if (!s->rb)
		goto fail;
	return s;
fail:
	tcplife_collect_end(s);
	return NULL;
}

void tcplife_collect_poll(struct tcplife_session *s)
{
	ring_buffer__consume(s->rb);
}

static int cmp_conns(const void *a, const void *b)
{
	const struct rep_conn *x = a, *y = b;
	unsigned long long bx = x->tx_bytes + x->rx_bytes, by = y->tx_bytes + y->rx_bytes;

	if (bx != by)
		return bx < by ? 1 : -1;
	return x->ms < y->ms ? 1 : x->ms > y->ms ? -1 : strcmp(x->l, y->l);
}

int tcplife_collect_read(struct tcplife_session *s, struct rep_conn *out, int max,
			 unsigned long long *total, double *ms_max, double *ms_sum)
{
	int i;

	ring_buffer__consume(s->rb);
	if (s->n)
		qsort(s->conns, s->n, sizeof(*s->conns), cmp_conns);
	for (i = 0; i < max && (size_t)i < s->n; i++)
		out[i] = s->conns[i];
	*total = s->total;
	*ms_max = s->ms_max;
	*ms_sum = s->ms_sum;
	return i;
}
