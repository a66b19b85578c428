/*
 * secret.c: `lepton secret set|list|rm`: the sealed store a spec's
 * 'secrets' are read from when lepton's environment does not set them.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"
#include "../lib/args.h"
#include "../lib/ctx.h"
#include "../lib/error.h"
#include "../lib/fs.h"
#include "../lib/json.h"
#include "../lib/out.h"
#include "../lib/secret.h"
#include "../lib/util.h"

static const struct lep_err *cmd_secret_exec(struct lep_ctx *,
	    const struct lep_args *);

static const struct lep_opt secret_opts[] = {
	{ NULL, 0, 0, NULL, NULL }
};

const struct lep_cmd cmd_secret_entry = {
	.name = "secret",
	.summary = "store, list and remove secrets that specs name",
	.usage = "set NAME | list | rm NAME",
	.description = "'set NAME' reads the value from standard input: on a "
	    "terminal one line, not echoed; from a pipe or a file every "
	    "byte, less one trailing newline (printf %s keeps a value as it "
	    "is). At most 64 KiB, not empty. It is sealed with AES-256-GCM "
	    "into $LEPTON_HOME/secrets/NAME under the key in "
	    "$LEPTON_SECRET_KEY (64 hex digits) or else "
	    "$LEPTON_HOME/secret.key, which the first 'set' makes. 'list' "
	    "shows names and when they were set, never values. 'rm NAME' "
	    "forgets one. A spec's 'secrets' come from lepton's environment "
	    "when set there (and not empty), else from this store.",
	.opts = secret_opts,
	.min_args = 1,
	.max_args = 2,
	.flags = CMD_MUTATES,
	.exec = cmd_secret_exec,
};

static volatile sig_atomic_t	 caught;

static void
on_signal(int sig)
{
	caught = sig;
}

/*
 * Read into buf (room for max bytes) until a newline (line) or the end,
 * or until buf is full. Returns the count, or -1 (errno) on an error or
 * a signal.
 */
static ssize_t
read_input(char *buf, size_t max, int line)
{
	size_t	 len = 0;
	ssize_t	 n;

	while (len < max) {
		n = read(STDIN_FILENO, buf + len, line ? 1 : max - len);
		if (n == -1 && errno == EINTR && !caught)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
		if (line && buf[len - 1] == '\n')
			break;
	}
	return (ssize_t)len;
}

/*
 * One line from the terminal with echo off, after a prompt on stderr.
 * The terminal is restored whatever happens, a Ctrl-C included.
 */
static ssize_t
read_from_tty(char *buf, size_t max, const char *name)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction	 sa, old[LEP_ARRAY_SIZE(sigs)];
	struct termios		 saved, quiet;
	char			*prompt;
	ssize_t			 n;
	size_t			 i;
	int			 restore;

	restore = tcgetattr(STDIN_FILENO, &saved) == 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: read returns */
	sigemptyset(&sa.sa_mask);
	caught = 0;
	for (i = 0; i < LEP_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, &old[i]);
	if (restore) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	prompt = xasprintf("value of %s (not shown): ", name);
	(void)!write(STDERR_FILENO, prompt, strlen(prompt));
	free(prompt);
	n = read_input(buf, max, 1);
	if (restore)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	(void)!write(STDERR_FILENO, "\n", 1);
	for (i = 0; i < LEP_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &old[i], NULL);
	return n;
}

/*
 * The value, from standard input, less one trailing newline: *out (room
 * for LEP_SECRET_MAX + 2 bytes) is the caller's to wipe and free.
 */
static const struct lep_err *
read_value(char **out, size_t *len_out, const char *name)
{
	const struct lep_err	*err = NULL;
	size_t			 max = LEP_SECRET_MAX + 2;
	ssize_t			 n;
	char			*buf;

	*len_out = 0;
	/* One buffer, never grown: a realloc would leave copies behind. */
	*out = buf = xmalloc(max);
	if (isatty(STDIN_FILENO))
		n = read_from_tty(buf, max, name);
	else
		n = read_input(buf, max, 0);
	if (n == -1 && caught)
		err = lep_err_new(LEP_E_INTERRUPTED, "interrupted; nothing "
		    "stored");
	else if (n == -1)
		err = lep_err_errno(LEP_E_FAILED, "cannot read the value of "
		    "'%s'", name);
	else if ((size_t)n == max)
		err = lep_err_new(LEP_E_USAGE, "the value of '%s' is larger "
		    "than %d bytes", name, LEP_SECRET_MAX);
	if (err != NULL)
		return err;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	*len_out = (size_t)n;
	return NULL;
}

static const struct lep_err *
secret_set(struct lep_ctx *ctx, const struct lep_args *args,
    const char *name)
{
	const struct lep_err	*err;
	struct lep_json		*res;
	char			*value = NULL, *key;
	long long		 lock_ms;
	size_t			 len = 0;
	int			 made = 0, lockfd = -1;

	if (!lep_secret_name_ok(name))	/* before asking for a value */
		return lep_secret_check(name, "", 0);
	if ((err = lep_cmd_lock_timeout(&lock_ms, args)) != NULL ||
	    (err = read_value(&value, &len, name)) != NULL ||
	    (err = lep_secret_check(name, value, len)) != NULL)
		goto done;
	if (ctx->dry_run) {
		lep_out_printf(&ctx->out, "would store secret '%s'\n", name);
		goto done;
	}
	/* The lock once the value is in: nobody waits on a typist. */
	if ((err = lep_lock(&lockfd, ctx->home, lock_ms)) != NULL ||
	    (err = lep_secret_set(&made, ctx->home, name, value, len)) != NULL)
		goto done;
	if (made) {
		key = lep_secret_key_path(ctx->home);
		lep_out_warn(&ctx->out, "made a new key '%s': keep a copy, "
		    "the secrets cannot be read without it", key);
		free(key);
	}
	if (ctx->out.json) {
		res = lep_json_obj();
		lep_json_set_str(res, "name", name);
		lep_json_set_bool(res, "new_key", made);
		lep_out_result(&ctx->out, res);
	} else
		lep_out_printf(&ctx->out, "stored secret '%s'\n", name);
done:
	lep_unlock(lockfd);
	if (value != NULL) {
		lep_wipe(value, LEP_SECRET_MAX + 2);
		free(value);
	}
	return err;
}

static const struct lep_err *
secret_list(struct lep_ctx *ctx)
{
	const struct lep_err	*err;
	struct lep_secret_info	*v;
	struct lep_json		*res, *arr, *o;
	size_t			 n, i;
	char			 when[32];

	if ((err = lep_secret_list(&v, &n, ctx->home)) != NULL)
		return err;
	res = lep_json_obj();
	arr = lep_json_arr();
	lep_out_printf(&ctx->out, "%-32s %s\n", "NAME", "SET");
	for (i = 0; i < n; i++) {
		if (v[i].set >= 0)
			lep_format_time(when, sizeof(when), v[i].set);
		else
			lep_strlcpy(when, "-", sizeof(when));
		o = lep_json_obj();
		lep_json_set_str(o, "name", v[i].name);
		lep_json_set_str(o, "set", v[i].set >= 0 ? when : NULL);
		lep_json_push(arr, o);
		lep_out_printf(&ctx->out, "%-32s %s\n", v[i].name, when);
	}
	lep_json_set(res, "secrets", arr);
	if (ctx->out.json)
		lep_out_result(&ctx->out, res);
	else
		lep_json_free(res);
	lep_secret_list_free(v, n);
	return NULL;
}

static const struct lep_err *
secret_rm(struct lep_ctx *ctx, const struct lep_args *args,
    const char *name)
{
	const struct lep_err	*err = NULL;
	struct lep_secret_info	*v = NULL;
	struct lep_json		*res;
	long long		 lock_ms;
	size_t			 n = 0, i;
	int			 lockfd = -1;

	if (ctx->dry_run) {
		if ((err = lep_secret_check(name, "x", 1)) != NULL ||
		    (err = lep_secret_list(&v, &n, ctx->home)) != NULL)
			return err;
		for (i = 0; i < n && strcmp(v[i].name, name) != 0; i++)
			;
		if (i == n)
			err = lep_err_hint(lep_err_new(LEP_E_NOT_FOUND, "no "
			    "secret named '%s'", name), "'lepton secret list' "
			    "lists them");
		else
			lep_out_printf(&ctx->out, "would remove secret "
			    "'%s'\n", name);
		lep_secret_list_free(v, n);
		return err;
	}
	if ((err = lep_cmd_lock_timeout(&lock_ms, args)) == NULL &&
	    (err = lep_lock(&lockfd, ctx->home, lock_ms)) == NULL)
		err = lep_secret_remove(ctx->home, name);
	lep_unlock(lockfd);
	if (err != NULL)
		return err;
	if (ctx->out.json) {
		res = lep_json_obj();
		lep_json_set_str(res, "name", name);
		lep_json_set_bool(res, "removed", 1);
		lep_out_result(&ctx->out, res);
	} else
		lep_out_printf(&ctx->out, "removed secret '%s'\n", name);
	return NULL;
}

static const struct lep_err *
cmd_secret_exec(struct lep_ctx *ctx, const struct lep_args *args)
{
	const char		*sub = lep_args_pos(args, 0);
	size_t			 want;

	if (strcmp(sub, "set") == 0 || strcmp(sub, "rm") == 0)
		want = 2;
	else if (strcmp(sub, "list") == 0)
		want = 1;
	else
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "unknown "
		    "subcommand '%s'", sub), "usage: lepton secret %s",
		    cmd_secret_entry.usage);
	if (args->npos != want)
		return lep_err_hint(lep_err_new(LEP_E_USAGE, "'secret %s' "
		    "takes %zu argument(s)", sub, want - 1), "usage: lepton "
		    "secret %s", cmd_secret_entry.usage);
	if (want == 1)
		return secret_list(ctx);
	if (strcmp(sub, "set") == 0)
		return secret_set(ctx, args, lep_args_pos(args, 1));
	return secret_rm(ctx, args, lep_args_pos(args, 1));
}
