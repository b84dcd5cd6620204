// Package rpmver orders RPM versions as rpm does (rpmvercmp on epoch, version and release).
package rpmver

// Compare returns -1, 0 or +1 as the EVR "[epoch:]version[-release]" a is lower than, equal
// to or higher than b, as rpm orders them.
func Compare(a, b string) int { panic("rpmver.Compare: not implemented yet") }
