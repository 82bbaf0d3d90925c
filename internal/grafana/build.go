// Package grafana builds leakwatch's Grafana dashboard with Grafana's own
// typed SDK (github.com/grafana/grafana-foundation-sdk/go), so that the
// dashboard follows Grafana's schema. dashboards/cms-webbridge-leaks.json is
// its output: edit panels.go and run `go run ./cmd/dashgen`; a test fails
// when the committed file differs from what the generator writes.
package grafana

//lint:file-ignore SA1019 the SDK deprecates the v1 dashboard model for v2, which Grafana 11 (docker-compose.yml pins 11.2) cannot provision

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// File is the dashboard's path in the repository.
const File = "dashboards/cms-webbridge-leaks.json"

// ds is every query's datasource: the dashboard's datasource variable.
var ds = dashboard.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// sel is the instance filter every selector carries.
const sel = `{instance=~"$instance"}`

// JSON returns the dashboard as committed: indented, with a final newline.
func JSON() ([]byte, error) {
	d, err := Build()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encoding the dashboard: %w", err)
	}
	return buf.Bytes(), nil
}

// Build returns the dashboard.
func Build() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("CMS Web Bridge 2 session leaks").
		Uid("cms-webbridge-leaks").
		Description("Cisco Meeting Server Web Bridge 2 session leak (CSCvt73723): sessions against the limit, the proven leak, the forecast, restarts and leakwatch's own health.").
		Tags([]string{"cisco-meeting-server", "leakwatch", "webbridge"}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("1m").
		Time("now-7d", "now").
		Timezone("browser").
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Datasource").Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("instance").Label("leakwatch").
			Datasource(ds).
			Query(dashboard.StringOrMap{String: cog.ToPtr("label_values(leakwatch_build_info, instance)")}).
			Definition("label_values(leakwatch_build_info, instance)").
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).IncludeAll(true).AllValue(".+")).
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("Annotations & Alerts").BuiltIn(1).Type("dashboard").
			Datasource(dashboard.DataSourceRef{Type: cog.ToPtr("grafana"), Uid: cog.ToPtr("-- Grafana --")}).
			Enable(true).Hide(true).IconColor("rgba(0, 211, 255, 1)")).
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("Web Bridge restarts").
			Datasource(ds).Enable(true).Hide(false).IconColor("orange").
			Expr(`sum by (webbridge, result) (changes(leakwatch_restarts_total` + sel + `[2m])) > 0`).
			Step("1m").
			TitleFormat("Restart of {{webbridge}}: {{result}}").
			TextFormat("leakwatch restarted Web Bridge {{webbridge}} ({{result}})").
			TagKeys("webbridge,result").
			UseValueForTime(false))
	for _, p := range panels() {
		switch {
		case p.row:
			b.WithRow(dashboard.NewRowBuilder(p.title).Id(p.id).Collapsed(false).GridPos(p.grid))
		default:
			b.WithPanel(p.build())
		}
	}
	return b.Build()
}

// target is one PromQL query of a panel.
type target struct {
	expr, legend string
	instant      bool
	table        bool // format table (one row per series)
}

// step is one threshold: color from value on (nil: from minus infinity).
type step struct {
	color string
	value *float64
}

// override sets properties on the fields a regexp or name matches.
type override struct {
	regexp, name string
	props        []dashboard.DynamicConfigValue
}

// panel is one panel's description; build turns it into the SDK's.
type panel struct {
	row         bool
	kind        string // stat, timeseries, bargauge, table
	id          uint32
	title, desc string
	grid        dashboard.GridPos
	targets     []target

	unit            string
	decimals        *float64
	min, max        *float64
	noValue         string
	steps           []step
	mappings        map[string][2]string // value: text, color
	fixedColor      string
	palette         bool
	overrides       []override
	textMode        string // stat
	orientation     string // stat, bargauge
	lineWidth, fill float64
	interp          string
	thresholdsStyle string
	legendCalcs     []string
	legendList      bool
	barsOnly        bool // timeseries drawn as bars
	tableAlign      string
}

func f(v float64) *float64 { return &v }

func (p panel) build() cog.Builder[dashboard.Panel] {
	switch p.kind {
	case "stat":
		b := stat.NewPanelBuilder().Id(p.id).Title(p.title).Description(p.desc).Datasource(ds).GridPos(p.grid).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Values(false).Calcs([]string{"lastNotNull"}).Fields("")).
			Orientation(common.VizOrientation(or(p.orientation, "auto"))).
			TextMode(common.BigValueTextMode(or(p.textMode, "value"))).
			ColorMode(common.BigValueColorModeBackground).GraphMode(common.BigValueGraphModeNone).
			JustifyMode(common.BigValueJustifyModeAuto).WideLayout(true).ShowPercentChange(false)
		p.targetsOf(func(t cog.Builder[variantsDataquery]) { b.WithTarget(t) })
		p.fields(setters(b.Unit, b.Decimals, b.Min, b.Max, b.NoValue, b.Thresholds, b.ColorScheme, b.Mappings, b.OverrideByRegexp, b.OverrideByName))
		return b
	case "bargauge":
		b := bargauge.NewPanelBuilder().Id(p.id).Title(p.title).Description(p.desc).Datasource(ds).GridPos(p.grid).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Values(false).Calcs([]string{"lastNotNull"}).Fields("")).
			Orientation(common.VizOrientationHorizontal).DisplayMode(common.BarGaugeDisplayModeGradient).
			ShowUnfilled(true).ValueMode(common.BarGaugeValueModeColor).NamePlacement(common.BarGaugeNamePlacementAuto).
			Sizing(common.BarGaugeSizingAuto).MinVizHeight(16).MinVizWidth(8).MaxVizHeight(300)
		p.targetsOf(func(t cog.Builder[variantsDataquery]) { b.WithTarget(t) })
		p.fields(setters(b.Unit, b.Decimals, b.Min, b.Max, b.NoValue, b.Thresholds, b.ColorScheme, b.Mappings, b.OverrideByRegexp, b.OverrideByName))
		return b
	case "table":
		b := table.NewPanelBuilder().Id(p.id).Title(p.title).Description(p.desc).Datasource(ds).GridPos(p.grid).
			ShowHeader(true).CellHeight(common.TableCellHeightSm).
			Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}).CountRows(false)).
			Align(common.FieldTextAlignment(or(p.tableAlign, "auto"))).
			CellOptions(common.TableCellOptions{TableAutoCellOptions: &common.TableAutoCellOptions{Type: "auto"}})
		p.targetsOf(func(t cog.Builder[variantsDataquery]) { b.WithTarget(t) })
		p.fields(setters(b.Unit, b.Decimals, b.Min, b.Max, b.NoValue, b.Thresholds, b.ColorScheme, b.Mappings, b.OverrideByRegexp, b.OverrideByName))
		return b
	}
	b := timeseries.NewPanelBuilder().Id(p.id).Title(p.title).Description(p.desc).Datasource(ds).GridPos(p.grid).
		DrawStyle(common.GraphDrawStyleLine).LineWidth(p.lineWidth).FillOpacity(p.fill).
		ShowPoints(common.VisibilityModeNever).SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(false)}).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	if p.barsOnly {
		b.DrawStyle(common.GraphDrawStyleBars)
	}
	if p.interp != "" {
		b.LineInterpolation(common.LineInterpolation(p.interp))
	}
	if p.thresholdsStyle != "" {
		b.ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleMode(p.thresholdsStyle)))
	}
	legend := common.NewVizLegendOptionsBuilder().ShowLegend(true).Placement(common.LegendPlacementRight).
		DisplayMode(common.LegendDisplayModeTable).Calcs(p.legendCalcs)
	if p.legendList {
		legend.DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)
	}
	b.Legend(legend)
	p.targetsOf(func(t cog.Builder[variantsDataquery]) { b.WithTarget(t) })
	p.fields(setters(b.Unit, b.Decimals, b.Min, b.Max, b.NoValue, b.Thresholds, b.ColorScheme, b.Mappings, b.OverrideByRegexp, b.OverrideByName))
	return b
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
