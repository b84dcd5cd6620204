package firewall

import (
	"slices"
	"strconv"
	"strings"
)

// nftConfig summarises an nftables configuration file (/etc/nftables.conf) as far as
// offline evaluation needs it: how many rules it loads, whether it logs, and what its input
// chains do by default. It is a scanner of the nft language's block structure, not a full
// parser; included files are counted but not followed.
type nftConfig struct {
	rules    int
	logRules int
	includes int
	// inputChains are the filter chains on the input hook.
	inputChains []nftConfChain
	// dropPolicy: some base chain has policy drop.
	dropPolicy bool
}

// nftConfChain is an input chain of the file.
type nftConfChain struct {
	family fam
	policy verdictKind
	// catchAll is the verdict of a last rule without conditions (drop or reject), or vNone.
	catchAll verdictKind
}

// nontrivial reports whether loading the file filters anything.
func (c nftConfig) nontrivial() bool { return c.rules > 0 || c.dropPolicy }

// defaultFor returns the effective input default of the file for an address family:
// vDrop or vReject when a chain drops by policy or a final catch-all, vAccept when input
// chains exist but none does, vNone without input chains.
func (c nftConfig) defaultFor(v6 bool) verdictKind {
	out := vNone
	for _, ch := range c.inputChains {
		if !ch.family.sees(v6) {
			continue
		}
		switch {
		case ch.policy == vDrop:
			return vDrop
		case ch.catchAll != vNone:
			return ch.catchAll
		}
		out = vAccept
	}
	return out
}

// nftTok is a token of the nft language: a word, or one of "{", "}", ";", "\n".
type nftTok struct {
	s      string
	quoted bool
}

// tokenizeNft splits nft configuration text into tokens. Comments run from "#" to the end
// of the line; a backslash before a newline continues the line.
func tokenizeNft(text string) ([]nftTok, error) {
	var out []nftTok
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, nftTok{s: cur.String()})
			cur.Reset()
		}
	}
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case ch == '\\' && i+1 < len(text) && text[i+1] == '\n':
			i++
		case ch == '#':
			flush()
			for i < len(text) && text[i] != '\n' {
				i++
			}
			i--
		case ch == '"':
			flush()
			end := strings.IndexByte(text[i+1:], '"')
			if end < 0 {
				return nil, parseErr("unterminated string")
			}
			out = append(out, nftTok{s: text[i+1 : i+1+end], quoted: true})
			i += end + 1
		case ch == '{' || ch == '}' || ch == ';' || ch == '\n':
			flush()
			out = append(out, nftTok{s: string(ch)})
		case ch == ' ' || ch == '\t' || ch == '\r' || ch == ',':
			flush()
		default:
			cur.WriteByte(ch)
		}
	}
	flush()
	return out, nil
}

// nftBlock is an open block while scanning.
type nftBlock struct {
	kind   string // table, chain, other
	family fam
	chain  *nftConfChain
	hook   string
	ctype  string
	// lastCatchAll is the catch-all verdict of the last rule seen in a chain.
	lastCatchAll verdictKind
}

// scanNftConf scans nft configuration text.
func scanNftConf(text string) (nftConfig, error) {
	toks, err := tokenizeNft(text)
	if err != nil {
		return nftConfig{}, err
	}
	var cfg nftConfig
	stack := []*nftBlock{{kind: "top"}}
	var stmt []nftTok
	end := func() {
		if len(stmt) > 0 {
			cfg.statement(stack[len(stack)-1], stmt)
			stmt = nil
		}
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.quoted {
			stmt = append(stmt, t)
			continue
		}
		switch t.s {
		case ";", "\n":
			end()
		case "{":
			if b := blockOf(stack[len(stack)-1], stmt); b != nil {
				stmt = nil
				stack = append(stack, b)
				continue
			}
			// An anonymous set inside a rule: keep it as one word.
			depth, j := 1, i+1
			for ; j < len(toks) && depth > 0; j++ {
				if !toks[j].quoted && toks[j].s == "{" {
					depth++
				} else if !toks[j].quoted && toks[j].s == "}" {
					depth--
				}
			}
			if depth > 0 {
				return nftConfig{}, parseErr("unbalanced braces")
			}
			stmt = append(stmt, nftTok{s: "{set}"})
			i = j - 1
		case "}":
			end()
			if len(stack) == 1 {
				return nftConfig{}, parseErr("unbalanced braces")
			}
			cfg.close(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		default:
			stmt = append(stmt, t)
		}
	}
	end()
	if len(stack) != 1 {
		return nftConfig{}, parseErr("unbalanced braces")
	}
	return cfg, nil
}

// blockOf returns the block a statement followed by "{" opens, or nil when the brace starts
// an anonymous set.
func blockOf(parent *nftBlock, stmt []nftTok) *nftBlock {
	words := make([]string, len(stmt))
	for i, t := range stmt {
		words[i] = t.s
	}
	if len(words) > 0 && (words[0] == "add" || words[0] == "create") {
		words = words[1:]
	}
	if len(words) == 0 {
		return nil
	}
	switch words[0] {
	case "table":
		f := famIPv4
		if len(words) >= 3 {
			f, _ = nftFamily(words[1])
		}
		return &nftBlock{kind: "table", family: f}
	case "chain":
		f := parent.family
		if parent.kind != "table" && len(words) >= 4 {
			// add chain FAMILY TABLE NAME { … }
			f, _ = nftFamily(words[1])
		}
		return &nftBlock{kind: "chain", family: f}
	case "set", "map", "flowtable", "counter", "quota", "limit", "ct", "secmark", "synproxy", "elements":
		return &nftBlock{kind: "other"}
	}
	if parent.kind == "top" || parent.kind == "table" {
		return &nftBlock{kind: "other"}
	}
	return nil
}

// statement records one statement of block b.
func (cfg *nftConfig) statement(b *nftBlock, stmt []nftTok) {
	words := make([]string, len(stmt))
	for i, t := range stmt {
		words[i] = t.s
	}
	switch {
	case b.kind == "top" && words[0] == "include":
		cfg.includes++
	case b.kind == "top" && len(words) > 1 && words[0] == "add" && words[1] == "rule":
		cfg.rule(words)
	case b.kind != "chain":
	case words[0] == "type":
		if i := slices.Index(words, "hook"); i >= 0 && i+1 < len(words) {
			b.hook = words[i+1]
		}
		if len(words) > 1 {
			b.ctype = words[1]
		}
		// "type filter hook input priority 0; policy drop;" may sit on one line.
		if i := slices.Index(words, "policy"); i >= 0 && i+1 < len(words) {
			cfg.policy(b, words[i+1])
		}
	case words[0] == "policy" && len(words) > 1:
		cfg.policy(b, words[1])
	default:
		cfg.rule(words)
		b.lastCatchAll = catchAllVerdict(stmt)
	}
}

func (cfg *nftConfig) policy(b *nftBlock, p string) {
	p = strings.TrimSuffix(p, ";")
	if p == "drop" {
		cfg.dropPolicy = true
		b.chain = &nftConfChain{policy: vDrop}
	} else {
		b.chain = &nftConfChain{policy: vAccept}
	}
}

func (cfg *nftConfig) rule(words []string) {
	cfg.rules++
	if slices.Contains(words, "log") {
		cfg.logRules++
	}
}

// close ends a block; an input chain is recorded with its policy and final rule.
func (cfg *nftConfig) close(b *nftBlock) {
	if b.kind != "chain" || b.hook != hookInput || (b.ctype != "" && b.ctype != "filter") {
		return
	}
	ch := nftConfChain{family: b.family, policy: vAccept}
	if b.chain != nil {
		ch.policy = b.chain.policy
	}
	ch.catchAll = b.lastCatchAll
	cfg.inputChains = append(cfg.inputChains, ch)
}

// catchAllVerdict returns vDrop or vReject for a rule without conditions ("drop",
// "counter drop", `log prefix "x" reject with icmpx type admin-prohibited`), else vNone.
func catchAllVerdict(stmt []nftTok) verdictKind {
	for _, t := range stmt {
		if t.quoted {
			continue
		}
		switch t.s {
		case "drop":
			return vDrop
		case "reject":
			return vReject
		case "counter", "log", "prefix", "level", "group", "snaplen", "queue-threshold",
			"packets", "bytes", "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit":
			continue
		}
		if _, err := strconv.Atoi(t.s); err == nil {
			continue
		}
		return vNone
	}
	return vNone
}
