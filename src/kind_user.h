/*
 * kind_user.h
 *		The users kind: add or update learners and their associations.
 */
#ifndef CREDIMPORT_KIND_USER_H
#define CREDIMPORT_KIND_USER_H

#include "credimport.h"
#include "fmgr.h"

typedef struct UserOptions
{
	bool		auto_invite;
	bool		validate_only;
	int			max_errors;
} UserOptions;

extern void user_import(FunctionCallInfo fcinfo, Source *src, const UserOptions *opt);

/* the header line of a users file: every column, custom profile fields included */
extern char *user_template(void);

#endif
