# The indicators: meter roles, energy and carbon (the SQLite ledger), the
# asset inventory and e-waste, the annual report; compiled into the core
# library.
libfpcore_a_SOURCES += \
	%D%/energy.c %D%/energy.h \
	%D%/ewaste.c %D%/ewaste.h \
	%D%/indicators.c %D%/indicators_conf.c %D%/indicators.h \
	%D%/inventory.c %D%/inventory.h \
	%D%/ledger.c %D%/ledger.h \
	%D%/orgreport.c %D%/orgreport.h \
	%D%/report.c %D%/report.h \
	%D%/roles.c %D%/roles.h
