package body

import (
	"encoding/json"
)

// fastDecode is decode's quick path for the bodies admission and replay
// read all day: JSON with no white space, no escapes in strings and no
// repeated names, as RFC 8785 writes most bodies. It returns what decode
// returns for such data, and ok=false for anything else, which decode
// then reads token by token, for the same result or the same error.
// json.Decoder.Token takes most of the time of reading a body.
func fastDecode(data []byte) (v any, ok bool) {
	p := fastParser{data: data}
	v, ok = p.value(0)
	return v, ok && p.i == len(data)
}

type fastParser struct {
	data []byte
	i    int
}

func (p *fastParser) value(depth int) (any, bool) {
	if p.i >= len(p.data) {
		return nil, false
	}
	switch c := p.data[p.i]; {
	case c == '{':
		if depth >= MaxDepth {
			return nil, false
		}
		return p.object(depth)
	case c == '[':
		if depth >= MaxDepth {
			return nil, false
		}
		return p.array(depth)
	case c == '"':
		return p.string()
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, false
}

func (p *fastParser) object(depth int) (any, bool) {
	p.i++ // '{'
	obj := map[string]any{}
	if p.next('}') {
		return obj, true
	}
	for {
		name, ok := p.string()
		if !ok || !p.next(':') {
			return nil, false
		}
		if _, dup := obj[name]; dup {
			return nil, false
		}
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		obj[name] = v
		if p.next('}') {
			return obj, true
		}
		if !p.next(',') {
			return nil, false
		}
	}
}

func (p *fastParser) array(depth int) (any, bool) {
	p.i++ // '['
	arr := []any{}
	if p.next(']') {
		return arr, true
	}
	for {
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		arr = append(arr, v)
		if p.next(']') {
			return arr, true
		}
		if !p.next(',') {
			return nil, false
		}
	}
}

// string reads a string with no escape in it; decode has checked that the
// data is UTF-8.
func (p *fastParser) string() (string, bool) {
	if !p.next('"') {
		return "", false
	}
	start := p.i
	for ; p.i < len(p.data); p.i++ {
		switch c := p.data[p.i]; {
		case c == '"':
			s := string(p.data[start:p.i])
			p.i++
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// number reads a number as JSON spells it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *fastParser) number() (any, bool) {
	start := p.i
	p.next('-')
	switch {
	case p.next('0'):
	case p.i < len(p.data) && p.data[p.i] >= '1' && p.data[p.i] <= '9':
		p.digits()
	default:
		return nil, false
	}
	if p.next('.') && !p.digits() {
		return nil, false
	}
	if p.next('e') || p.next('E') {
		if !p.next('+') {
			p.next('-')
		}
		if !p.digits() {
			return nil, false
		}
	}
	return json.Number(p.data[start:p.i]), true
}

// digits reads one digit or more, and reports whether it read any.
func (p *fastParser) digits() bool {
	start := p.i
	for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

func (p *fastParser) literal(s string) bool {
	if len(p.data)-p.i < len(s) || string(p.data[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// next reads c if it comes next.
func (p *fastParser) next(c byte) bool {
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}
