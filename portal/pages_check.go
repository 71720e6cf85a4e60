package portal

import (
	"errors"
	"net/http"
	"strings"
)

// checkScriptKeys are the strings check.js shows.
var checkScriptKeys = []string{"check.computing", "check.nocrypto", "check.computed", "check.match", "check.nomatch", "search.error", "search.pending"}

// checkPage is the data of the check page: a document's SHA-256 and the
// entries, in any log, that logged it.
type checkPage struct {
	SHA256   string
	Searched bool
	Results  []shownResult
	Error    string
}

// check looks a document's SHA-256 up in every log. The form's file input
// works with JavaScript (check.js hashes the file in the browser and asks
// the JSON API); the hash input works without.
func (p *Pages) check(w http.ResponseWriter, r *http.Request) {
	l := chooseLang(w, r)
	data := checkPage{SHA256: strings.TrimSpace(r.URL.Query().Get("sha256"))}
	if data.SHA256 == "" {
		p.render(w, r, l, http.StatusOK, "check", "check", l.t("check.title"), data, checkScriptKeys...)
		return
	}
	data.Searched = true
	if !hexHash.MatchString(data.SHA256) {
		data.Error = l.t("check.badhash")
		p.render(w, r, l, http.StatusBadRequest, "check", "check", l.t("check.title"), data, checkScriptKeys...)
		return
	}
	logs, ok := p.logs(w, r, l)
	if !ok {
		return
	}
	results, _, err := p.find(r.Context(), logs, searchForm{SHA256: data.SHA256})
	status := http.StatusOK
	var bad badForm
	if errors.As(err, &bad) {
		status, data.Error = http.StatusBadRequest, l.t("err.badrequest", bad.Error())
	} else if err != nil {
		var msg string
		status, msg = sourceErrorStatus(l, err)
		if status == http.StatusInternalServerError {
			p.opts.Logger.Error("portal: document check failed", "err", err)
		}
		data.Error = l.t("search.error", msg)
	}
	data.Results = p.shown(r.Context(), results)
	p.render(w, r, l, status, "check", "check", l.t("check.title"), data, checkScriptKeys...)
}
