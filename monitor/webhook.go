package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// webhookAttempts is how many times an alert is POSTed to a webhook before
// it is given up on (it stays in the store and on the dashboard).
const webhookAttempts = 4

// webhookTimeout bounds one POST to a webhook.
const webhookTimeout = 10 * time.Second

// webhooks deliver alerts to URLs in the background. A nil *webhooks
// delivers nothing.
type webhooks struct {
	urls   []string
	client *http.Client
	logger *slog.Logger
	// backoff is the wait before retry n (1-based).
	backoff func(n int) time.Duration
	wg      sync.WaitGroup
}

func newWebhooks(urls []string, client *http.Client, logger *slog.Logger) (*webhooks, error) {
	if len(urls) == 0 {
		return nil, nil
	}
	for _, u := range urls {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("monitor: webhook %q is not an http(s) URL", u)
		}
	}
	if client == nil {
		client = &http.Client{Timeout: webhookTimeout}
	}
	return &webhooks{urls: urls, client: client, logger: logger,
		backoff: func(n int) time.Duration { return time.Duration(1<<(2*(n-1))) * time.Second }}, nil
}

// send POSTs a to every URL in the background, never blocking the caller.
func (w *webhooks) send(a Alert) {
	if w == nil {
		return
	}
	body, err := json.Marshal(newAlertJSON(a))
	if err != nil {
		w.logger.Error("couldn't encode alert for webhooks", "alert_id", a.ID(), "err", err)
		return
	}
	for _, u := range w.urls {
		w.wg.Go(func() { w.deliver(u, a.ID(), body) })
	}
}

func (w *webhooks) deliver(u, id string, body []byte) {
	var err error
	for n := range webhookAttempts {
		if n > 0 {
			time.Sleep(w.backoff(n))
		}
		if err = w.post(u, body); err == nil {
			return
		}
		w.logger.Debug("webhook failed", "url", u, "alert_id", id, "attempt", n+1, "err", err)
	}
	w.logger.Warn("gave up on webhook", "url", u, "alert_id", id, "err", err)
}

func (w *webhooks) post(u string, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// WaitWebhooks waits until every webhook delivery started so far succeeded
// or was given up on, for a graceful shutdown.
func (m *Monitor) WaitWebhooks() {
	if m.hooks != nil {
		m.hooks.wg.Wait()
	}
}

// sendNotification POSTs n to every URL in the background, like an alert.
func (w *webhooks) sendNotification(n Notification) {
	if w == nil {
		return
	}
	body, err := json.Marshal(newNotificationJSON(n))
	if err != nil {
		w.logger.Error("couldn't encode notification for webhooks", "notification_id", n.ID(), "err", err)
		return
	}
	for _, u := range w.urls {
		w.wg.Go(func() { w.deliver(u, n.ID(), body) })
	}
}
