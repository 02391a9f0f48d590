# Grafana: the dashboards, and the files of Grafana's file provisioning (the
# datasources, InfluxDB and VictoriaMetrics, and a dashboard provider) that
# point Grafana at them.  The provider names the installed dashboards
# folder, so it is generated with the configured datadir.
fpdashboardsdir = $(datadir)/footprint/dashboards
dist_fpdashboards_DATA = %D%/footprint-site-energy.json %D%/footprint-telecom.json \
	%D%/footprint-fleet.json %D%/footprint-agent.json %D%/footprint-lifecycle.json \
	%D%/footprint-fleet-prometheus.json

fpgrafanadir = $(datadir)/footprint/grafana
dist_fpgrafana_DATA = %D%/provisioning/footprint.env
fpgrafanadsdir = $(fpgrafanadir)/provisioning/datasources
dist_fpgrafanads_DATA = %D%/provisioning/datasources/footprint.yaml \
	%D%/provisioning/datasources/footprint-vm.yaml
fpgrafanaprovdir = $(fpgrafanadir)/provisioning/dashboards
fpgrafanaprov_DATA = %D%/provisioning/dashboards/footprint.yaml
CLEANFILES += %D%/provisioning/dashboards/footprint.yaml
EXTRA_DIST += %D%/provisioning/dashboards/footprint.yaml.in

%D%/provisioning/dashboards/footprint.yaml: %D%/provisioning/dashboards/footprint.yaml.in Makefile
	$(AM_V_GEN)$(MKDIR_P) %D%/provisioning/dashboards && \
	sed -e 's|@fpdashboardsdir[@]|$(fpdashboardsdir)|g' \
		$(srcdir)/%D%/provisioning/dashboards/footprint.yaml.in > $@
