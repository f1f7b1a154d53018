package serve

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ksym-dev/ksym/kallsyms"
	"github.com/ksym-dev/ksym/snapshot"
	"github.com/ksym-dev/ksym/store"
)

// decodeAnswer is the answer of POST /api/v1/decode: the reports as
// 'ksym decode --json' prints them, the permalink, and the table used.
type decodeAnswer struct {
	ID      string    `json:"id,omitempty"`
	URL     string    `json:"url,omitempty"`
	Table   tableJSON `json:"table"`
	Reports any       `json:"reports"`
}

// decodeAndStore decodes a posted log and stores it behind its permalink.
func (s *Server) decodeAndStore(w http.ResponseWriter, r *http.Request, log []byte, name, chosen, host string) (*reportDoc, bool) {
	if chosen != "" {
		if err := store.CheckID(chosen); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return nil, false
		}
	}
	doc, err := s.decodeLog(r.Context(), log, name, chosen)
	if err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("decoding took longer than %v: send a shorter log", s.cfg.DecodeTimeout))
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidID), errors.Is(err, store.ErrUnavailable):
			s.storeError(w, r, "decode", err)
		case errors.Is(err, snapshot.ErrBadSnapshot):
			writeError(w, http.StatusUnprocessableEntity, err.Error())
		default:
			writeError(w, http.StatusBadRequest, err.Error())
		}
		return nil, false
	}
	s.met.tables.WithLabelValues(doc.Table.Match).Inc()
	for _, rep := range doc.Reports {
		s.met.decoded.WithLabelValues(rep.Kind).Inc()
	}
	if len(doc.Reports) == 0 {
		return doc, true
	}
	snapID := ""
	if doc.Table.Snapshot != nil {
		snapID = doc.Table.Snapshot.ID
	}
	doc.ID = store.ReportID("decode", string(log), name, snapID, doc.Table.Match)
	doc.Created = time.Now().UTC()
	data, err := json.Marshal(doc)
	if err == nil {
		err = s.st.PutReport(r.Context(), store.Report{ID: doc.ID, Kind: "decode", Created: doc.Created, Data: data}, doc.occurrences(host))
	}
	if err != nil {
		s.storeError(w, r, "put_report", err)
		return nil, false
	}
	return doc, true
}

// apiDecode is POST /api/v1/decode.
func (s *Server) apiDecode(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.role(r); !ok {
		s.need(w, r, Anonymous)
		return
	}
	log, ok := readBody(w, r, s.cfg.MaxLogBytes)
	if !ok {
		return
	}
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" {
		name = "log"
	}
	doc, ok := s.decodeAndStore(w, r, log, name, q.Get("snapshot"), q.Get("host"))
	if !ok {
		return
	}
	if !s.seesAddresses(r) {
		doc.withholdAddresses()
	}
	ans := decodeAnswer{ID: doc.ID, Table: doc.Table, Reports: doc.Reports}
	if doc.ID != "" {
		ans.URL = s.absURL(r, "/r/"+doc.ID)
	} else {
		ans.Reports = []any{}
	}
	writeJSON(w, http.StatusOK, ans)
}

// absURL is the absolute URL of path on this server, as the client
// reached it.
func (s *Server) absURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

// loadReport reads a stored decoded log, withholding addresses from a
// caller who may not see them.
func (s *Server) loadReport(r *http.Request, id string) (*reportDoc, error) {
	rep, err := s.st.Report(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if rep.Kind != "decode" {
		return nil, fmt.Errorf("report %s: %w", id, store.ErrNotFound)
	}
	var doc reportDoc
	if err := json.Unmarshal(rep.Data, &doc); err != nil {
		return nil, fmt.Errorf("%w: report %s: %v", store.ErrUnavailable, id, err)
	}
	if !s.seesAddresses(r) {
		doc.withholdAddresses()
	}
	return &doc, nil
}

// apiReport is GET /api/v1/reports/{id}: a stored decode answer.
func (s *Server) apiReport(w http.ResponseWriter, r *http.Request) {
	doc, err := s.loadReport(r, r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, "get_report", err)
		return
	}
	writeJSON(w, http.StatusOK, decodeAnswer{ID: doc.ID, URL: s.absURL(r, "/r/"+doc.ID), Table: doc.Table, Reports: doc.Reports})
}

// snapshotAnswer is the answer of POST /api/v1/snapshots.
type snapshotAnswer struct {
	Created  bool           `json:"created"`
	Snapshot store.Snapshot `json:"snapshot"`
}

// apiPutSnapshot is POST /api/v1/snapshots: a .ksnap body.
func (s *Server) apiPutSnapshot(w http.ResponseWriter, r *http.Request) {
	if !s.need(w, r, Writer) {
		return
	}
	data, ok := readBody(w, r, s.cfg.MaxSnapshotBytes)
	if !ok {
		return
	}
	snap, err := snapshot.Read(bytes.NewReader(data))
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "not a usable snapshot: "+err.Error())
		return
	}
	if _, err := snap.Table("upload"); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "the snapshot's table: "+err.Error())
		return
	}
	i := snap.Info
	meta := store.Snapshot{BootID: i.BootID, Release: i.Release, BuildID: i.BuildID, Hostname: i.Hostname,
		Arch: i.Arch, Captured: i.Captured, Symbols: i.Symbols, Modules: i.Modules, NamesOnly: i.NamesOnly}
	stored, created, err := s.st.PutSnapshot(r.Context(), meta, data)
	if err != nil {
		s.storeError(w, r, "put_snapshot", err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	w.Header().Set("Location", "/api/v1/snapshots/"+stored.ID)
	writeJSON(w, code, snapshotAnswer{Created: created, Snapshot: stored})
}

// apiSnapshots is GET /api/v1/snapshots?release=&host=&build_id=.
func (s *Server) apiSnapshots(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l, err := s.st.Snapshots(r.Context(), store.SnapshotFilter{Release: q.Get("release"), Hostname: q.Get("host"), BuildID: q.Get("build_id")})
	if err != nil {
		s.storeError(w, r, "list_snapshots", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"snapshots": l})
}

// apiSnapshot is GET /api/v1/snapshots/{id}: the description.
func (s *Server) apiSnapshot(w http.ResponseWriter, r *http.Request) {
	m, err := s.st.Snapshot(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, "get_snapshot", err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// apiSnapshotData is GET /api/v1/snapshots/{id}/ksnap: the file itself.
func (s *Server) apiSnapshotData(w http.ResponseWriter, r *http.Request) {
	if !s.need(w, r, Reader) {
		return
	}
	data, err := s.st.SnapshotData(r.Context(), r.PathValue("id"))
	if err != nil {
		s.storeError(w, r, "get_snapshot", err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("id")+`.ksnap"`)
	w.Write(data)
}

// apiDeleteSnapshot is DELETE /api/v1/snapshots/{id}.
func (s *Server) apiDeleteSnapshot(w http.ResponseWriter, r *http.Request) {
	if !s.need(w, r, Writer) {
		return
	}
	id := r.PathValue("id")
	if err := s.st.DeleteSnapshot(r.Context(), id); err != nil {
		s.storeError(w, r, "delete_snapshot", err)
		return
	}
	s.tables.drop(id)
	w.WriteHeader(http.StatusNoContent)
}

// symbolJSON is one symbol in /lookup, /search and /addr answers; Address
// is withheld from callers who may not see addresses.
type symbolJSON struct {
	Name    string `json:"name"`
	Module  string `json:"module,omitempty"`
	Type    string `json:"type"`
	Address string `json:"address,omitempty"`
	Size    uint64 `json:"size,omitempty"`
	Section string `json:"section"`
	Export  string `json:"export,omitempty"`
}

func (s *Server) symbolOf(t *kallsyms.Table, i int, addresses bool) symbolJSON {
	sym := t.Symbol(i)
	j := symbolJSON{Name: sym.Name, Module: sym.Module, Type: string(sym.Type), Section: string(t.Section(sym.Addr))}
	if sym.SizeKnown {
		j.Size = sym.Size
	}
	if addresses {
		j.Address = "0x" + strconv.FormatUint(sym.Addr, 16)
	}
	if t.IsCore(i) {
		j.Export = t.ExportOfSymbol(i).String()
	}
	return j
}

// chosenTable loads the snapshot the query names (snapshot=ID).
func (s *Server) chosenTable(w http.ResponseWriter, r *http.Request) (*loaded, bool) {
	id := r.URL.Query().Get("snapshot")
	if id == "" {
		writeError(w, http.StatusBadRequest, "name the snapshot: snapshot=ID (GET /api/v1/snapshots lists them)")
		return nil, false
	}
	if err := store.CheckID(id); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	l, err := s.table(r.Context(), id)
	if err != nil {
		if errors.Is(err, snapshot.ErrBadSnapshot) {
			writeError(w, http.StatusUnprocessableEntity, err.Error())
		} else {
			s.storeError(w, r, "get_snapshot", err)
		}
		return nil, false
	}
	return l, true
}

// apiAddr is GET /api/v1/addr?snapshot=ID&addr=0x...: the symbol at an
// address. It needs a reader token (or --public): answering addresses
// lets a caller map the boot's layout.
func (s *Server) apiAddr(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Public && !s.need(w, r, Reader) {
		return
	}
	l, ok := s.chosenTable(w, r)
	if !ok {
		return
	}
	var answers []map[string]any
	for _, a := range r.URL.Query()["addr"] {
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(a), "0x"), 16, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("addr %.40q: not a hex address", a))
			return
		}
		loc, err := l.table.Lookup(v)
		ans := map[string]any{"addr": "0x" + strconv.FormatUint(v, 16)}
		if err != nil {
			ans["error"] = err.Error()
		} else {
			ans["symbol"] = s.symbolOf(l.table, loc.Index, true)
			ans["offset"] = loc.Offset
			ans["text"] = l.table.FormatLocation(loc)
		}
		answers = append(answers, ans)
	}
	if len(answers) == 0 {
		writeError(w, http.StatusBadRequest, "give addr=0x... (repeatable)")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"snapshot": l.meta.ID, "answers": answers})
}

// apiLookup is GET /api/v1/lookup?snapshot=ID&name=NAME: the symbols of a
// name.
func (s *Server) apiLookup(w http.ResponseWriter, r *http.Request) {
	l, ok := s.chosenTable(w, r)
	if !ok {
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		writeError(w, http.StatusBadRequest, "give name=NAME")
		return
	}
	addrs := s.seesAddresses(r)
	out := []symbolJSON{}
	for _, i := range l.table.Find(name) {
		out = append(out, s.symbolOf(l.table, i, addrs))
	}
	writeJSON(w, http.StatusOK, map[string]any{"snapshot": l.meta.ID, "symbols": out})
}

// maxSearch bounds the symbols a search answers.
const maxSearch = 1000

// apiSearch is GET /api/v1/search?snapshot=ID&q=GLOB[&regexp=1][&types=Tt][&module=M].
func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	l, ok := s.chosenTable(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if len(q.Get("q")) > 256 {
		writeError(w, http.StatusBadRequest, "the pattern is longer than 256 bytes")
		return
	}
	idx, err := l.table.Search(kallsyms.Query{Pattern: q.Get("q"), Regexp: q.Get("regexp") == "1", Types: q.Get("types"), Module: q.Get("module")})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	addrs := s.seesAddresses(r)
	out := []symbolJSON{}
	for _, i := range idx[:min(len(idx), maxSearch)] {
		out = append(out, s.symbolOf(l.table, i, addrs))
	}
	writeJSON(w, http.StatusOK, map[string]any{"snapshot": l.meta.ID, "total": len(idx), "symbols": out})
}

// apiBuckets is GET /api/v1/buckets.
func (s *Server) apiBuckets(w http.ResponseWriter, r *http.Request) {
	bs, err := s.st.Buckets(r.Context())
	if err != nil {
		s.storeError(w, r, "buckets", err)
		return
	}
	if bs == nil {
		bs = []store.Bucket{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"buckets": bs})
}

// apiPutDebug is POST /api/v1/debuginfo: an ELF file with a GNU build ID
// note; stored as debuginfo when it has DWARF (.debug_info), else as
// executable.
func (s *Server) apiPutDebug(w http.ResponseWriter, r *http.Request) {
	if !s.need(w, r, Writer) {
		return
	}
	data, ok := readBody(w, r, s.cfg.MaxDebugBytes)
	if !ok {
		return
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "not an ELF file: "+err.Error())
		return
	}
	id, hasDWARF := elfBuildID(f)
	f.Close()
	if id == "" {
		writeError(w, http.StatusUnprocessableEntity, "the ELF file has no GNU build ID note")
		return
	}
	kind := store.Executable
	if hasDWARF {
		kind = store.DebugInfo
	}
	if err := s.st.PutDebug(r.Context(), id, kind, bytes.NewReader(data)); err != nil {
		s.storeError(w, r, "put_debug", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"build_id": id, "kind": kind, "url": s.absURL(r, "/buildid/"+id+"/"+kind)})
}
