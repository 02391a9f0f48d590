/* fuzz_config.c - footprintd.conf and register-map CSV files with
 * arbitrary content: every problem is reported, nothing crashes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char conf[64], csv[64];
	struct fp_config c;
	struct fp_cfg_errors e = { 0 };
	FILE *f;

	snprintf(conf, sizeof(conf), "/tmp/fp-fuzz-%d.conf", (int)getpid());
	snprintf(csv, sizeof(csv), "/tmp/fp-fuzz-%d.csv", (int)getpid());
	/* 1. the bytes as a config file */
	f = fopen(conf, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	fp_config_defaults(&c);
	fp_config_load(&c, conf, &e);
	fp_config_free(&c);
	fp_cfg_errors_reset(&e);
	/* 2. the bytes as a CSV profile of a Modbus device */
	f = fopen(csv, "w");
	fwrite(data, 1, size, f);
	fclose(f);
	f = fopen(conf, "w");
	fprintf(f,
		"modbus: { devices = ( { name = \"d\"; url = \"tcp://127.0.0.1:1\"; "
		"profile = \"%s\"; } ); };\n",
		csv);
	fclose(f);
	fp_config_defaults(&c);
	fp_config_load(&c, conf, &e);
	fp_config_free(&c);
	fp_cfg_errors_reset(&e);
	unlink(conf);
	unlink(csv);
	return 0;
}
