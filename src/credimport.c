/*
 * credimport.c
 *		SQL entry points, GUCs and module initialisation.
 */
#include "credimport.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "kind.h"
#include "options.h"
#include "writer.h"

PG_MODULE_MAGIC;

int			credimport_max_rows = 1000000;
int			credimport_max_stored_problems = 1000;
int			credimport_max_record_bytes = 1024 * 1024;
int			credimport_date_format = FC_DATE_ISO;
int			credimport_max_sheet_bytes = 256 * 1024 * 1024;
int			credimport_decimal_separator = '.';

static const struct config_enum_entry decimal_separator_options[] = {
	{".", '.', false},
	{",", ',', false},
	{NULL, 0, false}
};

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
	/*
	 * The limits that protect the server from hostile content are the
	 * administrator's (PGC_SUSET): the role that sends a file cannot raise
	 * them.  A superuser may raise them per role with ALTER ROLE ... SET.
	 */
	DefineCustomIntVariable("credimport.max_rows",
							"Largest number of data records one import may have (0 = no limit).",
							"Bounds the memory and time of one load; settable by superusers only.",
							&credimport_max_rows,
							1000000, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("credimport.max_record_bytes",
							"Largest size of one record of an import file.",
							"A longer record is reported as record_too_long and skipped; "
							"this bounds the memory one malformed line can take.  Settable by superusers only.",
							&credimport_max_record_bytes,
							1024 * 1024, 1024, MaxAllocSize / 2,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomIntVariable("credimport.max_stored_problems",
							"Most problems of one code stored in credimport.batch_error for one batch.",
							"Every problem is counted; past this number a batch stores, per code, "
							"one row saying how many more there were.  Settable by superusers only.",
							&credimport_max_stored_problems,
							1000, 1, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomEnumVariable("credimport.date_format",
							 "Date format accepted besides ISO YYYY-MM-DD.",
							 NULL,
							 &credimport_date_format,
							 FC_DATE_ISO, date_format_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("credimport.decimal_separator",
							 "Decimal separator of numbers in imported files: '.' or ','.",
							 "With ',' (German or French exports) 1,5 is 1.5; a thousands "
							 "separator is never guessed at.",
							 &credimport_decimal_separator,
							 '.', decimal_separator_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("credimport.max_sheet_bytes",
							"Largest .xlsx or .xml file, and largest part of a workbook once inflated.",
							"Bounds what a spreadsheet (or a zip bomb) can make a load hold in memory.",
							&credimport_max_sheet_bytes,
							256 * 1024 * 1024, 1024, MaxAllocSize,
							PGC_SUSET, GUC_UNIT_BYTE,
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
	(void) option_lookup(&match_mode_vocab, mode, OPT_ALL, NULL);
}

/* the first n arguments must not be NULL (format and sheet may) */
static void
require_args(FunctionCallInfo fcinfo, int n)
{
	for (int i = 0; i < Min(n, PG_NARGS()); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("argument %d of %s must not be null", i + 1,
							get_func_name(fcinfo->flinfo->fn_oid))));
}

static int
check_max_errors(int max_errors)
{
	if (max_errors < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_errors must not be negative"),
				 errdetail("max_errors was %d.", max_errors)));
	return max_errors;
}

typedef enum Door
{
	DOOR_FILE,					/* a server path (text) */
	DOOR_TABLE,					/* a staging table (regclass) */
	DOOR_CONTENT,				/* file content (text) */
	DOOR_BYTES					/* file content (bytea): a workbook */
} Door;

/* where an API has the arguments of files as people export them (0: none) */
typedef struct FileArgs
{
	int			fmt_arg;		/* format (sheet follows) */
	int			cols_arg;		/* columns jsonb */
	int			enc_arg;		/* encoding text */
	int			hdr_arg;		/* header_row integer */
} FileArgs;

/* the argument at index i, when the function has it and it is not NULL */
#define HAS_ARG(i) ((i) > 0 && (i) < PG_NARGS() && !PG_ARGISNULL(i))

/*
 * One load, whatever its kind and door: open the source (a server file only
 * after the privilege check) in the load's memory context and SPI
 * connection, run the kind's pipeline, close everything.  Argument 0 is the
 * source; fa says where format (sheet follows), columns, encoding and
 * header_row are, for the APIs that have them.
 */
static Datum
run_load(FunctionCallInfo fcinfo, Door door, const FileArgs *fa, const char *kind, LoadOptions *opt)
{
	MemoryContext loadcxt;
	MemoryContext old;
	Source	   *src = NULL;
	SourceFormat format = FORMAT_AUTO;
	char	   *sheet = NULL;
	char	   *encoding = NULL;
	Jsonb	   *columns = NULL;
	int			header_row = 0;
	int			fmt_arg = fa->fmt_arg;

	if (fmt_arg > 0 && fmt_arg < PG_NARGS() && !PG_ARGISNULL(fmt_arg))
		format = source_parse_format(text_to_cstring(PG_GETARG_TEXT_PP(fmt_arg)));
	if (fmt_arg > 0 && fmt_arg + 1 < PG_NARGS() && !PG_ARGISNULL(fmt_arg + 1))
		sheet = text_to_cstring(PG_GETARG_TEXT_PP(fmt_arg + 1));
	if (HAS_ARG(fa->cols_arg))
		columns = PG_GETARG_JSONB_P(fa->cols_arg);
	if (HAS_ARG(fa->enc_arg))
		encoding = text_to_cstring(PG_GETARG_TEXT_PP(fa->enc_arg));
	if (HAS_ARG(fa->hdr_arg))
	{
		header_row = PG_GETARG_INT32(fa->hdr_arg);
		if (header_row < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("header_row must be a line number (1 or more), not %d", header_row)));
	}
	if (encoding && door == DOOR_CONTENT && pg_char_to_encoding(encoding) != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("content sent as text is already in the database's encoding"),
				 errdetail("PostgreSQL converted it from the client's encoding when it was sent."),
				 errhint("Send the file's bytes as bytea with format => 'csv' and encoding => '%s', "
						 "or set client_encoding to the file's encoding before sending the text.",
						 encoding)));

	InitMaterializedSRF(fcinfo, 0);
	loadcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport load",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(loadcxt);
	if (door == DOOR_FILE)
		src = source_open_file_as(text_to_cstring(PG_GETARG_TEXT_PP(0)), format, sheet);
	else if (door == DOOR_CONTENT || door == DOOR_BYTES)
	{
		struct varlena *content = PG_GETARG_VARLENA_PP(0);

		/* no format: the content says (a workbook, XML), else CSV */
		src = source_open_data(VARDATA_ANY(content), VARSIZE_ANY_EXHDR(content), format, sheet);
		/* text is CSV unless it says otherwise: nothing was guessed at */
		if (door == DOOR_CONTENT)
			src->format_note = NULL;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "credimport: SPI_connect failed");
	MemoryContextSwitchTo(loadcxt);
	if (door == DOOR_TABLE)
		src = source_open_table(PG_GETARG_OID(0));
	if (encoding)
		source_set_encoding(src, encoding);
	src->mapping = columns_parse_mapping(columns);
	src->columns = columns;
	src->header_row = header_row;
	pipeline_run(fcinfo, src, kind_by_name(kind), opt);
	src->close(src);
	SPI_finish();

	MemoryContextSwitchTo(old);
	MemoryContextDelete(loadcxt);
	return (Datum) 0;
}

/*
 * SQL API versions of the loaders.  As pg_stat_statements binds
 * pg_stat_statements_1_2 ... _1_10 each to the one signature a release
 * declared, every loader signature a release of credimport declared has its
 * own C entry point, named after the version that introduced it, which
 * passes that API version to the kind's implementation; the implementation
 * checks that the SQL declaration has exactly the arguments of that API.
 *
 * Versions 1.0 to 1.3 bound one unversioned symbol to several signatures
 * (credimport_load_file served credimport_validate with 2 arguments and
 * credimport_load with 6, later 8).  Those symbols stay, for databases still
 * on an older SQL version (their install and update scripts name them): they
 * tell the API from the number of arguments, and only they do.
 */
typedef enum LoaderApi
{
	LOADER_VALIDATE,			/* credimport_validate(source, match_mode), 1.0 */
	LOADER_CREDITS_1_0,			/* (source, match_mode, allow_edit,
								 * validate_only, max_errors, if_exists) */
	LOADER_USERS_1_1,			/* (source, auto_invite, validate_only,
								 * max_errors) */
	LOADER_CREDENTIALS_1_2,		/* (source, match_mode, approve,
								 * validate_only, max_errors) */
	LOADER_CREDITS_1_3,			/* 1.0's arguments, then format, sheet */
	LOADER_USERS_1_3,			/* 1.1's arguments, then format, sheet */
	LOADER_CREDENTIALS_1_3,		/* 1.2's arguments, then format, sheet */

	/*
	 * 1.4, files as people export them: the file and content doors take
	 * columns, encoding and header_row after format and sheet; the table
	 * doors take columns.  credimport_validate takes allow_edit and
	 * if_exists after match_mode.
	 */
	LOADER_VALIDATE_1_4,		/* (source, match_mode, allow_edit, if_exists,
								 * format, sheet, columns, encoding,
								 * header_row) */
	LOADER_VALIDATE_TABLE_1_4,	/* (staging, match_mode, allow_edit,
								 * if_exists, columns) */
	LOADER_CREDITS_1_4,			/* 1.3's arguments, then columns, encoding,
								 * header_row */
	LOADER_CREDITS_TABLE_1_4,	/* 1.0's arguments, then columns */
	LOADER_USERS_1_4,			/* 1.3's arguments, then columns, encoding,
								 * header_row */
	LOADER_USERS_TABLE_1_4,		/* 1.1's arguments, then columns */
	LOADER_CREDENTIALS_1_4,		/* 1.3's arguments, then columns, encoding,
								 * header_row */
	LOADER_CREDENTIALS_TABLE_1_4,	/* 1.2's arguments, then columns */

	/*
	 * 1.5, targets: the arguments of 1.4; the credit and credential loaders'
	 * result rows end with the written row's key as text (credit_key,
	 * credential_key), whatever the target's key type (a uuid, ...).
	 */
	LOADER_CREDITS_1_5,
	LOADER_CREDITS_TABLE_1_5,
	LOADER_CREDENTIALS_1_5,
	LOADER_CREDENTIALS_TABLE_1_5
} LoaderApi;

static const struct
{
	int			nargs;			/* arguments of the SQL signature */
	FileArgs	fa;				/* where format, columns, encoding, header_row are */
	const char *name;
	bool		key_text;		/* the result ends with the key as text (1.5) */
}			loader_api[] =
{
	[LOADER_VALIDATE] = {2, {0, 0, 0, 0}, "credimport_validate (1.0)"},
	[LOADER_CREDITS_1_0] = {6, {0, 0, 0, 0}, "credits 1.0"},
	[LOADER_USERS_1_1] = {4, {0, 0, 0, 0}, "users 1.1"},
	[LOADER_CREDENTIALS_1_2] = {5, {0, 0, 0, 0}, "credentials 1.2"},
	[LOADER_CREDITS_1_3] = {8, {6, 0, 0, 0}, "credits 1.3"},
	[LOADER_USERS_1_3] = {6, {4, 0, 0, 0}, "users 1.3"},
	[LOADER_CREDENTIALS_1_3] = {7, {5, 0, 0, 0}, "credentials 1.3"},
	[LOADER_VALIDATE_1_4] = {9, {4, 6, 7, 8}, "credimport_validate (1.4)"},
	[LOADER_VALIDATE_TABLE_1_4] = {5, {0, 4, 0, 0}, "credimport_validate of a table (1.4)"},
	[LOADER_CREDITS_1_4] = {11, {6, 8, 9, 10}, "credits 1.4"},
	[LOADER_CREDITS_TABLE_1_4] = {7, {0, 6, 0, 0}, "credits of a table 1.4"},
	[LOADER_USERS_1_4] = {9, {4, 6, 7, 8}, "users 1.4"},
	[LOADER_USERS_TABLE_1_4] = {5, {0, 4, 0, 0}, "users of a table 1.4"},
	[LOADER_CREDENTIALS_1_4] = {10, {5, 7, 8, 9}, "credentials 1.4"},
	[LOADER_CREDENTIALS_TABLE_1_4] = {6, {0, 5, 0, 0}, "credentials of a table 1.4"},
	[LOADER_CREDITS_1_5] = {11, {6, 8, 9, 10}, "credits 1.5", true},
	[LOADER_CREDITS_TABLE_1_5] = {7, {0, 6, 0, 0}, "credits of a table 1.5", true},
	[LOADER_CREDENTIALS_1_5] = {10, {5, 7, 8, 9}, "credentials 1.5", true},
	[LOADER_CREDENTIALS_TABLE_1_5] = {6, {0, 5, 0, 0}, "credentials of a table 1.5", true},
};

/* the SQL declaration calling this entry point must have the API's arguments */
static void
check_api(FunctionCallInfo fcinfo, LoaderApi api)
{
	if (PG_NARGS() != loader_api[api].nargs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("function %s is declared with %d arguments, but its C entry point implements the %s API",
						get_func_name(fcinfo->flinfo->fn_oid), PG_NARGS(), loader_api[api].name),
				 errdetail("That API has %d arguments.", loader_api[api].nargs),
				 errhint("Declare the function as credimport's install and update scripts do, "
						 "or run ALTER EXTENSION credimport UPDATE.")));
}

/* the unversioned symbols of 1.0 to 1.3: the API from the argument count */
static LoaderApi
legacy_credits_api(FunctionCallInfo fcinfo)
{
	if (PG_NARGS() == 2)
		return LOADER_VALIDATE;
	return PG_NARGS() == 8 ? LOADER_CREDITS_1_3 : LOADER_CREDITS_1_0;
}

static LoaderApi
legacy_users_api(FunctionCallInfo fcinfo)
{
	return PG_NARGS() == 6 ? LOADER_USERS_1_3 : LOADER_USERS_1_1;
}

static LoaderApi
legacy_credentials_api(FunctionCallInfo fcinfo)
{
	return PG_NARGS() == 7 ? LOADER_CREDENTIALS_1_3 : LOADER_CREDENTIALS_1_2;
}

/*
 * Credits: (source, match_mode, allow_edit, validate_only, max_errors,
 * if_exists [, format, sheet]); credimport_validate: (source, match_mode).
 */
static Datum
run_credits(FunctionCallInfo fcinfo, Door door, LoaderApi api)
{
	LoadOptions opt;
	const char *if_exists;
	bool		validator = (api == LOADER_VALIDATE || api == LOADER_VALIDATE_1_4 ||
							 api == LOADER_VALIDATE_TABLE_1_4);

	check_api(fcinfo, api);
	require_args(fcinfo, api == LOADER_VALIDATE ? 2 : validator ? 4 : 6);
	memset(&opt, 0, sizeof(opt));
	opt.match_mode = text_to_cstring(PG_GETARG_TEXT_PP(1));
	opt.mode = (MatchMode) option_lookup(&match_mode_vocab, opt.match_mode, OPT_ALL, NULL);
	if (api == LOADER_VALIDATE)
	{
		opt.problems_only = true;
		opt.validate_only = true;
		return run_load(fcinfo, door, &loader_api[api].fa, "credits", &opt);
	}
	if (validator)
	{
		/* (source, match_mode, allow_edit, if_exists, ...) */
		opt.problems_only = true;
		opt.validate_only = true;
		opt.allow_edit = PG_GETARG_BOOL(2);
		if_exists = text_to_cstring(PG_GETARG_TEXT_PP(3));
	}
	else
	{
		opt.allow_edit = PG_GETARG_BOOL(2);
		opt.validate_only = PG_GETARG_BOOL(3);
		opt.max_errors = check_max_errors(PG_GETARG_INT32(4));
		if_exists = text_to_cstring(PG_GETARG_TEXT_PP(5));
		opt.key_text = loader_api[api].key_text;
	}
	opt.skip_existing = (option_lookup(&if_exists_vocab, if_exists, OPT_ALL, NULL) == IF_EXISTS_SKIP);
	return run_load(fcinfo, door, &loader_api[api].fa, "credits", &opt);
}

/* Users: (source, auto_invite, validate_only, max_errors [, format, sheet]) */
static Datum
run_users(FunctionCallInfo fcinfo, Door door, LoaderApi api)
{
	LoadOptions opt;

	check_api(fcinfo, api);
	memset(&opt, 0, sizeof(opt));
	require_args(fcinfo, 4);
	opt.auto_invite = PG_GETARG_BOOL(1);
	opt.validate_only = PG_GETARG_BOOL(2);
	opt.max_errors = check_max_errors(PG_GETARG_INT32(3));
	return run_load(fcinfo, door, &loader_api[api].fa, "users", &opt);
}

/* Credentials: (source, match_mode, approve, validate_only, max_errors [, format, sheet]) */
static Datum
run_credentials(FunctionCallInfo fcinfo, Door door, LoaderApi api)
{
	LoadOptions opt;

	check_api(fcinfo, api);
	require_args(fcinfo, 5);
	memset(&opt, 0, sizeof(opt));
	opt.match_mode = text_to_cstring(PG_GETARG_TEXT_PP(1));
	opt.mode = (MatchMode) option_lookup(&match_mode_vocab, opt.match_mode, MM_IDENTIFIERS, " for credentials");
	opt.approve = PG_GETARG_BOOL(2);
	opt.validate_only = PG_GETARG_BOOL(3);
	opt.max_errors = check_max_errors(PG_GETARG_INT32(4));
	opt.key_text = loader_api[api].key_text;
	return run_load(fcinfo, door, &loader_api[api].fa, "credentials", &opt);
}

PG_FUNCTION_INFO_V1(credimport_load_kind_data);

/*
 * credimport_load_kind_data(content text, kind text, match_mode text,
 * validate_only boolean, max_errors integer): a load of any registered
 * kind with the options every kind takes.  No SQL declaration binds it in
 * this version: it is the door of a kind that has no loader of its own
 * yet (declare it as credimport's loaders are declared).
 */
Datum
credimport_load_kind_data(PG_FUNCTION_ARGS)
{
	static const FileArgs none = {0, 0, 0, 0};
	LoadOptions opt;
	const KindDecl *kind;
	char	   *name;

	if (PG_NARGS() != 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("function %s is declared with %d arguments, but credimport_load_kind_data takes 5",
						get_func_name(fcinfo->flinfo->fn_oid), PG_NARGS()),
				 errhint("Declare it as (content text, kind text, match_mode text, validate_only boolean, max_errors integer).")));
	require_args(fcinfo, 2);
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	kind = kind_by_name(name);
	if (kind == NULL)
		(void) option_lookup(kind_vocab(), name, OPT_ALL, NULL);
	memset(&opt, 0, sizeof(opt));
	if (kind->match_modes)
	{
		opt.match_mode = PG_ARGISNULL(2) ? "email" : text_to_cstring(PG_GETARG_TEXT_PP(2));
		opt.mode = (MatchMode) option_lookup(&match_mode_vocab, opt.match_mode, kind->match_modes,
											 psprintf(" for %s", kind->name));
	}
	opt.validate_only = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	opt.max_errors = PG_ARGISNULL(4) ? 0 : check_max_errors(PG_GETARG_INT32(4));
	return run_load(fcinfo, DOOR_CONTENT, &none, kind->name, &opt);
}

/* an entry point of one SQL API version */
#define LOADER(name, runner, door, api) \
	PG_FUNCTION_INFO_V1(name); \
	Datum name(PG_FUNCTION_ARGS) { return runner(fcinfo, door, api); }

/*
 * the signatures of 1.3, one symbol each (1.4's entry points section binds
 * them; its files section then replaces them with the _1_4 ones below)
 */
LOADER(credimport_validate_file, run_credits, DOOR_FILE, LOADER_VALIDATE)
LOADER(credimport_validate_table, run_credits, DOOR_TABLE, LOADER_VALIDATE)
LOADER(credimport_load_file_1_3, run_credits, DOOR_FILE, LOADER_CREDITS_1_3)
LOADER(credimport_load_table_1_0, run_credits, DOOR_TABLE, LOADER_CREDITS_1_0)
LOADER(credimport_load_data_1_3, run_credits, DOOR_CONTENT, LOADER_CREDITS_1_3)
LOADER(credimport_load_bytes_1_3, run_credits, DOOR_BYTES, LOADER_CREDITS_1_3)
LOADER(credimport_load_users_file_1_3, run_users, DOOR_FILE, LOADER_USERS_1_3)
LOADER(credimport_load_users_table_1_1, run_users, DOOR_TABLE, LOADER_USERS_1_1)
LOADER(credimport_load_users_data_1_3, run_users, DOOR_CONTENT, LOADER_USERS_1_3)
LOADER(credimport_load_users_bytes_1_3, run_users, DOOR_BYTES, LOADER_USERS_1_3)
LOADER(credimport_load_credentials_file_1_3, run_credentials, DOOR_FILE, LOADER_CREDENTIALS_1_3)
LOADER(credimport_load_credentials_table_1_2, run_credentials, DOOR_TABLE, LOADER_CREDENTIALS_1_2)
LOADER(credimport_load_credentials_data_1_3, run_credentials, DOOR_CONTENT, LOADER_CREDENTIALS_1_3)
LOADER(credimport_load_credentials_bytes_1_3, run_credentials, DOOR_BYTES, LOADER_CREDENTIALS_1_3)

/* 1.4 with the arguments of files as people export them (columns, encoding, header_row) */
LOADER(credimport_validate_file_1_4, run_credits, DOOR_FILE, LOADER_VALIDATE_1_4)
LOADER(credimport_validate_table_1_4, run_credits, DOOR_TABLE, LOADER_VALIDATE_TABLE_1_4)
LOADER(credimport_validate_data_1_4, run_credits, DOOR_CONTENT, LOADER_VALIDATE_1_4)
LOADER(credimport_validate_bytes_1_4, run_credits, DOOR_BYTES, LOADER_VALIDATE_1_4)
LOADER(credimport_load_file_1_4, run_credits, DOOR_FILE, LOADER_CREDITS_1_4)
LOADER(credimport_load_table_1_4, run_credits, DOOR_TABLE, LOADER_CREDITS_TABLE_1_4)
LOADER(credimport_load_data_1_4, run_credits, DOOR_CONTENT, LOADER_CREDITS_1_4)
LOADER(credimport_load_bytes_1_4, run_credits, DOOR_BYTES, LOADER_CREDITS_1_4)
LOADER(credimport_load_users_file_1_4, run_users, DOOR_FILE, LOADER_USERS_1_4)
LOADER(credimport_load_users_table_1_4, run_users, DOOR_TABLE, LOADER_USERS_TABLE_1_4)
LOADER(credimport_load_users_data_1_4, run_users, DOOR_CONTENT, LOADER_USERS_1_4)
LOADER(credimport_load_users_bytes_1_4, run_users, DOOR_BYTES, LOADER_USERS_1_4)
LOADER(credimport_load_credentials_file_1_4, run_credentials, DOOR_FILE, LOADER_CREDENTIALS_1_4)
LOADER(credimport_load_credentials_table_1_4, run_credentials, DOOR_TABLE, LOADER_CREDENTIALS_TABLE_1_4)
LOADER(credimport_load_credentials_data_1_4, run_credentials, DOOR_CONTENT, LOADER_CREDENTIALS_1_4)
LOADER(credimport_load_credentials_bytes_1_4, run_credentials, DOOR_BYTES, LOADER_CREDENTIALS_1_4)

/* 1.5: the credit and credential loaders report the written row's key as text too */
LOADER(credimport_load_file_1_5, run_credits, DOOR_FILE, LOADER_CREDITS_1_5)
LOADER(credimport_load_table_1_5, run_credits, DOOR_TABLE, LOADER_CREDITS_TABLE_1_5)
LOADER(credimport_load_data_1_5, run_credits, DOOR_CONTENT, LOADER_CREDITS_1_5)
LOADER(credimport_load_bytes_1_5, run_credits, DOOR_BYTES, LOADER_CREDITS_1_5)
LOADER(credimport_load_credentials_file_1_5, run_credentials, DOOR_FILE, LOADER_CREDENTIALS_1_5)
LOADER(credimport_load_credentials_table_1_5, run_credentials, DOOR_TABLE, LOADER_CREDENTIALS_TABLE_1_5)
LOADER(credimport_load_credentials_data_1_5, run_credentials, DOOR_CONTENT, LOADER_CREDENTIALS_1_5)
LOADER(credimport_load_credentials_bytes_1_5, run_credentials, DOOR_BYTES, LOADER_CREDENTIALS_1_5)

/* the unversioned symbols of 1.0 to 1.3, for databases not yet updated */
LOADER(credimport_load_file, run_credits, DOOR_FILE, legacy_credits_api(fcinfo))
LOADER(credimport_load_table, run_credits, DOOR_TABLE, legacy_credits_api(fcinfo))
LOADER(credimport_load_data, run_credits, DOOR_CONTENT, legacy_credits_api(fcinfo))
LOADER(credimport_load_bytes, run_credits, DOOR_BYTES, LOADER_CREDITS_1_3)
LOADER(credimport_load_users_file, run_users, DOOR_FILE, legacy_users_api(fcinfo))
LOADER(credimport_load_users_table, run_users, DOOR_TABLE, LOADER_USERS_1_1)
LOADER(credimport_load_users_data, run_users, DOOR_CONTENT, legacy_users_api(fcinfo))
LOADER(credimport_load_users_bytes, run_users, DOOR_BYTES, LOADER_USERS_1_3)
LOADER(credimport_load_credentials_file, run_credentials, DOOR_FILE, legacy_credentials_api(fcinfo))
LOADER(credimport_load_credentials_table, run_credentials, DOOR_TABLE, LOADER_CREDENTIALS_1_2)
LOADER(credimport_load_credentials_data, run_credentials, DOOR_CONTENT, legacy_credentials_api(fcinfo))
LOADER(credimport_load_credentials_bytes, run_credentials, DOOR_BYTES, LOADER_CREDENTIALS_1_3)

PG_FUNCTION_INFO_V1(credimport_template);

/* credimport_template(match_mode): the header line a file for that mode must have */
Datum
credimport_template(PG_FUNCTION_ARGS)
{
	char	   *mode = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const KindDecl *kind = kind_by_name(mode);
	char	   *line;
	text	   *result;

	/* a kind's name, or a match_mode of credits */
	if (kind == NULL || kind->match_modes == OPT_ALL)
	{
		check_match_mode(mode);
		kind = kind_by_name("credits");
	}
	else
		mode = NULL;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "credimport: SPI_connect failed");
	line = kind_template(kind, mode);
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
	CheckName	check;

	v[len] = '\0';
	check = (CheckName) option_lookup(&check_vocab, kind, OPT_ALL, NULL);
	switch (check)
	{
		case CHECK_DATE:
		case CHECK_DATE_MDY:
		case CHECK_DATE_DMY:
		case CHECK_DATE_DMY_DOT:
			{
				static const fc_date_format fmts[] = {
					[CHECK_DATE] = FC_DATE_ISO,
					[CHECK_DATE_MDY] = FC_DATE_MDY_SLASH,
					[CHECK_DATE_DMY] = FC_DATE_DMY_SLASH,
					[CHECK_DATE_DMY_DOT] = FC_DATE_DMY_DOT,
				};
				int			y,
							m,
							d;

				switch (fc_parse_date(v, len, fmts[check], &y, &m, &d))
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
				break;
			}
		case CHECK_CREDITS:
			{
				int64		cents;

				switch (fc_parse_credits_sep(v, len, 6, (char) credimport_decimal_separator, &cents))
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
				break;
			}
		case CHECK_EMAIL:
			out = fc_check_email(v, len) == FC_OK ? v :
				(len == 0 ? "missing_value" : "invalid_email");
			break;
		case CHECK_BOOL:
		default:
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
			break;
	}
	PG_RETURN_TEXT_P(cstring_to_text(out));
}
