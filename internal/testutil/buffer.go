package testutil

import (
	"bytes"
	"sync"
)

// SyncBuffer is an io.Writer whose contents can be read while other
// goroutines write to it, e.g. the sink of a slog handler that workers log
// through. Its zero value is ready for use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
