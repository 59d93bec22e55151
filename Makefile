# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make              build sva-trace (dynamic, against Debian's libbpf-dev)
# make STATIC=1     build a static sva-trace (for the QEMU guests)
# make ARCH=arm64   cross-build static arm64 sva-trace and sva-top (into .output/arm64/static)
# make check        install what is missing, build, run every test layer
# make check-full   make check, then the arm64 lab kernel's tests (tests/vm-full)
# make install      PREFIX=/usr/local DESTDIR=
# V=1               show the commands

CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
CC ?= cc
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)
VMLINUX_H := vmlinux/$(ARCH)/vmlinux.h

# A cross build (ARCH=arm64 on x86) uses Debian's cross compiler and the arm64 libraries that
# dpkg multiarch installs beside the host's (scripts/setup-deps.sh): the compiler finds their
# headers and libraries in the multiarch directories, pkg-config is pointed at their .pc files.
# It is always static (the QEMU guests have no libraries) and has its own output tree: the BPF
# object differs by architecture (vmlinux/arm64, the kprobe argument registers).
ifneq ($(ARCH),$(HOST_ARCH))
CROSS_TRIPLET := $(if $(filter arm64,$(ARCH)),aarch64-linux-gnu,$(if $(filter x86,$(ARCH)),x86_64-linux-gnu,))
ifeq ($(CROSS_TRIPLET),)
$(error ARCH=$(ARCH): unknown architecture; use x86 or arm64)
endif
CROSS_COMPILE ?= $(CROSS_TRIPLET)-
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(CROSS_TRIPLET)/pkgconfig:/usr/share/pkgconfig pkg-config
override STATIC := 1
OUTPUT ?= .output/$(ARCH)
ifeq ($(filter clean deps,$(MAKECMDGOALS)),)
ifeq ($(shell command -v $(CC)),)
$(error $(CC) not found: run scripts/setup-deps.sh (as root) to install the $(ARCH) cross compiler and libraries)
endif
ifneq ($(shell $(PKG_CONFIG) --exists libbpf libsodium yajl libcap ncursesw && echo ok),ok)
$(error the $(ARCH) libraries are missing (libbpf-dev:$(subst x86,amd64,$(ARCH)) and others): run scripts/setup-deps.sh (as root))
endif
endif
endif
OUTPUT ?= .output
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

# The metrics endpoint (src/metrics_serve.c) uses libmicrohttpd, whose Debian build needs
# GnuTLS; Debian ships no static p11-kit or libunistring for GnuTLS, so the static build has
# no HTTP endpoint (--metrics says so; --metrics-file works everywhere).
ifeq ($(STATIC),1)
OUT := $(OUTPUT)/static
LDSTATIC := -static
LIBS = $(shell $(PKG_CONFIG) --static --libs libbpf) -lzstd -lsodium -lyajl_s -lcap
HTTP_CFLAGS := -DSVA_METRICS_NO_HTTP
HTTP_LIBS := -lpthread
else
OUT := $(OUTPUT)
LDSTATIC :=
LIBS = $(shell $(PKG_CONFIG) --libs libbpf libsodium yajl libcap zlib)
HTTP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmicrohttpd)
HTTP_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd) -lpthread
endif

CFLAGS ?= -g -O2
WARN := -Wall -Wextra -Wno-missing-field-initializers -Wshadow -Wformat=2
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DSVA_TRACE_VERSION='"$(VERSION)"' \
	-Iinclude -Isrc -I$(OUTPUT) $(shell $(PKG_CONFIG) --cflags libbpf)
# Every compile writes its header dependencies next to its output (.NAME.d, included below), so
# a changed header rebuilds exactly what includes it; -MP keeps a deleted header from breaking
# make. Hidden, so that globs of the outputs (run-tests.sh: .output/tests/test_*) skip them.
DEPFLAGS = -MMD -MP -MF $(@D)/.$(@F).d -MT $@
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall \
	-Iinclude -Ibpf -Ivmlinux/$(ARCH)

# Userspace split by concern; sva-trace.c and sva-top.c are the only ones with main().
LIB_SRCS := src/json_writer.c src/cause.c src/decode.c src/filter.c src/reorder.c src/ptrhash.c src/options.c src/kernel.c \
	src/u64map.c src/slab.c src/objmap.c src/pidmap.c src/correlate.c src/report.c src/replay.c src/safefile.c src/postmortem.c src/top.c src/child.c \
	src/print.c src/metrics.c src/state.c
BPF_SRCS := src/loader.c src/corebtf.c src/session.c src/export.c src/privdrop.c src/doctor.c src/run.c
LIB_OBJS = $(patsubst src/%.c,$(OUT)/%.o,$(LIB_SRCS))
BPF_USER_OBJS = $(patsubst src/%.c,$(OUT)/%.o,$(BPF_SRCS))
SKEL := $(OUTPUT)/sva_trace.skel.h $(OUTPUT)/sva_state.skel.h

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))

.DELETE_ON_ERROR:
.SECONDARY:

.PHONY: all static check check-full check-unit unit-tests headers deps install clean demo vmlinux
.PHONY: san fuzz fuzz-long bench bench-host bench-vm

all: $(OUT)/sva-trace $(OUT)/sva-top

static:
	$(Q)$(MAKE) --no-print-directory STATIC=1

$(sort $(OUTPUT) $(OUT) $(OUTPUT)/tests):
	$(Q)mkdir -p $@

# -g makes the BTF that CO-RE and the skeleton need, and DWARF that nothing at run time reads:
# strip the DWARF (llvm-strip -g keeps .BTF and .BTF.ext) before the object is embedded in the
# skeleton, so sva-trace carries about a tenth of the bytes.
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(VMLINUX_H) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o | $(OUTPUT)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@

$(OUT)/%.o: src/%.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

# Every header compiles on its own (includes what it uses): one stamp per header, checked with
# the warnings of the build made errors; unit-tests depends on them, so check-unit runs them.
HEADERS := $(wildcard src/*.h include/*.h)
HEADER_STAMPS := $(patsubst %.h,$(OUTPUT)/headers/%.ok,$(HEADERS))

$(OUTPUT)/headers/%.ok: %.h
	$(call msg,HDR,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Werror -Wno-unused-function $(DEPFLAGS) -fsyntax-only -x c $<
	$(Q)touch $@

headers: $(HEADER_STAMPS)

# These include the skeleton: generate it before their first compile (later, their .d says so).
$(BPF_USER_OBJS) $(OUT)/sva-trace.o $(OUT)/sva-top.o: $(SKEL)

$(OUT)/metrics_serve.o: src/metrics_serve.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(HTTP_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUT)/sva-trace: $(OUT)/sva-trace.o $(OUT)/metrics_serve.o $(BPF_USER_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(LDSTATIC) $^ $(LIBS) $(HTTP_LIBS) -o $@

# sva-top has its own front end: no run.o (sva-trace's, which serves metrics).
$(OUT)/sva-top: $(OUT)/sva-top.o $(filter-out $(OUT)/run.o,$(BPF_USER_OBJS)) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(LDSTATIC) $^ $(LIBS) $(NCURSES_LIBS) -o $@

# The empty-program floor for the lab-VM benchmark (tests/bench/vm-bench.sh), static with
# STATIC=1 like sva-trace: sva-trace's loader plans, bpf/sva_floor.bpf.c's empty programs attach.
$(OUT)/sva-floor: tests/bench/sva_floor.c $(OUTPUT)/sva_floor.skel.h \
		$(filter-out $(OUT)/run.o,$(BPF_USER_OBJS)) $(LIB_OBJS) | $(OUT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) $(LDSTATIC) $(filter %.c %.o,$^) $(LIBS) -o $@

# Unit tests: host only, no BPF needed; linked with yajl to parse our JSON back.
$(OUTPUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -Itests/unit $< $(LIB_OBJS) $(shell $(PKG_CONFIG) --libs libbpf libsodium yajl) -o $@

deps:
	$(Q)./scripts/setup-deps.sh

# Unit tests run each case under an alarm (tests/unit/tap.h, 30 s); the sanitized build allows
# 60 s: its slowest case, test_correlate's three-thread interleavings, takes about 2 s here.
SAN_FLAGS := -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
	-DTAP_TIMEOUT_S=60

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory STATIC=1
	$(Q)$(MAKE) --no-print-directory ARCH=arm64
	$(Q)$(MAKE) --no-print-directory unit-tests
	$(Q)$(MAKE) --no-print-directory san
	$(Q)$(MAKE) --no-print-directory fuzz
	$(Q)./tests/run-tests.sh

# make check plus what does not fit in its time (README.md, "CI time"): the arm64 lab kernel
# (a cold build is estimated at 20 to 25 minutes on 2 idle cores) and its guests under
# qemu-system-aarch64.
check-full: check
	$(Q)./tests/run-tests.sh vm-full

# The host layers again under ASan, UBSan and LeakSanitizer.
san:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/san CFLAGS="$(SAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" all unit-tests

check-unit: deps
	$(Q)$(MAKE) --no-print-directory all unit-tests
	$(Q)./tests/run-tests.sh unit

unit-tests: $(UNIT_TESTS) headers

demo: deps
	$(Q)$(MAKE) --no-print-directory STATIC=1
	$(Q)./tests/vm/demo.sh

vmlinux:
	$(Q)./vmlinux/gen-vmlinux.sh

# libFuzzer targets (clang): tests/fuzz/fuzz_*.c against the library sources, which are
# compiled once into $(OUTPUT)/fuzz/obj with coverage but without libFuzzer's main().
FUZZ_SAN := -g -O1 -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc
FUZZ_OBJS := $(patsubst src/%.c,$(OUTPUT)/fuzz/obj/%.o,$(filter-out src/kernel.c,$(LIB_SRCS)))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(OUTPUT)/fuzz/obj/%.o: src/%.c | $(OUTPUT)/fuzz/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_SAN) -fsanitize=fuzzer-no-link,address,undefined $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS) | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_SAN) -fsanitize=fuzzer,address,undefined $(DEPFLAGS) $< $(FUZZ_OBJS) \
		$(shell $(PKG_CONFIG) --libs libsodium yajl) -o $@

$(OUTPUT)/fuzz $(OUTPUT)/fuzz/obj:
	$(Q)mkdir -p $@

fuzz: $(FUZZ_TARGETS)

# A long run: make fuzz-long FUZZ_SECONDS=3600
fuzz-long: fuzz
	$(Q)FUZZ_SECONDS=$${FUZZ_SECONDS:-3600} ./tests/fuzz/test_fuzz.sh

# Benchmarks print their figures; they are not pass/fail tests.
$(OUTPUT)/bench/%: tests/bench/%.c $(LIB_OBJS) | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) $< $(LIB_OBJS) $(shell $(PKG_CONFIG) --libs libbpf libsodium yajl) -o $@

$(OUTPUT)/bench:
	$(Q)mkdir -p $@

BENCH_TOOLS := $(OUT)/sva-trace $(OUTPUT)/bench/bench_correlate $(OUTPUT)/bench/bench_reader $(OUTPUT)/bench/gen_capture $(OUTPUT)/bench/measure

# Every benchmark (lab-VM overhead against bpftrace, host throughput/memory/instructions);
# writes docs/PERFORMANCE.md from what they print. LINES= sizes the long replay.
bench: deps
	$(Q)$(MAKE) --no-print-directory STATIC=1
	$(Q)$(MAKE) --no-print-directory $(BENCH_TOOLS)
	$(Q)VMBENCH_ARGS="$(VMBENCH_ARGS)" ./tests/bench/bench.sh $(LINES)

# The lab-VM overhead benchmark alone (about 4 min of TCG); VMBENCH_ARGS= e.g. --rounds 3.
bench-vm: deps
	$(Q)./tests/bench/vm-bench.sh $(VMBENCH_ARGS)

# The host part alone.
bench-host: $(BENCH_TOOLS)
	$(Q)./tests/bench/host-bench.sh $(LINES)

install: $(OUT)/sva-trace $(OUT)/sva-top
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8
	$(Q)install -m 0755 $(OUT)/sva-trace $(DESTDIR)$(PREFIX)/sbin/sva-trace
	$(Q)install -m 0755 $(OUT)/sva-top $(DESTDIR)$(PREFIX)/sbin/sva-top
	$(Q)install -m 0644 docs/man/sva-trace.8 $(DESTDIR)$(PREFIX)/share/man/man8/sva-trace.8
	$(Q)install -m 0644 docs/man/sva-top.8 $(DESTDIR)$(PREFIX)/share/man/man8/sva-top.8

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

# The header dependencies the compiles wrote (none before the first build).
-include $(wildcard $(addsuffix /.*.d,$(OUTPUT) $(OUT) $(OUTPUT)/tests $(OUTPUT)/bench \
	$(OUTPUT)/fuzz $(OUTPUT)/fuzz/obj $(sort $(dir $(HEADER_STAMPS)))))
