/*
 * pipeline.h
 *		The parts of a load every kind shares: reading the header, the
 *		writers' lock, the re-import warning, progress reporting, phase
 *		timings, and recording problems and invalid records.
 *
 * A kind (credits, users, ...) keeps its own rows; these routines reach a
 * row's line number and problems through a RowInfo callback.
 */
#ifndef CREDIMPORT_PIPELINE_H
#define CREDIMPORT_PIPELINE_H

#include "credimport.h"

#include "funcapi.h"
#include "portability/instr_time.h"


typedef void (*row_info_fn) (void *arg, int64 i, int64 *line_no, Problem **problems, int *nproblems);

/*
 * A kind's records, kept from pass 1 to the end of the load: fixed-size
 * rows in chunks of 4096, so that a million records are a few hundred
 * allocations and a row's address never changes.
 */
#define ROWSTORE_CHUNK 4096

typedef struct RowStore
{
	MemoryContext cxt;
	Size		row_size;
	char	  **chunks;
	int			nchunks;
	int			cap;
} RowStore;

extern void rowstore_init(RowStore *rs, MemoryContext cxt, Size row_size);
/* a new zeroed row, number n (the caller counts its rows) */
extern void *rowstore_add(RowStore *rs, int64 n);

static inline void *
rowstore_at(RowStore *rs, int64 i)
{
	return rs->chunks[i / ROWSTORE_CHUNK] + (i % ROWSTORE_CHUNK) * rs->row_size;
}

extern int64 credimport_last_batch;

extern const char *source_noun(Source *src);
extern bool record_is_blank(CsvRecord *rec);
extern bool next_nonblank(Source *src, CsvRecord *rec);

/*
 * Read the header (the first record that is not blank) and map it onto
 * the kind's columns; raises the whole-file errors.  *header gets the
 * names as written (a text[]), unless header is NULL.
 */
/* the worksheet read and the format tried, after detail (NULL: nothing to say) */
extern char *pipeline_source_note(Source *src, const char *detail);
extern ColumnMap *pipeline_read_header(Source *src, const KindColumn *cols, int ncols,
									   const char *const *required_any, int nrequired_any,
									   Datum *header);

extern void pipeline_lock_tenant(const char *tenant, const char *what);
extern void pipeline_warn_same_file(Source *src, const char *detail);

/* pg_stat_progress_copy for a load into credimport.<table> */
extern void pipeline_progress_start(Source *src, const char *table);
extern void pipeline_progress_start_relid(Source *src, Oid relid);
extern void pipeline_progress_read(Source *src, int64 records, bool counting_records);

/*
 * Pass 1, the same for every kind: read every record that is not blank,
 * check the bound on their number, and hand each (in a memory context reset
 * per record) to the kind's function, which keeps what it needs.  Counts
 * *nrows through the kind's function; reports progress; finishes the digest.
 */
typedef void (*record_fn) (void *arg, RecordCtx *rc, CsvRecord *rec);
extern void pipeline_read_records(Source *src, ColumnMap *map, Arena *arena, MemoryContext cxt,
								  const int64 *nrows, bool counting, record_fn fn, void *arg);

/* DEBUG1 line with the time a phase took (SET client_min_messages = debug1) */
extern void phase_done(instr_time *start, const char *what, int64 n);

/* batch_error rows for every problem, and the invalid records as they were */
extern void pipeline_record_problems(Source *src, int64 batch_id, int64 nrows,
									 row_info_fn info, void *arg);

/* credimport_validate's output: one row per problem */
extern void pipeline_emit_problems(ReturnSetInfo *rsinfo, int64 nrows, row_info_fn info, void *arg);

/* "records" with a line number over max_rows: the 54000 error */
extern void pipeline_check_max_rows(Source *src, int64 nrows, long line_no);

/* ---- identifying existing learners (credits and credentials) ---- */
#include "match.h"

typedef enum IdentMode
{
	IDENT_EMAIL,
	IDENT_REMOTE_ID,
	IDENT_USER_ID
} IdentMode;

extern const char *const ident_field_names[3];

/*
 * Check the identifier value of column col and enter its lookup key into
 * learners; returns the directory entry (NULL after recording a problem),
 * with *ident the value as written.
 */
extern DirEntry *ident_check(IdentMode mode, RecordCtx *rc, int col, Directory *learners,
							 char **ident);
/* resolve every identifier of learners with one query */
extern void ident_resolve(IdentMode mode, Directory *learners);
/* unknown_learner / inactive_learner; returns the learner id or 0 */
extern int64 ident_match(IdentMode mode, DirEntry *e, const char *ident, Arena *arena,
						 Problem **problems, int *nproblems);

#endif
