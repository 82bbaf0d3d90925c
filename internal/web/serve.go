package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/prometheus/exporter-toolkit/web"
)

// shutdownTimeout bounds the graceful shutdown: requests still running
// after it are cut off.
const shutdownTimeout = 5 * time.Second

// newServer returns the http.Server for h with timeouts that keep a slow
// or hostile client from holding connections open.
func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Serve listens on listenAddress and serves h until ctx is done, then shuts
// down gracefully (at most 5 seconds). webConfigFile is an exporter-toolkit
// web config (TLS, basic auth); "" serves plain HTTP. It returns nil after a
// shutdown caused by ctx, or the error that stopped the server (a port in
// use, an invalid web config).
func Serve(ctx context.Context, h http.Handler, listenAddress, webConfigFile string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := newServer(h, logger)
	flags := &web.FlagConfig{WebListenAddresses: &[]string{listenAddress}, WebConfigFile: &webConfigFile}
	return run(ctx, srv, listenAddress, logger, func() error { return web.ListenAndServe(srv, flags, logger) })
}

// ServeListener is Serve on a listener the caller opened (port 0 in tests,
// or a socket set up before dropping privileges). The listener is closed
// when ServeListener returns.
func ServeListener(ctx context.Context, l net.Listener, h http.Handler, webConfigFile string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := newServer(h, logger)
	flags := &web.FlagConfig{WebListenAddresses: &[]string{l.Addr().String()}, WebConfigFile: &webConfigFile}
	defer l.Close()
	return run(ctx, srv, l.Addr().String(), logger, func() error { return web.Serve(l, srv, flags, logger) })
}

// Listen opens the sockets to serve on: systemd's socket-activation
// sockets if systemdSocket is set (as --web.systemd-socket does for every
// exporter built on exporter-toolkit), else a TCP listener for each of
// addresses. Opening them before serving makes a port in use an error at
// start, and tells the caller the addresses actually bound.
func Listen(addresses []string, systemdSocket bool) ([]net.Listener, error) {
	if systemdSocket {
		ls, err := activation.Listeners()
		if err != nil {
			return nil, fmt.Errorf("web.systemd_socket: %w", err)
		}
		var out []net.Listener
		for _, l := range ls {
			if l != nil { // a passed descriptor that is not a listening socket
				out = append(out, l)
			}
		}
		if len(out) == 0 {
			return nil, errors.New("web.systemd_socket: systemd passed no listening socket (is leakwatch started by a .socket unit?)")
		}
		return out, nil
	}
	var out []net.Listener
	for _, a := range addresses {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, fmt.Errorf("web.listen_address: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}

// ServeListeners is ServeListener on several listeners with one server,
// through exporter-toolkit's ServeMultiple. The listeners are closed when
// it returns.
func ServeListeners(ctx context.Context, ls []net.Listener, h http.Handler, webConfigFile string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if len(ls) == 0 {
		return errors.New("web: no listener to serve on")
	}
	srv := newServer(h, logger)
	addrs := make([]string, len(ls))
	for i, l := range ls {
		addrs[i] = l.Addr().String()
		defer l.Close()
	}
	flags := &web.FlagConfig{WebListenAddresses: &addrs, WebConfigFile: &webConfigFile}
	return run(ctx, srv, strings.Join(addrs, ", "), logger, func() error { return web.ServeMultiple(ls, srv, flags, logger) })
}

// run runs serve in a goroutine it waits for, and shuts srv down when ctx
// is done.
func run(ctx context.Context, srv *http.Server, addr string, logger *slog.Logger, serve func() error) error {
	done := make(chan error, 1)
	go func() { done <- serve() }()
	select {
	case err := <-done:
		// The server stopped by itself: it never started or it failed.
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serving HTTP on %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	if shutdownErr != nil {
		logger.Warn("http server shutdown not graceful; closing open connections", "err", shutdownErr)
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving HTTP on %s: %w", addr, err)
	}
	return nil
}
