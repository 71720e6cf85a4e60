package search

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/govlog/govlog/personalities/rule"
)

// Index kinds: the first part of a term key.
const (
	KindAgency = "agency"
	KindType   = "type"
	KindID     = "id"
	KindSHA256 = "sha256"
	KindWord   = "word"
	// The statement's time by UTC year, month and day ("2026",
	// "2026-12", "2026-12-06"), so a time range is a few lists.
	KindYear  = "year"
	KindMonth = "month"
	KindDay   = "day"
)

// Bounds of what one entry adds to the index.
const (
	// MaxTermsPerEntry caps an entry's terms: agency, type and time
	// first, then IDs and hashes, then title words, so a long title
	// cannot crowd out the rest.
	MaxTermsPerEntry = 64
	// maxTermBytes: a longer term is indexed by its SHA-256 (a query
	// term is treated alike, so it is still found), keeping keys short.
	maxTermBytes = 128
	// maxTitleBytes of the title kept with an entry for results.
	maxTitleBytes = 1024
	// maxDepth of the body walked for IDs, hashes and titles.
	maxDepth = 16
)

// Term is one index term of an entry.
type Term struct {
	Kind, Value string
}

// Fields that name other entries of the same agency (by an ID the
// domain's watch kinds list), recognised in any domain: a disclosure's
// correction and retraction.
const (
	correctsField = "corrects"
	retractsField = "retracts"
)

// Summary is what the index keeps of an entry to show it in results
// without reading it from the log.
type Summary struct {
	LeafHash [32]byte
	Type     string
	Agency   string
	Time     time.Time
	Title    string
	// Corrects and Retracts are the IDs the body names in its
	// "corrects" and "retracts" members, if any.
	Corrects, Retracts string
}

// Terms returns the terms of e in the log whose rules are d, and its
// summary. They are derived from the entry alone (its type, time, body
// and signing agency) and d's watch kinds, so the same entry always gives
// the same terms.
func Terms(d rule.Domain, e rule.Entry) ([]Term, Summary) {
	s := Summary{LeafHash: e.LeafHash, Type: e.Type, Agency: e.Agency, Time: e.Time.UTC()}
	var terms []Term
	add := func(kind, value string) {
		if value == "" || len(terms) >= MaxTermsPerEntry {
			return
		}
		t := Term{kind, normalize(value)}
		if !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	add(KindAgency, e.Agency)
	add(KindType, e.Type)
	add(KindYear, s.Time.Format("2006"))
	add(KindMonth, s.Time.Format("2006-01"))
	add(KindDay, s.Time.Format("2006-01-02"))

	var body any
	if err := json.Unmarshal(e.Body, &body); err != nil {
		// An admitted body is JSON; nothing more to index otherwise.
		return terms, s
	}
	idFields := map[string]bool{}
	if w, ok := d.(rule.Watcher); ok {
		for _, k := range w.WatchKinds() {
			for _, f := range k.Fields {
				idFields[f] = true
			}
		}
	}
	var words []string
	walk(body, 0, func(field, value string) {
		switch {
		case idFields[field]:
			add(KindID, value)
		case isSHA256Field(field) && isHex64(value):
			add(KindSHA256, value)
		}
		switch field {
		case correctsField:
			s.Corrects = value
		case retractsField:
			s.Retracts = value
		}
		if isTitleField(field) {
			if s.Title == "" {
				s.Title = truncate(value, maxTitleBytes)
			}
			words = append(words, Words(value)...)
		}
	})
	for _, w := range words {
		add(KindWord, w)
	}
	return terms, s
}

// walk calls fn with every string member of v (at most maxDepth deep),
// objects' members in key order so the terms come out in a fixed order.
func walk(v any, depth int, fn func(field, value string)) {
	if depth > maxDepth {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if s, ok := v[k].(string); ok {
				fn(k, s)
			} else {
				walk(v[k], depth+1, fn)
			}
		}
	case []any:
		for _, x := range v {
			walk(x, depth+1, fn)
		}
	}
}

func isSHA256Field(f string) bool { return f == "sha256" || strings.HasSuffix(f, "_sha256") }

func isTitleField(f string) bool {
	return f == "title" || f == "name" || strings.HasSuffix(f, "_title") || strings.HasSuffix(f, "_name")
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// normalize is how a term is keyed, for an entry's terms and a query's
// alike: lower-case (IDs and hashes too: a hash's case does not matter,
// and an ID that differs from another only by case is rare enough to
// share a list, whose entries the other criteria still tell apart), and
// a long term by its hash.
func normalize(v string) string {
	v = strings.ToLower(v)
	if len(v) > maxTermBytes {
		h := sha256.Sum256([]byte(v))
		return "~" + hex.EncodeToString(h[:16])
	}
	return v
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Words splits text into the words the index keeps: each run of letters
// and digits of an alphabetic script, lower-cased; for Chinese, Japanese
// and Korean text, which has no spaces, each character and each pair of
// adjacent characters, so a query of two or more characters matches by
// its pairs (see QueryWords).
func Words(text string) []string {
	var out []string
	forRuns(text, func(run []rune, cjk bool) {
		if !cjk {
			out = append(out, strings.ToLower(string(run)))
			return
		}
		for i := range run {
			out = append(out, string(run[i]))
			if i+1 < len(run) {
				out = append(out, string(run[i:i+2]))
			}
		}
	})
	return out
}

// QueryWords splits a query's text into the terms an entry's title must
// all have: its words, and for CJK text its pairs of adjacent characters
// (a single character alone).
func QueryWords(text string) []string {
	var out []string
	forRuns(text, func(run []rune, cjk bool) {
		switch {
		case !cjk:
			out = append(out, strings.ToLower(string(run)))
		case len(run) == 1:
			out = append(out, string(run))
		default:
			for i := 0; i+1 < len(run); i++ {
				out = append(out, string(run[i:i+2]))
			}
		}
	})
	slices.Sort(out)
	return slices.Compact(out)
}

// forRuns calls fn with each maximal run of word characters of text,
// split where the script changes between CJK and other.
func forRuns(text string, fn func(run []rune, cjk bool)) {
	var run []rune
	runCJK := false
	flush := func() {
		if len(run) > 0 {
			fn(run, runCJK)
		}
		run = nil
	}
	for _, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		c := isCJK(r)
		if len(run) > 0 && c != runCJK {
			flush()
		}
		runCJK = c
		run = append(run, r)
	}
	flush()
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}
