/*
 * spec-image.c: the spec's 'image': a container image reference
 * ("python:3.11", "registry:5000/team/app@sha256:..."), or one to build
 * from a directory with a Dockerfile ({build: DIR, dockerfile: FILE}).
 * Only a provider that runs containers honours it; the others refuse it
 * (LEP_CAP_IMAGE).
 */
#include "spec.h"

#include <ctype.h>
#include <string.h>

#include "spec-priv.h"
#include "util.h"
#include "yaml.h"

/* [a-z0-9]+ joined by '.', '_', '__' or '-'s: one path component. */
static int
component_ok(const char *p, size_t n)
{
	size_t	 i, run = 0;

	if (n == 0 || !isalnum((unsigned char)p[0]) ||
	    !isalnum((unsigned char)p[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		if (islower((unsigned char)p[i]) || isdigit((unsigned char)p[i]))
			run = 0;
		else if (p[i] == '.' || p[i] == '_' || p[i] == '-') {
			if (++run > 1 && !(p[i] == '_' && run == 2) &&
			    p[i] != '-')
				return 0;
		} else
			return 0;
	}
	return 1;
}

/*
 * Docker's reference grammar: [HOST[:PORT]/]PATH[:TAG][@ALGO:HEX], the
 * host told apart by a '.' or ':' or "localhost" in its first component.
 */
static const char *
reference_error(const char *ref)
{
	const char	*at = strchr(ref, '@'), *slash, *colon, *p, *end;
	size_t		 n, len = strlen(ref);

	if (len > 255)
		return "is longer than 255 characters";
	if (at != NULL) {
		colon = strchr(at, ':');
		if (colon == NULL || colon == at + 1 || strlen(colon + 1) < 32)
			return "has a digest that is not ALGORITHM:HEX "
			    "(sha256:...)";
		for (p = colon + 1; *p; p++)
			if (!isxdigit((unsigned char)*p))
				return "has a digest that is not hexadecimal";
		len = (size_t)(at - ref);
	}
	if (len == 0)
		return "has no name before its digest";
	if (ref[len - 1] == '/' || ref[0] == '/')
		return "begins or ends in '/'";
	end = ref + len;
	slash = memchr(ref, '/', len);
	p = ref;
	if (slash != NULL && (memchr(ref, '.', (size_t)(slash - ref)) ||
	    memchr(ref, ':', (size_t)(slash - ref)) ||
	    ((size_t)(slash - ref) == 9 && strncmp(ref, "localhost", 9) == 0)))
		p = slash + 1;	/* a registry host: not checked further */
	if (p == end || *p == ':')
		return "has a registry but no name";
	/* A tag after the last ':' past the last '/'. */
	colon = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == ':')
			colon = q;
		else if (*q == '/')
			colon = NULL;
	if (colon != NULL) {
		n = (size_t)(end - colon - 1);
		if (n == 0 || n > 128 || colon[1] == '.' || colon[1] == '-')
			return "has an empty or over-long tag, or one that "
			    "begins with '.' or '-'";
		for (const char *q = colon + 1; q < end; q++)
			if (!isalnum((unsigned char)*q) && *q != '_' &&
			    *q != '.' && *q != '-')
				return "has a tag with characters other than "
				    "letters, digits, '_', '.' and '-'";
		end = colon;
	}
	while (p < end) {
		slash = memchr(p, '/', (size_t)(end - p));
		n = slash ? (size_t)(slash - p) : (size_t)(end - p);
		if (!component_ok(p, n))
			return "is not a valid image reference (lowercase "
			    "letters, digits and separators: "
			    "[HOST/]NAME[:TAG][@sha256:DIGEST])";
		p += n + (slash != NULL);
		if (slash != NULL && p == end)
			return "ends in '/'";
	}
	return NULL;
}

int
spec_parse_image(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *top)
{
	static const char *const keys[] = { "build", "dockerfile" };
	const struct lep_yaml_node	*v = lep_yaml_get(top, "image"), *b;
	const char			*why;

	if (v == NULL)
		return 0;
	sp->image.pos.line = v->line;
	sp->image.pos.col = v->col;
	if (spec_typeof(v) == SPEC_STRING) {
		if (v->len == 0)
			return spec_fail(s, v, "'image' must not be empty");
		if ((why = reference_error(v->val)) != NULL)
			return spec_fail(s, v, "image '%s' %s", v->val, why);
		sp->image.ref = xstrdup(v->val);
		return 0;
	}
	if (spec_typeof(v) != SPEC_MAP)
		return spec_fail(s, v, "'image' must be a reference (a "
		    "string) or a mapping {build: DIR}, not %s",
		    spec_type_name(spec_typeof(v)));
	if (spec_check_keys(s, v, "'image'", keys, LEP_ARRAY_SIZE(keys)) ==
	    -1 || spec_get_string(s, v, "build", &sp->image.build, 1) == -1 ||
	    spec_get_string(s, v, "dockerfile", &sp->image.dockerfile, 0) == -1)
		return -1;
	if (sp->image.dockerfile != NULL && (sp->image.dockerfile[0] == '/' ||
	    strstr(sp->image.dockerfile, "..") != NULL)) {
		b = lep_yaml_get(v, "dockerfile");
		return spec_fail(s, b, "image.dockerfile is a path inside the "
		    "build directory: not absolute, no '..'");
	}
	sp->image.build_dir = sp->image.build[0] == '/' ?
	    xstrdup(sp->image.build) : xasprintf("%s/%s", sp->dir,
	    sp->image.build);
	return 0;
}
