/*
 * options.c
 *		Option vocabularies, declared once as data (see options.h).
 */
#include "options.h"

#include "credimport.h"
#include "lib/stringinfo.h"

/* ---- the vocabularies ---- */

static const OptionWord match_mode_words[] = {
	[MM_EMAIL] = {"email", MM_EMAIL},
	[MM_REMOTE_ID] = {"remote_id", MM_REMOTE_ID},
	[MM_USER_ID] = {"user_id", MM_USER_ID},
	[MM_FULL] = {"full", MM_FULL},
	{NULL}
};
const OptionVocab match_mode_vocab = {"match_mode", match_mode_words, false, true, NULL};

static const OptionWord if_exists_words[] = {
	{"error", IF_EXISTS_ERROR, "a credit already on the transcript is a problem"},
	{"skip", IF_EXISTS_SKIP, "an identical credit already on the transcript is skipped"},
	{NULL}
};
const OptionVocab if_exists_vocab = {"if_exists", if_exists_words, false, false, NULL};

static const OptionWord format_words[] = {
	{"csv", FORMAT_CSV},
	{"tsv", FORMAT_CSV},
	{"xlsx", FORMAT_XLSX},
	{"xls", FORMAT_XLS},
	{"xml", FORMAT_XML},
	{"txt", FORMAT_CSV, NULL, true},
	{"auto", FORMAT_AUTO, NULL, true},
	{NULL}
};
const OptionVocab format_vocab = {"format", format_words, true, false,
", or leave it out to go by the file's content and extension"};

static const OptionWord check_words[] = {
	{"date", CHECK_DATE},
	{"date_mdy", CHECK_DATE_MDY},
	{"date_dmy", CHECK_DATE_DMY},
	{"date_dmy_dot", CHECK_DATE_DMY_DOT},
	{"credits", CHECK_CREDITS},
	{"email", CHECK_EMAIL},
	{"bool", CHECK_BOOL},
	{NULL}
};
const OptionVocab check_vocab = {"check", check_words, false, false, NULL};

static const OptionWord action_words[] = {
	{"add", ACT_ADD},
	{"update", ACT_UPDATE},
	{"delete", ACT_DELETE},
	{NULL}
};
const OptionVocab action_vocab = {"action", action_words, true, false, NULL};

static const OptionWord role_words[] = {
	{"student", ROLE_STUDENT},
	{"instructor", ROLE_INSTRUCTOR},
	{"parent", ROLE_PARENT},
	{NULL}
};
const OptionVocab role_vocab = {"role", role_words, true, false, NULL};

/* ---- lookup ---- */

bool
option_find(const OptionVocab *v, const char *s, uint32 accept, int *value)
{
	if (s == NULL)
		return false;
	for (int i = 0; v->words[i].word; i++)
	{
		if (!(accept & OPT_WORD(i)))
			continue;
		if (v->casefold ? pg_strcasecmp(s, v->words[i].word) == 0 : strcmp(s, v->words[i].word) == 0)
		{
			*value = v->words[i].value;
			return true;
		}
	}
	return false;
}

const char *
option_word(const OptionVocab *v, int value)
{
	for (int i = 0; v->words[i].word; i++)
		if (v->words[i].value == value && !v->words[i].hidden)
			return v->words[i].word;
	return NULL;
}

char *
option_list(const OptionVocab *v, uint32 accept, bool explain)
{
	StringInfoData b;
	int			n = 0;
	int			shown = 0;

	for (int i = 0; v->words[i].word; i++)
		if ((accept & OPT_WORD(i)) && !v->words[i].hidden)
			n++;
	initStringInfo(&b);
	for (int i = 0; v->words[i].word; i++)
	{
		const OptionWord *w = &v->words[i];

		if (!(accept & OPT_WORD(i)) || w->hidden)
			continue;
		if (shown > 0)
			appendStringInfoString(&b, shown == n - 1 ? " or " : ", ");
		appendStringInfoString(&b, w->word);
		if (explain && w->explain)
			appendStringInfo(&b, " (%s)", w->explain);
		shown++;
	}
	return b.data;
}

int
option_lookup(const OptionVocab *v, const char *s, uint32 accept, const char *context)
{
	int			value;

	if (option_find(v, s, accept, &value))
		return value;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s \"%s\"%s", v->option, s ? s : "", context ? context : ""),
			 errhint("Use %s%s%s.", v->one_of ? "one of " : "", option_list(v, accept, true),
					 v->hint_tail ? v->hint_tail : "")));
	return 0;					/* keep compiler quiet */
}
