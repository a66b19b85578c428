/*
 * spec.c: load a spec file, read it as YAML (yaml.c) and walk the tree
 * through the schema's sections (spec-*.c), with FILE:LINE:COL in errors.
 */
#include "spec.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "registry.h"
#include "spec-priv.h"
#include "util.h"
#include "yaml.h"

/* The provider table's names (lep_spec_set_providers), borrowed. */
static const char *const	*known_providers;
static size_t			 nknown_providers;

void
lep_spec_set_providers(const char *const *names, size_t n)
{
	known_providers = names;
	nknown_providers = n;
}

/* The model a service serves, or the one a job trains. */
static int
parse_model(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *m)
{
	static const char *const keys[] = {
		"name", "path", "version", "alias",
	};
	const char	*v;
	int		 n;

	if (spec_check_keys(s, m, "'model'", keys, LEP_ARRAY_SIZE(keys)) == -1)
		return -1;
	sp->has_model = 1;
	if (spec_get_string(s, m, "name", &sp->model.name, 0) == -1 ||
	    spec_check_name(s, m, "name", sp->model.name) == -1 ||
	    spec_get_string(s, m, "path", &sp->model.path, 0) == -1 ||
	    spec_get_string(s, m, "version", &sp->model.version, 0) == -1 ||
	    spec_get_string(s, m, "alias", &sp->model.alias, 0) == -1)
		return -1;
	n = (sp->model.path != NULL) + (sp->model.version != NULL) +
	    (sp->model.alias != NULL);
	/* A job may name only the model it trains (its output's name). */
	if (n > 1 || (n == 0 && sp->kind != LEP_SPEC_JOB))
		return spec_fail(s, m, "'model' needs exactly one of 'path', "
		    "'version' and 'alias'%s", sp->kind == LEP_SPEC_JOB ?
		    " (or none, for a job)" : "");
	v = sp->model.version;
	if (v != NULL && (v[0] != 'v' || !spec_all_digits(v + 1) ||
	    strlen(v) > 10))
		return spec_fail(s, lep_yaml_get(m, "version"), "'version' "
		    "must look like 'v3', not '%s'", v);
	if (spec_check_name(s, m, "alias", sp->model.alias) == -1)
		return -1;
	/*
	 * What 'lepton models tag' would refuse, no spec can name; but
	 * 'latest', which no tag can take, names the newest version.
	 */
	if (sp->model.alias != NULL &&
	    strcmp(sp->model.alias, "latest") != 0 &&
	    (v = lep_registry_alias_invalid(sp->model.alias)) != NULL)
		return spec_fail(s, lep_yaml_get(m, "alias"), "'alias' cannot "
		    "be '%s': %s", sp->model.alias, v);
	if (sp->model.name == NULL)
		sp->model.name = xstrdup(sp->name);
	return 0;
}

static void
spec_defaults(struct lep_spec *sp)
{
	sp->service.path = xstrdup("/predict");
	sp->service.ready_path = xstrdup("/healthz");
	sp->service.ready_timeout = 120;
	sp->service.replicas_min = sp->service.replicas_max = 1;
	sp->service.strategy = xstrdup("replace");
	sp->service.protocol = xstrdup("json");
	sp->job.nodes = 1;
}

static int
parse_kind(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *top)
{
	char	*kind = NULL;
	int	 rc;

	rc = spec_get_string(s, top, "kind", &kind, 1);
	if (rc == 0 && strcmp(kind, "service") == 0)
		sp->kind = LEP_SPEC_SERVICE;
	else if (rc == 0 && strcmp(kind, "job") == 0)
		sp->kind = LEP_SPEC_JOB;
	else if (rc == 0)
		rc = spec_fail(s, lep_yaml_get(top, "kind"), "'kind' must be "
		    "'service' or 'job', not '%s'", kind);
	free(kind);
	return rc;
}

/*
 * The mapping under key in top, when there, read by parse; only is the
 * kind it is for (a section named after it: service, job), or -1.
 */
static int
parse_section(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *top, const char *key, int only,
    int (*parse)(struct spec_ctx *, struct lep_spec *,
    const struct lep_yaml_node *))
{
	const struct lep_yaml_node	*m;
	int			 rc;

	rc = spec_get(s, top, key, SPEC_MAP, &m);
	if (m != NULL && only != -1 && (int)sp->kind != only)
		rc = spec_fail(s, m, "'%s' is only for kind '%s'", key, key);
	else if (m != NULL)
		rc = parse(s, sp, m);
	return rc;
}

static int
spec_from_tree(struct spec_ctx *s, struct lep_spec *sp,
    const struct lep_yaml_node *top)
{
	static const char *const keys[] = {
		"kind", "name", "model", "resources", "placement", "image",
		"setup", "run", "env", "secrets", "service", "job",
	};
	const struct lep_yaml_node	*env;
	int			 rc = 0;

	if (top->type != LEP_YAML_MAP)
		rc = spec_fail(s, top, "a spec must be a mapping with 'kind', "
		    "'name' and 'run', not %s",
		    spec_type_name(spec_typeof(top)));
	else if (spec_check_keys(s, top, "the spec", keys,
	    LEP_ARRAY_SIZE(keys)) == -1 ||
	    parse_kind(s, sp, top) == -1 ||
	    spec_get_string(s, top, "name", &sp->name, 1) == -1 ||
	    spec_check_name(s, top, "name", sp->name) == -1 ||
	    spec_parse_image(s, sp, top) == -1 ||
	    spec_get_string(s, top, "run", &sp->run, sp->image.ref == NULL &&
	    sp->image.build == NULL) == -1 ||
	    spec_get_string(s, top, "setup", &sp->setup, 0) == -1 ||
	    parse_section(s, sp, top, "model", -1, parse_model) == -1 ||
	    parse_section(s, sp, top, "resources", -1,
	    spec_parse_resources) == -1 ||
	    parse_section(s, sp, top, "placement", -1,
	    spec_parse_placement) == -1 ||
	    spec_get(s, top, "env", SPEC_MAP, &env) == -1 ||
	    spec_parse_env(s, sp, env, top) == -1 ||
	    parse_section(s, sp, top, "service", LEP_SPEC_SERVICE,
	    spec_parse_service) == -1 ||
	    parse_section(s, sp, top, "job", LEP_SPEC_JOB,
	    spec_parse_job) == -1)
		rc = -1;
	return rc;
}

const struct lep_err *
lep_spec_parse(struct lep_spec **out, const char *name, const char *dir,
    const char *text, size_t len)
{
	static const struct lep_yaml_limits lim = {
		.max_scalar = LEP_SPEC_MAX_SCALAR,
		.max_aliases = LEP_SPEC_MAX_ALIASES,
		.max_nodes = LEP_SPEC_MAX_NODES,
		.max_depth = LEP_SPEC_MAX_DEPTH,
	};
	const struct lep_err	*err;
	struct spec_ctx		 s;
	struct lep_yaml_node		*root = NULL;
	struct lep_spec		*sp = NULL;

	*out = NULL;
	if (len > LEP_SPEC_MAX_FILE) {
		err = lep_err_new(LEP_E_SPEC, "%s:1:1: spec is %zu bytes, "
		    "more than the %d allowed", name, len, LEP_SPEC_MAX_FILE);
		goto done;
	}
	if (memchr(text, '\0', len) != NULL) {
		err = lep_err_new(LEP_E_SPEC, "%s:1:1: spec holds a NUL "
		    "byte: not a text file", name);
		goto done;
	}
	if ((err = lep_yaml_load(&root, name, text, len, &lim)) != NULL)
		goto done;
	if (root == NULL) {
		err = lep_err_new(LEP_E_SPEC, "%s:1:1: empty spec: expected a "
		    "mapping with 'kind', 'name' and 'run'", name);
		goto done;
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->file = xstrdup(name);
	sp->dir = xstrdup(dir);
	spec_defaults(sp);
	memset(&s, 0, sizeof(s));
	s.file = name;
	s.providers = known_providers;
	s.nproviders = nknown_providers;
	if (spec_from_tree(&s, sp, root) == -1) {
		err = s.err;
		lep_spec_free(sp);
		sp = NULL;
	}
done:
	lep_yaml_free(root);
	*out = sp;
	return err;
}

const struct lep_err *
lep_spec_load_saved(struct lep_spec **out, const char *path,
    const char *name, const char *dir)
{
	const struct lep_err	*err;
	struct lep_buf		 b;

	*out = NULL;
	err = lep_read_file(&b, path, LEP_SPEC_MAX_FILE);
	if (err == NULL)
		err = lep_spec_parse(out, name ? name : path, dir ? dir : "/",
		    b.buf, b.len);
	lep_buf_release(&b);
	return err;
}

const struct lep_err *
lep_spec_load(struct lep_spec **out, const char *path)
{
	const struct lep_err	*err = NULL;
	struct lep_buf		 b = LEP_BUF_INIT;
	char			 chunk[8192], dir[PATH_MAX], *slash, *copy;
	ssize_t			 n;
	int			 fd;

	*out = NULL;
	if ((err = lep_open_read(&fd, path, 0)) != NULL)
		return err;
	lep_buf_init_max(&b, LEP_SPEC_MAX_FILE);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err = lep_err_errno(LEP_E_FAILED, "%s", path);
			goto done;
		}
		if (n == 0)
			break;
		if (lep_buf_addn(&b, chunk, (size_t)n) == -1) {
			err = lep_err_new(LEP_E_SPEC, "%s:1:1: spec is more "
			    "than the %d bytes allowed", path,
			    LEP_SPEC_MAX_FILE);
			goto done;
		}
	}
	copy = xstrdup(path);
	slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	if (realpath(slash ? copy : ".", dir) == NULL) {
		err = lep_err_errno(LEP_E_FAILED, "%s", path);
		free(copy);
		goto done;
	}
	free(copy);
	err = lep_spec_parse(out, path, dir, b.buf, b.len);
done:
	close(fd);
	lep_buf_release(&b);
	return err;
}

void
lep_spec_free(struct lep_spec *sp)
{
	size_t	 i;

	if (sp == NULL)
		return;
	free(sp->file);
	free(sp->dir);
	free(sp->name);
	free(sp->model.name);
	free(sp->model.path);
	free(sp->model.version);
	free(sp->model.alias);
	for (i = 0; i < sp->resources.naccels; i++)
		free(sp->resources.accels[i].name);
	free(sp->resources.accels);
	lep_strv_free(sp->placement.providers, sp->placement.nproviders);
	lep_strv_free(sp->placement.regions, sp->placement.nregions);
	lep_strv_free(sp->placement.zones, sp->placement.nzones);
	free(sp->placement.partition);
	free(sp->placement.account);
	free(sp->image.ref);
	free(sp->image.build);
	free(sp->image.build_dir);
	free(sp->image.dockerfile);
	free(sp->setup);
	free(sp->run);
	for (i = 0; i < sp->nenv; i++) {
		free(sp->env[i].key);
		free(sp->env[i].value);
	}
	free(sp->env);
	lep_strv_free(sp->secrets, sp->nsecrets);
	free(sp->service.path);
	free(sp->service.ready_path);
	free(sp->service.strategy);
	free(sp->service.protocol);
	free(sp->job.output_model);
	free(sp);
}
