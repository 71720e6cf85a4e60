// Package ruleset is "rules as data": the conditions an application must
// meet, written as a schema of typed fields and named CEL expressions
// (https://cel.dev) that must all hold, instead of as Go code. A domain that
// takes applications (approvals, permits, grants) publishes a rule set; the
// package compiles it with a bounded evaluation cost and evaluates it
// against each application's fields.
//
// # Rule sets
//
// A [Set] declares the application's fields, each a name and a
// [FieldType], and a list of [Rule]s, each a name, a boolean CEL
// expression over the fields and the message an applicant reads when the
// rule does not hold:
//
//	{"fields": [{"name": "founded", "type": "date"},
//	            {"name": "capital", "type": "int"}],
//	 "rules":  [{"name": "capital", "expr": "capital >= 25000",
//	             "message": "the share capital must be at least 25,000"},
//	            {"name": "founded", "expr": "founded <= submitted"}]}
//
// Every field is a CEL variable of the same name. One more variable is
// always there: submitted, the time of the application (a timestamp), so a
// rule can say "founded before the application" or "at least 18 years old"
// (birth + duration("157680h") <= submitted is 18 years of 365 days; the
// calendar way is birth.getFullYear() and its kin, which read dates in UTC).
//
// # Field types
//
//   - [String]: text, at most [MaxStringLen] bytes of valid UTF-8 without
//     control or bidirectional formatting characters; a CEL string.
//   - [Int]: a JSON integer of magnitude at most 2^53 (so every JSON reader
//     reads it exactly); a CEL int.
//   - [Bool]: true or false; a CEL bool.
//   - [Date]: "YYYY-MM-DD", a real calendar date from year 1 to 9999; a CEL
//     google.protobuf.Timestamp at 00:00 UTC of that day.
//   - [SHA256]: a document's hash, 64 lowercase hex digits; a CEL string.
//   - [Commitment]: a salted commitment to personal data (an HMAC-SHA256),
//     64 lowercase hex digits; a CEL string. Rules compare commitments; they
//     never see the data.
//
// # Bounded cost
//
// Admission must be bounded: an agency writes the rules, but anyone may
// apply, and a rule set must not let one application (or a flood of them)
// hold the admission server or the monitor for long. So [Compile] has
// cel-go's cost estimator work out every rule's worst-case cost, with every
// string field taken to be [MaxStringLen] long and every hash 64
// characters, and refuses a rule whose estimate exceeds [MaxCost] or a set
// whose estimates add up to more than [MaxTotalCost]. A cost unit is about
// one elementary CEL operation (cel-go calibrates it at roughly 50 ns), so
// one application costs at most some milliseconds whatever it holds.
// Evaluation also tracks the actual cost and stops a rule at four times
// [MaxCost], a second guard that the estimate makes unreachable: the margin
// is for cel-go's runtime tracker, which counts some operations a unit
// higher than its estimator, so that the guard never decides the fate of a
// rule that compiled.
//
// A few things CEL allows are refused because they would make the cost
// unbounded or the outcome depend on the machine: iterating over a map (Go
// maps have no order), time zone arguments (they read the host's time zone
// database), constructing protobuf messages, and regular expressions that
// are not literals or compile to more than [MaxRegexProgram] instructions.
// Only CEL's standard library is declared: no function reads the clock, the
// network or anything else outside the expression and its variables.
//
// # One code path, at admission and in replay
//
// The admission server and the monitor replaying the log years later run
// this same package: [Compile] decides the same way for the same rule set
// (for a given cel-go, pinned in go.mod) and [Program.Eval] gives the same
// [Result] for the same fields and submission time. Upgrading cel-go is
// therefore a change to the rules' meaning, to be made only after checking
// that every published rule set still compiles. The actual cost in
// [Result].Cost is a figure for dashboards and benchmarks; no decision
// depends on it.
package ruleset

import (
	"errors"
	"fmt"
	"math"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
)

// FieldType is the type of an application field.
type FieldType string

// The field types.
const (
	String     FieldType = "string"     // text, at most MaxStringLen bytes, valid UTF-8, no control chars
	Int        FieldType = "int"        // JSON integer, |v| <= 2^53
	Bool       FieldType = "bool"       // true or false
	Date       FieldType = "date"       // "YYYY-MM-DD", in CEL a google.protobuf.Timestamp at 00:00 UTC
	SHA256     FieldType = "sha256"     // a document hash: 64 lowercase hex; CEL string
	Commitment FieldType = "commitment" // salted commitment to personal data: 64 lowercase hex; CEL string
)

// Field is one field of an application: a CEL variable of its name.
type Field struct {
	Name string    `json:"name"`
	Type FieldType `json:"type"`
}

// Rule is one condition an application must meet.
type Rule struct {
	// Name is 1 to 64 of [a-z0-9-], unique in the set.
	Name string `json:"name"`
	// Expr is a CEL expression of type bool, at most MaxExprLen bytes.
	Expr string `json:"expr"`
	// Message is what the applicant must fix when the rule fails, at most
	// MaxMessageLen characters; it may be empty.
	Message string `json:"message,omitempty"`
}

// Set is a rule set: the application's fields and the rules that must all
// hold.
type Set struct {
	Fields []Field `json:"fields"`
	Rules  []Rule  `json:"rules"`
}

// Limits.
const (
	// MaxFields is the most fields a set declares (and an application has).
	MaxFields = 64
	// MaxRules is the most rules in a set.
	MaxRules = 64
	// MaxStringLen is the most bytes of a String field.
	MaxStringLen = 1024
	// MaxExprLen is the most bytes of a rule's expression.
	MaxExprLen = 2048
	// MaxMessageLen is the most characters (code points) of a rule's message.
	MaxMessageLen = 256
	// MaxRuleNameLen is the most bytes of a rule's name.
	MaxRuleNameLen = 64
	// MaxFieldNameLen is the most bytes of a field's name.
	MaxFieldNameLen = 64
	// MaxRegexProgram is the most instructions a regular expression in a
	// rule may compile to. The estimator counts a pattern by its length,
	// but matching costs by the compiled size (a{1000} is seven characters
	// and a thousand instructions), so the size is bounded on its own.
	// Real patterns (an IBAN, a postcode, a name) take 5 to 60.
	MaxRegexProgram = 256

	// MaxCost bounds the estimated worst-case cost of one rule, in cel-go's
	// cost units (about 50 ns each). It allows what rules normally do:
	// comparing two String fields of MaxStringLen (105), a literal regular
	// expression over one (about 400), date arithmetic (5), membership in a
	// list of constants, a comprehension over a short literal list; it
	// refuses a search of one String field for another (contains, about
	// 10,600), a field used as a pattern, or nested comprehensions that
	// multiply to more.
	MaxCost uint64 = 10000
	// MaxTotalCost bounds the sum of the rules' estimates: an application
	// costs at most this much, about 2 ms, whatever its fields hold.
	MaxTotalCost uint64 = 4 * MaxCost

	// runtimeCostLimit stops one rule's evaluation: a guard behind the
	// estimate, with a margin for the estimator's rounding (see the
	// package doc).
	runtimeCostLimit = 4 * MaxCost
)

// Submitted is the name of the CEL variable that holds the time of the
// application; no field may have it.
const Submitted = "submitted"

var (
	// ErrInvalid is wrapped by every error of Compile.
	ErrInvalid = errors.New("invalid rule set")
	// ErrBadFields is wrapped by every error of ParseValues.
	ErrBadFields = errors.New("invalid application fields")
)

// reserved are the names no field may have: CEL's reserved words, the
// names of its types (a field named int would change what type(x) == int
// means) and the application time.
var reserved = map[string]bool{
	// CEL reserved words.
	"true": true, "false": true, "null": true, "in": true, "as": true,
	"break": true, "const": true, "continue": true, "else": true,
	"for": true, "function": true, "if": true, "import": true, "let": true,
	"loop": true, "package": true, "namespace": true, "return": true,
	"var": true, "void": true, "while": true,
	// CEL type names.
	"bool": true, "bytes": true, "double": true, "duration": true,
	"dyn": true, "int": true, "list": true, "map": true, "null_type": true,
	"string": true, "timestamp": true, "type": true, "uint": true,
	// The application time.
	Submitted: true,
}

// Program is a compiled rule set. It is safe for concurrent use.
type Program struct {
	fields []Field
	index  map[string]int // field name to its position in fields
	rules  []compiled
}

// compiled is one compiled rule.
type compiled struct {
	name     string
	message  string
	prog     cel.Program
	reads    []int  // positions of the fields the rule reads, ascending
	estimate uint64 // the worst-case cost estimate
}

// Fields returns the schema, in the set's order.
func (p *Program) Fields() []Field { return slices.Clone(p.fields) }

// Compile checks and compiles s. Its errors wrap [ErrInvalid]; those about
// an expression name the rule and carry the CEL compiler's own message:
//
//	invalid rule set: rule "capital": ERROR: <input>:1:1: undeclared reference to 'capitl' ...
//
// It refuses a field name that is not an identifier of 1 to 64 of
// [a-z0-9_] starting with a letter, or is a CEL reserved word, a CEL type
// name or "submitted"; a repeated field; an unknown type; more than
// MaxFields fields; no rules or more than MaxRules; a rule name that is not
// 1 to 64 of [a-z0-9-] or is repeated; a message that is too long or holds
// control characters; an expression that is too long, does not parse, does
// not type-check (a misspelt field is an "undeclared reference"), is not of
// type bool, does something the package doc refuses, or whose worst-case
// cost is estimated above MaxCost; and a set whose estimates add up to more
// than MaxTotalCost.
//
// Compile is deterministic: the same set gives the same decision and
// message every time.
func Compile(s Set) (*Program, error) {
	p := &Program{fields: slices.Clone(s.Fields), index: map[string]int{}}
	if len(s.Fields) > MaxFields {
		return nil, invalidf("%d fields, more than %d", len(s.Fields), MaxFields)
	}
	opts := []cel.EnvOption{
		cel.ASTValidators(
			cel.ValidateDurationLiterals(),
			cel.ValidateTimestampLiterals(),
			cel.ValidateHomogeneousAggregateLiterals(),
			determinism{},
		),
	}
	sizes := map[string]checker.SizeEstimate{}
	for i, f := range s.Fields {
		if err := checkFieldName(f.Name); err != nil {
			return nil, err
		}
		if _, dup := p.index[f.Name]; dup {
			return nil, invalidf("field %q is declared twice", f.Name)
		}
		p.index[f.Name] = i
		var t *cel.Type
		switch f.Type {
		case String:
			t = cel.StringType
			sizes[f.Name] = checker.SizeEstimate{Min: 0, Max: MaxStringLen}
		case SHA256, Commitment:
			t = cel.StringType
			sizes[f.Name] = checker.FixedSizeEstimate(64)
		case Int:
			t = cel.IntType
		case Bool:
			t = cel.BoolType
		case Date:
			t = cel.TimestampType
		default:
			return nil, invalidf("field %q has the unknown type %q", f.Name, f.Type)
		}
		opts = append(opts, cel.Variable(f.Name, t))
	}
	opts = append(opts, cel.Variable(Submitted, cel.TimestampType))

	if len(s.Rules) == 0 {
		return nil, invalidf("no rules")
	}
	if len(s.Rules) > MaxRules {
		return nil, invalidf("%d rules, more than %d", len(s.Rules), MaxRules)
	}
	names := map[string]bool{}
	for _, r := range s.Rules {
		if err := checkRuleName(r.Name); err != nil {
			return nil, err
		}
		if names[r.Name] {
			return nil, invalidf("rule %q appears twice", r.Name)
		}
		names[r.Name] = true
		if err := checkMessage(r); err != nil {
			return nil, err
		}
		if len(r.Expr) > MaxExprLen {
			return nil, invalidf("rule %q: the expression is %d bytes long, more than %d", r.Name, len(r.Expr), MaxExprLen)
		}
		if !utf8.ValidString(r.Expr) {
			return nil, invalidf("rule %q: the expression is not valid UTF-8", r.Name)
		}
	}

	env, err := cel.NewEnv(opts...)
	if err != nil {
		// The declarations were checked above; this is not expected.
		return nil, invalidf("declaring the fields: %v", err)
	}
	est := estimator{sizes: sizes}
	var total uint64
	for _, r := range s.Rules {
		c, err := compileRule(env, est, r, p.index)
		if err != nil {
			return nil, err
		}
		total += c.estimate // at most MaxRules * MaxCost: no overflow
		p.rules = append(p.rules, c)
	}
	if total > MaxTotalCost {
		return nil, invalidf("the rules' estimated worst-case costs add up to %d, more than the bound %d", total, MaxTotalCost)
	}
	return p, nil
}

// compileRule compiles one rule whose name, message and length are checked.
func compileRule(env *cel.Env, est estimator, r Rule, index map[string]int) (c compiled, err error) {
	// cel-go recovers from panics in evaluation but not everywhere in the
	// compiler; a rule set is data from outside, so Compile must not
	// panic whatever the expression.
	defer func() {
		if x := recover(); x != nil {
			err = invalidf("rule %q: the CEL compiler failed: %v", r.Name, x)
		}
	}()
	a, iss := env.Compile(r.Expr)
	if err := iss.Err(); err != nil {
		return c, invalidf("rule %q: %v", r.Name, err)
	}
	if t := a.OutputType(); !t.IsExactType(cel.BoolType) {
		return c, invalidf("rule %q: the expression is of type %s, not bool", r.Name, t)
	}
	cost, err := env.EstimateCost(a, est)
	if err != nil {
		return c, invalidf("rule %q: estimating the cost: %v", r.Name, err)
	}
	if cost.Max == math.MaxUint64 {
		return c, invalidf("rule %q: the worst-case cost cannot be estimated (it grows with a value of unknown size), the bound is %d", r.Name, MaxCost)
	}
	if cost.Max > MaxCost {
		return c, invalidf("rule %q: the estimated worst-case cost %d exceeds the bound %d", r.Name, cost.Max, MaxCost)
	}
	prog, err := env.Program(a,
		cel.EvalOptions(cel.OptOptimize), // compiles constant regular expressions once
		cel.CostLimit(runtimeCostLimit),
	)
	if err != nil {
		return c, invalidf("rule %q: %v", r.Name, err)
	}
	reads := map[string]bool{}
	fieldReads(a.NativeRep().Expr(), index, nil, reads)
	c = compiled{name: r.Name, message: r.Message, prog: prog, estimate: cost.Max}
	for name := range reads {
		c.reads = append(c.reads, index[name])
	}
	slices.Sort(c.reads)
	return c, nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// checkFieldName checks a field name: [a-z][a-z0-9_]{0,63}, not reserved.
func checkFieldName(name string) error {
	ok := len(name) >= 1 && len(name) <= MaxFieldNameLen && 'a' <= name[0] && name[0] <= 'z'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_'
	}
	if !ok {
		return invalidf("field name %q is not 1 to %d of [a-z0-9_] starting with a letter", name, MaxFieldNameLen)
	}
	if reserved[name] {
		return invalidf("field name %q is reserved", name)
	}
	return nil
}

// checkRuleName checks a rule name: 1 to 64 of [a-z0-9-].
func checkRuleName(name string) error {
	ok := len(name) >= 1 && len(name) <= MaxRuleNameLen
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		return invalidf("rule name %q is not 1 to %d of [a-z0-9-]", name, MaxRuleNameLen)
	}
	return nil
}

// checkMessage checks a rule's message: text for people, at most
// MaxMessageLen characters.
func checkMessage(r Rule) error {
	if !utf8.ValidString(r.Message) {
		return invalidf("rule %q: the message is not valid UTF-8", r.Name)
	}
	if n := utf8.RuneCountInString(r.Message); n > MaxMessageLen {
		return invalidf("rule %q: the message is %d characters long, more than %d", r.Name, n, MaxMessageLen)
	}
	if c := badRune(r.Message); c >= 0 {
		return invalidf("rule %q: the message contains the character %U", r.Name, c)
	}
	return nil
}

// badRune returns the first control or bidirectional formatting character
// in s (which reorders text on screen: "Trojan Source"), or -1.
func badRune(s string) rune {
	for _, r := range s {
		if unicode.IsControl(r) || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 {
			return r
		}
	}
	return -1
}

// estimator gives cel-go's cost estimator the size of the fields it cannot
// know from the expression: String fields at most MaxStringLen, hashes and
// commitments 64. Anything else of unknown size (a string made by
// string(x)) stays unknown, so an operation whose cost grows with it is
// estimated as unbounded and refused.
type estimator struct {
	sizes map[string]checker.SizeEstimate
}

func (e estimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	// A field's path is its name alone; the estimator gives local
	// variables of comprehensions other paths ("@items"), even one that
	// shadows a field.
	if p := n.Path(); len(p) == 1 {
		if s, ok := e.sizes[p[0]]; ok {
			return &s
		}
	}
	return nil
}

func (estimator) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	return nil
}

// fieldReads adds to reads the fields that e reads, walking the checked
// expression and leaving out comprehension variables that shadow a field.
func fieldReads(e ast.Expr, index map[string]int, local []string, reads map[string]bool) {
	switch e.Kind() {
	case ast.IdentKind:
		name := e.AsIdent()
		if _, ok := index[name]; ok && !slices.Contains(local, name) {
			reads[name] = true
		}
	case ast.SelectKind:
		fieldReads(e.AsSelect().Operand(), index, local, reads)
	case ast.CallKind:
		call := e.AsCall()
		if call.IsMemberFunction() {
			fieldReads(call.Target(), index, local, reads)
		}
		for _, arg := range call.Args() {
			fieldReads(arg, index, local, reads)
		}
	case ast.ListKind:
		for _, el := range e.AsList().Elements() {
			fieldReads(el, index, local, reads)
		}
	case ast.MapKind:
		for _, ent := range e.AsMap().Entries() {
			m := ent.AsMapEntry()
			fieldReads(m.Key(), index, local, reads)
			fieldReads(m.Value(), index, local, reads)
		}
	case ast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			fieldReads(f.AsStructField().Value(), index, local, reads)
		}
	case ast.ComprehensionKind:
		comp := e.AsComprehension()
		fieldReads(comp.IterRange(), index, local, reads)
		fieldReads(comp.AccuInit(), index, local, reads)
		inner := append(slices.Clip(local), comp.AccuVar(), comp.IterVar())
		if comp.HasIterVar2() {
			inner = append(inner, comp.IterVar2())
		}
		fieldReads(comp.LoopCondition(), index, inner, reads)
		fieldReads(comp.LoopStep(), index, inner, reads)
		fieldReads(comp.Result(), index, append(slices.Clip(local), comp.AccuVar()), reads)
	}
}

// timeGetters are CEL's timestamp accessors; with an argument they read
// the time in a named time zone.
var timeGetters = map[string]bool{
	"getFullYear": true, "getMonth": true, "getDayOfYear": true,
	"getDayOfMonth": true, "getDate": true, "getDayOfWeek": true,
	"getHours": true, "getMinutes": true, "getSeconds": true,
	"getMilliseconds": true,
}

// determinism is the cel.ASTValidator for what the package refuses beyond
// CEL's own checks, so that evaluation is bounded and the same everywhere.
type determinism struct{}

func (determinism) Name() string { return "govlog.ruleset.determinism" }

func (determinism) Validate(_ *cel.Env, _ cel.ValidatorConfig, a *ast.AST, iss *cel.Issues) {
	var walk func(e ast.Expr)
	walk = func(e ast.Expr) {
		switch e.Kind() {
		case ast.SelectKind:
			walk(e.AsSelect().Operand())
		case ast.CallKind:
			call := e.AsCall()
			checkCall(e.ID(), call, iss)
			if call.IsMemberFunction() {
				walk(call.Target())
			}
			for _, arg := range call.Args() {
				walk(arg)
			}
		case ast.ListKind:
			for _, el := range e.AsList().Elements() {
				walk(el)
			}
		case ast.MapKind:
			for _, ent := range e.AsMap().Entries() {
				walk(ent.AsMapEntry().Key())
				walk(ent.AsMapEntry().Value())
			}
		case ast.StructKind:
			iss.ReportErrorAtID(e.ID(), "rules do not construct messages (%s)", e.AsStruct().TypeName())
		case ast.ComprehensionKind:
			comp := e.AsComprehension()
			if t := a.GetType(comp.IterRange().ID()); t.Kind() != types.ListKind {
				iss.ReportErrorAtID(e.ID(), "rules iterate over lists only, not over %s: the order of a map's keys is not fixed", t)
			}
			walk(comp.IterRange())
			walk(comp.AccuInit())
			walk(comp.LoopCondition())
			walk(comp.LoopStep())
			walk(comp.Result())
		}
	}
	walk(a.Expr())
}

// checkCall refuses time zone arguments and regular expressions that are
// not literals or are too large.
func checkCall(id int64, call ast.CallExpr, iss *cel.Issues) {
	fn, args := call.FunctionName(), call.Args()
	if timeGetters[fn] && call.IsMemberFunction() && len(args) == 1 {
		iss.ReportErrorAtID(id, "%s with a time zone: rules read dates and times in UTC only", fn)
		return
	}
	if fn != "matches" {
		return
	}
	var pattern ast.Expr
	switch {
	case call.IsMemberFunction() && len(args) == 1:
		pattern = args[0]
	case !call.IsMemberFunction() && len(args) == 2:
		pattern = args[1]
	default:
		return
	}
	var src types.String
	ok := false
	if pattern.Kind() == ast.LiteralKind {
		src, ok = pattern.AsLiteral().(types.String)
	}
	if !ok {
		iss.ReportErrorAtID(pattern.ID(), "the pattern of matches must be a string literal")
		return
	}
	re, err := syntax.Parse(string(src), syntax.Perl)
	if err != nil {
		iss.ReportErrorAtID(pattern.ID(), "invalid regular expression: %v", err)
		return
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		iss.ReportErrorAtID(pattern.ID(), "invalid regular expression: %v", err)
		return
	}
	if n := len(prog.Inst); n > MaxRegexProgram {
		iss.ReportErrorAtID(pattern.ID(), "the regular expression compiles to %d instructions, more than %d", n, MaxRegexProgram)
	}
}
