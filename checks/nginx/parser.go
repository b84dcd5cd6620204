package nginx

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/securecodehq/server-audit/checks"
	"github.com/securecodehq/server-audit/checks/host"
)

// Limits of the parser. nginx itself has none, but a hostile or broken tree must not make
// the agent loop or exhaust memory.
const (
	maxIncludeDepth = 16
	maxBlockDepth   = 64
	maxFiles        = 2000
	maxTotalBytes   = 64 << 20
	maxDirectives   = 500000
)

// Directive is one directive of the configuration tree: its name, its arguments (unquoted
// and unescaped as nginx does), where it was written and, for a block directive, the
// directives inside the block. Include directives are replaced by the content of the files
// they name, so the tree is the configuration as nginx evaluates it.
type Directive struct {
	Name string
	Args []string
	File string
	Line int
	// IsBlock is true for a directive followed by a block ("server {").
	IsBlock bool
	// Block holds the directives inside the block, in order.
	Block []*Directive
	// parent is the enclosing block; nil for the main context.
	parent *Directive
}

// Arg returns argument i, or "" when absent.
func (d *Directive) Arg(i int) string {
	if i < len(d.Args) {
		return d.Args[i]
	}
	return ""
}

// Parent returns the enclosing block, nil for the main context.
func (d *Directive) Parent() *Directive { return d.parent }

// Where is "file:line" for details.
func (d *Directive) Where() string { return fmt.Sprintf("%s:%d", d.File, d.Line) }

// All returns the directives named name directly inside the block.
func (d *Directive) All(name string) []*Directive {
	var out []*Directive
	for _, c := range d.Block {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// First returns the first directive named name directly inside the block, or nil.
func (d *Directive) First(name string) *Directive {
	for _, c := range d.Block {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Walk calls fn for every directive below d, depth first in file order.
func (d *Directive) Walk(fn func(*Directive)) {
	for _, c := range d.Block {
		fn(c)
		c.Walk(fn)
	}
}

// source is where the parser reads files from: the audited filesystem, or the files that
// `nginx -T` printed.
type source interface {
	// read returns a file's content.
	read(name string) ([]byte, error)
	// glob returns the files matching an include pattern, sorted as glob(3) sorts them.
	glob(pattern string) ([]string, error)
}

// fsSource reads the audited filesystem.
type fsSource struct{ fsys host.FS }

func (s fsSource) read(name string) ([]byte, error) { return host.ReadFile(s.fsys, name) }

func (s fsSource) glob(pattern string) ([]string, error) { return globFS(s.fsys, pattern) }

// parseResult is a parsed configuration: the main context and the files read, main file
// first, each once, in the order nginx opens them.
type parseResult struct {
	main  *Directive
	files []string
}

// parser builds the tree. Relative include paths are resolved against confPrefix (the
// directory of the main configuration file), as nginx does.
type parser struct {
	src        source
	confPrefix string
	files      []string
	seen       map[string]bool
	stack      []string
	bytes      int
	directives int
}

// parseConfig parses the main file (and, first, the directives given with -g on nginx's
// command line) into a tree.
func parseConfig(src source, mainFile, globals string) (*parseResult, error) {
	p := &parser{src: src, confPrefix: dirPrefix(mainFile), seen: map[string]bool{}}
	main := &Directive{IsBlock: true}
	if strings.TrimSpace(globals) != "" {
		if err := p.parseText(cmdlineFile, []byte(globals), main, 0); err != nil {
			return nil, err
		}
	}
	if err := p.parseFile(mainFile, main, 0); err != nil {
		return nil, err
	}
	return &parseResult{main: main, files: p.files}, nil
}

// cmdlineFile is the file name given to directives from nginx's -g option.
const cmdlineFile = "(command line -g)"

// dirPrefix is the directory of name with a trailing slash, as nginx keeps its prefixes.
func dirPrefix(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i+1]
	}
	return ""
}

// fullName resolves a relative path against a prefix the way ngx_conf_full_name does: by
// plain concatenation, without cleaning.
func fullName(prefix, name string) string {
	if strings.HasPrefix(name, "/") || prefix == "" {
		return name
	}
	return prefix + name
}

func (p *parser) parseFile(name string, parent *Directive, depth int) error {
	if slices.Contains(p.stack, name) {
		return fmt.Errorf("include %s: the file includes itself: %w", name, checks.ErrParse)
	}
	if len(p.stack) >= maxIncludeDepth {
		return fmt.Errorf("include %s: includes nested deeper than %d: %w", name, maxIncludeDepth, checks.ErrParse)
	}
	data, err := p.src.read(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return err // names the file already
		}
		return fmt.Errorf("read %s: %w", name, err)
	}
	if !p.seen[name] {
		if len(p.files) >= maxFiles {
			return fmt.Errorf("read %s: more than %d configuration files: %w", name, maxFiles, host.ErrTooLarge)
		}
		p.seen[name] = true
		p.files = append(p.files, name)
	}
	p.bytes += len(data)
	if p.bytes > maxTotalBytes {
		return fmt.Errorf("read %s: configuration larger than %d bytes: %w", name, maxTotalBytes, host.ErrTooLarge)
	}
	p.stack = append(p.stack, name)
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()
	return p.parseText(name, data, parent, depth)
}

// parseText parses one file's text into parent. Every file must be balanced: a block
// opened in a file is closed in the same file, as nginx requires.
func (p *parser) parseText(name string, data []byte, parent *Directive, depth int) error {
	lx := newLexer(name, data)
	return p.parseBlock(lx, parent, depth, false)
}

func (p *parser) parseBlock(lx *lexer, block *Directive, depth int, inBlock bool) error {
	for {
		st, err := lx.next()
		if err != nil {
			return err
		}
		switch st.kind {
		case stmtEOF:
			if inBlock {
				return lx.errorf(`unexpected end of file, expecting "}"`)
			}
			return nil
		case stmtEnd:
			if !inBlock {
				return lx.errorf(`unexpected "}"`)
			}
			return nil
		}
		p.directives++
		if p.directives > maxDirectives {
			return fmt.Errorf("%s: more than %d directives: %w", lx.name, maxDirectives, host.ErrTooLarge)
		}
		d := &Directive{Name: st.args[0], Args: st.args[1:], File: lx.name, Line: st.line, parent: block}
		if d.Name == "include" {
			if st.kind == stmtBlock {
				return fmt.Errorf("%s line %d: directive \"include\" has no block: %w", lx.name, st.line, checks.ErrParse)
			}
			if err := p.include(lx.name, st.line, d.Args, block, depth); err != nil {
				return err
			}
			continue
		}
		block.Block = append(block.Block, d)
		if st.kind != stmtBlock {
			continue
		}
		d.IsBlock = true
		if strings.HasSuffix(d.Name, "_by_lua_block") {
			code, err := lx.rawLuaBlock()
			if err != nil {
				return err
			}
			d.Args = append(d.Args, code)
			continue
		}
		if depth+1 > maxBlockDepth {
			return fmt.Errorf("%s line %d: blocks nested deeper than %d: %w", lx.name, st.line, maxBlockDepth, checks.ErrParse)
		}
		if err := p.parseBlock(lx, d, depth+1, true); err != nil {
			return err
		}
	}
}

// include expands an include directive in place: a pattern with wildcards includes every
// matching file (none is fine), a plain name must exist.
func (p *parser) include(file string, line int, args []string, block *Directive, depth int) error {
	if len(args) != 1 {
		return fmt.Errorf("%s line %d: invalid number of arguments in \"include\": %w", file, line, checks.ErrParse)
	}
	name := fullName(p.confPrefix, args[0])
	names := []string{name}
	if strings.ContainsAny(name, "*?[") {
		var err error
		if names, err = p.src.glob(name); err != nil {
			return fmt.Errorf("%s line %d: include %s: %w", file, line, name, err)
		}
	}
	for _, n := range names {
		if err := p.parseFile(n, block, depth); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s line %d: include: %w", file, line, err)
			}
			return err
		}
	}
	return nil
}
