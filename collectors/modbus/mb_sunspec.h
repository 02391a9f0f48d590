/* mb_sunspec.h - SunSpec auto-discovery (profile = "sunspec").
 *
 * Discovery probes holding registers 40000, 0 and 50000 for "SunS"
 * (0x5375 0x6E53), then walks the model chain from base + 2: each model is
 * a header (ID, L) and L registers; the walk stops at ID 0xFFFF, at ID 0,
 * at the end of the address space, or after 64 models.  Models 1 (common),
 * 101-103 (inverter, integer + scale factors), 111-113 (inverter, float)
 * and 201-204 (meter) become register fields with schema names; other
 * models are skipped by their length (logged).  A scale factor is read in
 * the same request as its values (one group per model).  Values equal to
 * SunSpec's "not implemented" sentinels (int16 0x8000, uint16 0xFFFF,
 * acc32 0, sunssf 0x8000, float NaN) produce no field.
 */
#ifndef FP_MB_SUNSPEC_H
#define FP_MB_SUNSPEC_H

#include <stddef.h>
#include <stdint.h>

#include "mb_decode.h"

#define FP_SUNSPEC_MAX_MODELS 64

struct fp_sunspec_model {
	uint16_t id, addr, len; /* addr: the ID register; len: L */
};

/* Reads n holding registers at addr into regs; 0 or -errno. */
typedef int (*fp_sunspec_read_fn)(void *ctx, uint16_t addr, uint16_t n, uint16_t *regs);

/* Finds the chain: fills models (at most max), *n and *base.  Returns 0,
 * or -1 with why set (no marker at any base, a read error). */
int fp_sunspec_discover(fp_sunspec_read_fn rd, void *ctx, struct fp_sunspec_model *models,
			size_t max, size_t *n, uint16_t *base, char *why, size_t whylen);

/* Builds the fields of the known models (caller frees with
 * fp_sunspec_fields_free).  Unknown models are listed in skipped. */
size_t fp_sunspec_fields(const struct fp_sunspec_model *models, size_t n, struct fp_mb_field **out,
			 char *skipped, size_t skippedlen);
void fp_sunspec_fields_free(struct fp_mb_field *f, size_t n);

/* Applies the scale factors: vals[i] of a field with sf becomes
 * value x 10^(SF + pow10), or nothing when the SF is missing or out of
 * -10..10; a field with only pow10 is value x 10^pow10. */
void fp_sunspec_apply_sf(const struct fp_mb_field *f, size_t n, struct fp_mb_value *vals,
			 const bool *have);

#endif
