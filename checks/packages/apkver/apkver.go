// Package apkver orders Alpine package versions as apk-tools does.
package apkver

// Compare returns -1, 0 or +1 as version a is lower than, equal to or higher than b, as
// apk's version comparison orders them.
func Compare(a, b string) int { panic("apkver.Compare: not implemented yet") }
