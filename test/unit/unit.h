/*
 * unit.h
 *		A tiny assertion harness for the backend-free unit tests.
 *
 * CHECK(expr) counts a passed or failed assertion; a failure prints
 * file:line and the expression and the test carries on, so that one run
 * reports every failing assertion.  CHECK_EQ_* print both values.
 */
#ifndef CREDIMPORT_UNIT_H
#define CREDIMPORT_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static long unit_passed;
static long unit_failed;

#define CHECK(expr) \
	do { \
		if (expr) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #expr); \
		} \
	} while (0)

#define CHECK_EQ_INT(a, b) \
	do { \
		long long unit_a_ = (long long) (a), unit_b_ = (long long) (b); \
		if (unit_a_ == unit_b_) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			fprintf(stderr, "%s:%d: FAILED: %s == %s (%lld != %lld)\n", \
					__FILE__, __LINE__, #a, #b, unit_a_, unit_b_); \
		} \
	} while (0)

#define CHECK_EQ_STR(a, b) \
	do { \
		const char *unit_a_ = (a), *unit_b_ = (b); \
		if (unit_a_ != NULL && unit_b_ != NULL && strcmp(unit_a_, unit_b_) == 0) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			fprintf(stderr, "%s:%d: FAILED: %s == %s\n  got:      \"%.2000s\"\n  expected: \"%.2000s\"\n", \
					__FILE__, __LINE__, #a, #b, \
					unit_a_ ? unit_a_ : "(null)", unit_b_ ? unit_b_ : "(null)"); \
		} \
	} while (0)

/* Print the summary line and return the process exit status. */
static inline int
unit_report(const char *name)
{
	printf("%s: %ld assertions passed, %ld failed\n", name, unit_passed, unit_failed);
	return unit_failed == 0 ? 0 : 1;
}

#endif							/* CREDIMPORT_UNIT_H */
