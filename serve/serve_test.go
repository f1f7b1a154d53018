package serve_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/internal/cli"
	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/internal/reportjson"
	"github.com/ksym-dev/ksym/machine"
	"github.com/ksym-dev/ksym/serve"
	"github.com/ksym-dev/ksym/snapshot"
	"github.com/ksym-dev/ksym/store"
	"github.com/ksym-dev/ksym/store/local"
)

// The tests use the real Debian 6.1 boots: their /proc trees
// (machine/testdata/runN) make snapshots, and their oopses are the logs.

const (
	writeToken = "w-token"
	readToken  = "r-token"
)

// bootSnapshot is a .ksnap of a real boot's /proc tree; the tree has no
// boot_id, so the test names the boot.
func bootSnapshot(t testing.TB, run string) []byte {
	t.Helper()
	fs, err := machine.NewFS(filepath.Join("../machine/testdata", run))
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Capture(fs, snapshot.Options{Now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	// The tree's table is cut short; the boot's whole table is in the
	// fixtures.
	s.Kallsyms = gunzip(t, fixture.Path("debian-6.1.0-56-amd64/boots/"+run+"/kallsyms.txt.gz"))
	s.Modules = fixture.Read(t, fixture.Path("debian-6.1.0-56-amd64/boots/"+run+"/modules.txt"))
	s.Info.Symbols = bytes.Count(s.Kallsyms, []byte("\n"))
	s.Info.BootID = "boot-" + run
	var b bytes.Buffer
	if _, err := s.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gunzip(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	snapOnce sync.Once
	snaps    map[string][]byte
)

// snapshots are the three boots' snapshots, made once.
func snapshots(t testing.TB) map[string][]byte {
	snapOnce.Do(func() {
		snaps = map[string][]byte{}
		for _, run := range []string{"run1-A", "run2-B", "run3-C"} {
			snaps[run] = bootSnapshot(t, run)
		}
	})
	return snaps
}

func oops(run, name string) string {
	return fixture.Path("debian-6.1.0-56-amd64/boots/" + run + "/" + name)
}

type env struct {
	t   *testing.T
	srv *httptest.Server
	st  store.Store
}

func newEnv(t *testing.T, cfg serve.Config) *env {
	t.Helper()
	st, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Store = st
	if cfg.Tokens == nil {
		cfg.Tokens = map[string]serve.Role{writeToken: serve.Writer, readToken: serve.Reader}
	}
	s, err := serve.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, st: st}
}

// do sends a request and returns the status and body.
func (e *env) do(method, path, token string, body []byte) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (e *env) push(run string) store.Snapshot {
	e.t.Helper()
	code, body := e.do("POST", "/api/v1/snapshots", writeToken, snapshots(e.t)[run])
	if code != http.StatusCreated && code != http.StatusOK {
		e.t.Fatalf("push %s: %d %s", run, code, body)
	}
	var ans struct{ Snapshot store.Snapshot }
	if err := json.Unmarshal(body, &ans); err != nil {
		e.t.Fatal(err)
	}
	return ans.Snapshot
}

type decodeAnswer struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	Table struct {
		Match             string          `json:"match"`
		Snapshot          *store.Snapshot `json:"snapshot"`
		Boots             int             `json:"boots"`
		AddressesWithheld bool            `json:"addresses_withheld"`
		Notes             []string        `json:"notes"`
	} `json:"table"`
	Reports []reportjson.Report `json:"reports"`
}

func (e *env) decode(path, token, query string) decodeAnswer {
	e.t.Helper()
	code, body := e.do("POST", "/api/v1/decode"+query, token, fixture.Read(e.t, path))
	if code != http.StatusOK {
		e.t.Fatalf("decode %s: %d %s", path, code, body)
	}
	var a decodeAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// cliJSON is what 'ksym decode --json' prints for log with the boot's
// snapshot and modules: the objects the API must return.
func cliJSON(t *testing.T, run, log string) []reportjson.Report {
	t.Helper()
	snap := filepath.Join(t.TempDir(), run+".ksnap")
	if err := os.WriteFile(snap, snapshots(t)[run], 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := []string{"--kallsyms", snap, "decode", "--json", "--modules", fixture.Path("debian-6.1.0-56-amd64/boots/" + run + "/modules.txt"), log}
	if code := cli.Execute(args, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("ksym %s: %d %s", strings.Join(args, " "), code, errb.String())
	}
	var reps []reportjson.Report
	dec := json.NewDecoder(&out)
	for dec.More() {
		var r reportjson.Report
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		r.File = "log"
		reps = append(reps, r)
	}
	return reps
}

func jsonOf(t *testing.T, v any) string {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
