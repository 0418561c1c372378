// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What every command uses: errors, typed option parsers, mounts, netns, signals. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "ctl.h"
#include "output.h"

struct ps_globals g;
volatile sig_atomic_t ps_exiting;

const char *const ps_dir_names[PS_DIR_MAX] = { "xdp", "tc_ingress", "tc_egress" };
const char *const ps_l3_names[PS_L3_MAX] = { "ipv4", "ipv6", "arp", "other" };
const char *const ps_l4_names[PS_L4_MAX] = { "tcp", "udp", "icmp", "icmpv6", "other", "none" };
const char *const ps_verdict_names[PS_V_MAX] = { "aborted", "drop", "pass", "tx", "redirect" };
const char *const ps_layer_names[PS_LAYER_MAX] = {
	"eth", "vlan", "arp", "ipv4", "ipv6", "ipv6_ext", "tcp", "udp", "icmp", "icmpv6",
};
const char *const ps_xdp_mode_names[3] = { "none", "native", "generic" };
const __u32 ps_hist_bounds_user[PS_HIST_SLOTS] = PS_HIST_BOUNDS_INIT;

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "pktscope: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ps_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	if (g.json && !out_in_doc()) {
		char buf[1024];

		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		fputs("{\"error\":", stdout);
		out_json_escape(stdout, buf);
		fputs("}\n", stdout);
		fflush(stdout);
	}
}

void ps_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void ps_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

/* The long option name (at "--name", up to a '=') stands for: exact or a unique prefix. */
static const struct option *long_opt_of(const struct option *lo, const char *el, int *nmatch)
{
	const char *name = el + 2;
	size_t len = strcspn(name, "=");
	const struct option *hit = NULL;

	*nmatch = 0;
	for (; lo && lo->name; lo++) {
		if (strncmp(lo->name, name, len))
			continue;
		if (strlen(lo->name) == len) {
			*nmatch = 1;
			return lo;
		}
		hit = lo;
		++*nmatch;
	}
	return *nmatch == 1 ? hit : NULL;
}

/*
 * getopt's verdict c ('?' or ':') on the option it stopped at, in one line:
 * what was wrong, with which option, and where the help is.
 */
static void bad_option(int c, int argc, char **argv, const struct option *lo)
{
	const char *el = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	const char *cmd = g.cmd ? g.cmd : "";
	const char *sub = g.cmd && argc > 0 && strcmp(argv[0], g.cmd) ? argv[0] : NULL;
	bool is_long = !strncmp(el, "--", 2) && el[2];
	int len = is_long ? (int)strcspn(el, "=") : 0;
	int n = 0;
	const struct option *o = is_long ? long_opt_of(lo, el, &n) : NULL;
	char what[160], help[64];

	if (c == ':') {
		if (is_long)
			snprintf(what, sizeof(what), "option '%.*s' needs a value", len, el);
		else
			snprintf(what, sizeof(what), "option '-%c' needs a value", optopt);
	} else if (!optopt && is_long) {
		snprintf(what, sizeof(what), n > 1 ? "option '%.*s' is ambiguous: give more of its name" :
			 "unrecognized option '%.*s'", len, el);
	} else if (is_long && el[len] == '=' && o && o->val == optopt && o->has_arg == no_argument) {
		snprintf(what, sizeof(what), "option '--%s' takes no value", o->name);
	} else if (optopt > ' ' && optopt < 127) {
		snprintf(what, sizeof(what), "unrecognized option '-%c'", optopt);
	} else {
		snprintf(what, sizeof(what), "unrecognized option '%s'", el);
	}
	snprintf(help, sizeof(help), "pktscope%s%s --help", *cmd ? " " : "", cmd);
	if (*cmd)
		ps_err("%s%s%s: %s: see '%s'", cmd, sub ? " " : "", sub ? sub : "", what, help);
	else
		ps_err("%s: see '%s'", what, help);
}

int ps_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	char s[128];
	size_t lead = shortopts[0] == '+' || shortopts[0] == '-';
	int c;

	/* ':' first (after a '+' or '-'): a missing value comes back as ':'. */
	snprintf(s, sizeof(s), "%.*s:%s", (int)lead, shortopts, shortopts + lead);
	opterr = 0;
	c = getopt_long(argc, argv, s, longopts, NULL);
	if (c == '?' || c == ':') {
		bad_option(c, argc, argv, longopts);
		return '?';
	}
	return c;
}

int ps_common_opt(int c, const char *arg)
{
	switch (c) {
	case 'j':
		g.json = true;
		out_init(true);
		return 0;
	case 'v':
		g.verbose = true;
		return 0;
	case 'h':
		return 1;
	case PS_OPT_NETNS:
		/* Only before the command: the namespace is entered once, first. */
		ps_err("--netns must come before the command: pktscope --netns %s CMD ...", arg);
		return -1;
	default:
		return -1;	/* ps_getopt() already said what was wrong */
	}
}

int ps_common_opts_only(int argc, char **argv, const char *name)
{
	static const struct option opts[] = {
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	while ((c = ps_getopt(argc, argv, PS_COMMON_SHORTOPTS, opts)) != -1) {
		r = ps_common_opt(c, optarg);
		if (r > 0) {
			ps_cmd_help(name, "");
			return EXIT_OK;
		}
		if (r < 0)
			return EXIT_USAGE;
	}
	return -1;
}

void ps_cmd_help(const char *name, const char *options)
{
	const struct ps_cmd *c;

	for (c = ps_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			break;
	if (!c->name)
		return;
	printf("usage: pktscope [--netns NAME] %s %s\n  %s\n", c->name, c->args, c->help);
	if (options && *options)
		printf("\noptions:\n%s", options);
	printf("  -j, --json      JSON output\n"
	       "  -v, --verbose   libbpf's own messages\n"
	       "  -h, --help      this help\n");
}

/* ---- typed option parsers ---------------------------------------------- */

int parse_u64(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+') {
		ps_err("%s '%s' is not a number: give an integer from %llu to %llu",
		       what, s ? s : "", (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end) {
		ps_err("%s '%s' is not a number: give an integer from %llu to %llu",
		       what, s, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	if (v < min || v > max) {
		ps_err("%s %s is out of range: give an integer from %llu to %llu",
		       what, s, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_port(const char *what, const char *s, uint16_t *out)
{
	uint64_t v;

	if (parse_u64(what, s, 0, 65535, &v))
		return -1;
	*out = v;
	return 0;
}

int parse_seconds(const char *what, const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = s && *s ? strtod(s, &end) : 0;
	if (!s || !*s || errno || *end || v != v) {
		ps_err("%s '%s' is not a number of seconds: give a value from %g to %g",
		       what, s ? s : "", min, max);
		return -1;
	}
	if (v < min || v > max) {
		ps_err("%s %s is out of range: give a value from %g to %g", what, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int parse_ifindex(const char *s, int *ifindex)
{
	unsigned int idx;

	if (!s || !*s || strlen(s) >= IF_NAMESIZE) {
		ps_err("interface name '%s' is not valid: give a name from 'ip link'", s ? s : "");
		return -1;
	}
	idx = if_nametoindex(s);
	if (!idx) {
		ps_err("unknown interface '%s'%s%s: see 'ip link'%s", s,
		       g.netns ? " in netns " : "", g.netns ? g.netns : "",
		       g.netns ? "" : " (or pass --netns NAME before the command)");
		return -1;
	}
	*ifindex = idx;
	return 0;
}

int parse_pid(const char *s, int *pid)
{
	char path[64];
	uint64_t v;

	if (parse_u64("PID", s, 1, INT_MAX, &v))
		return -1;
	snprintf(path, sizeof(path), "/proc/%llu", (unsigned long long)v);
	if (access(path, F_OK)) {
		ps_err("no process with PID %llu: see 'ps'", (unsigned long long)v);
		return -1;
	}
	*pid = v;
	return 0;
}

int parse_cidr(const char *s, struct ps_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	uint64_t prefix;
	int max;

	memset(out, 0, sizeof(*out));
	if (!s || strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	slash = strchr(s, '/');
	if (slash)
		buf[slash - s] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	prefix = max;
	if (slash && parse_u64("CIDR prefix length", slash + 1, 0, max, &prefix))
		return -1;
	out->prefix = prefix;
	return 0;
bad:
	ps_err("'%s' is not an address or CIDR: give e.g. 10.0.0.0/24 or fd00::/64", s ? s : "");
	return -1;
}

/* ---- system set-up -------------------------------------------------------- */

/* Effective capabilities from /proc/self/status (no libcap needed). */
static uint64_t cap_eff(void)
{
	unsigned long long v = 0;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

int ps_need_root(const char *what)
{
	/* CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21, CAP_BPF 39 */
	uint64_t caps = cap_eff();
	bool bpf = caps & ((1ull << 39) | (1ull << 21));

	if (geteuid() == 0 || (bpf && (caps & (1ull << 12))))
		return 0;
	ps_err("%s needs root (or CAP_BPF and CAP_NET_ADMIN): run it with sudo", what);
	return -1;
}

static int mount_if_missing(const char *dir, const char *type, unsigned long magic)
{
	struct statfs st;

	if (!statfs(dir, &st) && (unsigned long)st.f_type == magic)
		return 0;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		ps_err("create mount point %s: %s", dir, strerror(errno));
		return -1;
	}
	if (mount(type, dir, type, 0, "mode=0700")) {
		ps_err("mount %s at %s: %s (mount it by hand: mount -t %s %s %s)",
		       type, dir, strerror(errno), type, type, dir);
		return -1;
	}
	return 0;
}

int ps_mount_bpffs(void)
{
	return mount_if_missing(PS_BPFFS, "bpf", BPF_FS_MAGIC);
}

int ps_mount_tracefs(void)
{
	return mount_if_missing(PS_TRACEFS, "tracefs", TRACEFS_MAGIC);
}

int ps_enter_netns(const char *name)
{
	char path[PATH_MAX];
	int fd;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		ps_err("netns name '%s' is not valid: give a name from 'ip netns list'", name);
		return 1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ps_err("unknown netns '%s' (%s: %s): see 'ip netns list'", name, path, strerror(errno));
		return 1;
	}
	/*
	 * setns() only: unlike `ip netns exec`, the mount namespace and so the
	 * host's bpffs and tracefs stay as they are.
	 */
	if (setns(fd, CLONE_NEWNET)) {
		int err = errno;

		ps_err("enter netns '%s': %s", name, strerror(err));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int ps_netns_ino(uint64_t *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st)) {
		ps_err("stat /proc/self/ns/net: %s", strerror(errno));
		return -1;
	}
	*ino = st.st_ino;
	return 0;
}

/* The /run/netns name of a namespace inode, "-" for ours without a name. */
const char *ps_netns_name(uint64_t ino, char *buf, size_t len)
{
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];
	DIR *d;

	d = opendir("/run/netns");
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
			if (!stat(path, &st) && st.st_ino == ino) {
				snprintf(buf, len, "%s", de->d_name);
				closedir(d);
				return buf;
			}
		}
		closedir(d);
	}
	if (!stat("/proc/1/ns/net", &st) && st.st_ino == ino)
		snprintf(buf, len, "init");
	else
		snprintf(buf, len, "%llu", (unsigned long long)ino);
	return buf;
}

/* libbpf's and libxdp's own messages only with -v: ours say what failed. */
static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	(void)lvl;
	return g.verbose ? vfprintf(stderr, fmt, ap) : 0;
}

static int libxdp_print(enum libxdp_print_level lvl, const char *fmt, va_list ap)
{
	(void)lvl;
	return g.verbose ? vfprintf(stderr, fmt, ap) : 0;
}

void ps_libbpf_quiet(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}

/* ---- signals and time --------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	ps_exiting = 1;
}

void ps_install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking poll or sleep returns EINTR at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

double ps_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int ps_sleep(double secs)
{
	struct timespec ts;

	if (secs <= 0)
		return ps_exiting ? -1 : 0;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - ts.tv_sec) * 1e9);
	while (!ps_exiting && nanosleep(&ts, &ts) && errno == EINTR)
		;
	return ps_exiting ? -1 : 0;
}

int ps_ncpus(void)
{
	static int n;

	if (!n) {
		n = libbpf_num_possible_cpus();
		if (n <= 0)
			n = 1;
	}
	return n;
}

/*
 * Stream a ring buffer's events (its callback prints them) until Ctrl-C or
 * the monotonic deadline end (0: none), then drain what is left so nothing
 * that completed before the signal is lost.  Returns 0, or -1 after printing
 * what failed.
 */
int ps_rb_stream(struct ring_buffer *rb, double end, const char *what)
{
	int err;

	while (!ps_exiting && (!end || ps_now() < end)) {
		/* Most records come without a wakeup (bpf/rb.h): drain after the timeout. */
		err = ring_buffer__poll(rb, 200);
		if (err >= 0)
			err = ring_buffer__consume(rb);
		if (err == -EINTR)
			break;
		if (err < 0) {
			ps_err("%s: read the event ring buffer: %s", what, strerror(-err));
			return -1;
		}
		fflush(stdout);
	}
	ring_buffer__consume(rb);
	fflush(stdout);
	return 0;
}

/*
 * Memory that is written once, in bulk.  On the virtual machines this project
 * runs on, the first touch of a 4 KiB page costs 35-50 us (the hypervisor's
 * share: MADV_POPULATE_WRITE first does not make the touches cheaper):
 * filling 12 MB took 100-170 ms, against 1-10 ms (up to 45 ms) in 2 MiB
 * transparent huge pages (THP "madvise" mode, the default of most
 * distributions).  Without THP the advice does nothing: 4 KiB pages, as before.
 */
#define PS_HUGE	(2ul << 20)

static void advise_huge(void *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + PS_HUGE - 1) & ~(PS_HUGE - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(PS_HUGE - 1);

	if (e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
}

/*
 * Loading a CO-RE object makes libbpf read the kernel BTF (5.5 MB on 6.18)
 * from sysfs into one malloc'd buffer, copy it into a second and index it:
 * 3,000 fresh pages, two thirds of `tcplife`'s start-up on such a machine.
 * glibc serves blocks that large with their own mmap, unless a freed mmap'd
 * block of that size raised its (dynamic) threshold: so free one, then grow
 * the heap by the room the BTF needs, advise that huge, and free it for
 * libbpf to take.  end gives the memory back to the system.  No malloc
 * setting is changed; glibc would raise the threshold itself after the first
 * load.
 */
void ps_btf_mem_begin(void)
{
	struct stat st;
	size_t need;
	void *p;

	if (stat("/sys/kernel/btf/vmlinux", &st) || st.st_size <= 0)
		return;
	need = 2 * (size_t)st.st_size + 4 * PS_HUGE;
	if (need > (30ul << 20))	/* glibc's largest dynamic threshold is 32 MiB */
		return;
	p = malloc(need + (64 << 10));
	if (!p)
		return;
	*(volatile char *)p = 0;	/* (a malloc/free pair with no use is optimised away) */
	free(p);
	p = malloc(need);
	if (!p)
		return;
	advise_huge(p, need);
	free(p);
}

void ps_btf_mem_end(void)
{
	malloc_trim(0);
}

/* size bytes of zeroed memory in huge pages where possible; NULL if none. */
void *ps_big_alloc(size_t size)
{
	void *p;

	/* a multiple of 2 MiB: the kernel then places it on a 2 MiB boundary */
	size = (size + PS_HUGE - 1) & ~(PS_HUGE - 1);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	advise_huge(p, size);
	return p;
}

void ps_big_free(void *p, size_t size)
{
	if (p)
		munmap(p, (size + PS_HUGE - 1) & ~(PS_HUGE - 1));
}
