package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/internal/reportjson"
	"github.com/ksym-dev/ksym/klog"
	"github.com/ksym-dev/ksym/store"
)

// Table matches: how the table of a log was found.
const (
	MatchBuildID = "build_id" // a snapshot of the build ID the log prints
	MatchRelease = "release"  // a snapshot of the release the log prints, its boot confirmed by decode's checks
	MatchChosen  = "chosen"   // the snapshot the caller named
	MatchNone    = "none"     // no snapshot matched: decoded from the log alone
)

// tableJSON says which table decoded a log.
type tableJSON struct {
	Match    string          `json:"match"`
	Snapshot *store.Snapshot `json:"snapshot,omitempty"`
	// Boots is how many stored snapshots agreed with the log; more than
	// one means the log printed nothing that tells their boots apart,
	// and addresses are withheld.
	Boots int `json:"boots,omitempty"`
	// Tried is how many snapshots were tried.
	Tried int `json:"tried"`
	// Notes say why snapshots were not used.
	Notes []string `json:"notes,omitempty"`
	// AddressesWithheld says addresses from the snapshot were removed
	// from this answer (anonymous caller, or boots that cannot be told
	// apart).
	AddressesWithheld bool `json:"addresses_withheld,omitempty"`
}

// lineJSON is one line of a report as read.
type lineJSON struct {
	Num  int    `json:"num"`
	Text string `json:"text"`
}

// reportDoc is a stored decoded log: what a permalink shows.
type reportDoc struct {
	ID      string              `json:"id"`
	URL     string              `json:"url,omitempty"`
	Created time.Time           `json:"created"`
	Name    string              `json:"name"`
	Table   tableJSON           `json:"table"`
	Reports []reportjson.Report `json:"reports"`
	// Lines are each report's lines (stored; not in API answers).
	Lines [][]lineJSON `json:"lines,omitempty"`
	// Signatures are each report's bucket signature.
	Signatures []string `json:"signatures,omitempty"`
	// Hosts are the host names the log's lines carry (syslog, journald).
	Hosts []string `json:"hosts,omitempty"`
}

// parsedLog is a log cut into reports.
type parsedLog struct {
	reports []*klog.Report
	hosts   []string
}

// parseLog cuts log into reports, checking ctx every few thousand lines.
func parseLog(ctx context.Context, log []byte) (*parsedLog, error) {
	p := &parsedLog{}
	n := 0
	sc := &klog.Scanner{
		Report: func(r *klog.Report) error {
			p.reports = append(p.reports, r)
			return ctx.Err()
		},
		Line: func(l klog.Line) error {
			if l.Host != "" && !slices.Contains(p.hosts, l.Host) && len(p.hosts) < 16 {
				p.hosts = append(p.hosts, l.Host)
			}
			if n++; n%4096 == 0 {
				return ctx.Err()
			}
			return nil
		},
	}
	if err := sc.Scan(strings.NewReader(string(log))); err != nil {
		return nil, err
	}
	return p, nil
}

// candidates lists the snapshots that may be the log's table: of the
// build IDs it prints, else of the releases it prints; the latest captured
// first, at most MaxCandidates.
func (s *Server) candidates(ctx context.Context, p *parsedLog) (match string, list []store.Snapshot, err error) {
	var buildIDs, releases []string
	for _, r := range p.reports {
		if b := r.Header.BuildID; b != "" && !slices.Contains(buildIDs, b) {
			buildIDs = append(buildIDs, b)
		}
		if v := r.Header.Release; v != "" && !slices.Contains(releases, v) {
			releases = append(releases, v)
		}
	}
	collect := func(filters []store.SnapshotFilter) error {
		for _, f := range filters {
			l, err := s.st.Snapshots(ctx, f)
			if err != nil {
				return err
			}
			list = append(list, l...)
		}
		return nil
	}
	var fs []store.SnapshotFilter
	for _, b := range buildIDs {
		fs = append(fs, store.SnapshotFilter{BuildID: b})
	}
	if err := collect(fs); err != nil {
		return "", nil, err
	}
	match = MatchBuildID
	if len(list) == 0 {
		fs = nil
		for _, v := range releases {
			fs = append(fs, store.SnapshotFilter{Release: v})
		}
		if err := collect(fs); err != nil {
			return "", nil, err
		}
		match = MatchRelease
	}
	if len(list) > s.cfg.MaxCandidates {
		list = list[:s.cfg.MaxCandidates]
	}
	return match, list, nil
}

// trial is the decoding of a log with one table.
type trial struct {
	l       *loaded
	results []*decode.Result
}

// decodeWith decodes every report of p with the table of l (none when l is
// nil), checking ctx between reports.
func decodeWith(ctx context.Context, p *parsedLog, l *loaded) (*trial, error) {
	var dec *decode.Decoder
	if l == nil {
		dec = decode.New(nil, decode.Options{})
	} else {
		info := l.info
		// The snapshot's modules file is of the boot of its table: with a
		// kallsyms table it would only be checked against it (see
		// docs/decode.md), which the snapshot vouches for; checking it on
		// every request cost a fifth of a decode.
		dec = decode.New(l.table, decode.Options{Kernel: decode.Kernel{
			Name: "snapshot " + l.meta.ID, Release: info.Release, BuildID: info.BuildID,
			ModuleBuildID: func(m string) string { return info.ModuleBuildIDs[m] }}})
	}
	t := &trial{l: l}
	for _, r := range p.reports {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t.results = append(t.results, dec.Decode(r))
	}
	return t, nil
}

// mismatch returns the first mismatch reason of a trial, "" when the
// table matched every report.
func (t *trial) mismatch() string {
	for _, r := range t.results {
		if r.Mismatch {
			return r.MismatchReason
		}
	}
	return ""
}

// decodeLog decodes a log: with the snapshot chosen (a snapshot ID), or
// with the one stored snapshot that matches it, or from the log alone.
func (s *Server) decodeLog(ctx context.Context, log []byte, name, chosen string) (*reportDoc, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.DecodeTimeout)
	defer cancel()
	p, err := parseLog(ctx, log)
	if err != nil {
		return nil, err
	}
	doc := &reportDoc{Name: name, Hosts: p.hosts, Table: tableJSON{Match: MatchNone}}
	if len(p.reports) == 0 {
		return doc, nil
	}
	var accepted []*trial
	if chosen != "" {
		l, err := s.table(ctx, chosen)
		if err != nil {
			return nil, err
		}
		t, err := decodeWith(ctx, p, l)
		if err != nil {
			return nil, err
		}
		doc.Table.Match, doc.Table.Tried = MatchChosen, 1
		accepted = append(accepted, t)
	} else {
		match, list, err := s.candidates(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			doc.Table.Tried++
			l, err := s.table(ctx, c.ID)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				doc.Table.Notes = append(doc.Table.Notes, fmt.Sprintf("snapshot %s: %v", c.ID, err))
				continue
			}
			t, err := decodeWith(ctx, p, l)
			if err != nil {
				return nil, err
			}
			if why := t.mismatch(); why != "" {
				doc.Table.Notes = append(doc.Table.Notes, fmt.Sprintf("snapshot %s: %s", c.ID, why))
				continue
			}
			accepted = append(accepted, t)
		}
		if len(accepted) > 0 {
			doc.Table.Match = match
		}
	}
	switch len(accepted) {
	case 0:
		t, err := decodeWith(ctx, p, nil)
		if err != nil {
			return nil, err
		}
		doc.setReports(name, p, t)
	case 1:
		doc.setReports(name, p, accepted[0])
		doc.Table.Boots = 1
	default:
		if t := confirmedBoot(accepted); t != nil {
			doc.setReports(name, p, t)
			doc.Table.Boots = len(accepted)
			doc.Table.Notes = append(doc.Table.Notes, fmt.Sprintf("%d stored boots of this kernel agree with the log's names; only snapshot %s places the kernel addresses it prints (registers, raw frames) on symbols", len(accepted), t.l.meta.ID))
			break
		}
		// Boots that agree with the log and that it cannot tell apart:
		// what does not depend on the boot is kept; if anything else
		// differs, the log is decoded from the log alone.
		a, b := &reportDoc{}, &reportDoc{}
		a.setReports(name, p, accepted[0])
		b.setReports(name, p, accepted[1])
		a.withholdAddresses()
		b.withholdAddresses()
		ja, _ := json.Marshal(a.Reports)
		jb, _ := json.Marshal(b.Reports)
		if string(ja) == string(jb) {
			doc.Reports, doc.Lines, doc.Signatures, doc.Table.Snapshot = a.Reports, a.Lines, a.Signatures, a.Table.Snapshot
			doc.Table.Boots, doc.Table.AddressesWithheld = len(accepted), true
			doc.Table.Notes = append(doc.Table.Notes, "several stored boots of this kernel agree with the log, which prints no address that tells them apart: their common answer is given, without addresses")
			break
		}
		t, err := decodeWith(ctx, p, nil)
		if err != nil {
			return nil, err
		}
		doc.Table.Match, doc.Table.Boots = MatchNone, len(accepted)
		doc.Table.Notes = append(doc.Table.Notes, "several stored boots of this kernel agree with the log and answer differently: decoded from the log alone; name the boot's snapshot (snapshot=ID) for exact frames")
		doc.setReports(name, p, t)
	}
	return doc, nil
}

// confirmedBoot returns the one trial whose table places kernel addresses
// the log printed (register values, raw frame addresses) on symbols, when
// every other trial places none; nil otherwise. KASLR puts each boot's
// kernel and modules at a random offset, so the pointers a boot printed
// land on symbols of that boot's table, and on another boot's only by
// chance: such a chance makes the answer nil, never a wrong boot.
func confirmedBoot(ts []*trial) *trial {
	var best *trial
	for _, t := range ts {
		if t.evidence() == 0 {
			continue
		}
		if best != nil {
			return nil
		}
		best = t
	}
	return best
}

// evidence counts the printed kernel addresses the trial's table resolved:
// annotated registers and raw frame addresses.
func (t *trial) evidence() int {
	n := 0
	for _, r := range t.results {
		n += len(r.Registers)
		for _, f := range r.Frames {
			if strings.HasPrefix(f.Printed, "0x") && f.Status == decode.StatusResolved {
				n++
			}
		}
	}
	return n
}

// setReports fills the reports of doc from a trial.
func (doc *reportDoc) setReports(name string, p *parsedLog, t *trial) {
	doc.Reports, doc.Lines, doc.Signatures = nil, nil, nil
	for i, r := range p.reports {
		first, last := 0, 0
		lines := make([]lineJSON, 0, len(r.Lines))
		for _, l := range r.Lines {
			lines = append(lines, lineJSON{Num: l.Num, Text: l.Raw})
		}
		if len(r.Lines) > 0 {
			first, last = r.Lines[0].Num, r.Lines[len(r.Lines)-1].Num
		}
		doc.Reports = append(doc.Reports, reportjson.Of(name, first, last, t.results[i]))
		doc.Lines = append(doc.Lines, lines)
		doc.Signatures = append(doc.Signatures, t.results[i].Summary.Signature().String())
	}
	if t.l != nil {
		m := t.l.meta
		doc.Table.Snapshot = &m
	}
}

// withholdAddresses removes from doc what a snapshot says of addresses:
// the frames' runtime addresses and module bases, the names of raw
// addresses the log printed, the register annotations, and what looks like
// a kernel address in the warnings and notes (which may quote the table).
// Names, offsets and sizes of the frames the kernel printed by name stay,
// and the log's lines.
func (doc *reportDoc) withholdAddresses() {
	if doc.Table.Snapshot == nil {
		return
	}
	doc.Table.AddressesWithheld = true
	for i := range doc.Reports {
		r := &doc.Reports[i]
		for j := range r.Frames {
			f := &r.Frames[j]
			f.Address, f.ModuleBase = "", ""
			if f.Status == decode.StatusResolved {
				// A raw address the log printed, named by the table: an
				// answer for any address a forged log prints would map
				// the boot's layout, as /api/v1/addr would.
				f.Text, f.Symbol, f.Offset, f.Size, f.Module, f.ModuleOffset = "", "", 0, 0, "", 0
				f.Note = "resolved from the snapshot: shown with a token"
			}
		}
		// Register annotations name what printed values point at in the
		// table: withheld for the same reason.
		r.Registers = nil
		r.Warnings = maskAddresses(r.Warnings)
	}
	doc.Table.Notes = maskAddresses(doc.Table.Notes)
}

// kernelAddress matches the hex forms of kernel addresses in messages.
var kernelAddress = regexp.MustCompile(`(0x)?ffff[0-9a-f]{12}`)

func maskAddresses(ss []string) []string {
	if len(ss) == 0 {
		return ss
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = kernelAddress.ReplaceAllString(s, "(address withheld)")
	}
	return out
}

// occurrences are the buckets' records of a decoded log.
func (doc *reportDoc) occurrences(host string) []store.Occurrence {
	var out []store.Occurrence
	for i, r := range doc.Reports {
		o := store.Occurrence{Kind: r.Summary.Kind, Title: r.Summary.Title, Release: r.Summary.Release,
			Hostname: host, ReportID: doc.ID, Index: i, Seen: doc.Created}
		o.Signature = doc.Signatures[i]
		if sn := doc.Table.Snapshot; sn != nil {
			if o.Release == "" {
				o.Release = sn.Release
			}
			if o.Hostname == "" {
				o.Hostname = sn.Hostname
			}
		}
		if o.Hostname == "" && len(doc.Hosts) == 1 {
			o.Hostname = doc.Hosts[0]
		}
		out = append(out, o)
	}
	return out
}
