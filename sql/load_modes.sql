--
-- load_modes: remote_id, user_id and full match modes
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'

-- remote_id: exact match, active learners only
SELECT line_no, status, learner_id, errors FROM credimport_load(:'fx' || 'remote.csv', 'remote_id', max_errors => 3);

-- user_id: learner.id
SELECT line_no, status, learner_id, errors FROM credimport_load(:'fx' || 'userid.csv', 'user_id', max_errors => 3);

-- full: match by remote_id, else by e-mail, else create the learner from
-- the row (once, however many rows name it); required profile fields are
-- needed only to create one
INSERT INTO credimport.profile_field VALUES ('department', false);
SELECT line_no, status, learner_id IS NOT NULL AS has_learner, errors
  FROM credimport_load(:'fx' || 'full.csv', 'full', validate_only => true);
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'full.csv', 'full');
SELECT count(*) AS learners_before_import FROM credimport.learner;
SELECT line_no, status, learner_id, errors FROM credimport_load(:'fx' || 'full.csv', 'full', max_errors => 4);
SELECT id, email, remote_id, first_name, last_name, profile, created_by_batch = (SELECT max(id) FROM credimport.batch) AS created_here
  FROM credimport.learner WHERE id > 4 ORDER BY id;
SELECT status, records, imported, invalid, learners_created FROM credimport.batch ORDER BY id DESC LIMIT 1;
SELECT l.email, c.course_id FROM credimport.credit c JOIN credimport.learner l ON l.id = c.learner_id
 WHERE c.course_id LIKE 'FC-%' ORDER BY c.id;

-- a required custom field
UPDATE credimport.profile_field SET required = true WHERE name = 'department';
SELECT line_no, status, errors FROM credimport_load(:'fx' || 'full_required.csv', 'full', validate_only => true);
DELETE FROM credimport.profile_field WHERE name = 'department';

-- full mode needs email or remote_id in the header
SELECT * FROM credimport_load(:'fx' || 'userid.csv', 'full');
