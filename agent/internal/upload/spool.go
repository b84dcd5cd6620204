package upload

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/securecodehq/server-audit/agent/internal/atomicfile"
)

// DefaultStateDir is the agent's state directory: the spool and the object key live in it.
const DefaultStateDir = "/var/lib/server-audit"

// Spool bounds.
const (
	// DefaultMaxEntries bounds how many payloads the spool keeps (about three months of a
	// daily timer).
	DefaultMaxEntries = 100
	// DefaultMaxAge bounds how long a payload is kept.
	DefaultMaxAge = 30 * 24 * time.Hour
	// maxEntrySize bounds a spool file that is read back; payloads are far smaller.
	maxEntrySize = 8 << 20
	// staleTemp is the age after which an unfinished temporary file is removed.
	staleTemp = time.Hour
)

// entryName is the name of a spool file: the audit id (a UUIDv7, so names sort oldest
// first) and ".json".
var entryName = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\.json$`)

// Spool is the directory of payloads not yet delivered (mode 0700, files 0600). A file holds
// exactly the payload bytes an upload sends — no token, no header — and is named after its
// audit id.
type Spool struct {
	dir        string
	maxEntries int
	maxAge     time.Duration
	log        *slog.Logger
	now        func() time.Time
}

// SpoolOptions configures a Spool.
type SpoolOptions struct {
	// MaxEntries (DefaultMaxEntries when 0) and MaxAge (DefaultMaxAge when 0) bound the
	// spool; the oldest payloads beyond them are dropped with a warning.
	MaxEntries int
	MaxAge     time.Duration
	// Logger receives the warnings; nil discards them.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// SpoolDir returns the spool directory under a state directory.
func SpoolDir(stateDir string) string { return filepath.Join(stateDir, "spool") }

// OpenSpool returns the spool at dir. Nothing is created until a payload is added.
func OpenSpool(dir string, opts SpoolOptions) *Spool {
	s := &Spool{dir: dir, maxEntries: opts.MaxEntries, maxAge: opts.MaxAge, log: opts.Logger, now: opts.Now}
	if s.maxEntries <= 0 {
		s.maxEntries = DefaultMaxEntries
	}
	if s.maxAge <= 0 {
		s.maxAge = DefaultMaxAge
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Dir returns the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Entry is one spooled payload.
type Entry struct {
	AuditID string
	Path    string
	// Created is the time in the audit id (when the audit started).
	Created time.Time
	Size    int64
}

// Add stores a payload, then applies the bounds. Adding an audit that is already spooled
// replaces it with the same bytes.
func (s *Spool) Add(auditID string, payload []byte) (string, error) {
	if !entryName.MatchString(auditID + ".json") {
		return "", fmt.Errorf("spool: %q is not an audit id", auditID)
	}
	if err := s.ensureDir(); err != nil {
		return "", err
	}
	path := filepath.Join(s.dir, auditID+".json")
	if err := atomicfile.Write(path, payload, 0o600); err != nil {
		return "", fmt.Errorf("spool %s: %w", auditID, err)
	}
	if _, err := s.Prune(); err != nil {
		return path, err
	}
	return path, nil
}

// ensureDir creates the spool directory 0700, or narrows an existing one to 0700.
func (s *Spool) ensureDir() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("create spool directory: %w", err)
	}
	st, err := os.Stat(s.dir)
	if err != nil {
		return fmt.Errorf("create spool directory: %w", err)
	}
	if st.Mode().Perm() != 0o700 {
		s.log.Warn("spool directory was not private; setting its mode to 0700", "dir", s.dir, "mode", fmt.Sprintf("%04o", st.Mode().Perm()))
		if err := os.Chmod(s.dir, 0o700); err != nil {
			return fmt.Errorf("chmod spool directory: %w", err)
		}
	}
	return nil
}

// List returns the spooled payloads, oldest first. A missing spool is empty. Files that are
// not spool entries are ignored; unfinished temporary files older than an hour are removed.
func (s *Spool) List() ([]Entry, error) {
	des, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read spool: %w", err)
	}
	var out []Entry
	for _, de := range des {
		name := de.Name()
		info, err := de.Info()
		if err != nil {
			continue
		}
		if atomicfile.IsTemp(name) {
			if s.now().Sub(info.ModTime()) > staleTemp {
				_ = os.Remove(filepath.Join(s.dir, name))
			}
			continue
		}
		m := entryName.FindStringSubmatch(name)
		if m == nil || !info.Mode().IsRegular() {
			continue
		}
		out = append(out, Entry{AuditID: m[1], Path: filepath.Join(s.dir, name), Created: uuidTime(m[1]), Size: info.Size()})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.AuditID, b.AuditID) })
	return out, nil
}

// Prune drops, with a warning each, the entries older than the age bound and then the
// oldest entries beyond the count bound. It returns the dropped entries.
func (s *Spool) Prune() ([]Entry, error) {
	entries, err := s.List()
	if err != nil {
		return nil, err
	}
	var dropped []Entry
	now := s.now()
	keep := entries[:0:0]
	for _, e := range entries {
		if now.Sub(e.Created) > s.maxAge {
			s.drop(e, fmt.Sprintf("older than %s", s.maxAge))
			dropped = append(dropped, e)
			continue
		}
		keep = append(keep, e)
	}
	for len(keep) > s.maxEntries {
		s.drop(keep[0], fmt.Sprintf("the spool holds at most %d payloads", s.maxEntries))
		dropped = append(dropped, keep[0])
		keep = keep[1:]
	}
	return dropped, nil
}

func (s *Spool) drop(e Entry, why string) {
	if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("cannot remove spooled audit", "audit_id", e.AuditID, "error", err)
		return
	}
	s.log.Warn("dropped the oldest spooled audit: it was never delivered", "audit_id", e.AuditID,
		"created", e.Created.UTC().Format(time.RFC3339), "reason", why)
}

// Read returns an entry's payload bytes. Unsafe permissions are narrowed to 0600.
func (s *Spool) Read(e Entry) ([]byte, error) {
	st, err := os.Lstat(e.Path)
	if err != nil {
		return nil, fmt.Errorf("read spooled audit %s: %w", e.AuditID, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read spooled audit %s: not a regular file", e.AuditID)
	}
	if st.Size() > maxEntrySize {
		return nil, fmt.Errorf("read spooled audit %s: larger than %d bytes", e.AuditID, maxEntrySize)
	}
	if st.Mode().Perm() != 0o600 {
		_ = os.Chmod(e.Path, 0o600)
	}
	data, err := os.ReadFile(e.Path)
	if err != nil {
		return nil, fmt.Errorf("read spooled audit %s: %w", e.AuditID, err)
	}
	return data, nil
}

// Remove deletes an entry (delivered, or refused for good). A missing file is not an error:
// another run may have delivered it.
func (s *Spool) Remove(e Entry) error {
	if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove spooled audit %s: %w", e.AuditID, err)
	}
	return nil
}

// uuidTime returns the millisecond timestamp of a UUIDv7.
func uuidTime(id string) time.Time {
	h := strings.ReplaceAll(id, "-", "")
	b, err := hex.DecodeString(h[:12])
	if err != nil {
		return time.Time{}
	}
	var ms int64
	for _, c := range b {
		ms = ms<<8 | int64(c)
	}
	return time.UnixMilli(ms)
}
