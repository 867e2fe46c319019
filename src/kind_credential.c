/*
 * kind_credential.c
 *		The credentials kind: learners' licenses and certifications.
 *
 * Each record adds, updates or deletes the credential of one learner,
 * type and license number.  Same pipeline as credits: read and check every
 * record, resolve learners and types through directories, look for the
 * credentials the records refer to with one query per 50,000 keys, find
 * duplicates with a hash set, then -- if the batch is accepted -- write.
 */
#include "kind_credential.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/backend_progress.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "match.h"
#include "options.h"
#include "pipeline.h"
#include "report.h"
#include "writer.h"

#define PROBE_CHUNK		50000

enum
{
	K_EMAIL,
	K_REMOTE_ID,
	K_USER_ID,
	K_CREDENTIAL_TYPE,
	K_LICENSE_NUMBER,
	K_ISSUER,
	K_ISSUE_DATE,
	K_EXPIRATION_DATE,
	K_MEDIA_URL,
	K_ACTION,
	K_NCOLS
};

static const char *const cred_col_names[K_NCOLS] = {
	"email", "remote_id", "user_id", "credential_type", "license_number", "issuer",
	"issue_date", "expiration_date", "media_url", "action"
};


typedef struct CredRow
{
	int64		line_no;
	Problem    *problems;
	char	   *ident;
	DirEntry   *match;
	char	   *license_number;
	char	   *issuer;
	char	   *media_url;
	int64		learner_id;
	int64		credential_id;	/* existing (update, delete) or new (add) */
	int32		type_id;
	int32		issue_date;
	int32		expiration_date;
	int			nproblems;		/* every problem, kept or not */
	uint8		action;
	bool		has_issue;
	bool		has_expiration;
} CredRow;

typedef struct CredLoad
{
	const CredentialOptions *opt;
	IdentMode	mode;
	MemoryContext cxt;
	Arena		arena;
	ColumnMap  *map;
	KindColumn	cols[K_NCOLS];
	Directory  *types;			/* lower(code) -> credential_type; extra = requires_expiration */
	Directory  *learners;
	RowStore	rows;
	int64		nrows;
} CredLoad;

static inline CredRow *
crow(CredLoad *ld, int64 i)
{
	return (CredRow *) rowstore_at(&ld->rows, i);
}

static CredRow *
new_crow(CredLoad *ld)
{
	return (CredRow *) rowstore_add(&ld->rows, ld->nrows++);
}

static void
cred_row_info(void *arg, int64 i, int64 *line_no, Problem **problems, int *nproblems)
{
	CredRow    *row = crow((CredLoad *) arg, i);

	*line_no = row->line_no;
	*problems = row->problems;
	*nproblems = row->nproblems;
}

#define cproblem(ld, row, field, code, value, ...) \
	problem_append(&(ld)->arena, &(row)->problems, &(row)->nproblems, field, code, value, __VA_ARGS__)

static IdentMode
parse_ident_mode(const char *s)
{
	return (IdentMode) option_lookup(&match_mode_vocab, s, MM_IDENTIFIERS, " for credentials");
}

static void
build_cred_columns(CredLoad *ld)
{
	for (int c = 0; c < K_NCOLS; c++)
	{
		ld->cols[c].name = cred_col_names[c];
		ld->cols[c].flags = 0;
	}
	/* only the mode's identifier is a column of this load */
	for (int c = K_EMAIL; c <= K_USER_ID; c++)
		if (c != (int) ld->mode)
			ld->cols[c].name = NULL;
	ld->cols[ld->mode].flags = COL_REQUIRED;
	ld->cols[K_CREDENTIAL_TYPE].flags = COL_REQUIRED;
	ld->cols[K_LICENSE_NUMBER].flags = COL_REQUIRED;
	ld->cols[K_ISSUE_DATE].flags = COL_REQUIRED;
}

/* ---------------- pass 1 ---------------- */

/* a date column: 1 with *out set, 0 when absent or empty, -1 when invalid (problem recorded) */
static int
date_value(RecordCtx *rc, int col, const char *name, int32 *out)
{
	Size		len;
	char	   *v = record_value(rc, col, name, &len);
	int			y,
				m,
				d;

	if (len == (Size) -1)
		return -1;
	if (v == NULL || len == 0)
		return 0;
	if (fc_parse_date(v, len, (fc_date_format) credimport_date_format, &y, &m, &d) != FC_OK)
	{
		record_problem(rc, name, "invalid_date", v, len,
					   "\"%s\" is not a valid date (expected %s)%s", v, date_formats_accepted(),
					   date_setting_hint(v, len));
		return -1;
	}
	*out = fc_date_to_pg(y, m, d);
	return 1;
}

static void
check_cred_record(CredLoad *ld, RecordCtx *rc, CredRow *row)
{
	Size		len;
	char	   *v;
	DirEntry   *type = NULL;
	int			issue;
	int			expiration;

	row->match = ident_check(ld->mode, rc, ld->mode, ld->learners, &row->ident);

	v = record_value(rc, K_ACTION, "action", &len);
	if (v && len > 0 && len != (Size) -1)
	{
		int			a;

		if (option_find(&action_vocab, v, OPT_ALL, &a))
			row->action = (uint8) a;
		else
			record_problem(rc, "action", "invalid_value", v, len,
						   "\"%s\" is not an action (%s)", v, option_list(&action_vocab, OPT_ALL, false));
	}

	v = record_value(rc, K_CREDENTIAL_TYPE, "credential_type", &len);
	if (v == NULL || len == 0)
	{
		if (len != (Size) -1)
			record_problem(rc, "credential_type", "missing_value", NULL, 0, "a value is required");
	}
	else
	{
		type = dir_lookup(ld->types, lower_text(v, len));
		if (type == NULL || !type->active)
		{
			record_problem(rc, "credential_type", "unknown_credential_type", v, len,
						   "no active credential type with code \"%s\"; credimport_credential_types() lists them", v);
			type = NULL;
		}
		else
			row->type_id = (int32) type->id;
	}

	v = record_value(rc, K_LICENSE_NUMBER, "license_number", &len);
	if (v == NULL || len == 0)
	{
		if (len != (Size) -1)
			record_problem(rc, "license_number", "missing_value", NULL, 0, "a value is required");
	}
	else
		row->license_number = arena_strndup(&ld->arena, v, len);

	issue = date_value(rc, K_ISSUE_DATE, "issue_date", &row->issue_date);
	expiration = date_value(rc, K_EXPIRATION_DATE, "expiration_date", &row->expiration_date);
	row->has_issue = (issue == 1);
	row->has_expiration = (expiration == 1);
	if (row->action != ACT_DELETE)
	{
		if (issue == 0)
			record_problem(rc, "issue_date", "missing_value", NULL, 0, "a value is required");
		if (expiration == 0 && type && type->extra && strcmp(type->extra, "t") == 0)
			record_problem(rc, "expiration_date", "missing_value", NULL, 0,
						   "credentials of this type require an expiration date");
		if (row->has_issue && row->has_expiration && row->expiration_date < row->issue_date)
			record_problem(rc, "expiration_date", "expiration_before_issue", NULL, 0,
						   "the expiration date is earlier than the issue date");
	}

	if ((v = record_value(rc, K_ISSUER, "issuer", &len)) != NULL && len > 0 && len != (Size) -1)
		row->issuer = arena_strndup(&ld->arena, v, len);
	if ((v = record_value(rc, K_MEDIA_URL, "media_url", &len)) != NULL && len > 0 && len != (Size) -1)
	{
		if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
			record_problem(rc, "media_url", "invalid_value", v, len,
						   "\"%s\" is not an http(s) URL", v);
		else
			row->media_url = arena_strndup(&ld->arena, v, len);
	}
}

/* ---------------- pass 2 ---------------- */

/* the credentials records refer to: one query per chunk of keys */
static void
probe_credentials(CredLoad *ld)
{
	static const Oid types[4] = {INT8OID, INT8OID, INT4OID, TEXTOID};
	Oid			argtypes[4];
	SPIPlanPtr	plan;
	int64		next = 0;
	MemoryContext probecxt = AllocSetContextCreate(CurrentMemoryContext, "credimport credential probe",
												   ALLOCSET_DEFAULT_SIZES);

	for (int c = 0; c < 4; c++)
		argtypes[c] = get_array_type(types[c]);
	plan = SPI_prepare("SELECT k.i, cr.id FROM unnest($1, $2, $3, $4) AS k(i, l, t, n) "
					   "JOIN credimport.credential cr ON cr.learner_id OPERATOR(pg_catalog.=) k.l "
					   "AND cr.credential_type_id OPERATOR(pg_catalog.=) k.t "
					   "AND cr.license_number OPERATOR(pg_catalog.=) k.n", 4, argtypes);
	if (plan == NULL)
		elog(ERROR, "credimport: could not prepare the credential probe");
	while (next < ld->nrows)
	{
		Datum	   *cols[4];
		Datum		args[4];
		int			n = 0;
		MemoryContext old = MemoryContextSwitchTo(probecxt);

		for (int c = 0; c < 4; c++)
			cols[c] = palloc(sizeof(Datum) * PROBE_CHUNK);
		for (; next < ld->nrows && n < PROBE_CHUNK; next++)
		{
			CredRow    *row = crow(ld, next);

			CHECK_FOR_INTERRUPTS();
			if (row->nproblems > 0 || row->learner_id == 0)
				continue;
			cols[0][n] = Int64GetDatum(next);
			cols[1][n] = Int64GetDatum(row->learner_id);
			cols[2][n] = Int32GetDatum(row->type_id);
			cols[3][n] = CStringGetTextDatum(row->license_number);
			n++;
		}
		if (n > 0)
		{
			args[0] = PointerGetDatum(construct_array(cols[0], n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			args[1] = PointerGetDatum(construct_array(cols[1], n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			args[2] = PointerGetDatum(construct_array(cols[2], n, INT4OID, 4, true, TYPALIGN_INT));
			args[3] = PointerGetDatum(construct_array(cols[3], n, TEXTOID, -1, false, TYPALIGN_INT));
			MemoryContextSwitchTo(old);
			if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "credimport: credential probe failed");
			for (uint64 j = 0; j < SPI_processed; j++)
			{
				bool		isnull;
				int64		idx = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 1, &isnull));

				crow(ld, idx)->credential_id =
					DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 2, &isnull));
			}
			SPI_freetuptable(SPI_tuptable);
		}
		else
			MemoryContextSwitchTo(old);
		MemoryContextReset(probecxt);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_freeplan(plan);
	MemoryContextDelete(probecxt);

	for (int64 i = 0; i < ld->nrows; i++)
	{
		CredRow    *row = crow(ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->nproblems > 0 || row->learner_id == 0)
			continue;
		if (row->action == ACT_ADD && row->credential_id != 0)
			cproblem(ld, row, "license_number", "already_exists", row->license_number,
					 "the learner has this credential already; use action update to change it");
		else if (row->action != ACT_ADD && row->credential_id == 0)
			cproblem(ld, row, "license_number", "unknown_credential", row->license_number,
					 "the learner has no credential of this type with license number \"%s\"",
					 row->license_number);
	}
}

static uint32
cred_hash(void *arg, uint32 idx)
{
	CredRow    *row = crow((CredLoad *) arg, idx);
	uint32		h = hash_bytes((const unsigned char *) row->license_number, strlen(row->license_number));

	h = hash_combine(h, murmurhash32((uint32) row->learner_id ^ (uint32) (row->learner_id >> 32)));
	return hash_combine(h, murmurhash32((uint32) row->type_id));
}

static bool
cred_equal(void *arg, uint32 a, uint32 b)
{
	CredRow    *ra = crow((CredLoad *) arg, a);
	CredRow    *rb = crow((CredLoad *) arg, b);

	return ra->learner_id == rb->learner_id && ra->type_id == rb->type_id &&
		strcmp(ra->license_number, rb->license_number) == 0;
}

static void
cred_duplicates(CredLoad *ld)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "credimport duplicate keys",
											  ALLOCSET_DEFAULT_SIZES);
	DupSet	   *dups = dupkeys_create(cxt, (uint32) Min(ld->nrows, PG_INT32_MAX / 2),
									  cred_hash, cred_equal, ld);

	for (int64 i = 0; i < ld->nrows; i++)
	{
		CredRow    *row = crow(ld, i);
		uint32		first;

		CHECK_FOR_INTERRUPTS();
		if (row->nproblems > 0)
			continue;
		first = dupkeys_check_add(dups, (uint32) i);
		if (first != (uint32) i)
			cproblem(ld, row, "record", "duplicate_in_file", NULL,
					 "same learner, credential_type and license_number as line " INT64_FORMAT,
					 crow(ld, first)->line_no);
	}
	MemoryContextDelete(cxt);
}

/* ---------------- writing ---------------- */

static void
write_credentials(CredLoad *ld, int64 batch_id, int *added, int *updated, int *deleted)
{
	static const char *const cols[12] = {"id", "learner_id", "credential_type_id", "license_number",
		"issuer", "issue_date", "expiration_date", "status", "media_url", "batch_id",
	"approved_at", "approved_by"};
	static const Oid types[12] = {INT8OID, INT8OID, INT4OID, TEXTOID, TEXTOID, DATEOID, DATEOID,
	TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, NAMEOID};
	static const Oid utypes[9] = {INT8OID, TEXTOID, DATEOID, DATEOID, TEXTOID, TEXTOID, INT8OID,
	TIMESTAMPTZOID, NAMEOID};
	static const Oid dtypes[1] = {INT8OID};
	Oid			seq = identity_sequence("credential");
	TableWriter *w = tw_begin("credential", 12, cols, types);
	BulkInsert *u = bulk_begin("UPDATE credimport.credential c SET issuer = coalesce(u.iss, c.issuer), "
							   "issue_date = u.idt, expiration_date = coalesce(u.edt, c.expiration_date), "
							   "media_url = coalesce(u.url, c.media_url), status = u.st, batch_id = u.b, "
							   "approved_at = u.at, approved_by = u.by "
							   "FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9) "
							   "AS u(id, iss, idt, edt, url, st, b, at, by) "
							   "WHERE c.id OPERATOR(pg_catalog.=) u.id",
							   9, utypes, 10000);
	BulkInsert *d = bulk_begin("DELETE FROM credimport.credential c USING unnest($1) AS u(id) "
							   "WHERE c.id OPERATOR(pg_catalog.=) u.id", 1, dtypes, 10000);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	NameData	who;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport credential row",
												 ALLOCSET_SMALL_SIZES);

	namestrcpy(&who, GetUserNameFromId(GetUserId(), false));
	*added = *updated = *deleted = 0;
	for (int64 i = 0; i < ld->nrows; i++)
	{
		CredRow    *row = crow(ld, i);
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (row->nproblems > 0)
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		if (row->action == ACT_DELETE)
		{
			Datum		v = Int64GetDatum(row->credential_id);

			MemoryContextSwitchTo(old);
			bulk_add(d, &v, NULL);
			(*deleted)++;
		}
		else if (row->action == ACT_UPDATE)
		{
			Datum		values[9];
			bool		nulls[9] = {0};

			values[0] = Int64GetDatum(row->credential_id);
			values[1] = text_or_null(row->issuer, &nulls[1]);
			values[2] = DateADTGetDatum(row->issue_date);
			values[3] = DateADTGetDatum(row->expiration_date);
			nulls[3] = !row->has_expiration;
			values[4] = text_or_null(row->media_url, &nulls[4]);
			values[5] = CStringGetTextDatum(ld->opt->approve ? "approved" : "pending");
			values[6] = Int64GetDatum(batch_id);
			values[7] = TimestampTzGetDatum(now);
			nulls[7] = !ld->opt->approve;
			values[8] = NameGetDatum(&who);
			nulls[8] = !ld->opt->approve;
			MemoryContextSwitchTo(old);
			bulk_add(u, values, nulls);
			(*updated)++;
		}
		else
		{
			Datum		values[12];
			bool		nulls[12] = {0};

			row->credential_id = nextval_internal(seq, false);
			values[0] = Int64GetDatum(row->credential_id);
			values[1] = Int64GetDatum(row->learner_id);
			values[2] = Int32GetDatum(row->type_id);
			values[3] = CStringGetTextDatum(row->license_number);
			values[4] = text_or_null(row->issuer, &nulls[4]);
			values[5] = DateADTGetDatum(row->issue_date);
			values[6] = DateADTGetDatum(row->expiration_date);
			nulls[6] = !row->has_expiration;
			values[7] = CStringGetTextDatum(ld->opt->approve ? "approved" : "pending");
			values[8] = text_or_null(row->media_url, &nulls[8]);
			values[9] = Int64GetDatum(batch_id);
			values[10] = TimestampTzGetDatum(now);
			nulls[10] = !ld->opt->approve;
			values[11] = NameGetDatum(&who);
			nulls[11] = !ld->opt->approve;
			MemoryContextSwitchTo(old);
			tw_add(w, values, nulls);
			(*added)++;
		}
		MemoryContextReset(rowcxt);
	}
	tw_end(w);
	bulk_end(u);
	bulk_end(d);
	MemoryContextDelete(rowcxt);
}

/* ---------------- the load ---------------- */

/* pass 1: one record */
static void
new_crow_record(void *arg, RecordCtx *rc, CsvRecord *rec)
{
	CredLoad *ld = (CredLoad *) arg;
	CredRow *row = new_crow(ld);

	row->line_no = rec->line_no;
	if (record_check_shape(rc))
		check_cred_record(ld, rc, row);
	row->problems = rc->problems;
	row->nproblems = rc->nproblems;
}

void
credential_import(FunctionCallInfo fcinfo, Source *src, const CredentialOptions *opt)
{
	MemoryContext rowcxt;
	MemoryContext oldcxt;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CredLoad	ld;
	BatchInfo	batch;
	int64		invalid = 0;
	instr_time	t;
	bool		imported;
	int			added = 0,
				updated = 0,
				deleted = 0;

	INSTR_TIME_SET_CURRENT(t);
	/* approving needs the approval right, whichever way it is asked for */
	if (opt->approve)
		report_check_approval_right();
	memset(&ld, 0, sizeof(ld));
	memset(&batch, 0, sizeof(batch));
	ld.opt = opt;
	ld.mode = parse_ident_mode(opt->match_mode);
	ld.cxt = CurrentMemoryContext;
	arena_init(&ld.arena, ld.cxt);
	rowstore_init(&ld.rows, ld.cxt, sizeof(CredRow));
	batch.started_at = GetCurrentStatementStartTimestamp();

	pipeline_progress_start(src, "credential");
	build_cred_columns(&ld);
	ld.types = dir_create(ld.cxt, 64);
	dir_load_all(ld.types, "SELECT pg_catalog.lower(code), id::pg_catalog.int8, active, requires_expiration "
				 "FROM credimport.credential_type");
	ld.learners = dir_create(ld.cxt, 1024);
	src->import_kind = "credentials";
	ld.map = pipeline_read_header(src, ld.cols, K_NCOLS, NULL, 0, &batch.header);

	pipeline_read_records(src, ld.map, &ld.arena, ld.cxt, &ld.nrows, opt->validate_only,
						  new_crow_record, &ld);
	phase_done(&t, "read and checked", ld.nrows);

	if (!opt->validate_only)
		pipeline_lock_writers();
	pipeline_warn_same_file(src, "Its additions will be found to exist already.");
	ident_resolve(ld.mode, ld.learners);
	for (int64 i = 0; i < ld.nrows; i++)
	{
		CredRow    *row = crow(&ld, i);

		if (row->match != NULL)
			row->learner_id = ident_match(ld.mode, row->match, row->ident, &ld.arena,
										  &row->problems, &row->nproblems);
	}
	probe_credentials(&ld);
	cred_duplicates(&ld);
	phase_done(&t, "matched", ld.nrows);
	for (int64 i = 0; i < ld.nrows; i++)
		if (crow(&ld, i)->nproblems > 0)
			invalid++;

	batch.kind = "credentials";
	batch.source = src->description;
	batch.sha256 = src->sha256[0] ? src->sha256 : NULL;
	batch.match_mode = opt->match_mode;
	batch.validate_only = opt->validate_only;
	batch.records = (int) ld.nrows;
	batch.invalid = (int) invalid;
	batch.status = opt->validate_only ? "validated" :
		invalid > opt->max_errors ? "rejected" : "imported";
	imported = strcmp(batch.status, "imported") == 0;
	if (imported)
		batch.imported = (int) (ld.nrows - invalid);
	batch.columns = src->columns ? JsonbPGetDatum(src->columns) : (Datum) 0;
	report_insert_batch(&batch);
	credimport_last_batch = batch.id;
	if (imported)
	{
		write_credentials(&ld, batch.id, &added, &updated, &deleted);
		phase_done(&t, "wrote credentials", batch.imported);
	}
	if (invalid > 0)
		pipeline_record_problems(src, batch.id, ld.nrows, cred_row_info, &ld);
	report_finish_batch(&batch);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport result rows", ALLOCSET_SMALL_SIZES);
	for (int64 i = 0; i < ld.nrows; i++)
	{
		CredRow    *row = crow(&ld, i);
		Datum		values[6];
		bool		nulls[6] = {0};
		static const char *const done[3] = {"added", "updated", "deleted"};

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(rowcxt);
		oldcxt = MemoryContextSwitchTo(rowcxt);
		values[0] = Int64GetDatum(batch.id);
		values[1] = Int64GetDatum(row->line_no);
		values[2] = CStringGetTextDatum(row->nproblems > 0 ? "invalid" :
										imported ? done[row->action] : "valid");
		values[3] = Int64GetDatum(row->learner_id);
		nulls[3] = (row->learner_id == 0);
		values[4] = Int64GetDatum(row->credential_id);
		nulls[4] = (row->credential_id == 0);
		values[5] = report_errors_array(row->problems, PROBLEMS_KEPT(row->nproblems));
		nulls[5] = (row->nproblems == 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(oldcxt);
	}
	MemoryContextDelete(rowcxt);
	pgstat_progress_end_command();
	if (imported)
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " imported: %d records, %d added, %d updated, %d deleted, %d invalid%s",
						batch.id, batch.records, added, updated, deleted, batch.invalid,
						opt->approve ? "; the credentials are approved" :
						(added + updated > 0 ? "; the credentials await approval (credimport_approve)" : ""))));
	else
		report_notice(&batch);
}

char *
credential_template(const char *match_mode)
{
	StringInfoData buf;

	(void) parse_ident_mode(match_mode);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s,credential_type,license_number,issuer,issue_date,expiration_date,media_url,action\n",
					 match_mode);
	return buf.data;
}
