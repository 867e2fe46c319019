/*
 * tenant.c
 *		Tenants: the mapping credimport.tenant, read once per transaction
 *		(and again when it changes), and each role's tenants, cached per
 *		role.
 *
 * A role's tenants follow from role membership (is_member_of_role: what the
 * role could SET ROLE to), never from a setting a session can change.  The
 * SQL functions credimport.current_tenant() (for column defaults) and
 * credimport.caller_tenants() (for row-level security policies) are called
 * once per row or once per query; both are answered from the cache, with
 * no catalog or table access on the hot path.
 *
 * The cache is dropped when the mapping changes (a statement trigger on
 * credimport.tenant sends a relcache invalidation of the table), when role
 * memberships change (syscache callbacks), and at the start of every
 * transaction (a new snapshot may see a new mapping).
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "storage/lmgr.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "pipeline.h"
#include "tenant.h"

typedef struct TenantEntry
{
	char	   *name;
	Oid			role;
} TenantEntry;

static MemoryContext tenant_cxt = NULL;

/* the mapping */
static bool map_valid = false;
static LocalTransactionId map_lxid = InvalidLocalTransactionId;
static Oid	map_relid = InvalidOid;
static int	map_n = 0;
static TenantEntry *map_entries = NULL;

/* the tenants of one role */
static bool user_valid = false;
static Oid	user_id = InvalidOid;
static int	user_n = 0;
static const char **user_tenants = NULL;

static void
tenant_relcache_cb(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == map_relid)
	{
		map_valid = false;
		user_valid = false;
	}
}

static void
tenant_syscache_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	user_valid = false;
}

static void
tenant_init(void)
{
	if (tenant_cxt != NULL)
		return;
	tenant_cxt = AllocSetContextCreate(TopMemoryContext, "credimport tenants",
									   ALLOCSET_SMALL_SIZES);
	CacheRegisterRelcacheCallback(tenant_relcache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, tenant_syscache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, tenant_syscache_cb, (Datum) 0);
}

/* the relation credimport.tenant; InvalidOid before 1.6 */
static Oid
tenant_relation(void)
{
	Oid			nsp = get_namespace_oid("credimport", true);

	return OidIsValid(nsp) ? get_relname_relid("tenant", nsp) : InvalidOid;
}

/*
 * Read the mapping (a small table: one row per organization) with the
 * statement's snapshot, bypassing row-level security: only the caller's
 * own tenants ever leave this module.
 */
static bool map_latest = false;	/* read the next mapping with the latest snapshot */

static void
map_load(void)
{
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snap;
	AttrNumber	att_name;
	AttrNumber	att_role;
	int			cap = 16;

	tenant_init();
	if (map_valid && map_lxid == MyProc->lxid)
		return;
	MemoryContextReset(tenant_cxt);
	map_n = 0;
	map_entries = NULL;
	user_valid = false;
	map_relid = tenant_relation();
	if (OidIsValid(map_relid))
	{
		rel = table_open(map_relid, AccessShareLock);
		att_name = attnameAttNum(rel, "tenant", false);
		att_role = attnameAttNum(rel, "role", false);
		if (att_name <= 0 || att_role <= 0)
			elog(ERROR, "credimport: table credimport.tenant lacks its columns");
		snap = (ActiveSnapshotSet() && !map_latest) ? GetActiveSnapshot() : GetLatestSnapshot();
		snap = RegisterSnapshot(snap);
		map_entries = MemoryContextAlloc(tenant_cxt, sizeof(TenantEntry) * cap);
		slot = table_slot_create(rel, NULL);
		scan = table_beginscan(rel, snap, 0, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			bool		null_name;
			bool		null_role;
			Datum		name = slot_getattr(slot, att_name, &null_name);
			Datum		role = slot_getattr(slot, att_role, &null_role);

			CHECK_FOR_INTERRUPTS();
			if (null_name || null_role)
				continue;
			if (map_n == cap)
			{
				cap *= 2;
				map_entries = repalloc(map_entries, sizeof(TenantEntry) * cap);
			}
			map_entries[map_n].name = MemoryContextStrdup(tenant_cxt, TextDatumGetCString(name));
			map_entries[map_n].role = DatumGetObjectId(role);
			map_n++;
		}
		table_endscan(scan);
		ExecDropSingleTupleTableSlot(slot);
		UnregisterSnapshot(snap);
		table_close(rel, AccessShareLock);
	}
	map_lxid = MyProc->lxid;
	map_valid = true;
	map_latest = false;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* the tenants of a role, sorted by name (into *n); from the cache for the current user */
static const char **
tenants_of(Oid roleid, int *n)
{
	const char **names;
	int			k = 0;

	map_load();
	if (user_valid && user_id == roleid)
	{
		*n = user_n;
		return user_tenants;
	}
	/* the current user's are kept; another role's are the caller's */
	names = MemoryContextAlloc(roleid == GetUserId() ? tenant_cxt : CurrentMemoryContext,
							   sizeof(char *) * Max(map_n, 1));
	for (int i = 0; i < map_n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (is_member_of_role(roleid, map_entries[i].role))
			names[k++] = map_entries[i].name;
	}
	if (k > 1)
		qsort(names, k, sizeof(char *), name_cmp);
	if (roleid == GetUserId())
	{
		user_id = roleid;
		user_n = k;
		user_tenants = names;
		user_valid = true;
	}
	*n = k;
	return names;
}

const char *
tenant_recheck(const char *before)
{
	const char *now;

	AcceptInvalidationMessages();
	map_valid = false;
	map_latest = true;
	now = tenant_current();
	if ((now == NULL) != (before == NULL) || (now && strcmp(now, before) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of credimport tenants"),
				 errdetail("The load started as %s%s%s and would now write for %s%s%s.",
						   before ? "tenant \"" : "", before ? before : "no tenant", before ? "\"" : "",
						   now ? "tenant \"" : "", now ? now : "no tenant", now ? "\"" : ""),
				 errhint("Retry the transaction.")));
	return now;
}

bool
tenancy_on(void)
{
	map_load();
	return map_n > 0;
}

const char *
tenant_current(void)
{
	Oid			me = GetUserId();
	const char **names;
	int			n;

	if (!tenancy_on())
		return NULL;
	names = tenants_of(me, &n);
	if (n == 1)
		return names[0];
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" belongs to no credimport tenant", GetUserNameFromId(me, false)),
				 errdetail("Tenancy is on in this database: every row credimport writes belongs to the tenant of the role that writes it."),
				 errhint("Grant the role membership in a tenant's role (credimport.tenant maps tenants to roles), or SET ROLE to a tenant's role.")));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role \"%s\" belongs to %d credimport tenants", GetUserNameFromId(me, false), n),
			 superuser_arg(me) ?
			 errdetail("A superuser is a member of every tenant's role.") :
			 errdetail("It is a member of the roles of tenants \"%s\" and \"%s\"%s.",
					   names[0], names[1], n > 2 ? " and others" : ""),
			 errhint("SET ROLE to the role of the tenant to write for.")));
	return NULL;				/* keep the compiler quiet */
}

bool
tenant_admits(Oid roleid, const char *tenant)
{
	const char **names;
	int			n;

	if (!tenancy_on())
		return true;
	if (tenant == NULL)
		return false;
	names = tenants_of(roleid, &n);
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], tenant) == 0)
			return true;
	return false;
}

/*
 * The lock class of tenants' writes: "cred", an OID no catalog has, so that
 * no SQL command (they lock objects of catalogs) and no advisory lock can
 * ever take one of these locks.
 */
#define TENANT_LOCK_CLASS ((Oid) 0x63726564)

static Oid
tenant_lock_objid(const char *tenant)
{
	uint32		h;

	if (tenant == NULL)
		return 0;
	h = hash_bytes((const unsigned char *) tenant, strlen(tenant));
	return h == 0 ? 1 : h;		/* 0 is the database's (tenancy off) */
}

bool
tenant_lock(const char *tenant, bool dontwait)
{
	Oid			objid = tenant_lock_objid(tenant);

	if (dontwait)
		return ConditionalLockDatabaseObject(TENANT_LOCK_CLASS, objid, 0, ExclusiveLock);
	LockDatabaseObject(TENANT_LOCK_CLASS, objid, 0, ExclusiveLock);
	return true;
}

/* the shipped tables whose row-level security is enabled when tenancy turns on */
static const char *const shipped_rls_tables[] = {
	"learner", "credit", "credit_type", "credential_type", "learner_link"
};

static bool
rel_rowsecurity(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		on;

	if (!HeapTupleIsValid(tp))
		return true;			/* gone: nothing to protect */
	on = ((Form_pg_class) GETSTRUCT(tp))->relrowsecurity;
	ReleaseSysCache(tp);
	return on;
}

void
tenant_check_shipped_rls(void)
{
	Oid			nsp;

	if (!tenancy_on())
		return;
	nsp = get_namespace_oid("credimport", false);
	for (int i = 0; i < lengthof(shipped_rls_tables); i++)
	{
		Oid			relid = get_relname_relid(shipped_rls_tables[i], nsp);

		if (OidIsValid(relid) && !rel_rowsecurity(relid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("row-level security is off on credimport.%s while tenancy is on",
							shipped_rls_tables[i]),
					 errdetail("Without it every tenant's role would see every tenant's rows of it."),
					 errhint("ALTER TABLE credimport.%s ENABLE ROW LEVEL SECURITY;", shipped_rls_tables[i])));
	}
}

/*
 * Tenancy turns on: enable row-level security on the shipped tables that
 * have it off (the update to 1.6 leaves them as they were, so that a
 * database of one organization keeps its plans), as their owner.  Their
 * tenant policies are in place already.
 */
static void
enable_shipped_rls(void)
{
	Oid			nsp = get_namespace_oid("credimport", false);

	SPI_connect();
	for (int i = 0; i < lengthof(shipped_rls_tables); i++)
	{
		Oid			relid = get_relname_relid(shipped_rls_tables[i], nsp);
		HeapTuple	tp;
		Oid			owner;
		Oid			saved_uid;
		int			saved_ctx;
		int			ret;

		if (!OidIsValid(relid) || rel_rowsecurity(relid))
			continue;
		tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		if (!HeapTupleIsValid(tp))
			continue;
		owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
		ReleaseSysCache(tp);
		GetUserIdAndSecContext(&saved_uid, &saved_ctx);
		SetUserIdAndSecContext(owner, saved_ctx | SECURITY_LOCAL_USERID_CHANGE);
		ret = SPI_execute(psprintf("ALTER TABLE credimport.%s ENABLE ROW LEVEL SECURITY",
								   quote_identifier(shipped_rls_tables[i])), false, 0);
		SetUserIdAndSecContext(saved_uid, saved_ctx);
		if (ret != SPI_OK_UTILITY)
			elog(ERROR, "credimport: could not enable row-level security on credimport.%s",
				 shipped_rls_tables[i]);
	}
	SPI_finish();
}

/* ---------------- SQL ---------------- */

PG_FUNCTION_INFO_V1(credimport_current_tenant);
PG_FUNCTION_INFO_V1(credimport_caller_tenants);
PG_FUNCTION_INFO_V1(credimport_tenant_changed);

/* credimport.current_tenant() RETURNS text: for column defaults */
Datum
credimport_current_tenant(PG_FUNCTION_ARGS)
{
	const char *t = tenant_current();

	if (t == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(t));
}

/* credimport.caller_tenants() RETURNS text[]: for row-level security policies */
Datum
credimport_caller_tenants(PG_FUNCTION_ARGS)
{
	const char **names;
	Datum	   *elems;
	int			n;

	if (!tenancy_on())
		PG_RETURN_NULL();
	names = tenants_of(GetUserId(), &n);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(names[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Trigger on credimport.tenant (AFTER INSERT, UPDATE or DELETE of each row,
 * BEFORE TRUNCATE): a tenant is created or dropped only while no load
 * writes for it -- nor, for a tenant created, for the database with
 * tenancy off -- so that no load writes rows for a tenant whose lock it
 * does not hold (a load that waited sees the change and fails with a
 * serialization error).  The first tenant enables row-level security on
 * the shipped tables.  Every backend drops its cached mapping when the
 * change commits (this one at its next command).
 */
Datum
credimport_tenant_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	HeapTuple	ret = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "credimport: tenant_changed() must be called as a trigger");
	rel = td->tg_relation;
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		/* every tenant goes: wait for every tenant's loads */
		map_load();
		for (int i = 0; i < map_n; i++)
			tenant_lock(map_entries[i].name, false);
	}
	else if (TRIGGER_FIRED_FOR_ROW(td->tg_event))
	{
		AttrNumber	att = attnameAttNum(rel, "tenant", false);
		bool		isnull;
		Datum		d;

		if (TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		{
			HeapTuple	newtup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;

			tenant_lock(NULL, false);
			d = heap_getattr(newtup, att, RelationGetDescr(rel), &isnull);
			if (!isnull)
				tenant_lock(TextDatumGetCString(d), false);
			ret = newtup;
		}
		if (TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		{
			d = heap_getattr(td->tg_trigtuple, att, RelationGetDescr(rel), &isnull);
			if (!isnull)
				tenant_lock(TextDatumGetCString(d), false);
			if (ret == NULL)
				ret = td->tg_trigtuple;
		}
		if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
			enable_shipped_rls();
	}
	CacheInvalidateRelcacheByRelid(RelationGetRelid(rel));
	return PointerGetDatum(ret);
}
