--
-- credentials: licenses and certifications (1.2)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
\set creds :fx 'credentials.csv'

INSERT INTO credimport.credential_type (code, name, requires_expiration, active) VALUES
    ('RN', 'Registered nurse license', true, true),
    ('CPR', 'CPR card', true, true),
    ('BOARD', 'Board certification', false, true),
    ('OLDCERT', 'Retired certification', false, false);
SELECT * FROM credimport_credential_types();
SELECT credimport_template('credentials');

-- every problem code; nothing written
SELECT line_no, status, errors FROM credimport_load_credentials(:'creds', 'email', validate_only => true);
SELECT count(*) AS credentials FROM credimport.credential;

-- the valid ones added, pending approval
SELECT line_no, status, credential_id IS NOT NULL AS has_id
  FROM credimport_load_credentials(:'creds', 'email', max_errors => 13)
 WHERE status <> 'invalid';
SELECT credimport_last_batch_id() AS pending_batch \gset
SELECT l.email, t.code, c.license_number, c.issuer, c.issue_date, c.expiration_date, c.status,
       c.media_url, c.approved_by IS NULL AS not_approved
  FROM credimport.credential c JOIN credimport.learner l ON l.id = c.learner_id
  JOIN credimport.credential_type t ON t.id = c.credential_type_id ORDER BY c.id;

-- approve the batch at once
SELECT credimport_approve(:pending_batch) AS approved;
SELECT credimport_approve(:pending_batch) AS approved_again;
SELECT count(*) FILTER (WHERE status = 'approved' AND approved_by = current_user AND approved_at IS NOT NULL) AS approved
  FROM credimport.credential;

-- an add of a credential the learner has: already_exists; update and delete
SELECT line_no, status, errors FROM credimport_load_credentials_data(
    E'email,credential_type,license_number,issue_date,expiration_date,action\n'
    'ada@example.org,RN,RN-1001,2022-01-15,2026-01-15,add\n'
    'ada@example.org,RN,RN-1001,2024-01-15,2030-01-15,update\n'
    'grace@example.org,CPR,CPR-7,2024-03-01,,delete\n'
    'grace@example.org,CPR,CPR-8,2024-03-01,,delete\n', 'email', max_errors => 2);
SELECT l.email, c.license_number, c.issue_date, c.expiration_date, c.status
  FROM credimport.credential c JOIN credimport.learner l ON l.id = c.learner_id ORDER BY c.id;

-- approve => true: approved at once (an update too)
SELECT line_no, status FROM credimport_load_credentials_data(
    E'remote_id,credential_type,license_number,issue_date,expiration_date,action\n'
    'R-GRACE,BOARD,B-77,2021-01-01,,\n'
    'R-ADA,RN,RN-1001,2024-01-15,2099-01-15,update\n', 'remote_id', approve => true);
SELECT c.license_number, c.status, c.expiration_date, c.approved_by = current_user AS by_me
  FROM credimport.credential c ORDER BY c.id;

-- expiring soon: approved credentials by days left
SELECT credential_type, license_number, days_left >= 0 AS not_expired
  FROM credimport.credential_expiring ORDER BY expiration_date;
SELECT count(*) AS expiring_within_100_years FROM credimport_expiring_credentials(36500);
SELECT count(*) AS expiring_within_0_days FROM credimport_expiring_credentials(0);

-- a staging table; match by user_id; bad match modes
CREATE TABLE cred_stage (user_id bigint, credential_type text, license_number text, issue_date date);
INSERT INTO cred_stage VALUES (3, 'board', 'B-99', '2023-05-05');
SELECT line_no, status, errors FROM credimport_load_credentials('cred_stage'::regclass, 'user_id');
DROP TABLE cred_stage;
SELECT * FROM credimport_load_credentials(:'creds', 'full');
SELECT * FROM credimport_load_credentials_data(E'email,license_number\n', 'email');

-- a credentials batch is not reverted (its updates and deletions cannot be undone)
SELECT * FROM credimport_revert(:pending_batch);
