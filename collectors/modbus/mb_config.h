/* mb_config.h - the modbus group of footprintd.conf and register profiles.
 *
 *   modbus: {
 *     profiles_dir = "/usr/share/footprint/profiles";   # optional
 *     devices = ( { name = "pdu-a3"; url = "tcp://10.0.0.5:502"; unit_id = 1;
 *                   profile = "eastron-sdm630"; role = "it"; }, ... );
 *   };
 *
 * A profile is a register map in a file: libconfig (.conf, the same keys as
 * a device's inline "registers" list plus device defaults) or CSV (.csv,
 * columns named in a header line: address, type, name or field, and
 * optionally fc or table, word_order or order, scale, offset, phase, words
 * or count, bit, output, sentinel).  Every problem is reported as
 * FILE:LINE: key: reason.
 */
#ifndef FP_MB_CONFIG_H
#define FP_MB_CONFIG_H

#include <libconfig.h>

#include "conf.h"
#include "mb_decode.h"
#include "point.h"

enum fp_mb_kind { FP_MB_TCP, FP_MB_RTU };

struct fp_mb_device_cfg {
	char *name;
	char *url;
	enum fp_mb_kind kind;
	char *host; /* tcp */
	int port;
	char *tty; /* rtu */
	int baud, data_bits, stop_bits;
	char parity;
	bool rs485;
	int unit_id;
	char *role;
	char *profile; /* as configured, NULL for inline registers */
	bool sunspec;  /* profile = "sunspec": fields found by discovery */
	struct fp_mb_field *fields;
	size_t nfields;
	struct fp_mb_plan_limits limits;
	int64_t interval_ms, timeout_ms, pause_ms;
	struct fp_tag *tags;
	size_t ntags;
	int line;
};

struct fp_mb_config {
	struct fp_mb_device_cfg *devs;
	size_t ndevs, cap;
	char *profiles_dir;
};

/* Parses the modbus group; problems go to errs.  Returns a struct
 * fp_mb_config (void *: the collector ops' signature), NULL when the
 * group had errors. */
void *fp_mb_config_parse(const config_setting_t *g, const struct fp_config *cfg,
			 struct fp_cfg_errors *errs);
void fp_mb_config_free(void *mc); /* a struct fp_mb_config; accepts NULL */
/* The connection key of a device ("tcp://host:port" or the tty path):
 * devices with the same key share one connection and its thread. */
char *fp_mb_conn_key(const struct fp_mb_device_cfg *d);
/* Prints each device's request plan (--check-config -v). */
void fp_mb_config_describe(const void *mc, FILE *f);

#endif
