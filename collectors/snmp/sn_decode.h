/* sn_decode.h - SNMP objects, varbinds and their points (pure functions).
 *
 * A profile is a list of objects: an OID, the type its value must have, a
 * scale, the field it becomes and, for a table column, the tag its row
 * index becomes (outlet, phase, interface...).  A poll collects the
 * varbinds a device answered (struct fp_sn_poll), each checked against its
 * object: a wrong type, noSuchObject, noSuchInstance or endOfMibView costs
 * that value only.  fp_sn_poll_points turns them into `meter` points, with
 * Counter32/Counter64 made continuous across wraps and reset across a
 * device reboot (sysUpTime going back) in the device's struct fp_sn_state.
 * Nothing here does I/O: the tests and the fuzzer call it directly.
 *
 * Ownership: objects and device descriptions are borrowed; a poll owns
 * copies of the strings it was given; points go into the caller's batch.
 */
#ifndef FP_SN_DECODE_H
#define FP_SN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "point.h"

#define FP_SN_OID_MAX 64 /* arcs of an OID (RFC 2578 allows 128) */
#define FP_SN_ROW_MAX 48 /* characters of a row index ("1", "10.3") */
#define FP_SN_STRING_MAX 255

/* ASN.1 tags of the values of RFC 3416 (the same numbers as net-snmp's). */
#define FP_SN_ASN_INTEGER 0x02
#define FP_SN_ASN_OCTET_STR 0x04
#define FP_SN_ASN_NULL 0x05
#define FP_SN_ASN_OBJECT_ID 0x06
#define FP_SN_ASN_IPADDRESS 0x40
#define FP_SN_ASN_COUNTER32 0x41
#define FP_SN_ASN_GAUGE32 0x42
#define FP_SN_ASN_TIMETICKS 0x43
#define FP_SN_ASN_OPAQUE 0x44
#define FP_SN_ASN_COUNTER64 0x46
#define FP_SN_NOSUCHOBJECT 0x80
#define FP_SN_NOSUCHINSTANCE 0x81
#define FP_SN_ENDOFMIBVIEW 0x82

struct fp_sn_oid {
	uint32_t a[FP_SN_OID_MAX];
	size_t n;
};

/* "1.3.6.1.2.1.1.3.0" (a leading dot is allowed): 0, or -EINVAL (not
 * numeric, an arc above 2^32-1, fewer than 2 or more than FP_SN_OID_MAX
 * arcs). */
int fp_sn_oid_parse(const char *s, struct fp_sn_oid *o);
/* Writes the dotted form (truncated to len). */
void fp_sn_oid_format(const uint32_t *a, size_t n, char *buf, size_t len);
/* Whether a[0..n) is strictly under prefix (longer, same first arcs). */
bool fp_sn_oid_under(const struct fp_sn_oid *prefix, const uint32_t *a, size_t n);
int fp_sn_oid_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn);

/* What an object's value must be. */
enum fp_sn_type {
	FP_SN_INTEGER,	 /* INTEGER (Integer32) */
	FP_SN_GAUGE,	 /* Gauge32 (Unsigned32) */
	FP_SN_COUNTER,	 /* Counter32 or Counter64: cumulative, wraps */
	FP_SN_TIMETICKS, /* TimeTicks, in seconds (x 0.01) before the scale */
	FP_SN_STRING,	 /* OCTET STRING, a string field */
	FP_SN_NUMBER,	 /* any of INTEGER, Gauge32, TimeTicks (no counter) */
};
extern const char *const fp_sn_type_names[]; /* NULL terminated, by enum */

struct fp_sn_object {
	struct fp_sn_oid oid; /* a scalar's instance, or a table column */
	enum fp_sn_type type;
	double scale;
	char *field;
	char *index; /* the row's tag: a column walked; NULL: a scalar GET */
	char *sum;   /* a column: also its rows' sum as this device field */
	int line;    /* in the profile or config */
	/* A column: only the rows whose index ends with these arcs
	 * (index_suffix), which are cut from the row (n 0: every row). */
	struct fp_sn_oid suffix;
	/* Per-row scales read from other objects of the same row (for a
	 * scalar: other scalars), 1 + their index in the list, 0 for none:
	 * the value is divided by 10^d (digits: PDU2-MIB decimal digits,
	 * ENTITY-SENSOR-MIB precision) and multiplied by 10^(3(v - 9))
	 * (si_prefix: ENTITY-SENSOR-MIB's SensorDataScale, units(9)). */
	size_t digits_from, prefix_from;
	bool hidden;				 /* such a helper: read, never written */
	struct fp_sn_oid digits_oid, prefix_oid; /* as configured (n 0: none) */
};

/* A varbind as received: the OID, the type tag and the value. */
struct fp_sn_vb {
	const uint32_t *oid;
	size_t n;
	int type;
	int64_t i;     /* INTEGER */
	uint64_t u;    /* Counter32, Gauge32, TimeTicks, Counter64 */
	const char *s; /* OCTET STRING (not terminated) */
	size_t slen;
};

/* A counter of one row, kept between polls. */
struct fp_sn_ctr {
	size_t obj;
	char row[FP_SN_ROW_MAX];
	uint64_t raw; /* the device's last value */
	double extra; /* the wraps counted since the last reset */
	bool wrapped; /* the last step was a wrap */
};

/* What a step of one counter was. */
enum fp_sn_step { FP_SN_FIRST, FP_SN_UP, FP_SN_WRAP, FP_SN_RESET, FP_SN_REBOOT };

/* One device's memory between polls: its counters and sysUpTime. */
struct fp_sn_state {
	struct fp_sn_ctr *ctrs;
	size_t nctrs, cap;
	uint32_t uptime; /* TimeTicks of the last poll */
	int64_t uptime_mono_ns;
	bool have_uptime;
	uint64_t wraps, resets, reboots; /* counted */
};
void fp_sn_state_free(struct fp_sn_state *st);

/* Whether sysUpTime going from prev (read at prev_ns) to now (read at
 * now_ns, monotonic) means the agent restarted; a TimeTicks wrap after 497
 * days is not a restart. */
bool fp_sn_rebooted(uint32_t prev, int64_t prev_ns, uint32_t now, int64_t now_ns);

/* One counter step: c holds the last raw value and the wraps counted.  A
 * decrease is a wrap (modulus 2^bits) when the wrapped increase is less
 * than half the modulus, else a reset; after a reboot the counter starts
 * again from the device's value.  Returns the continuous value (raw plus
 * the wraps), which drops only on a reset or reboot: the ledger then
 * records a reset, never a phantom amount. */
double fp_sn_counter_step(struct fp_sn_ctr *c, bool first, uint64_t raw, int bits, bool rebooted,
			  enum fp_sn_step *what);

/* The device as its points show it. */
struct fp_sn_devinfo {
	const char *site, *name, *role;
	const char *channel_role; /* the role of rows that are meters, or NULL */
	const struct fp_tag *tags;
	size_t ntags;
};

/* One poll's answers. */
struct fp_sn_poll;

struct fp_sn_poll *fp_sn_poll_new(const struct fp_sn_object *objs, size_t n);
void fp_sn_poll_free(struct fp_sn_poll *p);
/* The object of objs that a varbind answers: the scalar whose OID it is,
 * else the column it is under.  -1 when none. */
int fp_sn_match(const struct fp_sn_object *objs, size_t n, const uint32_t *oid, size_t len);
/* Adds the answer vb to object k (a scalar's GET, a row of a column's
 * walk).  0; 1 when the row is not the object's (its index_suffix) and is
 * ignored; or -EINVAL when the value is dropped (*why: static text:
 * "noSuchObject", "wrong type: a Counter32", ...).  A value whose
 * digits or si_prefix helper is missing from the same poll, or out of
 * range, is not written (its column's sum neither). */
int fp_sn_poll_add(struct fp_sn_poll *p, size_t k, const struct fp_sn_vb *vb, const char **why);
/* Marks object k incomplete in this poll (a walk cut short, a request
 * that failed): its column's sum is not written. */
void fp_sn_poll_incomplete(struct fp_sn_poll *p, size_t k);
/* The device's sysUpTime.0 in this poll (for the counters). */
void fp_sn_poll_uptime(struct fp_sn_poll *p, uint32_t ticks);
/* Appends the poll's points to out: one for the device (its scalars and
 * the columns' sums), one per table row (tagged with the object's index
 * tag and `channel`, or `phase` for a phase table).  Updates st's
 * counters.  Returns the number of values written. */
size_t fp_sn_poll_points(struct fp_sn_poll *p, struct fp_sn_state *st,
			 const struct fp_sn_devinfo *di, int64_t ts_ns, int64_t mono_ns,
			 struct fp_batch *out);

#endif
