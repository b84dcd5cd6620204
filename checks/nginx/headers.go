package nginx

import (
	"regexp"
	"strconv"
	"strings"
)

// header is a response header added with add_header.
type header struct {
	name, value string
	// always: sent with every status code, not only 2xx/3xx.
	always bool
	by     *Directive
}

// headersAt returns the add_header headers in effect at a level. add_header is inherited
// from the enclosing level only when the level has no add_header of its own (so one
// add_header in a location drops every header set for its server), unless
// add_header_inherit (nginx 1.29.3) says otherwise: "off" never inherits, "merge" adds the
// enclosing level's headers to the level's own. add_header_inherit itself is inherited as
// usual. A header with an empty value is not sent.
func headersAt(d *Directive) []header {
	var own []header
	for _, a := range d.All("add_header") {
		if len(a.Args) < 2 || a.Args[1] == "" {
			continue
		}
		own = append(own, header{name: a.Args[0], value: a.Args[1], always: a.Arg(2) == "always", by: a})
	}
	if d.parent == nil || d.Name == "http" {
		return own
	}
	switch lookupValue(d, "add_header_inherit", "on") {
	case "off":
		return own
	case "merge":
		return append(own, headersAt(d.parent)...)
	}
	if len(d.All("add_header")) > 0 {
		return own
	}
	return headersAt(d.parent)
}

// findHeader returns the first header named name (case-insensitive), ok=false when absent.
func findHeader(hs []header, name string) (header, bool) {
	for _, h := range hs {
		if strings.EqualFold(h.name, name) {
			return h, true
		}
	}
	return header{}, false
}

var maxAgePattern = regexp.MustCompile(`(?i)max-age\s*=\s*"?(\d+)`)

// hstsMaxAge parses max-age from a Strict-Transport-Security value; ok=false when it has
// none (or only a variable).
func hstsMaxAge(value string) (int64, bool) {
	m := maxAgePattern.FindStringSubmatch(value)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 1 << 62, true // more digits than fit: a very long max-age
	}
	return n, true
}
