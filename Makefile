# pktscope: the one build.
#
#   make          build build/pktscope (and the test programs)
#   make deps     install the Debian packages the build and the tests need
#   make test     deps + build + every test, ending with "N passed, N failed"
#   make demo     deps + build + a netns bench with live output
#   make bench    side-by-side measurements (ratios, not pass/fail)
#   make fuzz     long differential parser run against tshark (FRAMES=, SEED=)
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

.PHONY: all clean deps test demo bench fuzz
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

-include $(wildcard $(BUILD)/*.d $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d)

# Debian packages: build, then tests and benches.  Installed only when missing.
DEPS_BUILD	:= clang llvm make pkg-config libbpf-dev libxdp-dev libelf-dev \
		   zlib1g-dev bpftool
DEPS_TEST	:= iproute2 xdp-tools nftables iputils-ping iperf3 tcpdump \
		   tshark jq python3 python3-scapy procps util-linux libxml2-utils \
		   linux-libc-dev e2fsprogs prometheus curl chromium python3-pil
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
	$(Q)$(MAKE) --no-print-directory all
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
fuzz: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)FRAMES=$(or $(FRAMES),50000) $(if $(SEED),SEED=$(SEED)) SUITE_TIMEOUT=1800 \
		tests/run.sh diffparse

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench/run.sh

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)
