/*
 * test_xls_reader.c
 *		Unit tests of the .xls reader (src/xls_reader.c), outside the server.
 *
 * A sheet is rendered as text for comparison, one line per row:
 *
 *		<row>[h]:<col>=<kind><text>|...
 *
 * kind: t text, n number, d date, b boolean, e error, ? unknown.  Memory
 * goes through a counting allocator that checks what the reader says it
 * holds, tracks the peak and can fail on demand; the fixtures are read from
 * ../fixtures (make check runs in test/unit).
 */
#include "xls_reader.h"
#include "unit.h"
#include "xls_build.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#define FIXTURES "../fixtures/"

/* ---------------- counting allocator ---------------- */

typedef struct TAlloc
{
	size_t		outstanding;
	size_t		peak;
	long		calls;
	long		fail_at;
	long		failures;
	long		live;
} TAlloc;

typedef union Hdr
{
	size_t		size;
	max_align_t align;
} Hdr;

static void *
t_alloc(void *ctx, size_t size)
{
	TAlloc	   *t = ctx;
	Hdr		   *h;

	if (++t->calls == t->fail_at)
	{
		t->failures++;
		return NULL;
	}
	h = malloc(sizeof(Hdr) + size);
	if (h == NULL)
		abort();
	h->size = size;
	t->outstanding += size;
	if (t->outstanding > t->peak)
		t->peak = t->outstanding;
	t->live++;
	return h + 1;
}

static void
t_free(void *ctx, void *ptr)
{
	TAlloc	   *t = ctx;
	Hdr		   *h = (Hdr *) ptr - 1;

	t->outstanding -= h->size;
	t->live--;
	free(h);
}

/* ---------------- helpers ---------------- */

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf;
	long		n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	buf = malloc((size_t) n + 1);
	if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
		exit(2);
	fclose(f);
	*len = (size_t) n;
	return buf;
}

typedef struct Out
{
	char	   *s;
	size_t		n,
				cap;
} Out;

static void
out_printf(Out *o, const char *fmt,...)
{
	va_list		ap;
	int			k;

	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (o->n + (size_t) k + 1 > o->cap)
	{
		o->cap = (o->n + (size_t) k + 1) * 2;
		o->s = realloc(o->s, o->cap);
	}
	va_start(ap, fmt);
	vsnprintf(o->s + o->n, (size_t) k + 1, fmt, ap);
	va_end(ap);
	o->n += (size_t) k;
}

static const char kinds[] = "?tndbe?";

/* render every row of sheet index into a string; returns the last code */
static int
render_sheet(XlsReader *r, int index, Out *o)
{
	XlsRow		row;
	int			rc = xls_select_sheet(r, index);

	if (rc != XLS_OK)
		return rc;
	while ((rc = xls_next_row(r, &row)) == XLS_OK)
	{
		out_printf(o, "%ld%s:", row.row_no, row.hidden ? "h" : "");
		for (int i = 0; i < row.ncells; i++)
		{
			const XlsCell *c = &row.cells[i];

			out_printf(o, "%s%d=%c%s", i ? "|" : "", c->col, kinds[c->kind], c->text);
		}
		out_printf(o, "\n");
	}
	return rc;
}

/* open data and render the sheet named (or index 0); "ERR<code>: message" on failure */
static char *
read_all(const uint8_t *data, size_t len, const char *sheet, TAlloc *t, size_t limit)
{
	xls_allocator a = {t_alloc, t_free, t};
	XlsReader  *r = xls_reader_create(&a, limit, NULL, NULL);
	Out			o = {0};
	int			rc,
				idx = 0;

	out_printf(&o, "%s", "");
	if (r == NULL)
	{
		out_printf(&o, "ERR create");
		return o.s;
	}
	rc = xls_open(r, data, len);
	if (rc == XLS_OK && sheet)
	{
		idx = -1;
		for (int i = 0; i < xls_sheet_count(r); i++)
			if (strcmp(xls_sheet_info(r, i)->name, sheet) == 0)
				idx = i;
	}
	if (rc == XLS_OK)
		rc = render_sheet(r, idx, &o);
	if (rc != XLS_OK && rc != XLS_EOF)
		out_printf(&o, "ERR%d: %s", rc, xls_error(r));
	CHECK(xls_memory_peak(r) <= (limit ? limit : (size_t) 1 << 30));
	CHECK_EQ_INT(t->outstanding, xls_memory_used(r));	/* it counts what it holds */
	xls_reader_destroy(r);
	CHECK_EQ_INT(t->outstanding, 0);
	CHECK_EQ_INT(t->live, 0);
	return o.s;
}

static char *
read_file(const char *name, const char *sheet)
{
	size_t		len;
	uint8_t    *data = slurp(name, &len);
	TAlloc		t = {0};
	char	   *s = read_all(data, len, sheet, &t, 0);

	free(data);
	return s;
}

/* a workbook of one sheet "S" whose sheet records are in cells, with sst */
static uint8_t *
workbook(const XB *cells, const XB *sst, int date1904, const char *fmt164, size_t *len)
{
	XB			wb = {0};
	const char *names[1] = {"S"};
	size_t		at[1];
	uint8_t    *f;

	xb_globals(&wb, 1, names, NULL, sst, date1904, fmt164, at);
	xb_set_u32(&wb, at[0], (uint32_t) wb.n);
	xb_bof(&wb, 0x10);
	if (cells)
		xb_put(&wb, cells->d, cells->n);
	xb_eof(&wb);
	f = xb_cfb(wb.d, wb.n, len);
	xb_free(&wb);
	return f;
}

static char *
read_cells(const XB *cells, const XB *sst)
{
	size_t		len;
	uint8_t    *f = workbook(cells, sst, 0, NULL, &len);
	TAlloc		t = {0};
	char	   *s = read_all(f, len, NULL, &t, 0);

	free(f);
	return s;
}

/* ---------------- fixtures ---------------- */

static void
test_fixtures(void)
{
	char	   *s;

	s = read_file(FIXTURES "credits.xls", "Credits");
	CHECK_EQ_STR(s,
				 "1:0=tEmail|1=tProvider|2=tCourse Title|3=tCourse ID|4=tCompletion Date|5=tNumber Credits|6=tCredit Type|7=tComplete\n"
				 "2:0=tada@example.org|1=tSheet Academy|2=tSpreadsheets, Part 1|3=t007|4=d2024-01-30|5=n1.5|6=tCME|7=bTRUE\n"
				 "3:0=tgrace@example.org|1=tSheet Academy|2=tSpreadsheets, Part 1|3=tSHEET-2|4=d2024-01-31|5=n0.25|6=tCE\n"
				 "4h:0=thidden@example.org|1=tHidden row|2=tHidden row|3=tHidden row|4=d2024-01-31|5=n1|6=tCME\n"
				 "5:0=tlinus@example.org|1=tSheet Academy|2=tSpreadsheets, Part 1|3=tSHEET-3|4=t2024-02-01|5=n2|6=tCME|9=tNot in this sheet\n"
				 "6:0=tada@example.org|1=tSheet Academy|2=tSpreadsheets, Part 1|3=tSHEET-4|4=d2024-02-01|5=e#VALUE!|6=tCME\n");
	free(s);
	s = read_file(FIXTURES "users.xls", "Learners");
	CHECK_EQ_STR(s, "1:0=temail|1=tfirst_name|2=tlast_name|3=trole\n"
				 "2:0=tsheet.user@example.org|1=tSheet|2=tUser|3=tinstructor\n");
	free(s);
	s = read_file(FIXTURES "legacy.xls", NULL);
	CHECK_EQ_STR(s, "ERR-1: its compound file header is invalid");
	free(s);
	s = read_file(FIXTURES "biff5.xls", NULL);
	CHECK_EQ_STR(s, "ERR-2: it is an Excel 5.0/95 (BIFF5) workbook, older than Excel 97");
	free(s);
	s = read_file(FIXTURES "small.xls", NULL);
	CHECK_EQ_STR(s, "1:0=tEmail|1=tProvider|2=tCourse Title|3=tCourse ID|4=tCompletion Date|5=tNumber Credits|6=tCredit Type|7=tScore|8=tComplete\n"
				 "2:0=tada@example.org|1=tMini|2=tMini|3=tMINI-1|4=d2024-03-15|5=n1|6=tCME\n");
	free(s);
	s = read_file(FIXTURES "dates1904.xls", NULL);
	CHECK(strstr(s, "4=d2024-03-15") != NULL);
	free(s);
	/* issue 15: zero-padded formats (000, 00000) keep their zeros; text (@) keeps the text */
	s = read_file(FIXTURES "padded.xls", "Credits");
	CHECK(strstr(s, "\n2:0=tada@example.org|1=tPad|2=tPad|3=n007|") != NULL);
	CHECK(strstr(s, "\n3:0=tada@example.org|1=tPad|2=tPad|3=n00042|") != NULL);
	CHECK(strstr(s, "\n4:0=tada@example.org|1=tPad|2=tPad|3=n1234|") != NULL);
	CHECK(strstr(s, "\n5:0=tada@example.org|1=tPad|2=tPad|3=t0099|") != NULL);
	CHECK(strstr(s, "\n6:0=tada@example.org|1=tPad|2=tPad|3=n12|") != NULL);
	CHECK(strstr(s, "\n7:0=tada@example.org|1=tPad|2=tPad|3=n7.5|") != NULL);
	free(s);

	/* formulas.xls: the values a person sees */
	s = read_file(FIXTURES "formulas.xls", "Credits");
	CHECK(strstr(s, "\n2:0=tada@example.org|1=tXLS Academy|") != NULL);
	CHECK(strstr(s, "|7=n85|8=bTRUE\n") != NULL);			/* =H2>=70 */
	CHECK(strstr(s, "|7=n50|8=bFALSE\n") != NULL);			/* =H3>=70 */
	CHECK(strstr(s, "3=tXLS-3|4=d2024-03-15|5=n2|6=tCME|8=bTRUE\n") != NULL);	/* =1+1, =TRUE() */
	CHECK(strstr(s, "3=tXLS-4|4=d2024-03-15|5=n3|6=tCME|8=bFALSE\n") != NULL);	/* RK, =FALSE() */
	CHECK(strstr(s, "6:0=tgrace@example.org|1=tXLS Academy|2=tFormula title|3=tXLS-5 \xC3\xBCn\xC3\xAF|4=d2024-03-15|5=n1.5|6=tCME|7=n90|8=n1\n") != NULL);
	CHECK(strstr(s, "4=nNaN|") != NULL);
	CHECK(strstr(s, "4=n2000000000|") != NULL);
	CHECK(strstr(s, "2=t\xC3\x9Cn\xC3\xAF" "code \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 course|3=?formula not calculated") != NULL);
	CHECK(strstr(s, "\n10h:") != NULL);
	CHECK(strstr(s, "5=e#DIV/0!|6=tCME|8=e#N/A\n") != NULL);
	CHECK(strstr(s, "3=tXLS-9|4=d2024-03-15|5=n1|6=tCME|7=tlong long") != NULL);
	CHECK(strstr(s, "|8=t\n13:0=tlinus@example.org|1=tXLS Academy|") != NULL);	/* merged B12:B13 */
	CHECK(strstr(s, "A rather long course title, so that the table of shared strings needs CONTINUE records A rather") != NULL);
	free(s);

	/* the hidden sheet is listed as hidden */
	{
		size_t		len;
		uint8_t    *data = slurp(FIXTURES "formulas.xls", &len);
		XlsReader  *r = xls_reader_create(NULL, 0, NULL, NULL);

		CHECK_EQ_INT(xls_open(r, data, len), XLS_OK);
		CHECK_EQ_INT(xls_sheet_count(r), 2);
		CHECK_EQ_STR(xls_sheet_info(r, 0)->name, "Lookup");
		CHECK_EQ_INT(xls_sheet_info(r, 0)->visibility, XLS_HIDDEN);
		CHECK_EQ_INT(xls_sheet_info(r, 1)->visibility, XLS_VISIBLE);
		CHECK(xls_sheet_info(r, 2) == NULL);
		xls_reader_destroy(r);
		free(data);
	}
}

/* ---------------- records built here ---------------- */

static void
test_cells(void)
{
	XB			c = {0},
				r = {0};
	char	   *s;

	/* RK: integer, x100, float; MULRK; a date serial with a time; 1904 */
	c.n = 0;
	r.n = 0;
	xb_cell(&r, 1, 0, 15);
	xb_u32(&r, ((uint32_t) -7 << 2) | 2);
	xb_rec(&c, 0x027E, &r);
	r.n = 0;
	xb_cell(&r, 1, 1, 15);
	xb_u32(&r, (12345u << 2) | 3);	/* 123.45 */
	xb_rec(&c, 0x027E, &r);
	r.n = 0;
	xb_u16(&r, 0);
	xb_u16(&r, 2);
	xb_u16(&r, 15);
	xb_u32(&r, 0x3FF80000);		/* 1.5 as the top 30 bits of a double */
	xb_u16(&r, 16);
	xb_u32(&r, (45366u << 2) | 2);	/* a date */
	xb_u16(&r, 3);
	xb_rec(&c, 0x00BD, &r);
	xb_number(&c, 1, 4, 17, 45366.5729166);	/* date-time: the date */
	xb_number(&c, 1, 5, 16, 0.1 + 0.2);	/* serial 0: Excel's 1900-01-00 */
	xb_number(&c, 1, 6, 15, 0.1 + 0.2);	/* 0.3, no binary noise */
	xb_number(&c, 1, 7, 16, -1);	/* no date: a number */
	xb_number(&c, 1, 8, 16, INFINITY);
	xb_number(&c, 1, 9, 16, 60);	/* 1900-02-29, Excel's phantom day */
	xb_number(&c, 1, 10, 16, 2958466);	/* beyond 9999-12-31 */
	s = read_cells(&c, NULL);
	CHECK_EQ_STR(s, "1:0=n-7|1=n123.45|2=n1.5|3=d2024-03-15|4=d2024-03-15|5=d1899-12-31|6=n0.3|7=n-1|8=nInfinity|9=d1900-02-29|10=n2958466\n");
	free(s);

	/* booleans, errors, formulas of every result type */
	c.n = 0;
	{
		static const uint8_t errs[] = {0x00, 0x07, 0x0F, 0x17, 0x1D, 0x24, 0x2A, 0x2B, 0x99};

		for (unsigned i = 0; i < sizeof(errs); i++)
		{
			r.n = 0;
			xb_cell(&r, 1, i, 15);
			xb_u8(&r, errs[i]);
			xb_u8(&r, 1);
			xb_rec(&c, 0x0205, &r);
		}
		r.n = 0;
		xb_cell(&r, 2, 0, 15);
		xb_u8(&r, 1);
		xb_u8(&r, 0);
		xb_rec(&c, 0x0205, &r);
	}
	{
		/* result bytes: string, bool TRUE, error #REF!, empty, unknown type 7, number */
		static const uint8_t res[6][8] = {
			{0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, {1, 0, 1, 0, 0, 0, 0xFF, 0xFF}, {2, 0, 0x17, 0, 0, 0, 0xFF, 0xFF},
			{3, 0, 0, 0, 0, 0, 0xFF, 0xFF}, {7, 0, 0, 0, 0, 0, 0xFF, 0xFF}, {0, 0, 0, 0, 0, 0, 0x45, 0x40}
		};

		for (int i = 0; i < 6; i++)
		{
			r.n = 0;
			xb_cell(&r, 3, (unsigned) i, i == 5 ? 16 : 15);
			xb_put(&r, res[i], 8);
			xb_u16(&r, 0);
			xb_u32(&r, 0);
			xb_u16(&r, 3);
			xb_u8(&r, 0x1E);
			xb_u16(&r, 1);
			xb_rec(&c, 0x0006, &r);
			if (i == 0)
			{
				/* a SHRFMLA between the formula and its STRING is fine */
				XB			sh = {0};

				xb_u32(&sh, 0);
				xb_rec(&c, 0x04BC, &sh);
				xb_free(&sh);
				r.n = 0;
				xb_str8(&r, "text result", 1);
				xb_rec(&c, 0x0207, &r);
			}
		}
		/* a string formula with no STRING record; a STRING with no formula */
		r.n = 0;
		xb_cell(&r, 4, 0, 15);
		xb_put(&r, res[0], 8);
		xb_u16(&r, 0);
		xb_u32(&r, 0);
		xb_u16(&r, 0);
		xb_rec(&c, 0x0006, &r);
		xb_number(&c, 4, 1, 15, 5);
		r.n = 0;
		xb_str8(&r, "stray", 1);
		xb_rec(&c, 0x0207, &r);
	}
	s = read_cells(&c, NULL);
	CHECK_EQ_STR(s,
				 "1:0=e#NULL!|1=e#DIV/0!|2=e#VALUE!|3=e#REF!|4=e#NAME?|5=e#NUM!|6=e#N/A|7=e#GETTING_DATA|8=e#ERROR!\n"
				 "2:0=bTRUE\n"
				 "3:0=ttext result|1=bTRUE|2=e#REF!|3=t|4=?formula result of an unknown type|5=d1900-02-11\n"
				 "4:0=?formula not calculated; open and save the file in a spreadsheet program|1=n5\n");
	free(s);

	/* cells out of order, duplicates (the last wins), blank rows, a chart inside the sheet */
	c.n = 0;
	xb_label(&c, 3, 2, "c3");
	xb_label(&c, 1, 1, "b1");
	xb_label(&c, 3, 0, "a3");
	xb_label(&c, 1, 1, "b1 again");
	xb_bof(&c, 0x20);
	xb_label(&c, 2, 0, "in the chart");
	xb_eof(&c);
	r.n = 0;
	xb_cell(&r, 2, 0, 15);
	xb_rec(&c, 0x0201, &r);		/* BLANK: no row */
	xb_label(&c, 65536, 255, "last cell");
	s = read_cells(&c, NULL);
	CHECK_EQ_STR(s, "1:1=tb1 again\n3:0=ta3|2=tc3\n65536:255=tlast cell\n");
	free(s);

	/* 65,536 rows listed bottom-up, each with two cells right to left: read in order, fast */
	{
		clock_t		t0 = clock();
		size_t		len;
		uint8_t    *f;
		XlsReader  *x;
		XlsRow		row;
		long		n = 0,
					prev = 0;
		bool		ordered = true;

		c.n = 0;
		for (unsigned row_no = 65536; row_no >= 1; row_no--)
		{
			xb_number(&c, row_no, 1, 15, row_no);
			xb_number(&c, row_no, 0, 15, -(double) row_no);
		}
		f = workbook(&c, NULL, 0, NULL, &len);
		x = xls_reader_create(NULL, 0, NULL, NULL);
		CHECK_EQ_INT(xls_open(x, f, len), XLS_OK);
		CHECK_EQ_INT(xls_select_sheet(x, 0), XLS_OK);
		while (xls_next_row(x, &row) == XLS_OK)
		{
			if (row.row_no != prev + 1 || row.ncells != 2 || row.cells[0].col != 0 ||
				strtod(row.cells[0].text, NULL) != -(double) row.row_no)
				ordered = false;
			prev = row.row_no;
			n++;
		}
		CHECK(ordered);
		CHECK_EQ_INT(n, 65536);
		CHECK((double) (clock() - t0) / CLOCKS_PER_SEC < 2.0);	/* (under ASan) */
		xls_reader_destroy(x);
		free(f);
	}

	/* a column beyond IV; a truncated cell record; a shared string that does not exist */
	c.n = 0;
	xb_label(&c, 1, 256, "x");
	s = read_cells(&c, NULL);
	CHECK_EQ_STR(s, "ERR-1: a cell of row 1 is in column 257, beyond the last column (IV) of a .xls sheet");
	free(s);
	c.n = 0;
	r.n = 0;
	xb_cell(&r, 7, 2, 15);
	xb_rec(&c, 0x0203, &r);
	s = read_cells(&c, NULL);
	CHECK_EQ_STR(s, "ERR-1: the record of cell C7 of worksheet \"S\" is truncated");
	free(s);
	c.n = 0;
	xb_labelsst(&c, 1, 0, 5);
	s = read_cells(&c, NULL);
	CHECK_EQ_STR(s, "1:0=?shared string 5 does not exist\n");
	free(s);

	xb_free(&c);
	xb_free(&r);
}

static void
test_merges_and_rows(void)
{
	XB			c = {0},
				r = {0};
	char	   *s;

	/* A1:A3 merged, row 2 has a cell, row 3 none: row 3 is not made up */
	xb_label(&c, 1, 0, "top");
	xb_label(&c, 2, 1, "b2");
	/* row 4 hidden (ROW record), C4:D5 merged from C4, row 5 only a blank cell */
	r.n = 0;
	xb_u16(&r, 3);
	xb_u16(&r, 0);
	xb_u16(&r, 4);
	xb_u16(&r, 255);
	xb_u16(&r, 0);
	xb_u16(&r, 0);
	xb_u16(&r, 0x0120);
	xb_u16(&r, 15);
	xb_rec(&c, 0x0208, &r);
	xb_label(&c, 4, 2, "c4");
	r.n = 0;
	xb_cell(&r, 5, 0, 15);
	xb_rec(&c, 0x0201, &r);
	r.n = 0;
	xb_u16(&r, 4);
	for (int i = 0; i < 1; i++)
	{
		xb_u16(&r, 0);
		xb_u16(&r, 2);
		xb_u16(&r, 0);
		xb_u16(&r, 0);
	}
	xb_u16(&r, 3);
	xb_u16(&r, 4);
	xb_u16(&r, 2);
	xb_u16(&r, 3);
	/* invalid ranges are ignored: reversed, beyond IV, a single cell */
	xb_u16(&r, 5);
	xb_u16(&r, 1);
	xb_u16(&r, 0);
	xb_u16(&r, 0);
	xb_u16(&r, 0);
	xb_u16(&r, 0);
	xb_u16(&r, 300);
	xb_u16(&r, 301);
	xb_rec(&c, 0x00E5, &r);
	s = read_cells(&c, NULL);
	CHECK_EQ_STR(s, "1:0=ttop\n2:0=ttop|1=tb2\n4h:2=tc4|3=tc4\n5:2=tc4|3=tc4\n");
	free(s);

	/*
	 * A merged range over every row and column, 65536 times (in a few
	 * records): bounded work, refused
	 */
	c.n = 0;
	for (int row = 1; row <= 2000; row++)
		xb_label(&c, (unsigned) row, 0, "v");
	for (int k = 0; k < 64; k++)
	{
		r.n = 0;
		xb_u16(&r, 1000);
		for (int i = 0; i < 1000; i++)
		{
			xb_u16(&r, 0);
			xb_u16(&r, 65535);
			xb_u16(&r, 0);
			xb_u16(&r, 255);
		}
		xb_rec(&c, 0x00E5, &r);
	}
	{
		clock_t		t0 = clock();

		s = read_cells(&c, NULL);
		CHECK_EQ_STR(s + strlen(s) - strlen("ERR-3: its merged ranges cover more than 10,000,000 cells"),
					 "ERR-3: its merged ranges cover more than 10,000,000 cells");
		CHECK((double) (clock() - t0) / CLOCKS_PER_SEC < 5.0);
		free(s);
	}
	xb_free(&c);
	xb_free(&r);
}

/* SST split by CONTINUE records: a string's characters change width there */
static void
test_sst(void)
{
	XB			sst = {0},
				body = {0},
				cont = {0},
				c = {0};
	char	   *s;

	xb_u32(&body, 4);
	xb_u32(&body, 4);
	/* 0: "abc" then, in the CONTINUE, "dé" as UTF-16 */
	xb_u16(&body, 5);
	xb_u8(&body, 0);
	xb_put(&body, "abc", 3);
	xb_rec(&sst, 0x00FC, &body);
	xb_u8(&cont, 1);
	xb_u16(&cont, 'd');
	xb_u16(&cont, 0xE9);
	/* 1: rich text (2 runs) and phonetic data (3 bytes), split inside the runs */
	xb_u16(&cont, 2);
	xb_u8(&cont, 0x0C);
	xb_u16(&cont, 2);
	xb_u32(&cont, 3);
	xb_put(&cont, "xy", 2);
	xb_put(&cont, "\1\0\0\0\2\0", 6);
	xb_rec(&sst, 0x003C, &cont);
	cont.n = 0;
	xb_put(&cont, "\0\0", 2);
	xb_put(&cont, "PHO", 3);
	/* 2: a surrogate pair (U+1F600), a lone surrogate, U+0000 */
	xb_u16(&cont, 4);
	xb_u8(&cont, 1);
	xb_u16(&cont, 0xD83D);
	xb_u16(&cont, 0xDE00);
	xb_u16(&cont, 0xDC00);
	xb_u16(&cont, 0);
	/* 3: empty */
	xb_u16(&cont, 0);
	xb_u8(&cont, 0);
	xb_rec(&sst, 0x003C, &cont);

	for (unsigned i = 0; i < 4; i++)
		xb_labelsst(&c, 1, i, i);
	s = read_cells(&c, &sst);
	CHECK_EQ_STR(s, "1:0=tabcd\xC3\xA9|1=txy|2=t\xF0\x9F\x98\x80\xEF\xBF\xBD|3=t\n");
	free(s);

	/* the NUL is in the text, counted in its length */
	{
		size_t		len;
		uint8_t    *f = workbook(&c, &sst, 0, NULL, &len);
		XlsReader  *r = xls_reader_create(NULL, 0, NULL, NULL);
		XlsRow		row;

		CHECK_EQ_INT(xls_open(r, f, len), XLS_OK);
		CHECK_EQ_INT(xls_select_sheet(r, 0), XLS_OK);
		CHECK_EQ_INT(xls_next_row(r, &row), XLS_OK);
		CHECK_EQ_INT(row.cells[2].len, 8);
		CHECK(memcmp(row.cells[2].text, "\xF0\x9F\x98\x80\xEF\xBF\xBD\0", 8) == 0);
		CHECK_EQ_INT(xls_next_row(r, &row), XLS_EOF);
		/* again, after a rewind */
		xls_rewind(r);
		CHECK_EQ_INT(xls_next_row(r, &row), XLS_OK);
		CHECK_EQ_INT(row.row_no, 1);
		xls_reader_destroy(r);
		free(f);
	}

	/* a string cut short by the end of the table */
	sst.n = 0;
	body.n = 0;
	xb_u32(&body, 1);
	xb_u32(&body, 1);
	xb_u16(&body, 50);
	xb_u8(&body, 0);
	xb_put(&body, "short", 5);
	xb_rec(&sst, 0x00FC, &body);
	s = read_cells(&c, &sst);
	CHECK_EQ_STR(s, "ERR-1: a string is truncated");
	free(s);

	/* a table that says it has 4 billion strings, and has 1 */
	sst.n = 0;
	body.n = 0;
	xb_u32(&body, 0xFFFFFFFF);
	xb_u32(&body, 0xFFFFFFFF);
	xb_str8(&body, "one", 1);
	xb_rec(&sst, 0x00FC, &body);
	s = read_cells(&c, &sst);
	CHECK_EQ_STR(s, "1:0=tone|1=?shared string 1 does not exist|2=?shared string 2 does not exist|3=?shared string 3 does not exist\n");
	free(s);

	xb_free(&sst);
	xb_free(&body);
	xb_free(&cont);
	xb_free(&c);
}

/* ---------------- the compound file ---------------- */

static uint8_t *
credits(size_t *len)
{
	return slurp(FIXTURES "credits.xls", len);
}

static char *
read_bytes(const uint8_t *d, size_t len)
{
	TAlloc		t = {0};

	return read_all(d, len, NULL, &t, 0);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static void
test_container(void)
{
	size_t		len,
				clen;
	uint8_t    *d = slurp(FIXTURES "formulas.xls", &len);
	uint8_t    *cd = credits(&clen);
	uint8_t    *m = malloc(len > clen ? len : clen);
	char	   *s;
	uint32_t	fat0 = get32(d + 0x4C);
	uint32_t	dir = get32(d + 0x30);
	const uint8_t *wbent = NULL;
	uint32_t	wbstart;

	/* find the Workbook entry */
	for (int e = 0; e < 4; e++)
		if (d[512 + (size_t) dir * 512 + e * 128] == 'W')
			wbent = d + 512 + (size_t) dir * 512 + e * 128;
	CHECK(wbent != NULL);
	if (wbent == NULL)
		return;
	wbstart = get32(wbent + 0x74);
	CHECK(get32(wbent + 0x78) >= 4096);

	/* a sector chain that loops back on itself */
	memcpy(m, d, len);
	put32(m + 512 + (size_t) fat0 * 512 + 4 * (wbstart + 2), wbstart);
	s = read_bytes(m, len);
	CHECK_EQ_STR(s, "ERR-1: the sectors of its Workbook stream form a loop");
	free(s);

	/* a chain into a sector past the end of the file */
	memcpy(m, d, len);
	put32(m + 512 + (size_t) fat0 * 512 + 4 * wbstart, 100000);
	s = read_bytes(m, len);
	CHECK_EQ_STR(s, "ERR-1: its Workbook stream refers to sector 100000, which does not exist");
	free(s);

	/* a stream larger than the file; a chain that ends early */
	memcpy(m, d, len);
	put32(m + (wbent - d) + 0x78, 1u << 30);
	s = read_bytes(m, len);
	CHECK_EQ_STR(s, "ERR-1: its Workbook stream says it has 1073741824 bytes, more than the file holds");
	free(s);
	memcpy(m, d, len);
	put32(m + 512 + (size_t) fat0 * 512 + 4 * wbstart, 0xFFFFFFFE);
	s = read_bytes(m, len);
	CHECK_EQ_STR(s, "ERR-1: its Workbook stream is shorter than its directory entry says");
	free(s);

	/* credits.xls (LibreOffice) keeps its Workbook stream in the mini stream: a loop there */
	{
		uint32_t	minifat = get32(cd + 0x3C);
		uint32_t	cdir = get32(cd + 0x30);
		uint32_t	start = 0;

		for (int e = 0; e < 4; e++)
			if (cd[512 + (size_t) cdir * 512 + e * 128] == 'W')
				start = get32(cd + 512 + (size_t) cdir * 512 + e * 128 + 0x74);
		memcpy(m, cd, clen);
		put32(m + 512 + (size_t) minifat * 512 + 4 * (start + 3), start + 1);
		s = read_bytes(m, clen);
		CHECK_EQ_STR(s, "ERR-1: the sectors of its Workbook stream form a loop");
		free(s);
	}

	/* a directory whose sibling tree loops: read anyway, no endless walk */
	memcpy(m, d, len);
	for (int e = 1; e < 4; e++)
	{
		uint8_t    *p = m + 512 + (size_t) dir * 512 + e * 128;

		put32(p + 0x44, 1);
		put32(p + 0x48, 2);
	}
	s = read_bytes(m, len);
	CHECK_EQ_STR(s, "1:0=tCode\n2:0=tLookup\n");
	free(s);

	/* a FAT sector number out of range; too many FAT sectors */
	memcpy(m, d, len);
	put32(m + 0x4C, 5000);
	s = read_bytes(m, len);
	CHECK_EQ_STR(s, "ERR-1: FAT sector 5000 is missing");
	free(s);
	memcpy(m, d, len);
	put32(m + 0x2C, 0x7FFFFFFF);
	s = read_bytes(m, len);
	CHECK_EQ_STR(s, "ERR-1: its header says it has 2147483647 FAT sectors");
	free(s);

	/* truncated files: every length gives a result, never a crash */
	for (size_t n = 0; n < len; n += 61)
	{
		s = read_bytes(d, n);
		CHECK(s != NULL);
		free(s);
	}

	/*
	 * Issue 14: a LABELSST record header turned into record type 0x01FD of
	 * length 0 (FreeXL 1.0.6 died with SIGSEGV): read or refused, no crash.
	 */
	{
		bool		done = false;

		memcpy(m, cd, clen);
		for (size_t p = 512; p + 10 < clen && !done; p++)
			if (m[p] == 0xFD && m[p + 1] == 0x00 && m[p + 2] == 0x0A && m[p + 3] == 0x00)
			{
				m[p + 1] = 0x01;
				m[p + 2] = 0x00;
				done = true;
			}
		CHECK(done);
		s = read_bytes(m, clen);
		CHECK(s != NULL);
		free(s);
	}

	/* signature, sector size */
	memcpy(m, d, len);
	m[0] = 'P';
	s = read_bytes(m, len);
	CHECK_EQ_STR(s, "ERR-1: it is not an OLE2 compound file (the container of .xls workbooks)");
	free(s);
	memcpy(m, d, len);
	m[0x1E] = 16;
	s = read_bytes(m, len);
	CHECK_EQ_STR(s, "ERR-1: its compound file header is invalid");
	free(s);

	free(m);
	free(d);
	free(cd);
}

/* encrypted; a sheet offset outside the stream; a chart sheet; no EOF */
static void
test_workbook_structure(void)
{
	XB			wb = {0},
				r = {0};
	const char *names[2] = {"Chart", "Data"};
	int			hidden[2] = {0, 2};
	size_t		at[2],
				len;
	uint8_t    *f;
	XlsReader  *x;

	xb_bof(&wb, 5);
	xb_u16(&r, 0);
	xb_rec(&wb, 0x002F, &r);
	xb_eof(&wb);
	f = xb_cfb(wb.d, wb.n, &len);
	{
		char	   *s = read_bytes(f, len);

		CHECK_EQ_STR(s, "ERR-2: it is password-protected (encrypted)");
		free(s);
	}
	free(f);

	wb.n = 0;
	xb_globals(&wb, 2, names, hidden, NULL, 0, NULL, at);
	xb_set_u32(&wb, at[0], (uint32_t) wb.n);
	xb_bof(&wb, 0x20);
	xb_eof(&wb);
	xb_set_u32(&wb, at[1], 999999);
	f = xb_cfb(wb.d, wb.n, &len);
	x = xls_reader_create(NULL, 0, NULL, NULL);
	CHECK_EQ_INT(xls_open(x, f, len), XLS_OK);
	CHECK_EQ_INT(xls_sheet_info(x, 1)->visibility, XLS_VERY_HIDDEN);
	CHECK_EQ_INT(xls_select_sheet(x, 0), XLS_ECORRUPT);
	CHECK_EQ_STR(xls_error(x), "sheet \"Chart\" is not a worksheet");
	xls_reader_destroy(x);
	x = xls_reader_create(NULL, 0, NULL, NULL);
	CHECK_EQ_INT(xls_open(x, f, len), XLS_OK);
	CHECK_EQ_INT(xls_select_sheet(x, 1), XLS_ECORRUPT);
	CHECK_EQ_STR(xls_error(x), "worksheet \"Data\" starts outside the workbook stream");
	/* after a failure, everything fails */
	CHECK_EQ_INT(xls_select_sheet(x, 0), XLS_EUSAGE);
	xls_reader_destroy(x);
	free(f);

	/* a worksheet without EOF */
	wb.n = 0;
	xb_globals(&wb, 1, names + 1, NULL, NULL, 0, NULL, at);
	xb_set_u32(&wb, at[0], (uint32_t) wb.n);
	xb_bof(&wb, 0x10);
	xb_label(&wb, 1, 0, "x");
	f = xb_cfb(wb.d, wb.n, &len);
	{
		char	   *s = read_bytes(f, len);

		/* the stream is padded with zeros: records of type 0, then the end */
		CHECK_EQ_STR(s, "ERR-1: worksheet \"Data\" has no EOF record");
		free(s);
	}
	free(f);
	xb_free(&wb);
	xb_free(&r);
}

/* ---------------- limits, failures, interrupts ---------------- */

static long interrupt_calls;
static long interrupt_at;

static bool
interrupt_cb(void *ctx)
{
	(void) ctx;
	return ++interrupt_calls >= interrupt_at;
}

static void
test_limits(void)
{
	size_t		len;
	uint8_t    *d = slurp(FIXTURES "formulas.xls", &len);
	TAlloc		t;
	char	   *full,
			   *s;
	long		calls;
	int			enomem = 0,
				elimit = 0,
				ok = 0;

	/* how many allocations a full read makes */
	memset(&t, 0, sizeof(t));
	full = read_all(d, len, "Credits", &t, 0);
	calls = t.calls;
	CHECK(calls > 10);
	CHECK(t.peak < 400 * 1024);

	/* each allocation failing in turn: XLS_ENOMEM, nothing leaked */
	for (long k = 1; k <= calls; k++)
	{
		memset(&t, 0, sizeof(t));
		t.fail_at = k;
		s = read_all(d, len, "Credits", &t, 0);
		if (strncmp(s, "ERR-4: out of memory", 20) == 0)
			enomem++;
		else if (strcmp(s, full) == 0)
			ok++;
		free(s);
	}
	CHECK_EQ_INT(enomem, calls - 1);	/* all but the reader itself (NULL) */

	/* limits from tiny to ample: refused with XLS_ELIMIT, or the same rows */
	for (size_t limit = 64 * 1024; limit < 512 * 1024; limit += 8 * 1024)
	{
		memset(&t, 0, sizeof(t));
		s = read_all(d, len, "Credits", &t, limit);
		if (strncmp(s, "ERR-3: reading it needs more than", 33) == 0)
			elimit++;
		else
			CHECK_EQ_STR(s, full);
		CHECK(t.peak <= limit);
		free(s);
	}
	CHECK(elimit > 0);
	free(full);

	/* the interrupt callback: called while reading, and it can stop it */
	{
		XB			c = {0};
		size_t		flen;
		uint8_t    *f;

		for (unsigned row = 1; row <= 3000; row++)
			xb_number(&c, row, 0, 15, row);
		f = workbook(&c, NULL, 0, NULL, &flen);
		for (interrupt_at = 1; interrupt_at < 22; interrupt_at += 5)
		{
			XlsReader  *r = xls_reader_create(NULL, 0, interrupt_cb, NULL);
			int			rc;
			XlsRow		row;

			interrupt_calls = 0;
			rc = xls_open(r, f, flen);
			if (rc == XLS_OK)
				rc = xls_select_sheet(r, 0);
			while (rc == XLS_OK)
				rc = xls_next_row(r, &row);
			CHECK_EQ_INT(rc, XLS_EINTR);
			CHECK_EQ_INT(interrupt_calls, interrupt_at);
			xls_reader_destroy(r);
		}
		free(f);
		xb_free(&c);
	}
	free(d);

	/* misuse */
	{
		XlsReader  *r = xls_reader_create(NULL, 0, NULL, NULL);
		XlsRow		row;

		CHECK_EQ_INT(xls_next_row(r, &row), XLS_EUSAGE);
		xls_reader_destroy(r);
		CHECK(xls_reader_create(NULL, 100, NULL, NULL) == NULL);
	}
}

/*
 * Growth near the memory limit stays geometric: an array that cannot
 * double any more must not then grow one element at a time (each step
 * copying the whole array: quadratic, and with a tick only every 256
 * records, a 100 MB file of MULRK records held a backend for hours,
 * deaf to cancel and terminate).  Whatever the limit, a read makes few
 * allocations.
 */
static void
test_growth_near_limit(void)
{
	XB			c = {0};
	size_t		flen;
	uint8_t    *f;
	char	   *full = NULL;
	long		most = 0;
	int			elimit = 0;

	for (unsigned row = 1; row <= 20000; row++)
		for (unsigned col = 0; col < 2; col++)
			xb_number(&c, row, col, 15, row * 2 + col);
	f = workbook(&c, NULL, 0, NULL, &flen);
	for (size_t limit = 1024 * 1024; limit <= 4 * 1024 * 1024; limit += 32 * 1024)
	{
		TAlloc		t = {0};
		char	   *s = read_all(f, flen, NULL, &t, limit);

		if (strncmp(s, "ERR-3: reading it needs more than", 33) == 0)
			elimit++;
		else if (full == NULL)
			full = s, s = NULL;
		else
			CHECK_EQ_STR(s, full);
		if (t.calls > most)
			most = t.calls;
		free(s);
	}
	CHECK(elimit > 0);
	CHECK(full != NULL);
	CHECK(most < 200);
	if (most >= 200)
		fprintf(stderr, "test_growth_near_limit: %ld allocations in one read\n", most);
	free(full);
	free(f);
	xb_free(&c);
}

/* 20 cells of 2e9 in a date format (FreeXL walked to it day by day: 30 s) */
static void
test_huge_serials(void)
{
	XB			c = {0};
	char	   *s;
	clock_t		t0 = clock();

	for (unsigned i = 0; i < 20; i++)
	{
		xb_number(&c, 1, i, 16, 2e9);
		xb_number(&c, 2, i, 16, -2e9);
		xb_number(&c, 3, i, 16, 1e308);
		xb_number(&c, 4, i, 16, NAN);
	}
	s = read_cells(&c, NULL);
	CHECK(strncmp(s, "1:0=n2000000000|", 16) == 0);
	CHECK(strstr(s, "2:0=n-2000000000|") != NULL);
	CHECK(strstr(s, "3:0=n1e+308|") != NULL);
	CHECK(strstr(s, "4:0=nNaN|") != NULL);
	CHECK((double) (clock() - t0) / CLOCKS_PER_SEC < 0.5);
	free(s);
	xb_free(&c);
}

static void
test_column_names(void)
{
	char		b[8];

	xls_column_name(0, b);
	CHECK_EQ_STR(b, "A");
	xls_column_name(25, b);
	CHECK_EQ_STR(b, "Z");
	xls_column_name(26, b);
	CHECK_EQ_STR(b, "AA");
	xls_column_name(255, b);
	CHECK_EQ_STR(b, "IV");
	xls_column_name(65535, b);
	CHECK_EQ_STR(b, "CRXP");
}

int
main(void)
{
	test_fixtures();
	test_cells();
	test_merges_and_rows();
	test_sst();
	test_container();
	test_workbook_structure();
	test_limits();
	test_growth_near_limit();
	test_huge_serials();
	test_column_names();
	return unit_report("test_xls_reader");
}
