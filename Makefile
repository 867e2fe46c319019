# credimport -- PGXS build
EXTENSION    = credimport
MODULE_big   = credimport
OBJS         = src/credimport.o src/csv_reader.o src/field_check.o src/source.o \
               src/columns.o src/match.o src/pipeline.o src/kind_credit.o src/kind_user.o src/writer.o src/report.o
DATA         = $(wildcard credimport--*.sql)
PGFILEDESC   = "credimport - validated, atomic bulk import of external credits"

# pg_regress suite: sql/*.sql compared with expected/*.out
# (run in this order: later files build on the objects of earlier ones)
REGRESS      = setup field_checks load_basic load_errors load_modes load_dialect load_volume write_paths etl users \
               privileges upgrade
REGRESS_OPTS = --inputdir=.

# isolation suite: test/isolation/specs/*.spec against test/isolation/expected/
ISOLATION      = concurrent_loads load_revert_progress invitations
ISOLATION_OPTS = --inputdir=test/isolation

PG_CPPFLAGS  = -I$(srcdir)/src
EXTRA_CLEAN  = test/unit/build output_iso

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The install script of each version is the first release's script plus the
# upgrade scripts, so that a fresh install and ALTER EXTENSION UPDATE give
# the same objects (sql/upgrade.sql checks that they do).
credimport--1.1.sql: credimport--1.0.sql credimport--1.0--1.1.sql
	{ echo '/* credimport--1.1.sql: generated from credimport--1.0.sql and credimport--1.0--1.1.sql by make */'; \
	  cat credimport--1.0.sql; sed -e '/^\\echo Use/d' -e '/^-- complain if script is sourced/d' credimport--1.0--1.1.sql; } > $@

# backend-free unit tests of the record reader and field checks (ASan/UBSan)
.PHONY: unit fuzz
unit:
	$(MAKE) -C test/unit check

fuzz:
	$(MAKE) -C test/unit fuzz
