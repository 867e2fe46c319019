/*
 * source_sheet.c
 *		Spreadsheet (.xlsx) and XML record sources.
 *
 * One more door into the same pipeline: these sources parse the document
 * into rows of text cells and hand them out as records, header first, with
 * the line numbers a person can find (a spreadsheet's row numbers, the line
 * of an XML record element).  Everything downstream -- checks, matching,
 * writing, reporting -- is unchanged.
 *
 * The zip container is read with libzip and the XML parts with libxml2's
 * streaming reader; neither inflating nor XML parsing is written here.
 * Hostile input is bounded: every part's declared and actual uncompressed
 * size is capped (credimport.max_sheet_bytes), no external entity or DTD is
 * ever loaded, and a document with a DOCTYPE is refused outright.
 */
#include "credimport.h"
#include "sheet_values.h"

#include <zip.h>
#include <libxml/xmlreader.h>
#include <libxml/tree.h>

#include "common/cryptohash.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include <math.h>

/* ---------------- the grid: rows of cells ---------------- */

typedef struct SheetRow
{
	long		line_no;
	int			ncells;
	char	  **cells;			/* NULL = empty */
	unsigned char *flags;		/* CSV_FIELD_CELL_ERROR for error cells */
	bool		hidden;
} SheetRow;

typedef struct Grid
{
	SheetRow   *rows;
	int			nrows;
	int			cap;
	int			width;			/* header width */
	int			next;			/* iteration */
	bool		header_done;
	/* current record */
	StringInfoData buf;
	size_t	   *offs;
	char	  **ptrs;
	size_t	   *lens;
	unsigned char *flags;
	int			hidden_skipped;
	StringInfoData hidden_rows;	/* the first few, for the NOTICE */
	Size		cell_bytes;		/* what the cell arrays take: bounded */
} Grid;

static SheetRow *
grid_row(Grid *g, long line_no)
{
	int			lo = 0,
				hi = g->nrows;

	/* rows arrive in order: the last one first, else a binary search */
	if (g->nrows > 0 && g->rows[g->nrows - 1].line_no == line_no)
		return &g->rows[g->nrows - 1];
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (g->rows[mid].line_no < line_no)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < g->nrows && g->rows[lo].line_no == line_no)
		return &g->rows[lo];
	if (g->nrows == g->cap)
	{
		g->cap = g->cap ? g->cap * 2 : 256;
		g->rows = g->rows ? repalloc_huge(g->rows, sizeof(SheetRow) * g->cap) :
			palloc_extended(sizeof(SheetRow) * g->cap, MCXT_ALLOC_HUGE);
	}
	/* keep rows ordered by line (merged ranges may add rows out of order) */
	memmove(&g->rows[lo + 1], &g->rows[lo], sizeof(SheetRow) * (g->nrows - lo));
	memset(&g->rows[lo], 0, sizeof(SheetRow));
	g->rows[lo].line_no = line_no;
	g->nrows++;
	return &g->rows[lo];
}

/* a new row at the end, whatever its line (XML records may share a line) */
static SheetRow *
grid_append(Grid *g, long line_no)
{
	if (g->nrows == g->cap)
	{
		g->cap = g->cap ? g->cap * 2 : 256;
		g->rows = g->rows ? repalloc_huge(g->rows, sizeof(SheetRow) * g->cap) :
			palloc_extended(sizeof(SheetRow) * g->cap, MCXT_ALLOC_HUGE);
	}
	memset(&g->rows[g->nrows], 0, sizeof(SheetRow));
	g->rows[g->nrows].line_no = line_no;
	return &g->rows[g->nrows++];
}

/*
 * Set a cell.  What the cell arrays take is charged to the grid and bounded
 * by credimport.max_sheet_bytes: a few bytes of XML (a cell in column XFD,
 * a tall merged range) must not make the backend allocate gigabytes.
 */
static void
row_set(Grid *g, SheetRow *r, int col, char *value, unsigned char flag)
{
	if (col >= r->ncells)
	{
		int			n = Max(col + 1, Min(r->ncells * 2, 16384));

		g->cell_bytes += (Size) (n - r->ncells) * (sizeof(char *) + 1);
		if (g->cell_bytes > (Size) credimport_max_sheet_bytes)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the worksheet's cells take more memory than credimport.max_sheet_bytes (%d bytes) allows",
							credimport_max_sheet_bytes),
					 errdetail("Row %ld reaches column %d.", r->line_no, col + 1),
					 errhint("Delete unused columns and rows far from the data, or raise credimport.max_sheet_bytes.")));
		r->cells = r->cells ? repalloc(r->cells, sizeof(char *) * n) : palloc(sizeof(char *) * n);
		r->flags = r->flags ? repalloc(r->flags, n) : palloc(n);
		for (int i = r->ncells; i < n; i++)
		{
			r->cells[i] = NULL;
			r->flags[i] = 0;
		}
		r->ncells = n;
	}
	r->cells[col] = value;
	r->flags[col] = flag;
}

static bool
row_blank(SheetRow *r)
{
	for (int i = 0; i < r->ncells; i++)
		if (r->cells[i] && r->cells[i][0] != '\0')
			return false;
	return true;
}

/* Source.next over the grid: the first non-blank row is the header */
static bool
grid_next(Source *src, CsvRecord *rec)
{
	Grid	   *g = (Grid *) src->state;
	SheetRow   *r;

	memset(rec, 0, sizeof(*rec));
	for (;;)
	{
		if (g->next >= g->nrows)
			return false;
		r = &g->rows[g->next++];
		if (r->hidden)
		{
			if (!row_blank(r))
			{
				if (g->hidden_rows.data == NULL)
					initStringInfo(&g->hidden_rows);
				if (g->hidden_skipped < 10)
					appendStringInfo(&g->hidden_rows, "%s%ld", g->hidden_skipped ? ", " : "", r->line_no);
				else if (g->hidden_skipped == 10)
					appendStringInfoString(&g->hidden_rows, ", ...");
				g->hidden_skipped++;
			}
			continue;
		}
		if (!row_blank(r))
			break;
	}
	if (!g->header_done)
	{
		g->header_done = true;
		g->width = 0;
		for (int i = 0; i < r->ncells; i++)
			if (r->cells[i] && r->cells[i][0] != '\0')
				g->width = i + 1;
		g->ptrs = palloc(sizeof(char *) * Max(g->width, 1));
		g->offs = palloc(sizeof(size_t) * Max(g->width, 1));
		g->lens = palloc(sizeof(size_t) * Max(g->width, 1));
		initStringInfo(&g->buf);
		g->flags = palloc(Max(g->width, 1));
	}
	/*
	 * Cells right of the header's last column have no name: not part of the
	 * record.  Values are copied into the record's own buffer: cells share
	 * strings (shared strings, merged ranges), and the pipeline may edit a
	 * record's values in place.
	 */
	resetStringInfo(&g->buf);
	for (int i = 0; i < g->width; i++)
	{
		const char *v = (i < r->ncells && r->cells[i]) ? r->cells[i] : "";

		g->offs[i] = g->buf.len;
		g->lens[i] = strlen(v);
		appendBinaryStringInfo(&g->buf, v, g->lens[i]);
		appendStringInfoChar(&g->buf, '\0');
		g->flags[i] = (i < r->ncells) ? r->flags[i] : 0;
	}
	for (int i = 0; i < g->width; i++)
		g->ptrs[i] = g->buf.data + g->offs[i];
	rec->line_no = r->line_no;
	rec->end_line_no = r->line_no;
	rec->nfields = g->width;
	rec->fields = g->ptrs;
	rec->lengths = g->lens;
	rec->field_nul = g->flags;
	src->bytes_read = src->bytes_total * g->next / Max(g->nrows, 1);
	return true;
}

static bool
grid_rewind(Source *src)
{
	Grid	   *g = (Grid *) src->state;

	g->next = 0;
	g->header_done = false;
	g->hidden_skipped = 0;
	if (g->hidden_rows.data)
		resetStringInfo(&g->hidden_rows);
	return true;
}

static void
grid_close(Source *src)
{
	Grid	   *g = (Grid *) src->state;

	if (g->hidden_skipped > 0)
		ereport(NOTICE,
				(errmsg("skipped %d hidden worksheet rows: %s", g->hidden_skipped, g->hidden_rows.data),
				 errhint("Unhide rows to import them.")));
	g->hidden_skipped = 0;
}

static void
digest(Source *src, const char *data, Size len)
{
	pg_cryptohash_ctx *sha = pg_cryptohash_create(PG_SHA256);
	uint8		d[32];
	static const char hex[] = "0123456789abcdef";

	if (sha == NULL || pg_cryptohash_init(sha) < 0 ||
		pg_cryptohash_update(sha, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(sha, d, sizeof(d)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	pg_cryptohash_free(sha);
	for (int i = 0; i < 32; i++)
	{
		src->sha256[i * 2] = hex[d[i] >> 4];
		src->sha256[i * 2 + 1] = hex[d[i] & 0xF];
	}
	src->sha256[64] = '\0';
}

static Source *
grid_source(const char *label, SourceKind kind, Grid *g, const char *data, Size len)
{
	Source	   *src = palloc0(sizeof(Source));

	src->description = label;
	src->kind = kind;
	src->state = g;
	src->bytes_total = (int64) len;
	digest(src, data, len);
	src->next = grid_next;
	src->rewind = grid_rewind;
	src->close = grid_close;
	return src;
}

/* ---------------- libxml2 ---------------- */

typedef struct XmlErr
{
	char		msg[256];
} XmlErr;

static void
xml_error_handler(void *arg, const char *msg, xmlParserSeverities severity, xmlTextReaderLocatorPtr loc)
{
	XmlErr	   *e = (XmlErr *) arg;

	if (e->msg[0] == '\0' && (severity == XML_PARSER_SEVERITY_ERROR || severity == XML_PARSER_SEVERITY_VALIDITY_ERROR))
	{
		strlcpy(e->msg, msg, sizeof(e->msg));
		/* drop the trailing newline libxml2 puts there */
		for (int i = strlen(e->msg) - 1; i >= 0 && (e->msg[i] == '\n' || e->msg[i] == ' '); i--)
			e->msg[i] = '\0';
	}
	(void) loc;
}

/* a reader that never loads anything from outside the document */
static xmlTextReaderPtr
open_reader(const char *data, Size len, const char *what, XmlErr *err)
{
	xmlTextReaderPtr r;

	xmlInitParser();
	if (len > INT_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("\"%s\" is too large to parse", what)));
	r = xmlReaderForMemory(data, (int) len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES);
	if (r == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not start parsing \"%s\"", what)));
	err->msg[0] = '\0';
	xmlTextReaderSetErrorHandler(r, xml_error_handler, err);
	return r;
}

/*
 * Step the reader; false at the end.  Raises a clear error on malformed
 * XML or a DOCTYPE (no DTD is ever processed: no entity can expand).
 */
static bool
reader_step(xmlTextReaderPtr r, const char *what, XmlErr *err)
{
	int			ret = xmlTextReaderRead(r);

	CHECK_FOR_INTERRUPTS();
	if (ret < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("\"%s\" is not well-formed XML: %s", what, err->msg[0] ? err->msg : "parse error"),
				 errdetail("Near line %d.", xmlTextReaderGetParserLineNumber(r))));
	if (ret == 1 && xmlTextReaderNodeType(r) == XML_READER_TYPE_DOCUMENT_TYPE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_XML_DOCUMENT),
				 errmsg("\"%s\" has a document type declaration, which credimport does not accept", what),
				 errhint("Remove the <!DOCTYPE ...> line: credimport never loads DTDs or expands entities.")));
	return ret == 1;
}

static inline bool
is_elem(xmlTextReaderPtr r, const char *name)
{
	const xmlChar *n = xmlTextReaderConstLocalName(r);

	return xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT && n && strcmp((const char *) n, name) == 0;
}

static inline bool
is_end(xmlTextReaderPtr r, const char *name)
{
	const xmlChar *n = xmlTextReaderConstLocalName(r);

	return xmlTextReaderNodeType(r) == XML_READER_TYPE_END_ELEMENT && n && strcmp((const char *) n, name) == 0;
}

static char *
attr(xmlTextReaderPtr r, const char *name)
{
	xmlChar    *v = xmlTextReaderGetAttribute(r, (const xmlChar *) name);
	char	   *s;

	if (v == NULL)
		return NULL;
	s = pstrdup((const char *) v);
	xmlFree(v);
	return s;
}

/* attribute by local name, whatever its prefix (r:id) */
static char *
attr_local(xmlTextReaderPtr r, const char *local)
{
	char	   *s = NULL;

	if (xmlTextReaderMoveToFirstAttribute(r) != 1)
		return NULL;
	do
	{
		const xmlChar *n = xmlTextReaderConstLocalName(r);

		if (n && strcmp((const char *) n, local) == 0 && xmlTextReaderConstPrefix(r) != NULL)
		{
			s = pstrdup((const char *) xmlTextReaderConstValue(r));
			break;
		}
	} while (xmlTextReaderMoveToNextAttribute(r) == 1);
	xmlTextReaderMoveToElement(r);
	return s;
}

/* ---------------- the zip container ---------------- */

typedef struct Xlsx
{
	zip_t	   *zip;
	const char *label;
	Size		limit;
	bool		date1904;
	char	  **shared;
	int			nshared;
	bool	   *xf_is_date;
	int			nxf;
} Xlsx;

static char *
zip_part(Xlsx *x, const char *name, Size *len, bool required)
{
	zip_stat_t	st;
	zip_file_t *f;
	char	   *buf;
	zip_int64_t n;
	Size		got = 0;

	zip_stat_init(&st);
	if (zip_stat(x->zip, name, ZIP_FL_NOCASE, &st) != 0)
	{
		if (!required)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("\"%s\" is not an .xlsx workbook: it has no %s", x->label, name),
				 errhint("Save the spreadsheet as an Excel workbook (.xlsx).")));
	}
	if ((st.valid & ZIP_STAT_SIZE) && st.size > x->limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("part %s of \"%s\" would inflate to " UINT64_FORMAT " bytes, more than credimport.max_sheet_bytes (" UINT64_FORMAT ")",
						name, x->label, (uint64) st.size, (uint64) x->limit),
				 errhint("Split the workbook, or raise credimport.max_sheet_bytes if it is genuine.")));
	f = zip_fopen(x->zip, name, ZIP_FL_NOCASE);
	if (f == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("could not read part %s of \"%s\": %s", name, x->label, zip_strerror(x->zip))));
	/* the declared size may lie: never read past the limit; close f on any error */
	PG_TRY();
	{
		buf = palloc_extended(Min(st.size, x->limit) + 1, MCXT_ALLOC_HUGE);
		for (;;)
		{
			char		chunk[65536];

			CHECK_FOR_INTERRUPTS();
			n = zip_fread(f, chunk, sizeof(chunk));
			if (n < 0)
				ereport(ERROR,
						(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
						 errmsg("part %s of \"%s\" is corrupt: %s", name, x->label,
								pstrdup(zip_file_strerror(f)))));
			if (n == 0)
				break;
			if (got + (Size) n > Min(st.size, x->limit))
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("part %s of \"%s\" inflates to more than it declares or than credimport.max_sheet_bytes allows",
								name, x->label)));
			memcpy(buf + got, chunk, n);
			got += n;
		}
	}
	PG_CATCH();
	{
		zip_fclose(f);
		PG_RE_THROW();
	}
	PG_END_TRY();
	zip_fclose(f);
	buf[got] = '\0';
	*len = got;
	return buf;
}

/* all text of <t> elements inside the current element (rich text runs), not phonetic runs */
static char *
collect_text(xmlTextReaderPtr r, const char *end, const char *what, XmlErr *err)
{
	StringInfoData buf;
	int			depth = xmlTextReaderDepth(r);
	bool		in_t = false;
	int			in_rph = 0;

	initStringInfo(&buf);
	if (xmlTextReaderIsEmptyElement(r))
		return buf.data;
	while (reader_step(r, what, err))
	{
		int			type = xmlTextReaderNodeType(r);

		if (type == XML_READER_TYPE_END_ELEMENT && xmlTextReaderDepth(r) == depth && is_end(r, end))
			break;
		if (is_elem(r, "rPh"))
			in_rph += xmlTextReaderIsEmptyElement(r) ? 0 : 1;
		else if (is_end(r, "rPh"))
			in_rph--;
		else if (is_elem(r, "t"))
			in_t = !xmlTextReaderIsEmptyElement(r);
		else if (is_end(r, "t"))
			in_t = false;
		else if (in_t && in_rph == 0 &&
				 (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
				  type == XML_READER_TYPE_WHITESPACE))
			appendStringInfoString(&buf, (const char *) xmlTextReaderConstValue(r));
	}
	return buf.data;
}

static void
read_shared_strings(Xlsx *x)
{
	Size		len;
	char	   *data = zip_part(x, "xl/sharedStrings.xml", &len, false);
	xmlTextReaderPtr r;
	XmlErr		err;
	int			cap = 0;

	if (data == NULL)
		return;
	r = open_reader(data, len, "xl/sharedStrings.xml", &err);
	PG_TRY();
	{
		while (reader_step(r, "xl/sharedStrings.xml", &err))
		{
			if (!is_elem(r, "si"))
				continue;
			if (x->nshared == cap)
			{
				cap = cap ? cap * 2 : 1024;
				x->shared = x->shared ? repalloc_huge(x->shared, sizeof(char *) * cap) :
					palloc_extended(sizeof(char *) * cap, MCXT_ALLOC_HUGE);
			}
			x->shared[x->nshared++] = collect_text(r, "si", "xl/sharedStrings.xml", &err);
		}
	}
	PG_FINALLY();
	{
		xmlFreeTextReader(r);
	}
	PG_END_TRY();
}

/* is an Excel number format a date (or date-time) format? */
static bool
format_is_date(int id, const char *code)
{
	return sv_format_is_date(id, code);
}

static void
read_styles(Xlsx *x)
{
	Size		len;
	char	   *data = zip_part(x, "xl/styles.xml", &len, false);
	xmlTextReaderPtr r;
	XmlErr		err;
	int			ncustom = 0;
	int		   *custom_ids = NULL;
	char	  **custom_codes = NULL;
	bool		in_xfs = false;
	int			cap = 0;

	if (data == NULL)
		return;
	r = open_reader(data, len, "xl/styles.xml", &err);
	PG_TRY();
	{
		while (reader_step(r, "xl/styles.xml", &err))
		{
			if (is_elem(r, "numFmt"))
			{
				char	   *id = attr(r, "numFmtId");
				char	   *code = attr(r, "formatCode");

				custom_ids = custom_ids ? repalloc(custom_ids, sizeof(int) * (ncustom + 1)) : palloc(sizeof(int));
				custom_codes = custom_codes ? repalloc(custom_codes, sizeof(char *) * (ncustom + 1)) : palloc(sizeof(char *));
				custom_ids[ncustom] = id ? atoi(id) : -1;
				custom_codes[ncustom] = code;
				ncustom++;
			}
			else if (is_elem(r, "cellXfs"))
				in_xfs = !xmlTextReaderIsEmptyElement(r);
			else if (is_end(r, "cellXfs"))
				in_xfs = false;
			else if (in_xfs && is_elem(r, "xf"))
			{
				char	   *id = attr(r, "numFmtId");
				int			fid = id ? atoi(id) : 0;
				const char *code = NULL;

				for (int i = 0; i < ncustom; i++)
					if (custom_ids[i] == fid)
						code = custom_codes[i];
				if (x->nxf == cap)
				{
					cap = cap ? cap * 2 : 64;
					x->xf_is_date = x->xf_is_date ? repalloc(x->xf_is_date, sizeof(bool) * cap) :
						palloc(sizeof(bool) * cap);
				}
				x->xf_is_date[x->nxf++] = format_is_date(fid, code);
			}
		}
	}
	PG_FINALLY();
	{
		xmlFreeTextReader(r);
	}
	PG_END_TRY();
}

/* the worksheet part: the named sheet, or the first */
static char *
find_sheet(Xlsx *x, const char *sheet)
{
	Size		len;
	char	   *wb = zip_part(x, "xl/workbook.xml", &len, true);
	char	   *rels;
	xmlTextReaderPtr r;
	XmlErr		err;
	char	   *rid = NULL;
	char	   *target = NULL;
	StringInfoData names;

	initStringInfo(&names);
	r = open_reader(wb, len, "xl/workbook.xml", &err);
	PG_TRY();
	{
		while (reader_step(r, "xl/workbook.xml", &err))
		{
			if (is_elem(r, "workbookPr"))
			{
				char	   *d = attr(r, "date1904");

				x->date1904 = d && (strcmp(d, "1") == 0 || strcmp(d, "true") == 0);
			}
			else if (is_elem(r, "sheet"))
			{
				char	   *name = attr(r, "name");
				char	   *id = attr_local(r, "id");

				appendStringInfo(&names, "%s\"%s\"", names.len ? ", " : "", name ? name : "?");
				if (rid == NULL && id && (sheet == NULL || (name && strcmp(name, sheet) == 0)))
					rid = id;
			}
		}
	}
	PG_FINALLY();
	{
		xmlFreeTextReader(r);
	}
	PG_END_TRY();

	if (names.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("workbook \"%s\" has no worksheets", x->label)));
	if (rid == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("workbook \"%s\" has no worksheet named \"%s\"", x->label, sheet),
				 errdetail("Its worksheets are %s.", names.data),
				 errhint("Sheet names are compared exactly, case included.")));

	rels = zip_part(x, "xl/_rels/workbook.xml.rels", &len, true);
	r = open_reader(rels, len, "xl/_rels/workbook.xml.rels", &err);
	PG_TRY();
	{
		while (reader_step(r, "xl/_rels/workbook.xml.rels", &err))
		{
			if (is_elem(r, "Relationship"))
			{
				char	   *id = attr(r, "Id");

				if (id && strcmp(id, rid) == 0)
				{
					target = attr(r, "Target");
					break;
				}
			}
		}
	}
	PG_FINALLY();
	{
		xmlFreeTextReader(r);
	}
	PG_END_TRY();
	if (target == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("workbook \"%s\" does not say where its worksheet is", x->label)));
	if (target[0] == '/')
		return pstrdup(target + 1);
	return psprintf("xl/%s", target);
}

/* "BC12" -> column 54 (0-based), row 12; false when not a cell reference */
static bool
parse_ref(const char *ref, int *col, long *row)
{
	int			c = 0;
	long		rr = 0;
	const char *p = ref;

	if (ref == NULL || !isalpha((unsigned char) *p))
		return false;
	while (isalpha((unsigned char) *p))
	{
		c = c * 26 + (toupper((unsigned char) *p) - 'A' + 1);
		if (c > 16384)
			return false;
		p++;
	}
	while (isdigit((unsigned char) *p))
	{
		rr = rr * 10 + (*p - '0');
		if (rr > 1048576)
			return false;
		p++;
	}
	if (*p != '\0' || rr == 0)
		return false;
	*col = c - 1;
	*row = rr;
	return true;
}

/* a number as a person wrote it: 15 significant digits, no binary noise */
static char *
format_number(const char *v)
{
	double		d;
	char		buf[64];

	if (!sv_parse_number(v, &d))
		return pstrdup(v);
	sv_format_number(d, buf, sizeof(buf));
	return pstrdup(buf);
}

/*
 * An Excel date serial as an ISO date (1900 system, with its phantom
 * 1900-02-29, or 1904).  Only a finite decimal serial in range is a date;
 * anything else stays as written (and the date check refuses it).
 */
static char *
serial_to_date(const char *v, bool date1904)
{
	double		d;
	char		buf[32];

	if (!sv_parse_number(v, &d) || !sv_serial_to_iso(d, date1904, buf, sizeof(buf)))
		return pstrdup(v);
	return pstrdup(buf);
}

void
sheet_column_name(int col, char *out)
{
	char		tmp[8];
	int			n = 0;

	col++;
	while (col > 0 && n < 7)
	{
		int			rem = (col - 1) % 26;

		tmp[n++] = 'A' + rem;
		col = (col - 1) / 26;
	}
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

static void
read_sheet(Xlsx *x, const char *part, Grid *g)
{
	Size		len;
	char	   *data = zip_part(x, part, &len, true);
	xmlTextReaderPtr r;
	XmlErr		err;
	long		row_no = 0;
	bool		row_hidden = false;
	int			next_col = 0;
	List	   *merges = NIL;
	ListCell   *lc;
	int64		merged_cells = 0;

	r = open_reader(data, len, part, &err);
	PG_TRY();
	{
		while (reader_step(r, part, &err))
		{
			if (is_elem(r, "row"))
			{
				char	   *rn = attr(r, "r");
				char	   *hidden = attr(r, "hidden");

				row_no = rn ? atol(rn) : row_no + 1;
				row_hidden = hidden && (strcmp(hidden, "1") == 0 || strcmp(hidden, "true") == 0);
				next_col = 0;
				if (row_no < 1 || row_no > 1048576)
					ereport(ERROR,
							(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
							 errmsg("worksheet of \"%s\" has a row numbered %ld", x->label, row_no)));
				if (row_hidden)
					grid_row(g, row_no)->hidden = true;
			}
			else if (is_elem(r, "c"))
			{
				char	   *ref = attr(r, "r");
				char	   *t = attr(r, "t");
				char	   *s = attr(r, "s");
				int			col;
				long		cr;
				char	   *value = NULL;
				char	   *inline_text = NULL;
				unsigned char flag = 0;
				bool		empty = xmlTextReaderIsEmptyElement(r);
				int			depth = xmlTextReaderDepth(r);

				if (ref && parse_ref(ref, &col, &cr))
					row_no = cr;
				else
					col = next_col;
				next_col = col + 1;
				if (!empty)
				{
					while (reader_step(r, part, &err))
					{
						if (xmlTextReaderNodeType(r) == XML_READER_TYPE_END_ELEMENT &&
							xmlTextReaderDepth(r) == depth)
							break;
						if (is_elem(r, "v"))
						{
							xmlChar    *v = xmlTextReaderReadString(r);

							value = pstrdup(v ? (const char *) v : "");
							if (v)
								xmlFree(v);
						}
						else if (is_elem(r, "is"))
							inline_text = collect_text(r, "is", part, &err);
					}
				}
				if (t && strcmp(t, "s") == 0)
				{
					int			idx = value ? atoi(value) : -1;

					if (idx < 0 || idx >= x->nshared)
						ereport(ERROR,
								(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
								 errmsg("cell %s of \"%s\" refers to shared string %d, which does not exist",
										ref ? ref : "?", x->label, idx)));
					value = x->shared[idx];
				}
				else if (t && strcmp(t, "inlineStr") == 0)
					value = inline_text;
				else if (t && strcmp(t, "b") == 0)
					value = pstrdup(value && strcmp(value, "1") == 0 ? "TRUE" : "FALSE");
				else if (t && strcmp(t, "e") == 0)
					flag = CSV_FIELD_CELL_ERROR;	/* #N/A, #REF!, ... */
				else if (t && (strcmp(t, "str") == 0 || strcmp(t, "d") == 0))
					;			/* formula text, ISO date: as they are */
				else if (value != NULL)
				{
					int			xf = s ? atoi(s) : 0;

					if (xf >= 0 && xf < x->nxf && x->xf_is_date[xf])
						value = serial_to_date(value, x->date1904);
					else
						value = format_number(value);
				}
				if (value != NULL || flag)
					row_set(g, grid_row(g, row_no), col, value ? value : pstrdup(""), flag);
			}
			else if (is_elem(r, "mergeCell"))
			{
				char	   *ref = attr(r, "ref");

				if (ref)
					merges = lappend(merges, ref);
			}
		}
	}
	PG_FINALLY();
	{
		xmlFreeTextReader(r);
	}
	PG_END_TRY();

	/* a merged range reads as its top-left value in every cell, as a person sees it */
	foreach(lc, merges)
	{
		char	   *ref = (char *) lfirst(lc);
		char	   *colon = strchr(ref, ':');
		int			c1,
					c2;
		long		r1,
					r2;
		SheetRow   *top;
		char	   *v;

		if (colon == NULL)
			continue;
		*colon = '\0';
		if (!parse_ref(ref, &c1, &r1) || !parse_ref(colon + 1, &c2, &r2) || r2 < r1 || c2 < c1)
			continue;
		merged_cells += (int64) (r2 - r1 + 1) * (c2 - c1 + 1);
		if (merged_cells > 10000000)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("worksheet of \"%s\" merges more than 10,000,000 cells", x->label),
					 errhint("Unmerge the cells and save the workbook again.")));
		top = grid_row(g, r1);
		v = (c1 < top->ncells) ? top->cells[c1] : NULL;
		if (v == NULL)
			continue;
		for (long rr = r1; rr <= r2; rr++)
		{
			SheetRow   *target;

			CHECK_FOR_INTERRUPTS();
			target = grid_row(g, rr);
			for (int cc = c1; cc <= c2; cc++)
				if (rr != r1 || cc != c1)
					row_set(g, target, cc, v, 0);
		}
	}
}

Source *
source_open_xlsx(const char *data, Size len, const char *label, const char *sheet, SourceKind kind)
{
	Xlsx		x;
	zip_source_t *zs;
	zip_error_t zerr;
	Grid	   *g = palloc0(sizeof(Grid));
	char	   *part;

	memset(&x, 0, sizeof(x));
	x.label = label;
	x.limit = (Size) credimport_max_sheet_bytes;
	zip_error_init(&zerr);
	zs = zip_source_buffer_create(data, len, 0, &zerr);
	if (zs == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not read \"%s\": %s", label, zip_error_strerror(&zerr))));
	x.zip = zip_open_from_source(zs, ZIP_RDONLY, &zerr);
	if (x.zip == NULL)
	{
		zip_source_free(zs);
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("\"%s\" is not a valid .xlsx file: %s", label, zip_error_strerror(&zerr)),
				 errhint("Save the spreadsheet as an Excel workbook (.xlsx), or give format => 'csv' for a CSV file.")));
	}
	zip_error_fini(&zerr);
	PG_TRY();
	{
		part = find_sheet(&x, sheet);
		read_shared_strings(&x);
		read_styles(&x);
		read_sheet(&x, part, g);
	}
	PG_FINALLY();
	{
		zip_discard(x.zip);
	}
	PG_END_TRY();
	return grid_source(label, kind, g, data, len);
}

/* ---------------- XML: <rows><row><field>value</field>...</row>...</rows> ---------------- */

/* the column of a field name, adding it to the header names when new */
static int
name_column(List **names, const char *raw)
{
	char		norm[256];
	int			i = 0;
	ListCell   *lc;

	fc_normalize_header(raw, strlen(raw), norm, sizeof(norm));
	foreach(lc, *names)
	{
		if (strcmp((char *) lfirst(lc), norm) == 0)
			return i;
		i++;
	}
	*names = lappend(*names, pstrdup(norm));
	return list_length(*names) - 1;
}

Source *
source_open_xml(const char *data, Size len, const char *label, SourceKind kind)
{
	Grid	   *g = palloc0(sizeof(Grid));
	xmlTextReaderPtr r;
	XmlErr		err;
	List	   *names = NIL;	/* field names in order of first appearance */
	SheetRow   *header;
	int			col;
	ListCell   *lc;

	/* row 0 is the header, filled in at the end */
	grid_append(g, 0);
	r = open_reader(data, len, label, &err);
	PG_TRY();
	{
		while (reader_step(r, label, &err))
		{
			SheetRow   *row;

			/* records are the children of the root element */
			if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT || xmlTextReaderDepth(r) != 1)
				continue;
			row = grid_append(g, xmlGetLineNo(xmlTextReaderCurrentNode(r)));

			/* attributes are fields */
			if (xmlTextReaderMoveToFirstAttribute(r) == 1)
			{
				do
				{
					if (xmlTextReaderIsNamespaceDecl(r) == 1)
						continue;	/* xmlns declarations are not fields */
					col = name_column(&names, (const char *) xmlTextReaderConstLocalName(r));
					row_set(g, row, col, pstrdup((const char *) xmlTextReaderConstValue(r)), 0);
				} while (xmlTextReaderMoveToNextAttribute(r) == 1);
				xmlTextReaderMoveToElement(r);
			}
			if (xmlTextReaderIsEmptyElement(r))
				continue;
			/* child elements are fields, named by their tag */
			while (reader_step(r, label, &err))
			{
				int			depth = xmlTextReaderDepth(r);

				if (xmlTextReaderNodeType(r) == XML_READER_TYPE_END_ELEMENT && depth == 1)
					break;
				if (xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT && depth == 2)
				{
					xmlChar    *v;

					col = name_column(&names, (const char *) xmlTextReaderConstLocalName(r));
					v = xmlTextReaderReadString(r);
					/* a field given twice in one record: the first counts */
					if (col >= row->ncells || row->cells[col] == NULL)
						row_set(g, row, col, pstrdup(v ? (const char *) v : ""), 0);
					if (v)
						xmlFree(v);
				}
			}
		}
	}
	PG_FINALLY();
	{
		xmlFreeTextReader(r);
	}
	PG_END_TRY();

	if (names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("XML document \"%s\" has no records", label),
				 errhint("Records are the children of the root element; their fields are child elements or attributes: "
						 "<rows><row><email>...</email>...</row></rows>.")));

	/*
	 * Reports find records by line; when records share a line (a document
	 * on one line), number them by position instead, 1, 2, ...
	 */
	for (int i = 2; i < g->nrows; i++)
		if (g->rows[i].line_no <= g->rows[i - 1].line_no)
		{
			for (int j = 1; j < g->nrows; j++)
				g->rows[j].line_no = j;
			ereport(NOTICE,
					(errmsg("records of \"%s\" are numbered by position, as several start on one line", label)));
			break;
		}

	header = &g->rows[0];
	col = 0;
	foreach(lc, names)
		row_set(g, header, col++, (char *) lfirst(lc), 0);
	return grid_source(label, kind, g, data, len);
}
