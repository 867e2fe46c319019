/*
 * report.h
 *		The batch row, its problems (batch_error), the per-record result rows
 *		and the summary NOTICE.
 */
#ifndef CREDIMPORT_REPORT_H
#define CREDIMPORT_REPORT_H

#include "credimport.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "writer.h"

typedef struct BatchInfo
{
	int64		id;
	const char *kind;			/* "credits", ... (for messages) */
	const char *source;
	const char *sha256;			/* NULL when not applicable */
	const char *match_mode;
	bool		allow_edit;
	bool		validate_only;
	const char *status;			/* imported / rejected / validated */
	int			records;
	int			imported;
	int			invalid;
	int			learners_created;
	int			learners_updated;	/* users */
	int			learners_unchanged;	/* users */
	int			skipped;
	Datum		header;			/* text[] of the header as written, or 0 */
	Datum		columns;		/* jsonb: the columns argument given, or 0 */
	TimestampTz started_at;
} BatchInfo;

/* Inserts the batch row and sets b->id. */
extern void report_insert_batch(BatchInfo *b);
extern void report_finish_batch(BatchInfo *b);
/* the counts known only after writing (imported, learners_*) */
extern void report_update_counts(BatchInfo *b);
extern void report_notice(const BatchInfo *b);

/* batch_error rows, written in bulk */
extern TableWriter *report_errors_begin(void);
extern void report_errors_add(TableWriter *w, int64 batch_id, int64 line_no, const Problem *p);
extern void report_errors_end(TableWriter *w);

/* "field: message" array of a record's problems, or (Datum) 0 when none */
extern Datum report_errors_array(const Problem *list, int n);

/* ERROR unless the caller may approve credentials (EXECUTE on credimport_approve) */
extern void report_check_approval_right(void);

#endif
