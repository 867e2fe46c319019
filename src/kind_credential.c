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
#include "kind.h"

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

/* outcomes: one per action */
static const KindOutcome cred_outcomes[] = {
	[ACT_ADD] = {"added"},
	[ACT_UPDATE] = {"updated"},
	[ACT_DELETE] = {"deleted"},
};

typedef struct CredRow
{
	KindRow		head;			/* outcome: the action; key: the credential */
	char	   *license_number;
	char	   *issuer;
	char	   *media_url;
	int32		type_id;
	int32		issue_date;
	int32		expiration_date;
	bool		has_issue;
	bool		has_expiration;
} CredRow;

typedef struct CredState
{
	Directory  *types;			/* lower(code) -> credential_type; extra = requires_expiration */
} CredState;

#define CRED_STATE(ld) ((CredState *) (ld)->state)

static void
cred_setup(Load *ld)
{
	/* approving needs the approval right, whichever way it is asked for */
	if (ld->opt->approve)
		report_check_approval_right();
	ld->state = MemoryContextAllocZero(ld->cxt, sizeof(CredState));
	ld->ncols = K_NCOLS;
	ld->cols = MemoryContextAllocZero(ld->cxt, sizeof(KindColumn) * K_NCOLS);
	for (int c = 0; c < K_NCOLS; c++)
		ld->cols[c].name = cred_col_names[c];
	/* only the mode's identifier is a column of this load */
	for (int c = K_EMAIL; c <= K_USER_ID; c++)
		if (c != (int) ld->opt->mode)
			ld->cols[c].name = NULL;
	ld->cols[ld->opt->mode].flags = COL_REQUIRED;
	ld->cols[K_CREDENTIAL_TYPE].flags = COL_REQUIRED;
	ld->cols[K_LICENSE_NUMBER].flags = COL_REQUIRED;
	ld->cols[K_ISSUE_DATE].flags = COL_REQUIRED;

	CRED_STATE(ld)->types = dir_create(ld->cxt, 64);
	dir_load_all(CRED_STATE(ld)->types,
				 "SELECT pg_catalog.lower(code), id::pg_catalog.int8, active, requires_expiration "
				 "FROM credimport.credential_type");
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
cred_check(Load *ld, RecordCtx *rc, KindRow *head)
{
	CredRow    *row = (CredRow *) head;
	Size		len;
	char	   *v;
	DirEntry   *type = NULL;
	int			issue;
	int			expiration;

	load_ident_check(ld, rc, head, ld->opt->mode);

	v = record_value(rc, K_ACTION, "action", &len);
	if (v && len > 0 && len != (Size) -1)
	{
		int			a;

		if (option_find(&action_vocab, v, OPT_ALL, &a))
			head->outcome = (uint8) a;
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
		type = dir_lookup(CRED_STATE(ld)->types, lower_text(v, len));
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
	if (head->outcome != ACT_DELETE)
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

/* the credential a record refers to: learner, type, license number */
static bool
cred_probe_key(Load *ld, KindRow *head, Datum *keys)
{
	CredRow    *row = (CredRow *) head;

	if (head->learner_id == 0)
		return false;
	keys[0] = Int64GetDatum(head->learner_id);
	keys[1] = Int32GetDatum(row->type_id);
	keys[2] = CStringGetTextDatum(row->license_number);
	return true;
}

static void
cred_probe_hit(Load *ld, KindRow *head, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;

	head->key = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
}

static void
cred_match(Load *ld)
{
	static const Oid key_types[3] = {INT8OID, INT4OID, TEXTOID};

	load_probe(ld, "SELECT k.i, cr.id FROM unnest($1, $2, $3, $4) AS k(i, l, t, n) "
			   "JOIN credimport.credential cr ON cr.learner_id OPERATOR(pg_catalog.=) k.l "
			   "AND cr.credential_type_id OPERATOR(pg_catalog.=) k.t "
			   "AND cr.license_number OPERATOR(pg_catalog.=) k.n",
			   3, key_types, cred_probe_key, cred_probe_hit);

	for (int64 i = 0; i < ld->nrows; i++)
	{
		CredRow    *row = (CredRow *) load_row(ld, i);
		KindRow    *head = &row->head;

		CHECK_FOR_INTERRUPTS();
		if (head->nproblems > 0 || head->learner_id == 0)
			continue;
		if (head->outcome == ACT_ADD && head->key != 0)
			row_problem(ld, head, "license_number", "already_exists", row->license_number,
						"the learner has this credential already; use action update to change it");
		else if (head->outcome != ACT_ADD && head->key == 0)
			row_problem(ld, head, "license_number", "unknown_credential", row->license_number,
						"the learner has no credential of this type with license number \"%s\"",
						row->license_number);
	}
}

static uint32
cred_hash(Load *ld, KindRow *head)
{
	CredRow    *row = (CredRow *) head;
	uint32		h = hash_bytes((const unsigned char *) row->license_number, strlen(row->license_number));

	h = hash_combine(h, murmurhash32((uint32) head->learner_id ^ (uint32) (head->learner_id >> 32)));
	return hash_combine(h, murmurhash32((uint32) row->type_id));
}

static bool
cred_equal(Load *ld, KindRow *a, KindRow *b)
{
	CredRow    *ra = (CredRow *) a;
	CredRow    *rb = (CredRow *) b;

	return a->learner_id == b->learner_id && ra->type_id == rb->type_id &&
		strcmp(ra->license_number, rb->license_number) == 0;
}

/* ---------------- writing ---------------- */

static void
cred_write(Load *ld)
{
	int64		batch_id = ld->batch->id;
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
	for (int64 i = 0; i < ld->nrows; i++)
	{
		CredRow    *row = (CredRow *) load_row(ld, i);
		KindRow    *head = &row->head;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (head->nproblems > 0)
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		if (head->outcome == ACT_DELETE)
		{
			Datum		v = Int64GetDatum(head->key);

			MemoryContextSwitchTo(old);
			bulk_add(d, &v, NULL);
		}
		else if (head->outcome == ACT_UPDATE)
		{
			Datum		values[9];
			bool		nulls[9] = {0};

			values[0] = Int64GetDatum(head->key);
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
		}
		else
		{
			Datum		values[12];
			bool		nulls[12] = {0};

			head->key = nextval_internal(seq, false);
			values[0] = Int64GetDatum(head->key);
			values[1] = Int64GetDatum(head->learner_id);
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
		}
		load_row_written(ld);
		MemoryContextReset(rowcxt);
	}
	tw_end(w);
	bulk_end(u);
	bulk_end(d);
	MemoryContextDelete(rowcxt);
}

/* ---------------- the declaration ---------------- */

static const char *
cred_notice_suffix(Load *ld, const int *counts)
{
	if (ld->opt->approve)
		return "; the credentials are approved";
	if (counts[ACT_ADD] + counts[ACT_UPDATE] > 0)
		return "; the credentials await approval (credimport_approve)";
	return "";
}

static char *cred_template(const char *match_mode);

const KindDecl credential_kind = {
	.name = "credentials",
	.writes = TR_CREDENTIAL,
	.row_size = sizeof(CredRow),
	.match_modes = MM_IDENTIFIERS,
	.reimport_detail = "Its additions will be found to exist already.",
	.dup_what = "same learner, credential_type and license_number",
	.dup_hash = cred_hash,
	.dup_equal = cred_equal,
	.outcomes = cred_outcomes,
	.noutcomes = lengthof(cred_outcomes),
	.result_key = true,
	.outcome_notice = true,
	.notice_suffix = cred_notice_suffix,
	.setup = cred_setup,
	.check = cred_check,
	.match = cred_match,
	.write = cred_write,
	.template = cred_template,
};

static char *
cred_template(const char *match_mode)
{
	StringInfoData buf;

	if (match_mode == NULL)
		match_mode = "email";
	(void) option_lookup(&match_mode_vocab, match_mode, MM_IDENTIFIERS, " for credentials");
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s,credential_type,license_number,issuer,issue_date,expiration_date,media_url,action\n",
					 match_mode);
	return buf.data;
}
