// Package pgtest gives each test its own PostgreSQL database, cloned from a migrated template
// with CREATE DATABASE … TEMPLATE (tens of milliseconds), and drops it when the test ends.
//
// The server is SERVER_AUDIT_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432. When
// that is unreachable, a throwaway cluster is started with initdb and pg_ctl in a temporary
// directory on a free loopback port (and removed afterwards). When that fails too, tests skip
// — or fail under SERVER_AUDIT_INTEGRATION=required (internal/testenv).
//
// Use it from TestMain:
//
//	var pg *pgtest.Env
//
//	func TestMain(m *testing.M) {
//		pg = pgtest.Start()
//		code := m.Run()
//		pg.Close()
//		os.Exit(code)
//	}
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/securecodehq/server-audit/internal/testenv"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// DefaultURL is the server tried when SERVER_AUDIT_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Env is a PostgreSQL server with a migrated template database. It is set up lazily, by
// the first test that asks for a database, so test binaries (and fuzz workers) that need
// none never connect.
type Env struct {
	once     sync.Once
	adminURL string
	template string
	err      error
	cluster  *cluster
}

// Start returns the environment of this test binary. It never fails: an error is reported
// by every NewDB call instead, as a skip or a failure.
func Start() *Env { return &Env{} }

// setup finds or starts a server and creates the migrated template.
func (e *Env) setup() {
	e.once.Do(e.init)
}

func (e *Env) init() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e.adminURL = os.Getenv("SERVER_AUDIT_TEST_DATABASE_URL")
	if e.adminURL == "" {
		e.adminURL = DefaultURL
	}
	if err := ping(ctx, e.adminURL); err != nil {
		c, cerr := startCluster(ctx)
		if cerr != nil {
			e.err = fmt.Errorf("PostgreSQL at %s is unreachable (%v) and no throwaway cluster could be started: %v", redact(e.adminURL), err, cerr)
			return
		}
		e.cluster, e.adminURL = c, c.url
	}
	e.template = "sa_tmpl_" + randomSuffix()
	if err := e.createTemplate(ctx); err != nil {
		e.err = err
	}
}

func (e *Env) createTemplate(ctx context.Context) error {
	if err := e.exec(ctx, "CREATE DATABASE "+e.template); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	pool, err := pgxpool.New(ctx, e.urlFor(e.template))
	if err != nil {
		return fmt.Errorf("connect to template: %w", err)
	}
	defer pool.Close()
	if _, err := store.Migrate(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

// Close drops the template and stops the throwaway cluster, if any.
func (e *Env) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if e.template != "" {
		_ = e.exec(ctx, "DROP DATABASE IF EXISTS "+e.template+" WITH (FORCE)")
	}
	if e.cluster != nil {
		e.cluster.stop()
	}
}

// AdminURL returns the URL of the maintenance database, skipping the test when there is no
// server.
func (e *Env) AdminURL(t testing.TB) string {
	t.Helper()
	e.setup()
	if e.err != nil {
		testenv.Unavailable(t, e.err.Error())
	}
	return e.adminURL
}

// NewDB creates a database cloned from the migrated template and returns its URL. It is
// dropped when the test ends.
func (e *Env) NewDB(t testing.TB) string {
	t.Helper()
	return e.newDB(t, true)
}

// NewEmptyDB creates an empty database (no migrations) and returns its URL.
func (e *Env) NewEmptyDB(t testing.TB) string {
	t.Helper()
	return e.newDB(t, false)
}

func (e *Env) newDB(t testing.TB, migrated bool) string {
	t.Helper()
	e.setup()
	if e.err != nil {
		testenv.Unavailable(t, e.err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "sa_test_" + randomSuffix()
	stmt := "CREATE DATABASE " + name
	if migrated {
		stmt += " TEMPLATE " + e.template
	}
	if err := e.exec(ctx, stmt); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return e.urlFor(name)
}

// NewPool returns a pool on a fresh migrated database, closed when the test ends (before
// the database is dropped).
func (e *Env) NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := e.NewDB(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func (e *Env) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, e.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// urlFor returns the admin URL with its database replaced by name.
func (e *Env) urlFor(name string) string {
	u, err := url.Parse(e.adminURL)
	if err != nil || u.Scheme == "" {
		// keyword/value form
		return e.adminURL + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

func ping(ctx context.Context, dbURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxx")
		}
		return u.String()
	}
	return s
}

// cluster is a throwaway PostgreSQL cluster.
type cluster struct {
	dir   string
	pgCtl string
	url   string
	cred  *syscall.Credential
}

// startCluster runs initdb and pg_ctl from the newest PostgreSQL found (PATH or
// /usr/lib/postgresql/*/bin). As root, they run as the postgres (or nobody) user, since
// PostgreSQL refuses to run as root.
func startCluster(ctx context.Context) (*cluster, error) {
	bin, err := findPGBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "server-audit-pg-")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, pgCtl: filepath.Join(bin, "pg_ctl")}
	if os.Geteuid() == 0 {
		cred, err := unprivileged()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.cred = cred
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off", port, dir)
	if out, err := c.run(ctx, c.pgCtl, "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := ping(ctx, c.url); err != nil {
		c.stop()
		return nil, fmt.Errorf("throwaway cluster does not answer: %w", err)
	}
	return c, nil
}

func (c *cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd.CombinedOutput()
}

func (c *cluster) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = c.run(ctx, c.pgCtl, "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.dir)
}

func findPGBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	if len(matches) == 0 {
		return "", errors.New("pg_ctl not found (install postgresql)")
	}
	return filepath.Dir(matches[0]), nil
}

func versionOf(path string) int {
	v, _ := strconv.Atoi(strings.Split(strings.TrimPrefix(path, "/usr/lib/postgresql/"), "/")[0])
	return v
}

func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and no postgres or nobody user to run PostgreSQL as")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
