# credimport -- PGXS build
EXTENSION    = credimport
MODULE_big   = credimport
OBJS         = src/credimport.o src/tenant.o src/csv_reader.o src/field_check.o src/sheet_values.o src/source.o src/source_sheet.o src/xlsx_reader.o \
               src/columns.o src/options.o src/match.o src/pipeline.o $(patsubst %.c,%.o,$(sort $(wildcard src/kind_*.c))) src/writer.o src/provenance.o src/report.o src/report_xlsx.o \
               src/xls_reader.o src/source_xls.o src/target.o
DATA         = $(wildcard credimport--*.sql)
PGFILEDESC   = "credimport - validated, atomic bulk import of external credits"

# pg_regress suite: sql/*.sql compared with expected/*.out
# (run in this order: later files build on the objects of earlier ones)
REGRESS      = setup field_checks load_basic load_errors load_modes load_dialect load_volume write_paths targets_write targets targets_tenant tenants_platform etl users credentials limits \
               files_headers files_locale files_encoding files_columns \
               sheets sheets_values files_sheets real_files xls platform_moodle platform_routes report privileges tenants tenants_review kinds result_keys upgrade tenants_upgrade_review targets_org_column
REGRESS_OPTS = --inputdir=.

# isolation suite: test/isolation/specs/*.spec against test/isolation/expected/
ISOLATION      = concurrent_loads load_revert_progress invitations tenant_loads tenancy_on tenant_lock_hijack tenant_recheck_uaf
ISOLATION_OPTS = --inputdir=test/isolation

PG_CPPFLAGS  = -I$(srcdir)/src -I/usr/include/libxml2
SHLIB_LINK   = -lzip -lxml2 -lxlsxwriter
EXTRA_CLEAN  = test/unit/build output_iso

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS knows no header dependencies: every object is rebuilt when a header
# of src/ changes (a struct that grew would otherwise crash the backend)
$(OBJS): $(wildcard $(srcdir)/src/*.h)

# One base install script (credimport--1.0.sql) and the update scripts:
# CREATE EXTENSION chains them to reach default_version, as contrib's
# pg_stat_statements does; sql/upgrade.sql walks every update path.

# PGXN distribution: a zip of the committed tree, named after META.json's version
DIST_DIR ?= $(CURDIR)
DIST_VERSION = $(shell sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' $(srcdir)/META.json | head -1)
.PHONY: dist check-release
dist:
	git -C $(srcdir) archive --format zip --prefix=credimport-$(DIST_VERSION)/ \
	    -o $(DIST_DIR)/credimport-$(DIST_VERSION).zip HEAD
	@echo "wrote credimport-$(DIST_VERSION).zip"

check-release:
	perl $(srcdir)/tools/check-release

# backend-free unit tests of the record reader and field checks (ASan/UBSan)
.PHONY: unit fuzz
unit:
	$(MAKE) -C test/unit check

fuzz:
	$(MAKE) -C test/unit fuzz
