/*
 * ledger.c: an append-only JSON-lines file. A line is written whole with
 * one write() and fsync'd; a line cut short by a crash has no newline, is
 * ignored when read, and is cut off before the next append.
 */
#include "ledger.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fs.h"
#include "json.h"
#include "money.h"
#include "util.h"

int64_t
lep_epoch_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct lep_err *
append_line(const char *home, const char *line)
{
	const struct lep_err	*err = NULL;
	struct stat		 st;
	char			*path, last;
	off_t			 keep;
	int			 fd;

	if ((err = lep_mkdirs(home, 0700)) != NULL)
		return err;
	path = xasprintf("%s/ledger.jsonl", home);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1) {
		err = lep_err_errno(LEP_E_FAILED, "cannot open '%s'", path);
		goto done;
	}
	/* A torn last line (a crash mid-write): cut it off first. */
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n') {
		char	 buf[4096];
		ssize_t	 got;

		keep = st.st_size;
		while (keep > 0) {
			off_t	 from = keep > (off_t)sizeof(buf) ?
			    keep - (off_t)sizeof(buf) : 0;

			got = pread(fd, buf, (size_t)(keep - from), from);
			if (got <= 0)
				break;
			while (got > 0 && buf[got - 1] != '\n')
				got--;
			if (got > 0) {
				keep = from + got;
				break;
			}
			keep = from;
		}
		if (ftruncate(fd, keep) == -1) {
			err = lep_err_errno(LEP_E_FAILED, "cannot repair '%s'",
			    path);
			goto done;
		}
	}
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line) ||
	    fsync(fd) == -1)
		err = lep_err_errno(LEP_E_FAILED, "cannot append to '%s'",
		    path);
done:
	if (fd != -1)
		close(fd);
	free(path);
	return err;
}

const struct lep_err *
lep_ledger_record(const char *home, const char *what,
    const struct lep_segment *seg, int64_t at_ms)
{
	const struct lep_err	*err;
	struct lep_json		*j;
	char			*s, *line, price[32];

	j = lep_json_obj();
	lep_json_set_str(j, "op", "close");
	lep_json_set_str(j, "what", what);
	lep_json_set_num(j, "t", (double)at_ms);
	if (seg != NULL) {
		lep_json_set_str(j, "op", "open");
		lep_json_set_str(j, "kind", seg->kind);
		lep_json_set_str(j, "model", seg->model ? seg->model : "");
		lep_json_set_str(j, "provider", seg->provider);
		lep_json_set_str(j, "region", seg->region);
		lep_json_set_str(j, "instance", seg->instance);
		lep_json_set_int(j, "revision", seg->revision);
		lep_json_set_int(j, "machines", seg->machines);
		/* A decimal string: money never passes through a double. */
		lep_json_set_str(j, "price", lep_money_format(price,
		    sizeof(price), seg->price));
	}
	s = lep_json_print(j, 0);
	line = xasprintf("%s\n", s);
	err = append_line(home, line);
	free(line);
	free(s);
	lep_json_free(j);
	return err;
}

static void
seg_release(struct lep_segment *s)
{
	free(s->what);
	free(s->kind);
	free(s->model);
	free(s->provider);
	free(s->region);
	free(s->instance);
}

void
lep_segments_free(struct lep_segment *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		seg_release(&v[i]);
	free(v);
}

static char *
dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

const struct lep_err *
lep_ledger_read(struct lep_segment **out, size_t *n_out, const char *home)
{
	const struct lep_err	*err;
	struct lep_segment	*v = NULL, *s;
	struct lep_json		*j;
	struct lep_buf		 b;
	const char		*op, *what;
	char			*path, *line, *nl;
	size_t			 n = 0, i, lineno = 0;
	long long		 t, ll;

	*out = NULL;
	*n_out = 0;
	path = xasprintf("%s/ledger.jsonl", home);
	err = lep_read_file(&b, path, 256u << 20);
	if (err != NULL) {
		lep_buf_release(&b);
		free(path);
		return err->code == LEP_E_NOT_FOUND ? NULL : err;
	}
	for (line = b.buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		lineno++;
		*nl = '\0';
		j = NULL;
		if (lep_json_parse(&j, line, (size_t)(nl - line), path) !=
		    NULL || (op = lep_json_get_str(j, "op")) == NULL ||
		    (what = lep_json_get_str(j, "what")) == NULL ||
		    lep_json_get_ll(j, "t", &t) == -1) {
			lep_json_free(j);
			err = lep_err_new(LEP_E_FAILED, "%s:%zu: not a ledger "
			    "entry", path, lineno);
			break;
		}
		/* Close every open segment of what, then maybe open one. */
		for (i = 0; i < n; i++)
			if (v[i].end_ms == 0 && strcmp(v[i].what, what) == 0)
				v[i].end_ms = t;
		if (strcmp(op, "open") == 0) {
			v = xreallocarray(v, n + 1, sizeof(*v));
			s = &v[n++];
			memset(s, 0, sizeof(*s));
			s->what = xstrdup(what);
			s->kind = dup_or_empty(lep_json_get_str(j, "kind"));
			s->model = dup_or_empty(lep_json_get_str(j, "model"));
			s->provider = dup_or_empty(lep_json_get_str(j,
			    "provider"));
			s->region = dup_or_empty(lep_json_get_str(j, "region"));
			s->instance = dup_or_empty(lep_json_get_str(j,
			    "instance"));
			s->revision = lep_json_get_ll(j, "revision", &ll) == 0 ?
			    (int)ll : 0;
			s->machines = lep_json_get_ll(j, "machines", &ll) == 0 ?
			    (int)ll : 1;
			s->start_ms = t;
			if (lep_money_parse(&s->price,
			    lep_json_get_str(j, "price")) == -1)
				s->price = 0;
		}
		lep_json_free(j);
	}
	lep_buf_release(&b);
	free(path);
	if (err != NULL) {
		lep_segments_free(v, n);
		return err;
	}
	*out = v;
	*n_out = n;
	return NULL;
}

struct group {
	char		*key;
	__int128	 raw;		/* micro-USD x ms / machine-hour */
	int64_t		 machine_ms;
};

static struct group *
group_of(struct group **g, size_t *n, const char *key)
{
	size_t	 i;

	for (i = 0; i < *n; i++)
		if (strcmp((*g)[i].key, key) == 0)
			return &(*g)[i];
	*g = xreallocarray(*g, *n + 1, sizeof(**g));
	memset(&(*g)[*n], 0, sizeof(**g));
	(*g)[*n].key = xstrdup(key);
	return &(*g)[(*n)++];
}

static int64_t
round_hours(__int128 raw)
{
	return (int64_t)((raw + 1800000) / 3600000);
}

const struct lep_err *
lep_ledger_spend(struct lep_spend **out, size_t *n_out, int64_t *total_out,
    const struct lep_segment *segs, size_t nseg, int64_t since_ms,
    int64_t now_ms, const char *by)
{
	struct group	*g = NULL, *gr;
	__int128	 all = 0;
	size_t		 n = 0, i;
	int64_t		 s, e, cut, day = 86400000;
	char		 key[64], ts[32];

	*out = NULL;
	*n_out = 0;
	*total_out = 0;
	if (by != NULL && strcmp(by, "deployment") != 0 &&
	    strcmp(by, "model") != 0 && strcmp(by, "provider") != 0 &&
	    strcmp(by, "day") != 0)
		return lep_err_new(LEP_E_USAGE, "--by wants deployment, model, "
		    "provider or day, not '%s'", by);
	for (i = 0; i < nseg; i++) {
		s = segs[i].start_ms > since_ms ? segs[i].start_ms : since_ms;
		e = segs[i].end_ms ? segs[i].end_ms : now_ms;
		if (e > now_ms)
			e = now_ms;
		/* Days split a segment at UTC midnight; the rest do not. */
		while (e > s) {
			cut = e;
			if (by == NULL)
				snprintf(key, sizeof(key), "%zu", i);
			else if (strcmp(by, "deployment") == 0)
				lep_strlcpy(key, segs[i].what, sizeof(key));
			else if (strcmp(by, "model") == 0)
				lep_strlcpy(key, segs[i].model[0] ?
				    segs[i].model : "-", sizeof(key));
			else if (strcmp(by, "provider") == 0)
				lep_strlcpy(key, segs[i].provider, sizeof(key));
			else {
				cut = (s / day + 1) * day;
				if (cut > e)
					cut = e;
				lep_format_time(ts, sizeof(ts), s / 1000);
				snprintf(key, sizeof(key), "%.10s", ts);
			}
			gr = group_of(&g, &n, key);
			gr->raw += (__int128)segs[i].price * segs[i].machines *
			    (cut - s);
			gr->machine_ms += (int64_t)segs[i].machines * (cut - s);
			all += (__int128)segs[i].price * segs[i].machines *
			    (cut - s);
			s = cut;
		}
	}
	*out = xcalloc(n + 1, sizeof(**out));
	for (i = 0; i < n; i++) {
		(*out)[i].key = g[i].key;
		(*out)[i].micro = round_hours(g[i].raw);
		(*out)[i].machine_ms = g[i].machine_ms;
	}
	free(g);
	*n_out = n;
	*total_out = round_hours(all);
	return NULL;
}

void
lep_spend_free(struct lep_spend *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}
