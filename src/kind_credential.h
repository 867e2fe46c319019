/*
 * kind_credential.h
 *		The credentials kind: learners' licenses and certifications.
 */
#ifndef CREDIMPORT_KIND_CREDENTIAL_H
#define CREDIMPORT_KIND_CREDENTIAL_H

#include "credimport.h"
#include "fmgr.h"

typedef struct CredentialOptions
{
	const char *match_mode;		/* email, remote_id, user_id */
	bool		approve;
	bool		validate_only;
	int			max_errors;
} CredentialOptions;

extern void credential_import(FunctionCallInfo fcinfo, Source *src, const CredentialOptions *opt);

/* the header line of a credentials file */
extern char *credential_template(const char *match_mode);

#endif
