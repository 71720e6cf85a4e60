package answer

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/govlog/govlog/personalities/rule"
)

// CheckArgs refuses, for a Querier, a missing required argument, an empty
// one and any not listed ([rule.ErrInvalidQuery]).
func CheckArgs(args map[string]string, required string, optional ...string) error {
	if args[required] == "" {
		return fmt.Errorf("%w: argument %q is required", rule.ErrInvalidQuery, required)
	}
	for _, k := range slices.Sorted(maps.Keys(args)) {
		if k != required && !slices.Contains(optional, k) {
			return fmt.Errorf("%w: unknown argument %.64q (this query takes %s)", rule.ErrInvalidQuery, k, strings.Join(append([]string{required}, optional...), ", "))
		}
		if args[k] == "" {
			return fmt.Errorf("%w: argument %q is empty", rule.ErrInvalidQuery, k)
		}
	}
	return nil
}

// Page reads a page's "from" and "limit" arguments: from 1 and max by
// default; a limit above max is [rule.ErrQueryTooLarge], naming what a
// page holds ("hand-overs").
func Page(args map[string]string, max int64, noun string) (from, limit int64, err error) {
	from, limit = 1, max
	if s, ok := args["from"]; ok {
		if from, err = strconv.ParseInt(s, 10, 64); err != nil || from < 1 || from > 1<<62 {
			return 0, 0, fmt.Errorf("%w: from must be an integer from 1 to %d, not %.32q", rule.ErrInvalidQuery, int64(1<<62), s)
		}
	}
	if s, ok := args["limit"]; ok {
		if limit, err = strconv.ParseInt(s, 10, 64); err != nil || limit < 1 {
			return 0, 0, fmt.Errorf("%w: limit must be a positive integer, not %.32q", rule.ErrInvalidQuery, s)
		}
		if limit > max {
			return 0, 0, fmt.Errorf("%w: a page holds at most %d %s, not %d", rule.ErrQueryTooLarge, max, noun, limit)
		}
	}
	return from, limit, nil
}

// LeafHashes reads the leaf hashes a domain's state keeps in hex; one that
// does not read is corrupt state.
func LeafHashes(hexes []string) ([][32]byte, error) {
	out := make([][32]byte, 0, len(hexes))
	for _, s := range hexes {
		h, err := LeafHash(s)
		if err != nil {
			return nil, fmt.Errorf("corrupt state: %v", err)
		}
		out = append(out, h)
	}
	return out, nil
}
