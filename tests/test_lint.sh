#!/usr/bin/env bash
# Static analysis of the user-space C: cppcheck and clang-tidy, zero findings.
# The check selection lives in the repo: .clang-tidy (with a reason for each
# check turned off) and the cppcheck options below (tests/lint/libbpf.cfg
# teaches cppcheck the libbpf macros).  Generated headers (vmlinux.h,
# *.skel.h in the build dir) and system headers are not project code.
#
# BPF C (*.bpf.c) is left out: clang-tidy's analyzer and bugprone checks know
# nothing of the verifier's rules (bounded loops, packet pointer checks), and
# the BPF helpers are macros around casts of integer constants to function
# pointers, so nearly every helper call is a finding.  The BPF programs are
# checked by the verifier and by BPF_PROG_TEST_RUN (tests/run.sh unit).
#
# Runtime: cppcheck ~4 s; clang-tidy ~140 s CPU over 44 files (the
# path-sensitive analyzer is most of it), run two at a time: ~70 s on an idle
# 2-CPU machine, up to ~5 min when other builds share the CPUs.
source "$(dirname "$0")/lib.sh"
cd "$REPO_DIR"

FILES=(ctl/*.c)
for f in cpu-mem-io/*.c; do
	case $f in *.bpf.c) ;; *) FILES+=("$f") ;; esac
done
FILES+=(tests/unit/*.c tests/progs/*.c)

# The compiler flags of the Makefile (CFLAGS minus -O2 -g -W*).
INC=(-std=gnu11 -D_GNU_SOURCE -I"$BUILD_DIR" -Ibpf -Ictl -Itests/unit
     $(pkg-config --cflags libbpf libxdp libelf zlib 2>/dev/null))

if ! ls "$BUILD_DIR"/*.skel.h >/dev/null 2>&1; then
	fail setup "no skeleton headers in $BUILD_DIR: run 'make BUILD=$BUILD_DIR all' first"
	suite_end
	exit
fi

# cppcheck: warning, performance and portability (style is left out: most of
# it is variableScope, i.e. "declare later", against kernel style).
# It is not given the build dir: each *.skel.h is 1-3 MB, mostly one string
# (the BPF object), and cppcheck's preprocessor takes minutes per file on
# them; skeleton types then stay unknown, which cppcheck tolerates.
# Suppressed: readdirCalled, the advice to use readdir_r, which glibc
# deprecated (2.24) because readdir is safe when a stream is used by one
# thread, as all of ours are.
out=$(cppcheck -q -j2 --inline-suppr --error-exitcode=1 \
	--enable=warning,performance,portability --std=c11 \
	--library=posix --library=gnu --library=tests/lint/libbpf.cfg \
	-D_GNU_SOURCE -Ibpf -Ictl -Itests/unit -Icpu-mem-io \
	--suppress=readdirCalled "${FILES[@]}" 2>&1)
rc=$?
if [ $rc = 0 ] && [ -z "$out" ]; then
	pass "cppcheck(${#FILES[@]}_files)"
else
	echo "$out"
	fail "cppcheck(${#FILES[@]}_files)" "$(echo "$out" | grep -c ': \(error\|warning\|portability\|performance\):') findings (above)"
fi

# clang-tidy: checks from .clang-tidy.  The analyzer follows calls into the
# generated skeletons and reports there; those lines are dropped (not ours),
# any other warning or error counts.
t0=$(date +%s)
out=$(printf '%s\n' "${FILES[@]}" | xargs -P2 -I{} \
	clang-tidy -quiet {} -- "${INC[@]}" 2>&1)
found=$(echo "$out" | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' |
	grep -v -E "^($BUILD_DIR|${BUILD_DIR#"$REPO_DIR"/})/" | sort -u)
if [ -z "$found" ]; then
	pass "clang-tidy(${#FILES[@]}_files,$(( $(date +%s) - t0 ))s)"
else
	echo "$out"
	fail "clang-tidy(${#FILES[@]}_files)" "$(echo "$found" | wc -l) findings: $(echo "$found" | head -5 | tr '\n' ' ')"
fi

suite_end
