// Package record is the kit a domain keeps its state records with: each
// record a JSON value at a state key.
package record

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/govlog/govlog/personalities/rule"
)

// Get reads the record at key into v, ok=false if there is none. A value
// that does not decode is corrupt state, not the statement's fault.
func Get(ctx context.Context, st rule.Reader, key string, v any) (bool, error) {
	b, ok, err := st.Get(ctx, key)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("corrupt state at %s: %v", key, err)
	}
	return true, nil
}

// Put writes v as the record at key.
func Put(ctx context.Context, st rule.State, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("couldn't encode %s: %w", key, err)
	}
	return st.Put(ctx, key, b)
}
