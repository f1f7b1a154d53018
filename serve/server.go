// Package serve is the HTTP server of 'ksym serve', the crash desk: a JSON
// API under /api/v1/, server-rendered pages, a debuginfod-compatible
// /buildid/ tree and Prometheus metrics, over a store.Store. The API, the
// security rules and the store contract are in docs/serve.md.
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ksym-dev/ksym/store"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Server. Zero limits take the defaults (Default*).
type Config struct {
	// Store holds snapshots, reports and debug files.
	Store store.Store
	// Tokens maps bearer tokens to what they allow (TokensFromFile).
	Tokens map[string]Role
	// Public lets anonymous callers see addresses from snapshots (decoded
	// frames' addresses, /api/v1/addr, /lookup and /search addresses).
	// Uploads, raw snapshot downloads and deletes still need a token.
	Public bool
	// Private asks a read token of every request but /metrics: no
	// anonymous decoding (which tells whether a stored boot agrees with a
	// log, so a forged log can test guesses of a boot's KASLR offset).
	Private bool
	// DebugInfoDir is a local directory of debug files served by build ID
	// besides the uploaded ones ("" for none).
	DebugInfoDir string
	// MaxLogBytes bounds a log posted to decode; MaxSnapshotBytes a
	// snapshot upload; MaxDebugBytes a debug file upload; MaxStacksBytes a
	// stacks upload.
	MaxLogBytes, MaxSnapshotBytes, MaxDebugBytes, MaxStacksBytes int64
	// DecodeTimeout bounds the decoding of one request.
	DecodeTimeout time.Duration
	// PerClient is how many requests one client address may have in flight;
	// more are answered 429.
	PerClient int
	// MaxCandidates bounds how many snapshots are tried for one log.
	MaxCandidates int
	// Logger receives one structured line per request; nil discards.
	Logger *slog.Logger
	// Registry receives the metrics; nil makes a new one, served at
	// /metrics.
	Registry *prometheus.Registry
}

// Defaults of Config's limits.
const (
	DefaultMaxLogBytes      = 16 << 20
	DefaultMaxSnapshotBytes = 64 << 20
	DefaultMaxDebugBytes    = 1 << 30
	DefaultMaxStacksBytes   = 16 << 20
	DefaultDecodeTimeout    = 10 * time.Second
	DefaultPerClient        = 8
	DefaultMaxCandidates    = 8
)

// Server serves the crash desk.
type Server struct {
	cfg     Config
	st      store.Store
	log     *slog.Logger
	met     *metrics
	tables  *tableCache
	limiter *limiter
	debug   *debugDir
	lines   lineSources
	mux     *http.ServeMux
}

// New makes a Server. It scans Config.DebugInfoDir for ELF files once.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("serve: no store")
	}
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxLogBytes, DefaultMaxLogBytes)
	def(&cfg.MaxSnapshotBytes, DefaultMaxSnapshotBytes)
	def(&cfg.MaxDebugBytes, DefaultMaxDebugBytes)
	def(&cfg.MaxStacksBytes, DefaultMaxStacksBytes)
	if cfg.DecodeTimeout <= 0 {
		cfg.DecodeTimeout = DefaultDecodeTimeout
	}
	if cfg.PerClient <= 0 {
		cfg.PerClient = DefaultPerClient
	}
	if cfg.MaxCandidates <= 0 {
		cfg.MaxCandidates = DefaultMaxCandidates
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, st: cfg.Store, log: cfg.Logger, met: newMetrics(cfg.Registry),
		tables: newTableCache(8), limiter: newLimiter(cfg.PerClient)}
	if cfg.DebugInfoDir != "" {
		d, err := scanDebugDir(cfg.DebugInfoDir)
		if err != nil {
			return nil, err
		}
		s.debug = d
	}
	s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.instrument(s.mux) }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /api/v1/decode", s.apiDecode)
	m.HandleFunc("POST /api/v1/snapshots", s.apiPutSnapshot)
	m.HandleFunc("GET /api/v1/snapshots", s.apiSnapshots)
	m.HandleFunc("GET /api/v1/snapshots/{id}", s.apiSnapshot)
	m.HandleFunc("GET /api/v1/snapshots/{id}/ksnap", s.apiSnapshotData)
	m.HandleFunc("DELETE /api/v1/snapshots/{id}", s.apiDeleteSnapshot)
	m.HandleFunc("GET /api/v1/reports/{id}", s.apiReport)
	m.HandleFunc("GET /api/v1/addr", s.apiAddr)
	m.HandleFunc("GET /api/v1/lookup", s.apiLookup)
	m.HandleFunc("GET /api/v1/search", s.apiSearch)
	m.HandleFunc("GET /api/v1/buckets", s.apiBuckets)
	m.HandleFunc("POST /api/v1/debuginfo", s.apiPutDebug)
	m.HandleFunc("POST /api/v1/stacks", s.apiPutStacks)
	m.HandleFunc("GET /buildid/{id}/{kind}", s.debuginfod)
	m.Handle("GET /metrics", s.met.handler(s.cfg.Registry))
	m.HandleFunc("GET /{$}", s.pageHome)
	m.HandleFunc("POST /decode", s.pageDecode)
	m.HandleFunc("GET /r/{id}", s.pageReport)
	m.HandleFunc("GET /symbol", s.pageSymbol)
	m.HandleFunc("GET /buckets", s.pageBuckets)
	m.HandleFunc("GET /snapshots", s.pageSnapshots)
	m.HandleFunc("GET /stacks/{id}", s.pageStacks)
	m.Handle("GET /static/", http.FileServerFS(staticFS))
	s.mux = m
}

// statusWriter records the status code of a response.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument wraps h with the per-client limit, the metrics and the log.
func (s *Server) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		client := clientOf(r)
		route := "other"
		if _, pattern := s.mux.Handler(r); pattern != "" {
			route = pattern
		}
		if route != "GET /metrics" {
			release, ok := s.limiter.acquire(client)
			if !ok {
				sw.Header().Set("Retry-After", "1")
				writeError(sw, http.StatusTooManyRequests, fmt.Sprintf("more than %d requests in flight from %s: retry later", s.cfg.PerClient, client))
				s.done(r, sw, route, client, start)
				return
			}
			defer release()
			if s.cfg.Private && !s.need(sw, r, Reader) {
				s.done(r, sw, route, client, start)
				return
			}
		}
		h.ServeHTTP(sw, r)
		s.done(r, sw, route, client, start)
	})
}

// done records a finished request.
func (s *Server) done(r *http.Request, w *statusWriter, route, client string, start time.Time) {
	d := time.Since(start)
	if w.code == 0 {
		w.code = http.StatusOK
	}
	s.met.requests.WithLabelValues(route, fmt.Sprint(w.code)).Inc()
	s.met.latency.WithLabelValues(route).Observe(d.Seconds())
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("route", route),
		slog.Int("status", w.code), slog.Duration("duration", d), slog.String("client", client))
}

// storeError answers a store error: 404, 400, or 503 (counted).
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, op string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrInvalidID):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "the request took too long")
	default:
		s.met.storeErrors.WithLabelValues(op).Inc()
		s.log.ErrorContext(r.Context(), "store error", slog.String("op", op), slog.String("error", err.Error()))
		writeError(w, http.StatusServiceUnavailable, "the store is unavailable: retry later")
	}
}
