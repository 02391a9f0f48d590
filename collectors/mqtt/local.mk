# The MQTT collector (libmosquitto, json-c), compiled into the core library.
libfpcore_a_SOURCES += \
	%D%/mq_collector.c %D%/mq_collector.h \
	%D%/mq_parse.c %D%/mq_parse.h \
	%D%/mq_loop.c %D%/mq_loop.h
