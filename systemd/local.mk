# The systemd unit, generated with the install paths, and the example
# config installed as $(sysconfdir)/footprint/footprintd.conf (never over
# an existing one).
systemdsystemunit_DATA = %D%/footprintd.service
CLEANFILES += %D%/footprintd.service
# (footprintd.service.in is distributed from the top Makefile.am)

%D%/footprintd.service: %D%/footprintd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) %D% && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(srcdir)/%D%/footprintd.service.in > $@

fpconfdir = $(sysconfdir)/footprint
install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(fpconfdir)'
	test -f '$(DESTDIR)$(fpconfdir)/footprintd.conf' || \
		$(INSTALL_DATA) '$(srcdir)/examples/footprintd.conf' '$(DESTDIR)$(fpconfdir)/footprintd.conf'
uninstall-local:
	cmp -s '$(srcdir)/examples/footprintd.conf' '$(DESTDIR)$(fpconfdir)/footprintd.conf' && \
		rm -f '$(DESTDIR)$(fpconfdir)/footprintd.conf' || true
	-rmdir '$(DESTDIR)$(fpconfdir)' 2>/dev/null
