/*
 * xls_reader.c
 *		Legacy Excel (.xls) reader: BIFF8 in an OLE2 compound file.
 *		See xls_reader.h.  Backend-free; built for untrusted input.
 *
 * References: [MS-CFB] (compound file) and [MS-XLS] (BIFF8 records).
 *
 * Layout of the work:
 *  1. xls_open: the compound file header, its FAT (through the DIFAT), the
 *     directory, and the "Workbook" stream (or "Book", refused later as
 *     Excel 95) copied into one buffer, through the FAT or the mini FAT;
 *     then the workbook globals: BOF, FILEPASS, DATEMODE, FORMAT, XF,
 *     BOUNDSHEET, SST (with its CONTINUE records), EOF.
 *  2. xls_select_sheet: the worksheet's records from its BOF to its EOF
 *     (embedded chart substreams skipped): cells into one array, merged
 *     ranges, hidden rows; the cells sorted by (row, column) with a stable
 *     two-pass radix sort (linear, whatever order the file lists them in).
 *  3. xls_next_row: one row at a time, merged ranges filled in.
 *
 * Every sector chain is followed with a visited bitmap (a cycle is an
 * error), every count read from the file is checked against the bytes
 * that are really there before anything is allocated for it, and every
 * allocation is charged against max_bytes.
 */
#include "xls_reader.h"
#include "sheet_values.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENDOFCHAIN	0xFFFFFFFEu
#define NOSTREAM	0xFFFFFFFFu
#define TICK_EVERY	256
#define MERGE_WORK_LIMIT 10000000u

/* BIFF8 record types */
#define R_FORMULA	0x0006
#define R_EOF		0x000A
#define R_DATEMODE	0x0022
#define R_FILEPASS	0x002F
#define R_CONTINUE	0x003C
#define R_BOUNDSHEET 0x0085
#define R_MULRK		0x00BD
#define R_MULBLANK	0x00BE
#define R_RSTRING	0x00D6
#define R_XF		0x00E0
#define XLS_MAX_PADS 64			/* zero-padded formats kept (a workbook has a few) */
#define R_MERGEDCELLS 0x00E5
#define R_SST		0x00FC
#define R_LABELSST	0x00FD
#define R_BLANK		0x0201
#define R_NUMBER	0x0203
#define R_LABEL		0x0204
#define R_BOOLERR	0x0205
#define R_STRING	0x0207
#define R_ROW		0x0208
#define R_ARRAY		0x0221
#define R_TABLE		0x0236
#define R_RK		0x027E
#define R_FORMAT	0x041E
#define R_SHRFMLA	0x04BC
#define R_BOF		0x0809

#define CELL_BLANK	0			/* a formatted empty cell: the row exists */

/* where a cell's text is */
#define IN_POOL		0
#define IN_SST		1

typedef struct Cell
{
	uint16_t	row;
	uint8_t		col;
	uint8_t		kind;
	uint8_t		where;
	uint32_t	off;
	uint32_t	len;
} Cell;

typedef struct Merge
{
	uint16_t	r1,
				r2;
	uint8_t		c1,
				c2;
	int32_t		top;			/* index of the top-left cell, or -1 */
} Merge;

typedef struct Sheet
{
	uint32_t	name_off;		/* in the pool of sheet names */
	uint32_t	offset;			/* of its BOF in the workbook stream */
	uint8_t		visibility;
	bool		worksheet;
} Sheet;

/* a growable byte buffer charged to the reader */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

struct XlsReader
{
	xls_allocator alloc;
	size_t		limit;
	size_t		used;
	size_t		peak;
	xls_interrupt_fn interrupt;
	void	   *ictx;
	unsigned	ticks;
	char		err[256];
	int			state;			/* 0 new, 1 open, 2 sheet selected, -1 failed */

	/* compound file */
	const uint8_t *file;
	size_t		flen;
	uint32_t	ssz;			/* sector size */
	uint32_t	nsec;			/* sectors in the file */
	bool		v3;
	uint32_t   *fat;
	size_t		nfat;

	/* workbook stream and globals */
	uint8_t    *wb;
	size_t		wblen;
	bool		date1904;
	Buf			sst;			/* UTF-8 texts, each NUL-terminated */
	uint32_t   *sst_off;
	uint32_t   *sst_len;
	size_t		nsst,
				sst_cap;
	uint16_t   *xf_fmt;
	size_t		nxf,
				xf_cap;
	uint8_t		fmt_defined[8192];	/* bit per format id: a FORMAT record says */
	uint8_t		fmt_date[8192];	/* ... and whether it is a date format */
	/* zero-padded formats (000): their ids and widths, the first XLS_MAX_PADS */
	uint16_t	pad_id[XLS_MAX_PADS];
	uint8_t		pad_width[XLS_MAX_PADS];
	int			npad;
	Sheet	   *sheets;
	size_t		nsheets,
				sheets_cap;
	Buf			names;
	XlsSheetInfo info;

	/* the selected worksheet */
	int			cur_sheet;
	Cell	   *cells;
	size_t		ncells,
				cells_cap;
	Buf			pool;			/* texts of the sheet's cells */
	Merge	   *merges;
	size_t		nmerges,
				merges_cap;
	uint8_t		hidden[XLS_MAX_ROWS / 8];
	uint8_t		exists[XLS_MAX_ROWS / 8];
	long		last_row;		/* 0-based, -1: none */

	/* iteration */
	long		it_row;
	size_t		it_cell;
	size_t		it_merge;
	uint32_t   *active;
	size_t		nactive;
	uint64_t	merge_work;
	XlsCell		out[XLS_MAX_COLS];
	int32_t		slot[XLS_MAX_COLS];	/* per column: index into cells, -1 */
	int			slot_kind[XLS_MAX_COLS];
};

/* ---------------- errors, memory, interrupts ---------------- */

#if defined(__GNUC__) || defined(__clang__)
static int	fail(XlsReader *r, int code, const char *fmt,...) __attribute__((format(printf, 3, 4)));
static void set_format_pad(XlsReader *r, uint16_t id, int width);
#endif

static int
fail(XlsReader *r, int code, const char *fmt,...)
{
	va_list		ap;

	/* keep the first reason */
	if (r->state != -1)
	{
		va_start(ap, fmt);
		vsnprintf(r->err, sizeof(r->err), fmt, ap);
		va_end(ap);
		r->state = -1;
	}
	return code;
}

typedef union AllocHeader
{
	size_t		size;
	max_align_t align;
} AllocHeader;

static void *
r_alloc(XlsReader *r, size_t size, int *rc)
{
	AllocHeader *h;

	/* what is counted is what is asked of the allocator, header included */
	if (size > SIZE_MAX - sizeof(AllocHeader) || size + sizeof(AllocHeader) > r->limit ||
		r->used > r->limit - size - sizeof(AllocHeader))
	{
		*rc = fail(r, XLS_ELIMIT, "reading it needs more than %zu bytes of memory", r->limit);
		return NULL;
	}
	h = r->alloc.alloc(r->alloc.ctx, sizeof(AllocHeader) + size);
	if (h == NULL)
	{
		*rc = fail(r, XLS_ENOMEM, "out of memory");
		return NULL;
	}
	h->size = size + sizeof(AllocHeader);
	r->used += h->size;
	if (r->used > r->peak)
		r->peak = r->used;
	return h + 1;
}

static void
r_free(XlsReader *r, void *ptr)
{
	AllocHeader *h;

	if (ptr == NULL)
		return;
	h = (AllocHeader *) ptr - 1;
	r->used -= h->size;
	r->alloc.free(r->alloc.ctx, h);
}

/* what may still be allocated in one piece, its header counted */
static size_t
room(const XlsReader *r)
{
	size_t		left = r->used < r->limit ? r->limit - r->used : 0;

	return left > sizeof(AllocHeader) ? left - sizeof(AllocHeader) : 0;
}

/* make room for n more elements of size el in *arr (capacity *cap, count len) */
static int
grow(XlsReader *r, void **arr, size_t *cap, size_t len, size_t n, size_t el)
{
	size_t		want,
				newcap;
	void	   *p;
	int			rc = XLS_OK;

	if (n <= *cap - len)
		return XLS_OK;
	if (n > SIZE_MAX / el - len)
		return fail(r, XLS_ELIMIT, "reading it needs more than %zu bytes of memory", r->limit);
	want = len + n;
	newcap = *cap ? *cap : 16;
	while (newcap < want)
		newcap = newcap > SIZE_MAX / 2 ? want : newcap * 2;
	/*
	 * Near the limit, grow by an eighth, or take what is left when even
	 * that does not fit (r_alloc refuses less than what is needed).  Never
	 * just what is needed: growing one element at a time copies the whole
	 * array each time -- quadratic.
	 */
	if (newcap > SIZE_MAX / el || newcap * el > room(r))
	{
		size_t		modest = *cap + *cap / 8;

		newcap = room(r) / el;
		if (modest > want && modest < newcap)
			newcap = modest;
		if (newcap < want)
			newcap = want;
	}
	p = r_alloc(r, newcap * el, &rc);
	if (p == NULL)
		return rc;
	if (*arr)
	{
		memcpy(p, *arr, len * el);
		r_free(r, *arr);
	}
	*arr = p;
	*cap = newcap;
	return XLS_OK;
}

static int
buf_reserve(XlsReader *r, Buf *b, size_t n)
{
	int			rc = grow(r, (void **) &b->data, &b->cap, b->len, n, 1);

	if (rc == XLS_OK && b->cap > UINT32_MAX)
		return fail(r, XLS_ELIMIT, "its texts take more than 4 GB");
	return rc;
}

static int
tick(XlsReader *r)
{
	if (++r->ticks % TICK_EVERY == 0 && r->interrupt && r->interrupt(r->ictx))
		return fail(r, XLS_EINTR, "interrupted");
	return XLS_OK;
}

static inline uint16_t
u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint32_t
u32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static inline double
f64(const uint8_t *p)
{
	uint64_t	v = (uint64_t) u32(p) | ((uint64_t) u32(p + 4) << 32);
	double		d;

	memcpy(&d, &v, sizeof(d));
	return d;
}

void
xls_column_name(int col, char *out)
{
	char		tmp[8];
	int			n = 0;

	if (col < 0)
		col = 0;
	col++;
	while (col > 0 && n < 7)
	{
		tmp[n++] = (char) ('A' + (col - 1) % 26);
		col = (col - 1) / 26;
	}
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

/* ---------------- create, destroy ---------------- */

static void *
std_alloc(void *ctx, size_t size)
{
	(void) ctx;
	return malloc(size);
}

static void
std_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

XlsReader *
xls_reader_create(const xls_allocator *alloc, size_t max_bytes,
				  xls_interrupt_fn interrupt, void *interrupt_ctx)
{
	xls_allocator a;
	AllocHeader *h;
	XlsReader  *r;

	if (alloc)
		a = *alloc;
	else
	{
		a.alloc = std_alloc;
		a.free = std_free;
		a.ctx = NULL;
	}
	if (max_bytes == 0)
		max_bytes = (size_t) 1 << 30;
	if (max_bytes < sizeof(AllocHeader) + sizeof(XlsReader))
		return NULL;
	h = a.alloc(a.ctx, sizeof(AllocHeader) + sizeof(XlsReader));
	if (h == NULL)
		return NULL;
	h->size = sizeof(AllocHeader) + sizeof(XlsReader);
	r = (XlsReader *) (h + 1);
	memset(r, 0, sizeof(*r));
	r->alloc = a;
	r->limit = max_bytes;
	r->used = r->peak = h->size;
	r->interrupt = interrupt;
	r->ictx = interrupt_ctx;
	r->cur_sheet = -1;
	r->last_row = -1;
	strcpy(r->err, "no error");
	return r;
}

static void
free_sheet(XlsReader *r)
{
	r_free(r, r->cells);
	r_free(r, r->pool.data);
	r_free(r, r->merges);
	r_free(r, r->active);
	r->cells = NULL;
	r->ncells = r->cells_cap = 0;
	memset(&r->pool, 0, sizeof(r->pool));
	r->merges = NULL;
	r->nmerges = r->merges_cap = 0;
	r->active = NULL;
	r->nactive = 0;
	r->cur_sheet = -1;
	r->last_row = -1;
}

void
xls_reader_destroy(XlsReader *r)
{
	if (r == NULL)
		return;
	free_sheet(r);
	r_free(r, r->fat);
	r_free(r, r->wb);
	r_free(r, r->sst.data);
	r_free(r, r->sst_off);
	r_free(r, r->sst_len);
	r_free(r, r->xf_fmt);
	r_free(r, r->sheets);
	r_free(r, r->names.data);
	r->alloc.free(r->alloc.ctx, (AllocHeader *) r - 1);
}

const char *
xls_error(const XlsReader *r)
{
	return r ? r->err : "out of memory";
}

size_t
xls_memory_used(const XlsReader *r)
{
	return r->used;
}

size_t
xls_memory_peak(const XlsReader *r)
{
	return r->peak;
}

bool
xls_date1904(const XlsReader *r)
{
	return r->date1904;
}

/* ---------------- the compound file ---------------- */

static const uint8_t *
sector(XlsReader *r, uint32_t s, size_t *avail)
{
	size_t		off = ((size_t) s + 1) * r->ssz;

	if (s >= r->nsec || off >= r->flen)
		return NULL;
	*avail = r->flen - off < r->ssz ? r->flen - off : r->ssz;
	return r->file + off;
}

/*
 * Follow a chain of sectors (mini: of 64-byte mini sectors in ministream)
 * from start, copying up to size bytes (whole: until the end of the chain).
 */
static int
read_chain(XlsReader *r, uint32_t start, size_t size, bool whole, const char *what,
		   bool mini, const uint8_t *ministream, size_t ministream_len,
		   const uint32_t *minifat, size_t nminifat,
		   uint8_t **out, size_t *outlen)
{
	size_t		unit = mini ? 64 : r->ssz;
	size_t		nunits = mini ? ministream_len / 64 : r->nsec;
	size_t		max_bytes = nunits * unit;
	uint8_t    *seen;
	uint8_t    *buf;
	size_t		got = 0;
	uint32_t	cur = start;
	int			rc = XLS_OK;

	if (whole)
		size = max_bytes;
	else if (size > max_bytes)
		return fail(r, XLS_ECORRUPT, "its %s stream says it has %zu bytes, more than the file holds", what, size);
	seen = r_alloc(r, nunits / 8 + 1, &rc);
	if (seen == NULL)
		return rc;
	memset(seen, 0, nunits / 8 + 1);
	buf = r_alloc(r, size + 1, &rc);
	if (buf == NULL)
	{
		r_free(r, seen);
		return rc;
	}
	while (got < size && cur != ENDOFCHAIN)
	{
		const uint8_t *src;
		size_t		avail;
		size_t		n;

		if ((rc = tick(r)) != XLS_OK)
			break;
		if (cur >= nunits)
		{
			rc = fail(r, XLS_ECORRUPT, "its %s stream refers to sector %u, which does not exist", what, cur);
			break;
		}
		if (seen[cur / 8] & (1 << (cur % 8)))
		{
			rc = fail(r, XLS_ECORRUPT, "the sectors of its %s stream form a loop", what);
			break;
		}
		seen[cur / 8] |= (uint8_t) (1 << (cur % 8));
		if (mini)
		{
			src = ministream + (size_t) cur * 64;
			avail = 64;
		}
		else if ((src = sector(r, cur, &avail)) == NULL)
		{
			rc = fail(r, XLS_ECORRUPT, "it is truncated: sector %u of its %s stream is missing", cur, what);
			break;
		}
		n = size - got < avail ? size - got : avail;
		memcpy(buf + got, src, n);
		got += n;
		if (mini)
			cur = cur < nminifat ? minifat[cur] : NOSTREAM;
		else
			cur = cur < r->nfat ? r->fat[cur] : NOSTREAM;
		if (cur == NOSTREAM)
		{
			rc = fail(r, XLS_ECORRUPT, "the sector chain of its %s stream is broken", what);
			break;
		}
	}
	r_free(r, seen);
	if (rc == XLS_OK && !whole && got < size)
		rc = fail(r, XLS_ECORRUPT, "its %s stream is shorter than its directory entry says", what);
	if (rc != XLS_OK)
	{
		r_free(r, buf);
		return rc;
	}
	*out = buf;
	*outlen = got;
	return XLS_OK;
}

static int
read_fat(XlsReader *r)
{
	const uint8_t *h = r->file;
	uint32_t	nfatsec = u32(h + 0x2C);
	uint32_t	difat = u32(h + 0x44);
	uint32_t	ndifat = u32(h + 0x48);
	uint32_t	per = r->ssz / 4;
	uint32_t	done = 0;
	int			rc = XLS_OK;
	uint8_t    *seen;

	if (nfatsec == 0 || nfatsec > r->nsec)
		return fail(r, XLS_ECORRUPT, "its header says it has %u FAT sectors", nfatsec);
	r->nfat = (size_t) nfatsec * per;
	r->fat = r_alloc(r, r->nfat * sizeof(uint32_t), &rc);
	if (r->fat == NULL)
		return rc;
	seen = r_alloc(r, r->nsec / 8 + 1, &rc);
	if (seen == NULL)
		return rc;
	memset(seen, 0, r->nsec / 8 + 1);

	/* the first 109 FAT sectors are listed in the header, the rest in DIFAT sectors */
	for (uint32_t i = 0; i < 109 && done < nfatsec && rc == XLS_OK; i++)
	{
		uint32_t	s = u32(h + 0x4C + 4 * i);
		const uint8_t *p;
		size_t		avail;

		if ((p = sector(r, s, &avail)) == NULL)
			rc = fail(r, XLS_ECORRUPT, "FAT sector %u is missing", s);
		else
		{
			for (uint32_t k = 0; k < per; k++)
				r->fat[(size_t) done * per + k] = 4 * k + 4 <= avail ? u32(p + 4 * k) : NOSTREAM;
			done++;
		}
	}
	for (uint32_t d = 0; d < ndifat && done < nfatsec && rc == XLS_OK; d++)
	{
		const uint8_t *dp;
		size_t		davail;

		if ((rc = tick(r)) != XLS_OK)
			break;
		if (difat >= r->nsec || (seen[difat / 8] & (1 << (difat % 8))) ||
			(dp = sector(r, difat, &davail)) == NULL || davail < r->ssz)
		{
			rc = fail(r, XLS_ECORRUPT, "its DIFAT chain is broken");
			break;
		}
		seen[difat / 8] |= (uint8_t) (1 << (difat % 8));
		for (uint32_t i = 0; i < per - 1 && done < nfatsec && rc == XLS_OK; i++)
		{
			uint32_t	s = u32(dp + 4 * i);
			const uint8_t *p;
			size_t		avail;

			if ((p = sector(r, s, &avail)) == NULL)
				rc = fail(r, XLS_ECORRUPT, "FAT sector %u is missing", s);
			else
			{
				for (uint32_t k = 0; k < per; k++)
					r->fat[(size_t) done * per + k] = 4 * k + 4 <= avail ? u32(p + 4 * k) : NOSTREAM;
				done++;
			}
		}
		difat = u32(dp + r->ssz - 4);
	}
	r_free(r, seen);
	if (rc == XLS_OK && done < nfatsec)
		rc = fail(r, XLS_ECORRUPT, "it lists %u of its %u FAT sectors", done, nfatsec);
	return rc;
}

/* is directory entry e named name (ASCII, case-insensitive)? */
static bool
dir_name_is(const uint8_t *e, const char *name)
{
	size_t		n = strlen(name);
	uint16_t	namelen = u16(e + 0x40);

	if (namelen != (n + 1) * 2)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		uint16_t	c = u16(e + 2 * i);

		if (c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (c != (uint16_t) (name[i] >= 'a' && name[i] <= 'z' ? name[i] - ('a' - 'A') : name[i]))
			return false;
	}
	return true;
}

/* find the workbook stream among the root storage's children; copy it to r->wb */
static int
read_workbook_stream(XlsReader *r)
{
	uint8_t    *dir = NULL;
	size_t		dirlen,
				ndir;
	uint32_t   *stack = NULL;
	uint8_t    *seen = NULL;
	size_t		sp = 0;
	const uint8_t *found = NULL;
	bool		found_book = false;
	int			rc;

	rc = read_chain(r, u32(r->file + 0x30), 0, true, "directory", false, NULL, 0, NULL, 0, &dir, &dirlen);
	if (rc != XLS_OK)
		return rc;
	ndir = dirlen / 128;
	if (ndir == 0 || dir[0x42] != 5)
	{
		r_free(r, dir);
		return fail(r, XLS_ECORRUPT, "its directory has no root entry");
	}
	stack = r_alloc(r, (ndir + 1) * sizeof(uint32_t) * 2, &rc);
	seen = stack ? r_alloc(r, ndir / 8 + 1, &rc) : NULL;
	if (seen == NULL)
	{
		r_free(r, stack);
		r_free(r, dir);
		return rc;
	}
	memset(seen, 0, ndir / 8 + 1);
	/* the root's children form a tree through left and right siblings */
	stack[sp++] = u32(dir + 0x4C);
	while (sp > 0)
	{
		uint32_t	id = stack[--sp];
		const uint8_t *e;

		if ((rc = tick(r)) != XLS_OK)
			break;
		if (id >= ndir || id == 0 || (seen[id / 8] & (1 << (id % 8))))
			continue;
		seen[id / 8] |= (uint8_t) (1 << (id % 8));
		e = dir + (size_t) id * 128;
		if (e[0x42] == 2)
		{
			if (dir_name_is(e, "Workbook"))
			{
				found = e;
				found_book = false;
			}
			else if (found == NULL && dir_name_is(e, "Book"))
			{
				found = e;
				found_book = true;
			}
		}
		/* each id is pushed at most twice before it is seen: bounded */
		if (sp + 2 <= (ndir + 1) * 2)
		{
			stack[sp++] = u32(e + 0x44);
			stack[sp++] = u32(e + 0x48);
		}
	}
	r_free(r, seen);
	r_free(r, stack);
	if (rc == XLS_OK && found == NULL)
		rc = fail(r, XLS_ECORRUPT, "it has no Workbook stream (is it a Word or PowerPoint file?)");
	if (rc == XLS_OK)
	{
		uint32_t	start = u32(found + 0x74);
		uint64_t	size = u32(found + 0x78);

		if (!r->v3)
			size |= (uint64_t) u32(found + 0x7C) << 32;
		(void) found_book;
		if (size > r->flen)
			rc = fail(r, XLS_ECORRUPT, "its Workbook stream says it has %llu bytes, more than the file holds",
					  (unsigned long long) size);
		else if (size >= 4096)
			rc = read_chain(r, start, (size_t) size, false, "Workbook", false, NULL, 0, NULL, 0, &r->wb, &r->wblen);
		else
		{
			/* a small stream lives in the mini stream (the root entry's stream) */
			uint8_t    *ministream = NULL,
					   *minifat_b = NULL;
			size_t		mslen = 0,
						mflen = 0;
			uint32_t	root_start = u32(dir + 0x74);
			uint32_t	root_size = u32(dir + 0x78);
			uint32_t	nminifat = u32(r->file + 0x40);

			if (root_size > r->flen || nminifat > r->nsec)
				rc = fail(r, XLS_ECORRUPT, "its mini stream is larger than the file");
			if (rc == XLS_OK)
				rc = read_chain(r, root_start, root_size, false, "mini", false, NULL, 0, NULL, 0, &ministream, &mslen);
			if (rc == XLS_OK)
				rc = read_chain(r, u32(r->file + 0x3C), (size_t) nminifat * r->ssz, false, "mini FAT",
								false, NULL, 0, NULL, 0, &minifat_b, &mflen);
			if (rc == XLS_OK)
			{
				size_t		n = mflen / 4;
				uint32_t   *mf = r_alloc(r, (n + 1) * sizeof(uint32_t), &rc);

				if (mf)
				{
					for (size_t i = 0; i < n; i++)
						mf[i] = u32(minifat_b + 4 * i);
					rc = read_chain(r, start, (size_t) size, false, "Workbook", true, ministream, mslen,
									mf, n, &r->wb, &r->wblen);
					r_free(r, mf);
				}
			}
			r_free(r, ministream);
			r_free(r, minifat_b);
		}
	}
	r_free(r, dir);
	return rc;
}

/* ---------------- records ---------------- */

/* the record at *pos: type, body, length; advances *pos past it */
static int
next_record(XlsReader *r, const uint8_t *s, size_t slen, size_t *pos,
			uint16_t *type, const uint8_t **body, uint16_t *len)
{
	if (*pos + 4 > slen)
		return XLS_EOF;
	*type = u16(s + *pos);
	*len = u16(s + *pos + 2);
	if (*len > slen - *pos - 4)
		return fail(r, XLS_ECORRUPT, "record 0x%04X at offset %zu runs past the end of the workbook stream",
					*type, *pos);
	*body = s + *pos + 4;
	*pos += 4 + (size_t) *len;
	return XLS_OK;
}

/* a cursor over a record and the CONTINUE records after it */
typedef struct Cur
{
	XlsReader  *r;
	const uint8_t *s;
	size_t		slen;
	size_t		pos;
	size_t		end;			/* end of the current segment */
} Cur;

static void
cur_init(Cur *c, XlsReader *r, const uint8_t *s, size_t slen, const uint8_t *body, uint16_t len)
{
	c->r = r;
	c->s = s;
	c->slen = slen;
	c->pos = (size_t) (body - s);
	c->end = c->pos + len;
}

/* at the end of a segment: step into the next CONTINUE record, if there is one */
static bool
cur_continue(Cur *c)
{
	uint16_t	len;

	if (c->end + 4 > c->slen || u16(c->s + c->end) != R_CONTINUE)
		return false;
	len = u16(c->s + c->end + 2);
	if (len > c->slen - c->end - 4)
		return false;
	c->pos = c->end + 4;
	c->end = c->pos + len;
	return true;
}

/* are there more bytes (in this record or a CONTINUE)? */
static bool
cur_more(Cur *c)
{
	while (c->pos >= c->end)
	{
		if (!cur_continue(c))
			return false;
		if (tick(c->r) != XLS_OK)
			return false;
	}
	return true;
}

static int
cur_bytes(Cur *c, uint8_t *out, size_t n, const char *what)
{
	while (n > 0)
	{
		size_t		k;

		if (!cur_more(c))
			return c->r->state == -1 ? XLS_EINTR :
				fail(c->r, XLS_ECORRUPT, "%s is truncated", what);
		k = c->end - c->pos < n ? c->end - c->pos : n;
		if (out)
		{
			memcpy(out, c->s + c->pos, k);
			out += k;
		}
		c->pos += k;
		n -= k;
	}
	return XLS_OK;
}

static void
put_utf8(char *o, size_t *n, uint32_t cp)
{
	if (cp < 0x80)
		o[(*n)++] = (char) cp;
	else if (cp < 0x800)
	{
		o[(*n)++] = (char) (0xC0 | (cp >> 6));
		o[(*n)++] = (char) (0x80 | (cp & 0x3F));
	}
	else if (cp < 0x10000)
	{
		o[(*n)++] = (char) (0xE0 | (cp >> 12));
		o[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
		o[(*n)++] = (char) (0x80 | (cp & 0x3F));
	}
	else
	{
		o[(*n)++] = (char) (0xF0 | (cp >> 18));
		o[(*n)++] = (char) (0x80 | ((cp >> 12) & 0x3F));
		o[(*n)++] = (char) (0x80 | ((cp >> 6) & 0x3F));
		o[(*n)++] = (char) (0x80 | (cp & 0x3F));
	}
}

/*
 * cch characters (8-bit "compressed" or UTF-16LE as high says) as UTF-8,
 * appended to b with a NUL after them; *len is their byte length.  When
 * the characters run into a CONTINUE record, it starts with a new flags
 * byte (continued): the width may change there.
 */
static int
cur_chars(Cur *c, size_t cch, bool high, bool continued, Buf *b, uint32_t *off, uint32_t *len)
{
	XlsReader  *r = c->r;
	size_t		n;
	uint32_t	pending = 0;	/* a high surrogate waiting for its low half */
	int			rc;

	if ((rc = buf_reserve(r, b, cch * 3 + 4)) != XLS_OK)
		return rc;
	*off = (uint32_t) b->len;
	n = b->len;
	while (cch > 0)
	{
		if (c->pos >= c->end)
		{
			if (!cur_more(c))
				return r->state == -1 ? XLS_EINTR : fail(r, XLS_ECORRUPT, "a string is truncated");
			if (continued)
			{
				high = (c->s[c->pos] & 1) != 0;
				c->pos++;
				continue;
			}
		}
		if (!high)
		{
			uint32_t	cp = c->s[c->pos++];

			if (pending)
			{
				put_utf8(b->data, &n, 0xFFFD);
				pending = 0;
			}
			put_utf8(b->data, &n, cp);
		}
		else
		{
			uint32_t	u;

			if (c->end - c->pos < 2)
				return fail(r, XLS_ECORRUPT, "a string is truncated");
			u = u16(c->s + c->pos);
			c->pos += 2;
			if (u >= 0xD800 && u <= 0xDBFF)
			{
				if (pending)
					put_utf8(b->data, &n, 0xFFFD);
				pending = u;
			}
			else if (u >= 0xDC00 && u <= 0xDFFF)
			{
				if (pending)
					put_utf8(b->data, &n, 0x10000 + ((pending - 0xD800) << 10) + (u - 0xDC00));
				else
					put_utf8(b->data, &n, 0xFFFD);
				pending = 0;
			}
			else
			{
				if (pending)
					put_utf8(b->data, &n, 0xFFFD);
				pending = 0;
				put_utf8(b->data, &n, u);
			}
		}
		cch--;
	}
	if (pending)
		put_utf8(b->data, &n, 0xFFFD);
	b->data[n] = '\0';
	*len = (uint32_t) (n - *off);
	b->len = n + 1;
	return XLS_OK;
}

/*
 * An XLUnicodeString (cch16: a 2-byte count, else 1) and, for rich
 * (SST-style) strings, its formatting runs and phonetic data, skipped.
 */
static int
cur_string(Cur *c, bool cch16, bool rich, Buf *b, uint32_t *off, uint32_t *len)
{
	uint8_t		tmp[4];
	size_t		cch;
	uint8_t		flags;
	uint16_t	runs = 0;
	uint32_t	ext = 0;
	int			rc;

	if ((rc = cur_bytes(c, tmp, cch16 ? 2 : 1, "a string")) != XLS_OK)
		return rc;
	cch = cch16 ? u16(tmp) : tmp[0];
	if ((rc = cur_bytes(c, &flags, 1, "a string")) != XLS_OK)
		return rc;
	if (rich && (flags & 0x08))
	{
		if ((rc = cur_bytes(c, tmp, 2, "a string")) != XLS_OK)
			return rc;
		runs = u16(tmp);
	}
	if (rich && (flags & 0x04))
	{
		if ((rc = cur_bytes(c, tmp, 4, "a string")) != XLS_OK)
			return rc;
		ext = u32(tmp);
	}
	if ((rc = cur_chars(c, cch, (flags & 1) != 0, true, b, off, len)) != XLS_OK)
		return rc;
	if (runs && (rc = cur_bytes(c, NULL, (size_t) runs * 4, "a string's formatting runs")) != XLS_OK)
		return rc;
	if (ext && (rc = cur_bytes(c, NULL, ext, "a string's phonetic data")) != XLS_OK)
		return rc;
	return XLS_OK;
}

/* ---------------- workbook globals ---------------- */

static int
read_sst(XlsReader *r, const uint8_t *body, uint16_t len)
{
	Cur			c;
	uint8_t		hdr[8];
	uint32_t	unique;
	int			rc;

	cur_init(&c, r, r->wb, r->wblen, body, len);
	if ((rc = cur_bytes(&c, hdr, 8, "the shared string table")) != XLS_OK)
		return rc;
	unique = u32(hdr + 4);
	for (uint32_t i = 0; i < unique; i++)
	{
		uint32_t	off,
					slen;

		if ((rc = tick(r)) != XLS_OK)
			return rc;
		/* fewer strings than it says, ending between two: keep those */
		if (!cur_more(&c))
			break;
		if (r->nsst == r->sst_cap)
		{
			size_t		cap = r->sst_cap;

			if ((rc = grow(r, (void **) &r->sst_off, &cap, r->nsst, 1, sizeof(uint32_t))) != XLS_OK ||
				(rc = grow(r, (void **) &r->sst_len, &r->sst_cap, r->nsst, 1, sizeof(uint32_t))) != XLS_OK)
				return rc;
			if (cap != r->sst_cap)
				return fail(r, XLS_ELIMIT, "reading it needs more than %zu bytes of memory", r->limit);
		}
		if ((rc = cur_string(&c, true, true, &r->sst, &off, &slen)) != XLS_OK)
			return rc;
		r->sst_off[r->nsst] = off;
		r->sst_len[r->nsst] = slen;
		r->nsst++;
	}
	return XLS_OK;
}

static bool
bit(const uint8_t *bits, unsigned i)
{
	return (bits[i / 8] >> (i % 8)) & 1;
}

static void
set_bit(uint8_t *bits, unsigned i, bool v)
{
	if (v)
		bits[i / 8] |= (uint8_t) (1 << (i % 8));
	else
		bits[i / 8] &= (uint8_t) ~(1 << (i % 8));
}

static int
read_globals(XlsReader *r)
{
	size_t		pos = 0;
	uint16_t	type,
				len;
	const uint8_t *body;
	int			rc;

	rc = next_record(r, r->wb, r->wblen, &pos, &type, &body, &len);
	if (rc != XLS_OK || type != R_BOF || len < 4)
	{
		if (rc == XLS_OK && (type == 0x0009 || type == 0x0209 || type == 0x0409))
			return fail(r, XLS_EUNSUPPORTED, "it is an Excel 2-4 workbook, older than Excel 97");
		return rc < 0 ? rc : fail(r, XLS_ECORRUPT, "its Workbook stream does not start with a BOF record");
	}
	if (u16(body) != 0x0600)
		return fail(r, XLS_EUNSUPPORTED, "it is an Excel 5.0/95 (BIFF%d) workbook, older than Excel 97",
					u16(body) == 0x0500 ? 5 : 0);
	if (u16(body + 2) != 0x0005)
		return fail(r, XLS_ECORRUPT, "its Workbook stream does not start with the workbook globals");
	for (;;)
	{
		if ((rc = tick(r)) != XLS_OK)
			return rc;
		rc = next_record(r, r->wb, r->wblen, &pos, &type, &body, &len);
		if (rc == XLS_EOF)
			return fail(r, XLS_ECORRUPT, "its workbook globals have no EOF record");
		if (rc != XLS_OK)
			return rc;
		switch (type)
		{
			case R_EOF:
				return XLS_OK;
			case R_FILEPASS:
				return fail(r, XLS_EUNSUPPORTED, "it is password-protected (encrypted)");
			case R_DATEMODE:
				if (len >= 2)
					r->date1904 = u16(body) != 0;
				break;
			case R_FORMAT:
				{
					Cur			c;
					uint16_t	id;
					uint32_t	off,
								slen;
					Buf			tmp = {0};

					if (len < 5)
						return fail(r, XLS_ECORRUPT, "a FORMAT record at offset %zu is too short", pos - len - 4);
					id = u16(body);
					cur_init(&c, r, r->wb, r->wblen, body + 2, (uint16_t) (len - 2));
					rc = cur_string(&c, true, false, &tmp, &off, &slen);
					if (rc == XLS_OK)
					{
						set_bit(r->fmt_defined, id, true);
						/* a NUL inside the code ends it for the date check: harmless */
						set_bit(r->fmt_date, id, sv_format_is_date(id, tmp.data + off));
						set_format_pad(r, id, sv_format_zero_pad(tmp.data + off));
					}
					r_free(r, tmp.data);
					if (rc != XLS_OK)
						return rc;
					break;
				}
			case R_XF:
				if (len < 4)
					return fail(r, XLS_ECORRUPT, "an XF record at offset %zu is too short", pos - len - 4);
				if ((rc = grow(r, (void **) &r->xf_fmt, &r->xf_cap, r->nxf, 1, sizeof(uint16_t))) != XLS_OK)
					return rc;
				r->xf_fmt[r->nxf++] = u16(body + 2);
				break;
			case R_BOUNDSHEET:
				{
					Cur			c;
					Sheet	   *s;
					uint32_t	off,
								slen;

					if (len < 8)
						return fail(r, XLS_ECORRUPT, "a BOUNDSHEET record at offset %zu is too short", pos - len - 4);
					if ((rc = grow(r, (void **) &r->sheets, &r->sheets_cap, r->nsheets, 1, sizeof(Sheet))) != XLS_OK)
						return rc;
					s = &r->sheets[r->nsheets];
					s->offset = u32(body);
					s->visibility = body[4] & 3;
					s->worksheet = body[5] == 0;
					cur_init(&c, r, r->wb, r->wblen, body + 6, (uint16_t) (len - 6));
					if ((rc = cur_string(&c, false, false, &r->names, &off, &slen)) != XLS_OK)
						return rc;
					s->name_off = off;
					r->nsheets++;
					break;
				}
			case R_SST:
				if (r->nsst > 0)
					break;		/* one shared string table */
				if ((rc = read_sst(r, body, len)) != XLS_OK)
					return rc;
				break;
			default:
				break;
		}
	}
}

int
xls_open(XlsReader *r, const uint8_t *data, size_t len)
{
	static const uint8_t sig[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
	uint16_t	major,
				shift;
	int			rc;

	if (r->state != 0)
		return fail(r, XLS_EUSAGE, "xls_open called twice");
	r->file = data;
	r->flen = len;
	if (len < 512 || memcmp(data, sig, 8) != 0)
		return fail(r, XLS_ECORRUPT, "it is not an OLE2 compound file (the container of .xls workbooks)");
	major = u16(data + 0x1A);
	shift = u16(data + 0x1E);
	if (u16(data + 0x1C) != 0xFFFE || !((major == 3 && shift == 9) || (major == 4 && shift == 12)) ||
		u16(data + 0x20) != 6)
		return fail(r, XLS_ECORRUPT, "its compound file header is invalid");
	r->v3 = major == 3;
	r->ssz = 1u << shift;
	if (len < r->ssz + 1)
		return fail(r, XLS_ECORRUPT, "it is truncated");
	r->nsec = (uint32_t) ((len - r->ssz + r->ssz - 1) / r->ssz);
	if ((rc = read_fat(r)) != XLS_OK ||
		(rc = read_workbook_stream(r)) != XLS_OK ||
		(rc = read_globals(r)) != XLS_OK)
		return rc;
	/* the FAT is not needed any more */
	r_free(r, r->fat);
	r->fat = NULL;
	r->nfat = 0;
	r->state = 1;
	return XLS_OK;
}

int
xls_sheet_count(const XlsReader *r)
{
	return r->state >= 1 ? (int) r->nsheets : 0;
}

const XlsSheetInfo *
xls_sheet_info(const XlsReader *r, int index)
{
	XlsReader  *w = (XlsReader *) r;

	if (r->state < 1 || index < 0 || (size_t) index >= r->nsheets)
		return NULL;
	w->info.name = r->names.data + r->sheets[index].name_off;
	w->info.visibility = r->sheets[index].visibility;
	w->info.worksheet = r->sheets[index].worksheet;
	return &w->info;
}

/* ---------------- a worksheet's cells ---------------- */

static bool
xf_is_date(XlsReader *r, uint16_t xf)
{
	uint16_t	fmt;

	if (xf >= r->nxf)
		return false;
	fmt = r->xf_fmt[xf];
	if (bit(r->fmt_defined, fmt))
		return bit(r->fmt_date, fmt);
	return sv_format_is_date(fmt, NULL);
}

static const char *
error_text(uint8_t code)
{
	switch (code)
	{
		case 0x00:
			return "#NULL!";
		case 0x07:
			return "#DIV/0!";
		case 0x0F:
			return "#VALUE!";
		case 0x17:
			return "#REF!";
		case 0x1D:
			return "#NAME?";
		case 0x24:
			return "#NUM!";
		case 0x2A:
			return "#N/A";
		case 0x2B:
			return "#GETTING_DATA";
		default:
			return "#ERROR!";
	}
}

static int
add_cell(XlsReader *r, uint16_t row, uint16_t col, int kind, int where, uint32_t off, uint32_t len,
		 size_t *index)
{
	Cell	   *c;
	int			rc;

	if (col >= XLS_MAX_COLS)
		return fail(r, XLS_ECORRUPT, "a cell of row %u is in column %u, beyond the last column (IV) of a .xls sheet",
					row + 1, col + 1);
	if ((rc = grow(r, (void **) &r->cells, &r->cells_cap, r->ncells, 1, sizeof(Cell))) != XLS_OK)
		return rc;
	c = &r->cells[r->ncells];
	c->row = row;
	c->col = (uint8_t) col;
	c->kind = (uint8_t) kind;
	c->where = (uint8_t) where;
	c->off = off;
	c->len = len;
	if (index)
		*index = r->ncells;
	r->ncells++;
	set_bit(r->exists, row, true);
	if ((long) row > r->last_row)
		r->last_row = row;
	return XLS_OK;
}

static int
add_text(XlsReader *r, uint16_t row, uint16_t col, int kind, const char *text, size_t *index)
{
	size_t		n = strlen(text);
	uint32_t	off;
	int			rc;

	if ((rc = buf_reserve(r, &r->pool, n + 1)) != XLS_OK)
		return rc;
	off = (uint32_t) r->pool.len;
	memcpy(r->pool.data + off, text, n + 1);
	r->pool.len += n + 1;
	return add_cell(r, row, col, kind, IN_POOL, off, (uint32_t) n, index);
}

/* a FORMAT record (again): its zero padding; past XLS_MAX_PADS, numbers read as General */
static void
set_format_pad(XlsReader *r, uint16_t id, int width)
{
	for (int i = 0; i < r->npad; i++)
		if (r->pad_id[i] == id)
		{
			r->pad_width[i] = (uint8_t) width;
			return;
		}
	if (width > 0 && r->npad < XLS_MAX_PADS)
	{
		r->pad_id[r->npad] = id;
		r->pad_width[r->npad++] = (uint8_t) width;
	}
}

/* the width a format pads numbers to with zeros (000: 3), else 0 */
static int
format_pad(const XlsReader *r, uint16_t xf)
{
	uint16_t	fmt;

	if (xf >= r->nxf || r->npad == 0)
		return 0;
	fmt = r->xf_fmt[xf];
	for (int i = 0; i < r->npad; i++)
		if (r->pad_id[i] == fmt)
			return r->pad_width[i];
	return 0;
}

/* a number: a date when its format is a date format and it is a date serial */
static int
add_number(XlsReader *r, uint16_t row, uint16_t col, uint16_t xf, double d)
{
	char		buf[64];

	if (xf_is_date(r, xf) && sv_serial_to_iso(d, r->date1904, buf, sizeof(buf)))
		return add_text(r, row, col, XLS_CELL_DATE, buf, NULL);
	/* a zero-padded format (000) shows 7 as 007 */
	sv_format_number_padded(d, format_pad(r, xf), buf, sizeof(buf));
	return add_text(r, row, col, XLS_CELL_NUMBER, buf, NULL);
}

static double
rk_value(uint32_t rk)
{
	double		d;

	if (rk & 2)
		d = (double) ((int32_t) rk >> 2);
	else
	{
		uint64_t	bits = (uint64_t) (rk & 0xFFFFFFFCu) << 32;

		memcpy(&d, &bits, sizeof(d));
	}
	if (rk & 1)
		d /= 100;
	return d;
}

#define FORMULA_NOT_SAVED SV_FORMULA_NOT_CALCULATED

static int
sheet_record(XlsReader *r, uint16_t type, const uint8_t *body, uint16_t len, size_t at, long *pending)
{
	const char *name = r->names.data + r->sheets[r->cur_sheet].name_off;
	uint16_t	row,
				col;
	int			rc = XLS_OK;
	char		ref[16];

	/* every cell record starts with its row, column and XF */
	static const struct
	{
		uint16_t	type;
		uint16_t	min;
	}			mins[] = {
		{R_FORMULA, 20}, {R_MULRK, 12}, {R_MULBLANK, 8}, {R_RSTRING, 9}, {R_LABELSST, 10},
		{R_BLANK, 6}, {R_NUMBER, 14}, {R_LABEL, 9}, {R_BOOLERR, 8}, {R_RK, 10}
	};

	for (size_t i = 0; i < sizeof(mins) / sizeof(mins[0]); i++)
		if (mins[i].type == type && len < mins[i].min)
		{
			if (len >= 4)
			{
				xls_column_name(u16(body + 2), ref);
				snprintf(ref + strlen(ref), sizeof(ref) - strlen(ref), "%u", u16(body) + 1);
				return fail(r, XLS_ECORRUPT, "the record of cell %s of worksheet \"%s\" is truncated", ref, name);
			}
			return fail(r, XLS_ECORRUPT, "a cell record at offset %zu of worksheet \"%s\" is truncated", at, name);
		}
	row = len >= 2 ? u16(body) : 0;
	col = len >= 4 ? u16(body + 2) : 0;

	switch (type)
	{
		case R_NUMBER:
			return add_number(r, row, col, u16(body + 4), f64(body + 6));
		case R_RK:
			return add_number(r, row, col, u16(body + 4), rk_value(u32(body + 6)));
		case R_MULRK:
			{
				size_t		n = ((size_t) len - 6) / 6;

				for (size_t i = 0; i < n && rc == XLS_OK; i++)
					rc = add_number(r, row, (uint16_t) (col + i > 0xFFFF ? 0xFFFF : col + i),
									u16(body + 4 + 6 * i), rk_value(u32(body + 6 + 6 * i)));
				return rc;
			}
		case R_BLANK:
		case R_MULBLANK:
			if (col < XLS_MAX_COLS)
			{
				set_bit(r->exists, row, true);
				if ((long) row > r->last_row)
					r->last_row = row;
			}
			return XLS_OK;
		case R_LABELSST:
			{
				uint32_t	i = u32(body + 6);
				char		why[64];

				if (i < r->nsst)
					return add_cell(r, row, col, XLS_CELL_TEXT, IN_SST, r->sst_off[i], r->sst_len[i], NULL);
				snprintf(why, sizeof(why), "shared string %u does not exist", i);
				return add_text(r, row, col, XLS_CELL_UNKNOWN, why, NULL);
			}
		case R_LABEL:
		case R_RSTRING:
			{
				Cur			c;
				uint32_t	off,
							slen;

				cur_init(&c, r, r->wb, r->wblen, body + 6, (uint16_t) (len - 6));
				if ((rc = cur_string(&c, true, false, &r->pool, &off, &slen)) != XLS_OK)
					return rc;
				return add_cell(r, row, col, XLS_CELL_TEXT, IN_POOL, off, slen, NULL);
			}
		case R_BOOLERR:
			if (body[7])
				return add_text(r, row, col, XLS_CELL_ERROR, error_text(body[6]), NULL);
			return add_text(r, row, col, XLS_CELL_BOOL, body[6] ? "TRUE" : "FALSE", NULL);
		case R_FORMULA:
			{
				const uint8_t *res = body + 6;
				size_t		idx;

				if (u16(res + 6) != 0xFFFF)
					return add_number(r, row, col, u16(body + 4), f64(res));
				switch (res[0])
				{
					case 0:		/* text: in the STRING record that follows */
						rc = add_text(r, row, col, XLS_CELL_UNKNOWN, FORMULA_NOT_SAVED, &idx);
						if (rc == XLS_OK)
							*pending = (long) idx;
						return rc;
					case 1:
						return add_text(r, row, col, XLS_CELL_BOOL, res[2] ? "TRUE" : "FALSE", NULL);
					case 2:
						return add_text(r, row, col, XLS_CELL_ERROR, error_text(res[2]), NULL);
					case 3:
						return add_text(r, row, col, XLS_CELL_TEXT, "", NULL);
					default:
						return add_text(r, row, col, XLS_CELL_UNKNOWN,
										"formula result of an unknown type", NULL);
				}
			}
		case R_STRING:
			if (*pending >= 0)
			{
				Cur			c;
				uint32_t	off,
							slen;
				Cell	   *cell;

				cur_init(&c, r, r->wb, r->wblen, body, len);
				if ((rc = cur_string(&c, true, false, &r->pool, &off, &slen)) != XLS_OK)
					return rc;
				cell = &r->cells[*pending];
				cell->kind = XLS_CELL_TEXT;
				cell->off = off;
				cell->len = slen;
				*pending = -1;
			}
			return XLS_OK;
		case R_ROW:
			if (len >= 16 && (u16(body + 12) & 0x0020))
				set_bit(r->hidden, u16(body), true);
			return XLS_OK;
		case R_MERGEDCELLS:
			{
				size_t		n = len >= 2 ? u16(body) : 0;

				if (2 + n * 8 > len)
					n = len >= 2 ? ((size_t) len - 2) / 8 : 0;
				for (size_t i = 0; i < n; i++)
				{
					const uint8_t *m = body + 2 + 8 * i;
					uint16_t	r1 = u16(m),
								r2 = u16(m + 2),
								c1 = u16(m + 4),
								c2 = u16(m + 6);
					Merge	   *mg;

					if (r1 > r2 || c1 > c2 || c1 >= XLS_MAX_COLS || (r1 == r2 && c1 == c2))
						continue;
					if ((rc = grow(r, (void **) &r->merges, &r->merges_cap, r->nmerges, 1, sizeof(Merge))) != XLS_OK)
						return rc;
					mg = &r->merges[r->nmerges++];
					mg->r1 = r1;
					mg->r2 = r2;
					mg->c1 = (uint8_t) c1;
					mg->c2 = (uint8_t) (c2 >= XLS_MAX_COLS ? XLS_MAX_COLS - 1 : c2);
					mg->top = -1;
				}
				return XLS_OK;
			}
		default:
			return XLS_OK;
	}
}

/* stable counting sort of the cells by key (col or row) */
static int
sort_cells_by(XlsReader *r, Cell *tmp, bool by_row)
{
	size_t		nb = by_row ? XLS_MAX_ROWS : XLS_MAX_COLS;
	uint32_t   *count;
	int			rc = XLS_OK;

	count = r_alloc(r, (nb + 1) * sizeof(uint32_t), &rc);
	if (count == NULL)
		return rc;
	memset(count, 0, (nb + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < r->ncells; i++)
		count[(by_row ? r->cells[i].row : r->cells[i].col) + 1]++;
	for (size_t k = 1; k <= nb; k++)
		count[k] += count[k - 1];
	for (size_t i = 0; i < r->ncells && rc == XLS_OK; i++)
	{
		Cell	   *c = &r->cells[i];

		if (i % 65536 == 65535)
			rc = tick(r);
		tmp[count[by_row ? c->row : c->col]++] = *c;
	}
	if (rc == XLS_OK)
		memcpy(r->cells, tmp, r->ncells * sizeof(Cell));
	r_free(r, count);
	return rc;
}

static int
sort_cells(XlsReader *r)
{
	bool		sorted = true;
	Cell	   *tmp;
	int			rc = XLS_OK;

	for (size_t i = 1; i < r->ncells && sorted; i++)
		if (r->cells[i].row < r->cells[i - 1].row ||
			(r->cells[i].row == r->cells[i - 1].row && r->cells[i].col < r->cells[i - 1].col))
			sorted = false;
	if (sorted)
		return XLS_OK;
	tmp = r_alloc(r, r->ncells * sizeof(Cell), &rc);
	if (tmp == NULL)
		return rc;
	rc = sort_cells_by(r, tmp, false);
	if (rc == XLS_OK)
		rc = sort_cells_by(r, tmp, true);
	r_free(r, tmp);
	return rc;
}

/* the last cell at (row, col) in the sorted cells, or -1 */
static int32_t
find_cell(XlsReader *r, uint16_t row, uint8_t col)
{
	size_t		lo = 0,
				hi = r->ncells;
	uint32_t	key = ((uint32_t) row << 8) | col;

	/* first cell with a key greater than (row, col) */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		uint32_t	k = ((uint32_t) r->cells[mid].row << 8) | r->cells[mid].col;

		if (k <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && r->cells[lo - 1].row == row && r->cells[lo - 1].col == col)
		return (int32_t) (lo - 1);
	return -1;
}

/* merged ranges: their top-left cells, ordered by first row (counting sort) */
static int
prepare_merges(XlsReader *r)
{
	uint32_t   *count;
	Merge	   *tmp;
	int			rc = XLS_OK;

	if (r->nmerges == 0)
		return XLS_OK;
	if (r->nmerges > INT32_MAX)
		return fail(r, XLS_ELIMIT, "too many merged ranges");
	for (size_t i = 0; i < r->nmerges; i++)
	{
		if (i % 4096 == 4095 && (rc = tick(r)) != XLS_OK)
			return rc;
		r->merges[i].top = find_cell(r, r->merges[i].r1, r->merges[i].c1);
	}
	count = r_alloc(r, (XLS_MAX_ROWS + 1) * sizeof(uint32_t), &rc);
	if (count == NULL)
		return rc;
	tmp = r_alloc(r, r->nmerges * sizeof(Merge), &rc);
	if (tmp == NULL)
	{
		r_free(r, count);
		return rc;
	}
	memset(count, 0, (XLS_MAX_ROWS + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < r->nmerges; i++)
		count[r->merges[i].r1 + 1]++;
	for (size_t k = 1; k <= XLS_MAX_ROWS; k++)
		count[k] += count[k - 1];
	for (size_t i = 0; i < r->nmerges; i++)
		tmp[count[r->merges[i].r1]++] = r->merges[i];
	memcpy(r->merges, tmp, r->nmerges * sizeof(Merge));
	r_free(r, tmp);
	r_free(r, count);
	r->active = r_alloc(r, r->nmerges * sizeof(uint32_t), &rc);
	return r->active ? XLS_OK : rc;
}

int
xls_select_sheet(XlsReader *r, int index)
{
	size_t		pos;
	uint16_t	type,
				len;
	const uint8_t *body;
	int			depth = 1;
	long		pending = -1;
	const char *name;
	int			rc;

	if (r->state < 1)
		return r->state == -1 ? XLS_EUSAGE : fail(r, XLS_EUSAGE, "xls_select_sheet before xls_open");
	if (index < 0 || (size_t) index >= r->nsheets)
		return fail(r, XLS_EUSAGE, "no sheet %d", index);
	free_sheet(r);
	memset(r->hidden, 0, sizeof(r->hidden));
	memset(r->exists, 0, sizeof(r->exists));
	r->cur_sheet = index;
	name = r->names.data + r->sheets[index].name_off;
	pos = r->sheets[index].offset;
	if (pos >= r->wblen)
		return fail(r, XLS_ECORRUPT, "worksheet \"%s\" starts outside the workbook stream", name);
	rc = next_record(r, r->wb, r->wblen, &pos, &type, &body, &len);
	if (rc != XLS_OK || type != R_BOF || len < 4 || u16(body) != 0x0600)
		return rc < 0 ? rc : fail(r, XLS_ECORRUPT, "worksheet \"%s\" does not start with a BOF record", name);
	if (u16(body + 2) != 0x0010)
		return fail(r, XLS_ECORRUPT, "sheet \"%s\" is not a worksheet", name);
	while (depth > 0)
	{
		size_t		at = pos;

		if ((rc = tick(r)) != XLS_OK)
			return rc;
		rc = next_record(r, r->wb, r->wblen, &pos, &type, &body, &len);
		if (rc == XLS_EOF)
			return fail(r, XLS_ECORRUPT, "worksheet \"%s\" has no EOF record", name);
		if (rc != XLS_OK)
			return rc;
		if (type == R_BOF)
			depth++;			/* a chart embedded in the sheet: skipped */
		else if (type == R_EOF)
			depth--;
		else if (depth == 1)
		{
			/* a string formula's text is in the STRING record after it */
			if (type != R_STRING && type != R_SHRFMLA && type != R_ARRAY && type != R_TABLE &&
				type != R_CONTINUE)
				pending = -1;
			if ((rc = sheet_record(r, type, body, len, at, &pending)) != XLS_OK)
				return rc;
		}
	}
	if ((rc = sort_cells(r)) != XLS_OK || (rc = prepare_merges(r)) != XLS_OK)
		return rc;
	for (int c = 0; c < XLS_MAX_COLS; c++)
		r->slot[c] = -1;
	r->state = 2;
	xls_rewind(r);
	return XLS_OK;
}

void
xls_rewind(XlsReader *r)
{
	r->it_row = 0;
	r->it_cell = 0;
	r->it_merge = 0;
	r->nactive = 0;
	r->merge_work = 0;
}

void
xls_progress(const XlsReader *r, long *done, long *total)
{
	*done = r->it_row;
	*total = r->last_row + 1;
}

int
xls_next_row(XlsReader *r, XlsRow *row)
{
	int			rc;

	if (r->state != 2)
		return r->state == -1 ? XLS_EUSAGE : fail(r, XLS_EUSAGE, "xls_next_row before xls_select_sheet");
	while (r->it_row <= r->last_row)
	{
		long		rw = r->it_row++;
		int			minc = XLS_MAX_COLS,
					maxc = -1;
		int			n = 0;

		if ((rc = tick(r)) != XLS_OK)
			return rc;
		while (r->it_merge < r->nmerges && r->merges[r->it_merge].r1 <= rw)
			r->active[r->nactive++] = (uint32_t) r->it_merge++;
		if (!bit(r->exists, (unsigned) rw))
			continue;
		for (; r->it_cell < r->ncells && r->cells[r->it_cell].row == rw; r->it_cell++)
		{
			int			c = r->cells[r->it_cell].col;

			r->slot[c] = (int32_t) r->it_cell;	/* the last of duplicates wins */
			if (c < minc)
				minc = c;
			if (c > maxc)
				maxc = c;
		}
		/* merged ranges over this row: their top-left value, as a person sees it */
		for (size_t a = 0; a < r->nactive;)
		{
			Merge	   *m = &r->merges[r->active[a]];

			if (m->r2 < rw)
			{
				r->active[a] = r->active[--r->nactive];
				continue;
			}
			a++;
			r->merge_work += (uint64_t) (m->c2 - m->c1 + 1);
			if (r->merge_work > MERGE_WORK_LIMIT)
				return fail(r, XLS_ELIMIT, "its merged ranges cover more than 10,000,000 cells");
			if (r->merge_work % 4096 == 0 && (rc = tick(r)) != XLS_OK)
				return rc;
			if (m->top < 0)
				continue;
			for (int c = m->c1; c <= m->c2; c++)
			{
				if (rw == m->r1 && c == m->c1)
					continue;
				r->slot[c] = m->top;
				if (c < minc)
					minc = c;
				if (c > maxc)
					maxc = c;
			}
		}
		for (int c = minc; c <= maxc; c++)
		{
			if (r->slot[c] >= 0)
			{
				Cell	   *cell = &r->cells[r->slot[c]];

				r->out[n].col = c;
				r->out[n].kind = cell->kind;
				r->out[n].text = (cell->where == IN_SST ? r->sst.data : r->pool.data) + cell->off;
				r->out[n].len = cell->len;
				n++;
			}
			r->slot[c] = -1;
		}
		if (n == 0)
			continue;
		row->row_no = rw + 1;
		row->hidden = bit(r->hidden, (unsigned) rw);
		row->ncells = n;
		row->cells = r->out;
		return XLS_OK;
	}
	return XLS_EOF;
}
