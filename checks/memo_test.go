package checks

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/securecodehq/server-audit/checks/host"
)

type fakeHost struct{ host.Host }

func TestMemoComputesOncePerHost(t *testing.T) {
	var calls atomic.Int32
	m := NewMemo(func(_ context.Context, h host.Host) (int, error) {
		calls.Add(1)
		if h.(*fakeHost).Host != nil {
			return 0, errors.New("boom")
		}
		return 42, nil
	})
	a, b := &fakeHost{}, &fakeHost{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(2)
		go func() { defer wg.Done(); m.Get(context.Background(), a) }()
		go func() { defer wg.Done(); m.Get(context.Background(), b) }()
	}
	wg.Wait()
	if v, err := m.Get(context.Background(), a); v != 42 || err != nil {
		t.Fatalf("Get = %d, %v", v, err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("computed %d times for 2 hosts, want 2", n)
	}
	bad := &fakeHost{Host: &fakeHost{}}
	for range 2 {
		if _, err := m.Get(context.Background(), bad); err == nil {
			t.Fatal("error not returned")
		}
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("an error is computed once too: %d calls, want 3", n)
	}
}
