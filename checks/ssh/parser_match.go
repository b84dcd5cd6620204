package ssh

import (
	"errors"
	"fmt"
	"strings"
)

// matchLine evaluates the criteria of a Match line (servconf.c match_cfg_line) for the
// parser's probe. In the first pass (no probe) and inside an inactive Match (never) the
// criteria are only validated and no block applies, except "Match All". It returns
// whether the block applies and what is left of the line.
func (p *parser) matchLine(cond *string, never bool) (bool, *string, error) {
	ci := p.probe
	if never {
		ci = nil
	}
	cp := cond
	result := true
	attributes := 0
	for {
		attrib, ok := strdelim(&cp)
		if !ok || attrib == "" {
			break
		}
		if attrib[0] == '#' {
			cp = nil
			break
		}
		attributes++
		if asciiLower(attrib) == "all" {
			if attributes > 1 {
				return false, nil, errors.New("'all' cannot be combined with other Match attributes")
			}
			arg, ok := strdelim(&cp)
			if ok && arg != "" && arg[0] != '#' {
				return false, nil, errors.New("'all' cannot be combined with other Match attributes")
			}
			if ok && arg != "" && arg[0] == '#' {
				cp = nil
			}
			return true, cp, nil
		}
		arg, ok := strdelim(&cp)
		if !ok || arg == "" || arg[0] == '#' {
			return false, nil, fmt.Errorf("missing Match criteria for %s", attrib)
		}
		switch asciiLower(attrib) {
		case "user":
			if ci == nil || matchPatternList(ci.User, arg, false) != 1 {
				result = false
			}
		case "group":
			// The probe account does not exist, so no group matches it, as in sshd.
			result = false
		case "host":
			if ci == nil || matchPatternList(strings.ToLower(ci.Host), arg, true) != 1 {
				result = false
			}
		case "address", "localaddress":
			addr := ""
			if ci != nil {
				addr = ci.Addr
				if asciiLower(attrib) == "localaddress" {
					addr = ci.LAddr
				}
			}
			if addr == "" {
				if addrMatchList("", arg) != 0 {
					return false, nil, fmt.Errorf("invalid Match %s argument %q", attrib, arg)
				}
				result = false
				continue
			}
			switch addrMatchList(addr, arg) {
			case 1:
			case -2:
				return false, nil, fmt.Errorf("invalid Match %s argument %q", attrib, arg)
			default:
				result = false
			}
		case "localport":
			port := p.a2port(arg)
			if port == -1 {
				return false, nil, fmt.Errorf("invalid LocalPort %q", arg)
			}
			if ci == nil {
				result = false
				continue
			}
			if ci.LPort == 0 {
				return false, nil, errors.New("Match LocalPort needs the local port of the connection")
			}
			if port != ci.LPort {
				result = false
			}
		case "rdomain":
			if ci == nil || ci.RDomain == "" || matchPatternList(ci.RDomain, arg, false) != 1 {
				result = false
			}
		default:
			return false, nil, fmt.Errorf("unsupported Match attribute %s", attrib)
		}
	}
	if attributes == 0 {
		return false, nil, errors.New("one or more attributes required for Match")
	}
	return result, cp, nil
}
