package monitor

import (
	"context"
	_ "embed"
	"fmt"
	"time"
)

//go:embed schema_watches.sql
var schemaWatches string

// SQL of notifications, beside schema_watches.sql.
const (
	insertNotificationSQL  = "INSERT INTO monitor_notifications (watch, log, idx, type, agency, entry, bundle, found_nanos) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (watch, log, idx) DO NOTHING"
	selectNotificationsSQL = "SELECT watch, log, idx, type, agency, entry, bundle, found_nanos FROM monitor_notifications ORDER BY found_nanos, log, idx, watch"
	newestNotificationsSQL = "SELECT watch, log, idx, type, agency, entry, bundle, found_nanos FROM monitor_notifications ORDER BY found_nanos DESC, log DESC, idx DESC, watch DESC LIMIT ? OFFSET ?"
	countNotificationsSQL  = "SELECT COUNT(*) FROM monitor_notifications"
)

// Notifications returns every notification recorded, oldest first.
func (s *Store) Notifications(ctx context.Context) ([]Notification, error) {
	return s.queryNotifications(ctx, selectNotificationsSQL)
}

// NewestNotifications returns at most limit notifications, newest first,
// skipping the offset newest.
func (s *Store) NewestNotifications(ctx context.Context, offset, limit int) ([]Notification, error) {
	return s.queryNotifications(ctx, newestNotificationsSQL, limit, offset)
}

// NotificationCount returns how many notifications are recorded.
func (s *Store) NotificationCount(ctx context.Context) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, countNotificationsSQL).Scan(&n)
	return n, err
}

func (s *Store) queryNotifications(ctx context.Context, query string, args ...any) ([]Notification, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("couldn't read notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var idx, nanos int64
		if err := rows.Scan(&n.Watch, &n.Log, &idx, &n.Type, &n.Agency, &n.Entry, &n.Bundle, &nanos); err != nil {
			return nil, fmt.Errorf("couldn't read notifications: %w", err)
		}
		n.Index = uint64(idx)
		n.Time = time.Unix(0, nanos).UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// putNotification records n in the pass's transaction, reporting false if
// it was recorded before.
func (a *advance) putNotification(ctx context.Context, n Notification) (bool, error) {
	res, err := a.tx.ExecContext(ctx, insertNotificationSQL, n.Watch, n.Log, int64(n.Index), n.Type, n.Agency, n.Entry, n.Bundle, n.Time.UnixNano())
	if err != nil {
		return false, fmt.Errorf("couldn't record notification: %w", err)
	}
	k, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("couldn't record notification: %w", err)
	}
	return k == 1, nil
}

// newestNotifications returns a page of the stored notifications, newest
// first.
func (m *Monitor) newestNotifications(ctx context.Context, offset, limit int) ([]NotificationJSON, error) {
	ns, err := m.opts.Store.NewestNotifications(ctx, offset, limit)
	if err != nil {
		return nil, err
	}
	out := make([]NotificationJSON, 0, len(ns))
	for _, n := range ns {
		out = append(out, newNotificationJSON(n))
	}
	return out, nil
}
