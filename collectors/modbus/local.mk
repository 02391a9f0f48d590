# The Modbus collector (libmodbus), compiled into the core library.
libfpcore_a_SOURCES += \
	%D%/mb_collector.c %D%/mb_collector.h \
	%D%/mb_config.c %D%/mb_config.h \
	%D%/mb_decode.c %D%/mb_decode.h \
	%D%/mb_sunspec.c %D%/mb_sunspec.h
