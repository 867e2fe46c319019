/*
 * kind_credit.h
 *		The credit kind: external credits for learners' transcripts.
 */
#ifndef CREDIMPORT_KIND_CREDIT_H
#define CREDIMPORT_KIND_CREDIT_H

#include "credimport.h"

typedef struct ImportOptions
{
	const char *match_mode;		/* email, remote_id, user_id, full */
	bool		allow_edit;
	bool		validate_only;
	int			max_errors;
} ImportOptions;

/*
 * Run a credit import from src and put one result row per record into the
 * materialized SRF result of fcinfo.
 */
extern void credit_import(FunctionCallInfo fcinfo, Source *src, const ImportOptions *opt);

#endif
