/*
 * fuzz_xlsx.c
 *		libFuzzer target for the workbook and XML readers (src/xlsx_reader.c).
 *
 * Structure-aware: the first byte chooses what the rest of the input is,
 *
 *   0  an XML document for the XML door (raw)
 *   1  the worksheet part of a fixed workbook
 *   2  its shared strings part   (the worksheet refers to strings 0..3)
 *   3  its styles part           (the worksheet's numbers use styles 0..3)
 *   4  its workbook part         (sheet names, r:id, date1904, calcPr)
 *
 * and the part is put in a fixed zip with the other parts, so the fuzzer
 * spends its time in the XML the reader interprets, not in the zip.  Every
 * row is read twice (a rewind between), and these invariants are checked:
 * every value is NUL-terminated at its length, rows of a worksheet come in
 * increasing order and never reach past column 16,384 or the width set,
 * both passes give the same rows, and the reader never holds more than its
 * budget.  fuzz_main.c replays the corpus (corpus_xlsx/) in make check.
 */
#include "xlsx_reader.h"
#include "xlsx_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_BUDGET		((size_t) 8 * 1024 * 1024)
#define FUZZ_PART		((size_t) 4 * 1024 * 1024)

#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz_xlsx: invariant failed: %s (line %d)\n", #cond, __LINE__); \
			abort(); \
		} \
	} while (0)

static const char SHEET[] =
	"<worksheet " XB_NS "><sheetData>"
	"<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c><c r=\"C1\" t=\"inlineStr\"><is><t>c</t></is></c><c r=\"D1\" t=\"s\"><v>2</v></c></row>"
	"<row r=\"2\"><c r=\"A2\" t=\"s\"><v>3</v></c><c r=\"B2\" s=\"1\"><v>45321</v></c><c r=\"C2\" s=\"2\"><v>45321.5</v></c><c r=\"D2\" s=\"3\"><v>1.4999999999999998</v></c><c r=\"E2\" s=\"4\"><v>7</v></c></row>"
	"<row r=\"3\" hidden=\"1\"><c r=\"A3\" t=\"b\"><v>1</v></c><c r=\"B3\" t=\"d\"><v>2024-03-14T00:00:00Z</v></c><c r=\"C3\"><f>1+1</f><v>2</v></c><c r=\"D3\" t=\"e\"><v>#N/A</v></c></row>"
	"</sheetData><mergeCells><mergeCell ref=\"A2:B4\"/></mergeCells></worksheet>";
static const char SST[] =
	"<sst " XB_NS "><si><t>email</t></si><si><r><t>pro</t></r><r><t>vider</t></r></si><si><t>x</t><rPh><t>y</t></rPh></si><si><t>ada@example.org</t></si></sst>";
static const char STYLES[] =
	"<styleSheet " XB_NS "><numFmts><numFmt numFmtId=\"164\" formatCode=\"yyyy-mm-dd hh:mm\"/><numFmt numFmtId=\"165\" formatCode=\"000\"/></numFmts>"
	"<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/><xf numFmtId=\"164\"/><xf numFmtId=\"2\"/><xf numFmtId=\"165\"/></cellXfs></styleSheet>";
static const char WORKBOOK[] =
	"<workbook " XB_NS " " XB_RNS "><workbookPr date1904=\"0\"/><sheets><sheet name=\"Credits\" sheetId=\"1\" r:id=\"rId1\"/></sheets>"
	"<calcPr fullCalcOnLoad=\"1\"/></workbook>";

typedef struct Seen
{
	long		rows;
	unsigned long long sum;		/* of line numbers, cell counts and value bytes */
} Seen;

static void
read_all(XrReader *r, bool xlsx, Seen *seen, bool set_width)
{
	XrRow	   *row;
	XrError		err;
	long		last = 0;
	int			width = 0;
	int			ret;

	memset(seen, 0, sizeof(*seen));
	while ((ret = xr_next(r, &row, &err)) == 1)
	{
		FUZZ_ASSERT(row->ncells >= 0 && row->ncells <= 16384);
		if (width > 0)
			FUZZ_ASSERT(row->ncells <= width);
		if (xlsx)
		{
			FUZZ_ASSERT(row->line_no > last && row->line_no <= 1048576);
			last = row->line_no;
		}
		for (int i = 0; i < row->ncells; i++)
		{
			const XrCell *c = &row->cells[i];

			if (c->value == NULL)
				continue;
			FUZZ_ASSERT(c->value[c->len] == '\0');
			FUZZ_ASSERT(strlen(c->value) == c->len);
			FUZZ_ASSERT(c->flag == 0 || c->flag == XR_CELL_ERROR);
			seen->sum += c->len + (unsigned) i;
		}
		seen->sum += (unsigned long long) row->line_no + (unsigned) row->ncells;
		if (seen->rows == 0 && set_width)
		{
			width = row->ncells;
			xr_set_width(r, width);
		}
		seen->rows++;
		FUZZ_ASSERT(xr_bytes_used(r) <= FUZZ_BUDGET);
	}
	if (ret < 0)
	{
		FUZZ_ASSERT(err.code != XR_OK);
		FUZZ_ASSERT(err.msg[0] != '\0');
		seen->rows = -1;
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	XrLimits	lim = {FUZZ_BUDGET, FUZZ_PART, NULL, NULL};
	XrError		err;
	XrReader   *r;
	char	   *text;
	unsigned char *zip = NULL;
	size_t		ziplen = 0;
	int			what;
	Seen		a,
				b;

	if (size < 1)
		return 0;
	what = data[0] % 5;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';

	if (what == 0)
	{
		/* the XML door: the bytes as they are (NULs included) */
		r = xr_open_xml(text, size - 1, "fuzz.xml", &lim, &err);
	}
	else
	{
		/* what 4: the workbook, or (0x20) its relationships: which sheet is read */
		bool		rels = (what == 4 && (data[0] & 0x20) != 0);
		XbPart		p[5] = {
			{"xl/workbook.xml", what == 4 && !rels ? text : WORKBOOK, what == 4 && !rels ? size - 1 : 0},
			{"xl/_rels/workbook.xml.rels", rels ? text : XB_RELS, rels ? size - 1 : 0},
			{"xl/worksheets/sheet1.xml", what == 1 ? text : SHEET, what == 1 ? size - 1 : 0},
			{"xl/sharedStrings.xml", what == 2 ? text : SST, what == 2 ? size - 1 : 0},
			{"xl/styles.xml", what == 3 ? text : STYLES, what == 3 ? size - 1 : 0},
		};

		/* an empty part: libzip would take len 0 as strlen: give it one byte */
		for (int i = 0; i < 5; i++)
			if (p[i].len == 0 && p[i].data == text)
				p[i].data = " ", p[i].len = 1;
		zip = xb_zip(p, 5, &ziplen);
		if (zip == NULL)
		{
			free(text);
			return 0;
		}
		r = xr_open_xlsx((const char *) zip, ziplen, "fuzz.xlsx", (data[0] & 0x80) ? "Credits" : NULL, &lim, &err);
	}
	if (r == NULL)
	{
		FUZZ_ASSERT(err.code != XR_OK && err.msg[0] != '\0');
	}
	else
	{
		if (what != 0)
		{
			FUZZ_ASSERT(xr_sheet_name(r) != NULL && xr_sheet_list(r) != NULL && xr_skipped_hidden(r) != NULL);
			FUZZ_ASSERT(strlen(xr_sheet_list(r)) < 4096 && strlen(xr_skipped_hidden(r)) < 2048);
		}
		read_all(r, what != 0, &a, (data[0] & 0x40) != 0);
		if (xr_rewind(r, &err))
		{
			read_all(r, what != 0, &b, (data[0] & 0x40) != 0);
			FUZZ_ASSERT(a.rows == b.rows);
			if (a.rows >= 0)
				FUZZ_ASSERT(a.sum == b.sum);
		}
		xr_close(r);
	}
	free(zip);
	free(text);
	return 0;
}
