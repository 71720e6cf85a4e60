package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/govlog/govlog"
	"github.com/govlog/govlog/personalities/rule"
)

// entryScriptKeys are the strings entry.js shows, in the reader's language.
var entryScriptKeys = []string{
	"proof.checking", "proof.verified", "proof.verified.how", "proof.nowitness", "proof.failed",
	"proof.fail.bundle", "proof.fail.policy", "proof.fail.log", "proof.fail.quorum", "proof.fail.inclusion",
	"proof.fail.crypto", "proof.fail.entry", "proof.fail.fetch", "proof.badwitness", "proof.latewitness",
}

// entryPage is the data of an entry's page.
type entryPage struct {
	Entry      Entry
	AgencyName string // "" if the registry names none
	Origin     string
	Fields     []bodyField
	Signers    []string // "name+keyID" of each signature line of the leaf
	Raw        string
	// HasPolicy: the browser can verify the proof against the node's
	// witness policy.
	HasPolicy bool
	// Payment and Account link the entry to the funds views, when its log
	// answers those queries.
	Payment, Account bool
}

// bodyField is one top-level field of a statement's body; Value is a
// string's text, or the JSON of anything else.
type bodyField struct {
	Key, Value string
}

func (p *Pages) entry(w http.ResponseWriter, r *http.Request) {
	l := chooseLang(w, r)
	log := r.PathValue("log")
	index, err := strconv.ParseUint(r.PathValue("index"), 10, 64)
	if err != nil {
		p.badRequest(w, r, l, l.t("err.index"))
		return
	}
	logs, ok := p.logs(w, r, l)
	if !ok {
		return
	}
	info, ok := logNamed(logs, log)
	if !ok {
		p.sourceError(w, r, l, fmt.Errorf("%w %q", ErrUnknownLog, log))
		return
	}
	e, err := p.opts.Source.Entry(r.Context(), log, index)
	if err != nil {
		p.sourceError(w, r, l, err)
		return
	}
	data := entryPage{Entry: e, Origin: info.Origin, Raw: string(e.Leaf), HasPolicy: p.policy != nil,
		Payment: answers(info, "payment"), Account: answers(info, "account")}
	data.AgencyName = p.agencyNames(r.Context())[e.Agency]
	data.Fields = bodyFields(e.Body)
	if _, _, sigs, err := govlog.ReadStatement(e.Leaf, info.Origin); err == nil {
		for _, s := range sigs {
			data.Signers = append(data.Signers, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
		}
	}
	p.render(w, r, l, http.StatusOK, "entry", "", l.t("entry.title", index, log), data, entryScriptKeys...)
}

// answers reports whether log answers the domain query name.
func answers(log LogInfo, name string) bool {
	return slices.ContainsFunc(log.Queries, func(q rule.QueryInfo) bool { return q.Name == name })
}

// bodyFields lists a body's top-level fields in the order of its canonical
// JSON (keys sorted).
func bodyFields(body []byte) []bodyField {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []bodyField
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return out
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out
		}
		f := bodyField{Key: fmt.Sprint(k), Value: string(v)}
		var s string
		if json.Unmarshal(v, &s) == nil {
			f.Value = s
		}
		out = append(out, f)
	}
	return out
}

// proof serves an entry's bundle as a .tlog-proof file.
func (p *Pages) proof(w http.ResponseWriter, r *http.Request) {
	l := chooseLang(w, r)
	log := r.PathValue("log")
	index, err := strconv.ParseUint(r.PathValue("index"), 10, 64)
	if err != nil {
		p.badRequest(w, r, l, l.t("err.index"))
		return
	}
	e, err := p.opts.Source.Entry(r.Context(), log, index)
	if err != nil {
		p.sourceError(w, r, l, err)
		return
	}
	if e.Pending || len(e.Bundle) == 0 {
		p.render(w, r, l, http.StatusNotFound, "error", "", l.t("err.notfound"), errorPage{Message: l.t("entry.pending")})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d.tlog-proof"`, log, index))
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(e.Bundle)
}

// policyFile serves the witness policy verify.js checks bundles against.
func (p *Pages) policyFile(w http.ResponseWriter, r *http.Request) {
	if p.policy == nil {
		http.Error(w, "this node publishes no witness policy", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(p.opts.Policy)
}
