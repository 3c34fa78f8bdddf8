package pack

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxWord is the longest word an error message keeps whole; longer ones
// (a hostile layer's 4 KB path, twice) are cut in the middle.
const maxWord = 160

// shortError is an error whose message has been shortened; errors.Is and
// errors.As still see the original.
type shortError struct {
	msg string
	err error
}

func (e *shortError) Error() string { return e.msg }
func (e *shortError) Unwrap() error { return e.err }

// shorten rewrites err's message: each host directory in dirs (which
// extraction targets) becomes its given short name, and words longer than
// maxWord are cut in the middle.
func shorten(err error, dirs map[string]string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for long, short := range dirs {
		msg = strings.ReplaceAll(msg, long+"//", short+"/")
		msg = strings.ReplaceAll(msg, long, short)
	}
	words := strings.Split(msg, " ")
	for i, w := range words {
		if len(w) > maxWord {
			words[i] = elide(w)
		}
	}
	if short := strings.Join(words, " "); short != err.Error() {
		return &shortError{msg: short, err: err}
	}
	return err
}

// elide keeps the head and tail of w, on rune boundaries.
func elide(w string) string {
	const keep = 60
	head, tail := keep, len(w)-keep
	for head > 0 && !utf8.RuneStart(w[head]) {
		head--
	}
	for tail < len(w) && !utf8.RuneStart(w[tail]) {
		tail++
	}
	return fmt.Sprintf("%s…(%d bytes)…%s", w[:head], tail-head, w[tail:])
}
