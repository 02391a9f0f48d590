/* influxdb_conf.c - the InfluxDB output's config: one element of
 * outputs.influxdb (see influxdb.h). */
#include "config.h"

#include "influxdb.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void *fp_influx_cfg_parse(const config_setting_t *g, const struct fp_config *c,
			  struct fp_cfg_errors *e)
{
	static const char *const apis[] = { "v1", "v2", NULL };
	static const char *const syncs[] = { "always", "interval", "never", NULL };
	static const char *const engines[] = { "influxdb", "victoriametrics", NULL };
	struct fp_influx_output_cfg *x = fp_xcalloc(1, sizeof(*x));
	char *file = NULL;
	int api, fs, engine;

	(void)c;
	x->api = FP_INFLUX_V1;
	x->batch_size = 5000;
	x->flush_interval_ms = 1000;
	x->gzip = true;
	x->timeout_ms = 10000;
	x->connect_timeout_ms = 5000;
	x->spool_max = 1000000000ULL;
	x->fsync = 1; /* interval */
	x->fsync_interval_ms = 1000;
	x->retry_max_ms = 60000;

	if (fp_cfg_get_string(e, g, "url", &x->url) == 0)
		fp_cfg_report(e, g, "url", "is required (for example \"http://127.0.0.1:8086\")");
	else if (x->url && strncmp(x->url, "http://", 7) != 0 &&
		 strncmp(x->url, "https://", 8) != 0) {
		char *shown = fp_influx_redact_url(x->url);
		fp_cfg_report(e, g, "url", "'%s' must start with http:// or https://", shown);
		free(shown);
	}
	if (fp_cfg_get_enum(e, g, "api", apis, &api) > 0)
		x->api = (enum fp_influx_api)api;
	fp_cfg_get_string(e, g, "database", &x->database);
	fp_cfg_get_string(e, g, "retention_policy", &x->retention_policy);
	fp_cfg_get_string(e, g, "username", &x->username);
	fp_cfg_get_string(e, g, "org", &x->org);
	fp_cfg_get_string(e, g, "bucket", &x->bucket);
	if (fp_cfg_get_string(e, g, "password_file", &file) > 0)
		x->password = fp_cfg_read_secret(e, g, "password_file", file);
	free(file);
	file = NULL;
	if (fp_cfg_get_string(e, g, "token_file", &file) > 0)
		x->token = fp_cfg_read_secret(e, g, "token_file", file);
	free(file);
	if (x->api == FP_INFLUX_V1) {
		if (!x->database)
			fp_cfg_report(e, g, "database", "is required with api = \"v1\"");
		if (x->org || x->bucket || config_setting_get_member(g, "token_file"))
			fp_cfg_report(e, g, "api",
				      "org, bucket and token_file belong to api = \"v2\"");
		if (config_setting_get_member(g, "password_file") && !x->username)
			fp_cfg_report(e, g, "username", "is required with password_file");
	} else {
		if (!x->org)
			fp_cfg_report(e, g, "org", "is required with api = \"v2\"");
		if (!x->bucket)
			fp_cfg_report(e, g, "bucket", "is required with api = \"v2\"");
		if (x->database || x->retention_policy || x->username ||
		    config_setting_get_member(g, "password_file"))
			fp_cfg_report(
				e, g, "api",
				"database, retention_policy, username and password_file belong to api = \"v1\"");
	}
	fp_cfg_get_int(e, g, "batch_size", 1, 1000000, &x->batch_size);
	fp_cfg_get_duration(e, g, "flush_interval", 10, 3600000, &x->flush_interval_ms);
	fp_cfg_get_bool(e, g, "gzip", &x->gzip);
	fp_cfg_get_duration(e, g, "timeout", 100, 600000, &x->timeout_ms);
	fp_cfg_get_duration(e, g, "connect_timeout", 100, 600000, &x->connect_timeout_ms);
	if (fp_cfg_get_string(e, g, "ca_file", &x->ca_file) > 0)
		fp_cfg_check_readable(e, g, "ca_file", x->ca_file);
	if (fp_cfg_get_string(e, g, "cert_file", &x->cert_file) > 0)
		fp_cfg_check_readable(e, g, "cert_file", x->cert_file);
	if (fp_cfg_get_string(e, g, "key_file", &x->key_file) > 0)
		fp_cfg_check_readable(e, g, "key_file", x->key_file);
	if (!x->cert_file != !x->key_file)
		fp_cfg_report(e, g, x->cert_file ? "key_file" : "cert_file",
			      "cert_file and key_file go together");
	fp_cfg_get_bool(e, g, "insecure_skip_verify", &x->insecure_skip_verify);
	fp_cfg_get_size(e, g, "spool_max", 1000000, UINT64_MAX / 2, &x->spool_max);
	if (fp_cfg_get_enum(e, g, "fsync", syncs, &fs) > 0)
		x->fsync = fs;
	fp_cfg_get_duration(e, g, "fsync_interval", 10, 3600000, &x->fsync_interval_ms);
	fp_cfg_get_duration(e, g, "retry_max", 1000, 3600000, &x->retry_max_ms);
	if (fp_cfg_get_enum(e, g, "engine", engines, &engine) > 0 && engine == 1) {
		x->append_only = true;
		x->retention_ms = 31LL * 86400000; /* VictoriaMetrics' default: a month */
	}
	fp_cfg_get_duration(e, g, "retention", 3600000, 100LL * 366 * 86400000, &x->retention_ms);
	return x;
}

char *fp_influx_redact_url(const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *at, *end;

	host = scheme ? scheme + 3 : url;
	end = host + strcspn(host, "/?#");
	/* the last '@' before the path: a password may hold one */
	for (at = end; at > host && at[-1] != '@'; at--)
		;
	if (at == host)
		return fp_xstrdup(url);
	return fp_xasprintf("%.*s***@%s", (int)(host - url), url, at);
}

static char *dup_or_null(const char *s)
{
	return s ? fp_xstrdup(s) : NULL;
}

void fp_influx_cfg_copy(struct fp_influx_output_cfg *d, const struct fp_influx_output_cfg *s)
{
	*d = *s;
	d->url = dup_or_null(s->url);
	d->database = dup_or_null(s->database);
	d->retention_policy = dup_or_null(s->retention_policy);
	d->username = dup_or_null(s->username);
	d->password = dup_or_null(s->password);
	d->org = dup_or_null(s->org);
	d->bucket = dup_or_null(s->bucket);
	d->token = dup_or_null(s->token);
	d->ca_file = dup_or_null(s->ca_file);
	d->cert_file = dup_or_null(s->cert_file);
	d->key_file = dup_or_null(s->key_file);
}

void fp_influx_cfg_clear(struct fp_influx_output_cfg *x)
{
	free(x->url);
	free(x->database);
	free(x->retention_policy);
	free(x->username);
	fp_free_secret(x->password);
	free(x->org);
	free(x->bucket);
	fp_free_secret(x->token);
	free(x->ca_file);
	free(x->cert_file);
	free(x->key_file);
	memset(x, 0, sizeof(*x));
}

void fp_influx_cfg_free(void *oc)
{
	if (!oc)
		return;
	fp_influx_cfg_clear(oc);
	free(oc);
}

/* "key=\"value\" " when value is set. */
static void str(FILE *f, const char *key, const char *value)
{
	if (value)
		fprintf(f, " %s=\"%s\"", key, value);
}

void fp_influx_cfg_describe(const void *oc, FILE *f)
{
	static const char *const syncs[] = { "always", "interval", "never" };
	const struct fp_influx_output_cfg *x = oc;
	char *url = x->url ? fp_influx_redact_url(x->url) : NULL;

	str(f, "url", url); /* never the user and password in it */
	free(url);
	if (x->api == FP_INFLUX_V1) {
		fprintf(f, " api=v1");
		str(f, "database", x->database);
		str(f, "retention_policy", x->retention_policy);
		str(f, "username", x->username);
		/* the secret itself is never printed */
		fprintf(f, " password_file=%s\n", x->password ? "set" : "unset");
	} else {
		fprintf(f, " api=v2");
		str(f, "org", x->org);
		str(f, "bucket", x->bucket);
		fprintf(f, " token_file=%s\n", x->token ? "set" : "unset");
	}
	fprintf(f,
		"  batch_size=%lld flush_interval=%lldms gzip=%s timeout=%lldms "
		"connect_timeout=%lldms retry_max=%lldms\n",
		(long long)x->batch_size, (long long)x->flush_interval_ms,
		x->gzip ? "true" : "false", (long long)x->timeout_ms,
		(long long)x->connect_timeout_ms, (long long)x->retry_max_ms);
	fprintf(f, "  spool_max=%llu fsync=%s fsync_interval=%lldms\n",
		(unsigned long long)x->spool_max, syncs[x->fsync], (long long)x->fsync_interval_ms);
	fprintf(f, "  engine=%s retention=", x->append_only ? "victoriametrics" : "influxdb");
	if (x->retention_ms)
		fprintf(f, "%lldms\n", (long long)x->retention_ms);
	else
		fprintf(f, "none\n");
	if (x->ca_file || x->cert_file || x->insecure_skip_verify) {
		fprintf(f, " ");
		str(f, "ca_file", x->ca_file);
		str(f, "cert_file", x->cert_file);
		str(f, "key_file", x->key_file);
		fprintf(f, " insecure_skip_verify=%s\n",
			x->insecure_skip_verify ? "true" : "false");
	}
}
