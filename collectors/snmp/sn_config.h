/* sn_config.h - the snmp group of footprintd.conf and SNMP profiles.
 *
 *   snmp: {
 *     profiles_dir = "/usr/share/footprint/profiles/snmp";   # optional
 *     devices = ( { name = "ups-1"; url = "udp://10.0.0.7:161"; version = "2c";
 *                   community_file = "/etc/footprint/ups-1.community";
 *                   profile = "ups-mib"; role = "it"; timeout = "1s"; retries = 1; }, ... );
 *   };
 *
 * A profile is a libconfig file holding an objects list (the same as a
 * device's inline objects): { oid; type; field; scale; index; sum; }.
 * Every problem is reported as FILE:LINE: key: reason.  Secrets
 * (community, v3 passphrases) are read from files (or given inline) and
 * never logged nor printed by describe.
 */
#ifndef FP_SN_CONFIG_H
#define FP_SN_CONFIG_H

#include <libconfig.h>
#include <stdio.h>

#include "conf.h"
#include "point.h"
#include "sn_decode.h"

enum fp_sn_auth { FP_SN_AUTH_NONE, FP_SN_AUTH_MD5, FP_SN_AUTH_SHA, FP_SN_AUTH_SHA256 };
enum fp_sn_priv { FP_SN_PRIV_NONE, FP_SN_PRIV_DES, FP_SN_PRIV_AES };

struct fp_sn_device_cfg {
	char *name;
	char *url;
	bool tcp;
	char *host;
	int port;
	int version;	 /* 2 (v2c) or 3 */
	char *community; /* v2c: a secret */
	char *user;	 /* v3 */
	enum fp_sn_auth auth;
	enum fp_sn_priv priv;
	char *auth_pass, *priv_pass; /* secrets */
	char *context;
	char *role, *channel_role;
	char *profile; /* as configured, NULL for inline objects */
	struct fp_sn_object *objs;
	size_t nobjs;
	bool counters; /* an object is a counter: sysUpTime.0 is read too */
	int64_t interval_ms, timeout_ms;
	int retries, max_reps, max_varbinds, max_rows; /* max_reps: max-repetitions */
	struct fp_tag *tags;
	size_t ntags;
	int line;
};

struct fp_sn_config {
	struct fp_sn_device_cfg *devs;
	size_t ndevs, cap;
	char *profiles_dir;
};

/* Parses the snmp group; problems go to errs.  Returns a struct
 * fp_sn_config (void *: the collector ops' signature), NULL when the group
 * had errors. */
void *fp_sn_config_parse(const config_setting_t *g, const struct fp_config *cfg,
			 struct fp_cfg_errors *errs);
void fp_sn_config_free(void *sc); /* a struct fp_sn_config; accepts NULL */
/* Loads the objects of a profile file into *objs (appended; *n, *cap):
 * 0, or -1 with the problems in errs. */
int fp_sn_profile_load(const char *path, struct fp_cfg_errors *errs, struct fp_sn_object **objs,
		       size_t *n, size_t *cap);
void fp_sn_objects_free(struct fp_sn_object *objs, size_t n);

/* A device's request plan: the GETs of its scalars (sysUpTime.0 first
 * when it has counters) in PDUs of max_varbinds, and one GETBULK walk of
 * all its columns together (max_varbinds columns per walk). */
struct fp_sn_plan {
	size_t ngets;	 /* GET PDUs */
	size_t nwalks;	 /* GETBULK walks (each one PDU per max_repetitions rows) */
	size_t nscalars; /* OIDs in the GETs */
	size_t ncolumns; /* columns walked */
};
void fp_sn_plan_make(const struct fp_sn_device_cfg *d, struct fp_sn_plan *p);
/* Prints each device's request plan (--check-config -v). */
void fp_sn_config_describe(const void *sc, FILE *f);

#endif
