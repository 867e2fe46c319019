/*
 * pipeline.c
 *		The parts of a load every kind shares.
 */
#include "pipeline.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/backend_progress.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "report.h"
#include "writer.h"

/*
 * A record whose every field is blank (e.g. ",,,," left by a spreadsheet),
 * Unicode spaces (NBSP, zero-width) included, as values are trimmed.
 */
bool
record_is_blank(CsvRecord *rec)
{
	if (rec->problems != 0)
		return false;
	for (int f = 0; f < rec->nfields; f++)
	{
		size_t		len = rec->lengths[f];

		(void) fc_trim(rec->fields[f], &len);
		if (len > 0)
			return false;
	}
	return true;
}

/* DEBUG1 line with the time a phase took (SET client_min_messages = debug1) */
void
phase_done(instr_time *start, const char *what, int64 n)
{
	instr_time	now;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, *start);
	elog(DEBUG1, "credimport: %s (" INT64_FORMAT " records): %.3f ms", what, n,
		 INSTR_TIME_GET_MILLISEC(now));
	INSTR_TIME_SET_CURRENT(*start);
}

int64		credimport_last_batch = 0;

const char *
source_noun(Source *src)
{
	switch (src->kind)
	{
		case SOURCE_TABLE:
			return "staging table";
		case SOURCE_CONTENT:
			return "content";
		default:
			return "file";
	}
}

/* next record that is not blank (",,,," or only blanks); false at the end */
bool
next_nonblank(Source *src, CsvRecord *rec)
{
	while (src->next(src, rec))
	{
		CHECK_FOR_INTERRUPTS();
		if (!record_is_blank(rec))
			return true;
	}
	return false;
}

/* the header's names as written, as a text[] (bytes that are not UTF-8 escaped) */
static Datum
header_array(CsvRecord *rec)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(rec->nfields, 1));

	for (int f = 0; f < rec->nfields; f++)
		elems[f] = CStringGetTextDatum(sanitize_value(rec->fields[f], rec->lengths[f]));
	return PointerGetDatum(construct_array(elems, rec->nfields, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Lock out other writing loads for the rest of the transaction, so that two
 * loads never both find a credit absent and both insert it.  A
 * transaction-scoped lock cannot outlive its transaction.
 */
void
pipeline_lock_writers(void)
{
	if (DatumGetBool(DirectFunctionCall1(pg_try_advisory_xact_lock_int8,
										 Int64GetDatum(CREDIMPORT_LOCK_KEY))))
		return;

	/*
	 * Another load holds the lock.  In READ COMMITTED we wait and then see
	 * its rows through fresh snapshots.  A transaction snapshot (REPEATABLE
	 * READ, SERIALIZABLE) would never see them: fail now with a
	 * serialization error the caller can retry, rather than with a unique
	 * violation later.
	 */
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent credimport load"),
				 errhint("Retry the transaction, or load in READ COMMITTED.")));
	DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(CREDIMPORT_LOCK_KEY));
}

/* WARNING when the same bytes were imported before (and not reverted) */
void
pipeline_warn_same_file(Source *src, const char *detail)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	int			ret;

	if (src->sha256[0] == '\0')
		return;
	values[0] = CStringGetTextDatum(src->sha256);
	ret = SPI_execute_with_args("SELECT id FROM credimport.batch WHERE sha256 OPERATOR(pg_catalog.=) $1 "
								"AND status OPERATOR(pg_catalog.=) 'imported' ORDER BY id DESC LIMIT 1",
								1, types, values, NULL, false, 1);
	if (ret == SPI_OK_SELECT && SPI_processed == 1)
		ereport(WARNING,
				(errmsg("this %s was imported before, as batch %s",
						source_noun(src), SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errdetail("%s", detail),
				 errhint("To load it again, revert that batch first with credimport_revert().")));
	SPI_freetuptable(SPI_tuptable);
}

/*
 * The records of invalid rows, as they were in the source, for the error
 * report: read the source again rather than keep every record in memory
 * (invalid records are usually few; a clean load never comes here).
 */
static void
save_invalid_records(Source *src, int64 batch_id, int64 nrows, row_info_fn info, void *arg,
					 const uint8 *saved)
{
	static const char *const cols[3] = {"batch_id", "line_no", "fields"};
	static const Oid types[3] = {INT8OID, INT8OID, TEXTARRAYOID};
	CsvRecord	rec;
	TableWriter *w;
	MemoryContext rowcxt;
	int64		i = 0;

	if (!src->rewind(src) || !next_nonblank(src, &rec))
		return;
	/* past the rows above the header */
	while (rec.line_no < src->header_line)
		if (!next_nonblank(src, &rec))
			return;
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport saved record",
								   ALLOCSET_SMALL_SIZES);
	w = tw_begin("batch_record", 3, cols, types);
	while (i < nrows && next_nonblank(src, &rec))
	{
		int64		idx = i;
		int64		line_no;
		Problem    *problems;
		int			nproblems;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		Datum	   *elems;
		MemoryContext old;

		info(arg, i++, &line_no, &problems, &nproblems);
		if (line_no != rec.line_no)
		{
			ereport(WARNING,
					(errmsg("%s \"%s\" changed while it was loaded; the error report of batch " INT64_FORMAT " is incomplete",
							source_noun(src), src->description, batch_id)));
			break;
		}
		if (nproblems == 0 || !(saved[idx / 8] & (1 << (idx % 8))))
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		values[0] = Int64GetDatum(batch_id);
		values[1] = Int64GetDatum(line_no);
		if (rec.nfields == 0)
			nulls[2] = true;	/* too long to keep */
		else
		{
			elems = palloc(sizeof(Datum) * rec.nfields);
			for (int f = 0; f < rec.nfields; f++)
				elems[f] = CStringGetTextDatum(sanitize_value(rec.fields[f], rec.lengths[f]));
			values[2] = PointerGetDatum(construct_array(elems, rec.nfields, TEXTOID, -1, false, TYPALIGN_INT));
		}
		MemoryContextSwitchTo(old);
		tw_add(w, values, nulls);
		MemoryContextReset(rowcxt);
	}
	tw_end(w);
	MemoryContextDelete(rowcxt);
}

void
pipeline_emit_problems(ReturnSetInfo *rsinfo, int64 nrows, row_info_fn info, void *arg)
{
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport problem rows",
												 ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(rowcxt);

	for (int64 i = 0; i < nrows; i++)
	{
		int64		line_no;
		Problem    *problems;
		int			nproblems;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(rowcxt);
		info(arg, i, &line_no, &problems, &nproblems);
		for (Problem *p = problems; p; p = p->next)
		{
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};

			values[0] = Int64GetDatum(line_no);
			values[1] = CStringGetTextDatum(p->field);
			values[2] = CStringGetTextDatum(p->code);
			values[3] = CStringGetTextDatum(p->message);
			if (p->value)
				values[4] = CStringGetTextDatum(p->value);
			else
				nulls[4] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(rowcxt);
}


/* a copy of a record that outlives the reader's next call */
static CsvRecord *
record_copy(CsvRecord *rec)
{
	CsvRecord  *c = palloc(sizeof(CsvRecord));

	*c = *rec;
	c->fields = palloc(sizeof(char *) * Max(rec->nfields, 1));
	c->lengths = palloc(sizeof(size_t) * Max(rec->nfields, 1));
	c->field_nul = palloc(Max(rec->nfields, 1));
	for (int f = 0; f < rec->nfields; f++)
	{
		c->fields[f] = pnstrdup(rec->fields[f], rec->lengths[f]);
		c->lengths[f] = rec->lengths[f];
		c->field_nul[f] = rec->field_nul[f];
	}
	return c;
}

/* a short rendering of a skipped row for the NOTICE: its non-empty fields */
static void
append_row_preview(StringInfo buf, CsvRecord *rec)
{
	StringInfoData row;
	int			shown = 0;

	initStringInfo(&row);
	for (int f = 0; f < rec->nfields && row.len < 60; f++)
	{
		char	   *v = rec->fields[f];
		Size		len = rec->lengths[f];

		v = fc_trim(v, &len);
		if (len == 0)
			continue;
		appendStringInfo(&row, "%s%s", shown++ ? ", " : "", sanitize_value(v, utf8_cliplen(v, len, 60)));
	}
	if (row.len > 60)
	{
		/* cut at a character boundary */
		int			cut = pg_mbcliplen(row.data, row.len, 60);

		row.data[cut] = '\0';
		appendStringInfoString(buf, row.data);
		appendStringInfoString(buf, "...");
	}
	else
		appendStringInfoString(buf, row.data);
}

/* how many non-empty rows may stand above the header (titles, notes) */
#define HEADER_SEARCH_ROWS 20

/*
 * The header is the first row that names the kind's required columns (read
 * through the aliases) within the first HEADER_SEARCH_ROWS rows that are
 * not blank; rows above it are skipped and named in a NOTICE.  When no row
 * does, the first row is the header, with the errors that explain why it
 * is not one.  A staging table's header is its column names.
 */
static ColumnMap *read_header(Source *src, const KindColumn *cols, int ncols,
							  const char *const *required_any, int nrequired_any, Datum *header);

/*
 * What errors about the source's content add to their DETAIL: the worksheet
 * read and the sheets of the workbook; the format tried when the name did
 * not say it.  NULL when there is nothing to add.
 */
char *
pipeline_source_note(Source *src, const char *detail)
{
	StringInfoData b;

	if (src->sheet_read == NULL && src->format_note == NULL)
		return NULL;
	initStringInfo(&b);
	if (detail && detail[0])
		appendStringInfo(&b, "%s  ", detail);
	if (src->sheet_read)
		appendStringInfo(&b, "Worksheet \"%s\" was read; the workbook's sheets are %s.",
						 src->sheet_read, src->sheet_list ? src->sheet_list : "?");
	if (src->format_note)
		appendStringInfo(&b, "%s%s", src->sheet_read ? "  " : "", src->format_note);
	return b.data;
}

/*
 * The header, as read_header finds it; an error about the file's content
 * (an empty sheet, a missing column, bytes that are not text) says which
 * worksheet was read and which format was tried.
 */
ColumnMap *
pipeline_read_header(Source *src, const KindColumn *cols, int ncols,
					 const char *const *required_any, int nrequired_any, Datum *header)
{
	MemoryContext cxt = CurrentMemoryContext;
	ColumnMap  *volatile map = NULL;

	if (src->sheet_read == NULL && src->format_note == NULL)
		return read_header(src, cols, ncols, required_any, nrequired_any, header);
	PG_TRY();
	{
		map = read_header(src, cols, ncols, required_any, nrequired_any, header);
	}
	PG_CATCH();
	{
		ErrorData  *ed;
		int			code;

		MemoryContextSwitchTo(cxt);
		ed = CopyErrorData();
		code = ed->sqlerrcode;
		if (code != ERRCODE_BAD_COPY_FILE_FORMAT && code != ERRCODE_INVALID_PARAMETER_VALUE &&
			code != ERRCODE_CHARACTER_NOT_IN_REPERTOIRE)
		{
			FreeErrorData(ed);
			PG_RE_THROW();
		}
		FlushErrorState();
		ed->detail = pipeline_source_note(src, ed->detail);
		ReThrowError(ed);
	}
	PG_END_TRY();
	return map;
}

static ColumnMap *
read_header(Source *src, const KindColumn *cols, int ncols,
			const char *const *required_any, int nrequired_any, Datum *header)
{
	CsvRecord	rec;
	CsvRecord  *hdr = &rec;
	CsvRecord  *first = NULL;
	ColumnMap  *map;
	Directory  *aliases;
	StringInfoData skipped;
	int			nskipped = 0;

	if (!next_nonblank(src, &rec) || rec.nfields == 0)
	{
		if (rec.problems & CSV_PROBLEM_TOO_LONG)
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("header of %s \"%s\" is longer than credimport.max_record_bytes (%d bytes)",
							source_noun(src), src->description, credimport_max_record_bytes),
					 errhint("Check that this is a CSV or tab-delimited file.")));
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("%s \"%s\" is empty", source_noun(src), src->description),
				 errhint("The first line must be a header naming the columns.")));
	}
	aliases = columns_load_aliases(src->import_kind);
	columns_check_mapping(src->mapping, cols, ncols, NULL, 0);
	initStringInfo(&skipped);
	if (src->header_row > 0)
	{
		/* header_row => n: the record that starts on line n, whatever it names */
		if (src->kind == SOURCE_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("header_row is not for staging tables"),
					 errdetail("A staging table's header is its column names."),
					 errhint("Leave header_row out.")));
		while (rec.line_no < src->header_row)
		{
			appendStringInfo(&skipped, "%sline %ld (", nskipped ? "; " : "", rec.line_no);
			append_row_preview(&skipped, &rec);
			appendStringInfoChar(&skipped, ')');
			nskipped++;
			if (!next_nonblank(src, &rec))
			{
				rec.line_no = -1;
				break;
			}
		}
		if (rec.line_no != src->header_row)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("header_row %ld of %s \"%s\" is not the start of a record",
							src->header_row, source_noun(src), src->description),
					 errdetail("Line %ld is blank, past the end, or inside a quoted field.", src->header_row),
					 errhint("Give the line number of the header as the file numbers its lines.")));
	}
	else if (src->kind != SOURCE_TABLE)
	{
		for (int n = 1;; n++)
		{
			if (columns_header_complete(&rec, cols, ncols, required_any, nrequired_any, aliases,
										src->mapping))
				break;
			if (first == NULL)
				first = record_copy(&rec);
			appendStringInfo(&skipped, "%sline %ld (", nskipped ? "; " : "", rec.line_no);
			append_row_preview(&skipped, &rec);
			appendStringInfoChar(&skipped, ')');
			nskipped++;
			if (n >= HEADER_SEARCH_ROWS || !next_nonblank(src, &rec))
			{
				/* no header found: the first row is the header, and its errors tell why */
				hdr = first;
				nskipped = 0;
				break;
			}
		}
	}
	map = columns_map_header_aliases(hdr, cols, ncols, required_any, nrequired_any, NULL, 0,
									 aliases, src->mapping);
	if (nskipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %d %s above the header on line %ld", nskipped,
						nskipped == 1 ? "row" : "rows", hdr->line_no),
				 errdetail("Skipped: %s.", skipped.data)));
	src->header_line = hdr->line_no;
	if (header)
		*header = header_array(hdr);
	return map;
}

void
pipeline_progress_start(Source *src, const char *table)
{
	const int	params[3] = {PROGRESS_COPY_COMMAND, PROGRESS_COPY_TYPE, PROGRESS_COPY_BYTES_TOTAL};
	int64		values[3];

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY,
								  get_relname_relid(table, get_namespace_oid("credimport", false)));
	values[0] = PROGRESS_COPY_COMMAND_FROM;
	values[1] = src->kind == SOURCE_FILE ? PROGRESS_COPY_TYPE_FILE :
		src->kind == SOURCE_CONTENT ? PROGRESS_COPY_TYPE_PIPE : PROGRESS_COPY_TYPE_CALLBACK;
	values[2] = src->bytes_total;
	pgstat_progress_update_multi_param(3, params, values);
}

void
pipeline_progress_read(Source *src, int64 records, bool counting_records)
{
	pgstat_progress_update_param(PROGRESS_COPY_BYTES_PROCESSED, src->bytes_read);
	if (counting_records)
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, records);
}

/*
 * batch_error rows for the problems, and batch_record rows for the invalid
 * records.  Every problem is counted, but a batch stores at most
 * credimport.max_stored_problems problems of each code; past that, one row
 * per code (line_no NULL, code problems_not_stored, value the code) says how
 * many more there were.  A record is saved in batch_record only when one of
 * its problems was stored, so that both tables are bounded whatever the file.
 */
void
pipeline_record_problems(Source *src, int64 batch_id, int64 nrows, row_info_fn info, void *arg)
{
	TableWriter *errw = report_errors_begin();
	Directory  *codes = dir_create(CurrentMemoryContext, 64);
	uint8	   *saved = MemoryContextAllocExtended(CurrentMemoryContext, nrows / 8 + 1,
											   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	int64		nsaved = 0;
	int64		last_saved = -1;
	DirEntry  **seen = NULL;
	int			nseen = 0;
	int			cap = 0;

	for (int64 i = 0; i < nrows; i++)
	{
		int64		line_no;
		Problem    *problems;
		int			nproblems;

		CHECK_FOR_INTERRUPTS();
		info(arg, i, &line_no, &problems, &nproblems);
		for (Problem *p = problems; p; p = p->next)
		{
			bool		existed;
			DirEntry   *c = dir_insert(codes, p->code, &existed);

			if (!existed)
			{
				if (nseen == cap)
				{
					cap = cap ? cap * 2 : 16;
					seen = seen ? repalloc(seen, sizeof(DirEntry *) * cap) : palloc(sizeof(DirEntry *) * cap);
				}
				seen[nseen++] = c;
			}

			/* aux: problems of this code stored; id: not stored */
			if (p->nfolded > 0)
				c->id += p->nfolded;	/* kept short: never stored */
			else if (c->aux < credimport_max_stored_problems)
			{
				c->aux++;
				report_errors_add(errw, batch_id, line_no, p);
				if (!(saved[i / 8] & (1 << (i % 8))))
				{
					saved[i / 8] |= (uint8) (1 << (i % 8));
					nsaved++;
					last_saved = i;
				}
			}
			else
				c->id++;
		}
	}
	report_errors_end(errw);
	errw = NULL;
	for (int k = 0; k < nseen; k++)
	{
		static const char *const cols[5] = {"batch_id", "field", "code", "message", "value"};
		static const Oid types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		DirEntry   *c = seen[k];
		Datum		values[5];

		if (c->id == 0)
			continue;
		if (errw == NULL)
			errw = tw_begin("batch_error", 5, cols, types);
		values[0] = Int64GetDatum(batch_id);
		values[1] = CStringGetTextDatum("batch");
		values[2] = CStringGetTextDatum("problems_not_stored");
		values[3] = CStringGetTextDatum(psprintf(INT64_FORMAT " more problems with code %s are not stored "
												 "(credimport.max_stored_problems is %d)",
												 c->id, c->key, credimport_max_stored_problems));
		values[4] = CStringGetTextDatum(c->key);
		tw_add(errw, values, NULL);
	}
	if (errw)
		tw_end(errw);
	if (nsaved > 0)
		save_invalid_records(src, batch_id, last_saved + 1, info, arg, saved);
}

void
pipeline_check_max_rows(Source *src, int64 nrows, long line_no)
{
	if (credimport_max_rows > 0 && nrows >= credimport_max_rows)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s \"%s\" has more than %d data records", source_noun(src),
						src->description, credimport_max_rows),
				 errdetail("Line %ld starts record %d.", line_no, credimport_max_rows + 1),
				 errhint("Split the file, or have an administrator raise credimport.max_rows.")));
}

/* ---------------- identifying existing learners ---------------- */

const char *const ident_field_names[3] = {"email", "remote_id", "user_id"};

DirEntry *
ident_check(IdentMode mode, RecordCtx *rc, int col, Directory *learners, char **ident)
{
	const char *name = ident_field_names[mode];
	Size		len;
	char	   *v = record_value(rc, col, name, &len);
	int64		id;
	char		buf[32];

	*ident = NULL;
	if (v == NULL && len == (Size) -1)
		return NULL;			/* encoding problem already recorded */
	if (v == NULL || len == 0)
	{
		record_problem(rc, name, "missing_value", NULL, 0, "a value is required");
		return NULL;
	}
	*ident = arena_strndup(rc->arena, v, len);
	switch (mode)
	{
		case IDENT_EMAIL:
			if (fc_check_email(v, len) != FC_OK)
			{
				record_problem(rc, name, "invalid_email", v, len,
							   "\"%s\" is not a valid e-mail address", v);
				return NULL;
			}
			return dir_insert(learners, lower_text(v, len), NULL);
		case IDENT_REMOTE_ID:
			return dir_insert(learners, v, NULL);
		case IDENT_USER_ID:
			if (fc_parse_id(v, len, &id) != FC_OK)
			{
				record_problem(rc, name, "invalid_number", v, len,
							   "\"%s\" is not a learner id (a positive whole number)", v);
				return NULL;
			}
			snprintf(buf, sizeof(buf), INT64_FORMAT, id);
			return dir_insert(learners, buf, NULL);
	}
	return NULL;
}

void
ident_resolve(IdentMode mode, Directory *learners)
{
	switch (mode)
	{
		case IDENT_EMAIL:
			dir_resolve(learners,
						"SELECT pg_catalog.lower(email), id, active FROM credimport.learner "
						"WHERE pg_catalog.lower(email) OPERATOR(pg_catalog.=) ANY ($1)");
			break;
		case IDENT_REMOTE_ID:
			dir_resolve(learners,
						"SELECT remote_id, id, active FROM credimport.learner "
						"WHERE remote_id OPERATOR(pg_catalog.=) ANY ($1)");
			break;
		case IDENT_USER_ID:
			dir_resolve(learners,
						"SELECT id::pg_catalog.text, id, active FROM credimport.learner "
						"WHERE id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])");
			break;
	}
}

int64
ident_match(IdentMode mode, DirEntry *e, const char *ident, Arena *arena,
			Problem **problems, int *nproblems)
{
	const char *name = ident_field_names[mode];

	if (!e->found)
	{
		problem_append(arena, problems, nproblems, name, "unknown_learner", ident,
					   "no learner with %s \"%s\"", name, ident);
		return 0;
	}
	if (!e->active)
	{
		problem_append(arena, problems, nproblems, name, "inactive_learner", ident,
					   "the learner with %s \"%s\" is deactivated", name, ident);
		return 0;
	}
	return e->id;
}

/* ---------------- row storage ---------------- */

void
rowstore_init(RowStore *rs, MemoryContext cxt, Size row_size)
{
	memset(rs, 0, sizeof(*rs));
	rs->cxt = cxt;
	rs->row_size = row_size;
}

void *
rowstore_add(RowStore *rs, int64 n)
{
	void	   *row;

	if (n % ROWSTORE_CHUNK == 0)
	{
		if (rs->nchunks == rs->cap)
		{
			rs->cap = rs->cap ? rs->cap * 2 : 16;
			rs->chunks = rs->chunks ?
				repalloc(rs->chunks, sizeof(char *) * rs->cap) :
				MemoryContextAlloc(rs->cxt, sizeof(char *) * rs->cap);
		}
		rs->chunks[rs->nchunks++] = MemoryContextAllocHuge(rs->cxt, rs->row_size * ROWSTORE_CHUNK);
	}
	row = rowstore_at(rs, n);
	memset(row, 0, rs->row_size);
	return row;
}

/* ---------------- pass 1 ---------------- */

void
pipeline_read_records(Source *src, ColumnMap *map, Arena *arena, MemoryContext cxt,
					  const int64 *nrows, bool counting, record_fn fn, void *arg)
{
	MemoryContext reccxt = AllocSetContextCreate(cxt, "credimport record", ALLOCSET_DEFAULT_SIZES);
	CsvRecord	rec;

	for (;;)
	{
		RecordCtx	rc;
		MemoryContext old;

		MemoryContextReset(reccxt);
		if (!next_nonblank(src, &rec))
			break;
		pipeline_check_max_rows(src, *nrows, rec.line_no);
		old = MemoryContextSwitchTo(reccxt);
		record_begin(&rc, &rec, map, arena);
		fn(arg, &rc, &rec);
		MemoryContextSwitchTo(old);
		if (*nrows % 1000 == 0)
			pipeline_progress_read(src, *nrows, counting);
	}
	MemoryContextDelete(reccxt);

	/*
	 * One rule for every door: a source with nothing to import is an error,
	 * whether it is an empty file, a header without records or an empty
	 * staging table.
	 */
	if (*nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("%s \"%s\" is empty", source_noun(src), src->description),
				 src->sheet_read ?
				 errdetail_internal("%s", pipeline_source_note(src, "It has a header but no data records.")) :
				 errdetail("It has a header but no data records."),
				 errhint("An import needs at least one record; nothing was written.")));
	source_finish_digest(src);
	pipeline_progress_read(src, *nrows, counting);
}
