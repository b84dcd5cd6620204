package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
)

// FactType is the type of a fact value. Every string that leaves the machine belongs to one
// of these grammars; there is no free-text type.
type FactType string

// Fact types.
const (
	// FactBool is true or false.
	FactBool FactType = "bool"
	// FactInt is an integer within the declared [min, max] range.
	FactInt FactType = "int"
	// FactEnum is one of the declared values; anything else is sent as "other".
	FactEnum FactType = "enum"
	// FactVersion is a software version matching VersionPattern.
	FactVersion FactType = "version"
	// FactPort is a TCP/UDP port number, 1–65535.
	FactPort FactType = "port"
	// FactObject is an opaque object id: a truncated keyed hash of an object name
	// (a container, a site), stable per host and meaningless elsewhere.
	FactObject FactType = "object"
)

// OtherValue is what an enum fact carries when the observed value is not declared.
const OtherValue = "other"

// DefaultMaxItems bounds list facts that do not declare max_items.
const DefaultMaxItems = 64

// VersionPattern is the grammar of version facts.
var VersionPattern = regexp.MustCompile(`^[A-Za-z0-9.+~:_-]{1,64}$`)

// ObjectPattern is the grammar of object facts on the wire: 16 bytes of HMAC-SHA256 in hex.
var ObjectPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// EnumValuePattern is the grammar of declared enum values.
var EnumValuePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]{0,63}$`)

// FactSchema declares one fact key of a check.
type FactSchema struct {
	// Type is the value type.
	Type FactType `yaml:"type" json:"type"`
	// Description says what the value means.
	Description string `yaml:"description" json:"description"`
	// Min and Max bound int facts (both required for int).
	Min *int64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max *int64 `yaml:"max,omitempty" json:"max,omitempty"`
	// Values lists the allowed values of an enum fact.
	Values []string `yaml:"values,omitempty" json:"values,omitempty"`
	// List makes the fact a list of values of Type.
	List bool `yaml:"list,omitempty" json:"list,omitempty"`
	// MaxItems bounds a list fact (default DefaultMaxItems).
	MaxItems int `yaml:"max_items,omitempty" json:"max_items,omitempty"`
}

func (s FactSchema) validate() error {
	if s.Description == "" {
		return errors.New("description is required")
	}
	switch s.Type {
	case FactBool, FactVersion, FactPort, FactObject:
		if s.Min != nil || s.Max != nil || len(s.Values) > 0 {
			return fmt.Errorf("type %s takes no min, max or values", s.Type)
		}
	case FactInt:
		if s.Min == nil || s.Max == nil || *s.Min > *s.Max {
			return errors.New("int facts need min <= max")
		}
		if len(s.Values) > 0 {
			return errors.New("int facts take no values")
		}
	case FactEnum:
		if len(s.Values) == 0 {
			return errors.New("enum facts need values")
		}
		for _, v := range s.Values {
			if !EnumValuePattern.MatchString(v) {
				return fmt.Errorf("enum value %q must match %s", v, EnumValuePattern)
			}
		}
	default:
		return fmt.Errorf("unknown fact type %q", s.Type)
	}
	if s.List && s.Type == FactBool {
		// Normalize would drop every value of such a fact; refuse the declaration instead.
		return errors.New("lists of bool are not supported")
	}
	if !s.List && s.MaxItems != 0 {
		return errors.New("max_items needs list: true")
	}
	if s.MaxItems < 0 {
		return errors.New("max_items must be positive")
	}
	return nil
}

func (s FactSchema) maxItems() int {
	if s.MaxItems > 0 {
		return s.MaxItems
	}
	return DefaultMaxItems
}

// ObjectHasher turns an object name into its wire id.
type ObjectHasher func(name string) string

// Normalize converts a fact value observed by a check into its wire form, or reports why it
// does not fit the schema. Unknown enum values become OtherValue; object names are hashed
// with hash. The returned value is bool, int64, string, []int64 or []string.
func (s FactSchema) Normalize(v any, hash ObjectHasher) (any, error) {
	if !s.List {
		return s.normalizeScalar(v, hash)
	}
	items, err := listItems(v)
	if err != nil {
		return nil, err
	}
	if len(items) > s.maxItems() {
		return nil, fmt.Errorf("list has %d items, more than %d", len(items), s.maxItems())
	}
	switch s.Type {
	case FactInt, FactPort:
		out := make([]int64, 0, len(items))
		for _, item := range items {
			n, err := s.normalizeInt(item)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, nil
	case FactBool:
		return nil, errors.New("lists of bool are not supported")
	default:
		out := make([]string, 0, len(items))
		for _, item := range items {
			str, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("want string, got %T", item)
			}
			norm, err := s.normalizeString(str, hash)
			if err != nil {
				return nil, err
			}
			out = append(out, norm)
		}
		return out, nil
	}
}

// ValidateWire checks a value received on the wire (decoded by encoding/json with
// UseNumber) against the schema and returns it in normal form. Unlike Normalize, it never
// rewrites: an undeclared enum value or an unhashed object name is an error.
func (s FactSchema) ValidateWire(v any) (any, error) {
	if s.Type == FactEnum {
		check := func(item any) error {
			str, ok := item.(string)
			if !ok {
				return fmt.Errorf("enum value must be a string, got %T", item)
			}
			if str != OtherValue && !slices.Contains(s.Values, str) {
				return fmt.Errorf("undeclared enum value")
			}
			return nil
		}
		if s.List {
			items, err := listItems(v)
			if err != nil {
				return nil, err
			}
			for _, item := range items {
				if err := check(item); err != nil {
					return nil, err
				}
			}
		} else if err := check(v); err != nil {
			return nil, err
		}
	}
	return s.Normalize(v, nil)
}

func (s FactSchema) normalizeScalar(v any, hash ObjectHasher) (any, error) {
	switch s.Type {
	case FactBool:
		if _, ok := v.(bool); !ok {
			return nil, fmt.Errorf("want bool, got %T", v)
		}
		return v, nil
	case FactInt, FactPort:
		n, err := s.normalizeInt(v)
		if err != nil {
			return nil, err
		}
		return n, nil
	case FactEnum, FactVersion, FactObject:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want string, got %T", v)
		}
		out, err := s.normalizeString(str, hash)
		if err != nil {
			return nil, err
		}
		if out == str {
			return v, nil // already boxed: no new allocation
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown fact type %q", s.Type)
}

// normalizeInt checks an int or port value against its range.
func (s FactSchema) normalizeInt(v any) (int64, error) {
	n, err := toInt64(v)
	if err != nil {
		return 0, err
	}
	lo, hi := int64(1), int64(65535)
	if s.Type == FactInt {
		lo, hi = *s.Min, *s.Max
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("value out of range [%d, %d]", lo, hi)
	}
	return n, nil
}

// normalizeString checks or converts an enum, version or object value.
func (s FactSchema) normalizeString(str string, hash ObjectHasher) (string, error) {
	switch s.Type {
	case FactEnum:
		if slices.Contains(s.Values, str) {
			return str, nil
		}
		return OtherValue, nil
	case FactVersion:
		if !VersionPattern.MatchString(str) {
			return "", errors.New("not a version string")
		}
		return str, nil
	case FactObject:
		if hash == nil {
			if !ObjectPattern.MatchString(str) {
				return "", errors.New("not an object id")
			}
			return str, nil
		}
		if str == "" {
			return "", errors.New("empty object name")
		}
		return hash(str), nil
	}
	return "", fmt.Errorf("unknown fact type %q", s.Type)
}

func toInt64(v any) (int64, error) {
	switch n := v.(type) {
	case int:
		return int64(n), nil
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	case uint:
		if uint64(n) > math.MaxInt64 {
			return 0, errors.New("integer overflows int64")
		}
		return int64(n), nil
	case uint64:
		if n > math.MaxInt64 {
			return 0, errors.New("integer overflows int64")
		}
		return int64(n), nil
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return 0, errors.New("not an integer")
		}
		return i, nil
	case float64:
		// float64(math.MaxInt64) rounds up to 2^63, which does not fit: compare against
		// the exact powers of two so the conversion below is always in range.
		if n != math.Trunc(n) || math.IsInf(n, 0) || n >= 0x1p63 || n < -0x1p63 {
			return 0, errors.New("not an integer")
		}
		return int64(n), nil
	}
	return 0, fmt.Errorf("want integer, got %T", v)
}

// listItems turns any slice into []any.
func listItems(v any) ([]any, error) {
	switch l := v.(type) {
	case []any:
		return l, nil
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, nil
	case []int64:
		out := make([]any, len(l))
		for i, n := range l {
			out[i] = n
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("want list, got %T", v)
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}
