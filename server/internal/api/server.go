package api

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Default http.Server timeouts. ReadTimeout covers a whole upload (at most 1 MiB by default)
// from a slow link; WriteTimeout must exceed the per-request deadline so a timed-out request
// can still send its 503.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// ServerOptions configures the HTTP server.
type ServerOptions struct {
	// TLSCertFile and TLSKeyFile, both set, make the server speak HTTPS (TLS 1.2 minimum).
	TLSCertFile, TLSKeyFile string
	// Logger receives net/http's own errors (TLS handshakes, accept errors) at warn level.
	Logger *slog.Logger
}

// NewHTTPServer wraps h in an http.Server with the timeouts above and, when a certificate
// is given, a TLS configuration with TLS 1.2 as the minimum version. The certificate is loaded
// now, so a bad file fails at start.
func NewHTTPServer(h http.Handler, opts ServerOptions) (*http.Server, error) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
	if opts.Logger != nil {
		srv.ErrorLog = slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn)
	}
	if (opts.TLSCertFile == "") != (opts.TLSKeyFile == "") {
		return nil, errors.New("TLS needs both a certificate and a key")
	}
	if opts.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	return srv, nil
}

// Serve serves srv on ln, over TLS when srv has a TLS configuration. It returns
// http.ErrServerClosed after Shutdown.
func Serve(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}
