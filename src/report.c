/*
 * report.c
 *		Batch bookkeeping and the per-record report.
 */
#include "report.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "catalog/namespace.h"

static bool
batch_has_kind(void)
{
	Oid			rel = get_relname_relid("batch", get_namespace_oid("credimport", false));

	return get_attnum(rel, "kind") != InvalidAttrNumber;
}

void
report_insert_batch(BatchInfo *b)
{
	Oid			types[15] = {TEXTOID, TEXTOID, TEXTOID, BOOLOID, BOOLOID, TEXTOID,
		INT4OID, INT4OID, INT4OID, INT4OID, TIMESTAMPTZOID, NAMEOID, INT4OID, TEXTARRAYOID, TEXTOID};
	Datum		values[15];
	char		nulls[15];
	int			ret;
	bool		isnull;
	NameData	who;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(b->source);
	if (b->sha256)
		values[1] = CStringGetTextDatum(b->sha256);
	else
		nulls[1] = 'n';
	values[2] = CStringGetTextDatum(b->match_mode);
	values[3] = BoolGetDatum(b->allow_edit);
	values[4] = BoolGetDatum(b->validate_only);
	values[5] = CStringGetTextDatum(b->status);
	values[6] = Int32GetDatum(b->records);
	values[7] = Int32GetDatum(b->imported);
	values[8] = Int32GetDatum(b->invalid);
	values[9] = Int32GetDatum(b->learners_created);
	values[10] = TimestampTzGetDatum(b->started_at);
	namestrcpy(&who, GetUserNameFromId(GetUserId(), false));
	values[11] = NameGetDatum(&who);
	values[12] = Int32GetDatum(b->skipped);
	values[13] = b->header;
	if (b->header == (Datum) 0)
		nulls[13] = 'n';

	/*
	 * batch.kind came with version 1.1; a module newer than a database's
	 * extension version must still work there until ALTER EXTENSION UPDATE.
	 */
	if (batch_has_kind())
	{
		types[14] = TEXTOID;
		values[14] = CStringGetTextDatum(b->kind ? b->kind : "credits");
		nulls[14] = ' ';
		ret = SPI_execute_with_args(
									"INSERT INTO credimport.batch (source, sha256, match_mode, allow_edit, "
									"validate_only, status, records, imported, invalid, learners_created, "
									"started_at, imported_by, skipped, header, kind) "
									"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
									15, types, values, nulls, false, 1);
	}
	else
		ret = SPI_execute_with_args(
									"INSERT INTO credimport.batch (source, sha256, match_mode, allow_edit, "
									"validate_only, status, records, imported, invalid, learners_created, "
									"started_at, imported_by, skipped, header) "
									"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
									14, types, values, nulls, false, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "credimport: could not record the batch: %s", SPI_result_code_string(ret));
	b->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
}

void
report_finish_batch(BatchInfo *b)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	int			ret;

	values[0] = Int64GetDatum(b->id);
	ret = SPI_execute_with_args("UPDATE credimport.batch SET finished_at = pg_catalog.clock_timestamp() "
								"WHERE id OPERATOR(pg_catalog.=) $1", 1, types, values, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "credimport: could not finish the batch: %s", SPI_result_code_string(ret));
}

void
report_update_counts(BatchInfo *b)
{
	Oid			types[5] = {INT8OID, INT4OID, INT4OID, INT4OID, INT4OID};
	Datum		values[5];
	int			ret;

	values[0] = Int64GetDatum(b->id);
	values[1] = Int32GetDatum(b->imported);
	values[2] = Int32GetDatum(b->learners_created);
	values[3] = Int32GetDatum(b->learners_updated);
	values[4] = Int32GetDatum(b->learners_unchanged);
	ret = SPI_execute_with_args("UPDATE credimport.batch SET imported = $2, learners_created = $3, "
								"learners_updated = $4, learners_unchanged = $5 "
								"WHERE id OPERATOR(pg_catalog.=) $1", 5, types, values, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "credimport: could not update the batch: %s", SPI_result_code_string(ret));
}

void
report_notice(const BatchInfo *b)
{
	if (b->kind && strcmp(b->kind, "users") == 0 && strcmp(b->status, "imported") == 0)
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " imported: %d records, %d created, %d updated, %d unchanged, %d invalid",
						b->id, b->records, b->learners_created, b->learners_updated,
						b->learners_unchanged, b->invalid)));
	else if (strcmp(b->status, "imported") == 0)
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " imported: %d records, %d imported, %d invalid, %d learners created%s",
						b->id, b->records, b->imported, b->invalid, b->learners_created,
						b->skipped ? psprintf(", %d skipped as already on transcripts", b->skipped) : "")));
	else if (strcmp(b->status, "validated") == 0)
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " validated: %d records, %d valid, %d invalid; nothing was written",
						b->id, b->records, b->records - b->invalid, b->invalid)));
	else
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " rejected: %d records, %d invalid; nothing was imported",
						b->id, b->records, b->invalid),
				 errhint("See credimport.batch_error for batch " INT64_FORMAT ", fix the file and load it again, or allow some invalid records with max_errors.",
						 b->id)));
}

TableWriter *
report_errors_begin(void)
{
	static const char *const cols[6] = {"batch_id", "line_no", "field", "code", "message", "value"};
	static const Oid types[6] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};

	return tw_begin("batch_error", 6, cols, types);
}

void
report_errors_add(TableWriter *w, int64 batch_id, int64 line_no, const Problem *p)
{
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	values[0] = Int64GetDatum(batch_id);
	values[1] = Int64GetDatum(line_no);
	values[2] = CStringGetTextDatum(p->field);
	values[3] = CStringGetTextDatum(p->code);
	values[4] = CStringGetTextDatum(p->message);
	if (p->value)
		values[5] = CStringGetTextDatum(p->value);
	else
		nulls[5] = true;
	tw_add(w, values, nulls);
	for (int i = 2; i < 6; i++)
		if (!nulls[i])
			pfree(DatumGetPointer(values[i]));
}

void
report_errors_end(TableWriter *w)
{
	tw_end(w);
}

Datum
report_errors_array(const Problem *list, int n)
{
	Datum	   *elems;
	int			i = 0;

	if (n == 0)
		return (Datum) 0;
	elems = palloc(sizeof(Datum) * n);
	for (const Problem *p = list; p && i < n; p = p->next)
	{
		char	   *s = psprintf("%s: %s", p->field, p->message);

		elems[i++] = CStringGetTextDatum(s);
		pfree(s);
	}
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}
