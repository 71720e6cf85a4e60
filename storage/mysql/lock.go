package mysql

import (
	"context"
	"database/sql"
	"fmt"
)

// Locked runs fn while holding the server's named lock name (GET_LOCK),
// waiting up to a minute for it: several processes starting at once on one
// database (elected serve processes) take turns at what must happen once,
// such as creating the schema or a log's Trillian tree.
func Locked(ctx context.Context, db *sql.DB, name string, fn func() error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("couldn't take the lock %s: %w", name, err)
	}
	defer conn.Close()
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 60)", name).Scan(&got); err != nil {
		return fmt.Errorf("couldn't take the lock %s: %w", name, err)
	}
	if !got.Valid || got.Int64 != 1 {
		return fmt.Errorf("couldn't take the lock %s within a minute: another process holds it", name)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DO RELEASE_LOCK(?)", name)
	return fn()
}
