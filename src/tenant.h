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

/*
 * After waiting for the tenant's lock: the tenant again, from the latest
 * mapping; a serialization failure when it is no longer `before` (tenants
 * were created or dropped while the load waited).
 */
extern const char *tenant_recheck(const char *before);

/* the current user's tenant when it has exactly one (no error), else NULL */
extern const char *tenant_sole(void);

/* may the user act on rows of this tenant?  (always, when tenancy is off) */
extern bool tenant_admits(Oid roleid, const char *tenant);

/*
 * Lock out the other writers of a tenant (NULL: of the database while
 * tenancy is off) for the rest of the transaction.  The lock is an object
 * lock of a class no catalog has, which no SQL command can take: no role
 * can hold a tenant's lock to make its loads wait.  Returns false when
 * dontwait and another transaction holds it.
 */
extern bool tenant_lock(const char *tenant, bool dontwait);

/*
 * Is tenancy on while row-level security is off on one of the shipped
 * tables it protects?  An error naming the table (a load refuses to run).
 */
extern void tenant_check_shipped_rls(void);

#endif							/* CREDIMPORT_TENANT_H */
