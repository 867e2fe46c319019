/*
 * sheet_values.h
 *		Backend-free rules for spreadsheet cell values, shared by every
 *		workbook reader (.xlsx, .xls): which number formats are dates, a
 *		date serial as a calendar date, a number as a person wrote it.
 *
 * One rule for every source: a cell formatted as a date (or date-time) is
 * the calendar date of its day; a time part is dropped.  Only finite
 * decimal serials in Excel's range are dates (no NaN, no infinity, no hex).
 */
#ifndef CREDIMPORT_SHEET_VALUES_H
#define CREDIMPORT_SHEET_VALUES_H

#include <stdbool.h>
#include <stddef.h>

/* is Excel number format id (with its format code, or NULL) a date format? */
extern bool sv_format_is_date(int id, const char *code);

/*
 * Parse a cell's stored number: an optional sign, digits, an optional
 * fraction and exponent, nothing else (no hex, nan, inf, spaces).
 */
extern bool sv_parse_number(const char *s, double *out);

/*
 * An Excel date serial (1900 system, with its phantom 1900-02-29, or 1904)
 * as year, month, day.  Returns false for a serial that is not a finite
 * value in 0 .. 2958465 (9999-12-31).  *phantom is set for serial 60 of
 * the 1900 system (1900-02-29, a day that never was).
 */
extern bool sv_serial_to_ymd(double serial, bool date1904, int *y, int *m, int *d, bool *phantom);

/*
 * Write a serial as "YYYY-MM-DD" into out (at least 11 bytes); false when
 * it is not a date (see sv_serial_to_ymd); the phantom day is written as
 * "1900-02-29", which the date check then refuses.
 */
extern bool sv_serial_to_iso(double serial, bool date1904, char *out, size_t outlen);

/*
 * An ISO 8601 date or date-time as written by t="d" cells
 * ("2024-03-14", "2024-03-14T00:00:00", "2024-03-14T00:00:00.000Z"):
 * its calendar date.  False when it is not one.
 */
extern bool sv_iso_datetime_to_ymd(const char *s, int *y, int *m, int *d);

/*
 * The value of a formula cell whose result is not in the file (the workbook
 * says its cached values are stale, or there is none): the cell is flagged
 * as an error cell (CSV_FIELD_CELL_ERROR), so the record gets a problem
 * naming the cell, never an empty or stale value.
 */
#define SV_FORMULA_NOT_CALCULATED "formula not calculated; open and save the file in a spreadsheet program"

/* a number as a person wrote it: up to 15 significant digits, no binary noise */
extern void sv_format_number(double d, char *out, size_t outlen);

/*
 * Displayed numbers: the width a number format pads whole numbers to with
 * zeros ("000" -> 3, "00000" -> 5; its first section), else 0 ("0",
 * "0.00", "@", a date, General: the number as sv_format_number writes it).
 */
#define SV_MAX_ZERO_PAD 30
extern int	sv_format_zero_pad(const char *code);

/*
 * A number as a cell with a zero-padded format shows it: a whole number
 * with at least width digits (7 in "000" is "007", -7 is "-007"); any
 * other number, or width 0, as sv_format_number writes it.
 */
extern void sv_format_number_padded(double d, int width, char *out, size_t outlen);

#endif
