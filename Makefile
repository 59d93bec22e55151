# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make              build sva-trace (dynamic, against Debian's libbpf-dev)
# make STATIC=1     build a static sva-trace (for the QEMU guests)
# make check        install what is missing, build, run every test layer
# make install      PREFIX=/usr/local DESTDIR=
# V=1               show the commands

OUTPUT ?= .output
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
CC ?= cc
ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h
VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

NCURSES_LIBS = $(shell $(PKG_CONFIG) $(if $(filter 1,$(STATIC)),--static) --libs ncursesw)

ifeq ($(STATIC),1)
OUT := $(OUTPUT)/static
LDSTATIC := -static
LIBS = $(shell $(PKG_CONFIG) --static --libs libbpf) -lzstd -lsodium -ljansson -lyajl_s -lcap
else
OUT := $(OUTPUT)
LDSTATIC :=
LIBS = $(shell $(PKG_CONFIG) --libs libbpf libsodium jansson yajl libcap zlib)
endif

CFLAGS ?= -g -O2
WARN := -Wall -Wextra -Wno-missing-field-initializers -Wshadow -Wformat=2
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DSVA_TRACE_VERSION='"$(VERSION)"' \
	-Iinclude -Isrc -I$(OUTPUT) $(shell $(PKG_CONFIG) --cflags libbpf)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall \
	-Iinclude -Ibpf -Ivmlinux/$(ARCH)

# Userspace split by concern; sva-trace.c is the only one with main().
LIB_SRCS := src/json_writer.c src/decode.c src/filter.c src/reorder.c src/ptrhash.c src/options.c src/kernel.c \
	src/u64map.c src/correlate.c src/report.c src/replay.c src/safefile.c src/postmortem.c src/top.c src/child.c \
	src/print.c
BPF_SRCS := src/loader.c src/session.c src/export.c src/privdrop.c src/doctor.c
LIB_OBJS = $(patsubst src/%.c,$(OUT)/%.o,$(LIB_SRCS))
BPF_USER_OBJS = $(patsubst src/%.c,$(OUT)/%.o,$(BPF_SRCS))
SKEL := $(OUTPUT)/sva_trace.skel.h

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))

.DELETE_ON_ERROR:
.SECONDARY:

.PHONY: san fuzz fuzz-long
.PHONY: all static check check-unit check-vm deps install clean demo vmlinux bench bench-host bench-vm

all: $(OUT)/sva-trace $(OUT)/sva-top

static:
	$(Q)$(MAKE) --no-print-directory STATIC=1

$(sort $(OUTPUT) $(OUT) $(OUTPUT)/tests):
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c bpf/core_fixes.bpf.h include/sva_trace.h $(VMLINUX_H) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o | $(OUTPUT)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@

$(OUT)/%.o: src/%.c $(wildcard src/*.h) include/sva_trace.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# These include the skeleton.
$(BPF_USER_OBJS) $(OUT)/sva-trace.o $(OUT)/sva-top.o: $(SKEL)

$(OUT)/sva-trace: $(OUT)/sva-trace.o $(BPF_USER_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(LDSTATIC) $^ $(LIBS) -o $@

$(OUT)/sva-top: $(OUT)/sva-top.o $(BPF_USER_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(LDSTATIC) $^ $(LIBS) $(NCURSES_LIBS) -o $@

# Unit tests: host only, no BPF needed; linked with jansson to parse our JSON back.
$(OUTPUT)/tests/%: tests/unit/%.c tests/unit/tap.h $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -Itests/unit $< $(LIB_OBJS) $(shell $(PKG_CONFIG) --libs libbpf libsodium jansson yajl) -o $@

deps:
	$(Q)./scripts/setup-deps.sh

SAN_FLAGS := -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory STATIC=1
	$(Q)$(MAKE) --no-print-directory unit-tests
	$(Q)$(MAKE) --no-print-directory san
	$(Q)$(MAKE) --no-print-directory fuzz
	$(Q)./tests/run-tests.sh

# The host layers again under ASan, UBSan and LeakSanitizer.
san:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/san CFLAGS="$(SAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" all unit-tests

check-unit: deps
	$(Q)$(MAKE) --no-print-directory all unit-tests
	$(Q)./tests/run-tests.sh unit

unit-tests: $(UNIT_TESTS)

demo: deps
	$(Q)$(MAKE) --no-print-directory STATIC=1
	$(Q)./tests/vm/demo.sh

vmlinux:
	$(Q)./vmlinux/gen-vmlinux.sh

# libFuzzer targets (clang): tests/fuzz/fuzz_*.c against the library sources.
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_SRCS := $(filter-out src/kernel.c,$(LIB_SRCS))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS) $(wildcard src/*.h) | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc $< $(FUZZ_SRCS) \
		$(shell $(PKG_CONFIG) --libs libsodium jansson yajl) -o $@

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

fuzz: $(FUZZ_TARGETS)

# A long run: make fuzz-long FUZZ_SECONDS=3600
fuzz-long: fuzz
	$(Q)FUZZ_SECONDS=$${FUZZ_SECONDS:-3600} ./tests/fuzz/test_fuzz.sh

# Benchmarks print their figures; they are not pass/fail tests.
$(OUTPUT)/bench/%: tests/bench/%.c tests/bench/mix.h $(LIB_OBJS) | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(LIB_OBJS) $(shell $(PKG_CONFIG) --libs libbpf libsodium jansson yajl) -o $@

$(OUTPUT)/bench:
	$(Q)mkdir -p $@

BENCH_TOOLS := $(OUT)/sva-trace $(OUTPUT)/bench/bench_correlate $(OUTPUT)/bench/gen_capture $(OUTPUT)/bench/measure

# Every benchmark (lab-VM overhead against bpftrace, host throughput/memory/instructions);
# writes docs/PERFORMANCE.md from what they print. LINES= sizes the long replay.
bench: deps
	$(Q)$(MAKE) --no-print-directory STATIC=1
	$(Q)$(MAKE) --no-print-directory $(BENCH_TOOLS)
	$(Q)./tests/bench/bench.sh $(LINES)

# The lab-VM overhead benchmark alone (about 4 min of TCG); VMBENCH_ARGS= e.g. --rounds 3.
bench-vm: deps
	$(Q)./tests/bench/vm-bench.sh $(VMBENCH_ARGS)

# The host part alone.
bench-host: $(BENCH_TOOLS)
	$(Q)./tests/bench/host-bench.sh $(LINES)

install: $(OUT)/sva-trace $(OUT)/sva-top $(OUT)/sva-top
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8
	$(Q)install -m 0755 $(OUT)/sva-trace $(DESTDIR)$(PREFIX)/sbin/sva-trace
	$(Q)install -m 0755 $(OUT)/sva-top $(DESTDIR)$(PREFIX)/sbin/sva-top
	$(Q)install -m 0644 docs/man/sva-trace.8 $(DESTDIR)$(PREFIX)/share/man/man8/sva-trace.8
	$(Q)install -m 0644 docs/man/sva-top.8 $(DESTDIR)$(PREFIX)/share/man/man8/sva-top.8

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
