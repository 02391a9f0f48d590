/* cli.c - footprint: the command-line companion (reports, inventory). */
#include "config.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: footprint COMMAND [OPTIONS]\n\n"
		"Commands:\n"
		"  report --state DIR --from YYYY-MM-DD --to YYYY-MM-DD [--site S]\n"
		"         --format md|json|csv     the environmental report\n"
		"  assets import|list|events ...   the asset inventory\n"
		"  version                         print the version\n\n"
		"In this version 'report' and 'assets' are not built yet (README, Status).\n"
		"See footprint(1).\n");
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
	if (!strcmp(argv[1], "report") || !strcmp(argv[1], "assets")) {
		fprintf(stderr, "footprint: '%s' is not built in this version yet "
			"(see README, Status)\n", argv[1]);
		return 2;
	}
	fprintf(stderr, "footprint: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 1;
}
