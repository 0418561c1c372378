// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* pktscope: entry point, global options, command dispatch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "output.h"

static void usage(FILE *f)
{
	const struct ps_cmd *c;

	fprintf(f, "usage: pktscope [-j] [-v] [--netns NAME] COMMAND [ARGS]\n\ncommands:\n");
	for (c = ps_cmds; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->help);
	fprintf(f, "\n'pktscope COMMAND --help' shows a command's arguments and options.\n"
		   "Exit codes: 0 success, 1 runtime error (kernel, permission, IO), "
		   "2 usage error (bad command, option, value or interface).\n");
}

static const struct ps_cmd *find_cmd(const char *name)
{
	const struct ps_cmd *c, *hit = NULL;
	size_t len = strlen(name);
	int n = 0;

	for (c = ps_cmds; c->name; c++) {
		if (!strcmp(c->name, name))
			return c;
		if (!strncmp(c->name, name, len)) {
			hit = c;
			n++;
		}
	}
	if (n == 1)
		return hit;
	if (n > 1) {
		ps_err("command '%s' is ambiguous: it starts %d commands; see 'pktscope --help'", name, n);
		return NULL;
	}
	ps_err("unknown command '%s': see 'pktscope --help'", name);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		PS_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const struct ps_cmd *cmd;
	int c, r;

	out_init(false);
	ps_libbpf_quiet();
	/* "+": stop at the command name; its own options are its business. */
	while ((c = ps_getopt(argc, argv, "+" PS_COMMON_SHORTOPTS, opts)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case PS_OPT_NETNS:
			g.netns = optarg;
			break;
		default:
			if (ps_common_opt(c, optarg))
				return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		ps_err("no command given: see 'pktscope --help'");
		return EXIT_USAGE;
	}
	cmd = find_cmd(argv[optind]);
	if (!cmd)
		return EXIT_USAGE;
	/* An abbreviation stands for the whole name from here on. */
	g.cmd = cmd->name;
	argv[optind] = (char *)cmd->name;
	if (g.netns) {
		/* A missing privilege is a runtime error, not a bad netns name. */
		if (ps_need_root("--netns"))
			return EXIT_RUNTIME;
		r = ps_enter_netns(g.netns);
		if (r)
			return r > 0 ? EXIT_USAGE : EXIT_RUNTIME;
	}

	/* The command sees argv[0] = its name, as getopt expects. */
	argc -= optind;
	argv += optind;
	optind = 0;
	return cmd->fn(argc, argv);
}
