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

/* ---- rows into one target, by the fastest safe route ---- */
typedef struct TableWriter TableWriter;
struct Target;

/*
 * Called once per written row, after the row is in the target: ordinal is
 * the n-th tw_add() (0-based), key the row's key field (target->key) as
 * the target GENERATED it (identity, serial, a default, a BEFORE or
 * INSTEAD OF trigger): an int8 for an integer key (smallint, integer,
 * bigint), text for any other (uuid, ...), as tw_key_type() says (and as
 * target_sql_insert() returns keys).  The Datum is valid only during the
 * call: copy it.  The callback must not run SPI (the INSERT route calls it
 * while SPI's result is being read).
 */
typedef void (*tw_key_fn) (void *arg, int64 ordinal, Datum key, bool isnull);

/*
 * Write rows of the given credimport fields (values of the given types)
 * into the target.  Fields not given get the relation's defaults.
 * provenance_batch: when not 0, the keys written are recorded in
 * credimport.provenance for that batch (not for a role without a key:
 * learner links and invitations are found by their batch_id column).
 * on_key may be NULL.
 */
extern TableWriter *tw_begin_target(const struct Target *t, int nfields, const char *const *fields,
									const Oid *types, int64 provenance_batch,
									tw_key_fn on_key, void *arg);

/*
 * Name the source line of the row being written in the context of any
 * error raised while writing it ("credimport: writing the credit of line
 * 7"), as COPY's CopyFromErrorCallback does; line_of maps an ordinal (the
 * n-th tw_add) to its line.  what names one row ("credit").  Errors that
 * belong to no single row (checks at the end of a statement: foreign keys,
 * deferred constraints, AFTER triggers) name the lines of the rows
 * written so far by that statement.
 */
typedef int64 (*tw_line_fn) (void *arg, int64 ordinal);
extern void tw_set_lines(TableWriter *w, tw_line_fn line_of, void *arg, const char *what);

/*
 * Write rows of the given columns (with the given types) into
 * credimport.<table>, a table without target role (batch_error, ...) or a
 * shipped table.  Columns not given get their defaults.
 */
extern TableWriter *tw_begin(const char *table, int ncols, const char *const *columns,
							 const Oid *types);
extern void tw_add(TableWriter *w, const Datum *values, const bool *nulls);
extern void tw_end(TableWriter *w);
extern bool tw_is_direct(TableWriter *w);
/* the type of the keys tw_key_fn receives: INT8OID, TEXTOID, or InvalidOid (no key) */
extern Oid	tw_key_type(TableWriter *w);
/* rows written (tw_add calls) */
extern int64 tw_count(TableWriter *w);

/* a text Datum, or NULL for a NULL string */
static inline Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

#endif
