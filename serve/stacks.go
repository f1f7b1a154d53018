package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ksym-dev/ksym/internal/flame"
	"github.com/ksym-dev/ksym/store"
)

// stacksDoc is a stored upload of folded stacks ('ksym stacks --folded'):
// what /stacks/ID draws as a flame graph.
type stacksDoc struct {
	ID      string        `json:"id"`
	Title   string        `json:"title"`
	Created time.Time     `json:"created"`
	Stacks  []flame.Stack `json:"stacks"`
}

// maxStackLines bounds the distinct folded lines of one upload.
const maxStackLines = 200000

// parseFolded reads folded stacks: "root;child;leaf WEIGHT" per line.
func parseFolded(data []byte) ([]flame.Stack, error) {
	var out []flame.Stack
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("line %d: want 'frame;frame;... WEIGHT'", n)
		}
		wt, err := strconv.ParseInt(line[sp+1:], 10, 64)
		if err != nil || wt <= 0 {
			return nil, fmt.Errorf("line %d: the weight %.20q is not a positive integer", n, line[sp+1:])
		}
		if len(out) == maxStackLines {
			return nil, fmt.Errorf("more than %d lines", maxStackLines)
		}
		out = append(out, flame.Stack{Path: strings.Split(line[:sp], ";"), Weight: wt})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no stacks: want 'frame;frame;... WEIGHT' lines, as 'ksym stacks --folded' prints")
	}
	return out, nil
}

// stacksJSON is what parseStacksJSON reads of 'ksym stacks --json'.
type stacksJSON struct {
	Source string `json:"source"`
	Kind   string `json:"kind"`
	Groups []struct {
		Funcs  []string `json:"funcs"` // innermost first
		Weight int64    `json:"weight"`
	} `json:"groups"`
}

// noStack names the tasks without a kernel stack, as ksym stacks does.
const noStack = "[no kernel stack]"

// parseStacksJSON reads the output of 'ksym stacks --json': each group is
// one stack, root first, weighted by its weight.
func parseStacksJSON(data []byte) ([]flame.Stack, string, error) {
	var in stacksJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, "", fmt.Errorf("not the JSON of 'ksym stacks --json': %v", err)
	}
	var out []flame.Stack
	for _, g := range in.Groups {
		if g.Weight <= 0 {
			return nil, "", fmt.Errorf("a group of weight %d", g.Weight)
		}
		path := make([]string, 0, len(g.Funcs))
		for i := len(g.Funcs) - 1; i >= 0; i-- {
			path = append(path, g.Funcs[i])
		}
		if len(path) == 0 {
			path = append(path, noStack)
		}
		out = append(out, flame.Stack{Path: path, Weight: g.Weight})
	}
	if len(out) == 0 {
		return nil, "", fmt.Errorf("no stack groups in the JSON")
	}
	if len(out) > maxStackLines {
		return nil, "", fmt.Errorf("more than %d groups", maxStackLines)
	}
	return out, in.Source, nil
}

// apiPutStacks is POST /api/v1/stacks?title=: folded stacks ('ksym
// stacks --folded') or the JSON of 'ksym stacks --json' in the body; the
// answer's url is the flame graph page.
func (s *Server) apiPutStacks(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.role(r); !ok {
		s.need(w, r, Anonymous)
		return
	}
	data, ok := readBody(w, r, s.cfg.MaxStacksBytes)
	if !ok {
		return
	}
	title := r.URL.Query().Get("title")
	var stacks []flame.Stack
	var err error
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var source string
		stacks, source, err = parseStacksJSON(data)
		if title == "" {
			title = source
		}
	} else {
		stacks, err = parseFolded(data)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "stacks: "+err.Error())
		return
	}
	if len(title) > 200 {
		title = title[:200]
	}
	doc := stacksDoc{ID: store.ReportID("stacks", string(data), title), Title: title, Created: time.Now().UTC(), Stacks: stacks}
	body, _ := json.Marshal(doc)
	if err := s.st.PutReport(r.Context(), store.Report{ID: doc.ID, Kind: "stacks", Created: doc.Created, Data: body}, nil); err != nil {
		s.storeError(w, r, "put_report", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": doc.ID, "url": s.absURL(r, "/stacks/"+doc.ID), "stacks": len(stacks)})
}
