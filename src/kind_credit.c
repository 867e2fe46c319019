/*
 * kind_credit.c
 *		The credit kind: its columns, its checks, its matching and its target.
 *
 * A load runs in two passes over records kept in memory:
 *
 *	1. read + check: every record is read once; each field is checked
 *	   (strictly, by the backend-free validators) and kept typed in a dense
 *	   arena; learner keys and the file's distinct identifiers are collected.
 *	2. match + write: learners are resolved with one query per directory,
 *	   existing credits with one query per 50k keys, duplicates with a hash
 *	   set; then, only if the batch is accepted, learners and credits are
 *	   written in bulk.  The batch and its problems are written in every case.
 *
 * Validating everything before writing anything (rather than writing inside
 * a subtransaction and rolling it back) means a rejected batch costs no
 * writes, no WAL and no dead tuples; the price is holding the typed rows in
 * memory, about 100 bytes plus the text of each record.
 */
#include "kind.h"

#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "commands/progress.h"
#include "commands/sequence.h"
#include "pgstat.h"
#include "utils/backend_progress.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "match.h"
#include "options.h"
#include "pipeline.h"
#include "report.h"
#include "writer.h"



/* the kind's columns, in check order */
enum
{
	C_EMAIL,
	C_REMOTE_ID,
	C_USER_ID,
	C_FIRST_NAME,
	C_LAST_NAME,
	C_PROVIDER,
	C_COURSE_TITLE,
	C_COURSE_ID,
	C_COMPLETION_DATE,
	C_NUMBER_CREDITS,
	C_CREDIT_TYPE,
	C_COMPLETE,
	C_NBUILTIN
};

static const char *const builtin_names[C_NBUILTIN] = {
	"email", "remote_id", "user_id", "first_name", "last_name",
	"provider", "course_title", "course_id", "completion_date",
	"number_credits", "credit_type", "complete"
};

/* a learner field of full mode: built-in column or custom profile field */
typedef struct ProfileCol
{
	const char *name;
	int			col;			/* kind column index */
	bool		required;
	bool		custom;			/* stored in learner.profile */
} ProfileCol;

typedef struct NewLearner
{
	char	  **vals;			/* per ProfileCol, NULL when empty */
	int64		line_no;		/* first record naming this learner */
	int64		id;
	bool		used;			/* referenced by a valid record */
} NewLearner;

/* full mode only: how to find or create the learner */
typedef struct FullRow
{
	DirEntry   *byemail;		/* lower(email) */
	char	  **pvals;			/* learner fields, per ProfileCol */
} FullRow;

/* outcomes of a valid record */
#define OUT_IMPORTED 0
#define OUT_SKIPPED 1
static const KindOutcome credit_outcomes[] = {
	[OUT_IMPORTED] = {"imported"},
	[OUT_SKIPPED] = {"skipped", true},	/* identical to a credit on the transcript (if_exists => skip) */
};

/*
 * One data record, kept from pass 1 to the end of the load: 112 bytes
 * plus its text in the arena.  head.key is the credit written.
 */
typedef struct CreditRow
{
	KindRow		head;			/* match: by identifier (full: by remote_id) */
	FullRow    *full;
	int64		cents;
	char	   *provider;
	char	   *course_title;
	char	   *course_id;
	int32		pending;		/* full: NewLearner index + 1 */
	int32		credit_type_id;
	int32		date;
	bool		ident_ok;
	uint8		ident_col;		/* C_EMAIL, C_REMOTE_ID or C_USER_ID */
} CreditRow;

#define IDENT_FIELD(row) (builtin_names[(row)->ident_col])

typedef struct CreditState
{
	/* the fields of a learner created (full mode) and of a credit the targets lack */
	bool		lacks[C_NBUILTIN];
	bool		lacks_profile;
	ProfileCol *pcols;
	int			npcols;
	int			ncustom;
	Directory  *types;			/* lower(code) -> credit_type */
	Directory  *emails;			/* full: lower(email) */
	NewLearner *pending;
	int			npending;
	int			pending_cap;
} CreditState;

#define CS(ld) ((CreditState *) (ld)->state)

static inline CreditRow *
row_at(Load *ld, int64 i)
{
	return (CreditRow *) load_row(ld, i);
}

/* ---------------- columns of this kind ---------------- */

/*
 * Build the column list for the mode.  Full mode adds the custom profile
 * fields of credimport.profile_field; its learner columns are optional
 * in the header (required values are checked per learner created).
 */
static void
build_columns(Load *ld, MatchMode mode)
{
	CreditState *cs = CS(ld);
	bool		builtin_req[C_NBUILTIN] = {0};
	bool	   *custom_req = NULL;
	int			ncustom = 0;

	if (mode == MM_FULL)
		ncustom = load_profile_fields(ld, builtin_names, C_NBUILTIN, builtin_req, &custom_req);
	else
	{
		ld->ncols = C_NBUILTIN;
		ld->cols = MemoryContextAllocZero(ld->cxt, sizeof(KindColumn) * C_NBUILTIN);
		for (int c = 0; c < C_NBUILTIN; c++)
			ld->cols[c].name = builtin_names[c];
	}
	cs->ncustom = ncustom;
	for (int c = C_PROVIDER; c <= C_CREDIT_TYPE; c++)
		ld->cols[c].flags = COL_REQUIRED;
	/* identifier columns: only the mode's are used */
	switch (mode)
	{
		case MM_EMAIL:
			ld->cols[C_EMAIL].flags = COL_REQUIRED;
			ld->cols[C_REMOTE_ID].name = ld->cols[C_USER_ID].name = NULL;
			ld->cols[C_FIRST_NAME].name = ld->cols[C_LAST_NAME].name = NULL;
			break;
		case MM_REMOTE_ID:
			ld->cols[C_REMOTE_ID].flags = COL_REQUIRED;
			ld->cols[C_EMAIL].name = ld->cols[C_USER_ID].name = NULL;
			ld->cols[C_FIRST_NAME].name = ld->cols[C_LAST_NAME].name = NULL;
			break;
		case MM_USER_ID:
			ld->cols[C_USER_ID].flags = COL_REQUIRED;
			ld->cols[C_EMAIL].name = ld->cols[C_REMOTE_ID].name = NULL;
			ld->cols[C_FIRST_NAME].name = ld->cols[C_LAST_NAME].name = NULL;
			break;
		case MM_FULL:
			ld->cols[C_USER_ID].name = NULL;
			break;
	}

	if (mode == MM_FULL)
	{
		static const int learner_cols[] = {C_EMAIL, C_REMOTE_ID, C_FIRST_NAME, C_LAST_NAME};
		static const char *const full_any[] = {"email", "remote_id"};

		ld->required_any = full_any;
		ld->nrequired_any = 2;
		cs->npcols = 4 + ncustom;
		cs->pcols = MemoryContextAllocZero(ld->cxt, sizeof(ProfileCol) * cs->npcols);
		for (int i = 0; i < 4; i++)
		{
			cs->pcols[i].name = builtin_names[learner_cols[i]];
			cs->pcols[i].col = learner_cols[i];
			cs->pcols[i].required = builtin_req[learner_cols[i]];
		}
		for (int i = 0; i < ncustom; i++)
		{
			cs->pcols[4 + i].name = ld->cols[C_NBUILTIN + i].name;
			cs->pcols[4 + i].col = C_NBUILTIN + i;
			cs->pcols[4 + i].required = custom_req[i];
			cs->pcols[4 + i].custom = true;
		}
	}
}

static void
credit_setup(Load *ld)
{
	CreditState *cs;
	const Target *credit = target_get(TR_CREDIT);

	ld->state = cs = MemoryContextAllocZero(ld->cxt, sizeof(CreditState));
	build_columns(ld, ld->opt->mode);
	cs->types = dir_create(ld->cxt, 64);
	dir_load_all(cs->types, target_sql_load_all(target_get(TR_CREDIT_TYPE), "code", true, NULL));
	cs->lacks[C_PROVIDER] = !target_has(credit, "provider");
	if (ld->opt->allow_edit && !target_has(credit, "user_editable"))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("allow_edit needs a user_editable column, which the credit target %s has not",
						credit->qualname),
				 errhint("Map the field with credimport_set_target('credit', ...), or load with allow_edit => false.")));
	if (ld->opt->mode == MM_FULL)
	{
		const Target *learner = target_get(TR_LEARNER);

		cs->emails = dir_create(ld->cxt, 1024);
		for (int i = 0; i < cs->npcols; i++)
			if (!cs->pcols[i].custom)
				cs->lacks[cs->pcols[i].col] = !target_has(learner, cs->pcols[i].name);
		cs->lacks_profile = !target_has(learner, "profile");
	}
}

/* ---------------- pass 1: checks ---------------- */

static void
check_identifier(Load *ld, RecordCtx *rc, CreditRow *row)
{
	CreditState *cs = CS(ld);
	Size		len;
	char	   *v;

	switch (ld->opt->mode)
	{
		case MM_EMAIL:
		case MM_REMOTE_ID:
		case MM_USER_ID:
			row->ident_col = ld->opt->mode == MM_EMAIL ? C_EMAIL :
				ld->opt->mode == MM_REMOTE_ID ? C_REMOTE_ID : C_USER_ID;
			load_ident_check(ld, rc, &row->head, row->ident_col);
			if (row->head.match == NULL)
				return;
			break;
		case MM_FULL:
			{
				bool		bad = false;

				row->full = arena_alloc0(&ld->arena, sizeof(FullRow));
				row->full->pvals = arena_alloc0(&ld->arena, sizeof(char *) * cs->npcols);
				for (int i = 0; i < cs->npcols; i++)
				{
					v = record_value(rc, cs->pcols[i].col, cs->pcols[i].name, &len);
					if (v == NULL && len == (Size) -1)
						bad = true;
					else if (v != NULL && len > 0)
					{
						if ((cs->pcols[i].custom ? cs->lacks_profile : cs->lacks[cs->pcols[i].col]) &&
							!load_storable(ld, rc, TR_LEARNER, cs->pcols[i].custom ? "profile" : cs->pcols[i].name,
										   cs->pcols[i].name, v, len))
							bad = true;
						else
							row->full->pvals[i] = arena_strndup(&ld->arena, v, len);
					}
				}
				/* pcols[0] is email, pcols[1] remote_id */
				if (row->full->pvals[0] && fc_check_email(row->full->pvals[0], strlen(row->full->pvals[0])) != FC_OK)
				{
					record_problem(rc, "email", "invalid_email", row->full->pvals[0], strlen(row->full->pvals[0]),
								   "\"%s\" is not a valid e-mail address", row->full->pvals[0]);
					bad = true;
				}
				if (!bad && row->full->pvals[0] == NULL && row->full->pvals[1] == NULL)
				{
					record_problem(rc, ld->map->col_to_file[C_EMAIL] >= 0 ? "email" : "remote_id",
								   "missing_value", NULL, 0,
								   "an email or a remote_id is required to match or create the learner");
					bad = true;
				}
				if (bad)
					return;
				row->ident_col = row->full->pvals[1] ? C_REMOTE_ID : C_EMAIL;
				row->head.ident = row->full->pvals[1] ? row->full->pvals[1] : row->full->pvals[0];
				if (row->full->pvals[1])
					row->head.match = dir_insert(ld->learners, row->full->pvals[1], NULL);
				if (row->full->pvals[0])
					row->full->byemail = dir_insert(cs->emails,
											 lower_text(row->full->pvals[0], strlen(row->full->pvals[0])), NULL);
				break;
			}
	}
	row->ident_ok = true;
}

static void
credit_check(Load *ld, RecordCtx *rc, KindRow *head)
{
	CreditRow  *row = (CreditRow *) head;
	CreditState *cs = CS(ld);
	Size		len;
	char	   *v;
	char	   *provider;
	char	   *title;
	char	   *course;
	Size		provider_len;
	Size		title_len;
	Size		course_len;

	check_identifier(ld, rc, row);

	provider = required_value(rc, C_PROVIDER, "provider", &provider_len);
	if (provider && cs->lacks[C_PROVIDER])
		(void) load_storable(ld, rc, TR_CREDIT, "provider", "provider", provider, provider_len);
	title = required_value(rc, C_COURSE_TITLE, "course_title", &title_len);
	course = required_value(rc, C_COURSE_ID, "course_id", &course_len);

	if ((v = required_value(rc, C_COMPLETION_DATE, "completion_date", &len)) != NULL)
	{
		int			y,
					m,
					d;

		if (fc_parse_date(v, len, (fc_date_format) credimport_date_format, &y, &m, &d) != FC_OK)
			record_problem(rc, "completion_date", "invalid_date", v, len,
						   "\"%s\" is not a valid date (expected %s)%s", v, date_formats_accepted(),
						   date_setting_hint(v, len));
		else
		{
			row->date = fc_date_to_pg(y, m, d);
			if (row->date > ld->today)
				record_problem(rc, "completion_date", "future_date", v, len,
							   "%04d-%02d-%02d is in the future", y, m, d);
		}
	}

	if ((v = required_value(rc, C_NUMBER_CREDITS, "number_credits", &len)) != NULL)
	{
		switch (fc_parse_credits_sep(v, len, 6, (char) credimport_decimal_separator, &row->cents))
		{
			case FC_OK:
				break;
			case FC_NON_POSITIVE:
				record_problem(rc, "number_credits", "non_positive_credits", v, len,
							   "credits must be greater than zero, not %s", v);
				break;
			case FC_TOO_MANY_DECIMALS:
				record_problem(rc, "number_credits", "too_many_decimals", v, len,
							   "\"%s\" has more than 2 decimals", v);
				break;
			case FC_OUT_OF_RANGE:
				record_problem(rc, "number_credits", "invalid_number", v, len,
							   "\"%s\" is too large (at most 999999.99)", v);
				break;
			default:
				record_problem(rc, "number_credits", "invalid_number", v, len,
							   "\"%s\" is not a number%s", v, number_setting_hint(v, len));
				break;
		}
	}

	if ((v = required_value(rc, C_CREDIT_TYPE, "credit_type", &len)) != NULL)
	{
		DirEntry   *t = dir_lookup(cs->types, lower_text(v, len));

		if (t == NULL || !t->active)
			record_problem(rc, "credit_type", "unknown_credit_type", v, len,
						   "no active credit type with code \"%s\"", v);
		else
			row->credit_type_id = (int32) t->id;
	}

	v = record_value(rc, C_COMPLETE, "complete", &len);
	if (v != NULL && len > 0)
	{
		fc_result	r = fc_parse_bool(v, len);

		if (r == FC_FALSE)
			record_problem(rc, "complete", "incomplete_record", v, len,
						   "credits are recorded only for completed courses");
		else if (r != FC_OK)
			record_problem(rc, "complete", "invalid_value", v, len,
						   "\"%s\" is not one of 1/0, true/false, yes/no", v);
	}

	/*
	 * Keep the text only of records that may still be written: an invalid
	 * record costs its row and its problems, nothing more.  A validation
	 * keeps only what the duplicate check needs.
	 */
	if (rc->nproblems == 0)
	{
		row->course_id = arena_strndup(&ld->arena, course, course_len);
		if (!ld->opt->validate_only || ld->opt->skip_existing)
		{
			row->provider = arena_strndup(&ld->arena, provider, provider_len);
			row->course_title = arena_strndup(&ld->arena, title, title_len);
		}
	}
}

/* ---------------- pass 2: matching ---------------- */

#define add_problem(ld, row, field, code, value, ...) \
	row_problem(ld, &(row)->head, field, code, value, __VA_ARGS__)

static void
match_existing(Load *ld, CreditRow *row, DirEntry *e)
{
	const char *field = (e == row->head.match) ? IDENT_FIELD(row) : "email";

	if (e->nfound > 1)
		add_problem(ld, row, field, "ambiguous_learner", e->key,
					"%d learners have %s \"%s\"", e->nfound, field, e->key);
	else if (!e->active)
		add_problem(ld, row, IDENT_FIELD(row), "inactive_learner", row->head.ident,
					"the learner with %s \"%s\" is deactivated", IDENT_FIELD(row), row->head.ident);
	else
		row->head.learner_id = e->id;
}

static void
match_full(Load *ld, CreditRow *row)
{
	CreditState *cs = CS(ld);
	DirEntry   *byremote = row->head.match;
	DirEntry   *byemail = row->full->byemail;
	NewLearner *nl;
	int			missing = 0;

	if (byremote && byremote->found)
	{
		match_existing(ld, row, byremote);
		return;
	}
	if (byemail && byemail->found)
	{
		match_existing(ld, row, byemail);
		return;
	}
	/* a learner created by an earlier record of this file? */
	if (byremote && byremote->aux > 0)
	{
		row->pending = (int32) byremote->aux;
		return;
	}
	if (byemail && byemail->aux > 0)
	{
		row->pending = (int32) byemail->aux;
		return;
	}
	/* a new learner: the required profile fields must be there */
	for (int i = 0; i < cs->npcols; i++)
		if (cs->pcols[i].required && row->full->pvals[i] == NULL)
		{
			add_problem(ld, row, cs->pcols[i].name, "missing_value", NULL,
						"a value is required to create a new learner");
			missing++;
		}
	if (missing > 0 || row->head.nproblems > 0)
		return;
	if (cs->npending == cs->pending_cap)
	{
		cs->pending_cap = cs->pending_cap ? cs->pending_cap * 2 : 64;
		cs->pending = cs->pending ?
			repalloc_huge(cs->pending, sizeof(NewLearner) * cs->pending_cap) :
			MemoryContextAllocHuge(ld->cxt, sizeof(NewLearner) * cs->pending_cap);
	}
	nl = &cs->pending[cs->npending++];
	nl->vals = row->full->pvals;
	nl->line_no = row->head.line_no;
	nl->id = 0;
	nl->used = false;
	row->pending = cs->npending;
	if (byremote)
		byremote->aux = cs->npending;
	if (byemail)
		byemail->aux = cs->npending;
}

/* rows of existing learners whose credit may be on the transcript already */
static bool
transcript_key(Load *ld, KindRow *head, Datum *keys)
{
	CreditRow  *row = (CreditRow *) head;

	if (head->learner_id == 0)
		return false;
	keys[0] = Int64GetDatum(head->learner_id);
	keys[1] = CStringGetTextDatum(row->course_id);
	keys[2] = Int32GetDatum(row->credit_type_id);
	keys[3] = DateADTGetDatum(row->date);
	return true;
}

/* a text result of the probe equals s (a NULL equals nothing) */
static bool
probe_text_equal(HeapTuple tup, TupleDesc desc, int col, const char *s)
{
	char	   *v = SPI_getvalue(tup, desc, col);

	return v != NULL && s != NULL && strcmp(v, s) == 0;
}

/* the probe's number_credits (as text) is cents */
static bool
probe_credits_equal(HeapTuple tup, TupleDesc desc, int col, int64 cents)
{
	char	   *v = SPI_getvalue(tup, desc, col);
	int64		c;

	return v != NULL && fc_parse_credits_sep(v, strlen(v), 18, '.', &c) == FC_OK && c == cents;
}

static void
transcript_hit(Load *ld, KindRow *head, HeapTuple tup, TupleDesc desc)
{
	CreditRow  *row = (CreditRow *) head;

	if (ld->opt->skip_existing &&
		(CS(ld)->lacks[C_PROVIDER] || probe_text_equal(tup, desc, 2, row->provider)) &&
		probe_text_equal(tup, desc, 3, row->course_title) &&
		probe_credits_equal(tup, desc, 4, row->cents))
		head->outcome = OUT_SKIPPED;
	else
		add_problem(ld, row, "record", "already_on_transcript", NULL,
					ld->opt->skip_existing ?
					"a different credit with this learner, course_id, credit_type and completion_date is already on the transcript; the importer never changes existing credits" :
					"this credit is already on the learner's transcript; the importer never changes existing credits");
}

/* pass 2: full mode's learners, then credits already on the transcripts */
static void
credit_match(Load *ld)
{
	static const char *const key_fields[4] = {"learner_id", "course_id", "credit_type_id", "completion_date"};
	static const Oid key_types[4] = {INT8OID, TEXTOID, INT4OID, DATEOID};
	static const char *const result_fields[3] = {"provider", "course_title", "number_credits"};
	instr_time	t;

	INSTR_TIME_SET_CURRENT(t);
	if (ld->opt->mode == MM_FULL)
	{
		ident_resolve(IDENT_REMOTE_ID, ld->learners);
		if (dir_count(CS(ld)->emails) > 0)
			dir_resolve(CS(ld)->emails, target_sql_resolve(target_get(TR_LEARNER), "email", true, NULL),
						target_lookup_chunk(target_get(TR_LEARNER)));
		for (int64 i = 0; i < ld->nrows; i++)
		{
			CreditRow  *row = row_at(ld, i);

			CHECK_FOR_INTERRUPTS();
			if (row->ident_ok)
				match_full(ld, row);
		}
		phase_done(&t, "matched learners", ld->nrows);
	}
	load_probe(ld, target_sql_probe(target_get(TR_CREDIT), 4, key_fields, key_types, 3, result_fields),
			   4, key_types, transcript_key, transcript_hit);
	phase_done(&t, "probed transcripts", ld->nrows);
}

/* the natural key of a credit: learner (or learner to be created), course, type, date */
static inline int64
row_learner_key(CreditRow *row)
{
	return row->head.learner_id ? row->head.learner_id : -(int64) row->pending;
}

static uint32
credit_hash(Load *ld, KindRow *head)
{
	CreditRow  *row = (CreditRow *) head;
	int64		learner = row_learner_key(row);
	uint32		h = hash_bytes((const unsigned char *) row->course_id, strlen(row->course_id));

	h = hash_combine(h, murmurhash32((uint32) learner ^ (uint32) (learner >> 32)));
	h = hash_combine(h, murmurhash32((uint32) row->credit_type_id));
	h = hash_combine(h, murmurhash32((uint32) row->date));
	return h;
}

static bool
credit_equal(Load *ld, KindRow *a, KindRow *b)
{
	CreditRow  *ra = (CreditRow *) a;
	CreditRow  *rb = (CreditRow *) b;

	return row_learner_key(ra) == row_learner_key(rb) &&
		ra->credit_type_id == rb->credit_type_id && ra->date == rb->date &&
		strcmp(ra->course_id, rb->course_id) == 0;
}

/* the learners of full mode a valid record needs; learners_created */
static void
credit_count(Load *ld)
{
	CreditState *cs = CS(ld);

	for (int64 i = 0; i < ld->nrows; i++)
	{
		CreditRow  *row = row_at(ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems == 0 && row->head.outcome != OUT_SKIPPED && row->pending > 0)
			cs->pending[row->pending - 1].used = true;
	}
	if (ld->imported)
		for (int i = 0; i < cs->npending; i++)
			if (cs->pending[i].used)
				ld->batch->learners_created++;
}

/* ---------------- writing ---------------- */

/* a learner created: its id, and the line that named it first */
static void
learner_key(Load *ld, int64 item, Datum key, bool isnull, Oid key_type)
{
	if (!isnull && key_type == INT8OID)
		CS(ld)->pending[item].id = DatumGetInt64(key);
}

static int64
learner_line(Load *ld, int64 item)
{
	return CS(ld)->pending[item].line_no;
}

static void
write_learners(Load *ld, int64 batch_id)
{
	static const char *const fields[6] = {"email", "remote_id", "first_name", "last_name",
	"profile", "created_by_batch"};
	static const Oid types[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, INT8OID};
	CreditState *cs = CS(ld);
	LoadWriter *w;
	MemoryContext rowcxt;
	bool		omit[6] = {0};
	bool		any_custom = false;

	if (cs->npending == 0)
		return;
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport learner row",
								   ALLOCSET_SMALL_SIZES);

	/* a column the file does not have: the relation's default */
	for (int c = 0; c < 4; c++)
		omit[c] = !load_file_has(ld, cs->pcols[c].col);
	for (int i = 0; i < cs->ncustom; i++)
		any_custom |= load_file_has(ld, C_NBUILTIN + i);
	omit[4] = !any_custom;
	w = load_writer_begin(ld, TR_LEARNER, 6, fields, types, "learner", learner_key, learner_line, false, omit);
	for (int i = 0; i < cs->npending; i++)
	{
		NewLearner *nl = &cs->pending[i];
		Datum		values[6];
		bool		nulls[6] = {0};
		char	   *profile;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (!nl->used)
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		for (int c = 0; c < 4; c++)
		{
			/* pcols 0..3: email, remote_id, first_name, last_name */
			if (nl->vals[c])
				values[c] = CStringGetTextDatum(nl->vals[c]);
			else
				nulls[c] = true;
		}
		profile = profile_json(&ld->cols[C_NBUILTIN], &nl->vals[4], cs->ncustom);
		values[4] = DirectFunctionCall1(jsonb_in, CStringGetDatum(profile ? profile : "{}"));
		values[5] = Int64GetDatum(batch_id);
		MemoryContextSwitchTo(old);
		load_writer_add(w, i, values, nulls);
		MemoryContextReset(rowcxt);
	}
	load_writer_end(w);
	MemoryContextDelete(rowcxt);
}

static void
write_credits(Load *ld, int64 batch_id)
{
	static const char *const fields[9] = {"learner_id", "provider", "course_title",
		"course_id", "completion_date", "number_credits", "credit_type_id", "user_editable",
	"batch_id"};
	static const Oid types[9] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, DATEOID,
	NUMERICOID, INT4OID, BOOLOID, INT8OID};
	LoadWriter *w;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport credit row",
												 ALLOCSET_SMALL_SIZES);

	w = load_writer_begin(ld, TR_CREDIT, 9, fields, types, "credit", load_row_key, NULL, true, NULL);
	elog(DEBUG1, "credimport: writing credits by %s",
		 load_writer_direct(w) ? "multi-insert" : "INSERT ... SELECT FROM unnest()");
	for (int64 i = 0; i < ld->nrows; i++)
	{
		CreditRow  *row = row_at(ld, i);
		Datum		values[9];
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems > 0 || row->head.outcome == OUT_SKIPPED)
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		values[0] = Int64GetDatum(row->head.learner_id);
		values[1] = CStringGetTextDatum(row->provider);
		values[2] = CStringGetTextDatum(row->course_title);
		values[3] = CStringGetTextDatum(row->course_id);
		values[4] = DateADTGetDatum(row->date);
		values[5] = NumericGetDatum(int64_div_fast_to_numeric(row->cents, 2));
		values[6] = Int32GetDatum(row->credit_type_id);
		values[7] = BoolGetDatum(ld->opt->allow_edit);
		values[8] = Int64GetDatum(batch_id);
		MemoryContextSwitchTo(old);
		load_writer_add(w, i, values, NULL);
		MemoryContextReset(rowcxt);
	}
	load_writer_end(w);
	MemoryContextDelete(rowcxt);
}

static void
credit_write(Load *ld)
{
	CreditState *cs = CS(ld);

	write_learners(ld, ld->batch->id);
	/* every record of a learner created reports its id */
	for (int64 i = 0; i < ld->nrows; i++)
	{
		CreditRow  *row = row_at(ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->head.learner_id == 0 && row->pending > 0)
			row->head.learner_id = cs->pending[row->pending - 1].id;
	}
	write_credits(ld, ld->batch->id);
}

/* ---------------- the declaration ---------------- */

/*
 * The header line a credit file for match_mode must have: the identifier,
 * (full mode) the learner profile fields, and the credit's columns.
 */
static char *
credit_template(const char *match_mode)
{
	Load		ld;
	LoadOptions opt;
	StringInfoData buf;
	MatchMode	mode = (MatchMode) option_lookup(&match_mode_vocab, match_mode, OPT_ALL, NULL);

	memset(&ld, 0, sizeof(ld));
	memset(&opt, 0, sizeof(opt));
	opt.match_mode = match_mode;
	opt.mode = mode;
	ld.opt = &opt;
	ld.cxt = CurrentMemoryContext;
	ld.state = palloc0(sizeof(CreditState));
	build_columns(&ld, mode);

	initStringInfo(&buf);
	if (mode == MM_FULL)
	{
		for (int i = 0; i < CS(&ld)->npcols; i++)
			appendStringInfo(&buf, "%s%s", i ? "," : "", CS(&ld)->pcols[i].name);
	}
	for (int c = 0; c < ld.ncols; c++)
		if (ld.cols[c].flags & COL_REQUIRED)
			appendStringInfo(&buf, "%s%s", buf.len ? "," : "", ld.cols[c].name);
	appendStringInfoChar(&buf, '\n');
	return buf.data;
}

const KindDecl credit_kind = {
	.name = "credits",
	.writes = TR_CREDIT,
	.row_size = sizeof(CreditRow),
	.match_modes = OPT_ALL,
	.reimport_detail = "Its records will be found on the transcripts already.",
	.dup_what = "same learner, course_id, credit_type and completion_date",
	.dup_hash = credit_hash,
	.dup_equal = credit_equal,
	.outcomes = credit_outcomes,
	.noutcomes = lengthof(credit_outcomes),
	.result_key = true,
	.setup = credit_setup,
	.check = credit_check,
	.match = credit_match,
	.count = credit_count,
	.write = credit_write,
	.template = credit_template,
};
