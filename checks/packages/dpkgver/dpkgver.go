// Package dpkgver orders Debian package versions exactly as dpkg does: epoch, upstream
// version and revision, with "~" sorting before everything, even the end of the string.
package dpkgver

// Compare returns -1, 0 or +1 as version a is lower than, equal to or higher than b, as
// `dpkg --compare-versions a lt|eq|gt b` would say.
func Compare(a, b string) int { panic("dpkgver.Compare: not implemented yet") }
