# footprint: the command line over the ledger and the inventory (report,
# assets).
bin_PROGRAMS += footprint
footprint_SOURCES = %D%/footprint.c
footprint_LDADD = $(FP_CORE_LIBS)
