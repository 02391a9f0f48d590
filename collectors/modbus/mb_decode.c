/* mb_decode.c - decoding of Modbus registers and request planning. */
#include "config.h"

#include "mb_decode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const type_names[] = {
	"bool",	 "int16",  "uint16",  "int32",	 "uint32",
	"int64", "uint64", "float32", "float64", "string",
};
static const char *const order_names[] = { "ABCD", "CDAB", "BADC", "DCBA" };
static const char *const table_names[] = { "coil", "discrete", "holding", "input" };

const char *fp_mb_type_name(enum fp_mb_type t)
{
	return type_names[t];
}

int fp_mb_type_from_name(const char *s)
{
	size_t i;

	if (!strcmp(s, "bit"))
		return FP_MB_BOOL;
	for (i = 0; i < FP_ARRAY_SIZE(type_names); i++)
		if (!strcmp(s, type_names[i]))
			return (int)i;
	return -1;
}

int fp_mb_order_from_name(const char *s)
{
	size_t i;

	for (i = 0; i < FP_ARRAY_SIZE(order_names); i++)
		if (!strcmp(s, order_names[i]))
			return (int)i;
	return -1;
}

int fp_mb_table_from_name(const char *s)
{
	size_t i;

	for (i = 0; i < FP_ARRAY_SIZE(table_names); i++)
		if (!strcmp(s, table_names[i]))
			return (int)i;
	return -1;
}

const char *fp_mb_table_name(enum fp_mb_table t)
{
	return table_names[t];
}

unsigned fp_mb_type_words(enum fp_mb_type t)
{
	switch (t) {
	case FP_MB_BOOL:
	case FP_MB_INT16:
	case FP_MB_UINT16:
		return 1;
	case FP_MB_INT32:
	case FP_MB_UINT32:
	case FP_MB_FLOAT32:
		return 2;
	case FP_MB_INT64:
	case FP_MB_UINT64:
	case FP_MB_FLOAT64:
		return 4;
	case FP_MB_STRING:
		return 0;
	}
	return 0;
}

/* Wire bytes of n registers, reordered to big-endian per the order. */
static void be_bytes(const uint16_t *regs, unsigned n, enum fp_mb_order order, uint8_t *out)
{
	bool word_swap = order == FP_MB_CDAB || order == FP_MB_DCBA;
	bool byte_swap = order == FP_MB_BADC || order == FP_MB_DCBA;
	unsigned i;

	for (i = 0; i < n; i++) {
		uint16_t r = regs[word_swap ? n - 1 - i : i];
		uint8_t hi = (uint8_t)(r >> 8), lo = (uint8_t)(r & 0xff);
		out[2 * i] = byte_swap ? lo : hi;
		out[2 * i + 1] = byte_swap ? hi : lo;
	}
}

uint64_t fp_mb_raw(const struct fp_mb_field *f, const uint16_t *regs)
{
	uint8_t b[8];
	unsigned n = fp_mb_type_words(f->type), i;
	uint64_t v = 0;

	if (n == 0 || n > 4)
		return 0;
	be_bytes(regs, n, f->order, b);
	for (i = 0; i < 2 * n; i++)
		v = (v << 8) | b[i];
	return v;
}

static bool is_sentinel(const struct fp_mb_field *f, uint64_t raw)
{
	size_t i;

	for (i = 0; i < f->nsentinels; i++)
		if (f->sentinel[i] == raw)
			return true;
	return false;
}

/* The double of a float32's shortest decimal form, so 229.1 read from a
 * meter is written as 229.1, not as 229.10000610351562. */
static double float_to_double(float x)
{
	char buf[32];
	int prec;

	if (!isfinite(x))
		return (double)x;
	for (prec = 6; prec <= 9; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, (double)x);
		if (strtof(buf, NULL) == x)
			return strtod(buf, NULL);
	}
	return (double)x;
}

static void set_number(const struct fp_mb_field *f, double x, struct fp_mb_value *v)
{
	x = x * f->scale + f->offset;
	if (!isfinite(x)) {
		v->kind = FP_MB_V_NONE;
		return;
	}
	if (f->out == FP_MB_OUT_INT) {
		v->kind = FP_MB_V_INT;
		v->i = (int64_t)llround(x);
	} else if (f->out == FP_MB_OUT_BOOL) {
		v->kind = FP_MB_V_BOOL;
		v->b = x != 0;
	} else {
		v->kind = FP_MB_V_FLOAT;
		v->f = x;
	}
}

void fp_mb_decode(const struct fp_mb_field *f, const uint16_t *regs, const uint8_t *bits,
		  struct fp_mb_value *v)
{
	uint64_t raw;

	v->kind = FP_MB_V_NONE;
	if (f->type == FP_MB_BOOL) {
		bool b = f->table == FP_MB_COIL || f->table == FP_MB_DISCRETE
			? bits[0] != 0
			: ((regs[0] >> (f->bit >= 0 ? f->bit : 0)) & 1) != 0;
		if (f->out == FP_MB_OUT_FLOAT || f->out == FP_MB_OUT_INT) {
			set_number(f, b ? 1.0 : 0.0, v);
			return;
		}
		v->kind = FP_MB_V_BOOL;
		v->b = b;
		return;
	}
	if (f->type == FP_MB_STRING) {
		uint8_t buf[2 * 127];
		unsigned n = f->count > 127 ? 127 : f->count, len;
		/* Strings: only the byte swap applies (pairs within words). */
		be_bytes(regs, n,
			 f->order == FP_MB_BADC || f->order == FP_MB_DCBA ? FP_MB_BADC : FP_MB_ABCD,
			 buf);
		len = 2 * n;
		while (len && (buf[len - 1] == 0 || buf[len - 1] == ' '))
			len--;
		for (unsigned i = 0; i < len; i++)
			if (buf[i] == 0)
				len = i;
		if (len == 0 || len >= sizeof(v->s))
			return;
		memcpy(v->s, buf, len);
		v->s[len] = '\0';
		v->kind = FP_MB_V_STRING;
		return;
	}
	raw = fp_mb_raw(f, regs);
	if (is_sentinel(f, raw))
		return;
	switch (f->type) {
	case FP_MB_INT16:
		set_number(f, (double)(int16_t)(uint16_t)raw, v);
		if (f->out == FP_MB_OUT_INT && f->scale == 1.0 && f->offset == 0.0)
			v->i = (int16_t)(uint16_t)raw;
		break;
	case FP_MB_UINT16:
		set_number(f, (double)(uint16_t)raw, v);
		break;
	case FP_MB_INT32:
		set_number(f, (double)(int32_t)(uint32_t)raw, v);
		break;
	case FP_MB_UINT32:
		set_number(f, (double)(uint32_t)raw, v);
		break;
	case FP_MB_INT64:
		set_number(f, (double)(int64_t)raw, v);
		if (f->out == FP_MB_OUT_INT && f->scale == 1.0 && f->offset == 0.0)
			v->i = (int64_t)raw; /* exact, beyond 2^53 too */
		break;
	case FP_MB_UINT64:
		set_number(f, (double)raw, v);
		if (f->out == FP_MB_OUT_INT && f->scale == 1.0 && f->offset == 0.0 &&
		    raw <= (uint64_t)INT64_MAX)
			v->i = (int64_t)raw;
		break;
	case FP_MB_FLOAT32: {
		uint32_t u = (uint32_t)raw;
		float x;
		memcpy(&x, &u, sizeof(x));
		set_number(f, float_to_double(x), v);
		break;
	}
	case FP_MB_FLOAT64: {
		double x;
		memcpy(&x, &raw, sizeof(x));
		set_number(f, x, v);
		break;
	}
	default:
		break;
	}
}

static int field_cmp_ctx(const struct fp_mb_field *fs, size_t a, size_t b)
{
	if (fs[a].table != fs[b].table)
		return fs[a].table < fs[b].table ? -1 : 1;
	if (fs[a].address != fs[b].address)
		return fs[a].address < fs[b].address ? -1 : 1;
	return a < b ? -1 : a > b;
}

size_t fp_mb_plan(const struct fp_mb_field *fields, size_t n, const struct fp_mb_plan_limits *lim,
		  struct fp_mb_block **blocks)
{
	size_t *idx = fp_xcalloc(n ? n : 1, sizeof(*idx)), m = 0, i, nb = 0, cap = 0;
	struct fp_mb_block *b = NULL;

	for (i = 0; i < n; i++)
		if (!fields[i].disabled)
			idx[m++] = i;
	/* insertion sort by (table, address, index): maps are small */
	for (i = 1; i < m; i++) {
		size_t v = idx[i], j = i;
		while (j > 0 && field_cmp_ctx(fields, idx[j - 1], v) > 0) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
	for (i = 0; i < m; i++) {
		const struct fp_mb_field *f = &fields[idx[i]];
		bool bits = f->table == FP_MB_COIL || f->table == FP_MB_DISCRETE;
		unsigned maxn = bits ? lim->max_bits : lim->max_registers;
		uint32_t end = (uint32_t)f->address + f->count;
		struct fp_mb_block *cur = nb ? &b[nb - 1] : NULL;

		if (cur && !lim->single && !f->cut && cur->table == f->table &&
		    fields[cur->fields[0]].group == f->group &&
		    f->address <= (uint32_t)cur->start + cur->count + lim->max_gap &&
		    (end > (uint32_t)cur->start + cur->count ? end
							     : (uint32_t)cur->start + cur->count) -
				    cur->start <=
			    maxn) {
			uint32_t cend = (uint32_t)cur->start + cur->count;
			if (end > cend)
				cur->count = (uint16_t)(end - cur->start);
		} else {
			fp_xgrow((void **)&b, &cap, nb + 1, sizeof(*b));
			cur = &b[nb++];
			cur->table = f->table;
			cur->start = f->address;
			cur->count = f->count;
			cur->fields = NULL;
			cur->nfields = 0;
		}
		cur->fields = fp_xrealloc(cur->fields, (cur->nfields + 1) * sizeof(*cur->fields));
		cur->fields[cur->nfields++] = idx[i];
	}
	free(idx);
	*blocks = b;
	return nb;
}

void fp_mb_plan_free(struct fp_mb_block *blocks, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(blocks[i].fields);
	free(blocks);
}
