package tiles

import (
	"compress/gzip"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// ServeHTTP serves the tree's C2SP tlog-tiles API below the handler's
// prefix: GET checkpoint, tile/<L>/<N>[.p/<W>] and
// tile/entries/<N>[.p/<W>]. A partial tile is served for any width up to
// what the tree holds (it is the prefix of the tile it grew into), so a
// client reading an older checkpoint finds it; tiles past the tree are 404.
func (t *Tree) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	path := strings.TrimPrefix(r.URL.Path, "/")
	st := t.st.Load()
	if path == "checkpoint" {
		if st.checkpoint == nil {
			http.Error(w, "no checkpoint yet", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		// Mutable: caches keep it a moment only.
		w.Header().Set("Cache-Control", "public, max-age=2")
		w.Write(st.checkpoint)
		return
	}
	ref, err := parsePath(path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	var body []byte
	if ref.entries {
		body, err = t.entriesTile(st, ref)
	} else {
		body, err = t.hashTile(st, ref)
	}
	if errors.Is(err, ErrBeyond) {
		http.Error(w, "no such tile in this log (yet)", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "couldn't read the tile", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	// A tile's bytes never change: a width is part of its name.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	if ref.entries && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Vary", "Accept-Encoding")
		zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		zw.Write(body)
		zw.Close()
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func (t *Tree) hashTile(st *state, ref tileRef) ([]byte, error) {
	r, err := t.rowsAt(st, ref.level, ref.n)
	if err != nil {
		return nil, err
	}
	if len(r[0]) < ref.width {
		return nil, ErrBeyond
	}
	out := make([]byte, 0, ref.width*32)
	for _, h := range r[0][:ref.width] {
		out = append(out, h[:]...)
	}
	return out, nil
}

func (t *Tree) entriesTile(st *state, ref tileRef) ([]byte, error) {
	ents, err := t.bundle(st, ref.n)
	if err != nil {
		return nil, err
	}
	if len(ents) < ref.width {
		return nil, ErrBeyond
	}
	return encodeBundle(ents[:ref.width]), nil
}
