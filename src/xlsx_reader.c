/*
 * xlsx_reader.c
 *		Backend-free readers of .xlsx workbooks and XML documents (see
 *		xlsx_reader.h): libzip for the container, libxml2's streaming
 *		reader for every XML part, nothing parsed by hand.
 *
 * Bounds: every part is inflated through a callback that stops at
 * part_bytes (whatever the zip declares); every allocation is charged to
 * max_bytes; a worksheet is streamed (only the current row is held);
 * merged ranges fill only the rows the worksheet has; rows must come in
 * order (Excel writes them so), which keeps the reader linear.  No DTD is
 * ever loaded and a document with a DOCTYPE is refused.
 */
#include "xlsx_reader.h"
#include "sheet_values.h"
#include "field_check.h"

#include <ctype.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>
#include <libxml/xmlreader.h>
#include <libxml/tree.h>

#define XR_MAX_COLS		16384
#define XR_MAX_ROW		1048576L
#define XR_MAX_MERGED	10000000LL
#define XR_NAME_MAX		256

typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

typedef struct Merge
{
	long		r1,
				r2;
	int			c1,
				c2;
	char	   *value;			/* the top-left value, once its row is read */
	size_t		len;
	unsigned char flag;
} Merge;

/* a relationship of the workbook: a worksheet, a chart sheet, ... */
typedef struct XrRel
{
	const char *id;
	const char *target;
	unsigned char kind;			/* REL_* */
} XrRel;

enum
{
	REL_WORKSHEET, REL_CHARTSHEET, REL_OTHERSHEET
};

typedef struct NumFmt
{
	int			id;
	int			seq;
	bool		is_date;
	unsigned char pad;			/* sv_format_zero_pad */
} NumFmt;

struct XrReader
{
	jmp_buf		jb;
	XrError    *err;
	XrLimits	lim;
	size_t		used;
	size_t		peak;
	char		label[256];
	bool		is_xml;

	const char *data;
	size_t		len;

	/* the zip and the part being read */
	zip_t	   *zip;
	zip_file_t *zf;
	char		part[256];
	uint64_t	part_size;		/* declared */
	uint64_t	part_read;		/* inflated so far */
	char		io_error[800];
	XrCode		io_code;
	const char *io_hint;
	bool		no_scan;		/* bytes not for libxml2: no need to count attributes */
	xmlTextReaderPtr xr;
	int			cur_type;		/* the current node's type and depth (set by step) */
	int			cur_depth;
	char		xml_msg[256];
	/* the attribute counter (see scan_tags) */
	int			tag_state;
	int			tag_count;
	char		tag_quote;
	const char *tag_term;
	int			tag_k;
	char		tag_bang[8];
	int			tag_nb;

	/* workbook */
	bool		date1904;
	bool		stale;			/* <calcPr fullCalcOnLoad="1"/>: cached values are stale */
	char		sheet_part[264];
	Buf			sst;			/* shared strings, NUL-terminated, back to back */
	size_t	   *sst_off;
	uint32_t   *sst_len;
	size_t		sst_len_cap;
	size_t		nsst;
	size_t		sst_cap;
	unsigned char *xf_date;
	unsigned char *xf_pad;		/* zero-padded formats: the width, else 0 */
	size_t		nxf;

	/* scratch of the workbook and styles passes: here so an error frees them */
	Buf			wbnames;		/* the workbook's sheets, for messages (kept) */
	Buf			skipped;		/* hidden worksheets before the one read (kept) */
	char		chosen[XR_NAME_MAX];	/* the worksheet read */
	Buf			relbuf;			/* workbook relationships: Id, Target, NUL each */
	size_t	   *rel_off;
	unsigned char *rel_kind;
	size_t		nrel,
				rel_cap,
				relk_cap;
	XrRel	   *rels;			/* ... sorted by Id */
	size_t		rels_cap;
	NumFmt	   *fmts;
	size_t		fmt_cap;
	int		   *xf_fid;
	size_t		xf_cap;

	/* merged ranges, by first row */
	Merge	   *merges;
	size_t		nmerge;
	size_t		merge_cap;
	size_t		merge_next;
	size_t	   *active;
	size_t		nactive;
	size_t		active_cap;

	/* the current row */
	long		last_row;
	int			width;
	XrRow		row;
	XrCell	   *cells;
	size_t	   *cell_off;		/* offset in rowbuf, or SIZE_MAX for a stable pointer */
	int			cells_cap;
	size_t		off_cap;
	Buf			rowbuf;
	bool		done;

	/* XML door: field names */
	Buf			names;			/* NUL-terminated, back to back */
	size_t	   *name_off;
	int			nnames;
	int			names_cap;
	int		   *hash;			/* open addressing: column + 1, 0 = free */
	size_t		hash_size;
	bool		by_position;
	bool		header_sent;
	long		position;
};

/* ---------------- errors and memory ---------------- */

#if defined(__GNUC__) || defined(__clang__)
#define XR_NORETURN __attribute__((noreturn))
#define XR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define XR_NORETURN
#define XR_PRINTF(a, b)
#endif

static XR_NORETURN XR_PRINTF(3, 4) void
fail(XrReader *r, XrCode code, const char *fmt,...)
{
	va_list		ap;

	r->err->code = code;
	va_start(ap, fmt);
	vsnprintf(r->err->msg, sizeof(r->err->msg), fmt, ap);
	va_end(ap);
	longjmp(r->jb, 1);
}

static void
set_detail(XrReader *r, const char *detail, const char *hint)
{
	snprintf(r->err->detail, sizeof(r->err->detail), "%s", detail ? detail : "");
	snprintf(r->err->hint, sizeof(r->err->hint), "%s", hint ? hint : "");
}

static void
charge(XrReader *r, size_t more)
{
	r->used += more;
	if (r->used > r->peak)
		r->peak = r->used;
	if (r->used > r->lim.max_bytes)
	{
		set_detail(r, NULL, "Split the workbook, or raise credimport.max_sheet_bytes if it is genuine.");
		fail(r, XR_LIMIT, "reading \"%s\" needs more memory than credimport.max_sheet_bytes allows", r->label);
	}
}

/* grow *p (cap elements of size elem) to hold at least need elements */
static void
grow(XrReader *r, void **p, size_t *cap, size_t need, size_t elem)
{
	size_t		ncap;
	void	   *np;

	if (need <= *cap)
		return;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
	{
		if (ncap > SIZE_MAX / 2 / elem)
		{
			set_detail(r, NULL, NULL);
			fail(r, XR_LIMIT, "\"%s\" is too large to read", r->label);
		}
		ncap *= 2;
	}
	charge(r, (ncap - *cap) * elem);
	np = realloc(*p, ncap * elem);
	if (np == NULL)
	{
		set_detail(r, NULL, NULL);
		fail(r, XR_NOMEM, "out of memory reading \"%s\"", r->label);
	}
	*p = np;
	*cap = ncap;
}

static void
grow_int(XrReader *r, void **p, int *cap, size_t need, size_t elem)
{
	size_t		c = (size_t) *cap;

	grow(r, p, &c, need, elem);
	*cap = (int) c;
}

static void
buf_append(XrReader *r, Buf *b, const char *s, size_t n)
{
	grow(r, (void **) &b->data, &b->cap, b->len + n + 1, 1);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
release(XrReader *r, void *p, size_t bytes)
{
	free(p);
	r->used -= bytes < r->used ? bytes : r->used;
}

static inline void
interrupt(XrReader *r)
{
	if (r->lim.interrupt)
		r->lim.interrupt(r->lim.arg);
}

void
xr_column_name(int col, char *out)
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

/* ---------------- parts: inflated through a bounded callback ---------------- */

/*
 * libxml2 checks an element's attributes for duplicates pairwise: 100,000
 * attributes on one element take it most of a minute, beyond the reach of
 * a cancel.  The bytes are scanned as they are handed to it (in linear
 * time, across chunks) and an element with too many attributes is refused
 * before libxml2 sees it.  The scanner knows only what it must: tags,
 * quoted values, comments, CDATA sections and processing instructions.
 */
enum
{
	T_TEXT, T_LT, T_BANG, T_TAG, T_QUOTE, T_SKIP
};

static bool
scan_tags(XrReader *r, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		char		c = buf[i];

again:
		switch (r->tag_state)
		{
			case T_TEXT:
				{
					const char *lt = memchr(buf + i, '<', n - i);

					if (lt == NULL)
						return true;
					i = (size_t) (lt - buf);
					r->tag_state = T_LT;
					break;
				}
			case T_LT:
				if (c == '!')
				{
					r->tag_state = T_BANG;
					r->tag_nb = 0;
				}
				else if (c == '?')
				{
					r->tag_state = T_SKIP;
					r->tag_term = "?>";
					r->tag_k = 0;
				}
				else
				{
					r->tag_state = T_TAG;
					r->tag_count = 0;
					goto again;
				}
				break;
			case T_BANG:
				r->tag_bang[r->tag_nb++] = c;
				if (r->tag_nb == 2 && memcmp(r->tag_bang, "--", 2) == 0)
				{
					r->tag_state = T_SKIP;
					r->tag_term = "-->";
					r->tag_k = 0;
				}
				else if (r->tag_nb == 7 && memcmp(r->tag_bang, "[CDATA[", 7) == 0)
				{
					r->tag_state = T_SKIP;
					r->tag_term = "]]>";
					r->tag_k = 0;
				}
				else if (!(r->tag_nb < 2 && c == '-') && !(r->tag_nb < 7 && memcmp(r->tag_bang, "[CDATA[", r->tag_nb) == 0))
				{
					/* a declaration: read as a tag from here */
					r->tag_state = T_TAG;
					r->tag_count = 0;
					goto again;
				}
				break;
			case T_TAG:
				/* the common case: plain characters of a tag */
				while (c != '"' && c != '\'' && c != '=' && c != '>' && i + 1 < n)
					c = buf[++i];
				if (c == '"' || c == '\'')
				{
					r->tag_quote = c;
					r->tag_state = T_QUOTE;
				}
				else if (c == '=')
				{
					if (++r->tag_count > XR_MAX_COLS)
						return false;
				}
				else if (c == '>')
					r->tag_state = T_TEXT;
				break;
			case T_QUOTE:
				{
					const char *q = memchr(buf + i, r->tag_quote, n - i);

					if (q == NULL)
						return true;
					i = (size_t) (q - buf);
					r->tag_state = T_TAG;
					break;
				}
			case T_SKIP:
				if (c == r->tag_term[r->tag_k])
				{
					if (r->tag_term[++r->tag_k] == '\0')
						r->tag_state = T_TEXT;
				}
				else if (c == r->tag_term[0])
					r->tag_k = (r->tag_term[1] == r->tag_term[0] && r->tag_k >= 2) ? 2 : 1;
				else
					r->tag_k = 0;
				break;
		}
	}
	return true;
}

static int
part_read_cb(void *ctx, char *buf, int len)
{
	XrReader   *r = (XrReader *) ctx;
	zip_int64_t n;

	if (r->is_xml)
	{
		/* the XML door: the document is in memory */
		n = (zip_int64_t) (r->len - r->part_read < (size_t) len ? r->len - r->part_read : (size_t) len);
		memcpy(buf, r->data + r->part_read, (size_t) n);
	}
	else
	{
		if (r->zf == NULL)
			return -1;
		n = zip_fread(r->zf, buf, (zip_uint64_t) len);
	}
	if (n < 0)
	{
		r->io_code = XR_FORMAT;
		r->io_hint = NULL;
		snprintf(r->io_error, sizeof(r->io_error), "part %s of \"%s\" is corrupt: %s",
				 r->part, r->label, zip_file_strerror(r->zf));
		return -1;
	}
	r->part_read += (uint64_t) n;
	if (r->part_read > r->lim.part_bytes || r->part_read > r->part_size)
	{
		r->io_code = XR_LIMIT;
		r->io_hint = "Split the workbook, or raise credimport.max_sheet_bytes if it is genuine.";
		snprintf(r->io_error, sizeof(r->io_error),
				 "part %s of \"%s\" inflates to more than it declares or than credimport.max_sheet_bytes allows",
				 r->part, r->label);
		return -1;
	}
	if (!r->no_scan && !scan_tags(r, buf, (size_t) n))
	{
		r->io_code = XR_LIMIT;
		r->io_hint = "Records, rows and cells need far fewer attributes: check that this is the right file.";
		snprintf(r->io_error, sizeof(r->io_error), "an element of \"%s\" has more than 16,384 attributes",
				 r->is_xml ? r->label : r->part);
		return -1;
	}
	return (int) n;
}

static void
reset_scan(XrReader *r)
{
	r->tag_state = T_TEXT;
	r->tag_count = 0;
	r->tag_k = 0;
	r->tag_nb = 0;
	r->part_read = 0;
	r->io_error[0] = '\0';
}

static void
xml_error_handler(void *arg, const char *msg, xmlParserSeverities severity, xmlTextReaderLocatorPtr loc)
{
	XrReader   *r = (XrReader *) arg;

	(void) loc;
	if (r->xml_msg[0] == '\0' && (severity == XML_PARSER_SEVERITY_ERROR || severity == XML_PARSER_SEVERITY_VALIDITY_ERROR))
	{
		snprintf(r->xml_msg, sizeof(r->xml_msg), "%s", msg);
		for (int i = (int) strlen(r->xml_msg) - 1; i >= 0 && (r->xml_msg[i] == '\n' || r->xml_msg[i] == ' '); i--)
			r->xml_msg[i] = '\0';
	}
}

static void
close_part(XrReader *r)
{
	if (r->xr)
		xmlFreeTextReader(r->xr);
	r->xr = NULL;
	if (r->zf)
		zip_fclose(r->zf);
	r->zf = NULL;
}

#define XR_PARSE_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES)

static void
start_reader(XrReader *r)
{
	r->xml_msg[0] = '\0';
	if (r->xr == NULL)
	{
		set_detail(r, NULL, NULL);
		fail(r, XR_NOMEM, "could not start parsing \"%s\"", r->part);
	}
	xmlTextReaderSetErrorHandler(r->xr, xml_error_handler, r);
}

/* open a part of the zip for streaming; false when it is absent and not required */
static bool
open_part(XrReader *r, const char *name, bool required)
{
	zip_stat_t	st;

	close_part(r);
	snprintf(r->part, sizeof(r->part), "%s", name);
	reset_scan(r);
	zip_stat_init(&st);
	if (zip_stat(r->zip, name, ZIP_FL_NOCASE, &st) != 0)
	{
		if (!required)
			return false;
		set_detail(r, NULL, "Save the spreadsheet as an Excel workbook (.xlsx).");
		fail(r, XR_FORMAT, "\"%s\" is not an .xlsx workbook: it has no %s", r->label, name);
	}
	r->part_size = (st.valid & ZIP_STAT_SIZE) ? st.size : UINT64_MAX;
	if (r->part_size != UINT64_MAX && r->part_size > r->lim.part_bytes)
	{
		set_detail(r, NULL, "Split the workbook, or raise credimport.max_sheet_bytes if it is genuine.");
		fail(r, XR_LIMIT, "part %s of \"%s\" would inflate to %llu bytes, more than credimport.max_sheet_bytes (%llu)",
			 name, r->label, (unsigned long long) r->part_size, (unsigned long long) r->lim.part_bytes);
	}
	r->zf = zip_fopen(r->zip, name, ZIP_FL_NOCASE);
	if (r->zf == NULL)
	{
		set_detail(r, NULL, NULL);
		fail(r, XR_FORMAT, "could not read part %s of \"%s\": %s", name, r->label, zip_strerror(r->zip));
	}
	r->xr = xmlReaderForIO(part_read_cb, NULL, r, NULL, NULL, XR_PARSE_OPTIONS);
	start_reader(r);
	return true;
}

/* step the reader: false at the end; malformed XML and DOCTYPEs are errors */
static bool
step(XrReader *r)
{
	int			ret;

	interrupt(r);
	ret = xmlTextReaderRead(r->xr);
	if (ret < 0)
	{
		if (r->io_error[0])
		{
			set_detail(r, NULL, r->io_hint);
			fail(r, r->io_code, "%s", r->io_error);
		}
		snprintf(r->err->detail, sizeof(r->err->detail), "Near line %d.", xmlTextReaderGetParserLineNumber(r->xr));
		r->err->hint[0] = '\0';
		fail(r, XR_XML, "\"%s\" is not well-formed XML: %s", r->is_xml ? r->label : r->part,
			 r->xml_msg[0] ? r->xml_msg : "parse error");
	}
	r->cur_type = ret == 1 ? xmlTextReaderNodeType(r->xr) : -1;
	r->cur_depth = ret == 1 ? xmlTextReaderDepth(r->xr) : -1;
	if (r->cur_type == XML_READER_TYPE_DOCUMENT_TYPE)
	{
		set_detail(r, NULL, "Remove the <!DOCTYPE ...> line: credimport never loads DTDs or expands entities.");
		fail(r, XR_XML, "\"%s\" has a document type declaration, which credimport does not accept",
			 r->is_xml ? r->label : r->part);
	}
	return ret == 1;
}

static inline bool
is_elem(XrReader *r, const char *name)
{
	const xmlChar *n;

	if (r->cur_type != XML_READER_TYPE_ELEMENT)
		return false;
	n = xmlTextReaderConstLocalName(r->xr);
	return n && strcmp((const char *) n, name) == 0;
}

static inline bool
is_end(XrReader *r, const char *name)
{
	const xmlChar *n;

	if (r->cur_type != XML_READER_TYPE_END_ELEMENT)
		return false;
	n = xmlTextReaderConstLocalName(r->xr);
	return n && strcmp((const char *) n, name) == 0;
}

/*
 * Copy the current element's attributes whose local names are wanted into
 * out[] (bounded buffers); prefixed only: only attributes with a prefix
 * (r:id).  Returns a bitmask of those found.
 */
static unsigned
get_attrs(XrReader *r, const char *const *names, int n, char (*out)[XR_NAME_MAX], bool *prefixed)
{
	unsigned	found = 0;
	xmlNodePtr	node = xmlTextReaderCurrentNode(r->xr);

	for (int i = 0; i < n; i++)
		out[i][0] = '\0';
	if (node == NULL || node->type != XML_ELEMENT_NODE)
		return 0;
	/* the element's attributes, read from the node itself (no copies) */
	for (xmlAttrPtr a = node->properties; a != NULL; a = a->next)
	{
		interrupt(r);
		if (a->name == NULL)
			continue;
		for (int i = 0; i < n; i++)
			if (!(found & (1u << i)) && strcmp((const char *) a->name, names[i]) == 0 &&
				(prefixed == NULL || !prefixed[i] || (a->ns != NULL && a->ns->prefix != NULL)))
			{
				size_t		len = 0;

				for (xmlNodePtr t = a->children; t != NULL; t = t->next)
				{
					size_t		k;

					if (t->content == NULL)
						continue;
					k = strlen((const char *) t->content);
					if (k > XR_NAME_MAX - 1 - len)
						k = XR_NAME_MAX - 1 - len;
					memcpy(out[i] + len, t->content, k);
					len += k;
				}
				out[i][len] = '\0';
				found |= 1u << i;
				break;
			}
	}
	return found;
}

static bool
truthy(const char *s)
{
	return strcmp(s, "1") == 0 || strcmp(s, "true") == 0;
}

/* strict non-negative decimal integer, at most max */
static bool
parse_uint(const char *s, long max, long *out)
{
	long		v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		if (!isdigit((unsigned char) *s))
			return false;
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* "BC12" -> column 54 (0-based), row 12; false when not a cell reference */
static bool
parse_ref(const char *ref, int *col, long *row)
{
	int			c = 0;
	long		rr = 0;
	const char *p = ref;

	if (!isalpha((unsigned char) *p))
		return false;
	while (isalpha((unsigned char) *p))
	{
		c = c * 26 + (toupper((unsigned char) *p) - 'A' + 1);
		if (c > XR_MAX_COLS)
			return false;
		p++;
	}
	while (isdigit((unsigned char) *p))
	{
		rr = rr * 10 + (*p - '0');
		if (rr > XR_MAX_ROW)
			return false;
		p++;
	}
	if (*p != '\0' || rr == 0)
		return false;
	*col = c - 1;
	*row = rr;
	return true;
}

/*
 * Is this stored number already what sv_format_number would write (up to
 * 15 significant digits, no exponent, no leading or trailing zeros)?  Most
 * are: skip the round trip through double and printf.
 */
static bool
number_is_canonical(const char *s, size_t len)
{
	const char *p = s,
			   *end = s + len;
	int			sig = 0;
	int			lead_zeros = 0;
	bool		int_zero;

	if (p < end && *p == '-')
		p++;
	if (p == end || !isdigit((unsigned char) *p))
		return false;
	int_zero = (*p == '0');
	if (int_zero)
	{
		p++;
		if (p < end && isdigit((unsigned char) *p))
			return false;		/* 007 */
	}
	else
		for (; p < end && isdigit((unsigned char) *p); p++)
			sig++;
	if (p == end)
		return sig <= 15 && !(int_zero && s[0] == '-');	/* -0 */
	if (*p != '.')
		return false;
	p++;
	if (p == end || end[-1] == '0')
		return false;
	for (; p < end && *p == '0' && int_zero; p++)
		lead_zeros++;
	for (; p < end; p++)
	{
		if (!isdigit((unsigned char) *p))
			return false;
		sig++;
	}
	/* %g writes 0.0001 but 1e-05 */
	return sig >= 1 && sig <= 15 && lead_zeros <= 3;
}

/* ---------------- workbook, relationships ---------------- */

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		n = strlen(s),
				k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int
rel_cmp(const void *a, const void *b)
{
	return strcmp(((const XrRel *) a)->id, ((const XrRel *) b)->id);
}

/* the workbook's relationships (xl/_rels/workbook.xml.rels), sorted by Id */
static void
read_workbook_rels(XrReader *r)
{
	static const char *const rel[] = {"Id", "Target", "Type"};
	char		b[3][XR_NAME_MAX];

	open_part(r, "xl/_rels/workbook.xml.rels", true);
	while (step(r))
	{
		unsigned char kind;

		if (!is_elem(r, "Relationship"))
			continue;
		if ((get_attrs(r, rel, 3, b, NULL) & 3) != 3)
			continue;
		/* a sheet is a worksheet unless its relationship says otherwise */
		if (ends_with(b[2], "chartsheet"))
			kind = REL_CHARTSHEET;
		else if (ends_with(b[2], "dialogsheet") || ends_with(b[2], "Macrosheet"))
			kind = REL_OTHERSHEET;
		else
			kind = REL_WORKSHEET;
		grow(r, (void **) &r->rel_off, &r->rel_cap, r->nrel + 1, sizeof(size_t));
		grow(r, (void **) &r->rel_kind, &r->relk_cap, r->nrel + 1, 1);
		r->rel_off[r->nrel] = r->relbuf.len;
		r->rel_kind[r->nrel] = kind;
		r->nrel++;
		buf_append(r, &r->relbuf, b[0], strlen(b[0]) + 1);
		buf_append(r, &r->relbuf, b[1], strlen(b[1]) + 1);
	}
	close_part(r);
	grow(r, (void **) &r->rels, &r->rels_cap, r->nrel + 1, sizeof(XrRel));
	for (size_t i = 0; i < r->nrel; i++)
	{
		r->rels[i].id = r->relbuf.data + r->rel_off[i];
		r->rels[i].target = r->rels[i].id + strlen(r->rels[i].id) + 1;
		r->rels[i].kind = r->rel_kind[i];
	}
	if (r->nrel > 1)
		qsort(r->rels, r->nrel, sizeof(XrRel), rel_cmp);
}

static const XrRel *
find_rel(XrReader *r, const char *id)
{
	XrRel		key;

	if (id[0] == '\0' || r->nrel == 0)
		return NULL;
	key.id = id;
	return bsearch(&key, r->rels, r->nrel, sizeof(XrRel), rel_cmp);
}

/*
 * The worksheet to read: the one named (hidden or not), else the first
 * visible worksheet; chart sheets (and dialog and macro sheets) are never
 * read.  The workbook's sheets, with their visibility, are kept for
 * messages (xr_sheet_list), and the hidden worksheets passed over
 * (xr_skipped_hidden).
 */
static void
read_workbook(XrReader *r, const char *sheet)
{
	static const char *const wanted[] = {"name", "id", "date1904", "fullCalcOnLoad", "state"};
	static const bool prefixed[] = {false, true, false, false, false};
	char		a[5][XR_NAME_MAX];
	char		rid[XR_NAME_MAX] = "";
	bool		found = false;
	int			chosen_kind = REL_WORKSHEET;
	int			nsheets = 0;
	Buf		   *names = &r->wbnames;
	const XrRel *target;

	read_workbook_rels(r);
	open_part(r, "xl/workbook.xml", true);
	while (step(r))
	{
		if (is_elem(r, "workbookPr"))
		{
			if (get_attrs(r, wanted, 5, a, (bool *) prefixed) & 4)
				r->date1904 = truthy(a[2]);
		}
		else if (is_elem(r, "calcPr"))
		{
			if (get_attrs(r, wanted, 5, a, (bool *) prefixed) & 8)
				r->stale = truthy(a[3]);
		}
		else if (is_elem(r, "sheet"))
		{
			unsigned	f = get_attrs(r, wanted, 5, a, (bool *) prefixed);
			const char *name = (f & 1) ? a[0] : "?";
			bool		hidden = (f & 16) && (strcmp(a[4], "hidden") == 0 || strcmp(a[4], "veryHidden") == 0);
			const XrRel *rel = find_rel(r, (f & 2) ? a[1] : "");
			int			kind = rel ? rel->kind : REL_WORKSHEET;

			nsheets++;
			if (names->len < 2000)
			{
				char		item[XR_NAME_MAX + 40];

				snprintf(item, sizeof(item), "%s\"%s\"%s%s", names->len ? ", " : "", name,
						 kind == REL_CHARTSHEET ? " (chart sheet)" :
						 kind != REL_WORKSHEET ? " (not a worksheet)" : "",
						 !hidden ? "" : strcmp(a[4], "veryHidden") == 0 ? " (very hidden)" : " (hidden)");
				buf_append(r, names, item, strlen(item));
			}
			else if (names->len < 2010)
				buf_append(r, names, ", ...", 5);
			if (found)
				continue;
			if (sheet != NULL)
			{
				if (!(f & 1) || strcmp(a[0], sheet) != 0)
					continue;
			}
			else if (kind != REL_WORKSHEET)
				continue;
			else if (hidden)
			{
				if (r->skipped.len < 1000)
				{
					char		item[XR_NAME_MAX + 8];

					snprintf(item, sizeof(item), "%s\"%s\"", r->skipped.len ? ", " : "", name);
					buf_append(r, &r->skipped, item, strlen(item));
				}
				continue;
			}
			found = true;
			chosen_kind = kind;
			snprintf(r->chosen, sizeof(r->chosen), "%s", name);
			snprintf(rid, sizeof(rid), "%s", (f & 2) ? a[1] : "");
		}
	}
	close_part(r);
	if (nsheets == 0)
	{
		set_detail(r, NULL, NULL);
		fail(r, XR_FORMAT, "workbook \"%s\" has no worksheets", r->label);
	}
	if (!found && sheet != NULL)
	{
		snprintf(r->err->detail, sizeof(r->err->detail), "Its sheets are %s.", names->data);
		snprintf(r->err->hint, sizeof(r->err->hint), "Sheet names are compared exactly, case included.");
		fail(r, XR_NOSHEET, "workbook \"%s\" has no worksheet named \"%s\"", r->label, sheet);
	}
	if (!found)
	{
		snprintf(r->err->detail, sizeof(r->err->detail), "Its sheets are %s.", names->data);
		snprintf(r->err->hint, sizeof(r->err->hint), "Name the worksheet to read with the sheet argument.");
		fail(r, XR_FORMAT, "workbook \"%s\" has no visible worksheet", r->label);
	}
	if (chosen_kind != REL_WORKSHEET)
	{
		snprintf(r->err->detail, sizeof(r->err->detail), "Its sheets are %s.", names->data);
		snprintf(r->err->hint, sizeof(r->err->hint), "Name a worksheet: only worksheets hold rows.");
		fail(r, XR_FORMAT, "sheet \"%s\" of workbook \"%s\" is %s, not a worksheet", r->chosen, r->label,
			 chosen_kind == REL_CHARTSHEET ? "a chart sheet" : "a dialog or macro sheet");
	}
	if (rid[0] == '\0')
	{
		set_detail(r, "Its <sheet> element has no r:id attribute.", "Open the workbook in a spreadsheet program and save it again.");
		fail(r, XR_FORMAT, "workbook \"%s\" does not say where its worksheet \"%s\" is", r->label, r->chosen);
	}
	target = find_rel(r, rid);
	if (target == NULL)
	{
		set_detail(r, NULL, NULL);
		fail(r, XR_FORMAT, "workbook \"%s\" does not say where its worksheet is", r->label);
	}
	if (target->target[0] == '/')
		snprintf(r->sheet_part, sizeof(r->sheet_part), "%s", target->target + 1);
	else
		snprintf(r->sheet_part, sizeof(r->sheet_part), "xl/%s", target->target);
	/* the relationships are not needed any more */
	release(r, r->rels, r->rels_cap * sizeof(XrRel));
	r->rels = NULL;
	r->rels_cap = 0;
	r->nrel = 0;
	release(r, r->rel_off, r->rel_cap * sizeof(size_t));
	r->rel_off = NULL;
	r->rel_cap = 0;
	release(r, r->rel_kind, r->relk_cap);
	r->rel_kind = NULL;
	r->relk_cap = 0;
	release(r, r->relbuf.data, r->relbuf.cap);
	memset(&r->relbuf, 0, sizeof(r->relbuf));
}

const char *
xr_sheet_name(XrReader *r)
{
	return r->chosen;
}

const char *
xr_sheet_list(XrReader *r)
{
	return r->wbnames.data ? r->wbnames.data : "";
}

const char *
xr_skipped_hidden(XrReader *r)
{
	return r->skipped.data ? r->skipped.data : "";
}

/* ---------------- shared strings ---------------- */

/* the value of 4 hex digits, or -1 */
static long
xstring_hex4(const char *s)
{
	long		v = 0;

	for (int i = 0; i < 4; i++)
	{
		char		c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* the UTF-16 code unit of an escape _xHHHH_ at s (n bytes left), or -1 */
static long
xstring_escape(const char *s, size_t n)
{
	if (n < 7 || s[0] != '_' || s[1] != 'x' || s[6] != '_')
		return -1;
	return xstring_hex4(s + 2);
}

/*
 * ECMA-376 ST_Xstring: in cell text, _xHHHH_ stands for the UTF-16 code
 * unit HHHH -- how Excel and libxlsxwriter write control characters, and
 * _x005F_ a literal "_" (so "_x0041_" as text is "_x005F_x0041_").  Decode
 * them in place (a text only shrinks), left to right; a surrogate pair
 * gives one character; U+0000 and a lone surrogate stay as written.
 * Returns the new length.
 */
static size_t
decode_xstring(char *s, size_t len)
{
	size_t		i = 0,
				o = 0;

	while (i < len)
	{
		long		u = s[i] == '_' ? xstring_escape(s + i, len - i) : -1;
		long		cp = u;
		size_t		used = 7;

		if (u >= 0xD800 && u <= 0xDBFF)
		{
			long		lo = xstring_escape(s + i + 7, len - i - 7);

			if (lo >= 0xDC00 && lo <= 0xDFFF)
			{
				cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				used = 14;
			}
			else
				cp = -1;
		}
		else if (u >= 0xDC00 && u <= 0xDFFF)
			cp = -1;
		if (cp <= 0)
		{
			s[o++] = s[i++];
			continue;
		}
		if (cp < 0x80)
			s[o++] = (char) cp;
		else if (cp < 0x800)
		{
			s[o++] = (char) (0xC0 | (cp >> 6));
			s[o++] = (char) (0x80 | (cp & 0x3F));
		}
		else if (cp < 0x10000)
		{
			s[o++] = (char) (0xE0 | (cp >> 12));
			s[o++] = (char) (0x80 | ((cp >> 6) & 0x3F));
			s[o++] = (char) (0x80 | (cp & 0x3F));
		}
		else
		{
			s[o++] = (char) (0xF0 | (cp >> 18));
			s[o++] = (char) (0x80 | ((cp >> 12) & 0x3F));
			s[o++] = (char) (0x80 | ((cp >> 6) & 0x3F));
			s[o++] = (char) (0x80 | (cp & 0x3F));
		}
		i += used;
	}
	s[o] = '\0';
	return o;
}

/*
 * append the text of <t> elements (not phonetic runs) inside the current
 * element to b, its _xHHHH_ escapes decoded
 */
static void
collect_text(XrReader *r, const char *end, Buf *b)
{
	int			depth = r->cur_depth;
	bool		in_t = false;
	int			in_rph = 0;
	size_t		start = b->len;

	if (xmlTextReaderIsEmptyElement(r->xr))
		return;
	while (step(r))
	{
		int			type = r->cur_type;

		if (type == XML_READER_TYPE_END_ELEMENT && r->cur_depth == depth && is_end(r, end))
			break;
		if (is_elem(r, "rPh"))
			in_rph += xmlTextReaderIsEmptyElement(r->xr) ? 0 : 1;
		else if (is_end(r, "rPh"))
			in_rph--;
		else if (is_elem(r, "t"))
			in_t = !xmlTextReaderIsEmptyElement(r->xr);
		else if (is_end(r, "t"))
			in_t = false;
		else if (in_t && in_rph == 0 &&
				 (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
				  type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_CDATA))
		{
			const xmlChar *v = xmlTextReaderConstValue(r->xr);

			if (v)
				buf_append(r, b, (const char *) v, strlen((const char *) v));
		}
	}
	if (b->data && b->len > start)
		b->len = start + decode_xstring(b->data + start, b->len - start);
}

static void
read_shared_strings(XrReader *r)
{
	if (!open_part(r, "xl/sharedStrings.xml", false))
		return;
	while (step(r))
	{
		if (!is_elem(r, "si"))
			continue;
		grow(r, (void **) &r->sst_off, &r->sst_cap, r->nsst + 1, sizeof(size_t));
		grow(r, (void **) &r->sst_len, &r->sst_len_cap, r->nsst + 1, sizeof(uint32_t));
		r->sst_off[r->nsst] = r->sst.len;
		collect_text(r, "si", &r->sst);
		if (r->sst.len - r->sst_off[r->nsst] > UINT32_MAX)
		{
			set_detail(r, NULL, NULL);
			fail(r, XR_LIMIT, "a shared string of \"%s\" is longer than 4 GB", r->label);
		}
		r->sst_len[r->nsst] = (uint32_t) (r->sst.len - r->sst_off[r->nsst]);
		r->nsst++;
		buf_append(r, &r->sst, "", 0);
		r->sst.len++;			/* keep the NUL */
	}
	close_part(r);
}

/* ---------------- styles: which cell formats are dates ---------------- */

static int
numfmt_cmp(const void *a, const void *b)
{
	const NumFmt *x = a,
			   *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static void
read_styles(XrReader *r)
{
	static const char *const wanted[] = {"numFmtId", "formatCode"};
	char		a[2][XR_NAME_MAX];
	size_t		nfmt = 0;
	bool		in_fmts = false,
				in_xfs = false;

	if (!open_part(r, "xl/styles.xml", false))
		return;
	while (step(r))
	{
		if (is_elem(r, "numFmts"))
			in_fmts = !xmlTextReaderIsEmptyElement(r->xr);
		else if (is_end(r, "numFmts"))
			in_fmts = false;
		else if (is_elem(r, "cellXfs"))
			in_xfs = !xmlTextReaderIsEmptyElement(r->xr);
		else if (is_end(r, "cellXfs"))
			in_xfs = false;
		else if (in_fmts && is_elem(r, "numFmt"))
		{
			unsigned	f;
			long		id;
			const xmlChar *code = NULL;
			xmlChar    *owned = NULL;

			f = get_attrs(r, wanted, 1, a, NULL);
			owned = xmlTextReaderGetAttribute(r->xr, (const xmlChar *) "formatCode");
			code = owned;
			if ((f & 1) && parse_uint(a[0], INT_MAX, &id))
			{
				grow(r, (void **) &r->fmts, &r->fmt_cap, nfmt + 1, sizeof(NumFmt));
				r->fmts[nfmt].id = (int) id;
				r->fmts[nfmt].seq = (int) nfmt;
				r->fmts[nfmt].is_date = sv_format_is_date((int) id, (const char *) code);
				r->fmts[nfmt].pad = (unsigned char) sv_format_zero_pad((const char *) code);
				nfmt++;
			}
			if (owned)
				xmlFree(owned);
		}
		else if (in_xfs && is_elem(r, "xf"))
		{
			long		id = 0;

			if (get_attrs(r, wanted, 1, a, NULL) & 1)
			{
				if (!parse_uint(a[0], INT_MAX, &id))
					id = -1;
			}
			grow(r, (void **) &r->xf_fid, &r->xf_cap, r->nxf + 1, sizeof(int));
			r->xf_fid[r->nxf++] = (int) id;
		}
	}
	close_part(r);

	/* each xf's format: the last numFmt of its id, else a built-in (sort, then search) */
	if (r->nxf > 0)
	{
		size_t		cap = 0;
		size_t		pcap = 0;

		if (nfmt > 1)
			qsort(r->fmts, nfmt, sizeof(NumFmt), numfmt_cmp);
		grow(r, (void **) &r->xf_date, &cap, r->nxf, 1);
		grow(r, (void **) &r->xf_pad, &pcap, r->nxf, 1);
		for (size_t i = 0; i < r->nxf; i++)
		{
			int			fid = r->xf_fid[i];
			size_t		lo = 0,
						hi = nfmt;

			interrupt(r);
			/* the first entry with id > fid */
			while (lo < hi)
			{
				size_t		mid = lo + (hi - lo) / 2;

				if (r->fmts[mid].id <= fid)
					lo = mid + 1;
				else
					hi = mid;
			}
			r->xf_pad[i] = 0;
			if (lo > 0 && r->fmts[lo - 1].id == fid)
			{
				r->xf_date[i] = r->fmts[lo - 1].is_date;
				r->xf_pad[i] = r->fmts[lo - 1].pad;
			}
			else
				r->xf_date[i] = fid >= 0 && sv_format_is_date(fid, NULL);
		}
	}
	release(r, r->fmts, r->fmt_cap * sizeof(NumFmt));
	r->fmts = NULL;
	r->fmt_cap = 0;
	release(r, r->xf_fid, r->xf_cap * sizeof(int));
	r->xf_fid = NULL;
	r->xf_cap = 0;
}

/* ---------------- merged ranges ---------------- */

static int
merge_cmp(const void *a, const void *b)
{
	const Merge *x = a,
			   *y = b;

	if (x->r1 != y->r1)
		return x->r1 < y->r1 ? -1 : 1;
	return x->c1 < y->c1 ? -1 : (x->c1 > y->c1);
}

/*
 * Merged ranges follow the cells in a worksheet, but a stream needs them
 * first.  Inflating is cheap next to parsing: look for the word first and
 * parse the part for its <mergeCell> elements only when it is there.
 */
static bool
has_merges(XrReader *r)
{
	char		chunk[65536 + 16];
	size_t		carry = 0;
	bool		found = false;

	open_part(r, r->sheet_part, true);
	r->no_scan = true;
	for (;;)
	{
		int			n;

		interrupt(r);
		n = part_read_cb(r, chunk + carry, 65536);
		if (n < 0)
		{
			r->no_scan = false;
			set_detail(r, NULL, r->io_hint);
			fail(r, r->io_code, "%s", r->io_error);
		}
		if (n == 0)
			break;
		{
			const char *p = chunk,
					   *end = chunk + carry + (size_t) n;

			while (!found && end - p >= 9 && (p = memchr(p, 'm', (size_t) (end - p - 8))) != NULL)
			{
				if (memcmp(p, "mergeCell", 9) == 0)
					found = true;
				p++;
			}
		}
		if (found)
			break;
		{
			size_t		total = carry + (size_t) n;

			carry = total < 8 ? total : 8;
			memmove(chunk, chunk + total - carry, carry);
		}
	}
	r->no_scan = false;
	close_part(r);
	return found;
}

static void
read_merges(XrReader *r)
{
	static const char *const wanted[] = {"ref"};
	char		a[1][XR_NAME_MAX];
	long long	area = 0;

	if (!has_merges(r))
		return;
	open_part(r, r->sheet_part, true);
	while (step(r))
	{
		char	   *colon;
		int			c1,
					c2;
		long		r1,
					r2;

		if (!is_elem(r, "mergeCell") || !(get_attrs(r, wanted, 1, a, NULL) & 1))
			continue;
		colon = strchr(a[0], ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		if (!parse_ref(a[0], &c1, &r1) || !parse_ref(colon + 1, &c2, &r2) || r2 < r1 || c2 < c1)
			continue;
		area += (long long) (r2 - r1 + 1) * (c2 - c1 + 1);
		if (area > XR_MAX_MERGED)
		{
			set_detail(r, NULL, "Unmerge the cells and save the workbook again.");
			fail(r, XR_LIMIT, "worksheet of \"%s\" merges more than 10,000,000 cells", r->label);
		}
		grow(r, (void **) &r->merges, &r->merge_cap, r->nmerge + 1, sizeof(Merge));
		memset(&r->merges[r->nmerge], 0, sizeof(Merge));
		r->merges[r->nmerge].r1 = r1;
		r->merges[r->nmerge].r2 = r2;
		r->merges[r->nmerge].c1 = c1;
		r->merges[r->nmerge].c2 = c2;
		r->nmerge++;
	}
	close_part(r);
	if (r->nmerge > 1)
		qsort(r->merges, r->nmerge, sizeof(Merge), merge_cmp);
}

/* ---------------- the current row ---------------- */

#define OFF_STABLE SIZE_MAX

static void
row_reset(XrReader *r)
{
	r->row.ncells = 0;
	r->rowbuf.len = 0;
}

#define OFF_EMPTY (SIZE_MAX - 1)

/* make room for column col in the row; false when it is right of the width */
static bool
row_col(XrReader *r, int col)
{
	if (col < 0 || col >= XR_MAX_COLS || (r->width > 0 && col >= r->width))
		return false;
	if (col >= r->row.ncells)
	{
		size_t		ocap = r->off_cap;

		grow_int(r, (void **) &r->cells, &r->cells_cap, (size_t) col + 1, sizeof(XrCell));
		grow(r, (void **) &r->cell_off, &ocap, (size_t) col + 1, sizeof(size_t));
		r->off_cap = ocap;
		for (int i = r->row.ncells; i <= col; i++)
		{
			r->cells[i].value = NULL;
			r->cells[i].len = 0;
			r->cells[i].flag = 0;
			r->cell_off[i] = OFF_EMPTY;
		}
		r->row.ncells = col + 1;
	}
	return true;
}

static bool
cell_is_set(XrReader *r, int col)
{
	return col < r->row.ncells && r->cell_off[col] != OFF_EMPTY;
}

/* a value in the row buffer */
static void
set_cell_off(XrReader *r, int col, size_t off, size_t len, unsigned char flag)
{
	if (!row_col(r, col))
		return;
	r->cell_off[col] = off;
	r->cells[col].len = len;
	r->cells[col].flag = flag;
}

/* a value that outlives the row (a shared string, a merged range's value, a constant) */
static void
set_cell_ptr(XrReader *r, int col, const char *v, size_t len, unsigned char flag)
{
	if (!row_col(r, col))
		return;
	r->cell_off[col] = OFF_STABLE;
	r->cells[col].value = v;
	r->cells[col].len = len;
	r->cells[col].flag = flag;
}

/* the row is complete: the values' addresses (the buffer no longer moves) */
static void
row_resolve(XrReader *r)
{
	for (int i = 0; i < r->row.ncells; i++)
	{
		if (r->cell_off[i] == OFF_EMPTY)
			r->cells[i].value = NULL;
		else if (r->cell_off[i] != OFF_STABLE)
			r->cells[i].value = r->rowbuf.data + r->cell_off[i];
	}
	r->row.cells = r->cells;
}

/* append a NUL-terminated copy of s to the row buffer; its offset */
static size_t
row_text(XrReader *r, const char *s, size_t n)
{
	size_t		off = r->rowbuf.len;

	buf_append(r, &r->rowbuf, s, n);
	r->rowbuf.len++;
	return off;
}

/* text of the current element (all text below it) into the row buffer: its offset */
static size_t
element_text(XrReader *r, size_t *len)
{
	size_t		off = r->rowbuf.len;
	int			depth = r->cur_depth;

	if (!xmlTextReaderIsEmptyElement(r->xr))
	{
		while (step(r))
		{
			int			type = r->cur_type;

			if (type == XML_READER_TYPE_END_ELEMENT && r->cur_depth == depth)
				break;
			if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
				type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE || type == XML_READER_TYPE_WHITESPACE)
			{
				const xmlChar *v = xmlTextReaderConstValue(r->xr);

				if (v)
					buf_append(r, &r->rowbuf, (const char *) v, strlen((const char *) v));
			}
		}
	}
	*len = r->rowbuf.len - off;
	buf_append(r, &r->rowbuf, "", 0);
	r->rowbuf.len++;
	return off;
}

/* one <c> element of the current row */
static void
read_cell(XrReader *r, long *row_no, bool row_has_r, bool first_cell, int *next_col)
{
	static const char *const wanted[] = {"r", "t", "s"};
	char		a[3][XR_NAME_MAX];
	unsigned	f = get_attrs(r, wanted, 3, a, NULL);
	const char *t = (f & 2) ? a[1] : "n";
	int			col;
	long		cr;
	bool		has_v = false,
				has_is = false,
				has_f = false;
	size_t		voff = 0,
				vlen = 0,
				ioff = 0,
				ilen = 0;
	char		tmp[64];

	if ((f & 1) && parse_ref(a[0], &col, &cr))
	{
		if (cr != *row_no)
		{
			if (!row_has_r && first_cell && cr > r->last_row)
				*row_no = cr;
			else
			{
				set_detail(r, NULL, "Open the workbook in a spreadsheet program and save it again.");
				fail(r, XR_FORMAT, "cell %s of \"%s\" is not in its row (%ld)", a[0], r->label, *row_no);
			}
		}
	}
	else
		col = *next_col;
	if (col >= XR_MAX_COLS)
	{
		set_detail(r, NULL, "Open the workbook in a spreadsheet program and save it again.");
		fail(r, XR_LIMIT, "row %ld of \"%s\" has more than 16,384 cells", *row_no, r->label);
	}
	*next_col = col + 1;

	if (!xmlTextReaderIsEmptyElement(r->xr))
	{
		int			depth = r->cur_depth;

		while (step(r))
		{
			int			type = r->cur_type;

			if (type == XML_READER_TYPE_END_ELEMENT && r->cur_depth == depth)
				break;
			if (type != XML_READER_TYPE_ELEMENT || r->cur_depth != depth + 1)
				continue;
			if (is_elem(r, "v"))
			{
				has_v = true;
				voff = element_text(r, &vlen);
			}
			else if (is_elem(r, "f"))
				has_f = true;
			else if (is_elem(r, "is"))
			{
				has_is = true;
				ioff = r->rowbuf.len;
				collect_text(r, "is", &r->rowbuf);
				ilen = r->rowbuf.len - ioff;
				buf_append(r, &r->rowbuf, "", 0);
				r->rowbuf.len++;
			}
		}
	}
	if (r->width > 0 && col >= r->width)
		return;					/* right of the header: not part of any record */

	if (has_f && (r->stale || !has_v))
	{
		/* the value a person would see is not in the file */
		set_cell_ptr(r, col, XR_FORMULA_NOT_CALCULATED, strlen(XR_FORMULA_NOT_CALCULATED), XR_CELL_ERROR);
		return;
	}
	if (strcmp(t, "s") == 0)
	{
		long		idx = -1;

		if (!has_v || !parse_uint(r->rowbuf.data + voff, LONG_MAX / 2, &idx) || (size_t) idx >= r->nsst)
		{
			set_detail(r, NULL, NULL);
			fail(r, XR_FORMAT, "cell %s of \"%s\" refers to shared string %ld, which does not exist",
				 (f & 1) ? a[0] : "?", r->label, idx);
		}
		set_cell_ptr(r, col, r->sst.data + r->sst_off[idx], r->sst_len[idx], 0);
	}
	else if (strcmp(t, "inlineStr") == 0)
	{
		if (has_is)
			set_cell_off(r, col, ioff, ilen, 0);
	}
	else if (strcmp(t, "b") == 0)
	{
		bool		yes = has_v && strcmp(r->rowbuf.data + voff, "1") == 0;

		set_cell_ptr(r, col, yes ? "TRUE" : "FALSE", yes ? 4 : 5, 0);
	}
	else if (strcmp(t, "e") == 0)
	{
		if (has_v)
			set_cell_off(r, col, voff, vlen, XR_CELL_ERROR);	/* #N/A, #REF!, ... */
		else
			set_cell_ptr(r, col, "#VALUE!", 7, XR_CELL_ERROR);
	}
	else if (!has_v)
		return;
	else if (strcmp(t, "str") == 0)
		set_cell_off(r, col, voff, vlen, 0);	/* a formula's text */
	else if (strcmp(t, "d") == 0)
	{
		/* an ISO date or date-time: its calendar date */
		int			y,
					m,
					d;

		if (sv_iso_datetime_to_ymd(r->rowbuf.data + voff, &y, &m, &d))
		{
			snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", y, m, d);
			set_cell_off(r, col, row_text(r, tmp, strlen(tmp)), strlen(tmp), 0);
		}
		else
			set_cell_off(r, col, voff, vlen, 0);
	}
	else
	{
		/* a number: a date when its style says so, else as a person wrote it */
		long		xf = 0;
		double		dv;

		if ((f & 4) && !parse_uint(a[2], INT_MAX, &xf))
			xf = -1;
		if (vlen >= sizeof(tmp) || !sv_parse_number(r->rowbuf.data + voff, &dv))
			set_cell_off(r, col, voff, vlen, 0);
		else if (xf >= 0 && (size_t) xf < r->nxf && r->xf_date[xf])
		{
			if (sv_serial_to_iso(dv, r->date1904, tmp, sizeof(tmp)))
				set_cell_off(r, col, row_text(r, tmp, strlen(tmp)), strlen(tmp), 0);
			else
				set_cell_off(r, col, voff, vlen, 0);
		}
		else if (xf >= 0 && (size_t) xf < r->nxf && r->xf_pad[xf])
		{
			/* a zero-padded format (000): the number as it shows, 007 */
			sv_format_number_padded(dv, r->xf_pad[xf], tmp, sizeof(tmp));
			set_cell_off(r, col, row_text(r, tmp, strlen(tmp)), strlen(tmp), 0);
		}
		else if (number_is_canonical(r->rowbuf.data + voff, vlen))
			set_cell_off(r, col, voff, vlen, 0);
		else
		{
			sv_format_number(dv, tmp, sizeof(tmp));
			set_cell_off(r, col, row_text(r, tmp, strlen(tmp)), strlen(tmp), 0);
		}
	}
}

/*
 * Merged ranges read as their top-left value in every cell, as a person
 * sees them -- in the rows the worksheet has, never more.
 */
static void
apply_merges(XrReader *r, long row_no)
{
	size_t		keep = 0;

	/* ranges that ended above this row: their values are no longer shown */
	for (size_t i = 0; i < r->nactive; i++)
	{
		Merge	   *m = &r->merges[r->active[i]];

		if (m->r2 >= row_no)
			r->active[keep++] = r->active[i];
		else
		{
			release(r, m->value, m->len + 1);
			m->value = NULL;
		}
	}
	r->nactive = keep;
	/* ranges whose first row was not in the worksheet: nothing to show */
	while (r->merge_next < r->nmerge && r->merges[r->merge_next].r1 < row_no)
		r->merge_next++;
	/* ranges that start here: take the top-left value */
	while (r->merge_next < r->nmerge && r->merges[r->merge_next].r1 == row_no)
	{
		Merge	   *m = &r->merges[r->merge_next];

		interrupt(r);
		if (m->c1 < r->row.ncells && r->cells[m->c1].value != NULL && r->cells[m->c1].len > 0)
		{
			size_t		n = r->cells[m->c1].len;

			charge(r, n + 1);
			m->value = malloc(n + 1);
			if (m->value == NULL)
			{
				set_detail(r, NULL, NULL);
				fail(r, XR_NOMEM, "out of memory reading \"%s\"", r->label);
			}
			memcpy(m->value, r->cells[m->c1].value, n);
			m->value[n] = '\0';
			m->len = n;
			m->flag = r->cells[m->c1].flag;
			grow(r, (void **) &r->active, &r->active_cap, r->nactive + 1, sizeof(size_t));
			r->active[r->nactive++] = r->merge_next;
		}
		r->merge_next++;
	}
	/* fill (a range's value is freed on a later row: this row points to it) */
	for (size_t i = 0; i < r->nactive; i++)
	{
		Merge	   *m = &r->merges[r->active[i]];
		int			last = m->c2;

		if (r->width > 0 && last >= r->width)
			last = r->width - 1;
		for (int c = m->c1; c <= last; c++)
		{
			interrupt(r);
			if (row_no != m->r1 || c != m->c1)
				set_cell_ptr(r, c, m->value, m->len, m->flag);
		}
	}
	/* set_cell_ptr may have grown the arrays: addresses again */
	r->row.cells = r->cells;
}

static int
next_xlsx_row(XrReader *r)
{
	static const char *const wanted[] = {"r", "hidden"};
	char		a[2][XR_NAME_MAX];

	if (r->done)
		return 0;
	while (step(r))
	{
		unsigned	f;
		long		row_no;
		int			next_col = 0;
		bool		first = true;

		if (!is_elem(r, "row"))
			continue;
		f = get_attrs(r, wanted, 2, a, NULL);
		if (f & 1)
		{
			if (!parse_uint(a[0], XR_MAX_ROW, &row_no) || row_no < 1)
			{
				set_detail(r, NULL, NULL);
				fail(r, XR_FORMAT, "worksheet of \"%s\" has a row numbered %s", r->label, a[0]);
			}
		}
		else
			row_no = r->last_row + 1;
		row_reset(r);
		r->row.hidden = (f & 2) && truthy(a[1]);
		if (!xmlTextReaderIsEmptyElement(r->xr))
		{
			int			depth = r->cur_depth;

			while (step(r))
			{
				int			type = r->cur_type;

				if (type == XML_READER_TYPE_END_ELEMENT && r->cur_depth == depth)
					break;
				if (type == XML_READER_TYPE_ELEMENT && r->cur_depth == depth + 1 && is_elem(r, "c"))
				{
					read_cell(r, &row_no, (f & 1) != 0, first, &next_col);
					first = false;
				}
			}
		}
		if (row_no <= r->last_row || row_no > XR_MAX_ROW)
		{
			set_detail(r, NULL, "Open the workbook in a spreadsheet program and save it again: rows are then in order.");
			fail(r, XR_FORMAT, "worksheet of \"%s\" lists row %ld after row %ld", r->label, row_no, r->last_row);
		}
		r->last_row = row_no;
		r->row.line_no = row_no;
		row_resolve(r);
		if (r->nmerge > 0)
			apply_merges(r, row_no);
		return 1;
	}
	close_part(r);
	r->done = true;
	return 0;
}

/* ---------------- XML door ---------------- */

static uint32_t
name_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

/* the column of a field name; added when add (else -1 when unknown) */
static int
name_column(XrReader *r, const char *raw, bool add)
{
	char		norm[XR_NAME_MAX];
	uint32_t	h;
	size_t		i;

	fc_normalize_header(raw, strlen(raw), norm, sizeof(norm));
	if (r->hash_size == 0)
	{
		size_t		cap = 0;

		grow(r, (void **) &r->hash, &cap, 64, sizeof(int));
		memset(r->hash, 0, cap * sizeof(int));
		r->hash_size = cap;
	}
	h = name_hash(norm);
	for (i = h & (r->hash_size - 1); r->hash[i] != 0; i = (i + 1) & (r->hash_size - 1))
		if (strcmp(r->names.data + r->name_off[r->hash[i] - 1], norm) == 0)
			return r->hash[i] - 1;
	if (!add)
		return -1;
	if (r->nnames >= XR_MAX_COLS)
	{
		set_detail(r, NULL, "A record may have at most 16,384 different fields.");
		fail(r, XR_LIMIT, "records of \"%s\" have more than 16,384 different fields", r->label);
	}
	grow_int(r, (void **) &r->name_off, &r->names_cap, (size_t) r->nnames + 1, sizeof(size_t));
	r->name_off[r->nnames] = r->names.len;
	buf_append(r, &r->names, norm, strlen(norm));
	r->names.len++;
	r->hash[i] = ++r->nnames;
	if ((size_t) r->nnames * 2 > r->hash_size)
	{
		/* rehash into a table twice the size */
		size_t		nsize = r->hash_size * 2;
		int		   *nh;

		charge(r, nsize * sizeof(int));
		nh = calloc(nsize, sizeof(int));
		if (nh == NULL)
		{
			set_detail(r, NULL, NULL);
			fail(r, XR_NOMEM, "out of memory reading \"%s\"", r->label);
		}
		for (int c = 0; c < r->nnames; c++)
		{
			size_t		j = name_hash(r->names.data + r->name_off[c]) & (nsize - 1);

			while (nh[j] != 0)
				j = (j + 1) & (nsize - 1);
			nh[j] = c + 1;
		}
		release(r, r->hash, r->hash_size * sizeof(int));
		r->hash = nh;
		r->hash_size = nsize;
	}
	return r->nnames - 1;
}

static void
open_xml_reader(XrReader *r)
{
	close_part(r);
	snprintf(r->part, sizeof(r->part), "%s", r->label);
	reset_scan(r);
	r->part_size = r->len;
	r->xr = xmlReaderForIO(part_read_cb, NULL, r, NULL, NULL, XR_PARSE_OPTIONS);
	start_reader(r);
}

/* one record (the reader is on a child of the root); scan: only learn the field names */
static void
read_record(XrReader *r, bool scan)
{
	if (xmlTextReaderMoveToFirstAttribute(r->xr) == 1)
	{
		do
		{
			int			col;

			interrupt(r);
			if (xmlTextReaderIsNamespaceDecl(r->xr) == 1)
				continue;		/* xmlns declarations are not fields */
			col = name_column(r, (const char *) xmlTextReaderConstLocalName(r->xr), scan);
			if (!scan && col >= 0 && !cell_is_set(r, col))
			{
				const xmlChar *v = xmlTextReaderConstValue(r->xr);
				size_t		n = v ? strlen((const char *) v) : 0;

				set_cell_off(r, col, row_text(r, v ? (const char *) v : "", n), n, 0);
			}
		} while (xmlTextReaderMoveToNextAttribute(r->xr) == 1);
		xmlTextReaderMoveToElement(r->xr);
	}
	if (xmlTextReaderIsEmptyElement(r->xr))
		return;
	while (step(r))
	{
		int			depth = r->cur_depth;
		int			type = r->cur_type;

		if (type == XML_READER_TYPE_END_ELEMENT && depth == 1)
			break;
		if (type == XML_READER_TYPE_ELEMENT && depth == 2)
		{
			int			col = name_column(r, (const char *) xmlTextReaderConstLocalName(r->xr), scan);

			if (scan)
				continue;
			/* a field given twice in one record: the first counts */
			if (col >= 0 && !cell_is_set(r, col))
			{
				size_t		len;
				size_t		off = element_text(r, &len);

				set_cell_off(r, col, off, len, 0);
			}
		}
	}
}

/* the first pass: field names, and whether records share lines */
static void
scan_xml(XrReader *r)
{
	long		prev = -1;
	long		n = 0;

	open_xml_reader(r);
	while (step(r))
	{
		long		line;

		if (r->cur_type != XML_READER_TYPE_ELEMENT || r->cur_depth != 1)
			continue;
		line = xmlGetLineNo(xmlTextReaderCurrentNode(r->xr));
		if (n > 0 && line <= prev)
			r->by_position = true;
		prev = line;
		n++;
		row_reset(r);
		read_record(r, true);
	}
	close_part(r);
	if (r->nnames == 0)
	{
		set_detail(r, NULL, "Records are the children of the root element; their fields are child elements or attributes: "
				   "<rows><row><email>...</email>...</row></rows>.");
		fail(r, XR_FORMAT, "XML document \"%s\" has no records", r->label);
	}
}

static int
next_xml_row(XrReader *r)
{
	if (!r->header_sent)
	{
		r->header_sent = true;
		row_reset(r);
		r->width = 0;
		for (int c = 0; c < r->nnames; c++)
			set_cell_ptr(r, c, r->names.data + r->name_off[c], strlen(r->names.data + r->name_off[c]), 0);
		r->row.line_no = 0;
		r->row.hidden = false;
		row_resolve(r);
		return 1;
	}
	if (r->done)
		return 0;
	while (step(r))
	{
		if (r->cur_type != XML_READER_TYPE_ELEMENT || r->cur_depth != 1)
			continue;
		row_reset(r);
		r->row.hidden = false;
		r->row.line_no = r->by_position ? ++r->position : xmlGetLineNo(xmlTextReaderCurrentNode(r->xr));
		read_record(r, false);
		row_resolve(r);
		return 1;
	}
	close_part(r);
	r->done = true;
	return 0;
}

/* ---------------- the interface ---------------- */

static XrReader *
new_reader(const char *data, size_t len, const char *label, const XrLimits *lim, XrError *err)
{
	XrReader   *r = calloc(1, sizeof(XrReader));

	memset(err, 0, sizeof(*err));
	if (r == NULL)
	{
		err->code = XR_NOMEM;
		snprintf(err->msg, sizeof(err->msg), "out of memory reading \"%s\"", label);
		return NULL;
	}
	r->err = err;
	r->lim = *lim;
	r->data = data;
	r->len = len;
	snprintf(r->label, sizeof(r->label), "%s", label);
	xmlInitParser();
	return r;
}

/*
 * libzip reads the whole central directory when it opens a zip, a few
 * hundred bytes per entry: 300,000 empty entries (27 MB) take 90 MB.  A
 * workbook has tens of parts; the entry count is read from the end of
 * central directory record first, and a zip of more than XR_MAX_PARTS parts
 * (or a ZIP64 count) is refused before libzip sees it.
 */
#define XR_MAX_PARTS 10000

static long
zip_entry_count(const char *data, size_t len)
{
	size_t		lo;

	if (len < 22)
		return -1;
	lo = len - 22 > 65535 ? len - 22 - 65535 : 0;
	for (size_t i = len - 22 + 1; i-- > lo;)
	{
		const unsigned char *p = (const unsigned char *) data + i;

		if (p[0] == 'P' && p[1] == 'K' && p[2] == 5 && p[3] == 6)
			return (long) (p[10] | (p[11] << 8));
	}
	return -1;
}

XrReader *
xr_open_xlsx(const char *data, size_t len, const char *label, const char *sheet,
			 const XrLimits *lim, XrError *err)
{
	XrReader   *r = new_reader(data, len, label, lim, err);
	zip_source_t *zs;
	zip_error_t zerr;

	if (r == NULL)
		return NULL;
	if (setjmp(r->jb) != 0)
	{
		xr_close(r);
		return NULL;
	}
	{
		long		n = zip_entry_count(data, len);

		if (n > XR_MAX_PARTS)
		{
			set_detail(r, NULL, "A workbook has tens of parts: check that this is the right file.");
			fail(r, XR_LIMIT, "\"%s\" has more than %d parts", r->label, XR_MAX_PARTS);
		}
	}
	zip_error_init(&zerr);
	zs = zip_source_buffer_create(data, len, 0, &zerr);
	if (zs == NULL)
	{
		zip_error_fini(&zerr);
		set_detail(r, NULL, NULL);
		fail(r, XR_NOMEM, "could not read \"%s\"", r->label);
	}
	r->zip = zip_open_from_source(zs, ZIP_RDONLY, &zerr);
	if (r->zip == NULL)
	{
		char		why[256];

		snprintf(why, sizeof(why), "%s", zip_error_strerror(&zerr));
		zip_source_free(zs);
		zip_error_fini(&zerr);
		set_detail(r, NULL, "Save the spreadsheet as an Excel workbook (.xlsx), or give format => 'csv' for a CSV file.");
		fail(r, XR_FORMAT, "\"%s\" is not a valid .xlsx file: %s", r->label, why);
	}
	zip_error_fini(&zerr);
	read_workbook(r, sheet);
	read_shared_strings(r);
	read_styles(r);
	read_merges(r);
	open_part(r, r->sheet_part, true);
	return r;
}

XrReader *
xr_open_xml(const char *data, size_t len, const char *label, const XrLimits *lim, XrError *err)
{
	XrReader   *r = new_reader(data, len, label, lim, err);

	if (r == NULL)
		return NULL;
	r->is_xml = true;
	if (setjmp(r->jb) != 0)
	{
		xr_close(r);
		return NULL;
	}
	if (len > lim->part_bytes || len > INT_MAX)
	{
		set_detail(r, NULL, "Split the file, save it as CSV, or raise credimport.max_sheet_bytes.");
		fail(r, XR_LIMIT, "XML document \"%s\" is larger than credimport.max_sheet_bytes (%llu bytes)",
			 r->label, (unsigned long long) lim->part_bytes);
	}
	scan_xml(r);
	open_xml_reader(r);
	return r;
}

int
xr_next(XrReader *r, XrRow **row, XrError *err)
{
	int			ret;

	r->err = err;
	if (setjmp(r->jb) != 0)
		return -1;
	ret = r->is_xml ? next_xml_row(r) : next_xlsx_row(r);
	if (ret == 1)
	{
		r->row.cells = r->cells;
		*row = &r->row;
	}
	return ret;
}

void
xr_set_width(XrReader *r, int width)
{
	r->width = width < 0 ? 0 : width;
}

bool
xr_rewind(XrReader *r, XrError *err)
{
	r->err = err;
	if (setjmp(r->jb) != 0)
		return false;
	r->done = false;
	r->width = 0;
	r->last_row = 0;
	row_reset(r);
	if (r->is_xml)
	{
		r->header_sent = false;
		r->position = 0;
		open_xml_reader(r);
		return true;
	}
	for (size_t i = 0; i < r->nactive; i++)
	{
		Merge	   *m = &r->merges[r->active[i]];

		release(r, m->value, m->len + 1);
		m->value = NULL;
	}
	r->nactive = 0;
	r->merge_next = 0;
	open_part(r, r->sheet_part, true);
	return true;
}

void
xr_progress(XrReader *r, uint64_t *done, uint64_t *total)
{
	*done = r->done ? r->part_size : r->part_read;
	*total = r->part_size;
	if (*done > *total)
		*done = *total;
}

bool
xr_numbered_by_position(XrReader *r)
{
	return r->by_position;
}

size_t
xr_bytes_used(XrReader *r)
{
	return r->used;
}

size_t
xr_bytes_peak(XrReader *r)
{
	return r->peak;
}

void
xr_close(XrReader *r)
{
	if (r == NULL)
		return;
	close_part(r);
	if (r->zip)
		zip_discard(r->zip);
	for (size_t i = 0; i < r->nmerge; i++)
		free(r->merges[i].value);
	free(r->merges);
	free(r->active);
	free(r->sst.data);
	free(r->sst_off);
	free(r->sst_len);
	free(r->xf_date);
	free(r->xf_pad);
	free(r->wbnames.data);
	free(r->skipped.data);
	free(r->relbuf.data);
	free(r->rel_off);
	free(r->rel_kind);
	free(r->rels);
	free(r->fmts);
	free(r->xf_fid);
	free(r->cells);
	free(r->cell_off);
	free(r->rowbuf.data);
	free(r->names.data);
	free(r->name_off);
	free(r->hash);
	free(r);
}
