/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c, run by
 * tests/test_fuzz.sh).  Each target checks invariants of what a parser
 * accepted, not only that it did not crash: a broken invariant prints what
 * and aborts, which libFuzzer reports as a crash with the input saved.
 */
#ifndef PKTSCOPE_FUZZ_H
#define PKTSCOPE_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The real stderr: the parsers' own error lines go to /dev/null instead. */
static FILE *fuzz_err;

#define FUZZ_CHECK(cond, ...) do {					\
		if (!(cond)) {						\
			fprintf(fuzz_err, "invariant broken at %s:%d: %s: ",	\
				__FILE__, __LINE__, #cond);		\
			fprintf(fuzz_err, __VA_ARGS__);			\
			fputc('\n', fuzz_err);				\
			fflush(fuzz_err);				\
			abort();					\
		}							\
	} while (0)

/*
 * Every bad input makes a parser print one line: thousands a second would
 * make the terminal, not the parser, what is measured.  Only the stdio
 * streams are swapped, not fds 1 and 2, so libFuzzer's and the sanitizers'
 * reports still arrive.  FUZZ_VERBOSE=1 keeps the messages (for replays).
 */
static inline void fuzz_quiet(void)
{
	FILE *null;

	fuzz_err = stderr;
	if (getenv("FUZZ_VERBOSE"))
		return;
	null = fopen("/dev/null", "w");
	if (!null)
		return;
	stderr = null;
	stdout = null;
}

/* data as a C string (a command-line value ends at its first NUL anyway). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif /* PKTSCOPE_FUZZ_H */
