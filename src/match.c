/*
 * match.c
 *		Learner and code directories, duplicate keys.
 */
#include "match.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/* ---------------- string-keyed directory ---------------- */

/*
 * The hash table holds pointers: its slots move when it grows, while
 * records keep pointing at their DirEntry.
 */
typedef struct DirSlot
{
	char	   *key;
	uint32		hash;
	char		status;
	DirEntry   *entry;
} DirSlot;

#define SH_PREFIX strdir
#define SH_ELEMENT_TYPE DirSlot
#define SH_KEY_TYPE char *
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) (k), strlen(k))
#define SH_EQUAL(tb, a, b) (strcmp((a), (b)) == 0)
#define SH_SCOPE static inline
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

struct Directory
{
	MemoryContext cxt;
	strdir_hash *tab;
};

Directory *
dir_create(MemoryContext cxt, uint32 size)
{
	Directory  *d = MemoryContextAlloc(cxt, sizeof(Directory));

	d->cxt = cxt;
	d->tab = strdir_create(cxt, Max(size, 64), NULL);
	return d;
}

DirEntry *
dir_insert(Directory *d, const char *key, bool *existed)
{
	bool		found;
	DirSlot    *slot = strdir_insert(d->tab, (char *) key, &found);

	if (!found)
	{
		Size		len = strlen(key);
		DirEntry   *e = MemoryContextAllocZero(d->cxt, sizeof(DirEntry) + len + 1);

		e->key = (char *) (e + 1);
		memcpy(e->key, key, len + 1);
		slot->key = e->key;
		slot->entry = e;
	}
	if (existed)
		*existed = found;
	return slot->entry;
}

DirEntry *
dir_lookup(Directory *d, const char *key)
{
	DirSlot    *slot = strdir_lookup(d->tab, (char *) key);

	return slot ? slot->entry : NULL;
}

uint32
dir_count(Directory *d)
{
	return d->tab->members;
}

static void
dir_fill_from_result(Directory *d, bool add)
{
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		k = SPI_getbinval(tup, desc, 1, &isnull);
		char	   *key;
		DirEntry   *e;

		CHECK_FOR_INTERRUPTS();

		if (isnull)
			continue;
		key = TextDatumGetCString(k);
		e = add ? dir_insert(d, key, NULL) : dir_lookup(d, key);
		if (e == NULL)
			continue;
		/* the same key twice: the first row stays, the count says it is ambiguous */
		if (e->nfound++ > 0)
		{
			pfree(key);
			continue;
		}
		e->found = true;
		e->id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		e->active = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		if (desc->natts >= 4)
		{
			char	   *x = SPI_getvalue(tup, desc, 4);

			e->extra = x ? MemoryContextStrdup(d->cxt, x) : NULL;
		}
		pfree(key);
	}
}

/*
 * Directory queries run with read_only = false, so that in READ COMMITTED
 * each takes a fresh snapshot: after waiting for a concurrent load's lock,
 * a load must see what that load committed.
 *
 * The keys go in chunks of DIR_CHUNK: one query over a million-element
 * array would build its hash table without a chance to notice a cancel.
 */
#define DIR_CHUNK 10000	/* the default (target_lookup_chunk()) */

static void
dir_resolve_chunk(Directory *d, const char *sql, Datum *elems, int n)
{
	ArrayType  *arr;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			ret;

	arr = construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
	values[0] = PointerGetDatum(arr);
	ret = SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credimport: directory query failed: %s", SPI_result_code_string(ret));
	dir_fill_from_result(d, false);
	SPI_freetuptable(SPI_tuptable);
	for (int j = 0; j < n; j++)
		pfree(DatumGetPointer(elems[j]));
	pfree(arr);
}

void
dir_resolve(Directory *d, const char *sql, int chunk)
{
	uint32		n = dir_count(d);
	Datum	   *elems;
	strdir_iterator it;
	DirSlot    *e;
	int			i = 0;

	if (n == 0)
		return;
	if (chunk <= 0)
		chunk = DIR_CHUNK;
	elems = palloc(sizeof(Datum) * Min(n, (uint32) chunk));
	strdir_start_iterate(d->tab, &it);
	while ((e = strdir_iterate(d->tab, &it)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		elems[i++] = CStringGetTextDatum(e->key);
		if (i == chunk)
		{
			dir_resolve_chunk(d, sql, elems, i);
			i = 0;
		}
	}
	if (i > 0)
		dir_resolve_chunk(d, sql, elems, i);
	pfree(elems);
}

void
dir_load_all(Directory *d, const char *sql)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credimport: directory query failed: %s", SPI_result_code_string(ret));
	dir_fill_from_result(d, true);
	SPI_freetuptable(SPI_tuptable);
}

/* ---------------- duplicate keys ---------------- */

typedef struct DupEntry
{
	uint32		idx;
	uint32		hash;
	char		status;
} DupEntry;

struct DupSet
{
	struct dupset_hash *tab;
	dup_hash_fn hash;
	dup_equal_fn equal;
	void	   *arg;
};

#define SH_PREFIX dupset
#define SH_ELEMENT_TYPE DupEntry
#define SH_KEY_TYPE uint32
#define SH_KEY idx
#define SH_HASH_KEY(tb, k) (((DupSet *) (tb)->private_data)->hash(((DupSet *) (tb)->private_data)->arg, (k)))
#define SH_EQUAL(tb, a, b) ((a) == (b) || ((DupSet *) (tb)->private_data)->equal(((DupSet *) (tb)->private_data)->arg, (a), (b)))
#define SH_SCOPE static inline
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_DEFINE
#define SH_DECLARE
#include "lib/simplehash.h"

DupSet *
dupkeys_create(MemoryContext cxt, uint32 size, dup_hash_fn hash, dup_equal_fn equal, void *arg)
{
	DupSet	   *s = MemoryContextAlloc(cxt, sizeof(DupSet));

	s->hash = hash;
	s->equal = equal;
	s->arg = arg;
	s->tab = dupset_create(cxt, Max(size, 64), s);
	return s;
}

uint32
dupkeys_check_add(DupSet *s, uint32 idx)
{
	bool		found;
	DupEntry   *e = dupset_insert(s->tab, idx, &found);

	return e->idx;
}
