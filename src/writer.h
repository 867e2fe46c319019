/*
 * writer.h
 *		Bulk writes of resolved rows.
 */
#ifndef CREDIMPORT_WRITER_H
#define CREDIMPORT_WRITER_H

#include "credimport.h"
#include "executor/spi.h"
#include "utils/builtins.h"

/* credimport.write_method */
typedef enum WriteMethod
{
	WRITE_AUTO = 0,				/* multi-insert through the table AM when possible */
	WRITE_INSERT				/* always INSERT ... SELECT FROM unnest(...) */
} WriteMethod;

extern int	credimport_write_method;

/* ---- INSERT ... SELECT FROM unnest($1 .. $n), a chunk at a time ---- */
typedef struct BulkInsert BulkInsert;

/*
 * sql is an INSERT taking one array parameter per column ($1 .. $ncols,
 * of array types of `types`), e.g. INSERT ... SELECT * FROM unnest($1, $2).
 * Rows are buffered and flushed `chunk` at a time through the executor, so
 * constraints, indexes, triggers and foreign keys all hold.
 */
extern BulkInsert *bulk_begin(const char *sql, int ncols, const Oid *types, int chunk);

/*
 * The same for any statement over the arrays (an UPDATE ... FROM unnest(),
 * an INSERT ... ON CONFLICT DO NOTHING): exact = false lets it touch fewer
 * rows than it was given; on_result sees what RETURNING returns.
 */
typedef void (*bulk_result_fn) (void *arg, SPITupleTable *tuptable, uint64 n);
extern BulkInsert *bulk_begin_ex(const char *sql, int ncols, const Oid *types, int chunk,
								 bool exact, bulk_result_fn on_result, void *arg);
extern void bulk_add(BulkInsert *b, const Datum *values, const bool *nulls);
extern void bulk_end(BulkInsert *b);

/* ---- rows into one credimport table, by the fastest safe route ---- */
typedef struct TableWriter TableWriter;

/*
 * Write rows of the given columns (with the given types) into
 * credimport.<table>.  Columns not given get their defaults.
 */
extern TableWriter *tw_begin(const char *table, int ncols, const char *const *columns,
							 const Oid *types);
extern void tw_add(TableWriter *w, const Datum *values, const bool *nulls);
extern void tw_end(TableWriter *w);
extern bool tw_is_direct(TableWriter *w);

/* the sequence of credimport.<table>'s identity column (ids are taken per row) */
extern Oid	identity_sequence(const char *table);

/* a text Datum, or NULL for a NULL string */
static inline Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

#endif
