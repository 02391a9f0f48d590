/* footprint.c - footprint: the command-line companion (reports, inventory). */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "conf.h"
#include "inventory.h"
#include "ledger.h"
#include "orgreport.h"
#include "report.h"
#include "util.h"

/* The daemon's config (agent/main.c): the report reads its state_dir and
 * its report group. */
#define DEFAULT_CONFIG SYSCONFDIR "/footprint/footprintd.conf"

/* Exit statuses (sysexits.h): EX_USAGE (64) for a bad command line,
 * EX_CONFIG (78) for a bad --config, 1 when the command fails. */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: footprint COMMAND [OPTIONS]\n\n"
		"Commands:\n"
		"  report          the environmental report of a site, or of several\n"
		"  assets import   add assets from a CSV or JSON file\n"
		"  assets list     the assets\n"
		"  assets events   the lifecycle events, applied and rejected\n"
		"  assets event    apply one lifecycle event\n"
		"  version         print the version (also -V, --version)\n"
		"  help [COMMAND]  this help, or a command's (also -h, --help)\n\n"
		"'footprint COMMAND --help' lists a command's options.\n"
		"Exit status: 0 done, 1 failed, 64 usage error, 78 configuration error.\n"
		"See footprint(1).\n");
}

static void usage_report(FILE *f)
{
	fprintf(f,
		"Usage: footprint report [--state DIR] --from YYYY-MM-DD --to YYYY-MM-DD\n"
		"                        [--site S] [--config FILE] [--format F] [--output FILE]\n"
		"       footprint report --state DIR --state DIR ... --from DATE --to DATE\n"
		"                        [--merge SITE.json ...] [--format F] [--output FILE]\n"
		"       footprint report --merge SITE.json ... [--from DATE --to DATE]\n"
		"The environmental report of a site (one --state), or the organisation's\n"
		"(several --state and/or --merge: the sites summed).  Dates are inclusive.\n\n"
		"  --state DIR       a site's state directory (repeatable; default: the\n"
		"                    daemon's agent.state_dir)\n"
		"  --from DATE       first day, YYYY-MM-DD\n"
		"  --to DATE         last day, YYYY-MM-DD\n"
		"  --site S          refuse a ledger of another site (one --state only)\n"
		"  --config FILE     the daemon's configuration (state_dir, report group;\n"
		"                    default " DEFAULT_CONFIG " when readable)\n"
		"  --merge           the operands are sites' JSON reports (--format json)\n"
		"  --format F        md (default), json, csv or html\n"
		"  --output FILE     write there instead of standard output\n"
		"  -h, --help        print this help\n\n"
		"Exit status: 0 done, 1 failed, 64 usage error, 78 configuration error.\n"
		"See footprint(1).\n");
}

static void usage_assets(FILE *f)
{
	fprintf(f,
		"Usage: footprint assets SUBCOMMAND --state DIR [OPTIONS]\n"
		"The asset inventory DIR/inventory.db and its lifecycle.\n\n"
		"Subcommands:\n"
		"  import FILE   add assets from a CSV or JSON file\n"
		"  list          the assets\n"
		"  events        the lifecycle events, applied and rejected\n"
		"  event         apply one lifecycle event\n\n"
		"'footprint assets SUBCOMMAND --help' lists its options.\n"
		"Exit status: 0 done, 1 failed, 64 usage error.\n"
		"See footprint(1).\n");
}

static void usage_assets_sub(FILE *f, const char *sub)
{
	if (!strcmp(sub, "import"))
		fprintf(f,
			"Usage: footprint assets import FILE --state DIR [--site S]\n"
			"                              [--categories FILE [--profile NLFB|IT]]\n"
			"                              [--timestamp-min YYYY-MM-DD]\n"
			"Adds the assets of FILE (CSV with a header row, or a JSON array); a bad\n"
			"row is reported as FILE:LINE and nothing is imported.\n\n"
			"  --state DIR            the state directory (required)\n"
			"  --site S               the assets' site\n"
			"  --categories FILE      the e-waste category table (CSV)\n"
			"  --profile NLFB|IT      its lifespan columns (default NLFB)\n"
			"  --timestamp-min DATE   accept commissioning dates from DATE on\n"
			"                         (default 2000-01-01)\n"
			"  -h, --help             print this help\n");
	else if (!strcmp(sub, "list"))
		fprintf(f,
			"Usage: footprint assets list --state DIR [--format text|json|csv]\n"
			"The assets (times in RFC 3339, UTC).\n\n"
			"  --state DIR            the state directory (required)\n"
			"  --format F             text (default), json or csv (RFC 4180, a header)\n"
			"  -h, --help             print this help\n");
	else if (!strcmp(sub, "events"))
		fprintf(f,
			"Usage: footprint assets events --state DIR [--asset ID]\n"
			"                              [--format text|json|csv]\n"
			"The lifecycle events, applied and rejected (times in RFC 3339, UTC).\n\n"
			"  --state DIR            the state directory (required)\n"
			"  --asset ID             one asset's events only\n"
			"  --format F             text (default), json or csv (RFC 4180, a header)\n"
			"  -h, --help             print this help\n");
	else
		fprintf(f,
			"Usage: footprint assets event --state DIR --asset ID --event E\n"
			"                             [--time T] [--id EVENT_ID] [OPTIONS]\n"
			"Applies one lifecycle event.\n\n"
			"  --state DIR               the state directory (required)\n"
			"  --asset ID                the asset (required)\n"
			"  --event E                 the event (required): received, in_service,\n"
			"                            spare, decommissioned, reused, refurbished,\n"
			"                            recycled, disposed...\n"
			"  --time T                  YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (default now)\n"
			"  --id EVENT_ID             makes it idempotent (default\n"
			"                            cli:ASSET:EVENT:TIME)\n"
			"  --site S                  the asset's site\n"
			"  --category K              the UNU-KEY of an unknown asset\n"
			"  --mass-kg M               its mass (0 to 1e9)\n"
			"  --model S                 its model\n"
			"  --destination D           where it went (reused, recycled...)\n"
			"  --expected-life-y Y       its expected life in years (0 to 1e9)\n"
			"  --embodied-co2e-kg X      its embodied CO2e (0 to 1e9)\n"
			"  --categories FILE         the e-waste category table (CSV)\n"
			"  --profile NLFB|IT         its lifespan columns (default NLFB)\n"
			"  --timestamp-min DATE      accept times from DATE on (default 2000-01-01)\n"
			"  -h, --help                print this help\n");
	fprintf(f, "\nExit status: 0 done, 1 failed, 64 usage error.\nSee footprint(1).\n");
}

/* A usage error of cmd: the message (printf), then where the help is;
 * returns EX_USAGE. */
static int __attribute__((format(printf, 2, 3))) bad_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "footprint %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'footprint %s --help'.\n", cmd);
	return EX_USAGE;
}

/* The options of footprint report. */
struct report_opts {
	const char **states; /* --state, repeatable */
	size_t nstates, cap;
	const char *from, *to, *site, *output;
	const char *config; /* --config, else the daemon's default when readable */
	struct fp_config cfg;
	bool merge;   /* --merge: the operands are sites' JSON reports */
	char **files; /* argv's operands */
	size_t nfiles;
	int fmt;
};

/* Prints with print (a site's report or the organisation's) into
 * --output or stdout: 0, or 1 (said). */
static int report_write(const struct report_opts *o, const void *r,
			int (*print)(const void *r, enum fp_report_format f, FILE *out))
{
	FILE *out = stdout;
	int rc;

	if (o->output && !(out = fopen(o->output, "w"))) {
		perror(o->output);
		return 1;
	}
	rc = print(r, (enum fp_report_format)o->fmt, out) < 0 ? 1 : 0;
	if (out != stdout && fclose(out) != 0)
		rc = 1;
	if (rc)
		fprintf(stderr, "footprint report: cannot write the report\n");
	return rc;
}

static int print_site(const void *r, enum fp_report_format f, FILE *out)
{
	return fp_report_print(r, f, out);
}

static int print_org(const void *g, enum fp_report_format f, FILE *out)
{
	return fp_org_print(g, f, out);
}

/* One --state: one site's report, as it always was. */
static int report_site(const struct report_opts *o)
{
	struct fp_report r;
	char err[1024];
	int rc = 1;

	if (fp_report_load_state(o->states[0], o->from, o->to, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "footprint report: %s\n", err);
		return 1;
	}
	r.cfg = o->cfg.report_cfg;
	if (o->site && !r.no_ledger && strcmp(o->site, r.site) != 0)
		fprintf(stderr, "footprint report: the ledger in %s is for site '%s', not '%s'\n",
			o->states[0], r.site, o->site);
	else
		rc = report_write(o, &r, print_site);
	fp_report_free(&r);
	return rc;
}

/* Several --state and/or --merge: the organisation's report. */
static int report_org(const struct report_opts *o)
{
	struct fp_org g;
	char err[1024];
	size_t i;
	int rc = 1;

	memset(&g, 0, sizeof(g));
	if (o->site) {
		fprintf(stderr,
			"footprint report: --site checks one --state; not with several "
			"sites\n");
		return 1;
	}
	for (i = 0; i < o->nstates; i++)
		if (fp_org_add_state(&g, o->states[i], o->from, o->to, err, sizeof(err)) < 0)
			goto fail;
	for (i = 0; i < o->nfiles; i++) {
		const struct fp_report *r;
		if (fp_org_add_json(&g, o->files[i], err, sizeof(err)) < 0)
			goto fail;
		r = &g.sites[g.n - 1].r;
		if ((o->from && strcmp(o->from, r->from)) || (o->to && strcmp(o->to, r->to))) {
			snprintf(err, sizeof(err),
				 "%s: the report of '%s' covers %s to %s, not %s to %s",
				 o->files[i], r->site, r->from, r->to, o->from ? o->from : r->from,
				 o->to ? o->to : r->to);
			goto fail;
		}
	}
	if (fp_org_sum(&g, err, sizeof(err)) < 0)
		goto fail;
	rc = report_write(o, &g, print_org);
	fp_org_free(&g);
	return rc;
fail:
	fprintf(stderr, "footprint report: %s\n", err);
	fp_org_free(&g);
	return 1;
}

/* Loads --config, or the daemon's default config when it is readable:
 * the state directory and the report group come from it.  Problems in
 * --config are fatal; in the default file they are warnings (the report
 * goes on with what loaded).  0 or -1 (said). */
static int report_config(struct report_opts *o)
{
	const char *path = o->config ? o->config : DEFAULT_CONFIG;
	struct fp_cfg_errors e;
	size_t i;
	int rc = 0;

	memset(&e, 0, sizeof(e));
	fp_config_defaults(&o->cfg);
	if (!o->config && access(path, R_OK) != 0)
		return 0;
	if (fp_config_load(&o->cfg, path, &e) < 0) {
		for (i = 0; i < e.n; i++)
			fprintf(stderr, "footprint report: %s%s\n",
				o->config ? "" : "warning: ", e.msgs[i]);
		rc = o->config ? -1 : 0;
	}
	fp_cfg_errors_reset(&e);
	return rc;
}

/* Parses the command line into o: -1 when the command goes on, else the
 * exit status. */
static int report_parse(int argc, char **argv, struct report_opts *o)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "site", required_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "merge", no_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "md", "json", "csv", "html", NULL };
	int c, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			fp_xgrow((void **)&o->states, &o->cap, o->nstates + 1, sizeof(*o->states));
			o->states[o->nstates++] = optarg;
			break;
		case 'f':
			o->from = optarg;
			break;
		case 't':
			o->to = optarg;
			break;
		case 'S':
			o->site = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'm':
			o->merge = true;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'F':
			for (i = 0; formats[i] && strcmp(formats[i], optarg); i++)
				;
			if (!formats[i])
				return bad_usage("report", "--format %s: use md, json, csv or html",
						 optarg);
			o->fmt = i;
			break;
		case 'h':
			usage_report(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'footprint report --help'.\n");
			return EX_USAGE;
		}
	}
	if (optind < argc && !o->merge)
		return bad_usage("report", "unexpected argument '%s'", argv[optind]);
	if (o->site && (o->nstates > 1 || o->merge))
		return bad_usage("report", "--site checks one --state; not with several sites");
	o->files = argv + optind;
	o->nfiles = (size_t)(argc - optind);
	if (o->merge && !o->nfiles)
		return bad_usage("report",
				 "--merge takes the sites' JSON reports (footprint report "
				 "--format json)");
	if (o->nstates && (!o->from || !o->to))
		return bad_usage("report", "--from and --to are required");
	if (report_config(o) < 0)
		return EX_CONFIG;
	if (!o->nstates && !o->merge) {
		/* the daemon's state directory (agent.state_dir, else its default) */
		fp_xgrow((void **)&o->states, &o->cap, 1, sizeof(*o->states));
		o->states[o->nstates++] = o->cfg.state_dir;
	}
	if (o->nstates && (!o->from || !o->to))
		return bad_usage("report", "--from and --to are required");
	return -1;
}

static int cmd_report(int argc, char **argv)
{
	struct report_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.fmt = FP_REPORT_MD;
	rc = report_parse(argc, argv, &o);
	if (rc < 0)
		rc = o.nstates == 1 && !o.merge ? report_site(&o) : report_org(&o);
	free(o.states);
	fp_config_free(&o.cfg);
	return rc;
}

/* "YYYY-MM-DD" (local midnight) or RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" (or
 * with an offset): seconds since the epoch, or -1. */
static int64_t parse_time(const char *s)
{
	int64_t t;
	int32_t ns;

	if (strlen(s) == 10)
		return fp_parse_date(s);
	if (fp_time_parse_rfc3339(s, &t, &ns) < 0)
		return -1;
	return t < 0 ? -1 : t;
}

/* The options of footprint assets (one set for every subcommand). */
struct assets_opts {
	const char *sub, *state, *site, *asset, *event, *when, *id, *catfile, *profile;
	const char *tmin; /* --timestamp-min */
	int64_t t;	  /* --time, parsed */
	struct fp_time_window tw;
	const char *file; /* import */
	struct fp_inv_event e;
	enum fp_inv_format fmt;
};

/* The options that set a string or a number of o: the member each sets. */
static const struct {
	int opt;
	size_t off;
	bool num;
} assets_members[] = {
	{ 's', offsetof(struct assets_opts, state), false },
	{ 'S', offsetof(struct assets_opts, site), false },
	{ 'a', offsetof(struct assets_opts, asset), false },
	{ 'e', offsetof(struct assets_opts, event), false },
	{ 't', offsetof(struct assets_opts, when), false },
	{ 'i', offsetof(struct assets_opts, id), false },
	{ 'c', offsetof(struct assets_opts, e.category), false },
	{ 'M', offsetof(struct assets_opts, e.model), false },
	{ 'd', offsetof(struct assets_opts, e.destination), false },
	{ 'C', offsetof(struct assets_opts, catfile), false },
	{ 'P', offsetof(struct assets_opts, profile), false },
	{ 'T', offsetof(struct assets_opts, tmin), false },
	{ 'm', offsetof(struct assets_opts, e.mass_kg), true },
	{ 'l', offsetof(struct assets_opts, e.expected_life_y), true },
	{ 'E', offsetof(struct assets_opts, e.embodied_co2e_kg), true },
};

/* Sets the string member of option c to optarg, or points *num at its
 * number member (read by the caller).  False for the other options. */
static bool set_option(struct assets_opts *o, int c, double **num)
{
	size_t k;

	for (k = 0; k < FP_ARRAY_SIZE(assets_members); k++) {
		char *m = (char *)o + assets_members[k].off;
		if (assets_members[k].opt != c)
			continue;
		if (assets_members[k].num) {
			*num = (double *)(void *)m;
			return false; /* the caller parses and checks it */
		}
		*(const char **)(void *)m = optarg;
		return true;
	}
	return false;
}

/* The options each subcommand takes (the getopt values of assets_parse). */
static const struct {
	const char *sub, *opts;
} assets_subs[] = {
	{ "import", "sSCPTh" },
	{ "list", "sFh" },
	{ "events", "saFh" },
	{ "event", "saetiScmMdlECPTh" },
};

/* The option names, for "--x does not apply". */
static const struct option assets_long[] = {
	{ "state", required_argument, NULL, 's' },
	{ "site", required_argument, NULL, 'S' },
	{ "format", required_argument, NULL, 'F' },
	{ "asset", required_argument, NULL, 'a' },
	{ "event", required_argument, NULL, 'e' },
	{ "time", required_argument, NULL, 't' },
	{ "id", required_argument, NULL, 'i' },
	{ "category", required_argument, NULL, 'c' },
	{ "mass-kg", required_argument, NULL, 'm' },
	{ "model", required_argument, NULL, 'M' },
	{ "destination", required_argument, NULL, 'd' },
	{ "expected-life-y", required_argument, NULL, 'l' },
	{ "embodied-co2e-kg", required_argument, NULL, 'E' },
	{ "categories", required_argument, NULL, 'C' },
	{ "profile", required_argument, NULL, 'P' },
	{ "timestamp-min", required_argument, NULL, 'T' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The allowed options of sub, NULL for an unknown subcommand. */
static const char *assets_sub_opts(const char *sub)
{
	size_t k;

	for (k = 0; k < FP_ARRAY_SIZE(assets_subs); k++)
		if (!strcmp(sub, assets_subs[k].sub))
			return assets_subs[k].opts;
	return NULL;
}

static const char *option_name(int c)
{
	size_t k;

	for (k = 0; assets_long[k].name; k++)
		if (assets_long[k].val == c)
			return assets_long[k].name;
	return "?";
}

/* What the options of every subcommand need: the state folder, its
 * arguments.  -1 when the command goes on, else EX_USAGE (printed). */
static int assets_check(int argc, char **argv, struct assets_opts *o, const char *cmd)
{
	const char *sub = o->sub;

	if (!o->state)
		return bad_usage(cmd, "--state DIR is required");
	if (o->tmin && ((o->tw.min_s = parse_time(o->tmin)) <= 0 || o->tw.min_s >= FP_TIME_MAX))
		return bad_usage(cmd,
				 "--timestamp-min '%s' is not a date YYYY-MM-DD after 1970-01-01",
				 o->tmin);
	if (!strcmp(sub, "import") && optind != argc - 1)
		return bad_usage(cmd,
				 optind < argc ? "one FILE (CSV or JSON), not several"
					       : "which FILE (CSV or JSON)?");
	if (strcmp(sub, "import") && optind != argc)
		return bad_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (!strcmp(sub, "import"))
		o->file = argv[optind];
	if (!strcmp(sub, "event") && (!o->asset || !o->event))
		return bad_usage(cmd, "--asset and --event are required");
	if (o->when && (o->t = parse_time(o->when)) < 0)
		return bad_usage(cmd, "--time '%s' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
				 o->when);
	return -1;
}

/* Parses the command line into o: -1 when the command goes on, else the
 * exit status (help, or an error already printed). */
static int assets_parse(int argc, char **argv, struct assets_opts *o)
{
	static char cmd[32];
	const char *sub, *allowed;
	int c;

	if (argc < 2) {
		usage_assets(stderr);
		return EX_USAGE;
	}
	sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		usage_assets(stdout);
		return 0;
	}
	if (!(allowed = assets_sub_opts(sub)))
		return bad_usage("assets", "unknown subcommand '%s' (import, list, events, event)",
				 sub);
	snprintf(cmd, sizeof(cmd), "assets %s", sub);
	memset(o, 0, sizeof(*o));
	o->sub = sub;
	o->profile = "NLFB";
	o->e.mass_kg = o->e.embodied_co2e_kg = o->e.expected_life_y = -1;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", assets_long, NULL)) != -1) {
		char *end = NULL;
		double *num = NULL;
		if (c != '?' && !strchr(allowed, c))
			return bad_usage(cmd, "--%s does not apply to %s", option_name(c), sub);
		if (set_option(o, c, &num))
			continue;
		switch (num ? 0 : c) {
		case 0: /* a number, checked below */
			break;
		case 'F':
			if (!strcmp(optarg, "text"))
				o->fmt = FP_INV_TEXT;
			else if (!strcmp(optarg, "json"))
				o->fmt = FP_INV_JSON;
			else if (!strcmp(optarg, "csv"))
				o->fmt = FP_INV_CSV;
			else
				return bad_usage(cmd, "--format %s: use text, json or csv", optarg);
			break;
		case 'h':
			usage_assets_sub(stdout, sub);
			return 0;
		default:
			fprintf(stderr, "Try 'footprint %s --help'.\n", cmd);
			return EX_USAGE;
		}
		if (num &&
		    ((*num = strtod(optarg, &end)),
		     end == optarg || *end || !isfinite(*num) || *num < 0 || *num > 1e9))
			return bad_usage(cmd, "'%s' is not a number from 0 to 1e9", optarg);
	}
	return assets_check(argc, argv, o, cmd);
}

/* The agent's category table (with its config overrides), else the
 * installed one, or --categories.  0, or -1 (printed; cats not held). */
static int assets_categories(struct fp_inventory *v, const struct assets_opts *o,
			     struct fp_categories *cats)
{
	const char *catfile = o->catfile;
	char err[512];

	if (fp_inv_get_categories(v, cats) < 0 || !cats->n || catfile) {
		bool had = cats->n > 0;
		fp_categories_free(cats);
		if (!catfile)
			catfile = DATADIR "/footprint/ewaste-categories.csv";
		if (fp_categories_load(cats, catfile, o->profile, err, sizeof(err)) < 0) {
			fprintf(stderr, "footprint assets: %s\n", err);
			return -1;
		}
		/* Kept with the inventory until the agent writes its own. */
		if (!had)
			fp_inv_set_categories(v, cats);
	}
	return 0;
}

/* footprint assets import FILE */
static int assets_import(struct fp_inventory *v, const struct fp_categories *cats,
			 const struct assets_opts *o)
{
	int n = fp_inv_import(v, cats, o->file, o->site, stderr);

	if (n < 0)
		return 1;
	printf("%d assets imported\n", n);
	return 0;
}

/* footprint assets event --asset ID --event E ... */
static int assets_event(struct fp_inventory *v, const struct fp_categories *cats,
			struct assets_opts *o)
{
	int64_t t = o->when ? o->t : (int64_t)time(NULL);
	struct fp_inv_event *e = &o->e;
	char why[300], eid[400];
	const char *bad;

	if (fp_time_check(&o->tw, t, fp_real_ns(), &bad) < 0) {
		fprintf(stderr,
			"footprint assets event: --time '%s': %s (--timestamp-min DATE accepts "
			"older dates)\n",
			o->when ? o->when : "now", bad);
		return 1;
	}
	snprintf(eid, sizeof(eid), "cli:%s:%s:%lld", o->asset, o->event, (long long)t);
	e->event_id = o->id ? o->id : eid;
	e->asset_id = o->asset;
	e->event = o->event;
	e->t = t;
	e->site = o->site;
	e->source = "cli";
	switch (fp_inv_apply(v, cats, e, why, sizeof(why))) {
	case FP_INV_APPLIED:
		printf("applied: %s %s (event %s)\n", o->asset, o->event, e->event_id);
		return 0;
	case FP_INV_DUPLICATE:
		printf("duplicate: event %s was already applied\n", e->event_id);
		return 0;
	default:
		fprintf(stderr, "footprint assets event: rejected: %s\n", why);
		return 1;
	}
}

static int cmd_assets(int argc, char **argv)
{
	struct assets_opts o;
	struct fp_inventory *v;
	struct fp_categories cats;
	char err[512], *path;
	int rc = assets_parse(argc, argv, &o);
	bool ro;

	if (rc >= 0)
		return rc;
	ro = !strcmp(o.sub, "list") || !strcmp(o.sub, "events");
	/* import and event create the state folder, as the agent does */
	if (!ro && (rc = fp_mkdirs(o.state, 0750)) < 0) {
		fprintf(stderr, "footprint assets: cannot create the state folder %s: %s\n",
			o.state, strerror(-rc));
		return 1;
	}
	path = fp_xasprintf("%s/inventory.db", o.state);
	v = fp_inv_open(path, ro, err, sizeof(err));
	free(path);
	if (!v) {
		fprintf(stderr, "footprint assets: cannot open the inventory: %s%s\n", err,
			ro ? " (none yet in that state folder? the agent or 'footprint assets "
			     "import' creates it)"
			   : "");
		return 1;
	}
	fp_inv_set_time_window(v, &o.tw);
	if (!strcmp(o.sub, "list")) {
		rc = fp_inv_list(v, stdout, o.fmt) < 0;
	} else if (!strcmp(o.sub, "events")) {
		rc = fp_inv_events(v, o.asset, stdout, o.fmt) < 0;
	} else if (assets_categories(v, &o, &cats) < 0) {
		rc = 1;
	} else {
		rc = !strcmp(o.sub, "import") ? assets_import(v, &cats, &o)
					      : assets_event(v, &cats, &o);
		fp_categories_free(&cats);
	}
	fp_inv_close(v);
	return rc;
}

/* footprint help [COMMAND [SUBCOMMAND]] */
static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "report")) {
		usage_report(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "assets") && argc < 3) {
		usage_assets(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "assets") && assets_sub_opts(argv[2])) {
		usage_assets_sub(stdout, argv[2]);
		return 0;
	}
	fprintf(stderr, "footprint help: no command '%s%s%s'\n", argv[1], argc > 2 ? " " : "",
		argc > 2 ? argv[2] : "");
	usage(stderr);
	return EX_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return cmd_help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version") ||
	    !strcmp(argv[1], "version")) {
		printf("footprint %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "assets"))
		return cmd_assets(argc - 1, argv + 1);
	fprintf(stderr, "footprint: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EX_USAGE;
}
