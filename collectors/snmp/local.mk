# The SNMP collector (net-snmp), compiled into the core library.
libfpcore_a_SOURCES += \
	%D%/sn_collector.c %D%/sn_collector.h \
	%D%/sn_config.c %D%/sn_config.h \
	%D%/sn_decode.c %D%/sn_decode.h
