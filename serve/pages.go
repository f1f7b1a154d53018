package serve

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ksym-dev/ksym/internal/flame"
	"github.com/ksym-dev/ksym/internal/reportjson"
	"github.com/ksym-dev/ksym/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var embedded embed.FS

// staticFS serves /static/ (the style sheet).
var staticFS fs.FS = embedded

var funcs = template.FuncMap{
	"join": strings.Join,
	"framesAt": func(r reportjson.Report, line int) []frameAt {
		var out []frameAt
		for i, f := range r.Frames {
			if f.Line == line {
				out = append(out, frameAt{Frame: f, Index: i})
			}
		}
		return out
	},
	"regsAt": func(r reportjson.Report, line int) []reportjson.Register {
		var out []reportjson.Register
		for _, g := range r.Registers {
			if g.Line == line {
				out = append(out, g)
			}
		}
		return out
	},
	"symbolURL": func(doc *reportDoc, name string) string {
		if doc.Table.Snapshot == nil {
			return ""
		}
		return "/symbol?snapshot=" + doc.Table.Snapshot.ID + "&name=" + url.QueryEscape(name)
	},
}

// frameAt is a frame with its index in its report.
type frameAt struct {
	reportjson.Frame
	Index int
}

// pages are the parsed templates, one per page, each with the layout;
// parsed on first use, so that no other ksym command pays for them.
var pages = sync.OnceValue(func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, p := range []string{"home", "report", "symbol", "buckets", "snapshots", "stacks", "error"} {
		out[p] = template.Must(template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html"))
	}
	return out
})

// render writes a page; data must have a Title field (or key).
func (s *Server) render(w http.ResponseWriter, code int, page string, data any) {
	var b bytes.Buffer
	if err := pages()[page].ExecuteTemplate(&b, "layout", data); err != nil {
		s.log.Error("template", "page", page, "error", err.Error())
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// pageError renders an error page.
func (s *Server) pageError(w http.ResponseWriter, code int, msg string) {
	s.render(w, code, "error", map[string]any{"Title": http.StatusText(code), "Message": msg})
}

// pageStoreError renders a store error as a page.
func (s *Server) pageStoreError(w http.ResponseWriter, r *http.Request, op string, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.pageError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrInvalidID):
		s.pageError(w, http.StatusBadRequest, err.Error())
	default:
		s.met.storeErrors.WithLabelValues(op).Inc()
		s.log.ErrorContext(r.Context(), "store error", "op", op, "error", err.Error())
		s.pageError(w, http.StatusServiceUnavailable, "The store is unavailable: retry later.")
	}
}

func (s *Server) pageHome(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "home", map[string]any{"Title": "decode"})
}

// pageDecode is the form POST of the home page: it decodes, stores and
// redirects to the permalink (303), so that it works without JavaScript.
func (s *Server) pageDecode(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.role(r); !ok {
		s.need(w, r, Anonymous)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxLogBytes+64<<10)
	// The whole form fits in memory: no file is written outside the store.
	if err := r.ParseMultipartForm(s.cfg.MaxLogBytes + 128<<10); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.pageError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The log is longer than the limit, %d bytes.", s.cfg.MaxLogBytes))
			return
		}
		s.pageError(w, http.StatusBadRequest, "Reading the form: "+err.Error())
		return
	}
	log, name := r.FormValue("log"), "pasted log"
	if f, h, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(f, s.cfg.MaxLogBytes+1))
		f.Close()
		if err != nil {
			s.pageError(w, http.StatusBadRequest, "Reading the file: "+err.Error())
			return
		}
		log, name = string(b), h.Filename
	}
	if int64(len(log)) > s.cfg.MaxLogBytes {
		s.pageError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The log is longer than the limit, %d bytes.", s.cfg.MaxLogBytes))
		return
	}
	rec := &statusRecorder{header: http.Header{}}
	doc, ok := s.decodeAndStore(rec, r, []byte(log), name, strings.TrimSpace(r.FormValue("snapshot")), "")
	if !ok {
		var e errorJSON
		json.Unmarshal(rec.body.Bytes(), &e)
		s.pageError(w, rec.code, e.Error)
		return
	}
	if doc.ID == "" {
		s.pageError(w, http.StatusUnprocessableEntity, "No kernel report (oops, BUG, WARNING, panic, lockup, hung task, sysrq dump) was found in the log.")
		return
	}
	http.Redirect(w, r, "/r/"+doc.ID, http.StatusSeeOther)
}

// statusRecorder keeps an API error to show it as a page.
type statusRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *statusRecorder) WriteHeader(code int)        { r.code = code }

// pageReport is the permalink page of a decoded log.
func (s *Server) pageReport(w http.ResponseWriter, r *http.Request) {
	doc, err := s.loadReport(r, r.PathValue("id"))
	if err != nil {
		s.pageStoreError(w, r, "get_report", err)
		return
	}
	title := doc.Name
	if len(doc.Reports) > 0 {
		title = doc.Reports[0].Summary.Title
	}
	s.render(w, http.StatusOK, "report", map[string]any{"Title": title, "Doc": doc, "URL": s.absURL(r, "/r/"+doc.ID)})
}

// neighbour is a symbol beside the one shown.
type neighbour struct {
	Sym  symbolJSON
	Self bool
}

// symbolView is one symbol of a name, with its neighbours.
type symbolView struct {
	Sym        symbolJSON
	Neighbours []neighbour
	Source     symbolSource
}

// pageSymbol is /symbol?snapshot=ID&name=NAME.
func (s *Server) pageSymbol(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, name := q.Get("snapshot"), q.Get("name")
	if err := store.CheckID(id); err != nil || name == "" || len(name) > 512 {
		s.pageError(w, http.StatusBadRequest, "Give snapshot=ID and name=NAME.")
		return
	}
	l, err := s.table(r.Context(), id)
	if err != nil {
		s.pageStoreError(w, r, "get_snapshot", err)
		return
	}
	addrs := s.seesAddresses(r)
	var views []symbolView
	for _, i := range l.table.Find(name) {
		v := symbolView{Sym: s.symbolOf(l.table, i, addrs), Source: s.symbolSource(l, i)}
		for j := max(0, i-5); j < min(l.table.Len(), i+6); j++ {
			v.Neighbours = append(v.Neighbours, neighbour{Sym: s.symbolOf(l.table, j, addrs), Self: j == i})
		}
		views = append(views, v)
		if len(views) == 16 {
			break
		}
	}
	s.render(w, http.StatusOK, "symbol", map[string]any{"Title": name, "Name": name, "Snapshot": l.meta, "Symbols": views, "Addresses": addrs})
}

// chartDays is how many days the bucket chart shows.
const chartDays = 30

// pageBuckets is /buckets: the chart of crashes per day and the list.
func (s *Server) pageBuckets(w http.ResponseWriter, r *http.Request) {
	bs, err := s.st.Buckets(r.Context())
	if err != nil {
		s.pageStoreError(w, r, "buckets", err)
		return
	}
	var chart template.HTML
	if len(bs) > 0 {
		chart = perDayChart(bs, time.Now().UTC(), chartDays)
	}
	s.render(w, http.StatusOK, "buckets", map[string]any{"Title": "buckets", "Buckets": bs, "Chart": chart, "Days": chartDays})
}

// perDayChart draws the crashes per day of the days up to today as an
// SVG bar chart. Only numbers and dates go into it.
func perDayChart(bs []store.Bucket, today time.Time, days int) template.HTML {
	counts := make([]int, days)
	top := 1
	for i := range days {
		day := today.AddDate(0, 0, i-days+1).Format(time.DateOnly)
		for _, b := range bs {
			counts[i] += b.PerDay[day]
		}
		top = max(top, counts[i])
	}
	const w, h, bar = 600, 120, 20
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="crashes per day">`, w, h+20, w, h+20)
	for i, c := range counts {
		bh := c * h / top
		day := today.AddDate(0, 0, i-days+1).Format(time.DateOnly)
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%d" height="%d" fill="#c0392b"><title>%s: %d</title></rect>`, i*bar+2, h-bh, bar-4, bh, day, c)
	}
	fmt.Fprintf(&sb, `<text x="0" y="%d" font-size="11">%s</text><text x="%d" y="%d" font-size="11" text-anchor="end">%s</text>`,
		h+15, today.AddDate(0, 0, 1-days).Format(time.DateOnly), days*bar, h+15, today.Format(time.DateOnly))
	fmt.Fprintf(&sb, `<text x="%d" y="12" font-size="11" text-anchor="end">max %d</text></svg>`, days*bar, top)
	return template.HTML(sb.String())
}

// pageSnapshots is /snapshots.
func (s *Server) pageSnapshots(w http.ResponseWriter, r *http.Request) {
	l, err := s.st.Snapshots(r.Context(), store.SnapshotFilter{Release: r.URL.Query().Get("release"), Hostname: r.URL.Query().Get("host")})
	if err != nil {
		s.pageStoreError(w, r, "list_snapshots", err)
		return
	}
	s.render(w, http.StatusOK, "snapshots", map[string]any{"Title": "snapshots", "Snapshots": l})
}

// pageStacks is /stacks/{id}: an uploaded set of stacks as a flame graph.
func (s *Server) pageStacks(w http.ResponseWriter, r *http.Request) {
	rep, err := s.st.Report(r.Context(), r.PathValue("id"))
	if err == nil && rep.Kind != "stacks" {
		err = fmt.Errorf("stacks %s: %w", r.PathValue("id"), store.ErrNotFound)
	}
	if err != nil {
		s.pageStoreError(w, r, "get_report", err)
		return
	}
	var doc stacksDoc
	if err := json.Unmarshal(rep.Data, &doc); err != nil {
		s.pageStoreError(w, r, "get_report", fmt.Errorf("%w: %v", store.ErrUnavailable, err))
		return
	}
	var svg bytes.Buffer
	title := doc.Title
	if title == "" {
		title = "kernel stacks"
	}
	if err := flame.Write(&svg, doc.Stacks, flame.Options{Title: title, Unit: "tasks"}); err != nil {
		s.pageError(w, http.StatusInternalServerError, err.Error())
		return
	}
	// flame.Write escapes every name it draws. Inline in HTML, the SVG
	// goes without its XML declaration.
	out := svg.String()
	if strings.HasPrefix(out, "<?xml") {
		if i := strings.Index(out, "?>"); i >= 0 {
			out = strings.TrimLeft(out[i+2:], "\n")
		}
	}
	s.render(w, http.StatusOK, "stacks", map[string]any{"Title": title, "Doc": doc, "SVG": template.HTML(out)})
}
