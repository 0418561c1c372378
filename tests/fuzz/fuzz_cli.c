// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Command-line values: the typed parsers of ctl/common.c (integer, port,
 * seconds, CIDR, PID, interface), the daemon's --listen ADDRESS:PORT and the
 * whole `filter add` option set.  The first byte picks the parser, the rest
 * is the value (for filter add: argv words separated by NUL or newline).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>

#include "ctl.h"
#include "http.h"
#include "output.h"
#include "rules.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

/* s as a plain decimal ([1-9][0-9]* or 0) that fits 64 bits: 1 and *v. */
static int plain_decimal(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	const char *p;

	if (!*s || (s[0] == '0' && s[1]))
		return 0;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9' || x > (UINT64_MAX - (*p - '0')) / 10)
			return 0;
		x = x * 10 + (*p - '0');
	}
	*v = x;
	return 1;
}

static void check_u64(const char *s, uint8_t sel)
{
	/* Bounds the commands use: any, ports, --every, rule ids, PIDs. */
	static const uint64_t bounds[][2] = {
		{ 0, UINT64_MAX }, { 0, 65535 }, { 1, UINT32_MAX }, { 1, 16 }, { 1, INT_MAX },
		{ 16, 1u << 24 },
	};
	const uint64_t *b = bounds[sel % (sizeof(bounds) / sizeof(bounds[0]))];
	uint64_t v = 0, ref;
	int rc = parse_u64("value", s, b[0], b[1], &v);

	if (!rc)
		FUZZ_CHECK(v >= b[0] && v <= b[1], "'%s' gave %llu outside %llu..%llu", s,
			   (unsigned long long)v, (unsigned long long)b[0],
			   (unsigned long long)b[1]);
	/* A plain decimal is accepted exactly when it is in range, as its value. */
	if (plain_decimal(s, &ref)) {
		FUZZ_CHECK(!rc == (ref >= b[0] && ref <= b[1]), "'%s' rc %d for bounds %llu..%llu",
			   s, rc, (unsigned long long)b[0], (unsigned long long)b[1]);
		FUZZ_CHECK(rc || v == ref, "'%s' gave %llu", s, (unsigned long long)v);
	}
}

static void check_port(const char *s)
{
	uint16_t port = 0;
	uint64_t ref;
	int rc = parse_port("port", s, &port);

	if (plain_decimal(s, &ref)) {
		FUZZ_CHECK(!rc == (ref <= 65535), "port '%s' rc %d", s, rc);
		FUZZ_CHECK(rc || port == ref, "port '%s' gave %u", s, port);
	}
}

static void check_seconds(const char *s)
{
	double v = -1;

	if (!parse_seconds("interval", s, 0.001, 3600, &v))
		FUZZ_CHECK(v >= 0.001 && v <= 3600, "'%s' gave %g", s, v);
}

static int family_max(int family)
{
	return family == AF_INET ? 32 : 128;
}

static void check_cidr(const char *s)
{
	struct ps_cidr c, again;
	char a[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 8];
	size_t i;

	if (parse_cidr(s, &c))
		return;
	FUZZ_CHECK(c.family == AF_INET || c.family == AF_INET6, "'%s' family %u", s, c.family);
	FUZZ_CHECK(c.prefix <= family_max(c.family), "'%s' prefix %u", s, c.prefix);
	if (!strchr(s, '/'))
		FUZZ_CHECK(c.prefix == family_max(c.family), "'%s' without / has prefix %u", s,
			   c.prefix);
	if (c.family == AF_INET)
		for (i = 4; i < 16; i++)
			FUZZ_CHECK(!c.addr[i], "'%s': IPv4 with byte %zu set", s, i);
	/* What was accepted, printed the usual way, reads back the same. */
	FUZZ_CHECK(inet_ntop(c.family, c.addr, a, sizeof(a)), "'%s' does not print", s);
	snprintf(text, sizeof(text), "%s/%u", a, c.prefix);
	FUZZ_CHECK(!parse_cidr(text, &again) && !memcmp(&c, &again, sizeof(c)),
		   "'%s' printed as '%s' reads back differently", s, text);
}

static void check_pid(const char *s)
{
	uint64_t ref;
	int pid = 0;

	if (parse_pid(s, &pid))
		return;
	FUZZ_CHECK(pid >= 1, "'%s' gave pid %d", s, pid);
	if (plain_decimal(s, &ref))
		FUZZ_CHECK((uint64_t)pid == ref, "'%s' gave pid %d", s, pid);
}

static void check_ifindex(const char *s)
{
	int idx = 0;

	if (parse_ifindex(s, &idx))
		return;
	FUZZ_CHECK(idx > 0 && strlen(s) < IF_NAMESIZE, "'%s' gave ifindex %d", s, idx);
}

static void check_listen(const char *s)
{
	struct sockaddr_storage ss, again;
	socklen_t len, len2;
	const char *why = NULL;
	char a[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 16];
	uint16_t port;

	if (ps_http_parse_addr(s, &ss, &len, &why)) {
		FUZZ_CHECK(why && *why, "'%s' refused without a reason", s);
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		FUZZ_CHECK(len == sizeof(*in), "'%s' length %u", s, len);
		port = ntohs(in->sin_port);
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(text, sizeof(text), "%s:%u", a, port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		FUZZ_CHECK(ss.ss_family == AF_INET6, "'%s' family %u", s, ss.ss_family);
		FUZZ_CHECK(len == sizeof(*in6), "'%s' length %u", s, len);
		port = ntohs(in6->sin6_port);
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(text, sizeof(text), "[%s]:%u", a, port);
	}
	FUZZ_CHECK(port >= 1, "'%s' gave port 0", s);
	FUZZ_CHECK(!ps_http_parse_addr(text, &again, &len2, &why) && len2 == len &&
		   !memcmp(&ss, &again, len), "'%s' printed as '%s' reads back differently", s,
		   text);
}

/* Host bits clear, IPv4 in the first 4 bytes only. */
static void check_net(const __u8 net[16], __u8 prefix, int family)
{
	int i, max = family == 4 ? 32 : 128;

	FUZZ_CHECK(family == 4 || family == 6, "rule family %d", family);
	FUZZ_CHECK(prefix <= max, "prefix %u for family %d", prefix, family);
	for (i = prefix; i < 128; i++)
		FUZZ_CHECK(!(net[i / 8] & (0x80 >> (i % 8))), "host bit %d set (prefix %u)", i,
			   prefix);
}

static void check_filter_add(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[34], *p, *end;
	char add[] = "add";
	struct ps_rule r;
	int argc = 0, rc;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = add;
	for (p = buf, end = buf + size; p < end && argc < 33; p++) {
		char *w = p;

		while (p < end && *p && *p != '\n')
			p++;
		*p = '\0';
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	optind = 0;	/* glibc: a full re-initialisation of getopt */
	memset(&r, 0xa5, sizeof(r));
	rc = ps_filter_parse_add(argc, argv, &r);
	if (rc == 0) {
		FUZZ_CHECK(optind == argc - 1, "accepted with optind %d of %d", optind, argc);
		FUZZ_CHECK(r.active == 1, "active %u", r.active);
		FUZZ_CHECK(r.dirs && !(r.dirs & ~(PS_RULE_INGRESS | PS_RULE_EGRESS)), "dirs %#x",
			   r.dirs);
		FUZZ_CHECK(!(r.match & ~(PS_RM_PROTO | PS_RM_SPORT | PS_RM_DPORT | PS_RM_SRC |
					PS_RM_DST)), "match %#x", r.match);
		if (r.match & PS_RM_SRC)
			check_net(r.src, r.src_prefix, r.family);
		if (r.match & PS_RM_DST)
			check_net(r.dst, r.dst_prefix, r.family);
		if (!(r.match & (PS_RM_SRC | PS_RM_DST)))
			FUZZ_CHECK(r.family == 0, "family %u without an address", r.family);
		switch (r.mode) {
		case PS_RULE_ALL:
			FUZZ_CHECK(!r.every && !r.thresh && !r.rate_ppm, "mode all with parameters");
			break;
		case PS_RULE_EVERY:
			FUZZ_CHECK(r.every >= 1 && !r.thresh, "every %u thresh %llu", r.every,
				   (unsigned long long)r.thresh);
			break;
		case PS_RULE_RATE:
			/*
			 * What the BPF side does (prandom_u32 < thresh) and what
			 * `filter list` shows (rate_ppm) must both be a rate above 0.
			 */
			FUZZ_CHECK(r.thresh >= 1 && r.thresh <= (1ull << 32), "thresh %llu",
				   (unsigned long long)r.thresh);
			FUZZ_CHECK(r.rate_ppm >= 1 && r.rate_ppm <= 1000000, "rate_ppm %u",
				   r.rate_ppm);
			FUZZ_CHECK(fabs(r.thresh / 4294967296.0 - r.rate_ppm / 1e6) <= 0.5e-6 + 1e-9,
				   "thresh %llu and rate_ppm %u disagree",
				   (unsigned long long)r.thresh, r.rate_ppm);
			FUZZ_CHECK(!r.every, "rate with every %u", r.every);
			break;
		default:
			FUZZ_CHECK(0, "mode %u", r.mode);
		}
	}
	/* -j / -v / --help change process state: back to defaults. */
	memset(&g, 0, sizeof(g));
	out_init(false);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel;
	char *s;

	if (size < 2)
		return 0;
	sel = data[0];
	if (sel % 8 == 7) {
		check_filter_add(data + 1, size - 1);
		return 0;
	}
	s = fuzz_str(data + 2, size - 2);
	switch (sel % 8) {
	case 0:
		check_u64(s, data[1]);
		break;
	case 1:
		check_port(s);
		break;
	case 2:
		check_seconds(s);
		break;
	case 3:
		check_cidr(s);
		break;
	case 4:
		check_pid(s);
		break;
	case 5:
		check_ifindex(s);
		break;
	case 6:
		check_listen(s);
		break;
	}
	free(s);
	return 0;
}
