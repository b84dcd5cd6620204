package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/internal/testenv"
)

// Cluster is a throwaway PostgreSQL cluster of one test, which the test may stop and start
// again (fault tests: the database going away under a running API). It never touches the
// machine's shared server.
type Cluster struct {
	c *cluster
}

// NewCluster starts a throwaway cluster (initdb + pg_ctl on a free loopback port, trust
// authentication, user postgres), removed when the test ends. Without PostgreSQL
// binaries the test skips, or fails under SERVER_AUDIT_INTEGRATION=required.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := startCluster(ctx)
	if err != nil {
		testenv.Unavailable(t, fmt.Sprintf("cannot start a throwaway PostgreSQL cluster: %v", err))
	}
	t.Cleanup(c.stop)
	return &Cluster{c: c}
}

// URL returns the URL of the cluster's postgres database.
func (c *Cluster) URL() string { return c.c.url }

// DatabaseURL returns the URL of database name on the cluster.
func (c *Cluster) DatabaseURL(name string) string {
	u, _ := url.Parse(c.c.url)
	u.Path = "/" + name
	return u.String()
}

// Stop stops the server (fast shutdown: sessions are disconnected), keeping its data.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := c.c.run(ctx, c.c.pgCtl, "-D", filepath.Join(c.c.dir, "data"), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		t.Fatalf("pg_ctl stop: %v: %s", err, out)
	}
}

// Start starts the stopped server again on the same port and waits until it answers.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := url.Parse(c.c.url)
	if err != nil {
		t.Fatalf("cluster URL: %v", err)
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %s -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off", u.Port(), c.c.dir)
	if out, err := c.c.run(ctx, c.c.pgCtl, "-D", filepath.Join(c.c.dir, "data"), "-o", opts, "-l", filepath.Join(c.c.dir, "log"), "-w", "-t", "60", "start"); err != nil {
		t.Fatalf("pg_ctl start: %v: %s", err, out)
	}
	if err := ping(ctx, c.c.url); err != nil {
		t.Fatalf("restarted cluster does not answer: %v", err)
	}
}

// Exec runs one statement on the cluster's postgres database.
func (c *Cluster) Exec(t testing.TB, sql string) {
	t.Helper()
	e := &Env{adminURL: c.c.url}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
