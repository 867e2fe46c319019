/*
 * sheet_values.c
 *		Backend-free rules for spreadsheet cell values (see sheet_values.h).
 */
#include "sheet_values.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
sv_format_is_date(int id, const char *code)
{
	bool		quoted = false;

	if ((id >= 14 && id <= 22) || (id >= 45 && id <= 47) || (id >= 27 && id <= 36) || (id >= 50 && id <= 58))
		return true;
	if (code == NULL)
		return false;
	for (const char *p = code; *p; p++)
	{
		if (*p == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (*p == '\\' && p[1])
			p++;
		else if (*p == '_' && p[1])
			p++;				/* _x: a space as wide as x */
		else if (*p == '[')
		{
			/* [Red], [$-409]: skip; [h] [mm] are elapsed time */
			while (*p && *p != ']')
				p++;
			if (!*p)
				break;
		}
		else if (strchr("dDmMyY", *p))
			return true;
	}
	return false;
}

bool
sv_parse_number(const char *s, double *out)
{
	const char *p = s;
	bool		digits = false;
	char	   *end;

	if (*p == '+' || *p == '-')
		p++;
	while (isdigit((unsigned char) *p))
		p++, digits = true;
	if (*p == '.')
	{
		p++;
		while (isdigit((unsigned char) *p))
			p++, digits = true;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	if (*p != '\0')
		return false;
	*out = strtod(s, &end);
	return end == p && isfinite(*out);
}

/* days since 1970-01-01 to a civil date (Howard Hinnant's algorithm) */
static void
civil_from_days(long z, int *y, int *m, int *d)
{
	long		era,
				yy;
	unsigned	doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned) (z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (long) yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yy + (*m <= 2));
}

/* civil date to days since 1970-01-01 */
static long
days_from_civil(int y, int m, int d)
{
	long		era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long) doe - 719468;
}

bool
sv_serial_to_ymd(double serial, bool date1904, int *y, int *m, int *d, bool *phantom)
{
	long		days;
	long		base;

	*phantom = false;
	if (!isfinite(serial) || serial < 0 || serial >= 2958466.0)
		return false;
	days = (long) floor(serial);
	if (date1904)
		base = days_from_civil(1904, 1, 1);
	else if (days == 60)
	{
		*y = 1900, *m = 2, *d = 29;
		*phantom = true;
		return true;
	}
	else if (days < 60)
		base = days_from_civil(1899, 12, 31);
	else
		base = days_from_civil(1899, 12, 30);
	civil_from_days(base + days, y, m, d);
	return *y <= 9999;
}

bool
sv_serial_to_iso(double serial, bool date1904, char *out, size_t outlen)
{
	int			y,
				m,
				d;
	bool		phantom;

	if (!sv_serial_to_ymd(serial, date1904, &y, &m, &d, &phantom))
		return false;
	snprintf(out, outlen, "%04d-%02d-%02d", y, m, d);
	return true;
}

static bool
digits(const char *p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++)
	{
		if (!isdigit((unsigned char) p[i]))
			return false;
		*v = *v * 10 + (p[i] - '0');
	}
	return true;
}

bool
sv_iso_datetime_to_ymd(const char *s, int *y, int *m, int *d)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p;

	if (strlen(s) < 10 || !digits(s, 4, y) || s[4] != '-' || !digits(s + 5, 2, m) ||
		s[7] != '-' || !digits(s + 8, 2, d))
		return false;
	if (*m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1])
		return false;
	if (*m == 2 && *d == 29 && !((*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0))
		return false;
	p = s + 10;
	if (*p == '\0')
		return true;
	/* a time part: THH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM], dropped */
	if (*p != 'T' && *p != ' ')
		return false;
	p++;
	for (; *p; p++)
		if (!isdigit((unsigned char) *p) && !strchr(":.Z+-", *p))
			return false;
	return true;
}

void
sv_format_number(double d, char *out, size_t outlen)
{
	if (!isfinite(d))
		snprintf(out, outlen, "%s", isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"));
	else if (d == floor(d) && fabs(d) < 1e15)
		snprintf(out, outlen, "%.0f", d);
	else
		snprintf(out, outlen, "%.15g", d);
}

int
sv_format_zero_pad(const char *code)
{
	int			n = 0;

	if (code == NULL)
		return 0;
	for (const char *p = code; *p && *p != ';'; p++)
	{
		if (*p != '0')
			return 0;
		n++;
	}
	/* "0" shows whole numbers as General does; wider than any id: not a pad */
	return (n >= 2 && n <= SV_MAX_ZERO_PAD) ? n : 0;
}

void
sv_format_number_padded(double d, int width, char *out, size_t outlen)
{
	if (width <= 0 || width > SV_MAX_ZERO_PAD || !isfinite(d) || d != floor(d) || fabs(d) >= 1e15)
	{
		sv_format_number(d, out, outlen);
		return;
	}
	if (d < 0)
		snprintf(out, outlen, "-%0*.0f", width, -d);
	else
		snprintf(out, outlen, "%0*.0f", width, d == 0 ? 0.0 : d);	/* no "-0" */
}
