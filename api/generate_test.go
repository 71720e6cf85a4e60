package api

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates the code from govlog.proto and fails
// if it differs from what is committed. CI installs protoc; elsewhere the
// test skips without it unless GOVLOG_REQUIRE_PROTOC is set.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		if os.Getenv("GOVLOG_REQUIRE_PROTOC") != "" {
			t.Fatalf("protoc is required (GOVLOG_REQUIRE_PROTOC is set): %v", err)
		}
		t.Skip("protoc not installed (apt-get install protobuf-compiler)")
	}
	out := t.TempDir()
	cmd := exec.Command("sh", "./generate.sh", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, b)
	}
	for _, name := range []string{"govlog.pb.go", "govlog_grpc.pb.go"} {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `make generate` and commit the result", name)
		}
	}
}
