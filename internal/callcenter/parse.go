package callcenter

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/parley-cc/parley/internal/cc"
	"github.com/parley-cc/parley/internal/ctiurl"
)

// maxFileBytes bounds a definition file; real ones are a few kilobytes.
const maxFileBytes = 1 << 20

// Problem is one thing wrong with a definition file, at a line (1-based; 0
// when it concerns the whole file).
type Problem struct {
	Line    int
	Message string
}

// String returns "line N: message".
func (p Problem) String() string {
	if p.Line == 0 {
		return p.Message
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Message)
}

// Problems are every problem Parse found, in line order. Parse's error
// wraps them: errors.As(err, &problems) lists them one by one.
type Problems []Problem

// Error joins the problems with "; ".
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "; ")
}

// Parse reads a call center definition file and checks it as Salesforce's
// import does. A file that breaks a rule gives an EINVALID error whose
// Error() names each line at fault: it wraps Problems.
func Parse(r io.Reader) (*CallCenter, error) {
	p := &parser{dec: xml.NewDecoder(io.LimitReader(r, maxFileBytes+1))}
	c := p.parse()
	p.validate(c)
	if len(p.problems) > 0 {
		sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].Line < p.problems[j].Line })
		return nil, cc.WrapError(cc.EINVALID, p.problems, "call center definition is not valid")
	}
	return c, nil
}

type parser struct {
	dec      *xml.Decoder
	problems Problems
	broken   bool // not well-formed: the rules that span elements are not checked
}

func (p *parser) addf(line int, format string, args ...any) {
	p.problems = append(p.problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) line() int {
	l, _ := p.dec.InputPos()
	return l
}

// next returns the next token that matters (not a comment, directive or
// processing instruction), or nil at the end or on a syntax error, which it
// records.
func (p *parser) next() xml.Token {
	for {
		tok, err := p.dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var se *xml.SyntaxError
			p.broken = true
			if errors.As(err, &se) {
				p.addf(se.Line, "not well-formed XML: %s", se.Msg)
			} else {
				p.addf(p.line(), "not readable as XML: %v", err)
			}
			return nil
		}
		switch tok.(type) {
		case xml.Comment, xml.ProcInst, xml.Directive:
			continue
		}
		return xml.CopyToken(tok)
	}
}

func (p *parser) parse() *CallCenter {
	var c *CallCenter
	for {
		tok := p.next()
		if tok == nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if c != nil {
				p.addf(p.line(), "a second top-level element <%s>: a file holds one <callCenter>", t.Name.Local)
				return c
			}
			if t.Name.Local != "callCenter" {
				p.addf(p.line(), "the top-level element is <%s>: a call center definition starts with <callCenter>", t.Name.Local)
				return nil
			}
			c = &CallCenter{Line: p.line()}
			if !p.sections(c) {
				return c
			}
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				p.addf(p.line(), "text outside <callCenter>: the file must be XML with <callCenter> at the top")
				return nil
			}
		}
	}
	if c == nil && len(p.problems) == 0 {
		p.addf(p.line(), "no <callCenter> element: the file is empty or not a call center definition")
	}
	return c
}

// sections reads the children of <callCenter> up to its end tag; false
// means reading stopped on an error.
func (p *parser) sections(c *CallCenter) bool {
	for {
		tok := p.next()
		switch t := tok.(type) {
		case nil:
			if len(p.problems) == 0 {
				p.addf(p.line(), "the file ends inside <callCenter>")
			}
			return false
		case xml.EndElement:
			return true
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				p.addf(p.line(), "text directly inside <callCenter>: put settings in <item> elements inside a <section>")
			}
		case xml.StartElement:
			line := p.line()
			if t.Name.Local != "section" {
				p.addf(line, "<%s> inside <callCenter>: only <section> elements go there", t.Name.Local)
				if err := p.dec.Skip(); err != nil {
					return false
				}
				continue
			}
			s := Section{Line: line}
			s.SortOrder, s.Name, s.Label = p.attrs(t, "section", line)
			if !p.items(&s) {
				return false
			}
			c.Sections = append(c.Sections, s)
		}
	}
}

func (p *parser) items(s *Section) bool {
	for {
		tok := p.next()
		switch t := tok.(type) {
		case nil:
			if len(p.problems) == 0 {
				p.addf(p.line(), "the file ends inside <section>")
			}
			return false
		case xml.EndElement:
			return true
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				p.addf(p.line(), "text directly inside section %q: put it in an <item>", s.Name)
			}
		case xml.StartElement:
			line := p.line()
			if t.Name.Local != "item" {
				p.addf(line, "<%s> inside section %q: only <item> elements go there", t.Name.Local, s.Name)
				if err := p.dec.Skip(); err != nil {
					return false
				}
				continue
			}
			it := Item{Line: line}
			it.SortOrder, it.Name, it.Label = p.attrs(t, "item", line)
			value, ok := p.value(it.Name)
			if !ok {
				return false
			}
			it.Value = value
			s.Items = append(s.Items, it)
		}
	}
}

// value reads an item's text up to its end tag.
func (p *parser) value(name string) (string, bool) {
	var b strings.Builder
	for {
		tok := p.next()
		switch t := tok.(type) {
		case nil:
			if len(p.problems) == 0 {
				p.addf(p.line(), "the file ends inside <item>")
			}
			return "", false
		case xml.EndElement:
			return strings.TrimSpace(b.String()), true
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			p.addf(p.line(), "<%s> inside item %q: an item holds only its value as text", t.Name.Local, name)
			if err := p.dec.Skip(); err != nil {
				return "", false
			}
		}
	}
}

// attrs reads sortOrder, name and label, recording what is wrong with them.
func (p *parser) attrs(t xml.StartElement, kind string, line int) (int, string, string) {
	sortOrder, name, label := -1, "", ""
	haveOrder := false
	for _, a := range t.Attr {
		switch a.Name.Local {
		case "sortOrder":
			haveOrder = true
			n, err := strconv.Atoi(strings.TrimSpace(a.Value))
			if err != nil || n < 0 {
				p.addf(line, "%s sortOrder %q: use a whole number from 0", kind, a.Value)
				continue
			}
			sortOrder = n
		case "name":
			name = strings.TrimSpace(a.Value)
		case "label":
			label = a.Value
		default:
			p.addf(line, "%s has an unknown attribute %q: use sortOrder, name and label", kind, a.Name.Local)
		}
	}
	if !haveOrder {
		p.addf(line, "%s %q has no sortOrder: give sortOrder=\"N\", counting from 0", kind, name)
	}
	if msg := checkName(kind, name); msg != "" {
		p.addf(line, "%s", msg)
	}
	if !labelOK(label) {
		p.addf(line, "%s %q: the label is longer than %d characters", kind, name, MaxLabelLen)
	}
	return sortOrder, name, label
}

// checkOrder records sortOrder duplicates and gaps among siblings.
func (p *parser) checkOrder(what string, orders []int, lines []int, names []string) {
	seen := map[int]int{}
	for i, o := range orders {
		if o < 0 {
			continue // already reported
		}
		if j, dup := seen[o]; dup {
			p.addf(lines[i], "%s %q has sortOrder %d, as %q on line %d does: each sortOrder is used once", what, names[i], o, names[j], lines[j])
			continue
		}
		seen[o] = i
	}
	for want := 0; want < len(orders); want++ {
		if _, ok := seen[want]; !ok {
			// Report at the first sibling whose order is past the gap.
			at := 0
			for i, o := range orders {
				if o > want {
					at = lines[i]
					break
				}
			}
			if at == 0 && len(lines) > 0 {
				at = lines[len(lines)-1]
			}
			p.addf(at, "%s sortOrder %d is missing: sortOrder counts 0, 1, 2, ... with no gaps", what, want)
			break
		}
	}
}

// validate checks the rules that span elements.
func (p *parser) validate(c *CallCenter) {
	if c == nil || p.broken {
		return
	}
	var orders, lines []int
	var names []string
	seenSection := map[string]int{}
	for i := range c.Sections {
		s := &c.Sections[i]
		orders, lines, names = append(orders, s.SortOrder), append(lines, s.Line), append(names, s.Name)
		if prev, dup := seenSection[s.Name]; dup && s.Name != "" {
			p.addf(s.Line, "section %q is defined again (first on line %d)", s.Name, prev)
		} else {
			seenSection[s.Name] = s.Line
		}
		var iorders, ilines []int
		var inames []string
		seenItem := map[string]int{}
		for _, it := range s.Items {
			iorders, ilines, inames = append(iorders, it.SortOrder), append(ilines, it.Line), append(inames, it.Name)
			if prev, dup := seenItem[it.Name]; dup && it.Name != "" {
				p.addf(it.Line, "item %q is defined again in section %q (first on line %d)", it.Name, s.Name, prev)
			} else {
				seenItem[it.Name] = it.Line
			}
		}
		p.checkOrder("in section "+strconv.Quote(s.Name)+", item", iorders, ilines, inames)
	}
	p.checkOrder("section", orders, lines, names)
	g := c.Section(SectionGeneral)
	if g == nil {
		p.addf(c.Line, "the required section %s is missing: add <section sortOrder=\"0\" name=\"%s\" label=\"General Information\">", SectionGeneral, SectionGeneral)
		return
	}
	for _, name := range []string{ItemInternalName, ItemDisplayName, ItemAdapterURL, ItemUseAPI, ItemSoftphoneHeight, ItemSoftphoneWidth} {
		if g.Item(name) == nil {
			p.addf(g.Line, "section %s lacks the required item %s", SectionGeneral, name)
		}
	}
	if it := g.Item(ItemInternalName); it != nil {
		if it.SortOrder != 0 {
			p.addf(it.Line, "%s must have sortOrder 0, not %d", ItemInternalName, it.SortOrder)
		}
		if v := it.Value; v == "" || len(v) > MaxNameLen || !alphanumeric(v) || !(v[0] >= 'a' && v[0] <= 'z' || v[0] >= 'A' && v[0] <= 'Z') {
			p.addf(it.Line, "%s %q: use 1 to %d letters and digits, starting with a letter", ItemInternalName, v, MaxNameLen)
		}
	}
	if it := g.Item(ItemDisplayName); it != nil {
		if it.SortOrder != 1 {
			p.addf(it.Line, "%s must have sortOrder 1, not %d", ItemDisplayName, it.SortOrder)
		}
		if it.Value == "" || !labelOK(it.Value) {
			p.addf(it.Line, "%s: give 1 to %d characters", ItemDisplayName, MaxLabelLen)
		}
	}
	if it := g.Item(ItemAdapterURL); it != nil {
		if msg := CheckAdapterURL(it.Value); msg != "" {
			p.addf(it.Line, "%s %q: %s", ItemAdapterURL, it.Value, msg)
		}
	}
	if it := g.Item(ItemUseAPI); it != nil && it.Value != "true" && it.Value != "false" {
		p.addf(it.Line, "%s %q: use true (Open CTI) or false", ItemUseAPI, it.Value)
	}
	p.checkPixels(g.Item(ItemSoftphoneHeight), 240, 2560)
	p.checkPixels(g.Item(ItemSoftphoneWidth), 200, 1920)
	if it := g.Item(ItemCompatibilityMode); it != nil {
		switch it.Value {
		case ModeClassic, ModeLightning, ModeClassicAndLightning:
		default:
			p.addf(it.Line, "%s %q: use %s, %s or %s", ItemCompatibilityMode, it.Value, ModeClassic, ModeLightning, ModeClassicAndLightning)
		}
	}
	standby, timeout := g.Item(ItemStandbyURL), g.Item(ItemTimeout)
	switch {
	case standby != nil && timeout == nil:
		p.addf(standby.Line, "%s needs %s (milliseconds) beside it", ItemStandbyURL, ItemTimeout)
	case timeout != nil && standby == nil:
		p.addf(timeout.Line, "%s needs %s beside it", ItemTimeout, ItemStandbyURL)
	}
	if standby != nil && standby.Value != "" {
		if msg := CheckAdapterURL(standby.Value); msg != "" {
			p.addf(standby.Line, "%s %q: %s", ItemStandbyURL, standby.Value, msg)
		}
	}
	if timeout != nil {
		if n, err := strconv.Atoi(timeout.Value); err != nil || n < 1 || n > 600000 {
			p.addf(timeout.Line, "%s %q: give milliseconds from 1 to 600000", ItemTimeout, timeout.Value)
		}
	}
}

func (p *parser) checkPixels(it *Item, lo, hi int) {
	if it == nil {
		return
	}
	if n, err := strconv.Atoi(it.Value); err != nil || n < lo || n > hi {
		p.addf(it.Line, "%s %q: give pixels from %d to %d", it.Name, it.Value, lo, hi)
	}
}

// CheckAdapterURL returns what is wrong with an adapter (or standby) URL,
// "" when nothing: it must be absolute https, except http on a loopback
// host (the demo).
func CheckAdapterURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "give an absolute https:// URL of Parley's adapter page, such as https://parley.example.com/cti/salesforce.html"
	}
	if u.Scheme == "http" && !ctiurl.IsLoopback(u.Hostname()) {
		return "Lightning Experience loads the softphone only over https: use https:// (http:// is accepted only on a loopback host, for the demo)"
	}
	return ""
}
