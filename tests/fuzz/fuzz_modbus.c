/* fuzz_modbus.c - register decoding of arbitrary responses for any field
 * shape, request planning of arbitrary maps, and SunSpec discovery and
 * decoding on an arbitrary register space. */
#include "config.h"

#include <string.h>

#include "mb_decode.h"
#include "mb_sunspec.h"

#include <stdlib.h>

/* The register space of the SunSpec part: the input, repeated, with the
 * marker at one of the standard bases so that chains get walked. */
static const uint8_t *sp_data;
static size_t sp_size;

static int sp_read(void *ctx, uint16_t addr, uint16_t n, uint16_t *regs)
{
	(void)ctx;
	for (unsigned i = 0; i < n; i++) {
		uint32_t a = (uint32_t)addr + i;
		size_t k = (2 * (size_t)a) % sp_size;
		if (a > 65535)
			return -1;
		if (a == 40000 || a == 0) {
			regs[i] = 0x5375;
			continue;
		}
		if (a == 40001 || a == 1) {
			regs[i] = 0x6E53;
			continue;
		}
		regs[i] = (uint16_t)(sp_data[k] << 8 | sp_data[(k + 1) % sp_size]);
	}
	return 0;
}

static void sunspec(const uint8_t *data, size_t size)
{
	struct fp_sunspec_model m[FP_SUNSPEC_MAX_MODELS];
	struct fp_mb_field *f;
	struct fp_mb_value *v;
	bool *have;
	size_t n = 0, nf, i;
	uint16_t base, regs[125];
	char why[200], skipped[300];

	sp_data = data;
	sp_size = size;
	if (fp_sunspec_discover(sp_read, NULL, m, FP_SUNSPEC_MAX_MODELS, &n, &base, why,
				sizeof(why)) < 0)
		return;
	nf = fp_sunspec_fields(m, n, &f, skipped, sizeof(skipped));
	v = calloc(nf ? nf : 1, sizeof(*v));
	have = calloc(nf ? nf : 1, sizeof(*have));
	for (i = 0; i < nf; i++) {
		if (f[i].count > 125 || sp_read(NULL, f[i].address, f[i].count, regs) < 0)
			continue;
		fp_mb_decode(&f[i], regs, NULL, &v[i]);
		have[i] = true;
	}
	fp_sunspec_apply_sf(f, nf, v, have);
	free(v);
	free(have);
	fp_sunspec_fields_free(f, nf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fp_mb_field f[8];
	uint16_t regs[125];
	uint8_t bits[2000];
	struct fp_mb_value v;
	struct fp_mb_block *b;
	struct fp_mb_plan_limits lim;
	size_t i, nb, nf = 0;

	if (size < 8)
		return 0;
	sunspec(data, size);
	memset(regs, 0, sizeof(regs));
	memset(bits, 0, sizeof(bits));
	memcpy(regs, data + 8, size - 8 < sizeof(regs) ? size - 8 : sizeof(regs));
	for (i = 0; i < sizeof(bits) && 8 + i < size; i++)
		bits[i] = data[8 + i] & 1;
	for (i = 0; i < 8; i++) {
		uint8_t c = data[i];
		memset(&f[i], 0, sizeof(f[i]));
		f[i].table = (enum fp_mb_table)(c & 3);
		f[i].type = (enum fp_mb_type)((c >> 2) % 10);
		f[i].order = (enum fp_mb_order)((c >> 6) & 3);
		if (f[i].table <= FP_MB_DISCRETE)
			f[i].type = FP_MB_BOOL;
		f[i].count = f[i].type == FP_MB_STRING ? (uint16_t)(1 + c % 125)
			: f[i].table <= FP_MB_DISCRETE ? 1
						       : (uint16_t)fp_mb_type_words(f[i].type);
		f[i].bit = f[i].type == FP_MB_BOOL && f[i].table > FP_MB_DISCRETE ? (int8_t)(c % 16)
										  : -1;
		f[i].scale = (c & 1) ? 0.1 : 1;
		f[i].out = (enum fp_mb_out)(c % 4);
		f[i].sentinel[0] = c;
		f[i].nsentinels = c & 2 ? 1 : 0;
		f[i].address = (uint16_t)(c * 257u + i * 9u);
		fp_mb_decode(&f[i], regs, bits, &v);
		nf++;
	}
	lim.max_registers = 1 + data[0] % 125;
	lim.max_bits = 1 + data[1] * 7u % 2000;
	lim.max_gap = data[2] % 125;
	lim.single = data[3] & 1;
	for (i = 0; i < nf; i++)
		if (f[i].count > (f[i].table <= FP_MB_DISCRETE ? lim.max_bits : lim.max_registers))
			f[i].disabled = true;
	nb = fp_mb_plan(f, nf, &lim, &b);
	for (i = 0; i < nb; i++) {
		unsigned max = b[i].table <= FP_MB_DISCRETE ? lim.max_bits : lim.max_registers;
		if (b[i].count > max || b[i].nfields == 0)
			__builtin_trap(); /* a plan must respect the limits */
	}
	fp_mb_plan_free(b, nb);
	return 0;
}
