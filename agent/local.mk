# The core: an internal library linked by footprintd, footprint and the tests.
noinst_LIBRARIES += %D%/libfpcore.a
%C%_libfpcore_a_SOURCES = \
	%D%/agent.c %D%/agent.h \
	%D%/collector.c %D%/collector.h \
	%D%/conf.c %D%/conf.h \
	%D%/csv.c %D%/csv.h \
	%D%/ewaste.c %D%/ewaste.h \
	%D%/inventory.c %D%/inventory.h \
	%D%/energy.c %D%/energy.h \
	%D%/indicators.c %D%/indicators_conf.c %D%/indicators.h %D%/roles.c %D%/roles.h \
	%D%/ledger.c %D%/ledger.h \
	%D%/lineproto.c %D%/lineproto.h \
	%D%/log.c %D%/log.h \
	%D%/notify.c %D%/notify.h \
	%D%/output.c %D%/output.h %D%/output_file.c %D%/output_influx.c \
	%D%/spool.c %D%/spool.h \
	%D%/point.c %D%/point.h \
	%D%/queue.c %D%/queue.h \
	%D%/report.c %D%/report.h \
	%D%/sched.c %D%/sched.h \
	%D%/util.c %D%/util.h
%C%_libfpcore_a_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(CURL_CFLAGS) $(ZLIB_CFLAGS) $(MODBUS_CFLAGS) $(MOSQUITTO_CFLAGS) $(JSONC_CFLAGS) $(SQLITE_CFLAGS) $(SYSTEMD_CFLAGS)

FP_CORE_LIBS = %D%/libfpcore.a $(LIBCONFIG_LIBS) $(CURL_LIBS) $(ZLIB_LIBS) $(MODBUS_LIBS) $(MOSQUITTO_LIBS) $(JSONC_LIBS) $(SQLITE_LIBS) $(SYSTEMD_LIBS) -lm

sbin_PROGRAMS += footprintd
footprintd_SOURCES = %D%/main.c
footprintd_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
footprintd_LDADD = $(FP_CORE_LIBS)

bin_PROGRAMS += footprint
footprint_SOURCES = %D%/cli.c
footprint_LDADD = $(FP_CORE_LIBS)
