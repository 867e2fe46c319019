/*
 * test_xlsx_reader.c
 *		Unit tests of the backend-free workbook and XML readers
 *		(src/xlsx_reader.c): values, dates, formulas, merged ranges, order,
 *		limits, and the hostile shapes of issue 14 (each in well under a
 *		second, within the reader's budget).
 */
#include "unit.h"
#include "xlsx_reader.h"
#include "xlsx_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static XrLimits LIM = {64 * 1024 * 1024, 64 * 1024 * 1024, NULL, NULL};

static double
cpu_seconds(void)
{
	return (double) clock() / CLOCKS_PER_SEC;
}

/* growable string */
typedef struct Str
{
	char	   *s;
	size_t		len,
				cap;
} Str;

static void
put(Str *b, const char *s)
{
	size_t		n = strlen(s);

	if (b->len + n + 1 > b->cap)
	{
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* all rows as text: "line:[A|B|!C]" per row, "|" between cells, "!" before error cells */
static char *
rows_text(XrReader *r, XrError *err, int width_after_header)
{
	Str			b = {0};
	XrRow	   *row;
	int			ret,
				n = 0;
	char		tmp[64];

	put(&b, "");
	while ((ret = xr_next(r, &row, err)) == 1)
	{
		snprintf(tmp, sizeof(tmp), "%s%ld%s:", n ? "\n" : "", row->line_no, row->hidden ? "h" : "");
		put(&b, tmp);
		for (int i = 0; i < row->ncells; i++)
		{
			if (i)
				put(&b, "|");
			if (row->cells[i].flag)
				put(&b, "!");
			if (row->cells[i].value)
				put(&b, row->cells[i].value);
		}
		if (n++ == 0 && width_after_header)
			xr_set_width(r, width_after_header);
	}
	if (ret < 0)
	{
		put(&b, "\nERROR: ");
		put(&b, err->msg);
	}
	return b.s;
}

static char *
xlsx_rows(const char *sheet, const char *sst, const char *styles, const char *workbook, const char *name,
		  XrError *err, int width)
{
	size_t		len;
	unsigned char *zip = xb_xlsx(sheet, sst, styles, workbook, &len);
	XrReader   *r;
	char	   *out;

	if (zip == NULL)
	{
		char	   *e = malloc(16);

		strcpy(e, "zip failed");
		return e;
	}
	r = xr_open_xlsx((const char *) zip, len, "t.xlsx", name, &LIM, err);
	if (r == NULL)
	{
		out = malloc(strlen(err->msg) + 10);
		sprintf(out, "OPEN: %s", err->msg);
	}
	else
	{
		out = rows_text(r, err, width);
		xr_close(r);
	}
	free(zip);
	return out;
}

#define SHEET(rows) "<worksheet " XB_NS "><sheetData>" rows "</sheetData></worksheet>"
#define SHEETM(rows, merges) "<worksheet " XB_NS "><sheetData>" rows "</sheetData><mergeCells>" merges "</mergeCells></worksheet>"
#define SST(items) "<sst " XB_NS ">" items "</sst>"

static void
test_values(void)
{
	XrError		err;
	char	   *out = xlsx_rows(SHEET(
		"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"inlineStr\"><is><r><t>in</t></r><r><t>line</t></r></is></c>"
		"<c r=\"D1\" t=\"b\"><v>1</v></c></row>"
		"<row r=\"2\"><c r=\"A2\"><v>1.4999999999999998</v></c><c r=\"B2\" s=\"1\"><v>45321</v></c>"
		"<c r=\"C2\" s=\"2\"><v>45322.75</v></c><c r=\"D2\" t=\"e\"><v>#N/A</v></c><c r=\"E2\"><v>0.00001</v></c>"
		"<c r=\"F2\"><v>007</v></c><c r=\"G2\"><v>12.50</v></c><c r=\"H2\"><v>0x1p3</v></c></row>"),
		SST("<si><t>email</t><rPh><t>phon</t></rPh></si>"), NULL, NULL, NULL, &err, 0);

	CHECK_EQ_STR(out, "1:email|inline||TRUE\n2:1.5|2024-01-30|2024-01-31|!#N/A|1e-05|7|12.5|0x1p3");
	free(out);
}

static void
test_dates_and_formulas(void)
{
	XrError		err;
	char	   *out;

	/* ISO date cells: the calendar date; a date-time too; not a date: as written */
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\" t=\"d\"><v>2024-03-14T00:00:00.000Z</v></c>"
						  "<c r=\"B1\" t=\"d\"><v>2024-03-15T13:45:00</v></c><c r=\"C1\" t=\"d\"><v>2024-02-30</v></c>"
						  "<c r=\"D1\" t=\"d\"><v>soon</v></c></row>"), NULL, NULL, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "1:2024-03-14|2024-03-15|2024-02-30|soon");
	free(out);

	/* a workbook whose cached values are stale: formulas are unknown, values are read */
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\" t=\"str\"><f>\"T\"&amp;1</f><v>0</v></c><c r=\"B1\"><v>3</v></c>"
						  "<c r=\"C1\"><f t=\"shared\" si=\"0\"/><v>4</v></c></row>"),
					NULL, NULL,
					"<workbook " XB_NS " " XB_RNS "><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets>"
					"<calcPr calcId=\"124519\" fullCalcOnLoad=\"1\"/></workbook>", NULL, &err, 0);
	CHECK_EQ_STR(out, "1:!" XR_FORMULA_NOT_CALCULATED "|3|!" XR_FORMULA_NOT_CALCULATED);
	free(out);

	/* not stale: the cached value; no cached value at all: unknown */
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\" t=\"str\"><f>\"T\"&amp;1</f><v>T1</v></c><c r=\"B1\"><f>TODAY()</f></c></row>"),
					NULL, NULL, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "1:T1|!" XR_FORMULA_NOT_CALCULATED);
	free(out);

	/* the 1904 date system */
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\" s=\"1\"><v>43859</v></c></row>"), NULL, NULL,
					"<workbook " XB_NS " " XB_RNS "><workbookPr date1904=\"1\"/><sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>",
					NULL, &err, 0);
	CHECK_EQ_STR(out, "1:2024-01-30");
	free(out);
}

static void
test_sheets(void)
{
	XrError		err;
	char	   *out;
	const char *two = "<workbook " XB_NS " " XB_RNS "><sheets><sheet name=\"A\" sheetId=\"1\"/>"
		"<sheet name=\"B\" sheetId=\"2\" r:id=\"rId1\"/></sheets></workbook>";

	/* a sheet without r:id: named in the error, never "(null)" */
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>"), NULL, NULL, two, NULL, &err, 0);
	CHECK_EQ_STR(out, "OPEN: workbook \"t.xlsx\" does not say where its worksheet \"A\" is");
	CHECK(strstr(out, "(null)") == NULL);
	free(out);
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>"), NULL, NULL, two, "B", &err, 0);
	CHECK_EQ_STR(out, "1:1");
	free(out);
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>"), NULL, NULL, two, "C", &err, 0);
	CHECK_EQ_STR(out, "OPEN: workbook \"t.xlsx\" has no worksheet named \"C\"");
	CHECK_EQ_STR(err.detail, "Its sheets are \"A\", \"B\".");
	CHECK_EQ_INT(err.code, XR_NOSHEET);
	free(out);
}

static void
test_rows_and_merges(void)
{
	XrError		err;
	char	   *out;

	/* rows out of order are refused */
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\"><v>1</v></c></row><row r=\"3\"><c r=\"A3\"><v>3</v></c></row>"
						  "<row r=\"2\"><c r=\"A2\"><v>2</v></c></row>"), NULL, NULL, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "1:1\n3:3\nERROR: worksheet of \"t.xlsx\" lists row 2 after row 3");
	free(out);

	/* rows and cells without r; a hidden row */
	out = xlsx_rows(SHEET("<row><c><v>1</v></c><c><v>2</v></c></row><row hidden=\"1\"><c><v>3</v></c></row>"),
					NULL, NULL, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "1:1|2\n2h:3");
	free(out);

	/* merged ranges: the top-left value in every cell of the rows there are, never more rows */
	out = xlsx_rows(SHEETM("<row r=\"1\"><c r=\"A1\"><v>h</v></c><c r=\"B1\"><v>i</v></c><c r=\"C1\"><v>j</v></c></row>"
						   "<row r=\"2\"><c r=\"A2\"><v>5</v></c><c r=\"C2\"><v>6</v></c></row><row r=\"4\"><c r=\"C4\"><v>7</v></c></row>",
						   "<mergeCell ref=\"A2:B1048576\"/><mergeCell ref=\"C3:C9\"/><mergeCell ref=\"D1\"/>"),
					NULL, NULL, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "1:h|i|j\n2:5|5|6\n4:5|5|7");
	free(out);

	/* cells right of the width are not read, merged or not */
	out = xlsx_rows(SHEETM("<row r=\"1\"><c r=\"A1\"><v>h</v></c></row><row r=\"2\"><c r=\"A2\"><v>1</v></c><c r=\"XFD2\"><v>2</v></c></row>",
						   "<mergeCell ref=\"A2:Z2\"/>"), NULL, NULL, NULL, NULL, &err, 1);
	CHECK_EQ_STR(out, "1:h\n2:1");
	free(out);

	/* a merged area over 10,000,000 cells is refused */
	out = xlsx_rows(SHEETM("<row r=\"1\"><c r=\"A1\"><v>h</v></c></row>", "<mergeCell ref=\"A2:Z500000\"/>"),
					NULL, NULL, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "OPEN: worksheet of \"t.xlsx\" merges more than 10,000,000 cells");
	free(out);

	/* a shared string that does not exist */
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>5</v></c></row>"), SST("<si/>"), NULL, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "\nERROR: cell A1 of \"t.xlsx\" refers to shared string 5, which does not exist");
	free(out);
}

/* the hostile shapes of issue 14: refused or read, quickly and within the budget */
static void
test_hostile(void)
{
	XrError		err;
	Str			b = {0};
	char	   *out;
	double		t0;
	size_t		len;
	unsigned char *zip;
	XrReader   *r;
	XrLimits	small = {4 * 1024 * 1024, 64 * 1024 * 1024, NULL, NULL};

	/* 3 million empty shared strings: read within the budget, or refused by it */
	put(&b, "<sst " XB_NS ">");
	for (int i = 0; i < 3000000; i++)
		put(&b, "<si/>");
	put(&b, "</sst>");
	zip = xb_xlsx(SHEET("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>2999999</v></c></row>"), b.s, NULL, NULL, &len);
	t0 = cpu_seconds();
	r = xr_open_xlsx((const char *) zip, len, "t.xlsx", NULL, &LIM, &err);
	CHECK(r != NULL);
	if (r)
	{
		CHECK(xr_bytes_peak(r) <= LIM.max_bytes);
		out = rows_text(r, &err, 0);
		CHECK_EQ_STR(out, "1:");
		free(out);
		xr_close(r);
	}
	CHECK(cpu_seconds() - t0 < 5.0);
	r = xr_open_xlsx((const char *) zip, len, "t.xlsx", NULL, &small, &err);
	CHECK(r == NULL && err.code == XR_LIMIT);
	CHECK_EQ_STR(err.msg, "reading \"t.xlsx\" needs more memory than credimport.max_sheet_bytes allows");
	free(zip);
	b.len = 0;

	/* 2 million inline strings in one row, cells without r */
	put(&b, "<worksheet " XB_NS "><sheetData><row>");
	for (int i = 0; i < 2000000; i++)
		put(&b, "<c t=\"inlineStr\"><is/></c>");
	put(&b, "</row></sheetData></worksheet>");
	t0 = cpu_seconds();
	out = xlsx_rows(b.s, NULL, NULL, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "\nERROR: row 1 of \"t.xlsx\" has more than 16,384 cells");
	CHECK(cpu_seconds() - t0 < 1.0);
	free(out);
	b.len = 0;

	/* 400,000 rows bottom-up: refused at the second */
	put(&b, "<worksheet " XB_NS "><sheetData>");
	for (int i = 400000; i >= 1; i--)
	{
		char		row[64];

		snprintf(row, sizeof(row), "<row r=\"%d\"><c><v>1</v></c></row>", i);
		put(&b, row);
	}
	put(&b, "</sheetData></worksheet>");
	t0 = cpu_seconds();
	out = xlsx_rows(b.s, NULL, NULL, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "400000:1\nERROR: worksheet of \"t.xlsx\" lists row 399999 after row 400000");
	CHECK(cpu_seconds() - t0 < 1.0);
	free(out);
	b.len = 0;

	/* 200,000 numFmt and 200,000 xf: linear (sorted), well under a second */
	put(&b, "<styleSheet " XB_NS "><numFmts>");
	for (int i = 0; i < 200000; i++)
	{
		char		f[96];

		snprintf(f, sizeof(f), "<numFmt numFmtId=\"%d\" formatCode=\"%s\"/>", 164 + i, i == 199999 ? "yyyy-mm-dd" : "0.0");
		put(&b, f);
	}
	put(&b, "</numFmts><cellXfs>");
	for (int i = 0; i < 200000; i++)
	{
		char		f[64];

		snprintf(f, sizeof(f), "<xf numFmtId=\"%d\"/>", 164 + i);
		put(&b, f);
	}
	put(&b, "</cellXfs></styleSheet>");
	t0 = cpu_seconds();
	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\" s=\"199999\"><v>45321</v></c><c r=\"B1\" s=\"199998\"><v>45321</v></c></row>"),
					NULL, b.s, NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "1:2024-01-30|45321");
	CHECK(cpu_seconds() - t0 < 1.0);
	free(out);
	b.len = 0;

	/* an element with 100,000 attributes: refused before libxml2's quadratic duplicate check */
	put(&b, "<rows><row");
	for (int i = 0; i < 100000; i++)
	{
		char		a[32];

		snprintf(a, sizeof(a), " a%d=\"v\"", i);
		put(&b, a);
	}
	put(&b, "/></rows>");
	t0 = cpu_seconds();
	r = xr_open_xml(b.s, b.len, "t.xml", &LIM, &err);
	CHECK(r == NULL && err.code == XR_LIMIT);
	CHECK_EQ_STR(err.msg, "an element of \"t.xml\" has more than 16,384 attributes");
	CHECK(cpu_seconds() - t0 < 1.0);
	b.len = 0;

	/* quotes, comments and CDATA do not fool the attribute count */
	put(&b, "<rows><!-- a=\"1\" ' --><row a='x>\"=' b=\"y'=\"><![CDATA[ \" = ]]></row></rows>");
	r = xr_open_xml(b.s, b.len, "t.xml", &LIM, &err);
	CHECK(r != NULL);
	if (r)
	{
		out = rows_text(r, &err, 0);
		CHECK_EQ_STR(out, "0:a|b\n1:x>\"=|y'=");
		free(out);
		xr_close(r);
	}
	free(b.s);
}

static void
test_xml(void)
{
	XrError		err;
	XrReader   *r;
	char	   *out;
	const char *doc = "<?xml version=\"1.0\"?>\n<credits xmlns:x=\"urn:x\">\n"
		"  <credit Email=\"ada@example.org\" xmlns:y=\"urn:y\"><provider>P &amp; Q</provider><provider>second</provider></credit>\n"
		"  <credit><course_id>C-1</course_id><email>b@example.org</email></credit>\n</credits>\n";
	const char *oneline = "<r><a x=\"1\"/><a x=\"2\"/></r>";

	r = xr_open_xml(doc, strlen(doc), "t.xml", &LIM, &err);
	CHECK(r != NULL);
	if (r)
	{
		CHECK(!xr_numbered_by_position(r));
		out = rows_text(r, &err, 0);
		CHECK_EQ_STR(out, "0:email|provider|course_id\n3:ada@example.org|P & Q\n4:b@example.org||C-1");
		free(out);
		CHECK(xr_rewind(r, &err));
		out = rows_text(r, &err, 0);
		CHECK_EQ_STR(out, "0:email|provider|course_id\n3:ada@example.org|P & Q\n4:b@example.org||C-1");
		free(out);
		xr_close(r);
	}
	r = xr_open_xml(oneline, strlen(oneline), "t.xml", &LIM, &err);
	CHECK(r != NULL && xr_numbered_by_position(r));
	if (r)
	{
		out = rows_text(r, &err, 0);
		CHECK_EQ_STR(out, "0:x\n1:1\n2:2");
		free(out);
		xr_close(r);
	}
	r = xr_open_xml("<rows/>", 7, "t.xml", &LIM, &err);
	CHECK(r == NULL && err.code == XR_FORMAT);
	CHECK_EQ_STR(err.msg, "XML document \"t.xml\" has no records");
	r = xr_open_xml("<!DOCTYPE r [<!ENTITY a \"b\">]><r><a>&a;</a></r>", 45, "t.xml", &LIM, &err);
	CHECK(r == NULL && err.code == XR_XML);
	r = xr_open_xml("<r><a>x</a>", 11, "t.xml", &LIM, &err);
	CHECK(r == NULL && err.code == XR_XML);
	CHECK(strncmp(err.msg, "\"t.xml\" is not well-formed XML", 30) == 0);
	{
		XrLimits	tiny = {64 * 1024 * 1024, 10, NULL, NULL};

		r = xr_open_xml(oneline, strlen(oneline), "t.xml", &tiny, &err);
		CHECK(r == NULL && err.code == XR_LIMIT);
	}
	/* more than 16,384 different field names */
	{
		Str			b = {0};

		put(&b, "<rows>");
		for (int i = 0; i < 17000; i++)
		{
			char		e[48];

			snprintf(e, sizeof(e), "<row><f%d>1</f%d></row>", i, i);
			put(&b, e);
		}
		put(&b, "</rows>");
		r = xr_open_xml(b.s, b.len, "t.xml", &LIM, &err);
		CHECK(r == NULL && err.code == XR_LIMIT);
		CHECK_EQ_STR(err.msg, "records of \"t.xml\" have more than 16,384 different fields");
		free(b.s);
	}
}

static void
test_zip(void)
{
	XrError		err;
	XrReader   *r;
	XbPart		bomb[3];
	char	   *spaces = malloc(8 * 1024 * 1024 + 1);
	size_t		len;
	unsigned char *zip;
	XrLimits	lim = {64 * 1024 * 1024, 1024 * 1024, NULL, NULL};

	r = xr_open_xlsx("PK\003\004 not a zip", 17, "t.xlsx", NULL, &LIM, &err);
	CHECK(r == NULL && err.code == XR_FORMAT);
	CHECK(strncmp(err.msg, "\"t.xlsx\" is not a valid .xlsx file", 34) == 0);

	memset(spaces, ' ', 8 * 1024 * 1024);
	spaces[8 * 1024 * 1024] = '\0';
	bomb[0] = (XbPart) {"xl/workbook.xml", XB_WORKBOOK, 0};
	bomb[1] = (XbPart) {"xl/_rels/workbook.xml.rels", XB_RELS, 0};
	bomb[2] = (XbPart) {"xl/worksheets/sheet1.xml", spaces, 0};
	zip = xb_zip(bomb, 3, &len);
	r = xr_open_xlsx((const char *) zip, len, "t.xlsx", NULL, &lim, &err);
	CHECK(r == NULL && err.code == XR_LIMIT);
	CHECK_EQ_STR(err.msg, "part xl/worksheets/sheet1.xml of \"t.xlsx\" would inflate to 8388608 bytes, more than credimport.max_sheet_bytes (1048576)");
	free(zip);
	free(spaces);

	/* a zip of 10,001 parts is refused before libzip reads its directory */
	{
		int			n = 10001;
		XbPart	   *many = calloc(n, sizeof(XbPart));
		char	  (*names)[16] = calloc(n, 16);

		many[0] = (XbPart) {"xl/workbook.xml", XB_WORKBOOK, 0};
		many[1] = (XbPart) {"xl/_rels/workbook.xml.rels", XB_RELS, 0};
		many[2] = (XbPart) {"xl/worksheets/sheet1.xml", SHEET("<row><c><v>1</v></c></row>"), 0};
		for (int i = 3; i < n; i++)
		{
			snprintf(names[i], 16, "x/%d", i);
			many[i] = (XbPart) {names[i], " ", 1};
		}
		zip = xb_zip(many, n, &len);
		CHECK(zip != NULL);
		r = xr_open_xlsx((const char *) zip, len, "t.xlsx", NULL, &LIM, &err);
		CHECK(r == NULL && err.code == XR_LIMIT);
		CHECK_EQ_STR(err.msg, "\"t.xlsx\" has more than 10000 parts");
		free(zip);
		zip = xb_zip(many, 10000, &len);
		r = xr_open_xlsx((const char *) zip, len, "t.xlsx", NULL, &LIM, &err);
		CHECK(r != NULL);
		xr_close(r);
		free(zip);
		free(many);
		free(names);
	}
}


/* a workbook of several sheets: name, relationship type, state ("" visible), one row each */
static unsigned char *
sheets_zip(const char *const (*sh)[3], int n, size_t *len)
{
	static char wb[4096],
				rels[4096],
				body[8][256];
	XbPart		p[12];
	int			np = 0;
	size_t		w,
				k;

	w = (size_t) snprintf(wb, sizeof(wb), "<workbook " XB_NS " " XB_RNS "><sheets>");
	k = (size_t) snprintf(rels, sizeof(rels), "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">");
	for (int i = 0; i < n; i++)
	{
		w += (size_t) snprintf(wb + w, sizeof(wb) - w, "<sheet name=\"%s\" sheetId=\"%d\" r:id=\"rId%d\"%s%s%s/>",
							   sh[i][0], i + 1, i + 1, sh[i][2][0] ? " state=\"" : "", sh[i][2], sh[i][2][0] ? "\"" : "");
		k += (size_t) snprintf(rels + k, sizeof(rels) - k,
							   "<Relationship Id=\"rId%d\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/%s\" "
							   "Target=\"%ss/sheet%d.xml\"/>", i + 1, sh[i][1], sh[i][1], i + 1);
	}
	snprintf(wb + w, sizeof(wb) - w, "</sheets></workbook>");
	snprintf(rels + k, sizeof(rels) - k, "</Relationships>");
	p[np++] = (XbPart) {"xl/workbook.xml", wb, 0};
	p[np++] = (XbPart) {"xl/_rels/workbook.xml.rels", rels, 0};
	for (int i = 0; i < n && i < 8; i++)
	{
		static char names[8][64];

		snprintf(names[i], sizeof(names[i]), "xl/%ss/sheet%d.xml", sh[i][1], i + 1);
		snprintf(body[i], sizeof(body[i]), "<worksheet " XB_NS "><sheetData><row r=\"1\"><c r=\"A1\" t=\"inlineStr\">"
				 "<is><t>%s</t></is></c></row></sheetData></worksheet>", sh[i][0]);
		p[np++] = (XbPart) {names[i], body[i], 0};
	}
	return xb_zip(p, np, len);
}

static char *
sheets_rows(const char *const (*sh)[3], int n, const char *name, XrError *err, char *info, size_t infolen)
{
	size_t		len = 0;
	unsigned char *zip = sheets_zip(sh, n, &len);
	XrReader   *r = xr_open_xlsx((const char *) zip, len, "t.xlsx", name, &LIM, err);
	char	   *out;

	info[0] = '\0';
	if (r == NULL)
	{
		out = malloc(strlen(err->msg) + 10);
		sprintf(out, "OPEN: %s", err->msg);
	}
	else
	{
		snprintf(info, infolen, "%s|%s|%s", xr_sheet_name(r), xr_skipped_hidden(r), xr_sheet_list(r));
		out = rows_text(r, err, 0);
		xr_close(r);
	}
	free(zip);
	return out;
}

/* issue 15: the first sheet is the first visible worksheet; chart sheets are never read */
static void
test_visible_sheets(void)
{
	static const char *const wb[][3] = {
		{"Chart 1", "chartsheet", ""}, {"Lookup", "worksheet", "hidden"}, {"Credits", "worksheet", ""},
		{"Old", "worksheet", "veryHidden"}};
	static const char *const none[][3] = {{"Chart 1", "chartsheet", ""}, {"Lookup", "worksheet", "hidden"}};
	XrError		err;
	char		info[1024];
	char	   *out;

	out = sheets_rows(wb, 4, NULL, &err, info, sizeof(info));
	CHECK_EQ_STR(out, "1:Credits");
	CHECK_EQ_STR(info, "Credits|\"Lookup\"|\"Chart 1\" (chart sheet), \"Lookup\" (hidden), \"Credits\", "
				 "\"Old\" (very hidden)");
	free(out);
	/* a hidden sheet by name */
	out = sheets_rows(wb, 4, "Lookup", &err, info, sizeof(info));
	CHECK_EQ_STR(out, "1:Lookup");
	CHECK_EQ_STR(info, "Lookup||\"Chart 1\" (chart sheet), \"Lookup\" (hidden), \"Credits\", \"Old\" (very hidden)");
	free(out);
	/* a chart sheet by name: refused, the sheets listed */
	out = sheets_rows(wb, 4, "Chart 1", &err, info, sizeof(info));
	CHECK_EQ_STR(out, "OPEN: sheet \"Chart 1\" of workbook \"t.xlsx\" is a chart sheet, not a worksheet");
	CHECK_EQ_INT(err.code, XR_FORMAT);
	free(out);
	out = sheets_rows(wb, 4, "Nope", &err, info, sizeof(info));
	CHECK_EQ_STR(out, "OPEN: workbook \"t.xlsx\" has no worksheet named \"Nope\"");
	CHECK_EQ_STR(err.detail, "Its sheets are \"Chart 1\" (chart sheet), \"Lookup\" (hidden), \"Credits\", "
				 "\"Old\" (very hidden).");
	free(out);
	/* no visible worksheet */
	out = sheets_rows(none, 2, NULL, &err, info, sizeof(info));
	CHECK_EQ_STR(out, "OPEN: workbook \"t.xlsx\" has no visible worksheet");
	CHECK_EQ_STR(err.detail, "Its sheets are \"Chart 1\" (chart sheet), \"Lookup\" (hidden).");
	free(out);
}

/* issue 15: numbers as their format displays them (sheet_values.c) */
static void
test_displayed_numbers(void)
{
	XrError		err;
	char		buf[64];
	char	   *out;

	CHECK_EQ_INT(sv_format_zero_pad("000"), 3);
	CHECK_EQ_INT(sv_format_zero_pad("00000"), 5);
	CHECK_EQ_INT(sv_format_zero_pad("00000;[Red]\\-00000"), 5);
	CHECK_EQ_INT(sv_format_zero_pad("0"), 0);
	CHECK_EQ_INT(sv_format_zero_pad("0.00"), 0);
	CHECK_EQ_INT(sv_format_zero_pad("@"), 0);
	CHECK_EQ_INT(sv_format_zero_pad("General"), 0);
	CHECK_EQ_INT(sv_format_zero_pad(""), 0);
	CHECK_EQ_INT(sv_format_zero_pad(NULL), 0);
	CHECK_EQ_INT(sv_format_zero_pad("0000000000000000000000000000000"), 0);	/* 31 */
	CHECK(!sv_format_is_date(49, "@"));
	sv_format_number_padded(7, 3, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "007");
	sv_format_number_padded(-7, 3, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "-007");
	sv_format_number_padded(0, 3, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "000");
	sv_format_number_padded(-0.0, 3, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "000");
	sv_format_number_padded(1234, 3, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "1234");
	sv_format_number_padded(7.5, 3, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "7.5");
	sv_format_number_padded(7, 0, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "7");
	sv_format_number_padded(1e300, 5, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "1e+300");

	out = xlsx_rows(SHEET("<row r=\"1\"><c r=\"A1\" s=\"1\"><v>7</v></c><c r=\"B1\" s=\"2\"><v>42</v></c>"
						  "<c r=\"C1\" s=\"3\"><v>12</v></c><c r=\"D1\" s=\"3\" t=\"s\"><v>0</v></c>"
						  "<c r=\"E1\"><v>7</v></c><c r=\"F1\" s=\"1\"><v>0.5</v></c></row>"),
					SST("<si><t>0099</t></si>"),
					"<styleSheet " XB_NS "><numFmts><numFmt numFmtId=\"166\" formatCode=\"000\"/>"
					"<numFmt numFmtId=\"167\" formatCode=\"00000\"/></numFmts>"
					"<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"166\"/><xf numFmtId=\"167\"/><xf numFmtId=\"49\"/>"
					"</cellXfs></styleSheet>", NULL, NULL, &err, 0);
	CHECK_EQ_STR(out, "1:007|00042|12|0099|7|0.5");
	free(out);
}

/*
 * ECMA-376 ST_Xstring escapes in shared and inline strings: _xHHHH_ is a
 * UTF-16 code unit (control characters as Excel and libxlsxwriter write
 * them), _x005F_ a literal "_"; U+0000, lone surrogates and near misses
 * stay as written
 */
static void
test_xstring_escapes(void)
{
	XrError		err;
	char	   *out = xlsx_rows(SHEET(
		"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"inlineStr\"><is><t>x_x0001_y_x000D__x000a_z</t></is></c>"
		"<c r=\"C1\" t=\"s\"><v>1</v></c><c r=\"D1\" t=\"s\"><v>2</v></c></row>"),
		SST("<si><t>_x0041_ and _x005F_x0041_ and _x005F_x005F_x005F_x0041_</t></si>"
			"<si><r><t>_xD83D__xDE00_ _x00e9__x20AC_</t></r><rPh><t>_x0042_</t></rPh></si>"
			"<si><t>_xD800_ _xDE00_ _x0000_ _x12_ _X0041_ _x004G_ _x0041 x0041_ _x0041_</t></si>"),
		NULL, NULL, NULL, &err, 0);

	CHECK_EQ_STR(out, "1:A and _x0041_ and _x005F_x0041_|x\001y\r\nz|\xF0\x9F\x98\x80 \xC3\xA9\xE2\x82\xAC|"
				 "_xD800_ _xDE00_ _x0000_ _x12_ _X0041_ _x004G_ _x0041 x0041_ A");
	free(out);
}

int
main(void)
{
	test_values();
	test_xstring_escapes();
	test_dates_and_formulas();
	test_sheets();
	test_visible_sheets();
	test_displayed_numbers();
	test_rows_and_merges();
	test_hostile();
	test_xml();
	test_zip();
	return unit_report("test_xlsx_reader");
}
