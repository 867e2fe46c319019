/* credimport--1.4--1.5.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credimport UPDATE TO '1.5'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- section: targets (configuration, credimport_set_target, credimport.targets)
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: provenance and writes (which batch wrote which row of a target)
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: kinds and options (one pipeline)
-- ---------------------------------------------------------------------------
