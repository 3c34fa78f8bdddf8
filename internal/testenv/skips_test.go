package testenv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoBareSkips keeps every skip a CI failure: in the module's test files,
// t.Skip, t.Skipf and t.SkipNow appear only under `if testing.Short()` (make
// test runs without -short), and no if statement branches on os.Geteuid(). A test
// that needs something from its environment says so through Unavailable,
// Need, RequireRoot, RequireBinary or RequireDevice, which fail under CI=true;
// one that checks unprivileged behaviour uses RunAsNobody.
func TestNoBareSkips(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	fset := token.NewFileSet()
	files := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (n == "testdata" || n == "vendor" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") || filepath.Dir(p) == filepath.Join(root, "internal", "testenv") {
			return nil // testenv's own tests check the helpers as root and not
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		files++
		for _, bad := range bareSkips(f) {
			pos := fset.Position(bad.Pos())
			rel, _ := filepath.Rel(root, pos.Filename)
			t.Errorf("%s:%d: %s: use testenv.Unavailable/Need/RequireRoot (a skip must fail under CI=true)", rel, pos.Line, render(bad))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("only %d test files found under %s", files, root)
	}
}

// bareSkips returns the calls in f that skip outside `if testing.Short()`
// or branch on the user ID.
func bareSkips(f *ast.File) []*ast.CallExpr {
	var bad []*ast.CallExpr
	var walk func(n ast.Node, short bool)
	walk = func(n ast.Node, short bool) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.IfStmt:
				bad = append(bad, euidCalls(n.Cond)...)
				if isShortCall(n.Cond) {
					if n.Init != nil {
						walk(n.Init, short)
					}
					walk(n.Body, true)
					if n.Else != nil {
						walk(n.Else, short)
					}
					return false
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch sel.Sel.Name {
				case "Skip", "Skipf", "SkipNow":
					if !short {
						bad = append(bad, n)
					}
				}
			}
			return true
		})
	}
	walk(f, false)
	return bad
}

// euidCalls returns the os.Geteuid()-like calls in an if condition: a test
// branching on who runs it.
func euidCalls(cond ast.Expr) []*ast.CallExpr {
	var calls []*ast.CallExpr
	ast.Inspect(cond, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Geteuid" || sel.Sel.Name == "Getuid") {
				if id, ok := sel.X.(*ast.Ident); ok && (id.Name == "os" || id.Name == "unix" || id.Name == "syscall") {
					calls = append(calls, c)
				}
			}
		}
		return true
	})
	return calls
}

func isShortCall(e ast.Expr) bool {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == "testing" && sel.Sel.Name == "Short"
}

func render(c *ast.CallExpr) string {
	if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok {
			return id.Name + "." + sel.Sel.Name + "(...)"
		}
		return sel.Sel.Name + "(...)"
	}
	return "call"
}

// TestBareSkipsDetector: the detector flags what it must and nothing else.
func TestBareSkipsDetector(t *testing.T) {
	src := `package x
func TestA(t *testing.T) {
	if testing.Short() { t.Skip("slow") }
	if _, err := os.Stat("/dev/fuse"); err != nil { t.Skip("no fuse") }
	if os.Geteuid() != 0 { t.Skipf("root") }
	t.Run("x", func(t *testing.T) { t.SkipNow() })
	if testing.Short() { } else { t.Skip("else") }
	b.Skip()
	uid := os.Geteuid()
	if x := 1; x == 1 && unix.Getuid() == 0 { }
}`
	f, err := parser.ParseFile(token.NewFileSet(), "x_test.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range bareSkips(f) {
		got = append(got, render(c))
	}
	want := "t.Skip(...) os.Geteuid(...) t.Skipf(...) t.SkipNow(...) t.Skip(...) b.Skip(...) unix.Getuid(...)"
	if strings.Join(got, " ") != want {
		t.Errorf("flagged %q, want %q", strings.Join(got, " "), want)
	}
}
