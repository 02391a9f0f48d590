/* mb_sunspec.c - SunSpec discovery and models (see mb_sunspec.h).
 * Model layouts: SunSpec models repository (json/model_<id>.json), as
 * summarised in the project's fixtures (sunspec-models.md). */
#include "config.h"

#include "mb_sunspec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum sentinel { S_NONE, S_I16, S_U16, S_ACC32, S_NAN };

struct pt {
	uint16_t off;
	enum fp_mb_type type;
	uint16_t count;
	const char *field, *phase;
	int16_t sf; /* offset of the scale factor, -1 none */
	int pow10;  /* unit change: Wh -> kWh is -3, percent -> ratio -2 */
	enum sentinel sent;
};

#define I16(o, f, ph, sf, sc)                           \
	{                                               \
		o, FP_MB_INT16, 1, f, ph, sf, sc, S_I16 \
	}
#define U16(o, f, ph, sf, sc)                            \
	{                                                \
		o, FP_MB_UINT16, 1, f, ph, sf, sc, S_U16 \
	}
#define ACC(o, f, ph, sf, sc)                              \
	{                                                  \
		o, FP_MB_UINT32, 2, f, ph, sf, sc, S_ACC32 \
	}
#define F32(o, f, ph, sc)                                 \
	{                                                 \
		o, FP_MB_FLOAT32, 2, f, ph, -1, sc, S_NAN \
	}

/* Model 1: common. */
static const struct pt common[] = {
	{ 2, FP_MB_STRING, 16, "manufacturer", NULL, -1, 0, S_NONE },
	{ 18, FP_MB_STRING, 16, "model", NULL, -1, 0, S_NONE },
	{ 50, FP_MB_STRING, 16, "serial", NULL, -1, 0, S_NONE },
};

/* Models 201-204: meters (int16 with scale factors, acc32 energies). */
static const struct pt meter[] = {
	I16(2, "current_a", NULL, 6, 0),
	I16(3, "current_a", "L1", 6, 0),
	I16(4, "current_a", "L2", 6, 0),
	I16(5, "current_a", "L3", 6, 0),
	I16(7, "voltage_v", NULL, 15, 0),
	I16(8, "voltage_v", "L1", 15, 0),
	I16(9, "voltage_v", "L2", 15, 0),
	I16(10, "voltage_v", "L3", 15, 0),
	I16(16, "frequency_hz", NULL, 17, 0),
	I16(18, "power_w", NULL, 22, 0),
	I16(19, "power_w", "L1", 22, 0),
	I16(20, "power_w", "L2", 22, 0),
	I16(21, "power_w", "L3", 22, 0),
	I16(23, "apparent_power_va", NULL, 27, 0),
	I16(24, "apparent_power_va", "L1", 27, 0),
	I16(25, "apparent_power_va", "L2", 27, 0),
	I16(26, "apparent_power_va", "L3", 27, 0),
	I16(28, "reactive_power_var", NULL, 32, 0),
	I16(29, "reactive_power_var", "L1", 32, 0),
	I16(30, "reactive_power_var", "L2", 32, 0),
	I16(31, "reactive_power_var", "L3", 32, 0),
	/* PF is in percent: x 0.01 for the schema's ratio */
	I16(33, "power_factor", NULL, 37, -2),
	I16(34, "power_factor", "L1", 37, -2),
	I16(35, "power_factor", "L2", 37, -2),
	I16(36, "power_factor", "L3", 37, -2),
	ACC(38, "energy_export_kwh", NULL, 54, -3),
	ACC(40, "energy_export_kwh", "L1", 54, -3),
	ACC(42, "energy_export_kwh", "L2", 54, -3),
	ACC(44, "energy_export_kwh", "L3", 54, -3),
	ACC(46, "energy_import_kwh", NULL, 54, -3),
	ACC(48, "energy_import_kwh", "L1", 54, -3),
	ACC(50, "energy_import_kwh", "L2", 54, -3),
	ACC(52, "energy_import_kwh", "L3", 54, -3),
};

/* Models 101-103: inverters, integer + scale factors.  WH is the AC
 * energy produced: exported by the inverter. */
static const struct pt inverter[] = {
	U16(2, "current_a", NULL, 6, 0),
	U16(3, "current_a", "L1", 6, 0),
	U16(4, "current_a", "L2", 6, 0),
	U16(5, "current_a", "L3", 6, 0),
	U16(10, "voltage_v", "L1", 13, 0),
	U16(11, "voltage_v", "L2", 13, 0),
	U16(12, "voltage_v", "L3", 13, 0),
	I16(14, "power_w", NULL, 15, 0),
	U16(16, "frequency_hz", NULL, 17, 0),
	I16(18, "apparent_power_va", NULL, 19, 0),
	I16(20, "reactive_power_var", NULL, 21, 0),
	I16(22, "power_factor", NULL, 23, -2),
	ACC(24, "energy_export_kwh", NULL, 26, -3),
	I16(31, "dc_power_w", NULL, 32, 0),
	I16(33, "temperature_c", NULL, 37, 0),
	{ 38, FP_MB_UINT16, 1, "state", NULL, -1, 0, S_U16 },
};

/* Models 111-113: inverters, float32. */
static const struct pt inverter_float[] = {
	F32(2, "current_a", NULL, 0),
	F32(4, "current_a", "L1", 0),
	F32(6, "current_a", "L2", 0),
	F32(8, "current_a", "L3", 0),
	F32(16, "voltage_v", "L1", 0),
	F32(18, "voltage_v", "L2", 0),
	F32(20, "voltage_v", "L3", 0),
	F32(22, "power_w", NULL, 0),
	F32(24, "frequency_hz", NULL, 0),
	F32(26, "apparent_power_va", NULL, 0),
	F32(28, "reactive_power_var", NULL, 0),
	F32(30, "power_factor", NULL, -2),
	F32(32, "energy_export_kwh", NULL, -3),
	F32(38, "dc_power_w", NULL, 0),
	F32(40, "temperature_c", NULL, 0),
	{ 48, FP_MB_UINT16, 1, "state", NULL, -1, 0, S_U16 },
};

int fp_sunspec_discover(fp_sunspec_read_fn rd, void *ctx, struct fp_sunspec_model *models,
			size_t max, size_t *n, uint16_t *base, char *why, size_t whylen)
{
	static const uint16_t bases[] = { 40000, 0, 50000 };
	uint16_t r[2];
	uint32_t addr;
	size_t i;
	int rc = 0;

	*n = 0;
	for (i = 0; i < FP_ARRAY_SIZE(bases); i++) {
		rc = rd(ctx, bases[i], 2, r);
		if (rc == 0 && r[0] == 0x5375 && r[1] == 0x6E53)
			break;
	}
	if (i == FP_ARRAY_SIZE(bases)) {
		snprintf(why, whylen,
			 "no SunSpec marker \"SunS\" at holding registers 40000, 0 or 50000");
		return -1;
	}
	*base = bases[i];
	for (addr = (uint32_t)bases[i] + 2; *n < max && *n < FP_SUNSPEC_MAX_MODELS;) {
		if (addr + 2 > 65536) {
			snprintf(why, whylen, "the model chain runs past register 65535");
			return *n ? 0 : -1;
		}
		if ((rc = rd(ctx, (uint16_t)addr, 2, r)) != 0) {
			snprintf(why, whylen, "reading the model header at %u failed",
				 (unsigned)addr);
			return -1;
		}
		if (r[0] == 0xFFFF || r[0] == 0)
			return 0;
		models[*n].id = r[0];
		models[*n].addr = (uint16_t)addr;
		models[*n].len = r[1];
		(*n)++;
		addr += 2u + r[1];
	}
	snprintf(why, whylen, "more than %d models: the walk stopped there", FP_SUNSPEC_MAX_MODELS);
	return 0;
}

static void add_field(struct fp_mb_field **out, size_t *n, size_t *cap, const char *name,
		      const char *phase, uint16_t addr, enum fp_mb_type type, uint16_t count,
		      int pow10, enum sentinel sent, uint16_t group)
{
	struct fp_mb_field *f;

	fp_xgrow((void **)out, cap, *n + 1, sizeof(**out));
	f = &(*out)[(*n)++];
	memset(f, 0, sizeof(*f));
	f->field = fp_xstrdup(name);
	f->phase = phase ? fp_xstrdup(phase) : NULL;
	f->table = FP_MB_HOLDING;
	f->address = addr;
	f->type = type;
	f->order = FP_MB_ABCD;
	f->count = count;
	f->bit = -1;
	f->scale = 1;
	f->pow10 = (int8_t)pow10;
	f->out = type == FP_MB_STRING	 ? FP_MB_OUT_STRING
		: !strcmp(name, "state") ? FP_MB_OUT_INT
					 : FP_MB_OUT_FLOAT;
	f->group = group;
	switch (sent) {
	case S_I16:
		f->sentinel[f->nsentinels++] = 0x8000;
		break;
	case S_U16:
		f->sentinel[f->nsentinels++] = 0xFFFF;
		break;
	case S_ACC32:
		f->sentinel[f->nsentinels++] = 0;
		break;
	case S_NAN:
		f->nan_is_missing = true;
		break;
	default:
		break;
	}
}

size_t fp_sunspec_fields(const struct fp_sunspec_model *models, size_t n, struct fp_mb_field **out,
			 char *skipped, size_t skippedlen)
{
	size_t nf = 0, cap = 0, i, k, used = 0;
	int device = 0;

	*out = NULL;
	if (skippedlen)
		skipped[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct fp_sunspec_model *m = &models[i];
		const struct pt *pts = NULL;
		size_t np = 0;
		char suffix[16] = "";
		uint16_t group = (uint16_t)(i + 1);

		if (m->id == 1) {
			device++;
			pts = common;
			np = FP_ARRAY_SIZE(common);
		} else if (m->id >= 201 && m->id <= 204) {
			pts = meter;
			np = FP_ARRAY_SIZE(meter);
		} else if (m->id >= 101 && m->id <= 103) {
			pts = inverter;
			np = FP_ARRAY_SIZE(inverter);
		} else if (m->id >= 111 && m->id <= 113) {
			pts = inverter_float;
			np = FP_ARRAY_SIZE(inverter_float);
		} else {
			if (used < skippedlen)
				used += (size_t)snprintf(skipped + used, skippedlen - used,
							 "%s%u (L %u at %u)", used ? ", " : "",
							 m->id, m->len, m->addr);
			continue;
		}
		/* The second device of a chain (a meter behind an inverter)
		 * gets its fields suffixed: power_w_d2. */
		if (device > 1)
			snprintf(suffix, sizeof(suffix), "_d%d", device);
		for (k = 0; k < np; k++) {
			const struct pt *p = &pts[k];
			char name[64];
			size_t sfi = 0;
			if (p->off + p->count > 2u + m->len ||
			    (uint32_t)m->addr + p->off + p->count > 65536)
				continue; /* a shorter (older) model: no such point */
			if (p->sf >= 0) {
				/* the scale factor: one hidden field per model */
				size_t j;
				uint16_t a = (uint16_t)(m->addr + p->sf);
				if (p->sf + 1 > 2 + m->len)
					continue;
				for (j = 0; j < nf; j++)
					if ((*out)[j].hidden && (*out)[j].address == a)
						sfi = j + 1;
				if (!sfi) {
					add_field(out, &nf, &cap, "sf", NULL, a, FP_MB_INT16, 1, 0,
						  S_I16, group);
					(*out)[nf - 1].hidden = true;
					(*out)[nf - 1].out = FP_MB_OUT_INT;
					sfi = nf;
				}
			}
			snprintf(name, sizeof(name), "%s%s", p->field, suffix);
			add_field(out, &nf, &cap, name, p->phase, (uint16_t)(m->addr + p->off),
				  p->type, p->count, p->pow10, p->sent, group);
			(*out)[nf - 1].sf = (uint16_t)sfi;
		}
	}
	return nf;
}

void fp_sunspec_fields_free(struct fp_mb_field *f, size_t n)
{
	size_t i;

	for (i = 0; f && i < n; i++) {
		free(f[i].field);
		free(f[i].phase);
	}
	free(f);
}

void fp_sunspec_apply_sf(const struct fp_mb_field *f, size_t n, struct fp_mb_value *vals,
			 const bool *have)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int e = f[i].pow10;
		if ((!f[i].sf && !e) || !have[i] || vals[i].kind != FP_MB_V_FLOAT)
			continue;
		if (f[i].sf) {
			size_t j = f[i].sf - 1u;
			if (j >= n || !have[j] || vals[j].kind != FP_MB_V_INT || vals[j].i < -10 ||
			    vals[j].i > 10) {
				vals[i].kind = FP_MB_V_NONE; /* no usable scale factor */
				continue;
			}
			e += (int)vals[j].i;
		}
		/* one step, dividing for negative exponents: 970 x 10^-3 is
		 * 0.97, not 0.9700000000000002 */
		vals[i].f = e < 0 ? vals[i].f / pow(10, -e) : vals[i].f * pow(10, e);
	}
}
