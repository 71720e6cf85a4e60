//go:build race

package witness_test

// raceEnabled is set when the race detector slows crypto down tenfold, so
// exhaustive tests sweep less.
const raceEnabled = true
