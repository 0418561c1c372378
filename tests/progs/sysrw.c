// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sysrw N M: opens /dev/zero and /dev/null, waits for SIGUSR1, then makes
 * exactly N read() and M write() system calls and exits.  The wait lets a
 * tracer attach first; nothing else runs between the signal and the exit
 * but the calls themselves and exit_group.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0, m = argc > 2 ? atol(argv[2]) : 0, i;
	int zero = open("/dev/zero", O_RDONLY), null = open("/dev/null", O_WRONLY);
	char buf[64] = { 0 };
	sigset_t set;
	int sig;

	if (zero < 0 || null < 0)
		goto fail;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (sigwait(&set, &sig))
		goto fail;
	/* syscall() directly: no library buffering or extra calls. */
	for (i = 0; i < n; i++)
		syscall(SYS_read, zero, buf, sizeof(buf));
	for (i = 0; i < m; i++)
		syscall(SYS_write, null, buf, sizeof(buf));
	syscall(SYS_exit_group, 0);
	return 0;
fail:
	if (zero >= 0)
		close(zero);
	if (null >= 0)
		close(null);
	return 1;
}
