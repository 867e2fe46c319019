/*
 * kind_credit.h
 *		The credit kind: external credits for learners' transcripts.
 */
#ifndef CREDIMPORT_KIND_CREDIT_H
#define CREDIMPORT_KIND_CREDIT_H

#include "credimport.h"

typedef enum ImportOutput
{
	OUTPUT_RECORDS,				/* one row per record (the loaders) */
	OUTPUT_PROBLEMS				/* one row per problem, nothing written (credimport_validate) */
} ImportOutput;

typedef struct ImportOptions
{
	const char *match_mode;		/* email, remote_id, user_id, full */
	bool		allow_edit;
	bool		validate_only;
	int			max_errors;
	bool		skip_existing;	/* if_exists => 'skip' */
	ImportOutput output;
} ImportOptions;

/*
 * Run a credit import from src and put its result rows into the
 * materialized SRF result of fcinfo.
 */
extern void credit_import(FunctionCallInfo fcinfo, Source *src, const ImportOptions *opt);

/* the header line a credit file for match_mode must have (full: profile fields too) */
extern char *credit_template(const char *match_mode);

/* id of the last batch this session recorded (0 if none) */
extern int64 credimport_last_batch;

#endif
