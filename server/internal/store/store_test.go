package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/securecodehq/server-audit/server/internal/pgtest"
	"github.com/securecodehq/server-audit/server/internal/store"
)

// pg is the PostgreSQL test environment, set once by TestMain before any test runs.
var pg *pgtest.Env

func TestMain(m *testing.M) {
	pg = pgtest.Start()
	code := m.Run()
	pg.Close()
	os.Exit(code)
}

func TestMigrateConcurrentlyAndIdempotently(t *testing.T) {
	ctx := context.Background()
	dbURL := pg.NewEmptyDB(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := store.CheckSchema(ctx, pool); !errors.Is(err, store.ErrSchemaNotCurrent) {
		t.Fatalf("empty database: %v, want ErrSchemaNotCurrent", err)
	}
	// Several replicas starting at once: the advisory lock serialises them and each
	// migration is applied exactly once.
	const n = 4
	results := make([]store.MigrateResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := pgxpool.New(ctx, dbURL)
			if err != nil {
				errs[i] = err
				return
			}
			defer p.Close()
			results[i], errs[i] = store.Migrate(ctx, p, slog.New(slog.DiscardHandler))
		}()
	}
	wg.Wait()
	migrations, _ := store.Migrations()
	appApplied, riverApplied := 0, 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("migrate %d: %v", i, errs[i])
		}
		appApplied += len(results[i].App)
		riverApplied += len(results[i].River)
	}
	if appApplied != len(migrations) || riverApplied == 0 {
		t.Fatalf("applied %d application migrations (want %d) and %d river ones", appApplied, len(migrations), riverApplied)
	}
	if err := store.CheckSchema(ctx, pool); err != nil {
		t.Fatalf("after migrate: %v", err)
	}
	again, err := store.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	if err != nil || len(again.App)+len(again.River) != 0 {
		t.Fatalf("second run applied %+v (%v)", again, err)
	}
	// The lock was released: a session can take it right away.
	var got bool
	if err := pool.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", int64(0x5356_4155_4449_5431)).Scan(&got); err != nil || !got {
		t.Fatalf("advisory lock still held (%v)", err)
	}
}

func TestMigrationsAreNumberedWithoutGaps(t *testing.T) {
	ms, err := store.Migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("%d migrations, %v", len(ms), err)
	}
	for i, m := range ms {
		if m.Version != i+1 || m.Name == "" || strings.TrimSpace(m.SQL) == "" {
			t.Fatalf("migration %d: %+v", i, m)
		}
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	st := store.New(pg.NewPool(t))
	secret, tok, err := st.CreateToken(ctx, "  Ops@Example.com ", netip.MustParseAddr("::ffff:192.0.2.4"))
	if err != nil {
		t.Fatal(err)
	}
	if !store.WellFormedToken(secret) || !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) != 47 {
		t.Fatalf("token %q", secret)
	}
	if tok.BoundIP.String() != "192.0.2.4" || tok.Email != "Ops@Example.com" {
		t.Fatalf("token %+v", tok)
	}
	// Same account, case-insensitively.
	secret2, tok2, err := st.CreateToken(ctx, "ops@example.COM", netip.Addr{})
	if err != nil || tok2.AccountID != tok.AccountID || secret2 == secret {
		t.Fatalf("second token %+v, %v", tok2, err)
	}
	// The secret is not stored, only its hash.
	var n int
	st.Pool().QueryRow(ctx, "SELECT count(*) FROM tokens WHERE position($1::bytea in secret_sha256) > 0", []byte(secret)).Scan(&n)
	if n != 0 {
		t.Fatal("the secret is stored")
	}
	p, err := st.LookupToken(ctx, secret)
	if err != nil || p.TokenID != tok.ID || p.AccountID != tok.AccountID || p.BoundIP.String() != "192.0.2.4" || p.Revoked {
		t.Fatalf("lookup %+v, %v", p, err)
	}
	if _, err := st.LookupToken(ctx, secret+"x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	if err := st.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := st.RevokeToken(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if p, _ := st.LookupToken(ctx, secret); !p.Revoked {
		t.Fatal("revoked token not marked")
	}
	list, err := st.ListTokens(ctx)
	if err != nil || len(list) != 2 || list[0].RevokedAt == nil || list[1].RevokedAt != nil || list[1].BoundIP.IsValid() {
		t.Fatalf("list %+v, %v", list, err)
	}
	for _, bad := range []string{"", "no-at", "a@", "@b", "a b@c", "a@b@c", strings.Repeat("x", 250) + "@e.com"} {
		if _, _, err := st.CreateToken(ctx, bad, netip.Addr{}); err == nil {
			t.Errorf("e-mail %q accepted", bad)
		}
	}
}

func TestWellFormedToken(t *testing.T) {
	s, _ := store.NewTokenSecret()
	for tok, want := range map[string]bool{
		s:                                       true,
		s[:len(s)-1]:                            false,
		s + "A":                                 false,
		"sat_" + strings.Repeat("+", 43):        false,
		"xyz_" + strings.Repeat("A", 43):        false,
		"sat_" + strings.Repeat("_-", 21) + "a": true,
	} {
		if got := store.WellFormedToken(tok); got != want {
			t.Errorf("%q: %v", tok, got)
		}
	}
}

func TestBindTokenIPFirstWins(t *testing.T) {
	ctx := context.Background()
	pool := pg.NewPool(t)
	st := store.New(pool)
	_, tok, err := st.CreateToken(ctx, "ops@example.com", netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	txA, _ := pool.Begin(ctx)
	defer txA.Rollback(ctx)
	got, err := store.BindTokenIP(ctx, txA, tok.ID, a)
	if err != nil || got != a {
		t.Fatalf("first bind: %v, %v", got, err)
	}
	// A concurrent binder waits for A's transaction, then sees A's address.
	done := make(chan netip.Addr)
	go func() {
		txB, _ := pool.Begin(ctx)
		defer txB.Rollback(ctx)
		got, err := store.BindTokenIP(ctx, txB, tok.ID, b)
		if err != nil {
			t.Error(err)
		}
		txB.Commit(ctx)
		done <- got
	}()
	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != a {
		t.Fatalf("second binder got %v, want %v", got, a)
	}
}

func TestAppendFactsJSONMatchesEncodingJSON(t *testing.T) {
	for _, facts := range []map[string]any{
		{},
		{"b": true, "a": int64(-3), "c": "1.2.3"},
		{"list": []string{"x", "y\"z\\", "\x01\n\t\r"}, "ports": []int64{22, 443}, "empty": []string{}},
		{"unicode": "é—\u2028", "obj": "0123456789abcdef0123456789abcdef"},
		{"other": json.Number("12"), "f": 1.5},
	} {
		got, err := store.AppendFactsJSON(nil, facts)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%v: invalid JSON %s", facts, got)
		}
		want, _ := json.Marshal(facts)
		json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

func TestParseUUID(t *testing.T) {
	u, err := store.ParseUUID("01890a5d-ac96-774b-bcce-b302099a8057")
	if err != nil || !u.Valid || u.Bytes[0] != 0x01 || u.Bytes[15] != 0x57 {
		t.Fatalf("%v %v", u, err)
	}
	for _, bad := range []string{"", "01890a5d-ac96-774b-bcce-b302099a805", "01890a5dxac96-774b-bcce-b302099a8057", "zz890a5d-ac96-774b-bcce-b302099a8057"} {
		if _, err := store.ParseUUID(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestDeletingAnAuditRemovesItsResults(t *testing.T) {
	ctx := context.Background()
	pool := pg.NewPool(t)
	_, err := pool.Exec(ctx, `
		INSERT INTO accounts (email) VALUES ('a@b.c');
		INSERT INTO servers (account_id, ip, os, live) VALUES (1, '192.0.2.1', 'linux', true);
		INSERT INTO audits (id, server_id, account_id, started_at, duration_ms, schema_version, agent_version, score, grade, dropped_facts, os, live, body_sha256)
		VALUES ('01890a5d-ac96-774b-bcce-b302099a8057', 1, 1, now(), 1, 1, '1', 100, 'A', 0, 'linux', true, decode(repeat('00', 32), 'hex'));
		INSERT INTO results (audit_id, check_id, status, severity) VALUES ('01890a5d-ac96-774b-bcce-b302099a8057', 'system.aslr', 'pass', 'high');`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "DELETE FROM accounts"); err != nil {
		t.Fatal(err)
	}
	var n int
	pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM results) + (SELECT count(*) FROM audits) + (SELECT count(*) FROM servers)").Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows survive the account's deletion", n)
	}
}
