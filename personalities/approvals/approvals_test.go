package approvals_test

import (
	"testing"

	"github.com/govlog/govlog/personalities/approvals"
	"github.com/govlog/govlog/personalities/rule/ruletest"
)

func TestExamples(t *testing.T) {
	ruletest.CheckExamples(t, approvals.New())
}
