package apitest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps the failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

const doc = `openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /items/{id}:
    put:
      operationId: putItem
      summary: Put an item
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [name]
              properties:
                name: {type: string, maxLength: 5}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Item'}
        "204":
          description: nothing
components:
  schemas:
    Item:
      type: object
      required: [id, name]
      properties:
        id: {type: string, pattern: '^i_'}
        name: {type: string}
        tags: {type: array, items: {type: string, enum: [a, b]}}
        at: {type: [string, "null"], format: date-time}
`

func TestKitChecksScenariosAndSpec(t *testing.T) {
	spec, err := ParseSpec([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Check(); err != nil {
		t.Fatal(err)
	}
	var reply string
	status := 200
	kit := &Kit{Spec: spec, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Secret", "s3cret")
		w.WriteHeader(status)
		w.Write([]byte(reply))
	})}
	for _, c := range []struct {
		name   string
		status int
		reply  string
		sc     Scenario
		want   []string // substrings of the failures, in order; none for a pass
	}{
		{"pass", 200, `{"id":"i_1","name":"n","tags":["a"],"at":null}`,
			Scenario{Method: "PUT", URL: "/items/i_1", Body: `{"name":"n"}`, WantStatus: 200, WantContains: []string{`"i_1"`}}, nil},
		{"status", 200, `{"id":"i_1","name":"n"}`,
			Scenario{Method: "PUT", URL: "/items/i_1", Body: `{"name":"n"}`, WantStatus: 201}, []string{"status 200, want 201"}},
		{"contains and not contains", 200, `{"id":"i_1","name":"n"}`,
			Scenario{Method: "PUT", URL: "/items/i_1", Body: `{"name":"n"}`, WantContains: []string{"zzz"}, WantNotContains: []string{`"n"`, "s3cret"}},
			[]string{`does not contain "zzz"`, `body contains "\"n\""`, `header X-Secret contains "s3cret"`}},
		{"header", 200, `{"id":"i_1","name":"n"}`,
			Scenario{Method: "PUT", URL: "/items/i_1", Body: `{"name":"n"}`, WantHeader: map[string]string{"X-Secret": "", "X-Other": "1"}},
			[]string{`header X-Other = "", want "1"`, `header X-Secret = "s3cret", want ""`}},
		{"response schema", 200, `{"id":"x_1","name":"n","tags":["c"]}`,
			Scenario{Method: "PUT", URL: "/items/i_1", Body: `{"name":"n"}`}, []string{`"x_1" does not match ^i_`}},
		{"array item", 200, `{"id":"i_1","name":"n","tags":["c"]}`,
			Scenario{Method: "PUT", URL: "/items/i_1", Body: `{"name":"n"}`}, []string{`$.tags[0]: "c" is not one of [a b]`}},
		{"request schema", 200, `{"id":"i_1","name":"n"}`,
			Scenario{Method: "PUT", URL: "/items/i_1", Body: `{"name":"toolong"}`}, []string{"request does not match the API document: PUT /items/{id}: request body: $.name: 7 characters, more than maxLength 5"}},
		{"body where none is documented", 204, `{}`,
			Scenario{Method: "PUT", URL: "/items/i_1", Body: `{"name":"n"}`}, []string{"documented without a body"}},
		{"undocumented status", 500, `{}`,
			Scenario{Method: "PUT", URL: "/items/i_1", Body: `{"name":"n"}`}, []string{"status 500 is not documented"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, reply = c.status, c.reply
			rec := &recorder{TB: t}
			kit.Do(rec, c.sc)
			if len(rec.errs) != len(c.want) {
				t.Fatalf("failures %q, want %d like %q", rec.errs, len(c.want), c.want)
			}
			for i, w := range c.want {
				if !strings.Contains(rec.errs[i], w) {
					t.Errorf("failure %d = %q, want it to contain %q", i, rec.errs[i], w)
				}
			}
		})
	}
}

func TestSpecMatchPrefersLiterals(t *testing.T) {
	spec, err := ParseSpec([]byte(`openapi: 3.1.0
paths:
  /a/{id}: {get: {responses: {"200": {description: x}}}}
  /a/new: {get: {responses: {"200": {description: x}}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/a/new": "/a/new", "/a/x1": "/a/{id}"} {
		if got, ok := spec.Match("GET", path); !ok || got != want {
			t.Errorf("Match(%s) = %q, %v; want %q", path, got, ok, want)
		}
	}
	if _, ok := spec.Match("POST", "/a/new"); ok {
		t.Error("POST matched a GET-only path")
	}
	if _, ok := spec.Match("GET", "/a/"); ok {
		t.Error("an empty segment matched {id}")
	}
	if got := spec.Operations(); fmt.Sprint(got) != "[GET /a/new GET /a/{id}]" {
		t.Errorf("Operations() = %v", got)
	}
}

const oneOfDoc = `openapi: 3.1.0
paths: {}
components:
  schemas:
    Frame:
      oneOf:
        - $ref: '#/components/schemas/Hello'
        - $ref: '#/components/schemas/Ended'
        - type: object
          properties:
            type: {const: loose}
            n: {type: integer}
    Header:
      type: object
      required: [type, seq]
      properties:
        type: {type: string}
        seq: {type: integer, minimum: 0}
    Hello:
      allOf: [{$ref: '#/components/schemas/Header'}]
      type: object
      required: [data]
      properties:
        type: {const: hello}
        data: {type: object, required: [version], properties: {version: {type: string}}}
    Ended:
      allOf: [{$ref: '#/components/schemas/Header'}]
      type: object
      required: [data]
      properties:
        type: {type: string, enum: [ended, hung_up]}
        data: {type: object, required: [by], properties: {by: {type: string}}}
    Either:
      oneOf: [{type: string}, {type: string, maxLength: 3}]
`

func TestSpecOneOf(t *testing.T) {
	spec, err := ParseSpec([]byte(oneOfDoc))
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Check(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, schema, body string
		want               string // a substring of the error; "" for valid
	}{
		{"hello", "Frame", `{"type":"hello","seq":0,"data":{"version":"1"}}`, ""},
		{"ended", "Frame", `{"type":"hung_up","seq":3,"data":{"by":"customer"}}`, ""},
		{"inline alternative", "Frame", `{"type":"loose","n":2}`, ""},
		{"data of another type", "Frame", `{"type":"hello","seq":1,"data":{"by":"customer"}}`,
			`matches none of oneOf: Hello: $.data: required property "version" is missing; Ended: $.type: "hello" is not one of [ended hung_up]; oneOf[2]`},
		{"the variant narrows the shared property", "Hello", `{"type":"ended","seq":1,"data":{"version":"1"}}`, `$.type: "ended" is not hello`},
		{"the shared header still checks", "Frame", `{"type":"hello","seq":-1,"data":{"version":"1"}}`, "-1 is less than minimum 0"},
		{"undocumented property in a variant", "Frame", `{"type":"ended","seq":1,"data":{"by":"x"},"extra":1}`, `Ended: $: property "extra" is not documented`},
		{"two alternatives match", "Either", `"abc"`, "matches oneOf[0] and oneOf[1]; oneOf wants exactly one"},
		{"one alternative matches", "Either", `"abcd"`, ""},
	} {
		err := spec.CheckSchema(c.schema, []byte(c.body))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: err = %v, want it to say %q", c.name, err, c.want)
		}
	}
	props, required, err := spec.SchemaFields("Hello")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(props) != "[data seq type]" || fmt.Sprint(required) != "[data seq type]" {
		t.Errorf("SchemaFields(Hello) = %v, %v; want [data seq type] twice", props, required)
	}
	if _, _, err := spec.SchemaFields("Nope"); err == nil {
		t.Error("SchemaFields of a missing schema succeeded")
	}
}
