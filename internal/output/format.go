package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/template"

	"github.com/dplug/dplug/internal/exitcode"
)

// FormatError is a --format template that does not parse: the user's
// mistake (the CLI exits 2), unlike a template that fails on a value.
type FormatError struct{ Err error }

func (e *FormatError) Error() string { return "parsing --format: " + e.Err.Error() }
func (e *FormatError) Unwrap() error { return e.Err }

// ExitClass makes a --format template that does not parse a usage error
// for the CLI (exitcode.Classed).
func (e *FormatError) ExitClass() int { return exitcode.Usage }

// Template parses a --format Go template with the function docker's
// --format users reach for first: json, which prints its argument as JSON
// ({{json .Config}}). A parse failure is a *FormatError.
func Template(name, text string) (*template.Template, error) {
	t, err := template.New(name).Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}).Parse(text)
	if err != nil {
		return nil, &FormatError{Err: err}
	}
	return t, nil
}

// Each writes every item through the --format template text, one a line.
func Each[T any](w io.Writer, name, text string, items []T) error {
	tmpl, err := Template(name, text)
	if err != nil {
		return err
	}
	for _, v := range items {
		if err := Execute(w, tmpl, v); err != nil {
			return fmt.Errorf("executing --format: %w", err)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// Lines writes every item on a line of its own: as compact JSON when
// format is "json" (docker's --format json), else through the --format
// template format, as Each does.
func Lines[T any](w io.Writer, name, format string, items []T) error {
	if format != "json" {
		return Each(w, name, format, items)
	}
	enc := json.NewEncoder(w)
	for _, v := range items {
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return nil
}

// Inspect writes items as docker's inspect commands do: through the
// --format template format, one a line, or, with no format, as one JSON
// array indented like JSON's.
func Inspect[T any](w io.Writer, name, format string, items []T) error {
	if format == "" {
		return JSON(w, items)
	}
	return Each(w, name, format, items)
}

// Execute runs tmpl on v and writes the result to w. When the template
// fails on v's Go fields (a field named as in the JSON output, such as
// {{.Id}}, where the Go field is ID), it runs again on v's JSON form, like
// docker's inspect does, so every key the JSON output shows works in a
// template. Nothing is written when both fail; the first error is returned.
func Execute(w io.Writer, tmpl *template.Template, v any) error {
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

// JSON writes v as JSON indented by four spaces, as docker does, and a
// newline.
func JSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// Human renders a byte count in B, KiB, MiB or GiB.
func Human(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// ParseSize reads a positive byte count written like 512MiB, 4GiB, 8G or
// 1000000 (binary units; K, M, G, T with or without i and B).
func ParseSize(v string) (int64, error) {
	num := strings.TrimRight(v, "KMGTiBkmgtb")
	unit := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(v[len(num):], "B"), "b"))
	mult := map[string]int64{"": 1, "k": 1 << 10, "ki": 1 << 10, "m": 1 << 20, "mi": 1 << 20,
		"g": 1 << 30, "gi": 1 << 30, "t": 1 << 40, "ti": 1 << 40}[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || mult == 0 || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("want a positive size like 512MiB or 8GiB")
	}
	return n * mult, nil
}

// Size is a byte count that reads like ParseSize and prints like Human (""
// for 0): a --max-size flag's value (String, Set and Type make it a
// pflag.Value without this package importing pflag).
type Size int64

func (s *Size) String() string {
	if *s == 0 {
		return ""
	}
	return Human(int64(*s))
}

// Set parses v with ParseSize.
func (s *Size) Set(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s = Size(n)
	return nil
}

// Type names the value in flag usage.
func (s *Size) Type() string { return "SIZE" }
