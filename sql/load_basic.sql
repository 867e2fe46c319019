--
-- load_basic: a clean file imported by e-mail, and what it leaves behind
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
\set basic :fx 'basic.csv'

-- validate only: every record checked, nothing but the batch written
SELECT line_no, status, learner_id, credit_id, errors
  FROM credimport_load(:'basic', 'email', validate_only => true);
SELECT count(*) AS credits_after_validate FROM credimport.credit;
SELECT status, records, imported, invalid, validate_only, allow_edit, match_mode,
       sha256 = encode(sha256(pg_read_binary_file(:'basic')), 'hex') AS sha256_matches,
       imported_by = current_user AS by_me, finished_at >= started_at AS timed
  FROM credimport.batch ORDER BY id DESC LIMIT 1;

-- the import itself
SELECT line_no, status, learner_id, credit_id IS NOT NULL AS has_credit, errors
  FROM credimport_load(:'basic', 'email', allow_edit => true);
SELECT l.email, c.provider, c.course_title, c.course_id, c.completion_date,
       c.number_credits, t.code, c.user_editable, c.batch_id = b.id AS in_batch
  FROM credimport.credit c
  JOIN credimport.learner l ON l.id = c.learner_id
  JOIN credimport.credit_type t ON t.id = c.credit_type_id
  CROSS JOIN (SELECT max(id) AS id FROM credimport.batch) b
 ORDER BY c.id;
SELECT status, records, imported, invalid, learners_created FROM credimport.batch ORDER BY id DESC LIMIT 1;

-- the result rows point at the credits written (read them in a later
-- statement: a statement does not see the rows its own function wrote)
CREATE TEMP TABLE sample_result AS SELECT * FROM credimport_load(:'fx' || 'sample.csv', 'email');
SELECT count(*) AS rows, count(c.id) AS matched,
       bool_and(c.learner_id = r.learner_id AND c.batch_id = r.batch_id) AS ids_consistent
  FROM sample_result r LEFT JOIN credimport.credit c ON c.id = r.credit_id;

-- the same file again: every record is already on a transcript; with the
-- default max_errors => 0 the batch is rejected and nothing changes
SELECT line_no, status, errors FROM credimport_load(:'basic', 'email');
SELECT count(*) AS credits FROM credimport.credit;
SELECT line_no, field, code, message, value FROM credimport.batch_error
 WHERE batch_id = (SELECT max(id) FROM credimport.batch) ORDER BY line_no;

-- all of it belongs to the caller's transaction
BEGIN;
SELECT count(*) FROM credimport_load(:'fx' || 'remote.csv', 'remote_id', max_errors => 10);
SELECT count(*) AS credits_inside FROM credimport.credit;
-- a writing load holds a transaction-scoped lock until the end of the
-- transaction, so concurrent loads cannot both insert the same credit: an
-- object lock of class 1668441444 ("cred", no catalog's: no SQL command
-- and no advisory lock can take it), object 0 while tenancy is off
SELECT locktype, classid, objid, mode, granted FROM pg_locks
 WHERE locktype IN ('advisory', 'object') AND pid = pg_backend_pid();
ROLLBACK;
SELECT count(*) AS load_locks_after_rollback FROM pg_locks
 WHERE locktype IN ('advisory', 'object') AND pid = pg_backend_pid();
SELECT count(*) AS credits_after_rollback FROM credimport.credit;
SELECT count(*) AS batches_of_rolled_back_load FROM credimport.batch WHERE source LIKE '%remote.csv';

-- a header-only file has nothing to import: 22P04, as an empty file and an
-- empty staging table (one rule for every door); no batch is recorded
SELECT count(*) AS batches_before FROM credimport.batch \gset
SELECT * FROM load_error(:'fx' || 'header_only.csv', 'email');
SELECT count(*) - :batches_before AS batches_recorded FROM credimport.batch;
-- (use the batch number a batch of nothing took before, so that later batch numbers stay)
SELECT nextval('credimport.batch_id_seq') > 0 AS skipped_one;
