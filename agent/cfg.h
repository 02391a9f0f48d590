/* cfg.h - the config helpers: typed getters over a libconfig tree.
 *
 * Every problem is collected, not printed, as "FILE:LINE: key: reason"
 * (collectd's cf_util_get_*, chrony's parse-then-apply): the loader
 * (conf.c), each collector, each output and the indicators read their own
 * groups with these getters and report into the same sink, so one run of
 * --check-config lists every problem, sorted by file and line.  The
 * helpers depend on libconfig and util only: they know no group.
 *
 * Ownership: settings are borrowed from the libconfig tree, which lives
 * until the caller destroys it; strings returned through char ** are
 * owned copies.
 */
#ifndef FP_CFG_H
#define FP_CFG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Collected problems; each line is "FILE:LINE: key: reason". */
struct fp_cfg_errors {
	char **msgs;
	size_t n, cap;
};

void fp_cfg_errors_add(struct fp_cfg_errors *e, const config_setting_t *s, const char *key,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void fp_cfg_errors_reset(struct fp_cfg_errors *e);
/* Orders the problems by file, then line (stable). */
void fp_cfg_errors_sort(struct fp_cfg_errors *e);

/* Reports a problem with key in group g, at the key's line when present,
 * else at the group's: "FILE:LINE: g.key: message". */
void fp_cfg_report(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Reads a secret (password, token) from the file path named by key in
 * group g: its first line, without the line end; a missing, unreadable or
 * empty file is reported.  NULL on error; the caller frees.  Never logged. */
char *fp_cfg_read_secret(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
			 const char *path);
/* "a string", "an integer", ... for a CONFIG_TYPE_*. */
const char *fp_cfg_type_name(int t);

/* The dotted path of s ("outputs.file[0].path"; a list element that is a
 * group with a valid name is named by it: "modbus.devices[pdu-a].url");
 * caller frees. */
char *fp_cfg_path(const config_setting_t *s);

/* The name of known (NULL terminated) nearest to word (at most 2 edits,
 * ignoring case, or a prefix of at least 3 letters) when word is none of
 * them; else NULL.  The "did you mean" of unknown keys and of bad enum
 * values. */
const char *fp_cfg_nearest(const char *word, const char *const *known);

/* Reports every member of group whose name is not in known (NULL
 * terminated), suggesting the nearest known name.  Returns the count. */
int fp_cfg_check_keys(struct fp_cfg_errors *e, const config_setting_t *group,
		      const char *const *known);

/* Typed getters: return 1 if the key was present and valid (value stored),
 * 0 if absent (value untouched), -1 if present but invalid (reported). */
int fp_cfg_get_string(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		      char **out); /* *out replaced by an owned copy */
int fp_cfg_get_int(struct fp_cfg_errors *e, const config_setting_t *g, const char *key, int64_t min,
		   int64_t max, int64_t *out);
int fp_cfg_get_float(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		     double min, double max, double *out);
int fp_cfg_get_bool(struct fp_cfg_errors *e, const config_setting_t *g, const char *key, bool *out);
int fp_cfg_get_duration(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
			int64_t min_ms, int64_t max_ms, int64_t *out_ms);
int fp_cfg_get_size(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    uint64_t min, uint64_t max, uint64_t *out);
/* A path: as fp_cfg_get_string, a relative one made relative to the
 * directory of the configuration file (file, when it has one). */
int fp_cfg_get_path(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    const char *file, char **out);
/* The list ( { ... }, ... ) of key in g: 1 with *l set, 0 if absent
 * (reported when required), -1 if not a list (reported). */
int fp_cfg_get_list(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    bool required, const config_setting_t **l);
/* One of names (NULL terminated); *out is the index. */
int fp_cfg_get_enum(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    const char *const *names, int *out);
/* Reports key's path (if set) when this process cannot read it. */
void fp_cfg_check_readable(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
			   const char *path);

/* Reads the string key of g into *out (as fp_cfg_get_string) and reports
 * a value that is not a meter role, naming them all: role_name gives the
 * i-th role, NULL past the last (the loader installs the indicators' table
 * in struct fp_config's role_name; a NULL role_name accepts any string).
 * Returns as the getter. */
int fp_cfg_get_role(struct fp_cfg_errors *e, const config_setting_t *g, const char *key,
		    const char *(*role_name)(size_t i), char **out);

/* The setting of key in g when present, else g itself: the line a
 * problem with an optional key is reported at. */
const config_setting_t *fp_cfg_where(const config_setting_t *g, const char *key);

#endif
