/*
 * report.c
 *		Batch bookkeeping and the per-record report.
 */
#include "report.h"

#include "provenance.h"
#include "target.h"
#include "tenant.h"
#include "pipeline.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "catalog/namespace.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "access/genam.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "funcapi.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/syscache.h"
#include "utils/guc.h"

static bool
batch_has_kind(void)
{
	Oid			rel = get_relname_relid("batch", get_namespace_oid("credimport", false));

	return get_attnum(rel, "kind") != InvalidAttrNumber;
}

/* batch.columns came with version 1.4 */
static bool
batch_has_columns(void)
{
	Oid			rel = get_relname_relid("batch", get_namespace_oid("credimport", false));

	return get_attnum(rel, "columns") != InvalidAttrNumber;
}

void
report_insert_batch(BatchInfo *b)
{
	Oid			types[16] = {TEXTOID, TEXTOID, TEXTOID, BOOLOID, BOOLOID, TEXTOID,
		INT4OID, INT4OID, INT4OID, INT4OID, TIMESTAMPTZOID, NAMEOID, INT4OID, TEXTARRAYOID, TEXTOID, JSONBOID};
	Datum		values[16];
	char		nulls[16];
	int			ret;
	bool		isnull;
	NameData	who;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(b->source);
	if (b->sha256)
		values[1] = CStringGetTextDatum(b->sha256);
	else
		nulls[1] = 'n';
	values[2] = CStringGetTextDatum(b->match_mode);
	values[3] = BoolGetDatum(b->allow_edit);
	values[4] = BoolGetDatum(b->validate_only);
	values[5] = CStringGetTextDatum(b->status);
	values[6] = Int32GetDatum(b->records);
	values[7] = Int32GetDatum(b->imported);
	values[8] = Int32GetDatum(b->invalid);
	values[9] = Int32GetDatum(b->learners_created);
	values[10] = TimestampTzGetDatum(b->started_at);
	namestrcpy(&who, GetUserNameFromId(GetUserId(), false));
	values[11] = NameGetDatum(&who);
	values[12] = Int32GetDatum(b->skipped);
	values[13] = b->header;
	if (b->header == (Datum) 0)
		nulls[13] = 'n';

	/*
	 * batch.kind came with version 1.1; a module newer than a database's
	 * extension version must still work there until ALTER EXTENSION UPDATE.
	 */
	if (batch_has_columns())
	{
		/* 1.4: the columns argument (NULL when none was given) */
		values[14] = CStringGetTextDatum(b->kind ? b->kind : "credits");
		nulls[14] = ' ';
		values[15] = b->columns;
		nulls[15] = b->columns ? ' ' : 'n';
		ret = SPI_execute_with_args(
									"INSERT INTO credimport.batch (source, sha256, match_mode, allow_edit, "
									"validate_only, status, records, imported, invalid, learners_created, "
									"started_at, imported_by, skipped, header, kind, columns) "
									"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
									16, types, values, nulls, false, 1);
	}
	else if (batch_has_kind())
	{
		types[14] = TEXTOID;
		values[14] = CStringGetTextDatum(b->kind ? b->kind : "credits");
		nulls[14] = ' ';
		ret = SPI_execute_with_args(
									"INSERT INTO credimport.batch (source, sha256, match_mode, allow_edit, "
									"validate_only, status, records, imported, invalid, learners_created, "
									"started_at, imported_by, skipped, header, kind) "
									"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
									15, types, values, nulls, false, 1);
	}
	else
		ret = SPI_execute_with_args(
									"INSERT INTO credimport.batch (source, sha256, match_mode, allow_edit, "
									"validate_only, status, records, imported, invalid, learners_created, "
									"started_at, imported_by, skipped, header) "
									"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
									14, types, values, nulls, false, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "credimport: could not record the batch: %s", SPI_result_code_string(ret));
	b->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
}

void
report_finish_batch(BatchInfo *b)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	int			ret;

	values[0] = Int64GetDatum(b->id);
	ret = SPI_execute_with_args("UPDATE credimport.batch SET finished_at = pg_catalog.clock_timestamp() "
								"WHERE id OPERATOR(pg_catalog.=) $1", 1, types, values, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "credimport: could not finish the batch: %s", SPI_result_code_string(ret));
}

void
report_update_counts(BatchInfo *b)
{
	Oid			types[5] = {INT8OID, INT4OID, INT4OID, INT4OID, INT4OID};
	Datum		values[5];
	int			ret;

	values[0] = Int64GetDatum(b->id);
	values[1] = Int32GetDatum(b->imported);
	values[2] = Int32GetDatum(b->learners_created);
	values[3] = Int32GetDatum(b->learners_updated);
	values[4] = Int32GetDatum(b->learners_unchanged);
	ret = SPI_execute_with_args("UPDATE credimport.batch SET imported = $2, learners_created = $3, "
								"learners_updated = $4, learners_unchanged = $5 "
								"WHERE id OPERATOR(pg_catalog.=) $1", 5, types, values, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "credimport: could not update the batch: %s", SPI_result_code_string(ret));
}

/*
 * credimport_import sets credimport_import.rolls_back when it will raise an
 * error for a rejected batch inside a transaction block: the batch will
 * not exist, so the NOTICE names none.
 */
static bool
rejected_batch_rolls_back(void)
{
	const char *v = GetConfigOption("credimport_import.rolls_back", true, false);

	return v != NULL && strcmp(v, "on") == 0;
}

void
report_notice(const BatchInfo *b)
{
	/* (an imported batch of a kind that counts its outcomes: pipeline_run) */
	if (strcmp(b->status, "imported") == 0)
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " imported: %d records, %d imported, %d invalid, %d learners created%s",
						b->id, b->records, b->imported, b->invalid, b->learners_created,
						b->skipped ? psprintf(", %d skipped as already on transcripts", b->skipped) : "")));
	else if (strcmp(b->status, "validated") == 0)
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " validated: %d records, %d valid, %d invalid; nothing was written",
						b->id, b->records, b->records - b->invalid, b->invalid)));
	else if (rejected_batch_rolls_back())
		ereport(NOTICE,
				(errmsg("credimport batch rejected: %d records, %d invalid; nothing was imported",
						b->records, b->invalid),
				 errdetail("The batch is rolled back with the transaction.")));
	else
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " rejected: %d records, %d invalid; nothing was imported",
						b->id, b->records, b->invalid),
				 errhint("See credimport.batch_error for batch " INT64_FORMAT ", fix the file and load it again, or allow some invalid records with max_errors.",
						 b->id)));
}

TableWriter *
report_errors_begin(void)
{
	static const char *const cols[6] = {"batch_id", "line_no", "field", "code", "message", "value"};
	static const Oid types[6] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};

	return tw_begin("batch_error", 6, cols, types);
}

void
report_errors_add(TableWriter *w, int64 batch_id, int64 line_no, const Problem *p)
{
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	values[0] = Int64GetDatum(batch_id);
	values[1] = Int64GetDatum(line_no);
	values[2] = CStringGetTextDatum(p->field);
	values[3] = CStringGetTextDatum(p->code);
	values[4] = CStringGetTextDatum(p->message);
	if (p->value)
		values[5] = CStringGetTextDatum(p->value);
	else
		nulls[5] = true;
	tw_add(w, values, nulls);
	for (int i = 2; i < 6; i++)
		if (!nulls[i])
			pfree(DatumGetPointer(values[i]));
}

void
report_errors_end(TableWriter *w)
{
	tw_end(w);
}

Datum
report_errors_array(const Problem *list, int n)
{
	Datum	   *elems;
	int			i = 0;

	if (n == 0)
		return (Datum) 0;
	elems = palloc(sizeof(Datum) * n);
	for (const Problem *p = list; p && i < n; p = p->next)
	{
		char	   *s = psprintf("%s: %s", p->field, p->message);

		elems[i++] = CStringGetTextDatum(s);
		pfree(s);
	}
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/* ======================================================================
 * Least privilege: who may act on a batch, and the approval right
 * ====================================================================== */

/* credimport_approve(bigint), wherever the extension was installed */
static Oid
approve_function_oid(void)
{
	Oid			argtypes[1] = {INT8OID};
	Oid			nsp = InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *nspname;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("credimport"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(nsp) || (nspname = get_namespace_name(nsp)) == NULL)
		return InvalidOid;
	return LookupFuncName(list_make2(makeString(nspname), makeString("credimport_approve")),
						  1, argtypes, true);
}

void
report_check_approval_right(void)
{
	Oid			fn = approve_function_oid();

	if (OidIsValid(fn) && pg_proc_aclcheck(fn, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to approve credentials"),
			 errdetail("Loading with approve => true approves the credentials written, which needs the approval right (EXECUTE on credimport_approve)."),
			 errhint("Load without approve and have an approver call credimport_approve(batch_id); an administrator grants the right with credimport_grant_approver().")));
}

static Oid
batch_relid(void)
{
	Oid			rel = get_relname_relid("batch", get_namespace_oid("credimport", false));

	if (!OidIsValid(rel))
		elog(ERROR, "credimport: table credimport.batch is missing");
	return rel;
}

/*
 * The rule of the row-level security policy on credimport.batch: a role
 * may act on the batches it imported; members of credimport_admin, and
 * those whom row-level security does not restrict (superusers, BYPASSRLS
 * roles, the table's owner), on all.
 */
static bool
may_act_on(Oid caller, const char *imported_by, const char *tenant)
{
	Oid			admin = get_role_oid("credimport_admin", true);

	if (superuser_arg(caller) || has_bypassrls_privilege(caller) ||
		pg_class_ownercheck(batch_relid(), caller))
		return true;
	/* and the tenant policy: a batch of another tenant does not exist */
	if (!tenant_admits(caller, tenant))
		return false;
	if (strcmp(imported_by, GetUserNameFromId(caller, false)) == 0)
		return true;
	return OidIsValid(admin) && has_privs_of_role(caller, admin);
}

/* run what follows as the owner of the credimport tables */
static void
become_table_owner(Oid *saved_uid, int *saved_ctx)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(batch_relid()));
	Oid			owner;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "credimport: cache lookup failed for credimport.batch");
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	GetUserIdAndSecContext(saved_uid, saved_ctx);
	SetUserIdAndSecContext(owner, *saved_ctx | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

/* does credimport.batch have its tenant column (1.6)? */
static bool
batch_has_tenant(void)
{
	return get_attnum(batch_relid(), "tenant_id") != InvalidAttrNumber;
}

/*
 * The batch's status, kind and tenant, read (and locked when asked) as the
 * owner; a batch the caller may not act on -- another role's, another
 * tenant's -- is refused as if it did not exist.
 */
static void
batch_for_caller(Oid caller, int64 id, bool lock, char **status, char **kind, char **tenant)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	StringInfoData sql;
	int			ret;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT imported_by::pg_catalog.text, status, kind, %s FROM credimport.batch "
					 "WHERE id OPERATOR(pg_catalog.=) $1%s",
					 batch_has_tenant() ? "tenant_id" : "NULL::pg_catalog.text",
					 lock ? " FOR UPDATE" : "");
	values[0] = Int64GetDatum(id);
	ret = SPI_execute_with_args(sql.data, 1, types, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credimport: could not read the batch: %s", SPI_result_code_string(ret));
	if (SPI_processed != 1 ||
		!may_act_on(caller, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
					SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("credimport batch " INT64_FORMAT " does not exist", id)));
	*status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	*kind = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	*tenant = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
}

/* ======================================================================
 * Revert and approve, on any target
 *
 * A batch's rows of a role are found through credimport.provenance (the
 * keys the writer recorded), and -- for batches written before 1.5, and
 * for rows a load updated rather than wrote -- through the role's
 * batch_id column where the target maps one.  Every statement is built
 * from the target's description.
 *
 * What revert deletes: in each relation the batch wrote into, every row
 * whose key the writer recorded for the batch -- the keys the target
 * handed back for the rows it was given -- and, where the target maps a
 * batch_id column, every row that names the batch; then the learners the
 * batch created that nothing else references (revert_learners).  It does
 * not check that a row is still the one the batch wrote: a row the
 * platform has updated since is deleted all the same.  For a table, a key
 * handed back is a row the INSERT inserted (the key is unique).  A view
 * whose INSTEAD OF trigger upserts may hand back the key of a row it
 * updated rather than inserted (ON CONFLICT ... DO UPDATE ... RETURNING):
 * that key is recorded as the batch's, and revert deletes that row, the
 * platform's own, too (credimport_set_target warns of it at set time;
 * targets_write pins the behaviour).  Row versions (xmin) are not used to
 * tell them apart: a later update of the batch's own row would change it.
 *
 * Every statement against a target runs as that relation's owner, in a
 * security-restricted operation (prov_become_owner): its triggers, the
 * functions of its view and the policies on it run with the rights of the
 * platform role that owns it, as they do under VACUUM or ANALYZE, never
 * with those of the owner of credimport's own tables (usually a
 * superuser).  credimport's bookkeeping (batch, provenance) is read and
 * written as the owner of those tables.
 * ====================================================================== */

/* the batch's rows of a role: deleted; how many (each DELETE as its relation's owner) */
static uint64
revert_rows(TargetRole role, int64 id, const char *tenant)
{
	const Target *t = target_get(role);
	uint64		n = prov_delete_rows(id, target_role_names[role]);

	if (target_has(t, "batch_id"))
	{
		Oid			types[2] = {INT8OID, TEXTOID};
		Datum		args[2];
		int			ret;

		args[0] = Int64GetDatum(id);
		args[1] = CStringGetTextDatum(tenant ? tenant : "");
		ret = prov_execute_as_owner(t->relid, target_sql_delete_by_field(t, "batch_id", 2),
									2, types, args, false, 0);
		if (ret != SPI_OK_DELETE)
			elog(ERROR, "credimport: could not delete the batch's rows of %s: %s",
				 t->qualname, SPI_result_code_string(ret));
		n += SPI_processed;
	}
	return n;
}

/*
 * The learners of $2 (the candidates still in the running) that no row of
 * a role's target holds: one statement against that target alone, run as
 * its owner.  $1 is the batch, $3 every candidate of the pass (the
 * associations between two of them are the batch's, where the association
 * target has no batch column).  NULL when none is left.
 */
static Datum
not_held(int64 id, TargetRole role, TargetHold how, const char *const *fields, int nfields, Datum left, Datum cand)
{
	const Target *t = target_get(role);
	Oid			types[3] = {INT8OID, INT8ARRAYOID, INT8ARRAYOID};
	Datum		args[3];
	char	   *sql = target_sql_not_held(t, how, fields, nfields);
	bool		isnull;
	Datum		res;
	int			ret;

	if (sql == NULL)
		return left;			/* the target cannot name a learner */
	args[0] = (Datum) 0;
	args[1] = left;
	args[2] = cand;
	if (how == TH_FIELDS_OF_OTHERS && target_has(t, "batch_id"))
		args[0] = Int64GetDatum(id);
	ret = prov_execute_as_owner(t->relid, sql, 3, types, args, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "credimport: could not find the batch's learners: %s", SPI_result_code_string(ret));
	res = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return (Datum) 0;
	return PointerGetDatum(PG_DETOAST_DATUM_COPY(res));
}

/* DELETE, as its owner, of the rows of a role's target that name one of the learners ids */
static void
delete_rows_of_learners(TargetRole role, const char *const *fields, int nfields,
						Datum ids, const char *what)
{
	const Target *t = target_get(role);
	Oid			types[1] = {INT8ARRAYOID};
	Datum		args[1];
	char	   *sql = target_sql_delete_by_any(t, fields, nfields);
	int			ret;

	if (sql == NULL)
		return;
	args[0] = ids;
	ret = prov_execute_as_owner(t->relid, sql, 1, types, args, false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "credimport: could not delete the %s of the batch's learners: %s", what,
			 SPI_result_code_string(ret));
}

/* the elements of an int8[] */
static int64 *
int8_array_elems(Datum a, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int64	   *out;
	int			k = 0;

	deconstruct_array(DatumGetArrayTypeP(a), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, n);
	out = palloc(sizeof(int64) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		if (!nulls[i])
			out[k++] = DatumGetInt64(elems[i]);
	*n = k;
	return out;
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The learners the batch created that nothing references any more: no
 * credit, no credential, no association or invitation of another batch.
 * Deleted, with the associations and invitations that name them (the
 * batch's own: any other would have held them); how many.  *kept: how
 * many learners the batch created stay because something still
 * references them.
 *
 * Where the association or invitation target has no batch column, which
 * batch wrote a row is not known: an invitation is taken for the batch's
 * (only the batch that creates a learner invites it), and an association
 * for the batch's when it ties two learners the batch created.
 *
 * The candidates are read from credimport.provenance (as its owner) or
 * from the learner target's created_by_batch column; then each target that
 * may hold a learner is asked, in a statement of its own run as that
 * relation's owner, which of the candidates it does not hold.
 */
static uint64
revert_learners(int64 id, const char *tenant, uint64 *kept)
{
	static const char *const learner_id[1] = {"learner_id"};
	static const char *const link_ids[2] = {"learner_id", "related_learner_id"};
	const Target *lt = target_get(TR_LEARNER);
	const Target *kt = target_get(TR_LEARNER_LINK);
	const Target *it = target_get(TR_INVITATION);
	int			nrels;
	ProvRelation *rels = prov_relations(id, target_role_names[TR_LEARNER], &nrels);
	Oid			types[1] = {INT8ARRAYOID};
	Datum		args[1];
	uint64		removed = 0;
	int64	   *kept_ids = NULL;
	int			nkept = 0;

	(void) target_get(TR_CREDIT);
	(void) target_get(TR_CREDENTIAL);
	for (int r = 0; r <= nrels; r++)
	{
		Oid			relid;
		const char *kcolumn;	/* the relation's key column */
		Datum		cand;
		Datum		left;
		bool		isnull;
		int			ret;
		int			ncand;
		int			nleft;
		int64	   *c;
		int64	   *l;

		if (r < nrels)
		{
			/* by provenance, in each relation the batch wrote learners into */
			Datum		keys = prov_keys(id, target_role_names[TR_LEARNER], rels[r].relid, &isnull);
			Oid			kt1[1] = {TEXTARRAYOID};

			relid = rels[r].relid;
			kcolumn = rels[r].key_column;
			if (isnull)
				continue;
			args[0] = keys;
			ret = SPI_execute_with_args("SELECT pg_catalog.array_agg(k::pg_catalog.int8) "
										"FROM pg_catalog.unnest($1) AS k",
										1, kt1, args, NULL, false, 1);
		}
		else
		{
			/* by the created_by_batch column of the learner target */
			Oid			kt1[2] = {INT8OID, TEXTOID};
			Datum		kargs[2];

			if (!target_has(lt, "created_by_batch"))
				break;
			relid = lt->relid;
			kcolumn = target_need(lt, lt->key)->column;
			kargs[0] = Int64GetDatum(id);
			kargs[1] = CStringGetTextDatum(tenant ? tenant : "");
			ret = prov_execute_as_owner(lt->relid,
										target_sql_keys_by_field(lt, "created_by_batch", 2),
										2, kt1, kargs, false, 1);
		}
		if (ret != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "credimport: could not find the batch's learners: %s", SPI_result_code_string(ret));
		cand = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull)
			continue;
		cand = PointerGetDatum(PG_DETOAST_DATUM_COPY(cand));

		left = not_held(id, TR_CREDIT, TH_FIELDS, learner_id, 1, cand, cand);
		if (left)
			left = not_held(id, TR_CREDENTIAL, TH_FIELDS, learner_id, 1, left, cand);
		if (left)
		{
			if (target_has(kt, "batch_id"))
				left = not_held(id, TR_LEARNER_LINK, TH_FIELDS_OF_OTHERS, link_ids, 2, left, cand);
			else
				left = not_held(id, TR_LEARNER_LINK, TH_LINKS_TO_OTHERS, link_ids, 2, left, cand);
		}
		if (left && target_has(it, "batch_id"))
			left = not_held(id, TR_INVITATION, TH_FIELDS_OF_OTHERS, learner_id, 1, left, cand);

		/* the candidates kept (sorted merge: linear after the sorts) */
		c = int8_array_elems(cand, &ncand);
		l = left ? int8_array_elems(left, &nleft) : NULL;
		if (!left)
			nleft = 0;
		qsort(c, ncand, sizeof(int64), cmp_int64);
		if (nleft > 0)
			qsort(l, nleft, sizeof(int64), cmp_int64);
		kept_ids = kept_ids ? repalloc(kept_ids, sizeof(int64) * (nkept + ncand)) :
			palloc(sizeof(int64) * Max(ncand, 1));
		for (int i = 0, j = 0; i < ncand; i++)
		{
			CHECK_FOR_INTERRUPTS();
			while (j < nleft && l[j] < c[i])
				j++;
			if (j < nleft && l[j] == c[i])
				continue;
			kept_ids[nkept++] = c[i];
		}
		if (!left)
			continue;

		delete_rows_of_learners(TR_LEARNER_LINK, link_ids, 2, left, "associations");
		delete_rows_of_learners(TR_INVITATION, learner_id, 1, left, "invitations");
		args[0] = left;
		ret = prov_execute_as_owner(relid, target_sql_delete_rel_keys(relid, kcolumn),
									1, types, args, false, 0);
		if (ret != SPI_OK_DELETE)
			elog(ERROR, "credimport: could not delete the batch's learners: %s", SPI_result_code_string(ret));
		removed += SPI_processed;
	}
	/* a learner found by provenance and by created_by_batch counts once */
	*kept = 0;
	if (nkept > 0)
	{
		qsort(kept_ids, nkept, sizeof(int64), cmp_int64);
		for (int i = 0; i < nkept; i++)
			if (i == 0 || kept_ids[i] != kept_ids[i - 1])
				(*kept)++;
	}
	return removed;
}

/*
 * credimport_revert(batch_id): undo an imported batch the caller may act
 * on -- its credits and associations, and the learners it created that
 * have nothing else -- in whatever targets it wrote them.
 */
PG_FUNCTION_INFO_V1(credimport_revert_1_4);
Datum
credimport_revert_1_4(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Oid			caller = GetUserId();
	Oid			saved_uid;
	int			saved_ctx;
	Oid			types[1] = {INT8OID};
	Datum		args[1];
	char	   *status;
	char	   *kind;
	char	   *tenant;
	uint64		credits;
	uint64		learners;
	uint64		kept;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	int			ret;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "credimport: return type must be a row type");
	args[0] = Int64GetDatum(id);
	SPI_connect();

	/*
	 * The lock the loaders of the batch's tenant take: a revert and a load
	 * of one tenant never interleave.  The batch is looked up first (the
	 * caller must be one who may act on it), then read again under the lock.
	 */
	become_table_owner(&saved_uid, &saved_ctx);
	batch_for_caller(caller, id, false, &status, &kind, &tenant);
	pipeline_lock_tenant(tenant, "revert");
	batch_for_caller(caller, id, true, &status, &kind, &tenant);
	if (strcmp(status, "imported") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("credimport batch " INT64_FORMAT " is %s, not imported", id, status),
				 errhint("Only an imported batch can be reverted.")));
	if (strcmp(kind, "credentials") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("credimport batch " INT64_FORMAT " is a credentials batch, which cannot be reverted", id),
				 errdetail("Its updates and deletions of credentials cannot be undone."),
				 errhint("Load a file that reverses it, with action update or delete.")));
	credits = revert_rows(TR_CREDIT, id, tenant);
	/* the batch's associations (they have no key: by their batch column) */
	(void) revert_rows(TR_LEARNER_LINK, id, tenant);
	learners = revert_learners(id, tenant, &kept);
	ret = SPI_execute_with_args("UPDATE credimport.batch SET status = 'reverted' "
								"WHERE id OPERATOR(pg_catalog.=) $1",
								1, types, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "credimport: could not mark the batch reverted: %s", SPI_result_code_string(ret));
	SetUserIdAndSecContext(saved_uid, saved_ctx);
	SPI_finish();

	if (kept > 0)
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " reverted: " UINT64_FORMAT " credits and " UINT64_FORMAT " learners removed",
						id, credits, learners),
				 errdetail(UINT64_FORMAT " learners the batch created were kept: something else still references them.",
						   kept)));
	else
		ereport(NOTICE,
				(errmsg("credimport batch " INT64_FORMAT " reverted: " UINT64_FORMAT " credits and " UINT64_FORMAT " learners removed",
						id, credits, learners)));
	values[0] = Int32GetDatum((int32) credits);
	values[1] = Int32GetDatum((int32) learners);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * Approve the batch's pending credentials in the credential target: those
 * the batch wrote (provenance) and those its batch_id column names (rows
 * it updated, and batches written before 1.5).
 */
static uint64
approve_rows(int64 id, Datum who, const char *tenant)
{
	const Target *t = target_get(TR_CREDENTIAL);
	int			nrels;
	ProvRelation *rels;
	uint64		n = 0;
	int			ret;

	if (!target_has(t, "status"))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("credential target %s has no status column, so its credentials cannot be approved",
						t->qualname),
				 errhint("Map the field status of the target credential with credimport_set_target().")));

	/*
	 * The rows the batch wrote into the target: their keys read as
	 * credimport's owner, the UPDATE run as the target's owner.
	 */
	rels = prov_relations(id, target_role_names[TR_CREDENTIAL], &nrels);
	for (int r = 0; r < nrels; r++)
	{
		Oid			ktypes[2] = {TEXTARRAYOID, NAMEOID};
		Datum		kargs[2];
		bool		isnull;

		if (rels[r].relid != t->relid || t->key == NULL || !target_has(t, t->key))
			continue;			/* written into another relation: not the credential target now */
		kargs[0] = prov_keys(id, target_role_names[TR_CREDENTIAL], rels[r].relid, &isnull);
		if (isnull)
			continue;
		kargs[1] = who;
		ret = prov_execute_as_owner(t->relid, target_sql_approve(t, rels[r].key_type, 0),
									2, ktypes, kargs, false, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "credimport: could not approve the credentials: %s", SPI_result_code_string(ret));
		n += SPI_processed;
	}
	if (target_has(t, "batch_id"))
	{
		Oid			btypes[3] = {INT8OID, NAMEOID, TEXTOID};
		Datum		bargs[3];

		bargs[0] = Int64GetDatum(id);
		bargs[1] = who;
		bargs[2] = CStringGetTextDatum(tenant ? tenant : "");
		ret = prov_execute_as_owner(t->relid, target_sql_approve(t, InvalidOid, 3),
									3, btypes, bargs, false, 0);
		if (ret != SPI_OK_UPDATE)
			elog(ERROR, "credimport: could not approve the credentials: %s", SPI_result_code_string(ret));
		n += SPI_processed;
	}
	return n;
}

/*
 * credimport_approve(batch_id): approve the pending credentials of a batch
 * the caller may act on; returns how many.  EXECUTE on it is the approval
 * right.
 */
PG_FUNCTION_INFO_V1(credimport_approve_1_4);
Datum
credimport_approve_1_4(PG_FUNCTION_ARGS)
{
	int64		id = PG_GETARG_INT64(0);
	Oid			caller = GetUserId();
	Oid			saved_uid;
	int			saved_ctx;
	Datum		args[2];
	NameData	who;
	char	   *status;
	char	   *kind;
	char	   *tenant;
	uint64		n;

	namestrcpy(&who, GetUserNameFromId(caller, false));
	args[0] = Int64GetDatum(id);
	args[1] = NameGetDatum(&who);
	SPI_connect();
	become_table_owner(&saved_uid, &saved_ctx);
	batch_for_caller(caller, id, false, &status, &kind, &tenant);
	n = approve_rows(id, args[1], tenant);
	SetUserIdAndSecContext(saved_uid, saved_ctx);
	SPI_finish();
	PG_RETURN_INT32((int32) n);
}

/*
 * credimport.procedure_may_commit(): called from a procedure, whether that
 * procedure may COMMIT -- a CALL outside a transaction block (and not from
 * a function).  Its SPI connection is then non-atomic.
 */
PG_FUNCTION_INFO_V1(credimport_procedure_may_commit);
Datum
credimport_procedure_may_commit(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(SPI_inside_nonatomic_context() && !IsTransactionBlock());
}

/* ======================================================================
 * credimport.credential_expiring_rows(): the rows of the view
 * credimport.credential_expiring, from the credential, credential type and
 * learner targets (read with the caller's rights).
 * ====================================================================== */

PG_FUNCTION_INFO_V1(credimport_credential_expiring_rows);
Datum
credimport_credential_expiring_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const Target *c;
	const Target *ty;
	const Target *l;
	int			ret;

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	c = target_get(TR_CREDENTIAL);
	ty = target_get(TR_CREDENTIAL_TYPE);
	l = target_get(TR_LEARNER);
	ret = SPI_execute(target_sql_credential_expiring(c, ty, l), true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credimport: could not read the credentials: %s", SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		Datum		values[11];
		bool		nulls[11];

		CHECK_FOR_INTERRUPTS();
		heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
