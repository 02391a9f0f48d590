/* floor.c - the resident memory under which footprintd cannot go with
 * the shared libraries it links: a program that links the same libraries,
 * starts them as footprintd does (curl_global_init and one easy handle,
 * mosquitto_lib_init and one client, SQLite, a libmodbus context, ...)
 * and does nothing else.  Prints its VmRSS when main() starts (the
 * libraries loaded), then its VmRSS, Pss and anonymous memory once they
 * are started, in kB, as bench/run reads them:
 *   floor: loaded KB rss KB pss KB anon KB
 */
#include "config.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <libconfig.h>
#include <modbus.h>
#include <mosquitto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static long field(const char *file, const char *key)
{
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && sscanf(line + n, " %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

int main(void)
{
	CURL *h;
	struct mosquitto *m;
	sqlite3 *db = NULL;
	modbus_t *mb;
	config_t cfg;
	json_object *j;
	z_stream z;
	long loaded = field("/proc/self/status", "VmRSS:");

	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, NULL);
	sqlite3_open(":memory:", &db);
	mb = modbus_new_tcp("127.0.0.1", 1502);
	config_init(&cfg);
	j = json_tokener_parse("{\"a\":1}");
	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
#ifdef HAVE_SYSTEMD
	sd_notify(0, "STATUS=floor");
#endif
	printf("floor: loaded %ld rss %ld pss %ld anon %ld\n", loaded,
	       field("/proc/self/status", "VmRSS:"), field("/proc/self/smaps_rollup", "Pss:"),
	       field("/proc/self/smaps_rollup", "Anonymous:"));
	deflateEnd(&z);
	json_object_put(j);
	config_destroy(&cfg);
	modbus_free(mb);
	sqlite3_close(db);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return 0;
}
