//go:build !noserve

package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ksym-dev/ksym/serve"
	"github.com/ksym-dev/ksym/store"
	"github.com/ksym-dev/ksym/store/local"
	s3store "github.com/ksym-dev/ksym/store/s3"
	"github.com/spf13/cobra"
)

const serveLong = `Serve the crash desk: a web page to paste a kernel log into and get the
decoded report behind a permalink, crash buckets, the stored snapshots, flame
graphs of uploaded stacks; a JSON API under /api/v1/; a debuginfod-compatible
/buildid/ID/debuginfo and /executable; Prometheus metrics at /metrics.

A log is decoded with the stored snapshot of its kernel, found by the build
ID it prints, else by its release and the addresses it prints; with none, it
is decoded from the log alone. Machines upload their snapshots with
'ksym snapshot push URL FILE'.

Security: uploads, raw snapshot downloads and deletes need a token
(Authorization: Bearer TOKEN) from --token-file, one per line: "TOKEN" reads
and writes, "TOKEN read" only reads. Anonymous callers may decode logs and
read reports, but get no address from a snapshot unless --public.

Several ksym serve processes may share one s3:// store: any of them answers
any request. The API, limits and store layouts are in docs/serve.md.`

const serveExample = `  ksym serve --store /var/lib/ksym --token-file /etc/ksym/tokens
  ksym serve --listen :8443 --tls-cert cert.pem --tls-key key.pem --debuginfo /usr/lib/debug
  AWS_ENDPOINT_URL=https://s3.example.com AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
    ksym serve --listen :8417 --store s3://ksym/fleet --token-file /etc/ksym/tokens`

// serveOpts are the flags of ksym serve.
type serveOpts struct {
	listen, store, tokenFile, tlsCert, tlsKey, debuginfo string
	public, private                                      bool
	maxLog, maxSnapshot, maxDebug                        int64
	decodeTimeout                                        time.Duration
	perClient                                            int
}

func (a *app) newServeCmd() *cobra.Command {
	var o serveOpts
	c := &cobra.Command{
		Use:     "serve",
		Short:   "Serve the crash desk: decode page, API, snapshot and debug-info store",
		Long:    serveLong,
		Example: serveExample,
		Args:    argsRange(0, 0, "no arguments"),
		RunE:    func(c *cobra.Command, args []string) error { return a.runServe(o) },
	}
	f := c.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8417", "listen on `ADDR` (host:port)")
	f.StringVar(&o.store, "store", "", "keep snapshots, reports and debug files in `DIR` (default $XDG_DATA_HOME/ksym/store, else ~/.local/share/ksym/store), or in s3://BUCKET/PREFIX (endpoint and keys from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION)")
	f.StringVar(&o.tokenFile, "token-file", "", "read bearer tokens from `FILE`: one per line, TOKEN (read and write) or TOKEN read")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with the certificate in `FILE` (with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "the private key of --tls-cert, in `FILE`")
	f.StringVar(&o.debuginfo, "debuginfo", "", "also serve the debug files under `DIR` by build ID (.build-id/xx/rest.debug, or any ELF file)")
	f.BoolVar(&o.public, "public", false, "show addresses from snapshots to anonymous callers")
	f.BoolVar(&o.private, "private", false, "answer nothing but /metrics without a read token (no anonymous decoding)")
	f.Int64Var(&o.maxLog, "max-log", serve.DefaultMaxLogBytes, "largest log to decode, in `BYTES`")
	f.Int64Var(&o.maxSnapshot, "max-snapshot", serve.DefaultMaxSnapshotBytes, "largest snapshot upload, in `BYTES`")
	f.Int64Var(&o.maxDebug, "max-debug", serve.DefaultMaxDebugBytes, "largest debug file upload, in `BYTES` (held in memory while checked)")
	f.DurationVar(&o.decodeTimeout, "decode-timeout", serve.DefaultDecodeTimeout, "longest a decode may take")
	f.IntVar(&o.perClient, "per-client", serve.DefaultPerClient, "requests one client address may have in flight; more get 429")
	return c
}

// openStore opens the store --store names: s3://BUCKET/PREFIX, with the
// endpoint and credentials from the AWS environment variables, else a
// directory.
func openStore(where string) (store.Store, error) {
	if !s3store.IsURL(where) {
		return local.Open(where)
	}
	c, err := s3store.ConfigFromEnv(where, nil)
	if err != nil {
		return nil, fmt.Errorf("serve: --store %s: %w", where, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s3store.Open(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("serve: --store: %w", err)
	}
	return st, nil
}

// sweep removes, once, the files of snapshot uploads an S3 store's
// writers left without a description more than an hour ago (killed, or
// cut by S3 going down), as local.Open removes leftover temporary files.
func sweep(ctx context.Context, st *s3store.Store, log *slog.Logger) {
	n, err := st.Sweep(ctx, time.Hour)
	if err != nil && ctx.Err() == nil {
		log.Warn("sweeping the store", "error", err.Error())
	}
	if n > 0 {
		log.Info("swept the store", "removed", n)
	}
}

// defaultStoreDir is $XDG_DATA_HOME/ksym/store, else
// ~/.local/share/ksym/store.
func defaultStoreDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "ksym", "store"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("serve: no home directory for the default store (%v): give --store DIR", err)
	}
	return filepath.Join(home, ".local", "share", "ksym", "store"), nil
}

func (a *app) runServe(o serveOpts) error {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usageErrorf("serve: --tls-cert and --tls-key go together")
	}
	if o.store == "" {
		d, err := defaultStoreDir()
		if err != nil {
			return usageErrorf("%v", err)
		}
		o.store = d
	}
	log := slog.New(slog.NewJSONHandler(a.stderr, nil))
	if o.public && o.private {
		return usageErrorf("serve: --public and --private are exclusive")
	}
	cfg := serve.Config{Public: o.public, Private: o.private, DebugInfoDir: o.debuginfo, MaxLogBytes: o.maxLog,
		MaxSnapshotBytes: o.maxSnapshot, MaxDebugBytes: o.maxDebug, DecodeTimeout: o.decodeTimeout,
		PerClient: o.perClient, Logger: log}
	if o.tokenFile != "" {
		toks, err := serve.TokensFromFile(o.tokenFile)
		if err != nil {
			return usageErrorf("serve: --token-file: %v", err)
		}
		cfg.Tokens = toks
	}
	st, err := openStore(o.store)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	defer st.Close()
	cfg.Store = st
	srv, err := serve.New(cfg)
	if err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("serve: %w", err)}
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("serving", "url", scheme+"://"+ln.Addr().String()+"/", "store", o.store, "tokens", len(cfg.Tokens), "public", o.public)
	if s3, ok := st.(*s3store.Store); ok {
		go sweep(ctx, s3, log)
	}
	errc := make(chan error, 1)
	go func() {
		if o.tlsCert != "" {
			errc <- hs.ServeTLS(ln, o.tlsCert, o.tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return &exitError{code: ExitUsage, err: fmt.Errorf("serve: %w", err)}
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing the requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
