package source

import (
	"bytes"
	"encoding/json"
	"strings"
)

// topLevel decodes the top-level object of data with its keys lowercased
// (dockerd matches keys case-insensitively). ok is false when data is not
// JSON; v is nil when it is JSON but not an object.
func topLevel(data []byte) (v map[string]json.RawMessage, ok bool) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var any json.RawMessage
	if err := json.Unmarshal(data, &any); err != nil {
		return nil, false
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(any, &obj); err != nil || obj == nil {
		return nil, true
	}
	v = make(map[string]json.RawMessage, len(obj))
	for k, raw := range obj {
		v[strings.ToLower(k)] = raw
	}
	return v, true
}
