package tests

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLinkerDropsUnusedMethods fails when a function the binary can reach
// calls reflect's Method or MethodByName with a name not known at compile
// time (gin's struct validator, text/template's Execute, …). The linker then
// keeps every exported method of every type the program uses: for dingbot
// that was ~6 MiB more executable and ~4 MiB more idle RSS (issue #7), brought
// in by one c.ShouldBindJSON in the demo. The chain printed shows who.
func TestLinkerDropsUnusedMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("links the binary")
	}
	cmd := exec.Command("go", "build", "-ldflags=-dumpdep", "-o", os.DevNull, "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build -ldflags=-dumpdep: %v\n%.2000s", err, out.String())
	}
	// Each line is "from -> to"; the first line reaching a symbol is how the
	// linker found it, so walking those back gives a path from main.
	parent := map[string]string{}
	var marked []string
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), " -> ")
		if !ok {
			continue
		}
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if strings.HasSuffix(to, " <ReflectMethod>") {
			to = strings.TrimSuffix(to, " <ReflectMethod>")
			marked = append(marked, to)
		}
		from = strings.TrimSuffix(from, " <ReflectMethod>")
		if _, seen := parent[to]; !seen {
			parent[to] = from
		}
	}
	if len(marked) == 0 {
		return
	}
	var path []string
	for s, n := marked[0], 0; s != "" && n < 40; s, n = parent[s], n+1 {
		path = append(path, s)
	}
	t.Fatalf("the binary reaches %s, which looks methods up by name with reflect, so the linker keeps every exported method:\n  %s",
		marked[0], strings.Join(path, "\n  <- "))
}
