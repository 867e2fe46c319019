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
};

BulkInsert *
bulk_begin(const char *sql, int ncols, const Oid *types, int chunk)
{
	BulkInsert *b = palloc0(sizeof(BulkInsert));
	Oid		   *argtypes = palloc(sizeof(Oid) * ncols);

	b->ncols = ncols;
	b->chunk = chunk;
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
	if (SPI_processed != (uint64) b->n)
		elog(ERROR, "credimport: bulk insert wrote " UINT64_FORMAT " rows of %d "
			 "(a BEFORE trigger on the target skipped rows)", SPI_processed, b->n);
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
