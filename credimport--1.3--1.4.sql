/* credimport--1.3--1.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credimport UPDATE TO '1.4'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- section: entry points (one C symbol per SQL API version)
-- ---------------------------------------------------------------------------

/*
 * Each loader is bound to the C entry point of its own SQL API version
 * (as pg_stat_statements_1_2 ... _1_10): credimport_load_file served both
 * credimport_validate (2 arguments) and credimport_load (6, then 8) and told
 * them apart by counting arguments.  CREATE OR REPLACE keeps each function's
 * oid, so its EXECUTE grants, owner, comment and dependants stay; signature,
 * argument names, defaults and settings are restated exactly as before.  The
 * old symbols stay in the module for databases not yet updated.
 */

-- credits
CREATE OR REPLACE FUNCTION @extschema@.credimport_validate(path text, match_mode text)
RETURNS TABLE (line_no bigint, field text, code text, message text, value text)
AS 'MODULE_PATHNAME', 'credimport_validate_file'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_validate(staging regclass, match_mode text)
RETURNS TABLE (line_no bigint, field text, code text, message text, value text)
AS 'MODULE_PATHNAME', 'credimport_validate_table'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD';

CREATE OR REPLACE FUNCTION @extschema@.credimport_load(
    path text,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_file_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load(
    staging regclass,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error')
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_table_1_0'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET synchronize_seqscans = off;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_data(
    content text,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_data_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_data(
    content bytea,
    match_mode text,
    allow_edit boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    if_exists text DEFAULT 'error',
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credit_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_bytes_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

-- users
CREATE OR REPLACE FUNCTION @extschema@.credimport_load_users(
    path text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_file_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_users(
    staging regclass,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_table_1_1'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET synchronize_seqscans = off;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_users_data(
    content text,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_data_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_users_data(
    content bytea,
    auto_invite boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text, learner_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_users_bytes_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

-- credentials
CREATE OR REPLACE FUNCTION @extschema@.credimport_load_credentials(
    path text,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_file_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_credentials(
    staging regclass,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_table_1_2'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET datestyle = 'ISO, YMD'
SET synchronize_seqscans = off;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_credentials_data(
    content text,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT NULL,
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_data_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION @extschema@.credimport_load_credentials_data(
    content bytea,
    match_mode text,
    approve boolean DEFAULT false,
    validate_only boolean DEFAULT false,
    max_errors integer DEFAULT 0,
    format text DEFAULT 'xlsx',
    sheet text DEFAULT NULL)
RETURNS TABLE (batch_id bigint, line_no bigint, status text,
               learner_id bigint, credential_id bigint, errors text[])
AS 'MODULE_PATHNAME', 'credimport_load_credentials_bytes_1_3'
LANGUAGE C VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------------------
-- section: limits and problems
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: workbooks
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: results file and least privilege
-- ---------------------------------------------------------------------------
