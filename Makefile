# migrate - database migrations and seeds.
#
#   make            build build/migrate and build/libmigrate.a
#   make run        install what is missing, build, migrate and seed the example (SQLite)
#   make test       install what is missing, build, run the whole suite on all drivers
#   make check      the suite only, with what is installed (servers started by the harness)
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=address,undefined   build with sanitizers (into build-san/ by default)
#   make V=1        show full commands
#
# Your CFLAGS are kept: the project's flags are added to them, never replace them.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config

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

LIB_CFLAGS := $(call pc_cflags,sqlite3 libcrypto) $(INIPARSER_CFLAGS)
LIB_LIBS   := $(call pc_libs,sqlite3 libcrypto) $(INIPARSER_LIBS)

DRIVERS := sqlite
HAVE_PQ := $(and $(wildcard drivers/postgres.c),$(shell $(PKG_CONFIG) --exists libpq 2>/dev/null && echo yes))
HAVE_MY := $(and $(wildcard drivers/mysql.c),$(shell $(PKG_CONFIG) --exists mysqlclient 2>/dev/null && echo yes))
ifeq ($(HAVE_PQ),yes)
DRIVERS += postgres
LIB_CFLAGS += -DHAVE_POSTGRES $(call pc_cflags,libpq)
LIB_LIBS += $(call pc_libs,libpq)
endif
ifeq ($(HAVE_MY),yes)
DRIVERS += mysql
LIB_CFLAGS += -DHAVE_MYSQL $(call pc_cflags,mysqlclient)
LIB_LIBS += $(call pc_libs,mysqlclient)
endif

CLI_CFLAGS := $(call pc_cflags,jansson)
CLI_LIBS := $(call pc_libs,jansson)
CHECK_CFLAGS := $(call pc_cflags,check)
CHECK_LIBS := $(call pc_libs,check)

LIB_SRC := migrate/util.c migrate/error.c migrate/sqllex.c migrate/migration.c \
           migrate/config.c migrate/db.c migrate/history.c migrate/runner.c \
           migrate/seed.c migrate/api.c drivers/drivers.c \
           $(addprefix drivers/,$(addsuffix .c,$(DRIVERS)))
CLI_SRC := migrate/main.c migrate/output.c
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

.PHONY: all run test check tests install uninstall clean

all: $(BUILD)/migrate $(BUILD)/libmigrate.a

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
	@./scripts/install-deps.sh
	@$(MAKE) --no-print-directory all
	./$(BUILD)/migrate up
	./$(BUILD)/migrate seed
	./$(BUILD)/migrate status

# Everything a fresh machine needs, then the whole suite (plain, then sanitizers).
test:
	@./scripts/install-deps.sh
	@$(MAKE) --no-print-directory check
	@$(MAKE) --no-print-directory check BUILD=build-san SANITIZE=address,undefined CFLAGS="-O1 -g"

# The suite with what is installed: unit tests, then the CLI and driver tests
# against a SQLite file and throwaway PostgreSQL and MariaDB servers.
check: all $(BUILD)/check_migrate
	./tests/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BUILD)/migrate $(DESTDIR)$(PREFIX)/bin/migrate
	install -m 644 $(BUILD)/libmigrate.a $(DESTDIR)$(PREFIX)/lib/libmigrate.a
	install -m 644 migrate/migrate.h $(DESTDIR)$(PREFIX)/include/migrate.h

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/migrate $(DESTDIR)$(PREFIX)/lib/libmigrate.a \
	      $(DESTDIR)$(PREFIX)/include/migrate.h

clean:
	rm -rf build build-san

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
