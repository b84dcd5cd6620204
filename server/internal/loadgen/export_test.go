package loadgen

// SplitEven exposes splitEven to the external tests.
func SplitEven(n, k int) []int { return splitEven(n, k) }
