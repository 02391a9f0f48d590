# Tests: Check unit tests (TAP through automake's tap-driver, one line per
# test) and integration scripts that start real servers on loopback.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
AM_TESTS_ENVIRONMENT = \
	top_builddir='$(abs_top_builddir)'; top_srcdir='$(abs_top_srcdir)'; \
	INFLUXD='$(INFLUXD)'; export top_builddir top_srcdir INFLUXD;

FP_UNIT_TESTS = %D%/unit/check_lineproto %D%/unit/check_conf %D%/unit/check_queue \
	%D%/unit/check_spool %D%/unit/check_modbus %D%/unit/check_mqtt %D%/unit/check_energy \
	%D%/unit/check_ewaste %D%/unit/check_snmp

if HAVE_CHECK
check_PROGRAMS += $(FP_UNIT_TESTS)
TESTS += $(FP_UNIT_TESTS)
endif

FP_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
FP_TEST_LIBS = $(FP_CORE_LIBS) $(CHECK_LIBS)

%C%_unit_check_lineproto_SOURCES = %D%/unit/check_lineproto.c %D%/unit/fp_check.h
%C%_unit_check_lineproto_CFLAGS = $(FP_TEST_CFLAGS)
%C%_unit_check_lineproto_LDADD = $(FP_TEST_LIBS)
%C%_unit_check_conf_SOURCES = %D%/unit/check_conf.c %D%/unit/fp_check.h
%C%_unit_check_conf_CFLAGS = $(FP_TEST_CFLAGS)
%C%_unit_check_conf_LDADD = $(FP_TEST_LIBS)
%C%_unit_check_queue_SOURCES = %D%/unit/check_queue.c %D%/unit/fp_check.h
%C%_unit_check_queue_CFLAGS = $(FP_TEST_CFLAGS)
%C%_unit_check_queue_LDADD = $(FP_TEST_LIBS)
%C%_unit_check_spool_SOURCES = %D%/unit/check_spool.c %D%/unit/fp_check.h
%C%_unit_check_spool_CFLAGS = $(FP_TEST_CFLAGS)
%C%_unit_check_spool_LDADD = $(FP_TEST_LIBS)
%C%_unit_check_modbus_SOURCES = %D%/unit/check_modbus.c %D%/unit/fp_check.h
%C%_unit_check_modbus_CFLAGS = $(FP_TEST_CFLAGS) $(MODBUS_CFLAGS)
%C%_unit_check_modbus_LDADD = $(FP_TEST_LIBS)
%C%_unit_check_energy_SOURCES = %D%/unit/check_energy.c %D%/unit/fp_check.h
%C%_unit_check_energy_CFLAGS = $(FP_TEST_CFLAGS) $(SQLITE_CFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
%C%_unit_check_energy_LDADD = $(FP_TEST_LIBS) $(SQLITE_LIBS)
%C%_unit_check_ewaste_SOURCES = %D%/unit/check_ewaste.c %D%/unit/fp_check.h
%C%_unit_check_ewaste_CFLAGS = $(FP_TEST_CFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
%C%_unit_check_ewaste_LDADD = $(FP_TEST_LIBS)
%C%_unit_check_snmp_SOURCES = %D%/unit/check_snmp.c %D%/unit/fp_check.h
%C%_unit_check_snmp_CFLAGS = $(FP_TEST_CFLAGS)
%C%_unit_check_snmp_LDADD = $(FP_TEST_LIBS)
%C%_unit_check_mqtt_SOURCES = %D%/unit/check_mqtt.c %D%/unit/fp_check.h
%C%_unit_check_mqtt_CFLAGS = $(FP_TEST_CFLAGS)
%C%_unit_check_mqtt_LDADD = $(FP_TEST_LIBS)

# Integration: the encoder against a real influxd, the daemon's command line.
check_PROGRAMS += %D%/integration/influx_roundtrip
%C%_integration_influx_roundtrip_SOURCES = %D%/integration/influx_roundtrip.c
%C%_integration_influx_roundtrip_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS)
%C%_integration_influx_roundtrip_LDADD = $(FP_CORE_LIBS) $(CURL_LIBS) $(JSONC_LIBS)

# Helpers of the output tests: a driver through the real output code, and
# a small HTTP endpoint (v2 requests, injected 503s, a proxy to influxd).
check_PROGRAMS += %D%/integration/outdrive %D%/integration/httpstub %D%/integration/puback_probe \
	%D%/integration/snmpstub
%C%_integration_snmpstub_SOURCES = %D%/integration/snmpstub.c
%C%_integration_puback_probe_SOURCES = %D%/integration/puback_probe.c collectors/mqtt/mq_loop.c
%C%_integration_puback_probe_CFLAGS = $(AM_CFLAGS) $(MOSQUITTO_CFLAGS) -I$(top_srcdir)/collectors/mqtt
%C%_integration_puback_probe_LDADD = $(MOSQUITTO_LIBS)
%C%_integration_outdrive_SOURCES = %D%/integration/outdrive.c
%C%_integration_outdrive_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
%C%_integration_outdrive_LDADD = $(FP_CORE_LIBS)
%C%_integration_httpstub_SOURCES = %D%/integration/httpstub.c
%C%_integration_httpstub_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(ZLIB_CFLAGS)
%C%_integration_httpstub_LDADD = $(FP_CORE_LIBS)

TESTS += %D%/integration/influx_roundtrip.sh %D%/integration/daemon.sh %D%/integration/cli.sh \
	%D%/integration/influx_output.sh %D%/integration/modbus.sh %D%/integration/profiles.sh %D%/integration/mqtt.sh \
	%D%/integration/influx_multi.sh %D%/integration/mqtt_auth.sh %D%/integration/mqtt_states.sh %D%/integration/systemd.sh \
	%D%/integration/energy.sh %D%/integration/energy_mqtt.sh %D%/integration/lifecycle.sh %D%/integration/lifecycle_foreign.sh \
	%D%/integration/dashboards.sh %D%/integration/deb.sh %D%/integration/backpressure.sh \
	%D%/integration/windows.sh %D%/integration/orgreport.sh %D%/integration/vm.sh \
	%D%/integration/fleet.sh %D%/integration/dashboards_vm.sh %D%/integration/hostile_input.sh \
	%D%/integration/demo.sh %D%/integration/report_html.sh %D%/integration/output_hostile.sh \
	%D%/integration/snmp.sh %D%/integration/snmp_v3.sh %D%/integration/snmp_hostile.sh \
	%D%/integration/snmp_profiles.sh %D%/integration/mqtt_limits.sh %D%/integration/mqtt_redeliver.sh \
	%D%/integration/mqtt_overload.sh
EXTRA_DIST += %D%/integration/influx_roundtrip.sh %D%/integration/daemon.sh %D%/integration/cli.sh \
	%D%/integration/influx_output.sh %D%/integration/modbus.sh %D%/integration/profiles.sh %D%/integration/mqtt.sh \
	%D%/integration/influx_multi.sh %D%/integration/mqtt_auth.sh %D%/integration/mqtt_states.sh %D%/integration/systemd.sh \
	%D%/integration/energy.sh %D%/integration/energy_mqtt.sh %D%/integration/lifecycle.sh %D%/integration/lifecycle_foreign.sh \
	%D%/integration/dashboards.sh %D%/integration/deb.sh %D%/integration/backpressure.sh \
	%D%/integration/windows.sh %D%/integration/orgreport.sh %D%/integration/vm.sh \
	%D%/integration/fleet.sh %D%/integration/dashboards_vm.sh %D%/integration/hostile_input.sh \
	%D%/integration/demo.sh %D%/integration/report_html.sh %D%/integration/output_hostile.sh \
	%D%/integration/snmp.sh %D%/integration/snmp_v3.sh %D%/integration/snmp_hostile.sh \
	%D%/integration/snmp_profiles.sh %D%/data/snmp/wrongtype.snmprec %D%/data/snmp/raritan.snmprec \
	%D%/data/snmp/sentry4.snmprec %D%/data/snmp/entity.snmprec \
	%D%/integration/mqtt_limits.sh %D%/integration/mqtt_redeliver.sh %D%/integration/mqtt_overload.sh \
	%D%/data/snmp/ups.snmprec %D%/data/snmp/pdu.snmprec %D%/data/snmp/router-a.snmprec \
	%D%/data/snmp/slow.snmprec \
	%D%/data/mqtt/tasmota.txt \
	%D%/data/mqtt/shelly-gen1.txt \
	%D%/data/mqtt/shelly-gen2.txt \
	%D%/data/meters/eastron-sdm630.csv %D%/data/meters/eastron-sdm120.csv \
	%D%/integration/lib.sh %D%/integration/dashboard-lint.jq
