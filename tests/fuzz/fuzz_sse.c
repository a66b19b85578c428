/*
 * fuzz_sse.c: the server-sent events parser (lib/sse.c) on any stream,
 * read the way lepton predict --stream reads one (a JSON token per
 * event). Bytes arrive split anywhere: the events must not depend on
 * where, so the stream goes in whole, then in pieces the input picks.
 */
#include "fuzz.h"

#include "../../lib/json.h"
#include "../../lib/sse.h"

/* What came out, in order: "event\0len\0data" per event. */
struct seen {
	struct lep_buf	 log;
	size_t		 events;
};

static void
on_event(void *arg, const char *event, const char *data, size_t len)
{
	struct seen	*s = arg;
	struct lep_json	*j = NULL, *choice;

	FUZZ_ASSERT(event != NULL && data != NULL);
	FUZZ_ASSERT(data[len] == '\0');
	s->events++;
	lep_buf_addf(&s->log, "%s%c%zu%c", event, 0, len, 0);
	lep_buf_addn(&s->log, data, len);
	/* As predict's on_token_event reads an OpenAI chunk. */
	if (lep_json_parse(&j, data, len, "event") == NULL) {
		choice = lep_json_at(lep_json_get(j, "choices"), 0);
		if (lep_json_get_str(lep_json_get(choice, "delta"),
		    "content") == NULL)
			(void)lep_json_get_str(choice, "text");
	}
	lep_json_free(j);
}

/* Feed data whole (seed 0) or in pieces of 1 to 16 bytes from seed. */
static void
run(struct seen *s, const uint8_t *data, size_t size, unsigned int seed)
{
	struct lep_sse	 sse;
	size_t		 off = 0, n;

	memset(s, 0, sizeof(*s));
	lep_buf_init(&s->log, 0);
	lep_sse_init(&sse, on_event, s);
	while (off < size) {
		if (seed == 0)
			n = size;
		else {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 16;
		}
		if (n > size - off)
			n = size - off;
		FUZZ_ASSERT(lep_sse_feed(&sse, (const char *)data + off,
		    n) == 0);
		off += n;
	}
	lep_sse_end(&sse);
	lep_sse_release(&sse);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen	 whole, pieces;
	unsigned int	 seed;

	if (size < 1)
		return 0;
	seed = data[0] | 1u;
	data++;
	size--;
	run(&whole, data, size, 0);
	run(&pieces, data, size, seed);
	if (whole.events != pieces.events ||
	    whole.log.len != pieces.log.len ||
	    memcmp(whole.log.buf, pieces.log.buf, whole.log.len) != 0) {
		fprintf(stderr, "%zu events whole, %zu in pieces (seed %u)\n",
		    whole.events, pieces.events, seed);
		abort();
	}
	lep_buf_release(&whole.log);
	lep_buf_release(&pieces.log);
	return 0;
}
