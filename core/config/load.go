package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	kyaml "github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// EnvPrefix starts every environment variable that sets a key. After it,
// a double underscore separates levels and the name is lowercased:
// CLOUDPHONE_CLUSTER__NATS_URL sets cluster.nats_url. Variables with the
// prefix but no double underscore are not keys and are ignored, so
// variables like the CLOUDPHONE_SERVICE_HOST that Kubernetes injects for a
// service named cloudphone do not break startup.
const EnvPrefix = "CLOUDPHONE_"

// extensionPrefix starts top-level file keys that are ignored, as in
// Docker Compose: a place for YAML anchors (x-common: &common …).
const extensionPrefix = "x-"

// envSep separates levels in an environment variable name.
const envSep = "__"

// LoadOptions says where Load reads from. Sources apply in increasing
// precedence: defaults, File, Env, Flags.
type LoadOptions struct {
	// File is the YAML file; empty means none. A named file must exist.
	File string
	// Env is the environment as KEY=VALUE strings; nil means os.Environ().
	Env []string
	// Flags are the parsed command-line flags; nil means none.
	Flags *pflag.FlagSet
	// FlagKeys maps a flag name to the key it sets, e.g. "listen" →
	// "api.listen". Only flags the user set (Changed) override.
	FlagKeys map[string]string
}

// Load reads, merges, decodes and validates the configuration. Every
// problem is reported, each as an *Error naming its key and where its value
// came from (file and line, variable or flag), joined with errors.Join.
func Load(opts LoadOptions) (*Config, error) {
	var data []byte
	if opts.File != "" {
		var err error
		if data, err = os.ReadFile(opts.File); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	l, err := load(opts, data)
	if err != nil {
		return nil, err
	}
	return l.cfg, nil
}

// loaded is a decoded configuration and where each of its values came from.
type loaded struct {
	cfg     *Config
	origins map[string]source
}

// origin returns the source of key, or of its nearest ancestor.
func (l *loaded) origin(key string) source {
	for k := key; k != ""; {
		if s, ok := l.origins[k]; ok {
			return s
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return source{kind: fromDefault}
}

func (l *loaded) errorf(key, format string, args ...any) *Error {
	return newError(l.origin(key), key, fmt.Sprintf(format, args...))
}

// mapProvider hands an already parsed map to koanf.
type mapProvider map[string]any

func (p mapProvider) Read() (map[string]any, error) { return p, nil }
func (p mapProvider) ReadBytes() ([]byte, error) {
	return nil, errors.New("config: map provider has no bytes")
}

// load builds the configuration from opts, using data as the file's
// contents.
func load(opts LoadOptions, data []byte) (*loaded, error) {
	l := &loaded{origins: map[string]source{}}
	var errs []*Error
	ko := koanf.New(".")
	merge := func(raw map[string]any, src func(key string) source) error {
		errs = append(errs, l.check(raw, reflect.TypeFor[Config](), "", src)...)
		if err := ko.Load(mapProvider(raw), nil); err != nil {
			return fmt.Errorf("config: merge: %w", err)
		}
		return nil
	}

	defaults := encode(reflect.ValueOf(Default()).Elem())
	if err := merge(defaults, func(string) source { return source{kind: fromDefault} }); err != nil {
		return nil, err
	}

	if opts.File != "" {
		raw, lines, err := parseFile(opts.File, data)
		if err != nil {
			return nil, err
		}
		if err := merge(raw, func(key string) source {
			return source{kind: fromFile, name: opts.File, line: lineOf(lines, key)}
		}); err != nil {
			return nil, err
		}
	}

	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	raw, vars, envErrs := parseEnv(env)
	errs = append(errs, envErrs...)
	if err := merge(raw, func(key string) source { return source{kind: fromEnv, name: vars[key]} }); err != nil {
		return nil, err
	}

	if opts.Flags != nil {
		raw, names, flagErrs := parseFlags(opts.Flags, opts.FlagKeys)
		errs = append(errs, flagErrs...)
		if err := merge(raw, func(key string) source { return source{kind: fromFlag, name: names[key]} }); err != nil {
			return nil, err
		}
	}

	cfg := &Config{}
	d := &decoder{}
	d.section(ko.Raw(), reflect.ValueOf(cfg).Elem(), "")
	cfg.normalize()
	problems := d.problems
	for _, p := range cfg.validate() {
		if !d.covers(p.key) { // an undecodable key is reported once
			problems = append(problems, p)
		}
	}
	for _, p := range problems {
		errs = append(errs, l.errorf(p.key, "%s", p.msg))
	}
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	l.cfg = cfg
	return l, nil
}

// check walks one source's map against the schema type t: it records where
// each value came from, reports keys the schema does not know, and drops
// nulls so an empty section keeps its defaults.
func (l *loaded) check(m map[string]any, t reflect.Type, prefix string, src func(string) source) []*Error {
	var errs []*Error
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := m[k]
		if prefix == "" && strings.HasPrefix(k, extensionPrefix) {
			delete(m, k) // a home for YAML anchors, not a key
			continue
		}
		key := join(prefix, k)
		s := src(key)
		l.origins[key] = s
		f, ok := field(t, k)
		if !ok {
			errs = append(errs, newError(s, key, unknownMsg(t, prefix, k, s)))
			delete(m, k)
			continue
		}
		if v == nil {
			delete(m, k)
			continue
		}
		sub, isMap := v.(map[string]any)
		switch {
		case isMap && isSection(f.Type):
			errs = append(errs, l.check(sub, f.Type, key, src)...)
		case isMap && f.Type.Kind() == reflect.Map && isSection(f.Type.Elem()):
			// A map of sections (devices.backends): each entry is
			// checked against the element's schema.
			l.origins[key] = s
			names := make([]string, 0, len(sub))
			for name := range sub {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				ek := key + "." + name
				l.origins[ek] = src(ek)
				if entry, ok := sub[name].(map[string]any); ok {
					errs = append(errs, l.check(entry, f.Type.Elem(), ek, src)...)
				}
			}
		case isMap:
			l.recordAll(sub, key, src)
		}
	}
	return errs
}

// recordAll records the source of every key below an open map.
func (l *loaded) recordAll(m map[string]any, prefix string, src func(string) source) {
	for k, v := range m {
		key := join(prefix, k)
		l.origins[key] = src(key)
		if sub, ok := v.(map[string]any); ok {
			l.recordAll(sub, key, src)
		}
	}
}

// unknownMsg explains an unknown key k under prefix (of schema type t) and
// suggests the key the user probably meant.
func unknownMsg(t reflect.Type, prefix, k string, s source) string {
	what := "unknown key"
	if prefix == "" {
		what = "unknown section"
	}
	if strings.Contains(k, ".") {
		return what + "; keys must not contain dots, nest them as sections instead"
	}
	var guess string
	if prefix == "" {
		for _, known := range Keys() {
			if known[strings.LastIndexByte(known, '.')+1:] == k {
				guess = known // a key written at the wrong level
				break
			}
		}
	}
	if guess == "" {
		if g := suggest(k, tags(t)); g != "" {
			guess = join(prefix, g)
		}
	}
	if s.kind == fromEnv && guess != "" {
		guess = EnvName(guess)
	}
	if guess != "" {
		return fmt.Sprintf("%s (did you mean %s?)", what, guess)
	}
	if prefix == "" {
		return fmt.Sprintf("%s (known sections: %s)", what, strings.Join(tags(t), ", "))
	}
	return what
}

// EnvName returns the environment variable that sets key, e.g.
// "cluster.nats_url" → "CLOUDPHONE_CLUSTER__NATS_URL".
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", envSep))
}

// parseFile parses the YAML file data twice: with koanf's parser for the
// values, and into a yaml.Node for the line of every key.
func parseFile(name string, data []byte) (raw map[string]any, lines map[string]int, err error) {
	defer func() {
		// A parser bug must not take the runtime down with it.
		if r := recover(); r != nil {
			err = newError(source{kind: fromFile, name: name}, "", fmt.Sprintf("malformed YAML: parser failed: %v", r))
		}
	}()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nil, newError(source{kind: fromFile, name: name, line: extra.Line}, "",
			"a second YAML document (after ---); the file must hold one")
	}
	lines = map[string]int{}
	if len(doc.Content) > 0 {
		top := doc.Content[0]
		if top.Kind != yaml.MappingNode {
			return nil, nil, newError(source{kind: fromFile, name: name, line: top.Line}, "",
				"the top level must be a mapping of sections such as api: and plugins:")
		}
		if line := nodeLines(top, "", lines, 0); line > 0 {
			return nil, nil, newError(source{kind: fromFile, name: name, line: line}, "",
				"malformed YAML: a key must be a plain scalar, not a list or mapping")
		}
	}
	raw, err = kyaml.Parser().Unmarshal(data)
	if err != nil {
		return nil, nil, yamlError(name, err)
	}
	if raw == nil {
		raw = map[string]any{}
	}
	return raw, lines, nil
}

// nodeLines records the line of every key below the mapping node n, and
// returns the line of the first key that is not a scalar (0 if none).
// Aliases and merge keys are not followed; their keys take the line of the
// nearest recorded ancestor.
func nodeLines(n *yaml.Node, prefix string, lines map[string]int, depth int) int {
	if depth > 64 {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return k.Line
		}
		key := join(prefix, k.Value)
		if _, dup := lines[key]; !dup {
			lines[key] = k.Line
		}
		if v.Kind == yaml.MappingNode {
			if line := nodeLines(v, key, lines, depth+1); line > 0 {
				return line
			}
		}
	}
	return 0
}

// lineOf returns the line of key, or of its nearest ancestor, or 0.
func lineOf(lines map[string]int, key string) int {
	for k := key; ; {
		if n, ok := lines[k]; ok {
			return n
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			return 0
		}
		k = k[:i]
	}
}

// envValue types a variable's value. Keys of the schema are decoded by
// their field's type later; a plugin's own section (plugins.config.<name>)
// has no schema, so a scalar there is read as YAML: 8 is a number, true a
// bool, anything else a string.
func envValue(parts []string, val string) any {
	if len(parts) < 4 || parts[0] != "plugins" || parts[1] != "config" {
		return val
	}
	var v any
	if err := yaml.Unmarshal([]byte(val), &v); err != nil {
		return val
	}
	switch v.(type) {
	case int, float64, bool:
		// Only when it reads back the same: "007" and "1e3" stay strings.
		if fmt.Sprint(v) == val {
			return v
		}
	}
	return val
}

// parseEnv turns the CLOUDPHONE_ variables of env into a nested map, and
// returns the variable that set each key.
func parseEnv(env []string) (map[string]any, map[string]string, []*Error) {
	raw := map[string]any{}
	vars := map[string]string{}
	var errs []*Error
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) || !strings.Contains(name, envSep) {
			continue
		}
		parts := strings.Split(strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), envSep)
		src := source{kind: fromEnv, name: name}
		if slices.Contains(parts, "") {
			errs = append(errs, newError(src, "", "malformed name: levels are separated by exactly two underscores"))
			continue
		}
		key := strings.Join(parts, ".")
		if err := setPath(raw, parts, envValue(parts, val)); err != nil {
			errs = append(errs, newError(src, key, err.Error()))
			continue
		}
		recordPath(vars, parts, name)
	}
	return raw, vars, errs
}

// recordPath records name as the setter of the key parts and, unless
// another name was recorded first, of each of its ancestors.
func recordPath(m map[string]string, parts []string, name string) {
	for i := range parts {
		p := strings.Join(parts[:i+1], ".")
		if _, ok := m[p]; !ok || i == len(parts)-1 {
			m[p] = name
		}
	}
}

// setPath sets m[parts...] = val, creating maps on the way.
func setPath(m map[string]any, parts []string, val any) error {
	for i, p := range parts[:len(parts)-1] {
		next, ok := m[p]
		if !ok {
			sub := map[string]any{}
			m[p] = sub
			m = sub
			continue
		}
		sub, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("conflicts with the value already set for %s", strings.Join(parts[:i+1], "."))
		}
		m = sub
	}
	last := parts[len(parts)-1]
	if _, ok := m[last].(map[string]any); ok {
		return fmt.Errorf("conflicts with the keys already set below %s", strings.Join(parts, "."))
	}
	m[last] = val
	return nil
}

// parseFlags reads the changed flags of fs named in keys (flag name → key)
// with koanf's posflag provider, and returns the flag that set each key.
func parseFlags(fs *pflag.FlagSet, keys map[string]string) (map[string]any, map[string]string, []*Error) {
	names := map[string]string{}
	var errs []*Error
	flagNames := make([]string, 0, len(keys))
	for name := range keys {
		flagNames = append(flagNames, name)
	}
	slices.Sort(flagNames)
	for _, name := range flagNames {
		src := source{kind: fromFlag, name: name}
		if fs.Lookup(name) == nil {
			errs = append(errs, newError(src, keys[name], "no such flag is defined"))
		}
		if !knownKey(keys[name]) {
			msg := "unknown key"
			if g := suggest(keys[name], Keys()); g != "" {
				msg += " (did you mean " + g + "?)"
			}
			errs = append(errs, newError(src, keys[name], msg))
			continue
		}
		recordPath(names, strings.Split(keys[name], "."), name)
	}
	p := posflag.ProviderWithFlag(fs, ".", nil, func(f *pflag.Flag) (string, any) {
		key, ok := keys[f.Name]
		if !ok || !f.Changed || !knownKey(key) {
			return "", nil
		}
		if v := posflag.FlagVal(fs, f); v != nil {
			return key, v
		}
		return key, f.Value.String()
	})
	raw, err := p.Read()
	if err != nil {
		errs = append(errs, newError(source{kind: fromFlag}, "", err.Error()))
		return map[string]any{}, names, errs
	}
	return raw, names, errs
}
