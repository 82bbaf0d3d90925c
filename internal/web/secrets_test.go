package web

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/status"
)

// secretWords match names of fields that would hold a credential.
var secretWords = regexp.MustCompile(`(?i)password|passwd|secret|token|passphrase|privatekey|credential`)

// walkFields calls f with the path of every struct field reachable from t
// (through pointers, slices, arrays and maps).
func walkFields(t reflect.Type, path string, seen map[reflect.Type]bool, f func(path string, sf reflect.StructField)) {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		walkFields(t.Elem(), path, seen, f)
	case reflect.Map:
		walkFields(t.Key(), path, seen, f)
		walkFields(t.Elem(), path, seen, f)
	case reflect.Struct:
		if seen[t] || t == reflect.TypeFor[time.Time]() {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			sf := t.Field(i)
			f(path+"."+sf.Name, sf)
			walkFields(sf.Type, path+"."+sf.Name, seen, f)
		}
	}
}

// jsonNames returns every JSON field name of v's type, recursively.
func jsonNames(t *testing.T, v any) []string {
	t.Helper()
	var names []string
	walkFields(reflect.TypeOf(v), "", map[reflect.Type]bool{}, func(_ string, sf reflect.StructField) {
		tag := sf.Tag.Get("json")
		if tag == "" || tag == "-" {
			t.Errorf("field %s has no JSON name", sf.Name)
			return
		}
		names = append(names, strings.Split(tag, ",")[0])
	})
	return names
}

// TestStateHasNoSecretField keeps status.State free of credentials: the
// page and the API render it, so a password field added to it (or to
// anything it contains) would be one step from being served.
func TestStateHasNoSecretField(t *testing.T) {
	for _, v := range []any{status.State{}, apiStatus{}, page{}} {
		walkFields(reflect.TypeOf(v), reflect.TypeOf(v).Name(), map[reflect.Type]bool{}, func(path string, sf reflect.StructField) {
			if secretWords.MatchString(sf.Name) {
				t.Errorf("%s looks like a secret; status must never carry one", path)
			}
		})
	}
}

// TestNoSecretServed renders every endpoint on an ordinary State and looks
// for secret-looking words in what is served.
func TestNoSecretServed(t *testing.T) {
	st := realistic()
	path := writeAudit(t, nil)
	h := newTestHandler(t, st, path)
	for _, target := range []string{"/", "/api/v1/status", "/metrics", "/-/ready", "/-/healthy"} {
		_, body := do(t, h, "GET", target)
		if m := secretWords.FindString(body); m != "" {
			t.Errorf("%s serves %q", target, m)
		}
	}
}
