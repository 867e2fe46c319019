/*
 * tenant.h
 *		Tenants: which organization's rows a role may see and write.
 *
 * A tenant is a name mapped to a role (credimport.tenant).  A role belongs
 * to the tenants whose role it is a member of -- what a session can SET
 * ROLE to, never a setting it can SET.  Tenancy is on as soon as the
 * mapping has a row; with none, every function here behaves as before
 * tenants existed (no tenant, one lock for the database).
 */
#ifndef CREDIMPORT_TENANT_H
#define CREDIMPORT_TENANT_H

#include "postgres.h"

/* is tenancy on in this database (the mapping has a row)? */
extern bool tenancy_on(void);

/*
 * The tenant of the current user: NULL when tenancy is off; an error
 * (insufficient_privilege) when the user belongs to no tenant or to
 * several (a superuser belongs to all).
 */
extern const char *tenant_current(void);

/* may the user act on rows of this tenant?  (always, when tenancy is off) */
extern bool tenant_admits(Oid roleid, const char *tenant);

/*
 * The advisory lock key of a tenant's writes: loads and reverts of one
 * tenant serialise, those of different tenants do not.  NULL (tenancy off)
 * gives the one key of the whole database.
 */
extern int64 tenant_lock_key(const char *tenant);

#endif							/* CREDIMPORT_TENANT_H */
