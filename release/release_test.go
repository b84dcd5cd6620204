// Package release tests the release artifacts end to end: goreleaser builds a snapshot of
// a copy of the working tree, install.sh installs from it over loopback HTTP, the deb
// package installs with dpkg, and systemd-analyze verifies the shipped units.
package release

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/internal/testenv"
)

// repoRoot is the repository, relative to this package's directory.
const repoRoot = ".."

// snapshot is one goreleaser snapshot build.
type snapshot struct {
	dist    string
	version string
}

// buildSnapshot copies the working tree (without build outputs) to a temporary directory and
// runs `goreleaser release --snapshot` there, so the repository itself is not touched.
func buildSnapshot(t *testing.T) snapshot {
	t.Helper()
	goreleaser := testenv.RequireTool(t, "goreleaser")
	testenv.RequireTool(t, "git")
	work := filepath.Join(t.TempDir(), "src")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, repoRoot, nil, "cp", "-a", ".", work)
	for _, d := range []string{"dist", "bin", "build"} {
		if err := os.RemoveAll(filepath.Join(work, d)); err != nil {
			t.Fatal(err)
		}
	}
	// goreleaser reads the commit from git and wants a remote; the copy gets one if the
	// checkout has none (the original repository is not changed).
	if err := exec.Command("git", "-C", work, "remote", "get-url", "origin").Run(); err != nil {
		run(t, work, nil, "git", "remote", "add", "origin", "https://github.com/securecodehq/server-audit.git")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goreleaser, "release", "--snapshot", "--clean", "--skip=publish,sign,sbom")
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("goreleaser release --snapshot: %v\n%s", err, out)
	}
	t.Logf("snapshot built in %s", time.Since(start).Round(time.Second))
	dist := filepath.Join(work, "dist")
	var meta struct {
		Version string `json:"version"`
	}
	data, err := os.ReadFile(filepath.Join(dist, "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &meta); err != nil || meta.Version == "" {
		t.Fatalf("metadata.json: %v %q", err, data)
	}
	return snapshot{dist: dist, version: meta.Version}
}

// mirror serves dir with the layout install.sh expects of SERVER_AUDIT_DOWNLOAD_BASE.
func mirror(t *testing.T, dir, version string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /latest", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("v" + version + "\n"))
	})
	mux.Handle("GET /v"+version+"/", http.StripPrefix("/v"+version+"/", http.FileServer(http.Dir(dir))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// installScript runs install.sh with env and args and returns its exit error and output.
func installScript(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{filepath.Join(repoRoot, "install.sh")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestRelease(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("releases are Linux only")
	}
	snap := buildSnapshot(t)
	archArchive := map[string]string{"amd64": "amd64", "arm64": "arm64", "386": "386", "arm": "armv7"}[runtime.GOARCH]

	t.Run("artifacts", func(t *testing.T) {
		sums, err := os.ReadFile(filepath.Join(snap.dist, "server-audit_"+snap.version+"_checksums.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"server-audit_" + snap.version + "_linux_amd64.tar.gz", "server-audit_" + snap.version + "_linux_arm64.tar.gz",
			"server-audit_" + snap.version + "_linux_armv7.tar.gz", "server-audit_" + snap.version + "_linux_386.tar.gz",
			"server-audit-api_" + snap.version + "_linux_amd64.tar.gz", "server-audit-api_" + snap.version + "_linux_arm64.tar.gz",
		} {
			if !bytes.Contains(sums, []byte("  "+want+"\n")) {
				t.Errorf("checksums file lacks %s", want)
			}
		}
		list := run(t, ".", nil, "tar", "-tzf", filepath.Join(snap.dist, "server-audit_"+snap.version+"_linux_amd64.tar.gz"))
		for _, want := range []string{"server-audit", "README.md", "config.example.yaml", "man/man1/server-audit.1.gz",
			"man/man1/server-audit-schedule-install.1.gz", "completions/server-audit.bash", "completions/server-audit.zsh", "completions/server-audit.fish"} {
			if !containsLine(list, want) {
				t.Errorf("agent archive lacks %s:\n%s", want, list)
			}
		}
		list = run(t, ".", nil, "tar", "-tzf", filepath.Join(snap.dist, "server-audit-api_"+snap.version+"_linux_amd64.tar.gz"))
		for _, want := range []string{"server-audit-api", "deploy/server-audit-api.service", "deploy/Containerfile", "docs/deploy.md",
			"man/man1/server-audit-api-serve.1.gz", "completions/server-audit-api.bash"} {
			if !containsLine(list, want) {
				t.Errorf("API archive lacks %s:\n%s", want, list)
			}
		}
	})

	t.Run("install.sh", func(t *testing.T) {
		if archArchive == "" {
			t.Skipf("no release for %s", runtime.GOARCH)
		}
		srv := mirror(t, snap.dist, snap.version)
		home := t.TempDir()
		env := []string{"SERVER_AUDIT_DOWNLOAD_BASE=" + srv.URL, "HOME=" + home, "SERVER_AUDIT_VERSION="}

		// The latest version (from <base>/latest) into a temporary prefix: the defaults
		// (/usr/local/bin as root, ~/.local/bin otherwise) are never written by the test.
		binDir := filepath.Join(t.TempDir(), "prefix", "bin")
		out, err := installScript(t, env, "--bin-dir", binDir)
		if err != nil {
			t.Fatalf("install.sh: %v\n%s", err, out)
		}
		got := run(t, ".", nil, filepath.Join(binDir, "server-audit"), "version")
		if !strings.Contains(got, "server-audit "+snap.version+" ") {
			t.Errorf("installed binary reports %q, want version %s", got, snap.version)
		}
		// A pinned version, with the v prefix, and the installed binary audits.
		binDir2 := filepath.Join(t.TempDir(), "bin")
		if out, err := installScript(t, append(env, "SERVER_AUDIT_VERSION=v"+snap.version), "--bin-dir="+binDir2); err != nil {
			t.Fatalf("install.sh with SERVER_AUDIT_VERSION: %v\n%s", err, out)
		}
		run(t, ".", nil, filepath.Join(binDir2, "server-audit"), "run", "--dry-run", "--only", "system", "--fail-on", "none", "--output", "json")
	})

	t.Run("install.sh refuses a tampered archive", func(t *testing.T) {
		if archArchive == "" {
			t.Skipf("no release for %s", runtime.GOARCH)
		}
		tampered := t.TempDir()
		run(t, ".", nil, "cp", "-a", snap.dist+"/.", tampered)
		archive := filepath.Join(tampered, "server-audit_"+snap.version+"_linux_"+archArchive+".tar.gz")
		f, err := os.OpenFile(archive, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte{0}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		srv := mirror(t, tampered, snap.version)
		binDir := filepath.Join(t.TempDir(), "bin")
		out, err := installScript(t, []string{"SERVER_AUDIT_DOWNLOAD_BASE=" + srv.URL, "SERVER_AUDIT_VERSION=" + snap.version}, "--bin-dir", binDir)
		if err == nil {
			t.Fatalf("install.sh accepted a tampered archive:\n%s", out)
		}
		if !strings.Contains(out, "checksum mismatch") {
			t.Errorf("install.sh output does not say why:\n%s", out)
		}
		if _, err := os.Stat(binDir); !os.IsNotExist(err) {
			t.Errorf("something was installed: %v", err)
		}

		// An archive missing from the checksums file is refused too (exact-name lookup: the
		// .sbom-like name that merely contains the archive's name does not count).
		sums := filepath.Join(tampered, "server-audit_"+snap.version+"_checksums.txt")
		data, err := os.ReadFile(sums)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(archive)
		data = bytes.ReplaceAll(data, []byte("  "+name+"\n"), []byte("  "+name+".sbom.json\n"))
		if err := os.WriteFile(sums, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err = installScript(t, []string{"SERVER_AUDIT_DOWNLOAD_BASE=" + srv.URL, "SERVER_AUDIT_VERSION=" + snap.version}, "--bin-dir", binDir)
		if err == nil || !strings.Contains(out, "is not listed") {
			t.Errorf("install.sh with the archive unlisted: %v\n%s", err, out)
		}
		if _, err := os.Stat(binDir); !os.IsNotExist(err) {
			t.Errorf("something was installed: %v", err)
		}
	})

	t.Run("deb", func(t *testing.T) { testDeb(t, snap) })

	t.Run("rpm", func(t *testing.T) {
		rpm := testenv.RequireTool(t, "rpm")
		pkgs, _ := filepath.Glob(filepath.Join(snap.dist, "server-audit-*.x86_64.rpm"))
		if len(pkgs) != 1 {
			t.Fatalf("want one x86_64 rpm, found %v", pkgs)
		}
		conf := run(t, ".", nil, rpm, "-qp", "--configfiles", pkgs[0])
		if !containsLine(conf, "/etc/server-audit/config.yaml") {
			t.Errorf("rpm config files: %q", conf)
		}
		files := run(t, ".", nil, rpm, "-qlp", pkgs[0])
		for _, want := range []string{"/usr/bin/server-audit", "/usr/lib/systemd/system/server-audit.service", "/usr/lib/systemd/system/server-audit.timer"} {
			if !containsLine(files, want) {
				t.Errorf("rpm lacks %s", want)
			}
		}
	})

	t.Run("API unit and binary", func(t *testing.T) {
		if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
			t.Skipf("no API release for %s", runtime.GOARCH)
		}
		analyze := testenv.RequireTool(t, "systemd-analyze")
		dir := t.TempDir()
		run(t, ".", nil, "tar", "-xzf", filepath.Join(snap.dist, "server-audit-api_"+snap.version+"_linux_"+runtime.GOARCH+".tar.gz"), "-C", dir)
		got := run(t, ".", nil, filepath.Join(dir, "server-audit-api"), "--version")
		if !strings.Contains(got, snap.version) {
			t.Errorf("server-audit-api --version: %q, want %s", got, snap.version)
		}
		// verify needs ExecStart to exist: point it at the unpacked binary.
		unit, err := os.ReadFile(filepath.Join(dir, "deploy", "server-audit-api.service"))
		if err != nil {
			t.Fatal(err)
		}
		unit = bytes.ReplaceAll(unit, []byte("/usr/local/bin/server-audit-api"), []byte(filepath.Join(dir, "server-audit-api")))
		p := filepath.Join(dir, "server-audit-api.service")
		if err := os.WriteFile(p, unit, 0o644); err != nil {
			t.Fatal(err)
		}
		verifyUnits(t, analyze, p)
	})
}

// testDeb installs the deb with dpkg, checks the binary, the conffile and the units, and
// purges it again, leaving the machine as it was.
func testDeb(t *testing.T, snap snapshot) {
	testenv.RequireRoot(t)
	dpkg := testenv.RequireTool(t, "dpkg")
	analyze := testenv.RequireTool(t, "systemd-analyze")
	debArch := map[string]string{"amd64": "amd64", "arm64": "arm64", "386": "i386", "arm": "armhf"}[runtime.GOARCH]
	pkgs, _ := filepath.Glob(filepath.Join(snap.dist, "server-audit_*_"+debArch+".deb"))
	if len(pkgs) != 1 {
		t.Fatalf("want one %s deb, found %v", debArch, pkgs)
	}
	if err := exec.Command("dpkg-query", "-W", "server-audit").Run(); err == nil {
		testenv.Unavailable(t, "a server-audit package is already installed on this machine; not replacing it")
	}
	for _, p := range []string{"/usr/bin/server-audit", "/etc/server-audit", "/usr/lib/systemd/system/server-audit.service"} {
		if _, err := os.Lstat(p); err == nil {
			testenv.Unavailable(t, p+" exists on this machine; not overwriting it")
		}
	}
	t.Cleanup(func() {
		if out, err := exec.Command(dpkg, "--purge", "server-audit").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge: %v\n%s", err, out)
		}
		for _, p := range []string{"/usr/bin/server-audit", "/etc/server-audit", "/usr/lib/systemd/system/server-audit.timer"} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s left behind after purge", p)
			}
		}
	})
	run(t, ".", nil, dpkg, "-i", pkgs[0])

	got := run(t, ".", nil, "/usr/bin/server-audit", "version")
	if !strings.Contains(got, "server-audit "+snap.version+" ") {
		t.Errorf("server-audit version: %q, want %s", got, snap.version)
	}
	conf := run(t, ".", nil, "dpkg-query", "-W", "-f=${Conffiles}", "server-audit")
	if !strings.Contains(conf, "/etc/server-audit/config.yaml") {
		t.Errorf("config.yaml is not a conffile: %q", conf)
	}
	// The shipped default configuration is valid, and a run with it works.
	run(t, ".", nil, "/usr/bin/server-audit", "run", "--dry-run", "--only", "system", "--fail-on", "none",
		"--config", "/etc/server-audit/config.yaml", "--output", "json")
	for _, p := range []string{"/usr/share/man/man1/server-audit.1.gz", "/usr/share/bash-completion/completions/server-audit"} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("package lacks %s: %v", p, err)
		}
	}
	verifyUnits(t, analyze, "/usr/lib/systemd/system/server-audit.service", "/usr/lib/systemd/system/server-audit.timer")
	// Installed, not enabled.
	if _, err := os.Lstat("/etc/systemd/system/timers.target.wants/server-audit.timer"); err == nil {
		t.Error("the package enabled the timer")
	}
}

// verifyUnits runs `systemd-analyze verify` and fails on any complaint (verify exits 0 on
// mere warnings such as unknown keys, so its output must be empty).
func verifyUnits(t *testing.T, analyze string, units ...string) {
	t.Helper()
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, units...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=notice")
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("systemd-analyze verify %v: %v\n%s", units, err, out)
	}
}

func TestInstallScriptShellcheck(t *testing.T) {
	shellcheck := testenv.RequireTool(t, "shellcheck")
	scripts := []string{"install.sh", "scripts/release-docs.sh", "packaging/scripts/postinstall.sh",
		"packaging/scripts/preremove.sh", "packaging/scripts/postremove.sh"}
	for i, s := range scripts {
		scripts[i] = filepath.Join(repoRoot, s)
	}
	cmd := exec.Command(shellcheck, append([]string{"--shell=sh", "--severity=style"}, scripts...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

// TestInstallScriptRefusesUnsupported runs install.sh with a uname that reports other
// systems: it must stop before downloading anything.
func TestInstallScriptRefusesUnsupported(t *testing.T) {
	cases := []struct{ s, m, want string }{
		{"Linux", "riscv64", "unsupported architecture: riscv64"},
		{"Linux", "armv6l", "unsupported architecture: armv6l"},
		{"Darwin", "arm64", "unsupported operating system: Darwin"},
		{"FreeBSD", "amd64", "unsupported operating system: FreeBSD"},
	}
	for _, c := range cases {
		t.Run(c.s+"/"+c.m, func(t *testing.T) {
			fake := t.TempDir()
			script := "#!/bin/sh\ncase \"$1\" in -s) echo " + c.s + ";; -m) echo " + c.m + ";; *) exit 1;; esac\n"
			if err := os.WriteFile(filepath.Join(fake, "uname"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			binDir := filepath.Join(t.TempDir(), "bin")
			// A download would fail loudly: the base is a closed port.
			out, err := installScript(t, []string{"PATH=" + fake + ":" + os.Getenv("PATH"),
				"SERVER_AUDIT_DOWNLOAD_BASE=http://127.0.0.1:1", "SERVER_AUDIT_VERSION=1.0.0"}, "--bin-dir", binDir)
			if err == nil || !strings.Contains(out, c.want) {
				t.Fatalf("got %v\n%s\nwant %q", err, out, c.want)
			}
			if strings.Contains(out, "download") {
				t.Errorf("install.sh tried to download:\n%s", out)
			}
			if _, err := os.Stat(binDir); !os.IsNotExist(err) {
				t.Errorf("bin dir created: %v", err)
			}
		})
	}
}

// TestGoreleaserCheck validates .goreleaser.yaml.
func TestGoreleaserCheck(t *testing.T) {
	goreleaser := testenv.RequireTool(t, "goreleaser")
	run(t, repoRoot, nil, goreleaser, "check")
}

// run runs a command in dir and returns its standard output; any failure fails the test.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out) + stderr.String()
}

func containsLine(list, want string) bool {
	for _, l := range strings.Split(list, "\n") {
		if strings.TrimPrefix(strings.TrimSpace(l), "./") == want {
			return true
		}
	}
	return false
}
