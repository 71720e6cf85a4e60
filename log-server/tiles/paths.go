package tiles

import (
	"fmt"
	"strconv"
	"strings"
)

// tileIndexPath encodes a tile index as C2SP tlog-tiles path elements:
// zero-padded groups of three digits, all but the last prefixed with x
// (1234067 is x001/x234/067).
func tileIndexPath(n uint64) string {
	groups := []string{fmt.Sprintf("%03d", n%1000)}
	for n /= 1000; n > 0; n /= 1000 {
		groups = append(groups, fmt.Sprintf("x%03d", n%1000))
	}
	for i, j := 0, len(groups)-1; i < j; i, j = i+1, j-1 {
		groups[i], groups[j] = groups[j], groups[i]
	}
	return strings.Join(groups, "/")
}

// TilePath is the path, below a log's prefix, of hash tile n at level l
// (width 0 or Width: full; otherwise partial).
func TilePath(l int, n uint64, w int) string {
	p := "tile/" + strconv.Itoa(l) + "/" + tileIndexPath(n)
	if w > 0 && w < Width {
		p += ".p/" + strconv.Itoa(w)
	}
	return p
}

// EntriesPath is the path, below a log's prefix, of entry bundle n.
func EntriesPath(n uint64, w int) string {
	p := "tile/entries/" + tileIndexPath(n)
	if w > 0 && w < Width {
		p += ".p/" + strconv.Itoa(w)
	}
	return p
}

// tileRef names one resource of the tiles API.
type tileRef struct {
	level   int // -1: entry bundle
	n       uint64
	width   int // Width for a full tile
	entries bool
}

// parsePath reads a path below a log's prefix, strictly: the forms the spec
// allows and nothing else (no leading zeros beyond the 3-digit groups, no
// partial width of 0 or 256).
func parsePath(p string) (tileRef, error) {
	bad := fmt.Errorf("not a tile path: %q", p)
	rest, ok := strings.CutPrefix(p, "tile/")
	if !ok {
		return tileRef{}, bad
	}
	var ref tileRef
	head, rest, ok := strings.Cut(rest, "/")
	if !ok {
		return tileRef{}, bad
	}
	if head == "entries" {
		ref.entries, ref.level = true, 0
	} else {
		l, err := strconv.Atoi(head)
		if err != nil || l < 0 || l > 63 || strconv.Itoa(l) != head {
			return tileRef{}, bad
		}
		ref.level = l
	}
	ref.width = Width
	if idx, w, ok := strings.Cut(rest, ".p/"); ok {
		width, err := strconv.Atoi(w)
		if err != nil || width < 1 || width >= Width || strconv.Itoa(width) != w {
			return tileRef{}, bad
		}
		ref.width, rest = width, idx
	}
	parts := strings.Split(rest, "/")
	var n uint64
	for i, part := range parts {
		digits := part
		if i < len(parts)-1 {
			var ok bool
			if digits, ok = strings.CutPrefix(part, "x"); !ok {
				return tileRef{}, bad
			}
		}
		if len(digits) != 3 || strings.Trim(digits, "0123456789") != "" {
			return tileRef{}, bad
		}
		d, _ := strconv.Atoi(digits)
		if n > (1<<63)/1000 {
			return tileRef{}, bad
		}
		n = n*1000 + uint64(d)
	}
	// Canonical form only: x000 as a leading group is a second name for
	// the same tile.
	if len(parts) > 1 && parts[0] == "x000" {
		return tileRef{}, bad
	}
	ref.n = n
	return ref, nil
}
