/*
 * test_csv_reader.c
 *		Unit tests of the record reader (src/csv_reader.c), outside the server.
 *
 * The reader is driven through its pull callback with block sizes of 1, 2,
 * 3, 7, 64 and 65536 bytes and a mixed pattern, so that every construct
 * also lands on a buffer boundary; each input must give the same records
 * whatever the block size.  Memory goes through a counting allocator that
 * checks the sizes the reader reports, tracks the peak and can fail on
 * demand.
 *
 * A run is rendered as text for comparison, one line per record:
 *
 *		<line_no>-<end_line_no>#<nfields>[!<problems>]:<field>|<field>...
 *
 * problems: U unterminated quote, S stray quote, T too long, N NUL byte.
 * Field bytes other than printable ASCII are escaped (\n \r \t \0 \xHH,
 * and \| \\).  The last line is the final return code: EOF, EREAD, ENOMEM.
 */
#include "csv_reader.h"
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>

/* ---------------- counting allocator ---------------- */

typedef union AllocHeader
{
	size_t		size;
	max_align_t align;
} AllocHeader;

typedef struct TAlloc
{
	size_t		outstanding;	/* bytes currently allocated */
	size_t		peak;			/* maximum of outstanding */
	long		calls;			/* alloc + realloc calls */
	long		fail_at;		/* fail the call with this number (0 = never) */
	bool		fail_after;		/* ... and every later one */
	long		failures;		/* calls failed */
	long		bad_sizes;		/* realloc old_size not the block's size */
	long		live_blocks;
} TAlloc;

static bool
t_should_fail(TAlloc *t)
{
	t->calls++;
	if (t->fail_at > 0 && (t->calls == t->fail_at || (t->fail_after && t->calls > t->fail_at)))
	{
		t->failures++;
		return true;
	}
	return false;
}

static void
t_account(TAlloc *t, size_t add, size_t sub)
{
	t->outstanding += add;
	t->outstanding -= sub;
	if (t->outstanding > t->peak)
		t->peak = t->outstanding;
}

static void *
t_alloc(void *ctx, size_t size)
{
	TAlloc	   *t = ctx;
	AllocHeader *h;

	if (t_should_fail(t))
		return NULL;
	h = malloc(sizeof(AllocHeader) + size);
	if (h == NULL)
		abort();
	h->size = size;
	t_account(t, size, 0);
	t->live_blocks++;
	return h + 1;
}

/* A moving realloc: the old block is freed, so ASan sees stale uses. */
static void *
t_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	TAlloc	   *t = ctx;
	AllocHeader *oh = (AllocHeader *) ptr - 1;
	AllocHeader *nh;

	if (oh->size != old_size)
		t->bad_sizes++;
	if (t_should_fail(t))
		return NULL;
	nh = malloc(sizeof(AllocHeader) + new_size);
	if (nh == NULL)
		abort();
	nh->size = new_size;
	memcpy(nh + 1, oh + 1, oh->size < new_size ? oh->size : new_size);
	t_account(t, new_size, 0);	/* both blocks exist for a moment */
	t_account(t, 0, oh->size);
	free(oh);
	return nh + 1;
}

static void
t_free(void *ctx, void *ptr)
{
	TAlloc	   *t = ctx;
	AllocHeader *h = (AllocHeader *) ptr - 1;

	t_account(t, 0, h->size);
	t->live_blocks--;
	free(h);
}

static csv_allocator
t_allocator(TAlloc *t)
{
	csv_allocator a = {t_alloc, t_realloc, t_free, t};

	return a;
}

/* ---------------- sources ---------------- */

/* Input from memory in blocks of the given sizes (cycled). */
typedef struct MemSrc
{
	const char *data;
	size_t		len;
	size_t		pos;
	const size_t *blocks;
	int			nblocks;
	int			bi;
	long		fail_at;		/* fail reads once pos reaches this (-1 = never) */
	bool		ended;			/* returned 0 or an error */
	long		calls_after_end;
	long		bad_caps;
} MemSrc;

static long
mem_read(void *arg, char *buf, size_t cap)
{
	MemSrc	   *m = arg;
	size_t		n;

	if (m->ended)
		m->calls_after_end++;
	if (cap == 0)
		m->bad_caps++;
	if (m->fail_at >= 0 && m->pos >= (size_t) m->fail_at)
	{
		m->ended = true;
		return -1;
	}
	n = m->blocks[m->bi];
	m->bi = (m->bi + 1) % m->nblocks;
	if (n > cap)
		n = cap;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	if (m->fail_at >= 0 && n > (size_t) m->fail_at - m->pos)
		n = (size_t) m->fail_at - m->pos;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	if (n == 0)
		m->ended = true;
	return (long) n;
}

/* Input made of repeated units, generated on the fly (never all in memory). */
typedef struct GenPart
{
	const char *unit;
	size_t		repeat;
} GenPart;

typedef struct GenSrc
{
	const GenPart *parts;
	int			nparts;
	int			part;
	size_t		rep;			/* units of the current part done */
	size_t		off;			/* bytes of the current unit done */
	uint64_t	produced;
	size_t		max_cap;
} GenSrc;

static long
gen_read(void *arg, char *buf, size_t cap)
{
	GenSrc	   *g = arg;
	size_t		n = 0;

	if (cap > g->max_cap)
		g->max_cap = cap;
	while (n < cap && g->part < g->nparts)
	{
		const GenPart *p = &g->parts[g->part];
		size_t		ulen = strlen(p->unit);
		size_t		take;

		if (g->rep >= p->repeat)
		{
			g->part++;
			g->rep = 0;
			g->off = 0;
			continue;
		}
		take = ulen - g->off;
		if (take > cap - n)
			take = cap - n;
		memcpy(buf + n, p->unit + g->off, take);
		n += take;
		g->off += take;
		if (g->off == ulen)
		{
			g->off = 0;
			g->rep++;
		}
	}
	g->produced += n;
	return (long) n;
}

/* ---------------- rendering ---------------- */

typedef struct Str
{
	char	   *p;
	size_t		len;
	size_t		cap;
} Str;

static void
str_putc(Str *s, char c)
{
	if (s->len + 2 > s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 256;
		s->p = realloc(s->p, s->cap);
		if (s->p == NULL)
			abort();
	}
	s->p[s->len++] = c;
	s->p[s->len] = '\0';
}

static void
str_printf(Str *s, const char *fmt,...)
{
	char		tmp[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	for (char *c = tmp; *c; c++)
		str_putc(s, *c);
}

static void
str_field(Str *s, const char *f, size_t len)
{
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) f[i];

		if (c == '\n')
			str_printf(s, "\\n");
		else if (c == '\r')
			str_printf(s, "\\r");
		else if (c == '\t')
			str_printf(s, "\\t");
		else if (c == 0)
			str_printf(s, "\\0");
		else if (c == '|' || c == '\\')
			str_printf(s, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			str_printf(s, "\\x%02X", c);
		else
			str_putc(s, (char) c);
	}
}

/* ---------------- running the reader ---------------- */

typedef struct RunOpts
{
	char		delim;
	size_t		max;
	const size_t *blocks;
	int			nblocks;
	long		fail_at_byte;	/* read error from this offset (-1 none) */
	long		fail_alloc_at;	/* allocator failure (0 none) */
	bool		fail_alloc_after;
} RunOpts;

typedef struct RunInfo
{
	char	   *dump;			/* malloc'd; NULL when create failed */
	char		delim;
	int			rc;
	uint64_t	bytes_read;
	long		violations;		/* invariant violations seen */
	long		alloc_failures;
	size_t		peak;
	long		allocs;
} RunInfo;

static long cur_violations;

static void
violation(const char *fmt,...)
{
	va_list		ap;

	if (cur_violations++ < 5)
	{
		fprintf(stderr, "invariant violated: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
	}
}

/* Invariants every record must satisfy; rendered into s. */
static void
render_record(Str *s, const CsvRecord *rec, long prev_end_line)
{
	static const char letters[] = "USTN";

	if (rec->nfields < 0)
		violation("nfields %d < 0", rec->nfields);
	if (rec->line_no < 1 || rec->end_line_no < rec->line_no)
		violation("lines %ld-%ld", rec->line_no, rec->end_line_no);
	if (prev_end_line > 0 && rec->line_no <= prev_end_line)
		violation("record starts on line %ld, previous ended on %ld", rec->line_no, prev_end_line);
	if ((rec->problems & CSV_PROBLEM_TOO_LONG) && rec->nfields != 0)
		violation("too long record with %d fields", rec->nfields);
	if (rec->problems & ~0x0Fu)
		violation("unknown problem bits %x", rec->problems);
	if (rec->bytes == 0)
		violation("record of 0 bytes");

	str_printf(s, "%ld-%ld#%d", rec->line_no, rec->end_line_no, rec->nfields);
	if (rec->problems)
	{
		str_putc(s, '!');
		for (int b = 0; b < 4; b++)
			if (rec->problems & (1u << b))
				str_putc(s, letters[b]);
	}
	str_putc(s, ':');
	{
		bool		any_nul = false;

		for (int i = 0; i < rec->nfields; i++)
		{
			const char *f = rec->fields[i];
			size_t		len = rec->lengths[i];
			bool		has_nul = memchr(f, 0, len) != NULL;

			if (f[len] != '\0')
				violation("field %d not NUL-terminated", i);
			if ((rec->field_nul[i] != 0) != has_nul)
				violation("field_nul[%d] = %d but NUL present = %d", i, rec->field_nul[i], has_nul);
			if (!has_nul && strlen(f) != len)
				violation("field %d: strlen %zu != length %zu", i, strlen(f), len);
			if (i > 0 && f <= rec->fields[i - 1] + rec->lengths[i - 1])
				violation("field %d overlaps field %d", i, i - 1);
			any_nul |= has_nul;
			if (i > 0)
				str_putc(s, '|');
			str_field(s, f, len);
		}
		/* (a too-long record has no fields but may still report a NUL) */
		if (!(rec->problems & CSV_PROBLEM_TOO_LONG) &&
			any_nul != ((rec->problems & CSV_PROBLEM_NUL) != 0))
			violation("CSV_PROBLEM_NUL %d but NUL fields %d", (rec->problems & CSV_PROBLEM_NUL) != 0, any_nul);
	}
	str_putc(s, '\n');
}

static const char *
rc_name(int rc)
{
	switch (rc)
	{
		case CSV_OK:
			return "OK";
		case CSV_EOF:
			return "EOF";
		case CSV_EREAD:
			return "EREAD";
		case CSV_ENOMEM:
			return "ENOMEM";
	}
	return "???";
}

static void
run(const char *in, size_t len, const RunOpts *o, RunInfo *info)
{
	static const size_t whole[] = {65536};
	TAlloc		t = {0};
	csv_allocator a;
	MemSrc		m = {0};
	CsvReader  *r;
	CsvRecord	rec;
	Str			s = {0};
	long		prev_end = 0;
	uint64_t	prev_bytes = 0;
	int			rc;

	memset(info, 0, sizeof(*info));
	cur_violations = 0;
	t.fail_at = o->fail_alloc_at;
	t.fail_after = o->fail_alloc_after;
	a = t_allocator(&t);
	m.data = in;
	m.len = len;
	m.blocks = o->blocks ? o->blocks : whole;
	m.nblocks = o->blocks ? o->nblocks : 1;
	m.fail_at = o->fail_at_byte;

	r = csv_reader_create(mem_read, &m, &a, o->delim, o->max);
	if (r == NULL)
	{
		if (t.outstanding != 0 || t.live_blocks != 0)
			violation("create failed and leaked %zu bytes", t.outstanding);
		info->alloc_failures = t.failures;
		info->violations = cur_violations;
		return;
	}
	if (csv_reader_bytes_read(r) != 0)
		violation("bytes_read before reading");
	for (;;)
	{
		uint64_t	now;

		rc = csv_next_record(r, &rec);
		if (rc != CSV_OK)
			break;
		render_record(&s, &rec, prev_end);
		prev_end = rec.end_line_no;
		now = csv_reader_bytes_read(r);
		if (now < prev_bytes + rec.bytes)
			violation("bytes_read %llu < %llu + %zu", (unsigned long long) now,
					  (unsigned long long) prev_bytes, rec.bytes);
		prev_bytes = now;
		if (s.len > 100 * 1000 * 1000)
		{
			violation("runaway output");
			break;
		}
	}
	str_printf(&s, "%s", rc_name(rc));
	/* the end is sticky */
	if (csv_next_record(r, &rec) != rc)
		violation("second call after %s returned something else", rc_name(rc));
	if (rc == CSV_EOF && csv_reader_bytes_read(r) != len)
		violation("bytes_read at EOF %llu != input length %zu",
				  (unsigned long long) csv_reader_bytes_read(r), len);
	if (rc == CSV_EREAD && o->fail_at_byte < 0)
		violation("read error without one");
	if (rc == CSV_ENOMEM && t.failures == 0)
		violation("ENOMEM without an allocation failure");
	if (rc == CSV_EOF && t.failures != 0)
		violation("an allocation failed but the reader reached EOF");
	info->delim = csv_reader_delimiter(r);
	info->bytes_read = csv_reader_bytes_read(r);
	info->rc = rc;
	csv_reader_destroy(r);

	if (t.outstanding != 0 || t.live_blocks != 0)
		violation("%zu bytes in %ld blocks still allocated after destroy", t.outstanding, t.live_blocks);
	if (t.bad_sizes)
		violation("%ld reallocs with a wrong old size", t.bad_sizes);
	if (m.calls_after_end)
		violation("read callback called %ld times after it ended", m.calls_after_end);
	if (m.bad_caps)
		violation("read callback called with cap 0");
	info->dump = s.p;			/* never NULL: the return code was appended */
	info->alloc_failures = t.failures;
	info->peak = t.peak;
	info->allocs = t.calls;
	info->violations = cur_violations;
}

/* block patterns every input is read with */
static const size_t B1[] = {1}, B2[] = {2}, B3[] = {3}, B7[] = {7}, B64[] = {64}, B64K[] = {65536};
static const size_t BMIX[] = {1, 5, 2, 64, 3, 1000, 13, 8, 4096};
static const struct
{
	const size_t *b;
	int			n;
	const char *name;
}			block_sets[] = {
	{B1, 1, "1"}, {B2, 1, "2"}, {B3, 1, "3"}, {B7, 1, "7"}, {B64, 1, "64"},
	{B64K, 1, "65536"}, {BMIX, 9, "mixed"},
};
#define NBLOCKSETS ((int) (sizeof(block_sets) / sizeof(block_sets[0])))

/*
 * Read in with every block pattern; each must render as want, keep the
 * invariants and report delimiter want_delim (0: don't check).
 */
static void
expect_full(int line, const char *in, size_t len, char delim, size_t max,
			const char *want, char want_delim)
{
	for (int b = 0; b < NBLOCKSETS; b++)
	{
		RunOpts		o = {delim, max, block_sets[b].b, block_sets[b].n, -1, 0, false};
		RunInfo		info;

		run(in, len, &o, &info);
		if (info.dump == NULL || strcmp(info.dump, want) != 0 || info.violations ||
			(want_delim && info.delim != want_delim))
			fprintf(stderr, "-- case at line %d, block size %s:\n", line, block_sets[b].name);
		CHECK_EQ_STR(info.dump, want);
		CHECK_EQ_INT(info.violations, 0);
		if (want_delim)
			CHECK_EQ_INT(info.delim, want_delim);
		free(info.dump);
	}
}

#define EXPECT(in, delim, max, want) \
	expect_full(__LINE__, in, sizeof(in) - 1, delim, max, want, 0)
#define EXPECT_DELIM(in, want_delim, want) \
	expect_full(__LINE__, in, sizeof(in) - 1, 0, 0, want, want_delim)

/* ---------------- the cases ---------------- */

static void
test_basic(void)
{
	EXPECT("h1,h2\na,b\n", ',', 0, "1-1#2:h1|h2\n2-2#2:a|b\nEOF");
	EXPECT("h1,h2\na,b", ',', 0, "1-1#2:h1|h2\n2-2#2:a|b\nEOF");
	EXPECT("a,,b,\n,\n", ',', 0, "1-1#4:a||b|\n2-2#2:|\nEOF");
	EXPECT("single\nvalue\n", ',', 0, "1-1#1:single\n2-2#1:value\nEOF");
	EXPECT(" a , b \n", ',', 0, "1-1#2: a | b \nEOF");	/* blanks are kept */
	EXPECT("a\tb;c,d\n", ',', 0, "1-1#2:a\\tb;c|d\nEOF");
	EXPECT("a\tb;c,d\n", '\t', 0, "1-1#2:a|b;c,d\nEOF");
	EXPECT("a\tb;c,d\n", ';', 0, "1-1#2:a\\tb|c,d\nEOF");
	/* invalid UTF-8 and other bytes pass through untouched */
	EXPECT("\xff\xfe,\xc3\x28\n\x01\x7f\n", ',', 0, "1-1#2:\\xFF\\xFE|\\xC3(\n2-2#1:\\x01\\x7F\nEOF");
}

static void
test_line_endings(void)
{
	EXPECT("a,b\r\nc,d\r\n", ',', 0, "1-1#2:a|b\n2-2#2:c|d\nEOF");
	EXPECT("a,b\rc,d\r", ',', 0, "1-1#2:a|b\n2-2#2:c|d\nEOF");
	EXPECT("a,b\rc,d", ',', 0, "1-1#2:a|b\n2-2#2:c|d\nEOF");
	EXPECT("a\nb\r\nc\rd", ',', 0, "1-1#1:a\n2-2#1:b\n3-3#1:c\n4-4#1:d\nEOF");
	/* \n\r is two line ends (the second starts a blank line) */
	EXPECT("a\n\rb\n", ',', 0, "1-1#1:a\n3-3#1:b\nEOF");
	EXPECT("a,b\r\r\nc\n", ',', 0, "1-1#2:a|b\n3-3#1:c\nEOF");
	EXPECT("a,\r\n", ',', 0, "1-1#2:a|\nEOF");
	EXPECT("a,\r", ',', 0, "1-1#2:a|\nEOF");
}

static void
test_blank_lines(void)
{
	/* blank lines are skipped but counted: line_no is the physical line */
	EXPECT("h\n\n\na\n", ',', 0, "1-1#1:h\n4-4#1:a\nEOF");
	EXPECT("\n\nh\na\n", ',', 0, "3-3#1:h\n4-4#1:a\nEOF");
	EXPECT("h\r\n\r\n\r\na\r\n\r\n", ',', 0, "1-1#1:h\n4-4#1:a\nEOF");
	EXPECT("h\r\r\ra\r\r", ',', 0, "1-1#1:h\n4-4#1:a\nEOF");
	EXPECT("h\n\r\n\r\n\ra", ',', 0, "1-1#1:h\n5-5#1:a\nEOF");
	EXPECT("\n\n\n", ',', 0, "EOF");
	EXPECT("\r\n\r\n", ',', 0, "EOF");
	EXPECT("\r\r", ',', 0, "EOF");
	/* a line of blanks is not blank: it is a record with one field */
	EXPECT("h\n \na\n", ',', 0, "1-1#1:h\n2-2#1: \n3-3#1:a\nEOF");
	/* a line with only a delimiter is two empty fields */
	EXPECT("h\n,\n", ',', 0, "1-1#1:h\n2-2#2:|\nEOF");
	/* "" is one empty field, not a blank line */
	EXPECT("h\n\"\"\n", ',', 0, "1-1#1:h\n2-2#1:\nEOF");
}

static void
test_quotes(void)
{
	EXPECT("\"a\",\"b\"\n", ',', 0, "1-1#2:a|b\nEOF");
	EXPECT("\"a\"\"b\",\"\"\"\"\n", ',', 0, "1-1#2:a\"b|\"\nEOF");
	EXPECT("\"\",\"\"\"\"\"\"\n", ',', 0, "1-1#2:|\"\"\nEOF");
	EXPECT("\"a,b\",c\n", ',', 0, "1-1#2:a,b|c\nEOF");
	EXPECT("\"a;b\tc\",d\n", ',', 0, "1-1#2:a;b\\tc|d\nEOF");
	/* line ends inside quotes are kept and counted */
	EXPECT("h\n\"a\nb\",c\nd\n", ',', 0, "1-1#1:h\n2-3#2:a\\nb|c\n4-4#1:d\nEOF");
	EXPECT("h\r\n\"a\r\nb\",c\r\nd\r\n", ',', 0, "1-1#1:h\n2-3#2:a\\r\\nb|c\n4-4#1:d\nEOF");
	EXPECT("\"a\rb\",c\rd\r", ',', 0, "1-2#2:a\\rb|c\n3-3#1:d\nEOF");
	EXPECT("\"\n\n\n\"\nx\n", ',', 0, "1-4#1:\\n\\n\\n\n5-5#1:x\nEOF");
	EXPECT("\"a\r\n\r\nb\"\n", ',', 0, "1-3#1:a\\r\\n\\r\\nb\nEOF");
	/* a quote inside an unquoted field is an ordinary character */
	EXPECT("a\"b,c\"\"d\n", ',', 0, "1-1#2:a\"b|c\"\"d\nEOF");
	/* leading blanks before an opening quote are dropped */
	EXPECT("  \"a\", \t\"b\"\n", ',', 0, "1-1#2:a|b\nEOF");
	/* blanks after a closing quote are dropped */
	EXPECT("\"a\"  ,\"b\" \t\n", ',', 0, "1-1#2:a|b\nEOF");
	EXPECT("\"a\" \r\n", ',', 0, "1-1#1:a\nEOF");
	EXPECT("\"a\"  ", ',', 0, "1-1#1:a\nEOF");
	/* with tab as the delimiter, a tab after the closing quote ends the field */
	EXPECT("\"a\"\t\"b\"\n", '\t', 0, "1-1#2:a|b\nEOF");
	EXPECT("\"a\" \t \"b\"\n", '\t', 0, "1-1#2:a|b\nEOF");
	/* quoted empty last field */
	EXPECT("a,\"\"\n", ',', 0, "1-1#2:a|\nEOF");
	/* quoted fields with a forced semicolon */
	EXPECT("\"a;b\";\"c\"\"\"\n", ';', 0, "1-1#2:a;b|c\"\nEOF");
}

static void
test_stray_quote(void)
{
	/* text after a closing quote: kept, and the record is flagged */
	EXPECT("\"a\"b,c\n", ',', 0, "1-1#2!S:ab|c\nEOF");
	EXPECT("h\n\"a\"b\"c\",d\n", ',', 0, "1-1#1:h\n2-2#2!S:ab\"c\"|d\nEOF");
	/* blanks between the quote and the stray text are dropped */
	EXPECT("\"a\"  x,b\n", ',', 0, "1-1#2!S:ax|b\nEOF");
	EXPECT("\"a\" \"b\"\n", ',', 0, "1-1#1!S:a\"b\"\nEOF");
	/* only the record with the stray text is flagged */
	EXPECT("\"a\"x\n\"b\"\n", ',', 0, "1-1#1!S:ax\n2-2#1:b\nEOF");
	/* a delimiter other than the one in use is stray text */
	EXPECT("\"a\";b\n", ',', 0, "1-1#1!S:a;b\nEOF");
}

static void
test_unterminated_quote(void)
{
	EXPECT("h\n\"abc", ',', 0, "1-1#1:h\n2-2#1!U:abc\nEOF");
	EXPECT("h\n\"abc\n", ',', 0, "1-1#1:h\n2-3#1!U:abc\\n\nEOF");
	EXPECT("h\nx,\"a,b\nc,d\n\ne\n", ',', 0, "1-1#1:h\n2-6#2!U:x|a,b\\nc,d\\n\\ne\\n\nEOF");
	EXPECT("\"", ',', 0, "1-1#1!U:\nEOF");
	EXPECT("a,\"", ',', 0, "1-1#2!U:a|\nEOF");
	EXPECT("\"a\"\"", ',', 0, "1-1#1!U:a\"\nEOF");
}

static void
test_nul(void)
{
	EXPECT("a\0b,c\n", ',', 0, "1-1#2!N:a\\0b|c\nEOF");
	EXPECT("x,\"\0\"\ny\n", ',', 0, "1-1#2!N:x|\\0\n2-2#1:y\nEOF");
	EXPECT("\0\n", ',', 0, "1-1#1!N:\\0\nEOF");
	EXPECT("\0\0,\0\n", ',', 0, "1-1#2!N:\\0\\0|\\0\nEOF");

	/* lengths count the NUL, field_nul marks the field */
	{
		static const char in[] = "ab\0cd,ef,\"\0\"\n";
		static const size_t blocks[] = {1};
		TAlloc		t = {0};
		csv_allocator a = t_allocator(&t);
		MemSrc		m = {in, sizeof(in) - 1, 0, blocks, 1, 0, -1, false, 0, 0};
		CsvReader  *r = csv_reader_create(mem_read, &m, &a, ',', 0);
		CsvRecord	rec;

		CHECK(r != NULL);
		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_OK);
		CHECK_EQ_INT(rec.nfields, 3);
		CHECK_EQ_INT(rec.lengths[0], 5);
		CHECK(memcmp(rec.fields[0], "ab\0cd", 6) == 0);
		CHECK_EQ_INT(rec.field_nul[0], 1);
		CHECK_EQ_INT(rec.lengths[1], 2);
		CHECK_EQ_INT(rec.field_nul[1], 0);
		CHECK_EQ_INT(rec.lengths[2], 1);
		CHECK_EQ_INT(rec.field_nul[2], 1);
		CHECK_EQ_INT(rec.problems, CSV_PROBLEM_NUL);
		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_EOF);
		csv_reader_destroy(r);
		CHECK_EQ_INT(t.outstanding, 0);
	}
}

static void
test_bom(void)
{
	EXPECT("\xEF\xBB\xBFh1,h2\na,b\n", ',', 0, "1-1#2:h1|h2\n2-2#2:a|b\nEOF");
	EXPECT_DELIM("\xEF\xBB\xBFh1;h2\na;b\n", ';', "1-1#2:h1|h2\n2-2#2:a|b\nEOF");
	EXPECT("\xEF\xBB\xBF", ',', 0, "EOF");
	EXPECT("\xEF\xBB\xBF", 0, 0, "EOF");
	EXPECT("\xEF\xBB\xBF\n\nh\n", 0, 0, "3-3#1:h\nEOF");
	EXPECT("\xEF\xBB\xBF\"q\"\n", ',', 0, "1-1#1:q\nEOF");
	/* only at the very start, and only whole */
	EXPECT("\xEF\xBB\xBF\xEF\xBB\xBFh\n", ',', 0, "1-1#1:\\xEF\\xBB\\xBFh\nEOF");
	EXPECT("h\n\xEF\xBB\xBFx\n", ',', 0, "1-1#1:h\n2-2#1:\\xEF\\xBB\\xBFx\nEOF");
	EXPECT("\xEF\xBB", ',', 0, "1-1#1:\\xEF\\xBB\nEOF");
	EXPECT("\xEF\xBBx\n", 0, 0, "1-1#1:\\xEF\\xBBx\nEOF");
	EXPECT("\xEF", 0, 0, "1-1#1:\\xEF\nEOF");
}

static void
test_delimiter_detection(void)
{
	EXPECT_DELIM("a,b,c\n1,2,3\n", ',', "1-1#3:a|b|c\n2-2#3:1|2|3\nEOF");
	EXPECT_DELIM("a\tb\tc\n1\t2\t3\n", '\t', "1-1#3:a|b|c\n2-2#3:1|2|3\nEOF");
	EXPECT_DELIM("a;b;c\n1;2;3\n", ';', "1-1#3:a|b|c\n2-2#3:1|2|3\nEOF");
	/* majority wins */
	EXPECT_DELIM("a;b;c,d\n", ';', "1-1#3:a|b|c,d\nEOF");
	EXPECT_DELIM("a\tb;c;d,e\n", ';', "1-1#3:a\\tb|c|d,e\nEOF");
	/* ties: comma wins against either; tab against semicolon */
	EXPECT_DELIM("a\tb\tc;d;e,f\n", '\t', "1-1#3:a|b|c;d;e,f\nEOF");
	EXPECT_DELIM("a,b;c\n", ',', "1-1#2:a|b;c\nEOF");
	EXPECT_DELIM("a,b\tc\n", ',', "1-1#2:a|b\\tc\nEOF");
	EXPECT_DELIM("a\tb;c\n", '\t', "1-1#2:a|b;c\nEOF");
	EXPECT_DELIM("a,b\tc;d\n", ',', "1-1#2:a|b\\tc;d\nEOF");
	/* no delimiter at all: comma */
	EXPECT_DELIM("abc\n", ',', "1-1#1:abc\nEOF");
	EXPECT_DELIM("", ',', "EOF");
	/* delimiters inside quotes do not count */
	EXPECT_DELIM("\"a;b;c\",d\n", ',', "1-1#2:a;b;c|d\nEOF");
	EXPECT_DELIM("\"a,b,c\"\t\"d\"\"\"\n", '\t', "1-1#2:a,b,c|d\"\nEOF");
	EXPECT_DELIM("\"x\ny,z,w\";v\n", ';', "1-2#2:x\\ny,z,w|v\nEOF");
	/* only the header line counts, not the records after it */
	EXPECT_DELIM("a;b\n1,2,3,4,5\n", ';', "1-1#2:a|b\n2-2#1:1,2,3,4,5\nEOF");
	EXPECT_DELIM("a;b\r1,2,3,4,5\r", ';', "1-1#2:a|b\n2-2#1:1,2,3,4,5\nEOF");
	/* ... even when the header has no delimiter (one column) */
	EXPECT_DELIM("email\nx;y\n", ',', "1-1#1:email\n2-2#1:x;y\nEOF");
	EXPECT_DELIM("email\r\n\t\t\n", ',', "1-1#1:email\n2-2#1:\\t\\t\nEOF");
	/* leading blank lines are passed over */
	EXPECT_DELIM("\n\r\n\ra;b\n", ';', "4-4#2:a|b\nEOF");
	/* a BOM is not part of the header */
	EXPECT_DELIM("\xEF\xBB\xBF\t\n", '\t', "1-1#2:|\nEOF");
	/* a forced delimiter is not second-guessed */
	EXPECT("a;b;c\n", ',', 0, "1-1#1:a;b;c\nEOF");
	EXPECT("a,b,c\n", '\t', 0, "1-1#1:a,b,c\nEOF");

	/* the reported delimiter when forced */
	{
		static const char in[] = "a;b\n";
		RunOpts		o = {'\t', 0, NULL, 0, -1, 0, false};
		RunInfo		info;

		run(in, sizeof(in) - 1, &o, &info);
		CHECK_EQ_INT(info.delim, '\t');
		free(info.dump);
	}

	/* the scan stops at max_record_bytes: a semicolon beyond it is not seen */
	{
		char		in[200];
		RunOpts		o = {0, 64, NULL, 0, -1, 0, false};
		RunInfo		info;

		memset(in, 'x', sizeof(in));
		in[100] = ';';
		in[199] = '\n';
		run(in, sizeof(in), &o, &info);
		CHECK_EQ_INT(info.delim, ',');
		CHECK_EQ_STR(info.dump, "1-1#0!T:\nEOF");
		free(info.dump);
		in[30] = ';';
		run(in, sizeof(in), &o, &info);
		CHECK_EQ_INT(info.delim, ';');
		free(info.dump);
	}
}

static void
test_empty_and_header_only(void)
{
	EXPECT("", ',', 0, "EOF");
	EXPECT("", 0, 0, "EOF");
	EXPECT("", 0, 10, "EOF");
	EXPECT("a,b,c", 0, 0, "1-1#3:a|b|c\nEOF");
	EXPECT("a,b,c\n", 0, 0, "1-1#3:a|b|c\nEOF");
	EXPECT("a,b,c\r\n\r\n\n", 0, 0, "1-1#3:a|b|c\nEOF");

	/* CSV_EOF at once, and the record is cleared */
	{
		static const size_t blocks[] = {7};
		TAlloc		t = {0};
		csv_allocator a = t_allocator(&t);
		MemSrc		m = {"", 0, 0, blocks, 1, 0, -1, false, 0, 0};
		CsvReader  *r = csv_reader_create(mem_read, &m, &a, 0, 0);
		CsvRecord	rec;

		memset(&rec, 0x5A, sizeof(rec));
		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_EOF);
		CHECK_EQ_INT(rec.nfields, 0);
		CHECK_EQ_INT(csv_reader_bytes_read(r), 0);
		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_EOF);
		csv_reader_destroy(r);
		CHECK_EQ_INT(t.outstanding, 0);
	}
}

static void
test_bytes_read(void)
{
	static const char in[] = "\xEF\xBB\xBFh1,h2\r\n\r\n\"a\nb\",c\r\nlast";
	static const size_t blocks[] = {3};
	TAlloc		t = {0};
	csv_allocator a = t_allocator(&t);
	MemSrc		m = {in, sizeof(in) - 1, 0, blocks, 1, 0, -1, false, 0, 0};
	CsvReader  *r = csv_reader_create(mem_read, &m, &a, 0, 0);
	CsvRecord	rec;

	CHECK_EQ_INT(csv_reader_bytes_read(r), 0);
	CHECK_EQ_INT(csv_next_record(r, &rec), CSV_OK);
	CHECK_EQ_INT(rec.bytes, 7);	/* h1,h2\r\n; the BOM is before the record */
	CHECK_EQ_INT(csv_reader_bytes_read(r), 10);
	CHECK_EQ_INT(csv_next_record(r, &rec), CSV_OK);
	CHECK_EQ_INT(rec.line_no, 3);
	CHECK_EQ_INT(rec.end_line_no, 4);
	CHECK_EQ_INT(rec.bytes, 9);	/* "a\nb",c\r\n; the blank line is not */
	CHECK_EQ_INT(csv_reader_bytes_read(r), 21);
	CHECK_EQ_INT(csv_next_record(r, &rec), CSV_OK);
	CHECK_EQ_INT(rec.line_no, 5);
	CHECK_EQ_INT(rec.bytes, 4);
	CHECK_EQ_INT(csv_reader_bytes_read(r), 25);
	CHECK_EQ_INT(csv_next_record(r, &rec), CSV_EOF);
	CHECK_EQ_INT(csv_reader_bytes_read(r), sizeof(in) - 1);
	csv_reader_destroy(r);
	CHECK_EQ_INT(t.outstanding, 0);
}

static void
test_max_record_bytes(void)
{
	/* the bound counts field bytes plus one terminator per field */
	EXPECT("abc\nxy\n", ',', 4, "1-1#1:abc\n2-2#1:xy\nEOF");
	EXPECT("abc\nxy\n", ',', 3, "1-1#0!T:\n2-2#1:xy\nEOF");
	EXPECT("a,b\nc\n", ',', 4, "1-1#2:a|b\n2-2#1:c\nEOF");
	EXPECT("a,b\nc\n", ',', 3, "1-1#0!T:\n2-2#1:c\nEOF");
	EXPECT("a,b,\nc\n", ',', 4, "1-1#0!T:\n2-2#1:c\nEOF");
	EXPECT("a,b,\nc\n", ',', 5, "1-1#3:a|b|\n2-2#1:c\nEOF");
	/* quotes and escapes are not stored, so they do not count */
	EXPECT("\"a\"\"b\"\nc\n", ',', 4, "1-1#1:a\"b\n2-2#1:c\nEOF");
	EXPECT("\"a\"\"bc\"\nc\n", ',', 4, "1-1#0!T:\n2-2#1:c\nEOF");
	/* a long record is skipped to its real end, quoted newlines included */
	EXPECT("h\n\"long\nlong\nlong\",x\nnext,1\n", ',', 8,
		   "1-1#1:h\n2-4#0!T:\n5-5#2:next|1\nEOF");
	EXPECT("h\r\nxxxxxxxxxxxxxxxxxxxx\r\n\r\nnext\r\n", ',', 8,
		   "1-1#1:h\n2-2#0!T:\n4-4#1:next\nEOF");
	/* other problems of a too-long record are still reported */
	EXPECT("h\n\"xxxxxxxxxxxxxxxxxx\"y\nn\n", ',', 8, "1-1#1:h\n2-2#0!ST:\n3-3#1:n\nEOF");
	EXPECT("h\n\"xxxxxxxxxxxxxxxxxx", ',', 8, "1-1#1:h\n2-2#0!UT:\nEOF");
	/* the header itself may be too long */
	EXPECT("aaaaaaaaaa,b\nc,d\n", 0, 8, "1-1#0!T:\n2-2#2:c|d\nEOF");
	/* too long at EOF without a newline */
	EXPECT("h\nxxxxxxxxxxxxxx", ',', 8, "1-1#1:h\n2-2#0!T:\nEOF");
	/*
	 * The field table counts against the bound as well: its arrays (25
	 * bytes a field on 64-bit) start at 32 fields and double only while
	 * they fit in max_record_bytes.  4096 bytes: 128 fields, not 129.
	 */
	for (int nf = 126; nf <= 131; nf++)
	{
		Str			in = {0};
		static const size_t blocks[] = {5};
		TAlloc		t = {0};
		csv_allocator a = t_allocator(&t);
		MemSrc		m = {0};
		CsvReader  *r;
		CsvRecord	rec;
		bool		fits = (nf <= 128 || sizeof(size_t) + sizeof(size_t) + sizeof(char *) + 1 != 25);

		for (int i = 0; i < nf; i++)
			str_printf(&in, "%sf", i ? "," : "");
		str_printf(&in, "\nnext\n");
		m.data = in.p;
		m.len = in.len;
		m.blocks = blocks;
		m.nblocks = 1;
		m.fail_at = -1;
		r = csv_reader_create(mem_read, &m, &a, ',', 4096);
		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_OK);
		CHECK_EQ_INT(rec.nfields, fits ? nf : 0);
		CHECK_EQ_INT(rec.problems, fits ? 0 : CSV_PROBLEM_TOO_LONG);
		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_OK);
		CHECK_EQ_INT(rec.line_no, 2);
		CHECK_EQ_STR(rec.fields[0], "next");
		csv_reader_destroy(r);
		CHECK_EQ_INT(t.outstanding, 0);
		free(in.p);
	}
	/* 32 fields are always allowed (the bytes still count) */
	EXPECT("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,0,1,2,3,4,5\n", ',', 64,
		   "1-1#32:a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z|0|1|2|3|4|5\nEOF");
	EXPECT("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,0,1,2,3,4,5\n", ',', 63,
		   "1-1#0!T:\nEOF");
	EXPECT("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,0,1,2,3,4,5,6\n", ',', 100,
		   "1-1#0!T:\nEOF");
	/* 0 means unbounded */
	EXPECT("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", ',', 0,
		   "1-1#1:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nEOF");
}

/* ---------------- large inputs and memory ---------------- */

static void
read_generated(const GenPart *parts, int nparts, char delim, size_t max,
			   const char *want_dump, size_t peak_limit, uint64_t want_bytes)
{
	TAlloc		t = {0};
	csv_allocator a = t_allocator(&t);
	GenSrc		g = {parts, nparts, 0, 0, 0, 0, 0};
	CsvReader  *r = csv_reader_create(gen_read, &g, &a, delim, max);
	CsvRecord	rec;
	Str			s = {0};
	int			rc;

	cur_violations = 0;
	CHECK(r != NULL);
	if (r == NULL)
		return;
	while ((rc = csv_next_record(r, &rec)) == CSV_OK)
		render_record(&s, &rec, 0);
	str_printf(&s, "%s", rc_name(rc));
	CHECK_EQ_STR(s.p, want_dump);
	CHECK_EQ_INT(cur_violations, 0);
	CHECK_EQ_INT(csv_reader_bytes_read(r), want_bytes);
	CHECK_EQ_INT(g.produced, want_bytes);
	csv_reader_destroy(r);
	if (t.peak >= peak_limit)
		fprintf(stderr, "peak allocation %zu >= %zu\n", t.peak, peak_limit);
	CHECK(t.peak < peak_limit);
	CHECK_EQ_INT(t.outstanding, 0);
	CHECK_EQ_INT(t.bad_sizes, 0);
	free(s.p);
}

/*
 * With a bound of 1 MB the reader may hold the input buffer (up to the
 * bound while it looks for the delimiter), the record (up to twice the
 * bound, as it doubles) and, while growing, the old record buffer: a few MB
 * in all, however long the input.
 */
#define MB ((size_t) 1024 * 1024)
#define PEAK_LIMIT (5 * MB)

static void
test_large_inputs(void)
{
	/* 1,000,000 fields in one record, 1 MB bound: skipped in bounded memory */
	{
		GenPart		p[] = {{"x,", 999999}, {"x\n", 1}, {"tail,end\n", 1}};

		read_generated(p, 3, ',', MB, "1-1#0!T:\n2-2#2:tail|end\nEOF", PEAK_LIMIT, 2000000 + 9);
		read_generated(p, 3, 0, MB, "1-1#0!T:\n2-2#2:tail|end\nEOF", PEAK_LIMIT, 2000000 + 9);
	}
	/* ... also when the fields are empty (1,000,000 bytes of field data) */
	{
		GenPart		p[] = {{"h\n", 1}, {",", 999999}, {"\n", 1}, {"tail,end\n", 1}};

		read_generated(p, 4, ',', MB, "1-1#1:h\n2-2#0!T:\n3-3#2:tail|end\nEOF", PEAK_LIMIT, 2 + 999999 + 1 + 9);
	}
	/* a record of many fields within the bound is read in full */
	{
		GenPart		p[] = {{"ab,", 19999}, {"ab\n", 1}};
		TAlloc		t = {0};
		csv_allocator a = t_allocator(&t);
		GenSrc		g = {p, 2, 0, 0, 0, 0, 0};
		CsvReader  *r = csv_reader_create(gen_read, &g, &a, ',', MB);
		CsvRecord	rec;
		long		bad = 0;

		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_OK);
		CHECK_EQ_INT(rec.nfields, 20000);
		CHECK_EQ_INT(rec.problems, 0);
		for (int i = 0; i < rec.nfields; i++)
			if (rec.lengths[i] != 2 || strcmp(rec.fields[i], "ab") != 0)
				bad++;
		CHECK_EQ_INT(bad, 0);
		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_EOF);
		csv_reader_destroy(r);
		CHECK(t.peak < 3 * MB);
		CHECK_EQ_INT(t.outstanding, 0);
	}
	/* 50 MB without a newline, generated on the fly, 1 MB bound */
	{
		GenPart		p[] = {{"abcdefghijklmnopqrstuvwxyz012345", 50 * MB / 32}};

		read_generated(p, 1, ',', MB, "1-1#0!T:\nEOF", PEAK_LIMIT, 50 * MB);
		read_generated(p, 1, 0, MB, "1-1#0!T:\nEOF", PEAK_LIMIT, 50 * MB);
	}
	/* 50 MB inside one quoted field that never closes */
	{
		GenPart		p[] = {{"h\n\"", 1}, {"a,b\r\nc;d\n\"\"", 50 * MB / 11}};

		/* two line ends per unit */
		read_generated(p, 2, 0, MB, "1-1#1:h\n2-9532510#0!UT:\nEOF", PEAK_LIMIT,
					   3 + (uint64_t) 11 * (50 * MB / 11));
	}
	/* unbounded reading of a 3 MB record works (and needs that memory) */
	{
		GenPart		p[] = {{"0123456789abcdef", 3 * MB / 16}, {",z\n", 1}};
		TAlloc		t = {0};
		csv_allocator a = t_allocator(&t);
		GenSrc		g = {p, 2, 0, 0, 0, 0, 0};
		CsvReader  *r = csv_reader_create(gen_read, &g, &a, 0, 0);
		CsvRecord	rec;

		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_OK);
		CHECK_EQ_INT(rec.nfields, 2);
		CHECK_EQ_INT(rec.lengths[0], 3 * MB);
		CHECK(memcmp(rec.fields[0] + 3 * MB - 16, "0123456789abcdef", 16) == 0);
		CHECK_EQ_STR(rec.fields[1], "z");
		CHECK_EQ_INT(csv_next_record(r, &rec), CSV_EOF);
		csv_reader_destroy(r);
		CHECK(t.peak > 3 * MB);
		CHECK_EQ_INT(t.outstanding, 0);
	}
}

/* ---------------- read errors and allocation failures ---------------- */

static const char err_input[] =
"\xEF\xBB\xBFid;name;note\r\n"
"1;\"Smith; John\";\"line one\r\nline two\"\r\n"
"\r\n"
"2;Doe;\"say \"\"hi\"\"\"\r"
"3;x\0y;z\n"
"4;\"unterminated";

static void
test_read_errors(void)
{
	RunOpts		full = {0, 0, B3, 1, -1, 0, false};
	RunInfo		ref;
	long		bad = 0;

	run(err_input, sizeof(err_input) - 1, &full, &ref);
	CHECK_EQ_STR(ref.dump,
				 "1-1#3:id|name|note\n"
				 "2-3#3:1|Smith; John|line one\\r\\nline two\n"
				 "5-5#3:2|Doe|say \"hi\"\n"
				 "6-6#3!N:3|x\\0y|z\n"
				 "7-7#2!U:4|unterminated\n"
				 "EOF");
	CHECK_EQ_INT(ref.delim, ';');

	/* a read error at every offset: CSV_EREAD, records so far a prefix */
	for (int b = 0; b < NBLOCKSETS; b++)
		for (long at = 0; at <= (long) sizeof(err_input) - 1; at++)
		{
			RunOpts		o = {0, 0, block_sets[b].b, block_sets[b].n, at, 0, false};
			RunInfo		info;

			run(err_input, sizeof(err_input) - 1, &o, &info);
			if (info.rc != CSV_EREAD || info.violations ||
				strncmp(ref.dump, info.dump, strlen(info.dump) - strlen("EREAD")) != 0)
			{
				if (bad++ < 3)
					fprintf(stderr, "read error at %ld, blocks %s: %s\n", at, block_sets[b].name, info.dump);
			}
			free(info.dump);
		}
	CHECK_EQ_INT(bad, 0);
	free(ref.dump);

	/* an error on the very first read */
	{
		RunOpts		o = {',', 0, NULL, 0, 0, 0, false};
		RunInfo		info;

		run("a,b\n", 4, &o, &info);
		CHECK_EQ_STR(info.dump, "EREAD");
		CHECK_EQ_INT(info.violations, 0);
		free(info.dump);
	}
}

static void
test_alloc_failures(void)
{
	/* an input that makes every buffer grow: long header, many fields, long value */
	Str			in = {0};
	RunOpts		full = {0, 0, B7, 1, -1, 0, false};
	RunInfo		ref;
	long		create_failures = 0,
				read_failures = 0,
				bad = 0;

	for (int i = 0; i < 100; i++)
	{
		str_printf(&in, "%scolumn_%d", i ? ";" : "", i);
		for (int k = 0; k < 700; k++)
			str_putc(&in, 'n');
	}
	str_printf(&in, "\n");
	for (int i = 0; i < 100; i++)
		str_printf(&in, "%s%d", i ? ";" : "", i);
	str_printf(&in, "\n\"");
	for (int k = 0; k < 5000; k++)
		str_putc(&in, k % 50 == 0 ? '\n' : 'v');
	str_printf(&in, "\"\n");

	run(in.p, in.len, &full, &ref);
	CHECK_EQ_INT(ref.rc, CSV_EOF);
	CHECK_EQ_INT(ref.violations, 0);
	CHECK(ref.allocs > 10);		/* creation + growth of every buffer */

	for (int after = 0; after < 2; after++)
		for (long n = 1; n <= ref.allocs; n++)
		{
			RunOpts		o = {0, 0, B7, 1, -1, n, after == 1};
			RunInfo		info;

			run(in.p, in.len, &o, &info);
			if (info.dump == NULL)
				create_failures++;
			else
			{
				read_failures++;
				if (info.rc != CSV_ENOMEM ||
					strncmp(ref.dump, info.dump, strlen(info.dump) - strlen("ENOMEM")) != 0)
					bad++;
			}
			if (info.violations || info.alloc_failures == 0)
				bad++;
			free(info.dump);
		}
	CHECK_EQ_INT(bad, 0);
	CHECK(create_failures >= 2 * 6);	/* each allocation of create */
	CHECK(read_failures >= 2 * 4);	/* buffer, record, field slot growth */
	free(ref.dump);
	free(in.p);
}

/* ---------------- round trip of random records ---------------- */

static uint64_t rng_state = UINT64_C(0x243F6A8885A308D3);

static uint64_t
rng(void)
{
	uint64_t	z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static unsigned
rnd(unsigned n)
{
	return (unsigned) (rng() % n);
}

/*
 * Write random records as CSV (quoting where needed, random line ends,
 * blank lines, BOM) and check that the reader gives back exactly the
 * values, the line numbers and, under a random bound, TOO_LONG exactly
 * when the values need more than max_record_bytes.
 */
static void
test_round_trip(void)
{
	static const char alphabet[] = "abc ,;\t\"\r\n\0\xEF\xBB\xBF\xC3\xA9xyz";
	long		bad = 0;

	for (int iter = 0; iter < 3000; iter++)
	{
		Str			csv = {0};
		Str			want = {0};
		char		delim = ",\t;"[rnd(3)];
		size_t		max = rnd(4) == 0 ? 0 : 1 + rnd(60);
		int			nrec = (int) rnd(6);
		long		line = 1;
		int			prev_end = 0;	/* 0 none, 1 LF, 2 CR, 3 CRLF */

		if (rnd(4) == 0)
			str_printf(&csv, "\xEF\xBB\xBF");
		for (int r = 0; r < nrec; r++)
		{
			int			nf = 1 + (int) rnd(5);
			size_t		need = 0;
			long		first_line;
			Str			vals = {0};
			bool		nul = false;

			/* blank lines before the record */
			for (int k = (int) rnd(3); k > 0; k--)
			{
				int			e = (prev_end == 2) ? 2 + (int) rnd(2) : 1 + (int) rnd(3);

				str_printf(&csv, e == 1 ? "\n" : e == 2 ? "\r" : "\r\n");
				prev_end = e;
				line++;
			}
			first_line = line;
			for (int f = 0; f < nf; f++)
			{
				char		v[16];
				int			vl = (int) rnd(8);
				bool		quote = rnd(3) == 0;

				for (int i = 0; i < vl; i++)
				{
					v[i] = alphabet[rnd(sizeof(alphabet) - 1)];
					if (v[i] == delim || v[i] == '"' || v[i] == '\r' || v[i] == '\n')
						quote = true;
				}
				if (vl > 0 && (v[0] == ' ' || v[0] == '\t'))
					quote = true;
				if (nf == 1 && vl == 0)
					quote = true;	/* else it is a blank line */
				if (r == 0 && f == 0 && csv.len == 0 && vl > 0 && (unsigned char) v[0] == 0xEF)
					quote = true;	/* else it could read as a BOM */
				need += (size_t) vl + 1;
				if (f > 0)
				{
					str_putc(&csv, delim);
					str_putc(&vals, '|');
				}
				if (quote)
					str_putc(&csv, '"');
				for (int i = 0; i < vl; i++)
				{
					if (v[i] == '"')
						str_putc(&csv, '"');
					str_putc(&csv, v[i]);
					if (v[i] == '\n' && !(i > 0 && v[i - 1] == '\r'))
						line++;
					else if (v[i] == '\r')
						line++;
					if (v[i] == '\0')
						nul = true;
				}
				if (quote)
					str_putc(&csv, '"');
				str_field(&vals, v, (size_t) vl);
			}
			if (max && need > max)
				str_printf(&want, "%ld-%ld#0!T%s:\n", first_line, line, nul ? "N" : "");
			else
				str_printf(&want, "%ld-%ld#%d%s:%s\n", first_line, line, nf, nul ? "!N" : "", vals.p ? vals.p : "");
			free(vals.p);
			/* the line end (the last record may have none) */
			if (r < nrec - 1 || rnd(2))
			{
				int			e = 1 + (int) rnd(3);

				str_printf(&csv, e == 1 ? "\n" : e == 2 ? "\r" : "\r\n");
				prev_end = e;
				line++;
			}
			else
				prev_end = 0;
		}
		str_printf(&want, "EOF");

		for (int b = 0; b < 3; b++)
		{
			static const size_t *const bs[] = {B1, B7, BMIX};
			RunOpts		o = {delim, max, bs[b], b == 2 ? 9 : 1, -1, 0, false};
			RunInfo		info;

			run(csv.p ? csv.p : "", csv.len, &o, &info);
			if (strcmp(info.dump, want.p) != 0 || info.violations)
			{
				if (bad++ < 3)
				{
					fprintf(stderr, "round trip %d (delim %d, max %zu):\n  input: ", iter, delim, max);
					{
						Str			e = {0};

						str_field(&e, csv.p ? csv.p : "", csv.len);
						fprintf(stderr, "%s\n  got:\n%s\n  want:\n%s\n", e.p ? e.p : "", info.dump, want.p);
						free(e.p);
					}
				}
			}
			free(info.dump);
		}
		free(csv.p);
		free(want.p);
	}
	CHECK_EQ_INT(bad, 0);
}

/*
 * Random byte soup: the same records whatever the block size, and the
 * invariants hold.
 */
static void
test_block_size_independence(void)
{
	static const char alphabet[] = "a,;\t\"\"\r\n \0\xEF\xBB\xBF";
	long		bad = 0;

	for (int iter = 0; iter < 3000; iter++)
	{
		char		in[300];
		size_t		len = rnd(sizeof(in));
		size_t		max = rnd(3) == 0 ? 0 : 1 + rnd(40);
		char		delim = (char) "\0,\t;"[rnd(4)];
		RunOpts		o = {delim, max, B64K, 1, -1, 0, false};
		RunInfo		ref;

		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rnd(sizeof(alphabet) - 1)];
		run(in, len, &o, &ref);
		if (ref.violations)
			bad++;
		for (int b = 0; b < NBLOCKSETS - 1; b++)
		{
			RunInfo		info;

			o.blocks = block_sets[b].b;
			o.nblocks = block_sets[b].n;
			run(in, len, &o, &info);
			if (strcmp(info.dump, ref.dump) != 0 || info.violations || info.delim != ref.delim)
			{
				if (bad++ < 3)
					fprintf(stderr, "blocks %s differ:\n%s\n---\n%s\n", block_sets[b].name, info.dump, ref.dump);
			}
			free(info.dump);
		}
		free(ref.dump);
	}
	CHECK_EQ_INT(bad, 0);
}

/* ---------------- UTF-16 input ---------------- */

static void
check_utf16(const char *in, size_t inlen, int want_rc, const char *want, size_t want_len,
			size_t want_bad)
{
	TAlloc		t = {0};
	csv_allocator a = t_allocator(&t);
	char	   *p = malloc(inlen ? inlen : 1);
	char	   *out = NULL;
	size_t		outlen = 0;
	size_t		bad = (size_t) -1;
	int			rc;

	memcpy(p, in, inlen);
	rc = csv_utf16_to_utf8(p, inlen, &a, &out, &outlen, &bad);
	CHECK_EQ_INT(rc, want_rc);
	if (rc == CSV_UTF16_OK)
	{
		CHECK_EQ_INT(outlen, want_len);
		CHECK(memcmp(out, want, want_len) == 0);
		CHECK(out[outlen] == '\0');
		CHECK(outlen <= (inlen / 2) * 3);
		t_free(&t, out);
	}
	if (rc == CSV_UTF16_INVALID)
		CHECK_EQ_INT(bad, want_bad);
	CHECK_EQ_INT(t.live_blocks, 0);
	free(p);
}

static void
test_utf16(void)
{
	/* no byte order mark: nothing done */
	check_utf16("email\n", 6, CSV_UTF16_NONE, NULL, 0, 0);
	check_utf16("\xFF", 1, CSV_UTF16_NONE, NULL, 0, 0);
	check_utf16("", 0, CSV_UTF16_NONE, NULL, 0, 0);
	check_utf16("\xEF\xBB\xBF" "a", 4, CSV_UTF16_NONE, NULL, 0, 0);	/* UTF-8 BOM */
	/* little-endian: "a,\u00e9\n" */
	check_utf16("\xFF\xFE" "a\0,\0\xE9\0\n\0", 10, CSV_UTF16_OK, "a,\xC3\xA9\n", 5, 0);
	/* big-endian, the mark alone */
	check_utf16("\xFE\xFF\0a\0\n", 6, CSV_UTF16_OK, "a\n", 2, 0);
	check_utf16("\xFF\xFE", 2, CSV_UTF16_OK, "", 0, 0);
	/* three-byte (euro sign, narrow NBSP) and four-byte (surrogate pair) characters */
	check_utf16("\xFF\xFE\xAC\x20\x2F\x20", 6, CSV_UTF16_OK, "\xE2\x82\xAC\xE2\x80\xAF", 6, 0);
	check_utf16("\xFF\xFE\x3D\xD8\x00\xDE", 6, CSV_UTF16_OK, "\xF0\x9F\x98\x80", 4, 0);
	check_utf16("\xFE\xFF\xD8\x3D\xDE\x00", 6, CSV_UTF16_OK, "\xF0\x9F\x98\x80", 4, 0);
	/* a NUL character stays a NUL byte (the reader flags it) */
	check_utf16("\xFF\xFE" "a\0\0\0", 6, CSV_UTF16_OK, "a\0", 2, 0);
	/* invalid: odd length, lone or reversed surrogates */
	check_utf16("\xFF\xFE" "a\0b", 5, CSV_UTF16_INVALID, NULL, 0, 4);
	check_utf16("\xFF\xFE" "a\0\x3D\xD8", 6, CSV_UTF16_INVALID, NULL, 0, 4);
	check_utf16("\xFF\xFE\x3D\xD8" "a\0", 6, CSV_UTF16_INVALID, NULL, 0, 2);
	check_utf16("\xFF\xFE\x00\xDE\x3D\xD8", 6, CSV_UTF16_INVALID, NULL, 0, 2);
	/* allocation failure */
	{
		TAlloc		t = {0};
		csv_allocator a = t_allocator(&t);
		char	   *out = NULL;
		size_t		outlen = 0,
					bad = 0;

		t.fail_at = 1;
		CHECK_EQ_INT(csv_utf16_to_utf8("\xFF\xFE" "a\0", 4, &a, &out, &outlen, &bad), CSV_UTF16_ENOMEM);
		CHECK(out == NULL);
	}
}

int
main(void)
{
	test_basic();
	test_line_endings();
	test_blank_lines();
	test_quotes();
	test_stray_quote();
	test_unterminated_quote();
	test_nul();
	test_bom();
	test_delimiter_detection();
	test_empty_and_header_only();
	test_bytes_read();
	test_max_record_bytes();
	test_large_inputs();
	test_read_errors();
	test_alloc_failures();
	test_round_trip();
	test_block_size_independence();
	test_utf16();
	return unit_report("test_csv_reader");
}
