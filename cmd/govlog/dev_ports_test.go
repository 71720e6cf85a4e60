package main

import (
	"reflect"
	"strings"
	"testing"
)

// TestDevWitnessPorts: the witnesses' ports are fixed beside the default
// --listen, free with another, as given otherwise, and a bad list is an
// error naming the flag.
func TestDevWitnessPorts(t *testing.T) {
	for _, tt := range []struct {
		flag, listen string
		want         []int
		wantErr      string
	}{
		{listen: "127.0.0.1:7000", want: []int{7380, 7480, 7580}},
		{listen: "127.0.0.1:17000", want: []int{0, 0, 0}},
		{flag: "7381,7382,7383", listen: "127.0.0.1:7000", want: []int{7381, 7382, 7383}},
		{flag: "7381, 0,7383", listen: "127.0.0.1:17000", want: []int{7381, 0, 7383}},
		{flag: "7381,7382", listen: "127.0.0.1:7000", wantErr: `--witness-ports "7381,7382": want 3 ports`},
		{flag: "7381,7382,70000", listen: "127.0.0.1:7000", wantErr: `"70000" is not a port from 0 to 65535`},
		{flag: "7381,-1,7383", listen: "127.0.0.1:7000", wantErr: `"-1" is not a port`},
	} {
		got, err := devWitnessPorts(tt.flag, tt.listen)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("devWitnessPorts(%q, %q) = %v, %v; want error %q", tt.flag, tt.listen, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("devWitnessPorts(%q, %q) = %v, %v; want %v", tt.flag, tt.listen, got, err, tt.want)
		}
	}
}
