/*
 * csv_reader.c
 *		RFC 4180 record reader for credimport (no backend dependencies).
 *
 * The reader pulls blocks through a callback and runs a small state machine
 * over them: quoted fields with "" escapes, delimiters and newlines inside
 * quotes, LF, CRLF and CR-only line ends, a UTF-8 BOM, blank lines skipped.
 * Memory stays bounded by max_record_bytes whatever the input looks like:
 * an overlong record is scanned to its end but not stored.
 */
#include "csv_reader.h"

#include <string.h>

#define CSV_BLOCK_SIZE		(64 * 1024)
#define CSV_DETECT_LIMIT	(1024 * 1024)	/* header scan bound when unbounded */

struct CsvReader
{
	csv_read_fn read;
	void	   *src;
	csv_allocator alloc;
	size_t		max_record_bytes;
	char		delimiter;
	bool		started;		/* BOM / delimiter handled */
	bool		eof;			/* read callback returned 0 */
	bool		error;			/* read callback failed */
	bool		oom;

	/* input buffer */
	char	   *buf;
	size_t		buf_cap;
	size_t		pos;
	size_t		len;
	uint64_t	consumed_before;	/* bytes discarded before buf[0] */

	long		line_no;		/* line of the next unread byte */

	/* bytes that end a run of ordinary bytes, outside and inside quotes */
	unsigned char special[256];
	unsigned char special_q[256];

	/* record storage */
	char	   *rec;
	size_t		rec_len;
	size_t		rec_cap;
	size_t	   *offs;
	size_t	   *lens;
	char	  **ptrs;
	unsigned char *nul;
	int			fields_cap;
};

static void *
r_alloc(CsvReader *r, size_t size)
{
	void	   *p = r->alloc.alloc(r->alloc.ctx, size);

	if (p == NULL)
		r->oom = true;
	return p;
}

static bool
r_grow(CsvReader *r, void **ptr, size_t old_size, size_t new_size)
{
	void	   *p = r->alloc.realloc(r->alloc.ctx, *ptr, old_size, new_size);

	if (p == NULL)
	{
		r->oom = true;
		return false;
	}
	*ptr = p;
	return true;
}

CsvReader *
csv_reader_create(csv_read_fn read, void *src, const csv_allocator *alloc,
				  char delimiter, size_t max_record_bytes)
{
	CsvReader  *r = alloc->alloc(alloc->ctx, sizeof(CsvReader));

	if (r == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->read = read;
	r->src = src;
	r->alloc = *alloc;
	r->delimiter = delimiter;
	r->max_record_bytes = max_record_bytes;
	r->line_no = 1;
	r->buf_cap = CSV_BLOCK_SIZE;
	r->buf = r_alloc(r, r->buf_cap);
	r->rec_cap = 1024;
	r->rec = r_alloc(r, r->rec_cap);
	r->fields_cap = 32;
	r->offs = r_alloc(r, sizeof(size_t) * r->fields_cap);
	r->lens = r_alloc(r, sizeof(size_t) * r->fields_cap);
	r->ptrs = r_alloc(r, sizeof(char *) * r->fields_cap);
	r->nul = r_alloc(r, r->fields_cap);
	if (r->oom)
	{
		csv_reader_destroy(r);
		return NULL;
	}
	return r;
}

void
csv_reader_destroy(CsvReader *r)
{
	void	   *ctx;

	if (r == NULL)
		return;
	ctx = r->alloc.ctx;
	if (r->buf)
		r->alloc.free(ctx, r->buf);
	if (r->rec)
		r->alloc.free(ctx, r->rec);
	if (r->offs)
		r->alloc.free(ctx, r->offs);
	if (r->lens)
		r->alloc.free(ctx, r->lens);
	if (r->ptrs)
		r->alloc.free(ctx, r->ptrs);
	if (r->nul)
		r->alloc.free(ctx, r->nul);
	r->alloc.free(ctx, r);
}

char
csv_reader_delimiter(const CsvReader *r)
{
	return r->delimiter ? r->delimiter : ',';
}

uint64_t
csv_reader_bytes_read(const CsvReader *r)
{
	return r->consumed_before + r->pos;
}

/*
 * Make at least `need` unread bytes available at buf[pos..], growing the
 * buffer if needed.  Returns false at end of input (fewer bytes available),
 * on read error or out of memory.
 */
static bool
ensure(CsvReader *r, size_t need)
{
	while (r->len - r->pos < need)
	{
		long		n;

		if (r->eof || r->error || r->oom)
			return false;
		if (r->pos > 0)
		{
			size_t		keep = r->len - r->pos;

			memmove(r->buf, r->buf + r->pos, keep);
			r->consumed_before += r->pos;
			r->len = keep;
			r->pos = 0;
		}
		if (r->len == r->buf_cap)
		{
			if (!r_grow(r, (void **) &r->buf, r->buf_cap, r->buf_cap * 2))
				return false;
			r->buf_cap *= 2;
		}
		n = r->read(r->src, r->buf + r->len, r->buf_cap - r->len);
		if (n < 0)
		{
			r->error = true;
			return false;
		}
		if (n == 0)
		{
			r->eof = true;
			return false;
		}
		r->len += (size_t) n;
	}
	return true;
}

/* Next byte, or -1 at end of input. */
static inline int
next_byte(CsvReader *r)
{
	if (r->pos < r->len)
		return (unsigned char) r->buf[r->pos++];
	if (!ensure(r, 1))
		return -1;
	return (unsigned char) r->buf[r->pos++];
}

static inline int
peek_byte(CsvReader *r)
{
	if (r->pos < r->len)
		return (unsigned char) r->buf[r->pos];
	if (!ensure(r, 1))
		return -1;
	return (unsigned char) r->buf[r->pos];
}

/* Skip a BOM and choose the delimiter from the header line. */
static void
start_input(CsvReader *r)
{
	size_t		i;
	size_t		limit;
	long		commas = 0,
				tabs = 0,
				semis = 0;
	bool		inq = false;
	bool		in_line = false;	/* past the blank lines before the header */

	r->started = true;
	if (ensure(r, 3) &&
		(unsigned char) r->buf[r->pos] == 0xEF &&
		(unsigned char) r->buf[r->pos + 1] == 0xBB &&
		(unsigned char) r->buf[r->pos + 2] == 0xBF)
		r->pos += 3;

	if (r->delimiter != 0)
		return;

	limit = r->max_record_bytes ? r->max_record_bytes : CSV_DETECT_LIMIT;
	for (i = 0; i < limit; i++)
	{
		unsigned char c;

		if (!ensure(r, i + 1))
			break;
		c = (unsigned char) r->buf[r->pos + i];
		if (c == '"')
			inq = !inq;
		else if (inq)
			continue;
		else if (c == '\n' || c == '\r')
		{
			/* a blank line before the header: keep looking at the next one */
			if (!in_line)
				continue;
			break;				/* end of the header line */
		}
		in_line = true;
		if (c == ',')
			commas++;
		else if (c == '\t')
			tabs++;
		else if (c == ';')
			semis++;
	}
	if (tabs > commas && tabs >= semis)
		r->delimiter = '\t';
	else if (semis > commas && semis > tabs)
		r->delimiter = ';';
	else
		r->delimiter = ',';
}

/* bytes of field bookkeeping per field: offs, lens, ptrs, nul */
#define CSV_SLOT_BYTES	(2 * sizeof(size_t) + sizeof(char *) + 1)

static bool
add_field_slot(CsvReader *r, int nfields, bool *too_long)
{
	if (nfields >= r->fields_cap)
	{
		int			newcap = r->fields_cap * 2;

		/*
		 * The field arrays count against the bound too: without that, a
		 * record of empty fields would need ~25 bytes per byte of input.
		 */
		if (r->max_record_bytes &&
			(size_t) newcap * CSV_SLOT_BYTES > r->max_record_bytes)
		{
			*too_long = true;
			return true;
		}
		if (!r_grow(r, (void **) &r->offs, sizeof(size_t) * r->fields_cap, sizeof(size_t) * newcap) ||
			!r_grow(r, (void **) &r->lens, sizeof(size_t) * r->fields_cap, sizeof(size_t) * newcap) ||
			!r_grow(r, (void **) &r->ptrs, sizeof(char *) * r->fields_cap, sizeof(char *) * newcap) ||
			!r_grow(r, (void **) &r->nul, r->fields_cap, newcap))
			return false;
		r->fields_cap = newcap;
	}
	return true;
}

/* Append one byte to the record unless it is already too long. */
static inline bool
put_byte(CsvReader *r, char c, bool *too_long)
{
	if (*too_long)
		return true;
	if (r->max_record_bytes && r->rec_len + 1 > r->max_record_bytes)
	{
		*too_long = true;
		return true;
	}
	if (r->rec_len + 1 >= r->rec_cap)
	{
		if (!r_grow(r, (void **) &r->rec, r->rec_cap, r->rec_cap * 2))
			return false;
		r->rec_cap *= 2;
	}
	r->rec[r->rec_len++] = c;
	return true;
}

int
csv_next_record(CsvReader *r, CsvRecord *rec)
{
	char		delim;
	int			c;
	int			nfields = 0;
	bool		too_long = false;
	unsigned int problems = 0;
	uint64_t	start_bytes;
	size_t		field_start;
	bool		field_quoted;
	bool		field_has_nul;
	bool		field_ws_only;
	bool		ended_by_newline = false;

	memset(rec, 0, sizeof(*rec));
	if (r->oom)
		return CSV_ENOMEM;
	if (!r->started)
	{
		start_input(r);
		memset(r->special, 0, sizeof(r->special));
		memset(r->special_q, 0, sizeof(r->special_q));
		r->special[(unsigned char) r->delimiter] = 1;
		r->special['\n'] = r->special['\r'] = r->special['"'] = r->special[0] = 1;
		r->special_q['\n'] = r->special_q['\r'] = r->special_q['"'] = r->special_q[0] = 1;
	}
	delim = r->delimiter;

	/* skip blank lines */
	for (;;)
	{
		c = peek_byte(r);
		if (c == '\n')
		{
			r->pos++;
			r->line_no++;
		}
		else if (c == '\r')
		{
			r->pos++;
			r->line_no++;
			if (peek_byte(r) == '\n')
				r->pos++;
		}
		else
			break;
	}
	if (c < 0)
	{
		if (r->error)
			return CSV_EREAD;
		if (r->oom)
			return CSV_ENOMEM;
		return CSV_EOF;
	}

	rec->line_no = r->line_no;
	start_bytes = csv_reader_bytes_read(r);
	r->rec_len = 0;

	/* one iteration per field */
	for (;;)
	{
		bool		end_of_record = false;

		if (!add_field_slot(r, nfields, &too_long))
			return CSV_ENOMEM;
		field_start = r->rec_len;
		field_quoted = false;
		field_has_nul = false;
		field_ws_only = true;

		for (;;)
		{
			/*
			 * Fast path: copy a run of ordinary bytes from the buffer in one
			 * go.  Anything special, a run that would pass the bound, or the
			 * end of the buffer goes to the byte-at-a-time code below, which
			 * defines the behaviour.
			 */
			if (!too_long && r->pos < r->len)
			{
				const unsigned char *b = (const unsigned char *) r->buf;
				const unsigned char *spec = field_quoted ? r->special_q : r->special;
				size_t		p = r->pos;
				size_t		n;

				while (p < r->len && !spec[b[p]])
					p++;
				n = p - r->pos;
				if (n > 0 && (r->max_record_bytes == 0 || r->rec_len + n <= r->max_record_bytes))
				{
					if (!field_quoted && field_ws_only)
					{
						for (size_t i = r->pos; i < p; i++)
							if (b[i] != ' ' && b[i] != '\t')
							{
								field_ws_only = false;
								break;
							}
					}
					while (r->rec_len + n + 1 >= r->rec_cap)
					{
						if (!r_grow(r, (void **) &r->rec, r->rec_cap, r->rec_cap * 2))
							return CSV_ENOMEM;
						r->rec_cap *= 2;
					}
					memcpy(r->rec + r->rec_len, r->buf + r->pos, n);
					r->rec_len += n;
					r->pos = p;
					continue;
				}
			}
			c = next_byte(r);
			if (!field_quoted)
			{
				if (c < 0)
				{
					end_of_record = true;
					break;
				}
				if (c == delim)
					break;
				if (c == '\n')
				{
					r->line_no++;
					ended_by_newline = true;
					end_of_record = true;
					break;
				}
				if (c == '\r')
				{
					r->line_no++;
					if (peek_byte(r) == '\n')
						r->pos++;
					ended_by_newline = true;
					end_of_record = true;
					break;
				}
				if (c == '"' && field_ws_only)
				{
					/* opening quote (leading blanks are dropped) */
					field_quoted = true;
					if (!too_long)
						r->rec_len = field_start;
					continue;
				}
				if (c == 0)
					field_has_nul = true;
				if (c != ' ' && c != '\t')
					field_ws_only = false;
				if (!put_byte(r, (char) c, &too_long))
					return CSV_ENOMEM;
			}
			else
			{
				/* inside quotes */
				if (c < 0)
				{
					problems |= CSV_PROBLEM_UNTERMINATED_QUOTE;
					end_of_record = true;
					break;
				}
				if (c == '"')
				{
					int			n = peek_byte(r);

					if (n == '"')
					{
						r->pos++;
						if (!put_byte(r, '"', &too_long))
							return CSV_ENOMEM;
						continue;
					}
					/* closing quote: allow trailing blanks, then expect a delimiter or line end */
					for (;;)
					{
						n = peek_byte(r);
						if ((n == ' ' || n == '\t') && n != delim)
						{
							r->pos++;
							continue;
						}
						break;
					}
					if (n < 0 || n == delim || n == '\n' || n == '\r')
					{
						field_quoted = false;
						field_ws_only = false;
						continue;	/* the unquoted branch ends the field */
					}
					/* text after the closing quote: keep it, flag the record */
					problems |= CSV_PROBLEM_STRAY_QUOTE;
					field_quoted = false;
					field_ws_only = false;
					continue;
				}
				if (c == '\n')
					r->line_no++;
				else if (c == '\r')
				{
					r->line_no++;
					if (peek_byte(r) == '\n')
					{
						r->pos++;
						if (!put_byte(r, '\r', &too_long))
							return CSV_ENOMEM;
						c = '\n';
					}
				}
				else if (c == 0)
					field_has_nul = true;
				if (!put_byte(r, (char) c, &too_long))
					return CSV_ENOMEM;
			}
		}

		if (r->error)
			return CSV_EREAD;
		if (r->oom)
			return CSV_ENOMEM;

		/* terminate the field (the terminator counts against the bound) */
		if (!too_long && r->max_record_bytes &&
			r->rec_len + 1 > r->max_record_bytes)
			too_long = true;
		if (field_has_nul)
			problems |= CSV_PROBLEM_NUL;
		if (!too_long)
		{
			if (r->rec_len + 1 >= r->rec_cap)
			{
				if (!r_grow(r, (void **) &r->rec, r->rec_cap, r->rec_cap * 2))
					return CSV_ENOMEM;
				r->rec_cap *= 2;
			}
			r->offs[nfields] = field_start;
			r->lens[nfields] = r->rec_len - field_start;
			r->nul[nfields] = field_has_nul ? 1 : 0;
			r->rec[r->rec_len++] = '\0';
			nfields++;
		}
		else
			nfields = 0;		/* stop storing: keep memory bounded */
		if (end_of_record)
			break;
	}

	rec->end_line_no = ended_by_newline ? r->line_no - 1 : r->line_no;
	rec->bytes = (size_t) (csv_reader_bytes_read(r) - start_bytes);
	if (too_long)
	{
		problems |= CSV_PROBLEM_TOO_LONG;
		nfields = 0;
	}
	for (int i = 0; i < nfields; i++)
		r->ptrs[i] = r->rec + r->offs[i];
	rec->nfields = nfields;
	rec->fields = r->ptrs;
	rec->lengths = r->lens;
	rec->field_nul = r->nul;
	rec->problems = problems;
	return CSV_OK;
}

/* ---------------- UTF-16 input ---------------- */

int
csv_utf16_to_utf8(const char *data, size_t len, const csv_allocator *alloc,
				  char **out, size_t *outlen, size_t *bad_offset)
{
	const unsigned char *s = (const unsigned char *) data;
	bool		le;
	size_t		i;
	size_t		o = 0;
	unsigned char *buf;

	if (len < 2 || !((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
		return CSV_UTF16_NONE;
	le = (s[0] == 0xFF);
	if (len % 2 != 0)
	{
		*bad_offset = len - 1;
		return CSV_UTF16_INVALID;
	}
	buf = alloc->alloc(alloc->ctx, (len / 2) * 3 + 1);
	if (buf == NULL)
		return CSV_UTF16_ENOMEM;
	for (i = 2; i < len; i += 2)
	{
		uint32_t	u = le ? (uint32_t) (s[i] | (s[i + 1] << 8)) : (uint32_t) ((s[i] << 8) | s[i + 1]);

		if (u >= 0xD800 && u <= 0xDBFF)
		{
			uint32_t	lo;

			if (i + 3 >= len)
				goto bad;
			lo = le ? (uint32_t) (s[i + 2] | (s[i + 3] << 8)) : (uint32_t) ((s[i + 2] << 8) | s[i + 3]);
			if (lo < 0xDC00 || lo > 0xDFFF)
				goto bad;
			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			i += 2;
		}
		else if (u >= 0xDC00 && u <= 0xDFFF)
			goto bad;
		if (u < 0x80)
			buf[o++] = (unsigned char) u;
		else if (u < 0x800)
		{
			buf[o++] = (unsigned char) (0xC0 | (u >> 6));
			buf[o++] = (unsigned char) (0x80 | (u & 0x3F));
		}
		else if (u < 0x10000)
		{
			buf[o++] = (unsigned char) (0xE0 | (u >> 12));
			buf[o++] = (unsigned char) (0x80 | ((u >> 6) & 0x3F));
			buf[o++] = (unsigned char) (0x80 | (u & 0x3F));
		}
		else
		{
			buf[o++] = (unsigned char) (0xF0 | (u >> 18));
			buf[o++] = (unsigned char) (0x80 | ((u >> 12) & 0x3F));
			buf[o++] = (unsigned char) (0x80 | ((u >> 6) & 0x3F));
			buf[o++] = (unsigned char) (0x80 | (u & 0x3F));
		}
	}
	buf[o] = '\0';
	*out = (char *) buf;
	*outlen = o;
	return CSV_UTF16_OK;

bad:
	alloc->free(alloc->ctx, buf);
	*bad_offset = i;
	return CSV_UTF16_INVALID;
}
