# nnlink build.  `make` leaves the CLI at build/nnlink and the library beside
# it.  `make test` builds and runs every test; `make SAN=1 test` does it under
# AddressSanitizer + UBSan in build-san/.
CC      ?= cc
ARCH    := $(shell uname -m)
# ---- ARM64 cross build (TARGET=aarch64; README "ARM64") -------------------
# `make TARGET=aarch64` builds with Debian's aarch64-linux-gnu-gcc into
# build-aarch64/; `make TARGET=aarch64 test` runs the suites under qemu-user
# (NNL_RUNNER prefixes every test binary and the CLI).  The CLI and the
# conformance runner are linked statically (NNL_STATIC), so the one binary
# runs on any ARM64 Linux with no libjansson: copy it to the device as is.
# The cmocka tests link libcmocka dynamically (Debian ships no libcmocka.a)
# and run on the multiarch libc6:arm64, loader included: qemu-aarch64 without
# -L.  (With -L /usr/aarch64-linux-gnu the cross sysroot's loader would pick
# up libc6:arm64's libc.so.6, another build of glibc, and the first
# pthread_create spins forever.)  The static CLI runs either way.
ifeq ($(TARGET),aarch64)
CC         := aarch64-linux-gnu-gcc
ARCH       := aarch64
BUILD      ?= build-aarch64
NNL_STATIC := -static
export NNL_RUNNER ?= qemu-aarch64
export NNL_ISAS ?= neon scalar
export NNL_TARGET := aarch64
export NNL_EMULATED := 1
# plain `make TARGET=aarch64` builds the tests too (they are run elsewhere)
.DEFAULT_GOAL := cross-all
endif
ifeq ($(SAN),1)
BUILD   ?= build-san
OPT     ?= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
else
BUILD   ?= build
OPT     ?= -O2
LDSAN   :=
endif
# -fno-trapping-math/-fno-math-errno: no FP exceptions or errno are observed,
# and without them GCC keeps sqrt a call and leaves select-style loops scalar.
CFLAGS  += -std=c11 -g $(OPT) -fno-trapping-math -fno-math-errno -Wall -Wextra -Werror -fPIC -D_GNU_SOURCE -Iinclude -Isrc -pthread
LDLIBS  += -ljansson -lm -pthread
# Per-ISA kernel files are named *_avx2.c / *_avx512.c; they guard their body
# with #if defined(__x86_64__) so they compile to nothing elsewhere.
ifeq ($(ARCH),x86_64)
ISA_AVX2   := -mavx2 -mfma -mf16c
ISA_AVX512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c
endif

LIB_SRC := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*'))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TESTS   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

all: $(BUILD)/nnlink $(BUILD)/libnnlink.so

$(BUILD)/obj/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_AVX2) -MMD -MP -c $< -o $@
$(BUILD)/obj/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ISA_AVX512) -MMD -MP -c $< -o $@
# NEON: ASIMD is baseline ARMv8-A, so no -m flag; contraction lets the
# generic vector kernels (generic_set.h) use FMLA as the hand-written ones do.
$(BUILD)/obj/%_neon.o: %_neon.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -ffp-contract=fast -MMD -MP -c $< -o $@
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libnnlink.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(BUILD)/libnnlink.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libnnlink.so.$(SOMAJOR) $(LDSAN) -o $@ $^ $(LDLIBS)
$(BUILD)/nnlink: $(CLI_OBJ) $(BUILD)/libnnlink.a
	$(CC) $(LDSAN) $(NNL_STATIC) -o $@ $^ -ljansson $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libnnlink.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libnnlink.a $(LDSAN) -lcmocka -ljansson $(LDLIBS)
# the tests' shared headers and generated reference tables
$(TESTS): $(wildcard tests/*.h tests/refs/*.inc)

$(BUILD)/conformance: tests/conformance.c $(BUILD)/libnnlink.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libnnlink.a $(LDSAN) $(NNL_STATIC) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libnnlink.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libnnlink.a $(LDSAN) $(LDLIBS)

# Kernel classes against the machine's ceilings (bench/bench_kernels.c, its
# pieces bench/kb_*.c; kb_ceil_<set>.c get the set's -m flags from the rules
# above, and contraction so their a * b + c is the set's FMA).
KB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(sort $(wildcard bench/kb_*.c)))
$(BUILD)/obj/bench/kb_ceil_%.o: CFLAGS += -ffp-contract=fast
$(BUILD)/bench/bench_kernels: bench/bench_kernels.c $(KB_OBJ) $(BUILD)/libnnlink.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDSAN) $(LDLIBS)
bench: $(BUILD)/bench/bench_kernels

# the shared library is for tests/python (the Python package loads it)
tests: $(TESTS) $(BUILD)/nnlink $(BUILD)/conformance $(BUILD)/libnnlink.so

# Unit tests (cmocka), then end-to-end tests against PyTorch fixtures, CLI
# error tests and the ONNX conformance runner.
test: deps
	$(MAKE) tests
	tests/run_all.sh $(BUILD)
	$(if $(filter aarch64,$(TARGET)),$(MAKE) cross-test)

# The mission on the small committed network: compile twice, link, info,
# profile and run, checked against PyTorch.
demo: deps
	$(MAKE) $(BUILD)/nnlink
	tools/demo.sh

# Debian packages the build and tests need (installs only what is missing).
deps:
	@tools/deps.sh

clean:
	rm -rf build build-san build-tsan build-fuzz build-aarch64

.PHONY: all tests test demo deps clean bench
-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(KB_OBJ:.o=.d)

# ---- fuzzing and sanitizer-only targets (docs/FUZZING.md) ----------------
# `make fuzz-build` builds the libFuzzer harnesses of tests/fuzz/ with clang,
# ASan and UBSan into build-fuzz/fuzz/; `make fuzz-smoke` runs each for
# FUZZ_SECONDS on its committed corpus plus the regression inputs of
# tests/fuzz/crashes/.  `make tsan-test` builds tests/test_concurrency.c
# under ThreadSanitizer in build-tsan/ and runs it.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
# CI passes e.g. FUZZ_FLAGS="-seed=1 -runs=200000": a fixed seed makes the
# bounded run replayable, so a red CI names an input anyone can reproduce.
FUZZ_FLAGS   ?=
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES   := nnl onnx npy
FUZZ_BINS     = $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)

fuzz-build:
	$(MAKE) CC=$(FUZZ_CC) BUILD=$(FUZZ_BUILD) LDSAN="$(FUZZ_SAN)" \
	    OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN)" fuzz-bins

# Invoked by fuzz-build with the fuzzing CC/BUILD/OPT; not meant directly.
fuzz-bins: $(FUZZ_BINS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(BUILD)/libnnlink.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(BUILD)/libnnlink.a $(LDSAN) $(LDLIBS)

# Each harness: committed seeds + crash regressions, bounded time, no new
# corpus files written into the tree (the scratch corpus is in FUZZ_BUILD).
fuzz-smoke: fuzz-build
	@failed=; for n in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$n tests/fuzz/crashes/$$n; \
	    echo "== fuzz_$$n for $(FUZZ_SECONDS) s"; \
	    ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
	    $(FUZZ_BUILD)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=30 $(FUZZ_FLAGS) \
	        -rss_limit_mb=4096 -malloc_limit_mb=4096 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_BUILD)/fuzz_$$n- \
	        $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n tests/fuzz/crashes/$$n \
	        || failed="$$failed fuzz_$$n"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz-smoke failed:$$failed (inputs in $(FUZZ_BUILD)/)"; exit 1; fi

# CI: every committed seed and crash reproducer, each executed once under
# ASan + UBSan (-runs=0: no mutation), so the result is the same on every
# machine.  Exploration (fuzz-smoke, long runs) is nondeterministic in
# what it reaches, so it belongs to developers; what it finds is committed
# to tests/fuzz/crashes (and its corpus merged into tests/fuzz/corpus).
fuzz-replay: fuzz-build
	@failed=; for n in $(FUZZ_NAMES); do \
	    echo "== fuzz_$$n: replay of tests/fuzz/corpus/$$n and tests/fuzz/crashes/$$n"; \
	    mkdir -p tests/fuzz/crashes/$$n; \
	    ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
	    $(FUZZ_BUILD)/fuzz/fuzz_$$n -runs=0 -timeout=30 -rss_limit_mb=4096 -malloc_limit_mb=4096 \
	        -artifact_prefix=$(FUZZ_BUILD)/fuzz_$$n- tests/fuzz/corpus/$$n tests/fuzz/crashes/$$n \
	        > $(FUZZ_BUILD)/replay_$$n.log 2>&1 || { cat $(FUZZ_BUILD)/replay_$$n.log; failed="$$failed fuzz_$$n"; }; \
	    grep -E "INITED|DONE" $(FUZZ_BUILD)/replay_$$n.log; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz-replay failed:$$failed (inputs in $(FUZZ_BUILD)/)"; exit 1; fi

tsan-test:
	$(MAKE) BUILD=build-tsan LDSAN=-fsanitize=thread \
	    OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=thread" build-tsan/tests/test_concurrency
	TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/test_concurrency

.PHONY: fuzz-build fuzz-bins fuzz-smoke fuzz-replay tsan-test

# ---- install: CLI, header, libraries, pkg-config, Python package -----------
# `make install [PREFIX=/usr/local] [DESTDIR=staging]`.  The shared library
# is libnnlink.so.$(VERSION) with soname libnnlink.so.$(SOMAJOR) (the major
# version of NNL_VERSION_STRING in include/nnlink.h: it changes when the ABI
# does).  The Python package goes where Debian's /usr/bin/python3 looks:
# /usr/lib/python3/dist-packages for PREFIX=/usr, else
# $(PREFIX)/lib/python3.X/dist-packages (for /usr/local that is on sys.path).
# Its _install.py records LIBDIR so `import nnlink` finds this library even
# in a prefix the dynamic loader does not search.
VERSION    := $(shell sed -n 's/^#define NNL_VERSION_STRING "\(.*\)"/\1/p' include/nnlink.h)
SOMAJOR    := $(firstword $(subst ., ,$(VERSION)))
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR     ?= $(PREFIX)/lib
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
PYTHON     ?= /usr/bin/python3
PYTHONDIR  ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/$(shell $(PYTHON) -c 'import sys; print("python%d.%d" % sys.version_info[:2])')/dist-packages)
PY_SRC     := $(sort $(filter-out python/nnlink/_install.py,$(wildcard python/nnlink/*.py)))

install: $(BUILD)/nnlink $(BUILD)/libnnlink.so $(BUILD)/libnnlink.a
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(PYTHONDIR)/nnlink
	install -m 755 $(BUILD)/nnlink $(DESTDIR)$(BINDIR)/nnlink
	install -m 644 include/nnlink.h $(DESTDIR)$(INCLUDEDIR)/nnlink.h
	install -m 644 $(BUILD)/libnnlink.a $(DESTDIR)$(LIBDIR)/libnnlink.a
	install -m 755 $(BUILD)/libnnlink.so $(DESTDIR)$(LIBDIR)/libnnlink.so.$(VERSION)
	ln -sf libnnlink.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnnlink.so.$(SOMAJOR)
	ln -sf libnnlink.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libnnlink.so
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
	    nnlink.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/nnlink.pc
	install -m 644 $(PY_SRC) $(DESTDIR)$(PYTHONDIR)/nnlink/
	printf '# written by make install\nLIBDIR = %s\nSOMAJOR = %s\n' "'$(LIBDIR)'" $(SOMAJOR) > $(DESTDIR)$(PYTHONDIR)/nnlink/_install.py
	@# refresh the loader's cache for a real install (a no-op elsewhere)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then ldconfig || true; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nnlink $(DESTDIR)$(INCLUDEDIR)/nnlink.h $(DESTDIR)$(LIBDIR)/libnnlink.a \
	    $(DESTDIR)$(LIBDIR)/libnnlink.so $(DESTDIR)$(LIBDIR)/libnnlink.so.$(SOMAJOR) \
	    $(DESTDIR)$(LIBDIR)/libnnlink.so.$(VERSION) $(DESTDIR)$(PKGCONFIGDIR)/nnlink.pc
	rm -rf $(DESTDIR)$(PYTHONDIR)/nnlink

.PHONY: install uninstall

# ---- ARM64 targets (variables at the top, README "ARM64") -------------
cross-all: all tests
# Files moved between the native build and the ARM64 one, both ways
# (tests/cross_test.sh); `make TARGET=aarch64 test` ends with it.
cross-test:
	$(MAKE) TARGET= BUILD=build build/nnlink
	$(MAKE) TARGET=aarch64 BUILD=build-aarch64 build-aarch64/nnlink
	tests/cross_test.sh build/nnlink build-aarch64/nnlink
.PHONY: cross-test cross-all
