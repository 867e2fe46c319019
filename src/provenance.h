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

#endif

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
	char	   *qualname;
} ProvRelation;
extern ProvRelation *prov_relations(int64 batch_id, const char *role, int *n);

/*
 * SQL of the keys the batch wrote into r for the role, as a subquery
 * "(SELECT ... AS k ...)" of the key column's type, $1 being the batch id
 * (bigint) and $2 the role (text).
 */
extern char *prov_keys_subquery(const ProvRelation *r);

/* delete the rows the batch wrote into every relation of the role */
extern uint64 prov_delete_rows(int64 batch_id, const char *role);
