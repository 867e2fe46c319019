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
#include "kind_credit.h"

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


#define TRANSCRIPT_PROBE_CHUNK	50000
#define WRITE_CHUNK		10000

/* the first three are the pipeline's IdentModes */
StaticAssertDecl((int) MM_EMAIL == (int) IDENT_EMAIL && (int) MM_REMOTE_ID == (int) IDENT_REMOTE_ID &&
				 (int) MM_USER_ID == (int) IDENT_USER_ID, "match modes and ident modes differ");

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

/*
 * One data record, kept from pass 1 to the end of the load: 104 bytes
 * plus its text in the arena.
 */
typedef struct CreditRow
{
	int64		line_no;
	Problem    *problems;
	char	   *ident;			/* identifier as written (trimmed) */
	DirEntry   *match;			/* by identifier (full: by remote_id) */
	FullRow    *full;
	int64		learner_id;
	int64		cents;
	int64		credit_id;
	char	   *provider;
	char	   *course_title;
	char	   *course_id;
	int32		pending;		/* full: NewLearner index + 1 */
	int32		credit_type_id;
	int32		date;
	int			nproblems;		/* every problem, kept or not */
	bool		ident_ok;
	bool		skipped;		/* identical to a credit on the transcript (if_exists => skip) */
	uint8		ident_col;		/* C_EMAIL, C_REMOTE_ID or C_USER_ID */
} CreditRow;

#define IDENT_FIELD(row) (builtin_names[(row)->ident_col])

typedef struct CreditLoad
{
	const ImportOptions *opt;
	MatchMode	mode;
	MemoryContext cxt;			/* everything of this load */
	Arena		arena;
	ColumnMap  *map;
	KindColumn  *cols;
	int			ncols;
	ProfileCol *pcols;
	int			npcols;

	Directory  *types;			/* lower(code) -> credit_type */
	Directory  *learners;		/* by identifier (full: remote_id) */
	Directory  *emails;			/* full: lower(email) */
	DateADT		today;

	RowStore	rows;
	int64		nrows;

	NewLearner *pending;
	int			npending;
	int			pending_cap;
} CreditLoad;

static inline CreditRow *
row_at(CreditLoad *ld, int64 i)
{
	return (CreditRow *) rowstore_at(&ld->rows, i);
}

static CreditRow *
new_row(CreditLoad *ld)
{
	return (CreditRow *) rowstore_add(&ld->rows, ld->nrows++);
}

static MatchMode
parse_match_mode(const char *s)
{
	return (MatchMode) option_lookup(&match_mode_vocab, s, OPT_ALL, NULL);
}

/* ---------------- columns of this kind ---------------- */

/*
 * Build the column list for the mode.  Full mode adds the custom profile
 * fields of credimport.profile_field; its learner columns are optional
 * in the header (required values are checked per learner created).
 */
static void
build_columns(CreditLoad *ld)
{
	int			ncustom = 0;
	char	  **custom = NULL;
	bool	   *custom_req = NULL;
	bool		builtin_req[C_NBUILTIN] = {0};
	int			ret;

	if (ld->mode == MM_FULL)
	{
		ret = SPI_execute("SELECT name, required FROM credimport.profile_field ORDER BY name", true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "credimport: could not read credimport.profile_field");
		custom = MemoryContextAlloc(ld->cxt, sizeof(char *) * (SPI_processed + 1));
		custom_req = MemoryContextAlloc(ld->cxt, sizeof(bool) * (SPI_processed + 1));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			char	   *raw = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			bool		req = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 2, &isnull));
			char	   *name = MemoryContextAlloc(ld->cxt, strlen(raw) + 1);
			bool		is_builtin = false;

			fc_normalize_header(raw, strlen(raw), name, strlen(raw) + 1);
			for (int c = 0; c < C_NBUILTIN; c++)
				if (strcmp(name, builtin_names[c]) == 0)
				{
					builtin_req[c] = req;
					is_builtin = true;
				}
			if (!is_builtin && name[0] != '\0')
			{
				custom[ncustom] = name;
				custom_req[ncustom] = req;
				ncustom++;
			}
		}
		SPI_freetuptable(SPI_tuptable);
	}

	ld->ncols = C_NBUILTIN + ncustom;
	ld->cols = MemoryContextAllocZero(ld->cxt, sizeof(KindColumn) * ld->ncols);
	for (int c = 0; c < C_NBUILTIN; c++)
		ld->cols[c].name = builtin_names[c];
	for (int c = C_PROVIDER; c <= C_CREDIT_TYPE; c++)
		ld->cols[c].flags = COL_REQUIRED;
	/* identifier columns: only the mode's are used */
	switch (ld->mode)
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
	for (int i = 0; i < ncustom; i++)
		ld->cols[C_NBUILTIN + i].name = custom[i];

	if (ld->mode == MM_FULL)
	{
		static const int learner_cols[] = {C_EMAIL, C_REMOTE_ID, C_FIRST_NAME, C_LAST_NAME};

		ld->npcols = 4 + ncustom;
		ld->pcols = MemoryContextAllocZero(ld->cxt, sizeof(ProfileCol) * ld->npcols);
		for (int i = 0; i < 4; i++)
		{
			ld->pcols[i].name = builtin_names[learner_cols[i]];
			ld->pcols[i].col = learner_cols[i];
			ld->pcols[i].required = builtin_req[learner_cols[i]];
		}
		for (int i = 0; i < ncustom; i++)
		{
			ld->pcols[4 + i].name = custom[i];
			ld->pcols[4 + i].col = C_NBUILTIN + i;
			ld->pcols[4 + i].required = custom_req[i];
			ld->pcols[4 + i].custom = true;
		}
	}
}

/* ---------------- pass 1: checks ---------------- */

/* value of a column whose value is required; records missing_value */
static char *
required_value(RecordCtx *rc, int col, const char *name, Size *len)
{
	char	   *v = record_value(rc, col, name, len);

	if (v == NULL && *len == (Size) -1)
		return NULL;			/* encoding problem already recorded */
	if (v == NULL || *len == 0)
	{
		record_problem(rc, name, "missing_value", NULL, 0, "a value is required");
		return NULL;
	}
	return v;
}

static void
check_identifier(CreditLoad *ld, RecordCtx *rc, CreditRow *row)
{
	Size		len;
	char	   *v;

	switch (ld->mode)
	{
		case MM_EMAIL:
		case MM_REMOTE_ID:
		case MM_USER_ID:
			row->ident_col = ld->mode == MM_EMAIL ? C_EMAIL :
				ld->mode == MM_REMOTE_ID ? C_REMOTE_ID : C_USER_ID;
			row->match = ident_check((IdentMode) ld->mode, rc, row->ident_col, ld->learners, &row->ident);
			if (row->match == NULL)
				return;
			break;
		case MM_FULL:
			{
				bool		bad = false;

				row->full = arena_alloc0(&ld->arena, sizeof(FullRow));
				row->full->pvals = arena_alloc0(&ld->arena, sizeof(char *) * ld->npcols);
				for (int i = 0; i < ld->npcols; i++)
				{
					v = record_value(rc, ld->pcols[i].col, ld->pcols[i].name, &len);
					if (v == NULL && len == (Size) -1)
						bad = true;
					else if (v != NULL && len > 0)
						row->full->pvals[i] = arena_strndup(&ld->arena, v, len);
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
				row->ident = row->full->pvals[1] ? row->full->pvals[1] : row->full->pvals[0];
				if (row->full->pvals[1])
					row->match = dir_insert(ld->learners, row->full->pvals[1], NULL);
				if (row->full->pvals[0])
					row->full->byemail = dir_insert(ld->emails,
											 lower_text(row->full->pvals[0], strlen(row->full->pvals[0])), NULL);
				break;
			}
	}
	row->ident_ok = true;
}

static void
check_record(CreditLoad *ld, RecordCtx *rc, CreditRow *row)
{
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
		DirEntry   *t = dir_lookup(ld->types, lower_text(v, len));

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
	problem_append(&(ld)->arena, &(row)->problems, &(row)->nproblems, field, code, value, __VA_ARGS__)


static void
match_existing(CreditLoad *ld, CreditRow *row, DirEntry *e)
{
	if (!e->active)
		add_problem(ld, row, IDENT_FIELD(row), "inactive_learner", row->ident,
					"the learner with %s \"%s\" is deactivated", IDENT_FIELD(row), row->ident);
	else
		row->learner_id = e->id;
}

static void
match_full(CreditLoad *ld, CreditRow *row)
{
	DirEntry   *byremote = row->match;
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
	for (int i = 0; i < ld->npcols; i++)
		if (ld->pcols[i].required && row->full->pvals[i] == NULL)
		{
			add_problem(ld, row, ld->pcols[i].name, "missing_value", NULL,
						"a value is required to create a new learner");
			missing++;
		}
	if (missing > 0 || row->nproblems > 0)
		return;
	if (ld->npending == ld->pending_cap)
	{
		ld->pending_cap = ld->pending_cap ? ld->pending_cap * 2 : 64;
		ld->pending = ld->pending ?
			repalloc_huge(ld->pending, sizeof(NewLearner) * ld->pending_cap) :
			MemoryContextAllocHuge(ld->cxt, sizeof(NewLearner) * ld->pending_cap);
	}
	nl = &ld->pending[ld->npending++];
	nl->vals = row->full->pvals;
	nl->line_no = row->line_no;
	nl->id = 0;
	nl->used = false;
	row->pending = ld->npending;
	if (byremote)
		byremote->aux = ld->npending;
	if (byemail)
		byemail->aux = ld->npending;
}

static void
match_learners(CreditLoad *ld)
{
	if (ld->mode == MM_FULL)
	{
		ident_resolve(IDENT_REMOTE_ID, ld->learners);
		dir_resolve(ld->emails,
					"SELECT pg_catalog.lower(email), id, active FROM credimport.learner "
					"WHERE pg_catalog.lower(email) OPERATOR(pg_catalog.=) ANY ($1)");
	}
	else
		ident_resolve((IdentMode) ld->mode, ld->learners);

	for (int64 i = 0; i < ld->nrows; i++)
	{
		CreditRow  *row = row_at(ld, i);

		CHECK_FOR_INTERRUPTS();
		if (!row->ident_ok)
			continue;
		if (ld->mode == MM_FULL)
			match_full(ld, row);
		else
			row->learner_id = ident_match((IdentMode) ld->mode, row->match, row->ident,
										  &ld->arena, &row->problems, &row->nproblems);
	}
}

/* rows of existing learners whose credit is already on the transcript */
static void
probe_transcripts(CreditLoad *ld)
{
	static const Oid types[5] = {INT8OID, INT8OID, TEXTOID, INT4OID, DATEOID};
	Oid			argtypes[5];
	SPIPlanPtr	plan;
	int64		next = 0;
	MemoryContext probecxt = AllocSetContextCreate(CurrentMemoryContext,
												   "credimport transcript probe",
												   ALLOCSET_DEFAULT_SIZES);

	for (int c = 0; c < 5; c++)
		argtypes[c] = get_array_type(types[c]);
	plan = SPI_prepare("SELECT k.i, cr.provider, cr.course_title, (cr.number_credits OPERATOR(pg_catalog.*) 100)::pg_catalog.int8 "
					   "FROM unnest($1, $2, $3, $4, $5) AS k(i, l, c, t, d) "	/* (multi-argument unnest: not qualifiable) */
					   "JOIN credimport.credit cr ON cr.learner_id OPERATOR(pg_catalog.=) k.l "
					   "AND cr.course_id OPERATOR(pg_catalog.=) k.c "
					   "AND cr.credit_type_id OPERATOR(pg_catalog.=) k.t "
					   "AND cr.completion_date OPERATOR(pg_catalog.=) k.d",
					   5, argtypes);
	if (plan == NULL)
		elog(ERROR, "credimport: could not prepare the transcript probe");

	while (next < ld->nrows)
	{
		Datum	   *cols[5];
		int			n = 0;
		Datum		args[5];
		int			ret;
		MemoryContext old = MemoryContextSwitchTo(probecxt);

		for (int c = 0; c < 5; c++)
			cols[c] = palloc(sizeof(Datum) * TRANSCRIPT_PROBE_CHUNK);
		for (; next < ld->nrows && n < TRANSCRIPT_PROBE_CHUNK; next++)
		{
			CreditRow  *row = row_at(ld, next);

			CHECK_FOR_INTERRUPTS();
			if (row->nproblems > 0 || row->learner_id == 0)
				continue;
			cols[0][n] = Int64GetDatum(next);
			cols[1][n] = Int64GetDatum(row->learner_id);
			cols[2][n] = CStringGetTextDatum(row->course_id);
			cols[3][n] = Int32GetDatum(row->credit_type_id);
			cols[4][n] = DateADTGetDatum(row->date);
			n++;
		}
		if (n > 0)
		{
			args[0] = PointerGetDatum(construct_array(cols[0], n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			args[1] = PointerGetDatum(construct_array(cols[1], n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			args[2] = PointerGetDatum(construct_array(cols[2], n, TEXTOID, -1, false, TYPALIGN_INT));
			args[3] = PointerGetDatum(construct_array(cols[3], n, INT4OID, 4, true, TYPALIGN_INT));
			args[4] = PointerGetDatum(construct_array(cols[4], n, DATEOID, 4, true, TYPALIGN_INT));
			MemoryContextSwitchTo(old);
			ret = SPI_execute_plan(plan, args, NULL, false, 0);	/* fresh snapshot */
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "credimport: transcript probe failed: %s", SPI_result_code_string(ret));
			for (uint64 j = 0; j < SPI_processed; j++)
			{
				bool		isnull;
				int64		idx = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[j],
															  SPI_tuptable->tupdesc, 1, &isnull));

				CreditRow  *row = row_at(ld, idx);

				if (ld->opt->skip_existing &&
					strcmp(row->provider, SPI_getvalue(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 2)) == 0 &&
					strcmp(row->course_title, SPI_getvalue(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 3)) == 0 &&
					row->cents == DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[j],
															  SPI_tuptable->tupdesc, 4, &isnull)))
					row->skipped = true;
				else
					add_problem(ld, row, "record", "already_on_transcript", NULL,
								ld->opt->skip_existing ?
								"a different credit with this learner, course_id, credit_type and completion_date is already on the transcript; the importer never changes existing credits" :
								"this credit is already on the learner's transcript; the importer never changes existing credits");
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
}

/* the natural key of a credit: learner (or learner to be created), course, type, date */
static inline int64
row_learner_key(CreditRow *row)
{
	return row->learner_id ? row->learner_id : -(int64) row->pending;
}

static uint32
dup_hash(void *arg, uint32 idx)
{
	CreditRow  *row = row_at((CreditLoad *) arg, idx);
	int64		learner = row_learner_key(row);
	uint32		h = hash_bytes((const unsigned char *) row->course_id, strlen(row->course_id));

	h = hash_combine(h, murmurhash32((uint32) learner ^ (uint32) (learner >> 32)));
	h = hash_combine(h, murmurhash32((uint32) row->credit_type_id));
	h = hash_combine(h, murmurhash32((uint32) row->date));
	return h;
}

static bool
dup_equal(void *arg, uint32 a, uint32 b)
{
	CreditRow  *ra = row_at((CreditLoad *) arg, a);
	CreditRow  *rb = row_at((CreditLoad *) arg, b);

	return row_learner_key(ra) == row_learner_key(rb) &&
		ra->credit_type_id == rb->credit_type_id && ra->date == rb->date &&
		strcmp(ra->course_id, rb->course_id) == 0;
}

/* duplicate_in_file: a record with the key of an earlier valid record */
static void
find_duplicates(CreditLoad *ld)
{
	MemoryContext dupcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport duplicate keys",
												 ALLOCSET_DEFAULT_SIZES);
	DupSet	   *dups = dupkeys_create(dupcxt, (uint32) Min(ld->nrows, PG_INT32_MAX / 2),
									  dup_hash, dup_equal, ld);

	for (int64 i = 0; i < ld->nrows; i++)
	{
		CreditRow  *row = row_at(ld, i);
		uint32		first;

		CHECK_FOR_INTERRUPTS();
		if (row->nproblems > 0 || row->skipped)
			continue;
		first = dupkeys_check_add(dups, (uint32) i);
		if (first != (uint32) i)
			add_problem(ld, row, "record", "duplicate_in_file", NULL,
						"same learner, course_id, credit_type and completion_date as line " INT64_FORMAT,
						row_at(ld, first)->line_no);
	}
	MemoryContextDelete(dupcxt);
}

/* ---------------- writing ---------------- */

static char *
profile_json(CreditLoad *ld, NewLearner *nl)
{
	StringInfoData buf;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < ld->npcols; i++)
	{
		if (!ld->pcols[i].custom || nl->vals[i] == NULL)
			continue;
		if (!first)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, ld->pcols[i].name);
		appendStringInfoString(&buf, ": ");
		escape_json(&buf, nl->vals[i]);
		first = false;
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

static int
write_learners(CreditLoad *ld, int64 batch_id)
{
	static const char *const cols[7] = {"id", "email", "remote_id", "first_name", "last_name",
	"profile", "created_by_batch"};
	static const Oid types[7] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, INT8OID};
	TableWriter *w;
	Oid			seq;
	int			created = 0;
	MemoryContext rowcxt;

	if (ld->npending == 0)
		return 0;
	seq = identity_sequence("learner");
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport learner row",
								   ALLOCSET_SMALL_SIZES);
	w = tw_begin("learner", 7, cols, types);
	for (int i = 0; i < ld->npending; i++)
	{
		NewLearner *nl = &ld->pending[i];
		Datum		values[7];
		bool		nulls[7] = {0};
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (!nl->used)
			continue;
		nl->id = nextval_internal(seq, false);
		old = MemoryContextSwitchTo(rowcxt);
		values[0] = Int64GetDatum(nl->id);
		for (int c = 0; c < 4; c++)
		{
			/* pcols 0..3: email, remote_id, first_name, last_name */
			if (nl->vals[c])
				values[1 + c] = CStringGetTextDatum(nl->vals[c]);
			else
				nulls[1 + c] = true;
		}
		values[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(profile_json(ld, nl)));
		values[6] = Int64GetDatum(batch_id);
		MemoryContextSwitchTo(old);
		tw_add(w, values, nulls);
		MemoryContextReset(rowcxt);
		created++;
	}
	tw_end(w);
	MemoryContextDelete(rowcxt);
	return created;
}

static void
write_credits(CreditLoad *ld, int64 batch_id)
{
	static const char *const cols[10] = {"id", "learner_id", "provider", "course_title",
		"course_id", "completion_date", "number_credits", "credit_type_id", "user_editable",
	"batch_id"};
	static const Oid types[10] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, DATEOID,
	NUMERICOID, INT4OID, BOOLOID, INT8OID};
	TableWriter *w;
	Oid			seq = identity_sequence("credit");
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport credit row",
												 ALLOCSET_SMALL_SIZES);
	int64		written = 0;

	w = tw_begin("credit", 10, cols, types);
	elog(DEBUG1, "credimport: writing credits by %s",
		 tw_is_direct(w) ? "multi-insert" : "INSERT ... SELECT FROM unnest()");
	for (int64 i = 0; i < ld->nrows; i++)
	{
		CreditRow  *row = row_at(ld, i);
		Datum		values[10];
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (row->nproblems > 0 || row->skipped)
			continue;
		if (row->learner_id == 0)
			row->learner_id = ld->pending[row->pending - 1].id;
		row->credit_id = nextval_internal(seq, false);
		if (++written % 1000 == 0)
			pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, written);
		old = MemoryContextSwitchTo(rowcxt);
		values[0] = Int64GetDatum(row->credit_id);
		values[1] = Int64GetDatum(row->learner_id);
		values[2] = CStringGetTextDatum(row->provider);
		values[3] = CStringGetTextDatum(row->course_title);
		values[4] = CStringGetTextDatum(row->course_id);
		values[5] = DateADTGetDatum(row->date);
		values[6] = NumericGetDatum(int64_div_fast_to_numeric(row->cents, 2));
		values[7] = Int32GetDatum(row->credit_type_id);
		values[8] = BoolGetDatum(ld->opt->allow_edit);
		values[9] = Int64GetDatum(batch_id);
		MemoryContextSwitchTo(old);
		tw_add(w, values, NULL);
		MemoryContextReset(rowcxt);
	}
	tw_end(w);
	pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, written);
	MemoryContextDelete(rowcxt);
}

/* ---------------- the load ---------------- */

static void
credit_row_info(void *arg, int64 i, int64 *line_no, Problem **problems, int *nproblems)
{
	CreditRow  *row = row_at((CreditLoad *) arg, i);

	*line_no = row->line_no;
	*problems = row->problems;
	*nproblems = row->nproblems;
}

static void
emit_record_rows(CreditLoad *ld, ReturnSetInfo *rsinfo, BatchInfo *batch)
{
	bool		imported = (strcmp(batch->status, "imported") == 0);
	Datum		st_invalid = CStringGetTextDatum("invalid");
	Datum		st_imported = CStringGetTextDatum("imported");
	Datum		st_valid = CStringGetTextDatum("valid");
	Datum		st_skipped = CStringGetTextDatum("skipped");

	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport result rows",
											 ALLOCSET_SMALL_SIZES);
	MemoryContext oldcxt;

	for (int64 i = 0; i < ld->nrows; i++)
	{
		CreditRow  *row = row_at(ld, i);
		Datum		values[6];
		bool		nulls[6] = {0};
		int64		learner_id = row->learner_id;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(rowcxt);
		oldcxt = MemoryContextSwitchTo(rowcxt);
		if (learner_id == 0 && row->pending > 0)
			learner_id = ld->pending[row->pending - 1].id;
		values[0] = Int64GetDatum(batch->id);
		values[1] = Int64GetDatum(row->line_no);
		if (row->nproblems > 0)
			values[2] = st_invalid;
		else if (row->skipped)
			values[2] = st_skipped;
		else
			values[2] = imported ? st_imported : st_valid;
		values[3] = Int64GetDatum(learner_id);
		nulls[3] = (learner_id == 0);
		values[4] = Int64GetDatum(row->credit_id);
		nulls[4] = (row->credit_id == 0);
		values[5] = report_errors_array(row->problems, PROBLEMS_KEPT(row->nproblems));
		nulls[5] = (row->nproblems == 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(oldcxt);
		if (!nulls[5])
			pfree(DatumGetPointer(values[5]));
	}
	MemoryContextDelete(rowcxt);
}

/* pass 1: one record */
static void
new_row_record(void *arg, RecordCtx *rc, CsvRecord *rec)
{
	CreditLoad *ld = (CreditLoad *) arg;
	CreditRow *row = new_row(ld);

	row->line_no = rec->line_no;
	if (record_check_shape(rc))
		check_record(ld, rc, row);
	row->problems = rc->problems;
	row->nproblems = rc->nproblems;
}

void
credit_import(FunctionCallInfo fcinfo, Source *src, const ImportOptions *opt)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CreditLoad	ld;
	BatchInfo	batch;
	int64		invalid = 0;
	int64		skipped = 0;
	instr_time	t;
	bool		dry = (opt->output == OUTPUT_PROBLEMS);
	bool		validate_only = opt->validate_only || dry;

	INSTR_TIME_SET_CURRENT(t);
	memset(&ld, 0, sizeof(ld));
	memset(&batch, 0, sizeof(batch));
	ld.opt = opt;
	ld.mode = parse_match_mode(opt->match_mode);
	ld.cxt = CurrentMemoryContext;
	arena_init(&ld.arena, ld.cxt);
	rowstore_init(&ld.rows, ld.cxt, sizeof(CreditRow));
	ld.today = GetSQLCurrentDate();
	batch.started_at = GetCurrentStatementStartTimestamp();

	/* a load shows in pg_stat_progress_copy, as a COPY FROM would */
	pipeline_progress_start(src, "credit");

	build_columns(&ld);
	ld.types = dir_create(ld.cxt, 64);
	dir_load_all(ld.types, "SELECT pg_catalog.lower(code), id::pg_catalog.int8, active FROM credimport.credit_type");
	ld.learners = dir_create(ld.cxt, 1024);
	if (ld.mode == MM_FULL)
		ld.emails = dir_create(ld.cxt, 1024);

	{
		static const char *const full_any[] = {"email", "remote_id"};

		src->import_kind = "credits";
		ld.map = pipeline_read_header(src, ld.cols, ld.ncols,
									  ld.mode == MM_FULL ? full_any : NULL,
									  ld.mode == MM_FULL ? 2 : 0,
									  dry ? NULL : &batch.header);
	}

	/* pass 1: read and check every record */
	pipeline_read_records(src, ld.map, &ld.arena, ld.cxt, &ld.nrows, validate_only,
						  new_row_record, &ld);
	phase_done(&t, "read and checked", ld.nrows);

	/* pass 2: match, then look for credits already there and duplicates */
	if (!validate_only)
		pipeline_lock_writers();
	if (!dry)
		pipeline_warn_same_file(src, "Its records will be found on the transcripts already.");
	match_learners(&ld);
	phase_done(&t, "matched learners", ld.nrows);
	probe_transcripts(&ld);
	phase_done(&t, "probed transcripts", ld.nrows);
	find_duplicates(&ld);
	phase_done(&t, "found duplicates", ld.nrows);
	elog(DEBUG1, "credimport: %zu kB of memory hold the load's records, keys and problems",
		 MemoryContextMemAllocated(ld.cxt, true) / 1024);

	for (int64 i = 0; i < ld.nrows; i++)
	{
		CreditRow  *row = row_at(&ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->nproblems > 0)
			invalid++;
		else if (row->skipped)
			skipped++;
		else if (row->pending > 0)
			ld.pending[row->pending - 1].used = true;
	}
	pgstat_progress_update_param(PROGRESS_COPY_TUPLES_EXCLUDED, invalid + skipped);
	if (validate_only)
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, ld.nrows);

	if (dry)
	{
		/* credimport_validate: the problems, and nothing written */
		pipeline_emit_problems(rsinfo, ld.nrows, credit_row_info, &ld);
		pgstat_progress_end_command();
		return;
	}

	batch.kind = "credits";
	batch.source = src->description;
	batch.sha256 = src->sha256[0] ? src->sha256 : NULL;
	batch.match_mode = opt->match_mode;
	batch.allow_edit = opt->allow_edit;
	batch.validate_only = opt->validate_only;
	batch.records = (int) ld.nrows;
	batch.invalid = (int) invalid;
	batch.skipped = (int) skipped;
	if (opt->validate_only)
		batch.status = "validated";
	else if (invalid > opt->max_errors)
		batch.status = "rejected";
	else
	{
		batch.status = "imported";
		batch.imported = (int) (ld.nrows - invalid - skipped);
	}
	if (strcmp(batch.status, "imported") == 0)
		for (int i = 0; i < ld.npending; i++)
			if (ld.pending[i].used)
				batch.learners_created++;

	batch.columns = src->columns ? JsonbPGetDatum(src->columns) : (Datum) 0;
	report_insert_batch(&batch);
	credimport_last_batch = batch.id;
	if (strcmp(batch.status, "imported") == 0)
	{
		write_learners(&ld, batch.id);
		write_credits(&ld, batch.id);
		phase_done(&t, "wrote learners and credits", batch.imported);
	}

	/* problems, and the invalid records as they were, for the error report */
	if (invalid > 0)
	{
		pipeline_record_problems(src, batch.id, ld.nrows, credit_row_info, &ld);
		phase_done(&t, "wrote problems", batch.invalid);
	}
	report_finish_batch(&batch);

	emit_record_rows(&ld, rsinfo, &batch);
	pgstat_progress_end_command();
	report_notice(&batch);
}

/*
 * The header line a credit file for match_mode must have: the identifier,
 * (full mode) the learner profile fields, and the credit's columns.
 */
char *
credit_template(const char *match_mode)
{
	CreditLoad	ld;
	StringInfoData buf;
	ImportOptions opt;

	memset(&ld, 0, sizeof(ld));
	memset(&opt, 0, sizeof(opt));
	opt.match_mode = match_mode;
	ld.opt = &opt;
	ld.mode = parse_match_mode(match_mode);
	ld.cxt = CurrentMemoryContext;
	build_columns(&ld);

	initStringInfo(&buf);
	if (ld.mode == MM_FULL)
	{
		for (int i = 0; i < ld.npcols; i++)
			appendStringInfo(&buf, "%s%s", i ? "," : "", ld.pcols[i].name);
	}
	for (int c = 0; c < ld.ncols; c++)
		if (ld.cols[c].flags & COL_REQUIRED)
			appendStringInfo(&buf, "%s%s", buf.len ? "," : "", ld.cols[c].name);
	appendStringInfoChar(&buf, '\n');
	return buf.data;
}
