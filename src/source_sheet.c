/*
 * source_sheet.c
 *		Spreadsheet (.xlsx) and XML record sources.
 *
 * One more door into the same pipeline: these sources hand out a
 * document's rows of text cells as records, header first, with the line
 * numbers a person can find (a spreadsheet's row numbers, the line of an
 * XML record element).  Everything downstream -- checks, matching,
 * writing, reporting -- is unchanged.
 *
 * The parsing is backend-free (xlsx_reader.c: libzip and libxml2's
 * streaming reader, unit-tested and fuzzed); this file turns its rows into
 * records.  A worksheet is streamed, never held: the reader keeps the
 * shared strings, the styles, the merged ranges and the current row, all
 * charged to credimport.max_sheet_bytes plus a fixed amount; each record
 * is bounded by credimport.max_record_bytes like a CSV record.
 */
#include "credimport.h"
#include "sheet_values.h"
#include "xlsx_reader.h"

#include "common/cryptohash.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include <math.h>

StaticAssertDecl(XR_CELL_ERROR == CSV_FIELD_CELL_ERROR, "one flag for error cells");

/* what the workbook and XML readers may allocate beyond max_sheet_bytes */
#define SHEET_FIXED_BYTES (16 * 1024 * 1024)

void
sheet_column_name(int col, char *out)
{
	xr_column_name(col, out);
}

/* ---------------- the stream: rows from xlsx_reader.c ---------------- */

typedef struct SheetStream
{
	XrReader   *xr;
	bool		header_done;
	int			width;
	/* the current record */
	StringInfoData buf;
	size_t	   *offs;
	char	  **ptrs;
	size_t	   *lens;
	unsigned char *flags;
	int			hidden_skipped;
	StringInfoData hidden_rows; /* the first few, for the NOTICE */
	MemoryContextCallback cb;
} SheetStream;

static void
xr_interrupt(void *arg)
{
	(void) arg;
	CHECK_FOR_INTERRUPTS();
}

/* the reader is malloc'd: freed with the memory of the load, whatever happens */
static void
stream_free(void *arg)
{
	SheetStream *st = (SheetStream *) arg;

	xr_close(st->xr);
	st->xr = NULL;
}

static void
xr_limits(XrLimits *lim)
{
	lim->part_bytes = (size_t) credimport_max_sheet_bytes;
	lim->max_bytes = (size_t) credimport_max_sheet_bytes + SHEET_FIXED_BYTES;
	lim->interrupt = xr_interrupt;
	lim->arg = NULL;
}

static void
raise_xr(const XrError *e)
{
	int			code;

	switch (e->code)
	{
		case XR_LIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case XR_XML:
			code = ERRCODE_INVALID_XML_DOCUMENT;
			break;
		case XR_NOSHEET:
			code = ERRCODE_UNDEFINED_OBJECT;
			break;
		case XR_NOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		default:
			code = ERRCODE_BAD_COPY_FILE_FORMAT;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", e->msg),
			 e->detail[0] ? errdetail_internal("%s", e->detail) : 0,
			 e->hint[0] ? errhint("%s", e->hint) : 0));
}

static bool
xrow_blank(const XrRow *row)
{
	for (int i = 0; i < row->ncells; i++)
		if (row->cells[i].value && row->cells[i].len > 0)
			return false;
	return true;
}

/* Source.next: the first non-blank row is the header; hidden rows are skipped */
static bool
stream_next(Source *src, CsvRecord *rec)
{
	SheetStream *st = (SheetStream *) src->state;
	XrRow	   *row;
	XrError		err;
	Size		total = 0;
	uint64_t	done,
				all;

	memset(rec, 0, sizeof(*rec));
	for (;;)
	{
		int			ret = xr_next(st->xr, &row, &err);

		CHECK_FOR_INTERRUPTS();
		if (ret < 0)
			raise_xr(&err);
		if (ret == 0)
		{
			src->bytes_read = src->bytes_total;
			return false;
		}
		if (row->hidden)
		{
			if (!xrow_blank(row))
			{
				if (st->hidden_rows.data == NULL)
					initStringInfo(&st->hidden_rows);
				if (st->hidden_skipped < 10)
					appendStringInfo(&st->hidden_rows, "%s%ld", st->hidden_skipped ? ", " : "", row->line_no);
				else if (st->hidden_skipped == 10)
					appendStringInfoString(&st->hidden_rows, ", ...");
				st->hidden_skipped++;
			}
			continue;
		}
		if (!xrow_blank(row))
			break;
	}
	if (!st->header_done)
	{
		st->header_done = true;
		st->width = 0;
		for (int i = 0; i < row->ncells; i++)
			if (row->cells[i].value && row->cells[i].len > 0)
				st->width = i + 1;
		/* a header cell holding an error (or a formula not calculated) names no column */
		for (int i = 0; i < st->width; i++)
			if (row->cells[i].flag == XR_CELL_ERROR)
			{
				char		col[8];

				sheet_column_name(i, col);
				ereport(ERROR,
						(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
						 errmsg("header cell %s%ld of \"%s\" holds the error value %s",
								col, row->line_no, src->description, row->cells[i].value),
						 errhint("Give every column a plain text name.")));
			}
		/* cells right of the header's last column have no name: never read */
		xr_set_width(st->xr, st->width);
		if (st->ptrs == NULL)
		{
			st->ptrs = palloc(sizeof(char *) * Max(st->width, 1));
			st->offs = palloc(sizeof(size_t) * Max(st->width, 1));
			st->lens = palloc(sizeof(size_t) * Max(st->width, 1));
			st->flags = palloc(Max(st->width, 1));
			initStringInfo(&st->buf);
		}
	}
	rec->line_no = row->line_no;
	rec->end_line_no = row->line_no;
	xr_progress(st->xr, &done, &all);
	src->bytes_read = all ? (int64) ((double) src->bytes_total * done / all) : 0;

	/* a record is bounded like a CSV record: too long, it is a problem, not memory */
	for (int i = 0; i < st->width; i++)
		total += (i < row->ncells && row->cells[i].value ? row->cells[i].len : 0) + 1;
	rec->bytes = total;
	if (total > (Size) credimport_max_record_bytes)
	{
		rec->problems = CSV_PROBLEM_TOO_LONG;
		return true;
	}

	/*
	 * Values are copied into the record's own buffer: cells share strings
	 * (shared strings, merged ranges), and the pipeline may edit a record's
	 * values in place.
	 */
	resetStringInfo(&st->buf);
	for (int i = 0; i < st->width; i++)
	{
		const XrCell *c = (i < row->ncells && row->cells[i].value) ? &row->cells[i] : NULL;

		st->offs[i] = st->buf.len;
		st->lens[i] = c ? c->len : 0;
		if (c)
			appendBinaryStringInfo(&st->buf, c->value, c->len);
		appendStringInfoChar(&st->buf, '\0');
		st->flags[i] = c ? c->flag : 0;
	}
	for (int i = 0; i < st->width; i++)
		st->ptrs[i] = st->buf.data + st->offs[i];
	rec->nfields = st->width;
	rec->fields = st->ptrs;
	rec->lengths = st->lens;
	rec->field_nul = st->flags;
	return true;
}

static bool
stream_rewind(Source *src)
{
	SheetStream *st = (SheetStream *) src->state;
	XrError		err;

	if (st->xr == NULL)
		return false;
	if (!xr_rewind(st->xr, &err))
		raise_xr(&err);
	st->header_done = false;
	st->hidden_skipped = 0;
	if (st->hidden_rows.data)
		resetStringInfo(&st->hidden_rows);
	src->bytes_read = 0;
	return true;
}

static void
stream_close(Source *src)
{
	SheetStream *st = (SheetStream *) src->state;

	if (st->hidden_skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %d hidden worksheet rows: %s", st->hidden_skipped, st->hidden_rows.data),
				 errhint("Unhide rows to import them.")));
	st->hidden_skipped = 0;
}

static Source *
stream_source(const char *label, SourceKind kind, XrReader *xr, const char *data, Size len)
{
	Source	   *src = palloc0(sizeof(Source));
	SheetStream *st = palloc0(sizeof(SheetStream));

	st->xr = xr;
	st->cb.func = stream_free;
	st->cb.arg = st;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &st->cb);
	src->description = label;
	src->kind = kind;
	src->state = st;
	src->bytes_total = (int64) len;
	source_digest_bytes(src, data, len);
	src->next = stream_next;
	src->rewind = stream_rewind;
	src->close = stream_close;
	return src;
}

Source *
source_open_xlsx(const char *data, Size len, const char *label, const char *sheet, SourceKind kind)
{
	XrLimits	lim;
	XrError		err;
	XrReader   *xr;
	Source	   *src;

	xr_limits(&lim);
	xr = xr_open_xlsx(data, len, label, sheet, &lim, &err);
	if (xr == NULL)
		raise_xr(&err);
	src = stream_source(label, kind, xr, data, len);
	src->sheet_read = pstrdup(xr_sheet_name(xr));
	src->sheet_list = pstrdup(xr_sheet_list(xr));
	if (xr_skipped_hidden(xr)[0] != '\0')
		ereport(NOTICE,
				(errmsg("reading worksheet \"%s\", the first visible one; skipped hidden worksheets %s",
						src->sheet_read, xr_skipped_hidden(xr))));
	return src;
}

/* ---------------- XML: <rows><row><field>value</field>...</row>...</rows> ---------------- */

Source *
source_open_xml(const char *data, Size len, const char *label, SourceKind kind)
{
	XrLimits	lim;
	XrError		err;
	XrReader   *xr;

	/* the same bound through every door (the file door checks it first) */
	if (len > (Size) credimport_max_sheet_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("XML document \"%s\" is larger than credimport.max_sheet_bytes (%d bytes)",
						label, credimport_max_sheet_bytes),
				 errhint("Split the file, save it as CSV, or raise credimport.max_sheet_bytes.")));
	xr_limits(&lim);
	xr = xr_open_xml(data, len, label, &lim, &err);
	if (xr == NULL)
		raise_xr(&err);

	/*
	 * Reports find records by line; when records share a line (a document
	 * on one line), they are numbered by position instead, 1, 2, ...
	 */
	if (xr_numbered_by_position(xr))
		ereport(NOTICE,
				(errmsg("records of \"%s\" are numbered by position, as several start on one line", label)));
	return stream_source(label, kind, xr, data, len);
}
