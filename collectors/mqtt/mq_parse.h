/* mq_parse.h - MQTT payloads to points: topic templates, the value and
 * json formats with field selectors, the tasmota / shelly-gen1 /
 * shelly-gen2 presets (built from the same selectors), and the lifecycle
 * event contract.  Pure functions of (subscription, topic, payload): the
 * fuzz target and the unit tests call them directly.
 */
#ifndef FP_MQ_PARSE_H
#define FP_MQ_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "point.h"
#include "util.h"

enum fp_mq_format {
	FP_MQ_VALUE,
	FP_MQ_JSON,
	FP_MQ_TASMOTA,
	FP_MQ_SHELLY1,
	FP_MQ_SHELLY2,
	FP_MQ_LIFECYCLE,
	FP_MQ_EMISSION, /* an emission factor for the indicators (run-time override) */
};
enum fp_mq_time { FP_MQ_TIME_NONE, FP_MQ_TIME_RFC3339, FP_MQ_TIME_EPOCH_S, FP_MQ_TIME_EPOCH_MS };

/* One entry of a value map: a text state and what it stands for. */
struct fp_mq_value {
	const char *text; /* matched ignoring case and surrounding white space */
	bool is_bool;	  /* written as a boolean field, else as a float */
	double v;	  /* the number (is_bool: 0 or 1); scale is not applied */
};

enum fp_mq_ftype { FP_MQ_NUMBER, FP_MQ_STRING };

struct fp_mq_selector {
	const char *path;  /* into the JSON document; NULL: the whole payload; with
			    * a {field} template: the topic level it renames */
	const char *field; /* output field */
	double scale;
	const char *phase;		  /* optional phase tag */
	const struct fp_mq_value *values; /* text states (may be NULL) */
	size_t nvalues;
	enum fp_mq_ftype type; /* FP_MQ_STRING: the text kept as a string field */
};

/* One rule: messages whose topic matches filter use this template (tags
 * from topic levels) and these selectors. */
struct fp_mq_rule {
	const char *filter; /* MQTT filter; NULL: every topic of the subscription */
	const char *tmpl;   /* e.g. "tele/{device}/SENSOR"; NULL: device = topic */
	bool json;
	const struct fp_mq_selector *sels;
	size_t nsels;
	const char *time_path;
	enum fp_mq_time time_format;
};

/* format = "lifecycle" with a map: foreign events (Zigbee2MQTT's
 * bridge/event, an asset tool's JSON) as lifecycle events.  path[k] is
 * the JSON path of fp_mq_lc_keys[k] (NULL: not read; the event's time is
 * the subscription's time_path); dflt[k] the text used when the path
 * gives nothing; names/to: foreign event names and the lifecycle event
 * each stands for (none: the names are the lifecycle events).  Messages
 * whose event is not in names are ignored. */
enum { FP_MQ_LC_NKEYS = 9 };
extern const char *const fp_mq_lc_keys[FP_MQ_LC_NKEYS];
struct fp_mq_lcmap {
	const char *path[FP_MQ_LC_NKEYS];
	const char *dflt[FP_MQ_LC_NKEYS];
	const char **names, **to;
	size_t nnames;
};

struct fp_mq_sub {
	char *topic; /* the subscription filter */
	int qos;
	enum fp_mq_format format;
	char *role;
	size_t max_payload;
	/* value/json: one rule made from the config; presets: static rules */
	struct fp_mq_rule own;
	struct fp_mq_selector *own_sels;
	const struct fp_mq_rule *rules; /* a preset's; NULL: the own rule */
	size_t nrules;
	struct fp_time_window tw; /* timestamps outside are rejected (agent's; zero: default) */
	/* format value with a "{field}" template level: the level names the
	 * field; own_sels (nsels) rename some levels, dflt is for the rest */
	bool field_from_topic;
	struct fp_mq_selector dflt;
	char *name_topic;	      /* "solar/{device}/name": its payload names the device */
	const char *const *may_carry; /* fields its meters may carry (see point.h) */
	struct fp_mq_lcmap *lcmap;    /* format lifecycle: foreign events (NULL: native) */
	int line;
};

/* Points up the preset rules of a preset format (sub->rules). */
void fp_mq_sub_set_preset(struct fp_mq_sub *s);

/* Tags from topic levels: "tele/{device}/SENSOR" on "tele/pdu-a/SENSOR"
 * adds device=pdu-a.  A level may be "prefix{name}".  Returns false when
 * the topic does not fit the template. */
bool fp_mq_template(const char *tmpl, const char *topic, struct fp_point *p);

/* The name topic: when topic fits s->name_topic, true, with *device
 * (from its {device} level, else the whole topic) and *name (the trimmed
 * payload; NULL when empty or not printable UTF-8 of at most 128 bytes:
 * the name is removed) allocated for the caller. */
bool fp_mq_name_of(const struct fp_mq_sub *s, const char *topic, const char *payload, size_t len,
		   char **device, char **name);

/* The MQTT filter of a template: each level with a {name} becomes '+'.
 * Allocated. */
char *fp_mq_template_filter(const char *tmpl);

/* Parses one message.  Returns the number of points added to out (> 0),
 * 0 when no rule applies to the topic (ignored), -1 when the message is
 * malformed, or FP_MQ_BAD_TIME when its timestamp is outside the window
 * s->tw at now_ns (never wrapped; *why names a likely unit mistake such
 * as milliseconds given as seconds).  *why is static text. */
#define FP_MQ_BAD_TIME (-2)
int fp_mq_parse(const struct fp_mq_sub *s, const char *site, const char *topic, const char *payload,
		size_t len, int64_t now_ns, struct fp_batch *out, const char **why);

/* RFC 3339 "2025-03-14T10:25:00Z", "...+01:00", fractions allowed ->
 * ns since the epoch; -1 if invalid or outside 1970-2262 (no window). */
int64_t fp_mq_rfc3339(const char *s);

#endif
