/*
 * source.c
 *		Record sources: the doors records come in through.
 *
 *	file		a server file (after the same privilege check as COPY FROM a
 *				file), read in large blocks through the backend-free CSV reader
 *	content		file content passed as a text argument, through the same reader
 *	table		a staging table (or view) the caller may SELECT from, scanned
 *				with one cursor; each column arrives as its text output
 *
 * Downstream code sees only Source.next(): the first record is the header
 * (the column names, for a table), then the data records, each with the
 * line number it is reported under.  Every source can rewind, so that a
 * load can read the records of invalid rows again for the error report
 * without keeping all records in memory.
 */
#include "credimport.h"
#include "options.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "pipeline.h"

/* ---------------- reader-based sources (file, content) ---------------- */

typedef struct ReaderSource
{
	/* file */
	FILE	   *fp;
	const char *path;
	/* content */
	const char *data;
	Size		datalen;
	Size		datapos;

	CsvReader  *reader;
	pg_cryptohash_ctx *sha;
	MemoryContext cxt;

	/* encoding => ...: the bytes converted to UTF-8 as they are read */
	int			conv_encoding;	/* PG_UTF8 (no conversion) or the source's */
	Oid			conv_proc;
	csv_read_fn base_read;		/* file_read or content_read */
	char	   *raw;			/* bytes read, not yet converted */
	Size		rawlen;
	Size		rawpos;
	char	   *out;			/* converted bytes, not yet handed over */
	Size		outlen;
	Size		outpos;
	long		conv_line;		/* lines handed over so far */
	bool		conv_eof;
	bool		was_utf16;		/* converted from UTF-16 up front */
} ReaderSource;

#define CONV_RAW_BLOCK 65536

/* allocator for the CSV reader: memory of the load's context */
static void *
cxt_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) ctx, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void *
cxt_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	(void) ctx;
	(void) old_size;
	return repalloc_huge(ptr, new_size);
}

static void
cxt_free(void *ctx, void *ptr)
{
	(void) ctx;
	pfree(ptr);
}

static long
file_read(void *arg, char *buf, size_t cap)
{
	ReaderSource *st = (ReaderSource *) arg;
	size_t		n;

	CHECK_FOR_INTERRUPTS();
	n = fread(buf, 1, cap, st->fp);
	if (n == 0 && ferror(st->fp))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", st->path)));
	if (n > 0 && st->sha && pg_cryptohash_update(st->sha, (const uint8 *) buf, n) < 0)
		elog(ERROR, "could not update SHA-256 digest");
	return (long) n;
}

static long
content_read(void *arg, char *buf, size_t cap)
{
	ReaderSource *st = (ReaderSource *) arg;
	size_t		n = Min(cap, st->datalen - st->datapos);

	CHECK_FOR_INTERRUPTS();
	memcpy(buf, st->data + st->datapos, n);
	if (n > 0 && st->sha && pg_cryptohash_update(st->sha, (const uint8 *) buf, n) < 0)
		elog(ERROR, "could not update SHA-256 digest");
	st->datapos += n;
	return (long) n;
}

/*
 * Would the whole input read as the given encoding, through PostgreSQL's
 * own conversion to UTF-8?  Read again in blocks (the error path only).
 */
static bool
input_reads_as(ReaderSource *st, int encoding)
{
	Oid			proc = FindDefaultConversionProc(encoding, PG_UTF8);
	char	   *block;
	unsigned char *dest;
	const Size	blocksz = 65536;
	Size		pos = 0;
	bool		ok = true;

	if (!OidIsValid(proc))
		return false;
	block = palloc(blocksz);
	dest = palloc(blocksz * MAX_CONVERSION_GROWTH + 1);
	if (st->fp && fseeko(st->fp, 0, SEEK_SET) != 0)
		return false;
	for (;;)
	{
		size_t		n;

		CHECK_FOR_INTERRUPTS();
		if (st->fp)
			n = fread(block, 1, blocksz, st->fp);
		else
		{
			n = Min(blocksz, st->datalen - pos);
			memcpy(block, st->data + pos, n);
			pos += n;
		}
		if (n == 0)
			break;
		/* a NUL byte is its field's own problem, whatever the encoding */
		for (size_t i = 0; i < n; i++)
			if (block[i] == '\0')
				block[i] = ' ';
		/* a single-byte encoding: any block boundary is a character boundary */
		if (pg_encoding_max_length(encoding) == 1 &&
			pg_do_encoding_conversion_buf(proc, encoding, PG_UTF8, (unsigned char *) block, (int) n,
										  dest, (int) (blocksz * MAX_CONVERSION_GROWTH + 1),
										  true) != (int) n)
		{
			ok = false;
			break;
		}
	}
	pfree(block);
	pfree(dest);
	return ok;
}

/*
 * A file (or content) that is not UTF-8 is one whole-file error, not a
 * problem per field: the first record with a byte that is not UTF-8 names
 * its line and the byte; the HINT offers Windows-1252 when PostgreSQL's
 * conversion reads every byte of the input as that.
 */
static void
check_record_utf8(Source *src, CsvRecord *rec)
{
	ReaderSource *st = (ReaderSource *) src->state;

	for (int f = 0; f < rec->nfields; f++)
	{
		int			ok;
		Size		len = rec->lengths[f];

		if (rec->field_nul[f])
			continue;			/* a NUL byte is the field's own problem */
		ok = pg_encoding_verifymbstr(PG_UTF8, rec->fields[f], (int) len);
		if (ok == (int) len)
			continue;
		{
			unsigned char bad = (unsigned char) rec->fields[f][ok];
			Size		from = ok > 20 ? ok - 20 : 0;
			char	   *around = sanitize_value(rec->fields[f] + from, Min(len - from, 40));
			bool		win1252 = input_reads_as(st, PG_WIN1252);

			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("%s \"%s\" is not valid UTF-8: line %ld has the byte 0x%02X",
							src->kind == SOURCE_CONTENT ? "content" : "file",
							src->description, rec->line_no, bad),
					 errdetail("Field %d of the record on line %ld reads \"%s\".",
							   f + 1, rec->line_no, around),
					 win1252 ?
					 errhint("Every byte of it reads as Windows-1252 (Excel's \"CSV\" on Windows): "
							 "load it with encoding => 'WIN1252', or save it as UTF-8.") :
					 errhint("Save the file as UTF-8 (\"CSV UTF-8\" in Excel), or give the encoding it "
							 "was written in with encoding => '...'.")));
		}
	}
}

static bool
reader_next(Source *src, CsvRecord *rec)
{
	ReaderSource *st = (ReaderSource *) src->state;
	int			rc = csv_next_record(st->reader, rec);

	src->bytes_read = (int64) csv_reader_bytes_read(st->reader);
	if (rc == CSV_OK)
	{
		check_record_utf8(src, rec);
		return true;
	}
	if (rc == CSV_EOF)
		return false;
	if (rc == CSV_ENOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while reading \"%s\"", src->description)));
	ereport(ERROR,
			(errcode_for_file_access(),
			 errmsg("could not read \"%s\"", src->description)));
	return false;				/* keep compiler quiet */
}

/* the line (1-based) of the byte at out[pos] */
static long
conv_line_at(ReaderSource *st, Size pos)
{
	long		line = st->conv_line + 1;

	for (Size i = 0; i < pos; i++)
		if (st->out[i] == '\n' || (st->out[i] == '\r' && (i + 1 >= pos || st->out[i + 1] != '\n')))
			line++;
	return line;
}

/*
 * Convert the next block of the source's bytes to UTF-8 with PostgreSQL's
 * own conversion.  A character cut by the block's end waits for the next
 * block; a NUL byte is passed on as is (its field's problem).  Bytes that
 * are not of the encoding are a whole-file error naming the line.
 */
static void
conv_fill(Source *src, ReaderSource *st)
{
	int			maxlen = pg_encoding_max_length(st->conv_encoding);
	Size		carry = st->rawlen - st->rawpos;
	long		got;

	st->conv_line = conv_line_at(st, st->outlen) - 1;	/* the lines of the last block */
	if (carry > 0)
		memmove(st->raw, st->raw + st->rawpos, carry);
	got = st->base_read(st, st->raw + carry, CONV_RAW_BLOCK - carry);
	st->rawlen = carry + (Size) Max(got, 0);
	st->rawpos = 0;
	st->outlen = st->outpos = 0;
	if (got <= 0)
		st->conv_eof = true;
	while (st->rawpos < st->rawlen)
	{
		Size		seg = 0;
		int			n;

		CHECK_FOR_INTERRUPTS();
		if (st->raw[st->rawpos] == '\0')
		{
			st->out[st->outlen++] = '\0';
			st->rawpos++;
			continue;
		}
		while (st->rawpos + seg < st->rawlen && st->raw[st->rawpos + seg] != '\0')
			seg++;
		n = pg_do_encoding_conversion_buf(st->conv_proc, st->conv_encoding, PG_UTF8,
										  (unsigned char *) st->raw + st->rawpos, (int) seg,
										  (unsigned char *) st->out + st->outlen,
										  (int) (CONV_RAW_BLOCK * MAX_CONVERSION_GROWTH + 1 - st->outlen),
										  true);
		st->outlen += strlen(st->out + st->outlen);
		st->rawpos += n;
		if ((Size) n == seg)
			continue;
		/* a character cut by the end of the block: complete it with the next */
		if (!st->conv_eof && st->rawpos + seg - n == st->rawlen &&
			st->rawlen - st->rawpos < (Size) maxlen)
			break;
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("%s \"%s\" is not valid %s: line %ld has the byte 0x%02X",
						src->kind == SOURCE_CONTENT ? "content" : "file", src->description,
						pg_encoding_to_char(st->conv_encoding), conv_line_at(st, st->outlen),
						(unsigned char) st->raw[st->rawpos]),
				 errhint("Give the encoding the file was saved in, or leave encoding out for UTF-8.")));
	}
}

static long
conv_read(void *arg, char *buf, size_t cap)
{
	Source	   *src = (Source *) arg;
	ReaderSource *st = (ReaderSource *) src->state;
	Size		n;

	while (st->outpos >= st->outlen)
	{
		if (st->conv_eof)
			return 0;
		conv_fill(src, st);
	}
	n = Min(cap, st->outlen - st->outpos);
	memcpy(buf, st->out + st->outpos, n);
	st->outpos += n;
	return (long) n;
}

static void
reader_start(Source *src, ReaderSource *st, csv_read_fn fn)
{
	csv_allocator alloc;
	void	   *fnarg = st;

	alloc.alloc = cxt_alloc;
	alloc.realloc = cxt_realloc;
	alloc.free = cxt_free;
	alloc.ctx = st->cxt;
	if (st->reader)
		csv_reader_destroy(st->reader);
	if (st->conv_proc != InvalidOid)
	{
		/* start the conversion again too (rewind) */
		st->base_read = fn;
		st->rawlen = st->rawpos = st->outlen = st->outpos = 0;
		st->conv_line = 0;
		st->conv_eof = false;
		fn = conv_read;
		fnarg = src;
	}
	st->reader = csv_reader_create(fn, fnarg, &alloc, 0, (size_t) credimport_max_record_bytes);
	if (st->reader == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	src->bytes_read = 0;
}

static void
file_close(Source *src)
{
	ReaderSource *st = (ReaderSource *) src->state;

	if (st->fp)
	{
		FreeFile(st->fp);
		st->fp = NULL;
	}
}

static bool
file_rewind(Source *src)
{
	ReaderSource *st = (ReaderSource *) src->state;

	if (st->fp == NULL || fseeko(st->fp, 0, SEEK_SET) != 0)
		return false;
	clearerr(st->fp);
	reader_start(src, st, file_read);
	return true;
}

static bool
content_rewind(Source *src)
{
	ReaderSource *st = (ReaderSource *) src->state;

	st->datapos = 0;
	reader_start(src, st, content_read);
	return true;
}

static void
content_close(Source *src)
{
	(void) src;
}

/*
 * Same rule as COPY FROM a file: superuser or a member of
 * pg_read_server_files.  Checked before the file is touched.
 */
static void
check_file_privilege(void)
{
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read a server file with credimport"),
				 errdetail("Only roles with privileges of the \"%s\" role may read server files.",
						   "pg_read_server_files"),
				 errhint("Load the rows into a staging table with COPY FROM STDIN or \\copy and import from there.")));
}

static void
start_digest(ReaderSource *st)
{
	st->sha = pg_cryptohash_create(PG_SHA256);
	if (st->sha == NULL || pg_cryptohash_init(st->sha) < 0)
		elog(ERROR, "could not initialize SHA-256 digest");
}

/*
 * The checks every server file goes through before it is read: the file
 * privilege, an absolute path, a regular file.  Returns its size.
 */
static off_t
check_server_file(const char *path)
{
	struct stat stbuf;

	check_file_privilege();

	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("relative path not allowed for credimport: \"%s\"", path),
				 errhint("Give the absolute path of a file on the database server.  "
						 "To load a staging table, pass its name as a regclass: '%s'::regclass.",
						 path)));

	/*
	 * Refuse anything that is not a regular file before opening it: opening
	 * a FIFO for reading would wait for a writer, a directory reads as an
	 * error only later.
	 */
	if (stat(path, &stbuf) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	if (!S_ISREG(stbuf.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("\"%s\" is not a regular file", path),
				 errhint("Give the path of a CSV, tab-delimited, .xlsx or .xml file.")));
	return stbuf.st_size;
}

/*
 * UTF-16 input (with its byte order mark) converted to UTF-8 up front, in
 * memory; NULL when data is not UTF-16.
 */
static char *
utf16_to_utf8(const char *data, Size len, const char *what, Size *outlen)
{
	csv_allocator alloc;
	char	   *out = NULL;
	size_t		olen = 0;
	size_t		bad = 0;
	int			rc;

	alloc.alloc = cxt_alloc;
	alloc.realloc = cxt_realloc;
	alloc.free = cxt_free;
	alloc.ctx = CurrentMemoryContext;
	rc = csv_utf16_to_utf8(data, len, &alloc, &out, &olen, &bad);
	if (rc == CSV_UTF16_NONE)
		return NULL;
	if (rc == CSV_UTF16_ENOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while reading \"%s\"", what)));
	if (rc == CSV_UTF16_INVALID)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("\"%s\" starts with a UTF-16 byte order mark but is not valid UTF-16 at byte %zu",
						what, bad),
				 errhint("Save the file as UTF-8.")));
	*outlen = olen;
	return out;
}

/* does the file start with a UTF-16 byte order mark? */
static bool
file_is_utf16(FILE *fp)
{
	unsigned char mark[2];
	bool		utf16 = fread(mark, 1, 2, fp) == 2 &&
		((mark[0] == 0xFF && mark[1] == 0xFE) || (mark[0] == 0xFE && mark[1] == 0xFF));

	if (fseeko(fp, 0, SEEK_SET) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not seek in file: %m")));
	return utf16;
}

Source *
source_open_file(const char *path)
{
	Source	   *src;
	ReaderSource *st;
	off_t		size = check_server_file(path);

	src = palloc0(sizeof(Source));
	st = palloc0(sizeof(ReaderSource));
	src->description = pstrdup(path);
	src->kind = SOURCE_FILE;
	src->state = st;
	st->path = src->description;
	st->cxt = CurrentMemoryContext;
	src->bytes_total = (int64) size;

	st->fp = AllocateFile(path, PG_BINARY_R);
	if (st->fp == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));

	/*
	 * UTF-16 (Excel's "Unicode Text"): read whole, within the bound on
	 * in-memory files, and converted to UTF-8; then read as content.
	 */
	if (file_is_utf16(st->fp))
	{
		char	   *data;
		char	   *utf8;
		size_t		got;
		Size		utf8len = 0;

		if ((uint64) size > (uint64) credimport_max_sheet_bytes)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("UTF-16 file \"%s\" is larger than credimport.max_sheet_bytes (%d bytes)",
							path, credimport_max_sheet_bytes),
					 errdetail("A UTF-16 file is converted to UTF-8 in memory."),
					 errhint("Save the file as UTF-8, or have an administrator raise credimport.max_sheet_bytes.")));
		data = palloc_extended((Size) size + 1, MCXT_ALLOC_HUGE);
		got = fread(data, 1, (size_t) size, st->fp);
		if (got != (size_t) size && ferror(st->fp))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		FreeFile(st->fp);
		st->fp = NULL;
		utf8 = utf16_to_utf8(data, got, path, &utf8len);
		pfree(data);
		src = source_open_content(utf8, utf8len, src->description);
		((ReaderSource *) src->state)->was_utf16 = true;
		src->kind = SOURCE_FILE;
		src->bytes_total = (int64) size;
		return src;
	}

	start_digest(st);
	reader_start(src, st, file_read);
	src->next = reader_next;
	src->rewind = file_rewind;
	src->close = file_close;
	return src;
}

SourceFormat
source_parse_format(const char *format)
{
	if (format == NULL)
		return FORMAT_AUTO;
	return (SourceFormat) option_lookup(&format_vocab, format, OPT_ALL, NULL);
}

static const char *
format_name(SourceFormat format)
{
	switch (format)
	{
		case FORMAT_XLSX:
			return ".xlsx";
		case FORMAT_XLS:
			return ".xls";
		case FORMAT_XML:
			return "XML";
		default:
			return "CSV";
	}
}

/* what the file's extension says, or FORMAT_AUTO when it says nothing we know */
static SourceFormat
format_of_path(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot && strchr(dot, '/') == NULL)
	{
		if (pg_strcasecmp(dot, ".xlsx") == 0)
			return FORMAT_XLSX;
		if (pg_strcasecmp(dot, ".xml") == 0)
			return FORMAT_XML;
		if (pg_strcasecmp(dot, ".xls") == 0)
			return FORMAT_XLS;
		if (pg_strcasecmp(dot, ".csv") == 0 || pg_strcasecmp(dot, ".tsv") == 0 ||
			pg_strcasecmp(dot, ".txt") == 0 || pg_strcasecmp(dot, ".tab") == 0)
			return FORMAT_CSV;
	}
	return FORMAT_AUTO;
}

#define OLE2_MAGIC "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"

/*
 * What the first bytes say: a zip archive (an .xlsx workbook), an OLE2
 * compound file (a .xls workbook), XML ("<" after a byte order mark and
 * white space), else CSV.
 */
static SourceFormat
format_of_content(const char *data, Size len)
{
	Size		i = 0;

	if (len >= 4 && memcmp(data, "PK\003\004", 4) == 0)
		return FORMAT_XLSX;
	if (len >= 8 && memcmp(data, OLE2_MAGIC, 8) == 0)
		return FORMAT_XLS;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	if (i < len && data[i] == '<')
		return FORMAT_XML;
	return FORMAT_CSV;
}

/* does a zip archive hold xl/workbook.xml (its name is in the central directory)? */
static bool
zip_has_workbook(const char *data, Size len)
{
	static const char name[] = "xl/workbook.xml";
	const Size	n = sizeof(name) - 1;

	for (Size i = 0; i + n <= len; i++)
	{
		if ((i & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (data[i] == 'x' && memcmp(data + i, name, n) == 0)
			return true;
	}
	return false;
}

/*
 * The format of a file (path) or of content (path NULL) whose format was
 * not given: what its bytes say when they are a workbook, else what its
 * extension says, else XML or CSV by its first bytes.  *note (NULL when
 * the name said it) tells errors what was tried and why; *checkzip says
 * that a zip archive was taken for a workbook by its content alone.
 */
static SourceFormat
guess_format(const char *path, const char *head, Size len, const char **note, bool *checkzip)
{
	SourceFormat content = format_of_content(head, len);
	SourceFormat byname = path ? format_of_path(path) : FORMAT_AUTO;
	const char *base = path ? last_dir_separator(path) : NULL;
	SourceFormat chosen;

	base = base ? base + 1 : path;
	*note = NULL;
	if (checkzip)
		*checkzip = (content == FORMAT_XLSX && byname != FORMAT_XLSX);
	if (content == FORMAT_XLSX || content == FORMAT_XLS)
		chosen = content;
	else if (byname == FORMAT_CSV || byname == FORMAT_XML)
		chosen = byname;
	else
		chosen = content;
	if (byname == chosen)
		return chosen;
	if (byname != FORMAT_AUTO)
	{
		ereport(NOTICE,
				(errmsg("reading \"%s\" as %s, as its content says, not as %s as its name says",
						base, format_name(chosen), format_name(byname)),
				 errhint("Give format => '...' to say what it is.")));
		*note = psprintf("It was read as %s, as its content says, though its name says %s.",
						 format_name(chosen), format_name(byname));
	}
	else if (path)
		*note = psprintf("It was read as %s, as its content says (its name does not say); "
						 "give format => '...' if it is something else.", format_name(chosen));
	else if (chosen == FORMAT_CSV || chosen == FORMAT_XML)
		*note = psprintf("It was read as %s, as its bytes are not a workbook; "
						 "give format => '...' if it is something else.", format_name(chosen));
	return chosen;
}

/* a zip archive read as a workbook must be one */
static void
check_zip_workbook(const char *data, Size len, const char *label)
{
	if (!zip_has_workbook(data, len))
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("\"%s\" is a zip archive but not an .xlsx workbook: it has no xl/workbook.xml", label),
				 errhint("Save the spreadsheet as an Excel workbook (.xlsx) or as CSV; "
						 "an OpenDocument spreadsheet (.ods) is not read.")));
}

static void
check_sheet_argument(SourceFormat format, const char *sheet)
{
	if (sheet != NULL && format != FORMAT_XLSX && format != FORMAT_XLS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sheet is only for .xlsx and .xls workbooks"),
				 errhint("Leave sheet out, or give format => 'xlsx'.")));
}

/*
 * A server file in the format given; else the one its content says (a
 * workbook), its extension says, or its first bytes say (XML or CSV).
 */
Source *
source_open_file_as(const char *path, SourceFormat format, const char *sheet)
{
	off_t		size;
	FILE	   *fp;
	char	   *data;
	size_t		got;
	const char *note = NULL;
	bool		checkzip = false;
	Source	   *src;

	if (format == FORMAT_AUTO)
	{
		char		head[512];
		size_t		n;

		check_server_file(path);	/* privilege first, before even the name says anything */
		fp = AllocateFile(path, PG_BINARY_R);
		if (fp == NULL)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not open file \"%s\" for reading: %m", path)));
		n = fread(head, 1, sizeof(head), fp);
		if (n == 0 && ferror(fp))
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		FreeFile(fp);
		format = guess_format(path, head, n, &note, &checkzip);
	}
	check_sheet_argument(format, sheet);
	if (format == FORMAT_CSV)
	{
		src = source_open_file(path);
		src->format_note = note;
		return src;
	}

	/* spreadsheets and XML are parsed from memory */
	size = check_server_file(path);
	if ((uint64) size > (uint64) credimport_max_sheet_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file \"%s\" is larger than credimport.max_sheet_bytes (%d bytes)",
						path, credimport_max_sheet_bytes),
				 errhint("Split the file, save it as CSV, or raise credimport.max_sheet_bytes.")));
	fp = AllocateFile(path, PG_BINARY_R);
	if (fp == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));
	data = palloc_extended((Size) size + 1, MCXT_ALLOC_HUGE);
	got = fread(data, 1, (size_t) size, fp);
	if (got != (size_t) size && ferror(fp))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", path)));
	FreeFile(fp);
	data[got] = '\0';
	if (format == FORMAT_XLSX)
	{
		if (checkzip)
			check_zip_workbook(data, got, path);
		src = source_open_xlsx(data, got, pstrdup(path), sheet, SOURCE_FILE);
	}
	else if (format == FORMAT_XLS)
		src = source_open_xls_file(pstrdup(path), sheet, data, got);
	else
		src = source_open_xml(data, got, pstrdup(path), SOURCE_FILE);
	src->format_note = note;
	return src;
}

/*
 * Content sent by the client: in the format given, else the one its bytes
 * say (a workbook, XML), else CSV.
 */
Source *
source_open_data(const char *data, Size len, SourceFormat format, const char *sheet)
{
	const char *note = NULL;
	bool		checkzip = false;
	Source	   *src;

	if (format == FORMAT_AUTO)
		format = guess_format(NULL, data, len, &note, &checkzip);
	check_sheet_argument(format, sheet);
	if (format == FORMAT_XLSX)
	{
		if (checkzip)
			check_zip_workbook(data, len, "(content)");
		src = source_open_xlsx(data, len, "(content)", sheet, SOURCE_CONTENT);
	}
	else if (format == FORMAT_XLS)
		src = source_open_xls_data(data, len, sheet);
	else if (format == FORMAT_XML)
		src = source_open_xml(data, len, "(content)", SOURCE_CONTENT);
	else
		src = source_open_content(data, len, "(content)");
	src->format_note = note;
	return src;
}

Source *
source_open_content(const char *data, Size len, const char *label)
{
	Source	   *src = palloc0(sizeof(Source));
	ReaderSource *st = palloc0(sizeof(ReaderSource));
	Size		utf8len = 0;
	char	   *utf8 = utf16_to_utf8(data, len, label, &utf8len);

	if (utf8)
	{
		data = utf8;
		len = utf8len;
		st->was_utf16 = true;
	}
	src->description = label;
	src->kind = SOURCE_CONTENT;
	src->state = st;
	src->bytes_total = (int64) len;
	st->data = data;
	st->datalen = len;
	st->cxt = CurrentMemoryContext;
	start_digest(st);
	reader_start(src, st, content_read);
	src->next = reader_next;
	src->rewind = content_rewind;
	src->close = content_close;
	return src;
}

/*
 * encoding => '...': read the file or content as that encoding, converted
 * to UTF-8 by PostgreSQL's conversion functions as it is read.  Only CSV
 * and tab-delimited sources have an encoding of their own (workbooks and
 * XML say theirs); nothing has been read yet.
 */
void
source_set_encoding(Source *src, const char *encoding)
{
	ReaderSource *st;
	int			enc;
	Oid			proc;

	if (encoding == NULL)
		return;
	enc = pg_char_to_encoding(encoding);
	if (enc < 0 || !PG_VALID_ENCODING(enc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown encoding \"%s\"", encoding),
				 errhint("Give an encoding PostgreSQL knows, such as WIN1252, LATIN1, LATIN9 or SJIS; "
						 "UTF-16 with a byte order mark is read without it.")));
	if (src->next != reader_next)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("encoding is only for CSV and tab-delimited files"),
				 errdetail("The %s is read as %s, which says its own encoding.", source_noun(src),
						   src->kind == SOURCE_TABLE ? "a table" : "a workbook or XML"),
				 errhint("Leave encoding out.")));
	st = (ReaderSource *) src->state;
	if (st->was_utf16)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s \"%s\" is UTF-16 (it starts with a byte order mark), not %s",
						source_noun(src), src->description, pg_encoding_to_char(enc)),
				 errhint("Leave encoding out: UTF-16 with a byte order mark is read as such.")));
	if (enc == PG_UTF8 || enc == PG_SQL_ASCII)
		return;
	proc = FindDefaultConversionProc(enc, PG_UTF8);
	if (!OidIsValid(proc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("PostgreSQL has no conversion from %s to UTF8", pg_encoding_to_char(enc))));
	st->conv_encoding = enc;
	st->conv_proc = proc;
	st->raw = palloc(CONV_RAW_BLOCK);
	st->out = palloc(CONV_RAW_BLOCK * MAX_CONVERSION_GROWTH + 1);
	reader_start(src, st, st->fp ? file_read : content_read);
}

/* src->sha256 as hex from a finished SHA-256 */
static void
set_hex_digest(Source *src, const uint8 *digest)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++)
	{
		src->sha256[i * 2] = hex[digest[i] >> 4];
		src->sha256[i * 2 + 1] = hex[digest[i] & 0xF];
	}
	src->sha256[64] = '\0';
}

/* Compute the hex SHA-256 of everything read so far into src->sha256. */
void
source_finish_digest(Source *src)
{
	ReaderSource *st;
	uint8		digest[32];

	/* only CSV sources digest as they read; workbooks did at open */
	if (src->kind == SOURCE_TABLE || src->next != reader_next)
		return;
	st = (ReaderSource *) src->state;
	if (st->sha == NULL)
		return;
	if (pg_cryptohash_final(st->sha, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not finalize SHA-256 digest");
	set_hex_digest(src, digest);
	pg_cryptohash_free(st->sha);
	st->sha = NULL;
}

/* the hex SHA-256 of a whole file held in memory (workbooks, XML) */
void
source_digest_bytes(Source *src, const char *data, Size len)
{
	pg_cryptohash_ctx *sha = pg_cryptohash_create(PG_SHA256);
	uint8		digest[32];

	if (sha == NULL || pg_cryptohash_init(sha) < 0 ||
		pg_cryptohash_update(sha, (const uint8 *) data, len) < 0 ||
		pg_cryptohash_final(sha, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	pg_cryptohash_free(sha);
	set_hex_digest(src, digest);
}

/* ---------------- staging tables ---------------- */

#define TABLE_FETCH 1000

typedef struct TableSource
{
	char	   *query;
	int			ncols;			/* data columns (line_no excluded) */
	char	  **names;
	bool		has_line_no;
	Portal		portal;
	SPITupleTable *batch;
	uint64		batch_n;
	uint64		batch_pos;
	int64		position;		/* rows returned so far */
	bool		header_done;
	bool		done;
	/* the current record */
	StringInfoData buf;
	size_t	   *offs;
	char	  **ptrs;
	size_t	   *lens;
	unsigned char *nul;
} TableSource;

static void
table_open_cursor(TableSource *ts)
{
	SPIPlanPtr	plan = SPI_prepare(ts->query, 0, NULL);

	if (plan == NULL)
		elog(ERROR, "credimport: could not prepare \"%s\": %s", ts->query,
			 SPI_result_code_string(SPI_result));
	ts->portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	ts->batch = NULL;
	ts->batch_n = ts->batch_pos = 0;
	ts->position = 0;
	ts->done = false;
}

static bool
table_next(Source *src, CsvRecord *rec)
{
	TableSource *ts = (TableSource *) src->state;
	HeapTuple	tup;
	TupleDesc	desc;
	int			first;

	memset(rec, 0, sizeof(*rec));
	if (!ts->header_done)
	{
		/* the column names are the header */
		ts->header_done = true;
		for (int c = 0; c < ts->ncols; c++)
		{
			ts->ptrs[c] = ts->names[c];
			ts->lens[c] = strlen(ts->names[c]);
			ts->nul[c] = 0;
		}
		rec->line_no = 0;
		rec->nfields = ts->ncols;
		rec->fields = ts->ptrs;
		rec->lengths = ts->lens;
		rec->field_nul = ts->nul;
		return true;
	}
	if (ts->done)
		return false;
	if (ts->batch_pos >= ts->batch_n)
	{
		if (ts->batch)
			SPI_freetuptable(ts->batch);
		ts->batch = NULL;
		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(ts->portal, true, TABLE_FETCH);
		ts->batch = SPI_tuptable;
		ts->batch_n = SPI_processed;
		ts->batch_pos = 0;
		if (ts->batch_n == 0)
		{
			ts->done = true;
			return false;
		}
	}
	tup = ts->batch->vals[ts->batch_pos++];
	desc = ts->batch->tupdesc;
	ts->position++;

	first = ts->has_line_no ? 2 : 1;
	if (ts->has_line_no)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(tup, desc, 1, &isnull);

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("staging table %s has a row with a null line_no", src->description),
					 errdetail("It is row " INT64_FORMAT " of a sequential scan.", ts->position)));
		rec->line_no = (long) DatumGetInt64(d);
	}
	else
		rec->line_no = (long) ts->position;
	rec->end_line_no = rec->line_no;

	/*
	 * A record is bounded like a CSV record: longer than max_record_bytes,
	 * it is a record_too_long problem, and its values are never copied
	 * (sizes are read from the tuple, no value is detoasted to measure it).
	 */
	{
		Size		total = 0;

		for (int c = 0; c < ts->ncols; c++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(tup, desc, first + c, &isnull);

			if (!isnull)
				total += toast_raw_datum_size(d) - VARHDRSZ;
			total += 1;
		}
		if (total > (Size) credimport_max_record_bytes)
		{
			rec->problems = CSV_PROBLEM_TOO_LONG;
			rec->bytes = total;
			return true;
		}
	}

	resetStringInfo(&ts->buf);
	for (int c = 0; c < ts->ncols; c++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(tup, desc, first + c, &isnull);

		ts->offs[c] = ts->buf.len;
		if (!isnull)
		{
			text	   *t = DatumGetTextPP(d);

			appendBinaryStringInfo(&ts->buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			if ((Pointer) t != DatumGetPointer(d))
				pfree(t);
		}
		ts->lens[c] = ts->buf.len - ts->offs[c];
		ts->nul[c] = 0;
		appendStringInfoChar(&ts->buf, '\0');
	}
	for (int c = 0; c < ts->ncols; c++)
		ts->ptrs[c] = ts->buf.data + ts->offs[c];
	rec->nfields = ts->ncols;
	rec->fields = ts->ptrs;
	rec->lengths = ts->lens;
	rec->field_nul = ts->nul;
	rec->bytes = ts->buf.len;
	src->bytes_read += ts->buf.len;
	return true;
}

static bool
table_rewind(Source *src)
{
	TableSource *ts = (TableSource *) src->state;

	if (ts->batch)
		SPI_freetuptable(ts->batch);
	if (ts->portal)
		SPI_cursor_close(ts->portal);
	ts->portal = NULL;
	ts->header_done = false;
	src->bytes_read = 0;
	table_open_cursor(ts);
	return true;
}

static void
table_close(Source *src)
{
	TableSource *ts = (TableSource *) src->state;

	if (ts->batch)
		SPI_freetuptable(ts->batch);
	ts->batch = NULL;
	if (ts->portal)
		SPI_cursor_close(ts->portal);
	ts->portal = NULL;
}

/*
 * A staging table or view: its columns, in order, are the header (a column
 * named line_no, of an integer type, numbers the rows instead); each value
 * is read as its text output.  The caller needs SELECT on it, checked by
 * the executor when the cursor opens; no file privilege is involved.
 * Must be called inside an SPI connection.
 */
Source *
source_open_table(Oid relid)
{
	Source	   *src = palloc0(sizeof(Source));
	TableSource *ts = palloc0(sizeof(TableSource));
	char	   *relname = get_rel_name(relid);
	char	   *nspname;
	char		relkind = get_rel_relkind(relid);
	StringInfoData q;
	Relation	rel;
	TupleDesc	desc;
	int			line_no_att = 0;

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("staging table with OID %u does not exist", relid)));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_VIEW &&
		relkind != RELKIND_MATVIEW && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table or view", relname)));
	nspname = get_namespace_name(get_rel_namespace(relid));
	src->description = quote_qualified_identifier(nspname, relname);
	src->kind = SOURCE_TABLE;
	src->state = ts;

	rel = relation_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	ts->names = palloc(sizeof(char *) * Max(desc->natts, 1));
	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		char		norm[NAMEDATALEN + 1];

		if (att->attisdropped)
			continue;
		fc_normalize_header(NameStr(att->attname), strlen(NameStr(att->attname)), norm, sizeof(norm));
		if (strcmp(norm, "line_no") == 0 && line_no_att == 0)
		{
			if (att->atttypid != INT2OID && att->atttypid != INT4OID && att->atttypid != INT8OID &&
				att->atttypid != NUMERICOID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of staging table %s must be of an integer type",
								NameStr(att->attname), src->description),
						 errhint("line_no numbers the rows in reports; rename the column if it is data.")));
			line_no_att = a + 1;
			continue;
		}
		ts->names[ts->ncols++] = pstrdup(NameStr(att->attname));
	}
	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	if (line_no_att)
		appendStringInfo(&q, "%s::pg_catalog.int8, ",
						 quote_identifier(NameStr(TupleDescAttr(desc, line_no_att - 1)->attname)));
	for (int c = 0; c < ts->ncols; c++)
		appendStringInfo(&q, "%s%s::pg_catalog.text", c ? ", " : "", quote_identifier(ts->names[c]));
	if (ts->ncols == 0)
		appendStringInfoString(&q, "NULL::pg_catalog.text");
	appendStringInfo(&q, " FROM %s", src->description);
	relation_close(rel, AccessShareLock);

	ts->query = q.data;
	ts->has_line_no = (line_no_att != 0);
	ts->offs = palloc(sizeof(size_t) * Max(ts->ncols, 1));
	ts->lens = palloc(sizeof(size_t) * Max(ts->ncols, 1));
	ts->ptrs = palloc(sizeof(char *) * Max(ts->ncols, 1));
	ts->nul = palloc0(Max(ts->ncols, 1));
	initStringInfo(&ts->buf);
	table_open_cursor(ts);

	src->next = table_next;
	src->rewind = table_rewind;
	src->close = table_close;
	return src;
}
