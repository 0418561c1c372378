// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's config file (ctl/daemon.c, included here to reach its static
 * parser and struct d_cfg).  The input is read through fmemopen, so the
 * parser sees it exactly as it sees a file: fgets, line lengths, NULs and a
 * last line without a newline included.
 */
#include "daemon.c"

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static bool is_mode(const char *m)
{
	return m && (!strcmp(m, "native") || !strcmp(m, "generic") || !strcmp(m, "auto"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct d_cfg cfg;
	struct sockaddr_storage ss, given;
	socklen_t len, glen;
	const char *why;
	char *buf;
	FILE *f;
	int j, k, rc;

	/* The same defaults as cmd_daemon. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.file = "fuzz.conf";
	snprintf(cfg.listen, sizeof(cfg.listen), "%s", PS_HTTP_DEFAULT_LISTEN);
	cfg.tcp_flows = DEFAULT_FLOWS;
	cfg.read_timeout = 10;
	cfg.max_conns = 64;

	/* fmemopen wants at least one byte: an empty file is an empty buffer read to its end. */
	buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	f = fmemopen(buf, size ? size : 1, "r");
	if (!f)
		abort();
	if (!size)
		fgetc(f);
	rc = parse_config_stream(&cfg, f);
	fclose(f);
	if (rc)
		goto out;

	FUZZ_CHECK(cfg.nifs >= 0 && cfg.nifs <= MAX_IFACES, "%d interfaces", cfg.nifs);
	for (j = 0; j < cfg.nifs; j++) {
		const struct d_iface *i = &cfg.ifs[j];

		FUZZ_CHECK(i->name[0] && strlen(i->name) < IF_NAMESIZE && !strpbrk(i->name, " \t/"),
			   "interface name '%s'", i->name);
		FUZZ_CHECK(i->line >= 1, "[iface %s] at line %d", i->name, i->line);
		FUZZ_CHECK(is_mode(i->mode), "[iface %s] mode '%s'", i->name, i->mode);
		for (k = 0; k < j; k++)
			FUZZ_CHECK(strcmp(cfg.ifs[k].name, i->name), "interface %s twice", i->name);
	}
	FUZZ_CHECK(cfg.tcp_flows >= 16 && cfg.tcp_flows <= (1u << 24), "tcp_flows %llu",
		   (unsigned long long)cfg.tcp_flows);
	FUZZ_CHECK(cfg.read_timeout >= 1 && cfg.read_timeout <= 3600, "read_timeout %g",
		   cfg.read_timeout);
	FUZZ_CHECK(cfg.max_conns >= 1 && cfg.max_conns <= 4096, "max_connections %llu",
		   (unsigned long long)cfg.max_conns);
	/*
	 * cmd_daemon parses the stored listen text again to bind: it must be
	 * the address the config gave, not a cut or changed one.
	 */
	FUZZ_CHECK(!ps_http_parse_addr(cfg.listen, &ss, &len, &why), "listen '%s' does not parse",
		   cfg.listen);
	{
		/* The last listen line of the input is the one in effect. */
		const char *p = NULL, *q;
		char val[1100];

		for (q = buf; q < buf + size; q++) {
			const char *l = q;

			while (l < buf + size && (*l == ' ' || *l == '\t'))
				l++;
			if ((size_t)(buf + size - l) > 6 && !strncmp(l, "listen", 6))
				p = l;
			q = memchr(q, '\n', buf + size - q);
			if (!q)
				break;
		}
		if (p) {
			size_t n = 0;

			p = memchr(p, '=', buf + size - p) + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			while (p + n < buf + size && n < sizeof(val) - 1 && p[n] != '\n' &&
			       p[n] != '#' && p[n] != '\r')
				n++;
			while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			memcpy(val, p, n);
			val[n] = '\0';
			if (!ps_http_parse_addr(val, &given, &glen, &why))
				FUZZ_CHECK(glen == len && !memcmp(&given, &ss, len),
					   "listen '%s' stored as '%s'", val, cfg.listen);
		}
	}
out:
	free(buf);
	return 0;
}
