/*
 * pipeline.c
 *		The parts of a load every kind shares.
 */
#include "pipeline.h"
#include "tenant.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
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
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "kind.h"
#include "report.h"
#include "target.h"
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
 * Lock out other writers of the same tenant for the rest of the transaction
 * (loads and reverts: "a load" or "a revert" in the hint), so that two
 * loads never both find a credit absent and both insert it.  Writers of
 * different tenants take different keys and never wait for each other;
 * with tenancy off there is one key for the database.  A transaction-scoped
 * lock cannot outlive its transaction.
 */
void
pipeline_lock_tenant(const char *tenant, const char *what)
{
	if (tenant_lock(tenant, true))
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
				 errhint("Retry the transaction, or %s in READ COMMITTED.", what)));
	(void) tenant_lock(tenant, false);
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
	pipeline_progress_start_relid(src, get_relname_relid(table, get_namespace_oid("credimport", false)));
}

void
pipeline_progress_start_relid(Source *src, Oid relid)
{
	const int	params[3] = {PROGRESS_COPY_COMMAND, PROGRESS_COPY_TYPE, PROGRESS_COPY_BYTES_TOTAL};
	int64		values[3];

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, relid);
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
	const Target *t;

	if (dir_count(learners) == 0)
		return;
	t = target_get(TR_LEARNER);
	switch (mode)
	{
		case IDENT_EMAIL:
			dir_resolve(learners, target_sql_resolve(t, "email", true, NULL), target_lookup_chunk(t));
			break;
		case IDENT_REMOTE_ID:
			dir_resolve(learners, target_sql_resolve(t, "remote_id", false, NULL), target_lookup_chunk(t));
			break;
		case IDENT_USER_ID:
			dir_resolve(learners, target_sql_resolve(t, t->key, false, NULL), target_lookup_chunk(t));
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
	if (e->nfound > 1)
	{
		problem_append(arena, problems, nproblems, name, "ambiguous_learner", ident,
					   "%d learners have %s \"%s\"", e->nfound, name, ident);
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

/* ================ one pipeline for every kind ================ */


/*
 * The registry of kinds: one line per kind (its KindDecl, defined in its
 * own file src/kind_NAME.c, which the Makefile builds by its name).
 */
#define KIND_REGISTRY \
	KIND(credit_kind) \
	KIND(user_kind) \
	KIND(credential_kind) \
	/* (end of the registry) */

#define KIND(decl) extern const KindDecl decl;
KIND_REGISTRY
#undef KIND
#define KIND(decl) &decl,
static const KindDecl *const kinds[] = {KIND_REGISTRY};
#undef KIND

#define NKINDS lengthof(kinds)

const OptionVocab *
kind_vocab(void)
{
	static OptionWord words[NKINDS + 1];
	static const OptionVocab vocab = {"kind", words, false, true, NULL};

	if (words[0].word == NULL)
		for (int i = 0; i < (int) NKINDS; i++)
		{
			words[i].word = kinds[i]->name;
			words[i].value = i;
		}
	return &vocab;
}

const KindDecl *
kind_by_name(const char *name)
{
	int			i;

	if (!option_find(kind_vocab(), name, OPT_ALL, &i))
		return NULL;
	return kinds[i];
}

static inline bool
row_decided_outcome(Load *ld, KindRow *row)
{
	return ld->kind->outcomes[row->outcome].decided;
}

void
load_row_written(Load *ld)
{
	if (++ld->written % 1000 == 0)
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, ld->written);
}

char *
required_value(RecordCtx *rc, int col, const char *name, Size *len)
{
	char	   *v = record_value(rc, col, name, len);

	if (v == NULL && *len == (Size) -1)
		return NULL;			/* encoding problem already recorded */
	if (v == NULL || *len == 0)
	{
		record_problem(rc, name, "missing_value", NULL, 0, "a value is required");
		return NULL;
	}
	return v;
}

char *
optional_value(RecordCtx *rc, int col, const char *name, Size *len)
{
	char	   *v = record_value(rc, col, name, len);

	if (v == NULL || *len == (Size) -1 || *len == 0)
		return NULL;
	return v;
}

int
load_profile_fields(Load *ld, const char *const *builtin, int nbuiltin,
					bool *builtin_required, bool **custom_required)
{
	int			ret;
	int			ncustom = 0;
	char	  **custom;
	bool	   *req_custom;

	const Target *learners = target_get(TR_LEARNER);

	/*
	 * A field is required of a learner created only where the learner
	 * target can store it: a platform table without first_name (or without
	 * a profile column for custom fields) still gets its learners created.
	 */
	ret = SPI_execute("SELECT name, required FROM credimport.profile_field ORDER BY name", true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credimport: could not read credimport.profile_field");
	custom = MemoryContextAlloc(ld->cxt, sizeof(char *) * (SPI_processed + 1));
	req_custom = MemoryContextAllocZero(ld->cxt, sizeof(bool) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *raw = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		bool		req = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		char	   *name = MemoryContextAlloc(ld->cxt, strlen(raw) + 1);
		bool		is_builtin = false;

		CHECK_FOR_INTERRUPTS();
		fc_normalize_header(raw, strlen(raw), name, strlen(raw) + 1);
		for (int c = 0; c < nbuiltin; c++)
			if (builtin[c] && strcmp(name, builtin[c]) == 0)
			{
				builtin_required[c] = req && target_has(learners, builtin[c]);
				is_builtin = true;
			}
		if (!is_builtin && name[0] != '\0')
		{
			custom[ncustom] = name;
			req_custom[ncustom] = req && target_has(learners, "profile");
			ncustom++;
		}
	}
	SPI_freetuptable(SPI_tuptable);

	ld->ncols = nbuiltin + ncustom;
	ld->cols = MemoryContextAllocZero(ld->cxt, sizeof(KindColumn) * Max(ld->ncols, 1));
	for (int c = 0; c < nbuiltin; c++)
		ld->cols[c].name = builtin[c];
	for (int i = 0; i < ncustom; i++)
		ld->cols[nbuiltin + i].name = custom[i];
	if (custom_required)
		*custom_required = req_custom;
	return ncustom;
}

char *
profile_json(const KindColumn *cols, char *const *vals, int n)
{
	StringInfoData buf;
	bool		first = true;

	if (vals == NULL)
		return NULL;
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < n; i++)
	{
		if (vals[i] == NULL)
			continue;
		if (!first)
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, cols[i].name);
		appendStringInfoString(&buf, ": ");
		escape_json(&buf, vals[i]);
		first = false;
	}
	appendStringInfoChar(&buf, '}');
	return first ? NULL : buf.data;
}

void
load_ident_check(Load *ld, RecordCtx *rc, KindRow *row, int col)
{
	row->match = ident_check((IdentMode) ld->opt->mode, rc, col, ld->learners, &row->ident);
}

#define PROBE_CHUNK 50000

void
load_probe(Load *ld, const char *sql, int nkeys, const Oid *key_types,
		   probe_key_fn key, probe_hit_fn hit)
{
	Oid		   *argtypes = palloc(sizeof(Oid) * (nkeys + 1));
	Datum	   *args = palloc(sizeof(Datum) * (nkeys + 1));
	Datum	  **cols = palloc(sizeof(Datum *) * (nkeys + 1));
	Datum	   *keys = palloc(sizeof(Datum) * nkeys);
	int16	   *typlen = palloc(sizeof(int16) * nkeys);
	bool	   *typbyval = palloc(sizeof(bool) * nkeys);
	char	   *typalign = palloc(sizeof(char) * nkeys);
	SPIPlanPtr	plan;
	int64		next = 0;
	MemoryContext probecxt = AllocSetContextCreate(CurrentMemoryContext, "credimport probe",
												   ALLOCSET_DEFAULT_SIZES);

	argtypes[0] = INT8ARRAYOID;
	for (int c = 0; c < nkeys; c++)
	{
		argtypes[c + 1] = get_array_type(key_types[c]);
		get_typlenbyvalalign(key_types[c], &typlen[c], &typbyval[c], &typalign[c]);
	}
	plan = SPI_prepare(sql, nkeys + 1, argtypes);
	if (plan == NULL)
		elog(ERROR, "credimport: could not prepare the %s probe: %s", ld->kind->name,
			 SPI_result_code_string(SPI_result));

	while (next < ld->nrows)
	{
		int			n = 0;
		MemoryContext old = MemoryContextSwitchTo(probecxt);

		for (int c = 0; c <= nkeys; c++)
			cols[c] = palloc(sizeof(Datum) * PROBE_CHUNK);
		for (; next < ld->nrows && n < PROBE_CHUNK; next++)
		{
			KindRow    *row = load_row(ld, next);

			CHECK_FOR_INTERRUPTS();
			if (row->nproblems > 0 || !key(ld, row, keys))
				continue;
			cols[0][n] = Int64GetDatum(next);
			for (int c = 0; c < nkeys; c++)
				cols[c + 1][n] = keys[c];
			n++;
		}
		if (n > 0)
		{
			args[0] = PointerGetDatum(construct_array(cols[0], n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
			for (int c = 0; c < nkeys; c++)
				args[c + 1] = PointerGetDatum(construct_array(cols[c + 1], n, key_types[c],
															  typlen[c], typbyval[c], typalign[c]));
			MemoryContextSwitchTo(old);
			/* read_only = false: a fresh snapshot (see dir_resolve) */
			if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "credimport: the %s probe failed", ld->kind->name);
			for (uint64 j = 0; j < SPI_processed; j++)
			{
				bool		isnull;
				int64		idx = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[j],
															  SPI_tuptable->tupdesc, 1, &isnull));

				CHECK_FOR_INTERRUPTS();
				hit(ld, load_row(ld, idx), SPI_tuptable->vals[j], SPI_tuptable->tupdesc);
			}
			SPI_freetuptable(SPI_tuptable);
		}
		else
			MemoryContextSwitchTo(old);
		MemoryContextReset(probecxt);
	}
	SPI_freeplan(plan);
	MemoryContextDelete(probecxt);
}

/* ---- writing into a target ---- */

struct LoadWriter
{
	Load	   *ld;
	const Target *t;
	TableWriter *w;
	int			ngiven;			/* fields the caller gives */
	int			nfields;		/* ... of which the target has */
	int		   *given;			/* field -> index of the caller's value */
	Datum	   *values;
	bool	   *nulls;
	int64	   *items;			/* ordinal (n-th add) -> the caller's item */
	int64		nitems;
	int64		cap;
	load_key_fn key;
	load_line_fn line;
	bool		count;			/* each row counts as written (progress) */
};

static void
load_writer_key(void *arg, int64 ordinal, Datum key, bool isnull)
{
	LoadWriter *lw = (LoadWriter *) arg;

	lw->key(lw->ld, lw->items[ordinal], key, isnull, tw_key_type(lw->w));
}

static int64
load_writer_line(void *arg, int64 ordinal)
{
	LoadWriter *lw = (LoadWriter *) arg;

	if (ordinal < 0 || ordinal >= lw->nitems)
		return 0;
	return lw->line(lw->ld, lw->items[ordinal]);
}

/* does the file have kind column col? */
bool
load_file_has(Load *ld, int col)
{
	return col >= 0 && col < ld->map->ncols && ld->map->col_to_file[col] >= 0;
}

/* the default: the item is a row index, its key goes to the result row */
void
load_row_key(Load *ld, int64 item, Datum key, bool isnull, Oid key_type)
{
	if (isnull)
		return;
	if (key_type == INT8OID)
		load_row(ld, item)->key = DatumGetInt64(key);
	else
	{
		/* a uuid (or any key that is not an integer), as text */
		char	   *s = TextDatumGetCString(key);

		load_row_key_text(ld, item, s);
		pfree(s);
	}
}

void
load_row_key_text(Load *ld, int64 i, const char *key)
{
	Assert(i >= 0 && i < ld->nrows);
	if (ld->key_text == NULL)
		ld->key_text = MemoryContextAllocExtended(ld->cxt, sizeof(char *) * Max(ld->nrows, 1),
												  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	ld->key_text[i] = arena_strndup(&ld->arena, key, strlen(key));
}

int64
load_row_line(Load *ld, int64 item)
{
	return load_row(ld, item)->line_no;
}

LoadWriter *
load_writer_begin(Load *ld, TargetRole role, int nfields, const char *const *fields,
				  const Oid *types, const char *what, load_key_fn key, load_line_fn line,
				  bool count, const bool *omit)
{
	LoadWriter *lw = palloc0(sizeof(LoadWriter));
	const char **f = palloc(sizeof(char *) * nfields);
	Oid		   *ty = palloc(sizeof(Oid) * nfields);

	lw->ld = ld;
	lw->t = target_get(role);
	lw->ngiven = nfields;
	lw->given = palloc(sizeof(int) * nfields);
	lw->values = palloc(sizeof(Datum) * nfields);
	lw->nulls = palloc(sizeof(bool) * nfields);
	lw->key = key;
	lw->line = line ? line : load_row_line;
	lw->count = count;

	/*
	 * A field the target has no column for is not written: the kinds give
	 * bookkeeping fields (batch_id, user_editable, created_by_batch) that a
	 * platform's table may lack, and refuse in their checks the values a
	 * record gives that the target cannot store.
	 */
	for (int i = 0; i < nfields; i++)
		if (target_has(lw->t, fields[i]) && !(omit && omit[i]))
		{
			lw->given[lw->nfields] = i;
			f[lw->nfields] = fields[i];
			ty[lw->nfields] = types[i];
			lw->nfields++;
		}
	lw->w = tw_begin_target(lw->t, lw->nfields, f, ty,
							lw->t->key ? ld->batch->id : 0,
							key && lw->t->key ? load_writer_key : NULL, lw);
	tw_set_lines(lw->w, load_writer_line, lw, what);
	return lw;
}

void
load_writer_add(LoadWriter *lw, int64 item, const Datum *values, const bool *nulls)
{
	if (lw->nitems == lw->cap)
	{
		lw->cap = lw->cap ? lw->cap * 2 : 1024;
		lw->items = lw->items ? repalloc_huge(lw->items, sizeof(int64) * lw->cap) :
			MemoryContextAllocHuge(lw->ld->cxt, sizeof(int64) * lw->cap);
	}
	lw->items[lw->nitems++] = item;
	for (int i = 0; i < lw->nfields; i++)
	{
		lw->values[i] = values[lw->given[i]];
		lw->nulls[i] = nulls ? nulls[lw->given[i]] : false;
	}
	tw_add(lw->w, lw->values, lw->nulls);
	if (lw->count)
		load_row_written(lw->ld);
}

void
load_writer_end(LoadWriter *lw)
{
	tw_end(lw->w);
	if (lw->items)
		pfree(lw->items);
}

bool
load_writer_direct(LoadWriter *lw)
{
	return tw_is_direct(lw->w);
}

/*
 * A value a record gives for a field the target cannot store: a problem of
 * the record naming the target (false), or true when the target has it.
 */
bool
load_storable(Load *ld, RecordCtx *rc, TargetRole role, const char *field, const char *column,
			  const char *v, Size len)
{
	const Target *t = target_get(role);

	if (target_has(t, field))
		return true;
	record_problem(rc, column, "not_stored", v, len,
				   "the %s target %s has no column for %s, so this value cannot be stored",
				   target_role_names[role], t->qualname, field);
	return false;
}

/* ---- kinds that declare their columns ---- */

/* the identifier columns (email, remote_id, user_id) come first; then the declared ones */
#define DECL_BASE 3

static void
decl_setup(Load *ld)
{
	const KindDecl *k = ld->kind;

	if (k->ncolumns > KIND_MAX_DECLARED)
		elog(ERROR, "credimport: kind \"%s\" declares more than %d columns", k->name, KIND_MAX_DECLARED);
	ld->ncols = DECL_BASE + k->ncolumns;
	ld->cols = MemoryContextAllocZero(ld->cxt, sizeof(KindColumn) * ld->ncols);
	ld->cols[ld->opt->mode].name = ident_field_names[ld->opt->mode];
	ld->cols[ld->opt->mode].flags = COL_REQUIRED;
	for (int i = 0; i < k->ncolumns; i++)
	{
		ld->cols[DECL_BASE + i].name = k->columns[i].name;
		ld->cols[DECL_BASE + i].flags = k->columns[i].flags & (COL_REQUIRED | COL_VALUE_REQ);
	}
	/* the target must be there before the file is read */
	(void) target_get(k->writes);
	/* the codes a column names: one directory each, loaded whole */
	ld->state = MemoryContextAllocZero(ld->cxt, sizeof(Directory *) * Max(k->ncolumns, 1));
	for (int i = 0; i < k->ncolumns; i++)
		if (k->columns[i].check == VC_CODE)
		{
			Directory  *d = dir_create(ld->cxt, 64);

			dir_load_all(d, target_sql_load_all(target_get(k->columns[i].code_role), "code", true, NULL));
			((Directory **) ld->state)[i] = d;
		}
}

static void
decl_check(Load *ld, RecordCtx *rc, KindRow *row)
{
	const KindDecl *k = ld->kind;

	load_ident_check(ld, rc, row, ld->opt->mode);
	for (int i = 0; i < k->ncolumns; i++)
	{
		const KindColumnDecl *d = &k->columns[i];
		char	   *p = (char *) row + d->offset;
		Size		len;
		char	   *v = record_value(rc, DECL_BASE + i, d->name, &len);
		int			y,
					m,
					dd;

		if (v == NULL && len == (Size) -1)
			continue;			/* encoding problem already recorded */
		if (v == NULL || len == 0)
		{
			if (d->flags & COL_VALUE_REQ)
				record_problem(rc, d->name, "missing_value", NULL, 0, "a value is required");
			continue;
		}
		if (d->field && !load_storable(ld, rc, k->writes, d->field, d->name, v, len))
			continue;
		switch (d->check)
		{
			case VC_TEXT:
				*(char **) p = arena_strndup(&ld->arena, v, len);
				break;
			case VC_EMAIL:
				if (fc_check_email(v, len) != FC_OK)
				{
					record_problem(rc, d->name, "invalid_email", v, len,
								   "\"%s\" is not a valid e-mail address", v);
					continue;
				}
				*(char **) p = arena_strndup(&ld->arena, v, len);
				break;
			case VC_DATE:
			case VC_PAST_DATE:
				if (fc_parse_date(v, len, (fc_date_format) credimport_date_format, &y, &m, &dd) != FC_OK)
				{
					record_problem(rc, d->name, "invalid_date", v, len,
								   "\"%s\" is not a valid date (expected %s)%s", v,
								   date_formats_accepted(), date_setting_hint(v, len));
					continue;
				}
				*(int32 *) p = fc_date_to_pg(y, m, dd);
				if (d->check == VC_PAST_DATE && *(int32 *) p > ld->today)
				{
					record_problem(rc, d->name, "future_date", v, len,
								   "%04d-%02d-%02d is in the future", y, m, dd);
					continue;
				}
				break;
			case VC_CREDITS:
				switch (fc_parse_credits_sep(v, len, 6, (char) credimport_decimal_separator, (int64 *) p))
				{
					case FC_OK:
						break;
					case FC_NON_POSITIVE:
						record_problem(rc, d->name, "non_positive_credits", v, len,
									   "credits must be greater than zero, not %s", v);
						continue;
					case FC_TOO_MANY_DECIMALS:
						record_problem(rc, d->name, "too_many_decimals", v, len,
									   "\"%s\" has more than 2 decimals", v);
						continue;
					default:
						record_problem(rc, d->name, "invalid_number", v, len,
									   "\"%s\" is not a number%s", v, number_setting_hint(v, len));
						continue;
				}
				break;
			case VC_BOOL:
				switch (fc_parse_bool(v, len))
				{
					case FC_OK:
						*(bool *) p = true;
						break;
					case FC_FALSE:
						*(bool *) p = false;
						break;
					default:
						record_problem(rc, d->name, "invalid_value", v, len,
									   "\"%s\" is not one of 1/0, true/false, yes/no", v);
						continue;
				}
				break;
			case VC_CODE:
				{
					DirEntry   *e = dir_lookup(((Directory **) ld->state)[i], lower_text(v, len));

					if (e == NULL || !e->active)
					{
						record_problem(rc, d->name, "unknown_code", v, len,
									   "no active %s with code \"%s\"",
									   target_role_names[d->code_role], v);
						continue;
					}
					*(int32 *) p = (int32) e->id;
				}
				break;
		}
		row->given |= (uint16) (1 << i);
	}
}

static Oid
decl_type(ValueCheck check)
{
	switch (check)
	{
		case VC_DATE:
		case VC_PAST_DATE:
			return DATEOID;
		case VC_CREDITS:
			return NUMERICOID;
		case VC_BOOL:
			return BOOLOID;
		case VC_CODE:
			return INT4OID;
		default:
			return TEXTOID;
	}
}

/* the typed value of declared column i of a row, as a Datum of decl_type() */
static Datum
decl_datum(const KindColumnDecl *d, KindRow *row, int i, bool *isnull)
{
	char	   *p = (char *) row + d->offset;

	*isnull = !(row->given & (1 << i));
	if (*isnull)
		return (Datum) 0;
	switch (d->check)
	{
		case VC_DATE:
		case VC_PAST_DATE:
			return DateADTGetDatum(*(int32 *) p);
		case VC_CREDITS:
			return NumericGetDatum(int64_div_fast_to_numeric(*(int64 *) p, 2));
		case VC_BOOL:
			return BoolGetDatum(*(bool *) p);
		case VC_CODE:
			return Int32GetDatum(*(int32 *) p);
		default:
			return CStringGetTextDatum(*(char **) p);
	}
}

static bool
decl_has_key(const KindDecl *k)
{
	for (int i = 0; i < k->ncolumns; i++)
		if (k->columns[i].flags & COL_KEY)
			return true;
	return false;
}

/* the natural key: the learner and the COL_KEY columns */
static uint32
decl_hash(Load *ld, KindRow *row)
{
	const KindDecl *k = ld->kind;
	uint32		h = murmurhash32((uint32) row->learner_id ^ (uint32) (row->learner_id >> 32));

	for (int i = 0; i < k->ncolumns; i++)
	{
		const KindColumnDecl *d = &k->columns[i];
		char	   *p = (char *) row + d->offset;

		if (!(d->flags & COL_KEY) || !(row->given & (1 << i)))
			continue;
		switch (d->check)
		{
			case VC_TEXT:
			case VC_EMAIL:
				h = hash_combine(h, hash_bytes((const unsigned char *) *(char **) p, strlen(*(char **) p)));
				break;
			case VC_DATE:
			case VC_PAST_DATE:
			case VC_CODE:
				h = hash_combine(h, murmurhash32((uint32) *(int32 *) p));
				break;
			case VC_CREDITS:
				h = hash_combine(h, murmurhash32((uint32) *(int64 *) p));
				break;
			case VC_BOOL:
				h = hash_combine(h, *(bool *) p ? 1 : 2);
				break;
		}
	}
	return h;
}

static bool
decl_equal(Load *ld, KindRow *a, KindRow *b)
{
	const KindDecl *k = ld->kind;

	if (a->learner_id != b->learner_id)
		return false;
	for (int i = 0; i < k->ncolumns; i++)
	{
		const KindColumnDecl *d = &k->columns[i];
		char	   *pa = (char *) a + d->offset;
		char	   *pb = (char *) b + d->offset;
		uint16		bit = (uint16) (1 << i);

		if (!(d->flags & COL_KEY))
			continue;
		if ((a->given & bit) != (b->given & bit))
			return false;
		if (!(a->given & bit))
			continue;
		switch (d->check)
		{
			case VC_TEXT:
			case VC_EMAIL:
				if (strcmp(*(char **) pa, *(char **) pb) != 0)
					return false;
				break;
			case VC_DATE:
			case VC_PAST_DATE:
			case VC_CODE:
				if (*(int32 *) pa != *(int32 *) pb)
					return false;
				break;
			case VC_CREDITS:
				if (*(int64 *) pa != *(int64 *) pb)
					return false;
				break;
			case VC_BOOL:
				if (*(bool *) pa != *(bool *) pb)
					return false;
				break;
		}
	}
	return true;
}

/* "same learner, course and date": the natural key's columns */
static const char *
decl_dup_what(const KindDecl *k)
{
	StringInfoData b;
	int			n = 0;
	int			shown = 1;

	for (int i = 0; i < k->ncolumns; i++)
		if (k->columns[i].flags & COL_KEY)
			n++;
	initStringInfo(&b);
	appendStringInfoString(&b, "same learner");
	for (int i = 0; i < k->ncolumns; i++)
		if (k->columns[i].flags & COL_KEY)
		{
			appendStringInfo(&b, "%s%s", shown == n ? " and " : ", ", k->columns[i].name);
			shown++;
		}
	return b.data;
}

/* rows whose natural key the target has already */
static bool
decl_probe_key(Load *ld, KindRow *row, Datum *keys)
{
	const KindDecl *k = ld->kind;
	int			n = 0;

	if (row->learner_id == 0)
		return false;
	keys[n++] = Int64GetDatum(row->learner_id);
	for (int i = 0; i < k->ncolumns; i++)
		if (k->columns[i].flags & COL_KEY)
		{
			bool		isnull;

			keys[n++] = decl_datum(&k->columns[i], row, i, &isnull);
			if (isnull)
				return false;	/* a NULL equals nothing */
		}
	return true;
}

static void
decl_probe_hit(Load *ld, KindRow *row, HeapTuple tup, TupleDesc desc)
{
	row_problem(ld, row, "record", "already_exists", NULL,
				"this %s is already recorded for the learner", ld->kind->what ? ld->kind->what : "record");
}

static void
decl_match(Load *ld)
{
	const KindDecl *k = ld->kind;
	const char *fields[KIND_MAX_DECLARED + 1];
	Oid			types[KIND_MAX_DECLARED + 1];
	int			n = 0;

	if (!decl_has_key(k))
		return;
	fields[n] = "learner_id";
	types[n++] = INT8OID;
	for (int i = 0; i < k->ncolumns; i++)
		if ((k->columns[i].flags & COL_KEY) && k->columns[i].field)
		{
			fields[n] = k->columns[i].field;
			types[n++] = decl_type(k->columns[i].check);
		}
	load_probe(ld, target_sql_probe(target_get(k->writes), n, fields, types, 0, NULL),
			   n, types, decl_probe_key, decl_probe_hit);
}

/* the declared columns into the target, with the learner and the batch */
static void
decl_write(Load *ld)
{
	const KindDecl *k = ld->kind;
	const char *fields[KIND_MAX_DECLARED + 2];
	Oid			types[KIND_MAX_DECLARED + 2];
	int			col_of[KIND_MAX_DECLARED + 2];
	int			n = 0;
	LoadWriter *w;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport row",
												 ALLOCSET_SMALL_SIZES);

	fields[n] = "learner_id";
	types[n] = INT8OID;
	col_of[n++] = -1;
	for (int i = 0; i < k->ncolumns; i++)
		if (k->columns[i].field)
		{
			fields[n] = k->columns[i].field;
			types[n] = decl_type(k->columns[i].check);
			col_of[n++] = i;
		}
	fields[n] = "batch_id";
	types[n] = INT8OID;
	col_of[n++] = -2;
	w = load_writer_begin(ld, k->writes, n, fields, types, k->what ? k->what : k->name,
						  load_row_key, NULL, true, NULL);
	for (int64 r = 0; r < ld->nrows; r++)
	{
		KindRow    *row = load_row(ld, r);
		Datum		values[KIND_MAX_DECLARED + 2];
		bool		nulls[KIND_MAX_DECLARED + 2];
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (row->nproblems > 0 || row_decided_outcome(ld, row))
			continue;
		old = MemoryContextSwitchTo(rowcxt);
		for (int f = 0; f < n; f++)
		{
			nulls[f] = false;
			if (col_of[f] == -1)
				values[f] = Int64GetDatum(row->learner_id);
			else if (col_of[f] == -2)
				values[f] = Int64GetDatum(ld->batch->id);
			else
				values[f] = decl_datum(&k->columns[col_of[f]], row, col_of[f], &nulls[f]);
		}
		MemoryContextSwitchTo(old);
		load_writer_add(w, r, values, nulls);
		MemoryContextReset(rowcxt);
	}
	load_writer_end(w);
	MemoryContextDelete(rowcxt);
}

/* the header line of a declared kind's file */
char *
kind_template(const KindDecl *k, const char *match_mode)
{
	StringInfoData buf;

	if (k->template)
		return k->template(match_mode);
	initStringInfo(&buf);
	appendStringInfoString(&buf, match_mode ? match_mode : "email");
	for (int i = 0; i < k->ncolumns; i++)
		if (k->columns[i].flags & COL_REQUIRED)
			appendStringInfo(&buf, ",%s", k->columns[i].name);
	appendStringInfoChar(&buf, '\n');
	return buf.data;
}

/* ---- the orchestrator's steps ---- */

static void
load_row_info(void *arg, int64 i, int64 *line_no, Problem **problems, int *nproblems)
{
	KindRow    *row = load_row((Load *) arg, i);

	*line_no = row->line_no;
	*problems = row->problems;
	*nproblems = row->nproblems;
}

/* pass 1: one record */
static void
load_record(void *arg, RecordCtx *rc, CsvRecord *rec)
{
	Load	   *ld = (Load *) arg;
	KindRow    *row = (KindRow *) rowstore_add(&ld->rows, ld->nrows++);

	row->line_no = rec->line_no;
	if (record_check_shape(rc))
		(ld->kind->check ? ld->kind->check : decl_check) (ld, rc, row);
	row->problems = rc->problems;
	row->nproblems = rc->nproblems;
}


static uint32
load_dup_hash(void *arg, uint32 idx)
{
	Load	   *ld = (Load *) arg;

	return (ld->kind->dup_hash ? ld->kind->dup_hash : decl_hash) (ld, load_row(ld, idx));
}

static bool
load_dup_equal(void *arg, uint32 a, uint32 b)
{
	Load	   *ld = (Load *) arg;

	return (ld->kind->dup_equal ? ld->kind->dup_equal : decl_equal) (ld, load_row(ld, a), load_row(ld, b));
}

/* duplicate_in_file: a valid record with the natural key of an earlier one */
static void
load_duplicates(Load *ld)
{
	MemoryContext dupcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport duplicate keys",
												 ALLOCSET_DEFAULT_SIZES);
	DupSet	   *dups = dupkeys_create(dupcxt, (uint32) Min(ld->nrows, PG_INT32_MAX / 2),
									  load_dup_hash, load_dup_equal, ld);

	for (int64 i = 0; i < ld->nrows; i++)
	{
		KindRow    *row = load_row(ld, i);
		uint32		first;

		CHECK_FOR_INTERRUPTS();
		if (row->nproblems > 0 || row_decided_outcome(ld, row))
			continue;
		first = dupkeys_check_add(dups, (uint32) i);
		if (first != (uint32) i)
			row_problem(ld, row, "record", "duplicate_in_file", NULL,
						"%s as line " INT64_FORMAT, ld->kind->dup_what ? ld->kind->dup_what : decl_dup_what(ld->kind),
						load_row(ld, first)->line_no);
	}
	MemoryContextDelete(dupcxt);
}

/*
 * the result rows: (batch_id, line_no, status, learner_id [, key], errors
 * [, key as text]): 1.5 appends the key as text (credit_key, credential_key)
 */
static int
load_result_natts(const Load *ld)
{
	return 5 + (ld->kind->result_key ? 1 + (ld->opt->key_text ? 1 : 0) : 0);
}

/*
 * A result column of the written row's key: an integer key as int8 (bigint
 * declared; NULL for a key that is not an integer), or as its text read by
 * the declared type's input function (credit_key text, or a declaration of
 * the key's own type).
 */
static void
key_result(const char *kt, int64 key, Oid type, Oid *in, Oid *ioparam, Datum *value, bool *isnull)
{
	char		buf[MAXINT8LEN + 1];

	if (type == INT8OID || kt == NULL)
	{
		*isnull = (key == 0);
		*value = Int64GetDatum(key);
		if (*isnull || type == INT8OID)
			return;
		pg_lltoa(key, buf);
		kt = buf;
	}
	if (type == INT8OID)
		return;
	*isnull = false;
	if (type == TEXTOID)
	{
		*value = CStringGetTextDatum(kt);
		return;
	}
	if (!OidIsValid(*in))
		getTypeInputInfo(type, in, ioparam);
	*value = OidInputFunctionCall(*in, unconstify(char *, kt), *ioparam, -1);
}

static void
load_emit_rows(Load *ld, ReturnSetInfo *rsinfo)
{
	const KindDecl *k = ld->kind;
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "credimport result rows",
												 ALLOCSET_SMALL_SIZES);
	/* the key columns: bigint, or (a result declared so) any type a key's text is read as */
	Oid			key_type = k->result_key ? TupleDescAttr(rsinfo->setDesc, 4)->atttypid : InvalidOid;
	Oid			text_type = (k->result_key && ld->opt->key_text) ?
		TupleDescAttr(rsinfo->setDesc, 6)->atttypid : InvalidOid;
	Oid			key_in[2] = {InvalidOid, InvalidOid};
	Oid			key_ioparam[2] = {InvalidOid, InvalidOid};
	Datum		st_invalid = CStringGetTextDatum("invalid");
	Datum		st_valid = CStringGetTextDatum("valid");
	Datum	   *st_outcome = palloc(sizeof(Datum) * k->noutcomes);

	for (int o = 0; o < k->noutcomes; o++)
		st_outcome[o] = CStringGetTextDatum(k->outcomes[o].word);
	for (int64 i = 0; i < ld->nrows; i++)
	{
		KindRow    *row = load_row(ld, i);
		Datum		values[7];
		bool		nulls[7] = {0};
		int			n = 0;
		int			errcol;
		MemoryContext oldcxt;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(rowcxt);
		oldcxt = MemoryContextSwitchTo(rowcxt);
		values[n++] = Int64GetDatum(ld->batch->id);
		values[n++] = Int64GetDatum(row->line_no);
		if (row->nproblems > 0)
			values[n++] = st_invalid;
		else if (ld->imported || row_decided_outcome(ld, row))
			values[n++] = st_outcome[row->outcome];
		else
			values[n++] = st_valid;
		nulls[n] = (row->learner_id == 0);
		values[n++] = Int64GetDatum(row->learner_id);
		if (k->result_key)
		{
			char	   *kt = ld->key_text ? ld->key_text[i] : NULL;

			key_result(kt, row->key, key_type, &key_in[0], &key_ioparam[0], &values[n], &nulls[n]);
			n++;
		}
		errcol = n;
		nulls[n] = (row->nproblems == 0);
		values[n++] = nulls[errcol] ? (Datum) 0 :
			report_errors_array(row->problems, PROBLEMS_KEPT(row->nproblems));
		if (k->result_key && ld->opt->key_text)
		{
			key_result(ld->key_text ? ld->key_text[i] : NULL, row->key, text_type,
					   &key_in[1], &key_ioparam[1], &values[n], &nulls[n]);
			n++;
		}
		Assert(n == load_result_natts(ld));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(oldcxt);
	}
	MemoryContextDelete(rowcxt);
}

void
pipeline_run(FunctionCallInfo fcinfo, Source *src, const KindDecl *kind, const LoadOptions *opt)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Load		ld;
	BatchInfo	batch;
	int64		invalid = 0;
	int64		decided = 0;
	int		   *outcome_counts;
	instr_time	t;
	bool		dry = opt->problems_only;
	bool		validate_only = opt->validate_only || dry;

	INSTR_TIME_SET_CURRENT(t);
	memset(&ld, 0, sizeof(ld));
	memset(&batch, 0, sizeof(batch));
	ld.kind = kind;
	ld.opt = opt;

	/* the declared result has the columns the rows are emitted with (before anything is read) */
	if (!dry && rsinfo->setDesc->natts != load_result_natts(&ld))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("function %s returns rows of %d columns, but a load of %s gives %d",
						get_func_name(fcinfo->flinfo->fn_oid), rsinfo->setDesc->natts, kind->name,
						load_result_natts(&ld)),
				 errdetail("The columns are batch_id, line_no, status, learner_id, %s.",
						   !kind->result_key ? "errors" : opt->key_text ? "the key, errors, the key as text" :
						   "the key, errors"),
				 errhint("Declare the function as credimport's install and update scripts do, "
						 "or run ALTER EXTENSION credimport UPDATE.")));
	/* whose rows these are: refused now, before anything is read, for a
	 * role of no tenant or of several while tenancy is on */
	if (!dry)
	{
		ld.tenant = tenant_current();
		tenant_check_shipped_rls();
	}
	ld.src = src;
	ld.cxt = CurrentMemoryContext;
	ld.batch = &batch;
	arena_init(&ld.arena, ld.cxt);
	rowstore_init(&ld.rows, ld.cxt, kind->row_size);
	ld.today = GetSQLCurrentDate();
	batch.started_at = GetCurrentStatementStartTimestamp();

	/* a load shows in pg_stat_progress_copy, as a COPY FROM would */
	pipeline_progress_start_relid(src, target_get(kind->writes)->relid);

	if (kind->match_modes)
		ld.learners = dir_create(ld.cxt, 1024);
	(kind->setup ? kind->setup : decl_setup) (&ld);
	src->import_kind = kind->name;
	ld.map = pipeline_read_header(src, ld.cols, ld.ncols, ld.required_any, ld.nrequired_any,
								  dry ? NULL : &batch.header);

	/* pass 1: read and check every record */
	pipeline_read_records(src, ld.map, &ld.arena, ld.cxt, &ld.nrows, validate_only,
						  load_record, &ld);
	phase_done(&t, "read and checked", ld.nrows);

	/* pass 2: match, the kind's rules, duplicates */
	if (!validate_only)
	{
		pipeline_lock_tenant(ld.tenant, "load");
		/* the tenant the rows will get is still the one whose lock we hold */
		ld.tenant = tenant_recheck(ld.tenant);
	}
	if (!dry)
		pipeline_warn_same_file(src, kind->reimport_detail);
	if (kind->match_modes && opt->mode != MM_FULL)
	{
		ident_resolve((IdentMode) opt->mode, ld.learners);
		for (int64 i = 0; i < ld.nrows; i++)
		{
			KindRow    *row = load_row(&ld, i);

			CHECK_FOR_INTERRUPTS();
			if (row->match != NULL)
				row->learner_id = ident_match((IdentMode) opt->mode, row->match, row->ident,
											  &ld.arena, &row->problems, &row->nproblems);
		}
		phase_done(&t, "matched learners", ld.nrows);
	}
	if (kind->match)
		kind->match(&ld);
	else if (kind->columns)
		decl_match(&ld);
	phase_done(&t, "matched by the kind's rules", ld.nrows);
	if (kind->dup_hash || (kind->columns && decl_has_key(kind)))
	{
		load_duplicates(&ld);
		phase_done(&t, "found duplicates", ld.nrows);
	}
	elog(DEBUG1, "credimport: %zu kB of memory hold the load's records, keys and problems",
		 MemoryContextMemAllocated(ld.cxt, true) / 1024);

	for (int64 i = 0; i < ld.nrows; i++)
	{
		KindRow    *row = load_row(&ld, i);

		CHECK_FOR_INTERRUPTS();
		if (row->nproblems > 0)
			invalid++;
		else if (row_decided_outcome(&ld, row))
			decided++;
	}
	pgstat_progress_update_param(PROGRESS_COPY_TUPLES_EXCLUDED, invalid + decided);
	if (validate_only)
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, ld.nrows);

	if (dry)
	{
		/* credimport_validate: the problems, and nothing written */
		pipeline_emit_problems(rsinfo, ld.nrows, load_row_info, &ld);
		pgstat_progress_end_command();
		return;
	}

	batch.kind = kind->name;
	batch.source = src->description;
	batch.sha256 = src->sha256[0] ? src->sha256 : NULL;
	batch.match_mode = kind->match_modes ? opt->match_mode : kind->batch_match_mode;
	batch.allow_edit = opt->allow_edit;
	batch.validate_only = opt->validate_only;
	batch.records = (int) ld.nrows;
	batch.invalid = (int) invalid;
	batch.skipped = (int) decided;
	if (opt->validate_only)
		batch.status = "validated";
	else if (invalid > opt->max_errors)
		batch.status = "rejected";
	else
	{
		batch.status = "imported";
		batch.imported = (int) (ld.nrows - invalid - decided);
		ld.imported = true;
	}
	if (kind->count)
		kind->count(&ld);
	batch.columns = src->columns ? JsonbPGetDatum(src->columns) : (Datum) 0;
	report_insert_batch(&batch);
	credimport_last_batch = batch.id;

	if (ld.imported)
	{
		(kind->write ? kind->write : decl_write) (&ld);
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, ld.written);
		if (kind->counts_after_write)
			report_update_counts(&batch);
		phase_done(&t, "wrote", batch.imported);
	}

	/* problems, and the invalid records as they were, for the error report */
	if (invalid > 0)
	{
		pipeline_record_problems(src, batch.id, ld.nrows, load_row_info, &ld);
		phase_done(&t, "wrote problems", batch.invalid);
	}
	report_finish_batch(&batch);

	load_emit_rows(&ld, rsinfo);
	pgstat_progress_end_command();

	/*
	 * One NOTICE: an imported batch of a kind that counts its outcomes says
	 * how many records had each ("3 added, 1 updated, 0 deleted"); every
	 * other batch says what report_notice says.
	 */
	if (ld.imported && kind->outcome_notice)
	{
		StringInfoData msg;

		outcome_counts = palloc0(sizeof(int) * kind->noutcomes);
		for (int64 i = 0; i < ld.nrows; i++)
		{
			KindRow    *row = load_row(&ld, i);

			CHECK_FOR_INTERRUPTS();
			if (row->nproblems == 0)
				outcome_counts[row->outcome]++;
		}
		initStringInfo(&msg);
		appendStringInfo(&msg, "%d records", batch.records);
		for (int o = 0; o < kind->noutcomes; o++)
			appendStringInfo(&msg, ", %d %s", outcome_counts[o], kind->outcomes[o].word);
		appendStringInfo(&msg, ", %d invalid%s", batch.invalid,
						 kind->notice_suffix ? kind->notice_suffix(&ld, outcome_counts) : "");
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " imported: %s", batch.id, msg.data)));
	}
	else
		report_notice(&batch);
}
