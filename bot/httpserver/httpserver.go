// Package httpserver is dingbot's HTTP listener, built on gin: liveness
// (/healthz), readiness (/readyz, tied to the DingTalk connection in Stream
// mode), Prometheus metrics (/metrics) and the routes an intake brings, such
// as DingTalk's robot callback in HTTP mode (POST /dingtalk/callback, an
// http.Handler from package bot/callback, mounted with gin.WrapH). In HTTP
// mode the callback gets a listener of its own (RoutesOnly) and the probes
// and metrics another one, so the public address serves nothing else. It
// knows no transport: it takes readiness as a function and routes as
// http.Handlers, and the core knows nothing of it.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configures a Server.
type Options struct {
	// Addr is the listen address, e.g. ":8080".
	Addr string
	// Ready reports whether the bot can take messages (in Stream mode: the
	// connection is up; in HTTP mode: shutdown has not begun).
	Ready func() bool
	// NotReadyReason is the reason /readyz gives when Ready is false
	// (default "the DingTalk connection is not up").
	NotReadyReason string
	// Unhealthy, if set, reports a dependency the bot cannot work without
	// that is failing (e.g. "the store is unreachable"), or "": /readyz is
	// then 503 with that reason even while Ready is true.
	Unhealthy func() string
	// Routes are handlers to mount besides the probes, keyed by a pattern of
	// the Go 1.22 http.ServeMux form "METHOD /path", e.g.
	// "POST /dingtalk/callback" for HTTP mode's callback. The path is taken
	// literally (no wildcards); without a method every method is served. A
	// path's other methods are 404, as every unknown path.
	Routes map[string]http.Handler
	// RoutesOnly serves Routes and nothing else: no /healthz, /readyz or
	// /metrics (those are on another listener).
	RoutesOnly bool
	// TrustedProxies are the IPs or CIDRs whose X-Forwarded-For gin believes
	// for the client address; none by default.
	TrustedProxies []string
	// Gatherer serves /metrics.
	Gatherer prometheus.Gatherer
	// Logger receives server errors; nil discards them.
	Logger *slog.Logger
}

// Server is the HTTP listener with timeouts set.
type Server struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// Listen binds the address and prepares the routes; call Serve to start serving.
func Listen(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	handler := Routes(opts) // before listening: it panics on a malformed route
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	return &Server{
		ln:  ln,
		log: opts.Logger,
		srv: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      15 * time.Second,
			IdleTimeout:       60 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
		},
	}, nil
}

// Routes returns the gin engine with every route, for tests and embedding.
func Routes(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := gin.New()
	if err := r.SetTrustedProxies(opts.TrustedProxies); err != nil {
		// config validated the list; never fall back to gin's trust-everyone default.
		opts.Logger.Error("DINGBOT_TRUSTED_PROXIES rejected; trusting no proxy", "error", err.Error())
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(Recovery(opts.Logger))
	for _, pattern := range slices.Sorted(maps.Keys(opts.Routes)) {
		method, path := splitPattern(pattern)
		h := gin.WrapH(opts.Routes[pattern])
		if method == "" {
			r.Any(path, h)
		} else {
			r.Handle(method, path, h)
		}
	}
	if opts.RoutesOnly {
		return r
	}
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET("/readyz", func(c *gin.Context) {
		if opts.Unhealthy != nil {
			if reason := opts.Unhealthy(); reason != "" {
				c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": reason})
				return
			}
		}
		if opts.Ready != nil && opts.Ready() {
			c.JSON(http.StatusOK, gin.H{"status": "ready"})
			return
		}
		reason := opts.NotReadyReason
		if reason == "" {
			reason = "the DingTalk connection is not up"
		}
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not ready", "reason": reason})
	})
	if opts.Gatherer != nil {
		r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{})))
	}
	return r
}

// splitPattern splits a Routes key into its method ("" for any) and path. It
// panics on a key that is not "[METHOD ]/path", as http.ServeMux.Handle does.
func splitPattern(pattern string) (method, path string) {
	path = pattern
	if m, p, ok := strings.Cut(pattern, " "); ok {
		method, path = m, strings.TrimLeft(p, " \t")
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "{}:* \t") || strings.ContainsAny(method, "/ \t") {
		panic(fmt.Sprintf("httpserver: route %q is not \"[METHOD ]/literal/path\"", pattern))
	}
	return method, path
}

// Recovery answers 500 to a request whose handler panicked and logs the
// panic through log, with the method, path and client address but never the
// request's headers: a callback's sign header stays valid for the whole
// window, and gin's own recovery prints every header.
func Recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler { //nolint:errorlint // the sentinel net/http panics with
				panic(p)
			}
			log.Error("panic serving a request", "method", c.Request.Method, "path", c.Request.URL.Path,
				"remote", c.ClientIP(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
				return
			}
			c.Abort()
		}()
		c.Next()
	}
}

// Addr is the bound address (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown; it returns nil after a clean shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections and waits for active requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.srv.Shutdown(ctx)
}
