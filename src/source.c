/*
 * source.c
 *		Record sources: the doors records come in through.
 *
 * A file source opens a server file (after the same privilege check as
 * COPY FROM a file), reads it in large blocks through the backend-free CSV
 * reader and digests the bytes with SHA-256 as they go by.  Downstream
 * code sees only Source.next().
 */
#include "credimport.h"

#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_authid.h"
#include "common/cryptohash.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"

typedef struct FileSourceState
{
	FILE	   *fp;
	const char *path;
	CsvReader  *reader;
	pg_cryptohash_ctx *sha;
} FileSourceState;

/* allocator for the CSV reader: memory of the current context */
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
	FileSourceState *st = (FileSourceState *) arg;
	size_t		n;

	CHECK_FOR_INTERRUPTS();
	n = fread(buf, 1, cap, st->fp);
	if (n == 0 && ferror(st->fp))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", st->path)));
	if (n > 0 && pg_cryptohash_update(st->sha, (const uint8 *) buf, n) < 0)
		elog(ERROR, "could not update SHA-256 digest");
	return (long) n;
}

static bool
reader_next(Source *src, CsvRecord *rec)
{
	FileSourceState *st = (FileSourceState *) src->state;
	int			rc = csv_next_record(st->reader, rec);

	if (rc == CSV_OK)
		return true;
	if (rc == CSV_EOF)
		return false;
	if (rc == CSV_ENOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while reading \"%s\"", src->description)));
	ereport(ERROR,
			(errcode_for_file_access(),
			 errmsg("could not read file \"%s\"", src->description)));
	return false;				/* keep compiler quiet */
}

static void
file_close(Source *src)
{
	FileSourceState *st = (FileSourceState *) src->state;

	if (st->fp)
	{
		FreeFile(st->fp);
		st->fp = NULL;
	}
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

Source *
source_open_file(const char *path)
{
	Source	   *src;
	FileSourceState *st;
	struct stat stbuf;
	csv_allocator alloc;

	check_file_privilege();

	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("relative path not allowed for credimport: \"%s\"", path),
				 errhint("Give the absolute path of a file on the database server.")));

	src = palloc0(sizeof(Source));
	st = palloc0(sizeof(FileSourceState));
	src->description = pstrdup(path);
	src->state = st;
	st->path = src->description;

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
				 errhint("Give the path of a CSV or tab-delimited file.")));

	st->fp = AllocateFile(path, PG_BINARY_R);
	if (st->fp == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path)));

	st->sha = pg_cryptohash_create(PG_SHA256);
	if (st->sha == NULL || pg_cryptohash_init(st->sha) < 0)
		elog(ERROR, "could not initialize SHA-256 digest");

	alloc.alloc = cxt_alloc;
	alloc.realloc = cxt_realloc;
	alloc.free = cxt_free;
	alloc.ctx = CurrentMemoryContext;
	st->reader = csv_reader_create(file_read, st, &alloc, 0,
								   (size_t) credimport_max_record_bytes);
	if (st->reader == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	src->next = reader_next;
	src->close = file_close;
	return src;
}

/* Compute the hex SHA-256 of everything read so far into src->sha256. */
void
source_finish_digest(Source *src)
{
	FileSourceState *st = (FileSourceState *) src->state;
	uint8		digest[32];
	static const char hex[] = "0123456789abcdef";

	if (st->sha == NULL)
		return;
	if (pg_cryptohash_final(st->sha, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not finalize SHA-256 digest");
	for (int i = 0; i < 32; i++)
	{
		src->sha256[i * 2] = hex[digest[i] >> 4];
		src->sha256[i * 2 + 1] = hex[digest[i] & 0xF];
	}
	src->sha256[64] = '\0';
	pg_cryptohash_free(st->sha);
	st->sha = NULL;
}
