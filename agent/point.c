/* point.c - the metric model. */
#include "config.h"

#include "point.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void fp_batch_init(struct fp_batch *b)
{
	memset(b, 0, sizeof(*b));
}

static void point_free(struct fp_point *p)
{
	size_t i;

	free(p->measurement);
	for (i = 0; i < p->ntags; i++) {
		free(p->tags[i].key);
		free(p->tags[i].val);
	}
	free(p->tags);
	for (i = 0; i < p->nfields; i++) {
		free(p->fields[i].key);
		if (p->fields[i].type == FP_STRING)
			free(p->fields[i].v.s);
	}
	free(p->fields);
}

void fp_batch_reset(struct fp_batch *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++)
		point_free(&b->pts[i]);
	free(b->pts);
	fp_batch_init(b);
}

struct fp_point *fp_batch_add(struct fp_batch *b, const char *measurement, int64_t ts_ns)
{
	struct fp_point *p;

	fp_xgrow((void **)&b->pts, &b->cap, b->n + 1, sizeof(*b->pts));
	p = &b->pts[b->n++];
	memset(p, 0, sizeof(*p));
	p->measurement = fp_xstrdup(measurement);
	p->ts_ns = ts_ns;
	return p;
}

struct fp_point *fp_batch_self(struct fp_batch *b, int64_t ts_ns, const char *site,
			       const char *host, const char *component_fmt, ...)
{
	struct fp_point *p = fp_batch_add(b, "footprintd", ts_ns);
	char comp[512];
	va_list ap;

	va_start(ap, component_fmt);
	vsnprintf(comp, sizeof(comp), component_fmt, ap);
	va_end(ap);
	fp_point_tag(p, "site", site);
	fp_point_tag(p, "host", host);
	fp_point_tag(p, "component", comp);
	return p;
}

void fp_point_tag(struct fp_point *p, const char *key, const char *val)
{
	size_t i;

	for (i = 0; i < p->ntags; i++) {
		if (strcmp(p->tags[i].key, key) == 0) {
			free(p->tags[i].val);
			p->tags[i].val = fp_xstrdup(val);
			return;
		}
	}
	fp_xgrow((void **)&p->tags, &p->tcap, p->ntags + 1, sizeof(*p->tags));
	p->tags[p->ntags].key = fp_xstrdup(key);
	p->tags[p->ntags].val = fp_xstrdup(val);
	p->ntags++;
}

static struct fp_field *add_field(struct fp_point *p, const char *key, enum fp_type t)
{
	struct fp_field *f;

	fp_xgrow((void **)&p->fields, &p->fcap, p->nfields + 1, sizeof(*p->fields));
	f = &p->fields[p->nfields++];
	f->key = fp_xstrdup(key);
	f->type = t;
	return f;
}

void fp_point_float(struct fp_point *p, const char *key, double v)
{
	add_field(p, key, FP_FLOAT)->v.f = v;
}

void fp_point_int(struct fp_point *p, const char *key, int64_t v)
{
	add_field(p, key, FP_INT)->v.i = v;
}

void fp_point_uint(struct fp_point *p, const char *key, uint64_t v)
{
	add_field(p, key, FP_UINT)->v.u = v;
}

void fp_point_bool(struct fp_point *p, const char *key, bool v)
{
	add_field(p, key, FP_BOOL)->v.b = v;
}

void fp_point_string(struct fp_point *p, const char *key, const char *v)
{
	add_field(p, key, FP_STRING)->v.s = fp_xstrdup(v);
}

const struct fp_field *fp_point_field(const struct fp_point *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->nfields; i++)
		if (strcmp(p->fields[i].key, key) == 0)
			return &p->fields[i];
	return NULL;
}

const char *fp_point_tag_value(const struct fp_point *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->ntags; i++)
		if (strcmp(p->tags[i].key, key) == 0)
			return p->tags[i].val;
	return NULL;
}

void fp_batch_drop_last(struct fp_batch *b)
{
	if (!b->n)
		return;
	point_free(&b->pts[--b->n]);
}
