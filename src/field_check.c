/*
 * field_check.c
 *		Strict field parsers and validators (no backend dependencies).
 */
#include "field_check.h"

#include <string.h>

static inline bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline char
to_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c;
}

/*
 * Length of the Unicode space at the start of s[0..len) (UTF-8), or 0:
 * NBSP U+00A0, OGHAM SPACE MARK U+1680, U+2000..U+200A, the zero-width
 * space U+200B, NARROW NBSP U+202F, U+205F, WORD JOINER U+2060, the
 * ideographic space U+3000 and the zero-width no-break space (BOM) U+FEFF.
 */
static size_t
uspace_at(const unsigned char *s, size_t len)
{
	if (len >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
		return 2;
	if (len < 3)
		return 0;
	if (s[0] == 0xE2 && s[1] == 0x80 && ((s[2] >= 0x80 && s[2] <= 0x8B) || s[2] == 0xAF))
		return 3;
	if (s[0] == 0xE2 && s[1] == 0x81 && (s[2] == 0x9F || s[2] == 0xA0))
		return 3;
	if ((s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) ||
		(s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) ||
		(s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF))
		return 3;
	return 0;
}

/* length of the blank (ASCII or Unicode space) ending at s[len - 1], or 0 */
static size_t
space_before(const unsigned char *s, size_t len)
{
	if (len >= 1 && is_blank(s[len - 1]))
		return 1;
	if (len >= 2 && uspace_at(s + len - 2, 2) == 2)
		return 2;
	if (len >= 3 && uspace_at(s + len - 3, 3) == 3)
		return 3;
	return 0;
}

size_t
fc_space_len(const char *s, size_t len)
{
	if (len >= 1 && is_blank((unsigned char) s[0]))
		return 1;
	return uspace_at((const unsigned char *) s, len);
}

char *
fc_trim(char *s, size_t *len)
{
	size_t		n = *len;
	size_t		k;

	while ((k = space_before((const unsigned char *) s, n)) > 0)
		n -= k;
	while ((k = fc_space_len(s, n)) > 0)
	{
		s += k;
		n -= k;
	}
	*len = n;
	return s;
}

/* punctuation dropped at the end of a header ("Email:", "Credits*") */
static inline bool
is_trailing_punct(unsigned char c)
{
	return c == ':' || c == '*' || c == '.' || c == '?' || c == '!';
}

void
fc_normalize_header(const char *in, size_t inlen, char *out, size_t outcap)
{
	size_t		o = 0;
	bool		pending_sep = false;

	if (outcap == 0)
		return;
	/* trailing blanks and punctuation are not part of the name */
	for (;;)
	{
		size_t		k = space_before((const unsigned char *) in, inlen);

		if (k == 0 && inlen > 0 && is_trailing_punct((unsigned char) in[inlen - 1]))
			k = 1;
		if (k == 0)
			break;
		inlen -= k;
	}
	for (size_t i = 0; i < inlen; i++)
	{
		char		c = in[i];
		size_t		k = (c == '-' || c == '_') ? 1 : fc_space_len(in + i, inlen - i);

		if (k > 0)
		{
			i += k - 1;
			pending_sep = (o > 0);
			continue;
		}
		if (pending_sep)
		{
			if (o + 2 >= outcap)
				break;			/* no room for '_' and a character after it */
			out[o++] = '_';
			pending_sep = false;
		}
		if (o + 1 < outcap)
			out[o++] = to_lower(c);
	}
	out[o] = '\0';
}

static bool
digits(const char *s, int n, int *value)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!is_digit((unsigned char) s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*value = v;
	return true;
}

static int
days_in_month(int year, int month)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return mdays[month - 1];
}

/*
 * A run of one or two digits at s[*pos], followed by sep: its value in *v.
 * The locale formats (US and European spreadsheet exports) write 3/14/2024
 * as readily as 03/14/2024.
 */
static bool
short_part(const char *s, size_t len, size_t *pos, char sep, int *v)
{
	size_t		i = *pos;
	int			n = 0;

	while (i + n < len && n < 3 && is_digit((unsigned char) s[i + n]))
		n++;
	if (n < 1 || n > 2 || i + n >= len || s[i + n] != sep)
		return false;
	digits(s + i, n, v);
	*pos = i + n + 1;
	return true;
}

/* first/second/YYYY with a one- or two-digit first and second part */
static bool
locale_date(const char *s, size_t len, char sep, int *first, int *second, int *y)
{
	size_t		pos = 0;

	return short_part(s, len, &pos, sep, first) &&
		short_part(s, len, &pos, sep, second) &&
		len - pos == 4 && digits(s + pos, 4, y);
}

fc_result
fc_parse_date(const char *s, size_t len, fc_date_format fmt,
			  int *year, int *month, int *day)
{
	int			y,
				m,
				d;
	bool		ok = false;

	if (len == 0)
		return FC_EMPTY;
	if (len > 10)
		return FC_INVALID;

	/* ISO: exactly YYYY-MM-DD */
	if (len == 10 && s[4] == '-' && s[7] == '-')
		ok = digits(s, 4, &y) && digits(s + 5, 2, &m) && digits(s + 8, 2, &d);
	/* the ISO order with slashes (Gnumeric, Japanese locales): YYYY/M/D or YYYY/MM/DD */
	else if (len >= 8 && s[4] == '/' && digits(s, 4, &y))
	{
		size_t		pos = 5;

		ok = short_part(s, len, &pos, '/', &m) &&
			pos < len && len - pos <= 2 && digits(s + pos, (int) (len - pos), &d);
	}
	else if (fmt == FC_DATE_MDY_SLASH)
		ok = locale_date(s, len, '/', &m, &d, &y);
	else if (fmt == FC_DATE_DMY_SLASH)
		ok = locale_date(s, len, '/', &d, &m, &y);
	else if (fmt == FC_DATE_DMY_DOT)
		ok = locale_date(s, len, '.', &d, &m, &y);

	if (!ok || y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return FC_INVALID;
	*year = y;
	*month = m;
	*day = d;
	return FC_OK;
}

int32_t
fc_date_to_pg(int year, int month, int day)
{
	/* same arithmetic as PostgreSQL's date2j(); 2451545 is date2j(2000,1,1) */
	int			julian;
	int			century;

	if (month > 2)
	{
		month += 1;
		year += 4800;
	}
	else
	{
		month += 13;
		year += 4799;
	}
	century = year / 100;
	julian = year * 365 - 32167;
	julian += year / 4 - century + century / 4;
	julian += 7834 * month / 256 + day;
	return julian - 2451545;
}

fc_result
fc_parse_credits(const char *s, size_t len, int max_integer_digits, int64_t *hundredths)
{
	return fc_parse_credits_sep(s, len, max_integer_digits, '.', hundredths);
}

fc_result
fc_parse_credits_sep(const char *s, size_t len, int max_integer_digits, char sep,
					 int64_t *hundredths)
{
	size_t		i = 0;
	bool		negative = false;
	int64_t		whole = 0;
	int64_t		frac = 0;
	int			int_digits = 0;
	int			frac_digits = 0;
	int			sig_int_digits = 0;
	bool		any_digit = false;

	if (len == 0)
		return FC_EMPTY;
	if (s[0] == '+' || s[0] == '-')
	{
		negative = (s[0] == '-');
		i++;
	}
	for (; i < len && is_digit((unsigned char) s[i]); i++)
	{
		int_digits++;
		any_digit = true;
		if (sig_int_digits > 0 || s[i] != '0')
			sig_int_digits++;
		if (sig_int_digits <= 18)
			whole = whole * 10 + (s[i] - '0');
	}
	if (i < len && s[i] == sep)
	{
		i++;
		for (; i < len && is_digit((unsigned char) s[i]); i++)
		{
			any_digit = true;
			frac_digits++;
			if (s[i] != '0')
			{
				/* significant up to here: trailing zeros are not decimals */
				if (frac_digits > 2)
				{
					/* keep scanning to tell a malformed value from a precise one */
					size_t		j;

					for (j = i + 1; j < len && is_digit((unsigned char) s[j]); j++)
						;
					if (j != len)
						return FC_INVALID;
					return negative ? FC_NON_POSITIVE : FC_TOO_MANY_DECIMALS;
				}
			}
			if (frac_digits <= 2)
				frac = frac * 10 + (s[i] - '0');
		}
	}
	if (i != len || !any_digit)
		return FC_INVALID;
	(void) int_digits;
	if (frac_digits == 1)
		frac *= 10;
	if (negative)
		return FC_NON_POSITIVE;
	/* whole keeps 18 digits at most; hundredths must fit in int64 */
	if (sig_int_digits > max_integer_digits || sig_int_digits > 18 ||
		whole > (INT64_MAX - 99) / 100)
		return FC_OUT_OF_RANGE;
	if (whole == 0 && frac == 0)
		return FC_NON_POSITIVE;
	*hundredths = whole * 100 + frac;
	return FC_OK;
}

fc_result
fc_parse_id(const char *s, size_t len, int64_t *value)
{
	uint64_t	v = 0;
	size_t		i = 0;

	if (len == 0)
		return FC_EMPTY;
	if (s[0] == '+')
		i++;
	if (i == len)
		return FC_INVALID;
	for (; i < len; i++)
	{
		if (!is_digit((unsigned char) s[i]))
			return FC_INVALID;
		/* test before multiplying: v * 10 can wrap around in uint64 */
		if (v > ((uint64_t) INT64_MAX - (uint64_t) (s[i] - '0')) / 10)
			return FC_OUT_OF_RANGE;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v == 0)
		return FC_NON_POSITIVE;
	*value = (int64_t) v;
	return FC_OK;
}

static bool
word_is(const char *s, size_t len, const char *word)
{
	size_t		wl = strlen(word);

	if (len != wl)
		return false;
	for (size_t i = 0; i < len; i++)
		if (to_lower(s[i]) != word[i])
			return false;
	return true;
}

fc_result
fc_parse_bool(const char *s, size_t len)
{
	if (len == 0)
		return FC_EMPTY;
	if (word_is(s, len, "1") || word_is(s, len, "true") || word_is(s, len, "yes") ||
		word_is(s, len, "t") || word_is(s, len, "y"))
		return FC_OK;
	if (word_is(s, len, "0") || word_is(s, len, "false") || word_is(s, len, "no") ||
		word_is(s, len, "f") || word_is(s, len, "n"))
		return FC_FALSE;
	return FC_INVALID;
}

fc_result
fc_check_email(const char *s, size_t len)
{
	size_t		at = len;
	size_t		last_dot = 0;

	if (len == 0)
		return FC_EMPTY;
	if (len > 254)
		return FC_INVALID;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c <= ' ' || c == 0x7f || c == ',' || c == ';' || c == '<' || c == '>' ||
			c == '(' || c == ')' || c == '[' || c == ']' || c == '\\' || c == '"')
			return FC_INVALID;
		if (c == '@')
		{
			if (at != len)
				return FC_INVALID;	/* two @ */
			at = i;
		}
		else if (c == '.')
		{
			if (i > 0 && s[i - 1] == '.')
				return FC_INVALID;	/* consecutive dots */
			if (at != len)
				last_dot = i;
		}
	}
	if (at == len || at == 0 || at > 64)
		return FC_INVALID;
	/* domain: something.dot.something, not starting or ending with a dot */
	if (last_dot == 0 || last_dot == at + 1 || last_dot == len - 1 ||
		s[at + 1] == '.' || s[0] == '.' || s[at - 1] == '.')
		return FC_INVALID;
	return FC_OK;
}

void
fc_ascii_lower(const char *s, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		out[i] = to_lower(s[i]);
	out[len] = '\0';
}
