package validate

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit: dockerd cannot decode anything
// deeper, and the validator's recursion stays bounded.
const maxDepth = 10000

// Node kinds.
const (
	kObject byte = 'o'
	kArray  byte = 'a'
	kString byte = 's'
	kNumber byte = 'n'
	kBool   byte = 'b'
	kNull   byte = 'z'
)

// node is one JSON value with the byte offsets of its key and value, so that
// any finding can be located. Objects keep every member in document order,
// duplicates included; normalisation later resolves them.
type node struct {
	kind    byte
	off     int    // offset of the value's first byte
	keyOff  int    // offset of the key's opening quote; -1 for array elements and the root
	key     string // the key as written (decoded); canonical after normalisation
	rawKey  string // the key as written, kept through normalisation
	str     string // string value, or number literal
	b       bool
	members []*node // object members
	elems   []*node // array elements
	ptr     string  // JSON pointer with canonical keys (set by normalisation)
	unknown bool    // a member dockerd does not decode (set by normalisation)
	set     bool    // a value given by an install-time setting (WithSettings)
}

// syntaxError is a located JSON error.
type syntaxError struct {
	off  int
	rule string
	msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

type scanner struct {
	data  []byte
	pos   int
	depth int
}

// parseJSON decodes data (which must not start with a BOM; the caller skips
// it and passes start) into a node tree, or returns a located syntaxError.
// It accepts exactly what encoding/json accepts.
func parseJSON(data []byte, start int) (*node, *syntaxError) {
	s := &scanner{data: data, pos: start}
	s.skipSpace()
	if s.pos >= len(s.data) {
		return nil, s.errAt(s.pos, "unexpected end of JSON input: the file is empty")
	}
	n, err := s.value()
	if err != nil {
		return nil, err
	}
	n.keyOff = -1
	s.skipSpace()
	if s.pos < len(s.data) {
		return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s after top-level value", quoteByte(s.data, s.pos)))
	}
	return n, nil
}

func (s *scanner) errAt(off int, msg string) *syntaxError {
	return &syntaxError{off: off, rule: "DP001", msg: msg}
}

func (s *scanner) eof(what string) *syntaxError {
	return s.errAt(len(s.data), "unexpected end of JSON input "+what+": the file is truncated")
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value() (*node, *syntaxError) {
	if s.pos >= len(s.data) {
		return nil, s.eof("where a value was expected")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		off := s.pos
		str, err := s.string()
		if err != nil {
			return nil, err
		}
		return &node{kind: kString, off: off, keyOff: -1, str: str}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true", kBool, true)
	case c == 'f':
		return s.literal("false", kBool, false)
	case c == 'n':
		return s.literal("null", kNull, false)
	default:
		return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s looking for beginning of value", quoteByte(s.data, s.pos)))
	}
}

func (s *scanner) literal(lit string, kind byte, b bool) (*node, *syntaxError) {
	off := s.pos
	for i := 0; i < len(lit); i++ {
		if s.pos >= len(s.data) {
			return nil, s.eof("in literal " + lit)
		}
		if s.data[s.pos] != lit[i] {
			return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s in literal %s", quoteByte(s.data, s.pos), lit))
		}
		s.pos++
	}
	return &node{kind: kind, off: off, keyOff: -1, b: b}, nil
}

func (s *scanner) number() (*node, *syntaxError) {
	off := s.pos
	d := s.data
	if d[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	if s.pos >= len(d) {
		return nil, s.eof("in number")
	}
	if d[s.pos] == '0' {
		s.pos++
	} else if digits() == 0 {
		return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s in numeric literal", quoteByte(d, s.pos)))
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if s.pos >= len(d) {
			return nil, s.eof("in number")
		}
		if digits() == 0 {
			return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s after decimal point in numeric literal", quoteByte(d, s.pos)))
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.pos >= len(d) {
			return nil, s.eof("in number")
		}
		if digits() == 0 {
			return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s in exponent of numeric literal", quoteByte(d, s.pos)))
		}
	}
	return &node{kind: kNumber, off: off, keyOff: -1, str: string(d[off:s.pos])}, nil
}

// string decodes the string literal at s.pos like encoding/json: control
// characters are errors, invalid UTF-8 and lone surrogates become U+FFFD.
func (s *scanner) string() (string, *syntaxError) {
	d := s.data
	s.pos++ // opening quote
	start := s.pos
	// Fast path: no escapes, all ASCII or valid UTF-8.
	for s.pos < len(d) {
		c := d[s.pos]
		if c == '"' {
			str := string(d[start:s.pos])
			s.pos++
			return str, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		s.pos++
	}
	buf := make([]byte, 0, s.pos-start+16)
	buf = append(buf, d[start:s.pos]...)
	for {
		if s.pos >= len(d) {
			return "", s.eof("in string literal")
		}
		c := d[s.pos]
		switch {
		case c == '"':
			s.pos++
			return string(buf), nil
		case c < 0x20:
			return "", s.errAt(s.pos, fmt.Sprintf("invalid character %s in string literal", quoteByte(d, s.pos)))
		case c == '\\':
			if s.pos+1 >= len(d) {
				return "", s.eof("in string escape")
			}
			e := d[s.pos+1]
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, err := s.hex4(s.pos + 2)
				if err != nil {
					return "", err
				}
				s.pos += 6
				if utf16.IsSurrogate(r) {
					if s.pos+1 < len(d) && d[s.pos] == '\\' && d[s.pos+1] == 'u' {
						r2, err := s.hex4(s.pos + 2)
						if err != nil {
							return "", err
						}
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							s.pos += 6
							buf = utf8.AppendRune(buf, dec)
							continue
						}
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default:
				return "", s.errAt(s.pos+1, fmt.Sprintf("invalid character %s in string escape code", quoteByte(d, s.pos+1)))
			}
			s.pos += 2
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			s.pos++
		default:
			r, size := utf8.DecodeRune(d[s.pos:])
			if r == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, d[s.pos:s.pos+size]...)
			}
			s.pos += size
		}
	}
}

func (s *scanner) hex4(at int) (rune, *syntaxError) {
	var r rune
	for i := 0; i < 4; i++ {
		if at+i >= len(s.data) {
			return 0, s.eof("in \\u escape")
		}
		c := s.data[at+i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, s.errAt(at+i, fmt.Sprintf("invalid character %s in \\u hexadecimal character escape", quoteByte(s.data, at+i)))
		}
	}
	return r, nil
}

func (s *scanner) enter() *syntaxError {
	s.depth++
	if s.depth > maxDepth {
		return &syntaxError{off: s.pos, rule: "DP005", msg: fmt.Sprintf("JSON nested deeper than %d levels: encoding/json (and so dockerd) refuses it", maxDepth)}
	}
	return nil
}

func (s *scanner) object() (*node, *syntaxError) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	n := &node{kind: kObject, off: s.pos, keyOff: -1}
	s.pos++ // {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return n, nil
	}
	for {
		if s.pos >= len(s.data) {
			return nil, s.eof("in object, where a key was expected")
		}
		if s.data[s.pos] != '"' {
			if s.data[s.pos] == '}' {
				return nil, s.errAt(s.pos, "trailing comma before '}': JSON allows none")
			}
			return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s looking for beginning of object key string", quoteByte(s.data, s.pos)))
		}
		keyOff := s.pos
		key, err := s.string()
		if err != nil {
			return nil, err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, s.eof("after object key")
		}
		if s.data[s.pos] != ':' {
			return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s after object key: want ':'", quoteByte(s.data, s.pos)))
		}
		s.pos++
		s.skipSpace()
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		v.keyOff, v.key, v.rawKey = keyOff, key, key
		n.members = append(n.members, v)
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, s.eof("in object, where ',' or '}' was expected")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case '}':
			s.pos++
			s.depth--
			return n, nil
		default:
			return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s after object key:value pair: want ',' or '}'", quoteByte(s.data, s.pos)))
		}
	}
}

func (s *scanner) array() (*node, *syntaxError) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	n := &node{kind: kArray, off: s.pos, keyOff: -1}
	s.pos++ // [
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return n, nil
	}
	for {
		if s.pos < len(s.data) && s.data[s.pos] == ']' {
			return nil, s.errAt(s.pos, "trailing comma before ']': JSON allows none")
		}
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		n.elems = append(n.elems, v)
		s.skipSpace()
		if s.pos >= len(s.data) {
			return nil, s.eof("in array, where ',' or ']' was expected")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case ']':
			s.pos++
			s.depth--
			return n, nil
		default:
			return nil, s.errAt(s.pos, fmt.Sprintf("invalid character %s after array element: want ',' or ']'", quoteByte(s.data, s.pos)))
		}
	}
}

// quoteByte renders the character at off for a message: printable ASCII
// quoted, anything else as a hex byte.
func quoteByte(d []byte, off int) string {
	if off >= len(d) {
		return "EOF"
	}
	c := d[off]
	if c >= 0x20 && c < 0x7f {
		if c == '\'' {
			return `'\''`
		}
		return "'" + string(c) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// lineIndex maps byte offsets to 1-based line:column (column in bytes).
type lineIndex struct {
	data   []byte
	starts []int // offsets where lines start; built on first use
}

func (li *lineIndex) pos(off int) (line, col int) {
	if li.starts == nil {
		li.starts = append(make([]int, 0, 64), 0)
		for i, c := range li.data {
			if c == '\n' {
				li.starts = append(li.starts, i+1)
			}
		}
	}
	if off > len(li.data) {
		off = len(li.data)
	}
	if off < 0 {
		off = 0
	}
	// Binary search for the last line start <= off.
	lo, hi := 0, len(li.starts)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if li.starts[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1, off - li.starts[lo] + 1
}
