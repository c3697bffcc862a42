package sim

import "math"

// Hash-based noise: pure functions of (seed, key, t), so that any sampling
// order gives the same values and worlds need no stateful RNG at query time.

func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hashU01 is uniform in [0,1).
func hashU01(seed, key uint64, t int64) float64 {
	h := mix(seed ^ mix(key) ^ mix(uint64(t)*0x2545f4914f6cdd1d))
	return float64(h>>11) / (1 << 53)
}

// hashGauss is close to a standard normal: the centred, scaled sum of the
// hashU01 of keys key, key+step, key+2*step and key+3*step.
func hashGauss(seed, key, step uint64, t int64) float64 {
	v := 0.0
	for k := uint64(0); k < 4; k++ {
		v += hashU01(seed, key+k*step, t)
	}
	return (v - 2) * math.Sqrt(3)
}
