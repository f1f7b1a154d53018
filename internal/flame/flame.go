// Package flame draws a flame graph as a self-contained SVG: no script, no
// style sheet, no font or file outside it. Each frame is a rectangle as wide
// as its share of the total, the root at the bottom (the flamegraph.pl
// layout); hovering a frame shows its name, weight and share (an SVG
// <title>), which every browser displays without scripts.
package flame

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"sort"
	"strconv"
)

// Stack is one path from the root to a leaf with its weight.
type Stack struct {
	Path   []string // root first
	Weight int64
}

// Options describe the drawing.
type Options struct {
	Title string // drawn at the top
	Unit  string // of the weights, in hover text: "samples", "bytes"
	Width int    // in pixels; 1200 when zero
}

// node is a frame of the merged tree.
type node struct {
	name     string
	weight   int64
	children map[string]*node
}

const (
	frameHeight = 16
	titleHeight = 40
	fontSize    = 11
	charWidth   = 6.6 // an estimate of the average glyph width at fontSize
	minWidth    = 0.3 // narrower frames are not drawn
)

// Write draws stacks as an SVG flame graph on w.
func Write(w io.Writer, stacks []Stack, opts Options) error {
	width := opts.Width
	if width <= 0 {
		width = 1200
	}
	root := &node{name: "all", children: map[string]*node{}}
	depth := 0
	for _, s := range stacks {
		if s.Weight <= 0 {
			continue
		}
		root.weight += s.Weight
		n := root
		for _, name := range s.Path {
			c := n.children[name]
			if c == nil {
				c = &node{name: name, children: map[string]*node{}}
				n.children[name] = c
			}
			c.weight += s.Weight
			n = c
		}
		depth = max(depth, len(s.Path))
	}
	height := titleHeight + (depth+1)*frameHeight + 10
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Verdana, sans-serif" font-size="%d">
<rect x="0" y="0" width="%d" height="%d" fill="#f8f8f8"/>
<text x="%d" y="24" font-size="17" text-anchor="middle">%s</text>
`, width, height, width, height, fontSize, width, height, width/2, html.EscapeString(opts.Title))
	d := drawer{w: bw, total: root.weight, unit: opts.Unit, scale: float64(width-20) / float64(max(root.weight, 1)), bottom: height - 10 - frameHeight}
	d.draw(root, 10, 0)
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// drawer draws the nodes of one tree.
type drawer struct {
	w      *bufio.Writer
	total  int64
	unit   string
	scale  float64 // pixels per unit of weight
	bottom int     // y of the root frame
}

// draw draws n at x, depth levels above the root, then its children, the
// heaviest first.
func (d *drawer) draw(n *node, x float64, depth int) {
	w := float64(n.weight) * d.scale
	if w < minWidth {
		return
	}
	y := d.bottom - depth*frameHeight
	share := 100 * float64(n.weight) / float64(max(d.total, 1))
	name := html.EscapeString(n.name)
	fmt.Fprintf(d.w, "<g><title>%s (%s %s, %.2f%%)</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>",
		name, strconv.FormatInt(n.weight, 10), html.EscapeString(d.unit), share, x, y, w, frameHeight-1, color(n.name))
	if label := fit(n.name, w); label != "" {
		fmt.Fprintf(d.w, "<text x=\"%.1f\" y=\"%d\">%s</text>", x+3, y+frameHeight-4, html.EscapeString(label))
	}
	fmt.Fprintln(d.w, "</g>")
	children := make([]*node, 0, len(n.children))
	for _, c := range n.children {
		children = append(children, c)
	}
	sort.Slice(children, func(i, j int) bool {
		if children[i].weight != children[j].weight {
			return children[i].weight > children[j].weight
		}
		return children[i].name < children[j].name
	})
	for _, c := range children {
		d.draw(c, x, depth+1)
		x += float64(c.weight) * d.scale
	}
}

// fit returns the part of name that fits in a frame of width w, ending in
// ".." when cut, or "" when not even three characters fit.
func fit(name string, w float64) string {
	n := int((w - 6) / charWidth)
	r := []rune(name)
	switch {
	case n < 3:
		return ""
	case len(r) <= n:
		return name
	}
	return string(r[:n-2]) + ".."
}

// color picks a warm colour from the name, the same for the same name.
func color(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	v := h.Sum32()
	r := 205 + int(v%50)
	g := 80 + int((v>>8)%150)
	b := 40 + int((v>>16)%40)
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b)
}
