package portal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// perLogResults is how many results a search of every log shows of each.
const perLogResults = 20

// searchForm is the search form, as the reader filled it in.
type searchForm struct {
	Log, Agency, Type, ID, SHA256, From, To, Words, Cursor string
}

func readSearchForm(v url.Values) searchForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return searchForm{Log: g("log"), Agency: g("agency"), Type: g("type"), ID: g("id"), SHA256: g("sha256"),
		From: g("from"), To: g("to"), Words: g("q"), Cursor: g("cursor")}
}

// empty reports whether no criterion is given (the log alone is none).
func (f searchForm) empty() bool {
	return f.Agency == "" && f.Type == "" && f.ID == "" && f.SHA256 == "" && f.From == "" && f.To == "" && f.Words == ""
}

// Advanced reports whether a criterion of the folded part of the form is
// given, so that part opens.
func (f searchForm) Advanced() bool {
	return f.Agency != "" || f.Type != "" || f.ID != "" || f.SHA256 != "" || f.From != "" || f.To != ""
}

var hexHash = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// query turns the form into a Query of log, or says what is wrong.
func (f searchForm) query(log string) (Query, error) {
	q := Query{Log: log, Agency: f.Agency, Type: f.Type, ID: f.ID, SHA256: strings.ToLower(f.SHA256), Words: strings.Fields(f.Words), Cursor: f.Cursor}
	var err error
	if f.From != "" {
		if q.From, err = parseTime("from", f.From, false); err != nil {
			return Query{}, err
		}
	}
	if f.To != "" {
		if q.To, err = parseTime("to", f.To, true); err != nil {
			return Query{}, err
		}
	}
	return q, nil
}

// searchPage is the data of the home and search pages.
type searchPage struct {
	Logs     []LogInfo
	Form     searchForm
	Searched bool
	Results  []shownResult
	Next     string // the next page's URL, searching one log
	Error    string
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	l := chooseLang(w, r)
	logs, ok := p.logs(w, r, l)
	if !ok {
		return
	}
	p.render(w, r, l, http.StatusOK, "home", "search", l.t("site.name"), searchPage{Logs: logs, Form: readSearchForm(r.URL.Query())})
}

func (p *Pages) search(w http.ResponseWriter, r *http.Request) {
	l := chooseLang(w, r)
	logs, ok := p.logs(w, r, l)
	if !ok {
		return
	}
	form := readSearchForm(r.URL.Query())
	data := searchPage{Logs: logs, Form: form, Searched: true}
	if form.empty() {
		data.Error = l.t("search.needs")
		p.render(w, r, l, http.StatusBadRequest, "search", "search", l.t("search.results"), data)
		return
	}
	if form.SHA256 != "" && !hexHash.MatchString(form.SHA256) {
		data.Error = l.t("check.badhash")
		p.render(w, r, l, http.StatusBadRequest, "search", "search", l.t("search.results"), data)
		return
	}
	results, next, err := p.find(r.Context(), logs, form)
	var bad badForm
	switch {
	case errors.As(err, &bad):
		data.Error = l.t("err.badrequest", bad.Error())
		p.render(w, r, l, http.StatusBadRequest, "search", "search", l.t("search.results"), data)
		return
	case err != nil:
		status, msg := sourceErrorStatus(l, err)
		if status == http.StatusInternalServerError {
			p.opts.Logger.Error("portal: search failed", "err", err)
		}
		data.Error = l.t("search.error", msg)
		p.render(w, r, l, status, "search", "search", l.t("search.results"), data)
		return
	}
	data.Results = p.shown(r.Context(), results)
	if next != "" {
		q := r.URL.Query()
		q.Set("cursor", next)
		q.Del("lang")
		data.Next = "/search?" + q.Encode()
	}
	p.render(w, r, l, http.StatusOK, "search", "search", l.t("search.results"), data)
}

// badForm is a form the page refuses before asking the source.
type badForm struct{ error }

// find searches form.Log, or the first page of every log (newest first
// over all of them) when no log is chosen; it returns the cursor of the
// next page of a one-log search.
func (p *Pages) find(ctx context.Context, logs []LogInfo, form searchForm) ([]Result, string, error) {
	if form.Log != "" {
		q, err := form.query(form.Log)
		if err != nil {
			return nil, "", badForm{err}
		}
		pg, err := p.opts.Source.Search(ctx, q)
		if err != nil {
			return nil, "", err
		}
		return pg.Results, pg.Next, nil
	}
	var all []Result
	for _, log := range logs {
		q, err := form.query(log.Name)
		if err != nil {
			return nil, "", badForm{err}
		}
		q.Cursor, q.Limit = "", perLogResults
		pg, err := p.opts.Source.Search(ctx, q)
		if err != nil {
			return nil, "", fmt.Errorf("log %s: %w", log.Name, err)
		}
		all = append(all, pg.Results...)
	}
	slices.SortStableFunc(all, func(a, b Result) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.Index, a.Index)
	})
	return all, "", nil
}

// shownResult is a result as the pages list it: with its agency's name.
type shownResult struct {
	Result
	AgencyName string
}

func (p *Pages) shown(ctx context.Context, results []Result) []shownResult {
	if len(results) == 0 {
		return nil
	}
	names := p.agencyNames(ctx)
	out := make([]shownResult, len(results))
	for i, r := range results {
		out[i] = shownResult{Result: r, AgencyName: names[r.Agency]}
	}
	return out
}
