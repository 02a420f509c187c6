# eeprof - a plain Makefile.
#
#   make            build/libee.a and build/eeprof
#   make test       install missing packages, build, run every test (unit, CLI, parity)
#   make asan       the unit and CLI tests under AddressSanitizer + UBSan (build-asan/)
#   make demo       install missing packages, build, report on the bundled samples
#   make bench      eeprof against PyTorch on the same weights; cost of per-layer counters;
#                   scaling of profile over MPI ranks (tools/mpi_bench.py)
#   make fuzz       build the libFuzzer targets of tests/fuzz (clang, build-fuzz/) and run each
#                   for FUZZ_SECONDS (60); make fuzz-smoke: replay their corpora, then
#                   FUZZ_SMOKE_RUNS (1000) executions each from a fixed seed (deterministic)
#   make deps       install the Debian packages that are missing (tools/deps.sh)
#   make install    eeprof, libee.a, libee.so, <eeprof/ee.h>, eeprof.pc, eeprof(1), bash
#                   completion under DESTDIR + PREFIX (/usr/local); make uninstall
#   make check-fresh  README's make demo + make test on a fresh Debian root (root; slow)
#
# Knobs (command line or config.mak): DEVELOPER=0 drops -Werror, SANITIZE=address,undefined,
# O=build-dir, V=1 shows full commands, CK_RUN_SUITE=name runs one Check suite, MPI=1 or MPI=0
# builds with or without MPI (default: with it when pkg-config finds Open MPI, ompi-c); for install:
# PREFIX, DESTDIR, BINDIR, LIBDIR, INCLUDEDIR, MANDIR, BASHCOMPDIR.

-include config.mak

O ?= build
DEVELOPER ?= 1
PY ?= /usr/bin/python3
CC ?= gcc
CXX ?= g++

# The one place the version is written: the program (core/version.h), libee.so, eeprof.pc, eeprof(1).
VERSION := 0.2.0
SOVERSION := 0
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

# pkg-config modules the code includes and links (the Debian packages behind them are listed
# in tools/deps.sh). Their flags are not read when this file is parsed: $(O)/pkg.mak runs
# tools/deps.sh (installing what is missing, as root) and then asks pkg-config; make remakes
# that file first and restarts itself, so on a fresh machine every goal that builds finds the
# headers of the packages it has just installed. Goals that build nothing skip it.
PKGS := hdf5 papi openblas zlib libjpeg libpng
NOBUILD_GOALS := clean deps check-fresh check-layers uninstall
ifneq ($(filter-out $(NOBUILD_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(O)/pkg.mak
# MPI (plugins/dist.c): on when pkg.mak found Open MPI, unless MPI=0; MPI=1 insists on it.
MPI ?= $(HAVE_MPI)
ifeq ($(MPI),1)
ifneq ($(HAVE_MPI),1)
$(error MPI=1, but pkg-config finds no Open MPI (ompi-c); make deps installs libopenmpi-dev)
endif
# -isystem: the MPI headers are not held to this project's warnings
PKG_CFLAGS += -DEE_MPI $(patsubst -I%,-isystem %,$(MPI_CFLAGS))
PKG_LIBS += $(MPI_LIBS)
endif
endif

WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition -Wvla \
	-Wwrite-strings -Wpointer-arith -Wshadow -Wformat-security -fno-common
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

CFLAGS ?= -O3 -g
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DEE_VERSION=\"$(VERSION)\" \
	$(CFLAGS) -fopenmp-simd -pthread \
	-ffp-contract=fast $(WARN) -I. $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lsde -lm -pthread

comma := ,
ifdef SANITIZE
ifneq ($(filter-out address undefined,$(subst $(comma), ,$(SANITIZE))),)
$(error SANITIZE takes address and/or undefined)
endif
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer -DEE_NO_CLONES
LDLIBS += -fsanitize=$(SANITIZE)
endif

ifneq ($(V),1)
QUIET_CC = @echo "  CC      $@";
QUIET_AR = @echo "  AR      $@";
QUIET_LINK = @echo "  LINK    $@";
endif

LIB_SRC := $(wildcard core/*.c core/layers/*.c checkpoints/*.c plugins/*.c reports/*.c)
CLI_SRC := $(wildcard analyzer/*.c)
TEST_SRC := $(wildcard tests/unit/check_*.c)
TEST_HELPERS := $(filter-out $(TEST_SRC),$(wildcard tests/unit/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
PIC_OBJ := $(LIB_SRC:%.c=$(O)/pic/%.o)
SHLIB := libee.so.$(VERSION)
CLI_OBJ := $(CLI_SRC:%.c=$(O)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(O)/tests/%)
TEST_HELPER_OBJ := $(TEST_HELPERS:%.c=$(O)/%.o)

.SECONDARY:
.PHONY: all test unit cli parity asan demo bench deps clean check-headers check-layers check-fresh \
	install uninstall stage fuzz fuzz-build fuzz-smoke
all: $(O)/libee.a $(O)/eeprof

$(O)/%.o: %.c $(O)/CFLAGS
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Rebuild everything when the flags change.
$(O)/CFLAGS: FORCE
	@mkdir -p $(O)
	@echo '$(CC) $(ALL_CFLAGS) $(LDLIBS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS) $(LDLIBS)' > $@
FORCE:

# The shared library's objects: position-independent, exporting only what ee.h declares
# (EE_API). Built for make install only, so that the static build stays as fast as it was.
$(O)/pic/%.o: %.c $(O)/CFLAGS
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(O)/libee.a: $(LIB_OBJ)
	$(QUIET_AR)rm -f $@ && ar rcs $@ $^

$(O)/$(SHLIB): $(PIC_OBJ) $(O)/libee.map
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libee.so.$(SOVERSION) -Wl,--no-undefined \
		-Wl,--version-script=$(O)/libee.map -o $@ $(PIC_OBJ) $(LDLIBS)

# The symbols libee.so exports: the functions the public headers declare with EE_API. (GCC
# exports the dispatchers of multi-versioned kernels whatever their visibility; this hides them.)
$(O)/libee.map: $(wildcard include/eeprof/*.h)
	@mkdir -p $(O)
	@{ echo "{ global:"; sed -n 's/^EE_API .*[ *]\(ee_[a-z0-9_]*\)(.*/	\1;/p' $^; echo "local: *; };"; } \
		> $@

# eeprof(1), generated from the --help texts (tools/manpage.sh).
$(O)/eeprof.1: $(O)/eeprof tools/manpage.sh
	@echo "  MAN     $@"
	@tools/manpage.sh $(O)/eeprof $(VERSION) $@

$(O)/eeprof: $(CLI_OBJ) $(O)/libee.a
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(O)/libee.a $(LDLIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(TEST_HELPER_OBJ) $(O)/libee.a
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) -o $@ $< $(TEST_HELPER_OBJ) $(O)/libee.a $(CHECK_LIBS) $(LDLIBS)

$(O)/pkg.mak: tools/deps.sh Makefile
	@tools/deps.sh
	@mkdir -p $(O)
	@cflags=$$(pkg-config --cflags $(PKGS) check) && libs=$$(pkg-config --libs $(PKGS)) && \
		check=$$(pkg-config --libs check) && \
		printf 'PKG_CFLAGS := %s\nPKG_LIBS := %s\nCHECK_LIBS := %s\n' "$$cflags" "$$libs" "$$check" \
		> $@.tmp && \
		if pkg-config --exists ompi-c; then printf 'HAVE_MPI := 1\nMPI_CFLAGS := %s\nMPI_LIBS := %s\n' \
			"$$(pkg-config --cflags ompi-c)" "$$(pkg-config --libs ompi-c)" >> $@.tmp; fi && \
		mv $@.tmp $@

# The FMA-peak loop of make bench (tools/fmapeak.c; not part of libee).
$(O)/fmapeak: tools/fmapeak.c
	@mkdir -p $(O)
	$(QUIET_LINK)$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O2 $(WARN) -pthread -o $@ $<

deps:
	@tools/deps.sh

# Unit suites (Check), then CLI tests, then PyTorch parity tests.
test: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN)
	@$(MAKE) --no-print-directory check-headers check-layers unit cli parity fuzz-smoke

# A directory as eeprof.pc writes it: relative to ${prefix} when it lies under PREFIX.
pc_dir = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

# Into $(DESTDIR)$(PREFIX): the program, both libraries (libee.so.$(SOVERSION) is the soname),
# the public headers, eeprof.pc, the man page and the bash completion.
install: all $(O)/$(SHLIB) $(O)/eeprof.1
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	@install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/eeprof \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	@install -m 755 $(O)/eeprof $(DESTDIR)$(BINDIR)/eeprof
	@install -m 644 $(O)/libee.a $(DESTDIR)$(LIBDIR)/libee.a
	@install -m 755 $(O)/$(SHLIB) $(DESTDIR)$(LIBDIR)/$(SHLIB)
	@ln -sf $(SHLIB) $(DESTDIR)$(LIBDIR)/libee.so.$(SOVERSION)
	@ln -sf libee.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libee.so
	@install -m 644 $(wildcard include/eeprof/*.h) $(DESTDIR)$(INCLUDEDIR)/eeprof/
	@install -m 644 $(O)/eeprof.1 $(DESTDIR)$(MANDIR)/man1/eeprof.1
	@install -m 644 tools/eeprof-completion.bash $(DESTDIR)$(BASHCOMPDIR)/eeprof
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_dir,$(LIBDIR))|' \
		-e 's|@INCLUDEDIR@|$(call pc_dir,$(INCLUDEDIR))|' \
		-e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LDLIBS)|' tools/eeprof.pc.in \
		> $(DESTDIR)$(LIBDIR)/pkgconfig/eeprof.pc
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/eeprof $(DESTDIR)$(LIBDIR)/libee.a $(DESTDIR)$(LIBDIR)/$(SHLIB) \
		$(DESTDIR)$(LIBDIR)/libee.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libee.so \
		$(DESTDIR)$(LIBDIR)/pkgconfig/eeprof.pc $(DESTDIR)$(MANDIR)/man1/eeprof.1 \
		$(DESTDIR)$(BASHCOMPDIR)/eeprof $(addprefix $(DESTDIR)$(INCLUDEDIR)/eeprof/,$(notdir \
		$(wildcard include/eeprof/*.h)))
	@rmdir $(DESTDIR)$(INCLUDEDIR)/eeprof 2>/dev/null || true

# make install into $(O)/stage (default PREFIX), where the CLI tests check what it installs
# and build README's C program against it. Not with SANITIZE: a program linking the installed
# libee.so knows nothing of the sanitizer runtime.
STAGE := $(abspath $(O)/stage)
stage:
	@rm -rf $(STAGE)
	@$(MAKE) --no-print-directory install DESTDIR=$(STAGE) PREFIX=/usr/local >/dev/null

unit: $(TEST_BIN)
	@tools/run-tests.sh unit $(TEST_BIN)

cli: all $(if $(SANITIZE),,stage)
	@$(if $(SANITIZE),,EE_STAGE=$(STAGE) EE_PREFIX=/usr/local) tools/run-tests.sh cli $(O)/eeprof

parity: all
	@tools/run-tests.sh parity $(O)/eeprof

# Without MPI: Open MPI's own allocations (its plugins are unloaded before exit) would be
# reported as leaks by every rank; t0095-mpi.sh then checks the refusal to run as P ranks.
asan: deps
	@$(MAKE) --no-print-directory O=build-asan SANITIZE=address,undefined MPI=0 all \
		$(TEST_SRC:tests/unit/%.c=build-asan/tests/%)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) --no-print-directory O=build-asan SANITIZE=address,undefined MPI=0 unit cli

demo: deps all
	@tools/demo.sh $(O)/eeprof $(O)/demo-report

bench: deps all $(O)/fmapeak
	@$(PY) tools/bench.py $(O)/eeprof --fmapeak $(O)/fmapeak
	@$(PY) tools/overhead.py $(O)/eeprof
	@$(PY) tools/bench_images.py $(O)/eeprof
	@$(PY) tools/mpi_bench.py $(O)/eeprof

# libFuzzer targets (tests/fuzz/fuzz_<name>.c) against a libee built by clang with the
# fuzzer's coverage and ASan + UBSan, in build-fuzz/. make test runs fuzz-smoke.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_RUNS ?= 1000
FO := build-fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DEE_VERSION=\"$(VERSION)\" -O1 -g -fopenmp-simd -pthread \
	-DEE_NO_CLONES -Wall -Wextra -Wno-pass-failed -I. $(PKG_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP
FUZZ_SRC := $(filter-out tests/fuzz/fuzz.c,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FO)/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FO)/%.o)

$(FO)/%.o: %.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FO)/libee.a: $(FUZZ_LIB_OBJ)
	$(QUIET_AR)rm -f $@ && ar rcs $@ $^

$(FO)/fuzz_%: $(FO)/tests/fuzz/fuzz_%.o $(FO)/tests/fuzz/fuzz.o $(FO)/libee.a
	$(QUIET_LINK)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -pthread -o $@ $^ $(PKG_LIBS) -lsde -lm

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@tools/fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-smoke: fuzz-build
	@tools/fuzz.sh smoke $(FUZZ_SMOKE_RUNS) $(FUZZ_BIN)

# Every header compiles on its own, and the usage examples of those that say so compile; the
# public headers also as C99 and as C++ (a program's compiler may be either).
check-headers:
	@for h in $(wildcard include/eeprof/*.h core/*.h core/layers/*.h checkpoints/*.h plugins/*.h \
			reports/*.h analyzer/*.h); do \
		echo "#include \"$$h\"" | $(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -x c -fsyntax-only - || exit 1; done
	@tools/header-examples.sh $(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS))
	@for h in $(wildcard include/eeprof/*.h); do echo "#include \"$$h\"" > $(O)/public.h.c && \
		$(CC) -std=c99 -pedantic-errors $(WARN) -I. -fsyntax-only $(O)/public.h.c && \
		$(CXX) -std=c++11 -pedantic-errors -Wall -Wextra -Werror -I. -x c++ -fsyntax-only $(O)/public.h.c \
		|| exit 1; done

# The folders depend one way (README, "Architecture of the code"): analyzer/ on top, then
# plugins/, then checkpoints/ and reports/ (neither includes the other), core/, and
# include/eeprof/ at the bottom. tools/check-layers.sh reads the #include lines, and checks
# that README's architecture table names every .c and .h file of those folders.
check-layers:
	@tools/check-layers.sh --self-test >/dev/null
	@tools/check-layers.sh

# Not part of make test: it builds a Debian root and installs every package into it.
check-fresh:
	@tools/fresh-check.sh

clean:
	rm -rf build build-asan build-fuzz

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_SRC:%.c=$(FO)/%.d) $(FO)/tests/fuzz/fuzz.d
-include $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_SRC:tests/unit/%.c=$(O)/tests/unit/%.d)
