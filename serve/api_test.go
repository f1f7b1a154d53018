package serve_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/internal/cli"
	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/serve"
	"github.com/ksym-dev/ksym/store"
)

// TestAuth: uploads, raw downloads and deletes need the right token; a bad
// token is refused everywhere, even where anonymous callers are allowed.
func TestAuth(t *testing.T) {
	e := newEnv(t, serve.Config{})
	snap := snapshots(t)["run2-B"]
	id := store.SnapshotID("boot-run2-B", nil)
	for _, c := range []struct {
		method, path, token string
		body                []byte
		want                int
	}{
		{"POST", "/api/v1/snapshots", "", snap, http.StatusUnauthorized},
		{"POST", "/api/v1/snapshots", "bad", snap, http.StatusUnauthorized},
		{"POST", "/api/v1/snapshots", readToken, snap, http.StatusForbidden},
		{"POST", "/api/v1/snapshots", writeToken, snap, http.StatusCreated},
		{"POST", "/api/v1/snapshots", writeToken, snap, http.StatusOK}, // the same boot: deduplicated
		{"GET", "/api/v1/snapshots/" + id + "/ksnap", "", nil, http.StatusUnauthorized},
		{"GET", "/api/v1/snapshots/" + id + "/ksnap", readToken, nil, http.StatusOK},
		{"GET", "/api/v1/snapshots/" + id, "", nil, http.StatusOK},
		{"GET", "/api/v1/addr?snapshot=" + id + "&addr=0xffffffffc09e6620", "", nil, http.StatusUnauthorized},
		{"POST", "/api/v1/decode", "bad", []byte("x"), http.StatusUnauthorized},
		{"DELETE", "/api/v1/snapshots/" + id, readToken, nil, http.StatusForbidden},
		{"DELETE", "/api/v1/snapshots/" + id, "", nil, http.StatusUnauthorized},
		{"DELETE", "/api/v1/snapshots/" + id, writeToken, nil, http.StatusNoContent},
		{"DELETE", "/api/v1/snapshots/" + id, writeToken, nil, http.StatusNotFound},
		{"GET", "/api/v1/snapshots/" + id, "", nil, http.StatusNotFound},
	} {
		code, body := e.do(c.method, c.path, c.token, c.body)
		if code != c.want {
			t.Errorf("%s %s (token %q): %d %s, want %d", c.method, c.path, c.token, code, body, c.want)
		}
	}
}

// TestSnapshotsAPI: the list and its filters, the description, the file.
func TestSnapshotsAPI(t *testing.T) {
	e := newEnv(t, serve.Config{})
	a, b := e.push("run1-A"), e.push("run2-B")
	if a.Release != "6.1.0-56-amd64" || a.Hostname != "kdata-A" || b.Hostname != "kdata-B" {
		t.Errorf("stored %+v %+v", a, b)
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{b.ID, a.ID}}, // captured at the same time: the latest uploaded first
		{"?host=kdata-B", []string{b.ID}},
		{"?release=6.1.0-56-amd64&host=kdata-A", []string{a.ID}},
		{"?release=5.10.0", nil},
	} {
		code, body := e.do("GET", "/api/v1/snapshots"+c.query, "", nil)
		var ans struct{ Snapshots []store.Snapshot }
		if code != http.StatusOK || json.Unmarshal(body, &ans) != nil {
			t.Fatalf("%s: %d %s", c.query, code, body)
		}
		var got []string
		for _, s := range ans.Snapshots {
			got = append(got, s.ID)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("list%s = %v, want %v", c.query, got, c.want)
		}
	}
	code, body := e.do("GET", "/api/v1/snapshots/"+b.ID+"/ksnap", writeToken, nil)
	if code != http.StatusOK || !bytes.Equal(body, snapshots(t)["run2-B"]) {
		t.Errorf("download: %d, %d bytes, want the uploaded file", code, len(body))
	}
}

// TestGarbageSnapshots: what is not a whole snapshot is refused with 422
// and nothing is stored.
func TestGarbageSnapshots(t *testing.T) {
	e := newEnv(t, serve.Config{})
	good := snapshots(t)["run2-B"]
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)/2] ^= 0xff
	for name, body := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("ffffffff81000000 T _text\n"),
		"truncated": good[:len(good)/2],
		"corrupted": corrupt,
	} {
		code, resp := e.do("POST", "/api/v1/snapshots", writeToken, body)
		if code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want 422", name, code, resp)
		}
	}
	if l, _ := e.st.Snapshots(t.Context(), store.SnapshotFilter{}); len(l) != 0 {
		t.Errorf("stored %v", l)
	}
}

// TestTraversal: IDs that are not IDs never reach the store's files.
func TestTraversal(t *testing.T) {
	e := newEnv(t, serve.Config{})
	for _, p := range []string{
		"/api/v1/snapshots/..%2F..%2Fmeta.db",
		"/api/v1/snapshots/..%2fmeta.db/ksnap",
		"/api/v1/reports/..%2F..%2F..%2Fetc%2Fpasswd",
		"/r/..%2Fmeta.db",
		"/buildid/..%2F..%2Fmeta.db/debuginfo",
		"/buildid/abcd/..%2F..%2Fmeta.db",
		"/api/v1/lookup?snapshot=../../meta.db&name=x",
		"/symbol?snapshot=..%2F..%2Fmeta.db&name=x",
	} {
		code, body := e.do("GET", p, readToken, nil)
		if code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("GET %s: %d %s, want 400 or 404", p, code, body)
		}
		if bytes.Contains(body, []byte("SQLite")) {
			t.Errorf("GET %s returned the database", p)
		}
	}
	code, _ := e.do("DELETE", "/api/v1/snapshots/..%2F..%2Fmeta.db", writeToken, nil)
	if code != http.StatusBadRequest {
		t.Errorf("DELETE traversal: %d, want 400", code)
	}
}

// TestLimits: bodies over the limits get 413, a decode over its time 503,
// a client with too many requests in flight 429.
func TestLimits(t *testing.T) {
	e := newEnv(t, serve.Config{MaxLogBytes: 1000, MaxSnapshotBytes: 1000})
	log := fixtureLog(t)
	if code, body := e.do("POST", "/api/v1/decode", "", log); code != http.StatusRequestEntityTooLarge {
		t.Errorf("long log: %d %s, want 413", code, body)
	}
	if code, body := e.do("POST", "/api/v1/snapshots", writeToken, snapshots(t)["run2-B"]); code != http.StatusRequestEntityTooLarge {
		t.Errorf("large snapshot: %d %s, want 413", code, body)
	}
	// A body whose length is not announced is cut at the limit too.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/decode", io.MultiReader(bytes.NewReader(log)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked long log: %d, want 413", resp.StatusCode)
	}

	slow := newEnv(t, serve.Config{DecodeTimeout: time.Nanosecond})
	if code, body := slow.do("POST", "/api/v1/decode", "", log); code != http.StatusServiceUnavailable {
		t.Errorf("decode past its deadline: %d %s, want 503", code, body)
	}

	one := newEnv(t, serve.Config{PerClient: 1})
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest("POST", one.srv.URL+"/api/v1/decode", pr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	pw.Write([]byte("[    0.000000] Linux version\n")) // the first request is in flight
	deadline := time.Now().Add(10 * time.Second)
	code := 0
	for time.Now().Before(deadline) {
		if code, _ = one.do("GET", "/api/v1/buckets", "", nil); code == http.StatusTooManyRequests {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code != http.StatusTooManyRequests {
		t.Errorf("second request of one client: %d, want 429", code)
	}
	pw.Close()
	if c := <-done; c != http.StatusOK {
		t.Errorf("the first request: %d, want 200", c)
	}
	if code, _ := one.do("GET", "/api/v1/buckets", "", nil); code != http.StatusOK {
		t.Errorf("after the first ended: %d, want 200", code)
	}
}

func fixtureLog(t *testing.T) []byte { return fixtureLogB(t) }

// fixtureLogB is run2-B's ACCESS_NULL oops.
func fixtureLogB(t testing.TB) []byte {
	b, err := os.ReadFile(oops("run2-B", "oops-05-lkdtm-ACCESS_NULL.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSymbols: addr, lookup and search against a chosen snapshot; the
// addresses against run2-B's modules.txt (lkdtm at 0xffffffffc09e6000) and
// the register annotation 'ksym decode' printed for RAX.
func TestSymbols(t *testing.T) {
	e := newEnv(t, serve.Config{})
	s := e.push("run2-B")
	code, body := e.do("GET", "/api/v1/addr?snapshot="+s.ID+"&addr=0xffffffffc09e6620", readToken, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"text": "lkdtm_BUG+0x0/0x10 [lkdtm]"`) {
		t.Errorf("addr: %d %s", code, body)
	}
	code, body = e.do("GET", "/api/v1/lookup?snapshot="+s.ID+"&name=lkdtm_BUG", "", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"module": "lkdtm"`) || strings.Contains(string(body), `"address"`) {
		t.Errorf("anonymous lookup: %d %s (want the module, no address)", code, body)
	}
	code, body = e.do("GET", "/api/v1/lookup?snapshot="+s.ID+"&name=lkdtm_BUG", readToken, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"address": "0xffffffffc09e6620"`) {
		t.Errorf("lookup with a token: %d %s", code, body)
	}
	code, body = e.do("GET", "/api/v1/search?snapshot="+s.ID+"&q=lkdtm_ACCESS_*", "", nil)
	var ans struct {
		Total   int
		Symbols []struct{ Name string }
	}
	if code != http.StatusOK || json.Unmarshal(body, &ans) != nil {
		t.Fatalf("search: %d %s", code, body)
	}
	var names []string
	for _, s := range ans.Symbols {
		names = append(names, s.Name)
	}
	// In address order, as zcat kallsyms.txt.gz | grep lkdtm_ACCESS_ lists them.
	if got := strings.Join(names, " "); got != "lkdtm_ACCESS_USERSPACE lkdtm_ACCESS_NULL lkdtm_ACCESS_USERSPACE.cold" || ans.Total != 3 {
		t.Errorf("search: %s", got)
	}
	code, page := e.do("GET", "/symbol?snapshot="+s.ID+"&name=lkdtm_BUG", "", nil)
	if code != http.StatusOK || !strings.Contains(string(page), "Neighbours") || regexp.MustCompile(`ffffffffc09e`).Match(page) {
		t.Errorf("symbol page: %d (want neighbours, no address)", code)
	}
}

// TestDebuginfod: a real ELF file (this machine's /bin/true) served by
// build ID from the --debuginfo directory and after an upload.
func TestDebuginfod(t *testing.T) {
	elfFile, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	data, err := os.ReadFile(elfFile)
	if err != nil {
		t.Skip(err)
	}
	id := buildIDOf(t, elfFile)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "true"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, serve.Config{DebugInfoDir: dir})
	code, body := e.do("GET", "/buildid/"+id+"/executable", "", nil)
	if code != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("executable from the directory: %d, %d bytes", code, len(body))
	}
	if code, _ := e.do("GET", "/buildid/"+id+"/debuginfo", "", nil); code != http.StatusNotFound {
		t.Errorf("debuginfo of a stripped file: %d, want 404", code)
	}
	// The .build-id layout distributions install.
	tree := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tree, ".build-id", id[:2]), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, ".build-id", id[:2], id[2:]), data, 0o644); err != nil {
		t.Fatal(err)
	}
	e1 := newEnv(t, serve.Config{DebugInfoDir: tree})
	if code, body := e1.do("GET", "/buildid/"+id+"/executable", "", nil); code != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("executable from .build-id: %d, %d bytes", code, len(body))
	}
	e2 := newEnv(t, serve.Config{})
	if code, body := e2.do("POST", "/api/v1/debuginfo", writeToken, data); code != http.StatusCreated || !strings.Contains(string(body), id) {
		t.Fatalf("upload: %d %s", code, body)
	}
	if code, body := e2.do("GET", "/buildid/"+id+"/executable", "", nil); code != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("uploaded executable: %d, %d bytes", code, len(body))
	}
	if code, _ := e2.do("POST", "/api/v1/debuginfo", writeToken, []byte("not elf")); code != http.StatusUnprocessableEntity {
		t.Errorf("garbage debug file: %d, want 422", code)
	}
}

// buildIDOf reads a build ID with readelf, independently of the server.
func buildIDOf(t *testing.T, path string) string {
	out, err := exec.Command("readelf", "-n", path).Output()
	if err != nil {
		t.Skip("readelf:", err)
	}
	m := regexp.MustCompile(`Build ID: ([0-9a-f]+)`).FindSubmatch(out)
	if m == nil {
		t.Skip("no build ID in", path)
	}
	return string(m[1])
}

// TestStacks: folded stacks uploaded, drawn as a flame graph.
func TestStacks(t *testing.T) {
	e := newEnv(t, serve.Config{})
	folded := "sh;do_syscall_64;ksys_read;vfs_read 3\nkworker;worker_thread;schedule 5\n"
	code, body := e.do("POST", "/api/v1/stacks?title=sysrq-t", "", []byte(folded))
	var ans struct{ ID, URL string }
	if code != http.StatusCreated || json.Unmarshal(body, &ans) != nil {
		t.Fatalf("upload: %d %s", code, body)
	}
	code, page := e.do("GET", "/stacks/"+ans.ID, "", nil)
	if code != http.StatusOK || !strings.Contains(string(page), "<svg") || !strings.Contains(string(page), "worker_thread") || strings.Contains(string(page), "<?xml") {
		t.Errorf("flame page: %d", code)
	}
	if code, _ := e.do("POST", "/api/v1/stacks", "", []byte("no weight here\n")); code != http.StatusBadRequest {
		t.Errorf("bad folded stacks: %d, want 400", code)
	}
	// The JSON of 'ksym stacks --json' on run2-B's sysrq-w dump: one
	// stack, lkdtm's direct_entry.cold waiting in schedule.
	var out, errb bytes.Buffer
	from := fixture.Path("debian-6.1.0-56-amd64/boots/run2-B/dmesg-sysrq-w.txt")
	if code := cli.Execute([]string{"--json", "stacks", "--from", from}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("ksym stacks: %d %s", code, errb.String())
	}
	code, body = e.do("POST", "/api/v1/stacks", "", out.Bytes())
	if code != http.StatusCreated || json.Unmarshal(body, &ans) != nil {
		t.Fatalf("JSON upload: %d %s", code, body)
	}
	code, page = e.do("GET", "/stacks/"+ans.ID, "", nil)
	if code != http.StatusOK || !strings.Contains(string(page), "direct_entry.cold [lkdtm]") || !strings.Contains(string(page), from) {
		t.Errorf("flame page of the JSON upload: %d", code)
	}
}

// TestPagesAndMetrics: the form POST works without JavaScript (303 to the
// permalink), the pages render, and /metrics counts the decode.
func TestPagesAndMetrics(t *testing.T) {
	e := newEnv(t, serve.Config{})
	for _, p := range []string{"/", "/buckets", "/snapshots", "/static/style.css"} {
		if code, _ := e.do("GET", p, "", nil); code != http.StatusOK {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(e.srv.URL+"/decode", map[string][]string{"log": {string(fixtureLog(t))}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
		t.Fatalf("form POST: %d %q", resp.StatusCode, loc)
	}
	code, page := e.do("GET", loc, "", nil)
	if code != http.StatusOK || !strings.Contains(string(page), "BUG: kernel NULL pointer dereference") {
		t.Errorf("permalink %s: %d", loc, code)
	}
	code, metrics := e.do("GET", "/metrics", "", nil)
	for _, want := range []string{
		`ksym_decoded_reports_total{kind="null-deref"} 1`,
		`ksym_decode_tables_total{match="none"} 1`,
		`ksym_http_requests_total{code="303",route="POST /decode"} 1`,
		`ksym_http_request_duration_seconds_count{route="GET /r/{id}"} 1`,
	} {
		if code != http.StatusOK || !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestPrivate: with Config.Private, nothing but /metrics answers without a
// read token.
func TestPrivate(t *testing.T) {
	e := newEnv(t, serve.Config{Private: true})
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/", "", http.StatusUnauthorized},
		{"POST", "/api/v1/decode", "", http.StatusUnauthorized},
		{"GET", "/api/v1/buckets", "", http.StatusUnauthorized},
		{"GET", "/buildid/abcd/executable", "", http.StatusUnauthorized},
		{"GET", "/metrics", "", http.StatusOK},
		{"GET", "/api/v1/buckets", readToken, http.StatusOK},
		{"GET", "/", readToken, http.StatusOK},
	} {
		if code, body := e.do(c.method, c.path, c.token, nil); code != c.want {
			t.Errorf("%s %s (token %q): %d %s, want %d", c.method, c.path, c.token, code, body, c.want)
		}
	}
}

// TestFormFileUpload: the decode form's file field (multipart, no
// JavaScript) decodes the file, named by its file name.
func TestFormFileUpload(t *testing.T) {
	e := newEnv(t, serve.Config{})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "oops-05.txt")
	fw.Write(fixtureLog(t))
	mw.WriteField("log", "")
	mw.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Post(e.srv.URL+"/decode", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("multipart form: %d", resp.StatusCode)
	}
	code, page := e.do("GET", loc, "", nil)
	if code != http.StatusOK || !strings.Contains(string(page), "1 report in oops-05.txt") {
		t.Errorf("%s: %d, want the report of oops-05.txt", loc, code)
	}
	// A form with no report in it says so.
	resp, err = client.PostForm(e.srv.URL+"/decode", map[string][]string{"log": {"hello\n"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a log without a report: %d, want 422", resp.StatusCode)
	}
}
