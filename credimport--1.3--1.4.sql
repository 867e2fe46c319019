/* credimport--1.3--1.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credimport UPDATE TO '1.4'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- section: entry points (one C symbol per SQL API version)
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: limits and problems
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: workbooks
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: results file and least privilege
-- ---------------------------------------------------------------------------

-- ---------------------------------------------------------------------------
-- section: files as people export them
-- ---------------------------------------------------------------------------

/*
 * Header aliases: a header, normalised as credimport normalises headers
 * ("E-mail Address" is e_mail_address), read as one of credimport's fields,
 * for every kind (kind NULL) or for one.  A header that is itself a field
 * of the kind is never read through an alias, and an alias applies only
 * where the kind has its field.  field NULL turns an alias off.
 *
 * The shipped rows have shipped = true; pg_dump dumps the others (the
 * administrator's rows, and shipped rows the administrator changed, which
 * the update trigger marks as theirs).  On restore CREATE EXTENSION has
 * just inserted the shipped rows again: the insert trigger turns the
 * restored copy of a shipped row into an update, as for profile_field.
 */
CREATE TABLE credimport.header_alias (
    alias   text NOT NULL CHECK (alias OPERATOR(pg_catalog.<>) ''),
    field   text,
    kind    text CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['credits', 'users', 'credentials'])),
    shipped boolean NOT NULL DEFAULT false,
    CONSTRAINT header_alias_alias_kind_key UNIQUE NULLS NOT DISTINCT (alias, kind)
);

CREATE FUNCTION credimport.header_alias_upsert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    old_shipped boolean;
BEGIN
    SELECT shipped INTO old_shipped FROM credimport.header_alias
     WHERE alias = NEW.alias AND kind IS NOT DISTINCT FROM NEW.kind;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    -- a shipped row never replaces the administrator's
    IF NOT (NEW.shipped AND NOT old_shipped) THEN
        UPDATE credimport.header_alias SET field = NEW.field, shipped = NEW.shipped
         WHERE alias = NEW.alias AND kind IS NOT DISTINCT FROM NEW.kind;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER header_alias_upsert BEFORE INSERT ON credimport.header_alias
    FOR EACH ROW EXECUTE FUNCTION credimport.header_alias_upsert();

-- a changed shipped row is the administrator's: pg_dump dumps it
CREATE FUNCTION credimport.header_alias_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (NEW.alias, NEW.field, NEW.kind) IS DISTINCT FROM (OLD.alias, OLD.field, OLD.kind) THEN
        NEW.shipped := false;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER header_alias_changed BEFORE UPDATE ON credimport.header_alias
    FOR EACH ROW EXECUTE FUNCTION credimport.header_alias_changed();

INSERT INTO credimport.header_alias (alias, field, shipped) VALUES
    ('e_mail', 'email', true), ('e_mail_address', 'email', true),
    ('email_address', 'email', true), ('mail', 'email', true),
    ('firstname', 'first_name', true), ('first', 'first_name', true),
    ('given_name', 'first_name', true),
    ('lastname', 'last_name', true), ('last', 'last_name', true),
    ('surname', 'last_name', true), ('family_name', 'last_name', true),
    ('credits', 'number_credits', true), ('credits_earned', 'number_credits', true),
    ('credit_hours', 'number_credits', true), ('hours', 'number_credits', true),
    ('course_code', 'course_id', true), ('course_number', 'course_id', true),
    ('course_name', 'course_title', true),
    ('date_completed', 'completion_date', true), ('completed_on', 'completion_date', true),
    ('date_of_completion', 'completion_date', true),
    ('credit_category', 'credit_type', true);

SELECT pg_catalog.pg_extension_config_dump('credimport.header_alias', 'WHERE NOT shipped');

-- every loader reads the aliases with the caller's rights; they are not secret
GRANT SELECT ON credimport.header_alias TO PUBLIC;
