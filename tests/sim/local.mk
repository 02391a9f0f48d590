# The Modbus simulator: tests, demo and benchmarks.
check_PROGRAMS += %D%/fpsim
%C%_fpsim_SOURCES = %D%/fpsim.c
%C%_fpsim_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(MODBUS_CFLAGS)
%C%_fpsim_LDADD = $(FP_CORE_LIBS)
