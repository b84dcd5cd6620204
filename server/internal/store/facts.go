package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// AppendFactsJSON appends the JSON object of a result's facts to buf, keys sorted. Facts
// are in the wire normal form after report.Validate (bool, int64, string, []int64,
// []string); they are encoded without reflection, which matters at ~120 results per upload.
// Any other value type falls back to encoding/json.
func AppendFactsJSON(buf []byte, facts map[string]any) ([]byte, error) {
	var keyArr [16]string
	keys := keyArr[:0]
	for k := range facts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		var err error
		if buf, err = appendFactValue(buf, facts[k]); err != nil {
			return nil, fmt.Errorf("encode fact %s: %w", k, err)
		}
	}
	return append(buf, '}'), nil
}

func appendFactValue(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(buf, x), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case string:
		return appendJSONString(buf, x), nil
	case []int64:
		buf = append(buf, '[')
		for i, n := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendInt(buf, n, 10)
		}
		return append(buf, ']'), nil
	case []string:
		buf = append(buf, '[')
		for i, s := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, s)
		}
		return append(buf, ']'), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(buf, b...), nil
}

// appendJSONString appends s as a JSON string. s is valid UTF-8 (it was decoded from JSON);
// only the quote, the backslash and control characters need escaping.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
