// Package debuginfod fetches debug files by build ID from debuginfod
// servers (the elfutils protocol: GET <url>/buildid/<id>/debuginfo), with a
// cache on disk, a timeout, remembered misses and a progress callback.
//
// A file is cached only when its NT_GNU_BUILD_ID note is the build ID it
// was asked for: a server that answers with another file gets
// ErrWrongFile, and nothing is kept.
package debuginfod

import (
	"context"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ksym-dev/ksym/internal/elfnote"
)

// Errors of Fetch.
var (
	// ErrNotFound: every server answered 404 (or a miss for this build ID
	// is remembered).
	ErrNotFound = errors.New("not found on the debuginfod servers")
	// ErrWrongFile: a server answered with a file of another build ID.
	ErrWrongFile = errors.New("the server sent a file of another build ID")
	// ErrNoServers: no server is configured (DEBUGINFOD_URLS is empty).
	ErrNoServers = errors.New("no debuginfod server: set DEBUGINFOD_URLS")
	// ErrBadBuildID: the build ID is not hexadecimal of an even length.
	ErrBadBuildID = errors.New("not a build ID (hexadecimal)")
)

// Client fetches debug files. The zero value is not usable: use New or
// FromEnv.
type Client struct {
	// URLs are the servers, tried in order.
	URLs []string
	// CacheDir holds <build-id>/debuginfo files and remembered misses.
	CacheDir string
	// Timeout bounds each wait: for a connection, for response headers,
	// and between two reads of the body (a 1 GB vmlinux may take minutes
	// in all, but never stalls this long).
	Timeout time.Duration
	// MissTTL is how long a miss (404 from every server) is remembered.
	MissTTL time.Duration
	// Progress, when set, is called as a download proceeds with the bytes
	// received and the total (-1 when the server does not say).
	Progress func(url string, done, total int64)
	// HTTP is the client used; nil means http.DefaultClient's transport.
	HTTP *http.Client
}

// Defaults of New.
const (
	DefaultTimeout = 30 * time.Second
	DefaultMissTTL = 10 * time.Minute // as elfutils' cache_miss_s
)

// New returns a client of the servers urls with its cache in cacheDir.
func New(urls []string, cacheDir string) *Client {
	return &Client{URLs: urls, CacheDir: cacheDir, Timeout: DefaultTimeout, MissTTL: DefaultMissTTL}
}

// FromEnv returns a client of the servers in DEBUGINFOD_URLS (separated by
// spaces, the elfutils convention) with its cache in the user's cache
// directory (ksym/debuginfod).
func FromEnv() (*Client, error) {
	urls := strings.Fields(os.Getenv("DEBUGINFOD_URLS"))
	if len(urls) == 0 {
		return nil, ErrNoServers
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("debuginfod cache: %w", err)
	}
	return New(urls, filepath.Join(dir, "ksym", "debuginfod")), nil
}

// Debuginfo returns the path of the cached debug file of buildID,
// downloading it first when it is not cached.
func (c *Client) Debuginfo(ctx context.Context, buildID string) (string, error) {
	id := strings.ToLower(buildID)
	if b, err := hex.DecodeString(id); err != nil || len(b) == 0 {
		return "", fmt.Errorf("%q: %w", buildID, ErrBadBuildID)
	}
	dir := filepath.Join(c.CacheDir, id)
	path := filepath.Join(dir, "debuginfo")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	miss := filepath.Join(dir, "debuginfo.miss")
	if st, err := os.Stat(miss); err == nil && time.Since(st.ModTime()) < c.MissTTL {
		return "", fmt.Errorf("build ID %s: %w (remembered; retried after %v)", id, ErrNotFound, c.MissTTL)
	}
	if len(c.URLs) == 0 {
		return "", ErrNoServers
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var errs serverErrors
	notFound := 0
	for _, u := range c.URLs {
		err := c.fetch(ctx, strings.TrimRight(u, "/")+"/buildid/"+id+"/debuginfo", id, path)
		if err == nil {
			os.Remove(miss)
			return path, nil
		}
		if errors.Is(err, ErrNotFound) {
			notFound++
		}
		errs = append(errs, err)
	}
	if notFound == len(c.URLs) {
		os.WriteFile(miss, nil, 0o644)
		return "", fmt.Errorf("build ID %s: %w", id, ErrNotFound)
	}
	return "", fmt.Errorf("build ID %s: %w", id, errs)
}

// serverErrors are the errors of each server tried.
type serverErrors []error

func (e serverErrors) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "; ")
}

func (e serverErrors) Unwrap() []error { return e }

// fetch downloads url into path, checking the file's build ID.
func (c *Client) fetch(ctx context.Context, url, id, path string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var stalled atomic.Bool
	watchdog := time.AfterFunc(timeout, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if stalled.Load() {
			return fmt.Errorf("%s: no answer in %v", url, timeout)
		}
		return fmt.Errorf("%s: %w", url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %w", url, ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	r := &progressReader{r: resp.Body, total: resp.ContentLength, url: url, f: c.Progress,
		tick: func() { watchdog.Reset(timeout) }}
	if _, err := io.Copy(tmp, r); err != nil {
		if stalled.Load() {
			return fmt.Errorf("%s: download stalled for %v", url, timeout)
		}
		return fmt.Errorf("%s: %w", url, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	got, err := fileBuildID(tmp.Name())
	if err != nil {
		return fmt.Errorf("%s: %w: %v", url, ErrWrongFile, err)
	}
	if got != id {
		return fmt.Errorf("%s: %w: build ID %s", url, ErrWrongFile, got)
	}
	return os.Rename(tmp.Name(), path)
}

// progressReader reports the bytes read.
type progressReader struct {
	r     io.Reader
	done  int64
	total int64
	url   string
	f     func(url string, done, total int64)
	tick  func()
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.done += int64(n)
		p.tick()
		if p.f != nil {
			p.f(p.url, p.done, p.total)
		}
	}
	return n, err
}

// fileBuildID returns the hexadecimal GNU build ID of an ELF file.
func fileBuildID(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		if id := elfnote.BuildID(b, f.ByteOrder); id != "" {
			return id, nil
		}
	}
	return "", errors.New("no build ID note")
}
