/*
 * test_field_check.c
 *		Unit tests of the strict field parsers (src/field_check.c).
 *
 * Every input is passed as (pointer, length) from a heap copy of exactly
 * that length with no terminating NUL, so that ASan catches any read past
 * the given length.
 */
#include "field_check.h"
#include "unit.h"

#include <stdlib.h>

/* A heap copy of s[0..len) with nothing after it. */
static char *
exact(const char *s, size_t len)
{
	char	   *p = malloc(len ? len : 1);

	if (p == NULL)
		abort();
	memcpy(p, s, len);
	return p;
}

/* ---------------- fc_trim ---------------- */

static void
check_trim(const char *in, size_t inlen, size_t want_off, size_t want_len)
{
	char	   *p = exact(in, inlen);
	size_t		len = inlen;
	char	   *r = fc_trim(p, &len);

	if (want_len > 0)			/* the offset of an empty result is unspecified */
		CHECK_EQ_INT(r - p, want_off);
	CHECK_EQ_INT(len, want_len);
	free(p);
}

static void
test_trim(void)
{
	check_trim("abc", 3, 0, 3);
	check_trim("  abc \t\r\n", 9, 2, 3);
	check_trim("\v\fa b\v\f", 7, 2, 3);	/* inner blank kept */
	check_trim("   ", 3, 0, 0);
	check_trim(" \t\r\n\v\f", 6, 0, 0);
	check_trim("", 0, 0, 0);
	/* Unicode spaces of spreadsheet exports are blanks too (issue 15) */
	check_trim("\xC2\xA0x\xC2\xA0", 5, 2, 1);	/* NBSP */
	check_trim("1.5\xC2\xA0", 5, 0, 3);
	check_trim("\xE2\x80\xAF" "1.5" "\xE2\x80\xAF", 9, 3, 3);	/* narrow NBSP */
	check_trim("\xE2\x80\x8Bx\xE2\x80\x8B", 7, 3, 1);	/* zero-width space */
	check_trim("\xEF\xBB\xBFx\xEF\xBB\xBF", 7, 3, 1);	/* U+FEFF */
	check_trim("\xE2\x80\x82x\xE3\x80\x80", 7, 3, 1);	/* en space, ideographic space */
	check_trim(" \xC2\xA0\t\xE2\x80\x8B ", 8, 0, 0);	/* only blanks */
	check_trim("a\xC2\xA0" "b", 4, 0, 4);	/* inner NBSP kept */
	check_trim("\xC3\xA0", 2, 0, 2);	/* a-grave ends in A0: not a space */
	check_trim("x\xA0", 2, 0, 2);	/* a lone A0 byte is not NBSP */
	check_trim("\xC2", 1, 0, 1);	/* a cut sequence is not a space */
	check_trim("\xE2\x80", 2, 0, 2);
	check_trim("a\0 ", 3, 0, 2);	/* NUL is not blank */

	/* the length is honoured: blanks beyond it are not looked at */
	{
		char		buf[] = "ab  ";
		size_t		len = 2;
		char	   *r = fc_trim(buf, &len);

		CHECK(r == buf);
		CHECK_EQ_INT(len, 2);
	}
}

/* ---------------- fc_normalize_header ---------------- */

static void
check_norm(const char *in, const char *want)
{
	size_t		len = strlen(in);
	char	   *p = exact(in, len);
	char		out[256];

	memset(out, 'X', sizeof(out));
	fc_normalize_header(p, len, out, len + 1);
	CHECK_EQ_STR(out, want);
	free(p);
}

static void
test_normalize_header(void)
{
	char		out[16];

	check_norm("Completion Date", "completion_date");
	check_norm(" Number-Credits ", "number_credits");
	check_norm("user_id", "user_id");
	check_norm("USER ID", "user_id");
	check_norm("UsEr-Id", "user_id");
	check_norm("a  -_ -b", "a_b");
	check_norm("__x__", "x");
	check_norm("\t\r\nkind\v\f", "kind");
	check_norm("a\tb", "a_b");
	check_norm("", "");
	check_norm("  - _ ", "");
	check_norm("Course2Go", "course2go");
	check_norm("e.mail", "e.mail");	/* only blanks, '-' and '_' separate */
	check_norm("\xC3\x89mail", "\xC3\x89mail");	/* non-ASCII bytes are kept as is */
	/* Unicode spaces separate, trailing punctuation is dropped (issue 15) */
	check_norm("Course\xC2\xA0Title", "course_title");
	check_norm("\xC2\xA0" "Course\xE2\x80\xAF" "Title\xE2\x80\x8B", "course_title");
	check_norm("\xEF\xBB\xBF" "Email", "email");
	check_norm("Email:", "email");
	check_norm("E-mail Address :", "e_mail_address");
	check_norm("Credits*", "credits");
	check_norm("Credits Earned?!", "credits_earned");
	check_norm("No.", "no");
	check_norm(":", "");
	check_norm(":email", ":email");	/* only trailing punctuation goes */
	check_norm("a:b", "a:b");
	check_norm("Voil\xC3\xA0", "voil\xC3\xA0");	/* a-grave is not NBSP */

	/* truncation: always NUL-terminated within outcap */
	memset(out, 'X', sizeof(out));
	fc_normalize_header("abcdef", 6, out, 4);
	CHECK_EQ_STR(out, "abc");
	memset(out, 'X', sizeof(out));
	fc_normalize_header("abcdef", 6, out, 1);
	CHECK_EQ_STR(out, "");
	memset(out, 'X', sizeof(out));
	fc_normalize_header("abcdef", 6, out, 0);
	CHECK(out[0] == 'X');		/* capacity 0: nothing written */

	/* a separator cut off by truncation does not leave a trailing '_' */
	memset(out, 'X', sizeof(out));
	fc_normalize_header("ab cd", 5, out, 4);
	CHECK_EQ_STR(out, "ab");
	memset(out, 'X', sizeof(out));
	fc_normalize_header("ab cd", 5, out, 5);
	CHECK_EQ_STR(out, "ab_c");

	/* inlen is honoured */
	memset(out, 'X', sizeof(out));
	fc_normalize_header("Ab Cd", 2, out, sizeof(out));
	CHECK_EQ_STR(out, "ab");
}

/* ---------------- fc_ascii_lower ---------------- */

static void
test_ascii_lower(void)
{
	char		out[16];

	memset(out, 'X', sizeof(out));
	fc_ascii_lower("AbC-Z@\xC3\x89", 8, out);
	CHECK(memcmp(out, "abc-z@\xC3\x89", 9) == 0);
	fc_ascii_lower("", 0, out);
	CHECK_EQ_STR(out, "");
}

/* ---------------- dates ---------------- */

static fc_result
parse_date(const char *s, fc_date_format fmt, int *y, int *m, int *d)
{
	size_t		len = strlen(s);
	char	   *p = exact(s, len);
	fc_result	r;

	*y = *m = *d = -1;
	r = fc_parse_date(p, len, fmt, y, m, d);
	free(p);
	return r;
}

static void
check_date_ok(const char *s, fc_date_format fmt, int wy, int wm, int wd)
{
	int			y,
				m,
				d;

	CHECK_EQ_INT(parse_date(s, fmt, &y, &m, &d), FC_OK);
	CHECK_EQ_INT(y, wy);
	CHECK_EQ_INT(m, wm);
	CHECK_EQ_INT(d, wd);
}

static void
check_date_bad(const char *s, fc_date_format fmt, fc_result want)
{
	int			y,
				m,
				d;

	CHECK_EQ_INT(parse_date(s, fmt, &y, &m, &d), want);
}

static bool
naive_leap(int y)
{
	if (y % 400 == 0)
		return true;
	if (y % 100 == 0)
		return false;
	return y % 4 == 0;
}

static int
naive_mdays(int y, int m)
{
	switch (m)
	{
		case 2:
			return naive_leap(y) ? 29 : 28;
		case 4:
		case 6:
		case 9:
		case 11:
			return 30;
		default:
			return 31;
	}
}

static void
test_parse_date(void)
{
	static const fc_date_format all[] = {FC_DATE_ISO, FC_DATE_MDY_SLASH, FC_DATE_DMY_SLASH, FC_DATE_DMY_DOT};

	/* ISO, accepted whatever the alternative format */
	for (int i = 0; i < 4; i++)
	{
		check_date_ok("2021-03-15", all[i], 2021, 3, 15);
		check_date_ok("2020-02-29", all[i], 2020, 2, 29);
		check_date_ok("2000-02-29", all[i], 2000, 2, 29);
		check_date_ok("0001-01-01", all[i], 1, 1, 1);
		check_date_ok("9999-12-31", all[i], 9999, 12, 31);
		check_date_bad("2021-02-29", all[i], FC_INVALID);
		check_date_bad("1900-02-29", all[i], FC_INVALID);
		check_date_bad("0000-01-01", all[i], FC_INVALID);
		check_date_bad("2021-04-31", all[i], FC_INVALID);
		check_date_bad("2021-13-01", all[i], FC_INVALID);
		check_date_bad("2021-00-10", all[i], FC_INVALID);
		check_date_bad("2021-01-00", all[i], FC_INVALID);
		check_date_bad("2021-01-32", all[i], FC_INVALID);
		check_date_bad("20210315", all[i], FC_INVALID);
		check_date_bad("2021-3-5", all[i], FC_INVALID);
		check_date_bad("2021-03-5", all[i], FC_INVALID);
		check_date_bad("2021-3-05", all[i], FC_INVALID);
		check_date_bad("2021-03-15 ", all[i], FC_INVALID);
		check_date_bad(" 2021-03-1", all[i], FC_INVALID);
		check_date_bad("2021-03-15T00:00", all[i], FC_INVALID);
		check_date_bad("+021-03-15", all[i], FC_INVALID);
		check_date_bad("2021-0a-15", all[i], FC_INVALID);
		check_date_bad("2021-+3-15", all[i], FC_INVALID);
		/* the ISO order with slashes, every setting (Gnumeric's export) */
		check_date_ok("2021/03/15", all[i], 2021, 3, 15);
		check_date_ok("2024/3/4", all[i], 2024, 3, 4);
		check_date_ok("2024/02/29", all[i], 2024, 2, 29);
		check_date_bad("2023/02/29", all[i], FC_INVALID);
		check_date_bad("2021/13/01", all[i], FC_INVALID);
		check_date_bad("2021/03/", all[i], FC_INVALID);
		check_date_bad("2021/03/150", all[i], FC_INVALID);
		check_date_bad("2021/003/15", all[i], FC_INVALID);
		check_date_bad("2021/03-15", all[i], FC_INVALID);
		check_date_bad("2021/03/1a", all[i], FC_INVALID);
		check_date_bad("10000-01-01", all[i], FC_INVALID);
		check_date_bad("", all[i], FC_EMPTY);
	}

	/* MM/DD/YYYY */
	check_date_bad("03/15/2021", FC_DATE_ISO, FC_INVALID);
	check_date_ok("03/15/2021", FC_DATE_MDY_SLASH, 2021, 3, 15);
	check_date_ok("02/29/2024", FC_DATE_MDY_SLASH, 2024, 2, 29);
	check_date_bad("02/29/2021", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("15/03/2021", FC_DATE_MDY_SLASH, FC_INVALID);
	/* one- or two-digit month and day, as US spreadsheet exports write them */
	check_date_ok("3/15/2021", FC_DATE_MDY_SLASH, 2021, 3, 15);
	check_date_ok("3/14/2024", FC_DATE_MDY_SLASH, 2024, 3, 14);
	check_date_ok("3/5/2024", FC_DATE_MDY_SLASH, 2024, 3, 5);
	check_date_ok("12/5/2024", FC_DATE_MDY_SLASH, 2024, 12, 5);
	check_date_ok("03/5/2024", FC_DATE_MDY_SLASH, 2024, 3, 5);
	check_date_bad("2/30/2024", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("13/1/2024", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("0/1/2024", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("003/15/2021", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3/015/2021", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("/15/2021", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3//2021", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3/15/", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3/15/202", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3/15/20211", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3/15", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3/15/2021 ", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad(" 3/15/2021", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("+3/15/2021", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3/15/+202", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3/15/0000", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("3/15/2021", FC_DATE_ISO, FC_INVALID);
	check_date_bad("03/15/21", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("12/31/0000", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("03.15.2021", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_bad("03/15-2021", FC_DATE_MDY_SLASH, FC_INVALID);

	/* DD/MM/YYYY */
	check_date_bad("15/03/2021", FC_DATE_ISO, FC_INVALID);
	check_date_ok("15/03/2021", FC_DATE_DMY_SLASH, 2021, 3, 15);
	check_date_ok("03/15/2021", FC_DATE_MDY_SLASH, 2021, 3, 15);
	check_date_bad("03/15/2021", FC_DATE_DMY_SLASH, FC_INVALID);
	check_date_ok("01/02/2021", FC_DATE_DMY_SLASH, 2021, 2, 1);
	check_date_ok("01/02/2021", FC_DATE_MDY_SLASH, 2021, 1, 2);
	check_date_bad("29/02/2023", FC_DATE_DMY_SLASH, FC_INVALID);
	check_date_bad("15.03.2021", FC_DATE_DMY_SLASH, FC_INVALID);
	check_date_ok("5/3/2021", FC_DATE_DMY_SLASH, 2021, 3, 5);
	check_date_ok("14/3/2024", FC_DATE_DMY_SLASH, 2024, 3, 14);
	check_date_bad("3/14/2024", FC_DATE_DMY_SLASH, FC_INVALID);
	check_date_bad("29/2/2023", FC_DATE_DMY_SLASH, FC_INVALID);

	/* DD.MM.YYYY */
	check_date_bad("15.03.2021", FC_DATE_ISO, FC_INVALID);
	check_date_bad("15.03.2021", FC_DATE_MDY_SLASH, FC_INVALID);
	check_date_ok("15.03.2021", FC_DATE_DMY_DOT, 2021, 3, 15);
	check_date_ok("31.12.9999", FC_DATE_DMY_DOT, 9999, 12, 31);
	check_date_bad("31.04.2021", FC_DATE_DMY_DOT, FC_INVALID);
	check_date_bad("15/03/2021", FC_DATE_DMY_DOT, FC_INVALID);
	check_date_ok("15.3.2021", FC_DATE_DMY_DOT, 2021, 3, 15);
	check_date_ok("5.3.2021", FC_DATE_DMY_DOT, 2021, 3, 5);
	check_date_bad("5.3.2021", FC_DATE_DMY_SLASH, FC_INVALID);
	check_date_bad("31.4.2021", FC_DATE_DMY_DOT, FC_INVALID);
	check_date_bad("5.3.21", FC_DATE_DMY_DOT, FC_INVALID);

	/*
	 * Exhaustive: every year 1..9999 and month/day 0..13/0..32 in ISO, and
	 * a sample of years in the other formats, against the naive calendar.
	 */
	{
		long		mismatches = 0;
		long		valid = 0;

		for (int y = 0; y <= 9999; y++)
			for (int m = 0; m <= 13; m++)
				for (int d = 0; d <= 32; d++)
				{
					char		s[48];
					int			py,
								pm,
								pd;
					bool		want = y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= naive_mdays(y, m);
					fc_result	r;

					snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
					r = fc_parse_date(s, 10, FC_DATE_ISO, &py, &pm, &pd);
					if (want)
					{
						valid++;
						if (r != FC_OK || py != y || pm != m || pd != d)
							mismatches++;
					}
					else if (r != FC_INVALID)
						mismatches++;

					if (y % 97 == 0 || y == 2000 || y == 1900 || y == 2024)
					{
						fc_result	r2;

						snprintf(s, sizeof(s), "%02d/%02d/%04d", m, d, y);
						r2 = fc_parse_date(s, 10, FC_DATE_MDY_SLASH, &py, &pm, &pd);
						if (want ? (r2 != FC_OK || py != y || pm != m || pd != d) : r2 != FC_INVALID)
							mismatches++;
						snprintf(s, sizeof(s), "%02d/%02d/%04d", d, m, y);
						r2 = fc_parse_date(s, 10, FC_DATE_DMY_SLASH, &py, &pm, &pd);
						if (want ? (r2 != FC_OK || py != y || pm != m || pd != d) : r2 != FC_INVALID)
							mismatches++;
						snprintf(s, sizeof(s), "%02d.%02d.%04d", d, m, y);
						r2 = fc_parse_date(s, 10, FC_DATE_DMY_DOT, &py, &pm, &pd);
						if (want ? (r2 != FC_OK || py != y || pm != m || pd != d) : r2 != FC_INVALID)
							mismatches++;
					}
				}
		CHECK_EQ_INT(mismatches, 0);
		CHECK_EQ_INT(valid, 3652059);	/* days in 0001-01-01 .. 9999-12-31 */
	}
}

static void
test_date_to_pg(void)
{
	CHECK_EQ_INT(fc_date_to_pg(2000, 1, 1), 0);
	CHECK_EQ_INT(fc_date_to_pg(1999, 12, 31), -1);
	CHECK_EQ_INT(fc_date_to_pg(2000, 1, 2), 1);
	CHECK_EQ_INT(fc_date_to_pg(2000, 3, 1), 60);
	CHECK_EQ_INT(fc_date_to_pg(2024, 3, 1), 8826);
	CHECK_EQ_INT(fc_date_to_pg(1970, 1, 1), -10957);
	CHECK_EQ_INT(fc_date_to_pg(1, 1, 1), -730119);
	CHECK_EQ_INT(fc_date_to_pg(9999, 12, 31), 2921939);

	/* every valid date against a day-counting loop */
	{
		long		counter = -730119;	/* 0001-01-01 */
		long		mismatches = 0;
		bool		saw_epoch = false;

		for (int y = 1; y <= 9999; y++)
			for (int m = 1; m <= 12; m++)
				for (int d = 1; d <= naive_mdays(y, m); d++)
				{
					if (y == 2000 && m == 1 && d == 1)
						saw_epoch = (counter == 0);
					if (fc_date_to_pg(y, m, d) != counter)
					{
						if (mismatches++ < 5)
							fprintf(stderr, "fc_date_to_pg(%d,%d,%d) = %d, want %ld\n",
									y, m, d, (int) fc_date_to_pg(y, m, d), counter);
					}
					counter++;
				}
		CHECK_EQ_INT(mismatches, 0);
		CHECK(saw_epoch);
		CHECK_EQ_INT(counter, 2921940);
	}
}

/* ---------------- credits ---------------- */

static fc_result
credits(const char *s, int maxd, int64_t *v)
{
	size_t		len = strlen(s);
	char	   *p = exact(s, len);
	fc_result	r;

	*v = -12345;
	r = fc_parse_credits(p, len, maxd, v);
	free(p);
	return r;
}

static void
check_credits_ok(const char *s, int maxd, int64_t want)
{
	int64_t		v;

	CHECK_EQ_INT(credits(s, maxd, &v), FC_OK);
	CHECK_EQ_INT(v, want);
}

static void
check_credits_bad(const char *s, int maxd, fc_result want)
{
	int64_t		v;

	CHECK_EQ_INT(credits(s, maxd, &v), want);
	CHECK_EQ_INT(v, -12345);	/* not written unless FC_OK */
}

static fc_result
credits_sep(const char *s, char sep, int64_t *v)
{
	size_t		len = strlen(s);
	char	   *p = exact(s, len);
	fc_result	r;

	*v = -12345;
	r = fc_parse_credits_sep(p, len, 6, sep, v);
	free(p);
	return r;
}

static void
test_parse_credits_comma(void)
{
	int64_t		v;

	CHECK_EQ_INT(credits_sep("1,5", ',', &v), FC_OK);
	CHECK_EQ_INT(v, 150);
	CHECK_EQ_INT(credits_sep("0,25", ',', &v), FC_OK);
	CHECK_EQ_INT(v, 25);
	CHECK_EQ_INT(credits_sep("12", ',', &v), FC_OK);
	CHECK_EQ_INT(v, 1200);
	CHECK_EQ_INT(credits_sep(",5", ',', &v), FC_OK);
	CHECK_EQ_INT(v, 50);
	CHECK_EQ_INT(credits_sep("1,255", ',', &v), FC_TOO_MANY_DECIMALS);
	CHECK_EQ_INT(credits_sep("0,0", ',', &v), FC_NON_POSITIVE);
	/* thousands separators are never guessed */
	CHECK_EQ_INT(credits_sep("1.234,5", ',', &v), FC_INVALID);
	CHECK_EQ_INT(v, -12345);
	CHECK_EQ_INT(credits_sep("1.5", ',', &v), FC_INVALID);
	CHECK_EQ_INT(credits_sep("1 234,5", ',', &v), FC_INVALID);
	CHECK_EQ_INT(credits_sep("1,2,3", ',', &v), FC_INVALID);
	/* with '.', a comma is not a number */
	CHECK_EQ_INT(credits_sep("1,5", '.', &v), FC_INVALID);
	CHECK_EQ_INT(credits_sep("1,234.5", '.', &v), FC_INVALID);
	CHECK_EQ_INT(credits_sep("1.5", '.', &v), FC_OK);
	CHECK_EQ_INT(v, 150);
}

static void
test_parse_credits(void)
{
	check_credits_ok("1.5", 6, 150);
	check_credits_ok("0.25", 6, 25);
	check_credits_ok("10", 6, 1000);
	check_credits_ok("1.250", 6, 125);
	check_credits_ok("1.2500000000000000000000", 6, 125);
	check_credits_ok("1.05", 6, 105);
	check_credits_ok("+2.5", 6, 250);
	check_credits_ok(".5", 6, 50);
	check_credits_ok("5.", 6, 500);
	check_credits_ok("0.01", 6, 1);
	check_credits_ok("999999.99", 6, 99999999);
	check_credits_ok("000001.5", 6, 150);
	check_credits_ok("0000000000000000000000001", 6, 100);
	check_credits_ok("0.5", 0, 50);	/* leading zeros are not integer digits */
	check_credits_ok("123", 3, 12300);

	check_credits_bad("1.255", 6, FC_TOO_MANY_DECIMALS);
	check_credits_bad("1.2550", 6, FC_TOO_MANY_DECIMALS);
	check_credits_bad("1.2501", 6, FC_TOO_MANY_DECIMALS);
	check_credits_bad("1.205", 6, FC_TOO_MANY_DECIMALS);
	check_credits_bad("0.001", 6, FC_TOO_MANY_DECIMALS);
	check_credits_bad("999999.995", 6, FC_TOO_MANY_DECIMALS);
	check_credits_bad("0", 6, FC_NON_POSITIVE);
	check_credits_bad("0.00", 6, FC_NON_POSITIVE);
	check_credits_bad("000", 6, FC_NON_POSITIVE);
	check_credits_bad("-1", 6, FC_NON_POSITIVE);
	check_credits_bad("-0", 6, FC_NON_POSITIVE);
	check_credits_bad("-0.5", 6, FC_NON_POSITIVE);
	check_credits_bad("-1.255", 6, FC_NON_POSITIVE);
	check_credits_bad("-9999999", 6, FC_NON_POSITIVE);
	check_credits_bad("1000000", 6, FC_OUT_OF_RANGE);
	check_credits_bad("1000000.5", 6, FC_OUT_OF_RANGE);
	check_credits_bad("1234", 3, FC_OUT_OF_RANGE);
	check_credits_bad("1", 0, FC_OUT_OF_RANGE);
	check_credits_bad("", 6, FC_EMPTY);
	check_credits_bad("abc", 6, FC_INVALID);
	check_credits_bad("1e2", 6, FC_INVALID);
	check_credits_bad("1E2", 6, FC_INVALID);
	check_credits_bad("1,5", 6, FC_INVALID);
	check_credits_bad("1 000", 6, FC_INVALID);
	check_credits_bad(".", 6, FC_INVALID);
	check_credits_bad("+", 6, FC_INVALID);
	check_credits_bad("-", 6, FC_INVALID);
	check_credits_bad("+.", 6, FC_INVALID);
	check_credits_bad("-abc", 6, FC_INVALID);
	check_credits_bad("--1", 6, FC_INVALID);
	check_credits_bad("+-1", 6, FC_INVALID);
	check_credits_bad("1..5", 6, FC_INVALID);
	check_credits_bad("1.5.0", 6, FC_INVALID);
	check_credits_bad("1.25x", 6, FC_INVALID);
	check_credits_bad("1.2551x", 6, FC_INVALID);
	check_credits_bad(" 1", 6, FC_INVALID);	/* the caller trims */
	check_credits_bad("1 ", 6, FC_INVALID);
	check_credits_bad("0x10", 6, FC_INVALID);
	check_credits_bad("NaN", 6, FC_INVALID);
	check_credits_bad("Infinity", 6, FC_INVALID);
	check_credits_bad("\xEF\xBC\x91", 6, FC_INVALID);	/* fullwidth digit one */
	{
		int64_t		v = -12345;
		char	   *p = exact("1\0", 2);

		CHECK_EQ_INT(fc_parse_credits(p, 2, 6, &v), FC_INVALID);
		free(p);
	}

	/* huge integer parts: out of range, never an overflowed value */
	check_credits_bad("12345678901234567890", 6, FC_OUT_OF_RANGE);
	check_credits_bad("12345678901234567890", 30, FC_OUT_OF_RANGE);
	check_credits_bad("123456789012345678901234567890.5", 40, FC_OUT_OF_RANGE);
	check_credits_bad("92233720368547758", 20, FC_OUT_OF_RANGE);	/* *100 > INT64_MAX */
	check_credits_ok("92233720368547757.99", 20, INT64_C(9223372036854775799));
	check_credits_ok("9999999999999999.99", 16, INT64_C(999999999999999999));
	check_credits_bad("10000000000000000", 16, FC_OUT_OF_RANGE);

	/* every hundredth from 0.01 to 20.00 in several spellings */
	{
		long		mismatches = 0;

		for (int64_t h = 1; h <= 2000; h++)
		{
			char		s[64];
			int64_t		v;

			snprintf(s, sizeof(s), "%" PRId64 ".%02d", h / 100, (int) (h % 100));
			if (fc_parse_credits(s, strlen(s), 6, &v) != FC_OK || v != h)
				mismatches++;
			snprintf(s, sizeof(s), "+000%" PRId64 ".%02d000", h / 100, (int) (h % 100));
			if (fc_parse_credits(s, strlen(s), 6, &v) != FC_OK || v != h)
				mismatches++;
			snprintf(s, sizeof(s), "%" PRId64 ".%02d1", h / 100, (int) (h % 100));
			if (fc_parse_credits(s, strlen(s), 6, &v) != FC_TOO_MANY_DECIMALS)
				mismatches++;
			snprintf(s, sizeof(s), "-%" PRId64 ".%02d", h / 100, (int) (h % 100));
			if (fc_parse_credits(s, strlen(s), 6, &v) != FC_NON_POSITIVE)
				mismatches++;
		}
		CHECK_EQ_INT(mismatches, 0);
	}
}

/* ---------------- ids ---------------- */

static void
check_id(const char *s, fc_result want, int64_t wantv)
{
	size_t		len = strlen(s);
	char	   *p = exact(s, len);
	int64_t		v = -7;
	fc_result	r = fc_parse_id(p, len, &v);

	CHECK_EQ_INT(r, want);
	CHECK_EQ_INT(v, want == FC_OK ? wantv : -7);
	free(p);
}

/* splitmix64: a fixed-seed generator, so every run tests the same values */
static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t
rng(void)
{
	uint64_t	z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static void
test_parse_id(void)
{
	check_id("1", FC_OK, 1);
	check_id("42", FC_OK, 42);
	check_id("+42", FC_OK, 42);
	check_id("0042", FC_OK, 42);
	check_id("9223372036854775807", FC_OK, INT64_MAX);
	check_id("0009223372036854775807", FC_OK, INT64_MAX);
	check_id("9223372036854775808", FC_OUT_OF_RANGE, 0);
	check_id("9999999999999999999", FC_OUT_OF_RANGE, 0);
	check_id("18446744073709551615", FC_OUT_OF_RANGE, 0);
	check_id("18446744073709551616", FC_OUT_OF_RANGE, 0);
	/* 1844674407370955162 * 10 wraps to 4 in uint64 */
	check_id("18446744073709551620", FC_OUT_OF_RANGE, 0);
	check_id("18446744073709551629", FC_OUT_OF_RANGE, 0);
	check_id("36893488147419103236", FC_OUT_OF_RANGE, 0);
	check_id("99999999999999999999999999999", FC_OUT_OF_RANGE, 0);
	check_id("0", FC_NON_POSITIVE, 0);
	check_id("+0", FC_NON_POSITIVE, 0);
	check_id("000", FC_NON_POSITIVE, 0);
	check_id("", FC_EMPTY, 0);
	check_id("+", FC_INVALID, 0);
	check_id("-5", FC_INVALID, 0);	/* a sign other than '+' is not a number here */
	check_id("-0", FC_INVALID, 0);
	check_id("++5", FC_INVALID, 0);
	check_id("12a", FC_INVALID, 0);
	check_id("1.0", FC_INVALID, 0);
	check_id("1e3", FC_INVALID, 0);
	check_id(" 1", FC_INVALID, 0);
	check_id("1 ", FC_INVALID, 0);
	check_id("1_000", FC_INVALID, 0);

	/* random 64-bit values and random 19..22-digit strings */
	{
		long		mismatches = 0;

		for (int i = 0; i < 200000; i++)
		{
			char		s[40];
			uint64_t	u = rng();
			int64_t		v = -7;
			fc_result	r;

			if (i % 3 == 0)
				u >>= (rng() % 64);
			snprintf(s, sizeof(s), "%" PRIu64, u);
			r = fc_parse_id(s, strlen(s), &v);
			if (u == 0 ? r != FC_NON_POSITIVE :
				u > (uint64_t) INT64_MAX ? r != FC_OUT_OF_RANGE :
				(r != FC_OK || v != (int64_t) u))
				mismatches++;

			/* u followed by up to 3 more digits: always beyond INT64_MAX when >= 20 digits */
			{
				size_t		l = strlen(s);
				int			extra = 1 + (int) (rng() % 3);

				for (int k = 0; k < extra; k++)
					s[l++] = (char) ('0' + rng() % 10);
				s[l] = '\0';
				r = fc_parse_id(s, l, &v);
				if (s[0] != '0' && l >= 20 && r != FC_OUT_OF_RANGE)
					mismatches++;
			}
		}
		CHECK_EQ_INT(mismatches, 0);
	}
}

/* ---------------- booleans ---------------- */

static fc_result
parse_bool(const char *s)
{
	size_t		len = strlen(s);
	char	   *p = exact(s, len);
	fc_result	r = fc_parse_bool(p, len);

	free(p);
	return r;
}

/* every upper/lower-case spelling of word */
static void
check_bool_all_cases(const char *word, fc_result want)
{
	size_t		len = strlen(word);
	long		bad = 0;

	for (unsigned mask = 0; mask < (1u << len); mask++)
	{
		char		s[16];

		for (size_t i = 0; i < len; i++)
			s[i] = (mask & (1u << i)) && word[i] >= 'a' && word[i] <= 'z' ? (char) (word[i] - 32) : word[i];
		s[len] = '\0';
		if (parse_bool(s) != want)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
}

static void
test_parse_bool(void)
{
	CHECK_EQ_INT(parse_bool("1"), FC_OK);
	CHECK_EQ_INT(parse_bool("0"), FC_FALSE);
	CHECK_EQ_INT(parse_bool("TRUE"), FC_OK);
	CHECK_EQ_INT(parse_bool("No"), FC_FALSE);
	check_bool_all_cases("true", FC_OK);
	check_bool_all_cases("yes", FC_OK);
	check_bool_all_cases("t", FC_OK);
	check_bool_all_cases("y", FC_OK);
	check_bool_all_cases("false", FC_FALSE);
	check_bool_all_cases("no", FC_FALSE);
	check_bool_all_cases("f", FC_FALSE);
	check_bool_all_cases("n", FC_FALSE);
	CHECK_EQ_INT(parse_bool(""), FC_EMPTY);
	CHECK_EQ_INT(parse_bool("maybe"), FC_INVALID);
	CHECK_EQ_INT(parse_bool("2"), FC_INVALID);
	CHECK_EQ_INT(parse_bool("-1"), FC_INVALID);
	CHECK_EQ_INT(parse_bool("01"), FC_INVALID);
	CHECK_EQ_INT(parse_bool("tru"), FC_INVALID);
	CHECK_EQ_INT(parse_bool("truee"), FC_INVALID);
	CHECK_EQ_INT(parse_bool("yes "), FC_INVALID);	/* the caller trims */
	CHECK_EQ_INT(parse_bool(" no"), FC_INVALID);
	CHECK_EQ_INT(parse_bool("on"), FC_INVALID);	/* not in the accepted list */
	CHECK_EQ_INT(parse_bool("off"), FC_INVALID);
	{
		char	   *p = exact("t\0", 2);

		CHECK_EQ_INT(fc_parse_bool(p, 2), FC_INVALID);
		CHECK_EQ_INT(fc_parse_bool(p, 1), FC_OK);
		free(p);
	}
}

/* ---------------- e-mail ---------------- */

static fc_result
email(const char *s)
{
	size_t		len = strlen(s);
	char	   *p = exact(s, len);
	fc_result	r = fc_check_email(p, len);

	free(p);
	return r;
}

static void
test_check_email(void)
{
	static const char *const good[] = {
		"a@b.co", "first.last@example.com", "user+tag@sub.example.org",
		"x@y.z", "o'brien@example.ie", "UPPER@EXAMPLE.COM", "1234@5.67",
		"a-b_c@d-e.fg", "\xC3\xBC@ex\xC3\xA4mple.de", "a@b.c.d.e.f",
	};
	static const char *const bad[] = {
		"plain", "@example.com", "a@", "a@b", "a@b.", "a@.b", "a@@b.com",
		"a@b@c.com", "a b@c.com", "a@b .com", "a@b..com", ".a@b.com",
		"a.@b.com", "a..b@c.com", "a@.b.com", "a@b.com.", "a,b@c.com",
		"a;b@c.com", "<a@b.com>", "a@b.com\n", "a\t@b.com", "a\"b@c.com",
		"a(b)@c.com", "a[b]@c.com", "a\\b@c.com", "a@b.com\x7f", "a@b\x01.com",
		".@b.com", "@", "@.", "a.b.c",
	};
	char		buf[300];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		fc_result	r = email(good[i]);

		if (r != FC_OK)
			fprintf(stderr, "good e-mail rejected: \"%s\"\n", good[i]);
		CHECK_EQ_INT(r, FC_OK);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		fc_result	r = email(bad[i]);

		if (r != FC_INVALID)
			fprintf(stderr, "bad e-mail accepted: \"%s\"\n", bad[i]);
		CHECK_EQ_INT(r, FC_INVALID);
	}
	CHECK_EQ_INT(email(""), FC_EMPTY);
	{
		char	   *p = exact("a\0@b.com", 8);

		CHECK_EQ_INT(fc_check_email(p, 8), FC_INVALID);
		free(p);
	}

	/* local part: 64 bytes allowed, 65 not */
	memset(buf, 'l', 64);
	strcpy(buf + 64, "@example.com");
	CHECK_EQ_INT(email(buf), FC_OK);
	memset(buf, 'l', 65);
	strcpy(buf + 65, "@example.com");
	CHECK_EQ_INT(email(buf), FC_INVALID);

	/* whole address: 254 bytes allowed, 255 not */
	strcpy(buf, "a@");
	memset(buf + 2, 'd', 248);
	strcpy(buf + 250, ".com");
	CHECK_EQ_INT(strlen(buf), 254);
	CHECK_EQ_INT(email(buf), FC_OK);
	strcpy(buf, "ab@");
	memset(buf + 3, 'd', 248);
	strcpy(buf + 251, ".com");
	CHECK_EQ_INT(strlen(buf), 255);
	CHECK_EQ_INT(email(buf), FC_INVALID);
}

int
main(void)
{
	test_trim();
	test_normalize_header();
	test_ascii_lower();
	test_parse_date();
	test_date_to_pg();
	test_parse_credits();
	test_parse_credits_comma();
	test_parse_id();
	test_parse_bool();
	test_check_email();
	return unit_report("test_field_check");
}
