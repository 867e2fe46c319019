/*
 * provenance.h
 *		Which batch wrote which rows of which target.
 *
 * A platform's own tables have no batch column: credimport keeps, in its
 * own table credimport.provenance, the keys of the rows each batch wrote,
 * per target role and relation -- one row per chunk of keys, so that a
 * load of a million rows adds about a hundred small rows.  Revert and
 * approve find a batch's rows through it.
 */
#ifndef CREDIMPORT_PROVENANCE_H
#define CREDIMPORT_PROVENANCE_H

#include "postgres.h"

#define PROVENANCE_CHUNK 10000	/* keys per row of credimport.provenance */

typedef struct Provenance Provenance;

/*
 * Start recording the keys (of type key_type, in column key_column of
 * relid) a batch writes for a role.  NULL when the database's extension
 * predates credimport.provenance (1.4): nothing is recorded.
 */
extern Provenance *prov_begin(int64 batch_id, const char *role, Oid relid,
							  const char *key_column, Oid key_type);
/*
 * The same for rows of a target's role that the batch changed without the
 * writer (an update that makes a credential pending again): keys of
 * key_type, INT8OID or TEXTOID (as the writer hands keys back).  NULL when
 * the role has no key or the extension predates provenance.
 */
struct Target;
extern Provenance *prov_begin_target(int64 batch_id, const struct Target *t, Oid key_type);
/* buffer one key (copied) */
extern void prov_add(Provenance *p, Datum key);
/* write the full chunks buffered so far (never from inside the executor) */
extern void prov_write_full(Provenance *p);
/* write the rest */
extern void prov_end(Provenance *p);

/* does credimport.provenance exist (extension version 1.5 or later)? */
extern bool prov_table_exists(void);

/* ---- reading it back (revert, approve): run as the owner, inside SPI ---- */

/*
 * The relations (and their key columns) in which the batch wrote rows of
 * the role; *n of them.
 */
typedef struct ProvRelation
{
	Oid			relid;
	char	   *key_column;
	Oid			key_type;		/* the key column's type */
	char	   *qualname;		/* for messages */
} ProvRelation;
extern ProvRelation *prov_relations(int64 batch_id, const char *role, int *n);

/*
 * The keys the batch wrote into relid for the role, as one text[] (copied
 * into the current memory context); *isnull when none.  Read as the owner
 * of credimport.provenance.
 */
extern Datum prov_keys(int64 batch_id, const char *role, Oid relid, bool *isnull);

/*
 * Run what follows as the owner of relation relid, in a security-restricted
 * operation -- as VACUUM, ANALYZE and REFRESH MATERIALIZED VIEW run a
 * table's code (its triggers, the functions of its views and policies) as
 * the table's owner.  Every statement credimport runs against a target on
 * behalf of revert and approve runs so: never as the owner of credimport's
 * own tables (usually a superuser), whose rights the target's code must
 * not borrow.  Undo with SetUserIdAndSecContext(*saved_uid, *saved_ctx)
 * (an error undoes it with the (sub)transaction).
 */
extern void prov_become_owner(Oid relid, Oid *saved_uid, int *saved_ctx);
/* SPI_execute_with_args() of one statement as the owner of relid (above) */
extern int	prov_execute_as_owner(Oid relid, const char *sql, int nargs, Oid *types,
								  Datum *args, bool read_only, long count);

/*
 * Delete the rows the batch wrote into every relation of the role (a
 * TargetRole), of the batch's tenant (NULL: none), each statement as that
 * relation's owner; how many.
 */
extern uint64 prov_delete_rows(int64 batch_id, int role, const char *tenant);

#endif
