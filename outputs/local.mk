# The outputs: the file output, the InfluxDB output and its
# disk spool (libcurl, zlib), compiled into the core library.
libfpcore_a_SOURCES += \
	%D%/file.c %D%/file.h \
	%D%/influxdb.c %D%/influxdb_conf.c %D%/influxdb.h \
	%D%/spool.c %D%/spool.h
