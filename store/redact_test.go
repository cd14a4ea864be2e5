package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h:5432/db?sslmode=disable":             "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db":                                     "postgres://u@h/db",
		"postgres://h/db?password=pw&user=u":                    "postgres://h/db?password=xxxxx&user=u",
		"postgres://u@h/db?sslpassword=pw&sslmode=require":      "postgres://u@h/db?sslpassword=xxxxx&sslmode=require",
		"postgresql://h/db?user=u&PassWord=pw&SSLPASSWORD=pw2":  "postgresql://h/db?user=u&PassWord=xxxxx&SSLPASSWORD=xxxxx",
		"postgres://h/db?pass%77ord=pw":                         "postgres://h/db?pass%77ord=xxxxx",
		"POSTGRES://u:pw@h/db#pw":                               "postgres://u:xxxxx@h/db",
		"postgres://u:pass/word@h/db":                           "postgres:…", // does not parse
		"postgres://u:1234#word@h/db":                           "postgres:…", // the password may be in the port
		"postgres://u:pw@h/db?application_name=a@b":             "postgres:…",
		"postgres://u@h/db?application_name=a@b":                "postgres://u@h/db?application_name=a@b",
		"host=h user=u password=pw sslpassword='p w' dbname=x":  "host=h user=u password=xxxxx sslpassword=xxxxx dbname=x",
		"host=h PASSWORD = pw dbname=x":                         "host=h PASSWORD = xxxxx dbname=x",
		"sqlite:/var/lib/dingbot/dingbot.db":                    "sqlite:/var/lib/dingbot/dingbot.db",
		"file:data/x.db":                                        "file:data/x.db",
		"s3cretpw":                                              "…",
		"mysql:s3cretpw":                                        "mysql:…",
		"mysql://root:s3cretpw@db/x?sslpassword=s3cretpw2#frag": "mysql://root:xxxxx@db/x?sslpassword=xxxxx",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// Whatever the shape, the secrets are gone.
	for in, secrets := range leakCases() {
		got := Redact(in)
		for _, sec := range secrets {
			if strings.Contains(got, sec) {
				t.Errorf("Redact(%q) = %q: contains %q", in, got, sec)
			}
		}
	}
}

// leakCases are database settings, each with the secrets (or parts of
// them) no error or log line may contain. The PostgreSQL ones cannot be
// connected to (port 1) or do not parse.
func leakCases() map[string][]string {
	return map[string][]string{
		"postgres://u@h/db?sslpassword=TOPSECRET&connect_timeout=abc":                                         {"TOPSECRET"},
		"postgres://h/db?PASSWORD=TOPSECRET&connect_timeout=abc":                                              {"TOPSECRET"},
		"postgresql://h/db?SSLPassword=TOPSECRET&connect_timeout=abc":                                         {"TOPSECRET"},
		"postgres://h/db?pass%77ord=TOPSECRET&connect_timeout=abc":                                            {"TOPSECRET"},
		"postgres://u:TOPSECRET@127.0.0.1:1/db?sslpassword=TOPSECRET2&connect_timeout=1&sslmode=disable":      {"TOPSECRET"},
		"POSTGRES://u:TOPSECRET@127.0.0.1:1/db?SSLPASSWORD=TOPSECRET2&connect_timeout=1&sslmode=disable":      {"TOPSECRET"},
		"postgresql://127.0.0.1:1/db?user=u&password=TOP%20SECRET&connect_timeout=1&sslmode=disable":          {"TOP%20SECRET", "TOP SECRET"},
		"postgres://u:TOPSECRET@h/db?x=%zz":                                                                   {"TOPSECRET"},
		"postgres://u:TOP%SECRET@h/db":                                                                        {"TOP%SECRET"},
		"postgres://u:TOP/SECRET@127.0.0.1:1/db?connect_timeout=1":                                            {"TOP/SECRET", "SECRET"},
		"postgres://u:12#TOPSECRET@127.0.0.1:1/db?connect_timeout=1":                                          {"TOPSECRET"},
		"postgres://u:TOPSECRET@h:port/db":                                                                    {"TOPSECRET"},
		"host=127.0.0.1 port=1 user=u password=TOPSECRET sslpassword=TOPSECRET2 dbname=x connect_timeout=1":   {"TOPSECRET"},
		"host=127.0.0.1 port=1 user=u password = 'TOP SECRET' sslmode=disable dbname=x connect_timeout=1":     {"TOP SECRET", "SECRET"},
		"host=127.0.0.1 port=1 user=u PASSWORD=TOPSECRET SSLPassword=TOPSECRET2 dbname=x connect_timeout=abc": {"TOPSECRET"},
	}
}

// TestPostgresErrorsRedacted: the PostgreSQL engine's errors (pgx parse
// errors quote the connection string; connection errors) never hold a
// secret of its connection string, in URL or key=value form.
func TestPostgresErrorsRedacted(t *testing.T) {
	ctx := context.Background()
	for in, secrets := range leakCases() {
		_, err := openPostgres(ctx, in)
		if err == nil {
			t.Fatalf("openPostgres(%q) succeeded", in)
		}
		for _, sec := range secrets {
			if strings.Contains(err.Error(), sec) {
				t.Errorf("openPostgres(%q) error contains %q: %v", in, sec, err)
			}
		}
	}
}

func TestScrub(t *testing.T) {
	err := fmt.Errorf("dial postgres://u:pw@h/db?sslpassword=k3y password='a b' token=TOPSECRET: %w", context.DeadlineExceeded)
	got := scrub(err, []string{"TOPSECRET"})
	if want := "dial postgres://u:xxxxx@h/db?sslpassword=xxxxx password=xxxxx token=xxxxx: context deadline exceeded"; got.Error() != want {
		t.Errorf("scrub = %q, want %q", got, want)
	}
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Error("the scrubbed error does not match its cause")
	}
	if errors.Unwrap(got) != nil {
		t.Error("the scrubbed error unwraps to the original")
	}
	plain := errors.New("connection refused")
	if scrub(plain, []string{"TOPSECRET"}) != plain || scrub(nil, nil) != nil {
		t.Error("scrub changed an error without secrets")
	}
}
