package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// diff returns "" when got equals want, else the path and values of the
// first difference. Times are equal when they are the same instant and got
// is in UTC; JSON documents are equal when they decode to the same value.
// Nil and empty slices and maps differ: stores round-trip them exactly.
//
// At the top level, a nil list equals an empty one: a store may return
// either for no results.
func diff(got, want any) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Kind() == reflect.Slice && w.Kind() == reflect.Slice && g.Len() == 0 && w.Len() == 0 && g.Type() == w.Type() {
		return ""
	}
	return diffValue("", reflect.ValueOf(got), reflect.ValueOf(want))
}

func diffValue(path string, got, want reflect.Value) string {
	if !got.IsValid() || !want.IsValid() {
		if got.IsValid() != want.IsValid() {
			return fmt.Sprintf("%s: got %v, want %v", where(path), got, want)
		}
		return ""
	}
	if got.Type() != want.Type() {
		return fmt.Sprintf("%s: got type %s, want %s", where(path), got.Type(), want.Type())
	}
	switch {
	case got.Type() == timeType:
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) || (!g.IsZero() && g.Location() != time.UTC) {
			return fmt.Sprintf("%s: got %s, want %s in UTC", where(path), g.Format(time.RFC3339Nano+" MST"), w.UTC().Format(time.RFC3339Nano))
		}
		return ""
	case got.Type() == rawType:
		return diffJSON(path, got.Interface().(json.RawMessage), want.Interface().(json.RawMessage))
	}
	switch got.Kind() {
	case reflect.Pointer, reflect.Interface:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				return fmt.Sprintf("%s: got %v, want %v", where(path), got, want)
			}
			return ""
		}
		return diffValue(path, got.Elem(), want.Elem())
	case reflect.Struct:
		if !allExported(got.Type()) {
			break // such as netip.Prefix: compared whole, below
		}
		for i := range got.NumField() {
			name := got.Type().Field(i).Name
			if d := diffValue(path+"."+name, got.Field(i), want.Field(i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice:
		if got.IsNil() != want.IsNil() || got.Len() != want.Len() {
			return fmt.Sprintf("%s: got %d items (nil %t), want %d (nil %t): %v, want %v",
				where(path), got.Len(), got.IsNil(), want.Len(), want.IsNil(), got, want)
		}
		for i := range got.Len() {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i)); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(got.Interface(), want.Interface()) {
		return fmt.Sprintf("%s: got %#v, want %#v", where(path), got.Interface(), want.Interface())
	}
	return ""
}

func diffJSON(path string, got, want json.RawMessage) string {
	if (got == nil) != (want == nil) {
		return fmt.Sprintf("%s: got JSON %q, want %q", where(path), got, want)
	}
	if got == nil {
		return ""
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Sprintf("%s: got invalid JSON %q: %v", where(path), got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		return fmt.Sprintf("%s: want invalid JSON %q: %v", where(path), want, err)
	}
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("%s: got JSON %s, want %s", where(path), got, want)
	}
	return ""
}

func allExported(t reflect.Type) bool {
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			return false
		}
	}
	return true
}

func where(path string) string {
	if path == "" {
		return "value"
	}
	return strings.TrimPrefix(path, ".")
}
