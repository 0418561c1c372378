/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pktscope report: what the collector (report.c) hands to the HTML writer
 * (report_html.c).  Plain data, no BPF handles.
 */
#ifndef PKTSCOPE_REPORT_H
#define PKTSCOPE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "log2.h"
#include "../cpu-mem-io/cpucmd.h"
#include "../cpu-mem-io/memutil.h"

#define REP_MAX_DISKS	16
#define REP_MAX_FLOWS	10
#define REP_MAX_TL	3600	/* per-second timeline points kept */
#define REP_MAX_EV	8
#define REP_MAX_SYS	10
#define REP_MAX_DROPS	8
#define REP_MAX_FILES	10
#define REP_MAX_CONNS	10
#define REP_MAX_RTT	10
#define REP_RTT_SLOTS	32	/* = PS_RTT_SLOTS (bpf/rtt.h) */

enum rep_class { REP_CPU, REP_MEM, REP_IO, REP_NET, REP_NCLS };

/* One second of the timeline: rates over the second that ended at t. */
struct rep_tl {
	double t;		/* seconds since the start */
	double cpu_busy;	/* system-wide busy %, all CPUs */
	double pid_cpu;		/* target's CPU % of one CPU (user + system) */
	double heap_mib;	/* target's outstanding heap (memleak), MiB */
	double block_iops;	/* completed block requests / s, all disks */
	double cache_miss;	/* page cache misses / s (pages) */
	double tcp_out;		/* TCP segments sent / s (this netns) */
	double tcp_retrans;	/* TCP segments retransmitted / s */
	double pkts;		/* packets / s on --iface, all hooks */
	double drops;		/* of which dropped by pktscope / s */
};

struct rep_disk {
	__u32 dev;
	char name[40];
	__u64 slots[PS_LOG2_SLOTS];	/* issue -> completion, log2 microseconds */
	__u64 count;
	double p50_ms, p99_ms;		/* upper bound of the bucket holding it */
	__u64 pid_ios, pid_bytes;	/* the target's requests on this disk */
	double pid_lat_ms;		/* their mean latency */
};

struct rep_flow {
	char l[64], r[64];		/* "addr:port" */
	__u64 retrans, segs;
};

struct drop_reason {
	char reason[64];		/* kernel drop reason, or xdp_exception:... */
	char where[16];			/* stack layer the reason belongs to */
	unsigned long long count, bytes;
};

/* A file of filetop: reads and writes during the report (regular files). */
struct rep_file {
	unsigned int pid;
	char comm[20];
	char path[256];
	unsigned long long reads, writes, rbytes, wbytes;
};

/* A TCP connection that closed during the report (tcplife). */
struct rep_conn {
	char l[64], r[64];		/* "addr:port" */
	unsigned int pid;
	char comm[20];
	unsigned long long tx_bytes, rx_bytes;	/* payload acked / received in order */
	double ms;			/* lifetime */
};

/* mallocstat of the target: entry uprobes, counts since the start. */
struct rep_mstat {
	unsigned long long mallocs, frees, bytes;
	unsigned long long hist[PS_LOG2_SLOTS];	/* log2 of the requested size */
};

/* A flow of the --iface RTT table (attach --rtt), cumulative since attach. */
struct rep_rtt_flow {
	char proto[8];
	char l[64], r[64];
	unsigned long long samples, retrans;
	double min_us, p50_us, avg_us, max_us;
};

struct rep_cls {
	const char *name;
	double metric, threshold;	/* the deciding measure and its threshold */
	const char *unit;
	const char *what;		/* what the metric is */
	double ratio;			/* metric / threshold: ranks the classes */
	double score;			/* 50 * ratio, capped at 100: 50 = at threshold */
	int nev;
	int main_ev;			/* the evidence line of the deciding measure */
	char ev[REP_MAX_EV][320];
};

struct rep {
	/* what was asked */
	int pid;
	char comm[32];
	double duration;
	const char *iface;
	const char *netns;
	uint64_t freq;
	/* how it went */
	double elapsed;
	bool partial;			/* Ctrl-C before the end */
	bool pid_exited;
	char started[32];		/* local time */
	char attached[256];		/* what was attached, for the reader */

	/* cpu */
	double cpu_busy, cpu_iowait;	/* system-wide % */
	double pid_user, pid_sys;	/* % of one CPU */
	bool have_prof;
	struct prof_result prof;
	uint64_t prof_pid_samples;	/* samples of the target (all with -p) */
	bool have_sys;
	struct sys_top sys[REP_MAX_SYS];	/* syscalls by total time */
	int nsys;

	/* memory */
	bool have_mem;
	struct mem_leak_sum leak;
	double heap_rate;		/* bytes/s, least-squares slope */

	/* io */
	bool have_bio, have_cache;
	struct rep_disk disks[REP_MAX_DISKS];
	int ndisks;
	__u64 cache_lookups, cache_misses, cache_hits, cache_dirtied;
	double cache_hit_pct;
	uint64_t dstate_samples, dstate_hits;	/* target seen in D state */
	double dstate_pct;

	/* network */
	bool have_tcp;
	__u64 tcp_out, tcp_retrans, tcp_in;	/* /proc/net/snmp deltas */
	struct rep_flow flows[REP_MAX_FLOWS];
	int nflows;
	__u64 flow_segs_total;
	bool have_drops;
	struct drop_reason drops[REP_MAX_DROPS];
	int ndrops;
	unsigned long long kdrops;		/* kernel drops in this netns, all reasons */
	bool have_iface;
	__u64 if_pkts, if_drops, if_bytes;	/* ingress counted once */
	int if_dir;				/* hook dropping the largest share */
	__u64 if_dir_pkts, if_dir_drops;

	bool have_files;
	struct rep_file files[REP_MAX_FILES];	/* by bytes read + written */
	int nfiles;
	unsigned long long files_total;		/* files seen */
	bool have_mstat;
	struct rep_mstat mstat;
	bool have_life;
	struct rep_conn conns[REP_MAX_CONNS];	/* by bytes moved */
	int nconns;
	unsigned long long conns_total;		/* connections closed */
	double conns_ms_max, conns_ms_sum;
	bool have_rtt;
	unsigned long long rtt_slots[REP_RTT_SLOTS];	/* samples in the window, log2 us */
	unsigned long long rtt_count;
	double rtt_sum_us;
	struct rep_rtt_flow rtt_flows[REP_MAX_RTT];	/* by samples */
	int nrtt;

	/* timeline */
	struct rep_tl tl[REP_MAX_TL];
	int ntl;

	/* verdict */
	struct rep_cls cls[REP_NCLS];
	int rank[REP_NCLS];		/* class indexes, dominant first */
};

int report_write_html(const struct rep *r, FILE *o);	/* 0 or -errno */

/* Kernel drops (skb:kfree_skb with reasons) as a collector, in ctl/drops.c. */
struct drops_bpf;
struct drops_bpf *drops_collect_start(void);
int drops_collect_read(struct drops_bpf *skel, struct drop_reason *out, int max,
		       unsigned long long *total);
void drops_collect_end(struct drops_bpf *skel);

/* filetop as a collector, in cpu-mem-io/filetop.c (pid 0: every process). */
struct filetop_bpf;
struct filetop_bpf *filetop_collect_start(int pid);
/* The files with most bytes moved, up to max; returns how many (-1: error). */
int filetop_collect_read(struct filetop_bpf *s, struct rep_file *out, int max,
			 unsigned long long *nfiles);
void filetop_collect_end(struct filetop_bpf *s);

/* tcplife as a collector, in ctl/tcp.c: connections of this netns closing. */
struct tcplife_session;
struct tcplife_session *tcplife_collect_start(void);
void tcplife_collect_poll(struct tcplife_session *s);	/* drain the ring buffer */
int tcplife_collect_read(struct tcplife_session *s, struct rep_conn *out, int max,
			 unsigned long long *total, double *ms_max, double *ms_sum);
void tcplife_collect_end(struct tcplife_session *s);

/* mallocstat on one process as a collector, in cpu-mem-io/memleak.c. */
struct mstat_session;
struct mstat_session *mallocstat_collect_start(int pid);
int mallocstat_collect_read(struct mstat_session *s, struct rep_mstat *out);
void mallocstat_collect_end(struct mstat_session *s);

/*
 * RTT of an interface attached with --rtt, in ctl/rtt.c: 1 when dir has no
 * RTT pins, -1 on an error.  The histogram is summed over the sources.
 */
int rtt_collect_read(const char *dir, unsigned long long slots[REP_RTT_SLOTS],
		     unsigned long long *count, double *sum_us, struct rep_rtt_flow *flows,
		     int max, int *nflows);

#endif /* PKTSCOPE_REPORT_H */
