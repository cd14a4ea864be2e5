package tests

// The deployment files (deploy/compose.yaml, deploy/kubernetes/, the
// Dockerfile's runtime stage) against the code. Neither docker nor kubectl
// with a cluster can run here, so these tests are what checks them: every
// variable they set is a dingbot setting in README's configuration table, the
// probes are on the paths and the listener dingbot serves them on (the binary
// is started with the Deployment's settings to see it), grace periods exceed
// the shutdown timeout, the image has a data directory nonroot can write.

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dingbot/dingbot/config"
	"github.com/dingbot/dingbot/dingtalktest"
)

const (
	deployDir = "../deploy"
	k8sDir    = "../deploy/kubernetes"
	// httpServerStop is how long serve gives its HTTP servers to stop after
	// the in-flight commands (main.go, stopServers): a grace period must cover
	// DINGBOT_SHUTDOWN_TIMEOUT plus this.
	httpServerStop = 5 * time.Second
	// placeholder marks every credential in the committed examples.
	placeholder = "CHANGE-ME"
)

// --- Kubernetes ---

type k8sMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

// k8sDoc is one manifest: the common fields, and the whole document to
// decode by kind.
type k8sDoc struct {
	File       string
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   k8sMeta           `yaml:"metadata"`
	StringData map[string]string `yaml:"stringData"`
	Data       map[string]string `yaml:"data"`
	Resources  []string          `yaml:"resources"` // Kustomization
	node       yaml.Node
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type k8sContainer struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef    *struct{ Name, Key string } `yaml:"secretKeyRef"`
			ConfigMapKeyRef *struct{ Name, Key string } `yaml:"configMapKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		Prefix       string                 `yaml:"prefix"`
		SecretRef    *struct{ Name string } `yaml:"secretRef"`
		ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
	} `yaml:"envFrom"`
	StartupProbe   *k8sProbe `yaml:"startupProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext k8sSecurity `yaml:"securityContext"`
}

type k8sSecurity struct {
	RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
	RunAsUser                *int64 `yaml:"runAsUser"`
	AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool  `yaml:"readOnlyRootFilesystem"`
	Capabilities             struct {
		Drop []string `yaml:"drop"`
	} `yaml:"capabilities"`
}

type k8sDeployment struct {
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec struct {
				TerminationGracePeriodSeconds *int           `yaml:"terminationGracePeriodSeconds"`
				SecurityContext               k8sSecurity    `yaml:"securityContext"`
				Containers                    []k8sContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sService struct {
	Spec struct {
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type k8sPDB struct {
	Spec struct {
		MinAvailable   any `yaml:"minAvailable"`
		MaxUnavailable any `yaml:"maxUnavailable"`
		Selector       struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
	} `yaml:"spec"`
}

// loadK8s parses every YAML document of deploy/kubernetes/.
func loadK8s(t *testing.T) []*k8sDoc {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s (%v)", k8sDir, err)
	}
	var docs []*k8sDoc
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			d := &k8sDoc{File: filepath.Base(f)}
			if err := dec.Decode(&d.node); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if err := d.node.Decode(d); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if d.Kind == "" || d.APIVersion == "" {
				t.Fatalf("%s: a document without apiVersion and kind", f)
			}
			docs = append(docs, d)
		}
	}
	return docs
}

func decodeDoc(t *testing.T, d *k8sDoc, v any) {
	t.Helper()
	if err := d.node.Decode(v); err != nil {
		t.Fatalf("%s (%s %s): %v", d.File, d.Kind, d.Metadata.Name, err)
	}
}

func findKind(docs []*k8sDoc, kind string) []*k8sDoc {
	var out []*k8sDoc
	for _, d := range docs {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

// k8sEnv is what a container's environment holds, as the manifests say: the
// names it sets and their values (secrets' values from the example Secret).
type k8sEnv struct {
	names  []string          // every variable set, in order
	values map[string]string // its value (a placeholder for a secret)
	plain  map[string]string // only those given as a literal value
}

func containerEnv(t *testing.T, c k8sContainer, docs []*k8sDoc) k8sEnv {
	t.Helper()
	source := func(kind, name string) map[string]string {
		for _, d := range findKind(docs, kind) {
			if d.Metadata.Name == name {
				m := map[string]string{}
				for k, v := range d.Data { // Secret data is base64; only the key matters then
					m[k] = v
				}
				for k, v := range d.StringData {
					m[k] = v
				}
				return m
			}
		}
		t.Errorf("container %s refers to %s %q, which no manifest in %s defines (an example Secret must)", c.Name, kind, name, k8sDir)
		return nil
	}
	env := k8sEnv{values: map[string]string{}, plain: map[string]string{}}
	add := func(name, value string) {
		if !slices.Contains(env.names, name) {
			env.names = append(env.names, name)
		}
		env.values[name] = value
	}
	for _, ef := range c.EnvFrom {
		var m map[string]string
		switch {
		case ef.SecretRef != nil:
			m = source("Secret", ef.SecretRef.Name)
		case ef.ConfigMapRef != nil:
			m = source("ConfigMap", ef.ConfigMapRef.Name)
		}
		for k, v := range m {
			add(ef.Prefix+k, v)
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			add(e.Name, e.Value)
			env.plain[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil || e.ValueFrom.ConfigMapKeyRef != nil:
			kind, ref := "Secret", e.ValueFrom.SecretKeyRef
			if ref == nil {
				kind, ref = "ConfigMap", e.ValueFrom.ConfigMapKeyRef
			}
			m := source(kind, ref.Name)
			v, ok := m[ref.Key]
			if m != nil && !ok {
				t.Errorf("%s: %s %q has no key %q", e.Name, kind, ref.Name, ref.Key)
			}
			add(e.Name, v)
		default:
			add(e.Name, "")
		}
	}
	return env
}

// documentedSettings is the set of dingbot's variables, each checked to
// have a row in README's configuration table.
func documentedSettings(t *testing.T) map[string]bool {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, s := range config.Settings() {
		// The row config's TestREADMEDocumentsEverySetting looks for.
		out[s.Env] = strings.Contains(string(readme), "| `"+s.Env+"` |")
	}
	return out
}

func checkSettings(t *testing.T, where string, names []string) {
	t.Helper()
	documented := documentedSettings(t)
	for _, n := range names {
		inREADME, known := documented[n]
		switch {
		case !known:
			t.Errorf("%s sets %s, which is not a dingbot setting (config.Settings)", where, n)
		case !inREADME:
			t.Errorf("%s sets %s, which README.md's configuration table does not document", where, n)
		}
	}
}

// loadConfig is config.Load on env alone, as dingbot would read it.
func loadConfig(t *testing.T, where string, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatalf("%s: dingbot would not start with these settings: %v", where, err)
	}
	return cfg
}

// probeAddr is the address dingbot serves /healthz, /readyz and /metrics on.
func probeAddr(cfg *config.Config) (setting, addr string) {
	if cfg.MetricsAddr != "" {
		return "DINGBOT_METRICS_ADDR", cfg.MetricsAddr
	}
	return "DINGBOT_HTTP_ADDR", cfg.HTTPAddr
}

func addrPort(t *testing.T, addr string) (host string, port int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err == nil {
		port, err = strconv.Atoi(p)
	}
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return host, port
}

// resolvePort is a probe's or Service's port (a number or a container port's name) as a number.
func resolvePort(t *testing.T, c k8sContainer, port any) int {
	t.Helper()
	switch p := port.(type) {
	case int:
		return p
	case string:
		if n, err := strconv.Atoi(p); err == nil {
			return n
		}
		for _, cp := range c.Ports {
			if cp.Name == p {
				return cp.ContainerPort
			}
		}
		t.Errorf("port %q is no port name of container %s", p, c.Name)
	default:
		t.Errorf("port %v is neither a number nor a name", port)
	}
	return -1
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// deployment is the Deployment of dingbot and its dingbot container.
func deployment(t *testing.T, docs []*k8sDoc) (*k8sDeployment, k8sContainer) {
	t.Helper()
	deps := findKind(docs, "Deployment")
	if len(deps) != 1 {
		t.Fatalf("want one Deployment in %s, found %d", k8sDir, len(deps))
	}
	var dep k8sDeployment
	decodeDoc(t, deps[0], &dep)
	cs := dep.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("want one container in the Deployment, found %d", len(cs))
	}
	return &dep, cs[0]
}

func TestDeployKubernetes(t *testing.T) {
	docs := loadK8s(t)
	dep, c := deployment(t, docs)
	podLabels := dep.Spec.Template.Metadata.Labels
	if !selects(dep.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("the Deployment's selector %v does not select its pods %v", dep.Spec.Selector.MatchLabels, podLabels)
	}
	replicas := 1
	if dep.Spec.Replicas != nil {
		replicas = *dep.Spec.Replicas
	}
	if replicas < 2 {
		t.Errorf("replicas: %d, want several", replicas)
	}

	// Every variable set is a documented setting; the settings load.
	env := containerEnv(t, c, docs)
	checkSettings(t, "the Deployment", env.names)
	if _, ok := env.values["DINGBOT_DATABASE_URL"]; !ok {
		t.Errorf("the Deployment sets no DINGBOT_DATABASE_URL: %d replicas would each use SQLite of their own", replicas)
	}
	cfg := loadConfig(t, "the Deployment", env.values)

	// Probes: the paths dingbot serves, on the listener it serves them on,
	// reachable from the kubelet (not loopback).
	setting, addr := probeAddr(cfg)
	host, probePort := addrPort(t, addr)
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		t.Errorf("probes and metrics listen on %s (%s): out of the kubelet's and Prometheus's reach", addr, setting)
	}
	containerPorts := map[int]bool{}
	for _, p := range c.Ports {
		containerPorts[p.ContainerPort] = true
	}
	if !containerPorts[probePort] {
		t.Errorf("no container port is %d, the port of %s=%s", probePort, setting, addr)
	}
	for _, pr := range []struct {
		name  string
		probe *k8sProbe
		paths []string
	}{
		{"readinessProbe", c.ReadinessProbe, []string{"/readyz"}},
		{"livenessProbe", c.LivenessProbe, []string{"/healthz"}},
		{"startupProbe", c.StartupProbe, []string{"/healthz", "/readyz"}},
	} {
		if pr.probe == nil {
			if pr.name != "startupProbe" {
				t.Errorf("the container has no %s", pr.name)
			}
			continue
		}
		if pr.probe.HTTPGet == nil {
			t.Errorf("%s is not an httpGet probe", pr.name)
			continue
		}
		if !slices.Contains(pr.paths, pr.probe.HTTPGet.Path) {
			t.Errorf("%s path %q, want %s", pr.name, pr.probe.HTTPGet.Path, strings.Join(pr.paths, " or "))
		}
		if p := resolvePort(t, c, pr.probe.HTTPGet.Port); p != probePort {
			t.Errorf("%s on port %d; dingbot serves it on %d (%s=%s)", pr.name, p, probePort, setting, addr)
		}
	}
	if a := dep.Spec.Template.Metadata.Annotations["prometheus.io/port"]; a != "" && a != strconv.Itoa(probePort) {
		t.Errorf("prometheus.io/port %s, but /metrics is on %d (%s)", a, probePort, setting)
	}

	// Services: one for metrics on the probe listener and, in http mode, a
	// separate one for the callback on DINGBOT_HTTP_ADDR; nothing else.
	_, callbackPort := addrPort(t, cfg.HTTPAddr)
	var metricsSvc, callbackSvc []string
	for _, d := range findKind(docs, "Service") {
		var svc k8sService
		decodeDoc(t, d, &svc)
		if !selects(svc.Spec.Selector, podLabels) {
			t.Errorf("Service %s selects %v, not dingbot's pods %v", d.Metadata.Name, svc.Spec.Selector, podLabels)
		}
		for _, p := range svc.Spec.Ports {
			target := p.TargetPort
			if target == nil {
				target = p.Port
			}
			switch tp := resolvePort(t, c, target); {
			case tp == probePort:
				metricsSvc = append(metricsSvc, d.Metadata.Name)
			case tp == callbackPort && cfg.Mode == config.ModeHTTP:
				callbackSvc = append(callbackSvc, d.Metadata.Name)
			default:
				t.Errorf("Service %s targets port %d, on which dingbot (mode %s, %s=%s) serves nothing", d.Metadata.Name, tp, cfg.Mode, setting, addr)
			}
		}
	}
	if len(metricsSvc) != 1 {
		t.Errorf("want one Service for metrics on port %d, found %v", probePort, metricsSvc)
	}
	if cfg.Mode == config.ModeHTTP && (len(callbackSvc) != 1 || slices.Contains(metricsSvc, callbackSvc[0])) {
		t.Errorf("want one Service for the callback on port %d, apart from the metrics one; found %v (metrics: %v)", callbackPort, callbackSvc, metricsSvc)
	}

	// Shutdown: the kubelet's SIGKILL must come after dingbot's own deadline.
	grace := 30 * time.Second // Kubernetes' default
	if g := dep.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	if grace <= cfg.ShutdownTimeout+httpServerStop {
		t.Errorf("terminationGracePeriodSeconds %v does not exceed DINGBOT_SHUTDOWN_TIMEOUT %v plus %v for the HTTP servers", grace, cfg.ShutdownTimeout, httpServerStop)
	}

	// Non-root, nothing to escalate, read-only root (PostgreSQL: no file written).
	pod, ctr := dep.Spec.Template.Spec.SecurityContext, c.SecurityContext
	isTrue := func(a, b *bool) bool { return (b != nil && *b) || (b == nil && a != nil && *a) }
	if !isTrue(pod.RunAsNonRoot, ctr.RunAsNonRoot) {
		t.Error("runAsNonRoot is not set")
	}
	uid := ctr.RunAsUser
	if uid == nil {
		uid = pod.RunAsUser
	}
	if uid == nil || *uid == 0 {
		t.Error("no non-zero runAsUser: the image's USER is a name (nonroot), which runAsNonRoot cannot verify")
	}
	if ctr.AllowPrivilegeEscalation == nil || *ctr.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if ctr.ReadOnlyRootFilesystem == nil || !*ctr.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if !slices.Contains(ctr.Capabilities.Drop, "ALL") {
		t.Error("capabilities do not drop ALL")
	}

	// Resources from the measured RSS.
	peak := benchmarkPeakRSS(t)
	req, okReq := parseQuantity(c.Resources.Requests["memory"])
	limit, okLimit := parseQuantity(c.Resources.Limits["memory"])
	if !okReq || req < peak*3/2 {
		t.Errorf("memory request %q: want at least 1.5 × the peak RSS in BENCHMARKS.md (%.1f MiB)", c.Resources.Requests["memory"], peak/(1<<20))
	}
	if okLimit && limit < req {
		t.Errorf("memory limit %q is below the request", c.Resources.Limits["memory"])
	}
	if _, ok := c.Resources.Requests["cpu"]; !ok {
		t.Error("no CPU request")
	}

	// PodDisruptionBudget: selects the pods and lets a drain proceed.
	pdbs := findKind(docs, "PodDisruptionBudget")
	if len(pdbs) != 1 {
		t.Fatalf("want one PodDisruptionBudget, found %d", len(pdbs))
	}
	var pdb k8sPDB
	decodeDoc(t, pdbs[0], &pdb)
	if !selects(pdb.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("the PodDisruptionBudget selects %v, not dingbot's pods %v", pdb.Spec.Selector.MatchLabels, podLabels)
	}
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		if n, ok := pdb.Spec.MaxUnavailable.(int); ok && (n < 1 || n >= replicas) {
			t.Errorf("maxUnavailable %d of %d replicas", n, replicas)
		}
	case pdb.Spec.MinAvailable != nil:
		if n, ok := pdb.Spec.MinAvailable.(int); ok && (n < 1 || n >= replicas) {
			t.Errorf("minAvailable %d of %d replicas: a drain could never evict one, or none stays", n, replicas)
		}
	default:
		t.Error("the PodDisruptionBudget sets neither minAvailable nor maxUnavailable")
	}

	// Secrets: only in the example, only placeholders, only settings.
	for _, d := range findKind(docs, "Secret") {
		if !strings.Contains(d.File, "example") {
			t.Errorf("%s: a Secret outside an example file", d.File)
		}
		var keys []string
		for k, v := range d.StringData {
			keys = append(keys, k)
			if !strings.Contains(v, placeholder) {
				t.Errorf("%s: %s is not a %s placeholder", d.File, k, placeholder)
			}
		}
		if len(d.Data) > 0 {
			t.Errorf("%s: use stringData with %s placeholders, not data", d.File, placeholder)
		}
		checkSettings(t, d.File, keys)
	}
	for _, name := range []string{"DINGTALK_CLIENT_SECRET", "DINGBOT_DATABASE_URL"} {
		if _, literal := env.plain[name]; literal {
			t.Errorf("the Deployment gives %s as a literal value, not from a Secret", name)
		}
	}

	// kubectl apply -k: every manifest but the example Secret.
	kust := findKind(docs, "Kustomization")
	if len(kust) != 1 {
		t.Fatalf("want one kustomization.yaml, found %d", len(kust))
	}
	for _, d := range docs {
		listed := slices.Contains(kust[0].Resources, d.File)
		switch {
		case d.Kind == "Kustomization":
		case strings.Contains(d.File, "example") && listed:
			t.Errorf("kustomization.yaml lists %s: apply -k would overwrite the real Secret", d.File)
		case !strings.Contains(d.File, "example") && !listed:
			t.Errorf("kustomization.yaml does not list %s", d.File)
		}
	}
	for _, r := range kust[0].Resources {
		if _, err := os.Stat(filepath.Join(k8sDir, r)); err != nil {
			t.Errorf("kustomization.yaml: %v", err)
		}
	}
}

// TestDeployKubernetesProbesAnswer runs dingbot with the Deployment's
// settings (against the fake DingTalk, with SQLite and local addresses) and
// requests the probes, /metrics and the callback on the listeners the
// manifests point them at.
func TestDeployKubernetesProbesAnswer(t *testing.T) {
	docs := loadK8s(t)
	_, c := deployment(t, docs)
	env := containerEnv(t, c, docs)
	cfg := loadConfig(t, "the Deployment", env.values)

	extra := map[string]string{"DINGBOT_DATA_DIR": t.TempDir(), "DINGBOT_LOG_FORMAT": "json"}
	for k, v := range env.plain {
		if !strings.HasPrefix(k, "DINGTALK_") && k != "DINGBOT_LOG_FORMAT" {
			extra[k] = v
		}
	}
	// Same listeners, on free local ports: the test is which listener answers what.
	extra["DINGBOT_HTTP_ADDR"] = "127.0.0.1:0"
	if cfg.MetricsAddr != "" {
		extra["DINGBOT_METRICS_ADDR"] = "127.0.0.1:0"
	}
	fake := dingtalktest.NewServer(dingtalktest.Options{ClientSecret: "deploy-secret-Rz4T"})
	t.Cleanup(fake.Close)
	p := startProcess(t, botEnv(fake, extra))

	probes := p.httpAddr
	if cfg.MetricsAddr != "" {
		probes = p.metricsAddr
	}
	deadline := time.Now().Add(15 * time.Second)
	for code, _ := p.getFrom(t, probes, "/readyz"); code != http.StatusOK; code, _ = p.getFrom(t, probes, "/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz on the probe listener stayed %d\n%s", code, p.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, pr := range []*k8sProbe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
		if pr != nil && pr.HTTPGet != nil {
			if code, _ := p.getFrom(t, probes, pr.HTTPGet.Path); code != http.StatusOK {
				t.Errorf("GET %s on the probe listener: %d, want 200", pr.HTTPGet.Path, code)
			}
		}
	}
	if code, body := p.getFrom(t, probes, "/metrics"); code != http.StatusOK || !strings.Contains(body, "dingbot_") {
		t.Errorf("GET /metrics on the probe listener: %d", code)
	}
	if cfg.Mode == config.ModeHTTP {
		if code, _ := p.getFrom(t, p.httpAddr, "/readyz"); code != http.StatusNotFound {
			t.Errorf("GET /readyz on the callback listener: %d, want 404 (probes belong on DINGBOT_METRICS_ADDR)", code)
		}
		client := &http.Client{Timeout: 5 * time.Second}
		resp, err := client.Post("http://"+p.httpAddr+"/dingtalk/callback", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("unsigned POST /dingtalk/callback on the callback listener: %d, want 401", resp.StatusCode)
		}
	}
}

// benchmarkPeakRSS is the bot's peak RSS in BENCHMARKS.md, in bytes.
func benchmarkPeakRSS(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("../BENCHMARKS.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\| Peak RSS[^|]*\|[^|]*\| ([0-9.]+) MiB`).FindSubmatch(b)
	if m == nil {
		t.Fatal("BENCHMARKS.md has no `| Peak RSS … | … | N MiB` row to size the memory request from")
	}
	mib, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return mib * (1 << 20)
}

// parseQuantity reads a Kubernetes memory quantity (64Mi, 1Gi, 100M, bytes).
func parseQuantity(q string) (float64, bool) {
	units := []struct {
		suffix string
		mult   float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"", 1}}
	for _, u := range units {
		if s, ok := strings.CutSuffix(q, u.suffix); ok && s != "" {
			if n, err := strconv.ParseFloat(s, 64); err == nil {
				return n * u.mult, true
			}
		}
	}
	return 0, false
}

// --- Compose ---

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string `yaml:"image"`
	Build       any    `yaml:"build"`
	Restart     string `yaml:"restart"`
	Environment any    `yaml:"environment"` // a map or a list of K=V
	EnvFile     any    `yaml:"env_file"`    // a path, a list of paths or of {path: ...}
	DependsOn   any    `yaml:"depends_on"`
	Volumes     []any  `yaml:"volumes"`
	Ports       []any  `yaml:"ports"`
	ReadOnly    bool   `yaml:"read_only"`
	StopGrace   string `yaml:"stop_grace_period"`
	Deploy      struct {
		Replicas *int `yaml:"replicas"`
	} `yaml:"deploy"`
	Healthcheck *struct {
		Test any `yaml:"test"`
	} `yaml:"healthcheck"`
}

// envFiles lists a service's env_file paths.
func (s composeService) envFiles(t *testing.T) []string {
	t.Helper()
	switch v := s.EnvFile.(type) {
	case nil:
		return nil
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			switch e := e.(type) {
			case string:
				out = append(out, e)
			case map[string]any:
				p, _ := e["path"].(string)
				out = append(out, p)
			}
		}
		return out
	}
	t.Fatalf("env_file: unexpected %T", s.EnvFile)
	return nil
}

// environment is a service's environment: keys in order, and values.
func (s composeService) environment(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	vals := map[string]string{}
	var keys []string
	switch v := s.Environment.(type) {
	case nil:
	case map[string]any:
		for k, x := range v {
			keys = append(keys, k)
			if x != nil {
				vals[k] = strings.TrimSpace(yamlScalar(x))
			}
		}
	case []any:
		for _, e := range v {
			k, x, _ := strings.Cut(yamlScalar(e), "=")
			keys = append(keys, k)
			vals[k] = x
		}
	default:
		t.Fatalf("environment: unexpected %T", s.Environment)
	}
	slices.Sort(keys)
	return keys, vals
}

func yamlScalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// readEnvExample reads NAME=value lines of a committed env example.
func readEnvExample(t *testing.T, path string) ([]string, map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (an env_file must have a committed .example)", err)
	}
	vals := map[string]string{}
	var keys []string
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s:%d: not NAME=value", path, i+1)
			continue
		}
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

func isDingbot(s composeService) bool {
	return s.Build != nil || strings.HasPrefix(s.Image, "dingbot") || strings.Contains(s.Image, "/dingbot")
}

func TestDeployCompose(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(deployDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(raw, &cf); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}

	// The database: PostgreSQL, on a named volume, with a pg_isready check.
	pgName := ""
	for name, s := range cf.Services {
		if strings.HasPrefix(s.Image, "postgres") {
			pgName = name
		}
	}
	if pgName == "" {
		t.Fatal("compose.yaml has no postgres service")
	}
	pg := cf.Services[pgName]
	if pg.Healthcheck == nil || !strings.Contains(yamlText(pg.Healthcheck.Test), "pg_isready") {
		t.Errorf("service %s has no pg_isready health check", pgName)
	}
	namedVolume := false
	for _, v := range pg.Volumes {
		src, _, _ := strings.Cut(yamlScalar(v), ":")
		if _, ok := cf.Volumes[src]; ok {
			namedVolume = true
		}
	}
	if !namedVolume {
		t.Errorf("service %s keeps its data on no named volume", pgName)
	}
	for _, f := range pg.envFiles(t) {
		_, vals := readEnvExample(t, filepath.Join(deployDir, f+".example"))
		for k, v := range vals {
			if strings.Contains(k, "PASSWORD") && !strings.Contains(v, placeholder) {
				t.Errorf("%s.example: %s is not a %s placeholder", f, k, placeholder)
			}
		}
	}

	replicas := 0
	for name, s := range cf.Services {
		if !isDingbot(s) {
			continue
		}
		n := 1
		if s.Deploy.Replicas != nil {
			n = *s.Deploy.Replicas
		}
		replicas += n

		// Every variable set is a documented setting, env files included.
		keys, env := s.environment(t)
		checkSettings(t, "compose.yaml service "+name, keys)
		for _, f := range s.envFiles(t) {
			example := filepath.Join(deployDir, f+".example")
			fkeys, fvals := readEnvExample(t, example)
			checkSettings(t, filepath.Base(example), fkeys)
			for _, k := range fkeys {
				if _, set := env[k]; !set {
					env[k] = fvals[k]
				}
				if (strings.Contains(k, "SECRET") || k == "DINGBOT_DATABASE_URL") && !strings.Contains(fvals[k], placeholder) {
					t.Errorf("%s: %s is not a %s placeholder", filepath.Base(example), k, placeholder)
				}
			}
		}
		for _, k := range []string{"DINGTALK_CLIENT_SECRET", "DINGBOT_DATABASE_URL"} {
			if slices.Contains(keys, k) {
				t.Errorf("service %s: %s belongs in the env file, not in compose.yaml", name, k)
			}
		}
		cfg := loadConfig(t, "compose.yaml service "+name, env)

		// The shared database is the postgres service, waited for healthy.
		if u, err := url.Parse(cfg.DatabaseURL); err != nil || u.Hostname() != pgName {
			t.Errorf("service %s: DINGBOT_DATABASE_URL does not point at the %s service", name, pgName)
		}
		deps, _ := s.DependsOn.(map[string]any)
		dep, _ := deps[pgName].(map[string]any)
		if dep["condition"] != "service_healthy" {
			t.Errorf("service %s does not depend on %s being healthy", name, pgName)
		}
		if s.Restart == "" || s.Restart == "no" {
			t.Errorf("service %s has no restart policy", name)
		}
		grace, err := time.ParseDuration(s.StopGrace)
		if err != nil {
			t.Errorf("service %s: stop_grace_period %q (Compose's default, 10s, is below the shutdown timeout)", name, s.StopGrace)
		} else if grace <= cfg.ShutdownTimeout+httpServerStop {
			t.Errorf("service %s: stop_grace_period %v does not exceed DINGBOT_SHUTDOWN_TIMEOUT %v plus %v for the HTTP server", name, grace, cfg.ShutdownTimeout, httpServerStop)
		}
		// A published port is the probe listener.
		_, addr := probeAddr(cfg)
		_, probePort := addrPort(t, addr)
		for _, p := range s.Ports {
			spec := yamlScalar(p)
			target := spec[strings.LastIndex(spec, ":")+1:]
			if target != strconv.Itoa(probePort) {
				t.Errorf("service %s publishes %q; dingbot listens on %d", name, spec, probePort)
			}
		}
		// The health check is the binary's own (the image has no shell or
		// curl), run as the image's entry point names it.
		if s.Healthcheck == nil || yamlText(s.Healthcheck.Test) != "CMD /usr/local/bin/dingbot healthcheck" {
			t.Errorf("service %s: health check %v, want [CMD, /usr/local/bin/dingbot, healthcheck]", name, s.Healthcheck)
		}
	}
	if replicas < 2 {
		t.Errorf("compose.yaml runs %d dingbot replicas, want two", replicas)
	}
}

func yamlText(v any) string {
	if l, ok := v.([]any); ok {
		var parts []string
		for _, x := range l {
			parts = append(parts, yamlScalar(x))
		}
		return strings.Join(parts, " ")
	}
	return yamlScalar(v)
}

// --- Dockerfile ---

// TestDeployDockerfileDataDir: the runtime image runs as nonroot with the
// working directory /, so DINGBOT_DATA_DIR must name a directory the image
// creates owned by nonroot (from an empty one made 0700 in the build stage:
// distroless has no shell).
func TestDeployDockerfileDataDir(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.LastIndex(text, "\nFROM ")
	if i < 0 {
		t.Fatal("Dockerfile has no runtime stage")
	}
	build, runtime := text[:i], text[i:]

	m := regexp.MustCompile(`(?m)^ENV DINGBOT_DATA_DIR[= ](\S+)\s*$`).FindStringSubmatch(runtime)
	if m == nil {
		t.Fatal("the runtime stage does not set ENV DINGBOT_DATA_DIR")
	}
	dataDir := strings.Trim(m[1], `"`)
	if !filepath.IsAbs(dataDir) {
		t.Errorf("DINGBOT_DATA_DIR=%s is relative to the working directory", dataDir)
	}
	if !regexp.MustCompile(`(?m)^USER (nonroot|65532)\b`).MatchString(runtime) {
		t.Error("the runtime stage does not run as nonroot")
	}

	copyRe := regexp.MustCompile(`(?m)^COPY (.*)$`)
	var source string
	for _, c := range copyRe.FindAllStringSubmatch(runtime, -1) {
		fields := strings.Fields(c[1])
		if len(fields) < 2 || strings.TrimSuffix(fields[len(fields)-1], "/") != dataDir {
			continue
		}
		if !slices.Contains(fields, "--chown=nonroot:nonroot") && !slices.Contains(fields, "--chown=65532:65532") {
			t.Errorf("COPY to %s is not --chown=nonroot:nonroot", dataDir)
		}
		if !slices.ContainsFunc(fields, func(f string) bool { return strings.HasPrefix(f, "--from=") }) {
			t.Errorf("COPY to %s does not come from the build stage", dataDir)
		}
		source = fields[len(fields)-2]
	}
	if source == "" {
		t.Fatalf("the runtime stage creates no %s (want COPY --from=build --chown=nonroot:nonroot DIR %s)", dataDir, dataDir)
	}
	mkdir := regexp.MustCompile(`(?m)^RUN mkdir (-m 0?700|--mode=0?700) ` + regexp.QuoteMeta(source) + `\s*$`)
	if !mkdir.MatchString(build) {
		t.Errorf("the build stage does not make %s with mode 0700 (`RUN mkdir -m 0700 %s`): dingbot warns about a data directory others can read", source, source)
	}
}

// TestHealthcheckCommand: `dingbot healthcheck`, the container health check
// of an image without curl, exits 0 while the bot is ready and 1 once it is
// gone; --live asks /healthz.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	w := newWorld(t, dingtalktest.Options{}, nil)
	w.bot.waitReady(t, 200)
	env := map[string]string{"DINGBOT_HTTP_ADDR": w.bot.httpAddr}
	for _, args := range [][]string{{"healthcheck"}, {"healthcheck", "--live"}} {
		out, stderr, code := runCLI(t, env, args...)
		if code != 0 || !strings.Contains(out, " 200 ") {
			t.Errorf("dingbot %v while ready: exit %d, %q %q", args, code, out, stderr)
		}
	}
	w.bot.Stop(t)
	if _, _, code := runCLI(t, env, "healthcheck"); code != 1 {
		t.Errorf("dingbot healthcheck with the bot stopped: exit %d, want 1", code)
	}
	if _, stderr, code := runCLI(t, env, "healthcheck", "extra"); code != 2 || stderr == "" {
		t.Errorf("dingbot healthcheck extra: exit %d, %q", code, stderr)
	}
}
