# Benchmarks: built on demand (make bench/bench_core), run by bench/output.
EXTRA_PROGRAMS = %D%/bench_core %D%/floor %D%/udprelay %D%/mqflood
%C%_bench_core_SOURCES = %D%/bench_core.c
%C%_bench_core_LDADD = $(FP_CORE_LIBS)
# the same libraries as footprintd, for bench/run's memory floor
%C%_floor_SOURCES = %D%/floor.c
%C%_floor_LDADD = $(FP_CORE_LIBS)
%C%_floor_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(CURL_CFLAGS) $(ZLIB_CFLAGS) $(MODBUS_CFLAGS) $(MOSQUITTO_CFLAGS) $(JSONC_CFLAGS) $(SQLITE_CFLAGS) $(SYSTEMD_CFLAGS)
# a counting UDP relay, for bench/snmp
%C%_udprelay_SOURCES = %D%/udprelay.c
# bench/capacity's MQTT publisher
%C%_mqflood_SOURCES = %D%/mqflood.c
%C%_mqflood_CFLAGS = $(AM_CFLAGS) $(MOSQUITTO_CFLAGS)
%C%_mqflood_LDADD = $(MOSQUITTO_LIBS)
CLEANFILES += $(EXTRA_PROGRAMS)
EXTRA_DIST += %D%/output %D%/capacity
