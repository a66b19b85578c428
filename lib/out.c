/*
 * out.c: result and diagnostic output, and the single --json document.
 */
#include "out.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "json.h"

void
lep_out_init(struct lep_out *o, const char *cmd)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->err_tty = isatty(STDERR_FILENO);
}

void
lep_out_release(struct lep_out *o)
{
	lep_json_free(o->result);
	o->result = NULL;
}

void
lep_out_printf(struct lep_out *o, const char *fmt, ...)
{
	va_list	 ap;

	if (o->json)
		return;
	lep_out_progress_done(o);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

void
lep_out_write(struct lep_out *o, const void *p, size_t n)
{
	lep_out_progress_done(o);
	fwrite(p, 1, n, stdout);
}

void
lep_out_result(struct lep_out *o, struct lep_json *j)
{
	lep_json_free(o->result);
	o->result = j;
}

/* Copy msg with control characters (but tab) shown as '?'. */
static void
scrub(struct lep_buf *b, const char *msg)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)msg; *p; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			lep_buf_addch(b, '?');
		else
			lep_buf_addch(b, *p);
	}
}

void
lep_out_stderr(const char *prefix, const char *msg)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	ssize_t		 n;
	size_t		 off = 0;

	lep_buf_add(&b, prefix);
	scrub(&b, msg);
	lep_buf_addch(&b, '\n');
	while (off < b.len) {
		n = write(STDERR_FILENO, b.buf + off, b.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	lep_buf_release(&b);
}

static void
out_diag(struct lep_out *o, const char *kind, const char *fmt, va_list ap)
{
	char	 prefix[128];
	char	*msg;

	lep_out_progress_done(o);
	msg = xvasprintf(fmt, ap);
	snprintf(prefix, sizeof(prefix), "lepton: %s%s%s", o->cmd ? o->cmd : "",
	    o->cmd ? ": " : "", kind);
	lep_out_stderr(prefix, msg);
	free(msg);
}

void
lep_out_warn(struct lep_out *o, const char *fmt, ...)
{
	va_list	 ap;

	if (o->quiet)
		return;
	va_start(ap, fmt);
	out_diag(o, "warning: ", fmt, ap);
	va_end(ap);
}

void
lep_out_info(struct lep_out *o, const char *fmt, ...)
{
	va_list	 ap;

	if (!o->verbose)
		return;
	va_start(ap, fmt);
	out_diag(o, "", fmt, ap);
	va_end(ap);
}

void
lep_out_progress(struct lep_out *o, const char *fmt, ...)
{
	struct lep_buf	 b = LEP_BUF_INIT;
	char		*msg;
	va_list		 ap;

	if (!o->err_tty || o->quiet)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	lep_buf_add(&b, "\r\033[K");
	scrub(&b, msg);
	(void)!write(STDERR_FILENO, b.buf, b.len);
	o->progress_shown = 1;
	free(msg);
	lep_buf_release(&b);
}

void
lep_out_progress_done(struct lep_out *o)
{
	if (o->progress_shown) {
		(void)!write(STDERR_FILENO, "\r\033[K", 4);
		o->progress_shown = 0;
	}
}

int
lep_out_finish(struct lep_out *o, const struct lep_err *err)
{
	const struct lep_err_info	*info;
	struct lep_json			*doc, *e;
	char				 prefix[128];
	char				*s;
	int				 rc = 0;

	lep_out_progress_done(o);
	if (err != NULL) {
		info = lep_err_info(err->code);
		snprintf(prefix, sizeof(prefix), "lepton: %s%s",
		    o->cmd ? o->cmd : "", o->cmd ? ": " : "");
		lep_out_stderr(prefix, err->msg);
		if (err->hint[0])
			lep_out_stderr("hint: ", err->hint);
		rc = info->exit;
	}
	if (o->json) {
		doc = lep_json_obj();
		lep_json_set_int(doc, "lepton", 1);
		lep_json_set_bool(doc, "ok", err == NULL);
		if (err == NULL) {
			lep_json_set(doc, "result",
			    o->result ? o->result : lep_json_null());
			o->result = NULL;
		} else {
			e = lep_json_obj();
			lep_json_set_str(e, "code", info->name);
			lep_json_set_int(e, "exit", info->exit);
			lep_json_set_str(e, "message", err->msg);
			if (err->hint[0])
				lep_json_set_str(e, "hint", err->hint);
			if (err->provider)
				lep_json_set_str(e, "provider", err->provider);
			if (err->http_status)
				lep_json_set_int(e, "http_status",
				    err->http_status);
			if (err->reason[0])
				lep_json_set_str(e, "reason", err->reason);
			lep_json_set(doc, "error", e);
			/* What the command had to show before it failed. */
			if (o->result != NULL)
				lep_json_set(doc, "result", o->result);
			o->result = NULL;
		}
		s = lep_json_print(doc, 1);
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
		lep_json_free(doc);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno != EPIPE) {
			lep_out_stderr("lepton: ", "error writing to stdout");
			if (rc == 0)
				rc = 1;
		}
	}
	return rc;
}
