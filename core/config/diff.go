package config

import (
	"reflect"
	"slices"
)

// Diff lists the dotted keys whose values differ between old and next, in
// struct order. For a map it lists each entry that was added, removed or
// changed ("plugins.pin.NAME", "plugins.config.NAME"), so the plugin host
// can reconfigure only the plugins whose section changed. A nil Config
// counts as the zero Config.
func Diff(old, next *Config) []string {
	if old == nil {
		old = &Config{}
	}
	if next == nil {
		next = &Config{}
	}
	var out []string
	diffValue(reflect.ValueOf(old).Elem(), reflect.ValueOf(next).Elem(), "", &out)
	return out
}

func diffValue(a, b reflect.Value, key string, out *[]string) {
	switch {
	case isSection(a.Type()):
		t := a.Type()
		for _, tag := range tags(t) {
			f, _ := field(t, tag)
			diffValue(a.FieldByIndex(f.Index), b.FieldByIndex(f.Index), join(key, tag), out)
		}
	case a.Kind() == reflect.Map:
		var names []string
		for _, m := range []reflect.Value{a, b} {
			for _, k := range m.MapKeys() {
				names = append(names, k.String())
			}
		}
		slices.Sort(names)
		for _, name := range slices.Compact(names) {
			k := reflect.ValueOf(name).Convert(a.Type().Key())
			ea, eb := a.MapIndex(k), b.MapIndex(k)
			if ea.IsValid() != eb.IsValid() || ea.IsValid() && !reflect.DeepEqual(ea.Interface(), eb.Interface()) {
				*out = append(*out, key+"."+name)
			}
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, key)
		}
	}
}
