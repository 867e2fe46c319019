/*
 * kind_user.c
 *		The users kind: add or update learners (students, instructors,
 *		parents), their associations, and invitations for new accounts.
 *
 * Same pipeline as the credit kind (pipeline.c): the source's records are
 * read and checked once, people are resolved through directories filled
 * by one query each, and -- only when the batch is accepted -- learners are
 * created, updated and linked in bulk.
 *
 * A record names a person by e-mail or, without one, by username.  One
 * that matches an existing learner updates that learner's non-empty
 * fields; otherwise it creates one.  Associations (parent, instructor and
 * student columns, each a ';'-separated list of e-mails or usernames) may
 * name people created by the same file, in any order; whether they can be
 * resolved is decided by iterating to a fixed point, since a record that
 * turns out invalid creates nobody that others can point at.
 */
#include "kind.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/backend_progress.h"
#include "utils/lsyscache.h"

#include "match.h"
#include "options.h"
#include "pipeline.h"
#include "report.h"
#include "writer.h"


enum
{
	U_EMAIL,
	U_USERNAME,
	U_FIRST_NAME,
	U_LAST_NAME,
	U_ROLE,
	U_REMOTE_ID,
	U_PARENT,
	U_INSTRUCTOR,
	U_STUDENT,
	U_NBUILTIN
};

static const char *const user_col_names[U_NBUILTIN] = {
	"email", "username", "first_name", "last_name", "role", "remote_id",
	"parent", "instructor", "student"
};

#define role_names(r) option_word(&role_vocab, (r))

/* one associate named in a parent, instructor or student column */
typedef struct Assoc
{
	struct Assoc *next;
	uint8		col;			/* U_PARENT, U_INSTRUCTOR, U_STUDENT */
	char	   *token;			/* as written */
	DirEntry   *entry;			/* e-mail or username directory */
} Assoc;

/* outcomes of a valid record */
#define OUT_CREATED 0
#define OUT_UPDATED 1
#define OUT_UNCHANGED 2
static const KindOutcome user_outcomes[] = {
	[OUT_CREATED] = {"created"},
	[OUT_UPDATED] = {"updated"},
	[OUT_UNCHANGED] = {"unchanged"},
};

typedef struct UserRow
{
	KindRow		head;			/* learner_id: existing, or assigned when created */
	char	   *email;
	char	   *username;
	char	   *first_name;
	char	   *last_name;
	char	   *remote_id;
	char	  **custom;			/* custom profile fields */
	DirEntry   *by_email;
	DirEntry   *by_username;
	DirEntry   *by_remote;
	Assoc	   *assocs;
	uint8		role;			/* as given (ROLE_NONE: not given) */
	uint8		eff_role;		/* the learner's role after this record */
	bool		creates;		/* creates a new learner */
} UserRow;

typedef struct UserState
{
	bool		lacks[U_NBUILTIN];	/* fields the learner target has no column for */
	bool		lacks_profile;
	int			ncustom;
	bool		required[U_NBUILTIN];
	bool	   *custom_required;

	Directory  *emails;			/* lower(email) */
	Directory  *usernames;		/* lower(username) */
	Directory  *remotes;		/* remote_id */
	Directory  *claimed;		/* existing learners' ids, by the record that updates them */
} UserState;

#define US(ld) ((UserState *) (ld)->state)

static inline UserRow *
urow(Load *ld, int64 i)
{
	return (UserRow *) load_row(ld, i);
}

#define uproblem(ld, row, field, code, value, ...) \
	row_problem(ld, &(row)->head, field, code, value, __VA_ARGS__)

/* ---------------- columns ---------------- */

static void
build_user_columns(Load *ld)
{
	static const char *const any_of[] = {"email", "username"};

	US(ld)->ncustom = load_profile_fields(ld, user_col_names, U_NBUILTIN, US(ld)->required,
										  &US(ld)->custom_required);
	ld->required_any = any_of;
	ld->nrequired_any = 2;
}

static void
user_setup(Load *ld)
{
	ld->state = MemoryContextAllocZero(ld->cxt, sizeof(UserState));
	build_user_columns(ld);
	US(ld)->emails = dir_create(ld->cxt, 1024);
	US(ld)->usernames = dir_create(ld->cxt, 1024);
	US(ld)->remotes = dir_create(ld->cxt, 1024);
	US(ld)->claimed = dir_create(ld->cxt, 1024);
	{
		const Target *t = target_get(TR_LEARNER);

		for (int c = U_EMAIL; c <= U_REMOTE_ID; c++)
			US(ld)->lacks[c] = !target_has(t, user_col_names[c]);
		US(ld)->lacks_profile = !target_has(t, "profile");
	}
}

/* a value of column col the learner target cannot store: a problem (false) */
static bool
user_storable(Load *ld, RecordCtx *rc, int col, const char *v, Size len)
{
	bool		custom = (col >= U_NBUILTIN);

	if (custom ? !US(ld)->lacks_profile : !US(ld)->lacks[col])
		return true;
	return load_storable(ld, rc, TR_LEARNER, custom ? "profile" : user_col_names[col],
						 ld->cols[col].name, v, len);
}

/* ---------------- pass 1: checks ---------------- */

static char *
uvalue(Load *ld, RecordCtx *rc, int col, Size *len)
{
	return optional_value(rc, col, ld->cols[col].name, len);
}

static void
user_check(Load *ld, RecordCtx *rc, KindRow *head)
{
	UserRow    *row = (UserRow *) head;
	Size		len;
	char	   *v;
	bool		enc_problem = false;

	/* e-mail and username: who this record is about */
	v = record_value(rc, U_EMAIL, "email", &len);
	if (len == (Size) -1)
		enc_problem = true;
	else if (v && len > 0)
	{
		if (fc_check_email(v, len) != FC_OK)
			record_problem(rc, "email", "invalid_email", v, len,
						   "\"%s\" is not a valid e-mail address", v);
		else if (user_storable(ld, rc, U_EMAIL, v, len))
		{
			row->email = arena_strndup(&ld->arena, v, len);
			row->by_email = dir_insert(US(ld)->emails, lower_text(v, len), NULL);
		}
	}
	v = record_value(rc, U_USERNAME, "username", &len);
	if (len == (Size) -1)
		enc_problem = true;
	else if (v && len > 0)
	{
		if (memchr(v, '@', len) != NULL)
			record_problem(rc, "username", "invalid_value", v, len,
						   "\"%s\" is not a username: a username cannot contain @", v);
		else if (user_storable(ld, rc, U_USERNAME, v, len))
		{
			row->username = arena_strndup(&ld->arena, v, len);
			row->by_username = dir_insert(US(ld)->usernames, lower_text(v, len), NULL);
		}
	}
	if (rc->nproblems == 0 && !enc_problem && row->email == NULL && row->username == NULL)
		record_problem(rc, "email", "missing_value", NULL, 0,
					   "an email or a username is required");

	if ((v = uvalue(ld, rc, U_ROLE, &len)) != NULL)
	{
		int			r;

		if (option_find(&role_vocab, v, OPT_ALL, &r))
		{
			if (user_storable(ld, rc, U_ROLE, v, len))
				row->role = (uint8) r;
		}
		else
			record_problem(rc, "role", "invalid_role", v, len,
						   "\"%s\" is not a role (%s)", v, option_list(&role_vocab, OPT_ALL, false));
	}
	if ((v = uvalue(ld, rc, U_FIRST_NAME, &len)) != NULL && user_storable(ld, rc, U_FIRST_NAME, v, len))
		row->first_name = arena_strndup(&ld->arena, v, len);
	if ((v = uvalue(ld, rc, U_LAST_NAME, &len)) != NULL && user_storable(ld, rc, U_LAST_NAME, v, len))
		row->last_name = arena_strndup(&ld->arena, v, len);
	if ((v = uvalue(ld, rc, U_REMOTE_ID, &len)) != NULL && user_storable(ld, rc, U_REMOTE_ID, v, len))
	{
		row->remote_id = arena_strndup(&ld->arena, v, len);
		row->by_remote = dir_insert(US(ld)->remotes, v, NULL);
	}
	if (US(ld)->ncustom > 0)
	{
		row->custom = arena_alloc0(&ld->arena, sizeof(char *) * US(ld)->ncustom);
		for (int i = 0; i < US(ld)->ncustom; i++)
			if ((v = uvalue(ld, rc, U_NBUILTIN + i, &len)) != NULL &&
				user_storable(ld, rc, U_NBUILTIN + i, v, len))
				row->custom[i] = arena_strndup(&ld->arena, v, len);
	}

	/* associations: ';'-separated e-mails or usernames */
	for (int col = U_PARENT; col <= U_STUDENT; col++)
	{
		char	   *tok;
		char	   *save = NULL;

		if ((v = uvalue(ld, rc, col, &len)) == NULL)
			continue;
		for (tok = strtok_r(v, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
		{
			Size		tl = strlen(tok);
			char	   *t = fc_trim(tok, &tl);
			Assoc	   *a;

			if (tl == 0)
				continue;
			t[tl] = '\0';
			if (memchr(t, '@', tl) != NULL && fc_check_email(t, tl) != FC_OK)
			{
				record_problem(rc, user_col_names[col], "invalid_email", t, tl,
							   "\"%s\" is not a valid e-mail address", t);
				continue;
			}
			a = arena_alloc0(&ld->arena, sizeof(Assoc));
			a->col = (uint8) col;
			a->token = arena_strndup(&ld->arena, t, tl);
			a->entry = dir_insert(memchr(t, '@', tl) ? US(ld)->emails : US(ld)->usernames,
								  lower_text(t, tl), NULL);
			a->next = row->assocs;
			row->assocs = a;
		}
	}
}

/* ---------------- pass 2: who is who ---------------- */

static inline bool
row_valid(Load *ld, int64 aux)
{
	return aux > 0 && urow(ld, aux - 1)->head.nproblems == 0;
}

static uint8
role_code(const char *name)
{
	int			r;

	if (name && option_find(&role_vocab, name, OPT_ALL, &r))
		return (uint8) r;
	return ROLE_STUDENT;
}

/* the person a record is about: an existing learner, or one it creates */
static void
identify(Load *ld, int64 i)
{
	UserRow    *row = urow(ld, i);
	DirEntry   *key = row->email ? row->by_email : row->by_username;
	DirEntry   *match;
	int			missing = 0;

	if (key == NULL)
	{
		/* pass 1 records a problem for such a record; never rely on it here */
		uproblem(ld, row, "email", "missing_value", NULL, "an email or a username is required");
		return;
	}
	if (key->nfound > 1)
	{
		uproblem(ld, row, row->email ? "email" : "username", "ambiguous_learner",
				 row->email ? row->email : row->username, "%d learners have %s \"%s\"", key->nfound,
				 row->email ? "email" : "username", row->email ? row->email : row->username);
		return;
	}
	match = key->found ? key : NULL;
	if (key->aux > 0)
	{
		uproblem(ld, row, row->email ? "email" : "username", "duplicate_in_file",
				 row->email ? row->email : row->username,
				 "the same person as line " INT64_FORMAT, urow(ld, key->aux - 1)->head.line_no);
		return;
	}
	if ((row->username && row->by_username->nfound > 1) || (row->remote_id && row->by_remote->nfound > 1))
	{
		const char *f = (row->username && row->by_username->nfound > 1) ? "username" : "remote_id";
		const char *v = f[0] == 'u' ? row->username : row->remote_id;

		uproblem(ld, row, f, "ambiguous_learner", v, "%d learners have %s \"%s\"",
				 f[0] == 'u' ? row->by_username->nfound : row->by_remote->nfound, f, v);
		return;
	}
	if (row->email && row->username && row->by_username->aux > 0)
	{
		uproblem(ld, row, "username", "invalid_value", row->username,
				 "username \"%s\" is also given to another person on line " INT64_FORMAT,
				 row->username, urow(ld, row->by_username->aux - 1)->head.line_no);
		return;
	}
	if (row->username && row->by_username->found && (match == NULL || row->by_username->id != match->id))
	{
		uproblem(ld, row, "username", "invalid_value", row->username,
				 "username \"%s\" belongs to another learner", row->username);
		return;
	}
	if (row->remote_id &&
		((row->by_remote->found && (match == NULL || row->by_remote->id != match->id)) ||
		 row->by_remote->aux > 0))
	{
		uproblem(ld, row, "remote_id", "invalid_value", row->remote_id,
				 "remote_id \"%s\" belongs to another learner", row->remote_id);
		return;
	}

	if (match)
	{
		char		idkey[32];
		DirEntry   *claim;

		/* the same existing learner named by two records, by different keys */
		snprintf(idkey, sizeof(idkey), INT64_FORMAT, match->id);
		claim = dir_insert(US(ld)->claimed, idkey, NULL);
		if (row_valid(ld, claim->aux))
		{
			uproblem(ld, row, row->email ? "email" : "username", "duplicate_in_file",
					 row->email ? row->email : row->username,
					 "the same person as line " INT64_FORMAT, urow(ld, claim->aux - 1)->head.line_no);
			return;
		}
		claim->aux = i + 1;
		row->head.learner_id = match->id;
		row->eff_role = row->role ? row->role : role_code(match->extra);
	}
	else
	{
		/* a new learner: the required profile fields (a username stands in for the e-mail) */
		if (US(ld)->required[U_EMAIL] && row->email == NULL && row->username == NULL)
			missing++;
		if (US(ld)->required[U_FIRST_NAME] && row->first_name == NULL)
		{
			uproblem(ld, row, "first_name", "missing_value", NULL, "a value is required to create a new learner");
			missing++;
		}
		if (US(ld)->required[U_LAST_NAME] && row->last_name == NULL)
		{
			uproblem(ld, row, "last_name", "missing_value", NULL, "a value is required to create a new learner");
			missing++;
		}
		if (US(ld)->required[U_REMOTE_ID] && row->remote_id == NULL)
		{
			uproblem(ld, row, "remote_id", "missing_value", NULL, "a value is required to create a new learner");
			missing++;
		}
		for (int c = 0; c < US(ld)->ncustom; c++)
			if (US(ld)->custom_required[c] && (row->custom == NULL || row->custom[c] == NULL))
			{
				uproblem(ld, row, ld->cols[U_NBUILTIN + c].name, "missing_value", NULL,
						 "a value is required to create a new learner");
				missing++;
			}
		if (missing > 0)
			return;
		row->creates = true;
		row->eff_role = row->role ? row->role : ROLE_STUDENT;
	}

	/* which association columns fit this role */
	for (Assoc *a = row->assocs; a; a = a->next)
	{
		bool		fits = (row->eff_role == ROLE_STUDENT) ? (a->col != U_STUDENT) : (a->col == U_STUDENT);

		if (!fits)
		{
			uproblem(ld, row, user_col_names[a->col], "invalid_value", a->token,
					 row->eff_role == ROLE_STUDENT ?
					 "a student's record names parents and instructors, not students" :
					 "a parent's or instructor's record names students, not parents or instructors");
			return;
		}
	}

	/* this record now stands for the person */
	key->aux = i + 1;
	if (row->email && row->username)
		row->by_username->aux = i + 1;
	if (row->remote_id)
		row->by_remote->aux = i + 1;
}

/*
 * The association checks of one valid record: every associate exists or is
 * created by a valid record of this file, and none is the record's own
 * person.  Records a problem and returns false otherwise.
 */
static bool
associates_ok(Load *ld, int64 i)
{
	UserRow    *row = urow(ld, i);

	for (Assoc *a = row->assocs; a; a = a->next)
	{
		DirEntry   *e = a->entry;
		bool		self;

		if (!row_valid(ld, e->aux) && e->nfound > 1)
		{
			uproblem(ld, row, user_col_names[a->col], "ambiguous_learner", a->token,
					 "%d learners are \"%s\"", e->nfound, a->token);
			return false;
		}
		if (!row_valid(ld, e->aux) && !e->found)
		{
			uproblem(ld, row, user_col_names[a->col], "unknown_associate", a->token,
					 "no learner and no record of this file is \"%s\"", a->token);
			return false;
		}
		self = row_valid(ld, e->aux) ? (e->aux == i + 1) :
			(!row->creates && e->id == row->head.learner_id);
		if (self)
		{
			uproblem(ld, row, user_col_names[a->col], "invalid_value", a->token,
					 "a learner cannot be associated with themselves");
			return false;
		}
	}
	return true;
}

/* a new username-only student: needs an associated parent */
static inline bool
needs_parent(UserRow *row)
{
	return row->head.nproblems == 0 && row->creates && row->email == NULL &&
		row->eff_role == ROLE_STUDENT;
}

typedef struct AssocWork
{
	int64	   *dep_start;		/* record k -> dep[dep_start[k] .. dep_start[k+1]) */
	int64	   *dep;			/* records naming the person of record k */
	int64	   *queue;			/* ring of records to check again */
	bool	   *queued;
	int64		qhead;
	int64		qlen;
	int64	   *fallen;			/* records found invalid since the parents were counted */
	int64		nfallen;
} AssocWork;

/* record k was found invalid: check again those that name its person */
static void
assoc_fall(Load *ld, AssocWork *w, int64 k)
{
	for (int64 d = w->dep_start[k]; d < w->dep_start[k + 1]; d++)
	{
		int64		j = w->dep[d];

		if (w->queued[j] || urow(ld, j)->head.nproblems > 0)
			continue;
		w->queued[j] = true;
		w->queue[(w->qhead + w->qlen++) % ld->nrows] = j;
	}
	w->fallen[w->nfallen++] = k;
}

static void
assoc_drain(Load *ld, AssocWork *w)
{
	while (w->qlen > 0)
	{
		int64		j = w->queue[w->qhead];

		CHECK_FOR_INTERRUPTS();
		w->qhead = (w->qhead + 1) % ld->nrows;
		w->qlen--;
		w->queued[j] = false;
		if (urow(ld, j)->head.nproblems == 0 && !associates_ok(ld, j))
			assoc_fall(ld, w, j);
	}
}

/*
 * Associates must exist or be created by a valid record of this file, and
 * a new username-only student needs a parent.  A record found invalid
 * creates nobody, which may make others invalid: a worklist carries that
 * through the records that name its person (each record is checked again
 * only when one it depends on falls), so the whole is linear in the number
 * of records and associations.
 */
static void
check_associations(Load *ld)
{
	int64		n = ld->nrows;
	AssocWork	w;
	int64	   *fill;
	int32	   *parents;		/* valid parent sources of each record */
	bool	   *counted;		/* a record's parent contributions are in parents[] */
	int64	   *cand;
	int64		ncand = 0;

	if (n == 0)
		return;
	memset(&w, 0, sizeof(w));
	w.dep_start = MemoryContextAllocExtended(ld->cxt, sizeof(int64) * (n + 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (int64 i = 0; i < n; i++)
	{
		UserRow    *row = urow(ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems > 0)
			continue;
		for (Assoc *a = row->assocs; a; a = a->next)
			if (row_valid(ld, a->entry->aux) && a->entry->aux != i + 1)
				w.dep_start[a->entry->aux]++;	/* counted at k + 1 */
	}
	for (int64 k = 0; k < n; k++)
		w.dep_start[k + 1] += w.dep_start[k];
	w.dep = MemoryContextAllocHuge(ld->cxt, sizeof(int64) * Max(w.dep_start[n], 1));
	fill = MemoryContextAllocHuge(ld->cxt, sizeof(int64) * n);
	memcpy(fill, w.dep_start, sizeof(int64) * n);
	for (int64 i = 0; i < n; i++)
	{
		UserRow    *row = urow(ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems > 0)
			continue;
		for (Assoc *a = row->assocs; a; a = a->next)
			if (row_valid(ld, a->entry->aux) && a->entry->aux != i + 1)
				w.dep[fill[a->entry->aux - 1]++] = i;
	}
	pfree(fill);
	w.queue = MemoryContextAllocHuge(ld->cxt, sizeof(int64) * n);
	w.queued = MemoryContextAllocExtended(ld->cxt, sizeof(bool) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	w.fallen = MemoryContextAllocHuge(ld->cxt, sizeof(int64) * n);

	/* every record once, in file order; then those whose associates fell */
	for (int64 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (urow(ld, i)->head.nproblems == 0 && !associates_ok(ld, i))
			assoc_fall(ld, &w, i);
	}
	assoc_drain(ld, &w);

	/* parents of new username-only students: count each student's sources */
	parents = MemoryContextAllocExtended(ld->cxt, sizeof(int32) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	counted = MemoryContextAllocExtended(ld->cxt, sizeof(bool) * n, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	cand = MemoryContextAllocHuge(ld->cxt, sizeof(int64) * n);
	for (int64 i = 0; i < n; i++)
	{
		UserRow    *row = urow(ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems > 0)
			continue;
		counted[i] = true;
		for (Assoc *a = row->assocs; a; a = a->next)
		{
			if (a->col == U_PARENT)
				parents[i] = 1;
			else if (a->col == U_STUDENT && row->eff_role == ROLE_PARENT && row_valid(ld, a->entry->aux))
				parents[a->entry->aux - 1]++;
		}
	}
	for (int64 i = 0; i < n; i++)
		if (needs_parent(urow(ld, i)) && parents[i] == 0)
			cand[ncand++] = i;
	w.nfallen = 0;

	while (ncand > 0)
	{
		/* these students have no parent left: they fall, and so may others */
		for (int64 c = 0; c < ncand; c++)
		{
			UserRow    *row = urow(ld, cand[c]);

			CHECK_FOR_INTERRUPTS();
			if (row->head.nproblems > 0)
				continue;
			uproblem(ld, row, "username", "missing_parent_for_username", row->username,
					 "a student with a username but no e-mail needs an associated parent, who completes the account activation");
			assoc_fall(ld, &w, cand[c]);
		}
		ncand = 0;
		assoc_drain(ld, &w);

		/* a parent's record that fell no longer counts for its students */
		for (int64 f = 0; f < w.nfallen; f++)
		{
			int64		p = w.fallen[f];
			UserRow    *row = urow(ld, p);

			CHECK_FOR_INTERRUPTS();
			if (!counted[p] || row->eff_role != ROLE_PARENT)
				continue;
			counted[p] = false;
			for (Assoc *a = row->assocs; a; a = a->next)
			{
				int64		s;

				if (a->col != U_STUDENT || a->entry->aux <= 0)
					continue;
				s = a->entry->aux - 1;
				if (--parents[s] == 0 && needs_parent(urow(ld, s)))
					cand[ncand++] = s;
			}
		}
		w.nfallen = 0;
	}
}

/* ---------------- writing ---------------- */

static char *
user_profile(Load *ld, UserRow *row)
{
	return profile_json(&ld->cols[U_NBUILTIN], row->custom, US(ld)->ncustom);
}

/* a learner created: its id comes back from the written row */
static void
created_key(Load *ld, int64 item, Datum key, bool isnull, Oid key_type)
{
	if (!isnull && key_type == INT8OID)
		urow(ld, item)->head.learner_id = DatumGetInt64(key);
}

static int
create_learners(Load *ld, int64 batch_id)
{
	static const char *const fields[8] = {"email", "remote_id", "first_name", "last_name",
	"username", "role", "profile", "created_by_batch"};
	static const Oid types[8] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	JSONBOID, INT8OID};
	static const int from_col[6] = {U_EMAIL, U_REMOTE_ID, U_FIRST_NAME, U_LAST_NAME, U_USERNAME, U_ROLE};
	bool		omit[8] = {0};
	LoadWriter *w;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport user row",
												 ALLOCSET_SMALL_SIZES);
	int			n = 0;

	/* a column the file does not have: the relation's default */
	for (int f = 0; f < 6; f++)
		omit[f] = !load_file_has(ld, from_col[f]);
	omit[6] = true;
	for (int c = 0; c < US(ld)->ncustom; c++)
		if (load_file_has(ld, U_NBUILTIN + c))
			omit[6] = false;
	w = load_writer_begin(ld, TR_LEARNER, 8, fields, types, "learner", created_key, NULL, true, omit);
	for (int64 i = 0; i < ld->nrows; i++)
	{
		UserRow    *row = urow(ld, i);
		Datum		values[8];
		bool		nulls[8] = {0};
		char	   *profile;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems > 0 || !row->creates)
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		values[0] = text_or_null(row->email, &nulls[0]);
		values[1] = text_or_null(row->remote_id, &nulls[1]);
		values[2] = text_or_null(row->first_name, &nulls[2]);
		values[3] = text_or_null(row->last_name, &nulls[3]);
		values[4] = text_or_null(row->username, &nulls[4]);
		values[5] = CStringGetTextDatum(role_names(row->eff_role));
		profile = user_profile(ld, row);
		values[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(profile ? profile : "{}"));
		values[7] = Int64GetDatum(batch_id);
		MemoryContextSwitchTo(old);
		load_writer_add(w, i, values, nulls);
		MemoryContextReset(rowcxt);
		row->head.outcome = OUT_CREATED;
		n++;
	}
	load_writer_end(w);
	MemoryContextDelete(rowcxt);
	return n;
}

typedef struct UpdatedIds
{
	int64	   *ids;
	int			n;
	int			cap;
} UpdatedIds;

static void
collect_updated(void *arg, SPITupleTable *tuptable, uint64 n)
{
	UpdatedIds *u = (UpdatedIds *) arg;

	for (uint64 j = 0; j < n; j++)
	{
		bool		isnull;

		if (u->n == u->cap)
		{
			u->cap = u->cap ? u->cap * 2 : 1024;
			u->ids = u->ids ? repalloc_huge(u->ids, sizeof(int64) * u->cap) :
				MemoryContextAllocHuge(CurTransactionContext, sizeof(int64) * u->cap);
		}
		u->ids[u->n++] = DatumGetInt64(SPI_getbinval(tuptable->vals[j], tuptable->tupdesc, 1, &isnull));
	}
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* update existing learners' non-empty fields; outcome updated or unchanged */
static void
update_learners(Load *ld, int *updated, int *unchanged)
{
	static const char *const all_fields[6] = {"first_name", "last_name", "remote_id", "username",
	"role", "profile"};
	static const Oid all_types[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID};
	static const char all_modes[6] = {'c', 'c', 'c', 'c', 'c', 'j'};
	const Target *t = target_get(TR_LEARNER);
	const char *fields[6];
	Oid			types[7];
	char		modes[6];
	int			set[6];
	int			nset = 0;
	UpdatedIds	u = {0};
	BulkInsert *b = NULL;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport user update",
												 ALLOCSET_SMALL_SIZES);

	types[0] = INT8OID;
	for (int f = 0; f < 6; f++)
		if (target_has(t, all_fields[f]))
		{
			fields[nset] = all_fields[f];
			types[nset + 1] = all_types[f];
			modes[nset] = all_modes[f];
			set[nset] = f;
			nset++;
		}
	/* (a target with none of the fields: every learner named is unchanged) */
	if (nset > 0)
		b = bulk_begin_ex(target_sql_update(t, INT8OID, nset, fields, &types[1], modes, true, true),
						  nset + 1, types, 10000, false, collect_updated, &u);
	for (int64 i = 0; b && i < ld->nrows; i++)
	{
		UserRow    *row = urow(ld, i);
		Datum		all[6];
		bool		allnulls[6] = {0};
		Datum		values[7];
		bool		nulls[7] = {0};
		char	   *profile;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems > 0 || row->creates)
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		all[0] = text_or_null(row->first_name, &allnulls[0]);
		all[1] = text_or_null(row->last_name, &allnulls[1]);
		all[2] = text_or_null(row->remote_id, &allnulls[2]);
		all[3] = text_or_null(row->username, &allnulls[3]);
		all[4] = text_or_null(row->role ? role_names(row->role) : NULL, &allnulls[4]);
		profile = user_profile(ld, row);
		allnulls[5] = (profile == NULL);
		all[5] = profile ? DirectFunctionCall1(jsonb_in, CStringGetDatum(profile)) : (Datum) 0;
		values[0] = Int64GetDatum(row->head.learner_id);
		for (int f = 0; f < nset; f++)
		{
			values[f + 1] = all[set[f]];
			nulls[f + 1] = allnulls[set[f]];
		}
		MemoryContextSwitchTo(old);
		bulk_add(b, values, nulls);
		load_row_written(ld);
		MemoryContextReset(rowcxt);
	}
	if (b)
		bulk_end(b);
	MemoryContextDelete(rowcxt);

	if (u.n > 1)
		qsort(u.ids, u.n, sizeof(int64), cmp_int64);
	*updated = *unchanged = 0;
	for (int64 i = 0; i < ld->nrows; i++)
	{
		UserRow    *row = urow(ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems > 0 || row->creates)
			continue;
		if (u.n > 0 && bsearch(&row->head.learner_id, u.ids, u.n, sizeof(int64), cmp_int64))
		{
			row->head.outcome = OUT_UPDATED;
			(*updated)++;
		}
		else
		{
			row->head.outcome = OUT_UNCHANGED;
			(*unchanged)++;
		}
	}
}

/* the id of an associate, once everyone is created */
static int64
associate_id(Load *ld, Assoc *a)
{
	if (row_valid(ld, a->entry->aux))
		return urow(ld, a->entry->aux - 1)->head.learner_id;
	return a->entry->id;
}

static void
write_links(Load *ld, int64 batch_id)
{
	static const char *const all_fields[4] = {"learner_id", "related_learner_id", "relation", "batch_id"};
	static const Oid all_types[4] = {INT8OID, INT8OID, TEXTOID, INT8OID};
	const Target *t = target_get(TR_LEARNER_LINK);
	int			nf = target_has(t, "batch_id") ? 4 : 3;
	BulkInsert *b = NULL;
	Datum		rel_parent = CStringGetTextDatum("parent");
	Datum		rel_instructor = CStringGetTextDatum("instructor");

	for (int64 i = 0; i < ld->nrows; i++)
	{
		UserRow    *row = urow(ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems > 0)
			continue;
		for (Assoc *a = row->assocs; a; a = a->next)
		{
			Datum		values[4];
			int64		other = associate_id(ld, a);

			if (b == NULL)
			{
				TargetInsertOptions o = {.cast_params = true, .override_generated = true,
				.on_conflict_nothing = true};

				b = bulk_begin_ex(target_sql_insert(t, nf, all_fields, all_types, &o),
								  nf, all_types, 10000, false, NULL, NULL);
			}
			if (a->col == U_STUDENT)
			{
				/* a parent's or instructor's record: stored from the student's side */
				values[0] = Int64GetDatum(other);
				values[1] = Int64GetDatum(row->head.learner_id);
				values[2] = row->eff_role == ROLE_PARENT ? rel_parent : rel_instructor;
			}
			else
			{
				values[0] = Int64GetDatum(row->head.learner_id);
				values[1] = Int64GetDatum(other);
				values[2] = a->col == U_PARENT ? rel_parent : rel_instructor;
			}
			values[3] = Int64GetDatum(batch_id);
			bulk_add(b, values, NULL);
		}
	}
	if (b)
		bulk_end(b);
}

/* an invitation with an unguessable token for each learner created; one NOTIFY */
static void
write_invitations(Load *ld, int64 batch_id)
{
	static const char *const fields[3] = {"learner_id", "batch_id", "token"};
	static const Oid types[3] = {INT8OID, INT8OID, TEXTOID};
	LoadWriter *w = load_writer_begin(ld, TR_INVITATION, 3, fields, types, "invitation",
									  NULL, NULL, false, NULL);
	int			n = 0;
	char		payload[32];

	for (int64 i = 0; i < ld->nrows; i++)
	{
		UserRow    *row = urow(ld, i);
		uint8		raw[24];
		char		token[sizeof(raw) * 2 + 1];
		Datum		values[3];

		CHECK_FOR_INTERRUPTS();
		if (row->head.nproblems > 0 || !row->creates)
			continue;
		if (!pg_strong_random(raw, sizeof(raw)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random invitation token")));
		hex_encode((const char *) raw, sizeof(raw), token);
		token[sizeof(raw) * 2] = '\0';
		values[0] = Int64GetDatum(row->head.learner_id);
		values[1] = Int64GetDatum(batch_id);
		values[2] = CStringGetTextDatum(token);
		load_writer_add(w, i, values, NULL);
		n++;
	}
	load_writer_end(w);
	if (n > 0)
	{
		snprintf(payload, sizeof(payload), INT64_FORMAT, batch_id);
		Async_Notify("credimport_invitation", payload);
	}
}

/* ---------------- the declaration ---------------- */

/* pass 2: who is who */
static void
user_match(Load *ld)
{
	const Target *t = target_get(TR_LEARNER);

	/* (a directory of a field the target lacks holds only associates' names: none exists) */
	if (dir_count(US(ld)->emails) > 0 && !US(ld)->lacks[U_EMAIL])
		dir_resolve(US(ld)->emails, target_sql_resolve(t, "email", true, "role"), target_lookup_chunk(t));
	if (dir_count(US(ld)->usernames) > 0 && !US(ld)->lacks[U_USERNAME])
		dir_resolve(US(ld)->usernames, target_sql_resolve(t, "username", true, "role"), target_lookup_chunk(t));
	if (dir_count(US(ld)->remotes) > 0)
		dir_resolve(US(ld)->remotes, target_sql_resolve(t, "remote_id", false, NULL), target_lookup_chunk(t));
	for (int64 i = 0; i < ld->nrows; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (urow(ld, i)->head.nproblems == 0)
			identify(ld, i);
	}
	check_associations(ld);
}

static void
user_write(Load *ld)
{
	BatchInfo  *batch = ld->batch;

	batch->learners_created = create_learners(ld, batch->id);
	update_learners(ld, &batch->learners_updated, &batch->learners_unchanged);
	write_links(ld, batch->id);
	if (ld->opt->auto_invite)
		write_invitations(ld, batch->id);
	batch->imported = batch->learners_created + batch->learners_updated + batch->learners_unchanged;
}

/* the header line of a users file: every column, custom profile fields included */
static char *
user_template(const char *match_mode)
{
	Load		ld;
	StringInfoData buf;

	memset(&ld, 0, sizeof(ld));
	ld.cxt = CurrentMemoryContext;
	ld.state = palloc0(sizeof(UserState));
	build_user_columns(&ld);
	initStringInfo(&buf);
	for (int c = 0; c < ld.ncols; c++)
		appendStringInfo(&buf, "%s%s", c ? "," : "", ld.cols[c].name);
	appendStringInfoChar(&buf, '\n');
	return buf.data;
}

const KindDecl user_kind = {
	.name = "users",
	.writes = TR_LEARNER,
	.row_size = sizeof(UserRow),
	.batch_match_mode = "email_or_username",
	.reimport_detail = "Its people will be found as they were left by that batch, unless they were changed since.",
	.outcomes = user_outcomes,
	.noutcomes = lengthof(user_outcomes),
	.counts_after_write = true,
	.outcome_notice = true,
	.setup = user_setup,
	.check = user_check,
	.match = user_match,
	.write = user_write,
	.template = user_template,
};
