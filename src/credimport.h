/*
 * credimport.h
 *		Shared declarations of the credimport pipeline:
 *
 *	  source --records--> columns --fields--> checks --typed rows--> match --> write
 *	                                              \______ problems ______/       |
 *	                                                                           report
 */
#ifndef CREDIMPORT_H
#define CREDIMPORT_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "csv_reader.h"
#include "field_check.h"

/* GUCs (credimport.c) */
extern int	credimport_max_rows;
extern int	credimport_max_record_bytes;
extern int	credimport_date_format;
extern int	credimport_max_sheet_bytes;
extern int	credimport_max_stored_problems;
extern int	credimport_decimal_separator;	/* '.' or ',' */

/* ---------- arena: dense storage for values kept until the write ---------- */
typedef struct Arena
{
	MemoryContext cxt;
	char	   *cur;
	Size		left;
	/* the load's problems: per code, how many are kept in full (columns.c) */
	struct Directory *problem_codes;
	struct Directory *fold_messages;	/* interned messages of folded problems */
} Arena;

extern void arena_init(Arena *a, MemoryContext cxt);
extern char *arena_strndup(Arena *a, const char *s, Size len);
extern void *arena_alloc0(Arena *a, Size size);

/* ---------- problems ---------- */

/*
 * Every problem of a record is counted (an int, never a narrower type: a
 * record with any number of problems is invalid), but only the first
 * CREDIMPORT_MAX_RECORD_PROBLEMS are kept, followed by one
 * (too_many_problems) saying how many more there were.
 */
#define CREDIMPORT_MAX_RECORD_PROBLEMS 100
#define PROBLEMS_KEPT(n) Min((n), CREDIMPORT_MAX_RECORD_PROBLEMS + 1)

/* the most columns a header may have (Excel's limit) */
#define CREDIMPORT_MAX_COLUMNS 16384
typedef struct Problem
{
	struct Problem *next;
	const char *field;			/* normalised header name or "record" */
	const char *code;
	char	   *message;
	char	   *value;			/* offending value (valid text), or NULL */
	int			nfolded;		/* > 0: stands for this many problems of code,
								 * not kept in full (see record_problem) */
} Problem;

/* ---------- source: yields records whatever the door ---------- */
typedef enum SourceKind
{
	SOURCE_FILE,
	SOURCE_CONTENT,
	SOURCE_TABLE
} SourceKind;

typedef struct Source
{
	SourceKind	kind;
	const char *description;	/* path, table name, or a label */
	char		sha256[65];		/* hex digest of the bytes read (file, content) */
	int64		bytes_total;	/* size, when known (progress) */
	int64		bytes_read;
	/* returns false at end; fills *rec (the first record is the header) */
	bool		(*next) (struct Source *src, CsvRecord *rec);
	/* start again from the header; false when that is not possible */
	bool		(*rewind) (struct Source *src);
	void		(*close) (struct Source *src);
	void	   *state;
	/* set by the kind before the header is read: credits, users, credentials */
	const char *import_kind;
	/* line of the header (rows above it are skipped, here and on rewind) */
	long		header_line;
	/* header_row => n: the header's line (0: the first row naming the columns) */
	long		header_row;
	/* columns => '{...}': the file's headers mapped to fields, or NULL */
	struct HeaderMapping *mapping;
	Jsonb	   *columns;		/* ... as given, recorded in the batch */
	/* a workbook: the worksheet read and the sheets it has, for errors about the sheet */
	const char *sheet_read;
	const char *sheet_list;
	/* the format was taken from the content, not the name: what was tried, and why */
	const char *format_note;
} Source;

extern Source *source_open_file(const char *path);
extern Source *source_open_content(const char *data, Size len, const char *label);
extern Source *source_open_table(Oid relid);

/*
 * Formats: chosen by the format argument, else by the file's extension.
 * A file is read into memory for the spreadsheet and XML formats.
 */
typedef enum SourceFormat
{
	FORMAT_AUTO,
	FORMAT_CSV,					/* CSV, TSV, semicolons: delimiter from the header */
	FORMAT_XLSX,
	FORMAT_XLS,					/* legacy Excel (BIFF8), our own reader (xls_reader.c) */
	FORMAT_XML
} SourceFormat;

extern SourceFormat source_parse_format(const char *format);
/* encoding => ...: convert a CSV source to UTF-8 as it is read (before any read) */
extern void source_set_encoding(Source *src, const char *encoding);
extern Source *source_open_file_as(const char *path, SourceFormat format, const char *sheet);
extern Source *source_open_data(const char *data, Size len, SourceFormat format, const char *sheet);
extern Source *source_open_xlsx(const char *data, Size len, const char *label, const char *sheet,
								SourceKind kind);
extern Source *source_open_xml(const char *data, Size len, const char *label, SourceKind kind);
extern Source *source_open_xls_file(const char *path, const char *sheet, const char *data, Size len);
extern Source *source_open_xls_data(const char *data, Size len, const char *sheet);

/* CsvRecord.field_nul value of a spreadsheet cell holding an error (#N/A) */
#define CSV_FIELD_CELL_ERROR 2
/* "A", "B", ..., "AA" for a 0-based column */
extern void sheet_column_name(int col, char *out);
extern void source_finish_digest(Source *src);
extern void source_digest_bytes(Source *src, const char *data, Size len);

/* ---------- columns ---------- */
#define COL_REQUIRED	0x01	/* header must be present */
#define COL_VALUE_REQ	0x02	/* value must be non-empty */

typedef struct KindColumn
{
	const char *name;
	int			flags;
} KindColumn;

typedef struct ColumnMap
{
	int			nfile;			/* number of fields in the header */
	char	  **file_names;		/* normalised header names, by file position */
	int		   *file_to_col;	/* file position -> kind column index, or -1 */
	int			ncols;
	int		   *col_to_file;	/* kind column index -> file position, or -1 */
} ColumnMap;

extern ColumnMap *columns_map_header(CsvRecord *header, const KindColumn *cols, int ncols,
									 const char *const *required_any, int nrequired_any,
									 const char *const *extra_known, int nextra);

/*
 * Header aliases (credimport.header_alias) of a kind, read with one query:
 * a Directory keyed by the normalised alias, the field in DirEntry.extra
 * (NULL: the alias is turned off).  NULL when the table does not exist.
 */
struct Directory;
extern struct Directory *columns_load_aliases(const char *kind);

/* columns => '{"header": "field", ...}', parsed (NULL for SQL NULL) */

typedef struct HeaderMapping
{
	int			n;
	char	  **header;			/* as given */
	char	  **norm;			/* normalised */
	char	  **field;			/* normalised field name */
	struct Directory *keys;		/* norm -> index + 1 (aux) */
} HeaderMapping;
extern HeaderMapping *columns_parse_mapping(Jsonb *j);
/* 22023 when the mapping names a field this import does not have */
extern void columns_check_mapping(HeaderMapping *mapping, const KindColumn *cols, int ncols,
								  const char *const *extra_known, int nextra);

/* columns_map_header, reading headers through the mapping and the aliases (either may be NULL) */
extern ColumnMap *columns_map_header_aliases(CsvRecord *header, const KindColumn *cols, int ncols,
											 const char *const *required_any, int nrequired_any,
											 const char *const *extra_known, int nextra,
											 struct Directory *aliases, HeaderMapping *mapping);
/* does this record name every required column and mapped header (no error raised)? */
extern bool columns_header_complete(CsvRecord *rec, const KindColumn *cols, int ncols,
									const char *const *required_any, int nrequired_any,
									struct Directory *aliases, HeaderMapping *mapping);

/* ---------- per-record field access and checks ---------- */
typedef struct RecordCtx
{
	CsvRecord  *rec;
	ColumnMap  *map;
	Arena	   *arena;
	Problem    *problems;		/* in order found */
	Problem   **tail;
	int			nproblems;		/* all of them, kept or not */
	Problem    *more;			/* the problem counting those not kept */
} RecordCtx;

extern void record_begin(RecordCtx *rc, CsvRecord *rec, ColumnMap *map, Arena *arena);
extern void record_problem(RecordCtx *rc, const char *field, const char *code,
						   const char *value, Size valuelen, const char *fmt,...) pg_attribute_printf(6, 7);
/* trimmed, encoding-checked value of kind column col; NULL when absent/bad */
extern char *record_value(RecordCtx *rc, int col, const char *name, Size *len);
extern bool record_check_shape(RecordCtx *rc);
extern void problem_append(Arena *arena, Problem **list, int *nproblems, const char *field,
						   const char *code, const char *value, const char *fmt,...) pg_attribute_printf(7, 8);

extern char *lower_text(const char *s, Size len);
/* where to cut s to at most limit bytes without splitting a UTF-8 character */
extern Size utf8_cliplen(const char *s, Size len, Size limit);
extern const char *date_formats_accepted(void);
/* "" or "; SET credimport.date_format = '...' to read it" */
extern const char *date_setting_hint(const char *v, Size len);
/* "" or what about the decimal separator would read the number */
extern const char *number_setting_hint(const char *v, Size len);
extern char *sanitize_value(const char *s, Size len);

#endif							/* CREDIMPORT_H */
