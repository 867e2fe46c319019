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
	bool		active;
	int64		id;				/* database id, when found */
	int64		aux;			/* kind-specific (e.g. pending learner index + 1) */
} DirEntry;

typedef struct Directory Directory;

extern Directory *dir_create(MemoryContext cxt, uint32 size);
extern DirEntry *dir_insert(Directory *d, const char *key, bool *existed);
extern DirEntry *dir_lookup(Directory *d, const char *key);
extern uint32 dir_count(Directory *d);

/*
 * Resolve every key of the directory with one query.  sql must take one
 * text[] parameter and return (key text, id bigint, active boolean).
 */
extern void dir_resolve(Directory *d, const char *sql);

/* Load a whole small table: sql returns (key text, id bigint, active boolean). */
extern void dir_load_all(Directory *d, const char *sql);

/* Duplicate detection on a natural key; returns the first line or 0. */
typedef struct DupSet DupSet;

extern DupSet *dupkeys_create(MemoryContext cxt, uint32 size);
/* Returns the line of an earlier record with the same key, or 0 after adding it. */
extern int64 dupkeys_check_add(DupSet *s, int64 learner, int32 type, int32 date,
							  const char *course, int64 line_no);

#endif							/* CREDIMPORT_MATCH_H */
