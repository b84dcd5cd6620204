package report

// Exported for the external tests: the host enums are part of the payload grammar.
var (
	KnownOS      = knownOS
	KnownArch    = knownArch
	KnownDistros = knownDistros
)
