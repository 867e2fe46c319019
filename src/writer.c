/*
 * writer.c
 *		Bulk writes of resolved rows through the executor.
 *
 * Rows are buffered column-wise and written a chunk at a time by one
 * prepared INSERT ... SELECT FROM unnest(...) statement: one executor run
 * per chunk rather than per row, while every constraint, index, trigger
 * and foreign key of the target is honoured exactly as for any INSERT.
 */
#include "writer.h"

#include "executor/spi.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

struct BulkInsert
{
	SPIPlanPtr	plan;
	int			ncols;
	int			chunk;
	int			n;
	Oid		   *types;
	int16	   *typlen;
	bool	   *typbyval;
	char	   *typalign;
	Datum	  **values;			/* [col][row] */
	bool	  **nulls;
	MemoryContext cxt;			/* holds copies of buffered values */
	bool		exact;			/* every row must be written */
	bulk_result_fn on_result;
	void	   *arg;
	struct TableWriter *tw;		/* a TableWriter's INSERT route: tracks rows */
	bool		sentinel;		/* append a row of NULLs (see tw_track_rows) */
};

static int	bulk_execute(BulkInsert *b, Datum *args);
static void tw_chunk_done(struct TableWriter *w, int n);

BulkInsert *
bulk_begin(const char *sql, int ncols, const Oid *types, int chunk)
{
	return bulk_begin_ex(sql, ncols, types, chunk, true, NULL, NULL);
}

BulkInsert *
bulk_begin_ex(const char *sql, int ncols, const Oid *types, int chunk, bool exact,
			  bulk_result_fn on_result, void *arg)
{
	BulkInsert *b = palloc0(sizeof(BulkInsert));
	Oid		   *argtypes = palloc(sizeof(Oid) * ncols);

	b->ncols = ncols;
	b->chunk = chunk;
	b->exact = exact;
	b->on_result = on_result;
	b->arg = arg;
	b->types = palloc(sizeof(Oid) * ncols);
	b->typlen = palloc(sizeof(int16) * ncols);
	b->typbyval = palloc(sizeof(bool) * ncols);
	b->typalign = palloc(sizeof(char) * ncols);
	b->values = palloc(sizeof(Datum *) * ncols);
	b->nulls = palloc(sizeof(bool *) * ncols);
	for (int c = 0; c < ncols; c++)
	{
		b->types[c] = types[c];
		argtypes[c] = get_array_type(types[c]);
		get_typlenbyvalalign(types[c], &b->typlen[c], &b->typbyval[c], &b->typalign[c]);
		/* (one more: room for the sentinel) */
		b->values[c] = palloc(sizeof(Datum) * (chunk + 1));
		b->nulls[c] = palloc(sizeof(bool) * (chunk + 1));
	}
	b->cxt = AllocSetContextCreate(CurrentMemoryContext, "credimport bulk insert",
								   ALLOCSET_DEFAULT_SIZES);
	b->plan = SPI_prepare(sql, ncols, argtypes);
	if (b->plan == NULL)
		elog(ERROR, "credimport: could not prepare \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	return b;
}

static void
bulk_flush(BulkInsert *b)
{
	Datum	   *args;
	int			dims[1];
	int			lbs[1] = {1};
	int			ret;
	MemoryContext old;

	if (b->n == 0)
		return;
	old = MemoryContextSwitchTo(b->cxt);
	args = palloc(sizeof(Datum) * b->ncols);
	dims[0] = b->n;
	if (b->sentinel)
	{
		for (int c = 0; c < b->ncols; c++)
		{
			b->values[c][b->n] = (Datum) 0;
			b->nulls[c][b->n] = true;
		}
		dims[0]++;
	}
	for (int c = 0; c < b->ncols; c++)
		args[c] = PointerGetDatum(construct_md_array(b->values[c], b->nulls[c], 1, dims, lbs,
													 b->types[c], b->typlen[c],
													 b->typbyval[c], b->typalign[c]));
	MemoryContextSwitchTo(old);
	ret = b->tw ? bulk_execute(b, args) : SPI_execute_plan(b->plan, args, NULL, false, 0);
	if (ret < 0)
		elog(ERROR, "credimport: bulk insert failed: %s", SPI_result_code_string(ret));
	if (b->exact && SPI_processed != (uint64) b->n)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("credimport wrote " UINT64_FORMAT " rows of %d", SPI_processed, b->n),
				 errdetail("A BEFORE trigger on the target table skipped rows."),
				 errhint("A load writes all of its rows or none: make the trigger raise an error instead.")));
	if (b->on_result && SPI_tuptable)
		b->on_result(b->arg, SPI_tuptable, SPI_processed);
	if (SPI_tuptable)
		SPI_freetuptable(SPI_tuptable);
	if (b->tw)
		tw_chunk_done(b->tw, b->n);
	MemoryContextReset(b->cxt);
	b->n = 0;
}

void
bulk_add(BulkInsert *b, const Datum *values, const bool *nulls)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);

	for (int c = 0; c < b->ncols; c++)
	{
		b->nulls[c][b->n] = nulls ? nulls[c] : false;
		b->values[c][b->n] = b->nulls[c][b->n] ? (Datum) 0 :
			datumCopy(values[c], b->typbyval[c], b->typlen[c]);
	}
	MemoryContextSwitchTo(old);
	if (++b->n >= b->chunk)
		bulk_flush(b);
}

void
bulk_end(BulkInsert *b)
{
	bulk_flush(b);
	SPI_freeplan(b->plan);
	MemoryContextDelete(b->cxt);
}

/* ======================================================================
 * TableWriter: rows into one target, by the fastest safe route.
 *
 * The multi-insert route writes through the table AM, as COPY FROM does:
 * rows are buffered in slots and written with table_multi_insert() (one
 * WAL record per page rather than per row), then index entries are made
 * and AFTER ROW triggers -- the foreign-key checks among them -- are
 * queued through the executor's own routines, and statement triggers and
 * transition tables are honoured.  Defaults (the key's identity, serial or
 * uuid default among them), NOT NULL and CHECK constraints and stored
 * generated columns are computed by the executor's routines too.
 *
 * It is taken only where it is provably the same as INSERT (see
 * direct_route_refused): a plain heap table of the local node, without
 * BEFORE or INSTEAD OF row triggers, rules, row-level security, a
 * partition constraint, a value for an identity ALWAYS or generated
 * column, and with the caller's table-level INSERT privilege.  Everything
 * else -- views (auto-updatable or with INSTEAD OF triggers), partitioned
 * and foreign tables, other access methods, a Citus distributed table
 * (its rows are not in the local heap) -- takes INSERT ... SELECT FROM
 * unnest() through the executor.  credimport.write_method = 'insert'
 * forces that route (the tests compare the two).
 *
 * Either way the target generates the key; the writer hands each written
 * row's key to the caller (tw_key_fn) and records it as provenance.
 * ====================================================================== */

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "provenance.h"
#include "target.h"

#define TW_BATCH 1000			/* rows per table_multi_insert() (as COPY) */
#define TW_CHUNK 10000			/* rows per INSERT ... SELECT FROM unnest() */

int			credimport_write_method = WRITE_AUTO;

/* what the error context says: nothing, one row, or the rows of a range */
typedef enum WriteContext
{
	WC_NONE,
	WC_ROW,
	WC_RANGE
} WriteContext;

struct TableWriter
{
	bool		direct;
	const char *qualname;
	int64		nadded;			/* rows given so far (the next ordinal) */

	/* the key, when wanted (a caller's on_key, or provenance) */
	bool		want_key;
	AttrNumber	key_attno;		/* 1-based */
	Oid			key_coltype;	/* the key column's type (a domain's base type) */
	Oid			key_type;		/* as handed back: int8 for an integer key, else text */
	FmgrInfo	key_out;		/* direct route: the key column's output function */
	tw_key_fn	on_key;
	void	   *key_arg;
	Provenance *prov;

	/* error context */
	tw_line_fn	line_of;
	void	   *line_arg;
	const char *what;
	WriteContext ctx;
	int64		ctx_lo;			/* ordinals */
	int64		ctx_hi;
	ErrorContextCallback errcb;

	/* INSERT route */
	BulkInsert *bulk;
	FmgrInfo   *asText;			/* per column, the output function of an
								 * array-typed column (sent as text, as no
								 * array of arrays exists), else fn_oid 0 */
	Datum	   *fbvalues;
	bool		track_rows;		/* the statement calls credimport.writing_row() */
	int64		chunk_base;		/* ordinal of the first buffered row */

	/* direct route */
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	TransitionCaptureState *tcs;
	BulkInsertState bistate;
	CommandId	cid;
	int			ncols;
	AttrNumber *attnos;			/* 0-based attribute of each given column */
	FmgrInfo   *coerce;			/* per given column: length coercion (typmod), or NULL */
	int32	   *typmod;
	int			ndefaults;
	int		   *defatt;
	ExprState **defexprs;
	TupleTableSlot **slots;
	int			nslots;
	MemoryContext rowcxt;
};

/* ---- error context: the source line of the row being written ---- */

static void
tw_error_callback(void *arg)
{
	TableWriter *w = (TableWriter *) arg;
	int64		lo,
				hi;

	if (w->line_of == NULL || w->ctx == WC_NONE)
		return;
	if (w->ctx == WC_ROW)
	{
		errcontext("credimport: writing the %s of line " INT64_FORMAT, w->what,
				   w->line_of(w->line_arg, w->ctx_lo));
		return;
	}
	if (w->ctx_hi < w->ctx_lo)
		return;
	/* rows need not be in line order: the least and the greatest line */
	lo = hi = w->line_of(w->line_arg, w->ctx_lo);
	for (int64 o = w->ctx_lo + 1; o <= w->ctx_hi; o++)
	{
		int64		l = w->line_of(w->line_arg, o);

		lo = Min(lo, l);
		hi = Max(hi, l);
	}
	if (lo == hi)
		errcontext("credimport: writing the %s of line " INT64_FORMAT, w->what, lo);
	else
		errcontext("credimport: writing the %ss of lines " INT64_FORMAT " to " INT64_FORMAT,
				   w->what, lo, hi);
}

static inline void
tw_push(TableWriter *w)
{
	if (w->line_of == NULL)
		return;
	w->errcb.callback = tw_error_callback;
	w->errcb.arg = w;
	w->errcb.previous = error_context_stack;
	error_context_stack = &w->errcb;
}

static inline void
tw_pop(TableWriter *w)
{
	if (w->line_of == NULL)
		return;
	error_context_stack = w->errcb.previous;
	w->ctx = WC_NONE;
}

static inline void
tw_ctx(TableWriter *w, WriteContext ctx, int64 lo, int64 hi)
{
	w->ctx = ctx;
	w->ctx_lo = lo;
	w->ctx_hi = hi;
}

void
tw_set_lines(TableWriter *w, tw_line_fn line_of, void *arg, const char *what)
{
	w->line_of = line_of;
	w->line_arg = arg;
	w->what = pstrdup(what);
}

/* ---- a written row's key ---- */

static void
tw_got_key(TableWriter *w, int64 ordinal, Datum key, bool isnull)
{
	if (w->prov)
	{
		if (isnull)
		{
			tw_ctx(w, WC_ROW, ordinal, ordinal);
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("credimport wrote a row of %s without a key", w->qualname),
					 errdetail("Rows a batch writes are recorded by their key, which was null."),
					 errhint("Give the key column a default, an identity or a trigger that sets it (an INSTEAD OF trigger: in the row it returns).")));
		}
		prov_add(w->prov, key);
	}
	if (w->on_key)
		w->on_key(w->key_arg, ordinal, key, isnull);
}

/* ======================================================================
 * The INSERT route, and credimport.writing_row()
 *
 * INSERT INTO t (cols) SELECT ... FROM unnest($1, ...) WITH ORDINALITY
 * WHERE credimport.writing_row(ordinality) [RETURNING key]
 *
 * The executor pulls the rows of the function scan one at a time, and
 * ModifyTable inserts each (BEFORE triggers, constraints, index entries)
 * before it pulls the next: when writing_row(k) runs, row k-1 is written
 * and row k is about to be, so an error raised until the next call is
 * row k's.  One row of NULLs past the last (the sentinel, which
 * writing_row() filters out) marks the end of the rows: what is raised
 * after it (foreign-key checks, AFTER triggers, deferred checks at the
 * end of the statement) belongs to no single row, and the context names
 * the chunk's lines.  Where rows may be buffered between the scan and
 * the insert (foreign tables insert in batches; Citus plans INSERT ...
 * SELECT in steps), the writer does not track rows and names the
 * chunk's lines.
 *
 * RETURNING gives the rows in the order ModifyTable inserted them, which
 * is the order of the arrays: the n-th returned row is the chunk's n-th
 * row (and the count is asserted, bulk_flush).
 * ====================================================================== */

typedef struct WritingRows
{
	TableWriter *w;
	int64		base;			/* ordinal of the chunk's first row */
	int64		n;				/* rows in the chunk */
} WritingRows;

static WritingRows *writing_rows = NULL;

PG_FUNCTION_INFO_V1(credimport_writing_row);
Datum
credimport_writing_row(PG_FUNCTION_ARGS)
{
	WritingRows *wr = writing_rows;
	int64		k;

	if (wr == NULL || PG_ARGISNULL(0))
		PG_RETURN_BOOL(true);
	k = PG_GETARG_INT64(0);
	if (k >= 1 && k <= wr->n)
	{
		tw_ctx(wr->w, WC_ROW, wr->base + k - 1, wr->base + k - 1);
		PG_RETURN_BOOL(true);
	}
	/* the sentinel: every row is written */
	tw_ctx(wr->w, WC_RANGE, wr->base, wr->base + wr->n - 1);
	PG_RETURN_BOOL(false);
}

static int
bulk_execute(BulkInsert *b, Datum *args)
{
	TableWriter *w = b->tw;
	WritingRows wr;
	WritingRows *saved = writing_rows;
	int			ret;

	wr.w = w;
	wr.base = w->chunk_base;
	wr.n = b->n;
	tw_ctx(w, WC_RANGE, wr.base, wr.base + wr.n - 1);
	if (w->track_rows)
		writing_rows = &wr;
	PG_TRY();
	{
		ret = SPI_execute_plan(b->plan, args, NULL, false, 0);
	}
	PG_FINALLY();
	{
		writing_rows = saved;
	}
	PG_END_TRY();
	/* still the chunk's rows (the count check of bulk_flush) */
	tw_ctx(w, WC_RANGE, wr.base, wr.base + wr.n - 1);
	return ret;
}

/* RETURNING: the keys of the chunk's rows, in order */
static void
insert_returned(void *arg, SPITupleTable *tuptable, uint64 n)
{
	TableWriter *w = (TableWriter *) arg;

	tw_ctx(w, WC_NONE, 0, 0);
	for (uint64 j = 0; j < n; j++)
	{
		bool		isnull;
		Datum		key = SPI_getbinval(tuptable->vals[j], tuptable->tupdesc, 1, &isnull);

		tw_got_key(w, w->chunk_base + (int64) j, key, isnull);
	}
}

static void
tw_chunk_done(TableWriter *w, int n)
{
	w->chunk_base += n;
}

/* credimport.writing_row(bigint), when the database's extension has it (1.5) */
static bool
writing_row_exists(void)
{
	Oid			nsp = get_namespace_oid("credimport", true);
	Oid			argtypes[1] = {INT8OID};

	if (!OidIsValid(nsp))
		return false;
	return OidIsValid(LookupFuncName(list_make2(makeString("credimport"), makeString("writing_row")),
									 1, argtypes, true));
}

static void
insert_begin(TableWriter *w, Relation rel, const Target *t, int ncols, const char *const *names,
			 const Oid *types, const char *table)
{
	TargetInsertOptions o = {0};
	char	   *sql;
	Oid		   *btypes = palloc(sizeof(Oid) * ncols);
	char		relkind = rel->rd_rel->relkind;

	/*
	 * Rows are tracked where the executor inserts each before it pulls the
	 * next: tables, partitioned tables and views (a view over a foreign
	 * table is the rare exception: its rows are named by chunk only if the
	 * foreign server raises at the end of the statement).
	 */
	w->track_rows = (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
					 relkind == RELKIND_VIEW) &&
		writing_row_exists();

	w->asText = palloc0(sizeof(FmgrInfo) * ncols);
	w->fbvalues = palloc(sizeof(Datum) * ncols);
	for (int c = 0; c < ncols; c++)
	{
		btypes[c] = types[c];
		if (!OidIsValid(get_array_type(types[c])))
		{
			Oid			out;
			bool		isvarlena;

			/* an array-typed column (batch_record.fields) travels as text */
			getTypeOutputInfo(types[c], &out, &isvarlena);
			fmgr_info(out, &w->asText[c]);
			btypes[c] = TEXTOID;
		}
	}
	o.ordinality = w->track_rows;
	o.returning_key = w->want_key;
	sql = t ? target_sql_insert(t, ncols, names, types, &o) :
		target_sql_insert_own(table, ncols, names, types, &o);
	w->bulk = bulk_begin_ex(sql, ncols, btypes, TW_CHUNK, true,
							w->want_key ? insert_returned : NULL, w);
	w->bulk->tw = w;
	w->bulk->sentinel = w->track_rows;
}

static void
insert_add(TableWriter *w, const Datum *values, const bool *nulls)
{
	for (int c = 0; c < w->ncols; c++)
	{
		w->fbvalues[c] = values[c];
		if (OidIsValid(w->asText[c].fn_oid) && !(nulls && nulls[c]))
		{
			char	   *str = OutputFunctionCall(&w->asText[c], values[c]);

			w->fbvalues[c] = CStringGetTextDatum(str);
			pfree(str);
		}
	}
	bulk_add(w->bulk, w->fbvalues, nulls);
	for (int c = 0; c < w->ncols; c++)
		if (w->fbvalues[c] != values[c])
			pfree(DatumGetPointer(w->fbvalues[c]));
}

/* ======================================================================
 * The multi-insert route
 * ====================================================================== */

/* Is the relation a Citus table (its rows are not in the local heap)? */
static bool
citus_table(Oid relid)
{
	Oid			dist = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1];
	int			ret;

	if (!OidIsValid(dist))
		return false;
	args[0] = ObjectIdGetDatum(relid);
	ret = SPI_execute_with_args("SELECT FROM pg_catalog.pg_dist_partition "
								"WHERE logicalrelid OPERATOR(pg_catalog.=) $1",
								1, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credimport: could not read pg_dist_partition: %s", SPI_result_code_string(ret));
	return SPI_processed > 0;
}

/*
 * Why rows cannot go straight through the table AM with the same result as
 * INSERT; NULL when they can.
 */
static const char *
direct_route_refused(Relation rel, int ncols, const char *const *columns,
					 const Oid *types, AttrNumber *attnos, AttrNumber key_attno)
{
	TriggerDesc *td = rel->trigdesc;
	Oid			relid = RelationGetRelid(rel);

	if (credimport_write_method == WRITE_INSERT)
		return "credimport.write_method is insert";
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		return "not a table";
	if (rel->rd_tableam != GetHeapamTableAmRoutine())
		return "not a heap table";
	if (rel->rd_rel->relispartition)
		return "a partition (INSERT checks its partition constraint)";
	if (td && (td->trig_insert_before_row || td->trig_insert_instead_row))
		return "BEFORE or INSTEAD OF row triggers";
	if (rel->rd_rules != NULL)
		return "rules";			/* rules rewrite an INSERT: let them */
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return "row-level security";
	if (pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		return "no table-level INSERT privilege";	/* let INSERT report (or allow, by column) */
	/* RETURNING key needs SELECT on it */
	if (key_attno > 0 &&
		pg_attribute_aclcheck(relid, key_attno, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return "no SELECT privilege on the key";
	for (int c = 0; c < ncols; c++)
	{
		AttrNumber	a = attnameAttNum(rel, columns[c], false);
		Form_pg_attribute att;

		if (a <= 0)
			return "a column is missing";
		att = TupleDescAttr(rel->rd_att, a - 1);
		if (att->atttypid != types[c])
			return "a column of another type";
		/* a value for a generated column: INSERT refuses it, let it say so */
		if (att->attgenerated)
			return "a value for a generated column";
		if (att->attidentity == ATTRIBUTE_IDENTITY_ALWAYS)
			return "a value for an identity column GENERATED ALWAYS";
		attnos[c] = a - 1;
	}
	/* the storage of a Citus table is not the local heap (one lookup) */
	if (citus_table(relid))
		return "a Citus table";
	return NULL;
}

static void
direct_begin(TableWriter *w)
{
	Relation	rel = w->rel;
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	TupleDesc	desc = RelationGetDescr(rel);

	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(rel);
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;

	w->estate = CreateExecutorState();
	w->estate->es_snapshot = GetActiveSnapshot();
	w->cid = GetCurrentCommandId(true);
	w->estate->es_output_cid = w->cid;
	ExecInitRangeTable(w->estate, list_make1(rte));
	w->rri = makeNode(ResultRelInfo);
	ExecInitResultRelation(w->estate, w->rri, 1);
	CheckValidResultRel(w->rri, CMD_INSERT);
	ExecOpenIndices(w->rri, false);

	/*
	 * A column with a typmod (numeric(8,2), varchar(n)) gets its length
	 * coercion applied to every value, as an INSERT would.
	 */
	w->coerce = palloc0(sizeof(FmgrInfo) * w->ncols);
	w->typmod = palloc(sizeof(int32) * w->ncols);
	for (int c = 0; c < w->ncols; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, w->attnos[c]);
		Oid			funcid;

		w->typmod[c] = att->atttypmod;
		w->coerce[c].fn_oid = InvalidOid;
		if (att->atttypmod >= 0 &&
			find_typmod_coercion_function(att->atttypid, &funcid) == COERCION_PATH_FUNC)
			fmgr_info(funcid, &w->coerce[c]);
	}

	/*
	 * Defaults of the columns not given: the key's (identity, serial, a
	 * uuid default), created_at, and any the platform has.
	 */
	w->defatt = palloc(sizeof(int) * desc->natts);
	w->defexprs = palloc(sizeof(ExprState *) * desc->natts);
	for (int a = 0; a < desc->natts; a++)
	{
		bool		given = false;
		Node	   *def;

		if (TupleDescAttr(desc, a)->attisdropped ||
			TupleDescAttr(desc, a)->attgenerated)
			continue;
		for (int c = 0; c < w->ncols; c++)
			if (w->attnos[c] == a)
				given = true;
		if (given)
			continue;
		def = build_column_default(rel, a + 1);
		if (def == NULL)
			continue;
		w->defatt[w->ndefaults] = a;
		w->defexprs[w->ndefaults] = ExecPrepareExpr((Expr *) def, w->estate);
		w->ndefaults++;
	}

	AfterTriggerBeginQuery();
	w->tcs = MakeTransitionCaptureState(rel->trigdesc, RelationGetRelid(rel), CMD_INSERT);
	ExecBSInsertTriggers(w->estate, w->rri);
	w->bistate = GetBulkInsertState();
	w->slots = palloc0(sizeof(TupleTableSlot *) * TW_BATCH);
	w->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport row",
									  ALLOCSET_DEFAULT_SIZES);
}

static void
direct_flush(TableWriter *w)
{
	ResultRelInfo *rri = w->rri;
	TriggerDesc *td = rri->ri_TrigDesc;
	int64		base = w->nadded - w->nslots;	/* ordinal of slots[0] */

	if (w->nslots == 0)
		return;
	tw_ctx(w, WC_RANGE, base, base + w->nslots - 1);
	table_multi_insert(w->rel, w->slots, w->nslots, w->cid, 0, w->bistate);
	for (int i = 0; i < w->nslots; i++)
	{
		List	   *recheck = NIL;

		tw_ctx(w, WC_ROW, base + i, base + i);
		if (rri->ri_NumIndices > 0)
			recheck = ExecInsertIndexTuples(rri, w->slots[i], w->estate,
											false, false, NULL, NIL);
		if (td != NULL && (td->trig_insert_after_row || td->trig_insert_new_table))
			ExecARInsertTriggers(w->estate, rri, w->slots[i], recheck, w->tcs);
		list_free(recheck);
	}
	tw_ctx(w, WC_NONE, 0, 0);
	for (int i = 0; i < w->nslots; i++)
	{
		if (w->want_key)
		{
			bool		isnull;
			Datum		key = slot_getattr(w->slots[i], w->key_attno, &isnull);

			if (isnull)
				tw_got_key(w, base + i, key, true);
			else if (w->key_coltype == INT8OID)
				tw_got_key(w, base + i, key, false);
			else if (w->key_coltype == INT4OID)
				tw_got_key(w, base + i, Int64GetDatum(DatumGetInt32(key)), false);
			else if (w->key_coltype == INT2OID)
				tw_got_key(w, base + i, Int64GetDatum(DatumGetInt16(key)), false);
			else
			{
				char	   *str = OutputFunctionCall(&w->key_out, key);
				Datum		t = CStringGetTextDatum(str);

				tw_got_key(w, base + i, t, false);
				pfree(str);
				pfree(DatumGetPointer(t));
			}
		}
		ExecClearTuple(w->slots[i]);
	}
	w->nslots = 0;
	ResetPerTupleExprContext(w->estate);
	prov_write_full(w->prov);
}

static void
direct_add(TableWriter *w, const Datum *values, const bool *nulls)
{
	TupleTableSlot *slot;
	TupleDesc	desc = RelationGetDescr(w->rel);
	ExprContext *econtext = GetPerTupleExprContext(w->estate);
	MemoryContext old;

	tw_ctx(w, WC_ROW, w->nadded, w->nadded);
	if (w->slots[w->nslots] == NULL)
		w->slots[w->nslots] = table_slot_create(w->rel, &w->estate->es_tupleTable);
	slot = w->slots[w->nslots];
	ExecClearTuple(slot);
	old = MemoryContextSwitchTo(w->rowcxt);
	for (int a = 0; a < desc->natts; a++)
	{
		slot->tts_values[a] = (Datum) 0;
		slot->tts_isnull[a] = true;
	}
	for (int c = 0; c < w->ncols; c++)
	{
		bool		isnull = nulls ? nulls[c] : false;
		Datum		v = values[c];

		if (!isnull && OidIsValid(w->coerce[c].fn_oid))
			v = FunctionCall3(&w->coerce[c], v, Int32GetDatum(w->typmod[c]), BoolGetDatum(false));
		slot->tts_values[w->attnos[c]] = v;
		slot->tts_isnull[w->attnos[c]] = isnull;
	}
	for (int d = 0; d < w->ndefaults; d++)
		slot->tts_values[w->defatt[d]] =
			ExecEvalExpr(w->defexprs[d], econtext, &slot->tts_isnull[w->defatt[d]]);
	ExecStoreVirtualTuple(slot);
	if (w->rel->rd_att->constr && w->rel->rd_att->constr->has_generated_stored)
		ExecComputeStoredGenerated(w->rri, w->estate, slot, CMD_INSERT);
	if (w->rel->rd_att->constr)
		ExecConstraints(w->rri, slot, w->estate);
	/* the batch outlives this row's memory */
	ExecMaterializeSlot(slot);
	MemoryContextSwitchTo(old);
	MemoryContextReset(w->rowcxt);
	w->nslots++;
	w->nadded++;
	if (w->nslots == TW_BATCH)
		direct_flush(w);
}

static void
direct_end(TableWriter *w)
{
	direct_flush(w);
	/* statement triggers and the queued AFTER ROW ones: every row's */
	tw_ctx(w, WC_RANGE, 0, w->nadded - 1);
	ExecASInsertTriggers(w->estate, w->rri, w->tcs);
	AfterTriggerEndQuery(w->estate);
	tw_ctx(w, WC_NONE, 0, 0);
	FreeBulkInsertState(w->bistate);
	table_finish_bulk_insert(w->rel, 0);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	ExecCloseResultRelations(w->estate);
	ExecCloseRangeTableRelations(w->estate);
	FreeExecutorState(w->estate);
	MemoryContextDelete(w->rowcxt);
}

/* ======================================================================
 * The writer
 * ====================================================================== */

/*
 * relid: the relation; columns: its column names (for the direct route;
 * the INSERT is built by target.c from t and fields, or, for credimport's
 * own table, from table and columns); key_column: the column
 * whose values are handed back (NULL: none); role: the provenance's role
 * (NULL: none).
 */
static TableWriter *
tw_begin_rel(Oid relid, const char *qualname, const Target *t, const char *const *fields,
			 const char *table, int ncols, const char *const *columns,
			 const Oid *types, const char *key_column, const char *role, int64 provenance_batch,
			 tw_key_fn on_key, void *arg)
{
	TableWriter *w = palloc0(sizeof(TableWriter));
	Relation	rel;
	const char *why;

	w->qualname = qualname;
	w->ncols = ncols;
	w->attnos = palloc(sizeof(AttrNumber) * ncols);
	w->on_key = on_key;
	w->key_arg = arg;
	rel = table_open(relid, RowExclusiveLock);
	w->rel = rel;

	if (key_column && (on_key || provenance_batch != 0))
	{
		w->key_attno = attnameAttNum(rel, key_column, false);
		if (w->key_attno <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("target %s has no key column \"%s\"", qualname, key_column)));
		/* a domain over an integer type is an integer key */
		w->key_coltype = getBaseType(TupleDescAttr(rel->rd_att, w->key_attno - 1)->atttypid);
		if (w->key_coltype == INT8OID || w->key_coltype == INT4OID || w->key_coltype == INT2OID)
			w->key_type = INT8OID;
		else
		{
			Oid			out;
			bool		isvarlena;

			w->key_type = TEXTOID;
			getTypeOutputInfo(w->key_coltype, &out, &isvarlena);
			fmgr_info(out, &w->key_out);
		}
		w->want_key = true;
		if (provenance_batch != 0 && role != NULL)
			w->prov = prov_begin(provenance_batch, role, relid, key_column, w->key_type);
	}
	/*
	 * (A role without a key -- learner links, invitations -- has no
	 * provenance: its rows are found by their batch_id column.)
	 */

	why = direct_route_refused(rel, ncols, columns, types, w->attnos, w->key_attno);
	w->direct = (why == NULL);
	ereport(DEBUG1,
			(errmsg_internal("credimport: writing into %s by %s%s%s", qualname,
							 w->direct ? "multi-insert" : "INSERT",
							 why ? ": " : "", why ? why : "")));
	if (w->direct)
		direct_begin(w);
	else
	{
		insert_begin(w, rel, t, ncols, t ? fields : columns, types, table);
		table_close(rel, NoLock);
		w->rel = NULL;
	}
	return w;
}

TableWriter *
tw_begin_target(const Target *t, int nfields, const char *const *fields, const Oid *types,
				int64 provenance_batch, tw_key_fn on_key, void *arg)
{
	const char **columns = palloc(sizeof(char *) * nfields);
	const char *key_column = NULL;

	for (int c = 0; c < nfields; c++)
	{
		const TargetField *f = NULL;

		for (int i = 0; i < t->nfields; i++)
			if (strcmp(t->fields[i].field, fields[c]) == 0)
				f = &t->fields[i];
		if (f == NULL || f->column == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("target %s has no column for field \"%s\"", t->qualname, fields[c]),
					 errhint("Map the field with credimport_set_target('%s', ...).",
							 target_role_names[t->role])));
		if (f->tenant)
			elog(ERROR, "credimport: the tenant column of target %s is never written", t->qualname);
		columns[c] = f->column;
	}
	if (t->key)
	{
		for (int i = 0; i < t->nfields; i++)
			if (strcmp(t->fields[i].field, t->key) == 0)
				key_column = t->fields[i].column;
	}
	return tw_begin_rel(t->relid, t->qualname, t, fields, NULL, nfields, (const char *const *) columns, types,
						key_column, target_role_names[t->role], provenance_batch, on_key, arg);
}

TableWriter *
tw_begin(const char *table, int ncols, const char *const *columns, const Oid *types)
{
	Oid			relid = get_relname_relid(table, get_namespace_oid("credimport", false));

	if (!OidIsValid(relid))
		elog(ERROR, "credimport: table credimport.%s is missing", table);
	return tw_begin_rel(relid, quote_qualified_identifier("credimport", table), NULL, NULL, table, ncols, columns,
						types, NULL, NULL, 0, NULL, NULL);
}

void
tw_add(TableWriter *w, const Datum *values, const bool *nulls)
{
	tw_push(w);
	if (w->direct)
		direct_add(w, values, nulls);
	else
	{
		w->nadded++;
		insert_add(w, values, nulls);
		tw_ctx(w, WC_NONE, 0, 0);
		prov_write_full(w->prov);
	}
	tw_pop(w);
}

void
tw_end(TableWriter *w)
{
	tw_push(w);
	if (w->direct)
	{
		direct_end(w);
		table_close(w->rel, NoLock);
	}
	else
		bulk_end(w->bulk);
	tw_pop(w);
	prov_end(w->prov);
}

bool
tw_is_direct(TableWriter *w)
{
	return w->direct;
}

Oid
tw_key_type(TableWriter *w)
{
	return w->want_key ? w->key_type : InvalidOid;
}

int64
tw_count(TableWriter *w)
{
	return w->nadded;
}
