--
-- test/review/defects.sql -- reproductions of defects found in review
-- (branch review), each an assertion that FAILS while the defect is there.
-- Not in the regression schedule (the owners of the code fix and move
-- them).  Run in a scratch database with the extension installed, as a
-- superuser:
--     createdb rvx && psql -d rvx -c 'CREATE EXTENSION credimport' \
--         && psql -d rvx -X -f test/review/defects.sql
-- Each block prints "ok" or "DEFECT <n>: ...".
--
-- Fixed and moved into the suite: D1 (sql/limits.sql), D2
-- (test/t/006_problem_memory.pl, sql/limits.sql), D4 (sql/privileges.sql),
-- D7 (sql/report.sql), D8 (test/unit/test_xlsx_reader.c, sql/report.sql).
-- Still OPEN: D3, D5, D6 below -- loads run with the caller's rights, so a
-- loader holds table privileges it can also use directly; the lead
-- documents them.
--
\set VERBOSITY terse
SET client_min_messages = warning;

-- least privilege: two loaders (credimport_grant_loader)
CREATE ROLE rv_la; CREATE ROLE rv_lb;
SELECT credimport_grant_loader('rv_la'), credimport_grant_loader('rv_lb');
INSERT INTO credimport.credit_type (code, name) VALUES ('RVCME', 'review') ON CONFLICT DO NOTHING;
INSERT INTO credimport.credential_type (code, name) VALUES ('RVRN', 'review nurse') ON CONFLICT DO NOTHING;
SET ROLE rv_lb;
SELECT count(*) FROM credimport_load_users_data(E'email,first_name,last_name\nrv.b1@example.org,B,One\nrv.b2@example.org,B,Two\n');
SELECT count(*) FROM credimport_load_data(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
                                          'rv.b1@example.org,P,T,RV-B,2024-01-01,1,RVCME\n', 'email');
SELECT credimport_last_batch_id() AS b_credits \gset
SELECT count(*) FROM credimport_load_credentials_data(E'email,credential_type,license_number,issue_date\n'
                                                      'rv.b1@example.org,RVRN,RV-L1,2020-01-01\n', 'email');
RESET ROLE;

-- OPEN (D3, D5, D6: loads run with the caller's rights, so a loader holds
-- table privileges it can use directly; left to the lead to document)
-- D3: loader A deletes loader B's credentials (policy credential_delete USING (true))
SET ROLE rv_la;
DELETE FROM credimport.credential WHERE license_number = 'RV-L1';
RESET ROLE;
SELECT CASE WHEN EXISTS (SELECT FROM credimport.credential WHERE license_number = 'RV-L1') THEN 'ok'
            ELSE 'DEFECT 3: loader A deleted loader B''s credential' END AS d3;

-- D5: loader A writes a credit into B's batch, unvalidated (INSERT on
-- credit, no row-level security): B's audit trail and revert now cover it
SET ROLE rv_la;
INSERT INTO credimport.credit (learner_id, batch_id, provider, course_title, course_id, completion_date,
                               number_credits, credit_type_id, user_editable)
SELECT l.id, :b_credits, '=HYPERLINK("http://evil.example")', '', 'RV-FORGED', '1900-01-01', 999999,
       (SELECT id FROM credimport.credit_type WHERE code = 'RVCME'), false
  FROM credimport.learner l WHERE email = 'rv.b1@example.org';
RESET ROLE;
SELECT CASE WHEN NOT EXISTS (SELECT FROM credimport.credit WHERE course_id = 'RV-FORGED') THEN 'ok'
            ELSE 'DEFECT 5: loader A wrote an unvalidated credit into loader B''s batch' END AS d5;

-- D6: loader A takes the next batch ids (INSERT on batch with an explicit
-- id; identity BY DEFAULT): every other role's loads then fail
SELECT last_value + 1 AS next_id FROM credimport.batch_id_seq \gset
SET ROLE rv_la;
INSERT INTO credimport.batch (id, source, match_mode, allow_edit, validate_only, status, imported_by, kind,
                              records, imported, invalid, learners_created, skipped, started_at)
SELECT i, 'squat', 'email', false, false, 'imported', current_user, 'credits', 0, 0, 0, 0, 0, now()
  FROM generate_series(:next_id, :next_id + 99) i;
RESET ROLE;
SET ROLE rv_lb;
DO $$ BEGIN
  PERFORM count(*) FROM credimport_load_data(E'email,provider,course_title,course_id,completion_date,number_credits,credit_type\n'
                                             'rv.b1@example.org,P,T,RV-B2,2024-01-01,1,RVCME\n', 'email');
  RAISE NOTICE 'ok';
EXCEPTION WHEN unique_violation THEN RAISE WARNING 'DEFECT 6: loader B cannot load: loader A took the next batch ids';
END $$;
RESET ROLE;
