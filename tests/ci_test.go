package tests

import (
	"os"
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
// the README gives a newcomer.
func TestCIRunsTheREADMETestCommand(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^(go vet ./\\.\\.\\. && go test .*)$").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md gives no test command starting with `go vet ./... && go test`")
	}
	if !strings.Contains(string(ci), "\n"+string(m[1])+"\n") {
		t.Errorf(".ci/run does not run README's test command:\n%s", m[1])
	}
}
