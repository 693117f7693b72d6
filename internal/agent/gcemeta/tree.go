package gcemeta

import (
	"encoding/json"
	"strconv"
	"strings"
)

// universeDomain is what universe/universe-domain answers. Clients compare it
// with their own universe; keyless configs keep googleapis.com (reference §8).
const universeDomain = "googleapis.com"

type kind int

const (
	kindDir kind = iota
	kindText
	kindNumber // digits; a JSON number in recursive and alt=json answers
	kindList   // one item per line; a JSON array
	kindToken
	kindIdentity
)

// entry is one node of the immutable metadata tree.
type entry struct {
	name     string // path segment
	jsonKey  string // key in recursive JSON answers (camelCase like the real server)
	kind     kind
	text     string
	list     []string
	children []*entry
	account  *Account // token and identity leaves
	foldCase bool     // matched case-insensitively (service account emails)
}

func dirEntry(name, jsonKey string, children ...*entry) *entry {
	return &entry{name: name, jsonKey: jsonKey, kind: kindDir, children: children}
}

func textEntry(name, jsonKey, text string) *entry {
	return &entry{name: name, jsonKey: jsonKey, kind: kindText, text: text}
}

// buildTree returns the entry for /computeMetadata/.
func buildTree(o Options) *entry {
	instance := dirEntry("instance", "instance")
	if o.Hostname != "" {
		instance.children = append(instance.children, textEntry("hostname", "hostname", o.Hostname))
	}
	if o.InstanceID != "" {
		instance.children = append(instance.children, &entry{name: "id", jsonKey: "id", kind: kindNumber, text: o.InstanceID})
	}
	accounts := dirEntry("service-accounts", "serviceAccounts",
		accountEntry("default", &o.Accounts[0], []string{"default"}, false))
	for i := range o.Accounts {
		var aliases []string
		if i == 0 {
			aliases = []string{"default"}
		}
		accounts.children = append(accounts.children, accountEntry(o.Accounts[i].Email, &o.Accounts[i], aliases, true))
	}
	instance.children = append(instance.children, accounts)
	if o.Zone != "" {
		instance.children = append(instance.children, textEntry("zone", "zone", o.Zone))
	}

	project := dirEntry("project", "project")
	if o.NumericProjectID != "" {
		project.children = append(project.children,
			&entry{name: "numeric-project-id", jsonKey: "numericProjectId", kind: kindNumber, text: o.NumericProjectID})
	}
	if o.ProjectID != "" {
		project.children = append(project.children, textEntry("project-id", "projectId", o.ProjectID))
	}

	universe := dirEntry("universe", "universe", textEntry("universe-domain", "universeDomain", universeDomain))
	return dirEntry("computeMetadata", "computeMetadata", dirEntry("v1", "v1", instance, project, universe))
}

func accountEntry(name string, a *Account, aliases []string, foldCase bool) *entry {
	if aliases == nil {
		aliases = []string{}
	}
	e := dirEntry(name, name,
		&entry{name: "aliases", jsonKey: "aliases", kind: kindList, list: aliases},
		textEntry("email", "email", a.Email),
		&entry{name: "identity", kind: kindIdentity, account: a},
		&entry{name: "scopes", jsonKey: "scopes", kind: kindList, list: a.Scopes},
		&entry{name: "token", kind: kindToken, account: a},
	)
	e.foldCase = foldCase
	return e
}

func (e *entry) child(seg string) *entry {
	if e.kind != kindDir {
		return nil
	}
	for _, c := range e.children {
		if c.name == seg || (c.foldCase && strings.EqualFold(c.name, seg)) {
			return c
		}
	}
	return nil
}

func (e *entry) dynamic() bool { return e.kind == kindToken || e.kind == kindIdentity }

// listing is a directory's text answer: one entry per line, directories with a
// trailing slash.
func (e *entry) listing() []string {
	out := make([]string, 0, len(e.children))
	for _, c := range e.children {
		if c.kind == kindDir {
			out = append(out, c.name+"/")
		} else {
			out = append(out, c.name)
		}
	}
	return out
}

// jsonValue is the entry as JSON: directories recursively, without the
// dynamic token and identity leaves.
func (e *entry) jsonValue() any {
	switch e.kind {
	case kindDir:
		m := make(map[string]any, len(e.children))
		for _, c := range e.children {
			if !c.dynamic() {
				m[c.jsonKey] = c.jsonValue()
			}
		}
		return m
	case kindNumber:
		return json.Number(e.text)
	case kindList:
		return e.list
	default:
		return e.text
	}
}

// leafText is a static leaf's text answer.
func (e *entry) leafText() string {
	if e.kind == kindList {
		return lines(e.list)
	}
	return e.text
}

// flatText is a directory's recursive text answer: "path value" per line,
// list items indexed ("scopes/0 https://...").
func (e *entry) flatText(prefix string, b *strings.Builder) {
	for _, c := range e.children {
		switch c.kind {
		case kindDir:
			c.flatText(prefix+c.name+"/", b)
		case kindList:
			for i, v := range c.list {
				b.WriteString(prefix + c.name + "/" + strconv.Itoa(i) + " " + v + "\n")
			}
		case kindText, kindNumber:
			b.WriteString(prefix + c.name + " " + c.text + "\n")
		}
	}
}

func lines(items []string) string {
	var b strings.Builder
	for _, s := range items {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.String()
}
