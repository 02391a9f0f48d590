# The documentation: README.md and docs/*.md, installed under $(docdir)
# with their layout kept, so that the README's links to docs/ work there.
nobase_dist_doc_DATA = README.md \
	%D%/benchmarks.md \
	%D%/configuration.md \
	%D%/dashboards.md \
	%D%/development.md \
	%D%/ewaste.md \
	%D%/indicators.md \
	%D%/internals.md \
	%D%/modbus.md \
	%D%/mqtt.md \
	%D%/outputs.md \
	%D%/reliability.md \
	%D%/report.md \
	%D%/running.md \
	%D%/schema.md \
	%D%/snmp.md \
	%D%/status.md
