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
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "kind_credit.h"
#include "kind_user.h"
#include "kind_credential.h"
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
check_match_mode(const char *mode)
{
	if (strcmp(mode, "email") != 0 && strcmp(mode, "remote_id") != 0 &&
		strcmp(mode, "user_id") != 0 && strcmp(mode, "full") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown match_mode \"%s\"", mode),
				 errhint("Use one of email, remote_id, user_id or full.")));
}

/* arguments shared by every loader: (source, match_mode, allow_edit, validate_only, max_errors, if_exists) */
static void
loader_args(FunctionCallInfo fcinfo, ImportOptions *opt)
{
	const char *if_exists;

	for (int i = 0; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of %s must not be null", i + 1,
							get_func_name(fcinfo->flinfo->fn_oid))));
	memset(opt, 0, sizeof(*opt));
	opt->match_mode = text_to_cstring(PG_GETARG_TEXT_PP(1));
	check_match_mode(opt->match_mode);
	opt->output = OUTPUT_RECORDS;
	if (PG_NARGS() < 6)
	{
		/* credimport_validate(source, match_mode) */
		opt->output = OUTPUT_PROBLEMS;
		opt->validate_only = true;
		return;
	}
	opt->allow_edit = PG_GETARG_BOOL(2);
	opt->validate_only = PG_GETARG_BOOL(3);
	opt->max_errors = PG_GETARG_INT32(4);
	if (opt->max_errors < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_errors must not be negative"),
				 errdetail("max_errors was %d.", opt->max_errors)));
	if_exists = text_to_cstring(PG_GETARG_TEXT_PP(5));
	if (strcmp(if_exists, "skip") == 0)
		opt->skip_existing = true;
	else if (strcmp(if_exists, "error") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown if_exists \"%s\"", if_exists),
				 errhint("Use error (a credit already on the transcript is a problem) or skip "
						 "(an identical credit already on the transcript is skipped).")));
}

typedef enum Door
{
	DOOR_FILE,
	DOOR_TABLE,
	DOOR_CONTENT
} Door;

/*
 * One load, whatever its door: open the source inside the load's memory
 * context and SPI connection, run the pipeline, close everything.
 */
static Datum
run_load(FunctionCallInfo fcinfo, Door door)
{
	ImportOptions opt;
	MemoryContext loadcxt;
	MemoryContext old;
	Source	   *src = NULL;
	char	   *path = NULL;

	loader_args(fcinfo, &opt);
	if (door == DOOR_FILE)
		path = text_to_cstring(PG_GETARG_TEXT_PP(0));

	InitMaterializedSRF(fcinfo, 0);

	loadcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport load",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(loadcxt);
	if (door == DOOR_FILE)
		src = source_open_file(path);	/* privilege check before anything else */

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "credimport: SPI_connect failed");
	MemoryContextSwitchTo(loadcxt);
	if (door == DOOR_TABLE)
		src = source_open_table(PG_GETARG_OID(0));
	else if (door == DOOR_CONTENT)
	{
		text	   *content = PG_GETARG_TEXT_PP(0);

		src = source_open_content(VARDATA_ANY(content), VARSIZE_ANY_EXHDR(content), "(content)");
	}
	credit_import(fcinfo, src, &opt);
	src->close(src);
	SPI_finish();

	MemoryContextSwitchTo(old);
	MemoryContextDelete(loadcxt);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(credimport_load_file);
PG_FUNCTION_INFO_V1(credimport_load_table);
PG_FUNCTION_INFO_V1(credimport_load_data);

/* credimport_load(path text, match_mode, allow_edit, validate_only, max_errors, if_exists) */
Datum
credimport_load_file(PG_FUNCTION_ARGS)
{
	return run_load(fcinfo, DOOR_FILE);
}

/* credimport_load(staging regclass, ...): also credimport_validate(staging regclass, match_mode) */
Datum
credimport_load_table(PG_FUNCTION_ARGS)
{
	return run_load(fcinfo, DOOR_TABLE);
}

/* credimport_load_data(content text, ...) */
Datum
credimport_load_data(PG_FUNCTION_ARGS)
{
	return run_load(fcinfo, DOOR_CONTENT);
}

/*
 * The users loaders: (source, auto_invite, validate_only, max_errors).
 */
static Datum
run_users(FunctionCallInfo fcinfo, Door door)
{
	UserOptions opt;
	MemoryContext loadcxt;
	MemoryContext old;
	Source	   *src = NULL;
	char	   *path = NULL;

	for (int i = 0; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of %s must not be null", i + 1,
							get_func_name(fcinfo->flinfo->fn_oid))));
	opt.auto_invite = PG_GETARG_BOOL(1);
	opt.validate_only = PG_GETARG_BOOL(2);
	opt.max_errors = PG_GETARG_INT32(3);
	if (opt.max_errors < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_errors must not be negative"),
				 errdetail("max_errors was %d.", opt.max_errors)));
	if (door == DOOR_FILE)
		path = text_to_cstring(PG_GETARG_TEXT_PP(0));

	InitMaterializedSRF(fcinfo, 0);
	loadcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport load",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(loadcxt);
	if (door == DOOR_FILE)
		src = source_open_file(path);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "credimport: SPI_connect failed");
	MemoryContextSwitchTo(loadcxt);
	if (door == DOOR_TABLE)
		src = source_open_table(PG_GETARG_OID(0));
	else if (door == DOOR_CONTENT)
	{
		text	   *content = PG_GETARG_TEXT_PP(0);

		src = source_open_content(VARDATA_ANY(content), VARSIZE_ANY_EXHDR(content), "(content)");
	}
	user_import(fcinfo, src, &opt);
	src->close(src);
	SPI_finish();
	MemoryContextSwitchTo(old);
	MemoryContextDelete(loadcxt);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(credimport_load_users_file);
PG_FUNCTION_INFO_V1(credimport_load_users_table);
PG_FUNCTION_INFO_V1(credimport_load_users_data);

Datum
credimport_load_users_file(PG_FUNCTION_ARGS)
{
	return run_users(fcinfo, DOOR_FILE);
}

Datum
credimport_load_users_table(PG_FUNCTION_ARGS)
{
	return run_users(fcinfo, DOOR_TABLE);
}

Datum
credimport_load_users_data(PG_FUNCTION_ARGS)
{
	return run_users(fcinfo, DOOR_CONTENT);
}

/*
 * The credentials loaders: (source, match_mode, approve, validate_only, max_errors).
 */
static Datum
run_credentials(FunctionCallInfo fcinfo, Door door)
{
	CredentialOptions opt;
	MemoryContext loadcxt;
	MemoryContext old;
	Source	   *src = NULL;
	char	   *path = NULL;

	for (int i = 0; i < PG_NARGS(); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of %s must not be null", i + 1,
							get_func_name(fcinfo->flinfo->fn_oid))));
	opt.match_mode = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strcmp(opt.match_mode, "email") != 0 && strcmp(opt.match_mode, "remote_id") != 0 &&
		strcmp(opt.match_mode, "user_id") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown match_mode \"%s\" for credentials", opt.match_mode),
				 errhint("Use one of email, remote_id or user_id.")));
	opt.approve = PG_GETARG_BOOL(2);
	opt.validate_only = PG_GETARG_BOOL(3);
	opt.max_errors = PG_GETARG_INT32(4);
	if (opt.max_errors < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_errors must not be negative"),
				 errdetail("max_errors was %d.", opt.max_errors)));
	if (door == DOOR_FILE)
		path = text_to_cstring(PG_GETARG_TEXT_PP(0));

	InitMaterializedSRF(fcinfo, 0);
	loadcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport load",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(loadcxt);
	if (door == DOOR_FILE)
		src = source_open_file(path);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "credimport: SPI_connect failed");
	MemoryContextSwitchTo(loadcxt);
	if (door == DOOR_TABLE)
		src = source_open_table(PG_GETARG_OID(0));
	else if (door == DOOR_CONTENT)
	{
		text	   *content = PG_GETARG_TEXT_PP(0);

		src = source_open_content(VARDATA_ANY(content), VARSIZE_ANY_EXHDR(content), "(content)");
	}
	credential_import(fcinfo, src, &opt);
	src->close(src);
	SPI_finish();
	MemoryContextSwitchTo(old);
	MemoryContextDelete(loadcxt);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(credimport_load_credentials_file);
PG_FUNCTION_INFO_V1(credimport_load_credentials_table);
PG_FUNCTION_INFO_V1(credimport_load_credentials_data);

Datum
credimport_load_credentials_file(PG_FUNCTION_ARGS)
{
	return run_credentials(fcinfo, DOOR_FILE);
}

Datum
credimport_load_credentials_table(PG_FUNCTION_ARGS)
{
	return run_credentials(fcinfo, DOOR_TABLE);
}

Datum
credimport_load_credentials_data(PG_FUNCTION_ARGS)
{
	return run_credentials(fcinfo, DOOR_CONTENT);
}

PG_FUNCTION_INFO_V1(credimport_template);

/* credimport_template(match_mode): the header line a file for that mode must have */
Datum
credimport_template(PG_FUNCTION_ARGS)
{
	char	   *mode = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *line;
	text	   *result;

	if (strcmp(mode, "users") != 0 && strcmp(mode, "credentials") != 0)
		check_match_mode(mode);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "credimport: SPI_connect failed");
	if (strcmp(mode, "users") == 0)
		line = user_template();
	else if (strcmp(mode, "credentials") == 0)
		line = credential_template("email");
	else
		line = credit_template(mode);
	result = (text *) SPI_palloc(VARHDRSZ + strlen(line));
	SET_VARSIZE(result, VARHDRSZ + strlen(line));
	memcpy(VARDATA(result), line, strlen(line));
	SPI_finish();
	PG_RETURN_TEXT_P(result);
}

PG_FUNCTION_INFO_V1(credimport_last_batch_id);

/* the batch the last load of this session recorded */
Datum
credimport_last_batch_id(PG_FUNCTION_ARGS)
{
	if (credimport_last_batch == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(credimport_last_batch);
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
