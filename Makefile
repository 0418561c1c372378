# pktscope: the one build.
#
#   make          build build/pktscope (and the test programs)
#   make deps     install the Debian packages the build and the tests need
#   make test     deps + build + every test, ending with "N passed, N failed"
#   make demo     deps + build + a netns bench with live output
#   make bench    side-by-side measurements (ratios, not pass/fail)
#   make fuzz     long differential parser run against tshark (FRAMES=, SEED=),
#                 then every libFuzzer target for FUZZ_SECS (default 60) seconds
#   make soak     10 minutes of iperf3 and connection churn with every network
#                 probe attached: RSS flat, maps bounded, counters exact (SOAK_SECS=)
#
# V=1 shows full commands.  VMLINUX_H=path uses a prepared vmlinux.h instead of
# generating one from the running kernel's BTF.

# SANITIZE=1 (clang, ASan+UBSan) builds into its own directory so that its
# objects never mix with the normal build.
ifeq ($(SANITIZE),1)
BUILD		?= build-san
endif
BUILD		?= build
CLANG		?= clang
CC		?= cc
BPFTOOL		?= bpftool
VMLINUX_BTF	?= /sys/kernel/btf/vmlinux
VMLINUX_H	?= $(BUILD)/vmlinux.h

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# Objects and skeletons are intermediate files: keep them.
.SECONDARY:
.SUFFIXES:

# Sources.  Every foo.bpf.c becomes build/foo.bpf.o and build/foo.skel.h;
# base names are unique across directories.
BPF_DIRS	:= xdp tc bpf cpu-mem-io tests/bpf
BPF_SRCS	:= $(foreach d,$(BPF_DIRS),$(wildcard $(d)/*.bpf.c))
BPF_OBJS	:= $(addprefix $(BUILD)/,$(notdir $(BPF_SRCS:.bpf.c=.bpf.o)))
SKELS		:= $(BPF_OBJS:.bpf.o=.skel.h)
vpath %.bpf.c $(BPF_DIRS)

CTL_SRCS	:= $(wildcard ctl/*.c) $(filter-out %.bpf.c,$(wildcard cpu-mem-io/*.c))
CTL_OBJS	:= $(patsubst %.c,$(BUILD)/obj/%.o,$(CTL_SRCS))

# Unit tests (C, BPF_PROG_TEST_RUN) and test programs with known behaviour.
TEST_SRCS	:= $(wildcard tests/unit/*.c)
TEST_BINS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
PROG_SRCS	:= $(wildcard tests/progs/*.c)
PROG_BINS	:= $(patsubst tests/progs/%.c,$(BUILD)/tests/progs/%,$(PROG_SRCS))

# libFuzzer targets (tests/fuzz/fuzz_NAME.c): the parsers of outside input,
# linked with objects built a second time with the fuzzer's instrumentation.
# fuzz_config includes ctl/daemon.c and fuzz_procmaps/fuzz_elf include
# cpu-mem-io/syms.c (to reach their static parsers), so those objects are
# left out of their links.
FUZZ_SRCS	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS	:= $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_OBJS	:= $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(filter-out ctl/main.c,$(CTL_SRCS)))
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LINK_config	= $(filter-out %/ctl/daemon.o,$(FUZZ_OBJS))
FUZZ_LINK_cli		= $(FUZZ_OBJS)
FUZZ_LINK_http		= $(FUZZ_OBJS)
FUZZ_LINK_procmaps	=
FUZZ_LINK_elf		=
FUZZ_ELF_SEEDS	:= $(addprefix $(BUILD)/fuzz/seed-elf/,prog prog32 lib.so)

PKGS		:= libbpf libxdp libelf zlib
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lxdp -lbpf -lelf -lz)

ARCH		:= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS	:= -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		   -I$(dir $(VMLINUX_H)) -Ibpf
CFLAGS		?= -O2 -g
CFLAGS		+= -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
		   -I$(BUILD) -Ibpf -Ictl $(PKG_CFLAGS)
LDLIBS		+= $(PKG_LIBS) -lm

ifeq ($(SANITIZE),1)
CC		:= clang
CFLAGS		+= -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS		+= -fsanitize=address,undefined
endif

.PHONY: all clean deps test demo bench fuzz fuzz-bins soak
all: $(BUILD)/pktscope $(TEST_BINS) $(PROG_BINS)

$(BUILD) $(BUILD)/obj $(BUILD)/tests $(BUILD)/tests/progs:
	$(Q)mkdir -p $@

ifeq ($(VMLINUX_H),$(BUILD)/vmlinux.h)
$(BUILD)/vmlinux.h: | $(BUILD)
	@test -r $(VMLINUX_BTF) || { echo "error: no kernel BTF at $(VMLINUX_BTF); build a kernel with CONFIG_DEBUG_INFO_BTF=y or pass VMLINUX_H=path/to/vmlinux.h" >&2; exit 1; }
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@
endif

$(BUILD)/%.bpf.o: %.bpf.c $(VMLINUX_H) | $(BUILD)
	$(call msg,CC-BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@ 2> $@.log || { cat $@.log >&2; exit 1; }

# Every user-space object may include any skeleton; -MMD then records which.
$(BUILD)/obj/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/pktscope: $(CTL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(filter-out $(BUILD)/obj/ctl/main.o,$(CTL_OBJS)) | $(SKELS) $(BUILD)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -MMD -MP $(LDFLAGS) $< -o $@ $(LDLIBS)

# Test programs: frame pointers and symbols so stacks and names are exact.
$(BUILD)/tests/progs/%: tests/progs/%.c | $(BUILD)/tests/progs
	$(call msg,CC-PROG,$@)
	$(Q)$(CC) -O1 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-inline -Wall -o $@ $< -lpthread

# The libFuzzer targets (clang, ASan+UBSan; tests/test_fuzz.sh runs them).
fuzz-bins: $(FUZZ_BINS) $(FUZZ_ELF_SEEDS)

# fuzz_elf's seeds are built, not committed: a small executable (64- and
# 32-bit) and a shared object, without libc so each is a few KB.
FUZZ_SEED_FLAGS	:= -Os -nostdlib -fno-asynchronous-unwind-tables -Wl,--build-id=none
$(BUILD)/fuzz/seed-elf/prog: tests/fuzz/elf_seed.c
	$(call msg,CC-SEED,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(FUZZ_SEED_FLAGS) -static -Wl,-N -Wl,--no-warn-rwx-segments -o $@ $<
$(BUILD)/fuzz/seed-elf/prog32: $(BUILD)/fuzz/seed-elf/prog
	$(call msg,OBJCOPY,$@)
	$(Q)objcopy -O elf32-i386 $< $@
$(BUILD)/fuzz/seed-elf/lib.so: tests/fuzz/elf_seed.c
	$(call msg,CC-SEED,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(FUZZ_SEED_FLAGS) -shared -fPIC -Wl,-z,max-page-size=16 \
		-Wl,-z,noseparate-code -Wl,-z,norelro -o $@ $<

$(BUILD)/fuzz/obj/%.o: %.c | $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(CFLAGS) -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) | $(SKELS)
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) $(CFLAGS) -O1 -Icpu-mem-io $(FUZZ_SAN) -fsanitize=fuzzer -MMD -MP $< \
		$(FUZZ_LINK_$*) -o $@ $(LDLIBS)

-include $(wildcard $(BUILD)/*.d $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d \
		$(BUILD)/fuzz/*.d $(BUILD)/fuzz/obj/*/*.d)

# Debian packages: build, then tests and benches.  Installed only when missing.
DEPS_BUILD	:= clang llvm make pkg-config libbpf-dev libxdp-dev libelf-dev \
		   zlib1g-dev bpftool libclang-rt-14-dev
DEPS_TEST	:= iproute2 xdp-tools nftables iputils-ping iperf3 tcpdump \
		   tshark jq python3 python3-scapy procps util-linux libxml2-utils \
		   linux-libc-dev e2fsprogs prometheus curl chromium python3-pil \
		   tcpreplay bind9-dnsutils ethtool valgrind cppcheck clang-tidy
DEPS_BENCH	:= bpftrace libbpf-tools
DEPS		:= $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_BENCH)

deps:
	@missing=""; for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
			{ echo "error: apt-get install$$missing failed; run 'make deps' as root with the Debian archive reachable" >&2; exit 1; }; \
	fi

test: deps
	$(Q)$(MAKE) --no-print-directory all fuzz-bins
ifeq ($(SANITIZE),1)
	@# Reports go to files (tests parse stderr); any report fails the run.
	$(Q)rm -rf $(BUILD)/test-logs/sanitizer; mkdir -p $(BUILD)/test-logs/sanitizer
	$(Q)ASAN_OPTIONS=log_path=$(abspath $(BUILD))/test-logs/sanitizer/asan \
	UBSAN_OPTIONS=print_stacktrace=1:log_path=$(abspath $(BUILD))/test-logs/sanitizer/ubsan \
	BUILD_DIR=$(abspath $(BUILD)) tests/run.sh $(TESTS); rc=$$?; \
	n=$$(ls $(BUILD)/test-logs/sanitizer | wc -l); \
	echo "sanitizer reports: $$n (in $(BUILD)/test-logs/sanitizer/)"; \
	[ $$rc = 0 ] && [ $$n = 0 ]
else
	$(Q)BUILD_DIR=$(abspath $(BUILD)) tests/run.sh $(TESTS)
endif

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)netns-scripts/demo.sh

# The long form of the differential parser test (tests/test_diffparse.sh):
# FRAMES=50000 by default, SEED=N replays a run.
# Then every libFuzzer target for FUZZ_SECS seconds (tests/test_fuzz.sh).
fuzz: deps
	$(Q)$(MAKE) --no-print-directory all fuzz-bins
	$(Q)FRAMES=$(or $(FRAMES),50000) $(if $(SEED),SEED=$(SEED)) SUITE_TIMEOUT=1800 \
		BUILD_DIR=$(abspath $(BUILD)) tests/run.sh diffparse
	$(Q)FUZZ_SECS=$(or $(FUZZ_SECS),60) SUITE_TIMEOUT=3600 \
		BUILD_DIR=$(abspath $(BUILD)) tests/run.sh test_fuzz

# The long form of tests/test_soak.sh (make test runs it for 45 s).
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SOAK_SECS=$(or $(SOAK_SECS),600) SUITE_TIMEOUT=$$(( $(or $(SOAK_SECS),600) + 300 )) \
		BUILD_DIR=$(abspath $(BUILD)) tests/run.sh soak

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench/run.sh

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)
