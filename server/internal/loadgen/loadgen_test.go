package loadgen_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/securecodehq/server-audit/server/internal/cli"
	"github.com/securecodehq/server-audit/server/internal/config"
	"github.com/securecodehq/server-audit/server/internal/loadgen"
	"github.com/securecodehq/server-audit/server/internal/pgtest"
)

// pg is the PostgreSQL test environment, set once by TestMain before any test runs.
var pg *pgtest.Env

func TestMain(m *testing.M) {
	pg = pgtest.Start()
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

// TestSmallRun drives a real server with a few clients: every upload must be accepted and
// both phases measured.
func TestSmallRun(t *testing.T) {
	dbURL := pg.NewDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := config.Serve{
		Common: config.Common{DatabaseURL: dbURL, LogLevel: "warn"}, Listen: "127.0.0.1:0",
		TrustedProxies: []string{"127.0.0.1"}, MaxBody: 1 << 20, MaxDecompressed: 8 << 20,
		TokenBurst: 1, IPBurst: 1, RequestTimeout: 10 * time.Second, ShutdownTimeout: 10 * time.Second,
		DBMaxConns: 8,
	}
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- cli.Serve(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)), func(a net.Addr) { addrs <- a })
	}()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatal(err)
	}
	rep, err := loadgen.Run(ctx, loadgen.Options{
		URL: "http://" + addr.String(), DatabaseURL: dbURL, Clients: 4, Audits: 40, Warmup: 4, DBConns: 4, Rounds: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.API == nil || rep.Raw == nil || len(rep.API.Errors) != 0 || len(rep.Raw.Errors) != 0 {
		t.Fatalf("report %+v %+v", rep.API, rep.Raw)
	}
	if rep.API.Audits != 40 || rep.Raw.Audits != 40 || rep.Results < 100 || rep.Ratio() <= 0 {
		t.Fatalf("report %+v", rep)
	}
	// Both warm-ups and both measured phases stored every audit once.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	var audits, jobRows int
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM audits), (SELECT count(*) FROM river_job)").Scan(&audits, &jobRows); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if audits != 2*(4+40) || jobRows != audits {
		t.Fatalf("%d audits and %d jobs stored, want %d each", audits, jobRows, 2*(4+40))
	}
	var out bytes.Buffer
	rep.Print(&out)
	if !strings.Contains(out.String(), "audits/s") || !strings.Contains(out.String(), "raw pgx") {
		t.Fatalf("printed:\n%s", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestSplitEven(t *testing.T) {
	for _, tc := range []struct {
		n, k int
		want []int
	}{
		{10, 3, []int{4, 3, 3}},
		{20000, 2, []int{10000, 10000}},
		{2, 5, []int{1, 1}},
		{7, 0, []int{7}},
	} {
		got := loadgen.SplitEven(tc.n, tc.k)
		if !slices.Equal(got, tc.want) {
			t.Errorf("SplitEven(%d, %d) = %v, want %v", tc.n, tc.k, got, tc.want)
		}
	}
}
