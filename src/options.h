/*
 * options.h
 *		Option vocabularies, declared once as data.
 *
 * Every word an option of credimport takes (match_mode, if_exists, format,
 * a kind's name, a credential's action, a user's role, ...) is an entry of
 * a vocabulary; option_lookup() finds a word, or raises the error whose
 * hint is built from the vocabulary ("Use one of email, remote_id, user_id
 * or full."), as contrib file_fdw's valid_options[] does for its options.
 * A caller that accepts only some words of a vocabulary passes the mask of
 * those it accepts: the hint then names only them.
 */
#ifndef CREDIMPORT_OPTIONS_H
#define CREDIMPORT_OPTIONS_H

#include "postgres.h"

typedef struct OptionWord
{
	const char *word;
	int			value;
	const char *explain;		/* "(a credit already on the transcript is a
								 * problem)": said after the word in hints */
	bool		hidden;			/* accepted, never suggested (a synonym) */
} OptionWord;

typedef struct OptionVocab
{
	const char *option;			/* "match_mode": named in the error */
	const OptionWord *words;	/* ends with {NULL} */
	bool		casefold;		/* compare without regard to case */
	bool		one_of;			/* hint "Use one of a, b or c." (else "Use a, b or c.") */
	const char *hint_tail;		/* after the list, e.g. ", or leave it out ..." */
} OptionVocab;

/* every word of a vocabulary */
#define OPT_ALL		(~0U)
/* the mask of one word (by its position in words[]) */
#define OPT_WORD(i)	(1U << (i))

/*
 * The value of word s in vocabulary v, among the words whose bit is in
 * accept; otherwise ERROR 22023 'unknown <option> "<s>"<context>' with the
 * accepted words in the hint.  context is NULL or e.g. " for credentials".
 */
extern int	option_lookup(const OptionVocab *v, const char *s, uint32 accept, const char *context);

/* the same without an error: true and *value when s is a word of v (in accept) */
extern bool option_find(const OptionVocab *v, const char *s, uint32 accept, int *value);

/* a word's text by its value (NULL when none) */
extern const char *option_word(const OptionVocab *v, int value);

/* "a, b or c" of the accepted, not hidden, words (with their explanations when explain) */
extern char *option_list(const OptionVocab *v, uint32 accept, bool explain);

/* ---- the vocabularies ---- */

/* match_mode: how a record names its learner */
typedef enum MatchMode
{
	MM_EMAIL,
	MM_REMOTE_ID,
	MM_USER_ID,
	MM_FULL
} MatchMode;
extern const OptionVocab match_mode_vocab;
#define MM_IDENTIFIERS	(OPT_WORD(MM_EMAIL) | OPT_WORD(MM_REMOTE_ID) | OPT_WORD(MM_USER_ID))

/* if_exists: what a credit already on the transcript is */
typedef enum IfExists
{
	IF_EXISTS_ERROR,
	IF_EXISTS_SKIP
} IfExists;
extern const OptionVocab if_exists_vocab;

/* format => (values: SourceFormat of credimport.h) */
extern const OptionVocab format_vocab;

/* credimport_check_value's checks */
typedef enum CheckName
{
	CHECK_DATE,
	CHECK_DATE_MDY,
	CHECK_DATE_DMY,
	CHECK_DATE_DMY_DOT,
	CHECK_CREDITS,
	CHECK_EMAIL,
	CHECK_BOOL
} CheckName;
extern const OptionVocab check_vocab;

/* a credentials record's action */
typedef enum CredAction
{
	ACT_ADD,
	ACT_UPDATE,
	ACT_DELETE
} CredAction;
extern const OptionVocab action_vocab;

/* a users record's role (ROLE_NONE: not given) */
typedef enum UserRole
{
	ROLE_NONE,
	ROLE_STUDENT,
	ROLE_INSTRUCTOR,
	ROLE_PARENT
} UserRole;
extern const OptionVocab role_vocab;

/*
 * A vocabulary's words as a record's value is checked: the value (lower
 * case) is looked up; a word that is not in it is a problem of the record,
 * not an error (see the kinds).
 */

#endif							/* CREDIMPORT_OPTIONS_H */
