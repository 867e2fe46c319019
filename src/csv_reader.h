/*
 * csv_reader.h
 *		RFC 4180 record reader for credimport.
 *
 * This module has no backend dependencies: it links into the server module,
 * into the unit tests and into the fuzz target alike.  It never raises an
 * error itself; every problem is reported as a value on the record (or as
 * the return code of csv_next_record()).  Memory comes from the allocator
 * the caller supplies, so that inside the server it lives in a memory
 * context and is released on error.
 */
#ifndef CREDIMPORT_CSV_READER_H
#define CREDIMPORT_CSV_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Pull callback: fill at most cap bytes into buf.  Return the number of
 * bytes stored, 0 at end of input, or a negative value on a read error
 * (the caller's callback is expected to have recorded the reason).
 */
typedef long (*csv_read_fn) (void *src, char *buf, size_t cap);

typedef struct csv_allocator
{
	void	   *(*alloc) (void *ctx, size_t size);
	void	   *(*realloc) (void *ctx, void *ptr, size_t old_size, size_t new_size);
	void		(*free) (void *ctx, void *ptr);
	void	   *ctx;
} csv_allocator;

/* Record-level problems (bit flags in CsvRecord.problems). */
#define CSV_PROBLEM_UNTERMINATED_QUOTE	0x01	/* quote still open at end of input */
#define CSV_PROBLEM_STRAY_QUOTE			0x02	/* text after a closing quote */
#define CSV_PROBLEM_TOO_LONG			0x04	/* record exceeded max_record_bytes */
#define CSV_PROBLEM_NUL					0x08	/* a NUL byte in some field */

/* Return codes of csv_next_record(). */
#define CSV_OK		0			/* a record was produced */
#define CSV_EOF		1			/* no more records */
#define CSV_EREAD	(-1)		/* the read callback failed */
#define CSV_ENOMEM	(-2)		/* the allocator returned NULL */

typedef struct CsvRecord
{
	long		line_no;		/* physical line where the record starts (1-based) */
	long		end_line_no;	/* physical line where it ends */
	int			nfields;
	char	  **fields;			/* NUL-terminated field values (owned by reader) */
	size_t	   *lengths;		/* byte length of each field */
	unsigned char *field_nul;	/* per field: 1 when it contained a NUL byte */
	unsigned int problems;		/* CSV_PROBLEM_* flags */
	size_t		bytes;			/* raw bytes the record occupied */
} CsvRecord;

typedef struct CsvReader CsvReader;

/*
 * Create a reader.  delimiter is ',', '\t' or ';' to force one, or 0 to
 * take it from the header line (the first record): whichever of comma, tab
 * and semicolon occurs most often outside quotes, comma on a tie.
 * max_record_bytes bounds one record (0 = unbounded); a longer record is
 * skipped to its end and returned with CSV_PROBLEM_TOO_LONG and no fields.
 */
extern CsvReader *csv_reader_create(csv_read_fn read, void *src,
									const csv_allocator *alloc,
									char delimiter, size_t max_record_bytes);
extern void csv_reader_destroy(CsvReader *r);

/*
 * Read the next record into *rec.  Blank lines are skipped; a UTF-8 byte
 * order mark at the start of input is skipped.  The field pointers stay
 * valid until the next call.
 */
extern int	csv_next_record(CsvReader *r, CsvRecord *rec);

/* Delimiter in use (valid after the first record has been read). */
extern char csv_reader_delimiter(const CsvReader *r);

/* Total bytes consumed from the input so far. */
extern uint64_t csv_reader_bytes_read(const CsvReader *r);

/* Return codes of csv_utf16_to_utf8(). */
#define CSV_UTF16_NONE		0		/* no UTF-16 byte order mark: nothing done */
#define CSV_UTF16_OK		1		/* converted */
#define CSV_UTF16_INVALID	(-1)	/* odd length or unpaired surrogate at *bad_offset */
#define CSV_UTF16_ENOMEM	(-2)

/*
 * Input that starts with a UTF-16 byte order mark (FF FE little-endian,
 * FE FF big-endian), as Excel's "Unicode Text" and some exports write it:
 * converted to UTF-8 (without the mark) into *out, allocated with alloc
 * (at most 3 bytes per 2 bytes of input, plus one NUL).
 */
extern int	csv_utf16_to_utf8(const char *data, size_t len, const csv_allocator *alloc,
							  char **out, size_t *outlen, size_t *bad_offset);

#endif							/* CREDIMPORT_CSV_READER_H */
