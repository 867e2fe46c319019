--
-- tenants_upgrade_review: review of issue 17 (trev), F7.  A DBA who had
-- enabled row-level security on a credimport table in 1.5, with a policy of
-- their own, must not find it widened by ALTER EXTENSION ... UPDATE TO
-- '1.6'.  The update script adds a PERMISSIVE policy USING (true) to
-- learner, credit, credit_type, credential_type and learner_link; permissive
-- policies are OR'ed, so the DBA's filter stops filtering.
-- The expected output shows the CORRECT behaviour: FAILS until fixed.
-- (Runs after upgrade.sql; leaves a fresh install, as upgrade.sql does.)
--
SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
CREATE EXTENSION credimport VERSION '1.5';
RESET client_min_messages;
CREATE ROLE rvu_a;
CREATE ROLE rvu_b;
SELECT credimport_grant_loader('rvu_a'), credimport_grant_loader('rvu_b');
-- the DBA's own rule in 1.5: a loader sees the learners its batches created
ALTER TABLE credimport.learner ENABLE ROW LEVEL SECURITY;
CREATE POLICY dba_own ON credimport.learner
    USING (created_by_batch IN (SELECT b.id FROM credimport.batch b));
SET ROLE rvu_a;
SELECT count(*) FROM credimport_load_users_data(E'email,first_name,last_name\nsecret.a@example.org,A,B\n');
RESET ROLE;
SET ROLE rvu_b;
SELECT count(*) AS b_sees_before_update FROM credimport.learner;
RESET ROLE;
ALTER EXTENSION credimport UPDATE TO '1.6';
SET ROLE rvu_b;
SELECT count(*) AS b_sees_after_update FROM credimport.learner;
RESET ROLE;

SET client_min_messages = warning;
DROP EXTENSION credimport CASCADE;
RESET client_min_messages;
DROP OWNED BY rvu_a, rvu_b;
DROP ROLE rvu_a, rvu_b;
CREATE EXTENSION credimport;
