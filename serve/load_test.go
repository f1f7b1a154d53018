package serve_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksym-dev/ksym/internal/fixture"
)

// Load test of 'ksym serve' (docs/benchmarks.md, "ksym serve under load"):
// the real binary as a child process on loopback, a warm store (the three
// Debian boots' snapshots stored, every log decoded once so each table is
// parsed and each report stored), then loadClients clients posting the
// fixtures' oopses to /api/v1/decode for loadDuration. It reports p50/p99
// latency, throughput, answers by status and the server's peak RSS
// (VmHWM), and fails on any answer but 200 and 429. Latency is reported,
// not asserted (a shared machine's timing is no test). It runs only with
// KSYM_LOAD=1:
//
//	KSYM_LOAD=1 go test ./serve -run '^TestLoad$' -v -count=1 -timeout 5m

// The load: 32 clients for 20 s. KSYM_LOAD_CLIENTS and
// KSYM_LOAD_SECONDS change them, to see latency against concurrency.
var (
	loadClients  = envInt("KSYM_LOAD_CLIENTS", 32)
	loadDuration = time.Duration(envInt("KSYM_LOAD_SECONDS", 20)) * time.Second
)

// envInt is the integer in the environment variable name, else def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// loadLogs are the fixtures' oopses of the three boots.
func loadLogs(t *testing.T) map[string][]byte {
	t.Helper()
	logs := map[string][]byte{}
	for _, run := range []string{"run1-A", "run2-B", "run3-C"} {
		paths, err := filepath.Glob(fixture.Path("debian-6.1.0-56-amd64/boots/" + run + "/oops-*.txt"))
		if err != nil || len(paths) == 0 {
			t.Fatalf("%s: no oops fixtures (%v)", run, err)
		}
		for _, p := range paths {
			logs[run+"/"+filepath.Base(p)] = fixture.Read(t, p)
		}
	}
	return logs
}

// startServe builds ksym and starts 'ksym serve' on a free loopback port
// with args; it returns the base URL and the process.
func startServe(t *testing.T, args ...string) (string, *os.Process) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ksym")
	build := exec.Command("go", "build", "-o", bin, "github.com/ksym-dev/ksym/cmd/ksym")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var line struct{ Msg, URL string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
			go io.Copy(io.Discard, stderr) // the request log
			return strings.TrimSuffix(line.URL, "/"), cmd.Process
		}
	}
	t.Fatalf("ksym serve did not say where it listens")
	return "", nil
}

// peakRSS is the VmHWM of a process, in kB.
func peakRSS(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// cpuTime is the user and system CPU time a process has used (from
// /proc/PID/stat, in clock ticks of 10 ms, the Linux USER_HZ).
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command name (which is in parentheses).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, err1 := strconv.Atoi(f[11])
	stime, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// sample is one request's outcome.
type sample struct {
	log  string
	code int
	d    time.Duration
}

func TestLoad(t *testing.T) {
	if os.Getenv("KSYM_LOAD") != "1" {
		t.Skip("the load test runs with KSYM_LOAD=1 (32 clients for 20 s; KSYM_LOAD_CLIENTS, KSYM_LOAD_SECONDS)")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte(writeToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Every loopback client is one client to the per-client limit (the
	// TCP peer's address): above the test's concurrency.
	base, proc := startServe(t, "--store", filepath.Join(dir, "store"), "--token-file", tokens, "--per-client", strconv.Itoa(2*loadClients))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadClients}}
	post := func(path, token string, body []byte) (int, []byte) {
		req, err := http.NewRequest("POST", base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for run, data := range snapshots(t) {
		if code, body := post("/api/v1/snapshots", writeToken, data); code != http.StatusCreated {
			t.Fatalf("push %s: %d %s", run, code, body)
		}
	}
	logs := loadLogs(t)
	names := slices.Sorted(maps.Keys(logs))
	// Warm: each table parsed, each report stored.
	for _, n := range names {
		if code, body := post("/api/v1/decode", "", logs[n]); code != http.StatusOK {
			t.Fatalf("warm-up %s: %d %s", n, code, body)
		}
	}
	rssWarm := peakRSS(t, proc.Pid)

	results := make([][]sample, loadClients)
	cpu0 := cpuTime(t, proc.Pid)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range loadClients {
		wg.Go(func() {
			for i := c; time.Since(start) < loadDuration; i++ {
				n := names[i%len(names)]
				t0 := time.Now()
				code, _ := post("/api/v1/decode", "", logs[n])
				results[c] = append(results[c], sample{n, code, time.Since(t0)})
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	rss := peakRSS(t, proc.Pid)
	cpu := cpuTime(t, proc.Pid) - cpu0

	var all []sample
	for _, r := range results {
		all = append(all, r...)
	}
	t.Logf("%d clients, %s, %d logs (%d bytes to %d bytes), server peak RSS %.1f MiB after warm-up, %.1f MiB at the end",
		loadClients, elapsed.Round(time.Millisecond), len(names), minLen(logs), maxLen(logs), float64(rssWarm)/1024, float64(rss)/1024)
	t.Logf("all: %s", summarize(all, elapsed))
	t.Logf("server CPU %s in %s (%.2f cores), %.2f ms per request", cpu, elapsed.Round(time.Millisecond),
		cpu.Seconds()/elapsed.Seconds(), float64(cpu.Milliseconds())/float64(len(all)))
	byLog := map[string][]sample{}
	for _, s := range all {
		byLog[s.log] = append(byLog[s.log], s)
	}
	for _, n := range names {
		t.Logf("%s (%d bytes): %s", n, len(logs[n]), summarize(byLog[n], 0))
	}
	for _, s := range all {
		if s.code != http.StatusOK && s.code != http.StatusTooManyRequests {
			t.Errorf("%s: status %d", s.log, s.code)
		}
	}
}

// summarize is "N requests, R/s, p50 X, p99 Y, max Z, status: counts".
func summarize(ss []sample, elapsed time.Duration) string {
	ds := make([]time.Duration, len(ss))
	codes := map[int]int{}
	for i, s := range ss {
		ds[i] = s.d
		codes[s.code]++
	}
	slices.Sort(ds)
	pct := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	rate := ""
	if elapsed > 0 {
		rate = fmt.Sprintf(", %.0f/s", float64(len(ss))/elapsed.Seconds())
	}
	var cs []string
	for _, c := range slices.Sorted(maps.Keys(codes)) {
		cs = append(cs, fmt.Sprintf("%d×%d", codes[c], c))
	}
	return fmt.Sprintf("%d requests%s, p50 %s, p99 %s, max %s, status %s", len(ss), rate,
		pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond), strings.Join(cs, " "))
}

func minLen(m map[string][]byte) int {
	n := -1
	for _, b := range m {
		if n < 0 || len(b) < n {
			n = len(b)
		}
	}
	return n
}

func maxLen(m map[string][]byte) int {
	n := 0
	for _, b := range m {
		n = max(n, len(b))
	}
	return n
}
