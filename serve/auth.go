package serve

import (
	"bufio"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
)

// Role is what a token allows.
type Role int

// Roles, each allowing what the ones before allow.
const (
	// Anonymous: decode pasted logs, read pages, reports, buckets,
	// snapshot lists and debug files; no address from a snapshot (unless
	// Config.Public).
	Anonymous Role = iota
	// Reader: also addresses from snapshots and raw snapshot downloads.
	Reader
	// Writer: also uploads (snapshots, debug files) and deletes.
	Writer
)

// ParseTokens reads a token file: one token per line, "TOKEN" (read and
// write) or "TOKEN read"; blank lines and lines starting with '#' are
// skipped.
func ParseTokens(r io.Reader, name string) (map[string]Role, error) {
	out := map[string]Role{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		case len(f) == 1:
			out[f[0]] = Writer
		case len(f) == 2 && f[1] == "read":
			out[f[0]] = Reader
		default:
			return nil, fmt.Errorf("%s:%d: want TOKEN or TOKEN read", name, n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// TokensFromFile reads the token file at path (see ParseTokens).
func TokensFromFile(path string) (map[string]Role, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseTokens(f, path)
}

// role is what the request's bearer token allows; ok is false for a token
// that is given but unknown (answered 401, never taken as anonymous).
func (s *Server) role(r *http.Request) (Role, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Anonymous, true
	}
	tok, found := strings.CutPrefix(h, "Bearer ")
	if !found {
		return Anonymous, false
	}
	for t, role := range s.cfg.Tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
			return role, true
		}
	}
	return Anonymous, false
}

// need answers 401 or 403 and returns false unless the request's token
// allows want.
func (s *Server) need(w http.ResponseWriter, r *http.Request, want Role) bool {
	role, ok := s.role(r)
	switch {
	case !ok:
		w.Header().Set("WWW-Authenticate", `Bearer realm="ksym"`)
		writeError(w, http.StatusUnauthorized, "unknown token")
		return false
	case role >= want:
		return true
	case role == Anonymous:
		w.Header().Set("WWW-Authenticate", `Bearer realm="ksym"`)
		writeError(w, http.StatusUnauthorized, "this needs a token: Authorization: Bearer TOKEN")
		return false
	}
	writeError(w, http.StatusForbidden, "this token may only read")
	return false
}

// seesAddresses reports whether the caller may see addresses from
// snapshots: with a token, or on a --public server. A bad token sees none.
func (s *Server) seesAddresses(r *http.Request) bool {
	role, ok := s.role(r)
	return ok && (s.cfg.Public || role >= Reader)
}

// clientOf is the client's address, without port: what the per-client
// limit counts. Headers such as X-Forwarded-For are not trusted.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter counts the requests in flight per client.
type limiter struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newLimiter(max int) *limiter { return &limiter{max: max, n: map[string]int{}} }

// acquire takes a slot for client; ok is false when it has max in flight.
func (l *limiter) acquire(client string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[client] >= l.max {
		return nil, false
	}
	l.n[client]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.n[client]--; l.n[client] == 0 {
			delete(l.n, client)
		}
	}, true
}

// errorJSON is the body of every API error.
type errorJSON struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorJSON{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// readBody reads at most max bytes of the request body; a longer body is
// answered 413 and ok is false.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	if r.ContentLength > max {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is %d bytes, the limit is %d", r.ContentLength, max))
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is longer than the limit, %d bytes", max))
		} else {
			writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		}
		return nil, false
	}
	return b, true
}
