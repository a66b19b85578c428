/*
 * fuzz_http.c: the lean HTTP client's response parser (lep_wire_response_end
 * in lib/wire.c), which finds where each keep-alive response ends in the
 * bytes read so far: given exactly the bytes read (the read buffer holds
 * no terminator), and asked again as more arrive, it must answer the same.
 */
#include "fuzz.h"

#include "../../lib/wire.h"

static long
end_of(const uint8_t *data, size_t len, int *status, int *close_after)
{
	char	*buf = xmalloc(len ? len : 1);	/* no byte past len */
	long	 end;

	if (len > 0)
		memcpy(buf, data, len);
	*status = *close_after = -7;
	end = lep_wire_response_end(buf, len, status, close_after);
	free(buf);
	FUZZ_ASSERT(end >= -1 && end <= (long)len);
	return end;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long	 end, e;
	int	 status, close_after, st2, ca2;

	end = end_of(data, size, &status, &close_after);
	if (end <= 0)
		return 0;
	FUZZ_ASSERT(status != -7 && (close_after == 0 || close_after == 1));
	/* The same response when only it had arrived... */
	e = end_of(data, (size_t)end, &st2, &ca2);
	FUZZ_ASSERT(e == end && st2 == status);
	/* ...and not yet over one byte short of it. */
	e = end_of(data, (size_t)end - 1, &st2, &ca2);
	FUZZ_ASSERT(e == 0);
	return 0;
}
