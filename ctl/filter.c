// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * filter add / list / del: drop rules read by the XDP and TC programs of an
 * attachment (bpf/filter.h).
 *
 * A rule is written to its slot while no mask points at it, and only then
 * made visible by setting its bit in the masks; deletion clears the bits
 * first.  So a packet never judges a rule that is half written.  add and
 * del hold an flock on the pin directory so two of them cannot pick the
 * same slot.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "output.h"
#include "rules.h"

/* ---- pinned maps ---------------------------------------------------------- */

static int open_map(const char *dir, const char *name, __u32 value_size, __u32 entries)
{
	const struct ps_pin_map m = { name, 0, value_size, entries,
				      "re-attach with 'pktscope attach --replace IFACE'" };
	int fd = ps_pin_map_open(dir, &m, PS_PIN_QUIET_OPEN, NULL);

	/* the filter maps came with a later build than some attachments */
	if (fd == -ENOENT)
		ps_err("%s has no drop filter (no %s/%s): it was attached by an older "
		       "pktscope; run 'pktscope attach --replace IFACE'", dir, dir, name);
	else if (fd < 0 && fd != -EPROTO)
		ps_err("open pinned map %s/%s: %s", dir, name, strerror(-fd));
	return fd;
}

void ps_filter_close(struct ps_filter_pins *fp)
{
	if (fp->rules_fd >= 0)
		close(fp->rules_fd);
	if (fp->ctl_fd >= 0)
		close(fp->ctl_fd);
	if (fp->stats_fd >= 0)
		close(fp->stats_fd);
	if (fp->lock_fd >= 0)
		close(fp->lock_fd);
	fp->rules_fd = fp->ctl_fd = fp->stats_fd = fp->lock_fd = -1;
}

int ps_filter_open(const char *dir, struct ps_filter_pins *fp)
{
	fp->ctl_fd = fp->stats_fd = fp->lock_fd = -1;
	fp->rules_fd = open_map(dir, "filter_rules", sizeof(struct ps_rule), PS_RULES_MAX);
	if (fp->rules_fd < 0)
		goto err;
	fp->ctl_fd = open_map(dir, "filter_ctl", sizeof(struct ps_filter_ctl), 1);
	if (fp->ctl_fd < 0)
		goto err;
	fp->stats_fd = open_map(dir, "filter_stats", sizeof(struct ps_rule_stats),
				PS_RULE_STATS_ENTRIES);
	if (fp->stats_fd < 0)
		goto err;
	fp->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fp->lock_fd < 0) {
		ps_err("open %s: %s", dir, strerror(errno));
		goto err;
	}
	return 0;
err:
	ps_filter_close(fp);
	return -1;
}

int ps_filter_read_stats(const struct ps_filter_pins *fp,
			 struct ps_rule_stats out[PS_RULE_STATS_ENTRIES])
{
	int ncpu = ps_ncpus(), cpu;
	struct ps_rule_stats *v;
	__u32 k;

	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out) * PS_RULE_STATS_ENTRIES);
	for (k = 0; k < PS_RULE_STATS_ENTRIES; k++) {
		if (bpf_map_lookup_elem(fp->stats_fd, &k, v)) {
			free(v);
			return -errno;
		}
		for (cpu = 0; cpu < ncpu; cpu++) {
			out[k].matched += v[cpu].matched;
			out[k].dropped += v[cpu].dropped;
			out[k].dropped_bytes += v[cpu].dropped_bytes;
		}
	}
	free(v);
	return 0;
}

static int read_ctl(const struct ps_filter_pins *fp, struct ps_filter_ctl *ctl)
{
	__u32 k = 0;

	if (bpf_map_lookup_elem(fp->ctl_fd, &k, ctl)) {
		ps_err("read the filter's control map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The masks in ctl, with the port prefilter (skip) recomputed from the rules
 * they point at.  One write: a packet sees the old masks and skip bits or
 * the new ones, and while a rule is added or deleted either set is safe (a
 * rule's bits are set only after the rule is written, and cleared before).
 */
static int write_ctl(const struct ps_filter_pins *fp, struct ps_filter_ctl *ctl)
{
	struct ps_rule rules[PS_RULES_MAX];
	__u32 k = 0, slot;
	int d;

	for (slot = 0; slot < PS_RULES_MAX; slot++) {
		if (bpf_map_lookup_elem(fp->rules_fd, &slot, &rules[slot])) {
			ps_err("read rule %u: %s", slot + 1, strerror(errno));
			return -1;
		}
	}
	for (d = 0; d < PS_DIR_MAX; d++)
		ctl->skip[d] = ps_filter_skip(rules, ctl->mask[d]);
	ctl->version = PS_FILTER_VERSION;
	if (bpf_map_update_elem(fp->ctl_fd, &k, ctl, BPF_ANY)) {
		ps_err("write the filter's control map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Pins of IFACE in the current netns: stats/meta and the filter maps. */
static int open_iface(const char *iface, struct ps_pins *p, struct ps_filter_pins *fp)
{
	int rc = ps_pins_open_iface(iface, p);

	if (rc)
		return rc;
	if (ps_filter_open(p->dir, fp)) {
		ps_pins_close(p);
		return EXIT_RUNTIME;
	}
	return 0;
}

/* ---- option parsing ------------------------------------------------------- */

struct proto_name {
	const char *name;
	__u8 proto;
};

static const struct proto_name protos[] = {
	{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 }, { "icmp6", 58 },
};

static const char *proto_str(__u8 proto, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	snprintf(buf, len, "proto %u", proto);
	return buf;
}

static int parse_proto(const char *s, __u8 *out)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (!strcmp(s, protos[i].name)) {
			*out = protos[i].proto;
			return 0;
		}
	}
	if (s[0] < '0' || s[0] > '9') {
		ps_err("unknown protocol '%s': give tcp, udp, icmp, icmpv6 or an IP protocol "
		       "number from 0 to 255", s);
		return -1;
	}
	if (parse_u64("protocol", s, 0, 255, &v))
		return -1;
	*out = v;
	return 0;
}

static int parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = *s ? strtod(s, &end) : 0;
	if (!*s || errno || *end || v != v) {
		ps_err("rate '%s' is not a number: give a drop probability from 0.000001 to 1 "
		       "(0.05 drops 5%%)", s);
		return -1;
	}
	/*
	 * `filter list` shows the rate in millionths: a smaller one would be
	 * listed as 0 (and below 2^-32 the BPF side would never drop).
	 */
	if (v < 1e-6 || v > 1) {
		ps_err("rate %s is out of range: give a drop probability from 0.000001 to 1 "
		       "(0.05 drops 5%%; for rarer drops use --every N)", s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Clear the host bits of a CIDR so the BPF side compares masked words. */
static void cidr_to_rule(const struct ps_cidr *c, __u8 net[16], __u8 *prefix)
{
	int i, bits = c->prefix;

	memset(net, 0, 16);
	for (i = 0; i < 16 && bits > 0; i++, bits -= 8)
		net[i] = bits >= 8 ? c->addr[i] : c->addr[i] & (__u8)(0xff << (8 - bits));
	*prefix = c->prefix;
}

static void cidr_str(__u8 family, const __u8 net[16], __u8 prefix, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, net, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, prefix);
}

/* ---- add ------------------------------------------------------------------ */

#define ADD_HELP							\
	"  --drop              the action (required): drop matching packets\n" \
	"  --proto P           tcp, udp, icmp, icmpv6 or a number 0-255\n" \
	"  --sport N, --dport N  TCP/UDP source/destination port 0-65535\n" \
	"  --src CIDR, --dst CIDR  source/destination address or prefix (IPv4 or IPv6)\n" \
	"  --every N           drop exactly one matching packet in N (all CPUs together)\n" \
	"  --rate R            drop each matching packet with probability R (1e-6 <= R <= 1)\n" \
	"  --dir D             ingress, egress or both (default both)\n"

/*
 * The options of `filter add` into a rule (not yet written anywhere):
 * 0 with the interface at argv[optind], 1 after printing --help, -1 after
 * printing what was wrong.
 */
int ps_filter_parse_add(int argc, char **argv, struct ps_rule *out)
{
	enum { O_DROP = 0x2000, O_PROTO, O_SPORT, O_DPORT, O_SRC, O_DST, O_RATE, O_EVERY, O_DIR };
	static const struct option opts[] = {
		{ "drop",	no_argument,		NULL, O_DROP },
		{ "proto",	required_argument,	NULL, O_PROTO },
		{ "sport",	required_argument,	NULL, O_SPORT },
		{ "dport",	required_argument,	NULL, O_DPORT },
		{ "src",	required_argument,	NULL, O_SRC },
		{ "dst",	required_argument,	NULL, O_DST },
		{ "rate",	required_argument,	NULL, O_RATE },
		{ "every",	required_argument,	NULL, O_EVERY },
		{ "dir",	required_argument,	NULL, O_DIR },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ps_rule r = { .active = 1, .dirs = PS_RULE_INGRESS | PS_RULE_EGRESS };
	struct ps_cidr cidr;
	bool drop = false, have_rate = false, have_every = false;
	uint64_t v;
	double rate = 0;
	int c, rc, d;

	while ((c = ps_getopt(argc, argv, PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case O_DROP:
			drop = true;
			break;
		case O_PROTO:
			if (parse_proto(optarg, &r.proto))
				return -1;
			r.match |= PS_RM_PROTO;
			break;
		case O_SPORT:
			if (parse_port("source port", optarg, &r.sport))
				return -1;
			r.match |= PS_RM_SPORT;
			break;
		case O_DPORT:
			if (parse_port("destination port", optarg, &r.dport))
				return -1;
			r.match |= PS_RM_DPORT;
			break;
		case O_SRC:
		case O_DST:
			if (parse_cidr(optarg, &cidr))
				return -1;
			d = cidr.family == AF_INET ? 4 : 6;
			if (r.family && r.family != d) {
				ps_err("--src and --dst are of different families (IPv4 and IPv6): "
				       "a packet cannot match both");
				return -1;
			}
			r.family = d;
			if (c == O_SRC) {
				cidr_to_rule(&cidr, r.src, &r.src_prefix);
				r.match |= PS_RM_SRC;
			} else {
				cidr_to_rule(&cidr, r.dst, &r.dst_prefix);
				r.match |= PS_RM_DST;
			}
			break;
		case O_RATE:
			if (parse_rate(optarg, &rate))
				return -1;
			have_rate = true;
			break;
		case O_EVERY:
			if (parse_u64("--every", optarg, 1, UINT32_MAX, &v))
				return -1;
			r.every = v;
			have_every = true;
			break;
		case O_DIR:
			if (!strcmp(optarg, "ingress") || !strcmp(optarg, "in"))
				r.dirs = PS_RULE_INGRESS;
			else if (!strcmp(optarg, "egress") || !strcmp(optarg, "out"))
				r.dirs = PS_RULE_EGRESS;
			else if (!strcmp(optarg, "both"))
				r.dirs = PS_RULE_INGRESS | PS_RULE_EGRESS;
			else {
				ps_err("unknown direction '%s': give ingress, egress or both", optarg);
				return -1;
			}
			break;
		default:
			rc = ps_common_opt(c, optarg);
			if (rc > 0) {
				ps_cmd_help("filter", ADD_HELP);
				return 1;
			}
			if (rc < 0)
				return -1;
		}
	}
	if (optind != argc - 1) {
		ps_err("filter add takes one interface: pktscope filter add IFACE --drop [...]");
		return -1;
	}
	if (!drop) {
		ps_err("filter add needs an action: give --drop");
		return -1;
	}
	if (have_rate && have_every) {
		ps_err("--rate and --every exclude each other: give one");
		return -1;
	}
	if (have_every) {
		r.mode = PS_RULE_EVERY;
	} else if (have_rate) {
		r.mode = PS_RULE_RATE;
		/* rate 1 gives 2^32: above every prandom value, so every packet. */
		r.thresh = (__u64)ldexp(rate, 32);
		r.rate_ppm = (__u32)lround(rate * 1e6);
	}
	*out = r;
	return 0;
}

static int filter_add(int argc, char **argv)
{
	struct ps_rule_stats zero[256] = {};
	struct ps_filter_pins fp;
	struct ps_filter_ctl ctl;
	struct ps_pins p;
	struct ps_rule r;
	__u32 slot, k, dirbits[PS_DIR_MAX] = {};
	int rc, d;

	rc = ps_filter_parse_add(argc, argv, &r);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	r.created = time(NULL);

	rc = open_iface(argv[optind], &p, &fp);
	if (rc)
		return rc;
	rc = EXIT_RUNTIME;
	/* Where each direction is judged: ingress at XDP when it is there. */
	if (r.dirs & PS_RULE_INGRESS) {
		if (p.meta.flags & PS_META_XDP)
			dirbits[PS_DIR_XDP] = 1;
		else if (p.meta.flags & PS_META_TC_IN)
			dirbits[PS_DIR_TC_IN] = 1;
		else {
			ps_err("%s has no ingress program: re-attach without --no-xdp/--no-tc",
			       argv[optind]);
			goto out;
		}
	}
	if (r.dirs & PS_RULE_EGRESS) {
		if (p.meta.flags & PS_META_TC_OUT)
			dirbits[PS_DIR_TC_OUT] = 1;
		else {
			ps_err("%s has no egress program (attached with --no-tc): re-attach with "
			       "TC, or give --dir ingress", argv[optind]);
			goto out;
		}
	}
	if (flock(fp.lock_fd, LOCK_EX)) {
		ps_err("lock %s: %s", p.dir, strerror(errno));
		goto out;
	}
	if (read_ctl(&fp, &ctl))
		goto out;
	for (slot = 0; slot < PS_RULES_MAX; slot++) {
		struct ps_rule old;

		if ((ctl.mask[0] | ctl.mask[1] | ctl.mask[2]) & (1u << slot))
			continue;
		if (!bpf_map_lookup_elem(fp.rules_fd, &slot, &old) && !old.active)
			break;
	}
	if (slot == PS_RULES_MAX) {
		ps_err("%s already has %d rules, the most there can be: delete one first "
		       "(pktscope filter del %s ID)", argv[optind], PS_RULES_MAX, argv[optind]);
		goto out;
	}
	/* Fresh counters for the new rule, then the rule, then its bits. */
	if ((size_t)ps_ncpus() > sizeof(zero) / sizeof(zero[0])) {
		ps_err("more than %zu CPUs: not supported", sizeof(zero) / sizeof(zero[0]));
		goto out;
	}
	for (d = 0; d < PS_DIR_MAX; d++) {
		k = slot * PS_DIR_MAX + d;
		if (bpf_map_update_elem(fp.stats_fd, &k, zero, BPF_ANY)) {
			ps_err("reset the counters of rule %u: %s", slot + 1, strerror(errno));
			goto out;
		}
	}
	if (bpf_map_update_elem(fp.rules_fd, &slot, &r, BPF_ANY)) {
		ps_err("write rule %u: %s", slot + 1, strerror(errno));
		goto out;
	}
	for (d = 0; d < PS_DIR_MAX; d++)
		if (dirbits[d])
			ctl.mask[d] |= 1u << slot;
	if (write_ctl(&fp, &ctl))
		goto out;

	out_obj_open(NULL);
	out_str("iface", "%s: ", argv[optind]);
	out_u64("id", "rule %llu added\n", slot + 1);
	out_obj_close();
	out_doc_end();
	rc = EXIT_OK;
out:
	ps_filter_close(&fp);
	ps_pins_close(&p);
	return rc;
}

/* ---- list ------------------------------------------------------------------ */

static void print_rule(__u32 slot, const struct ps_rule *r, const __u32 *mask,
		       const struct ps_rule_stats *st)
{
	char match[160] = "", buf[64], pb[16], action[48];
	__u64 matched = 0, dropped = 0, bytes = 0;
	size_t n = 0;
	int d;

	for (d = 0; d < PS_DIR_MAX; d++) {
		matched += st[slot * PS_DIR_MAX + d].matched;
		dropped += st[slot * PS_DIR_MAX + d].dropped;
		bytes += st[slot * PS_DIR_MAX + d].dropped_bytes;
	}
	out_obj_open(NULL);
	out_u64("id", "%-3llu ", slot + 1);
	snprintf(buf, sizeof(buf), "%s", r->dirs == (PS_RULE_INGRESS | PS_RULE_EGRESS) ?
		 "both" : r->dirs & PS_RULE_INGRESS ? "ingress" : "egress");
	out_str("dir", "%-8s ", buf);
	buf[0] = '\0';
	for (d = 0; d < PS_DIR_MAX; d++)
		if (mask[d] & (1u << slot))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
				 buf[0] ? "," : "", ps_dir_names[d]);
	out_str("at", "%-21s ", buf);

	if (r->match & PS_RM_PROTO) {
		out_str("proto", NULL, proto_str(r->proto, pb, sizeof(pb)));
		n += snprintf(match + n, sizeof(match) - n, "%s ", proto_str(r->proto, pb, sizeof(pb)));
	}
	if (r->match & PS_RM_SPORT) {
		out_u64("sport", NULL, r->sport);
		n += snprintf(match + n, sizeof(match) - n, "sport %u ", r->sport);
	}
	if (r->match & PS_RM_DPORT) {
		out_u64("dport", NULL, r->dport);
		n += snprintf(match + n, sizeof(match) - n, "dport %u ", r->dport);
	}
	if (r->match & PS_RM_SRC) {
		cidr_str(r->family, r->src, r->src_prefix, buf, sizeof(buf));
		out_str("src", NULL, buf);
		n += snprintf(match + n, sizeof(match) - n, "src %s ", buf);
	}
	if (r->match & PS_RM_DST) {
		cidr_str(r->family, r->dst, r->dst_prefix, buf, sizeof(buf));
		out_str("dst", NULL, buf);
		n += snprintf(match + n, sizeof(match) - n, "dst %s ", buf);
	}
	if (!n)
		snprintf(match, sizeof(match), "all ");
	match[strlen(match) - 1] = '\0';
	out_text("%-34s ", match);

	switch (r->mode) {
	case PS_RULE_EVERY:
		out_str("mode", NULL, "every");
		out_u64("every", NULL, r->every);
		snprintf(action, sizeof(action), "drop every %u", r->every);
		break;
	case PS_RULE_RATE:
		out_str("mode", NULL, "rate");
		out_f64("rate", NULL, r->rate_ppm / 1e6);
		snprintf(action, sizeof(action), "drop rate %g", r->rate_ppm / 1e6);
		break;
	default:
		out_str("mode", NULL, "all");
		snprintf(action, sizeof(action), "drop");
		break;
	}
	out_str("action", "%-18s ", action);
	out_u64("matched", "%12llu ", matched);
	out_u64("dropped", "%12llu ", dropped);
	out_u64("dropped_bytes", "%14llu\n", bytes);
	out_u64("created", NULL, r->created);
	out_obj_close();
}

static int filter_list(int argc, char **argv)
{
	struct ps_rule_stats st[PS_RULE_STATS_ENTRIES];
	struct ps_filter_pins fp;
	struct ps_filter_ctl ctl;
	struct ps_pins p;
	__u32 slot;
	int rc, shown = 0;

	rc = ps_common_opts_only(argc, argv, "filter");
	if (rc >= 0)
		return rc;
	if (optind != argc - 1) {
		ps_err("filter list takes one interface: pktscope filter list IFACE");
		return EXIT_USAGE;
	}
	rc = open_iface(argv[optind], &p, &fp);
	if (rc)
		return rc;
	rc = EXIT_RUNTIME;
	if (read_ctl(&fp, &ctl))
		goto out;
	if (ps_filter_read_stats(&fp, st)) {
		ps_err("read %s/filter_stats: %s", p.dir, strerror(errno));
		goto out;
	}
	out_obj_open(NULL);
	out_str("iface", NULL, argv[optind]);
	out_arr_open("rules");
	out_text("%-3s %-8s %-21s %-34s %-18s %12s %12s %14s\n", "ID", "DIR", "AT", "MATCH",
		 "ACTION", "MATCHED", "DROPPED", "DROPPED_BYTES");
	for (slot = 0; slot < PS_RULES_MAX; slot++) {
		struct ps_rule r;

		if (bpf_map_lookup_elem(fp.rules_fd, &slot, &r) || !r.active)
			continue;
		print_rule(slot, &r, ctl.mask, st);
		shown++;
	}
	out_arr_close();
	out_obj_close();
	if (!shown)
		out_text("(no rules on %s)\n", argv[optind]);
	out_doc_end();
	rc = EXIT_OK;
out:
	ps_filter_close(&fp);
	ps_pins_close(&p);
	return rc;
}

/* ---- del ------------------------------------------------------------------- */

static int filter_del(int argc, char **argv)
{
	struct ps_filter_pins fp;
	struct ps_filter_ctl ctl;
	struct ps_rule r, empty = {};
	struct ps_pins p;
	uint64_t id;
	__u32 slot;
	int rc, d;

	rc = ps_common_opts_only(argc, argv, "filter");
	if (rc >= 0)
		return rc;
	if (optind != argc - 2) {
		ps_err("filter del takes an interface and a rule id: pktscope filter del IFACE ID");
		return EXIT_USAGE;
	}
	if (parse_u64("rule id", argv[optind + 1], 1, PS_RULES_MAX, &id))
		return EXIT_USAGE;
	slot = id - 1;
	rc = open_iface(argv[optind], &p, &fp);
	if (rc)
		return rc;
	rc = EXIT_RUNTIME;
	if (flock(fp.lock_fd, LOCK_EX)) {
		ps_err("lock %s: %s", p.dir, strerror(errno));
		goto out;
	}
	if (read_ctl(&fp, &ctl))
		goto out;
	if (bpf_map_lookup_elem(fp.rules_fd, &slot, &r) || !r.active) {
		ps_err("%s has no rule %llu: see 'pktscope filter list %s'", argv[optind],
		       (unsigned long long)id, argv[optind]);
		rc = EXIT_USAGE;
		goto out;
	}
	/* Unhook first: no packet looks at the slot once its bits are clear. */
	for (d = 0; d < PS_DIR_MAX; d++)
		ctl.mask[d] &= ~(1u << slot);
	if (write_ctl(&fp, &ctl))
		goto out;
	if (bpf_map_update_elem(fp.rules_fd, &slot, &empty, BPF_ANY)) {
		ps_err("clear rule %llu: %s", (unsigned long long)id, strerror(errno));
		goto out;
	}
	out_obj_open(NULL);
	out_str("iface", "%s: ", argv[optind]);
	out_u64("id", "rule %llu deleted\n", id);
	out_obj_close();
	out_doc_end();
	rc = EXIT_OK;
out:
	ps_filter_close(&fp);
	ps_pins_close(&p);
	return rc;
}

int cmd_filter(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		ps_cmd_help("filter", "add:\n" ADD_HELP);
		return EXIT_OK;
	}
	if (!strcmp(sub, "add"))
		return filter_add(argc - 1, argv + 1);
	if (!strcmp(sub, "list") || !strcmp(sub, "ls") || !strcmp(sub, "show"))
		return filter_list(argc - 1, argv + 1);
	if (!strcmp(sub, "del") || !strcmp(sub, "delete") || !strcmp(sub, "rm"))
		return filter_del(argc - 1, argv + 1);
	ps_err("filter needs a subcommand: add, list or del (see 'pktscope filter --help')");
	return EXIT_USAGE;
}
