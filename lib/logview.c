/*
 * logview.c: log files, tailed and followed (see logview.h).
 */
#include "logview.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "out.h"
#include "types.h"

static volatile sig_atomic_t	 interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Offset of the start of the last n lines of fd (size bytes). */
static off_t
tail_offset(int fd, off_t size, long n)
{
	char	 buf[8192];
	off_t	 pos = size;
	long	 seen = 0;
	ssize_t	 got, i;

	if (n < 0)
		return 0;
	/* A final newline ends the last line; it does not start one. */
	if (size > 0 && pread(fd, buf, 1, size - 1) == 1 && buf[0] == '\n')
		seen = -1;
	while (pos > 0) {
		size_t	 want = pos > (off_t)sizeof(buf) ? sizeof(buf) :
		    (size_t)pos;

		got = pread(fd, buf, want, pos - (off_t)want);
		if (got <= 0)
			return 0;
		for (i = got - 1; i >= 0; i--) {
			if (buf[i] == '\n' && ++seen == n)
				return pos - (off_t)want + i + 1;
		}
		pos -= (off_t)want;
	}
	return 0;
}

static void
emit_lines(struct lep_logsrc *s, const char *data, size_t len, int prefix,
    struct lep_out *out, struct lep_json *lines, int final)
{
	const char	*nl;
	size_t		 k;
	struct lep_json	*o;

	lep_buf_addn(&s->partial, data, len);
	for (;;) {
		nl = memchr(s->partial.buf, '\n', s->partial.len);
		if (nl == NULL && !(final && s->partial.len > 0))
			break;
		k = nl ? (size_t)(nl - s->partial.buf) : s->partial.len;
		if (lines != NULL) {
			char	*line = xstrndup(s->partial.buf, k);

			o = lep_json_obj();
			lep_json_set_str(o, "source", s->label);
			lep_json_set_str(o, "line", line);
			lep_json_push(lines, o);
			free(line);
		} else {
			if (prefix) {
				lep_out_write(out, s->label, strlen(s->label));
				lep_out_write(out, "| ", 2);
			}
			lep_out_write(out, s->partial.buf, k);
			lep_out_write(out, "\n", 1);
		}
		k = nl ? k + 1 : k;
		memmove(s->partial.buf, s->partial.buf + k,
		    s->partial.len - k);
		s->partial.len -= k;
		s->partial.buf[s->partial.len] = '\0';
	}
}

static void
read_src(struct lep_logsrc *s, int prefix, struct lep_out *out,
    struct lep_json *lines, long tail, int first, int final)
{
	char		 buf[65536];
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == 0 && first)
		s->off = tail_offset(fd, st.st_size, tail);
	if (fstat(fd, &st) == 0 && st.st_size < s->off)
		s->off = 0;	/* truncated: start over */
	while ((n = pread(fd, buf, sizeof(buf), s->off)) > 0) {
		s->off += n;
		emit_lines(s, buf, (size_t)n, prefix, out, lines, 0);
	}
	if (final)
		emit_lines(s, "", 0, prefix, out, lines, 1);
	close(fd);
	fflush(stdout);
}

struct lep_json *
lep_logview_print(struct lep_logsrc *src, size_t nsrc,
    const struct lep_logs_req *req, struct lep_out *out,
    int (*alive)(void *arg), void *arg)
{
	struct lep_json		*lines = NULL;
	struct sigaction	 sa, old;
	struct timespec		 ts = { 0, 200 * 1000 * 1000 };
	size_t			 i;

	for (i = 0; i < nsrc; i++)
		lep_buf_init(&src[i].partial, 0);
	if (out->json)
		lines = lep_json_arr();
	for (i = 0; i < nsrc; i++)
		read_src(&src[i], nsrc > 1, out, lines, req->tail, 1,
		    !req->follow);
	if (!req->follow)
		return lines;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, &old);
	sigaction(SIGTERM, &sa, NULL);
	while (!interrupted && !ferror(stdout)) {
		nanosleep(&ts, NULL);
		for (i = 0; i < nsrc; i++)
			read_src(&src[i], nsrc > 1, out, lines, -1, 0, 0);
		/* Follow ends with the deployment or the job. */
		if (alive == NULL || !alive(arg))
			break;
	}
	for (i = 0; i < nsrc; i++)
		read_src(&src[i], nsrc > 1, out, lines, -1, 0, 1);
	sigaction(SIGINT, &old, NULL);
	return lines;
}

void
lep_logview_free(struct lep_logsrc *src, size_t nsrc)
{
	size_t	 i;

	for (i = 0; i < nsrc; i++) {
		free(src[i].path);
		lep_buf_release(&src[i].partial);
	}
	free(src);
}

