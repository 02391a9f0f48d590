/* cli.c - footprint: the command-line companion (reports, inventory). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "report.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: footprint COMMAND [OPTIONS]\n\n"
		"Commands:\n"
		"  report --state DIR --from YYYY-MM-DD --to YYYY-MM-DD [--site S]\n"
		"         [--format md|json|csv|html] [--output FILE]\n"
		"                                  the environmental report (dates inclusive)\n"
		"  assets import|list|events ...   the asset inventory (not built yet)\n"
		"  version                         print the version\n\n"
		"See footprint(1).\n");
}

static int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "site", required_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "md", "json", "csv", "html", NULL };
	const char *state = NULL, *from = NULL, *to = NULL, *site = NULL, *output = NULL;
	int fmt = FP_REPORT_MD, c, i, rc = 1;
	struct fp_ledger *l;
	struct fp_report r;
	char err[512], *path;
	FILE *out = stdout;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'S': site = optarg; break;
		case 'o': output = optarg; break;
		case 'F':
			for (i = 0; formats[i] && strcmp(formats[i], optarg); i++)
				;
			if (!formats[i]) {
				fprintf(stderr, "footprint report: --format %s: use md, json, csv or html\n",
					optarg);
				return 1;
			}
			fmt = i;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "footprint report: unexpected argument '%s'\n", argv[optind]);
		return 1;
	}
	if (!state || !from || !to) {
		fprintf(stderr, "footprint report: --state, --from and --to are required\n");
		return 1;
	}
	path = fp_xasprintf("%s/ledger.db", state);
	l = fp_ledger_open(path, true, false, err, sizeof(err));
	free(path);
	if (!l) {
		fprintf(stderr, "footprint report: cannot read the ledger: %s\n", err);
		return 1;
	}
	if (fp_report_build(l, from, to, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "footprint report: %s\n", err);
		goto out;
	}
	if (site && strcmp(site, r.site) != 0) {
		fprintf(stderr, "footprint report: the ledger in %s is for site '%s', not '%s'\n",
			state, r.site, site);
		goto out_report;
	}
	if (output && !(out = fopen(output, "w"))) {
		perror(output);
		goto out_report;
	}
	rc = fp_report_print(&r, (enum fp_report_format)fmt, out) < 0 ? 1 : 0;
	if (out != stdout && fclose(out) != 0)
		rc = 1;
	if (rc)
		fprintf(stderr, "footprint report: cannot write the report\n");
out_report:
	fp_report_free(&r);
out:
	fp_ledger_close(l);
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
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("footprint %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(argv[1], "assets")) {
		fprintf(stderr, "footprint: '%s' is not built in this version yet "
			"(see README, Status)\n", argv[1]);
		return 2;
	}
	fprintf(stderr, "footprint: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 1;
}
