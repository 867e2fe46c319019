/*
 * xlsx_reader.h
 *		Backend-free readers of .xlsx workbooks and record-per-element XML
 *		documents: bytes in, rows of text cells out, one row at a time.
 *
 * Only libzip and libxml2 (its streaming reader) are used; nothing here
 * knows about PostgreSQL, so the parsers are unit-tested and fuzzed
 * outside the server.  Every allocation is malloc'd and charged to a
 * budget (XrLimits.max_bytes): shared strings, styles, merged ranges,
 * the current row, the XML field names.  A worksheet is read as a stream
 * -- only the current row is held -- and can be read again from the top
 * (xr_rewind).  Every loop over input calls XrLimits.interrupt, which may
 * longjmp out (the caller then frees the reader with xr_close).
 */
#ifndef CREDIMPORT_XLSX_READER_H
#define CREDIMPORT_XLSX_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sheet_values.h"

typedef enum XrCode
{
	XR_OK = 0,
	XR_FORMAT,					/* not a workbook, a corrupt part: bad file format */
	XR_LIMIT,					/* a limit was reached */
	XR_XML,						/* malformed XML, a DOCTYPE */
	XR_NOSHEET,					/* no worksheet of that name */
	XR_NOMEM					/* malloc failed */
} XrCode;

typedef struct XrError
{
	XrCode		code;
	char		msg[1024];
	char		detail[2400];
	char		hint[256];
} XrError;

typedef struct XrLimits
{
	size_t		max_bytes;		/* what the reader may allocate, all told */
	size_t		part_bytes;		/* largest inflated part (max_sheet_bytes) */
	void		(*interrupt) (void *arg);	/* called in every loop; may longjmp */
	void	   *arg;
} XrLimits;

/* CsvRecord.field_nul value of an error cell (#N/A) or a cell whose value is unknown */
#define XR_CELL_ERROR 2

/* the message of a formula cell whose cached value the workbook says is stale */
#define XR_FORMULA_NOT_CALCULATED SV_FORMULA_NOT_CALCULATED

typedef struct XrCell
{
	const char *value;			/* NULL = empty */
	size_t		len;
	unsigned char flag;			/* 0 or XR_CELL_ERROR */
} XrCell;

typedef struct XrRow
{
	long		line_no;		/* spreadsheet row number, or the XML record's line */
	bool		hidden;
	int			ncells;
	XrCell	   *cells;			/* valid until the next call */
} XrRow;

typedef struct XrReader XrReader;

/*
 * Open a workbook (the bytes stay the caller's and must outlive the
 * reader) and select a worksheet: the one named, or the first.  Reads the
 * workbook, its shared strings and styles and the worksheet's merged
 * ranges.  NULL on error (*err says why).
 */
extern XrReader *xr_open_xlsx(const char *data, size_t len, const char *label, const char *sheet,
							  const XrLimits *lim, XrError *err);

/*
 * Open an XML document whose records are the root's children and whose
 * fields are their child elements and attributes.  The first row is the
 * header: the field names (normalised) in order of first appearance.
 */
extern XrReader *xr_open_xml(const char *data, size_t len, const char *label,
							 const XrLimits *lim, XrError *err);

/* next row: 1, 0 at the end, -1 on error */
extern int	xr_next(XrReader *r, XrRow **row, XrError *err);

/*
 * The worksheet read; the workbook's sheets for messages ("Data", "Old"
 * (hidden), "Chart1" (chart sheet)); the hidden worksheets passed over to
 * reach the first visible one ("" when none).  Valid until xr_close.
 */
extern const char *xr_sheet_name(XrReader *r);
extern const char *xr_sheet_list(XrReader *r);
extern const char *xr_skipped_hidden(XrReader *r);

/* cells at or right of column width are not read (0: all); set after the header */
extern void xr_set_width(XrReader *r, int width);

/* start again from the first row; false on error */
extern bool xr_rewind(XrReader *r, XrError *err);

/* progress: bytes of the worksheet (or document) read, of a total */
extern void xr_progress(XrReader *r, uint64_t *done, uint64_t *total);

/* did the XML door number records by position (several start on one line)? */
extern bool xr_numbered_by_position(XrReader *r);

/* bytes allocated now, and at most */
extern size_t xr_bytes_used(XrReader *r);
extern size_t xr_bytes_peak(XrReader *r);

extern void xr_close(XrReader *r);

/* "A", "B", ..., "AA" for a 0-based column (out: at least 8 bytes) */
extern void xr_column_name(int col, char *out);

#endif
