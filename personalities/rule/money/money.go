// Package money writes amounts kept in minor units (fen, cents) for
// people, the one way every domain and the portal show them.
package money

import (
	"fmt"
	"strconv"
	"strings"
)

// Format writes minor units as the major unit with thousands separators
// and two decimals, then the currency: 123456 and "CNY" give
// "1,234.56 CNY".
func Format(minor int64, currency string) string {
	sign, u := "", uint64(minor)
	if minor < 0 {
		sign, u = "-", -u
	}
	digits := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	fmt.Fprintf(&b, ".%02d %s", u%100, currency)
	return b.String()
}
