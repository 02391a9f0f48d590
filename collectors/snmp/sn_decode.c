/* sn_decode.c - SNMP objects, varbinds and their points (pure functions). */
#include "config.h"

#include "sn_decode.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define POLL_MAX 200000 /* values of one poll */
#define SUMS_MAX 32

const char *const fp_sn_type_names[] = {
	"integer", "gauge", "counter", "timeticks", "string", "number", NULL,
};

int fp_sn_oid_parse(const char *s, struct fp_sn_oid *o)
{
	const char *p = s;

	o->n = 0;
	if (*p == '.')
		p++;
	for (;;) {
		uint64_t v = 0;
		if (*p < '0' || *p > '9' || o->n >= FP_SN_OID_MAX)
			return -EINVAL;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (uint64_t)(*p++ - '0');
			if (v > UINT32_MAX)
				return -EINVAL;
		}
		o->a[o->n++] = (uint32_t)v;
		if (*p == '\0')
			break;
		if (*p++ != '.')
			return -EINVAL;
	}
	return o->n >= 2 ? 0 : -EINVAL;
}

void fp_sn_oid_format(const uint32_t *a, size_t n, char *buf, size_t len)
{
	size_t i, off = 0;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, i ? ".%u" : "%u", (unsigned)a[i]);
		if (w < 0)
			return;
		off += (size_t)w;
	}
}

bool fp_sn_oid_under(const struct fp_sn_oid *prefix, const uint32_t *a, size_t n)
{
	return n > prefix->n && !memcmp(prefix->a, a, prefix->n * sizeof(*a));
}

int fp_sn_oid_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn)
{
	size_t i;

	for (i = 0; i < an && i < bn; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return an == bn ? 0 : an < bn ? -1 : 1;
}

void fp_sn_state_free(struct fp_sn_state *st)
{
	free(st->ctrs);
	memset(st, 0, sizeof(*st));
}

bool fp_sn_rebooted(uint32_t prev, int64_t prev_ns, uint32_t now, int64_t now_ns)
{
	uint64_t elapsed = now_ns > prev_ns ? (uint64_t)(now_ns - prev_ns) / 10000000ULL : 0;
	uint64_t slack = 6000 + elapsed / 10;

	if (now >= prev)
		return false;
	/* TimeTicks wrap at 2^32 (497 days): prev + elapsed crossed it */
	return (uint64_t)prev + elapsed + slack < (1ULL << 32);
}

double fp_sn_counter_step(struct fp_sn_ctr *c, bool first, uint64_t raw, int bits, bool rebooted,
			  enum fp_sn_step *what)
{
	double mod = bits == 64 ? 18446744073709551616.0 : 4294967296.0;
	enum fp_sn_step w = FP_SN_UP;

	if (first) {
		c->extra = 0;
		w = FP_SN_FIRST;
	} else if (rebooted) {
		c->extra = 0;
		w = FP_SN_REBOOT;
	} else if (raw < c->raw) {
		uint64_t d = raw - c->raw; /* modulo 2^64 */
		bool plausible;
		if (bits == 64)
			plausible = d < (1ULL << 63);
		else
			plausible = c->raw <= UINT32_MAX && (d & 0xffffffffULL) < (1ULL << 31);
		if (plausible) {
			c->extra += mod;
			w = FP_SN_WRAP;
		} else {
			c->extra = 0;
			w = FP_SN_RESET;
		}
	}
	c->raw = raw;
	c->wrapped = w == FP_SN_WRAP;
	if (what)
		*what = w;
	return (double)raw + c->extra;
}

/* One value of a poll. */
struct entry {
	size_t obj;
	char row[FP_SN_ROW_MAX];
	bool counter;
	int bits;
	double f;
	uint64_t u;
	char *s;
	bool skip; /* not written: a helper, or its per-row scale is missing */
};

struct fp_sn_poll {
	const struct fp_sn_object *objs;
	size_t nobjs;
	struct entry *e;
	size_t n, cap;
	bool *dropped; /* per object: a value was dropped (its sum is not written) */
	uint32_t uptime;
	bool have_uptime;
};

struct fp_sn_poll *fp_sn_poll_new(const struct fp_sn_object *objs, size_t n)
{
	struct fp_sn_poll *p = fp_xcalloc(1, sizeof(*p));

	p->objs = objs;
	p->nobjs = n;
	p->dropped = fp_xcalloc(n ? n : 1, sizeof(*p->dropped));
	return p;
}

void fp_sn_poll_free(struct fp_sn_poll *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		free(p->e[i].s);
	free(p->e);
	free(p->dropped);
	free(p);
}

int fp_sn_match(const struct fp_sn_object *objs, size_t n, const uint32_t *oid, size_t len)
{
	size_t k;

	for (k = 0; k < n; k++) {
		if (objs[k].index ? fp_sn_oid_under(&objs[k].oid, oid, len)
				  : !fp_sn_oid_cmp(objs[k].oid.a, objs[k].oid.n, oid, len))
			return (int)k;
	}
	return -1;
}

void fp_sn_poll_incomplete(struct fp_sn_poll *p, size_t k)
{
	if (k < p->nobjs)
		p->dropped[k] = true;
}

void fp_sn_poll_uptime(struct fp_sn_poll *p, uint32_t ticks)
{
	p->uptime = ticks;
	p->have_uptime = true;
}

static const char *special(int type)
{
	switch (type) {
	case FP_SN_NOSUCHOBJECT:
		return "noSuchObject";
	case FP_SN_NOSUCHINSTANCE:
		return "noSuchInstance";
	case FP_SN_ENDOFMIBVIEW:
		return "endOfMibView";
	case FP_SN_ASN_NULL:
		return "a NULL value";
	default:
		return NULL;
	}
}

/* Why a value of ASN.1 type t is not the object's. */
static const char *wrong_type(int t)
{
	switch (t) {
	case FP_SN_ASN_INTEGER:
		return "wrong type: an INTEGER";
	case FP_SN_ASN_OCTET_STR:
		return "wrong type: an OCTET STRING";
	case FP_SN_ASN_OBJECT_ID:
		return "wrong type: an OBJECT IDENTIFIER";
	case FP_SN_ASN_IPADDRESS:
		return "wrong type: an IpAddress";
	case FP_SN_ASN_COUNTER32:
		return "wrong type: a Counter32";
	case FP_SN_ASN_GAUGE32:
		return "wrong type: a Gauge32";
	case FP_SN_ASN_TIMETICKS:
		return "wrong type: a TimeTicks";
	case FP_SN_ASN_OPAQUE:
		return "wrong type: an Opaque";
	case FP_SN_ASN_COUNTER64:
		return "wrong type: a Counter64";
	default:
		return "a value of an unknown type";
	}
}

/* Checks vb's type against the object's and fills the entry's value. */
static const char *take_value(const struct fp_sn_object *o, const struct fp_sn_vb *vb,
			      struct entry *en)
{
	const char *sp = special(vb->type);
	bool num = o->type == FP_SN_INTEGER || o->type == FP_SN_GAUGE || o->type == FP_SN_NUMBER;

	if (sp)
		return sp;
	if (o->type == FP_SN_COUNTER &&
	    (vb->type == FP_SN_ASN_COUNTER32 || vb->type == FP_SN_ASN_COUNTER64)) {
		en->counter = true;
		en->bits = vb->type == FP_SN_ASN_COUNTER64 ? 64 : 32;
		if (en->bits == 32 && vb->u > UINT32_MAX)
			return "a Counter32 above 2^32-1";
		en->u = vb->u;
		return NULL;
	}
	if (num && vb->type == FP_SN_ASN_INTEGER) {
		en->f = (double)vb->i;
		return NULL;
	}
	if ((num && vb->type == FP_SN_ASN_GAUGE32) ||
	    (vb->type == FP_SN_ASN_TIMETICKS &&
	     (o->type == FP_SN_NUMBER || o->type == FP_SN_TIMETICKS))) {
		if (vb->u > UINT32_MAX)
			return "a 32-bit value above 2^32-1";
		en->f = vb->type == FP_SN_ASN_TIMETICKS && o->type == FP_SN_TIMETICKS
			? (double)vb->u / 100.0
			: (double)vb->u;
		return NULL;
	}
	if (o->type == FP_SN_STRING && vb->type == FP_SN_ASN_OCTET_STR) {
		size_t i, n = vb->slen > FP_SN_STRING_MAX ? FP_SN_STRING_MAX : vb->slen;
		en->s = fp_xmalloc(n + 1);
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)vb->s[i];
			en->s[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
		}
		en->s[n] = '\0';
		return NULL;
	}
	return wrong_type(vb->type);
}

int fp_sn_poll_add(struct fp_sn_poll *p, size_t k, const struct fp_sn_vb *vb, const char **why)
{
	const struct fp_sn_object *o;
	struct entry en;
	size_t i;

	*why = NULL;
	if (k >= p->nobjs) {
		*why = "no such object in the profile";
		return -EINVAL;
	}
	o = &p->objs[k];
	memset(&en, 0, sizeof(en));
	en.obj = k;
	if (o->index) {
		size_t rn = vb->n - o->oid.n, sn = o->suffix.n;
		if (!fp_sn_oid_under(&o->oid, vb->oid, vb->n))
			*why = "an OID outside its column";
		else if (sn &&
			 (rn <= sn ||
			  memcmp(vb->oid + vb->n - sn, o->suffix.a, sn * sizeof(*vb->oid))))
			return 1; /* another row of a shared column */
		else
			fp_sn_oid_format(vb->oid + o->oid.n, rn - sn, en.row, sizeof(en.row));
		if (!*why && strlen(en.row) + 1 >= sizeof(en.row))
			*why = "a row index too long";
	} else if (fp_sn_oid_cmp(o->oid.a, o->oid.n, vb->oid, vb->n)) {
		*why = "an OID other than the one asked";
	}
	if (!*why && p->n >= POLL_MAX)
		*why = "too many values in one poll";
	for (i = 0; !*why && i < p->n; i++)
		if (p->e[i].obj == k && !strcmp(p->e[i].row, en.row))
			*why = "a value answered twice";
	if (!*why)
		*why = take_value(o, vb, &en);
	en.skip = o->hidden;
	if (*why) {
		p->dropped[k] = true;
		free(en.s);
		return -EINVAL;
	}
	fp_xgrow((void **)&p->e, &p->cap, p->n + 1, sizeof(*p->e));
	p->e[p->n++] = en;
	return 0;
}

static struct fp_sn_ctr *find_ctr(struct fp_sn_state *st, size_t obj, const char *row, bool *first)
{
	size_t i;

	for (i = 0; i < st->nctrs; i++)
		if (st->ctrs[i].obj == obj && !strcmp(st->ctrs[i].row, row)) {
			*first = false;
			return &st->ctrs[i];
		}
	fp_xgrow((void **)&st->ctrs, &st->cap, st->nctrs + 1, sizeof(*st->ctrs));
	memset(&st->ctrs[st->nctrs], 0, sizeof(*st->ctrs));
	st->ctrs[st->nctrs].obj = obj;
	snprintf(st->ctrs[st->nctrs].row, sizeof(st->ctrs[0].row), "%s", row);
	*first = true;
	return &st->ctrs[st->nctrs++];
}

/* v x scale; a scale of 1/N divides by N, so that 87 x 0.1 is 8.7 and
 * not 8.700000000000001. */
static double scaled(double v, double scale)
{
	double r = 1 / scale;

	if (scale > -1 && scale < 1 && fabs(r - round(r)) < 1e-9)
		return v / round(r);
	return v * scale;
}

/* The value of helper object k+1 (1-based, 0: none) in the row of en:
 * false when it is missing. */
static bool helper(const struct fp_sn_poll *p, size_t k1, const struct entry *en, double *v)
{
	size_t i;

	for (i = 0; k1 && i < p->n; i++)
		if (p->e[i].obj == k1 - 1 && !p->e[i].s && !strcmp(p->e[i].row, en->row)) {
			*v = p->e[i].f;
			return true;
		}
	return k1 == 0;
}

/* 10^e exactly for the small exponents of the MIBs (|e| <= 24). */
static double ten_to(int e)
{
	double r = 1;

	for (; e > 0; e--)
		r *= 10;
	return r;
}

/* Applies the per-row digits and si_prefix of en's object: false when a
 * helper is missing or out of range (digits 0-9... -9, prefix 1-17). */
static bool row_scale(const struct fp_sn_poll *p, struct entry *en)
{
	const struct fp_sn_object *o = &p->objs[en->obj];
	double d = 0, x = 9;

	if (!o->digits_from && !o->prefix_from)
		return true;
	if (!helper(p, o->digits_from, en, &d) || !helper(p, o->prefix_from, en, &x) || d < -9 ||
	    d > 9 || x < 1 || x > 17)
		return false;
	x = 3 * (x - 9);
	if (x > 0)
		en->f *= ten_to((int)x);
	else
		en->f /= ten_to((int)-x);
	if (d > 0)
		en->f /= ten_to((int)d);
	else
		en->f *= ten_to((int)-d);
	return true;
}

/* The entries' numeric values: counters made continuous, scaled. */
static void values(struct fp_sn_poll *p, struct fp_sn_state *st, bool rebooted)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct entry *en = &p->e[i];
		const struct fp_sn_object *o = &p->objs[en->obj];
		if (en->counter) {
			bool first;
			enum fp_sn_step w;
			struct fp_sn_ctr *c = find_ctr(st, en->obj, en->row, &first);
			en->f = fp_sn_counter_step(c, first, en->u, en->bits, rebooted, &w);
			st->wraps += w == FP_SN_WRAP;
			st->resets += w == FP_SN_RESET;
		}
		if (!en->s)
			en->f = scaled(en->f, o->scale);
	}
	for (i = 0; i < p->n; i++) { /* helpers are read unscaled above */
		struct entry *en = &p->e[i];
		if (!en->s && !row_scale(p, en)) {
			en->skip = true;
			p->dropped[en->obj] = true;
		}
	}
}

static void common_tags(struct fp_point *pt, const struct fp_sn_devinfo *di)
{
	size_t t;

	fp_point_tag(pt, "site", di->site);
	fp_point_tag(pt, "device", di->name);
	fp_point_tag(pt, "source", "snmp");
	for (t = 0; t < di->ntags; t++)
		fp_point_tag(pt, di->tags[t].key, di->tags[t].val);
}

static void put(struct fp_point *pt, const char *key, const struct entry *en)
{
	if (en->s)
		fp_point_string(pt, key, en->s);
	else
		fp_point_float(pt, key, en->f);
}

/* The device's point: its scalars and the sums of columns with a sum. */
static size_t device_point(struct fp_sn_poll *p, const struct fp_sn_devinfo *di, int64_t ts,
			   struct fp_batch *out)
{
	const char *sname[SUMS_MAX];
	double sval[SUMS_MAX];
	bool sbad[SUMS_MAX];
	size_t ns = 0, i, j, nv = 0;
	struct fp_point *pt = NULL;

	for (i = 0; i < p->nobjs; i++) {
		const char *s = p->objs[i].sum;
		if (!s || !p->objs[i].index)
			continue;
		for (j = 0; j < ns && strcmp(sname[j], s); j++)
			;
		if (j == ns) {
			if (ns == SUMS_MAX)
				continue;
			sname[ns] = s;
			sval[ns] = 0;
			sbad[ns++] = true; /* until a row is seen */
		}
	}
	for (j = 0; j < ns; j++) {
		bool rows = false, bad = false;
		for (i = 0; i < p->n; i++) {
			const struct fp_sn_object *o = &p->objs[p->e[i].obj];
			if (o->index && o->sum && !strcmp(o->sum, sname[j]) && !p->e[i].s &&
			    !p->e[i].skip) {
				sval[j] += p->e[i].f;
				rows = true;
			}
		}
		for (i = 0; i < p->nobjs; i++)
			if (p->objs[i].sum && !strcmp(p->objs[i].sum, sname[j]) && p->dropped[i])
				bad = true;
		sbad[j] = bad || !rows;
	}
	for (i = 0; i < p->n; i++) {
		if (p->objs[p->e[i].obj].index || p->e[i].skip)
			continue;
		if (!pt) {
			pt = fp_batch_add(out, "meter", ts);
			common_tags(pt, di);
			fp_point_tag(pt, "role", di->role);
		}
		put(pt, p->objs[p->e[i].obj].field, &p->e[i]);
		nv++;
	}
	for (j = 0; j < ns; j++) {
		if (sbad[j])
			continue;
		if (!pt) {
			pt = fp_batch_add(out, "meter", ts);
			common_tags(pt, di);
			fp_point_tag(pt, "role", di->role);
		}
		fp_point_float(pt, sname[j], sval[j]);
		nv++;
	}
	return nv;
}

/* One point per (index tag, row), in the order first answered. */
static size_t row_points(struct fp_sn_poll *p, const struct fp_sn_devinfo *di, int64_t ts,
			 struct fp_batch *out)
{
	bool *done = fp_xcalloc(p->n ? p->n : 1, sizeof(*done));
	size_t i, j, nv = 0;

	for (i = 0; i < p->n; i++) {
		const struct fp_sn_object *o = &p->objs[p->e[i].obj];
		struct fp_point *pt;
		char chan[FP_SN_ROW_MAX + 64];
		if (!o->index || done[i] || p->e[i].skip)
			continue;
		pt = fp_batch_add(out, "meter", ts);
		common_tags(pt, di);
		if (!strcmp(o->index, "phase")) {
			snprintf(chan, sizeof(chan), "%s%s", strchr(p->e[i].row, '.') ? "" : "L",
				 p->e[i].row);
			fp_point_tag(pt, "phase", chan);
			fp_point_tag(pt, "role", di->role);
		} else {
			snprintf(chan, sizeof(chan), "%s%s", o->index, p->e[i].row);
			fp_point_tag(pt, o->index, p->e[i].row);
			fp_point_tag(pt, "channel", chan);
			if (di->channel_role)
				fp_point_tag(pt, "role", di->channel_role);
		}
		for (j = i; j < p->n; j++) {
			const struct fp_sn_object *oj = &p->objs[p->e[j].obj];
			if (done[j] || p->e[j].skip || !oj->index || strcmp(oj->index, o->index) ||
			    strcmp(p->e[j].row, p->e[i].row))
				continue;
			put(pt, oj->field, &p->e[j]);
			done[j] = true;
			nv++;
		}
	}
	free(done);
	return nv;
}

size_t fp_sn_poll_points(struct fp_sn_poll *p, struct fp_sn_state *st,
			 const struct fp_sn_devinfo *di, int64_t ts_ns, int64_t mono_ns,
			 struct fp_batch *out)
{
	bool rebooted = false;

	if (p->have_uptime) {
		rebooted = st->have_uptime &&
			fp_sn_rebooted(st->uptime, st->uptime_mono_ns, p->uptime, mono_ns);
		st->uptime = p->uptime;
		st->uptime_mono_ns = mono_ns;
		st->have_uptime = true;
		st->reboots += rebooted;
	}
	values(p, st, rebooted);
	return device_point(p, di, ts_ns, out) + row_points(p, di, ts_ns, out);
}
