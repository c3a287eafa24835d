package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The schema is the Config struct itself: a field with a koanf tag whose
// type is a struct is a section, every other tagged field is a key. Maps are
// open: anything below a map key is the map's business.

var durationType = reflect.TypeFor[time.Duration]()

// isSection reports whether a field of type t is a nested section.
func isSection(t reflect.Type) bool { return t.Kind() == reflect.Struct }

// field finds the field of struct type t tagged name.
func field(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && f.Tag.Get("koanf") == name && name != "" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tags lists the koanf tags of struct type t in field order.
func tags(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("koanf"); tag != "" && t.Field(i).IsExported() {
			out = append(out, tag)
		}
	}
	return out
}

// Keys lists every key of the schema in struct order, dotted. A map key
// (plugins.pin, plugins.config) is listed once; its entries are open.
func Keys() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for _, tag := range tags(t) {
			f, _ := field(t, tag)
			if isSection(f.Type) {
				walk(f.Type, join(prefix, tag))
				continue
			}
			out = append(out, join(prefix, tag))
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return out
}

// knownKey reports whether key is a key of the schema or an entry below a
// map key.
func knownKey(key string) bool {
	t := reflect.TypeFor[Config]()
	parts := strings.Split(key, ".")
	for i, p := range parts {
		f, ok := field(t, p)
		if !ok {
			return false
		}
		if !isSection(f.Type) {
			return i == len(parts)-1 || f.Type.Kind() == reflect.Map
		}
		t = f.Type
	}
	return false // a section, not a key
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// encode turns a struct into the nested map koanf merges, durations as
// strings. It is used for the defaults.
func encode(v reflect.Value) map[string]any {
	out := map[string]any{}
	t := v.Type()
	for _, tag := range tags(t) {
		f, _ := field(t, tag)
		fv := v.FieldByIndex(f.Index)
		switch {
		case isSection(f.Type):
			out[tag] = encode(fv)
		case f.Type == durationType:
			out[tag] = time.Duration(fv.Int()).String()
		case fv.Kind() == reflect.Map && isSection(f.Type.Elem()):
			if fv.Len() > 0 {
				m := make(map[string]any, fv.Len())
				for _, k := range fv.MapKeys() {
					m[k.String()] = encode(fv.MapIndex(k))
				}
				out[tag] = m
			}
		case fv.Kind() == reflect.Slice && isSection(f.Type.Elem()):
			list := make([]any, fv.Len())
			for i := range fv.Len() {
				list[i] = encode(fv.Index(i))
			}
			out[tag] = list
		case fv.Kind() == reflect.Map || fv.Kind() == reflect.Slice:
			if fv.Len() > 0 {
				out[tag] = fv.Interface()
			}
		default:
			out[tag] = fv.Interface()
		}
	}
	return out
}

// decoder fills a struct from the merged map, collecting one problem per
// key that does not fit its field.
type decoder struct {
	problems []problem
	failed   map[string]bool
}

func (d *decoder) fail(key, format string, args ...any) {
	d.problems = append(d.problems, problem{key: key, msg: fmt.Sprintf(format, args...)})
	if d.failed == nil {
		d.failed = map[string]bool{}
	}
	d.failed[key] = true
}

// covers reports whether key, or a section above it, failed to decode.
func (d *decoder) covers(key string) bool {
	for k := key; ; {
		if d.failed[k] {
			return true
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			return false
		}
		k = k[:i]
	}
}

// section decodes the map m into the struct v. A key missing from m leaves
// its field as it is.
func (d *decoder) section(m map[string]any, v reflect.Value, prefix string) {
	t := v.Type()
	for _, tag := range tags(t) {
		in, ok := m[tag]
		if !ok || in == nil {
			continue
		}
		f, _ := field(t, tag)
		d.value(join(prefix, tag), in, v.FieldByIndex(f.Index))
	}
}

// value decodes in into out, the field of key.
func (d *decoder) value(key string, in any, out reflect.Value) {
	t := out.Type()
	switch {
	case isSection(t):
		m, ok := in.(map[string]any)
		if !ok {
			d.fail(key, "must be a mapping (a section), got %s", describe(in))
			return
		}
		d.section(m, out, key)
	case t == durationType:
		d.duration(key, in, out)
	case t.Kind() == reflect.Map:
		d.mapping(key, in, out)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		d.stringList(key, in, out)
	case t.Kind() == reflect.Slice && isSection(t.Elem()):
		d.sectionList(key, in, out)
	default:
		d.scalar(key, in, out)
	}
}

func (d *decoder) duration(key string, in any, out reflect.Value) {
	switch v := in.(type) {
	case time.Duration:
		out.SetInt(int64(v))
	case string:
		dur, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			d.fail(key, "must be a duration such as \"2s\" or \"100ms\", got %q", v)
			return
		}
		out.SetInt(int64(dur))
	default:
		d.fail(key, "must be a duration with a unit such as \"2s\" or \"100ms\", got %s", describe(in))
	}
}

// mapping decodes a string-keyed map field: map[string]string (pins) or
// map[string]map[string]any (plugin sections).
func (d *decoder) mapping(key string, in any, out reflect.Value) {
	m, ok := in.(map[string]any)
	if !ok {
		d.fail(key, "must be a mapping, got %s", describe(in))
		return
	}
	t := out.Type()
	if t.Key().Kind() != reflect.String {
		d.fail(key, "unsupported field type %s", t)
		return
	}
	res := reflect.MakeMapWithSize(t, len(m))
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ek := key + "." + name
		ev := reflect.New(t.Elem()).Elem()
		switch {
		case t.Elem().Kind() == reflect.Map:
			d.open(ek, m[name], ev)
		default:
			if m[name] == nil {
				d.fail(ek, "must have a value")
				continue
			}
			d.value(ek, m[name], ev)
		}
		res.SetMapIndex(reflect.ValueOf(name).Convert(t.Key()), ev)
	}
	out.Set(res)
}

// sectionList decodes a list of sections (vgpu.slices): each element a
// mapping whose keys are the element struct's tags, named key.N.field in
// problems. Unknown keys in an element are errors, as everywhere else.
func (d *decoder) sectionList(key string, in any, out reflect.Value) {
	list, ok := in.([]any)
	if !ok {
		d.fail(key, "must be a list of mappings, got %s", describe(in))
		return
	}
	t := out.Type()
	res := reflect.MakeSlice(t, len(list), len(list))
	known := tags(t.Elem())
	for i, e := range list {
		ek := fmt.Sprintf("%s.%d", key, i)
		m, ok := normalize(e).(map[string]any)
		if !ok {
			d.fail(ek, "must be a mapping with keys %s, got %s", strings.Join(known, ", "), describe(e))
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !slices.Contains(known, k) {
				d.fail(ek+"."+k, "unknown key (known: %s)", strings.Join(known, ", "))
			}
		}
		d.section(m, res.Index(i), ek)
	}
	out.Set(res)
}

// open decodes an arbitrary section (map[string]any) that must encode as
// JSON.
func (d *decoder) open(key string, in any, out reflect.Value) {
	if out.Type() != reflect.TypeFor[map[string]any]() {
		d.fail(key, "unsupported field type %s", out.Type())
		return
	}
	if in == nil {
		out.Set(reflect.ValueOf(map[string]any{}))
		return
	}
	norm := normalize(in)
	m, ok := norm.(map[string]any)
	if !ok {
		d.fail(key, "must be a mapping, got %s", describe(in))
		return
	}
	if _, err := json.Marshal(m); err != nil {
		d.fail(key, "cannot be encoded as JSON: %v", err)
		return
	}
	out.Set(reflect.ValueOf(m))
}

// normalize copies a decoded YAML value, turning every map key into a
// string so the value encodes as JSON.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

func (d *decoder) stringList(key string, in any, out reflect.Value) {
	var list []string
	switch v := in.(type) {
	case string:
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
	case []string:
		list = slices.Clone(v)
	case []any:
		for i, e := range v {
			s, ok := scalarString(e)
			if !ok {
				d.fail(fmt.Sprintf("%s.%d", key, i), "must be a string, got %s", describe(e))
				return
			}
			list = append(list, s)
		}
	default:
		d.fail(key, "must be a list of strings, got %s", describe(in))
		return
	}
	out.Set(reflect.ValueOf(list).Convert(out.Type()))
}

// scalarString renders a YAML scalar as the string a string field holds.
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v), true
	case float32, float64:
		return fmt.Sprint(v), true
	}
	return "", false
}

func (d *decoder) scalar(key string, in any, out reflect.Value) {
	switch out.Kind() {
	case reflect.String:
		s, ok := scalarString(in)
		if !ok {
			d.fail(key, "must be a string, got %s", describe(in))
			return
		}
		out.SetString(s)
	case reflect.Bool:
		switch v := in.(type) {
		case bool:
			out.SetBool(v)
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				d.fail(key, "must be true or false, got %q", v)
				return
			}
			out.SetBool(b)
		default:
			d.fail(key, "must be true or false, got %s", describe(in))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := toInt(in)
		if !ok || out.OverflowInt(n) {
			d.fail(key, "must be an integer, got %s", describe(in))
			return
		}
		out.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, ok := toFloat(in)
		if !ok {
			d.fail(key, "must be a number, got %s", describe(in))
			return
		}
		out.SetFloat(f)
	default:
		d.fail(key, "unsupported field type %s", out.Type())
	}
}

// toInt converts an integer-valued YAML, flag or environment value.
func toInt(in any) (int64, bool) {
	v := reflect.ValueOf(in)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() > math.MaxInt64 {
			return 0, false
		}
		return int64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, false
		}
		return int64(f), true
	case reflect.String:
		n, err := strconv.ParseInt(strings.TrimSpace(v.String()), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// toFloat converts a numeric YAML, flag or environment value.
func toFloat(in any) (float64, bool) {
	v := reflect.ValueOf(in)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	case reflect.String:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.String()), 64)
		return f, err == nil
	}
	return 0, false
}
