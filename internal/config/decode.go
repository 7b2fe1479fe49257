package config

// This file decodes the YAML tree into Config one key at a time (soju's raw-then-typed
// decode, done over yaml.Node): yaml's own decoder stops at the first unknown key and
// names a type error by line only, so an admin needed one run per kind of mistake.
// Here an unknown key, a duplicate or a value of the wrong type costs one problem
// with its key path, and the rest of the file is still read. Each leaf value is still
// decoded by yaml itself, so what a key accepts (durations, yes/no, quoting) is what
// it always accepted.

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the nodes one file may expand to through aliases: a config is a few
// thousand nodes, an alias bomb billions.
const maxNodes = 1_000_000

// decoder walks one file's node tree into a value, collecting problems.
type decoder struct {
	src     *source
	ps      Problems
	visited int
	// expanding holds the anchored nodes whose aliases are being decoded, to refuse
	// an anchor that contains itself (yaml does too).
	expanding map[*yaml.Node]bool
}

// decode reads b into a Config. It returns what the file wrote (see source) and the
// problems found; the Config holds every value that did decode. unreadable is set
// when there was no mapping to read at all: then nothing else can be said.
func decode(b []byte) (c *Config, src *source, ps Problems, unreadable bool) {
	c, src = &Config{}, newSource()
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		// A syntax error leaves no tree to walk.
		return c, src, Problems{{Msg: err.Error()}}, true
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return c, src, nil, false // an empty file
	}
	top := resolve(root.Content[0])
	switch {
	case isNull(top):
		return c, src, nil, false
	case top.Kind != yaml.MappingNode:
		return c, src, Problems{{Msg: fmt.Sprintf("the file must be a mapping of sections (imap:, smtp:, …), got %s", describe(top)), Line: top.Line}}, true
	}
	d := &decoder{src: src, expanding: map[*yaml.Node]bool{}}
	d.value(top, reflect.ValueOf(c).Elem(), "")
	return c, src, d.ps, false
}

// undecoded reports a value that could not be decoded: path keeps its default, which
// the checks then leave alone (see without).
func (d *decoder) undecoded(path string, n *yaml.Node, format string, a ...any) {
	d.src.failed[path] = true
	d.problem(path, n, format, a...)
}

func (d *decoder) problem(path string, n *yaml.Node, format string, a ...any) {
	if path == "" {
		path = "(top level)"
	}
	d.ps = append(d.ps, Problem{Path: path, Msg: fmt.Sprintf(format, a...), Line: n.Line})
}

// value decodes n into v, which is settable.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if d.visited++; d.visited > maxNodes {
		if d.visited == maxNodes+1 {
			d.undecoded(path, n, "the file expands to more than %d values (aliases referring to aliases?)", maxNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		d.alias(n, path, func(target *yaml.Node) { d.value(target, v, path) })
		return
	}
	if isNull(n) {
		// As yaml does: null empties a pointer, list or map and leaves anything else.
		switch v.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			v.SetZero()
		}
		return
	}
	if v.Kind() != reflect.Pointer && v.CanAddr() {
		switch v.Addr().Interface().(type) {
		case yaml.Unmarshaler:
			// A type that decodes itself gets the whole subtree.
			if err := n.Decode(v.Addr().Interface()); err != nil {
				d.undecoded(path, n, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			}
			return
		case encoding.TextUnmarshaler:
			// A leaf however it is built (net.IP is a slice).
			d.scalar(n, v, path)
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct, reflect.Map:
		d.mapping(n, v, path, nil)
	case reflect.Slice:
		d.sequence(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// mapping decodes a mapping node into a struct (by yaml tags) or a map. skip holds the
// keys already set by the mapping that merges this one in (YAML merge keys: the
// merging mapping's own keys win).
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string, skip map[string]bool) {
	if n.Kind != yaml.MappingNode {
		d.undecoded(path, n, "must be a mapping of keys, got %s", describe(n))
		return
	}
	if end := lastLine(n); end > d.src.ends[path] {
		d.src.ends[path] = end
	}
	var fields map[string]int
	if v.Kind() == reflect.Struct {
		fields = yamlFields(v.Type())
	} else if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]int{}
	var merge *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if isMergeKey(k) {
			merge = val // as in yaml's decoder, the last << counts
			continue
		}
		if isNull(resolve(k)) {
			// yaml skips such a pair without a word; it is a key left out by mistake.
			d.problem(path, k, "a key is missing before its value (line %d)", k.Line)
			continue
		}
		name := k.Value
		p := join(path, name)
		if line, dup := seen[name]; dup {
			d.problem(p, k, "set twice (first on line %d)", line)
			continue
		}
		seen[name] = k.Line
		if skip[name] {
			continue
		}
		if fields != nil {
			f, ok := fields[name]
			if !ok {
				d.problem(p, k, "%s", unknownKey(name, fields))
				continue
			}
			d.src.lines[p] = k.Line
			d.value(val, v.Field(f), p)
			continue
		}
		d.src.lines[p] = k.Line
		key := reflect.New(v.Type().Key()).Elem()
		if err := k.Decode(key.Addr().Interface()); err != nil {
			d.undecoded(p, k, "cannot use %q as a key here", k.Value)
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(key); old.IsValid() {
			elem.Set(old)
		}
		d.value(val, elem, p)
		v.SetMapIndex(key, elem)
	}
	// The merged mappings come after the own keys, and the first of them wins, as in
	// yaml's decoder.
	if merge == nil {
		return
	}
	set := map[string]bool{}
	for k := range skip {
		set[k] = true
	}
	for k := range seen {
		set[k] = true
	}
	list := []*yaml.Node{merge}
	if merge.Kind == yaml.SequenceNode {
		list = merge.Content
	}
	for _, one := range list {
		d.merge(one, v, path, set)
	}
}

// merge decodes one mapping named by a merge key into v, skipping the keys in set, and
// adds its keys to set.
func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string, set map[string]bool) {
	if n.Kind == yaml.AliasNode {
		d.alias(n, path, func(target *yaml.Node) { d.merge(target, v, path, set) })
		return
	}
	if n.Kind != yaml.MappingNode {
		d.problem(path, n, "a merge (<<) must name a mapping, got %s", describe(n))
		return
	}
	d.mapping(n, v, path, set)
	for i := 0; i+1 < len(n.Content); i += 2 {
		set[n.Content[i].Value] = true
	}
}

// alias decodes the node an alias names with fn, refusing an anchor that contains
// itself: decoding it would never end.
func (d *decoder) alias(n *yaml.Node, path string, fn func(*yaml.Node)) {
	target := n.Alias
	if target == nil {
		d.undecoded(path, n, "unknown anchor %q", n.Value)
		return
	}
	if d.expanding[target] {
		d.undecoded(path, n, "the anchor %q contains itself", n.Value)
		return
	}
	d.expanding[target] = true
	defer delete(d.expanding, target)
	fn(target)
}

// sequence decodes a list into a fresh slice: an explicit empty list stays non-nil,
// which some keys use to mean "none" rather than "the default".
func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.undecoded(path, n, "must be a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.src.lines[p] = resolve(e).Line
		d.value(e, s.Index(i), p)
	}
	v.Set(s)
}

// scalar decodes a leaf with yaml's own rules and words a failure by the key's type.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	want := describeType(v.Type())
	if n.Kind != yaml.ScalarNode {
		d.undecoded(path, n, "must be %s, got %s", want, describe(n))
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		d.undecoded(path, n, "cannot use %q as %s", n.Value, want)
		return
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Int() == 0 {
			d.src.zero[path] = true
		}
	}
}

// yamlFields maps a struct's keys to field indexes the way yaml does: the tag's
// name, else the lower-cased field name; "-" and unexported fields have no key.
func yamlFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
	}
	return fields
}

// unknownKey words an unknown key with the nearest known one when it looks like a
// typo, else with the list of known keys.
func unknownKey(name string, fields map[string]int) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	slices.Sort(known)
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(name, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key, did you mean %s?", best)
	}
	return fmt.Sprintf("unknown key (known: %s)", strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance over runes; keys are short.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// describeType names what a key of type t takes, for "cannot use … as …".
func describeType(t reflect.Type) string {
	if t == reflect.TypeFor[time.Duration]() {
		return "a duration (like 90s, 5m or 1h30m)"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return "a " + t.String()
}

// describe names what the file wrote, for "got …".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

// lastLine is the line of the last value inside n, as written (aliases not followed).
func lastLine(n *yaml.Node) int {
	for len(n.Content) > 0 {
		n = n.Content[len(n.Content)-1]
	}
	return n.Line
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isMergeKey is yaml's test for "<<".
func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && (n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}
