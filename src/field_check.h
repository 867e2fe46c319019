/*
 * field_check.h
 *		Strict field parsers and validators for credimport.
 *
 * No backend dependencies: each check takes a string and returns a result
 * code plus a typed value, so that it can be unit-tested and fuzzed outside
 * the server.  PostgreSQL 15 has no soft-error input functions; these are
 * the soft versions of the checks we need, tested against the server's own
 * parsers in the regression suite (sql/field_checks.sql).
 */
#ifndef CREDIMPORT_FIELD_CHECK_H
#define CREDIMPORT_FIELD_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum fc_result
{
	FC_OK = 0,
	FC_EMPTY,					/* nothing left after trimming */
	FC_INVALID,					/* not of the expected form */
	FC_NON_POSITIVE,			/* number <= 0 */
	FC_TOO_MANY_DECIMALS,		/* more than the allowed decimals */
	FC_OUT_OF_RANGE,			/* well-formed but too large */
	FC_FALSE					/* a boolean that says no */
} fc_result;

/* Date formats accepted besides ISO YYYY-MM-DD (credimport.date_format). */
typedef enum fc_date_format
{
	FC_DATE_ISO = 0,			/* YYYY-MM-DD only */
	FC_DATE_MDY_SLASH,			/* MM/DD/YYYY */
	FC_DATE_DMY_SLASH,			/* DD/MM/YYYY */
	FC_DATE_DMY_DOT				/* DD.MM.YYYY */
} fc_date_format;

/*
 * Trim blanks in place; returns s + offset.  Blanks are the ASCII ones
 * (space, tab, CR, LF, VT, FF) and the Unicode spaces spreadsheets leave
 * in UTF-8 text: NBSP U+00A0, narrow NBSP U+202F, the other Zs spaces,
 * zero-width space U+200B, word joiner U+2060 and U+FEFF.
 */
extern char *fc_trim(char *s, size_t *len);

/* Length in bytes of the blank (as fc_trim) at the start of s[0..len), or 0. */
extern size_t fc_space_len(const char *s, size_t len);

/*
 * Normalise a header name into out (capacity outcap): trimmed, ASCII
 * lower-case, runs of blanks (ASCII or Unicode, as fc_trim), hyphens and
 * underscores become one underscore, leading/trailing underscores dropped;
 * trailing punctuation (: * . ? !) is dropped ("Email:" is email).
 */
extern void fc_normalize_header(const char *in, size_t inlen, char *out, size_t outcap);

/*
 * Strict calendar date: ISO YYYY-MM-DD always, and its slash variant
 * YYYY/MM/DD (month and day of one or two digits), plus the given alternative
 * format.  Year 1..9999 in four digits, real month and day (leap years
 * honoured).  ISO takes exactly two digits for month and day; the locale
 * formats (MM/DD/YYYY, DD/MM/YYYY, DD.MM.YYYY) take one or two, as
 * spreadsheets export them (3/14/2024).
 */
extern fc_result fc_parse_date(const char *s, size_t len, fc_date_format fmt,
							   int *year, int *month, int *day);

/* Days since 2000-01-01 (PostgreSQL's DateADT) of a valid Gregorian date. */
extern int32_t fc_date_to_pg(int year, int month, int day);

/*
 * Credits: a plain decimal (optional leading '+' or '-', digits, optional
 * '.' and digits; no exponent, no thousands separator).  Trailing zeros of
 * the fraction are not decimals.  On FC_OK, *hundredths holds the value
 * times 100.  max_integer_digits bounds the integer part (6 for
 * numeric(8,2)): beyond it the result is FC_OUT_OF_RANGE.
 */
extern fc_result fc_parse_credits(const char *s, size_t len, int max_integer_digits,
								  int64_t *hundredths);

/*
 * The same with the decimal separator sep ('.' or ','): with ',' "1,5" is
 * 1.5 and a '.' anywhere is FC_INVALID (a thousands separator, "1.234,5",
 * is never guessed at).
 */
extern fc_result fc_parse_credits_sep(const char *s, size_t len, int max_integer_digits,
									  char sep, int64_t *hundredths);

/* A positive whole number that fits in int64 (user ids). */
extern fc_result fc_parse_id(const char *s, size_t len, int64_t *value);

/* 1/0, true/false, yes/no, y/n, t/f in any case: FC_OK (true), FC_FALSE, FC_INVALID. */
extern fc_result fc_parse_bool(const char *s, size_t len);

/* A plausible e-mail address (one '@', a dotted domain, no blanks or controls). */
extern fc_result fc_check_email(const char *s, size_t len);

/* ASCII lower-case copy into out (capacity len + 1). */
extern void fc_ascii_lower(const char *s, size_t len, char *out);

#endif							/* CREDIMPORT_FIELD_CHECK_H */
