package config

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is a configuration problem: where it is (file, line, key) and what
// is wrong. Field technicians read these over SSH, so they say what to do.
type Error struct {
	File string
	Line int
	Key  string // dotted path, e.g. sensors[1].pins.a
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// decoder walks a YAML node tree into Go values, rejecting unknown and
// duplicate keys and recording the line of every key it sets, so that later
// validation errors can point at the line too.
type decoder struct {
	file  string
	lines map[string]int
}

var durationType = reflect.TypeFor[time.Duration]()

func (d *decoder) errAt(n *yaml.Node, key, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" {
		d.lines[path] = n.Line
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return d.errAt(n, path, "want a mapping of keys (key: value lines), got %s", describe(n))
		}
		fields := structFields(v.Type())
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			if seen[k.Value] {
				return d.errAt(k, kp, "key given twice")
			}
			seen[k.Value] = true
			idx, ok := fields[k.Value]
			if !ok {
				return d.errAt(k, kp, "unknown key (known here: %s)", strings.Join(sortedKeys(fields), ", "))
			}
			d.lines[kp] = k.Line
			if err := d.decode(val, v.Field(idx), kp); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if n.Tag == "!!null" {
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return d.errAt(n, path, "want a list (lines starting with '- '), got %s", describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			if err := d.decode(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if n.Tag == "!!null" {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return d.errAt(n, path, "want a mapping of keys, got %s", describe(n))
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			kp := join(path, k.Value)
			key := reflect.ValueOf(k.Value)
			if m.MapIndex(key).IsValid() {
				return d.errAt(k, kp, "key given twice")
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(val, ev, kp); err != nil {
				return err
			}
			d.lines[kp] = k.Line
			m.SetMapIndex(key, ev)
		}
		v.Set(m)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errAt(n, path, "want a single value, got %s", describe(n))
	}
	if v.Type() == durationType {
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			return d.errAt(n, path, "%q is not a duration (write e.g. 500ms, 1s, 5m)", n.Value)
		}
		v.SetInt(int64(dur))
		return nil
	}
	if tu, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := tu.UnmarshalText([]byte(n.Value)); err != nil {
			return d.errAt(n, path, "%q: %v", n.Value, err)
		}
		return nil
	}
	if v.Kind() == reflect.String {
		v.SetString(n.Value) // numbers and booleans are fine as text (ids, pins)
		return nil
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return d.errAt(n, path, "%q is not %s", n.Value, kindWord(v.Kind()))
	}
	return nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

func kindWord(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number ≥ 0 in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + k.String()
}

func structFields(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = i
	}
	return m
}

func sortedKeys(m map[string]int) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
