/*
 * xlsx_build.h
 *		Build a small .xlsx in memory (libzip) for the unit tests and the
 *		fuzz target: parts given by name, everything else fixed.
 */
#ifndef CREDIMPORT_XLSX_BUILD_H
#define CREDIMPORT_XLSX_BUILD_H

#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define XB_NS "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\""
#define XB_RNS "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""

#define XB_WORKBOOK \
	"<workbook " XB_NS " " XB_RNS "><sheets><sheet name=\"Credits\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
#define XB_RELS \
	"<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" \
	"<Relationship Id=\"rId1\" Type=\"worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"
#define XB_STYLES \
	"<styleSheet " XB_NS "><numFmts><numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\"/></numFmts>" \
	"<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/><xf numFmtId=\"164\"/></cellXfs></styleSheet>"

/* one part: name and bytes (len 0: strlen) */
typedef struct XbPart
{
	const char *name;
	const char *data;
	size_t		len;
} XbPart;

/* a zip of the parts, malloc'd; NULL on failure */
static inline unsigned char *
xb_zip(const XbPart *parts, int n, size_t *len)
{
	zip_error_t ze;
	zip_source_t *src;
	zip_t	   *z;
	unsigned char *out = NULL;
	zip_int64_t size;

	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	if (src == NULL)
		return NULL;
	zip_source_keep(src);
	z = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	if (z == NULL)
	{
		zip_source_free(src);
		return NULL;
	}
	for (int i = 0; i < n; i++)
	{
		size_t		l = parts[i].len ? parts[i].len : strlen(parts[i].data);
		zip_source_t *s = zip_source_buffer(z, parts[i].data, l, 0);

		if (s == NULL || zip_file_add(z, parts[i].name, s, ZIP_FL_OVERWRITE) < 0)
		{
			zip_source_free(s);
			zip_discard(z);
			zip_source_free(src);
			return NULL;
		}
	}
	if (zip_close(z) < 0)
	{
		zip_discard(z);
		zip_source_free(src);
		return NULL;
	}
	if (zip_source_open(src) == 0)
	{
		zip_source_seek(src, 0, SEEK_END);
		size = zip_source_tell(src);
		zip_source_seek(src, 0, SEEK_SET);
		out = malloc(size > 0 ? (size_t) size : 1);
		if (out && zip_source_read(src, out, (zip_uint64_t) size) == size)
			*len = (size_t) size;
		else
		{
			free(out);
			out = NULL;
		}
		zip_source_close(src);
	}
	zip_source_free(src);
	zip_error_fini(&ze);
	return out;
}

/* a workbook: sheet XML, shared strings (or NULL), styles (or NULL: the default), workbook (or NULL) */
static inline unsigned char *
xb_xlsx(const char *sheet, const char *sst, const char *styles, const char *workbook, size_t *len)
{
	XbPart		p[5];
	int			n = 0;

	p[n++] = (XbPart) {"xl/workbook.xml", workbook ? workbook : XB_WORKBOOK, 0};
	p[n++] = (XbPart) {"xl/_rels/workbook.xml.rels", XB_RELS, 0};
	p[n++] = (XbPart) {"xl/worksheets/sheet1.xml", sheet, 0};
	p[n++] = (XbPart) {"xl/styles.xml", styles ? styles : XB_STYLES, 0};
	if (sst)
		p[n++] = (XbPart) {"xl/sharedStrings.xml", sst, 0};
	return xb_zip(p, n, len);
}

#endif
