/* fuzz_assets.c - the asset inventory import (CSV and JSON) and the CSV
 * reader on arbitrary bytes, into an in-memory inventory. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "ewaste.h"
#include "inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fp_category rows[] = {
		{ "0307", "servers", "4a", 40, 1.46, 7.78 },
		{ "0002", "PV", "4b", 0, 3.5, 25 },
	};
	struct fp_categories cats = { 0 };
	struct fp_inventory *v;
	struct fp_csv_rec r = { 0 };
	struct fp_ewaste e;
	const char *why;
	size_t pos = 0, i;
	int line = 1, n = 0;
	char err[256];
	FILE *sink = fopen("/dev/null", "w");

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fp_categories_set(&cats, &rows[i]);
	/* The CSV reader alone: bounded progress on any input. */
	while (fp_csv_next((const char *)data, size, &pos, &line, &r, &why) != 0 && n++ < 100000)
		;
	fp_csv_rec_free(&r);
	v = fp_inv_open(":memory:", false, err, sizeof(err));
	if (v) {
		fp_inv_import_buf(v, &cats, "fuzz", (const char *)data, size, "s", sink);
		fp_inv_ewaste(v, &cats, NULL, 0, 2000000000, 2000000000, &e);
		fp_inv_close(v);
	}
	fp_categories_free(&cats);
	fclose(sink);
	return 0;
}
