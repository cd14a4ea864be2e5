package main

import (
	"context"
	"os/exec"
	"runtime"
	"strings"
)

func goEnv(ctx context.Context, key string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", key).Output()
	return strings.TrimSpace(string(out)), err
}

func numCPU() int { return runtime.NumCPU() }
