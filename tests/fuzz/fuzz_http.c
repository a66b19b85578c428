/*
 * fuzz_http.c: the lean HTTP client's response reader (lep_wire_resp_feed
 * in lib/wire.c), which reads each keep-alive response as it streams in:
 * the bytes handed whole, or cut at points the input picks, must give the
 * same verdict, status and length, and never read past what it was given.
 */
#include "fuzz.h"

#include "../../lib/wire.h"

struct verdict {
	int	 rc;		/* LEP_WIRE_* at the end */
	int	 status;
	size_t	 taken;		/* bytes the response took */
};

/* Feed data in pieces of at most step bytes (0: whole). */
static struct verdict
read_as(const uint8_t *data, size_t len, size_t step)
{
	struct lep_wire_resp	 p;
	struct verdict		 v = { LEP_WIRE_MORE, 0, 0 };
	size_t			 off = 0, keep = 0, n, used;
	char			*buf;

	lep_wire_resp_init(&p);
	while (off < len) {
		n = step == 0 || len - off < step ? len - off : step;
		/* Exactly the bytes at hand, in memory of their own. */
		buf = xmalloc(keep + n);
		memcpy(buf, data + off - keep, keep + n);
		used = 0;
		v.rc = lep_wire_resp_feed(&p, buf, keep + n, &used);
		free(buf);
		FUZZ_ASSERT(used <= keep + n);
		if (v.rc != LEP_WIRE_MORE) {
			v.taken = off - keep + used;
			break;
		}
		/* What was not taken (an unfinished head) comes again. */
		keep = keep + n - used;
		off += n;
	}
	if (v.rc == LEP_WIRE_MORE)
		v.rc = lep_wire_resp_eof(&p) == LEP_WIRE_DONE ? 2 : 3;
	if (v.rc == LEP_WIRE_DONE || v.rc == 2)
		v.status = p.status;
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct verdict	 whole, cut;
	size_t		 step;

	if (size < 1)
		return 0;
	step = 1 + data[0] % 7;
	whole = read_as(data + 1, size - 1, 0);
	cut = read_as(data + 1, size - 1, step);
	FUZZ_ASSERT(whole.rc == cut.rc);
	FUZZ_ASSERT(whole.status == cut.status);
	if (whole.rc == LEP_WIRE_DONE)
		FUZZ_ASSERT(whole.taken == cut.taken && whole.taken <= size - 1);
	if (whole.rc == LEP_WIRE_DONE || whole.rc == 2)
		FUZZ_ASSERT(whole.status >= 0 && whole.status <= 999);
	return 0;
}
