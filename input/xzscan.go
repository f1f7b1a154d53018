package input

import (
	"encoding/binary"
	"fmt"
)

// maxXZDict bounds the dictionary an xz block may ask for: 128 MiB, twice
// what `xz -9` uses and the same bound as maxZstdWindow. The xz library
// allocates each block's dictionary up front from the size in the block
// header, so a 2 KB file asking for 4 GiB per block would otherwise cost
// gigabytes of memory.
const maxXZDict = 128 << 20

// checkXZDicts walks the container structure of the xz data b (streams, block
// headers, LZMA2 chunk headers, indexes, footers) without decompressing
// anything, and returns an error if a block asks for a dictionary larger than
// limit. Structure it cannot follow ends the walk with no error: the xz
// library reports such damage itself when it gets there.
func checkXZDicts(b []byte, limit int64) error {
	p := 0
	for p < len(b) {
		if p+4 <= len(b) && binary.LittleEndian.Uint32(b[p:]) == 0 {
			p += 4 // stream padding
			continue
		}
		next, err := scanXZStream(b, p, limit)
		if err != nil || next <= p {
			return err
		}
		p = next
	}
	return nil
}

// xzCheckSizes gives the size of the check field for the check types the xz
// library supports: none, CRC32, CRC64, SHA-256.
var xzCheckSizes = map[byte]int{0x0: 0, 0x1: 4, 0x4: 8, 0xa: 32}

// scanXZStream walks one stream starting at p and returns where it ends, or 0
// when the structure cannot be followed.
func scanXZStream(b []byte, p int, limit int64) (int, error) {
	if p+12 > len(b) || Detect(b[p:p+6]) != XZ {
		return 0, nil
	}
	checkSize, ok := xzCheckSizes[b[p+7]&0x0f]
	if !ok {
		return 0, nil
	}
	p += 12
	for p < len(b) && b[p] != 0 { // 0 marks the index
		var err error
		if p, err = scanXZBlock(b, p, checkSize, limit); err != nil || p == 0 {
			return 0, err
		}
	}
	p = skipXZIndex(b, p)
	if p == 0 || p+12 > len(b) {
		return 0, nil
	}
	return p + 12, nil // stream footer
}

// scanXZBlock checks the block header at p and skips the block's data.
func scanXZBlock(b []byte, p, checkSize int, limit int64) (int, error) {
	start := p
	hdrLen := (int(b[p]) + 1) * 4
	if p+hdrLen > len(b) {
		return 0, nil
	}
	if err := checkXZBlockHeader(b[p:p+hdrLen], limit); err != nil {
		return 0, err
	}
	p = skipLZMA2(b, p+hdrLen)
	if p == 0 {
		return 0, nil
	}
	p += (4 - (p-start)%4) % 4 // block padding
	return p + checkSize, nil
}

// checkXZBlockHeader rejects an LZMA2 filter whose dictionary exceeds limit.
func checkXZBlockHeader(h []byte, limit int64) error {
	if len(h) < 2 {
		return nil
	}
	flags := h[1]
	q := 2
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			if q = skipVarint(h, q); q == 0 {
				return nil
			}
		}
	}
	for range int(flags&3) + 1 {
		id, n := readVarint(h, q)
		if n == 0 {
			return nil
		}
		size, m := readVarint(h, q+n)
		if m == 0 || uint64(len(h)-(q+n+m)) < size {
			return nil
		}
		props := h[q+n+m : q+n+m+int(size)]
		if id == 0x21 && size == 1 {
			if dict := lzma2Dict(props[0]); dict > limit {
				return fmt.Errorf("a block asks for a %d MiB dictionary, more than the %d MiB allowed", dict>>20, limit>>20)
			}
		}
		q += n + m + int(size)
	}
	return nil
}

// lzma2Dict decodes the LZMA2 dictionary size byte (xz file format 5.3.1).
func lzma2Dict(c byte) int64 {
	if c >= 40 {
		return 1<<32 - 1
	}
	return int64(2|c&1) << (c/2 + 11)
}

// skipLZMA2 skips LZMA2 chunks from p up to and including the end marker and
// returns the position after it, or 0.
func skipLZMA2(b []byte, p int) int {
	for p < len(b) {
		c := b[p]
		switch {
		case c == 0:
			return p + 1
		case c == 1 || c == 2: // uncompressed chunk
			if p+3 > len(b) {
				return 0
			}
			p += 3 + int(binary.BigEndian.Uint16(b[p+1:])) + 1
		case c >= 0x80: // LZMA chunk
			if p+5 > len(b) {
				return 0
			}
			packed := int(binary.BigEndian.Uint16(b[p+3:])) + 1
			p += 5 + packed
			if c >= 0xc0 { // carries a properties byte
				p++
			}
		default:
			return 0
		}
	}
	return 0
}

// skipXZIndex skips the index at p (indicator, record count, records,
// padding, CRC32) and returns the position after it, or 0.
func skipXZIndex(b []byte, p int) int {
	start := p
	count, n := readVarint(b, p+1)
	if n == 0 {
		return 0
	}
	p += 1 + n
	for i := uint64(0); i < 2*count; i++ {
		if p = skipVarint(b, p); p == 0 {
			return 0
		}
	}
	p += (4 - (p-start)%4) % 4
	return p + 4
}

// readVarint decodes an xz multibyte integer at p: its value and length (0 if
// malformed or cut).
func readVarint(b []byte, p int) (uint64, int) {
	var v uint64
	for i := 0; i < 9 && p+i < len(b); i++ {
		v |= uint64(b[p+i]&0x7f) << (7 * i)
		if b[p+i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// skipVarint returns the position after the multibyte integer at p, or 0.
func skipVarint(b []byte, p int) int {
	_, n := readVarint(b, p)
	if n == 0 {
		return 0
	}
	return p + n
}
