package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// microBenchmarks are the Go benchmarks the report shows, by package.
var microBenchmarks = []struct{ pkg, re string }{
	{"./commands", "^(BenchmarkNormalizeSplit|BenchmarkLanguageInterpret|BenchmarkInterpret|BenchmarkInterpretHelp)$"},
	{"./dingclient", "^BenchmarkBuildRequest$"},
}

// bench is one line of go test -bench -benchmem output.
type bench struct {
	Name                    string
	NsPerOp, BPerOp, Allocs float64
}

// micro runs the micro-benchmarks with go test (no -race) and parses them.
func micro(ctx context.Context, root, benchtime string) ([]bench, error) {
	var out []bench
	for _, mb := range microBenchmarks {
		args := []string{"test", "-run", "^$", "-bench", mb.re, "-benchmem", "-benchtime", benchtime, "-count", "1", "-timeout", "5m", mb.pkg}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		if err != nil {
			return out, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		out = append(out, parseBench(b)...)
	}
	return out, nil
}

// parseBench reads "BenchmarkX-2  N  123 ns/op  45 B/op  6 allocs/op" lines.
func parseBench(b []byte) []bench {
	var out []bench
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		r := bench{Name: name}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				r.NsPerOp = v
			case "B/op":
				r.BPerOp = v
			case "allocs/op":
				r.Allocs = v
			}
		}
		out = append(out, r)
	}
	return out
}

func findBench(bs []bench, name string) (bench, bool) {
	for _, b := range bs {
		if b.Name == name {
			return b, true
		}
	}
	return bench{}, false
}
