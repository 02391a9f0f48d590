/* footprint.c - footprint: the command-line companion (reports, inventory). */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: footprint COMMAND [OPTIONS]\n\n"
		"Commands:\n"
		"  report [--state DIR] --from YYYY-MM-DD --to YYYY-MM-DD [--site S]\n"
		"         [--config FILE] [--format md|json|csv|html] [--output FILE]\n"
		"                                  the environmental report (dates inclusive)\n"
		"  report --state DIR --state DIR ... --from YYYY-MM-DD --to YYYY-MM-DD\n"
		"         [--merge SITE.json ...] [--format md|json|csv|html] [--output FILE]\n"
		"                                  the organisation's report: the sites summed\n"
		"  assets import FILE --state DIR [--site S] [--categories FILE]\n"
		"         [--timestamp-min YYYY-MM-DD]\n"
		"  assets list --state DIR [--format text|json]\n"
		"  assets events --state DIR [--asset ID] [--format text|json]\n"
		"  assets event --state DIR --asset ID --event E [--time T] [--id EVENT_ID]\n"
		"         [--category K] [--mass-kg M] [--model S] [--destination D]\n"
		"         [--expected-life-y Y] [--embodied-co2e-kg X] [--timestamp-min YYYY-MM-DD]\n"
		"                                  the asset inventory and its lifecycle\n"
		"  version                         print the version\n\n"
		"See footprint(1).\n");
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
			if (!formats[i]) {
				fprintf(stderr,
					"footprint report: --format %s: use md, json, csv or html\n",
					optarg);
				return 1;
			}
			o->fmt = i;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return 1;
		}
	}
	if (optind < argc && !o->merge) {
		fprintf(stderr, "footprint report: unexpected argument '%s'\n", argv[optind]);
		return 1;
	}
	o->files = argv + optind;
	o->nfiles = (size_t)(argc - optind);
	if (o->merge && !o->nfiles) {
		fprintf(stderr,
			"footprint report: --merge takes the sites' JSON reports "
			"(footprint report --format json)\n");
		return 1;
	}
	if (report_config(o) < 0)
		return 1;
	if (!o->nstates && !o->merge) {
		/* the daemon's state directory (agent.state_dir, else its default) */
		fp_xgrow((void **)&o->states, &o->cap, 1, sizeof(*o->states));
		o->states[o->nstates++] = o->cfg.state_dir;
	}
	if (o->nstates && (!o->from || !o->to)) {
		fprintf(stderr, "footprint report: --from and --to are required\n");
		return 1;
	}
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
	struct fp_time_window tw;
	const char *file; /* import */
	struct fp_inv_event e;
	bool json;
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

/* What the options of every subcommand need: the state folder, a known
 * subcommand, its arguments.  -1 when the command goes on, else 1
 * (printed). */
static int assets_check(int argc, char **argv, struct assets_opts *o)
{
	const char *sub = o->sub;

	if (!o->state) {
		fprintf(stderr, "footprint assets: --state DIR is required\n");
		return 1;
	}
	if (strcmp(sub, "import") && strcmp(sub, "list") && strcmp(sub, "events") &&
	    strcmp(sub, "event")) {
		fprintf(stderr,
			"footprint assets: unknown command '%s' (import, list, events, event)\n",
			sub);
		return 1;
	}
	if (o->tmin && ((o->tw.min_s = parse_time(o->tmin)) <= 0 || o->tw.min_s >= FP_TIME_MAX)) {
		fprintf(stderr,
			"footprint assets: --timestamp-min '%s' is not a date YYYY-MM-DD after "
			"1970-01-01\n",
			o->tmin);
		return 1;
	}
	if (!strcmp(sub, "import") && optind != argc - 1) {
		fprintf(stderr, "footprint assets import: one FILE (CSV or JSON)\n");
		return 1;
	}
	if (strcmp(sub, "import") && optind != argc) {
		fprintf(stderr, "footprint assets: unexpected argument '%s'\n", argv[optind]);
		return 1;
	}
	if (!strcmp(sub, "import"))
		o->file = argv[optind];
	return -1;
}

/* Parses the command line into o: -1 when the command goes on, else the
 * exit status (help, or an error already printed). */
static int assets_parse(int argc, char **argv, struct assets_opts *o)
{
	static const struct option opts[] = {
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
	const char *sub;
	int c;

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		usage(stdout);
		return 0;
	}
	memset(o, 0, sizeof(*o));
	o->sub = sub;
	o->profile = "NLFB";
	o->e.mass_kg = o->e.embodied_co2e_kg = o->e.expected_life_y = -1;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end = NULL;
		double *num = NULL;
		if (set_option(o, c, &num))
			continue;
		switch (num ? 0 : c) {
		case 0: /* a number, checked below */
			break;
		case 'F':
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				fprintf(stderr, "footprint assets: --format is text or json\n");
				return 1;
			}
			o->json = !strcmp(optarg, "json");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return 1;
		}
		if (num &&
		    ((*num = strtod(optarg, &end)),
		     end == optarg || *end || !isfinite(*num) || *num < 0 || *num > 1e9)) {
			fprintf(stderr, "footprint assets: '%s' is not a number from 0 to 1e9\n",
				optarg);
			return 1;
		}
	}
	return assets_check(argc, argv, o);
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
	int64_t t = o->when ? parse_time(o->when) : (int64_t)time(NULL);
	struct fp_inv_event *e = &o->e;
	char why[300], eid[400];
	const char *bad;

	if (!o->asset || !o->event || t < 0) {
		if (!o->asset || !o->event)
			fprintf(stderr,
				"footprint assets event: --asset and --event are required\n");
		else
			fprintf(stderr,
				"footprint assets event: --time '%s' is not YYYY-MM-DD or "
				"YYYY-MM-DDTHH:MM:SSZ\n",
				o->when);
		return 1;
	}
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

	if (rc >= 0)
		return rc;
	path = fp_xasprintf("%s/inventory.db", o.state);
	v = fp_inv_open(path, !strcmp(o.sub, "list") || !strcmp(o.sub, "events"), err, sizeof(err));
	free(path);
	if (!v) {
		fprintf(stderr, "footprint assets: cannot open the inventory: %s\n", err);
		return 1;
	}
	fp_inv_set_time_window(v, &o.tw);
	if (!strcmp(o.sub, "list")) {
		rc = fp_inv_list(v, stdout, o.json) < 0;
	} else if (!strcmp(o.sub, "events")) {
		rc = fp_inv_events(v, o.asset, stdout, o.json) < 0;
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

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
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
	return 1;
}
