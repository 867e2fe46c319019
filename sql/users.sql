--
-- users: bulk add and update of learners, associations, invitations (1.1)
--
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/'
\set users :fx 'users.csv'

INSERT INTO credimport.profile_field VALUES ('department', false);
SELECT credimport_template('users');
SELECT count(*) AS learners_before FROM credimport.learner \gset

-- validation: every status and problem code, nothing written
SELECT line_no, status, errors FROM credimport_load_users(:'users', validate_only => true);
SELECT count(*) = :learners_before AS nothing_written FROM credimport.learner;

-- the default max_errors => 0 rejects the batch
SELECT status, count(*) FROM credimport_load_users(:'users') GROUP BY status ORDER BY status;
SELECT count(*) = :learners_before AS nothing_written FROM credimport.learner;

-- with max_errors, the valid records are imported; new learners get invitations
SELECT line_no, status, learner_id IS NOT NULL AS has_learner, errors
  FROM credimport_load_users(:'users', auto_invite => true, max_errors => 8);
SELECT kind, status, records, imported, invalid, learners_created, learners_updated, learners_unchanged
  FROM credimport.batch ORDER BY id DESC LIMIT 1;

-- created learners, and an update that leaves the other fields alone
SELECT email, username, first_name, last_name, role, remote_id, profile,
       created_by_batch = credimport_last_batch_id() AS created_here
  FROM credimport.learner
 WHERE email IN ('new.student@example.org', 'new.parent@example.org', 'ada@example.org', 'grace@example.org')
    OR username LIKE 'kid.%'
 ORDER BY coalesce(email, username);

-- associations, stored from the student's side, whatever the order in the file
SELECT coalesce(s.email, s.username) AS student, l.relation, coalesce(r.email, r.username) AS related
  FROM credimport.learner_link l
  JOIN credimport.learner s ON s.id = l.learner_id
  JOIN credimport.learner r ON r.id = l.related_learner_id
 ORDER BY 1, 2, 3;

-- one invitation per learner created, with an unguessable token; none for updates
SELECT coalesce(l.email, l.username) AS invited, length(i.token) AS token_length, i.sent_at IS NULL AS unsent
  FROM credimport.invitation i JOIN credimport.learner l ON l.id = i.learner_id
 ORDER BY 1;
SELECT count(DISTINCT token) = count(*) AS tokens_unique FROM credimport.invitation;
SELECT credimport_invitation_sent(token) AS marked, credimport_invitation_sent(token) AS again
  FROM credimport.invitation i JOIN credimport.learner l ON l.id = i.learner_id
 WHERE l.email = 'new.parent@example.org';
SELECT credimport_invitation_sent('no-such-token');

-- loading the same people again: unchanged, links idempotent, no invitations
SELECT count(*) AS links_before FROM credimport.learner_link \gset
SELECT count(*) AS invitations_before FROM credimport.invitation \gset
SELECT status, count(*) FROM credimport_load_users(:'users', auto_invite => true, max_errors => 8)
 GROUP BY status ORDER BY status;
SELECT count(*) = :links_before AS links_unchanged FROM credimport.learner_link;
SELECT count(*) = :invitations_before AS no_new_invitations FROM credimport.invitation;

-- without auto_invite, new learners get no invitation; a staging table and
-- content work the same way
CREATE TABLE users_stage (email text, first_name text, last_name text, role text, student text);
INSERT INTO users_stage VALUES ('teacher.tom@example.org', 'Tom', 'Teacher', 'instructor', 'kid.one;kid.two');
SELECT line_no, status, errors FROM credimport_load_users('users_stage'::regclass);
SELECT count(*) = :invitations_before AS no_new_invitations FROM credimport.invitation;
SELECT coalesce(s.email, s.username) AS student, l.relation
  FROM credimport.learner_link l
  JOIN credimport.learner s ON s.id = l.learner_id
  JOIN credimport.learner r ON r.id = l.related_learner_id
 WHERE r.email = 'teacher.tom@example.org' ORDER BY 1;
SELECT line_no, status, errors FROM credimport_load_users_data(
    E'email,first_name,last_name\nteacher.tom@example.org,Thomas,Teacher\n');
SELECT first_name FROM credimport.learner WHERE email = 'teacher.tom@example.org';
DROP TABLE users_stage;

-- one existing learner named twice, by e-mail and by username: the second is a duplicate
UPDATE credimport.learner SET username = 'tom.t' WHERE email = 'teacher.tom@example.org';
SELECT line_no, status, errors FROM credimport_load_users_data(
    E'email,username,last_name\nteacher.tom@example.org,,One\n,tom.t,Two\n', validate_only => true);

-- whole-file errors as for credits
SELECT * FROM credimport_load_users_data(E'first_name,last_name\nA,B\n');
SELECT * FROM credimport_load_users_data(E'email,email\n');
SELECT * FROM credimport_load_users(:'users', max_errors => -1);

-- the results file works for users too
SELECT credimport_error_report(max(id)) FROM credimport.batch WHERE kind = 'users' AND invalid > 0;
DELETE FROM credimport.profile_field WHERE name = 'department';
