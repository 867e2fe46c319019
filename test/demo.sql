-- Demo: import the bundled sample file (run by "bash tools/setup demo").
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS credimport;
INSERT INTO credimport.credit_type (code, name) VALUES
    ('CME', 'Continuing Medical Education'), ('CE', 'Continuing Education'), ('ETHICS', 'Ethics')
    ON CONFLICT DO NOTHING;
INSERT INTO credimport.learner (email, first_name, last_name) VALUES
    ('ada@example.org', 'Ada', 'Lovelace'), ('grace@example.org', 'Grace', 'Hopper'),
    ('linus@example.org', 'Linus', 'Torvalds')
    ON CONFLICT DO NOTHING;

\echo
\echo '== 1. validate only: nothing is written'
SELECT line_no, status, errors FROM credimport_load(:'sample', 'email', validate_only => true);

\echo '== 2. import, allowing learners to edit these credits'
SELECT line_no, status, learner_id, credit_id FROM credimport_load(:'sample', 'email', allow_edit => true);

\echo '== 3. importing the same file again: every record is already on a transcript, nothing changes'
SELECT line_no, status, errors FROM credimport_load(:'sample', 'email');

\echo '== the transcripts'
SELECT l.email, c.course_id, t.code AS credit_type, c.completion_date, c.number_credits, c.user_editable
  FROM credimport.credit c JOIN credimport.learner l ON l.id = c.learner_id
  JOIN credimport.credit_type t ON t.id = c.credit_type_id ORDER BY c.id;
\echo '== the batches'
SELECT id, status, records, imported, invalid, validate_only FROM credimport.batch ORDER BY id;
