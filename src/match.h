/*
 * match.h
 *		Learner and code directories, and the in-file duplicate key set.
 *
 * Directories are hash tables filled by one query per load (never one per
 * record): keys are collected while records are checked, then resolved in
 * a single round trip with "= ANY($1)".
 */
#ifndef CREDIMPORT_MATCH_H
#define CREDIMPORT_MATCH_H

#include "credimport.h"

/* One key of a directory; its address is stable for the life of the load. */
typedef struct DirEntry
{
	char	   *key;
	bool		found;			/* resolved in the database */
	int			nfound;			/* rows with this key (> 1: ambiguous, id is one of them) */
	bool		active;
	int64		id;				/* database id, when found */
	int64		aux;			/* kind-specific (e.g. pending learner index + 1) */
	char	   *extra;			/* a fourth column of the lookup query, as text, if any */
} DirEntry;

typedef struct Directory Directory;

extern Directory *dir_create(MemoryContext cxt, uint32 size);
extern DirEntry *dir_insert(Directory *d, const char *key, bool *existed);
extern DirEntry *dir_lookup(Directory *d, const char *key);
extern uint32 dir_count(Directory *d);

/*
 * Resolve every key of the directory with one query.  sql must take one
 * text[] parameter and return (key text, id bigint, active boolean
 * [, extra text]).  A key the query returns more than once (two learners
 * with one e-mail) has nfound > 1: the caller reports it as ambiguous.
 */
/* keys go to the query $1 in chunks of `chunk` (0: the default, 10,000) */
extern void dir_resolve(Directory *d, const char *sql, int chunk);

/* Load a whole small table: sql returns (key text, id bigint, active boolean). */
extern void dir_load_all(Directory *d, const char *sql);

/*
 * Duplicate detection on a natural key.  The set holds only record indexes
 * (12 bytes a slot); the caller hashes and compares the records' keys.
 */
typedef struct DupSet DupSet;
typedef uint32 (*dup_hash_fn) (void *arg, uint32 idx);
typedef bool (*dup_equal_fn) (void *arg, uint32 a, uint32 b);

extern DupSet *dupkeys_create(MemoryContext cxt, uint32 size, dup_hash_fn hash,
							  dup_equal_fn equal, void *arg);
/* Index of an earlier record with the same key as idx; or idx itself, after adding it. */
extern uint32 dupkeys_check_add(DupSet *s, uint32 idx);

#endif							/* CREDIMPORT_MATCH_H */
