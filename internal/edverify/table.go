package edverify

import (
	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// The arithmetic below is that of the twisted Edwards curve -x²+y² =
// 1+dx²y² in the coordinates of Hisil, Wong, Carter and Dawson, "Twisted
// Edwards curves revisited" (2008): a point is kept extended (X:Y:Z:T),
// with x = X/Z, y = Y/Z and xy = T/Z; a sum or a double comes out
// "completed" ((X:Z), (Y:T)); a table entry is affine, as (y+x, y-x, 2dxy).
// The formulas are complete on this curve (a = -1 is a square, d is not),
// so no input needs a special case, the identity included.

// d2 is 2d, d = -121665/121666.
var d2 = func() *field.Element {
	var num, den, d field.Element
	num.Mult32(new(field.Element).One(), 121665)
	num.Negate(&num)
	den.Mult32(new(field.Element).One(), 121666)
	d.Multiply(&num, den.Invert(&den))
	return d.Add(&d, &d)
}()

type extended struct{ X, Y, Z, T field.Element }

type completed struct{ X, Y, Z, T field.Element }

type affine struct{ yPlusX, yMinusX, xy2d field.Element }

func (p *extended) setIdentity() {
	p.X.Zero()
	p.Y.One()
	p.Z.One()
	p.T.Zero()
}

func (p *extended) fromCompleted(c *completed) {
	p.X.Multiply(&c.X, &c.T)
	p.Y.Multiply(&c.Y, &c.Z)
	p.Z.Multiply(&c.Z, &c.T)
	p.T.Multiply(&c.X, &c.Y)
}

// addAffine sets c = p + q, or p - q if neg.
func (c *completed) addAffine(p *extended, q *affine, neg bool) {
	var yPlusX, yMinusX, a, b, cc, dd field.Element
	yPlusX.Add(&p.Y, &p.X)
	yMinusX.Subtract(&p.Y, &p.X)
	// -(x, y) = (-x, y): y+x and y-x trade places and 2dxy changes sign.
	if neg {
		a.Multiply(&yPlusX, &q.yMinusX)
		b.Multiply(&yMinusX, &q.yPlusX)
	} else {
		a.Multiply(&yPlusX, &q.yPlusX)
		b.Multiply(&yMinusX, &q.yMinusX)
	}
	cc.Multiply(&q.xy2d, &p.T)
	dd.Add(&p.Z, &p.Z)
	c.X.Subtract(&a, &b)
	c.Y.Add(&a, &b)
	if neg {
		c.Z.Subtract(&dd, &cc)
		c.T.Add(&dd, &cc)
	} else {
		c.Z.Add(&dd, &cc)
		c.T.Subtract(&dd, &cc)
	}
}

// double sets c = 2p; p's T is not read. In the paper's names, with
// A = X², B = Y², C = 2Z²: E = (X+Y)² - A - B, G = B - A, H = -(A + B) and
// F = G - C, and 2p is (E:H) over (G:F) completed. c holds -H and -F
// instead, so fromCompleted negates every coordinate: the same point.
func (c *completed) double(p *extended) {
	var xx, yy, zz2, s field.Element
	xx.Square(&p.X)
	yy.Square(&p.Y)
	zz2.Square(&p.Z)
	zz2.Add(&zz2, &zz2)
	s.Add(&p.X, &p.Y)
	s.Square(&s)
	c.Y.Add(&yy, &xx)        // -H
	c.Z.Subtract(&yy, &xx)   // G
	c.X.Subtract(&s, &c.Y)   // E
	c.T.Subtract(&zz2, &c.Z) // -F
}

// encode writes p's encoding: y, with x's sign in the top bit.
func (p *extended) encode(out *[32]byte) {
	var zInv, x, y field.Element
	zInv.Invert(&p.Z)
	x.Multiply(&p.X, &zInv)
	y.Multiply(&p.Y, &zInv)
	copy(out[:], y.Bytes())
	out[31] |= byte(x.IsNegative() << 7)
}

// table holds, for each j < 32, the multiples 1..m of 256^j·P of a point
// P. With m = 8 (a key's table, 30 KiB), a scalar's signed radix-16
// digits are each a lookup and an addition, with four doublings in all for
// the odd digits; with m = 128 (the base point's, 480 KiB), its signed
// radix-256 digits are, with no doubling.
type table struct {
	m int
	e []affine // e[j*m+k] = (k+1)·256^j·P
}

func newTable(p *edwards25519.Point, m int) *table {
	pts := make([]edwards25519.Point, 32*m)
	base := new(edwards25519.Point).Set(p)
	for j := range 32 {
		row := pts[j*m : (j+1)*m]
		row[0].Set(base)
		for k := 1; k < m; k++ {
			row[k].Add(&row[k-1], base)
		}
		for range 8 {
			base.Double(base)
		}
	}
	// One inversion for all the Zs (Montgomery's trick).
	zs := make([]field.Element, len(pts))
	prefix := make([]field.Element, len(pts))
	for i := range pts {
		_, _, z, _ := pts[i].ExtendedCoordinates()
		zs[i].Set(z)
		if i == 0 {
			prefix[i].Set(z)
		} else {
			prefix[i].Multiply(&prefix[i-1], z)
		}
	}
	var inv field.Element
	inv.Invert(&prefix[len(prefix)-1])
	t := &table{m: m, e: make([]affine, len(pts))}
	for i := len(pts) - 1; i >= 0; i-- {
		var zInv, x, y field.Element
		if i > 0 {
			zInv.Multiply(&inv, &prefix[i-1])
			inv.Multiply(&inv, &zs[i])
		} else {
			zInv.Set(&inv)
		}
		X, Y, _, _ := pts[i].ExtendedCoordinates()
		x.Multiply(X, &zInv)
		y.Multiply(Y, &zInv)
		e := &t.e[i]
		e.yPlusX.Add(&y, &x)
		e.yMinusX.Subtract(&y, &x)
		e.xy2d.Multiply(&x, &y)
		e.xy2d.Multiply(&e.xy2d, d2)
	}
	return t
}

// radix16 returns the digits d[i] in [-8, 8] of the scalar whose canonical
// little-endian encoding is b: the scalar is Σ d[i]·16^i.
func radix16(b []byte) [64]int8 {
	var d [64]int8
	for i := range 32 {
		d[2*i] = int8(b[i] & 15)
		d[2*i+1] = int8(b[i] >> 4)
	}
	for i := range 63 {
		carry := (d[i] + 8) >> 4
		d[i] -= carry << 4
		d[i+1] += carry
	}
	return d
}

// radix256 returns the digits d[i] in [-128, 128] of the scalar whose
// canonical little-endian encoding is b: the scalar is Σ d[i]·256^i. A
// canonical scalar is below 2^253, so the last digit takes the last carry.
func radix256(b []byte) [32]int16 {
	var d [32]int16
	for i := range 32 {
		d[i] = int16(b[i])
	}
	for i := range 31 {
		carry := (d[i] + 128) >> 8
		d[i] -= carry << 8
		d[i+1] += carry
	}
	return d
}

// add adds digit·256^j·P to acc, for P the point of t.
func (t *table) add(acc *extended, j int, digit int) {
	if digit == 0 {
		return
	}
	var c completed
	if digit > 0 {
		c.addAffine(acc, &t.e[j*t.m+digit-1], false)
	} else {
		c.addAffine(acc, &t.e[j*t.m-digit-1], true)
	}
	acc.fromCompleted(&c)
}

// doubleBaseMult writes the encoding of [b]B - [a]A, for A the point of
// ta and B that of tb (m = 128), given a's and b's canonical encodings.
func doubleBaseMult(out *[32]byte, ta *table, a []byte, tb *table, b []byte) {
	var acc extended
	acc.setIdentity()
	if ta.m == 8 {
		// Σ a[i]·16^i = 16·Σ a[2j+1]·256^j + Σ a[2j]·256^j.
		a16 := radix16(a)
		for j := range 32 {
			ta.add(&acc, j, -int(a16[2*j+1]))
		}
		var c completed
		for range 4 {
			c.double(&acc)
			acc.fromCompleted(&c)
		}
		for j := range 32 {
			ta.add(&acc, j, -int(a16[2*j]))
		}
	} else {
		a256 := radix256(a)
		for j := range 32 {
			ta.add(&acc, j, -int(a256[j]))
		}
	}
	b256 := radix256(b)
	for j := range 32 {
		tb.add(&acc, j, int(b256[j]))
	}
	acc.encode(out)
}
