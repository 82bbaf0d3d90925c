package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// The decoder fills a Config from viper's layered values, one key at a
// time. viper layers the file, LEAKWATCH_* variables and flags; the
// decoder converts each value to its field's type itself, so that an error
// names the key and says what was expected in leakwatch's own words, never
// by picking apart another library's message.
//
// Struct fields are named by their `mapstructure` tag, the convention viper
// users know; a tag of "-" or none leaves the field alone.

var durationType = reflect.TypeFor[time.Duration]()

// decodeConfig fills the struct rv from v: each leaf key is looked up in
// v, so a variable or flag set for it wins over the file.
func decodeConfig(v *viper.Viper, rv reflect.Value, prefix string, errs *Errors) {
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := fieldKey(t.Field(i))
		if tag == "" {
			continue
		}
		key := joinKey(prefix, tag)
		f := rv.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != durationType {
			decodeConfig(v, f, key, errs)
			continue
		}
		if err := decodeValue(f, key, v.Get(key)); err != nil {
			*errs = append(*errs, err)
		}
	}
}

// fieldKey returns the key that names field f, or "" if it has none.
func fieldKey(f reflect.StructField) string {
	tag := f.Tag.Get("mapstructure")
	if tag == "-" {
		return ""
	}
	return tag
}

// decodeValue stores raw, a value from YAML, the environment or a flag, in
// dst. nil leaves dst as it is.
func decodeValue(dst reflect.Value, key string, raw any) *FieldError {
	if raw == nil {
		return nil
	}
	bad := func(want string) *FieldError {
		return &FieldError{Key: key, Msg: describe(raw) + " is not " + want}
	}
	if dst.Type() == durationType {
		d, ok := toDuration(raw)
		if !ok {
			return bad("a duration (write e.g. 30s, 5m or 12h)")
		}
		dst.SetInt(int64(d))
		return nil
	}
	switch dst.Kind() {
	case reflect.String:
		s, ok := toString(raw)
		if !ok {
			return bad("a single value")
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := toBool(raw)
		if !ok {
			return bad("true or false")
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := toInt(raw)
		if !ok || dst.OverflowInt(n) {
			return bad("a whole number")
		}
		dst.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := toInt(raw)
		if !ok || n < 0 || dst.OverflowUint(uint64(n)) {
			return bad("a whole number, 0 or more")
		}
		dst.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		x, ok := toFloat(raw)
		if !ok {
			return bad("a number")
		}
		dst.SetFloat(x)
	case reflect.Slice:
		return decodeSlice(dst, key, raw)
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok || dst.Type().Key().Kind() != reflect.String {
			return bad("a mapping of keys")
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for k, val := range m {
			elem := reflect.New(dst.Type().Elem()).Elem()
			if err := decodeValue(elem, joinKey(key, k), val); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), elem)
		}
		dst.Set(out)
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return bad("a mapping of keys")
		}
		return decodeMap(dst, key, m)
	case reflect.Pointer:
		elem := reflect.New(dst.Type().Elem())
		if err := decodeValue(elem.Elem(), key, raw); err != nil {
			return err
		}
		dst.Set(elem)
	default:
		return &FieldError{Key: key, Msg: "leakwatch cannot decode a " + dst.Type().String()}
	}
	return nil
}

// decodeSlice stores a list in dst. A string is a comma-separated list, as
// a LEAKWATCH_* variable gives one.
func decodeSlice(dst reflect.Value, key string, raw any) *FieldError {
	var items []any
	switch r := raw.(type) {
	case []any:
		items = r
	case []string:
		for _, s := range r {
			items = append(items, s)
		}
	case string:
		if r != "" {
			for _, s := range strings.Split(r, ",") {
				items = append(items, strings.TrimSpace(s))
			}
		}
	default:
		// One scalar, such as `listen_address: 1234`, is a list of one:
		// the element's own check then says what is wrong with it.
		if _, ok := toString(raw); !ok {
			return &FieldError{Key: key, Msg: describe(raw) + " is not a list"}
		}
		items = []any{raw}
	}
	out := reflect.MakeSlice(dst.Type(), len(items), len(items))
	for i, item := range items {
		if err := decodeValue(out.Index(i), key+"["+strconv.Itoa(i)+"]", item); err != nil {
			return err
		}
	}
	dst.Set(out)
	return nil
}

// decodeMap fills the struct dst from a mapping, such as one entry of a
// list in the file. Keys match field tags regardless of case, as viper
// folds them; unknown keys were reported from the YAML already.
func decodeMap(dst reflect.Value, key string, m map[string]any) *FieldError {
	t := dst.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := fieldKey(t.Field(i))
		if tag == "" {
			continue
		}
		for k, val := range m {
			if strings.EqualFold(k, tag) {
				if err := decodeValue(dst.Field(i), joinKey(key, tag), val); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func toString(raw any) (string, bool) {
	switch r := raw.(type) {
	case string:
		return r, true
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		// YAML reads `name: 2024` as a number; a name is still a string.
		return fmt.Sprint(r), true
	}
	return "", false
}

func toBool(raw any) (bool, bool) {
	switch r := raw.(type) {
	case bool:
		return r, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(r))
		return b, err == nil
	}
	return false, false
}

func toInt(raw any) (int64, bool) {
	switch r := raw.(type) {
	case int:
		return int64(r), true
	case int8:
		return int64(r), true
	case int16:
		return int64(r), true
	case int32:
		return int64(r), true
	case int64:
		return r, true
	case uint, uint8, uint16, uint32, uint64:
		u := reflect.ValueOf(r).Uint()
		return int64(u), u <= math.MaxInt64
	case float32, float64:
		f := reflect.ValueOf(r).Float()
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, false
		}
		return int64(f), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(r), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func toFloat(raw any) (float64, bool) {
	switch r := raw.(type) {
	case float64:
		return r, true
	case float32:
		return float64(r), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	if n, ok := toInt(raw); ok {
		return float64(n), true
	}
	return 0, false
}

// toDuration takes "30s"-style text. A bare 0 is also a duration: it means
// the same in every unit.
func toDuration(raw any) (time.Duration, bool) {
	if s, ok := raw.(string); ok {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		return d, err == nil
	}
	if n, ok := toInt(raw); ok && n == 0 {
		return 0, true
	}
	return 0, false
}

// describe shows a value as an operator wrote it, for an error.
func describe(raw any) string {
	switch r := raw.(type) {
	case string:
		return strconv.Quote(r)
	case []any, []string:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprint(raw)
}
