/*
 * xls_reader.h
 *		A reader of legacy Excel workbooks (.xls: BIFF8 in an OLE2 compound
 *		file), written for untrusted input.
 *
 * This module has no backend dependencies: it links into the server module,
 * into the unit tests and into the fuzz target alike.  It never raises an
 * error; every function returns a code and xls_error() says what went wrong.
 *
 * Bounded: every allocation goes through the caller's allocator and is
 * counted against the byte limit the caller gives (max_bytes); every loop
 * is linear (or n log n) in the input, every sector chain is checked for
 * cycles, and the interrupt callback is called every few hundred steps of
 * any loop, so that a server can cancel a read (the callback may also
 * longjmp out: everything the reader holds came from the allocator).
 *
 * Use:
 *		r = xls_reader_create(&alloc, max_bytes, interrupt, ctx);
 *		rc = xls_open(r, data, len);		(data must outlive r)
 *		for (i = 0; i < xls_sheet_count(r); i++) xls_sheet_info(r, i)...
 *		rc = xls_select_sheet(r, i);
 *		while ((rc = xls_next_row(r, &row)) == XLS_OK) ...
 *		xls_rewind(r);						(the same rows again)
 *		xls_reader_destroy(r);
 *
 * Cell values come out as UTF-8 text: numbers as a person wrote them (15
 * significant digits), cells with a date format as YYYY-MM-DD (the calendar
 * date of their day; a time part is dropped; a serial that is not a date
 * stays a number), booleans as TRUE/FALSE, formulas as their cached result.
 * A cell holding an error value has kind XLS_CELL_ERROR and its text
 * (#N/A, ...); a cell whose value cannot be known (a formula whose result
 * was not stored, a shared string that does not exist) has kind
 * XLS_CELL_UNKNOWN and a text saying why -- never an empty value.
 */
#ifndef CREDIMPORT_XLS_READER_H
#define CREDIMPORT_XLS_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct xls_allocator
{
	void	   *(*alloc) (void *ctx, size_t size);	/* NULL on failure */
	void		(*free) (void *ctx, void *ptr);
	void	   *ctx;
} xls_allocator;

/* called every few hundred steps; return true to stop the read (XLS_EINTR) */
typedef bool (*xls_interrupt_fn) (void *ctx);

/* return codes */
#define XLS_OK			0
#define XLS_EOF			1		/* xls_next_row: no more rows */
#define XLS_ECORRUPT	(-1)	/* not a valid workbook, or a corrupt one */
#define XLS_EUNSUPPORTED (-2)	/* encrypted, or not BIFF8 (Excel 95 and older) */
#define XLS_ELIMIT		(-3)	/* would need more memory than max_bytes */
#define XLS_ENOMEM		(-4)	/* the allocator returned NULL */
#define XLS_EINTR		(-5)	/* the interrupt callback asked to stop */
#define XLS_EUSAGE		(-6)	/* called out of order, or a bad argument */

/* sheet visibility (BOUNDSHEET hsState) and type */
#define XLS_VISIBLE		0
#define XLS_HIDDEN		1
#define XLS_VERY_HIDDEN 2

typedef struct XlsSheetInfo
{
	const char *name;			/* UTF-8 */
	int			visibility;		/* XLS_VISIBLE, XLS_HIDDEN, XLS_VERY_HIDDEN */
	bool		worksheet;		/* false for charts, macro and VB sheets */
} XlsSheetInfo;

/* cell kinds */
#define XLS_CELL_TEXT		1	/* text, or a number or date as text */
#define XLS_CELL_NUMBER		2
#define XLS_CELL_DATE		3	/* YYYY-MM-DD */
#define XLS_CELL_BOOL		4	/* TRUE or FALSE */
#define XLS_CELL_ERROR		5	/* #N/A, #DIV/0!, ... */
#define XLS_CELL_UNKNOWN	6	/* value cannot be known; text says why */

#define XLS_MAX_COLS	256		/* BIFF8: columns A..IV */
#define XLS_MAX_ROWS	65536

typedef struct XlsCell
{
	int			col;			/* 0-based */
	int			kind;
	const char *text;			/* NUL-terminated; may contain NUL (see len) */
	size_t		len;
} XlsCell;

typedef struct XlsRow
{
	long		row_no;			/* 1-based, as the spreadsheet numbers it */
	bool		hidden;
	int			ncells;
	XlsCell    *cells;			/* by column, non-empty cells only; valid until the next call */
} XlsRow;

typedef struct XlsReader XlsReader;

/*
 * max_bytes bounds what the reader holds at any time (0: 1 GB).  alloc
 * NULL: malloc/free.  interrupt may be NULL.
 */
extern XlsReader *xls_reader_create(const xls_allocator *alloc, size_t max_bytes,
									xls_interrupt_fn interrupt, void *interrupt_ctx);
extern void xls_reader_destroy(XlsReader *r);

/* parse the compound file and the workbook globals (sheets, strings, formats) */
extern int	xls_open(XlsReader *r, const uint8_t *data, size_t len);

extern int	xls_sheet_count(const XlsReader *r);
extern const XlsSheetInfo *xls_sheet_info(const XlsReader *r, int index);
extern bool xls_date1904(const XlsReader *r);

/* read worksheet index (its cells, merged ranges, hidden rows) */
extern int	xls_select_sheet(XlsReader *r, int index);

/*
 * The next row with a value, in row order.  A merged range reads as its
 * top-left value in every cell of it, in rows the sheet has cells in (a
 * merged range never makes rows of its own).
 */
extern int	xls_next_row(XlsReader *r, XlsRow *row);
extern void xls_rewind(XlsReader *r);

/* rows done so far and the last row of the sheet (for progress) */
extern void xls_progress(const XlsReader *r, long *done, long *total);

/* what went wrong (never NULL) */
extern const char *xls_error(const XlsReader *r);
/* bytes the reader holds now, and at most so far */
extern size_t xls_memory_used(const XlsReader *r);
extern size_t xls_memory_peak(const XlsReader *r);

/* "A", "B", ..., "IV" for a 0-based column (out: at least 8 bytes) */
extern void xls_column_name(int col, char *out);

#endif							/* CREDIMPORT_XLS_READER_H */
