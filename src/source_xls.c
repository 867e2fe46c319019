/*
 * source_xls.c
 *		Legacy Excel (.xls) record source: the backend side of xls_reader.c.
 *
 * The workbook is parsed by our own backend-free reader (xls_reader.c),
 * not by a library that can crash the server on a crafted file: every
 * allocation of the reader comes from a memory context of the load and is
 * bounded by credimport.max_sheet_bytes (plus a fixed 1 MB), every loop of
 * it calls back here to CHECK_FOR_INTERRUPTS, and its rows are handed out
 * one at a time as records, header first, numbered as the spreadsheet
 * numbers them.
 *
 * Which worksheet: the one named by the sheet argument (hidden or not),
 * else the first visible worksheet.  Hidden rows are skipped (a NOTICE
 * lists them), merged ranges read as their top-left value, a cell with an
 * error value or a value that cannot be known (a formula whose result was
 * not saved) becomes a problem naming the cell.
 */
#include "credimport.h"
#include "xls_reader.h"

#include "common/cryptohash.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"

/* what the reader may take beyond credimport.max_sheet_bytes */
#define XLS_FIXED_BYTES (1024 * 1024)

typedef struct XlsSource
{
	XlsReader  *reader;
	MemoryContext cxt;
	const char *label;
	const char *sheet;			/* the worksheet read */
	const char *sheet_list;		/* the workbook's worksheets, for messages */
	bool		header_done;
	int			width;
	Size		values_bytes;	/* copied into records so far, this pass */
	/* the current record */
	StringInfoData buf;
	size_t		offs[XLS_MAX_COLS];
	char	   *ptrs[XLS_MAX_COLS];
	size_t		lens[XLS_MAX_COLS];
	unsigned char flags[XLS_MAX_COLS];
	int			hidden_skipped;
	StringInfoData hidden_rows; /* the first few, for the NOTICE */
} XlsSource;

static void *
xls_palloc(void *ctx, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) ctx, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void
xls_pfree(void *ctx, void *ptr)
{
	(void) ctx;
	pfree(ptr);
}

static bool
xls_interrupt(void *ctx)
{
	(void) ctx;
	CHECK_FOR_INTERRUPTS();
	return false;
}

static void
xls_raise(XlsSource *xs, int rc)
{
	const char *why = pstrdup(xls_error(xs->reader));

	switch (rc)
	{
		case XLS_ELIMIT:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("workbook \"%s\" cannot be read within credimport.max_sheet_bytes (%d bytes): %s",
							xs->label, credimport_max_sheet_bytes, why),
					 errhint("Split the workbook, or save it as CSV.")));
			break;
		case XLS_ENOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory reading workbook \"%s\"", xs->label)));
			break;
		case XLS_EUNSUPPORTED:
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("workbook \"%s\" cannot be read: %s", xs->label, why),
					 errhint("Open it in a spreadsheet program and save it as .xlsx or CSV.")));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("\"%s\" is not a valid .xls workbook: %s", xs->label, why),
					 errhint("Open it in a spreadsheet program and save it as .xlsx or CSV.")));
	}
}

static bool
cell_is_value(const XlsCell *c)
{
	return c->len > 0 || c->kind == XLS_CELL_ERROR || c->kind == XLS_CELL_UNKNOWN;
}

static bool
row_blank(const XlsRow *row)
{
	for (int i = 0; i < row->ncells; i++)
		if (cell_is_value(&row->cells[i]))
			return false;
	return true;
}

/* Source.next: the first non-blank visible row is the header */
static bool
xls_next(Source *src, CsvRecord *rec)
{
	XlsSource  *xs = (XlsSource *) src->state;
	XlsRow		row;
	Size		need = 0;
	int			k;
	long		done,
				total;

	memset(rec, 0, sizeof(*rec));
	if (xs->reader == NULL)
		return false;
	for (;;)
	{
		int			rc;

		CHECK_FOR_INTERRUPTS();
		rc = xls_next_row(xs->reader, &row);
		if (rc == XLS_EOF)
			return false;
		if (rc != XLS_OK)
			xls_raise(xs, rc);
		if (row_blank(&row))
			continue;
		if (!row.hidden)
			break;
		if (xs->hidden_rows.data == NULL)
			initStringInfo(&xs->hidden_rows);
		if (xs->hidden_skipped < 10)
			appendStringInfo(&xs->hidden_rows, "%s%ld", xs->hidden_skipped ? ", " : "", row.row_no);
		else if (xs->hidden_skipped == 10)
			appendStringInfoString(&xs->hidden_rows, ", ...");
		xs->hidden_skipped++;
	}
	if (!xs->header_done)
	{
		xs->header_done = true;
		xs->width = 0;
		for (int i = 0; i < row.ncells; i++)
		{
			const XlsCell *c = &row.cells[i];

			/* a header names a column: an error value or an unknown one cannot */
			if (c->kind == XLS_CELL_ERROR || c->kind == XLS_CELL_UNKNOWN)
			{
				char		col[8];

				xls_column_name(c->col, col);
				ereport(ERROR,
						(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
						 errmsg("header cell %s%ld of worksheet \"%s\" of \"%s\" holds the error value %s",
								col, row.row_no, xs->sheet, xs->label, c->text),
						 errhint("Put the column's name in that cell.")));
			}
			if (cell_is_value(c))
				xs->width = c->col + 1;
		}
	}

	/* cells right of the header's last column have no name: not part of the record */
	for (int i = 0; i < row.ncells && row.cells[i].col < xs->width; i++)
		need += row.cells[i].len;
	need += xs->width;
	rec->line_no = row.row_no;
	rec->end_line_no = row.row_no;
	rec->bytes = need;
	xls_progress(xs->reader, &done, &total);
	src->bytes_read = total > 0 ? (int64) ((double) src->bytes_total * done / total) : src->bytes_total;
	if (credimport_max_record_bytes > 0 && need > (Size) credimport_max_record_bytes)
	{
		rec->problems = CSV_PROBLEM_TOO_LONG;
		return true;
	}

	/*
	 * Cells that share one string (LABELSST) and merged ranges repeat a
	 * value in every record: a small file could hand the pipeline
	 * gigabytes of values.  What a load reads from a workbook is bounded
	 * like the workbook itself, by max_sheet_bytes.
	 */
	xs->values_bytes += need;
	if (xs->values_bytes > (Size) credimport_max_sheet_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the values of workbook \"%s\" take more than credimport.max_sheet_bytes (%d bytes)",
						xs->label, credimport_max_sheet_bytes),
				 errdetail("Reached at row %ld of worksheet \"%s\"; cells that share a string and merged ranges repeat their value in every row.",
						   row.row_no, xs->sheet),
				 errhint("Split the workbook, or save it as CSV.")));

	/*
	 * Values are copied into the record's own buffer: the pipeline may edit
	 * a record's values in place, and cells share strings.
	 */
	resetStringInfo(&xs->buf);
	k = 0;
	for (int c = 0; c < xs->width; c++)
	{
		const XlsCell *cell;

		CHECK_FOR_INTERRUPTS();
		while (k < row.ncells && row.cells[k].col < c)
			k++;
		cell = (k < row.ncells && row.cells[k].col == c) ? &row.cells[k] : NULL;
		xs->offs[c] = xs->buf.len;
		xs->lens[c] = cell ? cell->len : 0;
		xs->flags[c] = 0;
		if (cell)
		{
			appendBinaryStringInfo(&xs->buf, cell->text, (int) cell->len);
			if (cell->kind == XLS_CELL_ERROR || cell->kind == XLS_CELL_UNKNOWN)
				xs->flags[c] = CSV_FIELD_CELL_ERROR;
			else if (memchr(cell->text, '\0', cell->len) != NULL)
			{
				xs->flags[c] = 1;
				rec->problems |= CSV_PROBLEM_NUL;
			}
		}
		appendStringInfoChar(&xs->buf, '\0');
	}
	for (int c = 0; c < xs->width; c++)
		xs->ptrs[c] = xs->buf.data + xs->offs[c];
	rec->nfields = xs->width;
	rec->fields = xs->ptrs;
	rec->lengths = xs->lens;
	rec->field_nul = xs->flags;
	return true;
}

static bool
xls_rewind_source(Source *src)
{
	XlsSource  *xs = (XlsSource *) src->state;

	if (xs->reader == NULL)
		return false;
	xls_rewind(xs->reader);
	xs->header_done = false;
	xs->hidden_skipped = 0;
	xs->values_bytes = 0;
	if (xs->hidden_rows.data)
		resetStringInfo(&xs->hidden_rows);
	return true;
}

static void
xls_close(Source *src)
{
	XlsSource  *xs = (XlsSource *) src->state;

	if (xs->hidden_skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %d hidden worksheet rows: %s", xs->hidden_skipped, xs->hidden_rows.data),
				 errhint("Unhide rows to import them.")));
	xs->hidden_skipped = 0;
	if (xs->reader)
	{
		MemoryContextDelete(xs->cxt);
		xs->reader = NULL;
	}
}

/* the worksheet to read: the one named, else the first visible one */
static int
choose_sheet(XlsSource *xs, const char *sheet)
{
	XlsReader  *r = xs->reader;
	StringInfoData names;
	StringInfoData skipped;
	int			chosen = -1;
	int			nworksheets = 0;

	initStringInfo(&names);
	initStringInfo(&skipped);
	for (int i = 0; i < xls_sheet_count(r); i++)
	{
		const XlsSheetInfo *si = xls_sheet_info(r, i);

		CHECK_FOR_INTERRUPTS();
		if (!si->worksheet)
			continue;
		nworksheets++;
		if (names.len < 1000)
			appendStringInfo(&names, "%s\"%s\"%s", names.len ? ", " : "", si->name,
							 si->visibility == XLS_VISIBLE ? "" : " (hidden)");
		if (chosen >= 0)
			continue;
		if (sheet != NULL)
		{
			if (strcmp(si->name, sheet) == 0)
				chosen = i;
		}
		else if (si->visibility == XLS_VISIBLE)
			chosen = i;
		else if (skipped.len < 1000)
			appendStringInfo(&skipped, "%s\"%s\"", skipped.len ? ", " : "", si->name);
	}
	if (nworksheets == 0)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("workbook \"%s\" has no worksheets", xs->label)));
	if (chosen < 0 && sheet != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("workbook \"%s\" has no worksheet named \"%s\"", xs->label, sheet),
				 errdetail("Its worksheets are %s.", names.data),
				 errhint("Sheet names are compared exactly, case included.")));
	if (chosen < 0)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("workbook \"%s\" has no visible worksheet", xs->label),
				 errdetail("Its worksheets are %s.", names.data),
				 errhint("Name the worksheet to read with the sheet argument.")));
	xs->sheet_list = names.data;
	if (skipped.len > 0)
		ereport(NOTICE,
				(errmsg("reading worksheet \"%s\", the first visible one; skipped hidden worksheets %s",
						xls_sheet_info(r, chosen)->name, skipped.data)));
	return chosen;
}

static Source *
xls_source(const char *data, Size len, const char *label, const char *sheet, SourceKind kind)
{
	Source	   *src = palloc0(sizeof(Source));
	XlsSource  *xs = palloc0(sizeof(XlsSource));
	xls_allocator alloc;
	int			rc;
	int			chosen;

	if (len > (Size) credimport_max_sheet_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("workbook \"%s\" is larger than credimport.max_sheet_bytes (%d bytes)",
						label, credimport_max_sheet_bytes),
				 errhint("Split the workbook, save it as CSV, or raise credimport.max_sheet_bytes.")));
	xs->label = label;
	xs->cxt = AllocSetContextCreate(CurrentMemoryContext, "credimport xls reader", ALLOCSET_DEFAULT_SIZES);
	alloc.alloc = xls_palloc;
	alloc.free = xls_pfree;
	alloc.ctx = xs->cxt;
	xs->reader = xls_reader_create(&alloc, (size_t) credimport_max_sheet_bytes + XLS_FIXED_BYTES,
								   xls_interrupt, NULL);
	if (xs->reader == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory reading workbook \"%s\"", label)));
	rc = xls_open(xs->reader, (const uint8_t *) data, len);
	if (rc != XLS_OK)
		xls_raise(xs, rc);
	chosen = choose_sheet(xs, sheet);
	xs->sheet = pstrdup(xls_sheet_info(xs->reader, chosen)->name);
	rc = xls_select_sheet(xs->reader, chosen);
	if (rc != XLS_OK)
		xls_raise(xs, rc);
	initStringInfo(&xs->buf);

	src->description = label;
	src->kind = kind;
	src->state = xs;
	src->sheet_read = xs->sheet;
	src->sheet_list = xs->sheet_list;
	src->bytes_total = (int64) len;
	source_digest_bytes(src, data, len);
	src->next = xls_next;
	src->rewind = xls_rewind_source;
	src->close = xls_close;
	return src;
}

/* a .xls workbook: from a server file (already read into data) */
Source *
source_open_xls_file(const char *path, const char *sheet, const char *data, Size len)
{
	return xls_source(data, len, path, sheet, SOURCE_FILE);
}

/* ... or from content */
Source *
source_open_xls_data(const char *data, Size len, const char *sheet)
{
	return xls_source(data, len, "(content)", sheet, SOURCE_CONTENT);
}
