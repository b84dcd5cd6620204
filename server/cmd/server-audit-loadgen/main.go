// Command server-audit-loadgen measures POST /v1/audits of a running server-audit-api
// against the raw pgx storage path. See docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/securecodehq/server-audit/server/internal/loadgen"
)

func main() {
	var o loadgen.Options
	flag.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "base URL of the API")
	flag.StringVar(&o.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"), "the API's database (env DATABASE_URL)")
	flag.IntVar(&o.Clients, "clients", 50, "concurrent clients")
	flag.IntVar(&o.Audits, "audits", 20000, "audits per measured phase")
	flag.IntVar(&o.Warmup, "warmup", 1000, "API warm-up audits, not measured")
	flag.IntVar(&o.Results, "results", 120, "results per audit (capped at the catalog's size)")
	flag.IntVar(&o.DBConns, "db-conns", 20, "connection pool size of the raw phase (match the API's --db-max-conns)")
	flag.IntVar(&o.Rounds, "rounds", 2, "blocks per phase, run in ABBA order (raw, API, API, raw, …)")
	flag.BoolVar(&o.SkipRaw, "skip-raw", false, "skip the raw pgx phase")
	flag.BoolVar(&o.SkipAPI, "skip-api", false, "skip the API phase")
	flag.Parse()
	o.Log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := loadgen.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "server-audit-loadgen:", err)
		os.Exit(1)
	}
	rep.Print(os.Stdout)
}
