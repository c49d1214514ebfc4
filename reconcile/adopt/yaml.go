package adopt

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// mapNode is a YAML mapping built key by key, in the order written.
type mapNode yaml.Node

type pair struct {
	k string
	v *yaml.Node
}

func kv(k string, v any) pair {
	switch n := v.(type) {
	case *mapNode:
		return pair{k, n.n()}
	case *yaml.Node:
		return pair{k, n}
	}
	panic("adopt: kv of an unknown value")
}

func mapping(pairs ...pair) *mapNode {
	m := &mapNode{Kind: yaml.MappingNode}
	for _, p := range pairs {
		m.add(p.k, p.v)
	}
	return m
}

func (m *mapNode) n() *yaml.Node { return (*yaml.Node)(m) }

func (m *mapNode) add(k string, v *yaml.Node) {
	m.Content = append(m.Content, str(k), v)
}

func (m *mapNode) addStr(k, v string) {
	if v != "" {
		m.add(k, str(v))
	}
}

func (m *mapNode) addInt(k string, v *int) {
	if v != nil {
		m.add(k, num(strconv.Itoa(*v)))
	}
}

func (m *mapNode) addBool(k string, v *bool) {
	if v != nil {
		m.add(k, boolean(*v))
	}
}

// str is a string scalar; the encoder quotes it when YAML would read it as
// something else ("on", "1.5", "null").
func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func num(s string) *yaml.Node {
	tag := "!!int"
	if _, err := strconv.Atoi(s); err != nil {
		tag = "!!float"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func seq(items []string) *yaml.Node {
	s := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, it := range items {
		s.Content = append(s.Content, str(it))
	}
	return s
}
