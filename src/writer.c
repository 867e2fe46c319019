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
};

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
		b->values[c] = palloc(sizeof(Datum) * chunk);
		b->nulls[c] = palloc(sizeof(bool) * chunk);
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
	for (int c = 0; c < b->ncols; c++)
		args[c] = PointerGetDatum(construct_md_array(b->values[c], b->nulls[c], 1, dims, lbs,
													 b->types[c], b->typlen[c],
													 b->typbyval[c], b->typalign[c]));
	MemoryContextSwitchTo(old);
	ret = SPI_execute_plan(b->plan, args, NULL, false, 0);
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
 * TableWriter: multi-insert through the table AM, as COPY FROM does.
 *
 * Rows are buffered in slots and written with table_multi_insert() (one
 * WAL record per page rather than per row), then index entries are made
 * and AFTER ROW triggers -- the foreign-key checks among them -- are
 * queued through the executor's own routines, and statement triggers and
 * transition tables are honoured.  NOT NULL and CHECK constraints and
 * stored generated columns are computed by the executor too.
 *
 * Where that route would not be the same as an INSERT -- BEFORE or INSTEAD
 * OF row triggers, row-level security, a partitioned or foreign table, a
 * column whose type was changed, a caller without table-level INSERT
 * privilege -- the writer falls back to INSERT ... SELECT FROM unnest(),
 * which the executor plans as any INSERT.  credimport.write_method =
 * 'insert' forces that route (the tests compare the two).
 * ====================================================================== */

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#define TW_BATCH 1000			/* rows per table_multi_insert() (as COPY) */

int			credimport_write_method = WRITE_AUTO;

struct TableWriter
{
	bool		direct;
	BulkInsert *bulk;			/* fallback route */
	FmgrInfo   *asText;			/* fallback: per column, the output function of
								 * an array-typed column (sent as text, as no
								 * array of arrays exists), else fn_oid 0 */
	Datum	   *fbvalues;

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

/* Can rows go straight through the table AM with the same result as INSERT? */
static bool
direct_route_possible(Relation rel, int ncols, const char *const *columns,
					  const Oid *types, AttrNumber *attnos)
{
	TriggerDesc *td = rel->trigdesc;

	if (credimport_write_method == WRITE_INSERT)
		return false;
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		return false;
	if (td && (td->trig_insert_before_row || td->trig_insert_instead_row))
		return false;
	if (rel->rd_rules != NULL)
		return false;			/* rules rewrite an INSERT: let them */
	if (check_enable_rls(RelationGetRelid(rel), InvalidOid, true) == RLS_ENABLED)
		return false;
	if (pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_INSERT) != ACLCHECK_OK)
		return false;			/* let INSERT report (or allow, by column) */
	for (int c = 0; c < ncols; c++)
	{
		AttrNumber	a = attnameAttNum(rel, columns[c], false);

		if (a <= 0 || TupleDescAttr(rel->rd_att, a - 1)->atttypid != types[c])
			return false;
		/* a value for a generated column: INSERT refuses it, let it say so */
		if (TupleDescAttr(rel->rd_att, a - 1)->attgenerated)
			return false;
		attnos[c] = a - 1;
	}
	return true;
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

	/* defaults of the columns not given (created_at, and any the user added) */
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

	if (w->nslots == 0)
		return;
	table_multi_insert(w->rel, w->slots, w->nslots, w->cid, 0, w->bistate);
	for (int i = 0; i < w->nslots; i++)
	{
		List	   *recheck = NIL;

		if (rri->ri_NumIndices > 0)
			recheck = ExecInsertIndexTuples(rri, w->slots[i], w->estate,
											false, false, NULL, NIL);
		if (td != NULL && (td->trig_insert_after_row || td->trig_insert_new_table))
			ExecARInsertTriggers(w->estate, rri, w->slots[i], recheck, w->tcs);
		list_free(recheck);
		ExecClearTuple(w->slots[i]);
	}
	w->nslots = 0;
	ResetPerTupleExprContext(w->estate);
}

static void
direct_add(TableWriter *w, const Datum *values, const bool *nulls)
{
	TupleTableSlot *slot;
	TupleDesc	desc = RelationGetDescr(w->rel);
	ExprContext *econtext = GetPerTupleExprContext(w->estate);
	MemoryContext old;

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
	if (++w->nslots == TW_BATCH)
		direct_flush(w);
}

static void
direct_end(TableWriter *w)
{
	direct_flush(w);
	ExecASInsertTriggers(w->estate, w->rri, w->tcs);
	AfterTriggerEndQuery(w->estate);
	FreeBulkInsertState(w->bistate);
	table_finish_bulk_insert(w->rel, 0);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	ExecCloseResultRelations(w->estate);
	ExecCloseRangeTableRelations(w->estate);
	FreeExecutorState(w->estate);
	MemoryContextDelete(w->rowcxt);
}

/*
 * Does the writer give a value for an identity column GENERATED ALWAYS?
 * The loaders give an identity column only the values they drew from that
 * column's own sequence (identity_sequence()), which is what the identity
 * would have given: both routes write them (the INSERT route says
 * OVERRIDING SYSTEM VALUE, as the multi-insert route needs not), so that
 * a load gives the same result whichever route it takes.
 */
static bool
gives_identity_always(Relation rel, int ncols, const char *const *columns)
{
	for (int c = 0; c < ncols; c++)
	{
		AttrNumber	a = attnameAttNum(rel, columns[c], false);

		if (a > 0 && TupleDescAttr(rel->rd_att, a - 1)->attidentity == ATTRIBUTE_IDENTITY_ALWAYS)
			return true;
	}
	return false;
}

TableWriter *
tw_begin(const char *table, int ncols, const char *const *columns, const Oid *types)
{
	TableWriter *w = palloc0(sizeof(TableWriter));
	Oid			relid = get_relname_relid(table, get_namespace_oid("credimport", false));

	if (!OidIsValid(relid))
		elog(ERROR, "credimport: table credimport.%s is missing", table);
	w->ncols = ncols;
	w->attnos = palloc(sizeof(AttrNumber) * ncols);
	w->rel = table_open(relid, RowExclusiveLock);
	w->direct = direct_route_possible(w->rel, ncols, columns, types, w->attnos);
	if (w->direct)
		direct_begin(w);
	else
	{
		StringInfoData sql;
		Oid		   *btypes = palloc(sizeof(Oid) * ncols);

		initStringInfo(&sql);
		w->asText = palloc0(sizeof(FmgrInfo) * ncols);
		w->fbvalues = palloc(sizeof(Datum) * ncols);
		appendStringInfo(&sql, "INSERT INTO credimport.%s (", quote_identifier(table));
		for (int c = 0; c < ncols; c++)
			appendStringInfo(&sql, "%s%s", c ? ", " : "", quote_identifier(columns[c]));
		appendStringInfoChar(&sql, ')');
		if (gives_identity_always(w->rel, ncols, columns))
			appendStringInfoString(&sql, " OVERRIDING SYSTEM VALUE");
		appendStringInfoString(&sql, " SELECT ");
		for (int c = 0; c < ncols; c++)
		{
			btypes[c] = types[c];
			appendStringInfo(&sql, "%su.c%d", c ? ", " : "", c + 1);
			if (!OidIsValid(get_array_type(types[c])))
			{
				Oid			out;
				bool		isvarlena;

				/* an array-typed column (batch_record.fields) travels as text */
				getTypeOutputInfo(types[c], &out, &isvarlena);
				fmgr_info(out, &w->asText[c]);
				btypes[c] = TEXTOID;
				appendStringInfo(&sql, "::%s", format_type_be_qualified(types[c]));
			}
		}
		appendStringInfoString(&sql, " FROM unnest(");
		for (int c = 0; c < ncols; c++)
			appendStringInfo(&sql, "%s$%d", c ? ", " : "", c + 1);
		appendStringInfoString(&sql, ") AS u(");
		for (int c = 0; c < ncols; c++)
			appendStringInfo(&sql, "%sc%d", c ? ", " : "", c + 1);
		appendStringInfoChar(&sql, ')');
		table_close(w->rel, NoLock);
		w->rel = NULL;
		w->bulk = bulk_begin(sql.data, ncols, btypes, 10000);
	}
	return w;
}

void
tw_add(TableWriter *w, const Datum *values, const bool *nulls)
{
	if (w->direct)
		direct_add(w, values, nulls);
	else
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
}

void
tw_end(TableWriter *w)
{
	if (w->direct)
	{
		direct_end(w);
		table_close(w->rel, NoLock);
	}
	else
		bulk_end(w->bulk);
}

bool
tw_is_direct(TableWriter *w)
{
	return w->direct;
}

/* the sequence of credimport.<table>'s identity column */
Oid
identity_sequence(const char *table)
{
	Oid			nsp = get_namespace_oid("credimport", false);
	Oid			rel = get_relname_relid(table, nsp);
	List	   *seqs;

	if (!OidIsValid(rel))
		elog(ERROR, "credimport: table credimport.%s is missing", table);
	seqs = getOwnedSequences(rel);
	if (seqs == NIL)
		elog(ERROR, "credimport: table credimport.%s has no identity sequence", table);
	return linitial_oid(seqs);
}
