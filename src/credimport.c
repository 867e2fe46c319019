/*
 * credimport.c
 *		SQL entry points, GUCs and module initialisation.
 */
#include "credimport.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/numeric.h"

#include "kind_credit.h"
#include "writer.h"

PG_MODULE_MAGIC;

int			credimport_max_rows = 0;
int			credimport_max_record_bytes = 1024 * 1024;
int			credimport_date_format = FC_DATE_ISO;

static const struct config_enum_entry date_format_options[] = {
	{"YYYY-MM-DD", FC_DATE_ISO, false},
	{"MM/DD/YYYY", FC_DATE_MDY_SLASH, false},
	{"DD/MM/YYYY", FC_DATE_DMY_SLASH, false},
	{"DD.MM.YYYY", FC_DATE_DMY_DOT, false},
	{"iso", FC_DATE_ISO, true},
	{NULL, 0, false}
};

static const struct config_enum_entry write_method_options[] = {
	{"auto", WRITE_AUTO, false},
	{"insert", WRITE_INSERT, false},
	{NULL, 0, false}
};

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("credimport.max_rows",
							"Largest number of data records one import may have (0 = no limit).",
							NULL,
							&credimport_max_rows,
							0, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("credimport.max_record_bytes",
							"Largest size of one record of an import file.",
							"A longer record is reported as record_too_long and skipped; "
							"this bounds the memory one malformed line can take.",
							&credimport_max_record_bytes,
							1024 * 1024, 1024, MaxAllocSize / 2,
							PGC_USERSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("credimport.date_format",
							 "Date format accepted besides ISO YYYY-MM-DD.",
							 NULL,
							 &credimport_date_format,
							 FC_DATE_ISO, date_format_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("credimport.write_method",
							 "How imported rows are written.",
							 "auto writes through the table access method in batches, as COPY does, "
							 "where that gives the same result as INSERT; insert always uses "
							 "INSERT ... SELECT.",
							 &credimport_write_method,
							 WRITE_AUTO, write_method_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("credimport");
}

static void
check_common_args(FunctionCallInfo fcinfo, ImportOptions *opt)
{
	for (int i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of credimport_load must not be null", i + 1)));
	opt->match_mode = text_to_cstring(PG_GETARG_TEXT_PP(1));
	opt->allow_edit = PG_GETARG_BOOL(2);
	opt->validate_only = PG_GETARG_BOOL(3);
	opt->max_errors = PG_GETARG_INT32(4);
	if (opt->max_errors < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_errors must not be negative"),
				 errdetail("max_errors was %d.", opt->max_errors)));
	if (strcmp(opt->match_mode, "email") != 0 && strcmp(opt->match_mode, "remote_id") != 0 &&
		strcmp(opt->match_mode, "user_id") != 0 && strcmp(opt->match_mode, "full") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown match_mode \"%s\"", opt->match_mode),
				 errhint("Use one of email, remote_id, user_id or full.")));
}

PG_FUNCTION_INFO_V1(credimport_load_file);

/*
 * credimport_load(path, match_mode, allow_edit, validate_only, max_errors)
 */
Datum
credimport_load_file(PG_FUNCTION_ARGS)
{
	ImportOptions opt;
	char	   *path;
	MemoryContext loadcxt;
	MemoryContext old;
	Source	   *src;

	check_common_args(fcinfo, &opt);
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));

	InitMaterializedSRF(fcinfo, 0);

	loadcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport load",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(loadcxt);
	src = source_open_file(path);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "credimport: SPI_connect failed");
	MemoryContextSwitchTo(loadcxt);
	credit_import(fcinfo, src, &opt);
	src->close(src);
	SPI_finish();

	MemoryContextSwitchTo(old);
	MemoryContextDelete(loadcxt);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(credimport_check_value);

/*
 * credimport_check_value(kind, value): run one strict field check and return
 * the canonical value, or the problem code.  kind is date, date_mdy,
 * date_dmy, date_dmy_dot, credits, email or bool.
 */
Datum
credimport_check_value(PG_FUNCTION_ARGS)
{
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *t = PG_GETARG_TEXT_PP(1);
	char	   *raw = text_to_cstring(t);
	Size		len = strlen(raw);
	char	   *v = fc_trim(raw, &len);
	const char *out;

	v[len] = '\0';
	if (strncmp(kind, "date", 4) == 0)
	{
		fc_date_format fmt = FC_DATE_ISO;
		int			y,
					m,
					d;

		if (strcmp(kind, "date_mdy") == 0)
			fmt = FC_DATE_MDY_SLASH;
		else if (strcmp(kind, "date_dmy") == 0)
			fmt = FC_DATE_DMY_SLASH;
		else if (strcmp(kind, "date_dmy_dot") == 0)
			fmt = FC_DATE_DMY_DOT;
		else if (strcmp(kind, "date") != 0)
			goto bad_kind;
		switch (fc_parse_date(v, len, fmt, &y, &m, &d))
		{
			case FC_OK:
				out = psprintf("%04d-%02d-%02d", y, m, d);
				break;
			case FC_EMPTY:
				out = "missing_value";
				break;
			default:
				out = "invalid_date";
				break;
		}
	}
	else if (strcmp(kind, "credits") == 0)
	{
		int64		cents;

		switch (fc_parse_credits(v, len, 6, &cents))
		{
			case FC_OK:
				out = psprintf(INT64_FORMAT ".%02d", cents / 100, (int) (cents % 100));
				break;
			case FC_EMPTY:
				out = "missing_value";
				break;
			case FC_NON_POSITIVE:
				out = "non_positive_credits";
				break;
			case FC_TOO_MANY_DECIMALS:
				out = "too_many_decimals";
				break;
			default:
				out = "invalid_number";
				break;
		}
	}
	else if (strcmp(kind, "email") == 0)
		out = fc_check_email(v, len) == FC_OK ? v :
			(len == 0 ? "missing_value" : "invalid_email");
	else if (strcmp(kind, "bool") == 0)
	{
		switch (fc_parse_bool(v, len))
		{
			case FC_OK:
				out = "true";
				break;
			case FC_FALSE:
				out = "false";
				break;
			case FC_EMPTY:
				out = "missing_value";
				break;
			default:
				out = "invalid_value";
				break;
		}
	}
	else
		goto bad_kind;
	PG_RETURN_TEXT_P(cstring_to_text(out));

bad_kind:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown check \"%s\"", kind),
			 errhint("Use date, date_mdy, date_dmy, date_dmy_dot, credits, email or bool.")));
	PG_RETURN_NULL();
}
