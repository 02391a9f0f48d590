/* fuzz_mqtt.c - MQTT payload parsing: every format (presets, json
 * selectors, value, lifecycle, emission-factor) on arbitrary topics and
 * payloads. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mq_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fp_mq_selector sels[] = {
		{ "a.b[1].c", "power_w", 1, NULL },
		{ "x", "energy_import_kwh", 0.001, "L1" },
		{ "arr", "current_a", 1, NULL },
	};
	struct fp_mq_sub s;
	struct fp_batch out;
	const char *why;
	const uint8_t *nl;
	char *topic;
	size_t tlen;

	if (size < 1)
		return 0;
	memset(&s, 0, sizeof(s));
	s.format = (enum fp_mq_format)(data[0] % 7);
	s.max_payload = 4096;
	s.own.tmpl = data[0] & 0x80 ? "a/{device}/x{ch}/#" : NULL;
	s.own.json = s.format == FP_MQ_JSON;
	s.own.sels = sels;
	s.own.nsels = s.format == FP_MQ_VALUE ? 1 : 3;
	s.own.time_path = "t";
	s.own.time_format = (enum fp_mq_time)((data[0] >> 3) % 4);
	fp_mq_sub_set_preset(&s);
	data++;
	size--;
	nl = memchr(data, '\n', size);
	tlen = nl ? (size_t)(nl - data) : 0;
	topic = malloc(tlen + 1);
	memcpy(topic, data, tlen);
	topic[tlen] = '\0';
	if (strlen(topic) == tlen) {
		fp_batch_init(&out);
		fp_mq_parse(&s, "site", topic, (const char *)data + (nl ? tlen + 1 : 0),
			    size - (nl ? tlen + 1 : 0), 0, &out, &why);
		fp_batch_reset(&out);
	}
	free(topic);
	return 0;
}
