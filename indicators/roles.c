/* roles.c - the meter roles (see roles.h). */
#include "config.h"

#include "roles.h"

#include <stdio.h>
#include <string.h>

#include "indicators.h"
#include "util.h"

static const struct fp_role roles[] = {
	{ "facility", FP_Q_FACILITY, FP_Q_GRID, "energy_import_kwh", "kwh", 0, NULL },
	{ "it", FP_Q_IT, FP_Q_IT, "energy_import_kwh", "kwh", 0, NULL },
	{ "cooling", FP_Q_COOLING, FP_Q_COOLING, "energy_import_kwh", "kwh", 0, NULL },
	{ "lighting", FP_Q_LIGHTING, FP_Q_LIGHTING, "energy_import_kwh", "kwh", 0, NULL },
	{ "other", FP_Q_OTHER, FP_Q_OTHER, "energy_import_kwh", "kwh", 0, NULL },
	/* a PV inverter's production is its AC export (SunSpec WH) */
	{ "renewable_onsite", FP_Q_RENEWABLE_ONSITE, FP_Q_FACILITY, "energy_export_kwh", "kwh", 0,
	  "energy_import_kwh" },
	{ "reuse", FP_Q_REUSE, FP_Q_REUSE, "energy_import_kwh", "kwh", 0, NULL },
	{ "cooling_heat", FP_Q_COOLING_HEAT, FP_Q_COOLING_HEAT, "energy_import_kwh", "kwh", 0,
	  NULL },
	{ "water", FP_Q_WATER, FP_Q_WATER, "water_m3", "m3", 0, NULL },
	{ "fuel_diesel", FP_Q_FUEL, FP_Q_FACILITY, "fuel_l", "l", FP_KWH_PER_L_DIESEL, NULL },
	{ "fuel_gas", FP_Q_FUEL, FP_Q_FACILITY, "gas_m3", "m3", FP_KWH_PER_M3_GAS, NULL },
	{ "fuel_hydrogen", FP_Q_FUEL, FP_Q_FACILITY, "hydrogen_kg", "kg", FP_KWH_PER_KG_HYDROGEN,
	  NULL },
	{ "fuel_bioethanol", FP_Q_FUEL, FP_Q_FACILITY, "fuel_l", "l", FP_KWH_PER_L_BIOETHANOL,
	  NULL },
	{ "telecom_equipment", FP_Q_TELECOM_EQUIPMENT, FP_Q_TELECOM_EQUIPMENT, "energy_import_kwh",
	  "kwh", 0, NULL },
	{ "telecom_site", FP_Q_TELECOM_SITE, FP_Q_TELECOM_SITE, "energy_import_kwh", "kwh", 0,
	  NULL },
	{ "data_volume", FP_Q_DATA_VOLUME, FP_Q_DATA_VOLUME, "data_bytes", "byte", 0, NULL },
};

const struct fp_role *fp_role_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < FP_ARRAY_SIZE(roles); i++)
		if (!strcmp(roles[i].name, name))
			return &roles[i];
	return NULL;
}

/* "none", accepted wherever a role is (fp_role_name) but found by
 * fp_role_find as no role: its points are written, never counted. */
const char *fp_role_name(size_t i)
{
	if (i == FP_ARRAY_SIZE(roles))
		return FP_ROLE_NONE;
	return i < FP_ARRAY_SIZE(roles) ? roles[i].name : NULL;
}

/* How many of the quantity's unit one unit of the meter makes; 0 if the
 * unit does not fit the quantity. */
double fp_role_unit_factor(enum fp_qty q, const struct fp_role *r, const char *unit)
{
	if (q == FP_Q_WATER)
		return !strcmp(unit, "m3") ? 1 : !strcmp(unit, "l") ? 1e-3 : 0;
	if (q == FP_Q_DATA_VOLUME)
		return !strcmp(unit, "bit") ? 1 : !strcmp(unit, "byte") ? 8 : 0;
	if (!strcmp(unit, "kwh"))
		return 1;
	if (!strcmp(unit, "wh"))
		return 1e-3;
	if (!strcmp(unit, "mwh"))
		return 1e3;
	if (r && r->kwh_per_unit > 0 && !strcmp(unit, r->unit))
		return r->kwh_per_unit;
	return 0;
}

int fp_role_members(const char *role, const char *unit, double coef[FP_NQTY])
{
	const struct fp_role *r = fp_role_find(role);

	memset(coef, 0, sizeof(double) * FP_NQTY);
	if (!r)
		return -1;
	coef[r->q1] = fp_role_unit_factor(r->q1, r, unit);
	coef[r->q2] = fp_role_unit_factor(r->q2, r, unit);
	return 0;
}

const struct fp_role *fp_role_at(size_t i)
{
	return i < FP_ARRAY_SIZE(roles) ? &roles[i] : NULL;
}
