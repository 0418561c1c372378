// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pktscope daemon: attach what a config file (or the command line) names,
 * then serve the pinned counters of every attachment to Prometheus.
 *
 * The whole config is parsed and checked before anything is touched, and
 * the listening socket is bound before anything is attached: a bad config
 * or a busy port leaves the system as it was.  Pins that already exist are
 * reused (a restart loses no counts) and remembered as not ours, so
 * `detach_on_exit = yes` removes only what this daemon attached.
 *
 * Attaching goes through cmd_attach()/cmd_detach() with a built argv, so
 * the daemon attaches exactly like `pktscope attach` does.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "http.h"
#include "kdrops.h"
#include "output.h"

#define MAX_IFACES	64
#define DEFAULT_FLOWS	65536

struct d_iface {
	char name[IF_NAMESIZE];
	int line;		/* of its [iface] section; 0: command line */
	const char *mode;	/* native, generic, auto */
	bool xdp, tc, rtt;
	const char *tcx;	/* yes (attach --tcx), no (--clsact), auto (neither) */
	int ifindex;
	bool ours;		/* attached by this daemon (not reused pins) */
};

struct d_cfg {
	const char *file;
	char listen[PS_HTTP_ADDR_MAX];	/* fits any spec ps_http_parse_addr accepts */
	bool tcp;
	uint64_t tcp_flows;
	bool detach_on_exit;
	double read_timeout;
	uint64_t max_conns;
	struct d_iface ifs[MAX_IFACES];
	int nifs;
	bool tcp_ours;
	bool drops;		/* the pinned kernel drop probes of this netns */
	bool drops_ours;
};

static const char global_keys[] =
	"listen, tcp, tcp_flows, drops, detach_on_exit, read_timeout, max_connections";
static const char iface_keys[] = "mode, xdp, tc, rtt, tcx";

/* ---- config ------------------------------------------------------------------ */

/* Is k one of the words of a ", "-separated list? */
static bool in_list(const char *list, const char *k)
{
	size_t n = strlen(k);
	const char *p = list;

	while ((p = strstr(p, k))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

#define CFG_ERR(ln, ...) do {						\
		char _m[512];						\
		snprintf(_m, sizeof(_m), __VA_ARGS__);			\
		ps_err("%s:%d: %s", cfg->file, ln, _m);			\
		return -1;						\
	} while (0)

static int parse_bool(struct d_cfg *cfg, int ln, const char *key, const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
		*out = false;
	else
		CFG_ERR(ln, "bad value '%s' for %s (expected yes or no)", v, key);
	return 0;
}

static int parse_num(struct d_cfg *cfg, int ln, const char *key, const char *v,
		     uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	if (*v < '0' || *v > '9')
		CFG_ERR(ln, "bad value '%s' for %s (expected a number %llu..%llu)", v, key,
			(unsigned long long)min, (unsigned long long)max);
	*out = strtoull(v, &end, 10);
	if (errno || *end || *out < min || *out > max)
		CFG_ERR(ln, "bad value '%s' for %s (expected a number %llu..%llu)", v, key,
			(unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int set_global(struct d_cfg *cfg, int ln, const char *k, const char *v)
{
	uint64_t n;

	if (!strcmp(k, "listen")) {
		struct sockaddr_storage ss;
		socklen_t len;
		const char *why;

		if (ps_http_parse_addr(v, &ss, &len, &why))
			CFG_ERR(ln, "bad value '%s' for listen: %s", v, why);
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", v);
	} else if (!strcmp(k, "tcp")) {
		return parse_bool(cfg, ln, k, v, &cfg->tcp);
	} else if (!strcmp(k, "tcp_flows")) {
		return parse_num(cfg, ln, k, v, 16, 1u << 24, &cfg->tcp_flows);
	} else if (!strcmp(k, "drops")) {
		return parse_bool(cfg, ln, k, v, &cfg->drops);
	} else if (!strcmp(k, "detach_on_exit")) {
		return parse_bool(cfg, ln, k, v, &cfg->detach_on_exit);
	} else if (!strcmp(k, "read_timeout")) {
		if (parse_num(cfg, ln, k, v, 1, 3600, &n))
			return -1;
		cfg->read_timeout = n;
	} else if (!strcmp(k, "max_connections")) {
		return parse_num(cfg, ln, k, v, 1, 4096, &cfg->max_conns);
	} else {
		if (in_list(iface_keys, k))
			CFG_ERR(ln, "'%s' belongs in an [iface NAME] section", k);
		CFG_ERR(ln, "unknown key '%s' (expected one of: %s)", k, global_keys);
	}
	return 0;
}

static int set_iface(struct d_cfg *cfg, int ln, struct d_iface *i, const char *k,
		     const char *v)
{
	if (!strcmp(k, "mode")) {
		if (strcmp(v, "native") && strcmp(v, "generic") && strcmp(v, "auto"))
			CFG_ERR(ln, "bad value '%s' for mode (expected native, generic or auto)", v);
		i->mode = !strcmp(v, "native") ? "native" : !strcmp(v, "generic") ? "generic" :
			  "auto";
	} else if (!strcmp(k, "xdp")) {
		return parse_bool(cfg, ln, k, v, &i->xdp);
	} else if (!strcmp(k, "tc")) {
		return parse_bool(cfg, ln, k, v, &i->tc);
	} else if (!strcmp(k, "rtt")) {
		return parse_bool(cfg, ln, k, v, &i->rtt);
	} else if (!strcmp(k, "tcx")) {
		if (!strcmp(v, "auto"))
			i->tcx = "auto";
		else if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
			i->tcx = "yes";
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
			i->tcx = "no";
		else
			CFG_ERR(ln, "bad value '%s' for tcx (expected yes, no or auto)", v);
	} else {
		if (in_list(global_keys, k))
			CFG_ERR(ln, "'%s' is a global key: put it before the first [iface] section",
				k);
		CFG_ERR(ln, "unknown key '%s' in [iface %s] (expected one of: %s)", k, i->name,
			iface_keys);
	}
	return 0;
}

static struct d_iface *add_iface(struct d_cfg *cfg, int ln, const char *name)
{
	struct d_iface *i;
	int j;

	if (!*name || strlen(name) >= IF_NAMESIZE || strpbrk(name, " \t/")) {
		ps_err("%s:%d: bad interface name '%s'", cfg->file, ln, name);
		return NULL;
	}
	for (j = 0; j < cfg->nifs; j++)
		if (!strcmp(cfg->ifs[j].name, name)) {
			if (ln)
				ps_err("%s:%d: interface %s is configured twice (first at line %d)",
				       cfg->file, ln, name, cfg->ifs[j].line);
			else
				ps_err("--iface %s given twice", name);
			return NULL;
		}
	if (cfg->nifs == MAX_IFACES) {
		ps_err("%s:%d: more than %d interfaces", cfg->file, ln, MAX_IFACES);
		return NULL;
	}
	i = &cfg->ifs[cfg->nifs++];
	snprintf(i->name, sizeof(i->name), "%s", name);
	i->line = ln;
	i->mode = "auto";
	i->tcx = "auto";
	i->xdp = i->tc = true;
	return i;
}

/* The config text in f (named cfg->file in messages; tests/fuzz pass memory). */
static int parse_config_stream(struct d_cfg *cfg, FILE *f)
{
	struct d_iface *cur = NULL;
	char buf[1024];
	int ln = 0;

	while (fgets(buf, sizeof(buf), f)) {
		char *s, *eq, *k, *v;

		ln++;
		if (!strchr(buf, '\n') && !feof(f)) {
			ps_err("%s:%d: line longer than %zu characters", cfg->file, ln,
			       sizeof(buf) - 2);
			return -1;
		}
		s = buf;
		s[strcspn(s, "#")] = 0;
		s = trim(s);
		if (!*s)
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');

			if (!e || e[1] || strncmp(s, "[iface", 6) || (s[6] != ' ' && s[6] != '\t')) {
				ps_err("%s:%d: bad section '%s' (expected [iface NAME])", cfg->file,
				       ln, s);
				return -1;
			}
			*e = 0;
			cur = add_iface(cfg, ln, trim(s + 6));
			if (!cur)
				return -1;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			ps_err("%s:%d: expected 'key = value' or '[iface NAME]', got '%s'",
			       cfg->file, ln, s);
			return -1;
		}
		*eq = 0;
		k = trim(s);
		v = trim(eq + 1);
		if (!*k || !*v) {
			ps_err("%s:%d: expected 'key = value'%s", cfg->file, ln,
			       *k ? ": the value is empty" : ": the key is empty");
			return -1;
		}
		if (cur ? set_iface(cfg, ln, cur, k, v) : set_global(cfg, ln, k, v))
			return -1;
	}
	if (ferror(f)) {
		ps_err("read config %s: %s", cfg->file, strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_config(struct d_cfg *cfg)
{
	FILE *f;
	int rc;

	f = fopen(cfg->file, "r");
	if (!f) {
		ps_err("open config %s: %s", cfg->file, strerror(errno));
		return -1;
	}
	rc = parse_config_stream(cfg, f);
	fclose(f);
	return rc;
}

/* Everything that can be checked without touching the system. */
static int validate(struct d_cfg *cfg)
{
	int j;

	for (j = 0; j < cfg->nifs; j++) {
		struct d_iface *i = &cfg->ifs[j];

		if (!i->xdp && !i->tc) {
			if (i->line)
				ps_err("%s:%d: [iface %s] has xdp = no and tc = no: nothing to attach",
				       cfg->file, i->line, i->name);
			else
				ps_err("--iface %s: nothing to attach", i->name);
			return -1;
		}
		if (!strcmp(i->tcx, "yes") && !i->tc) {
			ps_err("%s:%d: [iface %s]: tcx = yes says how to attach TC, tc = no not to "
			       "attach it: drop one", cfg->file, i->line, i->name);
			return -1;
		}
		if (i->rtt && !i->tc) {
			ps_err("%s:%d: [iface %s]: rtt = yes needs tc = yes (requests are timed at "
			       "TC egress)", cfg->file, i->line, i->name);
			return -1;
		}
		i->ifindex = if_nametoindex(i->name);
		if (!i->ifindex) {
			if (i->line)
				ps_err("%s:%d: no interface '%s' in this network namespace "
				       "(see 'ip link')", cfg->file, i->line, i->name);
			else
				ps_err("--iface %s: no such interface in this network namespace "
				       "(see 'ip link')", i->name);
			return -1;
		}
	}
	return 0;
}

/* ---- attach / detach ------------------------------------------------------------- */

/* Identity of an attachment: what changes when it is made anew. */
static bool read_meta(const char *dir, struct ps_meta *m)
{
	struct ps_pins p;

	if (access(dir, F_OK) || ps_pins_open(dir, &p))
		return false;
	*m = p.meta;
	ps_pins_close(&p);
	return true;
}

static int attach_iface(struct d_iface *i, uint64_t ino)
{
	char dir[PATH_MAX], name[IF_NAMESIZE], mode[16], a0[] = "attach", a2[] = "--mode",
	     nx[] = "--no-xdp", nt[] = "--no-tc", rt[] = "--rtt", tx[] = "--tcx",
	     cl[] = "--clsact";
	char *argv[8];
	struct ps_meta before, after;
	bool had;
	int argc = 0, rc;

	ps_pin_dir(ino, i->ifindex, dir, sizeof(dir));
	had = read_meta(dir, &before);
	snprintf(name, sizeof(name), "%s", i->name);
	snprintf(mode, sizeof(mode), "%s", i->mode);
	argv[argc++] = a0;
	argv[argc++] = name;
	if (i->xdp) {
		argv[argc++] = a2;
		argv[argc++] = mode;
	} else {
		argv[argc++] = nx;
	}
	if (!i->tc)
		argv[argc++] = nt;
	if (i->rtt)
		argv[argc++] = rt;
	if (i->tc && !strcmp(i->tcx, "yes"))
		argv[argc++] = tx;
	else if (i->tc && !strcmp(i->tcx, "no"))
		argv[argc++] = cl;
	argv[argc] = NULL;
	optind = 0;
	rc = cmd_attach(argc, argv);
	if (rc)
		return rc;
	if (!read_meta(dir, &after)) {
		ps_err("%s: attach reported success but %s is not readable", i->name, dir);
		return EXIT_RUNTIME;
	}
	/* Stale pins are replaced by cmd_attach: those count as ours. */
	i->ours = !had || before.attach_time != after.attach_time ||
		  before.xdp_prog_id != after.xdp_prog_id ||
		  before.tc_in_prog_id != after.tc_in_prog_id;
	if (!i->ours)
		ps_info("%s: reusing the existing attachment (%s): its counters continue",
			i->name, dir);
	return 0;
}

static void detach_ours(struct d_cfg *cfg)
{
	char a0[] = "detach", name[IF_NAMESIZE];
	char *argv[3] = { a0, name, NULL };
	int j;

	for (j = cfg->nifs - 1; j >= 0; j--) {
		if (!cfg->ifs[j].ours)
			continue;
		snprintf(name, sizeof(name), "%s", cfg->ifs[j].name);
		optind = 0;
		cmd_detach(2, argv);
		cfg->ifs[j].ours = false;
	}
	if (cfg->tcp_ours) {
		tcp_persist_detach();
		cfg->tcp_ours = false;
	}
	if (cfg->drops_ours) {
		drops_persist_detach();
		cfg->drops_ours = false;
	}
}

static int attach_all(struct d_cfg *cfg)
{
	char dir[PATH_MAX];
	uint64_t ino;
	int j, rc;

	if (ps_netns_ino(&ino))
		return EXIT_RUNTIME;
	for (j = 0; j < cfg->nifs && !ps_exiting; j++) {
		rc = attach_iface(&cfg->ifs[j], ino);
		if (rc) {
			detach_ours(cfg);
			return rc;
		}
	}
	if (cfg->tcp && !ps_exiting) {
		snprintf(dir, sizeof(dir), "%s/tcp-%llu", PS_PIN_ROOT, (unsigned long long)ino);
		if (!access(dir, F_OK)) {
			ps_info("TCP probes: reusing the existing pins (%s): their totals continue",
				dir);
		} else {
			rc = tcp_persist_attach_flows(cfg->tcp_flows);
			if (rc) {
				detach_ours(cfg);
				return rc;
			}
			cfg->tcp_ours = true;
		}
	}
	if (cfg->drops && !ps_exiting) {
		if (drops_persist_exists()) {
			ps_info("kernel drop probes: reusing the existing pins (%s%llu): their "
				"totals continue", PS_PIN_ROOT "/" PS_KDROPS_PREFIX,
				(unsigned long long)ino);
		} else {
			rc = drops_persist_attach();
			if (rc) {
				detach_ours(cfg);
				return rc;
			}
			cfg->drops_ours = true;
		}
	}
	return 0;
}

/* ---- the command ---------------------------------------------------------------- */

#define DAEMON_HELP							\
	"  -c, --config FILE       interfaces, probes and listen address (see\n" \
	"                          ctl/pktscope.conf.example); or, without a file:\n" \
	"  -I, --iface IFACE       attach and export IFACE (repeatable)\n"	\
	"  --mode MODE             XDP mode of the --iface ones: native, generic, auto\n" \
	"  --tcp                   also the pinned TCP probes of this netns\n" \
	"  --tcp-flows N           their flow table bound (default 65536)\n" \
	"  --drops                 also the pinned kernel drop probes of this netns\n" \
	"  -l, --listen ADDR:PORT  where to serve /metrics (default 127.0.0.1:9435;\n" \
	"                          overrides the config's listen)\n"	\
	"  --detach-on-exit        on SIGTERM/SIGINT, detach what this daemon attached\n" \
	"  --check                 check the config and exit\n"		\
	"Every attachment on the machine (all netns, also those made by 'pktscope\n" \
	"attach') is exported; SIGTERM/SIGINT stop the daemon cleanly.\n"

int cmd_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config",		required_argument,	NULL, 'c' },
		{ "iface",		required_argument,	NULL, 'I' },
		{ "mode",		required_argument,	NULL, 'm' },
		{ "tcp",		no_argument,		NULL, 'P' },
		{ "tcp-flows",		required_argument,	NULL, 'F' },
		{ "drops",		no_argument,		NULL, 'K' },
		{ "listen",		required_argument,	NULL, 'l' },
		{ "detach-on-exit",	no_argument,		NULL, 'D' },
		{ "check",		no_argument,		NULL, 'C' },
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static struct d_cfg cfg;
	const char *listen_arg = NULL, *mode = "auto", *why;
	struct sockaddr_storage ss;
	struct ps_http_cfg hc;
	socklen_t sslen;
	bool flags = false, check = false;
	int c, r, j, lfd, rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.file = NULL;
	snprintf(cfg.listen, sizeof(cfg.listen), "%s", PS_HTTP_DEFAULT_LISTEN);
	cfg.tcp_flows = DEFAULT_FLOWS;
	cfg.read_timeout = 10;
	cfg.max_conns = 64;

	while ((c = ps_getopt(argc, argv, "c:I:l:" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'c':
			cfg.file = optarg;
			break;
		case 'I':
			if (!add_iface(&cfg, 0, optarg))
				return EXIT_USAGE;
			flags = true;
			break;
		case 'm':
			if (strcmp(optarg, "native") && strcmp(optarg, "generic") &&
			    strcmp(optarg, "auto")) {
				ps_err("unknown XDP mode '%s': give native, generic or auto", optarg);
				return EXIT_USAGE;
			}
			mode = optarg;
			flags = true;
			break;
		case 'P':
			cfg.tcp = flags = true;
			break;
		case 'K':
			cfg.drops = flags = true;
			break;
		case 'F':
			if (parse_u64("--tcp-flows", optarg, 16, 1u << 24, &cfg.tcp_flows))
				return EXIT_USAGE;
			flags = true;
			break;
		case 'l':
			listen_arg = optarg;
			break;
		case 'D':
			cfg.detach_on_exit = flags = true;
			break;
		case 'C':
			check = true;
			break;
		default:
			r = ps_common_opt(c, optarg);
			if (r > 0) {
				ps_cmd_help("daemon", DAEMON_HELP);
				return EXIT_OK;
			}
			if (r < 0)
				return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		ps_err("daemon takes no arguments: give --config FILE or --iface IFACE (see --help)");
		return EXIT_USAGE;
	}
	if (cfg.file && flags) {
		ps_err("--config and --iface/--tcp/--drops/--mode/--tcp-flows/--detach-on-exit exclude "
		       "each other: put those in the config file");
		return EXIT_USAGE;
	}
	for (j = 0; j < cfg.nifs; j++)
		cfg.ifs[j].mode = mode;
	if (cfg.file && parse_config(&cfg))
		return EXIT_USAGE;
	if (listen_arg) {
		if (ps_http_parse_addr(listen_arg, &ss, &sslen, &why)) {
			ps_err("bad --listen '%s': %s", listen_arg, why);
			return EXIT_USAGE;
		}
		snprintf(cfg.listen, sizeof(cfg.listen), "%s", listen_arg);
	}
	if (validate(&cfg))
		return EXIT_USAGE;
	ps_http_parse_addr(cfg.listen, &ss, &sslen, &why);
	if (check) {
		ps_info("%s: OK (%d interfaces, tcp %s, listen %s)", cfg.file ? cfg.file : "flags",
			cfg.nifs, cfg.tcp ? "yes" : "no", cfg.listen);
		return EXIT_OK;
	}

	if (ps_need_root("daemon") || ps_mount_bpffs())
		return EXIT_RUNTIME;
	if ((cfg.tcp || cfg.drops) && ps_mount_tracefs())
		return EXIT_RUNTIME;
	/* The port first: a busy port must not leave attachments behind. */
	lfd = ps_http_listen(&ss, sslen, cfg.listen);
	if (lfd < 0)
		return EXIT_RUNTIME;
	ps_install_signals();
	rc = attach_all(&cfg);
	if (rc) {
		close(lfd);
		return rc;
	}
	/* Keeps bpffs alive and re-pins if it is unmounted (ctl/pins.c). */
	ps_bpffs_hold();

	hc = (struct ps_http_cfg){
		.max_conns = (int)cfg.max_conns,
		.read_timeout = cfg.read_timeout,
		.write_timeout = 10,
		.start_time = (double)time(NULL),
	};
	if (!ps_exiting) {
		ps_info("serving http://%s/metrics (%d interfaces configured, tcp %s, "
			"detach_on_exit %s)", cfg.listen, cfg.nifs, cfg.tcp ? "yes" : "no",
			cfg.detach_on_exit ? "yes" : "no");
		fflush(stdout);
		rc = ps_http_serve(lfd, &hc) ? EXIT_RUNTIME : EXIT_OK;
	}
	close(lfd);
	if (cfg.detach_on_exit)
		detach_ours(&cfg);
	ps_info("stopped");
	return rc;
}
