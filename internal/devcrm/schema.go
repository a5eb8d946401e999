package devcrm

import "strings"

// fieldType is the Salesforce data type of a field, as far as devcrm needs it.
type fieldType int

const (
	typeID        fieldType = iota // the record's own Id
	typeString                     // text of at most maxLen characters
	typeTextArea                   // long text; capped in bytes by Config.DescriptionCapBytes
	typePhone                      // text of at most maxLen characters, searched by digits
	typeEmail                      // an e-mail address, searched case-insensitively
	typePicklist                   // one of picklist (restricted), case-insensitive on input
	typeReference                  // the Id of a record of one of refs
	typeInt                        // a whole number
	typeBool                       // true or false
	typeDate                       // YYYY-MM-DD
	typeDateTime                   // 2026-12-03T17:00:00.000+0000
)

// typeNames are how Salesforce names each type in its JSON parser's errors
// and in SOQL's.
var typeNames = [...]struct{ json, soql string }{
	typeID:        {"string", "id"},
	typeString:    {"string", "string"},
	typeTextArea:  {"string", "string"},
	typePhone:     {"string", "string"},
	typeEmail:     {"string", "string"},
	typePicklist:  {"string", "string"},
	typeReference: {"string", "id"},
	typeInt:       {"int", "integer"},
	typeBool:      {"boolean", "boolean"},
	typeDate:      {"date", "date"},
	typeDateTime:  {"datetime", "datetime"},
}

// field is one field of an object.
type field struct {
	name       string
	label      string // used in DML error messages, as Salesforce does
	typ        fieldType
	maxLen     int // characters, for string-like types
	required   bool
	computed   bool // a generated column: never written
	createable bool
	updateable bool
	picklist   []string // restricted values, canonical case
	def        any      // value on create when none is given
	refs       []string // reference targets (object names)
	// relationship is the name of the parent relationship in queries
	// ("Account" for AccountId); empty when none is supported.
	relationship string
}

// object is one sObject type.
type object struct {
	name     string
	label    string
	prefix   string
	readOnly bool // no REST writes (User)
	fields   []*field
	byName   map[string]*field // by lowercase name
	// Fields searched by SOSL, by search group.
	phoneFields []string
	emailFields []string
	nameFields  []string
}

// field returns the field with the given name, matched case-insensitively as
// Salesforce does, or nil.
func (o *object) field(name string) *field { return o.byName[strings.ToLower(name)] }

// relationship returns the reference field whose relationship is named name,
// or nil.
func (o *object) relationship(name string) *field {
	for _, f := range o.fields {
		if f.relationship != "" && strings.EqualFold(f.relationship, name) {
			return f
		}
	}
	return nil
}

func str(name, label string, maxLen int) *field {
	return &field{name: name, label: label, typ: typeString, maxLen: maxLen, createable: true, updateable: true}
}

func phone(name, label string) *field {
	f := str(name, label, 40)
	f.typ = typePhone
	return f
}

func email(name string) *field {
	f := str(name, "Email", 80)
	f.typ = typeEmail
	return f
}

func ref(name, label, relationship string, refs ...string) *field {
	return &field{name: name, label: label, typ: typeReference, createable: true, updateable: true, refs: refs, relationship: relationship}
}

func picklist(name, label string, def any, values ...string) *field {
	return &field{name: name, label: label, typ: typePicklist, maxLen: 255, createable: true, updateable: true, picklist: values, def: def}
}

func required(f *field) *field {
	f.required = true
	return f
}

// computedName is the read-only Name of people: FirstName + " " + LastName.
func computedName() *field {
	return &field{name: "Name", label: "Full Name", typ: typeString, maxLen: 121, computed: true}
}

func systemFields() []*field {
	return []*field{
		{name: "CreatedDate", label: "Created Date", typ: typeDateTime},
		{name: "LastModifiedDate", label: "Last Modified Date", typ: typeDateTime},
	}
}

func idField() *field { return &field{name: "Id", label: "Id", typ: typeID} }

func owner() *field { return ref("OwnerId", "Owner", "Owner", "User") }

func newObject(o *object, fields ...*field) *object {
	o.fields = append([]*field{idField()}, fields...)
	o.fields = append(o.fields, systemFields()...)
	o.byName = make(map[string]*field, len(o.fields))
	for _, f := range o.fields {
		o.byName[strings.ToLower(f.name)] = f
	}
	return o
}

// addFields appends fields that a later migration added to o's table: ALTER
// TABLE ADD COLUMN puts them after the system fields, and the schema keeps
// the table's column order.
func addFields(o *object, fields ...*field) *object {
	o.fields = append(o.fields, fields...)
	for _, f := range fields {
		o.byName[strings.ToLower(f.name)] = f
	}
	return o
}

// The object names.
const (
	objAccount = "Account"
	objContact = "Contact"
	objLead    = "Lead"
	objTask    = "Task"
	objUser    = "User"
)

// objects are the sObject types devcrm knows, in dependency order (parents
// before children): the order seed files are imported in.
var objects = []*object{
	newObject(&object{name: objUser, label: "User", prefix: PrefixUser, readOnly: true,
		emailFields: []string{"Email"}, nameFields: []string{"Name", "Username"}},
		required(str("Username", "Username", 80)),
		required(email("Email")),
		str("FirstName", "First Name", 40),
		required(str("LastName", "Last Name", 80)),
		computedName(),
		&field{name: "IsActive", label: "Active", typ: typeBool, createable: true, updateable: true, def: true},
	),
	addFields(newObject(&object{name: objAccount, label: "Account", prefix: PrefixAccount,
		phoneFields: []string{"Phone"}, nameFields: []string{"Name"}},
		required(str("Name", "Account Name", 255)),
		phone("Phone", "Account Phone"),
		owner(),
	),
		// migrations/002_account_number.sql
		str("AccountNumber", "Account Number", 40),
	),
	newObject(&object{name: objContact, label: "Contact", prefix: PrefixContact,
		phoneFields: []string{"Phone", "MobilePhone"}, emailFields: []string{"Email"}, nameFields: []string{"Name"}},
		str("FirstName", "First Name", 40),
		required(str("LastName", "Last Name", 80)),
		computedName(),
		phone("Phone", "Business Phone"),
		phone("MobilePhone", "Mobile Phone"),
		email("Email"),
		ref("AccountId", "Account", "Account", objAccount),
		owner(),
	),
	newObject(&object{name: objLead, label: "Lead", prefix: PrefixLead,
		phoneFields: []string{"Phone", "MobilePhone"}, emailFields: []string{"Email"}, nameFields: []string{"Name", "Company"}},
		str("FirstName", "First Name", 40),
		required(str("LastName", "Last Name", 80)),
		computedName(),
		required(str("Company", "Company", 255)),
		phone("Phone", "Phone"),
		phone("MobilePhone", "Mobile Phone"),
		email("Email"),
		owner(),
	),
	newObject(&object{name: objTask, label: "Task", prefix: PrefixTask, nameFields: []string{"Subject"}},
		str("Subject", "Subject", 255),
		&field{name: "Description", label: "Comments", typ: typeTextArea, createable: true, updateable: true},
		picklist("CallType", "Call Type", nil, "Inbound", "Outbound", "Internal"),
		&field{name: "CallDurationInSeconds", label: "Call Duration", typ: typeInt, createable: true, updateable: true},
		str("CallObject", "Call Object Identifier", 255),
		str("CallDisposition", "Call Result", 255),
		// TaskSubtype is set on create and cannot be changed afterwards.
		&field{name: "TaskSubtype", label: "Task Subtype", typ: typePicklist, maxLen: 40, createable: true,
			picklist: []string{"Task", "Call", "Email"}, def: "Task"},
		str("Type", "Type", 40),
		picklist("Status", "Status", "Not Started", "Not Started", "In Progress", "Completed"),
		picklist("Priority", "Priority", "Normal", "High", "Normal", "Low"),
		&field{name: "ActivityDate", label: "Due Date Only", typ: typeDate, createable: true, updateable: true},
		ref("WhoId", "Name", "", objContact, objLead),
		ref("WhatId", "Related To", "", objAccount),
		// AccountId is derived: the WhatId when it is an Account, else the
		// Contact's account.
		&field{name: "AccountId", label: "Account", typ: typeReference, refs: []string{objAccount}, relationship: "Account"},
		owner(),
	),
}

// objectByName returns the object with the given name (case-insensitive), or nil.
func objectByName(name string) *object {
	for _, o := range objects {
		if strings.EqualFold(o.name, name) {
			return o
		}
	}
	return nil
}

// objectByPrefix returns the object whose Ids start with the Id's key
// prefix, or nil.
func objectByPrefix(id string) *object {
	if len(id) < 3 {
		return nil
	}
	for _, o := range objects {
		if o.prefix == id[:3] {
			return o
		}
	}
	return nil
}
