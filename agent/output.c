/* output.c - output instances: the common part. */
#include "config.h"

#include "output.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

struct fp_output *fp_output_new(const struct fp_output_ops *ops, const char *name,
				enum fp_precision precision, void *priv)
{
	struct fp_output *o = fp_xcalloc(1, sizeof(*o));

	o->ops = ops;
	o->name = fp_xstrdup(name);
	o->precision = precision;
	o->priv = priv;
	return o;
}

int fp_output_start(struct fp_output *o)
{
	int rc = o->ops->start(o);

	o->started = rc == 0;
	return rc;
}

void fp_output_submit(struct fp_output *o, const char *data, size_t len, size_t npoints)
{
	if (o->started)
		o->ops->submit(o, data, len, npoints);
}

bool fp_output_saturated(struct fp_output *o)
{
	return o->started && o->ops->saturated && o->ops->saturated(o);
}

void fp_output_stop(struct fp_output *o, int64_t timeout_ms)
{
	if (!o || !o->started)
		return;
	o->ops->stop(o, timeout_ms);
	o->started = false;
}

void fp_output_free(struct fp_output *o)
{
	if (!o)
		return;
	fp_output_stop(o, 0);
	if (o->ops->destroy)
		o->ops->destroy(o);
	free(o->name);
	free(o);
}

void fp_output_metrics(struct fp_output *o, struct fp_batch *b, const char *site, const char *host,
		       int64_t ts_ns)
{
	struct fp_point *p = fp_batch_self(b, ts_ns, site, host, "output/%s", o->name);

	o->ops->metrics(o, p);
	if (o->retention_ms)
		fp_point_int(p, "points_too_old", (int64_t)o->too_old);
}
