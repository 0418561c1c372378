// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcx_hold OBJECT PROGRAM IFNAME: attach PROGRAM of the BPF object file to
 * the TCX ingress and egress hooks of IFNAME (in the caller's network
 * namespace), print "attached ..." and hold the two links until SIGTERM or
 * SIGINT.  It prints the program's id (bench_throughput.sh reads its run
 * statistics by that id).  The links go with the process: nothing is left
 * behind.
 *
 * For bench_throughput.sh's tcx-empty setup: empty programs attached the
 * way pktscope attaches by default (TCX links), the floor under its TC cost.
 * bpftool of this distribution cannot make TCX links, and tc(8) makes
 * classic filters only.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define TCX_INGRESS	46	/* BPF_TCX_INGRESS, BPF_TCX_EGRESS (Linux 6.6) */
#define TCX_EGRESS	47

static volatile sig_atomic_t stop;

static unsigned int prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	const int type[2] = { TCX_INGRESS, TCX_EGRESS };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, old;
	struct bpf_object *obj;
	struct bpf_program *prog;
	unsigned int ifindex;
	int i, fd[2] = { -1, -1 }, rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: tcx_hold OBJECT PROGRAM IFNAME\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[3]);
	if (!ifindex) {
		fprintf(stderr, "tcx_hold: no interface %s here\n", argv[3]);
		return 2;
	}
	libbpf_set_print(NULL);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "tcx_hold: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, argv[2]);
	if (!prog) {
		fprintf(stderr, "tcx_hold: no program %s in %s\n", argv[2], argv[1]);
		goto out;
	}
	/* Only the one program: the object may hold others of other types. */
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, false);
	prog = bpf_object__find_program_by_name(obj, argv[2]);
	bpf_program__set_autoload(prog, true);
	bpf_program__set_type(prog, BPF_PROG_TYPE_SCHED_CLS);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "tcx_hold: cannot load %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	for (i = 0; i < 2; i++) {
		fd[i] = bpf_link_create(bpf_program__fd(prog), ifindex, type[i], NULL);
		if (fd[i] < 0) {
			fprintf(stderr, "tcx_hold: cannot attach %s to %s %s: %s\n", argv[2],
				argv[3], i ? "egress" : "ingress", strerror(errno));
			goto out;
		}
	}
	/* Signals blocked except inside sigsuspend: none is lost in between. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("attached %s, program id %u\n", argv[2], prog_id(bpf_program__fd(prog)));
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
	rc = 0;
out:
	for (i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	bpf_object__close(obj);
	return rc;
}
