package portal

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/govlog/govlog/personalities/registry"
)

// Agencies' names come from the registry log: each agency.register entry
// names one agency ({"agency": ID, "name": ...}). The pages find them
// through the search index by type, not by reading the log, and keep them
// for agencyNamesTTL, so a newly registered agency is named within it.
const (
	agencyNamesTTL = time.Minute
	// maxAgencyPages bounds the pages of agency.register entries read.
	maxAgencyPages = 50
)

// agencyNames caches the registered agencies' names by ID.
type agencyNames struct {
	mu    sync.Mutex
	names map[string]string
	read  time.Time
}

// agencyNames returns the registered agencies' names by ID; a registry
// the source cannot search names none, and the pages show IDs alone.
func (p *Pages) agencyNames(ctx context.Context) map[string]string {
	c := &p.agencies
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names != nil && time.Since(c.read) < agencyNamesTTL {
		return c.names
	}
	names := map[string]string{}
	q := Query{Log: registry.LogName, Type: registry.TypeAgencyRegister}
	for range maxAgencyPages {
		pg, err := p.opts.Source.Search(ctx, q)
		if err != nil {
			p.opts.Logger.Debug("portal: couldn't read the agencies' names", "err", err)
			break
		}
		for _, r := range pg.Results {
			var b struct{ Agency, Name string }
			if json.Unmarshal(r.Body, &b) == nil && b.Agency != "" && b.Name != "" {
				names[b.Agency] = b.Name
			}
		}
		if pg.Next == "" {
			break
		}
		q.Cursor = pg.Next
	}
	c.names, c.read = names, time.Now()
	return names
}
