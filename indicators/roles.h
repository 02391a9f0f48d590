/* roles.h - the meter roles (README, "Meters and roles"): which quantities a
 * meter of the role adds to, the counter field it reads by default, and
 * the units it may be in. */
#ifndef FP_ROLES_H
#define FP_ROLES_H

#include <stddef.h>

#include "conf.h"
#include "energy.h"

struct fp_role {
	const char *name;
	enum fp_qty q1, q2;	  /* quantities it belongs to (q2 = q1 if one) */
	const char *field, *unit; /* default reading */
	double kwh_per_unit;	  /* fuels: conversion into E_DC */
	const char *field2;	  /* the next choice (an inverter's production) */
};

/* The role of points that are not a meter's: a known name (accepted in
 * the configuration), but no role (fp_role_find gives NULL), so its points
 * are written and never count in any indicator. */
#define FP_ROLE_NONE "none"

/* NULL for an unknown (or NULL) name, and for FP_ROLE_NONE. */
const struct fp_role *fp_role_find(const char *name);
/* The i-th role's name (FP_ROLE_NONE last), NULL past the last: what the
 * loader installs as struct fp_config's role_name, for fp_cfg_get_role. */
const char *fp_role_name(size_t i);
/* The i-th role, NULL past the last. */
const struct fp_role *fp_role_at(size_t i);
/* How many of the quantity's unit one unit of the meter makes; 0 if the
 * unit does not fit the quantity. */
double fp_role_unit_factor(enum fp_qty q, const struct fp_role *r, const char *unit);

#endif
