/*
 * target.h
 *		Targets: the tables (or views) a kind reads and writes.
 *
 * Every table a kind touches -- learners, credit types, credits,
 * credential types, credentials, learner links, invitations -- is a
 * *target role*.  By default a role is the extension's own table
 * (credimport.learner, ...); credimport_set_target() points it at any table
 * or view of the platform's, with credimport's field names mapped to the
 * relation's column names.  The configuration is the table
 * credimport.target (data: dumped by pg_dump).
 *
 * This module is the only one that knows relation and column names: every
 * SQL statement run against a target is built here, from the target's
 * description, with quote_identifier() for every name and a parameter for
 * every value.  Callers speak in credimport's field names.
 */
#ifndef CREDIMPORT_TARGET_H
#define CREDIMPORT_TARGET_H

#include "postgres.h"

typedef enum TargetRole
{
	TR_LEARNER,
	TR_CREDIT_TYPE,
	TR_CREDIT,
	TR_CREDENTIAL_TYPE,
	TR_CREDENTIAL,
	TR_LEARNER_LINK,
	TR_INVITATION,
	TR_NROLES
} TargetRole;

/* "learner", "credit_type", ...: the names credimport_set_target() takes */
extern const char *const target_role_names[TR_NROLES];

/* one field of a role, as the relation has it */
typedef struct TargetField
{
	const char *field;			/* credimport's name: "email", "remote_id", ... */
	const char *column;			/* the relation's column; NULL: the relation has none */
	AttrNumber	attnum;			/* 1-based; 0 when column is NULL */
	Oid			type;			/* the column's type */
	int32		typmod;
	bool		has_default;	/* default, identity, serial or generated */
	bool		generated_always;	/* identity ALWAYS or stored generated */
	Oid			basetype;		/* getBaseType(type): the type under its domains */
	bool		tenant;			/* the tenant column: never written by credimport
								 * (its DEFAULT gives the caller's tenant) */
	bool		tenant_named;	/* the tenant column, its DEFAULT
								 * credimport.current_tenant() (cast or not):
								 * its values are the tenants' names */
} TargetField;

/*
 * How "active" is expressed: a boolean column ("active": "is_active"),
 * columns any of which, when set, makes a learner inactive
 * ("active": {"unless": ["suspended", "deleted"]}: true, non-zero or, for
 * other types, NOT NULL), or nothing (everyone is active).
 */
typedef enum ActiveRule
{
	ACTIVE_ALWAYS,
	ACTIVE_COLUMN,
	ACTIVE_UNLESS
} ActiveRule;

typedef struct Target
{
	TargetRole	role;
	Oid			relid;
	char		relkind;
	const char *qualname;		/* quote_qualified_identifier(schema, name) */
	bool		shipped;		/* the extension's own table, fields under their own names */
	int			nfields;
	TargetField *fields;		/* every field the role knows, mapped or not */
	const char *key;			/* field of the row key ("id"); NULL for roles without one */
	ActiveRule	active_rule;
	int			nunless;
	const char **unless;		/* ACTIVE_UNLESS: quoted column names */
	Oid		   *unless_types;
} Target;

/*
 * The description of a role, read (once per statement, and validated) from
 * credimport.target; the shipped table when the role is not configured.
 * Raises an error naming what is missing when the configured relation has
 * gone or no longer fits.
 */
extern const Target *target_get(TargetRole role);

/* the field, or NULL when the role does not know it */
extern const TargetField *target_field(const Target *t, const char *field);
/* does the relation have a column for the field? */
extern bool target_has(const Target *t, const char *field);
/* like target_field(), but an error naming the target when it is not mapped */
extern const TargetField *target_need(const Target *t, const char *field);

/* ---- statements, built from the description ----------------------------
 *
 * All of them qualify operators (OPERATOR(pg_catalog.=)) and functions,
 * cast parameters to the columns' types, and take parameters for values.
 */

/*
 * Directory resolution (see match.h, dir_resolve): one text[] parameter of
 * keys; returns (key text, id int8, active bool [, extra text]) for rows
 * whose key field (lower()ed when lower is true) is one of the keys.
 * extra_field may be NULL.  A key given twice by the relation comes back
 * twice (the caller reports ambiguous_learner).
 */
extern char *target_sql_resolve(const Target *t, const char *key_field, bool lower,
								const char *extra_field);
/*
 * How many keys to look up per query (dir_resolve): 10,000 (0) where an
 * index can serve the lookup; all of them at once where row-level security
 * applies to the caller, because then PostgreSQL uses no index for a
 * lookup through a function that is not leakproof (lower(email)): each
 * query reads the whole relation, so the fewer the better.
 */
extern int	target_lookup_chunk(const Target *t);

/* the same without the parameter: every row (small tables: types) */
extern char *target_sql_load_all(const Target *t, const char *key_field, bool lower,
								 const char *extra_field);

/*
 * Existence probe: parameters $1 int8[] (the caller's row indexes) and one
 * array per key field, of the types given; returns (i int8, result fields
 * as text ...) for every row of the target whose key fields equal the
 * given ones.
 */
extern char *target_sql_probe(const Target *t, int nkeys, const char *const *key_fields,
							  const Oid *key_types, int nresults, const char *const *result_fields);

/*
 * Bulk update by key: $1 is an array of keys (of key_type), then one array
 * per set field, of the types given.  mode per field: 'v' sets the value,
 * 'c' coalesce(value, column), 'j' jsonb merge (column || value).
 * changed_only: touch only rows that change.  RETURNING the key as int8
 * when returning is true.
 */
extern char *target_sql_update(const Target *t, Oid key_type, int nset, const char *const *fields,
							   const Oid *types, const char *modes, bool changed_only, bool returning);

/* Bulk delete by key: $1 an array of keys (of key_type) */
extern char *target_sql_delete(const Target *t, Oid key_type);

/*
 * INSERT of the given fields from $1 .. $n (arrays of the given types)
 * through the executor:
 *   INSERT INTO t (cols) [OVERRIDING SYSTEM VALUE] SELECT ...
 *   FROM ROWS FROM (unnest($1), ...) [WITH ORDINALITY] AS u(...)
 *   [WHERE credimport.writing_row(u.o)] [ON CONFLICT DO NOTHING] [RETURNING key].
 * A field of a type without an array type (an array-typed column) is given
 * as text and cast to its type.  The key comes back as int8 when its column
 * is an integer (under its domains), else as text.
 */
typedef struct TargetInsertOptions
{
	bool		cast_params;	/* cast $n to an array of the column's type when
								 * given as another type (else INSERT assigns) */
	bool		override_generated; /* OVERRIDING SYSTEM VALUE when a column is
									 * GENERATED ALWAYS */
	bool		ordinality;		/* each row through credimport.writing_row(ordinal) */
	bool		on_conflict_nothing;
	bool		returning_key;
} TargetInsertOptions;

extern char *target_sql_insert(const Target *t, int nfields, const char *const *fields,
							   const Oid *types, const TargetInsertOptions *o);
/* the same into credimport's own (bookkeeping) table credimport.<table>, by column */
extern char *target_sql_insert_own(const char *table, int ncols, const char *const *columns,
								   const Oid *types, const TargetInsertOptions *o);

/* ---- revert, approve, the expiring-credentials view -------------------- */

/*
 * The statements below that find a batch's rows by a batch column take the
 * batch's tenant as parameter $tenant_param (text; '' for no tenant): where
 * the target maps a tenant column, only rows of that tenant are the
 * batch's (a row of another tenant naming the batch is not).
 */

/* DELETE the rows whose field equals $1 (int8): a batch column */
extern char *target_sql_delete_by_field(const Target *t, const char *field, int tenant_param);

/*
 * DELETE the rows any of whose fields (those mapped) is one of $1 (int8[]);
 * NULL when none of the fields is mapped.
 */
extern char *target_sql_delete_by_any(const Target *t, const char *const *fields, int nfields);

/* SELECT array_agg(key::int8) of the rows whose field equals $1 (int8) */
extern char *target_sql_keys_by_field(const Target *t, const char *field, int tenant_param);

/*
 * In a relation provenance recorded for a role (relid, its key column, of
 * key_type), in the batch's tenant ($tenant_param, where the relation is the
 * role's target and maps a tenant column): DELETE the rows whose key is one
 * of $1 (int8[]) ...
 */
extern char *target_sql_delete_rel_keys(TargetRole role, Oid relid, const char *key_column,
										int tenant_param);
/* ... and DELETE the rows whose key is one of $1 (text[], cast to key_type) */
extern char *target_sql_delete_rel_text_keys(TargetRole role, Oid relid, const char *key_column,
											 Oid key_type, int tenant_param);

/*
 * Which of the learners $2 (int8[]) no row of the target holds: SELECT
 * array_agg of them.  TH_FIELDS: no row whose fields name the learner;
 * TH_FIELDS_OF_OTHERS: the same, of another batch than $1 (int8) where the
 * target has a batch column; TH_LINKS_TO_OTHERS: no association (fields
 * learner_id, related_learner_id) tying it to one not in $3 (int8[]).
 * NULL when none of the fields is mapped (the target cannot name a learner).
 */
typedef enum TargetHold
{
	TH_FIELDS,
	TH_FIELDS_OF_OTHERS,
	TH_LINKS_TO_OTHERS
} TargetHold;
extern char *target_sql_not_held(const Target *t, TargetHold how, const char *const *fields,
								 int nfields);

/*
 * Approve pending credentials (the target maps status): set status,
 * approved_at, approved_by ($2, name) where mapped; the rows whose key is
 * one of $1 (text[] of prov_key_type, the keys provenance recorded), or,
 * when prov_key_type is InvalidOid, whose batch column equals $1 (int8).
 */
extern char *target_sql_approve(const Target *t, Oid prov_key_type, int tenant_param);

/* the rows of credimport.credential_expiring, from the three targets */
extern char *target_sql_credential_expiring(const Target *c, const Target *ty, const Target *l);

/* SQL of the "is active" expression over alias (e.g. "t") */
extern char *target_active_sql(const Target *t, const char *alias);

#endif							/* CREDIMPORT_TARGET_H */
