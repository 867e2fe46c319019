/*
 * provenance.c
 *		Which batch wrote which rows of which target (credimport.provenance).
 *
 * The rows are written as the owner of credimport.provenance, as revert and
 * approve act: a loader has no privilege on the table, and so cannot
 * record rows its batch did not write (revert deletes what provenance
 * names).
 */
#include "provenance.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "target.h"

struct Provenance
{
	int64		batch_id;
	char	   *role;
	Oid			relid;
	char	   *key_column;
	FmgrInfo	out;			/* the key type's output function */
	Datum	   *keys;			/* text */
	int			n;
	int			cap;
	MemoryContext cxt;			/* the buffered keys */
};

static Oid
provenance_relid(void)
{
	Oid			nsp = get_namespace_oid("credimport", true);

	return OidIsValid(nsp) ? get_relname_relid("provenance", nsp) : InvalidOid;
}

bool
prov_table_exists(void)
{
	return OidIsValid(provenance_relid());
}

Provenance *
prov_begin(int64 batch_id, const char *role, Oid relid, const char *key_column, Oid key_type)
{
	Provenance *p;
	Oid			out;
	bool		isvarlena;

	if (!prov_table_exists())
		return NULL;
	p = palloc0(sizeof(Provenance));
	p->batch_id = batch_id;
	p->role = pstrdup(role);
	p->relid = relid;
	p->key_column = pstrdup(key_column);
	getTypeOutputInfo(key_type, &out, &isvarlena);
	fmgr_info(out, &p->out);
	p->cap = 1024;
	p->keys = palloc(sizeof(Datum) * p->cap);
	p->cxt = AllocSetContextCreate(CurrentMemoryContext, "credimport provenance",
								   ALLOCSET_DEFAULT_SIZES);
	return p;
}

Provenance *
prov_begin_target(int64 batch_id, const Target *t, Oid key_type)
{
	const TargetField *kf = t->key ? target_field(t, t->key) : NULL;

	if (kf == NULL || kf->column == NULL)
		return NULL;
	return prov_begin(batch_id, target_role_names[t->role], t->relid, kf->column, key_type);
}

void
prov_add(Provenance *p, Datum key)
{
	MemoryContext old;
	char	   *s;

	if (p == NULL)
		return;
	if (p->n == p->cap)
	{
		p->cap *= 2;
		p->keys = repalloc(p->keys, sizeof(Datum) * p->cap);
	}
	old = MemoryContextSwitchTo(p->cxt);
	s = OutputFunctionCall(&p->out, key);
	p->keys[p->n++] = CStringGetTextDatum(s);
	pfree(s);
	MemoryContextSwitchTo(old);
}

/* one row of credimport.provenance, as the table's owner */
static void
write_chunk(Provenance *p, Datum *keys, int n)
{
	static const Oid types[5] = {INT8OID, TEXTOID, REGCLASSOID, TEXTOID, TEXTARRAYOID};
	Datum		values[5];
	Oid			saved_uid;
	int			saved_ctx;
	int			ret;

	values[0] = Int64GetDatum(p->batch_id);
	values[1] = CStringGetTextDatum(p->role);
	values[2] = ObjectIdGetDatum(p->relid);
	values[3] = CStringGetTextDatum(p->key_column);
	values[4] = PointerGetDatum(construct_array(keys, n, TEXTOID, -1, false, TYPALIGN_INT));
	prov_become_owner(provenance_relid(), &saved_uid, &saved_ctx);
	/* the batch's tenant (1.6), not the owner's: the owner writes it */
	if (get_attnum(provenance_relid(), "tenant_id") != InvalidAttrNumber)
		ret = SPI_execute_with_args("INSERT INTO credimport.provenance "
									"(batch_id, role, relation, key_column, row_keys, tenant_id) "
									"SELECT $1, $2, $3, $4, $5, b.tenant_id FROM credimport.batch b "
									"WHERE b.id OPERATOR(pg_catalog.=) $1",
									5, (Oid *) types, values, NULL, false, 0);
	else
		ret = SPI_execute_with_args("INSERT INTO credimport.provenance "
									"(batch_id, role, relation, key_column, row_keys) "
									"VALUES ($1, $2, $3, $4, $5)",
									5, (Oid *) types, values, NULL, false, 0);
	SetUserIdAndSecContext(saved_uid, saved_ctx);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "credimport: could not record the provenance of batch " INT64_FORMAT ": %s",
			 p->batch_id, SPI_result_code_string(ret));
	pfree(DatumGetPointer(values[4]));
}

void
prov_write_full(Provenance *p)
{
	int			done = 0;

	if (p == NULL || p->n < PROVENANCE_CHUNK)
		return;
	while (p->n - done >= PROVENANCE_CHUNK)
	{
		CHECK_FOR_INTERRUPTS();
		write_chunk(p, p->keys + done, PROVENANCE_CHUNK);
		done += PROVENANCE_CHUNK;
	}
	/* keep the rest (fewer than a chunk), in a fresh context */
	if (p->n > done)
	{
		MemoryContext fresh = AllocSetContextCreate(CurrentMemoryContext, "credimport provenance",
													ALLOCSET_DEFAULT_SIZES);
		MemoryContext old = MemoryContextSwitchTo(fresh);

		for (int i = done; i < p->n; i++)
			p->keys[i - done] = PointerGetDatum(DatumGetTextPCopy(p->keys[i]));
		MemoryContextSwitchTo(old);
		MemoryContextDelete(p->cxt);
		p->cxt = fresh;
	}
	else
		MemoryContextReset(p->cxt);
	p->n -= done;
}

void
prov_end(Provenance *p)
{
	if (p == NULL)
		return;
	prov_write_full(p);
	if (p->n > 0)
		write_chunk(p, p->keys, p->n);
	p->n = 0;
	MemoryContextDelete(p->cxt);
}

/* ======================================================================
 * Reading it back
 * ====================================================================== */

ProvRelation *
prov_relations(int64 batch_id, const char *role, int *n)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	ProvRelation *rels;
	int			ret;
	int			k = 0;

	*n = 0;
	if (!prov_table_exists())
		return NULL;
	values[0] = Int64GetDatum(batch_id);
	values[1] = CStringGetTextDatum(role);
	ret = SPI_execute_with_args("SELECT DISTINCT p.relation::pg_catalog.oid, p.key_column "
								"FROM credimport.provenance p "
								"WHERE p.batch_id OPERATOR(pg_catalog.=) $1 "
								"AND p.role OPERATOR(pg_catalog.=) $2",
								2, types, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credimport: could not read the provenance of batch " INT64_FORMAT ": %s",
			 batch_id, SPI_result_code_string(ret));
	rels = palloc0(sizeof(ProvRelation) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));
		char	   *col = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		char	   *relname = get_rel_name(relid);
		AttrNumber	att;

		/* a relation dropped since: nothing of it to act on */
		if (relname == NULL)
			continue;
		att = get_attnum(relid, col);
		if (att == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of %s, the key of the rows batch " INT64_FORMAT " wrote, is gone",
							col, relname, batch_id),
					 errdetail("credimport recorded the rows of batch " INT64_FORMAT " by that column.",
							   batch_id)));
		rels[k].relid = relid;
		rels[k].key_column = col;
		rels[k].key_type = get_atttype(relid, att);
		rels[k].qualname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
													  relname);
		k++;
	}
	SPI_freetuptable(SPI_tuptable);
	*n = k;
	return rels;
}

Datum
prov_keys(int64 batch_id, const char *role, Oid relid, bool *isnull)
{
	Oid			types[3] = {INT8OID, TEXTOID, OIDOID};
	Datum		values[3];
	Datum		keys;
	int			ret;

	values[0] = Int64GetDatum(batch_id);
	values[1] = CStringGetTextDatum(role);
	values[2] = ObjectIdGetDatum(relid);
	ret = SPI_execute_with_args("SELECT pg_catalog.array_agg(k.k) FROM credimport.provenance p "
								"CROSS JOIN LATERAL pg_catalog.unnest(p.row_keys) AS k(k) "
								"WHERE p.batch_id OPERATOR(pg_catalog.=) $1 "
								"AND p.role OPERATOR(pg_catalog.=) $2 "
								"AND p.relation OPERATOR(pg_catalog.=) $3::pg_catalog.regclass",
								3, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "credimport: could not read the provenance of batch " INT64_FORMAT ": %s",
			 batch_id, SPI_result_code_string(ret));
	keys = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
	if (!*isnull)
		keys = PointerGetDatum(PG_DETOAST_DATUM_COPY(keys));
	SPI_freetuptable(SPI_tuptable);
	return *isnull ? (Datum) 0 : keys;
}

void
prov_become_owner(Oid relid, Oid *saved_uid, int *saved_ctx)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "credimport: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	GetUserIdAndSecContext(saved_uid, saved_ctx);
	SetUserIdAndSecContext(owner, *saved_ctx | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

int
prov_execute_as_owner(Oid relid, const char *sql, int nargs, Oid *types, Datum *args,
					  bool read_only, long count)
{
	Oid			saved_uid;
	int			saved_ctx;
	int			ret;

	prov_become_owner(relid, &saved_uid, &saved_ctx);
	ret = SPI_execute_with_args(sql, nargs, types, args, NULL, read_only, count);
	SetUserIdAndSecContext(saved_uid, saved_ctx);
	return ret;
}

uint64
prov_delete_rows(int64 batch_id, const char *role)
{
	Oid			types[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			n;
	ProvRelation *rels = prov_relations(batch_id, role, &n);
	uint64		deleted = 0;

	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		char	   *sql;
		int			ret;

		/* the keys, read as credimport's owner; the DELETE, as the relation's */
		values[0] = prov_keys(batch_id, role, rels[i].relid, &isnull);
		if (isnull)
			continue;
		sql = target_sql_delete_rel_text_keys(rels[i].relid, rels[i].key_column, rels[i].key_type);
		ret = prov_execute_as_owner(rels[i].relid, sql, 1, types, values, false, 0);
		if (ret != SPI_OK_DELETE)
			elog(ERROR, "credimport: could not delete the rows batch " INT64_FORMAT " wrote into %s: %s",
				 batch_id, rels[i].qualname, SPI_result_code_string(ret));
		deleted += SPI_processed;
	}
	return deleted;
}
