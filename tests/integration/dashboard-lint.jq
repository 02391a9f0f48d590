# dashboard-lint.jq - the structure of a Grafana dashboard (schema 36+):
# one line per problem, nothing when sound.  Arguments: $ds, the
# datasource uid every panel and variable uses; $type, its type
# ("influxdb": raw InfluxQL targets; "prometheus": MetricsQL/PromQL
# targets, instant or range, and a description on every panel).
def panels: .panels[]? | ., (.panels[]?);
def qpanels: panels | select(.type != "row");
def qkey: if $type == "influxdb" then "query" else "expr" end;
def builtins:
	if $type == "influxdb" then ["timeFilter", "__interval", "interval", "__interval_ms"]
	else ["__range", "__range_s", "__range_ms", "__interval", "__interval_ms", "__rate_interval"] end;
def used: [(qpanels | .targets[]?[qkey] // empty), (.templating.list[]?.query | strings)]
	| map([scan("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)|\\[\\[([A-Za-z_][A-Za-z0-9_]*)\\]\\]")[] | strings])
	| add // [] | unique;
(if (.uid | type) != "string" or (.uid | length) == 0 or (.uid | length) > 40 then "no uid (or longer than 40)" else empty end),
(if (.title | type) != "string" then "no title" else empty end),
(if (.schemaVersion // 0) < 36 then "schemaVersion \(.schemaVersion) < 36 (Grafana 9.0)" else empty end),
(if (.time.from | type) != "string" then "no default time range" else empty end),
([panels | .id] | group_by(.) | map(select(length > 1)) | .[] | "panel id \(.[0]) used more than once"),
(panels | select((.id | type) != "number") | "panel \(.title): no id"),
(panels | select((.gridPos | (.x, .y, .w, .h) | type) != "number"
	or .gridPos.x < 0 or .gridPos.w < 1 or .gridPos.h < 1 or .gridPos.x + .gridPos.w > 24)
	| "panel \(.title): gridPos missing or outside the 24 columns"),
([panels | {t: .title, x: .gridPos.x, y: .gridPos.y, w: .gridPos.w, h: .gridPos.h}] as $g |
	range(0; $g | length) as $i | range($i + 1; $g | length) as $j | $g[$i] as $a | $g[$j] as $b |
	select($a.x < $b.x + $b.w and $b.x < $a.x + $a.w and $a.y < $b.y + $b.h and $b.y < $a.y + $a.h) |
	"panels \($a.t) and \($b.t) overlap"),
(qpanels | select(.datasource.uid != $ds or .datasource.type != $type)
	| "panel \(.title): datasource is not uid \($ds)"),
(if $type == "prometheus" then
	qpanels | select((.description | type) != "string" or (.description | length) < 40)
	| "panel \(.title): no description"
else empty end),
(qpanels | select((.targets | length) == 0) | "panel \(.title): no query"),
(if $type == "influxdb" then
	qpanels | .title as $t | .targets[] | select(.datasource.uid != $ds or .rawQuery != true
		or .resultFormat == null or (.query | type) != "string")
	| "panel \($t): target \(.refId) is not a raw InfluxQL query on \($ds)"
else
	qpanels | .title as $t | .targets[] | select(.datasource.uid != $ds or (.expr | type) != "string"
		or (.expr | length) == 0 or (.instant != true and .range != true))
	| "panel \($t): target \(.refId) is not an instant or range query on \($ds)"
end),
(qpanels | select((.fieldConfig.defaults.unit | type) != "string" or (.fieldConfig.defaults.unit | length) == 0)
	| "panel \(.title): no unit"),
(qpanels | select((.fieldConfig.defaults.thresholds.steps | length) < 1)
	| "panel \(.title): no thresholds"),
(.templating.list[]? | select(.type == "query") | select(.datasource.uid != $ds)
	| "variable \(.name): datasource is not uid \($ds)"),
([.templating.list[]?.name] as $vars | used[]
	| select(. as $v | builtins + $vars | index($v) | not)
	| "variable $\(.) is used but not defined")
