package klog

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"time"
)

// MaxLineLength is the longest line Scan keeps; longer lines are cut there
// (Line.Cut) and the rest of them is dropped. A kernel log line is at most
// about 1 KiB (printk's record limit); the cap bounds memory on input that
// is not a log, such as /dev/zero.
const MaxLineLength = 64 << 10

// Scanner reads log text line by line and cuts it into reports with a
// Splitter: Scan calls Report with each report as soon as it ends. Memory
// is bounded by the longest report (Splitter.MaxLines, Splitter.MaxBytes)
// and MaxLineLength, whatever the input.
//
// For a live log (dmesg -w, tail -f, a serial console) set IdleAfter and
// Idle: when the input stays silent that long, Scan calls Idle, which may
// show what is complete so far, such as the reports still open as far as
// they go (Splitter.Partial). A kernel's last report is often the last
// thing it prints: without Idle it would wait for an end of input that
// never comes.
type Scanner struct {
	// Splitter cuts the lines into reports, with its limits; Report, Line
	// and Idle may ask it about the reports still open (Oldest, Partial).
	// Scan uses a zero Splitter when it is nil.
	Splitter *Splitter
	// Report is called with each report as soon as it ends, and with the
	// reports still open at the end of input.
	Report func(*Report) error
	// Line, when not nil, is called with every line (numbered, Line.Num)
	// before the Splitter takes it, so before any report that holds it is
	// given to Report.
	Line func(Line) error
	// IdleAfter is how long the input may stay silent before Scan calls
	// Idle; zero (or a nil Idle) turns idle calls off.
	IdleAfter time.Duration
	// Idle is called once per silence of IdleAfter, after every complete
	// line read so far was given to Line and the Splitter. A line whose end
	// has not come yet is kept until it does.
	Idle func() error
}

// Scan reads r to its end. It returns the first error of r (other than
// io.EOF), of Report, of Line or of Idle; after a read error the reports
// still open are dropped.
//
// With idle calls on, each read of r runs in a goroutine of its own while
// Scan waits for it or for the silence; none is left running when Scan
// returns: if Idle fails, Scan waits for the read in progress to return
// before it returns.
func (sc *Scanner) Scan(r io.Reader) error {
	if sc.Splitter == nil {
		sc.Splitter = &Splitter{}
	}
	var src io.Reader = r
	if sc.IdleAfter > 0 && sc.Idle != nil {
		idle := &idleReader{r: r, after: sc.IdleAfter}
		defer idle.wait()
		src = idle
	}
	lr := lineReader{br: bufio.NewReaderSize(src, 64<<10)}
	for num := 0; ; {
		raw, cut, err := lr.next()
		switch {
		case errors.Is(err, errIdle):
			if err := sc.Idle(); err != nil {
				return err
			}
			continue
		case errors.Is(err, io.EOF) && raw == "" && !cut:
			return sc.flush()
		case err != nil && !errors.Is(err, io.EOF):
			return err
		}
		num++
		if err := sc.push(raw, cut, num); err != nil {
			return err
		}
	}
}

// push gives one line to Line and the Splitter, and the report it ended
// to Report.
func (sc *Scanner) push(raw string, cut bool, num int) error {
	l := ParseLine(raw)
	l.Num, l.Cut = num, cut
	if sc.Line != nil {
		if err := sc.Line(l); err != nil {
			return err
		}
	}
	if rep := sc.Splitter.Push(l); rep != nil {
		return sc.Report(rep)
	}
	return nil
}

// flush gives the reports still open at the end of input to Report.
func (sc *Scanner) flush() error {
	for rep := sc.Splitter.Flush(); rep != nil; rep = sc.Splitter.Flush() {
		if err := sc.Report(rep); err != nil {
			return err
		}
	}
	return nil
}

// Scan reads log text from r line by line and calls emit with each report
// as soon as it ends, and with the last one at the end of input: a Scanner
// without idle calls.
func Scan(r io.Reader, emit func(*Report) error) error {
	return ScanWith(r, &Splitter{}, emit)
}

// ScanWith is Scan with the caller's Splitter (its limits), so that emit
// may ask it about the reports still open (Oldest).
func ScanWith(r io.Reader, s *Splitter, emit func(*Report) error) error {
	sc := Scanner{Splitter: s, Report: emit}
	return sc.Scan(r)
}

// Parse splits a whole log into its reports.
func Parse(log string) []*Report {
	var out []*Report
	_ = Scan(strings.NewReader(log), func(r *Report) error {
		out = append(out, r)
		return nil
	})
	return out
}

// Partial returns copies of the reports still open that have a kind, as far
// as they go, marked Partial, in the order they began. They are snapshots:
// the reports go on in the Splitter and are returned by Push or Flush when
// they end.
func (sp *Splitter) Partial() []*Report {
	var out []*Report
	for _, st := range sp.streams {
		if st.cur == nil || st.cur.Title == "" || len(st.lines) == 0 {
			continue
		}
		r := *st.cur
		r.Partial = true
		r.Lines = slices.Clone(st.lines)
		r.Frames = slices.Clone(st.frames)
		r.Registers = slices.Clip(r.Registers)
		r.Traces = slices.Clip(r.Traces)
		r.finishFunc()
		out = append(out, &r)
	}
	slices.SortFunc(out, func(a, b *Report) int { return a.Lines[0].Num - b.Lines[0].Num })
	return out
}

// lineReader reads lines cut at MaxLineLength, keeping a line whose end has
// not come when the input falls idle.
type lineReader struct {
	br   *bufio.Reader
	part []byte // the start of the line being read, across full buffers and silences
	skip bool   // the line being read was returned cut: drop the rest of it
}

// next returns the next line without its terminator and whether it was
// cut. A line is returned cut as soon as MaxLineLength bytes of it are
// read, and the rest of it is dropped. At the end of input it returns the
// last line, if it has no terminator, with io.EOF, then "" and io.EOF.
// When the input falls idle it returns errIdle and keeps what it read of
// the line.
func (lr *lineReader) next() (string, bool, error) {
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if lr.skip {
			switch {
			case err == nil:
				lr.skip = false
				continue
			case errors.Is(err, bufio.ErrBufferFull):
				continue
			}
			lr.skip = lr.skip && !errors.Is(err, io.EOF)
			return "", false, err
		}
		if err == nil && len(lr.part) == 0 && len(chunk) <= MaxLineLength+1 {
			return string(chunk[:len(chunk)-1]), false, nil // a whole line at once
		}
		room := MaxLineLength - len(lr.part)
		if len(bytes.TrimSuffix(chunk, []byte{'\n'})) > room {
			line := string(lr.part) + string(chunk[:room])
			lr.part, lr.skip = lr.part[:0], !bytes.HasSuffix(chunk, []byte{'\n'})
			return line, true, nil
		}
		lr.part = append(lr.part, chunk...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, errIdle):
			return "", false, err
		case err != nil && !errors.Is(err, io.EOF):
			return "", false, err
		}
		line := string(bytes.TrimSuffix(lr.part, []byte{'\n'}))
		lr.part = lr.part[:0]
		return line, false, err
	}
}

// errIdle is returned by idleReader.Read when no input came for its time.
var errIdle = errors.New("klog: the input is idle")

// idleReader reads r in a goroutine per read, and returns errIdle when a
// read takes longer than after. The read goes on: the next Read returns its
// result, waiting for it as long as it takes (one errIdle per silence).
type idleReader struct {
	r     io.Reader
	after time.Duration
	buf   []byte      // filled by the read in progress
	data  []byte      // read, not yet returned
	err   error       // the error of the last read, returned after data
	done  chan result // the read in progress reports here
	busy  bool        // a read is in progress
	idle  bool        // errIdle was returned for the read in progress
}

// result is what one read of idleReader.r returned.
type result struct {
	n   int
	err error
}

// Read returns what the read in progress (or a new one) returned, or
// errIdle when it takes longer than after.
func (ir *idleReader) Read(p []byte) (int, error) {
	if len(ir.data) == 0 && ir.err == nil {
		if err := ir.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, ir.data)
	ir.data = ir.data[n:]
	if len(ir.data) == 0 && ir.err != nil {
		err := ir.err
		ir.err = nil
		return n, err
	}
	return n, nil
}

// fill waits for a read of r, starting one if none is in progress, and
// keeps what it returned in data and err; it returns errIdle when the
// silence lasts.
func (ir *idleReader) fill() error {
	if !ir.busy {
		if ir.done == nil {
			ir.done, ir.buf = make(chan result, 1), make([]byte, 64<<10)
		}
		ir.busy, ir.idle = true, false
		go func(buf []byte) {
			n, err := ir.r.Read(buf)
			ir.done <- result{n, err}
		}(ir.buf)
	}
	var res result
	if ir.idle {
		res = <-ir.done
	} else {
		t := time.NewTimer(ir.after)
		select {
		case res = <-ir.done:
			t.Stop()
		case <-t.C:
			ir.idle = true
			return errIdle
		}
	}
	ir.busy = false
	ir.data, ir.err = ir.buf[:res.n], res.err
	return nil
}

// wait returns once no read is in progress.
func (ir *idleReader) wait() {
	if ir.busy {
		<-ir.done
		ir.busy = false
	}
}
