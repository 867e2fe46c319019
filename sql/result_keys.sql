--
-- result_keys: the credit and credential loaders report the written row's
-- key as text (credit_key, credential_key, 1.5), whatever its type; the
-- bigint credit_id / credential_id only when the key is an integer.
--
-- (in one transaction, rolled back: nothing here stays, and the batch
-- numbers of later files do not change)
SELECT last_value AS result_keys_batch_seq FROM credimport.batch_id_seq \gset
BEGIN;
SELECT setval('credimport.batch_id_seq', 900) AS batches_from;
INSERT INTO credimport.learner (email) VALUES ('key.ada@example.org'), ('key.bob@example.org');
INSERT INTO credimport.credit_type (code, name) VALUES ('KEYCME', 'CME for keys');
INSERT INTO credimport.credential_type (code, name) VALUES ('KEYRN', 'RN for keys');
\set credits 'E''email,provider,course_title,course_id,completion_date,number_credits,credit_type\\nkey.ada@example.org,P,T,K-1,2024-01-01,1,KEYCME\\nkey.bob@example.org,P,T,K-2,2024-01-02,2,KEYCME\\nnobody@example.org,P,T,K-3,2024-01-03,1,KEYCME\\n'''

-- the shipped tables: credit_key is credit_id as text; NULL where no row was written
SELECT line_no, status, credit_id IS NOT NULL AS has_id, credit_key = credit_id::text AS key_is_id, credit_key IS NULL AS no_key
  FROM credimport_load_data(:credits, 'email', validate_only => true) ORDER BY line_no;
CREATE TEMP TABLE shipped_result AS SELECT * FROM credimport_load_data(:credits, 'email', max_errors => 1);
SELECT r.line_no, r.status, r.credit_key = r.credit_id::text AS key_is_id, c.course_id
  FROM shipped_result r LEFT JOIN credimport.credit c ON c.id::text = r.credit_key ORDER BY r.line_no;
-- the column's place: appended after errors, the six columns of 1.4 unchanged
SELECT pg_get_function_result('credimport_load_data(text, text, boolean, boolean, integer, text, text, text, jsonb, text, integer)'::regprocedure);
SELECT pg_get_function_result('credimport_load_credentials(regclass, text, boolean, boolean, integer, jsonb)'::regprocedure);

-- a platform's transcript keyed by uuid: credit_id NULL, credit_key the row's uuid
CREATE TABLE key_transcript (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    learner_id bigint NOT NULL, provider text NOT NULL, course_title text NOT NULL, course_id text NOT NULL,
    completion_date date NOT NULL, number_credits numeric(8,2) NOT NULL, credit_type_id integer NOT NULL,
    UNIQUE (learner_id, course_id, credit_type_id, completion_date));
SELECT credimport_set_target('credit', 'key_transcript');
CREATE TEMP TABLE uuid_result AS
SELECT * FROM credimport_load_data(replace(:credits, 'K-', 'U-'), 'email', max_errors => 1);
SELECT line_no, status, credit_id, credit_key::uuid IS NOT NULL AS key_is_uuid, errors IS NOT NULL AS has_errors
  FROM uuid_result ORDER BY line_no;
SELECT r.line_no, t.course_id, t.number_credits
  FROM uuid_result r JOIN key_transcript t ON t.id = r.credit_key::uuid ORDER BY r.line_no;
SELECT count(*) AS rows_written, count(DISTINCT r.credit_key) AS keys_reported
  FROM key_transcript t LEFT JOIN uuid_result r ON t.id = r.credit_key::uuid;
-- through the staging-table door and as a workbook's bytes too
CREATE TEMP TABLE key_stage (email text, provider text, course_title text, course_id text,
                             completion_date date, number_credits numeric, credit_type text);
INSERT INTO key_stage VALUES ('key.ada@example.org', 'P', 'T', 'S-1', '2024-02-01', 1, 'KEYCME');
CREATE TEMP TABLE door_result AS
SELECT 'staging' AS door, * FROM credimport_load('key_stage'::regclass, 'email');
INSERT INTO door_result
SELECT 'bytes', * FROM credimport_load_data(convert_to(replace(:credits, 'K-', 'B-'), 'UTF8'), 'email',
                                            format => 'csv', max_errors => 1);
SELECT r.door, r.line_no, r.status, r.credit_id, t.course_id
  FROM door_result r LEFT JOIN key_transcript t ON t.id = r.credit_key::uuid ORDER BY 1, 2;
-- an integer key of another type (integer, serial): credit_id and credit_key both
CREATE TABLE key_transcript_int (LIKE key_transcript INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE key_transcript_int DROP COLUMN id, ADD COLUMN id serial PRIMARY KEY;
SELECT credimport_set_target('credit', 'key_transcript_int');
CREATE TEMP TABLE int_result AS SELECT * FROM credimport_load_data(:credits, 'email', max_errors => 1);
SELECT r.line_no, r.status, r.credit_key = r.credit_id::text AS key_is_id, t.course_id
  FROM int_result r LEFT JOIN key_transcript_int t ON t.id = r.credit_id ORDER BY r.line_no;

-- the 1.4 entry point, for databases not yet updated: its six columns, credit_id NULL for a uuid
SELECT credimport_set_target('credit', 'key_transcript');
CREATE FUNCTION key_load_1_4(content text, match_mode text, allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false, max_errors integer DEFAULT 0, if_exists text DEFAULT 'error',
    format text DEFAULT NULL, sheet text DEFAULT NULL, columns jsonb DEFAULT NULL,
    encoding text DEFAULT NULL, header_row integer DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, credit_id bigint, errors text[])
AS '$libdir/credimport', 'credimport_load_data_1_4' LANGUAGE C;
SELECT line_no, status, credit_id FROM key_load_1_4(replace(:credits, 'K-', 'O-'), 'email', max_errors => 1);
SELECT count(*) AS written_through_1_4 FROM key_transcript WHERE course_id LIKE 'O-%';

-- the shipped credential table: credential_key is credential_id as text
SELECT line_no, status, credential_key = credential_id::text AS key_is_id, errors IS NOT NULL AS has_errors
  FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\n'
    'key.ada@example.org,KEYRN,S-1,2024-01-01\nnobody@example.org,KEYRN,S-2,2024-01-01\n', 'email', max_errors => 1)
 ORDER BY line_no;

-- credentials keyed by uuid: credential_key is the credential added, or the
-- one an update, a delete (or an add that finds it already there) names,
-- as credential_id is for an integer key
CREATE TABLE key_license (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    learner_id bigint NOT NULL, credential_type_id integer NOT NULL, license_number text NOT NULL,
    issuer text, issue_date date NOT NULL, expiration_date date, status text NOT NULL DEFAULT 'pending',
    media_url text, UNIQUE (learner_id, credential_type_id, license_number));
SELECT credimport_set_target('credential', 'key_license');
CREATE TEMP TABLE cred_added AS
SELECT * FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date\n'
    'key.ada@example.org,KEYRN,L-1,2024-01-01\nkey.bob@example.org,KEYRN,L-2,2024-01-01\n', 'email');
SELECT a.line_no, a.status, a.credential_id, l.license_number
  FROM cred_added a JOIN key_license l ON l.id = a.credential_key::uuid ORDER BY a.line_no;
SELECT line_no, status, credential_id, credential_key::uuid = (SELECT id FROM key_license WHERE license_number = 'L-1') AS names_l1,
       errors IS NOT NULL AS has_errors
  FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date,expiration_date,action\n'
    'key.ada@example.org,KEYRN,L-1,2024-01-01,2030-01-01,update\n', 'email', validate_only => true);
SELECT r.line_no, r.status, r.credential_key::uuid = a.credential_key::uuid AS names_the_added_one,
       r.errors IS NOT NULL AS has_errors
  FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date,expiration_date,action\n'
    'key.ada@example.org,KEYRN,L-1,2024-01-01,,add\n'
    'key.ada@example.org,KEYRN,L-1,2024-01-01,2030-01-01,update\n'
    'key.bob@example.org,KEYRN,L-2,2024-01-01,,delete\n'
    'key.bob@example.org,KEYRN,L-9,2024-01-01,,delete\n', 'email', max_errors => 2) r
  LEFT JOIN cred_added a ON a.learner_id = r.learner_id ORDER BY r.line_no;
SELECT l.license_number, l.expiration_date FROM key_license l ORDER BY 1;
ROLLBACK;
SELECT setval('credimport.batch_id_seq', :result_keys_batch_seq) AS batch_seq_given_back;
SELECT count(*) AS targets_configured FROM credimport.target;
