package ssh

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/securecodehq/server-audit/checks"
)

// effective is the configuration after the first pass and sshd's defaults
// (fill_default_server_options), in `sshd -T` form.
type effective struct {
	values map[string][]string
	// raw keeps the configured algorithm lists before assembly.
	raw map[string]string
}

// scalarDefaults are sshd's compiled-in defaults of the single-valued keywords the checks
// read, as `sshd -T` prints them; they are the same in every release from 7.4 to 10.x
// (sshd_config(5)) except keyboard-interactive before 8.7, handled in finish.
var scalarDefaults = map[string]string{
	"permitrootlogin":              "without-password",
	"passwordauthentication":       "yes",
	"kbdinteractiveauthentication": "yes",
	"usepam":                       "no",
	"permitemptypasswords":         "no",
	"hostbasedauthentication":      "no",
	"ignorerhosts":                 "yes",
	"maxauthtries":                 "6",
	"logingracetime":               "120",
	"maxsessions":                  "10",
	"clientaliveinterval":          "0",
	"clientalivecountmax":          "3",
	"disableforwarding":            "no",
	"x11forwarding":                "no",
	"allowtcpforwarding":           "yes",
	"allowagentforwarding":         "yes",
	"permittunnel":                 "no",
	"gatewayports":                 "no",
	"permituserenvironment":        "no",
	"loglevel":                     "INFO",
}

// algorithmKeys maps the algorithm list keywords to their tables.
var algorithmKeys = []string{"ciphers", "macs", "kexalgorithms", "hostkeyalgorithms", "pubkeyacceptedalgorithms"}

func (a algorithms) tables(key string) (def, all []string) {
	switch key {
	case "ciphers":
		return a.defCiphers, a.ciphers
	case "macs":
		return a.defMACs, a.macs
	case "kexalgorithms":
		return a.defKex, a.kex
	}
	return a.defKeys, a.keys
}

// finish applies the defaults to the first pass.
func (p *parser) finish() (*effective, error) {
	st := p.st
	e := &effective{values: map[string][]string{}, raw: map[string]string{}}
	for k, v := range scalarDefaults {
		e.values[k] = []string{v}
	}
	if !p.opt.version.AtLeast(8, 7) {
		e.values["kbdinteractiveauthentication"] = []string{"no"}
		e.values["challengeresponseauthentication"] = []string{"yes"}
	}
	for k, v := range st.single {
		if !isAlgorithmKey(k) {
			e.values[k] = []string{v}
		}
	}
	ports := st.ports
	if len(ports) == 0 {
		ports = []int{22}
	}
	for _, port := range ports {
		e.values["port"] = append(e.values["port"], strconv.Itoa(port))
	}
	if len(st.hostKeys) > 0 {
		e.values["hostkey"] = st.hostKeys
	} else {
		e.values["hostkey"] = p.opt.alg.hostKeyDefaults
	}
	begin, rate, full := st.startups[0], st.startups[1], st.startups[2]
	if full == 0 {
		full = 100
	}
	if rate == 0 {
		rate = 30
	}
	if begin == 0 {
		begin = 10
	}
	e.values["maxstartups"] = []string{fmt.Sprintf("%d:%d:%d", begin, rate, full)}
	for _, k := range []string{"allowusers", "denyusers", "allowgroups", "denygroups", "hostcertificate"} {
		if l := st.lists[k]; len(l) > 0 {
			e.values[k] = l
		}
	}
	for _, k := range algorithmKeys {
		e.raw[k] = st.single[k]
		if err := e.assemble(k, p.opt.alg); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func isAlgorithmKey(k string) bool {
	for _, a := range algorithmKeys {
		if a == k {
			return true
		}
	}
	return false
}

// assemble computes one algorithm list from its configured value.
func (e *effective) assemble(key string, alg algorithms) error {
	def, all := alg.tables(key)
	list, err := assembleNames(e.raw[key], def, all)
	if err != nil {
		return fmt.Errorf("%s %q: %w: %w", key, e.raw[key], err, checks.ErrParse)
	}
	e.values[key] = []string{strings.Join(list, ",")}
	return nil
}

// apply lets the Match blocks of the second pass override the keywords Match may change
// (copy_set_server_options): a value set there replaces the first pass's, a non-empty list
// replaces the list. sshd then assembles every algorithm list once more, which turns a list
// emptied by "-" patterns back into the defaults.
func (e *effective) apply(second *store, kw map[string]keyword, alg algorithms) error {
	for _, k := range kw {
		if !k.copied {
			continue
		}
		if l := second.lists[k.name]; len(l) > 0 {
			e.values[k.name] = l
		}
		if v, set := second.single[k.name]; set && !isAlgorithmKey(k.name) {
			e.values[k.name] = []string{v}
		}
	}
	// PermitUserEnvironment is global, but its pattern list (not its yes/no) is among the
	// strings copied from Match blocks, so a pattern under "Match All" shows through.
	if v, set := second.single["permituserenvironment"]; set && v != "yes" && v != "no" {
		e.values["permituserenvironment"] = []string{v}
	}
	for _, k := range algorithmKeys {
		e.raw[k] = e.values[k][0]
		if v, set := second.single[k]; set && kw[k].copied {
			e.raw[k] = v
		}
		if err := e.assemble(k, alg); err != nil {
			return err
		}
	}
	return nil
}
