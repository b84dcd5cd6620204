package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securecodehq/server-audit/server/internal/pgtest"
)

// TestPostgresStoppedWhile20AgentsUpload: 20 agents upload in a loop while PostgreSQL (a
// throwaway cluster, never the shared server) stops for longer than an upload deadline and
// starts again. The API answers 503 while the database is down; agents retry, then spool;
// once it is back every audit is stored exactly once.
func TestPostgresStoppedWhile20AgentsUpload(t *testing.T) {
	requireBinaries(t)
	const agents = 20
	cluster := pgtest.NewCluster(t)
	cluster.Exec(t, "CREATE DATABASE e2e")
	dbURL := cluster.DatabaseURL("e2e")
	p := newPKI(t)
	a := startAPI(t, dbURL, p, "")
	token, _ := createToken(t, dbURL)

	var (
		mu      sync.Mutex
		ids     []string
		codes   = map[int]int{}
		stderrs []string
	)
	var phase atomic.Int32 // 0 before the outage, 1 during, 2 after
	var wg sync.WaitGroup
	hosts := make([]*agent, agents)
	for i := range hosts {
		hosts[i] = newAgent(t, token)
	}
	record := func(res agentRun) {
		mu.Lock()
		defer mu.Unlock()
		if res.auditID != "" {
			ids = append(ids, res.auditID)
		}
		codes[res.code]++
		stderrs = append(stderrs, res.stderr)
	}
	for _, ag := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Upload in a loop until the outage is over, then once more.
			for n := 0; n < 200; n++ {
				after := phase.Load() == 2
				res := ag.run(context.Background(), nil, "--token-file", ag.tokenFile, "--endpoint", a.url(),
					"--ca-file", p.caFile, "--upload-timeout", "3s", "--verbose")
				record(res)
				if after {
					return
				}
			}
		}()
	}
	// Let the agents upload, then stop the database for a few seconds.
	waitFor(t, 60*time.Second, func() bool { return totalAuditsOK(dbURL) >= agents })
	cluster.Stop(t)
	phase.Store(1)
	time.Sleep(5 * time.Second) // the outage outlasts an upload deadline: some runs spool
	cluster.Start(t)
	phase.Store(2)
	wg.Wait()

	// Spools left by runs that gave up are flushed by each host's next run.
	for _, ag := range hosts {
		if len(ag.spooled()) == 0 {
			continue
		}
		res := ag.exec(context.Background(), nil, "spool", "flush", "--config", "/dev/null", "--state-dir", ag.stateDir,
			"--token-file", ag.tokenFile, "--endpoint", a.url(), "--ca-file", p.caFile)
		if res.code != 0 {
			t.Errorf("spool flush exit %d:\n%s", res.code, res.stderr)
		}
	}
	all := strings.Join(stderrs, "\n")
	retried := strings.Count(all, "retrying request")
	t.Logf("%d runs, exit codes %v, %d retries logged, %d audits", len(stderrs), codes, retried, len(ids))
	if retried == 0 {
		t.Error("no upload was retried: the API must answer 503 (retryable) while the database is down")
	}
	if codes[3] == 0 {
		t.Error("no run spooled its audit although the outage outlasted the upload deadline")
	}
	for code := range codes {
		if code != 0 && code != 3 {
			t.Errorf("%d runs exited %d, want 0 or 3", codes[code], code)
		}
	}
	assertStoredOnce(t, dbURL, ids)
	if t.Failed() {
		t.Logf("API log:\n%s", a.logBuf.String())
	}
	if strings.Contains(all, token) {
		t.Error("the token appears in the agents' verbose output")
	}
}

// totalAuditsOK counts audits, 0 on any error.
func totalAuditsOK(dbURL string) int {
	n, err := countAudits(dbURL)
	if err != nil {
		return 0
	}
	return n
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(fmt.Sprintf("condition not met within %s", limit))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
