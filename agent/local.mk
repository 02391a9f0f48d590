# The runtime: an internal library (libfpcore.a) that footprintd, the
# footprint CLI and the tests link.  outputs/, indicators/ and
# collectors/*/ add their sources to it through their own local.mk.
noinst_LIBRARIES += libfpcore.a
libfpcore_a_SOURCES = \
	%D%/agent.c %D%/agent.h \
	%D%/collector.h %D%/plugins.c \
	%D%/cfg.c %D%/cfg.h \
	%D%/conf.c %D%/conf.h \
	%D%/csv.c %D%/csv.h \
	%D%/lineproto.c %D%/lineproto.h \
	%D%/log.c %D%/log.h \
	%D%/notify.c %D%/notify.h \
	%D%/output.c %D%/output.h \
	%D%/point.c %D%/point.h \
	%D%/queue.c %D%/queue.h \
	%D%/sched.c %D%/sched.h \
	%D%/util.c %D%/util.h
libfpcore_a_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(CURL_CFLAGS) $(ZLIB_CFLAGS) $(MODBUS_CFLAGS) $(MOSQUITTO_CFLAGS) $(NETSNMP_CFLAGS) $(JSONC_CFLAGS) $(SQLITE_CFLAGS) $(SYSTEMD_CFLAGS)

FP_CORE_LIBS = libfpcore.a $(LIBCONFIG_LIBS) $(CURL_LIBS) $(ZLIB_LIBS) $(MODBUS_LIBS) $(MOSQUITTO_LIBS) $(NETSNMP_LIBS) $(JSONC_LIBS) $(SQLITE_LIBS) $(SYSTEMD_LIBS) -lm

sbin_PROGRAMS += footprintd
footprintd_SOURCES = %D%/main.c
footprintd_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
footprintd_LDADD = $(FP_CORE_LIBS)
