/*
 * fuzz_csv.c
 *		libFuzzer target for the record reader and the field checks.
 *
 * The input is fed to the reader in chunks whose sizes follow from its
 * first byte, so that the fuzzer explores buffer boundaries; the input
 * itself is read whole (the first byte included), so seed files are plain
 * CSV.  Three passes:
 *
 *  1. delimiter auto-detected, max_record_bytes = FUZZ_MAX_RECORD: every
 *     record's invariants, and every field through every field check;
 *  2. the same delimiter forced, no bound: must give the same records,
 *     except that pass 1 marks a record too long exactly when its fields
 *     need more than the bound;
 *  3. pass 1 again with one allocation failing: CSV_ENOMEM, no crash and
 *     nothing left allocated.
 *
 * A first byte with both top bits set also injects a read error at an
 * offset chosen by the last byte.
 *
 * Memory goes through a counting allocator that abort()s when the reader
 * holds more than a fixed bound in pass 1, whatever the input.
 *
 * Built with clang -fsanitize=fuzzer; fuzz_main.c replays files through
 * the same entry point without libFuzzer (make check runs the corpus).
 */
#include "csv_reader.h"
#include "field_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_RECORD		4096
/* input block (64 KB, never grows with a bound this small) + record + slots */
#define FUZZ_MEM_BOUND		((size_t) 65536 + 8 * FUZZ_MAX_RECORD + 16384)
#define MAX_KEPT_RECORDS	4096

#define FUZZ_ASSERT(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* ---------------- counting allocator ---------------- */

typedef union AllocHeader
{
	size_t		size;
	max_align_t align;
} AllocHeader;

typedef struct FuzzAlloc
{
	size_t		outstanding;
	size_t		bound;			/* abort above this (0 = none) */
	long		calls;
	long		fail_at;		/* fail this call (0 = never) */
	long		failures;
} FuzzAlloc;

static void
fa_add(FuzzAlloc *a, size_t n)
{
	a->outstanding += n;
	if (a->bound && a->outstanding > a->bound)
	{
		fprintf(stderr, "reader holds %zu bytes, more than the bound %zu\n",
				a->outstanding, a->bound);
		abort();
	}
}

static bool
fa_fail(FuzzAlloc *a)
{
	if (++a->calls == a->fail_at)
	{
		a->failures++;
		return true;
	}
	return false;
}

static void *
fa_alloc(void *ctx, size_t size)
{
	FuzzAlloc  *a = ctx;
	AllocHeader *h;

	if (fa_fail(a))
		return NULL;
	h = malloc(sizeof(AllocHeader) + size);
	FUZZ_ASSERT(h != NULL);
	h->size = size;
	fa_add(a, size);
	return h + 1;
}

static void *
fa_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	FuzzAlloc  *a = ctx;
	AllocHeader *oh = (AllocHeader *) ptr - 1;
	AllocHeader *nh;

	FUZZ_ASSERT(oh->size == old_size);
	if (fa_fail(a))
		return NULL;
	nh = malloc(sizeof(AllocHeader) + new_size);
	FUZZ_ASSERT(nh != NULL);
	nh->size = new_size;
	memcpy(nh + 1, oh + 1, old_size < new_size ? old_size : new_size);
	fa_add(a, new_size);
	a->outstanding -= old_size;
	free(oh);
	return nh + 1;
}

static void
fa_free(void *ctx, void *ptr)
{
	FuzzAlloc  *a = ctx;
	AllocHeader *h = (AllocHeader *) ptr - 1;

	FUZZ_ASSERT(a->outstanding >= h->size);
	a->outstanding -= h->size;
	free(h);
}

/* ---------------- chunked source ---------------- */

typedef struct ChunkSrc
{
	const uint8_t *data;
	size_t		len;
	size_t		pos;
	uint8_t		mode;
	uint32_t	lcg;
	long		fail_at;		/* read error once pos reaches this (-1 none) */
	bool		ended;
} ChunkSrc;

static size_t
next_chunk(ChunkSrc *s, size_t cap)
{
	size_t		n;

	switch (s->mode & 3)
	{
		case 0:					/* as much as fits */
			n = cap;
			break;
		case 1:					/* fixed small blocks of 1..16 bytes */
			n = 1 + ((s->mode >> 2) & 15);
			break;
		case 2:					/* pseudo-random blocks of 1..64 bytes */
			s->lcg = s->lcg * 1103515245u + 12345u;
			n = 1 + (s->lcg >> 16) % 64;
			break;
		default:				/* pseudo-random blocks of 1..4096 bytes */
			s->lcg = s->lcg * 1103515245u + 12345u;
			n = 1 + (s->lcg >> 12) % 4096;
			break;
	}
	return n < cap ? n : cap;
}

static long
chunk_read(void *arg, char *buf, size_t cap)
{
	ChunkSrc   *s = arg;
	size_t		n;

	FUZZ_ASSERT(!s->ended);		/* not called again after 0 or an error */
	FUZZ_ASSERT(cap > 0);
	if (s->fail_at >= 0 && s->pos >= (size_t) s->fail_at)
	{
		s->ended = true;
		return -1;
	}
	n = next_chunk(s, cap);
	if (n > s->len - s->pos)
		n = s->len - s->pos;
	if (s->fail_at >= 0 && n > (size_t) s->fail_at - s->pos)
		n = (size_t) s->fail_at - s->pos;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	if (n == 0)
		s->ended = true;
	return (long) n;
}

/* ---------------- field checks ---------------- */

static bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static void
check_normalized(const char *out, size_t cap)
{
	size_t		n = strlen(out);

	FUZZ_ASSERT(n < cap);
	if (n == 0)
		return;
	FUZZ_ASSERT(out[0] != '_' && out[n - 1] != '_');
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) out[i];

		FUZZ_ASSERT(!(c >= 'A' && c <= 'Z'));
		FUZZ_ASSERT(c != '-' && !is_blank(c));
		FUZZ_ASSERT(!(c == '_' && out[i + 1] == '_'));
	}
}

static void
check_field(const char *f, size_t len)
{
	static const fc_date_format fmts[] = {FC_DATE_ISO, FC_DATE_MDY_SLASH, FC_DATE_DMY_SLASH, FC_DATE_DMY_DOT};
	char	   *copy = malloc(len + 1);
	char	   *t;
	size_t		tl = len;
	int64_t		v;
	fc_result	r;

	FUZZ_ASSERT(copy != NULL);
	memcpy(copy, f, len);
	copy[len] = '\0';

	/* trim: a sub-range without blanks at either end */
	t = fc_trim(copy, &tl);
	FUZZ_ASSERT(t >= copy && t + tl <= copy + len);
	if (tl > 0)
		FUZZ_ASSERT(!is_blank((unsigned char) t[0]) && !is_blank((unsigned char) t[tl - 1]));

	for (int i = 0; i < 4; i++)
	{
		int			y = 0,
					m = 0,
					d = 0;

		r = fc_parse_date(t, tl, fmts[i], &y, &m, &d);
		FUZZ_ASSERT(r == FC_OK || r == FC_EMPTY || r == FC_INVALID);
		FUZZ_ASSERT((r == FC_EMPTY) == (tl == 0));
		if (r == FC_OK)
		{
			int32_t		pg = fc_date_to_pg(y, m, d);
			char		iso[32];
			int			y2,
						m2,
						d2;

			/*
			 * ISO is exactly 10 bytes; its slash variant (every setting) and
			 * the locale formats take 2024/3/5 and 3/5/2024 too
			 */
			FUZZ_ASSERT(tl == 10 || (tl >= 8 && tl < 10 &&
									 (fmts[i] != FC_DATE_ISO || t[4] == '/')));
			FUZZ_ASSERT(y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31);
			FUZZ_ASSERT(pg >= -730119 && pg <= 2921939);
			/* the same date in ISO parses to the same value */
			snprintf(iso, sizeof(iso), "%04d-%02d-%02d", y, m, d);
			FUZZ_ASSERT(fc_parse_date(iso, 10, FC_DATE_ISO, &y2, &m2, &d2) == FC_OK);
			FUZZ_ASSERT(y2 == y && m2 == m && d2 == d);
		}
	}

	for (int maxd = 0; maxd <= 20; maxd += 6)
	{
		v = -1;
		r = fc_parse_credits(t, tl, maxd, &v);
		FUZZ_ASSERT(r >= FC_OK && r <= FC_OUT_OF_RANGE);
		FUZZ_ASSERT((r == FC_EMPTY) == (tl == 0));
		if (r == FC_OK)
		{
			int64_t		limit = 1;

			for (int k = 0; k < maxd && k < 16; k++)
				limit *= 10;
			FUZZ_ASSERT(v > 0);
			if (maxd <= 16)
				FUZZ_ASSERT(v < limit * 100);
		}
		else
			FUZZ_ASSERT(v == -1);
	}

	/* with a decimal comma: the same value as the point, no '.' accepted */
	v = -1;
	r = fc_parse_credits_sep(t, tl, 6, ',', &v);
	FUZZ_ASSERT(r >= FC_OK && r <= FC_OUT_OF_RANGE);
	if (r == FC_OK)
	{
		char	   *dot = malloc(tl + 1);
		int64_t		v2 = -1;

		FUZZ_ASSERT(dot != NULL && memchr(t, '.', tl) == NULL);
		for (size_t k = 0; k < tl; k++)
			dot[k] = t[k] == ',' ? '.' : t[k];
		FUZZ_ASSERT(fc_parse_credits(dot, tl, 6, &v2) == FC_OK && v2 == v);
		free(dot);
	}

	v = -1;
	r = fc_parse_id(t, tl, &v);
	FUZZ_ASSERT(r == FC_OK || r == FC_EMPTY || r == FC_INVALID ||
				r == FC_NON_POSITIVE || r == FC_OUT_OF_RANGE);
	if (r == FC_OK)
	{
		/* compare with strtoull on the digits */
		char		digits[64];
		size_t		k = (tl > 0 && t[0] == '+') ? 1 : 0;
		size_t		nd = 0;

		FUZZ_ASSERT(v > 0);
		while (k < tl && t[k] == '0')
			k++;
		FUZZ_ASSERT(tl - k <= 19);
		for (; k < tl; k++)
		{
			FUZZ_ASSERT(t[k] >= '0' && t[k] <= '9');
			digits[nd++] = t[k];
		}
		digits[nd] = '\0';
		FUZZ_ASSERT(strtoull(digits, NULL, 10) == (unsigned long long) v);
	}

	r = fc_parse_bool(t, tl);
	FUZZ_ASSERT(r == FC_OK || r == FC_FALSE || r == FC_EMPTY || r == FC_INVALID);
	if (r == FC_OK || r == FC_FALSE)
		FUZZ_ASSERT(tl >= 1 && tl <= 5);

	r = fc_check_email(t, tl);
	FUZZ_ASSERT(r == FC_OK || r == FC_EMPTY || r == FC_INVALID);
	if (r == FC_OK)
	{
		const char *at = memchr(t, '@', tl);

		FUZZ_ASSERT(tl <= 254 && at != NULL && at > t);
		FUZZ_ASSERT(memchr(at + 1, '@', tl - (size_t) (at + 1 - t)) == NULL);
		FUZZ_ASSERT(memchr(t, '\0', tl) == NULL);
	}

	/*
	 * Header normalisation, full size and truncated.  A NUL byte is copied
	 * like any other, so the checks on the string only apply without one
	 * (the server rejects such a header before normalising it).
	 */
	{
		char	   *out = malloc(len + 1);
		char		small[8];
		bool		has_nul = memchr(f, 0, len) != NULL;

		FUZZ_ASSERT(out != NULL);
		fc_normalize_header(f, len, out, len + 1);
		fc_normalize_header(f, len, small, sizeof(small));
		if (!has_nul)
		{
			check_normalized(out, len + 1);
			check_normalized(small, sizeof(small));
			/* the truncated result is a prefix of the full one */
			FUZZ_ASSERT(strncmp(out, small, strlen(small)) == 0);
		}
		fc_ascii_lower(f, len, out);
		for (size_t i = 0; i < len; i++)
			FUZZ_ASSERT(!(out[i] >= 'A' && out[i] <= 'Z'));
		free(out);
	}
	free(copy);
}

/* ---------------- reading ---------------- */

/*
 * Most fields a record may have under a bound: the reader's field arrays
 * start with 32 slots and double only while they stay within the bound.
 */
static int
max_fields_for(size_t max)
{
	size_t		slot = 2 * sizeof(size_t) + sizeof(char *) + 1;
	int			cap = 32;

	while ((size_t) cap * 2 * slot <= max)
		cap *= 2;
	return cap;
}

typedef struct KeptRecord
{
	long		line_no;
	long		end_line_no;
	size_t		bytes;
	unsigned	problems;
	int			nfields;
	size_t		need;			/* sum of (length + 1) */
	uint64_t	hash;			/* of the fields */
} KeptRecord;

static uint64_t
hash_record(const CsvRecord *rec)
{
	uint64_t	h = 1469598103934665603u;

	for (int i = 0; i < rec->nfields; i++)
	{
		for (size_t k = 0; k < rec->lengths[i]; k++)
			h = (h ^ (unsigned char) rec->fields[i][k]) * 1099511628211u;
		h = (h ^ 0x100u) * 1099511628211u;	/* field separator */
	}
	return h;
}

/* Invariants of one record. */
static void
check_record(const CsvRecord *rec, long prev_end_line, size_t max)
{
	bool		any_nul = false;
	size_t		need = 0;

	FUZZ_ASSERT(rec->nfields >= 0);
	FUZZ_ASSERT(rec->line_no >= 1 && rec->end_line_no >= rec->line_no);
	FUZZ_ASSERT(rec->line_no > prev_end_line);
	FUZZ_ASSERT(rec->bytes > 0);
	FUZZ_ASSERT((rec->problems & ~0x0Fu) == 0);
	if (rec->problems & CSV_PROBLEM_TOO_LONG)
		FUZZ_ASSERT(rec->nfields == 0);
	else
		FUZZ_ASSERT(rec->nfields >= 1);
	for (int i = 0; i < rec->nfields; i++)
	{
		const char *f = rec->fields[i];
		size_t		len = rec->lengths[i];
		bool		has_nul = memchr(f, 0, len) != NULL;

		FUZZ_ASSERT(f[len] == '\0');
		FUZZ_ASSERT((rec->field_nul[i] != 0) == has_nul);
		if (!has_nul)
			FUZZ_ASSERT(strlen(f) == len);
		if (i > 0)
			FUZZ_ASSERT(f > rec->fields[i - 1] + rec->lengths[i - 1]);
		any_nul |= has_nul;
		need += len + 1;
	}
	if (rec->nfields > 0)
		FUZZ_ASSERT(any_nul == ((rec->problems & CSV_PROBLEM_NUL) != 0));
	if (max)
		FUZZ_ASSERT(need <= max);
	/* a record cannot hold more field bytes than it occupied, plus terminators */
	FUZZ_ASSERT(need <= rec->bytes + 1);
}

typedef struct PassResult
{
	int			rc;
	char		delim;
	long		nrec;
	uint64_t	bytes_read;
} PassResult;

static void
read_pass(const uint8_t *data, size_t size, char delim, size_t max,
		  long fail_read_at, long fail_alloc_at, bool check_fields,
		  KeptRecord *kept, PassResult *res)
{
	FuzzAlloc	fa = {0, 0, 0, 0, 0};
	csv_allocator alloc = {fa_alloc, fa_realloc, fa_free, &fa};
	ChunkSrc	src = {data, size, 0, size ? data[0] : 0, size ? data[0] : 0, fail_read_at, false};
	CsvReader  *r;
	CsvRecord	rec;
	long		prev_end = 0;
	uint64_t	prev_bytes = 0;
	int			rc;

	fa.bound = max ? FUZZ_MEM_BOUND : 0;
	fa.fail_at = fail_alloc_at;
	memset(res, 0, sizeof(*res));
	r = csv_reader_create(chunk_read, &src, &alloc, delim, max);
	if (r == NULL)
	{
		FUZZ_ASSERT(fa.failures > 0);
		FUZZ_ASSERT(fa.outstanding == 0);
		res->rc = CSV_ENOMEM;
		return;
	}
	while ((rc = csv_next_record(r, &rec)) == CSV_OK)
	{
		uint64_t	now = csv_reader_bytes_read(r);

		check_record(&rec, prev_end, max);
		FUZZ_ASSERT(now >= prev_bytes + rec.bytes && now <= size);
		prev_bytes = now;
		prev_end = rec.end_line_no;
		if (check_fields)
			for (int i = 0; i < rec.nfields; i++)
				check_field(rec.fields[i], rec.lengths[i]);
		if (kept && res->nrec < MAX_KEPT_RECORDS)
		{
			KeptRecord *k = &kept[res->nrec];

			k->line_no = rec.line_no;
			k->end_line_no = rec.end_line_no;
			k->bytes = rec.bytes;
			k->problems = rec.problems;
			k->nfields = rec.nfields;
			k->need = 0;
			for (int i = 0; i < rec.nfields; i++)
				k->need += rec.lengths[i] + 1;
			k->hash = hash_record(&rec);
		}
		res->nrec++;
	}
	FUZZ_ASSERT(rc == CSV_EOF || rc == CSV_EREAD || rc == CSV_ENOMEM);
	FUZZ_ASSERT(csv_next_record(r, &rec) == rc);	/* sticky */
	if (rc == CSV_EOF)
	{
		FUZZ_ASSERT(csv_reader_bytes_read(r) == size);
		FUZZ_ASSERT(fa.failures == 0 && fail_read_at < 0);
	}
	if (rc == CSV_EREAD)
		FUZZ_ASSERT(fail_read_at >= 0);
	if (rc == CSV_ENOMEM)
		FUZZ_ASSERT(fa.failures > 0);
	if (fa.failures > 0)
		FUZZ_ASSERT(rc == CSV_ENOMEM);
	res->rc = rc;
	res->delim = csv_reader_delimiter(r);
	FUZZ_ASSERT(res->delim == ',' || res->delim == '\t' || res->delim == ';');
	res->bytes_read = csv_reader_bytes_read(r);
	csv_reader_destroy(r);
	FUZZ_ASSERT(fa.outstanding == 0);
}

/* strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF); NUL allowed */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = s[i];
		size_t		len;
		uint32_t	u;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2, u = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3, u = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4, u = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			u = (u << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 3 && (u < 0x800 || (u >= 0xD800 && u <= 0xDFFF))) ||
			(len == 4 && (u < 0x10000 || u > 0x10FFFF)))
			return false;
		i += len;
	}
	return true;
}

static void *
m_alloc(void *ctx, size_t size)
{
	(void) ctx;
	return malloc(size);
}

static void *
m_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	(void) ctx;
	(void) old_size;
	return realloc(ptr, new_size);
}

static void
m_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

/* the input behind a UTF-16 byte order mark (little- or big-endian) */
static void
check_utf16(const uint8_t *data, size_t size)
{
	csv_allocator a = {m_alloc, m_realloc, m_free, NULL};
	unsigned char *in = malloc(size + 2);
	char	   *out = NULL;
	size_t		outlen = 0;
	size_t		bad = (size_t) -1;
	int			rc;
	bool		le = size > 0 && (data[0] & 1);

	FUZZ_ASSERT(in != NULL);
	in[0] = le ? 0xFF : 0xFE;
	in[1] = le ? 0xFE : 0xFF;
	if (size > 0)
		memcpy(in + 2, data, size);
	rc = csv_utf16_to_utf8((const char *) in, size + 2, &a, &out, &outlen, &bad);
	FUZZ_ASSERT(rc == CSV_UTF16_OK || rc == CSV_UTF16_INVALID);
	if (rc == CSV_UTF16_OK)
	{
		FUZZ_ASSERT(size % 2 == 0);
		FUZZ_ASSERT(outlen <= (size / 2) * 3 + 1);
		FUZZ_ASSERT(out[outlen] == '\0');
		FUZZ_ASSERT(valid_utf8((const unsigned char *) out, outlen));
		free(out);
	}
	else
		FUZZ_ASSERT(bad >= 2 && bad < size + 2);
	/* no mark: nothing done */
	if (size >= 2 && !((data[0] == 0xFF && data[1] == 0xFE) || (data[0] == 0xFE && data[1] == 0xFF)))
		FUZZ_ASSERT(csv_utf16_to_utf8((const char *) data, size, &a, &out, &outlen, &bad) == CSV_UTF16_NONE);
	free(in);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static KeptRecord bounded[MAX_KEPT_RECORDS];
	static KeptRecord unbounded[MAX_KEPT_RECORDS];
	PassResult	p1,
				p2,
				p3;
	long		fail_read_at = -1;
	int			max_fields = max_fields_for(FUZZ_MAX_RECORD);

	if (size > 0 && (data[0] & 0xC0) == 0xC0)
		fail_read_at = (long) (size * data[size - 1] / 256);

	/* 1: auto delimiter, small bound, all checks */
	read_pass(data, size, 0, FUZZ_MAX_RECORD, fail_read_at, 0, true, bounded, &p1);
	FUZZ_ASSERT(p1.rc == (fail_read_at >= 0 ? CSV_EREAD : CSV_EOF));

	/* 2: same delimiter, unbounded: the same records */
	read_pass(data, size, p1.delim, 0, fail_read_at, 0, false, unbounded, &p2);
	FUZZ_ASSERT(p2.rc == p1.rc);
	FUZZ_ASSERT(p2.delim == p1.delim);
	if (p1.rc == CSV_EOF)
	{
		FUZZ_ASSERT(p2.nrec == p1.nrec);
		FUZZ_ASSERT(p2.bytes_read == p1.bytes_read);
	}
	for (long i = 0; i < p1.nrec && i < p2.nrec && i < MAX_KEPT_RECORDS; i++)
	{
		const KeptRecord *b = &bounded[i];
		const KeptRecord *u = &unbounded[i];

		FUZZ_ASSERT(b->line_no == u->line_no);
		FUZZ_ASSERT(b->end_line_no == u->end_line_no);
		FUZZ_ASSERT(b->bytes == u->bytes);
		FUZZ_ASSERT((u->problems & CSV_PROBLEM_TOO_LONG) == 0);
		/* too long exactly when the fields need more bytes or slots than allowed */
		FUZZ_ASSERT(((b->problems & CSV_PROBLEM_TOO_LONG) != 0) ==
					(u->need > FUZZ_MAX_RECORD || u->nfields > max_fields));
		if (b->problems & CSV_PROBLEM_TOO_LONG)
			FUZZ_ASSERT((b->problems & ~CSV_PROBLEM_TOO_LONG) == u->problems);
		else
		{
			FUZZ_ASSERT(b->problems == u->problems);
			FUZZ_ASSERT(b->nfields == u->nfields);
			FUZZ_ASSERT(b->hash == u->hash);
		}
	}

	/* 4: the same bytes as UTF-16 */
	check_utf16(data, size);

	/* 3: an allocation failure somewhere: CSV_ENOMEM, nothing leaked */
	if (size > 0)
	{
		read_pass(data, size, 0, FUZZ_MAX_RECORD, -1, 1 + data[size - 1] % 10, false, NULL, &p3);
		(void) p3;
	}
	return 0;
}
