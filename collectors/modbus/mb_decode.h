/* mb_decode.h - Modbus register maps: value types, byte and word orders,
 * decoding of raw registers, and request planning.
 *
 * Orders name the bytes of a value from most (A) to least significant as
 * they appear on the wire: "ABCD" is big-endian (high word first), "CDAB"
 * swaps the words (low word first), "BADC" swaps the bytes inside each
 * word, "DCBA" does both.  For 64-bit values the same two swaps apply to
 * four words; for 16-bit values only the byte swap matters.  Decoding
 * builds integers with shifts from the wire bytes, never through a
 * host-order union.
 */
#ifndef FP_MB_DECODE_H
#define FP_MB_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fp_mb_table { FP_MB_COIL, FP_MB_DISCRETE, FP_MB_HOLDING, FP_MB_INPUT };
enum fp_mb_type {
	FP_MB_BOOL, /* a coil or discrete input, or one bit of a register */
	FP_MB_INT16,
	FP_MB_UINT16,
	FP_MB_INT32,
	FP_MB_UINT32,
	FP_MB_INT64,
	FP_MB_UINT64,
	FP_MB_FLOAT32,
	FP_MB_FLOAT64,
	FP_MB_STRING,
};
enum fp_mb_order { FP_MB_ABCD, FP_MB_CDAB, FP_MB_BADC, FP_MB_DCBA };
enum fp_mb_out { FP_MB_OUT_AUTO, FP_MB_OUT_FLOAT, FP_MB_OUT_INT, FP_MB_OUT_BOOL, FP_MB_OUT_STRING };

#define FP_MB_MAX_SENTINELS 4

struct fp_mb_field {
	char *field; /* output field name (schema name where one exists) */
	char *phase; /* optional phase tag, NULL for none */
	enum fp_mb_table table;
	uint16_t address; /* 0-based PDU address */
	enum fp_mb_type type;
	enum fp_mb_order order;
	uint16_t count; /* registers (or 1 bit) it spans; strings: configured */
	int8_t bit;	/* FP_MB_BOOL from a register: bit 0..15, else -1 */
	double scale, offset;
	enum fp_mb_out out;
	uint64_t sentinel[FP_MB_MAX_SENTINELS]; /* raw values meaning "not available" */
	size_t nsentinels;
	bool nan_is_missing; /* floats: NaN/Inf produce no field */
	int line;	     /* config line, for messages */
	/* Run-time state of the collector's own copy (mb_collector.c): */
	bool disabled;	   /* not planned: dropped (illegal address) and not due */
	bool cut;	   /* a request never merges it with the field before it */
	bool dropped;	   /* unserved: retried after backoff polls */
	uint32_t backoff;  /* polls between retries of a dropped field */
	uint64_t retry_at; /* the device poll that retries it */
	/* SunSpec (mb_sunspec.c): the value is multiplied by 10^SF, SF being
	 * field sf - 1 of the same device (0: none); hidden fields (the
	 * scale factors) are read but not written; fields of different
	 * groups never share a request (a model with its scale factors). */
	uint16_t sf;
	int8_t pow10; /* and by 10^pow10 (a unit change), in the same step */
	bool hidden;
	uint16_t group;
};

/* A decoded value: what goes into the point. */
struct fp_mb_value {
	enum { FP_MB_V_NONE, FP_MB_V_FLOAT, FP_MB_V_INT, FP_MB_V_BOOL, FP_MB_V_STRING } kind;
	double f;
	int64_t i;
	bool b;
	char s[256];
};

const char *fp_mb_type_name(enum fp_mb_type t);
int fp_mb_type_from_name(const char *s);  /* -1 if unknown */
int fp_mb_order_from_name(const char *s); /* -1 if unknown */
int fp_mb_table_from_name(const char *s); /* "coil", "discrete", "holding", "input"; -1 */
const char *fp_mb_table_name(enum fp_mb_table t);
/* Registers a type spans (strings: 0, they carry their own count). */
unsigned fp_mb_type_words(enum fp_mb_type t);

/* The raw integer (bits) of a numeric field from its registers: regs
 * holds f->count registers as libmodbus returns them (wire order, each
 * register's high byte first). */
uint64_t fp_mb_raw(const struct fp_mb_field *f, const uint16_t *regs);

/* Decodes f from regs (registers) or bits (coils/discretes, one byte per
 * bit).  A sentinel, a NaN/Inf float or an empty string gives
 * FP_MB_V_NONE. */
void fp_mb_decode(const struct fp_mb_field *f, const uint16_t *regs, const uint8_t *bits,
		  struct fp_mb_value *v);

/* One planned request: a table range covering some fields. */
struct fp_mb_block {
	enum fp_mb_table table;
	uint16_t start, count;
	size_t *fields; /* indexes into the field array */
	size_t nfields;
};

struct fp_mb_plan_limits {
	unsigned max_registers; /* 1..125 */
	unsigned max_bits;	/* 1..2000 */
	unsigned max_gap;	/* registers (or bits) of hole allowed inside a request */
	bool single;		/* one request per field */
};

/* Plans the requests for fields (skipping disabled ones; a field with
 * cut set starts a new request).  Returns the
 * number of blocks in *blocks (caller frees with fp_mb_plan_free). */
size_t fp_mb_plan(const struct fp_mb_field *fields, size_t n, const struct fp_mb_plan_limits *lim,
		  struct fp_mb_block **blocks);
void fp_mb_plan_free(struct fp_mb_block *blocks, size_t n);

#endif
