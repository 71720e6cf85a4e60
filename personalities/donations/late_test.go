package donations

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/govlog/govlog/personalities/rule"
)

func TestLate(t *testing.T) {
	l := qSummaryLog(t)
	handOn := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)  // the end of flood-2027's 2027-06-30
	h5Due := time.Date(2027, 3, 15, 15, 0, 0, 0, time.UTC) // h-5 at 15:00, 14 days
	h5 := rule.Late{Key: HandoverKey("h-5"), Due: h5Due, What: "the final recipient of hand-over h-5 (charity city-a) has not confirmed it"}
	flood := rule.Late{Key: CampaignKey("flood-2027"), Due: handOn, What: "campaign flood-2027 of charity city-a still holds donations after its hand-on date"}
	tests := []struct {
		name string
		at   time.Time
		want []rule.Late
	}{
		{"at the start", qT0, nil},
		{"a day before feedback is due", h5Due.Add(-24 * time.Hour), nil},
		{"when feedback is due", h5Due, nil},
		{"a second after", h5Due.Add(time.Second), []rule.Late{h5}},
		// small and empty are past their date too, but hold nothing.
		{"at the end of the hand-on date", handOn, []rule.Late{h5}},
		{"after it", handOn.Add(time.Minute), []rule.Late{flood, h5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.r.Late(context.Background(), l.st, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Late = %+v\nwant %+v", got, tt.want)
			}
		})
	}
	// The recipient confirms: h-5 is no longer late. The charity hands on
	// the rest, some to another agency that has not accepted it: in
	// transit, the campaign still holds it.
	l.feedback(h5Due.Add(time.Hour), "h-5", qCode3, InFull, 0)
	at := handOn.Add(time.Hour)
	l.by(qCharity, TypeHandover, handOn.Add(-2*time.Hour), qHandover("h-7", "flood-2027", qCNY, qR2, "last-code-0001", "d-1", 25000, "d-3", 40000))
	l.by(qCharity, TypeHandover, handOn.Add(-2*time.Hour), qHandover("h-8", "flood-2027", qCNY, qR2, "last-code-0002", "d-1", 10000))
	l.by(qCharity, TypeHandover, handOn.Add(-2*time.Hour), qHandover("h-9", "flood-2027", qKgOf, qR1, "last-code-0003", "d-2", 300))
	l.by(qPartner, TypeHandover, handOn.Add(-time.Hour), qHandover("h-10", "flood-2027", qKgOf, qR1, "last-code-0004", "d-2", 50))
	l.feedback(handOn.Add(-time.Hour), "h-7", "last-code-0001", InFull, 0)
	l.feedback(handOn.Add(-time.Hour), "h-8", "last-code-0002", InFull, 0)
	l.feedback(handOn.Add(-time.Hour), "h-9", "last-code-0003", InFull, 0)
	l.feedback(handOn.Add(-time.Hour), "h-10", "last-code-0004", InFull, 0)
	got, err := l.r.Late(context.Background(), l.st, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := []rule.Late{flood}; !slices.Equal(got, want) {
		t.Errorf("with h-6 in transit, Late = %+v\nwant %+v", got, want)
	}
	// partner-charity accepts h-6 and hands it on: nothing is late.
	l.by(qPartner, TypeAccept, at, map[string]any{"handover_id": "h-6"})
	l.by(qPartner, TypeHandover, at, qHandover("h-11", "flood-2027", qCNY, "admin", "", "d-1", 2500))
	l.by(qPartner, TypeHandover, at, qHandover("h-12", "flood-2027", qCNY, qR1, "last-code-0005", "d-1", 7500))
	l.feedback(at, "h-12", "last-code-0005", InFull, 0)
	if got, err := l.r.Late(context.Background(), l.st, at.Add(time.Hour)); err != nil || len(got) != 0 {
		t.Errorf("once all is handed on, Late = %+v, %v", got, err)
	}
}

func TestLateCorrupt(t *testing.T) {
	v := qView{State: map[string][]byte{FeedbackDueKey("c", "h"): []byte("tomorrow")}}
	if _, err := New().Late(context.Background(), v, qT0); err == nil {
		t.Error("Late of a corrupt due time: no error")
	}
}
