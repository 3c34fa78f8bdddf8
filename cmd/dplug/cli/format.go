package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"text/template"
)

// parseFormat parses a --format Go template with the function docker's
// --format users reach for first: json, which prints its argument as JSON
// ({{json .Config}}).
func parseFormat(name, text string) (*template.Template, error) {
	return template.New(name).Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}).Parse(text)
}

// executeFormat runs tmpl on v and writes the result to w. When the
// template fails on v's Go fields (a field named as in the JSON output, such
// as {{.Id}}, where the Go field is ID), it runs again on v's JSON form,
// like docker's inspect does, so every key the JSON output shows works in
// a template. Nothing is written when both fail; the first error is
// returned.
func executeFormat(w io.Writer, tmpl *template.Template, v any) error {
	var buf bytes.Buffer
	err := tmpl.Execute(&buf, v)
	if err != nil {
		b, merr := json.Marshal(v)
		if merr != nil {
			return err
		}
		var raw any
		if json.Unmarshal(b, &raw) != nil {
			return err
		}
		// A key missing from the JSON form stays an error, as on the Go value.
		strict, cerr := tmpl.Clone()
		if cerr != nil {
			return err
		}
		buf.Reset()
		if strict.Option("missingkey=error").Execute(&buf, raw) != nil {
			return err
		}
	}
	_, err = w.Write(buf.Bytes())
	return err
}
