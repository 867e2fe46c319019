--
-- write_paths: the multi-insert route gives what INSERT gives, honours the
-- table's triggers, defaults and constraints, and steps aside for BEFORE
-- ROW triggers
--
SELECT current_setting('data_directory') || '/credimport_write_paths.csv' AS wp_file \gset
CREATE TEMP TABLE wp_rows AS
SELECT format('volume.%s@example.org', i) AS email, 'WP Provider' AS provider,
       format('WP course %s', c) AS course_title, format('WP-%s', c) AS course_id,
       to_char(date '2021-06-01' + i % 30, 'YYYY-MM-DD') AS completion_date,
       (i % 5 + 1)::text || '.5' AS number_credits, 'CME' AS credit_type
  FROM generate_series(1, 1500) i, generate_series(1, 2) c ORDER BY i, c;
\set ECHO none
SELECT format('COPY wp_rows TO %L WITH (FORMAT csv, HEADER)', :'wp_file') \gexec
\set ECHO all

-- the same load by both routes gives the same credits and the same report
BEGIN;
SET LOCAL credimport.write_method = 'insert';
CREATE TEMP TABLE by_insert_keys AS SELECT * FROM credimport_load(:'wp_file', 'email');
CREATE TEMP TABLE by_insert_report AS SELECT line_no, status, learner_id, errors FROM by_insert_keys;
-- the keys the table generated come back, in the result and as provenance
-- (the shipped tables too), by both routes
SELECT count(*) AS results, count(c.id) AS keys_in_the_table, count(DISTINCT c.id) AS distinct_keys,
       (SELECT array_agg(id::text ORDER BY id::text) FROM credimport.credit WHERE course_id LIKE 'WP-%')
     = (SELECT array_agg(row_key ORDER BY row_key) FROM credimport.provenance_rows
         WHERE batch_id = credimport_last_batch_id() AND role = 'credit') AS provenance_is_the_credits
  FROM by_insert_keys r LEFT JOIN credimport.credit c ON c.id = r.credit_id AND c.batch_id = r.batch_id;
CREATE TEMP TABLE by_insert AS
SELECT learner_id, provider, course_title, course_id, completion_date, number_credits,
       credit_type_id, user_editable, created_at = now() AS created_now
  FROM credimport.credit WHERE course_id LIKE 'WP-%';
SAVEPOINT s;
DELETE FROM credimport.credit WHERE course_id LIKE 'WP-%';
SET LOCAL credimport.write_method = 'auto';
CREATE TEMP TABLE by_multi_keys AS SELECT * FROM credimport_load(:'wp_file', 'email');
CREATE TEMP TABLE by_multi_report AS SELECT line_no, status, learner_id, errors FROM by_multi_keys;
SELECT count(*) AS results, count(c.id) AS keys_in_the_table, count(DISTINCT c.id) AS distinct_keys,
       (SELECT array_agg(id::text ORDER BY id::text) FROM credimport.credit WHERE course_id LIKE 'WP-%')
     = (SELECT array_agg(row_key ORDER BY row_key) FROM credimport.provenance_rows
         WHERE batch_id = credimport_last_batch_id() AND role = 'credit') AS provenance_is_the_credits
  FROM by_multi_keys r LEFT JOIN credimport.credit c ON c.id = r.credit_id AND c.batch_id = r.batch_id;
CREATE TEMP TABLE by_multi AS
SELECT learner_id, provider, course_title, course_id, completion_date, number_credits,
       credit_type_id, user_editable, created_at = now() AS created_now
  FROM credimport.credit WHERE course_id LIKE 'WP-%';
SELECT (SELECT count(*) FROM by_insert) AS by_insert, (SELECT count(*) FROM by_multi) AS by_multi,
       (SELECT count(*) FROM (SELECT * FROM by_insert EXCEPT ALL SELECT * FROM by_multi) d) AS only_insert,
       (SELECT count(*) FROM (SELECT * FROM by_multi EXCEPT ALL SELECT * FROM by_insert) d) AS only_multi,
       (SELECT count(*) FROM (SELECT * FROM by_insert_report EXCEPT ALL SELECT * FROM by_multi_report) d) AS report_differs;
ROLLBACK;

-- AFTER ROW triggers, statement triggers with transition tables, and a
-- default of a column the user added are all honoured.  (A load runs with
-- search_path = pg_catalog, pg_temp: trigger functions name their schema
-- or set their own search_path, as PostgreSQL advises for trigger functions.)
CREATE TABLE wp_log (kind text, n bigint);
CREATE FUNCTION wp_row_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.wp_log VALUES ('row', 1); RETURN NULL; END $$;
CREATE FUNCTION wp_stmt_trigger() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS $$
BEGIN INSERT INTO wp_log SELECT 'statement', count(*) FROM new_rows; RETURN NULL; END $$;
CREATE TRIGGER wp_row AFTER INSERT ON credimport.credit FOR EACH ROW EXECUTE FUNCTION wp_row_trigger();
CREATE TRIGGER wp_stmt AFTER INSERT ON credimport.credit REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION wp_stmt_trigger();
ALTER TABLE credimport.credit ADD COLUMN note text DEFAULT 'from credimport';
BEGIN;
SELECT status, count(*) FROM credimport_load(:'wp_file', 'email') GROUP BY status;
SELECT kind, count(*), sum(n) FROM wp_log GROUP BY kind ORDER BY kind;
SELECT note, count(*) FROM credimport.credit WHERE course_id LIKE 'WP-%' GROUP BY note;
ROLLBACK;

-- a CHECK constraint the user added holds: the load fails, nothing is written
ALTER TABLE credimport.credit ADD CONSTRAINT wp_at_most_5 CHECK (number_credits <= 5) NOT VALID;
SELECT sqlstate, message FROM load_error(:'wp_file', 'email');  -- (its detail shows a timestamp)
SELECT count(*) AS written FROM credimport.credit WHERE course_id LIKE 'WP-%';
ALTER TABLE credimport.credit DROP CONSTRAINT wp_at_most_5;

-- a column whose typmod changed gets the same length coercion by both
-- routes, and a rule on the table is honoured (rows take the INSERT route)
BEGIN;
ALTER TABLE credimport.credit DROP CONSTRAINT credit_number_credits_check;
ALTER TABLE credimport.credit ALTER number_credits TYPE numeric(6,0);   -- 1.5 must round to 2
CREATE TEMP TABLE typmod_multi AS SELECT line_no, status FROM credimport_load(:'wp_file', 'email');
SELECT number_credits, count(*) FROM credimport.credit WHERE course_id LIKE 'WP-%' GROUP BY 1 ORDER BY 1;
ROLLBACK;
BEGIN;
CREATE TABLE wp_audit (n int);
CREATE RULE wp_audit AS ON INSERT TO credimport.credit DO ALSO INSERT INTO public.wp_audit VALUES (1);
SELECT status, count(*) FROM credimport_load(:'wp_file', 'email') GROUP BY status;
SELECT count(*) AS audited FROM wp_audit;
ROLLBACK;

-- a BEFORE ROW trigger: rows take the INSERT route, and the trigger's
-- change is what is stored
CREATE FUNCTION wp_before() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.provider := upper(NEW.provider); RETURN NEW; END $$;
CREATE TRIGGER wp_before BEFORE INSERT ON credimport.credit FOR EACH ROW EXECUTE FUNCTION wp_before();
BEGIN;
SELECT status, count(*) FROM credimport_load(:'wp_file', 'email') GROUP BY status;
SELECT provider, count(*) FROM credimport.credit WHERE course_id LIKE 'WP-%' GROUP BY provider;
ROLLBACK;

DROP TRIGGER wp_before ON credimport.credit;
DROP TRIGGER wp_row ON credimport.credit;
DROP TRIGGER wp_stmt ON credimport.credit;
ALTER TABLE credimport.credit DROP COLUMN note;
DROP FUNCTION wp_before(), wp_row_trigger(), wp_stmt_trigger();
DROP TABLE wp_log;

-- credit.id made GENERATED ALWAYS: both routes give the same result (a
-- load gives no id: the table generates them, and the load takes them back),
-- as every other difference between them must
SELECT last_value AS wp_batch_seq FROM credimport.batch_id_seq \gset
SELECT last_value AS wp_credit_seq FROM credimport.credit_id_seq \gset
BEGIN;
ALTER TABLE credimport.credit ALTER id SET GENERATED ALWAYS;
SET LOCAL credimport.write_method = 'insert';
SELECT status, count(*), count(credit_id) AS with_id FROM credimport_load(:'wp_file', 'email') GROUP BY status;
SELECT count(*) AS written_by_insert FROM credimport.credit WHERE course_id LIKE 'WP-%';
ROLLBACK;
BEGIN;
ALTER TABLE credimport.credit ALTER id SET GENERATED ALWAYS;
SET LOCAL credimport.write_method = 'auto';
SELECT status, count(*), count(credit_id) AS with_id FROM credimport_load(:'wp_file', 'email') GROUP BY status;
SELECT count(*) AS written_by_multi_insert FROM credimport.credit WHERE course_id LIKE 'WP-%';
-- and a plain INSERT afterwards does not collide with the ids the load took
INSERT INTO credimport.credit (learner_id, provider, course_title, course_id, completion_date,
                               number_credits, credit_type_id, user_editable)
SELECT learner_id, provider, course_title, 'WP-AFTER', completion_date, number_credits, credit_type_id, false
  FROM credimport.credit WHERE course_id LIKE 'WP-%' LIMIT 1;
SELECT count(*) AS after_insert FROM credimport.credit WHERE course_id = 'WP-AFTER';
ROLLBACK;
-- (later tests expect the batch numbers as they were)
SELECT setval('credimport.batch_id_seq', :wp_batch_seq) > 0 AS batch_seq_restored,
       setval('credimport.credit_id_seq', :wp_credit_seq) > 0 AS credit_seq_restored;
