/*
 * json.h: the JSON values lepton reads and writes (a wrapper over cJSON,
 * which no other module includes).
 */
#ifndef LEPTON_LIB_JSON_H
#define LEPTON_LIB_JSON_H

#include <stddef.h>

struct lep_err;
struct lep_json;

enum lep_json_type {
	LEP_JSON_INVALID,
	LEP_JSON_NULL,
	LEP_JSON_BOOL,
	LEP_JSON_NUMBER,
	LEP_JSON_STRING,
	LEP_JSON_ARRAY,
	LEP_JSON_OBJECT,
};

/* Constructors never return NULL; the caller frees with lep_json_free. */
struct lep_json	*lep_json_obj(void);
struct lep_json	*lep_json_arr(void);
struct lep_json	*lep_json_str(const char *);	/* NULL gives null */
/*
 * len bytes carried whole: a string when they are UTF-8, NUL bytes
 * included (printed \u0000; cJSON holds C strings, so such a value is
 * kept printed and lep_json_string gives NULL for it), else an object
 * {"base64": "..."} of the bytes.
 */
struct lep_json	*lep_json_bytes(const char *, size_t len);
struct lep_json	*lep_json_num(double);
struct lep_json	*lep_json_int(long long);
struct lep_json	*lep_json_bool(int);
struct lep_json	*lep_json_null(void);
struct lep_json	*lep_json_dup(const struct lep_json *);
void		 lep_json_free(struct lep_json *);	/* accepts NULL */
/* The same, zeroing every string value first (secrets). */
void		 lep_json_free_wiped(struct lep_json *);

/* Setters take ownership of val; a key set twice is replaced. */
void	 lep_json_set(struct lep_json *obj, const char *key, struct lep_json *);
void	 lep_json_set_str(struct lep_json *, const char *, const char *);
void	 lep_json_set_int(struct lep_json *, const char *, long long);
void	 lep_json_set_num(struct lep_json *, const char *, double);
void	 lep_json_set_bool(struct lep_json *, const char *, int);
void	 lep_json_push(struct lep_json *arr, struct lep_json *val);

/* Caller frees with free(). pretty: two-space indentation, no tabs. */
char	*lep_json_print(const struct lep_json *, int pretty);

/*
 * Parse len bytes. On error: LEP_E_FAILED with "what: line L col C: ..."
 * (what names the input for the message). *out: caller frees.
 */
const struct lep_err *lep_json_parse(struct lep_json **out, const char *text,
	    size_t len, const char *what);

/*
 * Accessors return borrowed values; NULL/-1 when absent or mistyped. A
 * number as a long long (its integer part) is -1 too when it is out of
 * long long's range.
 */
enum lep_json_type lep_json_type(const struct lep_json *);
struct lep_json	*lep_json_get(const struct lep_json *, const char *key);
const char	*lep_json_get_str(const struct lep_json *, const char *key);
int		 lep_json_get_ll(const struct lep_json *, const char *key,
		     long long *out);
int		 lep_json_ll(const struct lep_json *, long long *out);
int		 lep_json_get_bool(const struct lep_json *, const char *key,
		     int def);
const char	*lep_json_string(const struct lep_json *);
double		 lep_json_number(const struct lep_json *);
size_t		 lep_json_len(const struct lep_json *);	/* array or object */
struct lep_json	*lep_json_at(const struct lep_json *, size_t);
const char	*lep_json_key(const struct lep_json *);	/* of an object member */

#endif
