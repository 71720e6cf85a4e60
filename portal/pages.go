package portal

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/govlog/govlog"
)

// ReservedNames are the first path segments below which the pages and the
// API serve. The read listener serves each log's tiles below /<log>/, so a
// log named after one of them would hide part of the portal.
func ReservedNames() []string { return []string{"api", "entries", "money", "proofs", "static"} }

// staticFiles are the portal's style sheet and scripts, served below
// /static/.
//
//go:embed static
var staticFiles embed.FS

//go:embed templates
var templateFiles embed.FS

// PagesOptions configures [NewPages].
type PagesOptions struct {
	// Source is what the pages show. Required.
	Source Source
	// Policy is the C2SP tlog-policy the node's logs publish their
	// checkpoints under: the browser verifies bundles against it, and the
	// status page lists its witnesses. Empty: the node has no witnesses,
	// and the pages say that proofs are checked offline only.
	Policy []byte
	// Monitors are the addresses of monitors known to follow these logs,
	// shown on the status page.
	Monitors []string
	// Logger gets the Source's failures (the reader sees only that the
	// node could not answer). Nil: slog.Default().
	Logger *slog.Logger
}

// Pages serves the portal's pages: server-rendered HTML that reads without
// JavaScript, in Chinese and English (see i18n.go), on a phone as well as
// a desk. JavaScript only adds what a server cannot do for the reader:
// verifying the proofs in the reader's own browser (static/verify.js) and
// hashing a document file that never leaves the reader's computer
// (static/check.js).
//
//	GET /                       home: search form, the logs and their tiles
//	GET /search                 results (one log, or the first page of each)
//	GET /entries/{log}/{index}  an entry, its relations and proof status
//	GET /proofs/{log}/{index}   its .tlog-proof bundle, to download
//	GET /check                  check a document by its SHA-256
//	GET /money/                 the funds views: forms for the two below
//	GET /money/account?id=      an account's ledger
//	GET /money/payment?ref=     a payment's path back to its allocation
//	GET /status                 the witness policy, checkpoints, monitors
//	GET /policy                 the witness policy file verify.js checks against
type Pages struct {
	opts   PagesOptions
	policy *govlog.Policy // nil without one
	pages  map[string]*template.Template
	mux    *http.ServeMux
	// agencies caches the registered agencies' names.
	agencies agencyNames
}

// NewPages returns the portal's pages over opts.Source, to mount at / of
// the read listener, beside the tiles below /<log>/ and the JSON API below
// /api/v1/.
func NewPages(opts PagesOptions) (*Pages, error) {
	if opts.Source == nil {
		return nil, errors.New("portal: no Source")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &Pages{opts: opts, pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	if len(opts.Policy) > 0 {
		policy, err := govlog.ParsePolicy(opts.Policy)
		if err != nil {
			return nil, fmt.Errorf("portal: %w", err)
		}
		p.policy = policy
	}
	if err := p.parseTemplates(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	p.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	p.mux.HandleFunc("GET /{$}", p.home)
	p.mux.HandleFunc("GET /search", p.search)
	p.mux.HandleFunc("GET /entries/{log}/{index}", p.entry)
	p.mux.HandleFunc("GET /proofs/{log}/{index}", p.proof)
	p.mux.HandleFunc("GET /check", p.check)
	p.mux.HandleFunc("GET /money/{$}", p.funds)
	p.mux.HandleFunc("GET /money/account", p.fundsAccount)
	p.mux.HandleFunc("GET /money/payment", p.fundsPayment)
	p.mux.HandleFunc("GET /status", p.status)
	p.mux.HandleFunc("GET /policy", p.policyFile)
	return p, nil
}

func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// Scripts and styles come from this node only; nothing is framed.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	p.mux.ServeHTTP(w, r)
}

// templateFuncs are the helpers templates share; t is replaced per request
// by the reader's language.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"t":     func(key string, args ...any) string { return "" },
		"time":  formatTime,
		"short": func(s string) string { return shorten(s, 16) },
		"add":   func(a, b int) int { return a + b },
		"query": func(kv ...string) template.URL {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] != "" {
					v.Set(kv[i], kv[i+1])
				}
			}
			return template.URL(v.Encode())
		},
	}
}

// parseTemplates parses each page with the layout and the parts pages
// share, once per page so that every page defines its own "content".
func (p *Pages) parseTemplates() error {
	pages, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return err
	}
	for _, page := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(page, "templates/"), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		tmpl, err := template.New("layout.html").Funcs(templateFuncs()).ParseFS(templateFiles, "templates/layout.html", "templates/parts.html", page)
		if err != nil {
			return fmt.Errorf("portal: template %s: %w", name, err)
		}
		p.pages[name] = tmpl
	}
	return nil
}

// page is what every page's template gets: the reader's language, the
// links of the language switch, and the page's own data.
type page struct {
	Lang     lang
	Title    string
	Nav      string // the nav entry to mark as current
	Switch   []langLink
	Messages map[string]string // the strings the page's scripts show
	Data     any
}

type langLink struct {
	Lang    lang
	Label   string
	URL     string
	Current bool
}

// langLinks are the switch's links: the same page, with ?lang= set.
func langLinks(r *http.Request, current lang) []langLink {
	var out []langLink
	for _, l := range langs {
		q := r.URL.Query()
		q.Set("lang", string(l))
		label := "English"
		if l == langChinese {
			label = "中文"
		}
		out = append(out, langLink{Lang: l, Label: label, URL: r.URL.Path + "?" + q.Encode(), Current: l == current})
	}
	return out
}

// render writes the page name, in the reader's language, with status.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, l lang, status int, name, nav, title string, data any, scriptKeys ...string) {
	tmpl, err := p.pages[name].Clone()
	if err != nil {
		p.fail(w, err)
		return
	}
	tmpl.Funcs(template.FuncMap{"t": l.t})
	pg := page{Lang: l, Title: title, Nav: nav, Switch: langLinks(r, l), Data: data}
	if len(scriptKeys) > 0 {
		pg.Messages = map[string]string{}
		for _, k := range scriptKeys {
			pg.Messages[k] = l.t(k)
		}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, pg); err != nil {
		p.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", string(l))
	w.Header().Add("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers 500 for a failure of the portal itself, logged.
func (p *Pages) fail(w http.ResponseWriter, err error) {
	p.opts.Logger.Error("portal page failed", "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// errorPage is the data of the error page.
type errorPage struct {
	Message string
}

// sourceError answers a Source's error with the page of its status: the
// request's own fault is shown to the reader, the node's is logged.
func (p *Pages) sourceError(w http.ResponseWriter, r *http.Request, l lang, err error) {
	status, msg := sourceErrorStatus(l, err)
	if status == http.StatusInternalServerError {
		p.opts.Logger.Error("portal: the source failed", "err", err, "path", r.URL.Path)
	} else {
		p.opts.Logger.Debug("portal: bad request", "err", err, "path", r.URL.Path)
	}
	p.render(w, r, l, status, "error", "", l.t("err.notfound"), errorPage{Message: msg})
}

// sourceErrorStatus is the HTTP status of a Source's error (the API's
// mapping) and what the reader reads of it: the request's own fault in
// full, the node's not at all.
func sourceErrorStatus(l lang, err error) (int, string) {
	code := status(err)
	switch code {
	case http.StatusNotFound:
		return code, l.t("err.notfound")
	case http.StatusBadRequest:
		return code, l.t("err.badrequest", err.Error())
	case http.StatusServiceUnavailable:
		return code, l.t("err.unavailable", err.Error())
	}
	return code, l.t("err.unavailable", "internal error")
}

// badRequest answers 400 for a parameter the page itself refused.
func (p *Pages) badRequest(w http.ResponseWriter, r *http.Request, l lang, why string) {
	p.render(w, r, l, http.StatusBadRequest, "error", "", l.t("err.badrequest", why), errorPage{Message: l.t("err.badrequest", why)})
}

// logs returns the source's logs, or answers the error.
func (p *Pages) logs(w http.ResponseWriter, r *http.Request, l lang) ([]LogInfo, bool) {
	logs, err := p.opts.Source.Logs(r.Context())
	if err != nil {
		p.sourceError(w, r, l, err)
		return nil, false
	}
	return logs, true
}

// logNamed finds a log by name.
func logNamed(logs []LogInfo, name string) (LogInfo, bool) {
	i := slices.IndexFunc(logs, func(l LogInfo) bool { return l.Name == name })
	if i < 0 {
		return LogInfo{}, false
	}
	return logs[i], true
}

// shorten cuts s to n characters, with an ellipsis, for long hashes in
// narrow columns (the full value stays in the title attribute).
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
