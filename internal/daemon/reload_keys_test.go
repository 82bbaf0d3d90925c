package daemon

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/config"
)

// appliedOnReload are the keys SIGHUP applies at once (README: "Changes to
// any key but the policy, SSH, MMP and log level settings need a
// restart"); every other key must be named by needsRestart when it changes.
var appliedOnReload = []string{"policy.", "ssh.", "log.level"}

// TestEveryKeyIsAppliedOrNamed changes each key of the configuration in
// turn. A key added to config.Config but forgotten in needsRestart would be
// neither applied on SIGHUP nor reported as needing a restart: the operator
// would believe a change took effect that did not.
func TestEveryKeyIsAppliedOrNamed(t *testing.T) {
	dir := t.TempDir()
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			tag := t.Field(i).Tag.Get("mapstructure")
			if tag == "" || tag == "-" {
				continue
			}
			key := tag
			if prefix != "" {
				key = prefix + "." + tag
			}
			ft := t.Field(i).Type
			if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Duration]() {
				walk(ft, key)
				continue
			}
			keys = append(keys, key)
		}
	}
	walk(reflect.TypeFor[config.Config](), "")
	if len(keys) < 40 {
		t.Fatalf("found only %d keys: the walk is broken", len(keys))
	}
	for _, key := range keys {
		applied := false
		for _, p := range appliedOnReload {
			applied = applied || strings.HasPrefix(key, p)
		}
		a, b := testConfig(dir), testConfig(dir)
		if !change(t, reflect.ValueOf(b).Elem(), strings.Split(key, ".")) {
			continue // a kind this test cannot change (none today)
		}
		got := needsRestart(a, b)
		switch {
		case applied && len(got) > 0:
			t.Errorf("%s is applied on SIGHUP, but needsRestart names %q", key, got)
		case !applied && len(got) == 0:
			t.Errorf("%s changed, yet needsRestart names nothing: SIGHUP would neither apply it nor say that it needs a restart", key)
		}
	}
}

// change alters the field at path in v, a struct, and reports whether it
// could.
func change(t *testing.T, v reflect.Value, path []string) bool {
	t.Helper()
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Tag.Get("mapstructure") != path[0] {
			continue
		}
		f := v.Field(i)
		if len(path) > 1 {
			return change(t, f, path[1:])
		}
		switch {
		case f.Type() == reflect.TypeFor[time.Duration]():
			f.SetInt(f.Int() + int64(time.Second))
		case f.Kind() == reflect.String:
			f.SetString(f.String() + "x")
		case f.Kind() == reflect.Bool:
			f.SetBool(!f.Bool())
		case f.CanInt():
			f.SetInt(f.Int() + 1)
		case f.CanFloat():
			f.SetFloat(f.Float() + 1)
		case f.Kind() == reflect.Slice:
			f.Set(reflect.Append(f, reflect.Zero(f.Type().Elem())))
		default:
			return false
		}
		return true
	}
	t.Fatalf("no field for %q", path[0])
	return false
}
