package serve_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/ksym-dev/ksym/internal/fixture"
	"github.com/ksym-dev/ksym/serve"
)

// The browser tests drive Debian's chromium (headless) through the pages:
// a real oops pasted into the form, its permalink opened in a fresh
// browser context, a phone-sized screen, and no JavaScript. They skip when
// no chromium is found (KSYM_CHROMIUM, else chromium on PATH); .ci/run
// installs it. Screenshots go to $KSYM_ARTIFACTS (else the test's
// temporary directory), logged.

// The oops the browser pastes, and what the page must show for it: the
// guilty frame is the RIP line's, lkdtm_EXCEPTION+0x5/0x20 in the module
// lkdtm (the log's line 9), as ksym decode prints it in README.md.
const (
	browserOops   = "oops-03-lkdtm-EXCEPTION.txt"
	browserGuilty = "lkdtm_EXCEPTION+0x5/0x20 [lkdtm]"
	browserTitle  = "null-deref: BUG: kernel NULL pointer dereference in lkdtm_EXCEPTION [lkdtm]"
)

// chromiumPath is KSYM_CHROMIUM, else chromium on PATH, else "".
func chromiumPath() string {
	if p := os.Getenv("KSYM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless chromium for the test and returns a context
// of its first tab, with a time limit for the test's actions.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("no chromium: install Debian's chromium (apt-get install chromium) or set KSYM_CHROMIUM to a Chromium or Chrome binary")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		// Chromium refuses to run as root with its sandbox; the pages are
		// the test's own.
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// The first Run starts the browser; its context must not time out.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// artifactDir is where screenshots are kept: $KSYM_ARTIFACTS, else the
// test's temporary directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("KSYM_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// screenshot saves the whole page as NAME.png and logs its path.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// paste puts text into the element of sel as a paste does: focused, then
// the text inserted by the browser's input (no page script involved).
func paste(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(chromedp.CSS(sel)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
			return err
		}),
	)
}

// textOf is the text of the first element of sel, read from the DOM (it
// works with scripts disabled).
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return htmlText(html)
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// htmlText drops the tags of an HTML fragment and unescapes the entities
// the templates write.
func htmlText(html string) string {
	s := tagRE.ReplaceAllString(html, "")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#43;", "+", "&#39;", "'", "&quot;", `"`, "&#34;", `"`, "&amp;", "&").Replace(s)
}

// location is the URL of the page.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var permalinkRE = regexp.MustCompile(`/r/[0-9a-f]{32}$`)

// checkReportPage checks the permalink page of the browser oops: the
// summary's guilty frame, the report's title, the snapshot used and the
// permalink naming the page itself.
func checkReportPage(t *testing.T, ctx context.Context, snapshotID string) {
	t.Helper()
	u := location(t, ctx)
	if !permalinkRE.MatchString(u) {
		t.Fatalf("page %s is not a permalink /r/ID", u)
	}
	if got := textOf(t, ctx, "dd.guilty"); got != browserGuilty {
		t.Errorf("guilty %q, want %q", got, browserGuilty)
	}
	if got := textOf(t, ctx, "section.report h2"); got != browserTitle {
		t.Errorf("title %q, want %q", got, browserTitle)
	}
	if got := textOf(t, ctx, "p.table-used"); !strings.Contains(got, "Decoded with snapshot "+snapshotID) {
		t.Errorf("table used: %q, want snapshot %s", got, snapshotID)
	}
	if got := textOf(t, ctx, "#permalink"); got != u {
		t.Errorf("permalink shown %q, the page is %s", got, u)
	}
}

// scriptsRan tells whether the home page's script marked the document
// (class "js" on <html>), read from the DOM.
func scriptsRan(t *testing.T, ctx context.Context) bool {
	t.Helper()
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	tag := html[:strings.Index(html, ">")+1]
	return regexp.MustCompile(`class="[^"]*\bjs\b`).MatchString(tag)
}

// decodeInBrowser opens the form, pastes the oops and presses Decode.
func decodeInBrowser(t *testing.T, ctx context.Context, base, log string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		paste("#log", log),
		chromedp.Click(chromedp.CSS(`#decode-form button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS("dd.guilty")),
	); err != nil {
		t.Fatalf("decode in the browser: %v", err)
	}
}

// TestBrowserDecode pastes a real oops into the page with its boot's
// snapshot stored, presses Decode, sees the guilty function and the
// permalink, then opens the permalink in a fresh browser context (no
// cookie, cache or history shared) and sees the same report there; the
// guilty frame's link leads to its symbol page.
func TestBrowserDecode(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, serve.Config{})
	snap := e.push("run2-B")
	log := string(fixture.Read(t, oops("run2-B", browserOops)))

	decodeInBrowser(t, ctx, e.srv.URL, log)
	checkReportPage(t, ctx, snap.ID)
	screenshot(t, ctx, "report-desktop.png")
	permalink := location(t, ctx)

	fresh, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(fresh, chromedp.Navigate(permalink), chromedp.WaitReady(chromedp.CSS("dd.guilty"))); err != nil {
		t.Fatalf("permalink in a fresh context: %v", err)
	}
	checkReportPage(t, fresh, snap.ID)

	// The guilty frame links to the symbol's page: lkdtm_EXCEPTION is a
	// text symbol (t) of the module lkdtm in run2-B's table.
	if err := chromedp.Do(fresh,
		chromedp.Click(chromedp.CSS(".frame.is-guilty a")),
		chromedp.WaitReady(chromedp.CSS("section.symbol")),
	); err != nil {
		t.Fatalf("guilty frame's link: %v", err)
	}
	if got := textOf(t, fresh, "main h1"); got != "lkdtm_EXCEPTION" {
		t.Errorf("symbol page of %q, want lkdtm_EXCEPTION", got)
	}
	sum := textOf(t, fresh, "section.symbol dl.summary")
	for _, want := range []string{"typet", "sectionmodule", "modulelkdtm", "size0x20"} {
		if !strings.Contains(strings.Join(strings.Fields(sum), ""), want) {
			t.Errorf("symbol summary %q lacks %q", sum, want)
		}
	}
	if got := textOf(t, fresh, "tr.self"); !strings.Contains(got, "lkdtm_EXCEPTION") {
		t.Errorf("the symbol's row among its neighbours: %q", got)
	}
}

// TestBrowserDropFile drops a log file on the box, as a person drags it
// from a file manager: the page's script puts its text in the box.
func TestBrowserDropFile(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, serve.Config{})
	path := oops("run2-B", browserOops)
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitReady(chromedp.CSS("#log"))); err != nil {
		t.Fatal(err)
	}
	if !scriptsRan(t, ctx) {
		t.Fatal("the home page's script did not run")
	}
	x, y := center(t, ctx, "#log")
	drop := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		data := &input.DragData{Items: []*input.DragDataItem{}, Files: []string{abs}, DragOperationsMask: 1}
		for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
			if _, err := cdp.Call(ctx, tg, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: x, Y: y, Data: data}); err != nil {
				return fmt.Errorf("%s: %w", typ, err)
			}
		}
		return nil
	})
	if err := chromedp.Do(ctx, drop); err != nil {
		t.Fatal(err)
	}
	want := string(fixture.Read(t, path))
	var got string
	for range 50 { // the FileReader answers asynchronously
		got, err = chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#log")))
		if err != nil {
			t.Fatal(err)
		}
		if got != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != want {
		t.Fatalf("the box after the drop holds %d bytes, want the file's %d", len(got), len(want))
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#decode-form button[type=submit]`)), chromedp.WaitReady(chromedp.CSS("dd.guilty"))); err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, ctx, "dd.guilty"); got != browserGuilty {
		t.Errorf("guilty %q, want %q", got, browserGuilty)
	}
}

// center is the middle of the first element of sel, in CSS pixels of the
// viewport.
func center(t *testing.T, ctx context.Context, sel string) (float64, float64) {
	t.Helper()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel)))
	if err != nil || len(nodes) == 0 {
		t.Fatalf("%s: %v", sel, err)
	}
	box, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (*dom.BoxModel, error) {
		res, err := cdp.Call(ctx, tg, dom.GetBoxModel, dom.GetBoxModelParams{NodeID: nodes[0].NodeID})
		return res.Model, err
	})
	if err != nil {
		t.Fatal(err)
	}
	q := box.Content
	return (q[0] + q[4]) / 2, (q[1] + q[5]) / 2
}

// TestBrowserPhone shows every page on a phone-sized screen (390x844 CSS
// pixels, mobile): the page itself never scrolls sideways; a long log line
// scrolls inside its own box.
func TestBrowserPhone(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, serve.Config{})
	snap := e.push("run2-B")
	a := e.decode(oops("run2-B", browserOops), "", "?host=kdata-B")
	stacksID := postFolded(t, e)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	pages := []struct{ name, path string }{
		{"home", "/"},
		{"report", "/r/" + a.ID},
		{"symbol", "/symbol?snapshot=" + snap.ID + "&name=lkdtm_EXCEPTION"},
		{"buckets", "/buckets"},
		{"snapshots", "/snapshots"},
		{"stacks", "/stacks/" + stacksID},
		{"error", "/r/00000000000000000000000000000000"},
	}
	for _, p := range pages {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+p.path), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		w, err := chromedp.Run(ctx, chromedp.Evaluate[[2]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if w[1] != 390 {
			t.Errorf("%s: the page is %d pixels wide, want the phone's 390", p.name, w[1])
		}
		if w[0] > w[1] {
			wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`))
			t.Errorf("%s: the page scrolls sideways on a phone: %d pixels of content in %d (%s)", p.name, w[0], w[1], wide)
		}
		if p.name == "report" {
			// The log's lines are wider than the phone: its box scrolls.
			lw, err := chromedp.Run(ctx, chromedp.Evaluate[[2]int](`(b => [b.scrollWidth, b.clientWidth])(document.querySelector('.log'))`))
			if err != nil {
				t.Fatal(err)
			}
			if lw[0] <= lw[1] || lw[1] > 390 {
				t.Errorf("report: the log box is %d wide with %d of lines: want lines wider than the box, the box within the phone", lw[1], lw[0])
			}
			screenshot(t, ctx, "report-phone.png")
		}
	}
}

// postFolded uploads two folded stacks and returns the stacks' ID.
func postFolded(t *testing.T, e *env) string {
	code, body := e.do("POST", "/api/v1/stacks?title=demo", "", []byte("sh;entry_SYSCALL_64;do_syscall_64;ksys_read;vfs_read 3\nkworker/0:1;ret_from_fork;kthread;worker_thread;schedule 5\n"))
	if code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("stacks: %d %s", code, body)
	}
	var st struct{ ID string }
	if err := jsonUnmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	return st.ID
}

// TestBrowserWithoutJavaScript turns scripts off: the form still posts the
// pasted log (and a chosen file) and the permalink page reads the same.
func TestBrowserWithoutJavaScript(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t, serve.Config{})
	snap := e.push("run2-B")
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	log := string(fixture.Read(t, oops("run2-B", browserOops)))
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitReady(chromedp.CSS("#log"))); err != nil {
		t.Fatal(err)
	}
	if scriptsRan(t, ctx) {
		t.Fatal("the home page's script ran with scripts disabled")
	}
	decodeInBrowser(t, ctx, e.srv.URL, log)
	checkReportPage(t, ctx, snap.ID)
	screenshot(t, ctx, "report-nojs.png")

	// The file input posts the file itself.
	abs, err := filepath.Abs(oops("run2-B", "oops-05-lkdtm-ACCESS_NULL.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{abs}),
		chromedp.Click(chromedp.CSS(`#decode-form button[type=submit]`)),
		chromedp.WaitReady(chromedp.CSS("dd.guilty")),
	); err != nil {
		t.Fatal(err)
	}
	if got, want := textOf(t, ctx, "dd.guilty"), "lkdtm_ACCESS_NULL+0x14/0x53 [lkdtm]"; got != want {
		t.Errorf("file upload without scripts: guilty %q, want %q", got, want)
	}
	if got := textOf(t, ctx, "main h1"); got != "1 report in oops-05-lkdtm-ACCESS_NULL.txt" {
		t.Errorf("file upload without scripts: heading %q", got)
	}
}
