/*
 * report_xlsx.c
 *		The error report as a file: credimport_error_report(batch_id, format).
 *
 * 'xlsx' writes a workbook with libxlsxwriter in which every cell is a text
 * cell (a string, formatted "@"): no cell is ever a formula, and values such
 * as 0042, 1e5 or 2024-03-14 stay the text they were, so that a report fixed
 * and uploaded again loads exactly the values of the original file.
 * 'csv' gives the CSV report (credimport_error_report(batch_id)) as UTF-8
 * bytes.
 *
 * libxlsxwriter 1.1.4 writes only to a file: the workbook goes to a file
 * under the database's temporary directory (base/pgsql_tmp, whose
 * pgsql_tmp* files the server removes at startup after a crash), named
 * after this backend, read back and unlinked -- also on error.  Rows are
 * streamed (constant_memory), fetched from a cursor 1,000 at a time.
 */
#include "credimport.h"

#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_tablespace_d.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/array.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include <ctype.h>

#include <xlsxwriter.h>

/* Excel's limit on the characters of a cell (libxlsxwriter's XLSX_CELL_MAX) */
#define XLSX_CELL_MAX 32767

#define REPORT_QUERY \
	"SELECT r.fields FROM credimport.error_report_rows($1) r ORDER BY r.line_no"

static void
xlsx_error(lxw_error err, int64 row, int col)
{
	if (err == LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a value of the report is longer than a workbook cell may hold (%d characters)",
						XLSX_CELL_MAX),
				 errdetail("Row " INT64_FORMAT ", column %d of the report.", row + 1, col + 1),
				 errhint("Use the CSV report: credimport_error_report(batch_id).")));
	if (err == LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the report does not fit in a worksheet (%d rows, %d columns)",
						LXW_ROW_MAX, LXW_COL_MAX),
				 errhint("Use the CSV report: credimport_error_report(batch_id).")));
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("could not write the workbook report: %s", lxw_strerror(err))));
}

/*
 * ECMA-376 ST_Xstring: spreadsheets read _xHHHH_ in cell text as the
 * character U+HHHH (libxlsxwriter writes control characters so, and
 * credimport's reader decodes them).  A value holding such text literally
 * has its "_" written as the escape _x005F_, so that "_x0041_" shows and
 * loads back as itself, not "A".  Returns s itself when nothing changes.
 */
static char *
escape_xstring(char *s)
{
	StringInfoData buf;
	char	   *from = s;

	for (char *p = s; (p = strstr(p, "_x")) != NULL; p++)
	{
		bool		hex = true;

		for (int i = 2; i < 6 && hex; i++)
			hex = isxdigit((unsigned char) p[i]);
		if (!hex || p[6] != '_')
			continue;
		if (from == s)
			initStringInfo(&buf);
		appendBinaryStringInfo(&buf, from, p - from);
		appendStringInfoString(&buf, "_x005F_");
		from = p + 1;			/* the "x" that follows is text */
	}
	if (from == s)
		return s;
	appendStringInfoString(&buf, from);
	return buf.data;
}

/* the report's rows into the worksheet; returns the widest row */
static int
write_rows(lxw_worksheet *ws, lxw_format *textfmt, int64 batch_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	Portal		portal;
	int64		row = 0;
	int			width = 0;

	values[0] = Int64GetDatum(batch_id);
	portal = SPI_cursor_open_with_args(NULL, REPORT_QUERY, 1, types, values, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
			Datum	   *elems;
			bool	   *enulls;
			int			n;

			CHECK_FOR_INTERRUPTS();
			if (row >= LXW_ROW_MAX)
				xlsx_error(LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE, row, 0);
			if (isnull)
			{
				row++;
				continue;
			}
			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &enulls, &n);
			if (n > LXW_COL_MAX)
				xlsx_error(LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE, row, n);
			for (int c = 0; c < n; c++)
			{
				char	   *s;
				char	   *utf8;
				char	   *esc;
				lxw_error	err;

				if (enulls[c])
					continue;
				s = TextDatumGetCString(elems[c]);
				if (*s == '\0')
				{
					pfree(s);
					continue;
				}
				utf8 = pg_server_to_any(s, strlen(s), PG_UTF8);
				esc = escape_xstring(utf8);
				err = worksheet_write_string(ws, (lxw_row_t) row, (lxw_col_t) c, esc, textfmt);
				if (err != LXW_NO_ERROR)
					xlsx_error(err, row, c);
				if (esc != utf8)
					pfree(esc);
				if (utf8 != s)
					pfree(utf8);
				pfree(s);
			}
			width = Max(width, n);
			pfree(elems);
			pfree(enulls);
			row++;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	return width;
}

static bytea *
read_whole_file(const char *path)
{
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	struct stat st;
	bytea	   *result;
	Size		done = 0;

	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open the workbook report \"%s\": %m", path)));
	if (fstat(fd, &st) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat the workbook report \"%s\": %m", path)));
	if ((Size) st.st_size > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the workbook report is too large (%lld bytes)", (long long) st.st_size),
				 errhint("Use the CSV report: credimport_error_report(batch_id).")));
	result = palloc(VARHDRSZ + st.st_size);
	SET_VARSIZE(result, VARHDRSZ + st.st_size);
	while (done < (Size) st.st_size)
	{
		ssize_t		got = read(fd, VARDATA(result) + done, st.st_size - done);

		CHECK_FOR_INTERRUPTS();
		if (got < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read the workbook report \"%s\": %m", path)));
		if (got == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("the workbook report \"%s\" was shorter than expected", path)));
		done += got;
	}
	CloseTransientFile(fd);
	return result;
}

static bytea *
report_xlsx(int64 batch_id)
{
	static int	counter = 0;
	char		tmpdir[MAXPGPATH];
	char		path[MAXPGPATH];
	lxw_workbook_options opts = {0};
	lxw_workbook *volatile wb = NULL;
	bytea	   *result = NULL;

	TempTablespacePath(tmpdir, DEFAULTTABLESPACE_OID);
	if (MakePGDirectory(tmpdir) < 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", tmpdir)));
	snprintf(path, sizeof(path), "%s/%s%d.credimport-report.%d.xlsx",
			 tmpdir, PG_TEMP_FILE_PREFIX, MyProcPid, counter++);
	opts.constant_memory = LXW_TRUE;
	opts.tmpdir = tmpdir;

	PG_TRY();
	{
		lxw_worksheet *ws;
		lxw_format *textfmt;
		lxw_error	err;
		int			width;

		wb = workbook_new_opt(path, &opts);
		if (wb == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not start the workbook report")));
		ws = workbook_add_worksheet(wb, "Errors");
		textfmt = workbook_add_format(wb);
		if (ws == NULL || textfmt == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("could not start the workbook report")));
		/* the text number format: what a person types there stays text too */
		format_set_num_format(textfmt, "@");

		SPI_connect();
		width = write_rows(ws, textfmt, batch_id);
		SPI_finish();
		if (width > 0)
			worksheet_set_column(ws, 0, (lxw_col_t) (width - 1), 18, textfmt);

		err = workbook_close(wb);
		wb = NULL;
		if (err != LXW_NO_ERROR)
			xlsx_error(err, 0, 0);
		result = read_whole_file(path);
	}
	PG_FINALLY();
	{
		if (wb != NULL)
			lxw_workbook_free(wb);
		if (unlink(path) < 0 && errno != ENOENT)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not remove the workbook report \"%s\": %m", path)));
	}
	PG_END_TRY();
	return result;
}

static bytea *
report_csv(int64 batch_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		isnull;
	Datum		d;
	bytea	   *result;
	int			ret;

	values[0] = Int64GetDatum(batch_id);
	SPI_connect();
	ret = SPI_execute_with_args("SELECT pg_catalog.convert_to(pg_catalog.string_agg("
								"credimport.csv_line(r.fields), '' ORDER BY r.line_no), 'UTF8') "
								"FROM credimport.error_report_rows($1) r",
								1, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "credimport: could not make the CSV report: %s", SPI_result_code_string(ret));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "credimport: the CSV report is empty");
	result = DatumGetByteaPP(SPI_datumTransfer(d, false, -1));
	SPI_finish();
	return result;
}

/*
 * credimport_error_report(batch_id bigint, format text) RETURNS bytea
 */
PG_FUNCTION_INFO_V1(credimport_error_report_file);
Datum
credimport_error_report_file(PG_FUNCTION_ARGS)
{
	int64		batch_id = PG_GETARG_INT64(0);
	char	   *format = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (pg_strcasecmp(format, "xlsx") == 0)
		PG_RETURN_BYTEA_P(report_xlsx(batch_id));
	if (pg_strcasecmp(format, "csv") == 0)
		PG_RETURN_BYTEA_P(report_csv(batch_id));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown report format \"%s\"", format),
			 errhint("Use xlsx (a workbook of text cells) or csv.")));
	PG_RETURN_NULL();
}
