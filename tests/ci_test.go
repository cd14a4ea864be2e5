package tests

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileBuildsLikeCI: docker cannot run here, so CI runs the
// Dockerfile's build command itself; this keeps the two from drifting apart
// and the runtime image static and non-root.
func TestDockerfileBuildsLikeCI(t *testing.T) {
	docker, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	build := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)$`).FindSubmatch(docker)
	if build == nil {
		t.Fatal("Dockerfile has no `RUN CGO_ENABLED=0 go build` step")
	}
	if !strings.Contains(string(ci), "\n"+string(build[1])+"\n") {
		t.Errorf(".ci/run does not run the Dockerfile's build command %q", build[1])
	}
	for _, want := range []string{"FROM gcr.io/distroless/static", "USER nonroot"} {
		if !strings.Contains(string(docker), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if strings.Count(string(docker), "\nFROM ") < 1 || !strings.HasPrefix(strings.TrimSpace(string(docker)), "# syntax") {
		t.Errorf("Dockerfile is not multi-stage")
	}
}

// TestCIRunsTheREADMETestCommand: .ci/run must run exactly the test command
// the README gives a newcomer, scripts/test, and that script must run the
// whole suite with the race detector and fuzz every fuzz target of the
// module.
func TestCIRunsTheREADMETestCommand(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("../scripts/test")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile("(?m)^scripts/test( +#.*)?$").Match(readme) {
		t.Error("README.md does not give `scripts/test` as the test command")
	}
	if !strings.Contains(string(ci), "\nscripts/test\n") {
		t.Error(".ci/run does not run scripts/test")
	}
	for _, want := range []string{"\ngo vet ./...\n", "\ngo test $race -count=1 ./...\n", "\nrace=-race\n"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("scripts/test lacks %q", want)
		}
	}
	var tests []string
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && path != ".." && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // .git, .ci
		}
		if err == nil && !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			tests = append(tests, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tests {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?m)^func (Fuzz\w+)\(`).FindAllSubmatch(src, -1) {
			if !strings.Contains(string(script), "-fuzz='^"+string(m[1])+"$'") {
				t.Errorf("scripts/test does not fuzz %s", m[1])
			}
		}
	}
}
