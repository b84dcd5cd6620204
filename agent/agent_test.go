// End-to-end tests of the server-audit binary: built once, run as a user would.
package agent_test

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/pkg/catalog"
	"github.com/securecodehq/server-audit/pkg/report"
)

// agentBinary is the binary built by TestMain.
var agentBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "server-audit-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Everyone may traverse the directory: one test runs the binary as nobody.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBinary = filepath.Join(dir, "server-audit")
	build := exec.Command("go", "build", "-trimpath", "-o", agentBinary, "./cmd/server-audit")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build agent: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is the outcome of one agent invocation.
type result struct {
	code   int
	stdout []byte
	stderr []byte
}

// runAgent runs the agent with args and no configuration file of the machine.
func runAgent(t *testing.T, args ...string) result {
	t.Helper()
	return runAgentAs(t, nil, args...)
}

func runAgentAs(t *testing.T, cred *syscall.Credential, args ...string) result {
	t.Helper()
	if len(args) > 0 && args[0] == "run" && !contains(args, "--config") {
		// Never read the machine's own configuration file.
		args = append(args, "--config", "/dev/null")
	}
	cmd := exec.Command(agentBinary, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "NO_COLOR="}
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = "/"
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	code := 0
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run agent %v: %v", args, err)
	}
	return result{code: code, stdout: stdout.Bytes(), stderr: stderr.Bytes()}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func loadCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func decodeReport(t *testing.T, data []byte) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("parse JSON report: %v\n%s", err, data)
	}
	return r
}

func resultsByID(r report.Report) map[string]report.Result {
	out := map[string]report.Result{}
	for _, res := range r.Results {
		out[res.ID] = res
	}
	return out
}

// systemIDs returns the catalog IDs of the system family.
func systemIDs(cat *catalog.Catalog) []string {
	var ids []string
	for _, id := range cat.IDs() {
		if strings.HasPrefix(id, "system.") {
			ids = append(ids, id)
		}
	}
	return ids
}

// tree builds a root directory from path → content; a content of the form "mode:0640:..."
// sets the mode, "link:" makes a symlink.
type file struct {
	content  string
	mode     os.FileMode
	uid, gid int
	link     string
}

func writeTree(t *testing.T, files map[string]file) string {
	t.Helper()
	root := t.TempDir()
	for name, f := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if f.link != "" {
			if err := os.Symlink(f.link, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		if err := os.WriteFile(p, []byte(f.content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if f.uid != 0 || f.gid != 0 {
			if err := os.Chown(p, f.uid, f.gid); err != nil {
				testenv.Unavailable(t, "chown needs root: "+err.Error())
			}
		}
	}
	return root
}

// hardenedTree is an offline root on which no file-based check fails above low.
func hardenedTree() map[string]file {
	return map[string]file{
		// A release inside its standard support window, so packages.distro-eol passes.
		"etc/os-release": {content: "ID=debian\nVERSION_ID=\"13\"\nVERSION_CODENAME=trixie\nPRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\n"},
		"etc/passwd":     {content: "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n"},
		"etc/group":      {content: "root:x:0:\nshadow:x:42:\nalice:x:1000:\n"},
		"etc/shadow":     {content: "root:!:19700:0:99999:7:::\nalice:$y$j9T$salt$hash:19700:0:99999:7:::\n", mode: 0o640, gid: 42},
		"etc/gshadow":    {content: "root:*::\nshadow:*::\n", mode: 0o640, gid: 42},
		"etc/sudoers":    {content: "root ALL=(ALL:ALL) ALL\n", mode: 0o440},
		"etc/crontab":    {content: "17 * * * * root true\n", mode: 0o600},
	}
}

func TestStaticBinary(t *testing.T) {
	f, err := elf.Open(agentBinary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("binary has a PT_INTERP program header: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		t.Fatalf("binary imports shared libraries: %v", libs)
	}
	fileCmd := testenv.RequireTool(t, "file")
	out, err := exec.Command(fileCmd, agentBinary).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("statically linked")) {
		t.Fatalf("file(1) does not call the binary statically linked: %s", out)
	}
}

func TestAgentDoesNotDependOnServerPackages(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list returned only %d packages; the test would prove nothing", len(deps))
	}
	forbidden := []string{"github.com/jackc/pgx", "github.com/labstack/echo", "github.com/riverqueue/river", "github.com/securecodehq/server-audit/server"}
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("the agent depends on %s", d)
			}
		}
	}
}

func TestRunLiveJSONListsEveryCheck(t *testing.T) {
	cat := loadCatalog(t)
	res := runAgent(t, "run", "--dry-run", "--output", "json", "--fail-on", "none")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
	}
	r := decodeReport(t, res.stdout)
	if !r.Host.Live || r.Host.Root != "/" {
		t.Fatalf("host = %+v, want the live root", r.Host)
	}
	got := resultsByID(r)
	if n := len(systemIDs(cat)); n < 20 {
		t.Fatalf("the catalog has %d system checks, want at least 20", n)
	}
	for _, id := range cat.IDs() {
		res, ok := got[id]
		if !ok {
			t.Errorf("%s missing from the JSON report", id)
			continue
		}
		entry, _ := cat.Lookup(id)
		if !res.Status.Valid() || !res.Severity.Valid() || res.Severity.Rank() > entry.Severity.Rank() {
			t.Errorf("%s: status %q severity %q", id, res.Status, res.Severity)
		}
		if (res.Status == report.StatusPass || res.Status == report.StatusFail) && len(res.Facts) == 0 {
			t.Errorf("%s: %s without facts", id, res.Status)
		}
		if (res.Status == report.StatusSkip || res.Status == report.StatusError) && !res.Reason.Valid() {
			t.Errorf("%s: %s without a valid reason", id, res.Status)
		}
	}
	if r.Summary.Counts.Total != len(r.Results) {
		t.Errorf("summary counts %d results, report has %d", r.Summary.Counts.Total, len(r.Results))
	}
}

func TestRunDefaultTableOnPipeHasNoColour(t *testing.T) {
	res := runAgent(t, "run", "--dry-run", "--fail-on", "none")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if !bytes.Contains(res.stdout, []byte("Score")) {
		t.Fatalf("table output has no score:\n%s", res.stdout)
	}
	if bytes.IndexByte(res.stdout, 0x1b) >= 0 {
		t.Fatal("table written to a pipe contains ANSI escapes")
	}
}

func TestPayloadFileValidatesAndCarriesNoHostStrings(t *testing.T) {
	cat := loadCatalog(t)
	dir := t.TempDir()
	payloadPath := filepath.Join(dir, "payload.json")
	res := runAgent(t, "run", "--dry-run", "--output", "json", "--fail-on", "none", "--payload-file", payloadPath)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	data, err := os.ReadFile(payloadPath)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(payloadPath)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("payload file mode %o, want 0600", fi.Mode().Perm())
	}
	p, err := report.DecodePayload(bytes.NewReader(data), cat)
	if err != nil {
		t.Fatalf("payload does not validate: %v", err)
	}
	local := decodeReport(t, res.stdout)
	if len(p.Results) != len(local.Results) || p.AuditID != local.AuditID {
		t.Fatalf("payload has %d results (audit %s), report %d (audit %s)", len(p.Results), p.AuditID, len(local.Results), local.AuditID)
	}
	if p.Score != local.Summary.Score || p.Grade != local.Summary.Grade {
		t.Errorf("payload score %d/%s, report %d/%s", p.Score, p.Grade, local.Summary.Score, local.Summary.Grade)
	}
	hostname, _ := os.Hostname()
	forbidden := []string{local.Host.DistroName}
	if len(hostname) >= 4 {
		forbidden = append(forbidden, hostname)
	}
	for _, r := range local.Results {
		if len(r.Message) > 12 {
			forbidden = append(forbidden, r.Message)
		}
		for _, d := range r.Details {
			if len(d) > 12 {
				forbidden = append(forbidden, d)
			}
		}
	}
	for _, s := range forbidden {
		if s != "" && bytes.Contains(data, []byte(s)) {
			t.Errorf("payload contains local text %q", s)
		}
	}
}

// TestLeakFixture plants secrets where checks read and proves none reaches the payload.
func TestLeakFixture(t *testing.T) {
	secrets := []string{
		"$6$LEAKSALT$LEAKHASHabcdefghijklmnop",
		"Secret Agent GECOS 555-0100",
		"hunter2-LEAK-sudoers-comment",
		"sk_live_LEAKAPIKEY123456",
		"leaky-hostname-SECRET",
		"Leaky Linux SECRET-NAME",
		"backup-token-LEAK-crontab",
		"leakyuser",
		"/srv/leak-path",
		"10.11.12.13",
		"sshd-comment-LEAK-7f3a",
		"include-file-LEAK-91bc",
		"banner-LEAK-c0ffee",
		"sshallowed-LEAKUSER",
		"192.0.2.77",
	}
	files := hardenedTree()
	files["etc/passwd"] = file{content: "root:x:0:0:root:/root:/bin/bash\nleakyuser:x:0:0:Secret Agent GECOS 555-0100:/srv/leak-path:/bin/bash\n"}
	files["etc/shadow"] = file{content: "root:$6$LEAKSALT$LEAKHASHabcdefghijklmnop:19700::::::\nleakyuser::19700::::::\n", mode: 0o644}
	files["etc/sudoers"] = file{content: "# hunter2-LEAK-sudoers-comment\nleakyuser ALL=(ALL) NOPASSWD: ALL\n", mode: 0o440}
	files["etc/environment"] = file{content: "API_KEY=sk_live_LEAKAPIKEY123456\n"}
	files["etc/hostname"] = file{content: "leaky-hostname-SECRET\n"}
	files["etc/os-release"] = file{content: "ID=leakylinux\nVERSION_ID=\"1.0\"\nPRETTY_NAME=\"Leaky Linux SECRET-NAME\"\n"}
	files["etc/crontab"] = file{content: "# backup-token-LEAK-crontab\n0 1 * * * leakyuser curl http://10.11.12.13/\n", mode: 0o666}
	files["etc/cron.d/leak"] = file{content: "* * * * * root /srv/leak-path/run\n", mode: 0o666}
	files["etc/modprobe.d/leak.conf"] = file{content: "# hunter2-LEAK-sudoers-comment\ninstall cramfs /srv/leak-path/x\n"}
	files["etc/ssh/sshd_config"] = file{content: "# sshd-comment-LEAK-7f3a\nInclude /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nBanner /etc/issue.net\nListenAddress 192.0.2.77\nAllowUsers sshallowed-LEAKUSER\n"}
	files["etc/ssh/sshd_config.d/50-leak.conf"] = file{content: "# include-file-LEAK-91bc\nPasswordAuthentication yes\n"}
	files["etc/issue.net"] = file{content: "banner-LEAK-c0ffee\n"}
	root := writeTree(t, files)
	payloadPath := filepath.Join(t.TempDir(), "payload.json")
	res := runAgent(t, "run", "--dry-run", "--root", root, "--output", "json", "--fail-on", "none", "--payload-file", payloadPath)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	payload, err := os.ReadFile(payloadPath)
	if err != nil {
		t.Fatal(err)
	}
	// The local report shows the details (that is its job) — so the secrets were seen…
	local := string(res.stdout)
	for _, s := range []string{"leakyuser", "/etc/shadow", "sshallowed-LEAKUSER"} {
		if !strings.Contains(local, s) {
			t.Errorf("local report does not mention %q; the fixture did not exercise the checks", s)
		}
	}
	// …and the payload carries none of them, nor the root path.
	for _, s := range append(secrets, root) {
		if bytes.Contains(payload, []byte(s)) {
			t.Errorf("payload leaks %q", s)
		}
	}
	r := decodeReport(t, res.stdout)
	failed := 0
	for _, res := range r.Results {
		if res.Status == report.StatusFail {
			failed++
		}
	}
	if failed < 5 {
		t.Errorf("only %d checks failed on the leaky fixture; it should trip most file checks", failed)
	}
	if !bytes.Contains(payload, []byte(`"distro":"other"`)) {
		t.Errorf("unknown distribution should be sent as other: %s", payload)
	}
}

func TestOfflineRootSkipsLiveChecks(t *testing.T) {
	cat := loadCatalog(t)
	root := writeTree(t, hardenedTree())
	res := runAgent(t, "run", "--dry-run", "--root", root, "--output", "json", "--fail-on", "none")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	r := decodeReport(t, res.stdout)
	if r.Host.Live {
		t.Fatal("an offline root is reported as live")
	}
	got := resultsByID(r)
	live := 0
	for _, id := range cat.IDs() {
		entry, _ := cat.Lookup(id)
		if !entry.Live {
			if got[id].Reason == report.ReasonNotLive {
				t.Errorf("%s is not marked live in the catalog but skipped not_live", id)
			}
			continue
		}
		live++
		if got[id].Status != report.StatusSkip || got[id].Reason != report.ReasonNotLive {
			t.Errorf("%s on an offline root: %s/%s (%s), want skip/not_live", id, got[id].Status, got[id].Reason, got[id].Message)
		}
	}
	if live == 0 {
		t.Fatal("no live-only checks in the catalog")
	}
}

func TestFailOnExitCodes(t *testing.T) {
	hardened := writeTree(t, hardenedTree())
	weakFiles := hardenedTree()
	weakFiles["etc/shadow"] = file{content: "root:!:19700::::::\n", mode: 0o644}
	weak := writeTree(t, weakFiles)
	for _, tc := range []struct {
		root   string
		failOn string
		want   int
	}{
		{weak, "high", 1},
		{weak, "critical", 1},
		{weak, "none", 0},
		{hardened, "high", 0},
		{hardened, "critical", 0},
		{hardened, "low", 1},
	} {
		res := runAgent(t, "run", "--dry-run", "--root", tc.root, "--fail-on", tc.failOn)
		if res.code != tc.want {
			t.Errorf("--fail-on %s on %s: exit %d, want %d\n%s%s", tc.failOn, filepath.Base(tc.root), res.code, tc.want, res.stdout, res.stderr)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	badConfig := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(badConfig, []byte("suppress:\n  - check: system.aslr\n"), 0o644)
	typoConfig := filepath.Join(t.TempDir(), "typo.yaml")
	os.WriteFile(typoConfig, []byte("suppress:\n  - check: system.aslrr\n    reason: x\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--no-such-flag"}, "unknown flag"},
		{[]string{"run", "--output", "yaml"}, "--output"},
		{[]string{"run", "--fail-on", "severe"}, "fail-on"},
		{[]string{"run", "--only", "system.nope"}, "unknown check"},
		{[]string{"run", "--skip", "nofamily"}, "unknown check"},
		{[]string{"run", "--root", "/nonexistent/root"}, "--root"},
		{[]string{"run", "--config", "/nonexistent/config.yaml"}, "config"},
		{[]string{"run", "--config", badConfig}, "reason is required"},
		{[]string{"run", "--config", typoConfig}, "unknown check"},
		{[]string{"run", "--timeout", "0s"}, "timeout"},
		{[]string{"run", "--token", "abc", "--endpoint", "http://192.0.2.1"}, "plain http:// is refused"},
		{[]string{"run", "--endpoint", "https://example.com"}, "need an upload token"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"checks", "explain", "system.nope"}, "unknown check"},
		{[]string{"run", "extra-arg"}, "unknown command"},
	} {
		res := runAgent(t, tc.args...)
		if res.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", tc.args, res.code, res.stderr)
		}
		if !strings.Contains(string(res.stderr), tc.want) {
			t.Errorf("%v: stderr %q does not mention %q", tc.args, res.stderr, tc.want)
		}
	}
}

func TestTokenIsNeverEchoed(t *testing.T) {
	// Nothing listens on port 1 of loopback: the upload fails fast, is retried until the
	// deadline and spooled, with every message and the spool free of the token.
	state := t.TempDir()
	res := runAgent(t, "run", "--token", "sa_secret_token_value_123", "--endpoint", "http://127.0.0.1:1",
		"--upload-timeout", "2s", "--state-dir", state, "--verbose")
	if res.code != 3 || bytes.Contains(append(res.stdout, res.stderr...), []byte("sa_secret_token_value_123")) {
		t.Fatalf("exit %d, output must not repeat the token: %s%s", res.code, res.stdout, res.stderr)
	}
	entries, _ := filepath.Glob(filepath.Join(state, "spool", "*.json"))
	if len(entries) != 1 {
		t.Fatalf("spool holds %d payloads, want 1", len(entries))
	}
	data, err := os.ReadFile(entries[0])
	if err != nil || bytes.Contains(data, []byte("sa_secret_token_value_123")) {
		t.Errorf("spooled payload (%v) must not contain the token", err)
	}
	dryState := t.TempDir()
	res = runAgent(t, "run", "--dry-run", "--token", "sa_secret_token_value_123", "--endpoint", "http://127.0.0.1:1", "--state-dir", dryState)
	if res.code > 1 || bytes.Contains(res.stderr, []byte("upload")) {
		t.Errorf("--dry-run with a token must not upload: exit %d\n%s", res.code, res.stderr)
	}
	if des, _ := os.ReadDir(dryState); len(des) != 0 {
		t.Errorf("--dry-run wrote to the state directory: %v", des)
	}
}

func TestSARIFOutputValidatesAgainstSchema(t *testing.T) {
	res := runAgent(t, "run", "--dry-run", "--output", "sarif", "--fail-on", "none")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	schemaPath, err := filepath.Abs("../pkg/format/testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	schema, err := c.Compile(schemaPath)
	if err != nil {
		t.Fatalf("compile SARIF schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(res.stdout))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("SARIF output does not validate: %v", err)
	}
}

func TestJUnitOutputParses(t *testing.T) {
	res := runAgent(t, "run", "--dry-run", "--output", "junit", "--fail-on", "none")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var suites struct {
		XMLName xml.Name `xml:"testsuites"`
		Tests   int      `xml:"tests,attr"`
		Suites  []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(res.stdout, &suites); err != nil {
		t.Fatalf("JUnit output does not parse: %v", err)
	}
	cases := 0
	for _, s := range suites.Suites {
		cases += len(s.Cases)
	}
	if cases == 0 || cases != suites.Tests {
		t.Fatalf("JUnit has %d test cases, tests attribute %d", cases, suites.Tests)
	}
}

func TestOutputFormatsAndOutputFile(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"table", "json", "sarif", "junit", "markdown"} {
		out := filepath.Join(dir, "report."+f)
		res := runAgent(t, "run", "--dry-run", "--output", f, "--output-file", out, "--fail-on", "none")
		if res.code != 0 {
			t.Fatalf("%s: exit %d: %s", f, res.code, res.stderr)
		}
		if len(res.stdout) != 0 {
			t.Errorf("%s: report also written to stdout", f)
		}
		fi, err := os.Stat(out)
		if err != nil || fi.Size() == 0 || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: output file %v (err %v), want a non-empty 0600 file", f, fi, err)
		}
	}
}

// TestBadInputCompletes feeds a hostile root: a 1 GiB file, a FIFO, symlink loops and an
// escaping link. Every check ends in a result with a reason and the run completes.
func TestBadInputCompletes(t *testing.T) {
	files := hardenedTree()
	delete(files, "etc/sudoers")
	delete(files, "etc/passwd")
	delete(files, "etc/group")
	files["etc/passwd"] = file{link: "passwd.loop"}
	files["etc/passwd.loop"] = file{link: "passwd"}
	files["etc/group"] = file{link: "../../../../../../../../../etc/group"}
	files["etc/modprobe.d/garbage.conf"] = file{content: "\x00\x01\xff install\n\\\n"}
	root := writeTree(t, files)
	huge := filepath.Join(root, "etc/sudoers")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.Remove(filepath.Join(root, "etc/shadow"))
	if err := syscall.Mkfifo(filepath.Join(root, "etc/shadow"), 0o640); err != nil {
		t.Fatal(err)
	}
	res := runAgent(t, "run", "--dry-run", "--root", root, "--output", "json", "--fail-on", "none", "--timeout", "30s")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	got := resultsByID(decodeReport(t, res.stdout))
	for id, want := range map[string]report.Reason{
		"system.sudo-nopasswd":      report.ReasonTooLarge,
		"system.uid0-accounts":      report.ReasonSymlinkLoop,
		"system.passwd-permissions": report.ReasonSymlinkLoop,
		"system.empty-passwords":    report.ReasonSymlinkLoop,
	} {
		if got[id].Status != report.StatusError || got[id].Reason != want {
			t.Errorf("%s: %s/%s (%s), want error/%s", id, got[id].Status, got[id].Reason, got[id].Message, want)
		}
	}
	for id, r := range got {
		if (r.Status == report.StatusSkip || r.Status == report.StatusError) && (r.Reason == "" || r.Message == "") {
			t.Errorf("%s: %s without reason or message", id, r.Status)
		}
	}
}

// TestUnreadableFilesAsNobody runs the agent without privileges on this machine: files only
// root can read are skipped with needs_root, not failed.
func TestUnreadableFilesAsNobody(t *testing.T) {
	testenv.RequireRoot(t)
	if fi, err := os.Stat("/etc/shadow"); err != nil || fi.Mode().Perm()&0o004 != 0 {
		testenv.Unavailable(t, "needs an /etc/shadow that others cannot read")
	}
	res := runAgentAs(t, &syscall.Credential{Uid: 65534, Gid: 65534}, "run", "--dry-run", "--output", "json", "--fail-on", "none")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	got := resultsByID(decodeReport(t, res.stdout))
	if r := got["system.empty-passwords"]; r.Status != report.StatusSkip || r.Reason != report.ReasonNeedsRoot {
		t.Errorf("empty-passwords as nobody: %s/%s (%s), want skip/needs_root", r.Status, r.Reason, r.Message)
	}
	if r := got["system.shadow-permissions"]; r.Status != report.StatusPass && r.Status != report.StatusFail {
		t.Errorf("shadow-permissions needs only stat, got %s/%s", r.Status, r.Reason)
	}
}

func TestSuppressionIsListedAndNotScored(t *testing.T) {
	files := hardenedTree()
	files["etc/shadow"] = file{content: "root:!:19700::::::\n", mode: 0o644}
	root := writeTree(t, files)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte("fail_on: critical\nsuppress:\n  - check: system.shadow-permissions\n    reason: lab image, no real accounts\n  - check: system.uid0-accounts\n    reason: lapsed\n    until: 2020-01-01\n"), 0o644)
	res := runAgent(t, "run", "--dry-run", "--root", root, "--config", cfg, "--output", "json")
	if res.code != 0 {
		t.Fatalf("exit %d (suppressed critical should not fail): %s", res.code, res.stderr)
	}
	r := decodeReport(t, res.stdout)
	got := resultsByID(r)
	sup := got["system.shadow-permissions"]
	if !sup.Suppressed() || sup.Suppression == nil || sup.Suppression.Reason != "lab image, no real accounts" {
		t.Fatalf("shadow-permissions = %+v, want suppressed with the reason", sup)
	}
	if r.Summary.Counts.Suppressed != 1 {
		t.Errorf("suppressed count %d, want 1", r.Summary.Counts.Suppressed)
	}
	if got["system.uid0-accounts"].Suppressed() {
		t.Error("a lapsed suppression was applied")
	}
	if !strings.Contains(string(res.stderr), "lapsed") {
		t.Errorf("no warning about the lapsed suppression: %s", res.stderr)
	}
	// Without the suppression the same root fails at critical.
	if res := runAgent(t, "run", "--dry-run", "--root", root, "--fail-on", "critical"); res.code != 1 {
		t.Errorf("unsuppressed run: exit %d, want 1", res.code)
	}
}

func TestChecksListExplainVersionCompletion(t *testing.T) {
	cat := loadCatalog(t)
	res := runAgent(t, "checks", "list", "--output", "json")
	var entries []catalog.Entry
	if err := json.Unmarshal(res.stdout, &entries); err != nil || res.code != 0 {
		t.Fatalf("checks list json: exit %d, %v", res.code, err)
	}
	if len(entries) != len(cat.Checks) {
		t.Errorf("checks list has %d entries, the catalog %d", len(entries), len(cat.Checks))
	}
	res = runAgent(t, "checks", "list")
	if !bytes.Contains(res.stdout, []byte("system.aslr")) {
		t.Errorf("checks list table lacks system.aslr:\n%s", res.stdout)
	}
	res = runAgent(t, "checks", "explain", "system.shadow-permissions")
	for _, want := range []string{"Why it matters", "How to fix", "shadow_mode", "What an upload may contain"} {
		if !bytes.Contains(res.stdout, []byte(want)) {
			t.Errorf("explain lacks %q:\n%s", want, res.stdout)
		}
	}
	res = runAgent(t, "version")
	if res.code != 0 || !bytes.HasPrefix(res.stdout, []byte("server-audit ")) {
		t.Errorf("version: exit %d, %s", res.code, res.stdout)
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		res = runAgent(t, "completion", shell)
		if res.code != 0 || len(res.stdout) < 200 {
			t.Errorf("completion %s: exit %d, %d bytes", shell, res.code, len(res.stdout))
		}
	}
	res = runAgent(t, "__complete", "run", "--only", "sys")
	if !bytes.Contains(res.stdout, []byte("system.aslr")) {
		t.Errorf("--only completion lacks check IDs: %s", res.stdout)
	}
}

func TestStrictExitsFourOnErrors(t *testing.T) {
	files := hardenedTree()
	files["etc/passwd"] = file{link: "passwd"}
	root := writeTree(t, files)
	if res := runAgent(t, "run", "--dry-run", "--root", root, "--fail-on", "none", "--strict"); res.code != 4 {
		t.Errorf("--strict with errors: exit %d, want 4", res.code)
	}
	if res := runAgent(t, "run", "--dry-run", "--root", root, "--fail-on", "none"); res.code != 0 {
		t.Errorf("errors without --strict: exit %d, want 0", res.code)
	}
}

// TestColourOnlyOnTerminal runs the agent under a pseudo-terminal (script(1)): colour there,
// none with NO_COLOR set.
func TestColourOnlyOnTerminal(t *testing.T) {
	script := testenv.RequireTool(t, "script")
	for _, tc := range []struct {
		noColor   string
		wantColor bool
	}{{"", true}, {"1", false}} {
		cmd := exec.Command(script, "-q", "-e", "-c", agentBinary+" run --dry-run --fail-on none --config /dev/null", "/dev/null")
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}
		if tc.noColor != "" {
			cmd.Env = append(cmd.Env, "NO_COLOR="+tc.noColor)
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("script: %v\n%s", err, out)
		}
		if !bytes.Contains(out, []byte("Score")) {
			t.Fatalf("no report under the terminal:\n%s", out)
		}
		if got := bytes.Contains(out, []byte("\x1b[")); got != tc.wantColor {
			t.Errorf("NO_COLOR=%q: colour %v, want %v", tc.noColor, got, tc.wantColor)
		}
	}
}
