package portal

import (
	"encoding/hex"
	"errors"
	"net/http"

	"golang.org/x/mod/sumdb/note"

	"github.com/govlog/govlog"
)

// statusPage is the data of the status page: what the node knows of its
// witnesses and monitors.
type statusPage struct {
	Policy      string // the policy file; empty without one
	Witnesses   []govlog.PolicyWitness
	Checkpoints []checkpointStatus
	Monitors    []string
}

// checkpointStatus is a log's latest checkpoint as the node published it,
// checked here against the node's own policy.
type checkpointStatus struct {
	Log, Origin string
	Size        uint64
	Root        string
	Cosigned    []string // the policy's witnesses whose cosignatures count
	Problem     string   // why the checkpoint does not verify, if it doesn't
}

func (p *Pages) status(w http.ResponseWriter, r *http.Request) {
	l := chooseLang(w, r)
	logs, ok := p.logs(w, r, l)
	if !ok {
		return
	}
	data := statusPage{Policy: string(p.opts.Policy), Monitors: p.opts.Monitors}
	if p.policy != nil {
		data.Witnesses = p.policy.Witnesses()
	}
	for _, log := range logs {
		data.Checkpoints = append(data.Checkpoints, p.checkpointStatus(log))
	}
	p.render(w, r, l, http.StatusOK, "status", "status", l.t("status.title"), data)
}

func (p *Pages) checkpointStatus(log LogInfo) checkpointStatus {
	cs := checkpointStatus{Log: log.Name, Origin: log.Origin, Size: log.Size}
	if len(log.Checkpoint) == 0 {
		return cs
	}
	if p.policy == nil {
		// Without a policy the node has no witnesses: read the root
		// without checking a signature it has no key for.
		_, err := note.Open(log.Checkpoint, note.VerifierList())
		var un *note.UnverifiedNoteError
		if errors.As(err, &un) {
			if c, err := govlog.ParseCheckpoint([]byte(un.Note.Text)); err == nil {
				cs.Root = hex.EncodeToString(c.Hash[:])
			}
		}
		return cs
	}
	c, witnesses, err := p.policy.Verify(log.Checkpoint)
	if err != nil {
		cs.Problem = err.Error()
		return cs
	}
	cs.Root, cs.Cosigned = hex.EncodeToString(c.Hash[:]), witnesses
	return cs
}
