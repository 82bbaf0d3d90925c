package grafana

import (
	"maps"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

type variantsDataquery = variants.Dataquery

// fieldsOf holds the field-config setters every panel builder has; the
// builders share no interface, so each panel kind passes its own.
type fieldsOf struct {
	unit       func(string) any
	decimals   func(float64) any
	min, max   func(float64) any
	noValue    func(string) any
	thresholds func(cog.Builder[dashboard.ThresholdsConfig]) any
	color      func(cog.Builder[dashboard.FieldColor]) any
	mappings   func([]dashboard.ValueMapping) any
	byRegexp   func(string, []dashboard.DynamicConfigValue) any
	byName     func(string, []dashboard.DynamicConfigValue) any
}

// setters adapts a builder's typed methods (which return the builder) to
// fieldsOf's.
func setters[B any](unit func(string) B, decimals, min, max func(float64) B, noValue func(string) B,
	thresholds func(cog.Builder[dashboard.ThresholdsConfig]) B, color func(cog.Builder[dashboard.FieldColor]) B,
	mappings func([]dashboard.ValueMapping) B, byRegexp, byName func(string, []dashboard.DynamicConfigValue) B) fieldsOf {
	return fieldsOf{
		unit:       func(v string) any { return unit(v) },
		decimals:   func(v float64) any { return decimals(v) },
		min:        func(v float64) any { return min(v) },
		max:        func(v float64) any { return max(v) },
		noValue:    func(v string) any { return noValue(v) },
		thresholds: func(v cog.Builder[dashboard.ThresholdsConfig]) any { return thresholds(v) },
		color:      func(v cog.Builder[dashboard.FieldColor]) any { return color(v) },
		mappings:   func(v []dashboard.ValueMapping) any { return mappings(v) },
		byRegexp:   func(r string, v []dashboard.DynamicConfigValue) any { return byRegexp(r, v) },
		byName:     func(r string, v []dashboard.DynamicConfigValue) any { return byName(r, v) },
	}
}

// fields applies the panel's field config.
func (p panel) fields(s fieldsOf) {
	if p.unit != "" {
		s.unit(p.unit)
	}
	if p.decimals != nil {
		s.decimals(*p.decimals)
	}
	if p.min != nil {
		s.min(*p.min)
	}
	if p.max != nil {
		s.max(*p.max)
	}
	if p.noValue != "" {
		s.noValue(p.noValue)
	}
	if len(p.steps) > 0 {
		steps := make([]dashboard.Threshold, len(p.steps))
		for i, st := range p.steps {
			steps[i] = dashboard.Threshold{Color: st.color, Value: st.value}
		}
		s.thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps))
	}
	switch {
	case p.fixedColor != "":
		s.color(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdFixed).FixedColor(p.fixedColor))
	case p.palette:
		s.color(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdPaletteClassic))
	}
	if len(p.mappings) > 0 {
		opts := map[string]dashboard.ValueMappingResult{}
		i := int32(0)
		for _, k := range sortedKeys(p.mappings) {
			v := p.mappings[k]
			opts[k] = dashboard.ValueMappingResult{Text: cog.ToPtr(v[0]), Color: cog.ToPtr(v[1]), Index: cog.ToPtr(i)}
			i++
		}
		s.mappings([]dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}})
	}
	for _, o := range p.overrides {
		if o.name != "" {
			s.byName(o.name, o.props)
		} else {
			s.byRegexp(o.regexp, o.props)
		}
	}
}

// targetsOf adds the panel's queries, refIds A, B, C, ... in order.
func (p panel) targetsOf(add func(cog.Builder[variantsDataquery])) {
	for i, t := range p.targets {
		q := prometheus.NewDataqueryBuilder().Datasource(ds).RefId(string(rune('A' + i))).
			Expr(t.expr).LegendFormat(t.legend).EditorMode(prometheus.QueryEditorModeCode)
		if t.instant {
			q.Instant()
		} else {
			q.Range()
		}
		if t.table {
			q.Format(prometheus.PromQueryFormatTable)
		}
		add(q)
	}
}

// prop is one override property.
func prop(id string, value any) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: id, Value: value}
}

func sortedKeys(m map[string][2]string) []string {
	return slices.Sorted(maps.Keys(m))
}
