/*
 * ledger-report.c: `lepton cost report`: the spend in the ledger, one row
 * per segment or per group, as a table or JSON.
 */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "json.h"
#include "money.h"
#include "out.h"
#include "util.h"

/* A report: what lep_ledger_spend made of the segments. */
struct report {
	const struct lep_segment *segs;
	const struct lep_spend	 *rows;
	size_t			  n;
	int64_t			  since_ms, now_ms, total;
	const char		 *by;	/* NULL: one row per segment */
};

/* Ungrouped, a row's key is its segment's index. */
static const struct lep_segment *
row_segment(const struct report *r, size_t i)
{
	return &r->segs[strtoul(r->rows[i].key, NULL, 10)];
}

static void
segment_json(struct lep_json *o, const struct lep_segment *sg)
{
	char	 a[32], p[32];

	lep_json_set_str(o, "deployment", sg->what);
	lep_json_set_int(o, "revision", sg->revision);
	lep_json_set_str(o, "provider", sg->provider);
	lep_json_set_str(o, "region", sg->region);
	lep_json_set_str(o, "instance", sg->instance);
	lep_json_set_int(o, "machines", sg->machines);
	lep_json_set_str(o, "price", lep_money_format(p, sizeof(p),
	    sg->price));
	lep_format_time(a, sizeof(a), sg->start_ms / 1000);
	lep_json_set_str(o, "start", a);
	if (sg->end_ms) {
		lep_format_time(a, sizeof(a), sg->end_ms / 1000);
		lep_json_set_str(o, "end", a);
	} else
		lep_json_set(o, "end", lep_json_null());
}

static void
report_json(struct lep_out *out, const struct report *r)
{
	struct lep_json	*res, *arr, *o;
	char		 m[32], a[32], b[32];
	size_t		 i;

	res = lep_json_obj();
	lep_format_time(a, sizeof(a), r->since_ms / 1000);
	lep_format_time(b, sizeof(b), r->now_ms / 1000);
	lep_json_set_str(res, "since", a);
	lep_json_set_str(res, "until", b);
	lep_json_set_str(res, "currency", LEP_CURRENCY);
	lep_json_set_str(res, "by", r->by ? r->by : "segment");
	arr = lep_json_arr();
	for (i = 0; i < r->n; i++) {
		o = lep_json_obj();
		if (r->by == NULL)
			segment_json(o, row_segment(r, i));
		else
			lep_json_set_str(o, "key", r->rows[i].key);
		lep_json_set_int(o, "machine_ms", r->rows[i].machine_ms);
		lep_json_set_str(o, "amount", lep_money_format(m, sizeof(m),
		    r->rows[i].micro));
		lep_json_push(arr, o);
	}
	lep_json_set(res, "rows", arr);
	lep_json_set_str(res, "total", lep_money_format(m, sizeof(m),
	    r->total));
	lep_out_result(out, res);
}

static void
segment_text(struct lep_out *out, const struct lep_segment *sg,
    const struct lep_spend *row)
{
	char	 m[32], a[32], b[32], p[32];

	lep_format_time(a, sizeof(a), sg->start_ms / 1000);
	if (sg->end_ms)
		lep_format_time(b, sizeof(b), sg->end_ms / 1000);
	else
		lep_strlcpy(b, "running", sizeof(b));
	lep_out_printf(out, "%-20s %-4d %-8s %-14s %-9s %4d %10.4f %20s %20s "
	    "%10s\n", sg->what, sg->revision, sg->provider, sg->instance,
	    lep_money_format(p, sizeof(p), sg->price), sg->machines,
	    (double)row->machine_ms / 3.6e6 / sg->machines, a, b,
	    lep_money_format(m, sizeof(m), row->micro));
}

static void
report_text(struct lep_out *out, const struct report *r)
{
	char	 m[32];
	size_t	 i;

	if (r->by == NULL)
		lep_out_printf(out, "%-20s %-4s %-8s %-14s %-9s %4s %10s %20s "
		    "%20s %10s\n", "DEPLOYMENT", "REV", "PROVIDER", "INSTANCE",
		    "$/H", "MACH", "HOURS", "START", "END", "AMOUNT");
	else
		lep_out_printf(out, "%-24s %12s %14s\n", "KEY", "MACH-HOURS",
		    "AMOUNT");
	for (i = 0; i < r->n; i++) {
		if (r->by == NULL)
			segment_text(out, row_segment(r, i), &r->rows[i]);
		else
			lep_out_printf(out, "%-24s %12.4f %14s\n",
			    r->rows[i].key,
			    (double)r->rows[i].machine_ms / 3.6e6,
			    lep_money_format(m, sizeof(m), r->rows[i].micro));
	}
	lep_out_printf(out, "total: $%s %s\n", lep_money_format(m, sizeof(m),
	    r->total), LEP_CURRENCY);
}

const struct lep_err *
lep_ledger_report(struct lep_out *out, const char *home, int64_t since_ms,
    const char *by)
{
	const struct lep_err	*err;
	struct lep_segment	*segs = NULL;
	struct lep_spend	*rows = NULL;
	struct report		 r;
	size_t			 nseg = 0, n = 0;

	r.since_ms = since_ms;
	r.now_ms = lep_epoch_ms();
	r.by = by;
	if ((err = lep_ledger_read(&segs, &nseg, home)) != NULL)
		goto done;
	if ((err = lep_ledger_spend(&rows, &n, &r.total, segs, nseg,
	    since_ms, r.now_ms, by)) != NULL)
		goto done;
	r.segs = segs;
	r.rows = rows;
	r.n = n;
	if (out->json)
		report_json(out, &r);
	else
		report_text(out, &r);
done:
	lep_spend_free(rows, n);
	lep_segments_free(segs, nseg);
	return err;
}
