// Package callcenter models Salesforce's call center definition file: the
// XML an admin imports (Setup, Call Centers, Import) so that users assigned
// to the call center get the Open CTI softphone. Generate writes Parley's
// file for a tenant; Parse reads one back with Salesforce's rules and says
// which line breaks which rule.
//
// The format is one <callCenter> holding <section sortOrder name label>
// elements holding <item sortOrder name label>value</item> elements.
// sortOrder counts from 0 with no gaps within each parent; names are at most
// 40 letters and digits; names starting with "req" are Salesforce's own, as
// are label, sortOrder, internalNameLabel and displayNameLabel. The section
// reqGeneralInfo is required, with reqInternalName (sortOrder 0),
// reqDisplayName (sortOrder 1), reqAdapterUrl, reqUseApi,
// reqSoftphoneHeight and reqSoftphoneWidth.
package callcenter

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Section and item names Salesforce defines.
const (
	SectionGeneral = "reqGeneralInfo"
	SectionDialing = "reqDialingOptions"

	ItemInternalName        = "reqInternalName"
	ItemDisplayName         = "reqDisplayName"
	ItemAdapterURL          = "reqAdapterUrl"
	ItemUseAPI              = "reqUseApi"
	ItemSoftphoneHeight     = "reqSoftphoneHeight"
	ItemSoftphoneWidth      = "reqSoftphoneWidth"
	ItemCompatibilityMode   = "reqSalesforceCompatibilityMode"
	ItemStandbyURL          = "reqStandbyUrl"
	ItemTimeout             = "reqTimeout"
	ItemOutsidePrefix       = "reqOutsidePrefix"
	ItemLongDistPrefix      = "reqLongDistPrefix"
	ItemInternationalPrefix = "reqInternationalPrefix"
)

// Compatibility modes (reqSalesforceCompatibilityMode). Only Lightning and
// Classic_and_Lightning show the softphone in Lightning Experience.
const (
	ModeClassic             = "Classic"
	ModeLightning           = "Lightning"
	ModeClassicAndLightning = "Classic_and_Lightning"
)

// Limits of the format.
const (
	MaxNameLen  = 40
	MaxLabelLen = 1000
)

// CallCenter is a parsed call center definition.
type CallCenter struct {
	Sections []Section
	// Line is where <callCenter> starts (0 for a generated value).
	Line int
}

// Section is one <section>.
type Section struct {
	SortOrder int
	Name      string
	Label     string
	Items     []Item
	Line      int
}

// Item is one <item>: a setting.
type Item struct {
	SortOrder int
	Name      string
	Label     string
	Value     string
	Line      int
}

// Section returns the section with the given name, or nil.
func (c *CallCenter) Section(name string) *Section {
	for i := range c.Sections {
		if c.Sections[i].Name == name {
			return &c.Sections[i]
		}
	}
	return nil
}

// Item returns the item with the given name, or nil.
func (s *Section) Item(name string) *Item {
	for i := range s.Items {
		if s.Items[i].Name == name {
			return &s.Items[i]
		}
	}
	return nil
}

// Value returns the value of /section/item, "" when absent.
func (c *CallCenter) Value(section, item string) string {
	s := c.Section(section)
	if s == nil {
		return ""
	}
	if it := s.Item(item); it != nil {
		return it.Value
	}
	return ""
}

// InternalName is reqInternalName, unique per org.
func (c *CallCenter) InternalName() string { return c.Value(SectionGeneral, ItemInternalName) }

// DisplayName is reqDisplayName.
func (c *CallCenter) DisplayName() string { return c.Value(SectionGeneral, ItemDisplayName) }

// AdapterURL is reqAdapterUrl, the page the softphone frame loads.
func (c *CallCenter) AdapterURL() string { return c.Value(SectionGeneral, ItemAdapterURL) }

// Settings returns every item as Open CTI's getCallCenterSettings gives
// them: a flat map keyed "/section/item".
func (c *CallCenter) Settings() map[string]string {
	out := map[string]string{}
	for _, s := range c.Sections {
		for _, it := range s.Items {
			out["/"+s.Name+"/"+it.Name] = it.Value
		}
	}
	return out
}

// Marshal writes the definition as XML, sections and items in sortOrder,
// with comment (if any) as an XML comment before <callCenter>.
func (c *CallCenter) Marshal(comment string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if comment != "" {
		b.WriteString("<!-- " + strings.ReplaceAll(comment, "--", "- -") + " -->\n")
	}
	b.WriteString("<callCenter>\n")
	for _, s := range c.Sections {
		fmt.Fprintf(&b, "  <section sortOrder=\"%d\" name=\"%s\" label=\"%s\">\n", s.SortOrder, escape(s.Name), escape(s.Label))
		for _, it := range s.Items {
			fmt.Fprintf(&b, "    <item sortOrder=\"%d\" name=\"%s\" label=\"%s\">%s</item>\n", it.SortOrder, escape(it.Name), escape(it.Label), escape(it.Value))
		}
		b.WriteString("  </section>\n")
	}
	b.WriteString("</callCenter>\n")
	return b.Bytes()
}

func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// reservedNames may not name a section or an item.
var reservedNames = map[string]bool{"label": true, "sortOrder": true, "internalNameLabel": true, "displayNameLabel": true}

// knownReq are the req* names Salesforce defines (and one the demo adapter
// uses, reqPhoneDemoSettings, which orgs accept).
var knownReq = map[string]bool{
	SectionGeneral: true, SectionDialing: true, "reqPhoneDemoSettings": true, "reqHvcc": true,
	ItemInternalName: true, ItemDisplayName: true, ItemAdapterURL: true, ItemUseAPI: true,
	ItemSoftphoneHeight: true, ItemSoftphoneWidth: true, ItemCompatibilityMode: true,
	ItemStandbyURL: true, ItemTimeout: true, ItemOutsidePrefix: true, ItemLongDistPrefix: true,
	ItemInternationalPrefix: true, "reqCanvasNamespace": true, "reqCanvasApiName": true,
	"reqDescription": true, "reqProvider": true,
}

// checkName returns what is wrong with a section or item name, "" if
// nothing.
func checkName(kind, name string) string {
	switch {
	case name == "":
		return fmt.Sprintf("%s has no name attribute: give name=\"...\" (letters and digits)", kind)
	case len(name) > MaxNameLen:
		return fmt.Sprintf("%s name %q is %d characters long: use at most %d", kind, name, len(name), MaxNameLen)
	case !alphanumeric(name):
		return fmt.Sprintf("%s name %q: use only letters and digits, no spaces or punctuation", kind, name)
	case reservedNames[name]:
		return fmt.Sprintf("%s name %q is reserved by Salesforce: choose another", kind, name)
	case name == "reqSalesforceCompatabilityMode":
		return fmt.Sprintf("%s name %q is misspelt: write reqSalesforceCompatibilityMode (with \"ibility\"); Salesforce ignores the misspelt one and shows the softphone in Classic only", kind, name)
	case strings.HasPrefix(name, "req") && !knownReq[name]:
		return fmt.Sprintf("%s name %q: names starting with \"req\" are reserved for Salesforce's own settings; rename it", kind, name)
	}
	return ""
}

func alphanumeric(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func labelOK(label string) bool {
	return utf8.ValidString(label) && utf8.RuneCountInString(label) <= MaxLabelLen
}
