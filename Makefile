# migrate - database migrations and seeds.
#
#   make            build build/migrate and build/libmigrate.a
#   make run        install what building needs, build, migrate and seed the example (SQLite)
#   make test       install what the suite needs too, build, run the whole suite on all drivers
#   make check      the suite only, with what is installed (servers started by the harness)
#   make bench      time migrate against the databases' own clients (bench/RESULTS.md)
#   make install    PREFIX=/usr/local DESTDIR=   (and 'make uninstall' with the same)
#   make doc        the man page, build/migrate.1 (needs scdoc)
#   make SANITIZE=address,undefined   build with sanitizers (into build-san/ by default)
#   make V=1        show full commands
#
# Your CFLAGS are kept: the project's flags are added to them, never replace them.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config
SCDOC   ?= scdoc
INSTALL ?= install
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

VERSION := $(shell sed -n 's/^\#define MIGRATE_VERSION "\(.*\)"/\1/p' migrate/migrate.h)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wpointer-arith -Wcast-align -Wwrite-strings \
        -Wundef -Wvla -Wno-unused-parameter
ifneq ($(WERROR),0)
WARN += -Werror
endif

CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 $(WARN) $(CFLAGS) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS)

ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# Libraries: pkg-config for all, with a fallback for iniparser (it ships no .pc).
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

INIPARSER_CFLAGS ?= $(or $(call pc_cflags,iniparser),-I/usr/include/iniparser)
INIPARSER_LIBS   ?= $(or $(call pc_libs,iniparser),-liniparser)

# libcsv (CSV seeds) ships no .pc either; libuuid (${uuid:KEY}) does.
CSV_CFLAGS ?= $(call pc_cflags,libcsv)
CSV_LIBS   ?= $(or $(call pc_libs,libcsv),-lcsv)

# SHA-256 from nettle, not libcrypto: OpenSSL 3's loading and initialisation
# cost about 17 ms a run, more than a whole 'migrate status' on SQLite;
# nettle's cost about 0.5 ms (bench/RESULTS.md).
LIB_CFLAGS := $(call pc_cflags,sqlite3 uuid nettle) $(INIPARSER_CFLAGS) $(CSV_CFLAGS)
LIB_LIBS   := $(call pc_libs,sqlite3 uuid nettle) $(INIPARSER_LIBS) $(CSV_LIBS)

# What migrate.pc tells a program that links the static libmigrate.a: the
# pkg-config modules it needs (Requires.private) and the libraries without a .pc.
PC_REQUIRES := sqlite3 uuid nettle $(if $(call pc_libs,iniparser),iniparser)
PC_LIBS     := $(if $(call pc_libs,iniparser),,$(INIPARSER_LIBS)) $(if $(call pc_libs,libcsv),,$(CSV_LIBS))

# The soname of lib$(1).so, which dlopen() is given for a client library.
so_name = $(shell f=$$($(CC) -print-file-name=lib$(1).so) && readelf -d "$$f" 2>/dev/null | \
	  sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')

DRIVERS := sqlite
HAVE_PQ := $(and $(wildcard drivers/postgres.c),$(shell $(PKG_CONFIG) --exists libpq 2>/dev/null && echo yes))
HAVE_MY := $(and $(wildcard drivers/mysql.c),$(shell $(PKG_CONFIG) --exists mysqlclient 2>/dev/null && echo yes))
ifeq ($(HAVE_PQ),yes)
DRIVERS += postgres
LIB_CFLAGS += -DHAVE_POSTGRES $(call pc_cflags,libpq)
# Not linked: drivers/postgres_lib.c loads libpq when the driver first
# connects (drivers/dynlib.h), so libmigrate.a and its users need no -lpq.
LIB_CFLAGS += -DPGDRV_LIBPQ=\"$(or $(call so_name,pq),libpq.so.5)\"
endif
ifeq ($(HAVE_MY),yes)
DRIVERS += mysql
LIB_CFLAGS += -DHAVE_MYSQL $(call pc_cflags,mysqlclient)
# Not linked either: drivers/mysql_lib.c loads it on first use.
MY_LIBNAME := $(patsubst -l%,%,$(firstword $(filter -l%,$(call pc_libs,mysqlclient))))
LIB_CFLAGS += -DMYDRV_LIBMYSQL=\"$(or $(call so_name,$(MY_LIBNAME)),libmariadb.so.3)\"
endif
# threads: the MySQL driver sends one chunk of a CSV seed while the next is
# read; migrate_interrupt() comes from another thread (the CLI's signal
# watcher), and a mutex keeps it from a connection being closed
LIB_CFLAGS += -pthread
LIB_LIBS   += -pthread
PC_LIBS    += -pthread

CLI_CFLAGS := $(call pc_cflags,jansson)
CLI_LIBS := $(call pc_libs,jansson)
CHECK_CFLAGS := $(call pc_cflags,check)
CHECK_LIBS := $(call pc_libs,check)

LIB_SRC := migrate/util.c migrate/error.c migrate/sqllex.c migrate/migration.c migrate/lint.c migrate/layout.c migrate/adopt.c \
           migrate/config.c migrate/db.c migrate/history.c migrate/runner.c migrate/retry.c migrate/lease.c \
           migrate/seed.c migrate/api.c migrate/schema.c migrate/testdb.c migrate/drift.c migrate/fleet.c migrate/placeholder.c migrate/csvread.c \
           drivers/drivers.c \
           $(addprefix drivers/,$(addsuffix .c,$(DRIVERS)))
# the trampolines into the client libraries (drivers/dynlib.h)
LIB_SRC += drivers/dynlib.c $(patsubst %,drivers/%_lib.c,$(filter-out sqlite,$(DRIVERS)))
CLI_SRC := cli/main.c cli/output.c cli/signals.c
TEST_SRC := $(wildcard tests/check_*.c) tests/testutil.c tests/test_main.c

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)

# Objects depend on the flags they were built with, so a new driver or a
# sanitizer switch rebuilds what it must.
FLAGS_FILE := $(BUILD)/flags
FLAGS_NOW := $(CC) $(ALL_CFLAGS) $(LIB_CFLAGS) $(CLI_CFLAGS)
$(shell mkdir -p $(BUILD) && echo '$(FLAGS_NOW)' | cmp -s - $(FLAGS_FILE) || echo '$(FLAGS_NOW)' > $(FLAGS_FILE))

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all doc run test check tests install uninstall clean

all: $(BUILD)/migrate $(BUILD)/libmigrate.a $(BUILD)/migrate.pc

# The man page needs scdoc (scripts/install-deps.sh installs it); 'make' alone does not.
doc: $(BUILD)/migrate.1

$(BUILD)/libmigrate.a: $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/migrate: $(CLI_OBJ) $(BUILD)/libmigrate.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libmigrate.a $(LIB_LIBS) $(CLI_LIBS)

$(BUILD)/obj/migrate/%.o: migrate/%.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(LIB_CFLAGS) $(CLI_CFLAGS) -c -o $@ $<

# The CLI sees the library through its public header only.
$(BUILD)/obj/cli/%.o: cli/%.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Imigrate $(CLI_CFLAGS) -c -o $@ $<

$(BUILD)/obj/drivers/%.o: drivers/%.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(LIB_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $(LIB_CFLAGS) $(CLI_CFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

$(BUILD)/check_migrate: $(TEST_OBJ) $(BUILD)/libmigrate.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libmigrate.a $(LIB_LIBS) $(CLI_LIBS) $(CHECK_LIBS)

# The test runner alone; 'make build/check_migrate BUILD=dir' means the same.
tests: $(BUILD)/check_migrate
ifneq ($(BUILD),build)
.PHONY: build/check_migrate
build/check_migrate: $(BUILD)/check_migrate
endif

# The main job: the example migrated and seeded on the SQLite default of config.ini.
run:
	@./scripts/install-deps.sh run
	@$(MAKE) --no-print-directory all
	./$(BUILD)/migrate up
	./$(BUILD)/migrate seed
	./$(BUILD)/migrate status

# Everything a fresh machine needs, then the whole suite (plain, then sanitizers).
test:
	@./scripts/install-deps.sh test
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
	@$(MAKE) --no-print-directory check BUILD=build-san SANITIZE=address,undefined CFLAGS="-O1 -g"

# The suite with what is installed: unit tests, then the CLI and driver tests
# against a SQLite file and throwaway PostgreSQL and MariaDB servers.
check: all $(BUILD)/check_migrate
	./tests/run.sh $(BUILD)

# Benchmarks: migrate against the databases' own clients, on throwaway
# servers; prints the ratios and writes bench/RESULTS.md. Never part of 'check'.
.PHONY: bench
bench: all $(BUILD)/benchrun $(BUILD)/harness
	@./scripts/install-deps.sh bench
	./bench/bench.sh $(BUILD)

$(BUILD)/benchrun: bench/benchrun.c $(FLAGS_FILE)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# examples/harness.c against the library in the tree, for W4's hand-outs in a harness
$(BUILD)/harness: examples/harness.c $(BUILD)/libmigrate.a $(FLAGS_FILE)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -Imigrate $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libmigrate.a $(LIB_LIBS)

# The pkg-config file, for the prefix it is installed under. Directories under
# PREFIX are written as ${prefix}/..., so 'pkg-config --define-prefix' works;
# like the flags file, pc-flags makes a new PREFIX or driver regenerate it.
pc_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
PC_FILE := $(BUILD)/pc-flags
PC_NOW := $(PREFIX) $(LIBDIR) $(INCLUDEDIR) $(VERSION) $(PC_REQUIRES) $(PC_LIBS)
$(shell mkdir -p $(BUILD) && echo '$(PC_NOW)' | cmp -s - $(PC_FILE) || echo '$(PC_NOW)' > $(PC_FILE))


$(BUILD)/migrate.pc: migrate/migrate.pc.in $(PC_FILE)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|g' \
	        -e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|g' -e 's|@VERSION@|$(VERSION)|g' \
	        -e 's|@REQUIRES_PRIVATE@|$(strip $(PC_REQUIRES))|g' \
	        -e 's|@LIBS_PRIVATE@|$(strip $(PC_LIBS))|g' $< > $@.tmp && mv $@.tmp $@

# The man page, from its scdoc source.
$(BUILD)/migrate.1: docs/migrate.1.scd
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SCDOC   $@")
	$(Q)$(SCDOC) < $< > $@.tmp && mv $@.tmp $@

INSTALLED := $(BINDIR)/migrate $(LIBDIR)/libmigrate.a $(INCLUDEDIR)/migrate.h \
             $(PKGCONFIGDIR)/migrate.pc $(MANDIR)/man1/migrate.1 $(BASHCOMPDIR)/migrate

install: all doc
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	        $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 755 $(BUILD)/migrate $(DESTDIR)$(BINDIR)/migrate
	$(INSTALL) -m 644 $(BUILD)/libmigrate.a $(DESTDIR)$(LIBDIR)/libmigrate.a
	$(INSTALL) -m 644 migrate/migrate.h $(DESTDIR)$(INCLUDEDIR)/migrate.h
	$(INSTALL) -m 644 $(BUILD)/migrate.pc $(DESTDIR)$(PKGCONFIGDIR)/migrate.pc
	$(INSTALL) -m 644 $(BUILD)/migrate.1 $(DESTDIR)$(MANDIR)/man1/migrate.1
	$(INSTALL) -m 644 completion/migrate.bash $(DESTDIR)$(BASHCOMPDIR)/migrate

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# Fuzzing (fuzz/README.md): libFuzzer targets built with clang into
# $(BUILD)/fuzz/, each run for FUZZ_SECONDS from its corpus in fuzz/corpus/.
# 'make test' runs each for 10 s; a crash fails the run.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
# clang's warnings are not gcc's: the -Werror build is the plain one
FUZZ_CFLAGS  := -std=c11 $(filter-out -Werror,$(WARN)) -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)

.PHONY: fuzz fuzz-build
.SECONDARY: $(FUZZ_LIB_OBJ)
fuzz-build: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	./fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

$(BUILD)/fuzz/obj/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(LIB_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-missing-prototypes $(LIB_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_LIB_OBJ) $(LIB_LIBS)

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
