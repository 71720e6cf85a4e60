package client_test

import (
	"bytes"
	"testing"

	"github.com/govlog/govlog/client"
	"github.com/govlog/govlog/personalities/rule/body"
)

func TestCommit(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, client.SaltSize)
	c, err := client.Commit("110101199003071234", salt)
	if err != nil {
		t.Fatal(err)
	}
	// A fixed vector (Python: hmac.new(bytes([7]*32), b"110101199003071234",
	// hashlib.sha256).hexdigest()), in the form the rules take.
	if c != "75449dd18b7776977f72832c115880aa9ce12397c6056545a2daf42b70bf54ca" || !body.ValidCommitment(c) {
		t.Fatalf("commitment %q, want 75449dd18b7776977f72832c115880aa9ce12397c6056545a2daf42b70bf54ca", c)
	}
	if !client.CheckCommitment(c, "110101199003071234", salt) {
		t.Error("the commitment does not check with its value and salt")
	}
	if client.CheckCommitment(c, "110101199003071235", salt) {
		t.Error("another value checks")
	}
	other, _ := client.NewSalt()
	if client.CheckCommitment(c, "110101199003071234", other) {
		t.Error("another salt checks")
	}
	c2, _ := client.Commit("110101199003071234", other)
	if c2 == c {
		t.Error("two salts, one commitment: two uses would link")
	}
	if _, err := client.Commit("x", salt[:16]); err == nil {
		t.Error("a 16-byte salt was taken")
	}
	if _, err := client.Commit("", salt); err == nil {
		t.Error("an empty value was committed to")
	}
}
