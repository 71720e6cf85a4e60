package monitor

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// WebhookQueueSize is how many deliveries may wait per webhook URL, the one
// being sent and those waiting for a retry included.
//
// Each new alert and notification is POSTed as JSON to every URL of
// Options.Webhooks. Per URL, one goroutine sends them one at a time from a
// queue of at most [WebhookQueueSize] deliveries; a pass only adds to the
// queue and never waits. A delivery that fails (an error, a timeout, or any
// status but 2xx, a redirect included) is retried after 1s, 4s and 16s
// (four attempts in all), then given up on. Redirects are never followed:
// a 3xx would otherwise re-POST the body to a host the receiver names.
//
// When a queue is full, the newest delivery is dropped, except that a new
// alert takes the place of the newest notification queued, if any. The
// first alerts of a storm are the ones that name its cause (the first
// refused checkpoint, the first bad entry), the rest are usually its
// consequences, and every alert stays in the Store, on the dashboard and at
// GET /alerts anyway; dropping the oldest instead would let a storm push
// out the deliveries still being retried. Drops are counted in
// govlog_monitor_webhook_drops_total (reason "queue_full"; "failed" counts
// deliveries given up on after the last attempt, "shutdown" those still
// queued when Run returns) and logged at Warn once per burst. When Run
// returns, the deliveries still queued are dropped; [Monitor.WaitWebhooks]
// waits for the POSTs being made.
const WebhookQueueSize = 1000

// webhookAttempts is how many times an alert is POSTed to a webhook before
// it is given up on (it stays in the store and on the dashboard).
const webhookAttempts = 4

// WebhookTimeout bounds one POST to a webhook (and is the timeout of the
// default WebhookClient).
const WebhookTimeout = 10 * time.Second

// WebhookSignatureHeader is the header that signs each webhook POST when
// Options.WebhookSecret is set (without a secret, POSTs carry no such
// header). Its value is
//
//	t=<unix seconds>,v1=<hex HMAC-SHA256>
//
// where t is when the POST was made (each attempt is signed anew) and v1
// is the lowercase hex HMAC-SHA256, keyed with the secret, of the decimal
// t, a full stop, and the request body exactly as received:
//
//	v1 = hex(HMAC-SHA256(secret, t + "." + body))
//
// A receiver recomputes v1 over the raw body before parsing it, compares
// it with the header's in constant time (hmac.Equal), and refuses a t
// more than a few minutes from its own clock, so that a POST recorded by
// someone in the way cannot be replayed later. Within that window a
// replay repeats a delivery, which a receiver already gets from retries:
// deduplicate on the body's "id". A value may hold several v1 fields and
// fields other than t and v1 (a later scheme, a second secret during a
// rotation); a receiver ignores the fields it does not know and accepts
// the POST if any v1 matches. [VerifyWebhookSignature] implements this.
const WebhookSignatureHeader = "Govlog-Signature"

// signWebhook returns the WebhookSignatureHeader value of body at t.
func signWebhook(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(webhookMAC(secret, ts, body))
}

func webhookMAC(secret []byte, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifyWebhookSignature checks header, the [WebhookSignatureHeader] of a
// webhook POST whose body is body, against secret: some v1 field must be
// the HMAC of its t and body, and t must be within tolerance of now.
func VerifyWebhookSignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for field := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return fmt.Errorf("monitor: malformed %s field %q", WebhookSignatureHeader, field)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("monitor: %s has two timestamps", WebhookSignatureHeader)
			}
			ts = v
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("monitor: %s has no valid timestamp", WebhookSignatureHeader)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("monitor: %s has no v1 signature", WebhookSignatureHeader)
	}
	want := webhookMAC(secret, ts, body)
	if !slices.ContainsFunc(sigs, func(sig []byte) bool { return hmac.Equal(sig, want) }) {
		return errors.New("monitor: webhook signature does not match")
	}
	if d := now.Sub(time.Unix(t, 0)).Abs(); d > tolerance {
		return fmt.Errorf("monitor: webhook signed %s away from now, more than %s", d.Truncate(time.Second), tolerance)
	}
	return nil
}

// noRedirect is the webhook client's CheckRedirect: the client returns the
// 3xx response itself, a failed delivery.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// webhooks deliver alerts and notifications to URLs in the background. A
// nil *webhooks delivers nothing.
type webhooks struct {
	client *http.Client
	secret []byte
	logger *slog.Logger
	// backoff is the wait before retry n (1-based).
	backoff func(n int) time.Duration
	// size is the capacity of each queue: WebhookQueueSize.
	size  int
	drops *prometheus.CounterVec

	mu     sync.Mutex
	queues []*hookQueue
	// ctx is the senders' context; stop cancels it and makes a new one.
	ctx    context.Context
	cancel context.CancelFunc
	// active is the number of sender goroutines; idle is signalled when
	// one exits.
	active int
	idle   *sync.Cond
}

// hookQueue holds the deliveries to one URL. Its fields are guarded by
// webhooks.mu.
type hookQueue struct {
	url string
	// logURL is url without its path and query, which often hold a
	// token, for the logs.
	logURL  string
	pending []*delivery
	// running says a sender goroutine serves the queue; wake tells it a
	// delivery was added.
	running bool
	wake    chan struct{}
	// dropping says the queue is in a burst of drops, of burst so far; it
	// ends when the queue is found less than half full.
	dropping bool
	burst    int
}

// delivery is one alert or notification to POST to one URL.
type delivery struct {
	id   string
	body []byte
	// alert says it is an alert, which takes the place of a notification
	// when the queue is full.
	alert bool
	// attempts is how many POSTs failed; due is when to make the next.
	attempts int
	due      time.Time
	// inflight says the sender is POSTing it.
	inflight bool
}

func newWebhooks(opts Options, logger *slog.Logger) (*webhooks, error) {
	if len(opts.Webhooks) == 0 {
		return nil, nil
	}
	w := &webhooks{
		secret:  bytes.Clone(opts.WebhookSecret),
		logger:  logger,
		backoff: func(n int) time.Duration { return time.Duration(1<<(2*(n-1))) * time.Second },
		size:    WebhookQueueSize,
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govlog_monitor_webhook_drops_total",
			Help: "Webhook deliveries dropped: queue_full (the URL's queue was full), failed (given up after the last attempt), shutdown (still queued when the monitor stopped).",
		}, []string{"reason"}),
	}
	for _, u := range opts.Webhooks {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("monitor: webhook %q is not an http(s) URL", u)
		}
		logURL := p.Scheme + "://" + p.Host
		if p.Path != "" || p.RawQuery != "" {
			logURL += "/…"
		}
		w.queues = append(w.queues, &hookQueue{url: u, logURL: logURL})
	}
	if opts.WebhookClient != nil {
		c := *opts.WebhookClient
		c.CheckRedirect = noRedirect
		w.client = &c
	} else {
		w.client = &http.Client{Timeout: WebhookTimeout, CheckRedirect: noRedirect}
	}
	for _, r := range []string{"queue_full", "failed", "shutdown"} {
		w.drops.WithLabelValues(r)
	}
	if opts.Metrics != nil {
		if err := opts.Metrics.Register(w.drops); err != nil {
			// Another Monitor on the same registry: count in its counter.
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return nil, fmt.Errorf("monitor: couldn't register metrics: %w", err)
			}
			existing, ok := already.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, fmt.Errorf("monitor: couldn't register metrics: %w", err)
			}
			w.drops = existing
		}
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.idle = sync.NewCond(&w.mu)
	return w, nil
}

// send queues a for every URL, never blocking the caller.
func (w *webhooks) send(a Alert) {
	if w == nil {
		return
	}
	body, err := json.Marshal(newAlertJSON(a))
	if err != nil {
		w.logger.Error("couldn't encode alert for webhooks", "alert_id", a.ID(), "err", err)
		return
	}
	w.enqueue(a.ID(), body, true)
}

// sendNotification queues n for every URL, like an alert.
func (w *webhooks) sendNotification(n Notification) {
	if w == nil {
		return
	}
	body, err := json.Marshal(newNotificationJSON(n))
	if err != nil {
		w.logger.Error("couldn't encode notification for webhooks", "notification_id", n.ID(), "err", err)
		return
	}
	w.enqueue(n.ID(), body, false)
}

func (w *webhooks) enqueue(id string, body []byte, alert bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	for _, q := range w.queues {
		d := &delivery{id: id, body: body, alert: alert, due: now}
		if len(q.pending) >= w.size {
			// Full: drop the newest, but an alert before a notification.
			dropped := d
			if alert {
				for i, p := range slices.Backward(q.pending) {
					if !p.alert && !p.inflight {
						dropped = p
						q.pending = slices.Delete(q.pending, i, i+1)
						break
					}
				}
			}
			w.drops.WithLabelValues("queue_full").Inc()
			if !q.dropping {
				q.dropping, q.burst = true, 0
				w.logger.Warn("webhook queue full: dropping deliveries until it drains (they stay in the store and at GET /alerts, /notifications)",
					"url", q.logURL, "queue", w.size, "dropped_id", dropped.id)
			}
			q.burst++
			if dropped == d {
				continue
			}
		} else if q.dropping && len(q.pending) < w.size/2 {
			w.logger.Info("webhook queue draining: no longer dropping", "url", q.logURL, "dropped", q.burst)
			q.dropping = false
		}
		q.pending = append(q.pending, d)
		if q.running {
			select {
			case q.wake <- struct{}{}:
			default:
			}
			continue
		}
		q.running = true
		q.wake = make(chan struct{}, 1)
		w.active++
		go w.sender(w.ctx, q, q.wake)
	}
}

// sender POSTs q's deliveries until q is empty or ctx is done.
func (w *webhooks) sender(ctx context.Context, q *hookQueue, wake <-chan struct{}) {
	defer func() {
		w.mu.Lock()
		w.active--
		w.idle.Broadcast()
		w.mu.Unlock()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		w.mu.Lock()
		if ctx.Err() != nil {
			w.mu.Unlock()
			return
		}
		d, wait := q.next(time.Now())
		if d == nil && wait < 0 {
			q.running = false
			w.mu.Unlock()
			return
		}
		if d != nil {
			d.inflight = true
		}
		w.mu.Unlock()
		if d == nil {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-timer.C:
			}
			continue
		}
		err := w.post(q.url, d.body)
		w.mu.Lock()
		w.finish(ctx, q, d, err)
		w.mu.Unlock()
	}
}

// next returns q's delivery due first if it is due, or else how long until
// it is (negative if q has none).
func (q *hookQueue) next(now time.Time) (*delivery, time.Duration) {
	var first *delivery
	for _, d := range q.pending {
		if !d.inflight && (first == nil || d.due.Before(first.due)) {
			first = d
		}
	}
	switch {
	case first == nil:
		return nil, -1
	case first.due.After(now):
		return nil, first.due.Sub(now)
	}
	return first, 0
}

// finish records the outcome of POSTing d, with w.mu held.
func (w *webhooks) finish(ctx context.Context, q *hookQueue, d *delivery, err error) {
	d.inflight = false
	d.attempts++
	switch {
	case err == nil:
		w.logger.Debug("webhook delivered", "url", q.logURL, "id", d.id, "attempt", d.attempts)
	case ctx.Err() != nil:
		w.drops.WithLabelValues("shutdown").Inc()
		w.logger.Warn("webhook failed while stopping: not retried", "url", q.logURL, "id", d.id, "err", err)
	case d.attempts >= webhookAttempts:
		w.drops.WithLabelValues("failed").Inc()
		w.logger.Warn("gave up on webhook", "url", q.logURL, "id", d.id, "attempts", d.attempts, "err", err)
	default:
		w.logger.Debug("webhook failed", "url", q.logURL, "id", d.id, "attempt", d.attempts, "err", err)
		d.due = time.Now().Add(w.backoff(d.attempts))
		return
	}
	if i := slices.Index(q.pending, d); i >= 0 {
		q.pending = slices.Delete(q.pending, i, i+1)
	}
}

func (w *webhooks) post(u string, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if len(w.secret) > 0 {
		req.Header.Set(WebhookSignatureHeader, signWebhook(w.secret, body, time.Now()))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 3:
		return fmt.Errorf("status %s: redirects are not followed", resp.Status)
	case resp.StatusCode/100 != 2:
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// stop drops every delivery queued and stops the senders once the POST
// each is making is done; Run calls it when its context ends. Deliveries
// queued later start new senders.
func (w *webhooks) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancel()
	w.ctx, w.cancel = context.WithCancel(context.Background())
	dropped := 0
	for _, q := range w.queues {
		n := len(q.pending)
		q.pending = slices.DeleteFunc(q.pending, func(d *delivery) bool { return !d.inflight })
		dropped += n - len(q.pending)
		q.running, q.dropping = false, false
	}
	if dropped > 0 {
		w.drops.WithLabelValues("shutdown").Add(float64(dropped))
		w.logger.Warn("monitor stopping: webhook deliveries dropped", "dropped", dropped)
	}
}

// WaitWebhooks waits until every webhook delivery queued so far succeeded
// or was given up on, or, once Run has returned, until the POSTs being made
// when it returned are done: for a graceful shutdown.
func (m *Monitor) WaitWebhooks() {
	w := m.hooks
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.active > 0 {
		w.idle.Wait()
	}
}
