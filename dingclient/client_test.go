package dingclient

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNewHTTPClientKeepsConnectionsForConcurrentCalls: rounds of 16
// concurrent calls to one host reuse the connections of the first round
// instead of dialling most of them again (net/http's default keeps 2).
func TestNewHTTPClientKeepsConnectionsForConcurrentCalls(t *testing.T) {
	var dials atomic.Int64
	gate := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-gate // hold every call of a round until all 16 are in flight
		io.WriteString(w, "{}")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	const concurrent = 16
	hc := NewHTTPClient(5*time.Second, concurrent)
	for round := range 3 {
		gate = make(chan struct{})
		var wg sync.WaitGroup
		var inFlight sync.WaitGroup
		inFlight.Add(concurrent)
		for range concurrent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				inFlight.Done()
				resp, err := hc.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		inFlight.Wait()
		time.Sleep(100 * time.Millisecond) // let the requests reach the handler
		close(gate)
		wg.Wait()
		if round == 0 && dials.Load() < concurrent/2 {
			t.Fatalf("first round opened only %d connections; the test proves nothing", dials.Load())
		}
	}
	if n := dials.Load(); n > concurrent {
		t.Errorf("3 rounds of %d concurrent calls opened %d connections, want at most %d", concurrent, n, concurrent)
	}
}
