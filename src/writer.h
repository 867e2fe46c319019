/*
 * writer.h
 *		Bulk writes of resolved rows.
 */
#ifndef CREDIMPORT_WRITER_H
#define CREDIMPORT_WRITER_H

#include "credimport.h"

typedef struct BulkInsert BulkInsert;

/*
 * sql is an INSERT taking one array parameter per column ($1 .. $ncols,
 * of array types of `types`), e.g. INSERT ... SELECT * FROM unnest($1, $2).
 * Rows are buffered and flushed `chunk` at a time through the executor, so
 * constraints, indexes, triggers and foreign keys all hold.
 */
extern BulkInsert *bulk_begin(const char *sql, int ncols, const Oid *types, int chunk);
extern void bulk_add(BulkInsert *b, const Datum *values, const bool *nulls);
extern void bulk_end(BulkInsert *b);

#endif
