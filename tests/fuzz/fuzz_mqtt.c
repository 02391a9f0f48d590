/* fuzz_mqtt.c - MQTT payload parsing: every format (presets, json
 * selectors, value, lifecycle native and mapped, emission-factor) on
 * arbitrary topics and payloads. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mq_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fp_mq_value states[] = { { "ON", false, 1 }, { "offline", true, 0 } };
	static const struct fp_mq_selector sels[] = {
		{ .path = "a.b[1].c",
		  .field = "power_w",
		  .scale = 1,
		  .values = states,
		  .nvalues = 2 },
		{ .path = "x", .field = "energy_import_kwh", .scale = 0.001, .phase = "L1" },
		{ .path = "arr", .field = "current_a", .scale = 1, .type = FP_MQ_STRING },
	};
	static const char *names[] = { "device_joined", "left" };
	static const char *to[] = { "in_service", "spare" };
	struct fp_mq_lcmap map = { .names = names, .to = to, .nnames = 2 };
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
	/* format value with a {field} level: the selectors rename levels */
	s.field_from_topic = s.format == FP_MQ_VALUE && (data[0] & 0x40);
	if (s.field_from_topic)
		s.own.tmpl = "a/{device}/{field}";
	s.dflt = sels[data[0] & 0x20 ? 0 : 2];
	s.name_topic = data[0] & 0x40 ? "a/{device}/name" : NULL;
	s.own.json = s.format == FP_MQ_JSON;
	s.own.sels = sels;
	s.own.nsels = s.format == FP_MQ_VALUE && !(data[0] & 0x40) ? 1 : 3;
	s.own.time_path = "t";
	s.own.time_format = (enum fp_mq_time)((data[0] >> 3) % 4);
	/* lifecycle: half the inputs through a map of foreign events */
	if (s.format == FP_MQ_LIFECYCLE && (data[0] & 0x40)) {
		map.path[0] = data[0] & 0x20 ? "id" : NULL;
		map.path[1] = "data.ieee_address";
		map.path[2] = "type";
		map.path[3] = "c[0]";
		map.path[6] = "kg";
		map.dflt[3] = "0301";
		map.dflt[8] = "6";
		s.lcmap = &map;
	}
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
		const char *pl = (const char *)data + (nl ? tlen + 1 : 0);
		size_t plen = size - (nl ? tlen + 1 : 0);
		char *dev, *name;
		fp_mq_parse(&s, "site", topic, pl, plen, 0, &out, &why);
		if (fp_mq_name_of(&s, topic, pl, plen, &dev, &name)) {
			free(dev);
			free(name);
		}
		fp_batch_reset(&out);
	}
	free(topic);
	return 0;
}
