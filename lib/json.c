/*
 * json.c: lep_json over cJSON. cJSON's allocator is pointed at xmalloc so
 * that no constructor can return NULL.
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "error.h"
#include "util.h"

#define J(p)	((cJSON *)(p))
#define CJ(p)	((const cJSON *)(p))
#define L(p)	((struct lep_json *)(p))

static void
json_hooks(void)
{
	static int	 done;
	cJSON_Hooks	 hooks = { xmalloc, free };

	if (!done) {
		cJSON_InitHooks(&hooks);
		done = 1;
	}
}

static struct lep_json *
checked(cJSON *j)
{
	if (j == NULL)
		lep_die_oom();
	return L(j);
}

struct lep_json *
lep_json_obj(void)
{
	json_hooks();
	return checked(cJSON_CreateObject());
}

struct lep_json *
lep_json_arr(void)
{
	json_hooks();
	return checked(cJSON_CreateArray());
}

struct lep_json *
lep_json_str(const char *s)
{
	json_hooks();
	if (s == NULL)
		return checked(cJSON_CreateNull());
	return checked(cJSON_CreateString(s));
}

/* Are these len bytes UTF-8 (no overlong form, surrogate or past U+10FFFF)? */
static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t		 i = 0, n, k;
	unsigned long	 cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1, cp = s[i] & 0x1f;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 2, cp = s[i] & 0x0f;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 3, cp = s[i] & 0x07;
		else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

struct lep_json *
lep_json_bytes(const char *s, size_t len)
{
	struct lep_json	*o;
	struct lep_buf	 b = LEP_BUF_INIT;
	cJSON		*raw;
	size_t		 i;

	json_hooks();
	if (!utf8_valid((const unsigned char *)s, len)) {
		char *b64 = lep_base64(s, len, 0);

		o = lep_json_obj();
		lep_json_set_str(o, "base64", b64);
		free(b64);
		return o;
	}
	if (memchr(s, '\0', len) == NULL) {
		lep_buf_addn(&b, s, len);	/* s need not end in a NUL */
		o = lep_json_str(b.buf);
		lep_buf_release(&b);
		return o;
	}
	/* cJSON would stop at the first NUL: the string, printed by us. */
	lep_buf_addch(&b, '"');
	for (i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			lep_buf_addf(&b, "\\%c", s[i]);
		else if (s[i] == '\n')
			lep_buf_add(&b, "\\n");
		else if (s[i] == '\r')
			lep_buf_add(&b, "\\r");
		else if (s[i] == '\t')
			lep_buf_add(&b, "\\t");
		else if ((unsigned char)s[i] < 0x20)
			lep_buf_addf(&b, "\\u%04x", (unsigned char)s[i]);
		else
			lep_buf_addch(&b, s[i]);
	}
	lep_buf_addch(&b, '"');
	raw = cJSON_CreateRaw(b.buf);
	lep_buf_release(&b);
	return checked(raw);
}

struct lep_json *
lep_json_num(double v)
{
	json_hooks();
	return checked(cJSON_CreateNumber(v));
}

struct lep_json *
lep_json_int(long long v)
{
	return lep_json_num((double)v);
}

struct lep_json *
lep_json_bool(int v)
{
	json_hooks();
	return checked(cJSON_CreateBool(v != 0));
}

struct lep_json *
lep_json_null(void)
{
	json_hooks();
	return checked(cJSON_CreateNull());
}

struct lep_json *
lep_json_dup(const struct lep_json *j)
{
	json_hooks();
	return checked(cJSON_Duplicate(CJ(j), cJSON_True));
}

void
lep_json_free(struct lep_json *j)
{
	cJSON_Delete(J(j));
}

/* Zero every string value below c (keys are not secret). */
static void
wipe_strings(cJSON *c)
{
	for (; c != NULL; c = c->next) {
		if (cJSON_IsString(c) && c->valuestring != NULL)
			lep_wipe(c->valuestring, strlen(c->valuestring));
		wipe_strings(c->child);
	}
}

void
lep_json_free_wiped(struct lep_json *j)
{
	if (j == NULL)
		return;
	wipe_strings(J(j)->child);
	if (cJSON_IsString(J(j)) && J(j)->valuestring != NULL)
		lep_wipe(J(j)->valuestring, strlen(J(j)->valuestring));
	cJSON_Delete(J(j));
}

void
lep_json_set(struct lep_json *obj, const char *key, struct lep_json *val)
{
	if (cJSON_HasObjectItem(J(obj), key))
		cJSON_ReplaceItemInObjectCaseSensitive(J(obj), key, J(val));
	else
		cJSON_AddItemToObject(J(obj), key, J(val));
}

void
lep_json_set_str(struct lep_json *obj, const char *key, const char *s)
{
	lep_json_set(obj, key, lep_json_str(s));
}

void
lep_json_set_int(struct lep_json *obj, const char *key, long long v)
{
	lep_json_set(obj, key, lep_json_int(v));
}

void
lep_json_set_num(struct lep_json *obj, const char *key, double v)
{
	lep_json_set(obj, key, lep_json_num(v));
}

void
lep_json_set_bool(struct lep_json *obj, const char *key, int v)
{
	lep_json_set(obj, key, lep_json_bool(v));
}

void
lep_json_push(struct lep_json *arr, struct lep_json *val)
{
	cJSON_AddItemToArray(J(arr), J(val));
}

/*
 * cJSON indents with tabs and puts a tab after ':'; print two spaces and
 * one space instead, so that the output is also valid spec YAML (which
 * forbids tabs). Strings never hold a raw tab: cJSON escapes it.
 */
static char *
untab(char *s)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	const char	*p;

	for (p = s; *p; p++) {
		if (*p != '\t')
			lep_buf_addch(&b, *p);
		else if (p > s && p[-1] == ':')
			lep_buf_addch(&b, ' ');
		else
			lep_buf_add(&b, "  ");
	}
	free(s);
	return lep_buf_detach(&b, NULL);
}

char *
lep_json_print(const struct lep_json *j, int pretty)
{
	char	*s;

	json_hooks();
	s = pretty ? cJSON_Print(CJ(j)) : cJSON_PrintUnformatted(CJ(j));
	if (s == NULL)
		lep_die_oom();
	return pretty ? untab(s) : s;
}

const struct lep_err *
lep_json_parse(struct lep_json **out, const char *text, size_t len,
    const char *what)
{
	const char	*end = NULL, *p;
	cJSON		*j;
	size_t		 line = 1, col = 1;

	json_hooks();
	*out = NULL;
	j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (j != NULL && end != NULL) {
		/* One value, then only white space. */
		while (end < text + len && (*end == ' ' || *end == '\t' ||
		    *end == '\n' || *end == '\r'))
			end++;
		if (end < text + len) {
			cJSON_Delete(j);
			j = NULL;
		}
	}
	if (j == NULL) {
		if (end == NULL || end < text || end > text + len)
			end = text;
		for (p = text; p < end; p++) {
			if (*p == '\n') {
				line++;
				col = 1;
			} else
				col++;
		}
		return lep_err_new(LEP_E_FAILED,
		    "%s: line %zu col %zu: invalid JSON", what, line, col);
	}
	*out = L(j);
	return NULL;
}

enum lep_json_type
lep_json_type(const struct lep_json *j)
{
	const cJSON	*c = CJ(j);

	if (c == NULL)
		return LEP_JSON_INVALID;
	switch (c->type & 0xff) {
	case cJSON_NULL:
		return LEP_JSON_NULL;
	case cJSON_True:
	case cJSON_False:
		return LEP_JSON_BOOL;
	case cJSON_Number:
		return LEP_JSON_NUMBER;
	case cJSON_String:
		return LEP_JSON_STRING;
	case cJSON_Array:
		return LEP_JSON_ARRAY;
	case cJSON_Object:
		return LEP_JSON_OBJECT;
	}
	return LEP_JSON_INVALID;
}

struct lep_json *
lep_json_get(const struct lep_json *j, const char *key)
{
	if (j == NULL || !cJSON_IsObject(CJ(j)))
		return NULL;
	return L(cJSON_GetObjectItemCaseSensitive(CJ(j), key));
}

const char *
lep_json_get_str(const struct lep_json *j, const char *key)
{
	return lep_json_string(lep_json_get(j, key));
}

int
lep_json_ll(const struct lep_json *j, long long *out)
{
	const cJSON	*c = CJ(j);
	double		 d;

	if (c == NULL || !cJSON_IsNumber(c))
		return -1;
	/* Converting what long long cannot hold is undefined behaviour. */
	d = c->valuedouble;
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return -1;
	*out = (long long)d;
	return 0;
}

int
lep_json_get_ll(const struct lep_json *j, const char *key, long long *out)
{
	return lep_json_ll(lep_json_get(j, key), out);
}

int
lep_json_get_bool(const struct lep_json *j, const char *key, int def)
{
	const cJSON	*c = CJ(lep_json_get(j, key));

	if (c == NULL || !cJSON_IsBool(c))
		return def;
	return cJSON_IsTrue(c);
}

const char *
lep_json_string(const struct lep_json *j)
{
	if (j == NULL || !cJSON_IsString(CJ(j)))
		return NULL;
	return CJ(j)->valuestring;
}

double
lep_json_number(const struct lep_json *j)
{
	if (j == NULL || !cJSON_IsNumber(CJ(j)))
		return 0;
	return CJ(j)->valuedouble;
}

size_t
lep_json_len(const struct lep_json *j)
{
	if (j == NULL)
		return 0;
	return (size_t)cJSON_GetArraySize(CJ(j));
}

struct lep_json *
lep_json_at(const struct lep_json *j, size_t i)
{
	if (j == NULL)
		return NULL;
	return L(cJSON_GetArrayItem(CJ(j), (int)i));
}

const char *
lep_json_key(const struct lep_json *j)
{
	return j == NULL ? NULL : CJ(j)->string;
}
