// This file turns a failed decode of the configuration file into an error
// that names lines and settings but never quotes a secret value.

package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decodeError describes a failed decode of the configuration file in one
// line that names lines and settings but quotes no value: yaml.v3 quotes the
// offending value (its first characters), a custom tag, an alias, or a key,
// and the value may be the client secret or a database password. Type errors
// become "line N: SETTING: cannot decode KIND into TYPE", quoted text in
// other messages becomes "…", and whatever of the secret values a tolerant
// second look at data finds is replaced with [redacted] as well.
func decodeError(err error, data []byte) string {
	var doc yaml.Node
	parsed := yaml.Unmarshal(data, &doc) == nil
	var msg string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		const most = 3
		var parts []string
		for i, e := range te.Errors {
			if i == most {
				parts = append(parts, fmt.Sprintf("and %d more", len(te.Errors)-most))
				break
			}
			parts = append(parts, typeErrorEntry(e, &doc))
		}
		msg = "yaml: unmarshal errors: " + strings.Join(parts, "; ")
	} else {
		msg = quotedText.ReplaceAllStringFunc(firstLine(err.Error()), func(q string) string {
			if len(q) <= 3 { // a quoted character, e.g. did not find expected ','
				return q
			}
			return "…"
		})
		if before, _, ok := strings.Cut(msg, "invalid map key: "); ok {
			msg = before + "invalid map key"
		}
	}
	for _, secret := range secretTexts(&doc, data, parsed) {
		msg = strings.ReplaceAll(msg, secret, "[redacted]")
	}
	return msg
}

// quotedText is a quoted span in a yaml.v3 message: 'x', `x` or "x".
var quotedText = regexp.MustCompile("'[^']*'|`[^`]*`|\"(?:[^\"\\\\]|\\\\.)*\"")

// typeEntry, fieldEntry, dupEntry and lineEntry parse the entries of a *yaml.TypeError.
var (
	typeEntry  = regexp.MustCompile(`^line (\d+): cannot unmarshal (\S+).* into (.+)$`)
	fieldEntry = regexp.MustCompile(`^line (\d+): field (.*) not found in type `)
	dupEntry   = regexp.MustCompile(`^line (\d+): mapping key .* already defined at line (\d+)$`)
	lineEntry  = regexp.MustCompile(`^line (\d+): `)
)

// typeErrorEntry rewrites one *yaml.TypeError entry without the value it quotes.
func typeErrorEntry(e string, doc *yaml.Node) string {
	if m := typeEntry.FindStringSubmatch(e); m != nil {
		line, _ := strconv.Atoi(m[1])
		kind := "a tagged value"
		switch m[2] {
		case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary":
			kind = "a " + m[2] + " value"
		case "!!seq":
			kind = "a list"
		case "!!map":
			kind = "a mapping"
		}
		into := m[3]
		if strings.HasPrefix(into, "struct") {
			into = "a section of settings"
		}
		return fmt.Sprintf("line %d: %scannot decode %s into %s", line, settingAt(doc, line), kind, into)
	}
	if m := fieldEntry.FindStringSubmatch(e); m != nil {
		line, _ := strconv.Atoi(m[1])
		if settingName.MatchString(m[2]) {
			return fmt.Sprintf("line %d: unknown setting %s", line, m[2])
		}
		return fmt.Sprintf("line %d: unknown setting", line)
	}
	if m := dupEntry.FindStringSubmatch(e); m != nil {
		line, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("line %d: %sset twice (first at line %s)", line, settingAt(doc, line), m[2])
	}
	if m := lineEntry.FindStringSubmatch(e); m != nil {
		return m[0] + "invalid value"
	}
	return "invalid value"
}

// settingName is what an unknown key must look like to be quoted in an
// error: a lower-case setting name, not some pasted value.
var settingName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// settingAt names the setting whose value starts on line ("dingtalk.client_secret: "),
// or returns "" when no known setting does or several do. The file-only
// sections (people, templates, …) are named, their user-chosen keys are not.
func settingAt(doc *yaml.Node, line int) string {
	known := map[string]bool{}
	for _, s := range Settings() {
		if s.YAMLKey != "" {
			known[s.YAMLKey] = true
		}
	}
	var found []string
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := prefix + k.Value
			switch {
			case prefix == "" && (name == "dingtalk" || name == "log"):
				if v.Line == line && v.Kind != yaml.MappingNode {
					found = append(found, name)
				}
				walk(v, name+".")
			case known[name], prefix == "" && fileOnlySection(name):
				if v.Line == line || k.Line == line {
					found = append(found, name)
				}
			}
		}
	}
	if len(doc.Content) > 0 {
		walk(doc.Content[0], "")
	}
	if len(found) != 1 {
		return ""
	}
	return found[0] + ": "
}

// fileOnlySection reports the top-level keys of the settings only the file holds.
func fileOnlySection(key string) bool {
	switch key {
	case "people", "names", "templates", "command_aliases", "access":
		return true
	}
	return false
}

// secretKeys are the settings whose values decodeError never shows.
func secretKeys() []string { return []string{"client_secret", "database_url"} }

// secretTexts returns the texts in data that may be secret: every scalar,
// key, tag and anchor under dingtalk.client_secret and database_url, found in
// the parsed doc or, for a file that does not parse, on the lines that set
// them. Texts shorter than 4 bytes are left out: replacing them would garble
// the message and they are no real secret.
func secretTexts(doc *yaml.Node, data []byte, parsed bool) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); len(s) >= 4 {
			out = append(out, s)
		}
	}
	var all func(n *yaml.Node)
	all = func(n *yaml.Node) {
		add(n.Value)
		add(n.Anchor)
		if !strings.HasPrefix(n.Tag, "!!") {
			add(n.Tag)
		}
		for _, c := range n.Content {
			all(c)
		}
	}
	if len(doc.Content) > 0 && doc.Content[0].Kind == yaml.MappingNode {
		top := doc.Content[0]
		for i := 0; i+1 < len(top.Content); i += 2 {
			k, v := top.Content[i], top.Content[i+1]
			switch {
			case k.Value == "database_url":
				all(v)
			case k.Value == "dingtalk" && v.Kind == yaml.MappingNode:
				for j := 0; j+1 < len(v.Content); j += 2 {
					if v.Content[j].Value == "client_secret" {
						all(v.Content[j+1])
					}
				}
			}
		}
	}
	if !parsed {
		for _, line := range strings.Split(string(data), "\n") {
			for _, key := range secretKeys() {
				_, rest, ok := strings.Cut(line, key)
				if !ok {
					continue
				}
				rest = strings.TrimLeft(rest, " \t\"'")
				if rest, ok = strings.CutPrefix(rest, ":"); !ok {
					continue
				}
				add(rest)
				for _, f := range strings.FieldsFunc(rest, func(r rune) bool { return strings.ContainsRune(" \t[]{},:'\"&*!#|>", r) }) {
					add(f)
				}
			}
		}
	}
	// Longest first, so a value is replaced before a part of it.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}
