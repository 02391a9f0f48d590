/* fpsim.c - a Modbus TCP/RTU device simulator for the tests, the demo and
 * the benchmarks, built on libmodbus's server API.
 *
 *   fpsim [--tcp 127.0.0.1:PORT | --rtu /dev/pts/N[:baud]] [--port-file F]
 *         [--profiles-dir DIR] [--frozen] [--seed N] [--count-file F]
 *         [--state-file F] [--values-file F]
 *         --unit ID:PROFILE[,dead][,busy=N][,delay=MS][,loose][,power=W]
 *                [,disconnect=N][,garbage=N][,hole=A[-B]][,unit_as=N]
 *                [,energy=KWH][,ramp=KWH_PER_S][,reset_at=S][,na] ...
 *         --unit ID:sunspec-meter|sunspec-inverter|sunspec-inverter-float
 *                [,base=N][,common65][,power=W] ...
 *
 * --port-file F: over TCP the port listened on, over RTU the device, written
 * once requests are answered (what a test waits for).
 *
 * Each unit serves a register map read from a profile file (the same
 * .conf/.csv files footprintd reads) with values that move: voltage near
 * 230 V, power with noise around power=W (default 2000), current and
 * apparent power consistent with it, energy counters that grow with the
 * power, frequency near 50 Hz, water meters (water_m3) that grow.
 * Requests touching a register no field covers are answered with
 * exception 2 (illegal data address), as strict meters do, unless the
 * unit is "loose".  More faults: disconnect=N drops the TCP connection
 * instead of answering every Nth request; garbage=N answers every Nth with
 * 16 bytes that are no reply (over RTU: a bad CRC); hole=A[-B] answers
 * exception 2 to any register request touching registers A..B (holding
 * or input) although a field covers them, and SIGUSR2 closes and reopens
 * the holes (a register a device stops and starts serving); unit_as=N
 * answers every request with unit id N (a gateway that routes to the
 * wrong unit).  Known trajectories for the indicator tests: energy=KWH
 * starts the energy counter there; ramp=KWH_PER_S makes it exactly
 * energy + ramp x seconds since start (power consistent, no noise; an
 * integer register wraps at its width), reset_at=S restarts it from 0
 * after S seconds (a meter reset).  SunSpec units serve "SunS" at base
 * (default 40000; 0 and 50000 are the other standard ones), model 1 (L 66,
 * or 65 with common65), a meter 203, an inverter 103 or a float inverter
 * 113, a model 120 nobody decodes, and the end model.  Faults: dead (never answers), busy=N (exception 6 on
 * the first N requests), delay=MS (answers that late).  With --frozen the
 * values do not move (for cross-checks).  TCP serves several clients and
 * units; RTU serves several units on one line (a bus).  With --count-file
 * F the requests each unit received (answered or not) are written to F
 * as lines "ID COUNT" on SIGUSR1 and at exit (to F.tmp, then renamed, so
 * F is never seen half written); the benchmarks count a client's
 * requests with it.  With --state-file F the counters (energy, export,
 * reactive energy, water) of each unit continue from F's lines
 * "ID KWH EXPORT_KWH KVARH M3" when F exists, advanced by the unit's
 * power over the time since F was written, and are written back to it
 * every second and at exit (whole, then renamed): a simulated site that
 * is stopped and started again keeps its meters' readings and their
 * running on meanwhile, as a real one does (the demo).  With --values-file F the value each field of
 * each profile unit is served with, as a reader decodes it (the register
 * pattern after its type's rounding, times scale plus offset; a float32
 * in its shortest decimal form), is written to F as lines "ID FIELD
 * PHASE VALUE" (PHASE "-" for none, VALUE "NA" for a sentinel, "?" for
 * strings and bits) at start and on SIGUSR1: with --frozen a reader must
 * get exactly these (tests/integration/profiles.sh).  The unit option na
 * serves every field that has sentinels with its first one ("not
 * available").  Exits on SIGTERM/SIGINT. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <modbus.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "mb_config.h"
#include "util.h"

#define MAX_UNITS 256

struct unit {
	int id;
	char *profile;
	struct fp_mb_config *mc;
	modbus_mapping_t *map;
	uint8_t *covered_reg[2]; /* holding, input: register covered by a field */
	uint8_t *covered_bit[2]; /* coil, discrete */
	bool dead, loose;
	int disconnect_every, garbage_every; /* faults: every Nth request */
	int hole_lo, hole_hi;		     /* hole=: -1 for none */
	int unit_as;			     /* unit_as=: -1 for none */
	unsigned long nreq;
	int busy, delay_ms;
	unsigned long long requests; /* received, for --count-file */
	double power, energy_kwh, export_kwh, water_m3, kvarh;
	double p_now;			/* power with its noise, this refresh */
	double pf;			/* power factor, this refresh */
	double energy0, ramp, reset_at; /* known trajectory (ramp > 0) */
	int64_t t0_ns;
	int sunspec;	   /* 1 meter 203, 2 inverter 103, 3 inverter 113 */
	unsigned ss_base;  /* where "SunS" is */
	bool ss_l65;	   /* the older common model length */
	unsigned ss_model; /* the measurement model's ID register */
	int64_t last_ns;
	bool na;       /* serve each field's first sentinel */
	char **served; /* per field: the value a reader decodes, as text */
};

static struct unit units[MAX_UNITS];
static int nunits;
static volatile sig_atomic_t quit, dump, holes_closed;
static const char *count_file;
static const char *state_file;
static const char *values_file;
static bool frozen;
static unsigned seed = 1;
static const char *profiles_dir = "profiles";

static void on_signal(int s)
{
	if (s == SIGUSR1)
		dump = 1;
	else if (s == SIGUSR2)
		holes_closed = !holes_closed;
	else
		quit = 1;
}

/* --count-file: "ID COUNT" per unit, written whole then renamed. */
static void write_counts(void)
{
	char *tmp;
	FILE *f;

	dump = 0;
	if (!count_file)
		return;
	tmp = fp_xasprintf("%s.tmp", count_file);
	f = fopen(tmp, "w");
	if (f) {
		for (int i = 0; i < nunits; i++)
			fprintf(f, "%d %llu\n", units[i].id, units[i].requests);
		if (fclose(f) == 0 && rename(tmp, count_file) != 0)
			fprintf(stderr, "fpsim: %s: %s\n", count_file, strerror(errno));
	}
	free(tmp);
}

static void refresh(struct unit *u);

/* --state-file: "ID KWH EXPORT_KWH KVARH M3" per unit, written whole
 * then renamed. */
static void save_state(void)
{
	char *tmp;
	FILE *f;

	if (!state_file)
		return;
	tmp = fp_xasprintf("%s.tmp", state_file);
	f = fopen(tmp, "w");
	if (f) {
		for (int i = 0; i < nunits; i++)
			fprintf(f, "%d %.9f %.9f %.9f %.9f\n", units[i].id, units[i].energy_kwh,
				units[i].export_kwh, units[i].kvarh, units[i].water_m3);
		if (fclose(f) == 0 && rename(tmp, state_file) != 0)
			fprintf(stderr, "fpsim: %s: %s\n", state_file, strerror(errno));
	}
	free(tmp);
}

/* Every second from the serving loops. */
static void save_state_now_and_then(void)
{
	static int64_t last;
	int64_t now = fp_mono_ns();

	if (state_file && now - last >= 1000000000LL) {
		last = now;
		save_state();
	}
}

/* The counters a previous run left in --state-file, if any, advanced by
 * the time since it was written (the site ran on while its simulator was
 * stopped: a meter's counter never stands still under load). */
static void load_state(void)
{
	FILE *f = state_file ? fopen(state_file, "r") : NULL;
	double e, x, q, w, gap_h = 0;
	struct stat st;
	int id;

	if (!f)
		return;
	if (!frozen && fstat(fileno(f), &st) == 0) {
		int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		if (fp_real_ns() > mt)
			gap_h = (double)(fp_real_ns() - mt) / 3.6e12;
	}
	while (fscanf(f, "%d %lf %lf %lf %lf", &id, &e, &x, &q, &w) == 5) {
		for (int i = 0; i < nunits; i++) {
			if (units[i].id != id || units[i].ramp > 0)
				continue;
			units[i].energy_kwh = units[i].energy0 = e +
				units[i].power / 1000.0 * gap_h;
			units[i].export_kwh = x;
			units[i].kvarh = q + units[i].power * 0.25 / 1000.0 * gap_h;
			units[i].water_m3 = w + 0.5 * gap_h;
			refresh(&units[i]);
		}
	}
	fclose(f);
}

static double noise(double amp)
{
	seed = seed * 1103515245u + 12345u;
	return amp * ((double)((seed >> 8) & 0xffff) / 32768.0 - 1.0);
}

/* The shortest decimal text of a float32 that reads back as the same
 * float (what a reader shows of a meter's 229.1). */
static double shortest(float x)
{
	char buf[32];

	for (int prec = 6; prec <= 9; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, (double)x);
		if (strtof(buf, NULL) == x)
			return strtod(buf, NULL);
	}
	return (double)x;
}

/* Records, for --values-file, the value a reader decodes from the raw
 * pattern bitsv of field f (computed here from the type, not by the
 * agent's decoder). */
static void note_served(struct unit *u, const struct fp_mb_field *f, uint64_t bitsv)
{
	size_t k = (size_t)(f - u->mc->devs[0].fields);
	unsigned w = 16 * fp_mb_type_words(f->type);
	uint64_t mask = w >= 64 ? ~0ULL : (1ULL << w) - 1;
	double x = 0;
	char buf[64];

	for (size_t j = 0; j < f->nsentinels; j++)
		if ((f->sentinel[j] & mask) == (bitsv & mask)) {
			snprintf(buf, sizeof(buf), "NA");
			goto done;
		}
	switch (f->type) {
	case FP_MB_INT16:
		x = (double)(int16_t)(uint16_t)bitsv;
		break;
	case FP_MB_UINT16:
		x = (double)(uint16_t)bitsv;
		break;
	case FP_MB_INT32:
		x = (double)(int32_t)(uint32_t)bitsv;
		break;
	case FP_MB_UINT32:
		x = (double)(uint32_t)bitsv;
		break;
	case FP_MB_INT64:
		x = (double)(int64_t)bitsv;
		break;
	case FP_MB_UINT64:
		x = (double)bitsv;
		break;
	case FP_MB_FLOAT32: {
		uint32_t b32 = (uint32_t)bitsv;
		float fl;
		memcpy(&fl, &b32, 4);
		x = shortest(fl);
		break;
	}
	case FP_MB_FLOAT64:
		memcpy(&x, &bitsv, 8);
		break;
	default:
		snprintf(buf, sizeof(buf), "?");
		goto done;
	}
	x = x * f->scale + f->offset;
	if (f->out == FP_MB_OUT_INT)
		snprintf(buf, sizeof(buf), "%lld", (long long)llround(x));
	else
		snprintf(buf, sizeof(buf), "%.17g", x);
done:
	if (!u->served || (u->served[k] && !strcmp(u->served[k], buf)))
		return;
	free(u->served[k]);
	u->served[k] = fp_xstrdup(buf);
}

/* --values-file: "ID FIELD PHASE VALUE" per field of each profile unit,
 * written whole then renamed. */
static void write_values(void)
{
	char *tmp;
	FILE *f;

	if (!values_file)
		return;
	tmp = fp_xasprintf("%s.tmp", values_file);
	f = fopen(tmp, "w");
	if (f) {
		for (int i = 0; i < nunits; i++) {
			const struct unit *u = &units[i];
			if (u->sunspec)
				continue;
			for (size_t k = 0; k < u->mc->devs[0].nfields; k++) {
				const struct fp_mb_field *fl = &u->mc->devs[0].fields[k];
				fprintf(f, "%d %s %s %s\n", u->id, fl->field,
					fl->phase ? fl->phase : "-",
					u->served[k] ? u->served[k] : "?");
			}
		}
		if (fclose(f) == 0 && rename(tmp, values_file) != 0)
			fprintf(stderr, "fpsim: %s: %s\n", values_file, strerror(errno));
	}
	free(tmp);
}

/* Writes value v of field f into the unit's registers (the inverse of
 * fp_mb_decode). */
static void put(struct unit *u, const struct fp_mb_field *f, double v)
{
	uint16_t *regs = f->table == FP_MB_HOLDING ? u->map->tab_registers
						   : u->map->tab_input_registers;
	unsigned n = fp_mb_type_words(f->type), i;
	double raw = (v - f->offset) / (f->scale != 0 ? f->scale : 1);
	uint64_t bitsv = 0;
	uint8_t be[8];
	bool word_swap = f->order == FP_MB_CDAB || f->order == FP_MB_DCBA;
	bool byte_swap = f->order == FP_MB_BADC || f->order == FP_MB_DCBA;

	if (f->table == FP_MB_COIL || f->table == FP_MB_DISCRETE) {
		uint8_t *bits = f->table == FP_MB_COIL ? u->map->tab_bits : u->map->tab_input_bits;
		bits[f->address] = v != 0;
		return;
	}
	if (f->type == FP_MB_BOOL) {
		if (v != 0)
			regs[f->address] |= (uint16_t)(1u << (f->bit >= 0 ? f->bit : 0));
		else
			regs[f->address] &= (uint16_t) ~(1u << (f->bit >= 0 ? f->bit : 0));
		return;
	}
	if (f->type == FP_MB_STRING) {
		const char *s = "FPSIM";
		for (i = 0; i < f->count; i++) {
			uint8_t a = (uint8_t)(2 * i < strlen(s) ? s[2 * i] : 0);
			uint8_t b = (uint8_t)(2 * i + 1 < strlen(s) ? s[2 * i + 1] : 0);
			regs[f->address + i] = byte_swap ? (uint16_t)(b << 8 | a)
							 : (uint16_t)(a << 8 | b);
		}
		return;
	}
	switch (f->type) {
	case FP_MB_INT16:
		bitsv = (uint16_t)(int16_t)llround(raw);
		break;
	case FP_MB_UINT16:
		bitsv = (uint16_t)llround(raw);
		break;
	case FP_MB_INT32:
		bitsv = (uint32_t)(int32_t)llround(raw);
		break;
	case FP_MB_UINT32:
		bitsv = (uint32_t)llround(raw);
		break;
	case FP_MB_INT64:
		bitsv = (uint64_t)llround(raw);
		break;
	case FP_MB_UINT64:
		bitsv = (uint64_t)llround(raw);
		break;
	case FP_MB_FLOAT32: {
		float x = (float)raw;
		uint32_t b32;
		memcpy(&b32, &x, 4);
		bitsv = b32;
		break;
	}
	case FP_MB_FLOAT64:
		memcpy(&bitsv, &raw, 8);
		break;
	default:
		return;
	}
	if (u->na && f->nsentinels > 0)
		bitsv = f->sentinel[0];
	note_served(u, f, bitsv);
	for (i = 0; i < 2 * n; i++)
		be[i] = (uint8_t)(bitsv >> (8 * (2 * n - 1 - i)));
	for (i = 0; i < n; i++) {
		uint8_t hi = be[2 * i], lo = be[2 * i + 1];
		uint16_t r = byte_swap ? (uint16_t)(lo << 8 | hi) : (uint16_t)(hi << 8 | lo);
		regs[f->address + (word_swap ? n - 1 - i : i)] = r;
	}
}

/* A plausible value for a schema field (per phase: a third of the total). */
static double value_for(struct unit *u, const struct fp_mb_field *f)
{
	double share = f->phase ? 1.0 / 3.0 : 1.0, volts = 230.0 + (frozen ? 0 : noise(1.5));
	const char *n = f->field;

	if (strstr(n, "voltage"))
		return volts;
	if (strstr(n, "reactive_energy"))
		return u->kvarh * share;
	if (strstr(n, "energy_export"))
		return u->export_kwh * share;
	if (strstr(n, "energy"))
		return u->energy_kwh * share;
	if (strstr(n, "reactive_power"))
		return u->p_now * tan(acos(u->pf)) * share;
	if (strstr(n, "apparent_power"))
		return u->p_now / u->pf * share;
	if (strstr(n, "power_factor"))
		return u->pf;
	if (strstr(n, "power"))
		return u->p_now * share;
	if (strstr(n, "current"))
		return u->p_now / u->pf / 230.0 * share;
	if (strstr(n, "frequency"))
		return 50.0 + (frozen ? 0 : noise(0.02));
	if (strstr(n, "water"))
		return u->water_m3;
	if (f->type == FP_MB_BOOL)
		return 1;
	return 42;
}

static void sunspec_values(struct unit *u);

static void refresh(struct unit *u)
{
	int64_t now = fp_mono_ns();
	const struct fp_mb_device_cfg *d = u->sunspec ? NULL : &u->mc->devs[0];
	size_t i;

	u->p_now = u->power;
	u->pf = 0.97;
	if (!frozen) {
		double dt_h = u->last_ns ? (double)(now - u->last_ns) / 3.6e12 : 0;
		u->p_now = u->power + noise(u->power * 0.02);
		if (u->p_now < 0)
			u->p_now = 0;
		/* a power factor that follows the load a little, with noise:
		 * 0.97 at the nominal power, lower below it */
		u->pf = 0.97 + 0.5 * (u->power > 0 ? u->p_now / u->power - 1 : 0) + noise(0.006);
		u->pf = u->pf > 0.995 ? 0.995 : u->pf < 0.85 ? 0.85 : u->pf;
		u->energy_kwh += u->p_now / 1000.0 * dt_h;
		u->kvarh += u->p_now * tan(acos(u->pf)) / 1000.0 * dt_h;
		u->water_m3 += 0.5 * dt_h;
	}
	if (u->ramp > 0) {
		double t = (double)(now - u->t0_ns) / 1e9;
		u->p_now = u->ramp * 3.6e6;
		if (u->reset_at > 0 && t >= u->reset_at)
			u->energy_kwh = u->ramp * (t - u->reset_at);
		else
			u->energy_kwh = u->energy0 + u->ramp * t;
	}
	u->last_ns = now;
	if (u->sunspec) {
		sunspec_values(u);
		return;
	}
	for (i = 0; i < d->nfields; i++)
		put(u, &d->fields[i], value_for(u, &d->fields[i]));
}

/* ---- SunSpec units: "SunS", model 1, a measurement model, model 120
 * (not decoded by footprintd: skipped by its length), the end model. ---- */

static void ss_str(uint16_t *r, const char *txt, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t a = (uint8_t)(2 * i < strlen(txt) ? txt[2 * i] : 0);
		uint8_t b = (uint8_t)(2 * i + 1 < strlen(txt) ? txt[2 * i + 1] : 0);
		r[i] = (uint16_t)(a << 8 | b);
	}
}

static void ss_f32(uint16_t *r, double v)
{
	float x = (float)v;
	uint32_t b;
	memcpy(&b, &x, 4);
	r[0] = (uint16_t)(b >> 16);
	r[1] = (uint16_t)b;
}

static void sunspec_layout(struct unit *u)
{
	uint16_t *r = u->map->tab_registers;
	unsigned a = u->ss_base, l1 = u->ss_l65 ? 65 : 66, lm, i;
	char sn[32];

	r[a] = 0x5375;
	r[a + 1] = 0x6E53;
	a += 2;
	r[a] = 1;
	r[a + 1] = (uint16_t)l1;
	ss_str(r + a + 2, "fpsim", 16);
	ss_str(r + a + 18,
	       u->sunspec == 1		 ? "Meter 203"
		       : u->sunspec == 2 ? "Inverter 103"
					 : "Inverter 113",
	       16);
	snprintf(sn, sizeof(sn), "FP%04d", u->id);
	ss_str(r + a + 50, sn, 16);
	a += 2 + l1;
	u->ss_model = a;
	lm = u->sunspec == 1 ? 105 : u->sunspec == 2 ? 50 : 60;
	r[a] = (uint16_t)(u->sunspec == 1 ? 203 : u->sunspec == 2 ? 103 : 113);
	r[a + 1] = (uint16_t)lm;
	/* every point "not implemented" until the values are written */
	for (i = 2; i < 2 + lm; i++)
		r[a + i] = u->sunspec == 3 ? 0x7FC0 : 0x8000;
	if (u->sunspec == 3)
		for (i = 2; i < 2 + lm; i += 2)
			r[a + i + 1] = 0;
	a += 2 + lm;
	r[a] = 120; /* nameplate: skipped */
	r[a + 1] = 26;
	a += 2 + 26;
	r[a] = 0xFFFF;
	r[a + 1] = 0;
	for (i = u->ss_base; i <= a + 1; i++)
		u->covered_reg[0][i] = 1;
}

static void sunspec_values(struct unit *u)
{
	uint16_t *r = u->map->tab_registers + u->ss_model;
	double p = u->p_now, amps = p / 0.97 / 230.0, wh = u->energy_kwh * 1000;
	uint32_t whi = (uint32_t)llround(wh);

	if (u->sunspec == 1) {
		r[6] = (uint16_t)-2; /* A_SF */
		r[2] = (uint16_t)llround(amps * 100);
		for (int k = 0; k < 3; k++)
			r[3 + k] = (uint16_t)llround(amps / 3 * 100);
		r[15] = (uint16_t)-1; /* V_SF */
		r[7] = 2300;
		for (int k = 0; k < 3; k++)
			r[8 + k] = 2300;
		/* PPV (line-to-line) left "not implemented" */
		r[17] = (uint16_t)-2; /* Hz_SF */
		r[16] = 5000;
		r[22] = 1; /* W_SF: tens of watts */
		r[18] = (uint16_t)(int16_t)llround(p / 10);
		for (int k = 0; k < 3; k++)
			r[19 + k] = (uint16_t)(int16_t)llround(p / 30);
		r[27] = 1;
		r[23] = (uint16_t)(int16_t)llround(p / 0.97 / 10);
		r[37] = (uint16_t)-1; /* PF_SF: percent x 10 */
		r[33] = 970;
		for (int k = 40; k < 46; k++) /* per-phase energies: acc32 */
			r[k] = 0;	      /* "not implemented" is 0 */
		for (int k = 48; k < 54; k++)
			r[k] = 0;
		r[54] = 0; /* TotWh_SF */
		r[46] = (uint16_t)(whi >> 16);
		r[47] = (uint16_t)whi;
		r[38] = 0;
		r[39] = 1500; /* exported: 1.5 kWh */
	} else if (u->sunspec == 2) {
		for (int k = 3; k <= 12; k++) /* uint16 points: 0xFFFF */
			r[k] = 0xFFFF;
		r[6] = (uint16_t)-2;
		r[2] = (uint16_t)llround(amps * 100);
		r[13] = (uint16_t)-1;
		r[10] = 2300;
		r[15] = 1;
		r[14] = (uint16_t)(int16_t)llround(p / 10);
		r[17] = (uint16_t)-2;
		r[16] = 5000;
		r[23] = (uint16_t)-1;
		r[22] = 970;
		r[26] = 0;
		r[24] = (uint16_t)(whi >> 16);
		r[25] = (uint16_t)whi;
		r[37] = (uint16_t)-1; /* Tmp_SF; TmpCab left 0x8000 */
		r[38] = 4;	      /* St: MPPT */
	} else {
		ss_f32(r + 2, amps);
		ss_f32(r + 16, 230);
		ss_f32(r + 22, p);
		ss_f32(r + 24, 50);
		ss_f32(r + 30, 97);
		ss_f32(r + 32, wh);
		r[48] = 4;
	}
}

/* A whole decimal number of an option, or exit 2 naming it. */
static int num(const char *what, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < INT_MIN || v > INT_MAX) {
		fprintf(stderr, "fpsim: %s: '%s' is not a whole number\n", what, s);
		exit(2);
	}
	return (int)v;
}

static int load_unit(struct unit *u, const char *spec)
{
	bool has_base = false;
	char *s = fp_xstrdup(spec), *colon = strchr(s, ':'), *opts, *tok, *save = NULL;
	struct fp_config cfg;
	struct fp_cfg_errors errs = { 0 };
	config_t lc;
	char *text;
	size_t i;

	if (!colon) {
		fprintf(stderr, "fpsim: --unit ID:PROFILE[,options]\n");
		return -1;
	}
	*colon = '\0';
	u->id = num("unit id", s);
	opts = strchr(colon + 1, ',');
	if (opts)
		*opts++ = '\0';
	u->profile = fp_xstrdup(colon + 1);
	u->power = 2000;
	u->hole_lo = u->hole_hi = u->unit_as = -1;
	u->energy_kwh = 12345.0 + u->id;
	u->export_kwh = 1.5;
	u->water_m3 = 100;
	for (tok = opts ? strtok_r(opts, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "dead"))
			u->dead = true;
		else if (!strcmp(tok, "loose"))
			u->loose = true;
		else if (!strcmp(tok, "na"))
			u->na = true;
		else if (!strncmp(tok, "busy=", 5))
			u->busy = num("busy", tok + 5);
		else if (!strncmp(tok, "delay=", 6))
			u->delay_ms = num("delay", tok + 6);
		else if (!strncmp(tok, "power=", 6))
			u->power = strtod(tok + 6, NULL);
		else if (!strncmp(tok, "energy=", 7))
			u->energy_kwh = strtod(tok + 7, NULL);
		else if (!strncmp(tok, "ramp=", 5))
			u->ramp = strtod(tok + 5, NULL);
		else if (!strncmp(tok, "reset_at=", 9))
			u->reset_at = strtod(tok + 9, NULL);
		else if (!strncmp(tok, "disconnect=", 11))
			u->disconnect_every = num("disconnect", tok + 11);
		else if (!strncmp(tok, "garbage=", 8))
			u->garbage_every = num("garbage", tok + 8);
		else if (!strncmp(tok, "hole=", 5)) {
			char *dash = strchr(tok + 5, '-');
			if (dash)
				*dash = '\0';
			u->hole_lo = num("hole", tok + 5);
			u->hole_hi = dash ? num("hole", dash + 1) : u->hole_lo;
		} else if (!strncmp(tok, "unit_as=", 8))
			u->unit_as = num("unit_as", tok + 8);
		else if (!strncmp(tok, "base=", 5)) {
			u->ss_base = (unsigned)num("base", tok + 5);
			has_base = true;
		} else if (!strcmp(tok, "common65"))
			u->ss_l65 = true;
		else {
			fprintf(stderr, "fpsim: unknown unit option '%s'\n", tok);
			return -1;
		}
	}
	u->energy0 = u->energy_kwh;
	u->t0_ns = fp_mono_ns();
	u->sunspec = !strcmp(u->profile, "sunspec-meter")	? 1
		: !strcmp(u->profile, "sunspec-inverter")	? 2
		: !strcmp(u->profile, "sunspec-inverter-float") ? 3
								: 0;
	if (u->sunspec) {
		if (!has_base)
			u->ss_base = 40000;
		if (u->ss_base > 65000) {
			fprintf(stderr, "fpsim: base=%u leaves no room for the chain\n",
				u->ss_base);
			return -1;
		}
		u->map = modbus_mapping_new(0, 0, 65536, 0);
		u->covered_reg[0] = fp_xcalloc(65536, 1);
		u->covered_reg[1] = fp_xcalloc(65536, 1);
		u->covered_bit[0] = fp_xcalloc(65536, 1);
		u->covered_bit[1] = fp_xcalloc(65536, 1);
		sunspec_layout(u);
		refresh(u);
		free(s);
		return 0;
	}
	/* Read the profile through footprintd's own parser. */
	fp_config_defaults(&cfg);
	text = fp_xasprintf("modbus: { profiles_dir = \"%s\"; devices = ( { name = \"u%d\"; "
			    "url = \"tcp://127.0.0.1:1\"; profile = \"%s\"; } ); };",
			    profiles_dir, u->id, u->profile);
	config_init(&lc);
	if (config_read_string(&lc, text) != CONFIG_TRUE) {
		fprintf(stderr, "fpsim: %s\n", config_error_text(&lc));
		return -1;
	}
	u->mc = fp_mb_config_parse(config_lookup(&lc, "modbus"), &cfg, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "fpsim: %s\n", errs.msgs[i]);
	fp_cfg_errors_reset(&errs);
	config_destroy(&lc);
	fp_config_free(&cfg);
	free(text);
	free(s);
	if (!u->mc)
		return -1;
	u->map = modbus_mapping_new(65536, 65536, 65536, 65536);
	u->served = fp_xcalloc(u->mc->devs[0].nfields, sizeof(*u->served));
	for (i = 0; i < 2; i++) {
		u->covered_reg[i] = fp_xcalloc(65536, 1);
		u->covered_bit[i] = fp_xcalloc(65536, 1);
	}
	for (i = 0; i < u->mc->devs[0].nfields; i++) {
		const struct fp_mb_field *f = &u->mc->devs[0].fields[i];
		unsigned k;
		for (k = 0; k < f->count; k++) {
			if (f->table == FP_MB_HOLDING || f->table == FP_MB_INPUT)
				u->covered_reg[f->table == FP_MB_INPUT][f->address + k] = 1;
			else
				u->covered_bit[f->table == FP_MB_DISCRETE][f->address + k] = 1;
		}
	}
	refresh(u);
	return 0;
}

static struct unit *find_unit(int id)
{
	for (int i = 0; i < nunits; i++)
		if (units[i].id == id)
			return &units[i];
	return NULL;
}

/* Answers one request; ctx's backend tells the header length.  Returns 1
 * when the connection is to be dropped (the disconnect fault). */
static int answer(modbus_t *ctx, uint8_t *q, int len)
{
	int h = modbus_get_header_length(ctx);
	struct unit *u = find_unit(q[h - 1]);
	int fc = q[h], addr, cnt, i;

	if (!u)
		return 0;
	u->requests++;
	if (u->dead)
		return 0;
	u->nreq++;
	if (u->disconnect_every && u->nreq % (unsigned long)u->disconnect_every == 0)
		return 1; /* no answer: the connection goes */
	if (u->garbage_every && u->nreq % (unsigned long)u->garbage_every == 0) {
		/* a reply that is not one */
		uint8_t g[16];
		for (size_t k = 0; k < sizeof(g); k++)
			g[k] = (uint8_t)(0xA5 ^ (k * 37) ^ (uint8_t)u->nreq);
		if (write(modbus_get_socket(ctx), g, sizeof(g)) < 0)
			return 1;
		return 0;
	}
	if (u->busy > 0) {
		u->busy--;
		modbus_reply_exception(ctx, q, MODBUS_EXCEPTION_SLAVE_OR_SERVER_BUSY);
		return 0;
	}
	refresh(u);
	addr = (q[h + 1] << 8) | q[h + 2];
	cnt = (q[h + 3] << 8) | q[h + 4];
	if (u->hole_lo >= 0 && !holes_closed && (fc == 3 || fc == 4) && addr <= u->hole_hi &&
	    addr + cnt > u->hole_lo) {
		modbus_reply_exception(ctx, q, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
		return 0;
	}
	if (u->unit_as >= 0)
		q[h - 1] = (uint8_t)u->unit_as; /* the reply says it is unit_as */
	if (!u->loose && fc >= 1 && fc <= 4) {
		for (i = 0; i < cnt && addr + i < 65536; i++) {
			bool cov = fc <= 2 ? u->covered_bit[fc == 2][addr + i]
					   : u->covered_reg[fc == 4][addr + i];
			if (!cov) {
				modbus_reply_exception(ctx, q,
						       MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
				return 0;
			}
		}
	}
	if (u->delay_ms) {
		struct timespec ts = { u->delay_ms / 1000, (long)(u->delay_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	modbus_reply(ctx, q, len, u->map);
	return 0;
}

static int serve_tcp(const char *hostport, const char *port_file)
{
	char *host = fp_xstrdup(hostport), *colon = strrchr(host, ':');
	int port = colon ? num("port", colon + 1) : 1502, ls, maxfd;
	modbus_t *ctx;
	fd_set all;

	if (colon)
		*colon = '\0';
	ctx = modbus_new_tcp(host, port);
	ls = modbus_tcp_listen(ctx, 64);
	if (ls < 0) {
		fprintf(stderr, "fpsim: listen %s: %s\n", hostport, modbus_strerror(errno));
		return 1;
	}
	if (port_file) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		FILE *f;
		if (getsockname(ls, (struct sockaddr *)&ss, &sl) == 0 &&
		    (f = fopen(port_file, "w"))) {
			fprintf(f, "%d\n", ntohs(((struct sockaddr_in *)&ss)->sin_port));
			fclose(f);
		}
	}
	FD_ZERO(&all);
	FD_SET(ls, &all);
	maxfd = ls;
	while (!quit) {
		fd_set rd = all;
		if (dump) {
			write_counts();
			write_values();
		}
		save_state_now_and_then();
		struct timeval tv = { 0, 200000 };
		int fd;

		if (select(maxfd + 1, &rd, NULL, NULL, &tv) <= 0)
			continue;
		for (fd = 0; fd <= maxfd; fd++) {
			if (!FD_ISSET(fd, &rd))
				continue;
			if (fd == ls) {
				int c = accept(ls, NULL, NULL);
				if (c >= 0) {
					FD_SET(c, &all);
					if (c > maxfd)
						maxfd = c;
				}
				continue;
			}
			{
				uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
				int rc;
				modbus_set_socket(ctx, fd);
				rc = modbus_receive(ctx, q);
				if (rc > 0 && answer(ctx, q, rc) == 1)
					rc = -1; /* the disconnect fault */
				if (rc < 0) {
					close(fd);
					FD_CLR(fd, &all);
				}
			}
		}
	}
	modbus_free(ctx);
	free(host);
	return 0;
}

/* Modbus RTU CRC-16 (polynomial 0xA001, initial 0xFFFF). */
static uint16_t crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;

	while (n--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = crc & 1 ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* Reads up to n bytes from fd within ms; returns the count read. */
static size_t read_within(int fd, uint8_t *buf, size_t n, int ms)
{
	size_t got = 0;

	while (got < n && !quit) {
		fd_set rd;
		struct timeval tv = { 0, ms * 1000 };
		ssize_t r;
		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		if (select(fd + 1, &rd, NULL, NULL, &tv) <= 0)
			break;
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* RTU with several units on one line (a bus): libmodbus's RTU server
 * answers one slave id, so frames are read here (the reading requests,
 * function codes 1-4, are 8 bytes) and dispatched by unit; modbus_reply
 * builds each answer with the unit's id.  A frame with a bad CRC or for
 * a unit nobody serves gets no answer, as on a real bus. */
static int serve_rtu(const char *spec, const char *ready_file)
{
	char *dev = fp_xstrdup(spec), *colon = strrchr(dev, ':');
	int baud = 9600, fd;
	modbus_t *ctx;

	if (colon) {
		*colon = '\0';
		baud = num("baud", colon + 1);
	}
	ctx = modbus_new_rtu(dev, baud, 'N', 8, 1);
	if (!ctx) {
		fprintf(stderr, "fpsim: %s: %s\n", dev, modbus_strerror(errno));
		return 1;
	}
	if (modbus_connect(ctx) != 0) {
		fprintf(stderr, "fpsim: %s: %s\n", dev, modbus_strerror(errno));
		return 1;
	}
	fd = modbus_get_socket(ctx);
	if (ready_file) { /* the line is open: requests are answered from now on */
		FILE *f = fopen(ready_file, "w");
		if (f) {
			fprintf(f, "%s\n", dev);
			fclose(f);
		}
	}
	while (!quit) {
		uint8_t q[MODBUS_RTU_MAX_ADU_LENGTH];
		size_t n;
		if (dump) {
			write_counts();
			write_values();
		}
		save_state_now_and_then();
		n = read_within(fd, q, 1, 200);
		if (n == 0)
			continue;
		n += read_within(fd, q + 1, 7, 50);
		if (n < 8 || q[1] < 1 || q[1] > 4 || crc16(q, 6) != (uint16_t)(q[6] | q[7] << 8)) {
			/* garbage or a frame we do not serve: resynchronise on
			 * the line's silence */
			while (read_within(fd, q, sizeof(q), 20) > 0)
				;
			continue;
		}
		if (!find_unit(q[0]))
			continue;
		modbus_set_slave(ctx, q[0]);
		answer(ctx, q, 8);
	}
	modbus_close(ctx);
	modbus_free(ctx);
	free(dev);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tcp", required_argument, NULL, 't' },
		{ "rtu", required_argument, NULL, 'r' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "profiles-dir", required_argument, NULL, 'd' },
		{ "unit", required_argument, NULL, 'u' },
		{ "frozen", no_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "count-file", required_argument, NULL, 'c' },
		{ "state-file", required_argument, NULL, 'S' },
		{ "values-file", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tcp = NULL, *rtu = NULL, *port_file = NULL;
	const char *specs[MAX_UNITS];
	int nspec = 0, opt, i, rc;
	struct sigaction sa;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			tcp = optarg;
			break;
		case 'r':
			rtu = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'd':
			profiles_dir = optarg;
			break;
		case 'u':
			if (nspec < MAX_UNITS)
				specs[nspec++] = optarg;
			break;
		case 'f':
			frozen = true;
			break;
		case 's':
			seed = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			count_file = optarg;
			break;
		case 'S':
			state_file = optarg;
			break;
		case 'V':
			values_file = optarg;
			break;
		default:
			return 2;
		}
	}
	if ((!tcp && !rtu) || nspec == 0) {
		fprintf(stderr,
			"usage: fpsim --tcp HOST:PORT|--rtu DEV[:BAUD] --unit ID:PROFILE[,opts]...\n");
		return 2;
	}
	for (i = 0; i < nspec; i++)
		if (load_unit(&units[nunits++], specs[i]) < 0)
			return 1;
	load_state();
	write_values();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = tcp ? serve_tcp(tcp, port_file) : serve_rtu(rtu, port_file);
	write_counts();
	save_state();
	return rc;
}
