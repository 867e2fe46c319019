/*
 * kind.h
 *		What a kind of import is: a declaration.
 *
 * A kind (credits, users, credentials, ...) is a const KindDecl: its name,
 * the target it writes, the options it takes, its natural key, its outcome
 * words and its result columns -- plus function pointers for the few things
 * that are truly its own (its columns' checks, its matching rules, its
 * writes).  One orchestrator, pipeline_run() (pipeline.c), runs every kind:
 * set-up, progress, header, pass 1, lock, re-import warning, match,
 * duplicates, count, batch row, write, problems, result rows, NOTICE.
 *
 * Adding a kind: a file kind_NAME.c defining `const KindDecl NAME_kind`,
 * and one line in the registry (kinds[] in pipeline.c).
 */
#ifndef CREDIMPORT_KIND_H
#define CREDIMPORT_KIND_H

#include "credimport.h"

#include "funcapi.h"
#include "utils/date.h"

#include "match.h"
#include "options.h"
#include "pipeline.h"
#include "report.h"
#include "target.h"

/*
 * Every kind's row begins with a KindRow: what the orchestrator reads and
 * reports.  The kind's own fields follow.
 */
typedef struct KindRow
{
	int64		line_no;
	Problem    *problems;
	int			nproblems;		/* every problem, kept or not */
	uint8		outcome;		/* index into the kind's outcomes[] */
	uint16		given;			/* declared columns with a value (bit per column) */
	char	   *ident;			/* the learner's identifier as written */
	DirEntry   *match;			/* its directory entry (NULL: not matched by identifier) */
	int64		learner_id;		/* result column learner_id (0: NULL) */
	int64		key;			/* result column of the written row's key (0: NULL) */
} KindRow;

/*
 * An outcome of a valid record: the status word reported when the batch
 * is imported.  A "decided" outcome (skipped) is known before writing: the
 * row is not written, is counted as skipped and reported so in every
 * status; the others are reported as "valid" unless the batch is imported.
 */
typedef struct KindOutcome
{
	const char *word;
	bool		decided;
} KindOutcome;

/* the options of one load (each kind reads those it takes) */
typedef struct LoadOptions
{
	const char *match_mode;		/* as given (NULL: the kind takes none) */
	MatchMode	mode;
	bool		validate_only;
	bool		problems_only;	/* credimport_validate: one row per problem, nothing written */
	int			max_errors;
	bool		allow_edit;		/* credits */
	bool		skip_existing;	/* credits: if_exists => 'skip' */
	bool		approve;		/* credentials */
	bool		auto_invite;	/* users */
	bool		key_text;		/* the result rows end with the key as text (1.5's credit_key, credential_key) */
} LoadOptions;

struct KindDecl;

/*
 * A column declared as data: its name, whether the header must have it
 * (COL_REQUIRED) and a record a value (COL_VALUE_REQ), the check of its
 * value, where pass 1 keeps the typed value in the kind's row (offset), the
 * target field it is written to (NULL: none), and whether it belongs to
 * the natural key (with the learner).  A kind that declares its columns
 * needs no function of its own for set-up, checks, duplicates, the
 * existence probe or the write.
 */
typedef enum ValueCheck
{
	VC_TEXT,					/* char *, trimmed */
	VC_EMAIL,					/* char *, a valid e-mail address */
	VC_DATE,					/* DateADT (int32), credimport.date_format */
	VC_PAST_DATE,				/* ... not in the future */
	VC_CREDITS,					/* int64 cents: a positive number, 2 decimals */
	VC_BOOL,					/* bool */
	VC_CODE						/* int32: the id of an active row of code_role by its code */
} ValueCheck;

#define COL_KEY		0x04		/* part of the natural key */

typedef struct KindColumnDecl
{
	const char *name;
	int			flags;			/* COL_REQUIRED, COL_VALUE_REQ, COL_KEY */
	ValueCheck	check;
	Size		offset;			/* of the typed value in the kind's row */
	const char *field;			/* target field written (NULL: none) */
	TargetRole	code_role;		/* VC_CODE: the role whose codes it names (credit_type, ...) */
} KindColumnDecl;

#define KIND_MAX_DECLARED 16

/* the state of one load, shared by the orchestrator and the kind */
typedef struct Load
{
	const struct KindDecl *kind;
	const LoadOptions *opt;
	Source	   *src;
	MemoryContext cxt;			/* everything of this load */
	Arena		arena;
	ColumnMap  *map;
	KindColumn *cols;			/* the kind's columns (set up by the kind) */
	int			ncols;
	const char *const *required_any;	/* one of these columns is required */
	int			nrequired_any;
	Directory  *learners;		/* by the match_mode's identifier */
	DateADT		today;
	RowStore	rows;
	int64		nrows;
	int64		written;		/* rows written (progress) */
	BatchInfo  *batch;
	const char *tenant;			/* the caller's tenant; NULL: tenancy off */
	bool		imported;		/* the batch is imported */
	char	  **key_text;		/* keys that are not integers (uuid, ...), by row; NULL: none */
	void	   *state;			/* the kind's own */
} Load;

static inline KindRow *
load_row(Load *ld, int64 i)
{
	return (KindRow *) rowstore_at(&ld->rows, i);
}

/* a problem of a row found after pass 1 */
#define row_problem(ld, row, field, code, value, ...) \
	problem_append(&(ld)->arena, &(row)->problems, &(row)->nproblems, field, code, value, __VA_ARGS__)

typedef struct KindDecl
{
	const char *name;			/* "credits": batch.kind, header aliases, credimport_template */
	TargetRole	writes;			/* the target shown in pg_stat_progress_copy */
	Size		row_size;		/* its row, beginning with a KindRow */
	uint32		match_modes;	/* the match_mode words it takes (0: none) */
	const char *batch_match_mode;	/* batch.match_mode when it takes none */
	const char *reimport_detail;	/* DETAIL of the re-import WARNING */

	/* the natural key: duplicate_in_file "<dup_what> as line N" (NULL: none) */
	const char *dup_what;
	uint32		(*dup_hash) (Load *ld, KindRow *row);
	bool		(*dup_equal) (Load *ld, KindRow *a, KindRow *b);

	/* declared columns, after the match_mode's identifier (NULL: the kind's setup builds them) */
	const KindColumnDecl *columns;
	int			ncolumns;
	const char *what;			/* one row, in messages: "attendance record" */

	const KindOutcome *outcomes;	/* [0] is a valid row's outcome unless the kind says */
	int			noutcomes;
	bool		result_key;		/* result rows have a column for KindRow.key */
	bool		counts_after_write;	/* the write sets learners_* counts */

	/*
	 * The NOTICE of an imported batch counts the outcomes ("N records, 3
	 * added, 1 updated, 0 deleted, 2 invalid" and the suffix, if any);
	 * otherwise report_notice() says it.
	 */
	bool		outcome_notice;
	const char *(*notice_suffix) (Load *ld, const int *outcome_counts);

	/* columns and directories; may check the options (NULL: the declared columns) */
	void		(*setup) (Load *ld);
	/* pass 1: check one record, in a per-record memory context (NULL: the declared checks) */
	void		(*check) (Load *ld, RecordCtx *rc, KindRow *row);
	/* pass 2, after learners are matched by identifier: the kind's own rules */
	void		(*match) (Load *ld);
	/* before the batch row: the counts only the kind knows */
	void		(*count) (Load *ld);
	/* the writes of an imported batch (NULL: the declared columns into the target "writes") */
	void		(*write) (Load *ld);
	/* the header line of a file of this kind */
	char	   *(*template) (const char *match_mode);
} KindDecl;

/* ---- the registry (pipeline.c) ---- */
extern const KindDecl *kind_by_name(const char *name);
extern const OptionVocab *kind_vocab(void);
/* the header line a file of the kind must have */
extern char *kind_template(const KindDecl *k, const char *match_mode);

/* ---- the orchestrator ---- */
extern void pipeline_run(FunctionCallInfo fcinfo, Source *src, const KindDecl *kind,
						 const LoadOptions *opt);

/* ---- shared helpers for kinds ---- */

/* a row was written: progress every 1000 */
extern void load_row_written(Load *ld);

/* a required value: NULL after recording missing_value (or an encoding problem) */
extern char *required_value(RecordCtx *rc, int col, const char *name, Size *len);
/* an optional value: NULL when absent, empty or not valid text */
extern char *optional_value(RecordCtx *rc, int col, const char *name, Size *len);

/*
 * The custom profile fields (credimport.profile_field): appended to
 * ld->cols after nbuiltin built-in columns (whose "required" flags go to
 * builtin_required, by name); returns how many, with their required flags.
 */
extern int	load_profile_fields(Load *ld, const char *const *builtin, int nbuiltin,
								bool *builtin_required, bool **custom_required);
/* {"name": "value", ...} of the custom fields given (NULL when none is) */
extern char *profile_json(const KindColumn *cols, char *const *vals, int n);

/*
 * The identifier column of the match_mode (email, remote_id, user_id):
 * ident_check in pass 1 fills row->ident and row->match; the orchestrator
 * resolves and matches them (unknown_learner, inactive_learner) before the
 * kind's match().
 */
extern void load_ident_check(Load *ld, RecordCtx *rc, KindRow *row, int col);

/*
 * Existence probe: one query per 50,000 rows.  sql takes $1 int8[] (row
 * indexes) and one array per key (of key_types); returns (i, results...).
 * key(ld, row, keys) fills the keys of a row to probe (false: skip it);
 * hit(ld, row, tuple) sees each row found.
 */
typedef bool (*probe_key_fn) (Load *ld, KindRow *row, Datum *keys);
typedef void (*probe_hit_fn) (Load *ld, KindRow *row, HeapTuple tup, TupleDesc desc);
extern void load_probe(Load *ld, const char *sql, int nkeys, const Oid *key_types,
					   probe_key_fn key, probe_hit_fn hit);

/*
 * Writing into a target (tw_begin_target): the kind adds items (a row
 * index, or its own numbering) and gets each written row's key back
 * through key (load_row_key: into the row's result key), line (NULL:
 * load_row_line) naming the item's source line in errors raised while
 * writing it.  Fields the target has no column for are not written (the
 * kind refuses, with load_storable, values it cannot store), nor those
 * omit[] says (a column the file does not have: the relation's default
 * applies, as with INSERT).  The batch is
 * recorded as the rows' provenance.  count: each row is a written tuple
 * of the load's progress.
 */
typedef struct LoadWriter LoadWriter;
typedef void (*load_key_fn) (Load *ld, int64 item, Datum key, bool isnull, Oid key_type);
typedef int64 (*load_line_fn) (Load *ld, int64 item);
extern void load_row_key(Load *ld, int64 item, Datum key, bool isnull, Oid key_type);
/* the result key of row i that is not an integer (a uuid, ...), as text */
extern void load_row_key_text(Load *ld, int64 i, const char *key);
extern int64 load_row_line(Load *ld, int64 item);
extern LoadWriter *load_writer_begin(Load *ld, TargetRole role, int nfields,
									 const char *const *fields, const Oid *types,
									 const char *what, load_key_fn key, load_line_fn line,
									 bool count, const bool *omit);
/* does the file have kind column col (a value for every record, even empty)? */
extern bool load_file_has(Load *ld, int col);
extern void load_writer_add(LoadWriter *lw, int64 item, const Datum *values, const bool *nulls);
extern void load_writer_end(LoadWriter *lw);
extern bool load_writer_direct(LoadWriter *lw);

/* a value for a field the target lacks: a problem "not_stored" of the record (false) */
extern bool load_storable(Load *ld, RecordCtx *rc, TargetRole role, const char *field,
						  const char *column, const char *v, Size len);

#endif							/* CREDIMPORT_KIND_H */
