/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The pktscope command-line tool: what its parts share. */
#ifndef PKTSCOPE_CTL_H
#define PKTSCOPE_CTL_H

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "pktscope.h"

/* Exit codes, documented in the README and in `pktscope --help`. */
#define EXIT_OK		0	/* success */
#define EXIT_RUNTIME	1	/* the system refused or failed: permission, kernel, IO */
#define EXIT_USAGE	2	/* bad command line: unknown command/flag, bad value, unknown interface */

#define PS_PIN_ROOT	"/sys/fs/bpf/pktscope"
#define PS_BPFFS	"/sys/fs/bpf"
#define PS_TRACEFS	"/sys/kernel/tracing"

/* Options every command accepts, after the command name or before it. */
struct ps_globals {
	bool json;		/* -j/--json */
	bool verbose;		/* -v: libbpf's own messages */
	const char *netns;	/* --netns NAME, entered before the command runs */
	const char *cmd;	/* the command's name, once main() has found it */
};
extern struct ps_globals g;

struct ps_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;	/* one-line synopsis of the arguments */
	const char *help;	/* one-line description */
};
extern const struct ps_cmd ps_cmds[];

/*
 * Common options, appended to each command's own getopt tables; handle them
 * in the default branch with ps_common_opt().
 */
#define PS_COMMON_SHORTOPTS "jvh"
#define PS_OPT_NETNS	0x1000
#define PS_COMMON_LONGOPTS					\
	{ "json",	no_argument,		NULL, 'j' },	\
	{ "verbose",	no_argument,		NULL, 'v' },	\
	{ "help",	no_argument,		NULL, 'h' },	\
	{ "netns",	required_argument,	NULL, PS_OPT_NETNS }

/*
 * getopt_long() for every command line of pktscope, without the index
 * argument: the same options and results, except that a bad option (unknown,
 * ambiguous, missing its value, or given one it does not take) gets one line
 * of pktscope's own on stderr (what, with which option, and the command's
 * --help) instead of getopt's, and comes back as '?'.
 */
int ps_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Returns 0 when handled, 1 for -h (caller prints help, exits 0), -1 bad. */
int ps_common_opt(int c, const char *arg);
/*
 * The whole option loop of a command with no options of its own: -1 to go
 * on (optind at the first operand), else the exit code (EXIT_OK after -h,
 * EXIT_USAGE after a bad option).
 */
int ps_common_opts_only(int argc, char **argv, const char *name);
void ps_cmd_help(const char *name, const char *options);

/* Errors: one line on stderr ("pktscope: ..."), and {"error": ...} in JSON. */
void ps_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ps_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ps_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Typed option parsers: each prints its own error and returns -1 on bad input. */
int parse_u64(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_port(const char *what, const char *s, uint16_t *out);
int parse_seconds(const char *what, const char *s, double min, double max, double *out);
int parse_ifindex(const char *s, int *ifindex);
int parse_pid(const char *s, int *pid);

struct ps_cidr {
	__u8 family;		/* AF_INET or AF_INET6 */
	__u8 prefix;
	__u8 addr[16];
};
int parse_cidr(const char *s, struct ps_cidr *out);

/* System set-up. */
int ps_need_root(const char *what);
int ps_mount_bpffs(void);
int ps_mount_tracefs(void);
/* 0 entered, 1 bad or unknown name (usage), -1 the kernel refused (runtime). */
int ps_enter_netns(const char *name);
int ps_netns_ino(uint64_t *ino);
const char *ps_netns_name(uint64_t ino, char *buf, size_t len);
void ps_libbpf_quiet(void);

/* Ctrl-C / SIGTERM: set ps_exiting, interrupt sleeps. */
extern volatile sig_atomic_t ps_exiting;
void ps_install_signals(void);
/* Sleep up to secs; returns -1 when interrupted by a signal that asks to exit. */
int ps_sleep(double secs);
double ps_now(void);	/* CLOCK_MONOTONIC seconds */
struct ring_buffer;
/* Poll rb until Ctrl-C or CLOCK_MONOTONIC end (0: none), then drain it. */
int ps_rb_stream(struct ring_buffer *rb, double end, const char *what);

/* Pinned accounting of one interface. */
struct ps_pins {
	char dir[PATH_MAX];
	int stats_fd;
	int meta_fd;
	struct ps_meta meta;
};
int ps_pin_dir(uint64_t netns_ino, int ifindex, char *buf, size_t len);
int ps_pins_open(const char *dir, struct ps_pins *p);	/* verifies layout */
void ps_pins_close(struct ps_pins *p);
int ps_pins_open_iface(const char *ifname, struct ps_pins *p);
/* The pin root exists (made when create) and is a private directory of ours: 0. */
int ps_pin_root_ok(bool create);
int ps_read_counters(int stats_fd, struct ps_counters out[PS_DIR_MAX]);
int ps_pin_fd(int fd, const char *dir, const char *name);	/* mode 0600 */
void ps_unpin_all(const char *dir);	/* every pin in dir, then dir */
/* 0, -ENOENT (no meta pin), -EPROTO (another layout: refused), -errno. */
int ps_meta_read(const char *dir, struct ps_meta *m, bool quiet);
int ps_stats_check(const char *dir, bool quiet);	/* 0, or -EPROTO: another layout */
/*
 * A pinned map as this build makes it: the sizes that are not 0 are checked
 * (key_size only along with value_size).  fix is what the refusal tells the
 * user to do; NULL: the map was made by another pktscope version, detach it
 * with that one or remove the directory.
 */
struct ps_pin_map {
	const char *name;	/* in the pin directory */
	__u32 key_size, value_size, max_entries;
	const char *fix;
};
#define PS_PIN_QUIET_OPEN	1	/* a pin that cannot be opened is not said */
#define PS_PIN_QUIET_SIZE	2	/* nor one of other sizes */
#define PS_PIN_QUIET		(PS_PIN_QUIET_OPEN | PS_PIN_QUIET_SIZE)
/* The fd; -errno of the open; -EPROTO: other sizes.  *max_entries when not NULL. */
int ps_pin_map_open(const char *dir, const struct ps_pin_map *m, int quiet, __u32 *max_entries);
/*
 * Tracepoint probes pinned per network namespace with their maps and links
 * (attach --tcp, drops --persist attach), in PS_PIN_ROOT/<name>-<netns inode>.
 */
struct ps_persist {
	const char *name;	/* "tcp" */
	const char *probes;	/* "TCP probes": what the messages call them */
	const char *detach;	/* the command that detaches them */
	const char *bound_key;	/* the map bound an attach reports: "max_flows" */
	const char *bound_what;	/* and its words: "flow table bound" */
};
int ps_persist_dir(const struct ps_persist *k, char *buf, size_t len, uint64_t *ino);
/* Names dir; refuses one that exists; the pin root is ours: 0, or -1 (said). */
int ps_persist_begin(const struct ps_persist *k, char *dir, size_t len, uint64_t *ino);
int ps_persist_mkdir(const struct ps_persist *k, const char *dir);	/* 0, or -1 (said) */
void ps_persist_attached(const struct ps_persist *k, const char *dir, uint64_t ino,
			 uint64_t bound);
int ps_persist_detach(const struct ps_persist *k, const char *what);	/* exit code */
/*
 * Fault injection (ctl/attach.c): PKTSCOPE_FAILPOINT=STEP kills pktscope with
 * SIGKILL right after that step of an attach; PKTSCOPE_FAILPOINT=list names them.
 */
void ps_failpoint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ps_failpoint_check(void);	/* 0 go on, 1 listed (exit 0), -1 unknown name (exit 2) */
/* The daemon's reference to bpffs (ctl/pins.c): re-pins if it was unmounted. */
void ps_bpffs_hold(void);
void ps_bpffs_check(void);

/* Per-CPU map values: sum an array of nr_cpus values of size sz (8-aligned). */
int ps_ncpus(void);
/*
 * Bulk memory in transparent huge pages (first touches of 4 KiB pages are
 * slow on virtual machines): around a skeleton load, for libbpf's copy of the
 * kernel BTF; and zeroed blocks for large arrays (ps_big_free with the size).
 */
void ps_btf_mem_begin(void);
void ps_btf_mem_end(void);
void *ps_big_alloc(size_t size);
void ps_big_free(void *p, size_t size);

/* Names of enum values, shared by the text and JSON outputs. */
extern const char *const ps_dir_names[PS_DIR_MAX];
extern const char *const ps_l3_names[PS_L3_MAX];
extern const char *const ps_l4_names[PS_L4_MAX];
extern const char *const ps_verdict_names[PS_V_MAX];
extern const char *const ps_layer_names[PS_LAYER_MAX];
extern const char *const ps_xdp_mode_names[3];
extern const __u32 ps_hist_bounds_user[PS_HIST_SLOTS];

/* Histograms, bpftrace style. */
void ps_size_label(__u64 v, char *buf, size_t len);
void ps_print_bounds_hist(const char *key, const __u64 *counts, const __u32 *bounds,
			  int nbuckets);
void ps_print_log2_hist(const char *key, const __u64 *slots, int nslots,
			const char *unit);

/* Commands (one entry each in ps_cmds[], ctl/commands.c). */
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_hist(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_rtt(int argc, char **argv);
/* The RTT summary of `stats` (ctl/rtt.c); prints nothing without RTT pins in dir. */
void ps_rtt_stats_summary(const char *dir);
int cmd_daemon(int argc, char **argv);
int cmd_drops(int argc, char **argv);
int cmd_filter(int argc, char **argv);
int cmd_tcpretrans(int argc, char **argv);
int cmd_tcplife(int argc, char **argv);
int cmd_tcpconnect(int argc, char **argv);
int cmd_tcpaccept(int argc, char **argv);
int cmd_tcpstates(int argc, char **argv);
int cmd_tcpresets(int argc, char **argv);
int cmd_tcp_persist(int argc, char **argv);
/* TCP persistent mode (ctl/tcp.c), for attach/detach/stats --tcp. */
int tcp_persist_attach(void);
int tcp_persist_attach_flows(uint32_t max_flows);
int tcp_persist_detach(void);
int tcp_persist_stats(double interval, uint64_t count);
int cmd_profile(int argc, char **argv);
int cmd_syscount(int argc, char **argv);
int cmd_syslat(int argc, char **argv);
int cmd_memleak(int argc, char **argv);
int cmd_mallocstat(int argc, char **argv);
int cmd_cachestat(int argc, char **argv);
int cmd_cachetop(int argc, char **argv);
int cmd_biosnoop(int argc, char **argv);
int cmd_biotop(int argc, char **argv);
int cmd_biolatency(int argc, char **argv);
int cmd_filetop(int argc, char **argv);
int cmd_fileslower(int argc, char **argv);

#endif /* PKTSCOPE_CTL_H */
