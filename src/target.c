/*
 * target.c
 *		Targets: the tables (or views) a kind reads and writes.
 *
 * Every role's contract -- the fields credimport knows, the type of value
 * each holds, which are required, which is the row key, which are match keys
 * -- is declared once, in role_specs[] below.  Validation, the hints that
 * list names, the view credimport.targets and every statement builder work
 * from that table and from the relation's catalog entry: nothing else in
 * credimport names a target's relation or columns.
 *
 * The configuration is the table credimport.target (one row per configured
 * role; no row: the shipped table credimport.<role>).  It is read here with
 * a plain heap scan (no privilege check: a loader needs no privilege on the
 * configuration, only on the relations it points at), once per statement,
 * and validated each time it is read: a relation dropped or a column
 * dropped since credimport_set_target() is reported with the same message
 * as credimport_set_target() would give.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "catalog/partition.h"
#include "catalog/pg_partitioned_table.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "parser/parse_coerce.h"
#include "partitioning/partdesc.h"
#include "utils/partcache.h"
#include "rewrite/rewriteHandler.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "target.h"
#include "tenant.h"

/* ---------------------------------------------------------------------------
 * The contracts, declared once
 * ---------------------------------------------------------------------------
 */

const char *const target_role_names[TR_NROLES] = {
	"learner", "credit_type", "credit", "credential_type", "credential",
	"learner_link", "invitation"
};

/* the kind of value a field holds (what credimport reads or writes) */
typedef enum ValueKind
{
	VK_TEXT,
	VK_ID,						/* a row key of another role: a whole number */
	VK_KEY,						/* the role's own row key, of any type */
	VK_DATE,
	VK_NUMERIC,
	VK_BOOL,
	VK_JSONB,
	VK_TIMESTAMPTZ,
	VK_NAME,
	VK_ANY						/* any type: credimport never reads nor writes it */
} ValueKind;

static const Oid value_kind_types[] = {
	[VK_TEXT] = TEXTOID,
	[VK_ID] = INT8OID,
	[VK_KEY] = InvalidOid,
	[VK_DATE] = DATEOID,
	[VK_NUMERIC] = NUMERICOID,
	[VK_BOOL] = BOOLOID,
	[VK_JSONB] = JSONBOID,
	[VK_TIMESTAMPTZ] = TIMESTAMPTZOID,
	[VK_NAME] = NAMEOID,
	[VK_ANY] = InvalidOid
};

#define F_REQUIRED	0x01		/* the relation must have a column for it */
#define F_KEY		0x02		/* the row key */
#define F_INTKEY	0x04		/* ... which must be an integer column */
#define F_MATCH		0x08		/* records find rows by it: should be unique */
#define F_LOWER		0x10		/* ... compared lower()ed */
#define F_BOOKKEEPING 0x20		/* credimport's bookkeeping, not the platform's data:
								 * on a relation other than the shipped table, bound
								 * only when mapped explicitly (a platform's own
								 * batch_id is not credimport's) */
#define F_TENANT	0x40		/* the tenant column: never written by credimport
								 * (its DEFAULT gives the caller's tenant, the
								 * relation's policies check it); any type */

/* every role's last field: the relation's tenant column */
#define TENANT_FIELD {"tenant_id", VK_ANY, F_BOOKKEEPING | F_TENANT}

typedef struct TargetFieldSpec
{
	const char *name;
	ValueKind	kind;
	uint8		flags;
} TargetFieldSpec;

static const TargetFieldSpec learner_fields[] = {
	{"id", VK_ID, F_REQUIRED | F_KEY | F_INTKEY},
	{"email", VK_TEXT, F_MATCH | F_LOWER},
	{"remote_id", VK_TEXT, F_MATCH},
	{"username", VK_TEXT, F_MATCH | F_LOWER},
	{"first_name", VK_TEXT, 0},
	{"last_name", VK_TEXT, 0},
	{"active", VK_BOOL, 0},
	{"profile", VK_JSONB, 0},
	{"role", VK_TEXT, 0},
	{"created_by_batch", VK_ID, F_BOOKKEEPING},
	{"created_at", VK_TIMESTAMPTZ, F_BOOKKEEPING},
	TENANT_FIELD,
};

static const TargetFieldSpec credit_type_fields[] = {
	{"id", VK_ID, F_REQUIRED | F_KEY | F_INTKEY},
	{"code", VK_TEXT, F_REQUIRED | F_LOWER},
	{"name", VK_TEXT, 0},
	{"active", VK_BOOL, 0},
	TENANT_FIELD,
};

static const TargetFieldSpec credit_fields[] = {
	{"id", VK_KEY, F_REQUIRED | F_KEY},
	{"learner_id", VK_ID, F_REQUIRED},
	{"provider", VK_TEXT, 0},
	{"course_title", VK_TEXT, F_REQUIRED},
	{"course_id", VK_TEXT, F_REQUIRED},
	{"completion_date", VK_DATE, F_REQUIRED},
	{"number_credits", VK_NUMERIC, F_REQUIRED},
	{"credit_type_id", VK_ID, F_REQUIRED},
	{"user_editable", VK_BOOL, F_BOOKKEEPING},
	{"batch_id", VK_ID, F_BOOKKEEPING},
	{"created_at", VK_TIMESTAMPTZ, F_BOOKKEEPING},
	TENANT_FIELD,
};

static const TargetFieldSpec credential_type_fields[] = {
	{"id", VK_ID, F_REQUIRED | F_KEY | F_INTKEY},
	{"code", VK_TEXT, F_REQUIRED | F_LOWER},
	{"name", VK_TEXT, 0},
	{"requires_expiration", VK_BOOL, 0},
	{"active", VK_BOOL, 0},
	TENANT_FIELD,
};

static const TargetFieldSpec credential_fields[] = {
	{"id", VK_KEY, F_REQUIRED | F_KEY},
	{"learner_id", VK_ID, F_REQUIRED},
	{"credential_type_id", VK_ID, F_REQUIRED},
	{"license_number", VK_TEXT, F_REQUIRED},
	{"issuer", VK_TEXT, 0},
	{"issue_date", VK_DATE, F_REQUIRED},
	{"expiration_date", VK_DATE, 0},
	{"status", VK_TEXT, 0},
	{"media_url", VK_TEXT, 0},
	{"batch_id", VK_ID, F_BOOKKEEPING},
	{"created_at", VK_TIMESTAMPTZ, F_BOOKKEEPING},
	{"approved_at", VK_TIMESTAMPTZ, F_BOOKKEEPING},
	{"approved_by", VK_NAME, F_BOOKKEEPING},
	TENANT_FIELD,
};

static const TargetFieldSpec learner_link_fields[] = {
	{"learner_id", VK_ID, F_REQUIRED},
	{"related_learner_id", VK_ID, F_REQUIRED},
	{"relation", VK_TEXT, F_REQUIRED},
	{"batch_id", VK_ID, F_BOOKKEEPING},
	{"created_at", VK_TIMESTAMPTZ, F_BOOKKEEPING},
	TENANT_FIELD,
};

static const TargetFieldSpec invitation_fields[] = {
	{"learner_id", VK_ID, F_REQUIRED},
	{"batch_id", VK_ID, F_BOOKKEEPING},
	{"token", VK_TEXT, F_REQUIRED},
	{"created_at", VK_TIMESTAMPTZ, F_BOOKKEEPING},
	{"sent_at", VK_TIMESTAMPTZ, 0},
	TENANT_FIELD,
};

typedef struct TargetRoleSpec
{
	const TargetFieldSpec *fields;
	int			nfields;
	bool		written;		/* credimport inserts into it */
	const char *what;			/* for messages: "a learner", ... */
	const char *deletes;		/* what deletes rows from it (NULL: nothing) */
	const char *updates;		/* what updates its rows (NULL: nothing) */
} TargetRoleSpec;

#define ROLE(f, w, what, d, u) {f, lengthof(f), w, what, d, u}
static const TargetRoleSpec role_specs[TR_NROLES] = {
	[TR_LEARNER] = ROLE(learner_fields, true, "learner", "credimport_revert",
						"a users load that updates learners"),
	[TR_CREDIT_TYPE] = ROLE(credit_type_fields, false, "credit type", NULL, NULL),
	[TR_CREDIT] = ROLE(credit_fields, true, "credit", "credimport_revert", NULL),
	[TR_CREDENTIAL_TYPE] = ROLE(credential_type_fields, false, "credential type", NULL, NULL),
	[TR_CREDENTIAL] = ROLE(credential_fields, true, "credential", NULL,
						   "credimport_approve, and a credentials load that updates credentials,"),
	[TR_LEARNER_LINK] = ROLE(learner_link_fields, true, "learner link", "credimport_revert", NULL),
	[TR_INVITATION] = ROLE(invitation_fields, true, "invitation", "credimport_revert", NULL),
};

/* the schema of the shipped tables (credimport.<role>) and of the configuration */
#define CREDIMPORT_SCHEMA "credimport"
#define TARGET_CONFIG_TABLE "target"

/* ---------------------------------------------------------------------------
 * Names
 * ---------------------------------------------------------------------------
 */

/* "learner, credit_type, ...": for hints */
static char *
role_name_list(void)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int r = 0; r < TR_NROLES; r++)
		appendStringInfo(&s, "%s%s", r ? ", " : "", target_role_names[r]);
	return s.data;
}

static char *
field_name_list(TargetRole role)
{
	StringInfoData s;
	const TargetRoleSpec *rs = &role_specs[role];

	initStringInfo(&s);
	for (int f = 0; f < rs->nfields; f++)
		appendStringInfo(&s, "%s%s", f ? ", " : "", rs->fields[f].name);
	return s.data;
}

static TargetRole
role_from_name(const char *name)
{
	for (int r = 0; r < TR_NROLES; r++)
		if (strcmp(name, target_role_names[r]) == 0)
			return (TargetRole) r;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown target role \"%s\"", name),
			 errhint("The target roles are %s.", role_name_list())));
	return TR_NROLES;			/* keep the compiler quiet */
}

static int
field_index(TargetRole role, const char *field)
{
	const TargetRoleSpec *rs = &role_specs[role];

	for (int f = 0; f < rs->nfields; f++)
		if (strcmp(rs->fields[f].name, field) == 0)
			return f;
	return -1;
}

static Oid
shipped_relid(TargetRole role, bool missing_ok)
{
	Oid			nsp = get_namespace_oid(CREDIMPORT_SCHEMA, missing_ok);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(target_role_names[role], nsp) : InvalidOid;

	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("target \"%s\": the shipped table %s.%s does not exist",
						target_role_names[role], CREDIMPORT_SCHEMA, target_role_names[role]),
				 errhint("Point the target at a relation with credimport_set_target().")));
	return relid;
}

static const char *
relation_qualname(Relation rel)
{
	return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
									  RelationGetRelationName(rel));
}

/* the type without its domains' names, for casts ("text", not a domain over it) */
static bool
is_integer_type(Oid type)
{
	Oid			base = getBaseType(type);

	return base == INT2OID || base == INT4OID || base == INT8OID;
}

/* a column whose binary value is a text (read as text by the directories) */
static bool
is_text_type(Oid type)
{
	return type == TEXTOID || type == VARCHAROID;
}

static bool
is_numeric_type(Oid type)
{
	Oid			base = getBaseType(type);

	return base == INT2OID || base == INT4OID || base == INT8OID || base == NUMERICOID ||
		base == FLOAT4OID || base == FLOAT8OID;
}

/* ---------------------------------------------------------------------------
 * The configuration
 * ---------------------------------------------------------------------------
 */

typedef struct ConfigRow
{
	bool		present;
	Oid			relid;
	Jsonb	   *columns;		/* NULL: '{}' */
} ConfigRow;

static Oid
config_relid(bool missing_ok)
{
	Oid			nsp = get_namespace_oid(CREDIMPORT_SCHEMA, missing_ok);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return get_relname_relid(TARGET_CONFIG_TABLE, nsp);
}

/*
 * Every row of credimport.target, into rows[role] (allocated in the current
 * memory context).  Without the table (an extension older than 1.5 still
 * loaded), no row: the shipped tables.
 */
static void
config_read(ConfigRow *rows)
{
	Oid			relid = config_relid(true);
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;
	TupleDesc	desc;

	memset(rows, 0, sizeof(ConfigRow) * TR_NROLES);
	if (!OidIsValid(relid))
		return;
	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	if (desc->natts < 3)
		elog(ERROR, "credimport: the configuration table credimport.target has an unexpected shape");
	/* the statement's snapshot: in REPEATABLE READ, the transaction's */
	snap = RegisterSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		d;
		char	   *name;
		int			r;

		CHECK_FOR_INTERRUPTS();
		d = heap_getattr(tup, 1, desc, &isnull);
		if (isnull)
			continue;
		name = TextDatumGetCString(d);
		for (r = 0; r < TR_NROLES; r++)
			if (strcmp(name, target_role_names[r]) == 0)
				break;
		if (r == TR_NROLES)
			continue;			/* the CHECK constraint keeps them out */
		d = heap_getattr(tup, 2, desc, &isnull);
		if (isnull)
			continue;
		rows[r].present = true;
		rows[r].relid = DatumGetObjectId(d);
		d = heap_getattr(tup, 3, desc, &isnull);
		rows[r].columns = isnull ? NULL : DatumGetJsonbPCopy(d);
	}
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
}

/* ---------------------------------------------------------------------------
 * Resolution: a role's configuration against the relation's catalog entry
 * ---------------------------------------------------------------------------
 */

/* private: what the builders need besides the public description */
typedef struct TargetPriv
{
	Target		pub;
	bool	   *notnull;		/* per field */
	const char **unless_names;	/* ACTIVE_UNLESS: the columns, unquoted */
} TargetPriv;

/* the column of the relation with this name, or NULL */
static Form_pg_attribute
find_column(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
			return a;
	}
	return NULL;
}

/* the expression under its binary-compatible relabelings */
static Node *
strip_relabel(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

/* is the expression lower(column)? */
static bool
is_lower_of(Node *e, AttrNumber attnum)
{
	Node	   *arg;

	e = strip_relabel(e);
	if (e == NULL || !IsA(e, FuncExpr) || ((FuncExpr *) e)->funcid != F_LOWER_TEXT ||
		list_length(((FuncExpr *) e)->args) != 1)
		return false;
	arg = strip_relabel(linitial(((FuncExpr *) e)->args));
	return arg && IsA(arg, Var) && ((Var *) arg)->varattno == attnum;
}

/*
 * Is the default of column attnum credimport.current_tenant(), cast or not
 * (credimport.current_tenant()::uuid)?  Then a row's value in it is its
 * tenant's name, and a statement may name the caller's tenant by that value
 * (tenant_route).  Any other default ("any default will do": a platform's
 * own key looked up from the tenant) gives values credimport cannot know.
 */
static bool
default_is_current_tenant(Relation rel, AttrNumber attnum)
{
	Node	   *e = build_column_default(rel, attnum);
	Oid			nsp;

	while (e != NULL)
	{
		if (IsA(e, RelabelType))
			e = (Node *) ((RelabelType *) e)->arg;
		else if (IsA(e, CoerceViaIO))
			e = (Node *) ((CoerceViaIO *) e)->arg;
		else if (IsA(e, CoerceToDomain))
			e = (Node *) ((CoerceToDomain *) e)->arg;
		else if (IsA(e, FuncExpr) && ((FuncExpr *) e)->funcformat != COERCE_EXPLICIT_CALL &&
				 list_length(((FuncExpr *) e)->args) >= 1)
			e = (Node *) linitial(((FuncExpr *) e)->args);	/* a cast function */
		else
			break;
	}
	if (e == NULL || !IsA(e, FuncExpr) || ((FuncExpr *) e)->args != NIL)
		return false;
	nsp = get_namespace_oid("credimport", true);
	return OidIsValid(nsp) && get_func_namespace(((FuncExpr *) e)->funcid) == nsp &&
		strcmp(get_func_name(((FuncExpr *) e)->funcid), "current_tenant") == 0;
}

/*
 * The tenant column of a target (tenant > 0) as a column of a unique
 * index: does it count as "within a tenant"?  The column itself, when it
 * is NOT NULL or the index treats nulls as equal (else rows without a
 * tenant would not be kept unique), or COALESCE(column, constants).
 * k: the index's key attnum (0: expr, the expression).
 */
static bool
index_tenant_part(Form_pg_index ix, AttrNumber k, Node *expr, AttrNumber tenant,
				  bool tenant_notnull)
{
	CoalesceExpr *c;
	ListCell   *lc;
	bool		first = true;

	if (tenant <= 0)
		return false;
	if (k != 0)
		return k == tenant && (tenant_notnull || ix->indnullsnotdistinct);
	expr = strip_relabel(expr);
	if (expr == NULL || !IsA(expr, CoalesceExpr))
		return false;
	c = (CoalesceExpr *) expr;
	if (list_length(c->args) < 2)
		return false;
	foreach(lc, c->args)
	{
		Node	   *a = strip_relabel(lfirst(lc));

		if (first)
		{
			if (!a || !IsA(a, Var) || ((Var *) a)->varattno != tenant)
				return false;
			first = false;
		}
		else if (!a || !IsA(a, Const) || ((Const *) a)->constisnull)
			return false;
	}
	return true;
}

/*
 * Is there a unique index that keeps the column unique -- or, for a field
 * compared lower()ed, lower(column)?  (A unique index on lower(column) keeps
 * the column unique too; one on the column does not keep lower() unique.)
 * With a tenant column (tenant > 0), an index on the column and the tenant
 * column (index_tenant_part), in either order, keeps it unique within a
 * tenant, which is what the loads need: a loader sees its tenant's rows.
 * Partial indexes keep nothing unique over the whole relation.
 */
static bool
unique_index_on(Relation rel, AttrNumber attnum, bool lower, AttrNumber tenant,
				bool tenant_notnull)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		Relation	ir = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ix = ir->rd_index;

		CHECK_FOR_INTERRUPTS();
		if (ix->indisunique && ix->indisvalid &&
			(ix->indnkeyatts == 1 || (ix->indnkeyatts == 2 && tenant > 0)) &&
			heap_attisnull(ir->rd_indextuple, Anum_pg_index_indpred, NULL))
		{
			List	   *exprs = RelationGetIndexExpressions(ir);
			ListCell   *ec = list_head(exprs);
			bool		has_column = false;
			bool		has_tenant = false;

			for (int i = 0; i < ix->indnkeyatts; i++)
			{
				AttrNumber	k = ix->indkey.values[i];
				Node	   *e = NULL;

				if (k == 0)
				{
					if (ec == NULL)
						break;
					e = (Node *) lfirst(ec);
					ec = lnext(exprs, ec);
				}
				if (!has_column &&
					((k != 0 && k == attnum && !lower) || (k == 0 && is_lower_of(e, attnum))))
					has_column = true;
				else if (!has_tenant &&
						 index_tenant_part(ix, k, e, tenant, tenant_notnull))
					has_tenant = true;
			}
			found = has_column && (ix->indnkeyatts == 1 || has_tenant);
		}
		index_close(ir, AccessShareLock);
		if (found)
			break;
	}
	list_free(indexes);
	return found;
}

/*
 * Can a column of this type hold the field's values -- checked against the
 * base type of a domain?  A boolean needs a boolean column and a row key of
 * another role an integer one (every type has an assignment cast to text:
 * a boolean or a date would be stored as its text); other values need an
 * assignment cast, and not merely the one to a string type.
 */
static bool
column_can_hold(ValueKind kind, Oid type)
{
	Oid			base = getBaseType(type);
	Oid			from = value_kind_types[kind];

	switch (kind)
	{
		case VK_KEY:
		case VK_ANY:
			return true;
		case VK_ID:
			return is_integer_type(base);
		case VK_BOOL:
			return base == BOOLOID;
		case VK_TEXT:
		case VK_NAME:
			return can_coerce_type(1, &from, &base, COERCION_ASSIGNMENT);
		default:
			return can_coerce_type(1, &from, &base, COERCION_ASSIGNMENT) &&
				TypeCategory(base) != TYPCATEGORY_STRING;
	}
}

/* errdetail() for a column that cannot hold the field's values */
static int
field_type_detail(const TargetFieldSpec *fs, Oid type)
{
	Oid			base = getBaseType(type);
	Oid			from = value_kind_types[fs->kind];

	if (fs->kind == VK_BOOL)
		return errdetail("Field \"%s\" holds a boolean: its column must be of type boolean (or a domain over boolean).",
						 fs->name);
	if (fs->kind == VK_ID)
		return errdetail("Field \"%s\" holds a row key: its column must be an integer (smallint, integer or bigint, or a domain over one).",
						 fs->name);
	if (TypeCategory(base) == TYPCATEGORY_STRING)
		return errdetail("Field \"%s\" holds values of type %s, which a column of type %s would hold only as text.",
						 fs->name, format_type_be(from), format_type_be(type));
	return errdetail("Field \"%s\" holds values of type %s, which have no assignment cast to %s.",
					 fs->name, format_type_be(from), format_type_be(base));
}

/*
 * Is the row key unique: a unique index (or primary key) on exactly the key
 * column -- or, on a partitioned table or a partition, on the key and
 * partition key columns (of the relation and of its ancestors), which is
 * all PostgreSQL allows there; with a tenant column (tenant > 0), the
 * tenant column may be one of them too (index_tenant_part).  Partial and
 * invalid indexes do not count.
 */
static bool
key_unique_on(Relation rel, AttrNumber keyattnum, AttrNumber tenant, bool tenant_notnull)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool	   *allowed = palloc0(sizeof(bool) * (desc->natts + 1));
	List	   *rels = NIL;
	List	   *indexes;
	ListCell   *lc;
	bool		found = false;

	/* the partition key columns, by name (a partition's attnums may differ) */
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		rels = lappend_oid(rels, RelationGetRelid(rel));
	if (rel->rd_rel->relispartition)
		rels = list_concat(rels, get_partition_ancestors(RelationGetRelid(rel)));
	foreach(lc, rels)
	{
		Relation	pr = relation_open(lfirst_oid(lc), AccessShareLock);
		PartitionKey pk = RelationGetPartitionKey(pr);

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; pk && i < pk->partnatts; i++)
		{
			Form_pg_attribute a;

			if (pk->partattrs[i] == 0)
				continue;		/* an expression: no unique index can hold it */
			a = find_column(desc, get_attname(RelationGetRelid(pr), pk->partattrs[i], false));
			if (a != NULL)
				allowed[a->attnum] = true;
		}
		relation_close(pr, AccessShareLock);
	}
	list_free(rels);
	allowed[keyattnum] = false;

	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		Relation	ir = index_open(lfirst_oid(lc), AccessShareLock);
		Form_pg_index ix = ir->rd_index;

		CHECK_FOR_INTERRUPTS();
		if (ix->indisunique && ix->indisvalid &&
			heap_attisnull(ir->rd_indextuple, Anum_pg_index_indpred, NULL))
		{
			List	   *exprs = RelationGetIndexExpressions(ir);
			ListCell   *ec = list_head(exprs);
			bool		has_key = false;
			bool		ok = true;

			for (int i = 0; i < ix->indnkeyatts && ok; i++)
			{
				AttrNumber	k = ix->indkey.values[i];
				Node	   *e = NULL;

				if (k == 0 && ec != NULL)
				{
					e = (Node *) lfirst(ec);
					ec = lnext(exprs, ec);
				}
				if (k == keyattnum)
					has_key = true;
				else if (index_tenant_part(ix, k, e, tenant, tenant_notnull))
					continue;	/* unique within a tenant */
				else if (k <= 0 || k > desc->natts || !allowed[k])
					ok = false;
			}
			found = ok && has_key;
		}
		index_close(ir, AccessShareLock);
		if (found)
			break;
	}
	list_free(indexes);
	pfree(allowed);
	return found;
}

/* the JSON value's text, for messages */
static char *
jsonb_value_text(JsonbValue *v)
{
	if (v->type == jbvBinary)
		return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
	return JsonbToCString(NULL, &JsonbValueToJsonb(v)->root, 0);
}

static char *
jsonb_string(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/*
 * Resolve the role against the relation.  strict: raise an error for every
 * misfit (credimport_set_target() and target_get()); otherwise (the view
 * credimport.targets) return what can be resolved, or NULL when the
 * relation has gone.  notices: say which match keys nothing keeps unique.
 */
static TargetPriv *
target_resolve(TargetRole role, Oid relid, Jsonb *columns, bool strict, bool notices)
{
	const TargetRoleSpec *rs = &role_specs[role];
	const char *rolename = target_role_names[role];
	TargetPriv *tp;
	Target	   *t;
	Relation	rel;
	TupleDesc	desc;
	const char **mapped;		/* per field: the name configured, or NULL */
	bool	   *unmapped;		/* per field: configured as null */
	JsonbValue *active_value = NULL;
	char		relkind;
	List	   *not_unique = NIL;	/* match fields nothing keeps unique */
	List	   *match_fields = NIL; /* match fields the relation has */
	AttrNumber	tenant_attnum = 0;	/* the tenant column, if any */
	bool		tenant_notnull = false;
	ListCell   *lc;

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
	{
		if (!strict)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("target \"%s\": its relation (OID %u) no longer exists", rolename, relid),
				 errhint("Point the target at a relation with credimport_set_target('%s', ...), "
						 "or go back to the shipped table with credimport_reset_target('%s').",
						 rolename, rolename)));
	}
	relkind = rel->rd_rel->relkind;
	desc = RelationGetDescr(rel);

	tp = palloc0(sizeof(TargetPriv));
	t = &tp->pub;
	t->role = role;
	t->relid = relid;
	t->relkind = relkind;
	t->qualname = relation_qualname(rel);
	t->nfields = rs->nfields;
	t->fields = palloc0(sizeof(TargetField) * rs->nfields);
	tp->notnull = palloc0(sizeof(bool) * rs->nfields);
	mapped = palloc0(sizeof(char *) * rs->nfields);
	unmapped = palloc0(sizeof(bool) * rs->nfields);

	if (strict && relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_VIEW && relkind != RELKIND_FOREIGN_TABLE &&
		relkind != RELKIND_MATVIEW)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("target \"%s\": %s is not a table or view", rolename, t->qualname),
				 errdetail("A target is a table, a partitioned table, a view, a materialized view or a foreign table.")));

	/* credimport's own relations are not targets, but for the role's shipped table */
	if (strict && RelationGetNamespace(rel) == get_namespace_oid(CREDIMPORT_SCHEMA, true) &&
		relid != shipped_relid(role, true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target \"%s\": %s is one of credimport's own relations", rolename, t->qualname),
				 errdetail("In schema %s, a %s target can only be the shipped table %s.%s.",
						   CREDIMPORT_SCHEMA, rs->what, CREDIMPORT_SCHEMA, rolename),
				 errhint("Go back to the shipped table with credimport_reset_target('%s').", rolename)));

	/* the configured mapping: field -> column */
	if (columns != NULL && !JB_ROOT_IS_SCALAR(columns) && JB_ROOT_IS_OBJECT(columns))
	{
		JsonbIterator *it = JsonbIteratorInit(&columns->root);
		JsonbValue	k,
					v;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			char	   *fname;
			int			f;

			CHECK_FOR_INTERRUPTS();
			if (tok != WJB_KEY)
				continue;
			fname = jsonb_string(&k);
			tok = JsonbIteratorNext(&it, &v, true);
			Assert(tok == WJB_VALUE);
			f = field_index(role, fname);
			if (f < 0)
			{
				if (strict)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("target \"%s\" has no field \"%s\"", rolename, fname),
							 errdetail("The columns argument maps credimport's field names to the columns of %s.",
									   t->qualname),
							 errhint("The fields of target \"%s\" are %s.", rolename,
									 field_name_list(role))));
				continue;
			}
			if (strcmp(fname, "active") == 0)
			{
				active_value = palloc(sizeof(JsonbValue));
				*active_value = v;
				continue;
			}
			if (v.type == jbvNull)
			{
				/* {"provider": null}: the relation has no column for it */
				if (strict && (rs->fields[f].flags & F_REQUIRED))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("target \"%s\": the required field \"%s\" cannot be unmapped",
									rolename, fname),
							 errdetail("A %s target needs a column for every one of its required fields.",
									   rs->what),
							 errhint("Map the field to a column of %s: {\"%s\": \"column\"}.",
									 t->qualname, fname)));
				unmapped[f] = true;
				continue;
			}
			if (v.type != jbvString)
			{
				if (strict)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("target \"%s\": field \"%s\" must map to a column name of %s",
									rolename, fname, t->qualname),
							 errdetail("It maps to %s.", jsonb_value_text(&v)),
							 errhint("Write the column's name as a JSON string: {\"%s\": \"column\"}, or null when the relation has no column for it.",
									 fname)));
				continue;
			}
			mapped[f] = jsonb_string(&v);
		}
	}
	else if (columns != NULL && strict)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target \"%s\": the columns argument must be a JSON object", rolename),
				 errhint("Map credimport's field names to column names: {\"remote_id\": \"idnumber\"}.")));

	/*
	 * The shipped table: the extension's own, every field under its own
	 * name (a configuration row naming it with '{}' changes nothing).
	 */
	t->shipped = (relid == shipped_relid(role, true));
	for (int f = 0; f < rs->nfields && t->shipped; f++)
		if ((mapped[f] && strcmp(mapped[f], rs->fields[f].name) != 0) || unmapped[f])
			t->shipped = false;
	if (active_value && !(active_value->type == jbvString &&
						  active_value->val.string.len == 6 &&
						  memcmp(active_value->val.string.val, "active", 6) == 0))
		t->shipped = false;

	/* every field, as the relation has it */
	for (int f = 0; f < rs->nfields; f++)
	{
		const TargetFieldSpec *fs = &rs->fields[f];
		TargetField *tf = &t->fields[f];
		const char *colname = mapped[f] ? mapped[f] : fs->name;
		Form_pg_attribute a;

		CHECK_FOR_INTERRUPTS();
		tf->field = fs->name;
		if (strcmp(fs->name, "active") == 0 && active_value != NULL)
			continue;			/* below */
		if (unmapped[f])
			continue;			/* {"field": null} */
		if ((fs->flags & F_BOOKKEEPING) && !t->shipped && !mapped[f])
			continue;			/* a platform's own batch_id is not credimport's */
		a = find_column(desc, colname);
		if (a == NULL)
		{
			if (strict && mapped[f])
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("target \"%s\": relation %s has no column \"%s\"",
								rolename, t->qualname, colname),
						 errdetail("Field \"%s\" is mapped to column \"%s\".", fs->name, colname),
						 errhint("Column names are matched exactly, case included.")));
			if (strict && (fs->flags & F_REQUIRED))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("target \"%s\": relation %s has no column for the required field \"%s\"",
								rolename, t->qualname, fs->name),
						 errdetail("A %s target needs a column for every one of its required fields.",
								   rs->what),
						 errhint("Map the field to a column of the relation: {\"%s\": \"column\"}.",
								 fs->name)));
			continue;
		}
		tf->column = pstrdup(NameStr(a->attname));
		tf->attnum = a->attnum;
		tf->type = a->atttypid;
		tf->basetype = getBaseType(a->atttypid);
		tf->typmod = a->atttypmod;
		tf->has_default = a->atthasdef || a->attidentity != '\0' || a->attgenerated != '\0';
		tf->generated_always = a->attidentity == ATTRIBUTE_IDENTITY_ALWAYS ||
			a->attgenerated == ATTRIBUTE_GENERATED_STORED;
		tp->notnull[f] = a->attnotnull;
		if (fs->flags & F_KEY)
			t->key = fs->name;
		if (strict && (fs->flags & F_INTKEY) && !is_integer_type(a->atttypid))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("target \"%s\": key column \"%s\" of relation %s is of type %s",
							rolename, tf->column, t->qualname, format_type_be(a->atttypid)),
					 errdetail("The key of a %s target must be an integer column (smallint, integer or bigint).",
							   rs->what)));
		if (strict && value_kind_types[fs->kind] != InvalidOid)
		{
			Oid			to = a->atttypid;

			if (!column_can_hold(fs->kind, to))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("target \"%s\": column \"%s\" of relation %s, of type %s, cannot hold field \"%s\"",
								rolename, tf->column, t->qualname, format_type_be(to), fs->name),
						 field_type_detail(fs, to),
						 strcmp(fs->name, "active") == 0 ?
						 errhint("A column that is set when a learner is not active goes in {\"active\": {\"unless\": [\"%s\"]}}.",
								 tf->column) : 0));
		}
		if (fs->flags & F_TENANT)
		{
			tf->tenant = true;
			tf->tenant_named = default_is_current_tenant(rel, a->attnum);
			tenant_attnum = a->attnum;
			tenant_notnull = a->attnotnull;

			/*
			 * credimport never writes it: the default gives each row the
			 * caller's tenant.  (A generated column cannot: its expression
			 * is immutable.)  Types are only read: no default needed.
			 */
			if (strict && rs->written && (!a->atthasdef || a->attgenerated != '\0'))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
						 errmsg("target \"%s\": tenant column \"%s\" of relation %s has no default",
								rolename, tf->column, t->qualname),
						 errdetail("credimport never writes a value into the tenant column: each %s row it inserts takes the caller's tenant from the column's default, and the relation's row-level security policies check it.",
								   rs->what),
						 errhint("Give it one: ALTER %s %s ALTER COLUMN %s SET DEFAULT credimport.current_tenant()%s%s.",
								 relkind == RELKIND_VIEW ? "VIEW" :
								 relkind == RELKIND_FOREIGN_TABLE ? "FOREIGN TABLE" : "TABLE",
								 t->qualname, quote_identifier(tf->column),
								 is_text_type(getBaseType(a->atttypid)) ? "" : "::",
								 is_text_type(getBaseType(a->atttypid)) ? "" :
								 format_type_be(a->atttypid))));
		}
		if (notices && (fs->flags & F_MATCH))
			match_fields = lappend_int(match_fields, f);
	}

	/* the match keys nothing keeps unique (within a tenant) */
	foreach(lc, match_fields)
	{
		int			f = lfirst_int(lc);

		if ((relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE) ||
			!unique_index_on(rel, t->fields[f].attnum, (rs->fields[f].flags & F_LOWER) != 0,
							 tenant_attnum, tenant_notnull))
			not_unique = lappend_int(not_unique, f);
	}
	list_free(match_fields);

	/* "active": a column, {"unless": [columns]}, or nothing */
	{
		int			fa = field_index(role, "active");

		t->active_rule = ACTIVE_ALWAYS;
		if (fa >= 0 && active_value == NULL && t->fields[fa].column != NULL)
			t->active_rule = ACTIVE_COLUMN;
		else if (fa >= 0 && active_value != NULL)
		{
			JsonbValue *v = active_value;

			if (v->type == jbvNull)
				t->active_rule = ACTIVE_ALWAYS;
			else if (v->type == jbvString)
			{
				/* resolved by the loop above only when not configured: do it here */
				char	   *colname = jsonb_string(v);
				Form_pg_attribute a = find_column(desc, colname);
				TargetField *tf = &t->fields[fa];

				if (a == NULL)
				{
					if (strict)
						ereport(ERROR,
								(errcode(ERRCODE_UNDEFINED_COLUMN),
								 errmsg("target \"%s\": relation %s has no column \"%s\"",
										rolename, t->qualname, colname),
								 errdetail("Field \"active\" is mapped to column \"%s\".", colname)));
				}
				else
				{
					if (strict && !column_can_hold(VK_BOOL, a->atttypid))
						ereport(ERROR,
								(errcode(ERRCODE_DATATYPE_MISMATCH),
								 errmsg("target \"%s\": column \"%s\" of relation %s, of type %s, cannot hold field \"active\"",
										rolename, colname, t->qualname, format_type_be(a->atttypid)),
								 field_type_detail(&rs->fields[fa], a->atttypid),
								 errhint("A column that is set when a learner is not active goes in {\"active\": {\"unless\": [\"%s\"]}}.",
										 colname)));
					tf->column = pstrdup(NameStr(a->attname));
					tf->attnum = a->attnum;
					tf->type = a->atttypid;
					tf->basetype = getBaseType(a->atttypid);
					tf->typmod = a->atttypmod;
					tf->has_default = a->atthasdef || a->attidentity != '\0' || a->attgenerated != '\0';
					tf->generated_always = a->attidentity == ATTRIBUTE_IDENTITY_ALWAYS ||
						a->attgenerated == ATTRIBUTE_GENERATED_STORED;
					tp->notnull[fa] = a->attnotnull;
					t->active_rule = ACTIVE_COLUMN;
				}
			}
			else
			{
				/* {"unless": ["suspended", "deleted"]} */
				JsonbValue *list = NULL;
				bool		ok = false;

				if (v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data) &&
					JsonContainerSize(v->val.binary.data) == 1)
					list = getKeyJsonValueFromContainer(v->val.binary.data, "unless", 6, NULL);
				if (list && list->type == jbvBinary && JsonContainerIsArray(list->val.binary.data) &&
					JsonContainerSize(list->val.binary.data) > 0)
				{
					JsonbIterator *it = JsonbIteratorInit(list->val.binary.data);
					JsonbValue	e;
					JsonbIteratorToken tok;
					int			n = JsonContainerSize(list->val.binary.data);

					ok = true;
					t->unless = palloc0(sizeof(char *) * n);
					t->unless_types = palloc0(sizeof(Oid) * n);
					tp->unless_names = palloc0(sizeof(char *) * n);
					while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
					{
						char	   *colname;
						Form_pg_attribute a;

						CHECK_FOR_INTERRUPTS();
						if (tok != WJB_ELEM)
							continue;
						if (e.type != jbvString)
						{
							ok = false;
							break;
						}
						colname = jsonb_string(&e);
						a = find_column(desc, colname);
						if (a == NULL)
						{
							if (strict)
								ereport(ERROR,
										(errcode(ERRCODE_UNDEFINED_COLUMN),
										 errmsg("target \"%s\": relation %s has no column \"%s\"",
												rolename, t->qualname, colname),
										 errdetail("Field \"active\" is mapped to {\"unless\": [...]} with column \"%s\".",
												   colname)));
							continue;
						}
						t->unless[t->nunless] = pstrdup(quote_identifier(NameStr(a->attname)));
						tp->unless_names[t->nunless] = pstrdup(NameStr(a->attname));
						t->unless_types[t->nunless] = a->atttypid;
						t->nunless++;
					}
				}
				if (!ok)
				{
					if (strict)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("target \"%s\": field \"active\" must map to a column name, {\"unless\": [column, ...]} or null",
										rolename),
								 errdetail("It maps to %s.", jsonb_value_text(v)),
								 errhint("Write {\"active\": \"is_active\"} for a boolean column, {\"active\": {\"unless\": [\"suspended\", \"deleted\"]}} "
										 "for columns any of which, when set, makes a row inactive, or {\"active\": null} when every row is active.")));
					t->nunless = 0;
				}
				t->active_rule = t->nunless > 0 ? ACTIVE_UNLESS : ACTIVE_ALWAYS;
			}
		}
	}

	/* a view or foreign table credimport writes must take INSERTs */
	if (strict && rs->written && relkind != RELKIND_RELATION &&
		relkind != RELKIND_PARTITIONED_TABLE &&
		(relation_is_updatable(relid, NIL, true, NULL) & (1 << CMD_INSERT)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("target \"%s\": relation %s does not take INSERT", rolename, t->qualname),
				 errdetail("credimport inserts %s rows into it; a view is insertable when it is simple enough to be automatically updatable, or has an INSTEAD OF INSERT trigger.",
						   rs->what),
				 errhint("Point the target at the underlying table, or give the view an INSTEAD OF INSERT trigger.")));

	/* two fields in one column: one of them would be lost */
	if (strict)
	{
		int		   *owner = palloc0(sizeof(int) * (desc->natts + 1));	/* field + 1 */

		for (int f = 0; f < rs->nfields; f++)
		{
			const TargetField *tf = &t->fields[f];

			if (tf->column == NULL)
				continue;
			if (owner[tf->attnum] != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target \"%s\": fields \"%s\" and \"%s\" are both in column \"%s\" of relation %s",
								rolename, rs->fields[owner[tf->attnum] - 1].name, tf->field,
								tf->column, t->qualname),
						 errdetail("Each field needs a column of its own: one of the two values would be lost."),
						 !(rs->fields[f].flags & F_REQUIRED) ?
						 errhint("Map one of them to another column, or to null when the relation has none for it: {\"%s\": null}.",
								 tf->field) :
						 !(rs->fields[owner[tf->attnum] - 1].flags & F_REQUIRED) ?
						 errhint("Map one of them to another column, or to null when the relation has none for it: {\"%s\": null}.",
								 rs->fields[owner[tf->attnum] - 1].name) :
						 errhint("Map one of them to another column: both are required.")));
			owner[tf->attnum] = f + 1;
		}
		pfree(owner);
	}

	/* the row key must be unique: revert and approve act on rows by it */
	if (strict && t->key != NULL && !t->shipped)
	{
		const TargetField *kf = target_field(t, t->key);

		if (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
			relkind == RELKIND_MATVIEW)
		{
			/*
			 * Unique alone, or with the tenant column (PRIMARY KEY (org,
			 * id)): revert and approve find the rows by their keys and the
			 * batch's tenant.
			 */
			if (kf->column != NULL && !key_unique_on(rel, kf->attnum, tenant_attnum, tenant_notnull))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
						 errmsg("target \"%s\": nothing keeps the key column \"%s\" of relation %s unique",
								rolename, kf->column, t->qualname),
						 errdetail("credimport finds the rows it wrote by their key, to revert or update them: the key needs a primary key or a unique index on exactly that column%s.",
								   relkind == RELKIND_PARTITIONED_TABLE || rel->rd_rel->relispartition ?
								   " (with the partition key columns)" : ""),
						 errhint("Add one: ALTER TABLE %s ADD PRIMARY KEY (%s).", t->qualname,
								 quote_identifier(kf->column))));
		}
		else if (notices)
			ereport(NOTICE,
					(errmsg("target \"%s\": credimport cannot check that the key column \"%s\" of %s is unique",
							rolename, kf->column ? kf->column : t->key, t->qualname),
					 rs->written ?
					 errdetail("A view has no index, and credimport cannot check either that its INSTEAD OF trigger inserts rather than updates; a revert deletes the rows whose keys the insert returned.") :
					 errdetail("A view has no index: two rows with one key would make the %s ambiguous.", rs->what)));
	}

	/* a view or foreign table: the updates and deletes credimport runs */
	if (notices && relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		(rs->deletes || rs->updates))
	{
		int			events = relation_is_updatable(relid, NIL, true, NULL);

		if (rs->deletes && (events & (1 << CMD_DELETE)) == 0)
			ereport(NOTICE,
					(errmsg("target \"%s\": %s will fail on %s", rolename, rs->deletes, t->qualname),
					 errdetail("%s takes no DELETE, and a revert deletes the %s rows a batch wrote.",
							   t->qualname, rs->what),
					 errhint("Give the view an INSTEAD OF DELETE trigger, or point the target at the underlying table.")));
		if (rs->updates && (events & (1 << CMD_UPDATE)) == 0)
			ereport(NOTICE,
					(errmsg("target \"%s\": %s will fail on %s", rolename, rs->updates, t->qualname),
					 errdetail("%s takes no UPDATE.", t->qualname),
					 errhint("Give the view an INSTEAD OF UPDATE trigger, or point the target at the underlying table.")));
	}

	/* the configuration is valid: now say what it leaves to the loads */
	{
		foreach(lc, not_unique)
		{
			const TargetField *tf = &t->fields[lfirst_int(lc)];

			ereport(NOTICE,
					(errmsg("target \"%s\": nothing keeps column \"%s\" of relation %s unique%s",
							rolename, tf->column, t->qualname,
							(rs->fields[lfirst_int(lc)].flags & F_LOWER) ? " regardless of case" : ""),
					 errdetail("Records that find a %s by %s will be reported as ambiguous_learner where two share it.",
							   rs->what, tf->field)));
		}
		list_free(not_unique);
	}

	relation_close(rel, NoLock);	/* keep the lock to the end of the transaction */
	pfree(mapped);
	pfree(unmapped);
	return tp;
}

/* ---------------------------------------------------------------------------
 * target_get: once per statement
 * ---------------------------------------------------------------------------
 */

typedef struct TargetCache
{
	TargetPriv *tp;
	MemoryContext cxt;
	LocalTransactionId lxid;
	TimestampTz stmt;
	bool		valid;
} TargetCache;

static TargetCache cache[TR_NROLES];
static MemoryContext stale_cxt = NULL;	/* descriptions invalidated during their statement */
static TimestampTz stale_stmt = 0;
static bool callback_registered = false;

static void
target_invalidate_all(void)
{
	for (int r = 0; r < TR_NROLES; r++)
		cache[r].valid = false;
}

static void
target_relcache_callback(Datum arg, Oid relid)
{
	for (int r = 0; r < TR_NROLES; r++)
		if (cache[r].valid && (!OidIsValid(relid) || cache[r].tp->pub.relid == relid))
			cache[r].valid = false;
}

const Target *
target_get(TargetRole role)
{
	LocalTransactionId lxid = MyProc->lxid;
	TimestampTz stmt = GetCurrentStatementStartTimestamp();
	TargetCache *c;
	ConfigRow	rows[TR_NROLES];
	MemoryContext old;
	Oid			relid;

	if (role < 0 || role >= TR_NROLES)
		elog(ERROR, "credimport: invalid target role %d", (int) role);
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(target_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	c = &cache[role];
	if (c->valid && c->lxid == lxid && c->stmt == stmt)
		return &c->tp->pub;

	/*
	 * Descriptions of an earlier statement are no one's any more; those of
	 * this statement (invalidated while it runs, or read again after a
	 * procedure's COMMIT) may still be held by a caller: they are kept until
	 * the statement ends.
	 */
	if (stale_cxt != NULL && stale_stmt != stmt)
	{
		MemoryContextDelete(stale_cxt);
		stale_cxt = NULL;
	}
	if (c->cxt != NULL)
	{
		if (c->stmt == stmt)
		{
			/* invalidated during this statement: a caller may still hold it */
			if (stale_cxt == NULL)
			{
				stale_cxt = AllocSetContextCreate(TopMemoryContext, "credimport stale targets",
												  ALLOCSET_SMALL_SIZES);
				stale_stmt = stmt;
			}
			MemoryContextSetParent(c->cxt, stale_cxt);
		}
		else
			MemoryContextDelete(c->cxt);
		c->cxt = NULL;
		c->tp = NULL;
		c->valid = false;
	}

	c->cxt = AllocSetContextCreate(TopMemoryContext, "credimport target", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(c->cxt);
	PG_TRY();
	{
		config_read(rows);
		relid = rows[role].present ? rows[role].relid : shipped_relid(role, false);
		c->tp = target_resolve(role, relid, rows[role].columns, true, false);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(c->cxt);
		c->cxt = NULL;
		c->tp = NULL;
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	c->lxid = lxid;
	c->stmt = stmt;
	c->valid = true;
	return &c->tp->pub;
}

const TargetField *
target_field(const Target *t, const char *field)
{
	for (int f = 0; f < t->nfields; f++)
		if (strcmp(t->fields[f].field, field) == 0)
			return &t->fields[f];
	return NULL;
}

bool
target_has(const Target *t, const char *field)
{
	const TargetField *tf = target_field(t, field);

	return tf != NULL && tf->column != NULL;
}

const TargetField *
target_need(const Target *t, const char *field)
{
	const TargetField *tf = target_field(t, field);

	if (tf == NULL)
		elog(ERROR, "credimport: target \"%s\" has no field \"%s\"",
			 target_role_names[t->role], field);
	if (tf->column == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("target \"%s\": relation %s has no column for field \"%s\"",
						target_role_names[t->role], t->qualname, field),
				 errdetail("This import needs it."),
				 errhint("Map the field to a column with credimport_set_target('%s', '%s', '{\"%s\": \"column\"}').",
						 target_role_names[t->role], t->qualname, field)));
	return tf;
}

static bool
target_notnull(const Target *t, const TargetField *tf)
{
	return ((const TargetPriv *) t)->notnull[tf - t->fields];
}

/* ---------------------------------------------------------------------------
 * Statements
 * ---------------------------------------------------------------------------
 */

/* alias.column */
static void
append_col(StringInfo s, const char *alias, const TargetField *tf)
{
	if (alias)
		appendStringInfo(s, "%s.", alias);
	appendStringInfoString(s, quote_identifier(tf->column));
}

/* the qualified name of the array type of type (no typmod) */
static const char *
array_type_name(Oid type)
{
	Oid			arr = get_array_type(type);

	if (!OidIsValid(arr))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("type %s has no array type", format_type_be(type))));
	return format_type_be_qualified(arr);
}

/*
 * $n, cast to an array of the column's type when given as another type.
 * Whole numbers are not cast: the integer types compare with each other
 * (and use each other's indexes), and an INSERT or UPDATE assigns them; a
 * cast to a narrower column type would fail on a key that merely matches
 * nothing.  No typmod: the assignment applies it, and reports a value too
 * long instead of truncating it as a cast would.
 */
static void
append_param(StringInfo s, int n, Oid given, Oid column_type)
{
	appendStringInfo(s, "$%d", n);
	if (given != column_type && !(is_integer_type(given) && is_integer_type(column_type)))
		appendStringInfo(s, "::%s", array_type_name(column_type));
}

/* alias.column as text (binary text, for the directories) */
static void
append_col_text(StringInfo s, const char *alias, const TargetField *tf)
{
	append_col(s, alias, tf);
	if (!is_text_type(tf->type))
		appendStringInfoString(s, "::pg_catalog.text");
}

char *
target_active_sql(const Target *t, const char *alias)
{
	StringInfoData s;

	initStringInfo(&s);
	switch (t->active_rule)
	{
		case ACTIVE_ALWAYS:
			appendStringInfoString(&s, "true");
			break;
		case ACTIVE_COLUMN:
			{
				const TargetField *tf = target_need(t, "active");

				if (target_notnull(t, tf))
					append_col(&s, alias, tf);
				else
				{
					appendStringInfoString(&s, "(");
					append_col(&s, alias, tf);
					appendStringInfoString(&s, " IS TRUE)");
				}
			}
			break;
		case ACTIVE_UNLESS:
			appendStringInfoString(&s, "(NOT (");
			for (int i = 0; i < t->nunless; i++)
			{
				Oid			type = getBaseType(t->unless_types[i]);

				if (i > 0)
					appendStringInfoString(&s, " OR ");
				if (type == BOOLOID)
					appendStringInfo(&s, "COALESCE(%s.%s, false)", alias, t->unless[i]);
				else if (is_numeric_type(type))
					appendStringInfo(&s, "COALESCE(%s.%s OPERATOR(pg_catalog.<>) 0, false)",
									 alias, t->unless[i]);
				else
					appendStringInfo(&s, "%s.%s IS NOT NULL", alias, t->unless[i]);
			}
			appendStringInfoString(&s, "))");
			break;
	}
	return s.data;
}

/* SELECT key, id, active [, extra] FROM relation t */
static void
append_directory_select(StringInfo s, const Target *t, const TargetField *kf, bool lower,
						const char *extra_field)
{
	const TargetField *idf;

	if (t->key == NULL)
		elog(ERROR, "credimport: target \"%s\" has no row key", target_role_names[t->role]);
	idf = target_need(t, t->key);
	appendStringInfoString(s, "SELECT ");
	if (lower)
	{
		appendStringInfoString(s, "pg_catalog.lower(");
		append_col(s, "t", kf);
		if (!is_text_type(kf->type))
			appendStringInfoString(s, "::pg_catalog.text");
		appendStringInfoString(s, ")");
	}
	else
		append_col_text(s, "t", kf);
	appendStringInfoString(s, ", ");
	append_col(s, "t", idf);
	if (idf->type != INT8OID)
		appendStringInfoString(s, "::pg_catalog.int8");
	appendStringInfo(s, ", %s", target_active_sql(t, "t"));
	if (extra_field)
	{
		if (target_has(t, extra_field))
		{
			appendStringInfoString(s, ", ");
			append_col(s, "t", target_need(t, extra_field));
		}
		else
			appendStringInfoString(s, ", NULL::pg_catalog.text");
	}
	appendStringInfo(s, " FROM %s t", t->qualname);
}

static const char *tenant_route(const Target *t);

char *
target_sql_resolve(const Target *t, const char *key_field, bool lower, const char *extra_field)
{
	const TargetField *kf = target_need(t, key_field);
	StringInfoData s;

	initStringInfo(&s);
	append_directory_select(&s, t, kf, lower, extra_field);
	appendStringInfoString(&s, " WHERE ");
	if (lower)
	{
		appendStringInfoString(&s, "pg_catalog.lower(");
		append_col(&s, "t", kf);
		if (!is_text_type(kf->type))
			appendStringInfoString(&s, "::pg_catalog.text");
		appendStringInfoString(&s, ") OPERATOR(pg_catalog.=) ANY ($1)");
	}
	else if (is_text_type(kf->type))
	{
		append_col(&s, "t", kf);
		appendStringInfoString(&s, " OPERATOR(pg_catalog.=) ANY ($1)");
	}
	else if (is_integer_type(kf->type) && t->key && strcmp(key_field, t->key) == 0)
	{
		/* the caller checked the keys are whole numbers; int8 takes them all */
		append_col(&s, "t", kf);
		appendStringInfoString(&s, " OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.int8[])");
	}
	else
	{
		/* compared as text: a key that is not of the column's type matches nothing */
		append_col(&s, "t", kf);
		appendStringInfoString(&s, "::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)");
	}
	appendStringInfoString(&s, tenant_route(t));
	return s.data;
}

/* the target's tenant field mapped to a column, or NULL when it maps none */
static const TargetField *
tenant_field(const Target *t)
{
	for (int i = 0; i < t->nfields; i++)
		if (t->fields[i].tenant && t->fields[i].column != NULL)
			return &t->fields[i];
	return NULL;
}

/* the relation's tenant column (unquoted), or NULL when the target maps none */
static const char *
tenant_column(const Target *t)
{
	const TargetField *tf = tenant_field(t);

	return tf ? tf->column : NULL;
}

int
target_lookup_chunk(const Target *t)
{
	if (check_enable_rls(t->relid, InvalidOid, true) == RLS_ENABLED)
		return 1000000;
	return 0;
}

char *
target_sql_load_all(const Target *t, const char *key_field, bool lower, const char *extra_field)
{
	const TargetField *kf = target_need(t, key_field);
	StringInfoData s;

	initStringInfo(&s);
	append_directory_select(&s, t, kf, lower, extra_field);
	/*
	 * A tenant's own type before a shared one (no tenant) of the same code:
	 * the first row of a key is the one a load uses.
	 */
	if (tenant_column(t) != NULL)
		appendStringInfo(&s, " ORDER BY t.%s IS NULL", quote_identifier(tenant_column(t)));
	return s.data;
}

char *
target_sql_probe(const Target *t, int nkeys, const char *const *key_fields,
				 const Oid *key_types, int nresults, const char *const *result_fields)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoString(&s, "SELECT k.i");
	for (int r = 0; r < nresults; r++)
	{
		if (target_has(t, result_fields[r]))
		{
			appendStringInfoString(&s, ", ");
			append_col_text(&s, "t", target_need(t, result_fields[r]));
		}
		else
			appendStringInfoString(&s, ", NULL::pg_catalog.text");
	}
	/* (multi-argument unnest: not qualifiable) */
	appendStringInfoString(&s, " FROM unnest($1");
	for (int k = 0; k < nkeys; k++)
	{
		appendStringInfoString(&s, ", ");
		append_param(&s, k + 2, key_types[k], target_need(t, key_fields[k])->type);
	}
	appendStringInfoString(&s, ") AS k(i");
	for (int k = 0; k < nkeys; k++)
		appendStringInfo(&s, ", k%d", k + 1);
	appendStringInfo(&s, ") JOIN %s t ON ", t->qualname);
	for (int k = 0; k < nkeys; k++)
	{
		if (k > 0)
			appendStringInfoString(&s, " AND ");
		append_col(&s, "t", target_need(t, key_fields[k]));
		appendStringInfo(&s, " OPERATOR(pg_catalog.=) k.k%d", k + 1);
	}
	appendStringInfoString(&s, tenant_route(t));
	return s.data;
}

/* the value of set field i of an UPDATE, per mode */
static void
append_update_value(StringInfo s, const TargetField *tf, char mode, int i)
{
	switch (mode)
	{
		case 'c':
			appendStringInfo(s, "COALESCE(u.v%d, ", i + 1);
			append_col(s, "t", tf);
			appendStringInfoString(s, ")");
			break;
		case 'j':
			append_col(s, "t", tf);
			appendStringInfo(s, " OPERATOR(pg_catalog.||) COALESCE(u.v%d, '{}'::pg_catalog.jsonb)",
							 i + 1);
			break;
		default:
			appendStringInfo(s, "u.v%d", i + 1);
			break;
	}
}

/*
 * " AND t.<tenant column> = '<the caller's tenant>'" while tenancy is on,
 * for the statements a load runs by row key and the lookups of its
 * learners and existing rows (the rows are the caller's tenant's anyway):
 * on Citus, with the distribution column equal to a constant, the
 * statement goes to that tenant's shard only, instead of every shard
 * (locking them all, for an UPDATE or DELETE, and waiting for the other
 * tenants' loads).
 */
static const char *
tenant_route(const Target *t)
{
	const TargetField *tf = tenant_field(t);
	const char *tenant;

	/* (only where the column's values are the tenants' names) */
	if (tf == NULL || !tf->tenant_named || (tenant = tenant_sole()) == NULL)
		return "";
	return psprintf(" AND t.%s OPERATOR(pg_catalog.=) %s::%s", quote_identifier(tf->column),
					quote_literal_cstr(tenant), format_type_be_qualified(tf->type));
}

char *
target_sql_update(const Target *t, Oid key_type, int nset, const char *const *fields,
				  const Oid *types, const char *modes, bool changed_only, bool returning)
{
	const TargetField *kf;
	StringInfoData s;

	if (t->key == NULL)
		elog(ERROR, "credimport: target \"%s\" has no row key", target_role_names[t->role]);
	kf = target_need(t, t->key);
	initStringInfo(&s);
	appendStringInfo(&s, "UPDATE %s t SET ", t->qualname);
	for (int i = 0; i < nset; i++)
	{
		const TargetField *tf = target_need(t, fields[i]);

		if (tf->tenant)
			elog(ERROR, "credimport: the tenant column of target \"%s\" is never written",
				 target_role_names[t->role]);
		if (i > 0)
			appendStringInfoString(&s, ", ");
		appendStringInfo(&s, "%s = ", quote_identifier(tf->column));
		append_update_value(&s, tf, modes[i], i);
	}
	appendStringInfoString(&s, " FROM unnest(");
	append_param(&s, 1, key_type, kf->type);
	for (int i = 0; i < nset; i++)
	{
		appendStringInfoString(&s, ", ");
		append_param(&s, i + 2, types[i], target_need(t, fields[i])->type);
	}
	appendStringInfoString(&s, ") AS u(k");
	for (int i = 0; i < nset; i++)
		appendStringInfo(&s, ", v%d", i + 1);
	appendStringInfoString(&s, ") WHERE ");
	append_col(&s, "t", kf);
	appendStringInfoString(&s, " OPERATOR(pg_catalog.=) u.k");
	appendStringInfoString(&s, tenant_route(t));
	if (changed_only && nset > 0)
	{
		appendStringInfoString(&s, " AND (");
		for (int i = 0; i < nset; i++)
		{
			const TargetField *tf = target_need(t, fields[i]);

			if (i > 0)
				appendStringInfoString(&s, " OR ");
			append_col(&s, "t", tf);
			appendStringInfoString(&s, " IS DISTINCT FROM ");
			append_update_value(&s, tf, modes[i], i);
		}
		appendStringInfoString(&s, ")");
	}
	if (returning)
	{
		appendStringInfoString(&s, " RETURNING ");
		append_col(&s, "t", kf);
		if (kf->type != INT8OID)
			appendStringInfoString(&s, "::pg_catalog.int8");
	}
	return s.data;
}

char *
target_sql_delete(const Target *t, Oid key_type)
{
	const TargetField *kf;
	StringInfoData s;

	if (t->key == NULL)
		elog(ERROR, "credimport: target \"%s\" has no row key", target_role_names[t->role]);
	kf = target_need(t, t->key);
	initStringInfo(&s);
	appendStringInfo(&s, "DELETE FROM %s t USING unnest(", t->qualname);
	append_param(&s, 1, key_type, kf->type);
	appendStringInfoString(&s, ") AS u(k) WHERE ");
	append_col(&s, "t", kf);
	appendStringInfoString(&s, " OPERATOR(pg_catalog.=) u.k");
	appendStringInfoString(&s, tenant_route(t));
	return s.data;
}

/*
 * The one INSERT builder: into qualname's columns (quoted here), from
 * $1 .. $n.  coltypes: the columns' types, to cast parameters given as
 * another type (NULL: no casts); key_column/key_basetype: what RETURNING
 * gives back.
 */
static char *
insert_sql(const char *qualname, int n, const char *const *columns, const Oid *types,
		   const Oid *coltypes, bool overriding, const char *key_column, Oid key_basetype,
		   const TargetInsertOptions *o)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "INSERT INTO %s AS t (", qualname);
	for (int i = 0; i < n; i++)
		appendStringInfo(&s, "%s%s", i > 0 ? ", " : "", quote_identifier(columns[i]));
	appendStringInfoChar(&s, ')');
	if (overriding && o->override_generated)
		appendStringInfoString(&s, " OVERRIDING SYSTEM VALUE");
	appendStringInfoString(&s, " SELECT ");
	for (int i = 0; i < n; i++)
	{
		appendStringInfo(&s, "%su.c%d", i > 0 ? ", " : "", i + 1);
		/* an array-typed column (batch_record.fields) travels as text */
		if (!OidIsValid(get_array_type(types[i])))
			appendStringInfo(&s, "::%s", format_type_be_qualified(types[i]));
	}
	appendStringInfoString(&s, " FROM ROWS FROM (");
	for (int i = 0; i < n; i++)
	{
		appendStringInfo(&s, "%spg_catalog.unnest(", i > 0 ? ", " : "");
		if (coltypes && o->cast_params && OidIsValid(get_array_type(types[i])))
			append_param(&s, i + 1, types[i], coltypes[i]);
		else
			appendStringInfo(&s, "$%d", i + 1);
		appendStringInfoChar(&s, ')');
	}
	appendStringInfoChar(&s, ')');
	if (o->ordinality)
		appendStringInfoString(&s, " WITH ORDINALITY");
	appendStringInfoString(&s, " AS u(");
	for (int i = 0; i < n; i++)
		appendStringInfo(&s, "%sc%d", i > 0 ? ", " : "", i + 1);
	if (o->ordinality)
		appendStringInfoString(&s, ", o) WHERE credimport.writing_row(u.o)");
	else
		appendStringInfoChar(&s, ')');
	if (o->on_conflict_nothing)
		appendStringInfoString(&s, " ON CONFLICT DO NOTHING");
	if (o->returning_key)
	{
		if (key_column == NULL)
			elog(ERROR, "credimport: %s has no row key", qualname);
		appendStringInfo(&s, " RETURNING t.%s::%s", quote_identifier(key_column),
						 is_integer_type(key_basetype) ? "pg_catalog.int8" : "pg_catalog.text");
	}
	return s.data;
}

char *
target_sql_insert(const Target *t, int nfields, const char *const *fields,
				  const Oid *types, const TargetInsertOptions *o)
{
	const char **columns = palloc(sizeof(char *) * Max(nfields, 1));
	Oid		   *coltypes = palloc(sizeof(Oid) * Max(nfields, 1));
	bool		overriding = false;
	const char *key_column = NULL;
	Oid			key_basetype = InvalidOid;

	for (int i = 0; i < nfields; i++)
	{
		const TargetField *tf = target_field(t, fields[i]);

		if (tf == NULL || tf->column == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("target %s has no column for field \"%s\"", t->qualname, fields[i]),
					 errhint("Map the field with credimport_set_target('%s', ...).",
							 target_role_names[t->role])));
		if (tf->tenant)
			elog(ERROR, "credimport: the tenant column of target \"%s\" is never written",
				 target_role_names[t->role]);
		columns[i] = tf->column;
		coltypes[i] = tf->type;
		if (tf->generated_always)
			overriding = true;
	}
	if (o->returning_key && t->key)
	{
		const TargetField *kf = target_field(t, t->key);

		if (kf && kf->column)
		{
			key_column = kf->column;
			key_basetype = kf->basetype;
		}
	}
	return insert_sql(t->qualname, nfields, columns, types, coltypes, overriding,
					  key_column, key_basetype, o);
}

char *
target_sql_insert_own(const char *table, int ncols, const char *const *columns,
					  const Oid *types, const TargetInsertOptions *o)
{
	return insert_sql(quote_qualified_identifier("credimport", table), ncols, columns, types,
					  NULL, false, NULL, InvalidOid, o);
}

/* the quoted, qualified name of a relation */
static const char *
relid_qualname(Oid relid)
{
	char	   *relname = get_rel_name(relid);

	if (relname == NULL)
		elog(ERROR, "credimport: cache lookup failed for relation %u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), relname);
}

/* the keys provenance recorded, $n (text[]), as a relation p(k) of the key's type */
static char *
prov_keys_param(int param, Oid key_type)
{
	return psprintf("(SELECT pg_catalog.unnest($%d::pg_catalog.text[])::%s AS k)",
					param, format_type_be_qualified(key_type));
}

/* the quoted column of a field, the field being mapped */
static const char *
qcol(const Target *t, const char *field)
{
	return quote_identifier(target_need(t, field)->column);
}

/*
 * " AND t.<tenant column> is the batch's tenant ($param)", where the target
 * maps one.  While tenancy is off, a batch without a tenant ($param empty)
 * wrote its rows with whatever the column's default gave (a platform's own
 * organization column, never NULL where it distributes the table on Citus):
 * its rows are found by their keys alone.
 */
static const char *
tenant_filter(const Target *t, int param)
{
	const char *col = param > 0 ? tenant_column(t) : NULL;

	if (col == NULL)
		return "";
	if (!tenancy_on())
		return psprintf(" AND (NULLIF($%d::pg_catalog.text, '') IS NULL OR t.%s::pg_catalog.text "
						"OPERATOR(pg_catalog.=) $%d::pg_catalog.text)",
						param, quote_identifier(col), param);
	/*
	 * Tenancy on: also the column equal to the tenant (implied), so that
	 * Citus sends the statement to that tenant's shard only, instead of
	 * locking every shard and waiting for the other tenants' reverts
	 * (where the column's values are the tenants' names: a cast of another
	 * default's tenant name to the column's type could fail).
	 */
	if (tenant_field(t)->tenant_named)
		return psprintf(" AND t.%s::pg_catalog.text IS NOT DISTINCT FROM NULLIF($%d::pg_catalog.text, '')"
						" AND (t.%s OPERATOR(pg_catalog.=) NULLIF($%d::pg_catalog.text, '')::%s"
						" OR $%d::pg_catalog.text OPERATOR(pg_catalog.=) '')",
						quote_identifier(col), param, quote_identifier(col), param,
						format_type_be_qualified(tenant_field(t)->type), param);
	/*
	 * Another default (a platform's own organization key, looked up from the
	 * tenant): the column's values are not the tenants' names, so the
	 * batch's rows cannot be told from other tenants' by it, and these
	 * statements run as the table's owner (no row-level security); a key
	 * unique only together with the tenant column could name another
	 * tenant's row.  Comparing the column with the tenant's name found
	 * nothing (a revert removed nothing and blamed references): refuse.
	 */
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("credimport cannot find a batch's rows in \"%s\" by their tenant", t->qualname),
			 errdetail("Its tenant column \"%s\" is filled by a default other than credimport.current_tenant(), so its values are not the tenants' names.",
					   col),
			 errhint("Revert or approve this batch's rows in \"%s\" with your own statements, or make the column's default credimport.current_tenant().",
					 t->qualname)));
	return NULL;				/* keep the compiler quiet */
}

char *
target_sql_delete_by_field(const Target *t, const char *field, int tenant_param)
{
	return psprintf("DELETE FROM %s t WHERE t.%s OPERATOR(pg_catalog.=) $1%s",
					t->qualname, qcol(t, field), tenant_filter(t, tenant_param));
}

char *
target_sql_delete_by_any(const Target *t, const char *const *fields, int nfields)
{
	StringInfoData s;
	bool		any = false;

	initStringInfo(&s);
	appendStringInfo(&s, "DELETE FROM %s t WHERE ", t->qualname);
	for (int i = 0; i < nfields; i++)
	{
		if (!target_has(t, fields[i]))
			continue;
		appendStringInfo(&s, "%st.%s OPERATOR(pg_catalog.=) ANY ($1)", any ? " OR " : "",
						 qcol(t, fields[i]));
		any = true;
	}
	return any ? s.data : NULL;
}

char *
target_sql_keys_by_field(const Target *t, const char *field, int tenant_param)
{
	if (t->key == NULL)
		elog(ERROR, "credimport: target \"%s\" has no row key", target_role_names[t->role]);
	return psprintf("SELECT pg_catalog.array_agg(t.%s::pg_catalog.int8) FROM %s t "
					"WHERE t.%s OPERATOR(pg_catalog.=) $1%s",
					qcol(t, t->key), t->qualname, qcol(t, field), tenant_filter(t, tenant_param));
}

/*
 * " AND t.<tenant column> is $param" for a relation provenance recorded,
 * when it is the role's target now and the target maps a tenant column (a
 * key may be unique only within a tenant: PRIMARY KEY (org, id))
 */
static const char *
rel_tenant_filter(TargetRole role, Oid relid, int param)
{
	const Target *t;

	if (param <= 0)
		return "";
	t = target_get(role);
	return t->relid == relid ? tenant_filter(t, param) : "";
}

char *
target_sql_delete_rel_keys(TargetRole role, Oid relid, const char *key_column, int tenant_param)
{
	return psprintf("DELETE FROM %s t WHERE t.%s OPERATOR(pg_catalog.=) ANY ($1)%s",
					relid_qualname(relid), quote_identifier(key_column),
					rel_tenant_filter(role, relid, tenant_param));
}

char *
target_sql_delete_rel_text_keys(TargetRole role, Oid relid, const char *key_column, Oid key_type,
								int tenant_param)
{
	return psprintf("DELETE FROM %s t USING %s p WHERE t.%s OPERATOR(pg_catalog.=) p.k%s",
					relid_qualname(relid), prov_keys_param(1, key_type),
					quote_identifier(key_column), rel_tenant_filter(role, relid, tenant_param));
}

/*
 * Written as a set difference -- the candidates EXCEPT the learners some
 * row names, each side of the UNION a plain scan of the target filtered by
 * = ANY ($2) -- never as a subquery correlated with unnest(): Citus cannot
 * plan that against a distributed table ("correlated subqueries are not
 * supported when the FROM clause contains a set returning function"); the
 * difference is planned there with the target's part pulled to the
 * coordinator, and on one node gives the same learners.  (The caller
 * sorts the result; EXCEPT's removal of duplicates is harmless: the
 * candidates are keys.)
 */
char *
target_sql_not_held(const Target *t, TargetHold how, const char *const *fields, int nfields)
{
	StringInfoData s;
	bool		any = false;

	initStringInfo(&s);
	appendStringInfoString(&s, "SELECT pg_catalog.array_agg(lr.k) FROM "
						   "(SELECT pg_catalog.unnest($2) EXCEPT (");
	if (how == TH_LINKS_TO_OTHERS)
	{
		const char *l = qcol(t, "learner_id");
		const char *r = qcol(t, "related_learner_id");

		/* tied to one not in $3: the other end is not one of them (or is NULL) */
		appendStringInfo(&s, "SELECT h.%s::pg_catalog.int8 FROM %s h WHERE h.%s OPERATOR(pg_catalog.=) ANY ($2) "
						 "AND NOT COALESCE(h.%s OPERATOR(pg_catalog.=) ANY ($3), false) "
						 "UNION ALL "
						 "SELECT h.%s::pg_catalog.int8 FROM %s h WHERE h.%s OPERATOR(pg_catalog.=) ANY ($2) "
						 "AND NOT COALESCE(h.%s OPERATOR(pg_catalog.=) ANY ($3), false)",
						 l, t->qualname, l, r, r, t->qualname, r, l);
	}
	else
	{
		for (int i = 0; i < nfields; i++)
		{
			if (!target_has(t, fields[i]))
				continue;
			appendStringInfo(&s, "%sSELECT h.%s::pg_catalog.int8 FROM %s h WHERE h.%s OPERATOR(pg_catalog.=) ANY ($2)",
							 any ? " UNION ALL " : "", qcol(t, fields[i]), t->qualname, qcol(t, fields[i]));
			if (how == TH_FIELDS_OF_OTHERS && target_has(t, "batch_id"))
				appendStringInfo(&s, " AND h.%s IS DISTINCT FROM $1", qcol(t, "batch_id"));
			any = true;
		}
		if (!any)
			return NULL;
	}
	appendStringInfoString(&s, ")) AS lr(k)");
	return s.data;
}

char *
target_sql_approve(const Target *t, Oid prov_key_type, int tenant_param)
{
	const char *status_col = qcol(t, "status");
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "UPDATE %s t SET %s = 'approved'", t->qualname, status_col);
	if (target_has(t, "approved_at"))
		appendStringInfo(&s, ", %s = pg_catalog.now()", qcol(t, "approved_at"));
	if (target_has(t, "approved_by"))
		appendStringInfo(&s, ", %s = $2::pg_catalog.text::%s", qcol(t, "approved_by"),
						 format_type_be_qualified(target_field(t, "approved_by")->type));
	if (OidIsValid(prov_key_type))
	{
		if (t->key == NULL)
			elog(ERROR, "credimport: target \"%s\" has no row key", target_role_names[t->role]);
		appendStringInfo(&s, " FROM %s p WHERE t.%s OPERATOR(pg_catalog.=) p.k%s",
						 prov_keys_param(1, prov_key_type), qcol(t, t->key),
						 tenant_filter(t, tenant_param));
	}
	else
		appendStringInfo(&s, " WHERE t.%s OPERATOR(pg_catalog.=) $1%s", qcol(t, "batch_id"),
						 tenant_filter(t, tenant_param));
	appendStringInfo(&s, " AND t.%s OPERATOR(pg_catalog.=) 'pending'", status_col);
	return s.data;
}

/* alias.column of field cast to type, or a NULL of that type */
static void
append_field_as(StringInfo s, const Target *t, const char *alias, const char *field,
				const char *type)
{
	if (target_has(t, field))
		appendStringInfo(s, "%s.%s::%s", alias, qcol(t, field), type);
	else
		appendStringInfo(s, "NULL::%s", type);
}

char *
target_sql_credential_expiring(const Target *c, const Target *ty, const Target *l)
{
	const TargetField *key = target_need(c, c->key);
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoString(&s, "SELECT ");
	if (key->basetype == INT8OID || key->basetype == INT4OID || key->basetype == INT2OID)
		appendStringInfo(&s, "c.%s::pg_catalog.int8, ", quote_identifier(key->column));
	else
		appendStringInfoString(&s, "NULL::pg_catalog.int8, ");
	append_field_as(&s, c, "c", "learner_id", "pg_catalog.int8");
	appendStringInfoString(&s, ", ");
	append_field_as(&s, l, "l", "email", "pg_catalog.text");
	appendStringInfoString(&s, ", ");
	append_field_as(&s, l, "l", "first_name", "pg_catalog.text");
	appendStringInfoString(&s, ", ");
	append_field_as(&s, l, "l", "last_name", "pg_catalog.text");
	appendStringInfoString(&s, ", ");
	append_field_as(&s, ty, "ty", "code", "pg_catalog.text");
	appendStringInfoString(&s, ", ");
	append_field_as(&s, c, "c", "license_number", "pg_catalog.text");
	appendStringInfoString(&s, ", ");
	append_field_as(&s, c, "c", "issuer", "pg_catalog.text");
	appendStringInfoString(&s, ", ");
	append_field_as(&s, c, "c", "expiration_date", "pg_catalog.date");
	appendStringInfoString(&s, ", ");
	if (target_has(c, "expiration_date"))
		appendStringInfo(&s, "c.%s::pg_catalog.date OPERATOR(pg_catalog.-) CURRENT_DATE, ",
						 qcol(c, "expiration_date"));
	else
		appendStringInfoString(&s, "NULL::pg_catalog.int4, ");
	appendStringInfo(&s, "c.%s::pg_catalog.text", quote_identifier(key->column));
	appendStringInfo(&s, " FROM %s c JOIN %s ty ON ty.%s OPERATOR(pg_catalog.=) c.%s"
					 " JOIN %s l ON l.%s OPERATOR(pg_catalog.=) c.%s",
					 c->qualname, ty->qualname, qcol(ty, ty->key), qcol(c, "credential_type_id"),
					 l->qualname, qcol(l, l->key), qcol(c, "learner_id"));
	/* without an expiration date nothing expires; without a status, all count */
	if (target_has(c, "expiration_date"))
		appendStringInfo(&s, " WHERE c.%s::pg_catalog.date OPERATOR(pg_catalog.>=) CURRENT_DATE",
						 qcol(c, "expiration_date"));
	else
		appendStringInfoString(&s, " WHERE false");
	if (target_has(c, "status"))
		appendStringInfo(&s, " AND c.%s OPERATOR(pg_catalog.=) 'approved'", qcol(c, "status"));
	return s.data;
}

/* ---------------------------------------------------------------------------
 * SQL-callable: configuration and its listing
 * ---------------------------------------------------------------------------
 */


/*
 * With tenancy on, what a target leaves open: a table without row-level
 * security (its rows are every tenant's, for every loader; a type table
 * without a tenant column is shared by all tenants: nothing to say), and a
 * written role without a tenant column.  A view says nothing: its policies
 * are its tables'.
 */
static void
tenancy_notices(const TargetPriv *tp)
{
	const Target *t = &tp->pub;
	const TargetRoleSpec *rs = &role_specs[t->role];
	const char *rolename = target_role_names[t->role];
	const TargetField *tf = target_field(t, "tenant_id");
	bool		has_tenant = tf != NULL && tf->column != NULL;

	if ((t->relkind == RELKIND_RELATION || t->relkind == RELKIND_PARTITIONED_TABLE) &&
		(rs->written || has_tenant))
	{
		Relation	rel = relation_open(t->relid, AccessShareLock);
		bool		rls = rel->rd_rel->relrowsecurity;

		relation_close(rel, AccessShareLock);
		if (!rls && has_tenant)
		{
			const char *col = quote_identifier(tf->column);
			/* the tenants as an array of the column's type: the index serves */
			const char *arr = format_type_be(OidIsValid(get_array_type(tf->type)) ?
											 get_array_type(tf->type) : TEXTARRAYOID);

			ereport(NOTICE,
					(errmsg("target \"%s\": row-level security is not enabled on %s",
							rolename, t->qualname),
					 errdetail("Tenancy is on: the loaders of every tenant will see and change every tenant's rows of it."),
					 errhint("Enable it, with a policy on the tenant column: ALTER TABLE %s ENABLE ROW LEVEL SECURITY; "
							 "CREATE POLICY tenant_rows ON %s USING (%s = ANY ((SELECT credimport.caller_tenants())::%s)) "
							 "WITH CHECK (%s = ANY ((SELECT credimport.caller_tenants())::%s)).",
							 t->qualname, t->qualname, col, arr, col, arr)));
		}
		else if (!rls)
			ereport(NOTICE,
					(errmsg("target \"%s\": row-level security is not enabled on %s",
							rolename, t->qualname),
					 errdetail("Tenancy is on: the loaders of every tenant will see and change every tenant's rows of it."),
					 errhint("Give it a tenant column with DEFAULT credimport.current_tenant(), map it ({\"tenant_id\": \"column\"}), "
							 "and enable row-level security with a policy on it.")));
	}
	if (rs->written && !has_tenant)
		ereport(NOTICE,
				(errmsg("target \"%s\": relation %s has no tenant column", rolename, t->qualname),
				 errdetail("Tenancy is on, but the %s rows credimport writes into it will belong to no tenant.",
						   rs->what),
				 errhint("Map the relation's tenant column, a column with DEFAULT credimport.current_tenant(): {\"tenant_id\": \"column\"}.")));
}

/*
 * credimport_set_target(role text, relation regclass, columns jsonb) and,
 * with one argument, credimport_reset_target(role text).
 */
static Datum set_or_reset_target(PG_FUNCTION_ARGS, bool reset);

PG_FUNCTION_INFO_V1(credimport_set_target);
Datum
credimport_set_target(PG_FUNCTION_ARGS)
{
	return set_or_reset_target(fcinfo, false);
}

PG_FUNCTION_INFO_V1(credimport_reset_target);
Datum
credimport_reset_target(PG_FUNCTION_ARGS)
{
	return set_or_reset_target(fcinfo, true);
}

static Datum
set_or_reset_target(PG_FUNCTION_ARGS, bool reset)
{
	TargetRole	role;
	char	   *rolename;
	Oid			config = config_relid(false);
	int			ret;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the target role must not be null"),
				 errhint("The target roles are %s.", role_name_list())));
	rolename = text_to_cstring(PG_GETARG_TEXT_PP(0));
	role = role_from_name(rolename);
	if (!OidIsValid(config))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("the configuration table credimport.target does not exist"),
				 errhint("Update the extension: ALTER EXTENSION credimport UPDATE.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "credimport: SPI_connect failed");
	if (reset)
	{
		Datum		values[1] = {CStringGetTextDatum(rolename)};
		Oid			types[1] = {TEXTOID};

		ret = SPI_execute_with_args("DELETE FROM credimport.target WHERE role OPERATOR(pg_catalog.=) $1",
									1, types, values, NULL, false, 0);
		if (ret != SPI_OK_DELETE)
			elog(ERROR, "credimport: could not reset the target: %s", SPI_result_code_string(ret));
	}
	else
	{
		Oid			relid;
		Jsonb	   *columns;
		TargetPriv *tp;
		AclResult	acl;
		Datum		values[3];
		Oid			types[3] = {TEXTOID, REGCLASSOID, JSONBOID};

		if (PG_ARGISNULL(1))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("target \"%s\": the relation must not be null", rolename),
					 errhint("Go back to the shipped table with credimport_reset_target('%s').", rolename)));
		relid = PG_GETARG_OID(1);
		columns = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);

		/* the configuring role may not point loads at what it cannot use itself */
		acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
		if (acl == ACLCHECK_OK && role_specs[role].written)
			acl = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
		if (acl != ACLCHECK_OK)
		{
			char	   *nsp = get_namespace_name(get_rel_namespace(relid));
			char	   *rel = get_rel_name(relid);

			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("target \"%s\": permission denied for relation %s", rolename,
							rel ? quote_qualified_identifier(nsp, rel) : "(dropped)"),
					 role_specs[role].written ?
					 errdetail("Loads read %s rows from it and insert them into it: the role that points a target at a relation needs SELECT and INSERT on it.",
							   role_specs[role].what) :
					 errdetail("Loads read %s rows from it: the role that points a target at a relation needs SELECT on it.",
							   role_specs[role].what)));
		}

		tp = target_resolve(role, relid, columns, true, true);
		if (tenancy_on())
			tenancy_notices(tp);

		values[0] = CStringGetTextDatum(rolename);
		values[1] = ObjectIdGetDatum(relid);
		values[2] = columns ? JsonbPGetDatum(columns) :
			DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
		ret = SPI_execute_with_args("INSERT INTO credimport.target (role, relation, columns) "
									"VALUES ($1, $2, $3) ON CONFLICT (role) DO UPDATE "
									"SET relation = excluded.relation, columns = excluded.columns",
									3, types, values, NULL, false, 0);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "credimport: could not set the target: %s", SPI_result_code_string(ret));
	}
	SPI_finish();
	target_invalidate_all();
	PG_RETURN_VOID();
}

/* the effective mapping, as JSON: every field -> its column, or null */
static char *
effective_mapping_json(const TargetPriv *tp)
{
	const Target *t = &tp->pub;
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (int f = 0; f < t->nfields; f++)
	{
		const TargetField *tf = &t->fields[f];

		if (f > 0)
			appendStringInfoString(&s, ", ");
		escape_json(&s, tf->field);
		appendStringInfoString(&s, ": ");
		if (strcmp(tf->field, "active") == 0 && t->active_rule == ACTIVE_UNLESS)
		{
			appendStringInfoString(&s, "{\"unless\": [");
			for (int i = 0; i < t->nunless; i++)
			{
				if (i > 0)
					appendStringInfoString(&s, ", ");
				escape_json(&s, tp->unless_names[i]);
			}
			appendStringInfoString(&s, "]}");
		}
		else if (tf->column)
			escape_json(&s, tf->column);
		else
			appendStringInfoString(&s, "null");
	}
	appendStringInfoChar(&s, '}');
	return s.data;
}

/*
 * credimport.target_list(): one row per role -- role, relation, the
 * effective mapping, shipped -- for the view credimport.targets.
 */
PG_FUNCTION_INFO_V1(credimport_target_list);
Datum
credimport_target_list(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ConfigRow	rows[TR_NROLES];

	InitMaterializedSRF(fcinfo, 0);
	config_read(rows);
	for (int r = 0; r < TR_NROLES; r++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};
		Oid			relid = rows[r].present ? rows[r].relid : shipped_relid((TargetRole) r, true);
		TargetPriv *tp = OidIsValid(relid) ?
			target_resolve((TargetRole) r, relid, rows[r].columns, false, false) : NULL;

		CHECK_FOR_INTERRUPTS();
		values[0] = CStringGetTextDatum(target_role_names[r]);
		values[1] = ObjectIdGetDatum(relid);
		nulls[1] = !OidIsValid(relid);
		if (tp)
			values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(effective_mapping_json(tp)));
		else if (rows[r].columns)
			values[2] = JsonbPGetDatum(rows[r].columns);
		else
			nulls[2] = true;
		values[3] = BoolGetDatum(tp ? tp->pub.shipped : false);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
