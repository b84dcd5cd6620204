package pkgdb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// lineReader streams a text database line by line with a total size cap (maxTextDB) and
// a line-length cap (maxLine).
type lineReader struct {
	name    string
	limited *io.LimitedReader
	r       *bufio.Reader
	long    []byte // assembles lines longer than the bufio buffer
	n       int    // number of the line last returned
}

func newLineReader(r io.Reader, name string) *lineReader {
	limited := &io.LimitedReader{R: r, N: maxTextDB + 1}
	return &lineReader{name: name, limited: limited, r: bufio.NewReaderSize(limited, 32<<10)}
}

// next returns the next line without its line ending; io.EOF after the last one. The slice
// is valid until the next call.
func (l *lineReader) next() ([]byte, error) {
	line, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.long = append(l.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = l.r.ReadSlice('\n')
			l.long = append(l.long, line...)
			if len(l.long) > maxLine {
				return nil, fmt.Errorf("parse %s line %d: line longer than %d bytes: %w", l.name, l.n+1, maxLine, checks.ErrParse)
			}
		}
		line = l.long
	}
	if l.limited.N <= 0 {
		return nil, fmt.Errorf("read %s: %w of %d bytes", l.name, host.ErrTooLarge, maxTextDB)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", l.name, err)
	}
	if len(line) == 0 && err != nil {
		return nil, io.EOF
	}
	l.n++
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// errorf builds a parse error naming the current line.
func (l *lineReader) errorf(format string, args ...any) error {
	return fmt.Errorf("parse %s line %d: %s: %w", l.name, l.n, fmt.Sprintf(format, args...), checks.ErrParse)
}

// errorfAt builds a parse error naming line n.
func (l *lineReader) errorfAt(n int, format string, args ...any) error {
	return fmt.Errorf("parse %s line %d: %s: %w", l.name, n, fmt.Sprintf(format, args...), checks.ErrParse)
}
