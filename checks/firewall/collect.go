package firewall

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/securecodehq/server-audit/checks/host"
)

// This file reads the live ruleset: nft -j list ruleset and the save outputs of both
// iptables backends, each command run once and all of them concurrently.

// Commands of the live ruleset (functions, so that no caller can change them).
func argvNft() []string           { return []string{"nft", "-j", "list", "ruleset"} }
func argvFirewallState() []string { return []string{"firewall-cmd", "--state"} }
func argvSave(v6 bool, variant string) []string {
	name := "iptables"
	if v6 {
		name = "ip6tables"
	}
	if variant != "" {
		return []string{name + "-" + variant + "-save"}
	}
	return []string{name + "-save"}
}

// errNoTools: neither nft nor any iptables-save is installed.
var errNoTools = fmt.Errorf("read the firewall ruleset: neither nft nor iptables-save is installed: %w", host.ErrCommandNotFound)

// commandError is a command that ran and failed.
type commandError struct {
	argv   []string
	exit   int
	stderr string
	cause  error
}

func (e *commandError) Error() string {
	msg := fmt.Sprintf("%s exited with status %d", strings.Join(e.argv, " "), e.exit)
	if e.stderr != "" {
		msg += ": " + e.stderr
	}
	return msg
}

func (e *commandError) Unwrap() error { return e.cause }

// cmdOutput is the result of one command.
type cmdOutput struct {
	argv []string
	out  host.Output
	err  error
}

// missing reports whether the command is not installed.
func (c cmdOutput) missing() bool { return errors.Is(c.err, host.ErrCommandNotFound) }

// data returns the command's output, or why it is not usable. A kernel without nf_tables
// (nft and iptables-nft answer "Protocol not supported") has an empty nf_tables ruleset.
func (c cmdOutput) data() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.out.ExitCode != 0 && strings.Contains(string(c.out.Stderr), "Protocol not supported") {
		return nil, nil
	}
	if c.out.Truncated {
		return nil, fmt.Errorf("%s output: %w", c.argv[0], host.ErrTooLarge)
	}
	if c.out.ExitCode != 0 {
		stderr := strings.TrimSpace(string(c.out.Stderr))
		if i := strings.IndexByte(stderr, '\n'); i >= 0 {
			stderr = stderr[:i]
		}
		if len(stderr) > 200 {
			stderr = stderr[:200]
		}
		e := &commandError{argv: c.argv, exit: c.out.ExitCode, stderr: stderr}
		low := strings.ToLower(stderr)
		if strings.Contains(low, "permission denied") || strings.Contains(low, "operation not permitted") ||
			strings.Contains(low, "must be root") {
			e.cause = fs.ErrPermission
		}
		return nil, e
	}
	return c.out.Stdout, nil
}

// runAll runs commands concurrently.
func runAll(ctx context.Context, h host.Host, argvs ...[]string) []cmdOutput {
	out := make([]cmdOutput, len(argvs))
	var wg sync.WaitGroup
	for i, argv := range argvs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := h.Run(ctx, argv...)
			out[i] = cmdOutput{argv: argv, out: o, err: err}
		}()
	}
	wg.Wait()
	return out
}

// liveRuleset is the running ruleset of every backend.
type liveRuleset struct {
	// tables holds each table once: native nftables tables from nft, iptables-nft tables
	// from iptables-nft-save (which decodes their matches), legacy tables.
	tables []*table
	// sources lists the commands read, for the local report.
	sources []string
	// legacyTool: an iptables-legacy-save could be run, so legacy tables are known.
	legacyTool bool
}

// readLive reads the live ruleset.
func readLive(ctx context.Context, h host.Host) (*liveRuleset, error) {
	res := runAll(ctx, h, argvNft(), argvSave(false, "nft"), argvSave(true, "nft"),
		argvSave(false, "legacy"), argvSave(true, "legacy"))
	nftOut, saves := res[0], res[1:]
	live := &liveRuleset{}
	// covered lists the nft tables shown (and decoded) by iptables-nft-save: nft's view of
	// them is skipped.
	covered := map[string]bool{}
	var saveTables []*table
	var saveSources []string
	for i, v6 := range []bool{false, true} {
		nftSave, legacySave := saves[i], saves[i+2]
		pairs := []struct {
			out cmdOutput
			b   backend
		}{{nftSave, backendIptNft}, {legacySave, backendIptLegacy}}
		if nftSave.missing() && legacySave.missing() {
			// iptables before 1.8 has no variants: iptables-save is legacy.
			out := runAll(ctx, h, argvSave(v6, ""))[0]
			pairs = []struct {
				out cmdOutput
				b   backend
			}{{out, backendIptLegacy}}
		}
		for _, pr := range pairs {
			if pr.out.missing() {
				continue
			}
			data, err := pr.out.data()
			if err != nil {
				return nil, err
			}
			tables, info, err := parseIptablesSave(data, v6, pr.b)
			if err != nil {
				return nil, fmt.Errorf("parse %s output: %w", pr.out.argv[0], err)
			}
			b := pr.b
			if info.variant == "nf_tables" {
				b = backendIptNft
			}
			if b == backendIptLegacy {
				live.legacyTool = true
			}
			for _, t := range tables {
				t.backend = b
				if b == backendIptNft {
					covered[tableKey(iptFamilyName(v6), t.name)] = true
				}
			}
			saveTables = append(saveTables, tables...)
			saveSources = append(saveSources, pr.out.argv[0])
		}
	}
	if !nftOut.missing() {
		data, err := nftOut.data()
		if err != nil {
			return nil, err
		}
		tables, err := parseNft(data, covered)
		if err != nil {
			return nil, err
		}
		live.tables = tables
		live.sources = append(live.sources, "nft")
	}
	live.sources = append(live.sources, saveSources...)
	if len(live.sources) == 0 {
		return nil, errNoTools
	}
	live.tables = append(live.tables, saveTables...)
	return live, nil
}

func iptFamilyName(v6 bool) string {
	if v6 {
		return "ip6"
	}
	return "ip"
}
