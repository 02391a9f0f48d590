/* fuzz_lineproto.c - the encoder fed arbitrary measurement, tag and field
 * bytes must always give line protocol that parses back to the same number
 * of points with the same field count; and the parser must survive any
 * input. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"

static char *take(const uint8_t **d, size_t *n)
{
	size_t len = 0;
	char *s;

	if (*n) {
		len = (*d)[0] % 24;
		(*d)++;
		(*n)--;
	}
	if (len > *n)
		len = *n;
	s = malloc(len + 1);
	memcpy(s, *d, len);
	s[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (!s[i])
			s[i] = 'z'; /* C strings: no NUL inside */
	*d += len;
	*n -= len;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_batch in, out;
	struct fp_buf buf;
	const uint8_t *d = data;
	size_t n = size, i;
	int written;

	/* 1. the parser on raw bytes */
	fp_batch_init(&out);
	fp_lp_parse((const char *)data, size, FP_PREC_NS, &out, NULL);
	fp_batch_reset(&out);

	/* 2. encode points built from the bytes, parse them back */
	fp_batch_init(&in);
	for (i = 0; i < 4 && n; i++) {
		char *m = take(&d, &n), *tk = take(&d, &n), *tv = take(&d, &n), *fk = take(&d, &n),
		     *fs = take(&d, &n);
		struct fp_point *p = fp_batch_add(&in, m, (int64_t)i);
		fp_point_tag(p, tk, tv);
		fp_point_string(p, fk, fs);
		fp_point_float(p, "f", (double)n / 3.0);
		free(m), free(tk), free(tv), free(fk), free(fs);
	}
	fp_buf_init(&buf, 1 << 20);
	written = fp_lp_encode_batch(&buf, &in, FP_PREC_NS, NULL);
	fp_batch_init(&out);
	if (written > 0) {
		size_t bad = 0;
		int parsed = fp_lp_parse(buf.data, buf.len, FP_PREC_NS, &out, &bad);
		if (parsed != written) {
			/* a line was split, lost or injected */
			fprintf(stderr, "encoded %d points, parsed %d (bad line %zu):\n%.*s\n",
				written, parsed, bad, (int)buf.len, buf.data);
			abort();
		}
		for (i = 0; i < out.n; i++)
			if (out.pts[i].nfields < 1)
				abort();
	}
	fp_batch_reset(&out);
	fp_batch_reset(&in);
	fp_buf_reset(&buf);
	return 0;
}
