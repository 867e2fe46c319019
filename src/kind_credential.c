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
#include "provenance.h"
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
	char	   *key_text;		/* the credential found (update, delete), as text */
	int32		type_id;
	int32		issue_date;
	int32		expiration_date;
	bool		has_issue;
	bool		has_expiration;
} CredRow;

typedef struct CredState
{
	Directory  *types;			/* lower(code) -> credential_type; extra = requires_expiration */
	bool		int_key;		/* the credential target's key is an integer */
	bool		lacks[K_NCOLS];	/* fields the credential target has no column for */
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
				 target_sql_load_all(target_get(TR_CREDENTIAL_TYPE), "code", true, "requires_expiration"));
	{
		const Target *t = target_get(TR_CREDENTIAL);
		Oid			kt = target_need(t, t->key)->type;

		CRED_STATE(ld)->int_key = (kt == INT2OID || kt == INT4OID || kt == INT8OID);
		for (int c = K_ISSUER; c <= K_MEDIA_URL; c++)
			CRED_STATE(ld)->lacks[c] = (c != K_ISSUE_DATE && !target_has(t, cred_col_names[c]));
	}
}

/* a value of field col the credential target cannot store: a problem (false) */
static bool
cred_storable(Load *ld, RecordCtx *rc, int col, const char *v, Size len)
{
	if (!CRED_STATE(ld)->lacks[col])
		return true;
	return load_storable(ld, rc, TR_CREDENTIAL, cred_col_names[col], cred_col_names[col], v, len);
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
	if (row->has_expiration && !cred_storable(ld, rc, K_EXPIRATION_DATE, NULL, 0))
		row->has_expiration = false;
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

	if ((v = record_value(rc, K_ISSUER, "issuer", &len)) != NULL && len > 0 && len != (Size) -1 &&
		cred_storable(ld, rc, K_ISSUER, v, len))
		row->issuer = arena_strndup(&ld->arena, v, len);
	if ((v = record_value(rc, K_MEDIA_URL, "media_url", &len)) != NULL && len > 0 && len != (Size) -1)
	{
		if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
			record_problem(rc, "media_url", "invalid_value", v, len,
						   "\"%s\" is not an http(s) URL", v);
		else if (cred_storable(ld, rc, K_MEDIA_URL, v, len))
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
	CredRow    *row = (CredRow *) head;
	char	   *key = SPI_getvalue(tup, desc, 2);

	if (key == NULL)
		return;
	row->key_text = arena_strndup(&ld->arena, key, strlen(key));
	if (CRED_STATE(ld)->int_key)
		head->key = pg_strtoint64(key);
}

static void
cred_match(Load *ld)
{
	static const char *const key_fields[3] = {"learner_id", "credential_type_id", "license_number"};
	static const Oid key_types[3] = {INT8OID, INT4OID, TEXTOID};
	const Target *t = target_get(TR_CREDENTIAL);

	load_probe(ld, target_sql_probe(t, 3, key_fields, key_types, 1, &t->key),
			   3, key_types, cred_probe_key, cred_probe_hit);

	for (int64 i = 0; i < ld->nrows; i++)
	{
		CredRow    *row = (CredRow *) load_row(ld, i);
		KindRow    *head = &row->head;

		CHECK_FOR_INTERRUPTS();
		/* the credential found is the row's result key, as an integer key is (head->key) */
		if (row->key_text != NULL && !CRED_STATE(ld)->int_key)
			load_row_key_text(ld, i, row->key_text);
		if (head->nproblems > 0 || head->learner_id == 0)
			continue;
		if (head->outcome == ACT_ADD && row->key_text != NULL)
			row_problem(ld, head, "license_number", "already_exists", row->license_number,
						"the learner has this credential already; use action update to change it");
		else if (head->outcome != ACT_ADD && row->key_text == NULL)
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

/*
 * The fields an update of a credential sets ('c': only when given), of
 * which the target has a column.
 */
static const char *const update_fields[8] = {"issuer", "issue_date", "expiration_date", "media_url",
"status", "batch_id", "approved_at", "approved_by"};
static const Oid update_types[8] = {TEXTOID, DATEOID, DATEOID, TEXTOID, TEXTOID, INT8OID,
TIMESTAMPTZOID, NAMEOID};
static const char update_modes[8] = {'c', 'v', 'c', 'c', 'v', 'v', 'v', 'v'};

static void
cred_write(Load *ld)
{
	int64		batch_id = ld->batch->id;
	static const char *const fields[11] = {"learner_id", "credential_type_id", "license_number",
		"issuer", "issue_date", "expiration_date", "status", "media_url", "batch_id",
	"approved_at", "approved_by"};
	static const Oid types[11] = {INT8OID, INT4OID, TEXTOID, TEXTOID, DATEOID, DATEOID,
	TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, NAMEOID};
	static const Oid dtypes[1] = {TEXTOID};
	const Target *t = target_get(TR_CREDENTIAL);
	LoadWriter *w = load_writer_begin(ld, TR_CREDENTIAL, 11, fields, types, "credential",
									  load_row_key, NULL, true, NULL);
	const char *ufields[8];
	Oid			utypes[9];
	char		umodes[8];
	int			uset[8];
	int			nu = 0;
	BulkInsert *u;
	BulkInsert *d = bulk_begin(target_sql_delete(t, TEXTOID), 1, dtypes, 10000);
	/* the credentials updated are the batch's too (approve finds them through provenance) */
	Provenance *prov = prov_begin_target(batch_id, t, CRED_STATE(ld)->int_key ? INT8OID : TEXTOID);
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	NameData	who;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport credential row",
												 ALLOCSET_SMALL_SIZES);

	utypes[0] = TEXTOID;
	for (int f = 0; f < 8; f++)
		if (target_has(t, update_fields[f]))
		{
			ufields[nu] = update_fields[f];
			utypes[nu + 1] = update_types[f];
			umodes[nu] = update_modes[f];
			uset[nu] = f;
			nu++;
		}
	u = bulk_begin(target_sql_update(t, TEXTOID, nu, ufields, &utypes[1], umodes, false, false),
				   nu + 1, utypes, 10000);
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
			Datum		v = CStringGetTextDatum(row->key_text);

			MemoryContextSwitchTo(old);
			bulk_add(d, &v, NULL);
			load_row_written(ld);
		}
		else if (head->outcome == ACT_UPDATE)
		{
			Datum		all[8];
			bool		allnulls[8] = {0};
			Datum		values[9];
			bool		nulls[9] = {0};

			all[0] = text_or_null(row->issuer, &allnulls[0]);
			all[1] = DateADTGetDatum(row->issue_date);
			all[2] = DateADTGetDatum(row->expiration_date);
			allnulls[2] = !row->has_expiration;
			all[3] = text_or_null(row->media_url, &allnulls[3]);
			all[4] = CStringGetTextDatum(ld->opt->approve ? "approved" : "pending");
			all[5] = Int64GetDatum(batch_id);
			all[6] = TimestampTzGetDatum(now);
			allnulls[6] = !ld->opt->approve;
			all[7] = NameGetDatum(&who);
			allnulls[7] = !ld->opt->approve;
			values[0] = CStringGetTextDatum(row->key_text);
			for (int f = 0; f < nu; f++)
			{
				values[f + 1] = all[uset[f]];
				nulls[f + 1] = allnulls[uset[f]];
			}
			MemoryContextSwitchTo(old);
			bulk_add(u, values, nulls);
			if (prov)
				prov_add(prov, CRED_STATE(ld)->int_key ? Int64GetDatum(head->key) : values[0]);
			load_row_written(ld);
		}
		else
		{
			Datum		values[11];
			bool		nulls[11] = {0};

			values[0] = Int64GetDatum(head->learner_id);
			values[1] = Int32GetDatum(row->type_id);
			values[2] = CStringGetTextDatum(row->license_number);
			values[3] = text_or_null(row->issuer, &nulls[3]);
			values[4] = DateADTGetDatum(row->issue_date);
			values[5] = DateADTGetDatum(row->expiration_date);
			nulls[5] = !row->has_expiration;
			values[6] = CStringGetTextDatum(ld->opt->approve ? "approved" : "pending");
			values[7] = text_or_null(row->media_url, &nulls[7]);
			values[8] = Int64GetDatum(batch_id);
			values[9] = TimestampTzGetDatum(now);
			nulls[9] = !ld->opt->approve;
			values[10] = NameGetDatum(&who);
			nulls[10] = !ld->opt->approve;
			MemoryContextSwitchTo(old);
			load_writer_add(w, i, values, nulls);
		}
		MemoryContextReset(rowcxt);
	}
	load_writer_end(w);
	bulk_end(u);
	bulk_end(d);
	if (prov)
		prov_end(prov);
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
