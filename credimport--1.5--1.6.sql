/* credimport--1.5--1.6.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credimport UPDATE TO '1.6'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- section: tenants (mapping, caller's tenant, columns, keys, policies, grants)
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: targets (the tenant field of a platform's tables)
-- ---------------------------------------------------------------------------
