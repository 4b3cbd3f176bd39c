# tracestub: plain GNU make, read top to bottom.
#   make          build build/tracestub (installs missing Debian packages first)
#   make check    format check, unit tests (ASan+UBSan), e2e tests with real gdb/lldb, short fuzz
#   make demo     trace the bundled demo program
#   make bench    per-hit cost beside gdbserver and a minimal ptrace floor
#   make fuzz     each fuzz target for FUZZ_SECONDS (default 60)

CC       ?= gcc
CLANG    ?= clang
B        := build
CPPFLAGS := -I. -I/usr/include/libdwarf -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wvla -Wformat=2
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -fno-strict-aliasing
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS   := -lelf -ldwarf -lZydis -liberty -lz -lcurl -lpthread
PREFIX   ?= /usr/local
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 4
export GOCACHE  := $(abspath $(B))/gocache
export GOPATH   := $(abspath $(B))/gopath
export GOFLAGS  := -mod=mod
export GO111MODULE := off

# ---- sources, by layer (new files are picked up by the wildcards) ----
PROTO_SRC := $(wildcard protocol/*.c)
ARCH_SRC  := $(wildcard arch/x86_64/*.c)
STUB_SRC  := $(filter-out stub/cmd/main.c stub/agent/rt.c,$(wildcard stub/*/*.c))
LIB_SRC   := $(PROTO_SRC) $(ARCH_SRC) $(STUB_SRC) $(B)/agent/blob.c
HEADERS   := $(wildcard protocol/*.h arch/x86_64/*.h stub/*/*.h)

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN  := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FIX_SRC   := $(filter-out tests/fixtures/lib%.c,$(wildcard tests/fixtures/*.c))
FIX_BIN   := $(patsubst tests/fixtures/%.c,$(B)/fixtures/%,$(FIX_SRC))
FIX_LIBS  := $(patsubst tests/fixtures/%.c,$(B)/fixtures/%.so,$(wildcard tests/fixtures/lib*.c))
GO_DIRS   := $(wildcard tests/fixtures/go/*)
GO_BIN    := $(patsubst tests/fixtures/go/%,$(B)/fixtures/go_%,$(GO_DIRS))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all deps check unit e2e fuzz fuzz-check fixtures format format-check demo bench \
        install clean gdb-testsuite
all: $(B)/tracestub

$(B)/.deps: scripts/deps.sh
	@mkdir -p $(B)
	@bash scripts/deps.sh
	@touch $@
deps: $(B)/.deps

# ---- the tool ----
$(B)/obj/%.o: %.c $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(B)/libtracestub.a: $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRC))
	@rm -f $@
	ar rcs $@ $^
$(B)/tracestub: $(B)/obj/stub/cmd/main.o $(B)/libtracestub.a
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# ---- the in-process agent: freestanding, position-independent, general registers only (the
# pads save no vector state), copied into traced processes as bytes (build/agent/blob.c) ----
AGENT_CFLAGS := -std=gnu11 $(WARN) -O2 -fPIE -ffreestanding -fno-builtin -nostdlib \
                -fno-stack-protector -fno-asynchronous-unwind-tables -fno-jump-tables \
                -mgeneral-regs-only -mno-red-zone -fcf-protection=none -fvisibility=hidden
$(B)/agent/rt.o: stub/agent/rt.c stub/agent/ring.h $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) -I. $(AGENT_CFLAGS) -c $< -o $@
# No relocation may need the load address: only rip-relative ones are allowed.
$(B)/agent/rt.bin: $(B)/agent/rt.o stub/agent/rt.ld
	@if readelf -rW $< | awk 'NR>3 && $$3 ~ /R_X86_64/ && $$3 !~ /R_X86_64_(PC32|PLT32)$$/' | grep .; then \
	  echo "stub/agent/rt.c: relocations other than rip-relative"; exit 1; fi
	ld --no-warn-rwx-segments -T stub/agent/rt.ld -o $(B)/agent/rt.elf $<
	objcopy -O binary -j .blob $(B)/agent/rt.elf $@
$(B)/agent/blob.c: $(B)/agent/rt.bin
	{ echo '#include "stub/agent/agent.h"'; echo 'const unsigned char agent_blob[] = {'; \
	  od -An -v -tu1 $< | sed 's/\([0-9][0-9]*\)/\1,/g'; echo '};'; \
	  echo 'const size_t agent_blob_len = sizeof(agent_blob);'; } > $@

# ---- unit tests: every module under ASan + UBSan ----
$(B)/san/%.o: %.c $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=gnu11 $(WARN) $(SANFLAGS) -MMD -MP -c $< -o $@
$(B)/libtracestub-san.a: $(patsubst %.c,$(B)/san/%.o,$(LIB_SRC))
	@rm -f $@
	ar rcs $@ $^
$(B)/unit/%: $(B)/san/tests/unit/%.o $(B)/libtracestub-san.a
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $^ -o $@ $(LDLIBS)

# ---- test programs: PIE, -O0, debug info, like a user's build ----
FIX_CFLAGS := -g -O0 -fPIE -pie -pthread -Wall -Wno-unused -Wno-unused-result
$(B)/fixtures/%.so: tests/fixtures/%.c
	@mkdir -p $(dir $@)
	$(CC) -g -O0 -fPIC -shared $< -o $@
$(B)/fixtures/%: tests/fixtures/%.c $(FIX_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(FIX_CFLAGS) $< -o $@ -ldl -lm
$(B)/fixtures/go_%: tests/fixtures/go/%/*.go $(B)/.deps
	@mkdir -p $(dir $@)
	cd tests/fixtures/go/$* && go build -o $(abspath $@) .
# go_args as shipped binaries often are: no .symtab, no DWARF (functions from .gopclntab)
$(B)/fixtures/go_args_stripped: tests/fixtures/go/args/*.go $(B)/.deps
	@mkdir -p $(dir $@)
	cd tests/fixtures/go/args && go build -ldflags='-s -w' -o $(abspath $@) .
# dw_args with a .debug_rnglists unit that crashes libdwarf 20210528 (found by fuzz_dwarf)
$(B)/fixtures/dw_args_badrng: $(B)/fixtures/dw_args tests/fixtures/data/rnglists-doublefree.bin
	objcopy --add-section .debug_rnglists=tests/fixtures/data/rnglists-doublefree.bin $< $@
# lnk and its library linked by each linker Debian has (lld starts segments mid-page)
LINKERS   := bfd gold lld
LNK_BIN   := $(patsubst %,$(B)/fixtures/lnk_%,$(LINKERS)) $(B)/fixtures/lnk_lld_nopie \
             $(patsubst %,$(B)/fixtures/liblnk_%.so,$(LINKERS))
$(B)/fixtures/liblnk_%.so: tests/fixtures/linkers/liblnk.c $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) -g -O0 -fPIC -shared -fuse-ld=$* $< -o $@
$(B)/fixtures/lnk_lld_nopie: tests/fixtures/linkers/lnk.c $(B)/fixtures/liblnk_lld.so
	$(CC) -g -O0 -no-pie -fuse-ld=lld $< -o $@ -L$(B)/fixtures -llnk_lld -Wl,-rpath,'$$ORIGIN'
$(B)/fixtures/lnk_%: tests/fixtures/linkers/lnk.c $(B)/fixtures/liblnk_%.so
	$(CC) $(FIX_CFLAGS) -fuse-ld=$* $< -o $@ -L$(B)/fixtures -llnk_$* -Wl,-rpath,'$$ORIGIN'
# C++ and Rust programs as their toolchains build them (debug info, no optimisation); rustc
# from PATH, else rustup's, else Debian's (scripts/deps.sh installs it when none is there)
RUSTC = $(shell command -v rustc 2>/dev/null || ls $$HOME/.cargo/bin/rustc 2>/dev/null || echo rustc)
$(B)/fixtures/cxx_shop: tests/fixtures/cxx/shop.cpp $(B)/.deps
	@mkdir -p $(dir $@)
	$(CXX) -g -O0 -fPIE -pie $< -o $@
$(B)/fixtures/rust_m: tests/fixtures/rust/m.rs $(B)/.deps
	@mkdir -p $(dir $@)
	$(RUSTC) -g -C opt-level=0 --crate-name m $< -o $@
# sorter with its DWARF in a separate file named by .gnu_debuglink (as distributions ship it)
$(B)/fixtures/sorter_split: $(B)/fixtures/sorter
	objcopy --only-keep-debug $< $@.debug
	objcopy --strip-debug --strip-unneeded --add-gnu-debuglink=$@.debug $< $@
# and once more stripped, its DWARF under a debug root by build-id (as /usr/lib/debug holds it)
$(B)/fixtures/sorter_bid: $(B)/fixtures/sorter
	objcopy --strip-debug --strip-unneeded $< $@
	id=$$(readelf -n $< | sed -n 's/.*Build ID: //p'); \
	  d=$(B)/fixtures/debugroot/.build-id/$$(echo $$id | cut -c1-2); mkdir -p $$d && \
	  objcopy --only-keep-debug $< $$d/$$(echo $$id | cut -c3-).debug
# The official OpenTelemetry protobuf schema (generated code) the OTLP tests decode with
OTLP_NPM := $(B)/npm/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js
$(OTLP_NPM):
	mkdir -p $(B)/npm
	npm install --prefix $(B)/npm --no-audit --no-fund --silent @opentelemetry/otlp-transformer@0.52.1

fixtures: $(FIX_BIN) $(FIX_LIBS) $(GO_BIN) $(B)/fixtures/dw_args_badrng $(B)/fixtures/sorter_split \
	$(B)/fixtures/sorter_bid $(OTLP_NPM) \
	$(B)/fixtures/go_args_stripped $(LNK_BIN) $(B)/fixtures/cxx_shop $(B)/fixtures/rust_m

# ---- fuzz targets: clang + libFuzzer, the library built with clang's instrumentation ----
FUZZFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
$(B)/fz/%.o: %.c $(B)/.deps
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -std=gnu11 $(FUZZFLAGS) -MMD -MP -c $< -o $@
$(B)/libtracestub-fz.a: $(patsubst %.c,$(B)/fz/%.o,$(LIB_SRC))
	@rm -f $@
	ar rcs $@ $^
$(B)/fuzz/%: $(B)/fz/tests/fuzz/%.o $(B)/libtracestub-fz.a
	@mkdir -p $(dir $@)
	$(CLANG) -fsanitize=fuzzer,address,undefined $^ -o $@ $(LDLIBS)
fuzz-check: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	  scripts/fuzz.sh $$f tests/fuzz/corpus/$${n#fuzz_} $(FUZZ_CHECK_SECONDS) || exit 1; done
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); \
	  scripts/fuzz.sh $$f tests/fuzz/corpus/$${n#fuzz_} $(FUZZ_SECONDS) || exit 1; done

# ---- checks ----
FORMAT_SRC := $(filter-out $(B)/%,$(LIB_SRC)) stub/agent/rt.c stub/cmd/main.c $(HEADERS) \
              $(UNIT_SRC) $(FUZZ_SRC)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC)
format:
	clang-format -i $(FORMAT_SRC)
unit: $(UNIT_BIN)
	prove --exec '' $(UNIT_BIN)
e2e: $(B)/tracestub fixtures
	prove --exec '' $(sort $(wildcard tests/e2e/*.t))
check: format-check $(B)/tracestub $(UNIT_BIN) fixtures $(FUZZ_BIN)
	prove --exec '' $(UNIT_BIN) $(sort $(wildcard tests/e2e/*.t))
	@$(MAKE) --no-print-directory fuzz-check

# ---- GDB's own testsuite (not in check: ~16 minutes): make gdb-testsuite SRC=DIR ----
gdb-testsuite: $(B)/tracestub
	@[ -n "$(SRC)" ] || { echo "usage: make gdb-testsuite SRC=DIR  (DIR holds gdb/testsuite: README)" >&2; exit 2; }
	@command -v runtest >/dev/null || apt-get install -y -qq dejagnu >/dev/null
	SRC=$(SRC) STUB=$(abspath $(B)/tracestub) BASELINE=$(abspath tests/gdb-testsuite/gdbserver-13.tsv) \
	  scripts/gdb-testsuite.sh

# ---- user-facing ----
demo: $(B)/tracestub fixtures
	@scripts/demo.sh
bench: $(B)/tracestub fixtures $(BENCH_BIN)
	@scripts/bench.sh
$(B)/bench/workload: bench/workload.c $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) -O0 -g -no-pie -pthread $< -o $@
$(B)/bench/probebench: bench/probebench.c $(B)/libtracestub.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(B)/libtracestub.a -o $@ $(LDLIBS)
$(B)/bench/%: bench/%.c $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 $(WARN) $(CPPFLAGS) $< -o $@ -lpthread
install: $(B)/tracestub
	install -D -m 0755 $(B)/tracestub $(DESTDIR)$(PREFIX)/bin/tracestub
	install -D -m 0644 man/tracestub.1 $(DESTDIR)$(PREFIX)/share/man/man1/tracestub.1
clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
