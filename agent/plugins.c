/* plugins.c - the one list of compiled-in plugins: collectors and outputs.
 *
 * Each plugin's file ends with its const ops table; adding a plugin is
 * adding its table here (and its sources to the build).  This is the only
 * file of agent/ that names them. */
#include "config.h"

#include "collector.h"
#include "output.h"

#include "file.h"
#include "influxdb.h"
#include "mb_collector.h"
#include "mq_collector.h"
#include "sn_collector.h"

const struct fp_collector_ops *const fp_collectors[] = {
	&fp_modbus_collector,
	&fp_mqtt_collector,
	&fp_snmp_collector,
	NULL,
};

/* The first provides the embedded default output. */
const struct fp_output_ops *const fp_outputs[] = {
	&fp_file_output,
	&fp_influxdb_output,
	NULL,
};
