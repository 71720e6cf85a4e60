package monitor

import (
	"math"
	"testing"
)

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		minor int64
		want  string
	}{
		{0, "0.00 CNY"},
		{5, "0.05 CNY"},
		{99, "0.99 CNY"},
		{100, "1.00 CNY"},
		{123456, "1,234.56 CNY"},
		{99999999, "999,999.99 CNY"},
		{100000000, "1,000,000.00 CNY"},
		{-123456, "-1,234.56 CNY"},
		{math.MaxInt64, "92,233,720,368,547,758.07 CNY"},
		{math.MinInt64, "-92,233,720,368,547,758.08 CNY"},
	}
	for _, tt := range tests {
		if got := formatMoney(tt.minor); got != tt.want {
			t.Errorf("formatMoney(%d) = %q, want %q", tt.minor, got, tt.want)
		}
	}
}
