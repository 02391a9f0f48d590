/* lineproto.c - InfluxDB line protocol encoder and parser. */
#include "config.h"

#include "lineproto.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum pos { POS_MEAS, POS_TAG, POS_FKEY, POS_FSTR };

static const char *const prec_names[] = { "ns", "us", "ms", "s" };
static const int64_t prec_div[] = { 1, 1000, 1000000, 1000000000 };

int fp_lp_precision_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < FP_ARRAY_SIZE(prec_names); i++)
		if (strcmp(name, prec_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *fp_lp_precision_name(enum fp_precision p)
{
	return prec_names[p];
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static int escapable(enum pos pos, char c)
{
	switch (pos) {
	case POS_MEAS:
		return c == ',' || c == ' ';
	case POS_TAG:
		return c == ',' || c == '=' || c == ' ';
	case POS_FKEY:
		return c == ',' || c == '=' || c == ' ' || c == '"';
	case POS_FSTR:
		return c == '"' || c == '\\';
	}
	return 0;
}

/* Appends s escaped for pos. */
static int put_escaped(struct fp_buf *out, const char *s, enum pos pos)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	int rc = 0;

	while (i < n && rc == 0) {
		size_t l, j = i;
		char c;

		/* a run of characters written as they are: one copy */
		while (j < n && u[j] >= 0x20 && u[j] < 0x7f && u[j] != '\\' &&
		       !escapable(pos, (char)u[j]) && !(pos == POS_MEAS && j == 0 && u[j] == '#'))
			j++;
		if (j > i) {
			rc = fp_buf_add(out, s + i, j - i);
			i = j;
			continue;
		}
		l = utf8_len(u + i, n - i);
		c = (char)u[i];

		if (l == 0) {
			rc = fp_buf_add(out, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		if (l > 1) {
			rc = fp_buf_add(out, s + i, l);
			i += l;
			continue;
		}
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = ' ';
		else if (c == '\\' && pos != POS_FSTR &&
			 (i + 1 == n || strchr(",= \"", s[i + 1]) ||
			  (unsigned char)s[i + 1] < 0x20 || s[i + 1] == 0x7f)) /* becomes a space */
			c = '_';
		else if (pos == POS_MEAS && c == '#' && i == 0)
			c = '_';
		if (escapable(pos, c))
			rc = fp_buf_addc(out, '\\');
		if (rc == 0)
			rc = fp_buf_addc(out, c);
		i++;
	}
	return rc;
}

/* Decimal digits of v into buf (no terminator); returns their number. */
static size_t fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static size_t fmt_i64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
	}
	return fmt_u64(buf, (uint64_t)v);
}

/* The fast path of fp_lp_format_float: v written with d decimals, as k /
 * 10^d, for the smallest d whose k gives v back.  Exact: k < 2^53 and 10^d
 * are doubles without rounding, so k / 10^d is the double nearest the
 * decimal k * 10^-d, which is what strtod makes of the text.  Limited to
 * where "%.15g" writes plain decimals with the same digits (1e-4 <= |v| <
 * 1e15, at most 15 significant digits): the output does not change, only
 * its cost.  Returns 0 when v is not such a number. */
static size_t format_decimal(char *buf, double v)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	double a = fabs(v);
	size_t n = 0, nd, i;
	int d;

	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (d = 0; d < (int)FP_ARRAY_SIZE(p10); d++) {
		double m = a * p10[d], k;
		uint64_t u;
		char digits[20];

		if (m >= 1e15)
			return 0; /* more than 15 significant digits */
		k = nearbyint(m);
		if (k / p10[d] != a)
			continue;
		u = (uint64_t)k;
		if (v < 0)
			buf[n++] = '-';
		nd = fmt_u64(digits, u);
		if (d == 0) {
			memcpy(buf + n, digits, nd);
			return n + nd;
		}
		/* integer part, then d decimals (zeros in front when needed) */
		if (nd <= (size_t)d) {
			buf[n++] = '0';
			buf[n++] = '.';
			for (i = nd; i < (size_t)d; i++)
				buf[n++] = '0';
			memcpy(buf + n, digits, nd);
			n += nd;
		} else {
			memcpy(buf + n, digits, nd - (size_t)d);
			n += nd - (size_t)d;
			buf[n++] = '.';
			memcpy(buf + n, digits + nd - d, (size_t)d);
			n += (size_t)d;
		}
		/* k was the smallest: its last digit is not 0 */
		return n;
	}
	return 0;
}

size_t fp_lp_format_float(char *buf, double v)
{
	int prec;
	int n = 0;
	size_t fast = format_decimal(buf, v);

	if (fast) {
		buf[fast] = '\0';
		return fast;
	}
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return (size_t)n;
}

static int tag_cmp(const void *a, const void *b)
{
	const struct fp_tag *const *x = a, *const *y = b;
	return strcmp((*x)->key, (*y)->key);
}

static int field_ok(const struct fp_field *f)
{
	if (!f->key[0])
		return 0;
	if (f->type == FP_FLOAT && !isfinite(f->v.f))
		return 0;
	return 1;
}

static int put_value(struct fp_buf *out, const struct fp_field *f)
{
	char num[40];
	size_t n;
	int rc;

	switch (f->type) {
	case FP_FLOAT:
		n = fp_lp_format_float(num, f->v.f);
		return fp_buf_add(out, num, n);
	case FP_INT:
		n = fmt_i64(num, f->v.i);
		num[n++] = 'i';
		return fp_buf_add(out, num, n);
	case FP_UINT:
		n = fmt_u64(num, f->v.u);
		num[n++] = 'u';
		return fp_buf_add(out, num, n);
	case FP_BOOL:
		return fp_buf_adds(out, f->v.b ? "true" : "false");
	case FP_STRING:
		rc = fp_buf_addc(out, '"');
		if (rc == 0)
			rc = put_escaped(out, f->v.s, POS_FSTR);
		if (rc == 0)
			rc = fp_buf_addc(out, '"');
		return rc;
	}
	return -EINVAL;
}

int fp_lp_encode_point(struct fp_buf *out, const struct fp_point *p, enum fp_precision prec)
{
	const struct fp_tag *stack[32], **tags = stack;
	size_t i, nf = 0, start = out->len;
	int rc;

	for (i = 0; i < p->nfields; i++)
		nf += field_ok(&p->fields[i]);
	if (nf == 0 || !p->measurement[0])
		return 0;

	if (p->ntags > FP_ARRAY_SIZE(stack))
		tags = fp_xmalloc(p->ntags * sizeof(*tags));
	for (i = 0; i < p->ntags; i++)
		tags[i] = &p->tags[i];
	qsort(tags, p->ntags, sizeof(*tags), tag_cmp);

	rc = put_escaped(out, p->measurement, POS_MEAS);
	for (i = 0; i < p->ntags && rc == 0; i++) {
		if (!tags[i]->key[0] || !tags[i]->val[0])
			continue;
		rc = fp_buf_addc(out, ',');
		if (rc == 0)
			rc = put_escaped(out, tags[i]->key, POS_TAG);
		if (rc == 0)
			rc = fp_buf_addc(out, '=');
		if (rc == 0)
			rc = put_escaped(out, tags[i]->val, POS_TAG);
	}
	if (rc == 0)
		rc = fp_buf_addc(out, ' ');
	nf = 0;
	for (i = 0; i < p->nfields && rc == 0; i++) {
		const struct fp_field *f = &p->fields[i];
		if (!field_ok(f))
			continue;
		if (nf++)
			rc = fp_buf_addc(out, ',');
		if (rc == 0)
			rc = put_escaped(out, f->key, POS_FKEY);
		if (rc == 0)
			rc = fp_buf_addc(out, '=');
		if (rc == 0)
			rc = put_value(out, f);
	}
	if (rc == 0) {
		char ts[24];
		size_t n = 0;
		ts[n++] = ' ';
		n += fmt_i64(ts + n, p->ts_ns / prec_div[prec]);
		ts[n++] = '\n';
		rc = fp_buf_add(out, ts, n);
	}
	if (tags != stack)
		free(tags);
	if (rc < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return rc;
	}
	return 1;
}

int fp_lp_encode_batch(struct fp_buf *out, const struct fp_batch *b, enum fp_precision prec,
		       size_t *skipped)
{
	size_t i;
	int n = 0, rc;

	for (i = 0; i < b->n; i++) {
		rc = fp_lp_encode_point(out, &b->pts[i], prec);
		if (rc < 0)
			return rc;
		if (rc == 0 && skipped)
			(*skipped)++;
		n += rc;
	}
	return n;
}

/* p with its string fields as tags (shallow: the strings stay p's).
 * Returns the point to encode: p itself when it has none. */
static const struct fp_point *strings_as_tags(const struct fp_point *p, struct fp_point *tmp,
					      struct fp_tag *tags, struct fp_field *fields,
					      size_t max)
{
	size_t i, nt = 0, nf = 0;

	for (i = 0; i < p->nfields; i++)
		if (p->fields[i].type == FP_STRING)
			break;
	if (i == p->nfields || p->ntags + p->nfields + 1 > max)
		return p;
	for (i = 0; i < p->ntags; i++)
		tags[nt++] = p->tags[i];
	for (i = 0; i < p->nfields; i++) {
		if (p->fields[i].type == FP_STRING)
			tags[nt++] = (struct fp_tag){ p->fields[i].key, p->fields[i].v.s };
		else
			fields[nf++] = p->fields[i];
	}
	if (!nf) { /* only strings: an info series (value 1), as Prometheus has */
		fields[nf].key = (char *)"info";
		fields[nf].type = FP_FLOAT;
		fields[nf++].v.f = 1;
	}
	*tmp = *p;
	tmp->tags = tags;
	tmp->ntags = nt;
	tmp->fields = fields;
	tmp->nfields = nf;
	return tmp;
}

int fp_lp_encode_filtered(struct fp_buf *out, const struct fp_batch *b, enum fp_precision prec,
			  const struct fp_lp_filter *f, size_t *skipped, size_t *too_old)
{
	struct fp_tag tags[64];
	struct fp_field fields[64];
	struct fp_point tmp;
	size_t i;
	int n = 0, rc;

	if (!f)
		return fp_lp_encode_batch(out, b, prec, skipped);
	for (i = 0; i < b->n; i++) {
		const struct fp_point *p = &b->pts[i];
		if (f->append_only && (p->kind == FP_PT_RUNNING || p->kind == FP_PT_CORRECTION)) {
			if (skipped)
				(*skipped)++;
			continue;
		}
		if (f->min_ts_ns && p->ts_ns < f->min_ts_ns) {
			if (too_old)
				(*too_old)++;
			continue;
		}
		if (f->append_only)
			p = strings_as_tags(p, &tmp, tags, fields, 64);
		rc = fp_lp_encode_point(out, p, prec);
		if (rc < 0)
			return rc;
		if (rc == 0 && skipped)
			(*skipped)++;
		n += rc;
	}
	return n;
}

/* ---- parser ---- */

/* Scans from *i to the first unescaped character in stops (a character is
 * escaped when the one before it is a backslash, as InfluxDB 1.x reads
 * it).  Returns the end index. */
static size_t scan_to(const char *s, size_t i, size_t end, const char *stops)
{
	size_t start = i;

	for (; i < end; i++) {
		if (strchr(stops, s[i]) && s[i] && (i == start || s[i - 1] != '\\'))
			break;
	}
	return i;
}

/* Copies s[a..b) dropping the backslash of each "\c" with c in codes. */
static char *unescape(const char *s, size_t a, size_t b, const char *codes)
{
	char *d = fp_xmalloc(b - a + 1);
	size_t n = 0;

	while (a < b) {
		if (s[a] == '\\' && a + 1 < b && strchr(codes, s[a + 1]) && s[a + 1]) {
			d[n++] = s[a + 1];
			a += 2;
		} else {
			d[n++] = s[a++];
		}
	}
	d[n] = '\0';
	return d;
}

static int parse_value(struct fp_point *p, const char *key, const char *s, size_t a, size_t b)
{
	size_t n = b - a;
	char tmp[64], *end;

	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s + a, n);
	tmp[n] = '\0';
	if (!strcmp(tmp, "t") || !strcmp(tmp, "T") || !strcmp(tmp, "true") ||
	    !strcmp(tmp, "True") || !strcmp(tmp, "TRUE")) {
		fp_point_bool(p, key, true);
		return 0;
	}
	if (!strcmp(tmp, "f") || !strcmp(tmp, "F") || !strcmp(tmp, "false") ||
	    !strcmp(tmp, "False") || !strcmp(tmp, "FALSE")) {
		fp_point_bool(p, key, false);
		return 0;
	}
	errno = 0;
	if (tmp[n - 1] == 'i') {
		long long v;
		tmp[n - 1] = '\0';
		v = strtoll(tmp, &end, 10);
		if (errno || *end || end == tmp)
			return -EINVAL;
		fp_point_int(p, key, v);
		return 0;
	}
	if (tmp[n - 1] == 'u') {
		unsigned long long v;
		tmp[n - 1] = '\0';
		if (tmp[0] == '-')
			return -EINVAL;
		v = strtoull(tmp, &end, 10);
		if (errno || *end || end == tmp)
			return -EINVAL;
		fp_point_uint(p, key, v);
		return 0;
	}
	if (!(tmp[0] == '-' || tmp[0] == '+' || tmp[0] == '.' || (tmp[0] >= '0' && tmp[0] <= '9')))
		return -EINVAL;
	{
		double v = strtod(tmp, &end);
		if (*end || end == tmp || !isfinite(v))
			return -EINVAL;
		fp_point_float(p, key, v);
	}
	return 0;
}

static int parse_line(const char *s, size_t end, enum fp_precision prec, struct fp_batch *out)
{
	struct fp_point *p;
	size_t i = 0, j;
	char *m;
	int nfields = 0;

	j = scan_to(s, 0, end, ", ");
	if (j == 0 || j == end)
		return -EINVAL;
	m = unescape(s, 0, j, ", ");
	p = fp_batch_add(out, m, 0);
	free(m);
	i = j;
	while (i < end && s[i] == ',') {
		char *k, *v;
		size_t ke, ve;

		ke = scan_to(s, i + 1, end, "=, ");
		if (ke == i + 1 || ke >= end || s[ke] != '=')
			goto bad;
		ve = scan_to(s, ke + 1, end, ", =");
		if (ve == ke + 1 || (ve < end && s[ve] == '='))
			goto bad;
		k = unescape(s, i + 1, ke, ",= ");
		v = unescape(s, ke + 1, ve, ",= ");
		fp_point_tag(p, k, v);
		free(k);
		free(v);
		i = ve;
	}
	if (i >= end || s[i] != ' ')
		goto bad;
	i++;
	for (;;) {
		char *k;
		size_t ke, ve;
		int rc;

		ke = scan_to(s, i, end, "=, ");
		if (ke == i || ke >= end || s[ke] != '=')
			goto bad;
		k = unescape(s, i, ke, ",= \"");
		i = ke + 1;
		if (i < end && s[i] == '"') {
			struct fp_buf sb;
			size_t q = i + 1;
			fp_buf_init(&sb, end);
			while (q < end && s[q] != '"') {
				if (s[q] == '\\' && q + 1 < end &&
				    (s[q + 1] == '"' || s[q + 1] == '\\'))
					q++;
				fp_buf_addc(&sb, s[q]);
				q++;
			}
			if (q >= end) {
				fp_buf_reset(&sb);
				free(k);
				goto bad;
			}
			fp_point_string(p, k, sb.data ? sb.data : "");
			fp_buf_reset(&sb);
			ve = q + 1;
			rc = 0;
		} else {
			ve = scan_to(s, i, end, ", ");
			rc = parse_value(p, k, s, i, ve);
		}
		free(k);
		if (rc < 0)
			goto bad;
		nfields++;
		i = ve;
		if (i < end && s[i] == ',') {
			i++;
			continue;
		}
		break;
	}
	if (i < end) {
		char tmp[32], *e;
		size_t n;
		long long ts;
		if (s[i] != ' ')
			goto bad;
		i++;
		n = end - i;
		if (n == 0 || n >= sizeof(tmp))
			goto bad;
		memcpy(tmp, s + i, n);
		tmp[n] = '\0';
		errno = 0;
		ts = strtoll(tmp, &e, 10);
		if (errno || *e || e == tmp)
			goto bad;
		if (ts > INT64_MAX / prec_div[prec] || ts < INT64_MIN / prec_div[prec])
			goto bad;
		out->pts[out->n - 1].ts_ns = ts * prec_div[prec];
	}
	return nfields ? 0 : -EINVAL;
bad:
	fp_batch_drop_last(out);
	return -EINVAL;
}

/* End of the line starting at i: the first '\n' outside a quoted string
 * field value (InfluxDB 1.x allows newlines inside quotes). */
static size_t line_end(const char *s, size_t i, size_t len)
{
	int quoted = 0, in_fields = 0;

	for (; i < len; i++) {
		char c = s[i];
		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = 0;
			continue;
		}
		if (c == '\n')
			return i;
		if (c == '\\')
			i++;
		else if (c == ' ')
			in_fields = 1;
		else if (c == '"' && in_fields && s[i - 1] == '=')
			quoted = 1;
	}
	return len;
}

int fp_lp_parse(const char *text, size_t len, enum fp_precision prec, struct fp_batch *out,
		size_t *bad_line)
{
	size_t i = 0, lineno = 0;
	int n = 0;

	while (i < len) {
		size_t e = line_end(text, i, len), ee = e;
		lineno++;
		while (ee > i && text[ee - 1] == '\r')
			ee--;
		while (i < ee && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i < ee && text[i] != '#') {
			if (parse_line(text + i, ee - i, prec, out) < 0) {
				if (bad_line)
					*bad_line = lineno;
				return -EINVAL;
			}
			n++;
		}
		i = e + 1;
	}
	return n;
}
