/*
 * columns.c
 *		Header mapping and per-record field access, shared by every kind.
 *
 * The header is mapped once per load onto the kind's column list; after
 * that each record's fields are reached by column index.  Values are
 * trimmed and checked for encoding here, once, so that every check sees
 * valid text.
 */
#include "credimport.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "utils/formatting.h"
#include "catalog/pg_collation.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "match.h"

/* ---------------- arena ---------------- */

#define ARENA_BLOCK (256 * 1024)

void
arena_init(Arena *a, MemoryContext cxt)
{
	a->cxt = cxt;
	a->cur = NULL;
	a->left = 0;
	a->problem_codes = NULL;
	a->fold_messages = NULL;
}

static void *
arena_raw(Arena *a, Size size)
{
	void	   *p;

	size = MAXALIGN(size);
	if (size > ARENA_BLOCK / 4)
		return MemoryContextAllocHuge(a->cxt, size);
	if (size > a->left)
	{
		a->cur = MemoryContextAlloc(a->cxt, ARENA_BLOCK);
		a->left = ARENA_BLOCK;
	}
	p = a->cur;
	a->cur += size;
	a->left -= size;
	return p;
}

char *
arena_strndup(Arena *a, const char *s, Size len)
{
	char	   *p = arena_raw(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *
arena_alloc0(Arena *a, Size size)
{
	void	   *p = arena_raw(a, size);

	memset(p, 0, size);
	return p;
}

/* ---------------- text helpers ---------------- */

/* Lower-case as the database's lower() does; ASCII takes a fast path. */
char *
lower_text(const char *s, Size len)
{
	bool		ascii = true;

	for (Size i = 0; i < len; i++)
		if ((unsigned char) s[i] >= 0x80)
		{
			ascii = false;
			break;
		}
	if (ascii)
	{
		char	   *out = palloc(len + 1);

		fc_ascii_lower(s, len, out);
		return out;
	}
	return str_tolower(s, len, DEFAULT_COLLATION_OID);
}

/*
 * A printable rendering of a value that may hold invalid UTF-8 or NUL
 * bytes: valid characters are kept, other bytes become \xNN.
 */
char *
sanitize_value(const char *s, Size len)
{
	StringInfoData buf;
	Size		i = 0;

	initStringInfo(&buf);
	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		int			l;

		if (c == 0)
		{
			appendStringInfoString(&buf, "\\x00");
			i++;
			continue;
		}
		l = pg_utf_mblen((const unsigned char *) s + i);
		if (i + l <= len && pg_utf8_islegal((const unsigned char *) s + i, l))
		{
			appendBinaryStringInfo(&buf, s + i, l);
			i += l;
		}
		else
		{
			appendStringInfo(&buf, "\\x%02X", c);
			i++;
		}
	}
	return buf.data;
}

/*
 * The length of the longest prefix of s (len bytes) that is at most limit
 * bytes long and does not end inside a UTF-8 character (a character cut
 * off at the end of s is left out too): where to cut a text that must
 * stay valid.  Bytes that start no character count as one.
 */
Size
utf8_cliplen(const char *s, Size len, Size limit)
{
	Size		i = 0;

	while (i < len)
	{
		int			l = s[i] == '\0' ? 1 : pg_utf_mblen((const unsigned char *) s + i);

		if (i + l > limit)
			break;
		i += l;
	}
	return i;
}

/* ---------------- header mapping ---------------- */

static bool
name_in(const char *name, const char *const *list, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

static int
kind_column(const char *name, const KindColumn *cols, int ncols)
{
	for (int c = 0; c < ncols; c++)
		if (cols[c].name && strcmp(cols[c].name, name) == 0)
			return c;
	return -1;
}

/*
 * The aliases of a kind, with one query: the kind's own rows before the
 * rows for every kind, the administrator's before the shipped ones; the
 * first row of a normalised alias wins.
 */
Directory *
columns_load_aliases(const char *kind)
{
	Oid			nsp = get_namespace_oid("credimport", true);
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	char		nulls[1] = {' '};
	Directory  *d;
	int			ret;

	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("header_alias", nsp)))
		return NULL;
	if (kind == NULL)
		nulls[0] = 'n';
	else
		values[0] = CStringGetTextDatum(kind);
	ret = SPI_execute_with_args("SELECT alias, field FROM credimport.header_alias "
								"WHERE kind IS NULL OR kind OPERATOR(pg_catalog.=) $1 "
								"ORDER BY kind IS NULL, shipped, alias",
								1, types, values, nulls, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "credimport: could not read credimport.header_alias");
	d = dir_create(CurrentMemoryContext, Max((uint32) SPI_processed, 16));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *alias = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *field = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		Size		len;
		char	   *norm;
		bool		existed;
		DirEntry   *e;

		CHECK_FOR_INTERRUPTS();
		if (alias == NULL)
			continue;
		len = strlen(alias);
		norm = palloc(len + 1);
		fc_normalize_header(alias, len, norm, len + 1);
		if (norm[0] == '\0')
			continue;
		e = dir_insert(d, norm, &existed);
		if (existed)
			continue;
		if (field)
		{
			Size		flen = strlen(field);
			char	   *fnorm = palloc(flen + 1);

			fc_normalize_header(field, flen, fnorm, flen + 1);
			e->extra = fnorm;
		}
	}
	SPI_freetuptable(SPI_tuptable);
	return d;
}

/*
 * The field a normalised header is read as: the kind's column of that name
 * or a further known name, else the alias's field when the kind has that
 * field and no header of the file names it itself (direct: the normalised
 * headers of the file and the fields the columns argument maps, as a set).
 * *aliased says whether an alias was used.
 */
static const char *
resolve_name(const char *norm, const KindColumn *cols, int ncols,
			 const char *const *extra_known, int nextra, Directory *aliases,
			 Directory *direct, bool *aliased)
{
	DirEntry   *e;

	*aliased = false;
	if (norm[0] == '\0' || kind_column(norm, cols, ncols) >= 0 || name_in(norm, extra_known, nextra))
		return norm;
	if (aliases == NULL || (e = dir_lookup(aliases, norm)) == NULL || e->extra == NULL)
		return norm;
	if (kind_column(e->extra, cols, ncols) < 0 && !name_in(e->extra, extra_known, nextra))
		return norm;
	if (dir_lookup(direct, e->extra) != NULL)
		return norm;
	*aliased = true;
	return e->extra;
}

/* the normalised headers of a record (NULL for one that is not valid UTF-8), and their set */
static char **
normalise_headers(CsvRecord *rec, Directory **direct)
{
	char	  **norms = palloc0(sizeof(char *) * Max(rec->nfields, 1));

	*direct = dir_create(CurrentMemoryContext, Max(rec->nfields, 16));
	for (int f = 0; f < rec->nfields; f++)
	{
		Size		len = rec->lengths[f];

		CHECK_FOR_INTERRUPTS();
		if (rec->field_nul[f] ||
			pg_encoding_verifymbstr(PG_UTF8, rec->fields[f], len) != (int) len)
			continue;
		norms[f] = palloc(len + 1);
		fc_normalize_header(rec->fields[f], len, norms[f], len + 1);
		if (norms[f][0] != '\0')
			dir_insert(*direct, norms[f], NULL);
	}
	return norms;
}

/* how a header came to be read as its field */
#define VIA_NAME		0		/* it is the field's name */
#define VIA_ALIAS		1		/* credimport.header_alias */
#define VIA_COLUMNS		2		/* the columns argument */
#define VIA_OVERRIDDEN	3		/* its field is mapped from another header: ignored */

/*
 * What each header of a record is read as: names[f] (the field, or the
 * normalised header) and via[f].  The columns argument comes first; a
 * header that would be read as a field the columns argument maps from
 * another header is overridden.  *mapped_at gets, per mapping entry, the
 * header position it matched (-1: none).
 */
static void
resolve_headers(CsvRecord *rec, char **norms, Directory *direct,
				const KindColumn *cols, int ncols, const char *const *extra_known, int nextra,
				Directory *aliases, HeaderMapping *mapping,
				const char **names, uint8 *via, int **mapped_at)
{
	Directory  *mapped = NULL;

	if (mapping)
	{
		*mapped_at = palloc(sizeof(int) * Max(mapping->n, 1));
		for (int k = 0; k < mapping->n; k++)
			(*mapped_at)[k] = -1;
		mapped = dir_create(CurrentMemoryContext, Max(mapping->n, 16));
		for (int f = 0; f < rec->nfields; f++)
		{
			DirEntry   *e;

			names[f] = NULL;
			if (norms[f] == NULL || norms[f][0] == '\0' ||
				(e = dir_lookup(mapping->keys, norms[f])) == NULL)
				continue;
			names[f] = mapping->field[e->aux - 1];
			via[f] = VIA_COLUMNS;
			if ((*mapped_at)[e->aux - 1] < 0)
				(*mapped_at)[e->aux - 1] = f;
			dir_insert(mapped, names[f], NULL);
			dir_insert(direct, names[f], NULL);
		}
	}
	for (int f = 0; f < rec->nfields; f++)
	{
		bool		aliased;

		CHECK_FOR_INTERRUPTS();
		if (norms[f] == NULL || (mapping && names[f] != NULL))
			continue;
		names[f] = resolve_name(norms[f], cols, ncols, extra_known, nextra, aliases, direct, &aliased);
		via[f] = aliased ? VIA_ALIAS : VIA_NAME;
		if (mapped && names[f][0] != '\0' && dir_lookup(mapped, names[f]) != NULL)
		{
			names[f] = norms[f];
			via[f] = VIA_OVERRIDDEN;
		}
	}
}

/*
 * columns => '{"E-mail Address": "email", ...}': the file's headers (as
 * written, or as credimport normalises them) mapped to fields.  A header
 * mapped twice, a field mapped twice, or a value that is not a field name
 * is an error (22023); whether the fields are the kind's is checked when
 * the header is read (columns_check_mapping).
 */
HeaderMapping *
columns_parse_mapping(Jsonb *j)
{
	HeaderMapping *m;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			cap;
	Directory  *fields;
	char	   *key = NULL;

	if (j == NULL)
		return NULL;
	if (!JB_ROOT_IS_OBJECT(j) || JB_ROOT_IS_SCALAR(j))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns must be a JSON object mapping the file's headers to fields"),
				 errhint("For example: columns => '{\"E-mail Address\": \"email\", \"Credits Earned\": \"number_credits\"}'.")));
	cap = Max(JB_ROOT_COUNT(j), 1);
	m = palloc0(sizeof(HeaderMapping));
	m->header = palloc(sizeof(char *) * cap);
	m->norm = palloc(sizeof(char *) * cap);
	m->field = palloc(sizeof(char *) * cap);
	m->keys = dir_create(CurrentMemoryContext, Max(cap, 16));
	fields = dir_create(CurrentMemoryContext, Max(cap, 16));
	it = JsonbIteratorInit(&j->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		CHECK_FOR_INTERRUPTS();
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			char	   *norm = palloc(strlen(key) + 1);
			char	   *field;
			DirEntry   *e;
			bool		existed;

			if (v.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("columns maps \"%s\" to something that is not a field name", key),
						 errhint("Each value of columns is the name of a field, as a JSON string.")));
			field = pnstrdup(v.val.string.val, v.val.string.len);
			fc_normalize_header(key, strlen(key), norm, strlen(key) + 1);
			if (norm[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("columns maps an empty header name \"%s\"", key)));
			e = dir_insert(m->keys, norm, &existed);
			if (existed)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("columns maps the header \"%s\" twice", norm),
						 errdetail("\"%s\" and \"%s\" are the same header once normalised.",
								   m->header[e->aux - 1], key)));
			e->aux = m->n + 1;
			{
				char	   *fnorm = palloc(strlen(field) + 1);

				fc_normalize_header(field, strlen(field), fnorm, strlen(field) + 1);
				e = dir_insert(fields, fnorm, &existed);
				if (existed)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("columns maps two headers to the field \"%s\"", fnorm),
							 errdetail("\"%s\" and \"%s\" are both mapped to it.",
									   m->header[e->aux - 1], key),
							 errhint("Map one header to each field.")));
				e->aux = m->n + 1;
				m->field[m->n] = fnorm;
			}
			m->header[m->n] = key;
			m->norm[m->n] = norm;
			m->n++;
		}
	}
	return m;
}

/* every field the columns argument names must be one of this import's */
void
columns_check_mapping(HeaderMapping *mapping, const KindColumn *cols, int ncols,
					  const char *const *extra_known, int nextra)
{
	if (mapping == NULL)
		return;
	for (int k = 0; k < mapping->n; k++)
		if (kind_column(mapping->field[k], cols, ncols) < 0 &&
			!name_in(mapping->field[k], extra_known, nextra))
		{
			StringInfoData fields;

			initStringInfo(&fields);
			for (int c = 0; c < ncols; c++)
				if (cols[c].name)
					appendStringInfo(&fields, "%s%s", fields.len ? ", " : "", cols[c].name);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("columns maps \"%s\" to \"%s\", which is not a field of this import",
							mapping->header[k], mapping->field[k]),
					 errdetail("The fields are: %s.", fields.data)));
		}
}

bool
columns_header_complete(CsvRecord *rec, const KindColumn *cols, int ncols,
						const char *const *required_any, int nrequired_any,
						Directory *aliases, HeaderMapping *mapping)
{
	bool	   *have;
	bool		any_found = (nrequired_any == 0);
	bool		complete = true;
	char	  **norms;
	const char **names;
	uint8	   *via;
	int		   *mapped_at = NULL;
	Directory  *direct;

	if (rec->nfields == 0 || rec->nfields > CREDIMPORT_MAX_COLUMNS)
		return false;
	have = palloc0(sizeof(bool) * Max(ncols, 1));
	norms = normalise_headers(rec, &direct);
	names = palloc0(sizeof(char *) * rec->nfields);
	via = palloc0(rec->nfields);
	resolve_headers(rec, norms, direct, cols, ncols, NULL, 0, aliases, mapping, names, via, &mapped_at);
	for (int f = 0; f < rec->nfields; f++)
	{
		int			c;

		if (names[f] == NULL || via[f] == VIA_OVERRIDDEN)
			continue;
		if ((c = kind_column(names[f], cols, ncols)) >= 0)
			have[c] = true;
		if (name_in(names[f], required_any, nrequired_any))
			any_found = true;
	}
	for (int c = 0; c < ncols; c++)
		if ((cols[c].flags & COL_REQUIRED) && !have[c])
			complete = false;
	if (mapping)
		for (int k = 0; k < mapping->n; k++)
			if (mapped_at[k] < 0)
				complete = false;
	return complete && any_found;
}

ColumnMap *
columns_map_header(CsvRecord *header, const KindColumn *cols, int ncols,
				   const char *const *required_any, int nrequired_any,
				   const char *const *extra_known, int nextra)
{
	return columns_map_header_aliases(header, cols, ncols, required_any, nrequired_any,
									  extra_known, nextra, NULL, NULL);
}

/*
 * Map a header record onto the kind's columns.  Raises the whole-file
 * errors (missing or repeated headers, a mapped header the file lacks);
 * names ignored columns, and the headers read through the columns
 * argument or an alias, in NOTICEs.
 * required_any: at least one of these must be present (e.g. the identifier
 * of full mode); extra_known: further names that are used, not ignored.
 */
ColumnMap *
columns_map_header_aliases(CsvRecord *header, const KindColumn *cols, int ncols,
						   const char *const *required_any, int nrequired_any,
						   const char *const *extra_known, int nextra,
						   Directory *aliases, HeaderMapping *mapping)
{
	ColumnMap  *map = palloc0(sizeof(ColumnMap));
	StringInfoData found;
	StringInfoData missing;
	StringInfoData ignored;
	StringInfoData read_as;
	StringInfoData mapped_list;
	bool		any_found = (nrequired_any == 0);
	bool		any_alias = false;
	uint8	   *via;
	int		   *mapped_at = NULL;
	Directory  *seen;
	Directory  *direct;
	char	  **norms;
	const char **names;

	if (header->nfields > CREDIMPORT_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("header has %d columns, more than the limit of %d",
						header->nfields, CREDIMPORT_MAX_COLUMNS),
				 errdetail("A file to import may have at most %d columns.", CREDIMPORT_MAX_COLUMNS),
				 errhint("Check that the first line is the header, or remove the unused columns.")));

	map->nfile = header->nfields;
	map->file_names = palloc0(sizeof(char *) * Max(header->nfields, 1));
	map->file_to_col = palloc(sizeof(int) * Max(header->nfields, 1));
	map->ncols = ncols;
	map->col_to_file = palloc(sizeof(int) * Max(ncols, 1));
	via = palloc0(Max(header->nfields, 1));
	names = palloc0(sizeof(char *) * Max(header->nfields, 1));
	for (int c = 0; c < ncols; c++)
		map->col_to_file[c] = -1;

	initStringInfo(&found);
	initStringInfo(&missing);
	initStringInfo(&ignored);
	initStringInfo(&read_as);
	initStringInfo(&mapped_list);

	norms = normalise_headers(header, &direct);
	for (int f = 0; f < header->nfields; f++)
	{
		if (norms[f] == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("header of column %d is not valid UTF-8: \"%s\"",
							f + 1, sanitize_value(header->fields[f], header->lengths[f])),
					 errhint("Save the file with UTF-8 encoding.")));
		appendStringInfo(&found, "%s%s", f ? ", " : "", norms[f]);
	}
	resolve_headers(header, norms, direct, cols, ncols, extra_known, nextra, aliases, mapping,
					names, via, &mapped_at);
	if (mapping)
		for (int k = 0; k < mapping->n; k++)
			if (mapped_at[k] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("columns names the header \"%s\", which the file does not have",
								mapping->header[k]),
						 errdetail("Headers found: %s.", found.len ? found.data : "(none)"),
						 errhint("Headers are matched as credimport normalises them: \"%s\" is %s.",
								 mapping->header[k], mapping->norm[k])));
	for (int f = 0; f < header->nfields; f++)
	{
		map->file_names[f] = (char *) names[f];
		map->file_to_col[f] = -1;
		if (via[f] == VIA_ALIAS || via[f] == VIA_COLUMNS)
			appendStringInfo(&read_as, "%s\"%s\" as %s", read_as.len ? ", " : "",
							 sanitize_value(header->fields[f], header->lengths[f]), names[f]);
		if (via[f] == VIA_COLUMNS)
			appendStringInfo(&mapped_list, "%s\"%s\"", mapped_list.len ? ", " : "",
							 sanitize_value(header->fields[f], header->lengths[f]));
		if (via[f] == VIA_ALIAS)
			any_alias = true;
	}

	/* repeated names: one hash table, linear in the number of columns */
	seen = dir_create(CurrentMemoryContext, header->nfields);
	for (int f = 0; f < header->nfields; f++)
	{
		const char *norm = map->file_names[f];
		DirEntry   *e;
		bool		existed;

		CHECK_FOR_INTERRUPTS();
		if (norm[0] == '\0')
			continue;
		if (via[f] == VIA_OVERRIDDEN)
		{
			appendStringInfo(&ignored, "%s%s", ignored.len ? ", " : "", norm);
			continue;
		}
		e = dir_insert(seen, norm, &existed);
		if (existed)
		{
			int			first = (int) e->aux - 1;

			if (via[first] != VIA_NAME || via[f] != VIA_NAME)
				ereport(ERROR,
						(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
						 errmsg("column \"%s\" appears twice in the header (columns %d and %d)",
								norm, first + 1, f + 1),
						 errdetail("Headers \"%s\" and \"%s\" are both read as %s (%s).",
								   sanitize_value(header->fields[first], header->lengths[first]),
								   sanitize_value(header->fields[f], header->lengths[f]), norm,
								   (via[first] == VIA_COLUMNS || via[f] == VIA_COLUMNS) ?
								   "the columns argument" : "credimport.header_alias"),
						 errhint("Remove one of them.  Headers found: %s.", found.data)));
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("column \"%s\" appears twice in the header (columns %d and %d)",
							norm, (int) e->aux, f + 1),
					 errhint("Remove one of them.  Headers found: %s.", found.data)));
		}
		e->aux = f + 1;
		for (int c = 0; c < ncols; c++)
			if (cols[c].name && strcmp(cols[c].name, norm) == 0)
			{
				map->file_to_col[f] = c;
				map->col_to_file[c] = f;
				break;
			}
		if (map->file_to_col[f] < 0 && !name_in(norm, extra_known, nextra))
			appendStringInfo(&ignored, "%s%s", ignored.len ? ", " : "", norm);
		if (name_in(norm, required_any, nrequired_any))
			any_found = true;
	}

	for (int c = 0; c < ncols; c++)
		if ((cols[c].flags & COL_REQUIRED) && map->col_to_file[c] < 0)
			appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", cols[c].name);
	if (!any_found)
	{
		appendStringInfo(&missing, "%s", missing.len ? ", " : "");
		for (int i = 0; i < nrequired_any; i++)
			appendStringInfo(&missing, "%s%s", i ? " or " : "", required_any[i]);
	}
	if (missing.len > 0)
	{
		StringInfoData required;

		initStringInfo(&required);
		for (int c = 0; c < ncols; c++)
			if (cols[c].flags & COL_REQUIRED)
				appendStringInfo(&required, "%s%s", required.len ? ", " : "", cols[c].name);
		for (int i = 0; i < nrequired_any; i++)
			appendStringInfo(&required, "%s%s", (i == 0 && required.len) ? ", " : (i ? " or " : ""),
							 required_any[i]);
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("missing required column: %s", missing.data),
				 errdetail("Headers found: %s.", found.len ? found.data : "(none)"),
				 errhint("The header line must name these columns: %s.", required.data)));
	}
	if (read_as.len > 0)
	{
		if (mapped_list.len == 0)
			ereport(NOTICE,
					(errmsg("reading headers as fields: %s", read_as.data),
					 errdetail("These headers are aliases in credimport.header_alias.")));
		else if (!any_alias)
			ereport(NOTICE,
					(errmsg("reading headers as fields: %s", read_as.data),
					 errdetail("The columns argument maps these headers.")));
		else
			ereport(NOTICE,
					(errmsg("reading headers as fields: %s", read_as.data),
					 errdetail("The columns argument maps %s; the others are aliases in credimport.header_alias.",
							   mapped_list.data)));
	}
	if (ignored.len > 0)
		ereport(NOTICE,
				(errmsg("ignoring columns not used by this import: %s", ignored.data)));
	return map;
}

/* ---------------- per-record access ---------------- */

void
record_begin(RecordCtx *rc, CsvRecord *rec, ColumnMap *map, Arena *arena)
{
	rc->rec = rec;
	rc->map = map;
	rc->arena = arena;
	rc->problems = NULL;
	rc->tail = &rc->problems;
	rc->nproblems = 0;
	rc->more = NULL;
}

/*
 * A record's problems are all counted (a record with any number of them is
 * invalid), but only the first CREDIMPORT_MAX_RECORD_PROBLEMS are kept; the
 * problem after them says how many more there were.  Its message is
 * rewritten in place as the count grows.
 */
#define PROBLEM_MORE_CODE	"too_many_problems"
#define PROBLEM_MORE_MSGLEN 160

static Problem *
problem_more_new(Arena *arena)
{
	Problem    *p = arena_alloc0(arena, sizeof(Problem));

	p->field = "record";
	p->code = PROBLEM_MORE_CODE;
	p->message = arena_alloc0(arena, PROBLEM_MORE_MSGLEN);
	return p;
}

static void
problem_more_set(Problem *p, int total)
{
	snprintf(p->message, PROBLEM_MORE_MSGLEN,
			 "%d more problems in this record are not listed (only the first %d are kept)",
			 total - CREDIMPORT_MAX_RECORD_PROBLEMS, CREDIMPORT_MAX_RECORD_PROBLEMS);
}

static Problem *
problem_new(Arena *arena, const char *field, const char *code,
			const char *value, Size valuelen, const char *fmt, va_list args)
{
	Problem    *p = arena_alloc0(arena, sizeof(Problem));
	char		msg[512];

	pg_vsnprintf(msg, sizeof(msg), fmt, args);
	p->field = field;
	p->code = code;
	/* a message cut at sizeof(msg) - 1 bytes may end inside a character */
	p->message = arena_strndup(arena, msg, utf8_cliplen(msg, strlen(msg), sizeof(msg) - 1));
	if (value)
		p->value = arena_strndup(arena, value, valuelen);
	return p;
}

/*
 * A load stores at most credimport.max_stored_problems problems of each code
 * (pipeline_record_problems).  So that its memory does not grow with the
 * problems it will not store, only that many of each code are kept in full
 * (message and value); past that, a record keeps one short problem per code
 * -- field "record", the code, no value, and a shared message saying how
 * many problems of that code it stands for (nfolded).  The record stays
 * invalid with all its problems counted; its errors (and credimport_validate's
 * rows) show the short form.
 */
static bool
problem_kept_in_full(Arena *a, const char *code)
{
	DirEntry   *e;

	if (a->problem_codes == NULL)
		a->problem_codes = dir_create(a->cxt, 64);
	e = dir_insert(a->problem_codes, code, NULL);
	if (e->aux >= credimport_max_stored_problems)
		return false;
	e->aux++;
	return true;
}

/* the shared message of a short problem standing for n problems of code */
static char *
fold_message(Arena *a, const char *code, int n)
{
	char		buf[256];

	if (a->fold_messages == NULL)
		a->fold_messages = dir_create(a->cxt, 256);
	snprintf(buf, sizeof(buf),
			 "%d %s with code %s not detailed: the load already holds credimport.max_stored_problems (%d) of this code",
			 n, n == 1 ? "problem" : "problems", code, credimport_max_stored_problems);
	return dir_insert(a->fold_messages, buf, NULL)->key;
}

/*
 * Count a problem of code in the short problem of that code in list (at
 * most CREDIMPORT_MAX_RECORD_PROBLEMS + 1 long); returns a new short problem
 * to add to the list, or NULL when the list had one.
 */
static Problem *
problem_fold(Arena *a, Problem *list, const char *code)
{
	Problem    *p;

	for (p = list; p; p = p->next)
		if (p->nfolded > 0 && strcmp(p->code, code) == 0)
		{
			if (p->nfolded < PG_INT32_MAX)
				p->nfolded++;
			p->message = fold_message(a, code, p->nfolded);
			return NULL;
		}
	p = arena_alloc0(a, sizeof(Problem));
	p->field = "record";
	p->code = code;
	p->nfolded = 1;
	p->message = fold_message(a, code, 1);
	return p;
}

void
record_problem(RecordCtx *rc, const char *field, const char *code,
			   const char *value, Size valuelen, const char *fmt,...)
{
	Problem    *p;

	if (rc->nproblems < CREDIMPORT_MAX_RECORD_PROBLEMS && !problem_kept_in_full(rc->arena, code))
		p = problem_fold(rc->arena, rc->problems, code);
	else if (rc->nproblems < CREDIMPORT_MAX_RECORD_PROBLEMS)
	{
		va_list		args;

		va_start(args, fmt);
		p = problem_new(rc->arena, field, code, value, valuelen, fmt, args);
		va_end(args);
	}
	else if (rc->more == NULL)
		p = rc->more = problem_more_new(rc->arena);
	else
		p = NULL;
	if (p)
	{
		*rc->tail = p;
		rc->tail = &p->next;
	}
	if (rc->nproblems < PG_INT32_MAX)
		rc->nproblems++;
	if (rc->more)
		problem_more_set(rc->more, rc->nproblems);
}

/*
 * Add a problem to a record's list after pass 1 (matching, duplicates, ...).
 * The list holds at most CREDIMPORT_MAX_RECORD_PROBLEMS + 1 problems, so
 * finding its end is bounded.
 */
void
problem_append(Arena *arena, Problem **list, int *nproblems, const char *field,
			   const char *code, const char *value, const char *fmt,...)
{
	Problem    *last = NULL;

	Problem    *head = *list;

	while (*list)
	{
		last = *list;
		list = &(*list)->next;
	}
	if (*nproblems < CREDIMPORT_MAX_RECORD_PROBLEMS && !problem_kept_in_full(arena, code))
	{
		Problem    *p = problem_fold(arena, head, code);

		if (p)
			*list = last = p;
	}
	else if (*nproblems < CREDIMPORT_MAX_RECORD_PROBLEMS)
	{
		va_list		args;

		va_start(args, fmt);
		*list = problem_new(arena, field, code, value, value ? strlen(value) : 0, fmt, args);
		va_end(args);
	}
	else if (last == NULL || strcmp(last->code, PROBLEM_MORE_CODE) != 0)
		*list = last = problem_more_new(arena);
	if (*nproblems < PG_INT32_MAX)
		(*nproblems)++;
	if (*nproblems > CREDIMPORT_MAX_RECORD_PROBLEMS)
		problem_more_set(last, *nproblems);
}

/*
 * Record-level shape checks: reader problems and field count.  Returns
 * false when the fields cannot be trusted (nothing else is checked then).
 */
bool
record_check_shape(RecordCtx *rc)
{
	CsvRecord  *rec = rc->rec;

	if (rec->problems & CSV_PROBLEM_TOO_LONG)
	{
		record_problem(rc, "record", "record_too_long", NULL, 0,
					   "record is longer than credimport.max_record_bytes (%d bytes)",
					   credimport_max_record_bytes);
		return false;
	}
	if (rec->problems & CSV_PROBLEM_UNTERMINATED_QUOTE)
	{
		record_problem(rc, "record", "malformed_record", NULL, 0,
					   "quoted field is not closed before the end of the file");
		return false;
	}
	if (rec->nfields != rc->map->nfile)
	{
		record_problem(rc, "record", "field_count", NULL, 0,
					   "record has %d fields but the header has %d",
					   rec->nfields, rc->map->nfile);
		return false;
	}
	if (rec->problems & CSV_PROBLEM_STRAY_QUOTE)
		record_problem(rc, "record", "malformed_record", NULL, 0,
					   "text follows a closing quote; a quote inside a quoted field must be doubled");
	return true;
}

/*
 * Trimmed value of kind column col (NUL-terminated, in the record's
 * buffer), or NULL when the column is absent.  A value with a NUL byte or
 * invalid UTF-8 gets an invalid_encoding problem and comes back as NULL
 * with *len = (Size) -1 so callers do not report it missing as well.
 */
char *
record_value(RecordCtx *rc, int col, const char *name, Size *len)
{
	int			f = rc->map->col_to_file[col];
	char	   *s;
	Size		l;

	if (f < 0)
	{
		*len = 0;
		return NULL;
	}
	s = rc->rec->fields[f];
	l = rc->rec->lengths[f];
	if (rc->rec->field_nul[f] == CSV_FIELD_CELL_ERROR)
	{
		char		col[8];

		sheet_column_name(f, col);
		if (l > 0 && s[0] == '#')	/* #N/A, #REF!, #VALUE!, ... */
			record_problem(rc, name, "invalid_value", s, l,
						   "cell %s%ld holds the error value %s", col, rc->rec->line_no, s);
		else					/* the reader says why the value is unknown */
			record_problem(rc, name, "invalid_value", NULL, 0,
						   "cell %s%ld: %s", col, rc->rec->line_no, s);
		*len = (Size) -1;
		return NULL;
	}
	if (rc->rec->field_nul[f] || pg_encoding_verifymbstr(PG_UTF8, s, l) != (int) l)
	{
		char	   *shown = sanitize_value(s, l);

		record_problem(rc, name, "invalid_encoding", shown, strlen(shown),
					   rc->rec->field_nul[f] ? "value contains a NUL byte: \"%s\"" :
					   "value is not valid UTF-8: \"%s\"", shown);
		*len = (Size) -1;
		return NULL;
	}
	s = fc_trim(s, &l);
	s[l] = '\0';
	*len = l;
	return s;
}

/* what a date may look like, for messages: ISO and credimport.date_format */
const char *
date_formats_accepted(void)
{
	switch ((fc_date_format) credimport_date_format)
	{
		case FC_DATE_MDY_SLASH:
			return "YYYY-MM-DD or MM/DD/YYYY";
		case FC_DATE_DMY_SLASH:
			return "YYYY-MM-DD or DD/MM/YYYY";
		case FC_DATE_DMY_DOT:
			return "YYYY-MM-DD or DD.MM.YYYY";
		default:
			return "YYYY-MM-DD";
	}
}

/*
 * The setting that would read a date the current credimport.date_format
 * does not, for the problem's message: "" when none would.
 */
const char *
date_setting_hint(const char *v, Size len)
{
	static const struct
	{
		fc_date_format fmt;
		const char *name;
	}			fmts[3] = {
		{FC_DATE_MDY_SLASH, "MM/DD/YYYY"},
		{FC_DATE_DMY_SLASH, "DD/MM/YYYY"},
		{FC_DATE_DMY_DOT, "DD.MM.YYYY"}
	};
	StringInfoData buf;
	int			n = 0;

	initStringInfo(&buf);
	for (int i = 0; i < 3; i++)
	{
		int			y,
					m,
					d;

		if (fmts[i].fmt == (fc_date_format) credimport_date_format ||
			fc_parse_date(v, len, fmts[i].fmt, &y, &m, &d) != FC_OK)
			continue;
		appendStringInfo(&buf, "%s'%s'", n++ ? " or " : "; SET credimport.date_format = ",
						 fmts[i].name);
	}
	if (n > 0)
		appendStringInfoString(&buf, " to read it");
	return buf.data;
}

/*
 * What would read a number the current credimport.decimal_separator does
 * not: the other separator, or (with both a point and a comma) nothing,
 * since thousands separators are not read.
 */
const char *
number_setting_hint(const char *v, Size len)
{
	char		sep = (char) credimport_decimal_separator;
	char		other = sep == '.' ? ',' : '.';
	int64		cents;

	if (memchr(v, '.', len) && memchr(v, ',', len))
		return psprintf("; thousands separators are not read (write it without them, with '%c' "
						"before the decimals)", sep);
	if (memchr(v, other, len) &&
		fc_parse_credits_sep(v, len, 18, other, &cents) != FC_INVALID)
		return psprintf("; with a decimal %s, SET credimport.decimal_separator = '%c'",
						other == ',' ? "comma" : "point", other);
	return "";
}
