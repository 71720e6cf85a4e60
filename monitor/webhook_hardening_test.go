package monitor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// newHookMonitor returns a monitor that follows no log and POSTs to urls,
// with retries 1ms apart.
func newHookMonitor(t *testing.T, opts Options) *Monitor {
	t.Helper()
	store, err := OpenStore(context.Background(), Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	opts.Store = store
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	m.hooks.backoff = func(int) time.Duration { return time.Millisecond }
	return m
}

func testAlert(i uint64) Alert {
	return Alert{Kind: KindEntry, Log: "example.org/log", Index: &i, Message: "bad entry " + strconv.FormatUint(i, 10),
		Time: time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)}
}

// drops returns govlog_monitor_webhook_drops_total{reason} as reg serves
// it, or, if reg is nil, as m counts it.
func drops(t *testing.T, m *Monitor, reg prometheus.Gatherer, reason string) float64 {
	t.Helper()
	if reg == nil {
		r := prometheus.NewRegistry()
		r.MustRegister(m.hooks.drops)
		reg = r
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "govlog_monitor_webhook_drops_total" {
			continue
		}
		for _, c := range mf.GetMetric() {
			for _, l := range c.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return c.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no govlog_monitor_webhook_drops_total{reason=%q}", reason)
	return 0
}

// waitWebhooks is WaitWebhooks, failing t if it takes more than a minute.
func waitWebhooks(t *testing.T, m *Monitor) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		m.WaitWebhooks()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("WaitWebhooks did not return")
	}
}

// TestWebhookRedirectNotFollowed: a receiver that answers 307 to another
// server is a failed delivery, retried then given up on, and the other
// server gets nothing, with the default client or one the caller passes
// (which is left as it was).
func TestWebhookRedirectNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client *http.Client
	}{
		{"default client", nil},
		{"caller's client", &http.Client{Timeout: 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var elsewhere, redirects atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				elsewhere.Add(1)
			}))
			defer other.Close()
			hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				redirects.Add(1)
				http.Redirect(rw, r, other.URL+"/stolen", http.StatusTemporaryRedirect)
			}))
			defer hook.Close()
			reg := prometheus.NewRegistry()
			m := newHookMonitor(t, Options{Webhooks: []string{hook.URL}, WebhookClient: tc.client, Metrics: reg})
			m.hooks.send(testAlert(1))
			waitWebhooks(t, m)
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("the redirect target got %d requests, want none", n)
			}
			if n := redirects.Load(); n != webhookAttempts {
				t.Errorf("the receiver got %d requests, want %d (a redirect is a failed attempt)", n, webhookAttempts)
			}
			if got := drops(t, m, reg, "failed"); got != 1 {
				t.Errorf("failed deliveries = %v, want 1", got)
			}
			if got := drops(t, m, reg, "queue_full") + drops(t, m, reg, "shutdown"); got != 0 {
				t.Errorf("other drops = %v, want 0", got)
			}
			if tc.client != nil && tc.client.CheckRedirect != nil {
				t.Error("New changed the caller's WebhookClient")
			}
		})
	}
}

type signedPost struct {
	header http.Header
	body   []byte
}

func signedReceiver(t *testing.T) (*httptest.Server, chan signedPost) {
	got := make(chan signedPost, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		got <- signedPost{r.Header.Clone(), body}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func receive(t *testing.T, got chan signedPost) signedPost {
	t.Helper()
	select {
	case p := <-got:
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("webhook not called")
	}
	panic("unreachable")
}

// TestWebhookSignature: with a secret, each POST (alert or notification)
// carries Govlog-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>">, which verifies with the secret, by hand and with
// VerifyWebhookSignature, and not with another secret, another body or
// an old time; without a secret, there is no such header.
func TestWebhookSignature(t *testing.T) {
	secret := []byte("correct horse battery staple")
	srv, got := signedReceiver(t)
	m := newHookMonitor(t, Options{Webhooks: []string{srv.URL}, WebhookSecret: secret})
	m.hooks.send(testAlert(7))
	m.hooks.sendNotification(Notification{Watch: "w", Log: "example.org/log", Index: 3, Type: "publish", Entry: []byte("entry")})
	for _, want := range []string{`"index":7`, `"kind":"notification"`} {
		p := receive(t, got)
		now := time.Now()
		if !strings.Contains(string(p.body), want) {
			t.Errorf("body %s, want %s in it", p.body, want)
		}
		header := p.header.Get("Govlog-Signature")
		ts, sig, ok := strings.Cut(header, ",")
		tsVal, tsOK := strings.CutPrefix(ts, "t=")
		sigVal, sigOK := strings.CutPrefix(sig, "v1=")
		if !ok || !tsOK || !sigOK {
			t.Fatalf("Govlog-Signature: %q, want t=<unix seconds>,v1=<hex>", header)
		}
		unix, err := strconv.ParseInt(tsVal, 10, 64)
		if err != nil {
			t.Fatalf("t=%q: %v", tsVal, err)
		}
		if d := now.Sub(time.Unix(unix, 0)).Abs(); d > 5*time.Second {
			t.Errorf("t is %v from now", d)
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(tsVal + "." + string(p.body)))
		if want := hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(sigVal), []byte(want)) {
			t.Errorf("v1=%s, want %s", sigVal, want)
		}
		if err := VerifyWebhookSignature(secret, header, p.body, now, 5*time.Minute); err != nil {
			t.Errorf("VerifyWebhookSignature: %v", err)
		}
		if err := VerifyWebhookSignature(secret, header+",v1=00ff,v2=new", p.body, now, 5*time.Minute); err != nil {
			t.Errorf("VerifyWebhookSignature with other fields: %v", err)
		}
		for name, err := range map[string]error{
			"another secret": VerifyWebhookSignature([]byte("another secret"), header, p.body, now, 5*time.Minute),
			"another body":   VerifyWebhookSignature(secret, header, append(p.body, ' '), now, 5*time.Minute),
			"an hour later":  VerifyWebhookSignature(secret, header, p.body, now.Add(time.Hour), 5*time.Minute),
			"no v1":          VerifyWebhookSignature(secret, ts, p.body, now, 5*time.Minute),
			"no t":           VerifyWebhookSignature(secret, sig, p.body, now, 5*time.Minute),
		} {
			if err == nil {
				t.Errorf("VerifyWebhookSignature accepted %s", name)
			}
		}
	}
	waitWebhooks(t, m)

	srv2, got2 := signedReceiver(t)
	unsigned := newHookMonitor(t, Options{Webhooks: []string{srv2.URL}})
	unsigned.hooks.send(testAlert(8))
	if p := receive(t, got2); p.header.Get("Govlog-Signature") != "" {
		t.Errorf("POST without a secret carries Govlog-Signature: %q", p.header.Get("Govlog-Signature"))
	}
	waitWebhooks(t, unsigned)
}

// countingHandler counts the log records whose message starts with prefix.
type countingHandler struct {
	slog.Handler
	prefix string
	n      *atomic.Int32
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, h.prefix) {
		h.n.Add(1)
	}
	return nil
}

// TestWebhookStorm: 5,000 alerts to a receiver that does not answer use a
// bounded number of goroutines, the queue keeps WebhookQueueSize of them,
// the rest are dropped, counted, and logged once; once the receiver
// answers, the queue drains and the goroutines go.
func TestWebhookStorm(t *testing.T) {
	release := make(chan struct{})
	var received atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		received.Add(1)
	}))
	defer hook.Close()
	var warned atomic.Int32
	logger := slog.New(countingHandler{slog.DiscardHandler, "webhook queue full", &warned})
	m := newHookMonitor(t, Options{Webhooks: []string{hook.URL}, Logger: logger})

	before := runtime.NumGoroutine()
	const storm = 5000
	for i := range storm {
		m.hooks.send(testAlert(uint64(i)))
	}
	during := runtime.NumGoroutine()
	if during > before+20 {
		t.Errorf("%d goroutines during the storm, %d before", during, before)
	}
	if got, want := drops(t, m, nil, "queue_full"), float64(storm-WebhookQueueSize); got != want {
		t.Errorf("dropped %v, want %v", got, want)
	}
	if n := warned.Load(); n != 1 {
		t.Errorf("logged the full queue %d times, want once", n)
	}

	close(release)
	waitWebhooks(t, m)
	if n := received.Load(); n != WebhookQueueSize {
		t.Errorf("receiver got %d alerts, want %d", n, WebhookQueueSize)
	}
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before+5 {
		t.Errorf("%d goroutines after the storm, %d before", after, before)
	}
}

// TestWebhookAlertBeforeNotification: when the queue is full, a new alert
// takes the place of the newest notification queued.
func TestWebhookAlertBeforeNotification(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var ids []string
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		<-release
		var v struct{ ID string }
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			t.Error(err)
		}
		mu.Lock()
		ids = append(ids, v.ID)
		mu.Unlock()
	}))
	defer hook.Close()
	m := newHookMonitor(t, Options{Webhooks: []string{hook.URL}})
	m.hooks.size = 3
	var notes []Notification
	for i := range 4 {
		n := Notification{Watch: "w", Log: "example.org/log", Index: uint64(i), Type: "publish"}
		notes = append(notes, n)
		m.hooks.sendNotification(n)
	}
	a := testAlert(1)
	m.hooks.send(a)
	close(release)
	waitWebhooks(t, m)
	want := []string{notes[0].ID(), notes[1].ID(), a.ID()}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("delivered %q, want %q (notifications 0, 1 and the alert)", ids, want)
	}
	if got := drops(t, m, nil, "queue_full"); got != 2 {
		t.Errorf("dropped %v, want 2", got)
	}
}

// TestWebhookStopsWithRun: when Run's context ends, the deliveries queued
// are dropped (counted as shutdown), the one being POSTed completes, and
// WaitWebhooks returns.
func TestWebhookStopsWithRun(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 100)
	var received atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		received.Add(1)
	}))
	defer hook.Close()
	m := newHookMonitor(t, Options{Webhooks: []string{hook.URL}, Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error)
	go func() { ran <- m.Run(ctx) }()
	for i := range 10 {
		m.hooks.send(testAlert(uint64(i)))
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("webhook not called")
	}
	cancel()
	select {
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	if got := drops(t, m, nil, "shutdown"); got != 9 {
		t.Errorf("dropped at shutdown %v, want 9", got)
	}
	close(release)
	waitWebhooks(t, m)
	if n := received.Load(); n != 1 {
		t.Errorf("receiver got %d alerts, want the one in flight", n)
	}
}
