package opskit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerInstruction is one Dockerfile instruction with its continuation
// lines joined.
type dockerInstruction struct {
	Cmd  string // upper case: FROM, RUN, ...
	Args string
}

func parseDockerfile(t *testing.T) []dockerInstruction {
	t.Helper()
	data, err := os.ReadFile(repoPath(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstruction
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t)
	var froms []string
	last := map[string]string{} // instruction -> args, in the final stage
	var build string
	for _, in := range ins {
		if in.Cmd == "FROM" {
			froms = append(froms, in.Args)
			clear(last)
			continue
		}
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			build = in.Args
		}
		last[in.Cmd] = in.Args
	}
	if len(froms) != 2 || !strings.HasPrefix(froms[0], "golang:1.26 ") {
		t.Errorf("stages %q: want a golang:1.26 builder and a final stage", froms)
	}
	if len(froms) > 0 && !strings.HasPrefix(froms[len(froms)-1], "gcr.io/distroless/static") {
		t.Errorf("final stage %q: want distroless static", froms[len(froms)-1])
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "./cmd/leakwatch"} {
		if !strings.Contains(build, want) {
			t.Errorf("go build %q lacks %s", build, want)
		}
	}
	for cmd, want := range map[string]string{
		"USER":       "65532:65532",
		"EXPOSE":     "9723/tcp 5514/udp 5514/tcp",
		"VOLUME":     `["/var/lib/leakwatch"]`,
		"ENTRYPOINT": `["/leakwatch"]`,
		"CMD":        `["run", "--config", "/etc/leakwatch/leakwatch.yaml"]`,
	} {
		if got := last[cmd]; got != want {
			t.Errorf("final stage %s %q, want %q", cmd, got, want)
		}
	}
}

// ldflagVar matches the -X flags of the go build command.
var ldflagVar = regexp.MustCompile(`-X ([\w./-]+)\.(\w+)=`)

// TestDockerfileLdflagsTargetsExist checks that every variable the image
// build sets with -X exists as a string variable: the linker silently
// ignores a misspelled one and leakwatch_build_info would say "dev".
func TestDockerfileLdflagsTargetsExist(t *testing.T) {
	const module = "github.com/leakwatch/leakwatch/"
	var build string
	for _, in := range parseDockerfile(t) {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			build = in.Args
		}
	}
	matches := ldflagVar.FindAllStringSubmatch(build, -1)
	if len(matches) < 2 {
		t.Fatalf("go build sets %d variables with -X, want version and revision: %s", len(matches), build)
	}
	for _, m := range matches {
		pkg, name := m[1], m[2]
		rel, ok := strings.CutPrefix(pkg, module)
		if !ok {
			t.Errorf("-X %s.%s: package outside the module", pkg, name)
			continue
		}
		if !packageHasStringVar(t, repoPath(t, filepath.FromSlash(rel)), name) {
			t.Errorf("-X %s.%s: no such package-level string variable", pkg, name)
		}
	}
}

func packageHasStringVar(t *testing.T, dir, name string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Errorf("no Go files in %s: %v", dir, err)
		return false
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Errorf("parsing %s: %v", f, err)
			continue
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if id.Name != name {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						return true
					}
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							return true
						}
					}
				}
			}
		}
	}
	return false
}
