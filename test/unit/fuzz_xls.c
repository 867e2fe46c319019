/*
 * fuzz_xls.c
 *		libFuzzer target for the .xls reader (src/xls_reader.c).
 *
 * An input starting with the OLE2 signature is a whole file; any other
 * input is a workbook stream, wrapped here in a compound file (so that the
 * fuzzer explores BIFF records as well as the container).  Passes:
 *
 *  1. open, then every worksheet row by row, checking every row and cell
 *     (row numbers increasing, columns increasing and below 256, texts
 *     NUL-terminated valid UTF-8, dates as YYYY-MM-DD), under a memory
 *     limit the reader must keep (the counting allocator aborts above it);
 *  2. the first worksheet again after xls_rewind: the same rows;
 *  3. pass 1 with one allocation failing: XLS_ENOMEM, nothing leaked;
 *  4. pass 1 with the interrupt callback stopping it: XLS_EINTR.
 *
 * Built with clang -fsanitize=fuzzer; fuzz_main.c replays files through
 * the same entry point without libFuzzer (make check runs corpus_xls/).
 */
#include "xls_reader.h"
#include "xls_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_LIMIT	((size_t) 4 * 1024 * 1024)

#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

typedef union Hdr
{
	size_t		size;
	max_align_t align;
} Hdr;

typedef struct FA
{
	size_t		outstanding;
	long		calls;
	long		fail_at;
	long		failures;
	long		ticks;
	long		stop_at;
} FA;

static void *
fa_alloc(void *ctx, size_t size)
{
	FA		   *a = ctx;
	Hdr		   *h;

	if (++a->calls == a->fail_at)
	{
		a->failures++;
		return NULL;
	}
	h = malloc(sizeof(Hdr) + size);
	FUZZ_ASSERT(h != NULL);
	h->size = size;
	a->outstanding += size;
	/* the reader counts every byte it asks for against its limit */
	FUZZ_ASSERT(a->outstanding <= FUZZ_LIMIT);
	return h + 1;
}

static void
fa_free(void *ctx, void *ptr)
{
	FA		   *a = ctx;
	Hdr		   *h = (Hdr *) ptr - 1;

	FUZZ_ASSERT(a->outstanding >= h->size);
	a->outstanding -= h->size;
	free(h);
}

static bool
fa_interrupt(void *ctx)
{
	FA		   *a = ctx;

	return a->stop_at > 0 && ++a->ticks >= a->stop_at;
}

/* valid UTF-8 (NUL allowed), shortest forms, no surrogates */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		unsigned	c = s[i];
		size_t		k;
		uint32_t	cp;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			k = 1, cp = c & 0x1F;
		else if ((c & 0xF0) == 0xE0)
			k = 2, cp = c & 0x0F;
		else if ((c & 0xF8) == 0xF0)
			k = 3, cp = c & 0x07;
		else
			return false;
		for (size_t j = 1; j <= k; j++)
		{
			if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
			cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

static void
check_cell(const XlsCell *c)
{
	FUZZ_ASSERT(c->kind >= XLS_CELL_TEXT && c->kind <= XLS_CELL_UNKNOWN);
	FUZZ_ASSERT(c->text != NULL && c->text[c->len] == '\0');
	FUZZ_ASSERT(valid_utf8((const unsigned char *) c->text, c->len));
	if (c->kind == XLS_CELL_DATE)
	{
		FUZZ_ASSERT(c->len == 10 && c->text[4] == '-' && c->text[7] == '-');
		FUZZ_ASSERT(strncmp(c->text, "1899", 4) >= 0 && strncmp(c->text, "9999", 4) <= 0);
	}
	if (c->kind == XLS_CELL_NUMBER)
	{
		char	   *end;

		FUZZ_ASSERT(c->len > 0 && c->len < 32);
		if (strcmp(c->text, "NaN") != 0 && strcmp(c->text, "Infinity") != 0 && strcmp(c->text, "-Infinity") != 0)
		{
			(void) strtod(c->text, &end);
			FUZZ_ASSERT(*end == '\0');
		}
	}
	if (c->kind == XLS_CELL_BOOL)
		FUZZ_ASSERT(strcmp(c->text, "TRUE") == 0 || strcmp(c->text, "FALSE") == 0);
	if (c->kind == XLS_CELL_ERROR)
		FUZZ_ASSERT(c->text[0] == '#');
	if (c->kind == XLS_CELL_UNKNOWN)
		FUZZ_ASSERT(c->len > 0);
}

static uint64_t
hash_row(uint64_t h, const XlsRow *row)
{
	h = (h ^ (uint64_t) row->row_no) * 1099511628211u;
	for (int i = 0; i < row->ncells; i++)
	{
		h = (h ^ (uint64_t) (row->cells[i].col * 8 + row->cells[i].kind)) * 1099511628211u;
		for (size_t k = 0; k < row->cells[i].len; k++)
			h = (h ^ (unsigned char) row->cells[i].text[k]) * 1099511628211u;
	}
	return h;
}

/* one worksheet: check every row, return a hash of them */
static int
read_sheet(XlsReader *r, uint64_t *hash, long *nrows)
{
	XlsRow		row;
	long		prev = 0;
	int			rc;

	*hash = 1469598103934665603u;
	*nrows = 0;
	while ((rc = xls_next_row(r, &row)) == XLS_OK)
	{
		FUZZ_ASSERT(row.row_no > prev && row.row_no <= XLS_MAX_ROWS);
		FUZZ_ASSERT(row.ncells >= 1 && row.ncells <= XLS_MAX_COLS);
		prev = row.row_no;
		for (int i = 0; i < row.ncells; i++)
		{
			FUZZ_ASSERT(row.cells[i].col >= 0 && row.cells[i].col < XLS_MAX_COLS);
			if (i > 0)
				FUZZ_ASSERT(row.cells[i].col > row.cells[i - 1].col);
			check_cell(&row.cells[i]);
		}
		*hash = hash_row(*hash, &row);
		(*nrows)++;
	}
	return rc;
}

static bool
known_error(int rc)
{
	return rc == XLS_ECORRUPT || rc == XLS_EUNSUPPORTED || rc == XLS_ELIMIT ||
		rc == XLS_ENOMEM || rc == XLS_EINTR;
}

/* returns the first error, or XLS_OK */
static int
pass(const uint8_t *data, size_t size, long fail_at, long stop_at, bool rewind_check)
{
	FA			fa = {0, 0, fail_at, 0, 0, stop_at};
	xls_allocator alloc = {fa_alloc, fa_free, &fa};
	XlsReader  *r = xls_reader_create(&alloc, FUZZ_LIMIT, fa_interrupt, &fa);
	int			rc;

	if (r == NULL)
	{
		FUZZ_ASSERT(fa.failures == 1 && fa.outstanding == 0);
		return XLS_ENOMEM;
	}
	rc = xls_open(r, data, size);
	FUZZ_ASSERT(rc == XLS_OK || known_error(rc));
	FUZZ_ASSERT(strlen(xls_error(r)) < 256);
	if (rc == XLS_OK)
	{
		int			n = xls_sheet_count(r);

		FUZZ_ASSERT(n >= 0);
		for (int i = 0; i < n && rc == XLS_OK; i++)
		{
			const XlsSheetInfo *si = xls_sheet_info(r, i);
			uint64_t	h1,
						h2;
			long		n1,
						n2;

			FUZZ_ASSERT(si != NULL && si->name != NULL);
			FUZZ_ASSERT(si->visibility >= 0 && si->visibility <= 3);
			FUZZ_ASSERT(valid_utf8((const unsigned char *) si->name, strlen(si->name)));
			if (!si->worksheet)
				continue;
			rc = xls_select_sheet(r, i);
			if (rc == XLS_ECORRUPT)
			{
				rc = XLS_OK;	/* a bad sheet; the reader is spent */
				break;
			}
			if (rc != XLS_OK)
				break;
			rc = read_sheet(r, &h1, &n1);
			if (rc == XLS_EOF)
				rc = XLS_OK;
			if (rc == XLS_OK && rewind_check)
			{
				xls_rewind(r);
				rc = read_sheet(r, &h2, &n2);
				FUZZ_ASSERT(rc == XLS_EOF);
				FUZZ_ASSERT(n2 == n1 && h2 == h1);
				rc = XLS_OK;
			}
		}
		FUZZ_ASSERT(rc == XLS_OK || known_error(rc));
	}
	FUZZ_ASSERT(xls_memory_peak(r) <= FUZZ_LIMIT);
	xls_reader_destroy(r);
	FUZZ_ASSERT(fa.outstanding == 0);
	if (fa.failures > 0)
		FUZZ_ASSERT(rc == XLS_ENOMEM);
	if (rc == XLS_ENOMEM)
		FUZZ_ASSERT(fa.failures > 0);
	if (rc == XLS_EINTR)
		FUZZ_ASSERT(stop_at > 0);
	return rc;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t    *file = NULL;
	size_t		flen = size;
	const uint8_t *d = data;
	int			rc;

	if (size < 8 || memcmp(data, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) != 0)
	{
		file = xb_cfb(data, size, &flen);
		d = file;
	}
	rc = pass(d, flen, 0, 0, true);
	FUZZ_ASSERT(rc != XLS_ENOMEM && rc != XLS_EINTR);
	if (size > 0)
	{
		pass(d, flen, 1 + data[size - 1] % 16, 0, false);
		pass(d, flen, 0, 1 + data[size / 2] % 8, false);
	}
	free(file);
	return 0;
}
