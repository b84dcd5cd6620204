package checks

import (
	"context"
	"sync"

	"github.com/securecodehq/server-audit/checks/host"
)

// Memo computes a value once per host and shares it among the checks of a family (the
// effective sshd configuration, the firewall state, the listening sockets), so that
// concurrent checks do not each run the same commands. The first caller computes; the
// others wait for its result, error included.
type Memo[T any] struct {
	compute func(context.Context, host.Host) (T, error)
	mu      sync.Mutex
	entries map[host.Host]*memoEntry[T]
}

type memoEntry[T any] struct {
	once sync.Once
	val  T
	err  error
}

// NewMemo returns a Memo that computes values with compute.
func NewMemo[T any](compute func(context.Context, host.Host) (T, error)) *Memo[T] {
	return &Memo[T]{compute: compute, entries: map[host.Host]*memoEntry[T]{}}
}

// Get returns the value for h, computing it on first use.
func (m *Memo[T]) Get(ctx context.Context, h host.Host) (T, error) {
	m.mu.Lock()
	e := m.entries[h]
	if e == nil {
		e = &memoEntry[T]{}
		m.entries[h] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.val, e.err = m.compute(ctx, h) })
	return e.val, e.err
}
