# Benchmarks: built on demand (make bench/bench_core), run by bench/output.
EXTRA_PROGRAMS = %D%/bench_core
%C%_bench_core_SOURCES = %D%/bench_core.c
%C%_bench_core_LDADD = $(FP_CORE_LIBS)
CLEANFILES += $(EXTRA_PROGRAMS)
EXTRA_DIST += %D%/output
