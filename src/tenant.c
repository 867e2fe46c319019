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
 * The cache is dropped when the mapping changes (a trigger on
 * credimport.tenant sends a relcache invalidation of the table) and when
 * role memberships change (syscache callbacks); the mapping is read with
 * the latest snapshot, as the catalogs are, so that a cache filled in a
 * transaction with an old snapshot is never stale.
 *
 * On a Citus cluster the platform's tables are distributed and their
 * row-level security policies run on the WORKERS, as the same role, so
 * credimport.caller_tenants() there must know the mapping; the workers'
 * own credimport.tenant is empty.  On the coordinator the trigger on
 * credimport.tenant mirrors the mapping, by tenant and role NAME (role
 * OIDs differ per node; Citus propagates roles by name), into
 * credimport.tenant_map, a Citus reference table it creates on first use
 * and writes in the same transaction (Citus writes a reference table on
 * every node, with two-phase commit).  A worker reads that table's local
 * shard directly (never a distributed query from inside a shard query),
 * resolves the names to its own roles (a name with no role there: no
 * tenant), and reads it again in every transaction (no invalidation
 * reaches a worker's pooled connections).  A load on the coordinator
 * refuses to run while the mirror differs from the mapping (a role
 * renamed, tenants created before Citus); `UPDATE credimport.tenant SET
 * role = role` copies it again.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/genam.h"
#include "access/skey.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "storage/lmgr.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
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
static Oid	map_relid = InvalidOid;
static int	map_n = 0;
static TenantEntry *map_entries = NULL;

/* Citus: which node this backend's mapping was read on, and when */
#define MIRROR_NAME "tenant_map"
typedef enum CitusNode
{
	NODE_PLAIN,					/* no Citus in this database */
	NODE_COORDINATOR,
	NODE_WORKER
} CitusNode;
static CitusNode map_node = NODE_PLAIN;
static LocalTransactionId map_lxid = InvalidLocalTransactionId;

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


/* is Citus in this database, and is this node its coordinator or a worker? */
static CitusNode
citus_node(void)
{
	Oid			relid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	CitusNode	node = NODE_COORDINATOR;

	if (!OidIsValid(get_extension_oid("citus", true)))
		return NODE_PLAIN;
	/* pg_dist_local_group: one row, the group of this node (0: coordinator) */
	relid = get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(relid))
		return NODE_PLAIN;
	rel = table_open(relid, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		AttrNumber	att = attnameAttNum(rel, "groupid", false);
		bool		isnull;
		Datum		d = heap_getattr(tup, att, RelationGetDescr(rel), &isnull);

		if (!isnull && DatumGetInt32(d) != 0)
			node = NODE_WORKER;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return node;
}

/*
 * On a worker: the local shard of the mirror (InvalidOid: none), found by
 * its shard id in Citus's pg_dist_shard (synced to every node).
 */
static Oid
mirror_shard(Oid nsp)
{
	Oid			shell = get_relname_relid(MIRROR_NAME, nsp);
	Oid			relid = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	Oid			index = get_relname_relid("pg_dist_shard_logical_relid_index", PG_CATALOG_NAMESPACE);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int64		shardid = -1;

	if (!OidIsValid(shell) || !OidIsValid(relid))
		return InvalidOid;
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, attnameAttNum(rel, "logicalrelid", false), BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(shell));
	scan = systable_beginscan(rel, index, OidIsValid(index), NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, attnameAttNum(rel, "shardid", false),
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			shardid = DatumGetInt64(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (shardid < 0)
		return InvalidOid;
	return get_relname_relid(psprintf("%s_" INT64_FORMAT, MIRROR_NAME, shardid), nsp);
}

/*
 * Read a mapping table: credimport.tenant (role a regrole) or, on a
 * worker, the mirror's shard (role a name, resolved here; a name with no
 * role on this node maps the tenant to nobody).
 */
static void
map_read(Oid relid, bool by_name)
{
	Relation	rel;
	TableScanDesc scan;
	TupleTableSlot *slot;
	Snapshot	snap;
	AttrNumber	att_name;
	AttrNumber	att_role;
	int			cap = 16;

	rel = table_open(relid, AccessShareLock);
	att_name = attnameAttNum(rel, "tenant", false);
	att_role = attnameAttNum(rel, "role", false);
	if (att_name <= 0 || att_role <= 0)
		elog(ERROR, "credimport: table %s lacks its columns", RelationGetRelationName(rel));
	/* the latest committed mapping, as the catalogs are read */
	snap = RegisterSnapshot(GetLatestSnapshot());
	map_entries = MemoryContextAlloc(tenant_cxt, sizeof(TenantEntry) * cap);
	slot = table_slot_create(rel, NULL);
	scan = table_beginscan(rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		null_name;
		bool		null_role;
		Datum		name = slot_getattr(slot, att_name, &null_name);
		Datum		role = slot_getattr(slot, att_role, &null_role);
		Oid			roleid;

		CHECK_FOR_INTERRUPTS();
		if (null_name || null_role)
			continue;
		if (by_name)
		{
			char	   *rolname = TextDatumGetCString(role);

			roleid = get_role_oid(rolname, true);
			pfree(rolname);
		}
		else
			roleid = DatumGetObjectId(role);
		if (map_n == cap)
		{
			cap *= 2;
			map_entries = repalloc(map_entries, sizeof(TenantEntry) * cap);
		}
		map_entries[map_n].name = MemoryContextStrdup(tenant_cxt, TextDatumGetCString(name));
		map_entries[map_n].role = roleid;	/* InvalidOid: no member */
		map_n++;
	}
	table_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
}

/*
 * Read the mapping (one row per organization) bypassing row-level
 * security: only the caller's own tenants ever leave this module.  On a
 * Citus worker, from the mirror, again in every transaction.
 */
static void
map_load(void)
{
	tenant_init();
	if (map_valid && !(map_node == NODE_WORKER && map_lxid != MyProc->lxid))
		return;
	MemoryContextReset(tenant_cxt);
	map_n = 0;
	map_entries = NULL;
	user_valid = false;
	map_relid = tenant_relation();
	map_node = citus_node();
	map_lxid = MyProc->lxid;
	if (map_node == NODE_WORKER)
	{
		Oid			nsp = get_namespace_oid("credimport", true);
		Oid			shard = OidIsValid(nsp) ? mirror_shard(nsp) : InvalidOid;

		if (OidIsValid(shard))
			map_read(shard, true);
	}
	else if (OidIsValid(map_relid))
		map_read(map_relid, false);
	map_valid = true;
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
		if (OidIsValid(map_entries[i].role) && is_member_of_role(roleid, map_entries[i].role))
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

	/* (before points into the cache, which the refresh frees) */
	before = before ? pstrdup(before) : NULL;
	AcceptInvalidationMessages();
	map_valid = false;
	now = tenant_current();
	if ((now == NULL) != (before == NULL) || (now && strcmp(now, before) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of credimport tenants"),
				 errdetail("The load started as %s%s%s and would now write for %s%s%s.",
						   before ? "tenant \"" : "", before ? before : "no tenant", before ? "\"" : "",
						   now ? "tenant \"" : "", now ? now : "no tenant", now ? "\"" : ""),
				 errhint("Retry the transaction.")));
	return now ? pstrdup(now) : NULL;
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

const char *
tenant_sole(void)
{
	const char **names;
	int			n;

	if (!tenancy_on())
		return NULL;
	names = tenants_of(GetUserId(), &n);
	return n == 1 ? pstrdup(names[0]) : NULL;
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

static void mirror_check(void);
static void mirror_change(const char *old_tenant, const char *new_tenant, Oid new_role, bool all);

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
	if (map_node == NODE_COORDINATOR)
		mirror_check();
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


/* ---------------- the mirror of the mapping for the Citus workers ---------------- */

/* run SPI as the owner of credimport.tenant (the mirror's owner) */
static Oid
mapping_owner(void)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(tenant_relation()));
	Oid			owner;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "credimport: table credimport.tenant is missing");
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	return owner;
}

static void
mirror_exec(const char *sql, int nargs, Oid *types, Datum *values, int expect)
{
	int			ret = nargs > 0 ?
		SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0) :
		SPI_execute(sql, false, 0);

	if (ret != expect)
		elog(ERROR, "credimport: mirroring the tenants failed (%d): %s", ret, sql);
}

/*
 * On a Citus coordinator, in the trigger's transaction: the mirror gets
 * tenant old_tenant removed and new_tenant (mapped to new_role) put (NULL:
 * none); all: every tenant removed.  Created, as a reference table, with
 * the whole mapping, on first use.
 */
static void
mirror_change(const char *old_tenant, const char *new_tenant, Oid new_role, bool all)
{
	Oid			nsp = get_namespace_oid("credimport", false);
	Oid			saved_uid;
	int			saved_ctx;

	GetUserIdAndSecContext(&saved_uid, &saved_ctx);
	SetUserIdAndSecContext(mapping_owner(), saved_ctx | SECURITY_LOCAL_USERID_CHANGE);
	SPI_connect();
	if (!OidIsValid(get_relname_relid(MIRROR_NAME, nsp)))
	{
		mirror_exec("CREATE TABLE credimport." MIRROR_NAME " (tenant text PRIMARY KEY, role text NOT NULL)",
					0, NULL, NULL, SPI_OK_UTILITY);
		mirror_exec("COMMENT ON TABLE credimport." MIRROR_NAME " IS "
					"'credimport.tenant by role name for the Citus workers (a reference table kept by credimport)'",
					0, NULL, NULL, SPI_OK_UTILITY);
		mirror_exec("REVOKE ALL ON credimport." MIRROR_NAME " FROM PUBLIC", 0, NULL, NULL, SPI_OK_UTILITY);
		mirror_exec("SELECT pg_catalog.create_reference_table('credimport." MIRROR_NAME "')",
					0, NULL, NULL, SPI_OK_SELECT);
		mirror_exec("INSERT INTO credimport." MIRROR_NAME " (tenant, role) "
					"SELECT t.tenant, r.rolname FROM credimport.tenant t "
					"JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) t.role",
					0, NULL, NULL, SPI_OK_INSERT);
	}
	if (all)
		mirror_exec("DELETE FROM credimport." MIRROR_NAME, 0, NULL, NULL, SPI_OK_DELETE);
	if (old_tenant != NULL)
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1] = {CStringGetTextDatum(old_tenant)};

		mirror_exec("DELETE FROM credimport." MIRROR_NAME " WHERE tenant OPERATOR(pg_catalog.=) $1",
					1, types, values, SPI_OK_DELETE);
	}
	if (new_tenant != NULL)
	{
		char	   *rolname = GetUserNameFromId(new_role, true);
		Oid			types[2] = {TEXTOID, TEXTOID};
		Datum		values[2];

		/* a role dropped (regrole has no dependency): mapped to nobody */
		if (rolname != NULL)
		{
			values[0] = CStringGetTextDatum(new_tenant);
			values[1] = CStringGetTextDatum(rolname);
			mirror_exec("INSERT INTO credimport." MIRROR_NAME " (tenant, role) VALUES ($1, $2) "
						"ON CONFLICT (tenant) DO UPDATE SET role = EXCLUDED.role",
						2, types, values, SPI_OK_INSERT);
		}
	}
	SPI_finish();
	SetUserIdAndSecContext(saved_uid, saved_ctx);
}

/* column `col` of SPI result row `row`, copied out of SPI's memory */
static const char *
spi_text(int row, int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
	char	   *copy;

	if (v == NULL)
		return "";
	copy = SPI_palloc(strlen(v) + 1);
	strcpy(copy, v);
	return copy;
}

typedef struct MirrorPair
{
	const char *tenant;
	const char *role;
} MirrorPair;

static int
pair_cmp(const void *a, const void *b)
{
	const MirrorPair *x = a;
	const MirrorPair *y = b;
	int			c = strcmp(x->tenant, y->tenant);

	return c != 0 ? c : strcmp(x->role ? x->role : "", y->role ? y->role : "");
}

/*
 * On a Citus coordinator with tenancy on: does the workers' mirror say
 * what credimport.tenant says?  An error naming the first difference.
 */
static void
mirror_check(void)
{
	Oid			nsp = get_namespace_oid("credimport", false);
	MirrorPair *here = palloc(sizeof(MirrorPair) * Max(map_n, 1));
	MirrorPair *there = NULL;
	int			n_there = 0;
	Oid			saved_uid;
	int			saved_ctx;
	const char *diff = NULL;
	int			n_here = 0;

	/* (a tenant whose role was dropped is mapped to nobody, on both sides) */
	for (int i = 0; i < map_n; i++)
	{
		here[n_here].tenant = map_entries[i].name;
		here[n_here].role = GetUserNameFromId(map_entries[i].role, true);
		if (here[n_here].role != NULL)
			n_here++;
	}
	qsort(here, n_here, sizeof(MirrorPair), pair_cmp);
	if (OidIsValid(get_relname_relid(MIRROR_NAME, nsp)))
	{
		GetUserIdAndSecContext(&saved_uid, &saved_ctx);
		SetUserIdAndSecContext(mapping_owner(), saved_ctx | SECURITY_LOCAL_USERID_CHANGE);
		SPI_connect();
		mirror_exec("SELECT tenant, role FROM credimport." MIRROR_NAME, 0, NULL, NULL, SPI_OK_SELECT);
		n_there = (int) SPI_processed;
		there = SPI_palloc(sizeof(MirrorPair) * Max(n_there, 1));
		for (int i = 0; i < n_there; i++)
		{
			CHECK_FOR_INTERRUPTS();
			there[i].tenant = spi_text(i, 1);
			there[i].role = spi_text(i, 2);
		}
		SPI_finish();
		SetUserIdAndSecContext(saved_uid, saved_ctx);
		qsort(there, n_there, sizeof(MirrorPair), pair_cmp);
	}
	else
		diff = "The mirror of the tenants for the Citus workers, credimport." MIRROR_NAME ", does not exist.";
	for (int i = 0; diff == NULL && i < Max(n_here, n_there); i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (i < n_here && i < n_there && pair_cmp(&here[i], &there[i]) == 0)
			continue;
		if (i < n_here && i < n_there && strcmp(here[i].tenant, there[i].tenant) == 0)
			diff = psprintf("Tenant \"%s\" is mapped to role \"%s\" here and to role \"%s\" on the workers.",
							here[i].tenant, here[i].role ? here[i].role : "", there[i].role);
		else if (i < n_here && (i >= n_there || strcmp(here[i].tenant, there[i].tenant) < 0))
			diff = psprintf("Tenant \"%s\" is missing on the workers.", here[i].tenant);
		else
			diff = psprintf("Tenant \"%s\" exists on the workers only.", there[i].tenant);
	}
	if (diff != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the Citus workers do not have the current mapping of credimport tenants"),
				 errdetail_internal("%s", diff),
				 errhint("As the owner of credimport.tenant, run UPDATE credimport.tenant SET role = role; (it copies the mapping to the workers again; needed after a tenant's role is renamed, or when Citus came after the tenants).")));
}

/* ---------------- SQL ---------------- */

PG_FUNCTION_INFO_V1(credimport_current_tenant);
PG_FUNCTION_INFO_V1(credimport_caller_tenants);
PG_FUNCTION_INFO_V1(credimport_caller_tenant_keys);
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

/* the caller's tenants as a text[]; `off` while tenancy is off */
static ArrayType *
caller_tenants_array(const char *off)
{
	const char **names;
	Datum	   *elems;
	int			n;

	if (!tenancy_on())
	{
		Datum		none = CStringGetTextDatum(off);

		return construct_array(&none, 1, TEXTOID, -1, false, TYPALIGN_INT);
	}
	names = tenants_of(GetUserId(), &n);
	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(names[i]);
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/* credimport.caller_tenants() RETURNS text[]: for row-level security policies (NULL: off) */
Datum
credimport_caller_tenants(PG_FUNCTION_ARGS)
{
	if (!tenancy_on())
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(caller_tenants_array(NULL));
}

/* credimport.caller_tenant_keys() RETURNS text[]: {""} while tenancy is off */
Datum
credimport_caller_tenant_keys(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(caller_tenants_array(""));
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
	bool		mirrored;
	char	   *old_tenant = NULL;
	char	   *new_tenant = NULL;
	Oid			new_role = InvalidOid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "credimport: tenant_changed() must be called as a trigger");
	rel = td->tg_relation;
	mirrored = citus_node() == NODE_COORDINATOR;
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		/* every tenant goes: wait for every tenant's loads */
		map_load();
		for (int i = 0; i < map_n; i++)
			tenant_lock(map_entries[i].name, false);
		if (mirrored)
			mirror_change(NULL, NULL, InvalidOid, true);
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
				tenant_lock(new_tenant = TextDatumGetCString(d), false);
			d = heap_getattr(newtup, attnameAttNum(rel, "role", false), RelationGetDescr(rel), &isnull);
			if (!isnull)
				new_role = DatumGetObjectId(d);
			ret = newtup;
		}
		if (TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		{
			d = heap_getattr(td->tg_trigtuple, att, RelationGetDescr(rel), &isnull);
			if (!isnull)
				tenant_lock(old_tenant = TextDatumGetCString(d), false);
			if (ret == NULL)
				ret = td->tg_trigtuple;
		}
		if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
			enable_shipped_rls();
		if (mirrored)
			mirror_change(old_tenant, new_tenant, new_role, false);
	}
	CacheInvalidateRelcacheByRelid(RelationGetRelid(rel));
	return PointerGetDatum(ret);
}
