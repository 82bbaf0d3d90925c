package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix prefixes the environment variables that set keys:
// LEAKWATCH_POLICY_MODE sets policy.mode.
const EnvPrefix = "LEAKWATCH"

// FieldError is a problem with one key. Line is 0 when the key did not come
// from the file (a default, a variable or a flag).
type FieldError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *FieldError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	case e.File != "":
		return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Key, e.Msg)
}

// Errors is every problem found in one config, in file order.
type Errors []*FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// FlagKeys maps command-line flags to the keys they set. Commands register
// the flags they offer; Load binds those that are present.
var FlagKeys = map[string]string{
	"web.listen-address": "web.listen_address",
	"web.systemd-socket": "web.systemd_socket",
	"web.telemetry-path": "web.telemetry_path",
	"web.config.file":    "web.config_file",
	"log.level":          "log.level",
	"log.format":         "log.format",
	"state-dir":          "state_dir",
	"mode":               "policy.mode",
}

// Default returns the configuration with every default and nothing else.
func Default() *Config {
	c, err := Load("", nil)
	if err != nil {
		panic("config: defaults do not validate: " + err.Error())
	}
	return c
}

// Load reads file (if not ""), the environment and flags (if not nil), and
// returns the validated configuration. Its error names the file, the line
// and the key of every problem found.
func Load(file string, flags *pflag.FlagSet) (*Config, error) {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if flags != nil {
		for flag, key := range FlagKeys {
			if f := flags.Lookup(flag); f != nil {
				if err := v.BindPFlag(key, f); err != nil {
					return nil, fmt.Errorf("binding flag --%s: %w", flag, err)
				}
			}
		}
	}

	// The file is parsed once, into a node tree: it gives the line of every
	// key, and the values viper layers under the environment and flags.
	var root *yaml.Node
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading config: %w", err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(doc.Content) > 0 {
			root = doc.Content[0]
			if root.Kind != yaml.MappingNode {
				return nil, &FieldError{File: file, Line: root.Line, Key: "(top)", Msg: "the config must be a mapping of keys"}
			}
			var errs Errors
			unknownKeys(root, reflect.TypeOf(Config{}), "", file, &errs)
			if len(errs) > 0 {
				return nil, errs
			}
			var values map[string]any
			if err := root.Decode(&values); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			if err := v.MergeConfigMap(values); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
		}
	}

	var c Config
	var errs Errors
	decodeConfig(v, reflect.ValueOf(&c).Elem(), "", &errs)
	if len(errs) == 0 {
		errs = c.validate()
	}
	if len(errs) > 0 {
		for _, e := range errs {
			e.File = file
			if root != nil {
				e.Line = lineOf(root, e.Key)
			}
		}
		return nil, errs
	}
	c.File = file
	c.resolve()
	return &c, nil
}

// unknownKeys reports every key in the YAML mapping n that t (a struct with
// mapstructure tags) does not have, recursing into structs and lists of
// structs.
func unknownKeys(n *yaml.Node, t reflect.Type, path, file string, errs *Errors) {
	if n.Kind != yaml.MappingNode {
		return
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("mapstructure")
		if tag != "" && tag != "-" {
			fields[tag] = t.Field(i).Type
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := joinKey(path, k.Value)
		ft, ok := fields[strings.ToLower(k.Value)]
		if !ok {
			*errs = append(*errs, &FieldError{File: file, Line: k.Line, Key: key,
				Msg: "unknown key (allowed here: " + strings.Join(sortedKeys(fields), ", ") + ")"})
			continue
		}
		switch {
		case ft.Kind() == reflect.Struct && ft.String() != "time.Duration":
			unknownKeys(val, ft, key, file, errs)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && val.Kind == yaml.SequenceNode:
			for j, item := range val.Content {
				unknownKeys(item, ft.Elem(), key+"["+strconv.Itoa(j)+"]", file, errs)
			}
		}
	}
}

func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys(m map[string]reflect.Type) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lineOf finds the line of key (e.g. "inventory.webbridges[1].mmp.address")
// in the YAML tree, or the line of its nearest present parent; 0 if none.
func lineOf(root *yaml.Node, key string) int {
	n, line := root, 0
	for _, part := range strings.Split(key, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			if j, err := strconv.Atoi(part[i+1 : len(part)-1]); err == nil {
				idx = j
			}
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if strings.EqualFold(n.Content[i].Value, name) {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// IsConfigError reports whether err is a config problem (as opposed to, say,
// a file that cannot be read).
func IsConfigError(err error) bool {
	var fe *FieldError
	var es Errors
	return errors.As(err, &fe) || errors.As(err, &es)
}
