package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
	"github.com/securecodehq/server-audit/pkg/report"
)

// maxSudoersDepth bounds include nesting, as sudo itself does.
const maxSudoersDepth = 128

// sudoNopasswd: a rule that lets a user run any command as root without re-entering a
// password turns one stolen session or key into root.
type sudoNopasswd struct{}

func (sudoNopasswd) ID() string { return "system.sudo-nopasswd" }

func (sudoNopasswd) Run(_ context.Context, h host.Host) (checks.Result, error) {
	pol, err := readSudoers(h.FS())
	if errors.Is(err, fs.ErrNotExist) {
		return checks.Skip(report.ReasonNotInstalled, "/etc/sudoers does not exist (sudo is not installed)"), nil
	}
	if err != nil {
		return checks.FromError("read sudoers", err), nil
	}
	var res checks.Result
	switch {
	case len(pol.nopasswdAll) > 0 || len(pol.noAuthenticate) > 0:
		res = checks.Fail("%d sudo rule(s) allow every command without a password", len(pol.nopasswdAll)+len(pol.noAuthenticate))
		for _, loc := range pol.nopasswdAll {
			res = res.Detail("NOPASSWD rule for ALL commands at %s", loc)
		}
		for _, loc := range pol.noAuthenticate {
			res = res.Detail("Defaults !authenticate at %s", loc)
		}
	default:
		res = checks.Pass("no sudo rule grants every command without a password")
	}
	for _, w := range pol.warnings {
		res = res.Detail("%s", w)
	}
	return res.Int("nopasswd_all_rules", int64(len(pol.nopasswdAll))).
		Bool("authenticate_disabled", len(pol.noAuthenticate) > 0).
		Int("sudoers_files", int64(pol.files)), nil
}

// sudoPolicy is what the check needs from the sudoers files.
type sudoPolicy struct {
	files          int
	nopasswdAll    []string // "file:line" of rules granting ALL with NOPASSWD
	noAuthenticate []string // "file:line" of Defaults !authenticate
	warnings       []string
	visited        map[string]bool
	cmndAllAliases map[string]bool // Cmnd_Alias names that expand to ALL
}

// readSudoers parses /etc/sudoers and everything it includes.
func readSudoers(fsys host.FS) (*sudoPolicy, error) {
	pol := &sudoPolicy{visited: map[string]bool{}, cmndAllAliases: map[string]bool{}}
	if err := pol.parseFile(fsys, "/etc/sudoers", 0); err != nil {
		return nil, err
	}
	return pol, nil
}

var (
	includeDirective = regexp.MustCompile(`^[#@](include|includedir)\s+(.+)$`)
	sudoTag          = regexp.MustCompile(`^(NOPASSWD|PASSWD|NOEXEC|EXEC|SETENV|NOSETENV|LOG_INPUT|NOLOG_INPUT|LOG_OUTPUT|NOLOG_OUTPUT|MAIL|NOMAIL|FOLLOW|NOFOLLOW|INTERCEPT|NOINTERCEPT)\s*:\s*`)
	runasSpec        = regexp.MustCompile(`\([^)]*\)`)
	hostGroup        = regexp.MustCompile(`(?:^|\s):\s*[^:=]+?\s*=\s*`)
	aliasDefinition  = regexp.MustCompile(`^(User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|Cmd_Alias)\s+`)
)

func (p *sudoPolicy) parseFile(fsys host.FS, name string, depth int) error {
	if depth > maxSudoersDepth {
		p.warnings = append(p.warnings, fmt.Sprintf("include nesting deeper than %d at %s ignored", maxSudoersDepth, name))
		return nil
	}
	if p.visited[name] {
		p.warnings = append(p.warnings, fmt.Sprintf("include loop through %s ignored", name))
		return nil
	}
	p.visited[name] = true
	data, err := host.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	p.files++
	for _, l := range logicalLines(string(data)) {
		line := l.text
		if m := includeDirective.FindStringSubmatch(line); m != nil {
			target := strings.Trim(strings.TrimSpace(m[2]), `"`)
			target = strings.ReplaceAll(target, "%h", "")
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			if err := p.include(fsys, m[1], target, depth); err != nil {
				p.warnings = append(p.warnings, fmt.Sprintf("%s:%d: %v", name, l.number, err))
			}
			continue
		}
		line = stripSudoComment(line)
		if line == "" {
			continue
		}
		loc := fmt.Sprintf("%s:%d", name, l.number)
		switch {
		case strings.HasPrefix(line, "Defaults"):
			for _, setting := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
				if setting == "!authenticate" {
					p.noAuthenticate = append(p.noAuthenticate, loc)
				}
			}
		case aliasDefinition.MatchString(line):
			p.parseAlias(line)
		default:
			if p.grantsAllWithoutPassword(line) {
				p.nopasswdAll = append(p.nopasswdAll, loc)
			}
		}
	}
	return nil
}

// include follows @include / @includedir. An included directory is read in lexical
// order and, as sudo does, skips names that end in "~" or contain a ".".
func (p *sudoPolicy) include(fsys host.FS, kind, target string, depth int) error {
	if kind == "include" {
		err := p.parseFile(fsys, target, depth+1)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("included file %s does not exist", target)
		}
		return err
	}
	names, err := fsys.ReadDir(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", target, err)
	}
	for _, n := range names {
		if strings.HasSuffix(n, "~") || strings.Contains(n, ".") {
			continue
		}
		full := path.Join(target, n)
		if fi, err := fsys.Stat(full); err != nil || !fi.IsRegular() {
			continue
		}
		if err := p.parseFile(fsys, full, depth+1); err != nil {
			return fmt.Errorf("read %s: %w", full, err)
		}
	}
	return nil
}

// parseAlias records Cmnd_Alias definitions whose command list contains ALL.
func (p *sudoPolicy) parseAlias(line string) {
	kind := aliasDefinition.FindStringSubmatch(line)[1]
	if kind != "Cmnd_Alias" && kind != "Cmd_Alias" {
		return
	}
	rest := aliasDefinition.ReplaceAllString(line, "")
	for _, def := range strings.Split(rest, ":") {
		name, cmds, ok := strings.Cut(def, "=")
		if !ok {
			continue
		}
		for _, c := range strings.Split(cmds, ",") {
			if strings.TrimSpace(c) == "ALL" {
				p.cmndAllAliases[strings.TrimSpace(name)] = true
			}
		}
	}
}

// grantsAllWithoutPassword reports whether a user specification
// "users hosts = (runas) TAGS: cmd, cmd : hosts = ..." contains a command ALL (or an alias
// of ALL) under a NOPASSWD tag. Tags carry over to later commands of the same list until
// another tag overrides them.
func (p *sudoPolicy) grantsAllWithoutPassword(line string) bool {
	_, rest, ok := strings.Cut(line, "=")
	if !ok {
		return false
	}
	nopasswd := false
	// Runas lists may contain commas; they do not matter here.
	rest = runasSpec.ReplaceAllString(rest, "")
	for _, spec := range strings.Split(rest, ",") {
		spec = strings.TrimSpace(spec)
		// " : hosts = " starts another group with fresh tags.
		if locs := hostGroup.FindAllStringIndex(spec, -1); locs != nil {
			spec = strings.TrimSpace(spec[locs[len(locs)-1][1]:])
			nopasswd = false
		}
		for {
			m := sudoTag.FindStringSubmatch(spec)
			if m == nil {
				break
			}
			switch m[1] {
			case "NOPASSWD":
				nopasswd = true
			case "PASSWD":
				nopasswd = false
			}
			spec = spec[len(m[0]):]
		}
		cmd := strings.TrimSpace(spec)
		if nopasswd && (cmd == "ALL" || p.cmndAllAliases[cmd]) {
			return true
		}
	}
	return false
}

// logicalLine is a sudoers line after joining backslash continuations.
type logicalLine struct {
	number int
	text   string
}

func logicalLines(data string) []logicalLine {
	var out []logicalLine
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(data, "\n") {
		raw = strings.TrimRight(raw, "\r")
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(raw, "\\") {
			cur.WriteString(strings.TrimSuffix(raw, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(raw)
		out = append(out, logicalLine{number: start, text: strings.TrimSpace(cur.String())})
		cur.Reset()
	}
	return out
}

// stripSudoComment removes a comment: "#" starts one unless it is followed by a digit
// (a numeric UID or GID such as "#1000").
func stripSudoComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] != '#' {
			continue
		}
		if i+1 < len(line) && line[i+1] >= '0' && line[i+1] <= '9' {
			continue
		}
		return strings.TrimSpace(line[:i])
	}
	return strings.TrimSpace(line)
}
