/*
 * xls_build.h
 *		Build BIFF8 records and wrap a workbook stream in an OLE2 compound
 *		file, for the unit tests and the fuzz target of the .xls reader.
 *
 * xb_cfb() lays a version 3 compound file out simply: the FAT sectors,
 * one directory sector (the root and a "Workbook" stream), then the
 * stream in consecutive sectors (padded to 4096 bytes, as Excel does, so
 * that it is not in the mini stream).
 */
#ifndef CREDIMPORT_XLS_BUILD_H
#define CREDIMPORT_XLS_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct XB
{
	uint8_t    *d;
	size_t		n;
	size_t		cap;
} XB;

static inline void
xb_put(XB *b, const void *p, size_t n)
{
	if (b->n + n > b->cap)
	{
		b->cap = (b->n + n) * 2 + 64;
		b->d = realloc(b->d, b->cap);
		if (b->d == NULL)
			abort();
	}
	if (n)
		memcpy(b->d + b->n, p, n);
	b->n += n;
}

static inline void
xb_u8(XB *b, unsigned v)
{
	uint8_t		x = (uint8_t) v;

	xb_put(b, &x, 1);
}

static inline void
xb_u16(XB *b, unsigned v)
{
	uint8_t		x[2] = {(uint8_t) v, (uint8_t) (v >> 8)};

	xb_put(b, x, 2);
}

static inline void
xb_u32(XB *b, uint32_t v)
{
	uint8_t		x[4] = {(uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24)};

	xb_put(b, x, 4);
}

static inline void
xb_f64(XB *b, double d)
{
	uint64_t	v;

	memcpy(&v, &d, 8);
	xb_u32(b, (uint32_t) v);
	xb_u32(b, (uint32_t) (v >> 32));
}

static inline void
xb_set_u32(XB *b, size_t at, uint32_t v)
{
	b->d[at] = (uint8_t) v;
	b->d[at + 1] = (uint8_t) (v >> 8);
	b->d[at + 2] = (uint8_t) (v >> 16);
	b->d[at + 3] = (uint8_t) (v >> 24);
}

/* a record: type, then its body from body (len bytes) */
static inline void
xb_rec(XB *b, unsigned type, const XB *body)
{
	xb_u16(b, type);
	xb_u16(b, (unsigned) body->n);
	xb_put(b, body->d, body->n);
}

/* XLUnicodeString, compressed (8-bit) */
static inline void
xb_str8(XB *b, const char *s, int cch16)
{
	size_t		n = strlen(s);

	if (cch16)
		xb_u16(b, (unsigned) n);
	else
		xb_u8(b, (unsigned) n);
	xb_u8(b, 0);
	xb_put(b, s, n);
}

static inline void
xb_free(XB *b)
{
	free(b->d);
	memset(b, 0, sizeof(*b));
}

/* the workbook stream wb as a compound file; caller frees */
static inline uint8_t *
xb_cfb(const uint8_t *wb, size_t n, size_t *outlen)
{
	size_t		slen = n < 4096 ? 4096 : n;
	uint32_t	nstream = (uint32_t) ((slen + 511) / 512);
	uint32_t	nfat = 1;
	uint32_t	dirsec,
				first;
	uint8_t    *out;
	size_t		total;

	while (nfat * 128 < nfat + 1 + nstream)
		nfat++;
	if (nfat > 109)
		abort();
	dirsec = nfat;
	first = nfat + 1;
	total = 512 + (size_t) (nfat + 1 + nstream) * 512;
	out = calloc(1, total);
	if (out == NULL)
		abort();
	memcpy(out, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	out[0x18] = 0x3E;
	out[0x1A] = 3;
	out[0x1C] = 0xFE, out[0x1D] = 0xFF;
	out[0x1E] = 9;
	out[0x20] = 6;
	{
		XB			h = {out, 0x2C, total};

		xb_u32(&h, nfat);		/* FAT sectors */
		xb_u32(&h, dirsec);		/* first directory sector */
		xb_u32(&h, 0);
		xb_u32(&h, 4096);		/* mini stream cutoff */
		xb_u32(&h, 0xFFFFFFFE); /* no mini FAT */
		xb_u32(&h, 0);
		xb_u32(&h, 0xFFFFFFFE); /* no DIFAT sectors */
		xb_u32(&h, 0);
		for (uint32_t i = 0; i < 109; i++)
			xb_u32(&h, i < nfat ? i : 0xFFFFFFFF);
	}
	/* FAT */
	for (uint32_t s = 0; s < nfat * 128; s++)
	{
		uint32_t	v;
		XB			f = {out, 512 + (size_t) s * 4, total};

		if (s < nfat)
			v = 0xFFFFFFFD;
		else if (s == dirsec)
			v = 0xFFFFFFFE;
		else if (s >= first && s < first + nstream)
			v = s + 1 < first + nstream ? s + 1 : 0xFFFFFFFE;
		else
			v = 0xFFFFFFFF;
		xb_u32(&f, v);
	}
	/* directory: root, Workbook */
	{
		uint8_t    *d = out + 512 + (size_t) dirsec * 512;
		const char *names[2] = {"Root Entry", "Workbook"};

		for (int e = 0; e < 4; e++)
		{
			uint8_t    *p = d + e * 128;
			XB			x = {p, 0x44, 128};

			xb_u32(&x, 0xFFFFFFFF);
			xb_u32(&x, 0xFFFFFFFF);
			xb_u32(&x, e == 0 ? 1 : 0xFFFFFFFF);
			if (e >= 2)
				continue;
			for (size_t i = 0; names[e][i]; i++)
				p[2 * i] = (uint8_t) names[e][i];
			p[0x40] = (uint8_t) ((strlen(names[e]) + 1) * 2);
			p[0x42] = e == 0 ? 5 : 2;
			p[0x43] = 1;
			x.n = 0x74;
			xb_u32(&x, e == 0 ? 0xFFFFFFFE : first);
			xb_u32(&x, e == 0 ? 0 : (uint32_t) slen);	/* padded, as Excel does */
		}
	}
	memcpy(out + 512 + (size_t) first * 512, wb, n);
	*outlen = total;
	return out;
}

/* ---------------- BIFF8 ---------------- */

static inline void
xb_bof(XB *b, unsigned dt)
{
	XB			r = {0};

	xb_u16(&r, 0x0600);
	xb_u16(&r, dt);
	xb_u16(&r, 0x0DBB);
	xb_u16(&r, 0x07CC);
	xb_u32(&r, 0);
	xb_u32(&r, 6);
	xb_rec(b, 0x0809, &r);
	xb_free(&r);
}

static inline void
xb_eof(XB *b)
{
	XB			r = {0};

	xb_rec(b, 0x000A, &r);
}

/* cell header: row and column are 1-based and 0-based as in the sheet */
static inline void
xb_cell(XB *r, unsigned row, unsigned col, unsigned xf)
{
	xb_u16(r, row - 1);
	xb_u16(r, col);
	xb_u16(r, xf);
}

static inline void
xb_number(XB *b, unsigned row, unsigned col, unsigned xf, double v)
{
	XB			r = {0};

	xb_cell(&r, row, col, xf);
	xb_f64(&r, v);
	xb_rec(b, 0x0203, &r);
	xb_free(&r);
}

static inline void
xb_label(XB *b, unsigned row, unsigned col, const char *s)
{
	XB			r = {0};

	xb_cell(&r, row, col, 15);
	xb_str8(&r, s, 1);
	xb_rec(b, 0x0204, &r);
	xb_free(&r);
}

static inline void
xb_labelsst(XB *b, unsigned row, unsigned col, uint32_t i)
{
	XB			r = {0};

	xb_cell(&r, row, col, 15);
	xb_u32(&r, i);
	xb_rec(b, 0x00FD, &r);
	xb_free(&r);
}

/*
 * Workbook globals: BOF, DATEMODE, a FORMAT for id 164 (fmt164), XF 0..15
 * general, XF 16 = format 14 (date), XF 17 = format 164; one BOUNDSHEET
 * per sheet (offsets patched by xb_sheet_at), the SST records in sst, EOF.
 * bound_at receives where each BOUNDSHEET's offset is.
 */
static inline void
xb_globals(XB *b, int nsheets, const char *const *names, const int *hidden, const XB *sst,
		   int date1904, const char *fmt164, size_t *bound_at)
{
	XB			r = {0};

	xb_bof(b, 5);
	xb_u16(&r, date1904 ? 1 : 0);
	xb_rec(b, 0x0022, &r);
	r.n = 0;
	xb_u16(&r, 164);
	xb_str8(&r, fmt164 ? fmt164 : "yyyy-mm-dd hh:mm", 1);
	xb_rec(b, 0x041E, &r);
	for (int i = 0; i < 18; i++)
	{
		r.n = 0;
		xb_u16(&r, 0);
		xb_u16(&r, i == 16 ? 14 : i == 17 ? 164 : 0);
		for (int k = 0; k < 16; k++)
			xb_u8(&r, 0);
		xb_rec(b, 0x00E0, &r);
	}
	for (int s = 0; s < nsheets; s++)
	{
		r.n = 0;
		xb_u32(&r, 0);
		xb_u8(&r, hidden ? (unsigned) hidden[s] : 0);
		xb_u8(&r, 0);
		xb_str8(&r, names[s], 0);
		bound_at[s] = b->n + 4;
		xb_rec(b, 0x0085, &r);
	}
	if (sst)
		xb_put(b, sst->d, sst->n);
	xb_eof(b);
	xb_free(&r);
}

#endif							/* CREDIMPORT_XLS_BUILD_H */
