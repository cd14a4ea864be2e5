// This file parses single setting values, with errors that name the setting
// and never echo a secret.

package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func baseURL(env, v string) (string, error) {
	u, err := url.Parse(v)
	if err == nil && u.User != nil {
		return "", fmt.Errorf("%s: %q must not hold a user name or password", env, redactURL(v))
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("%s: %q is not an http(s) base URL such as https://api.dingtalk.com", env, redactURL(v))
	}
	return strings.TrimRight(v, "/"), nil
}

// redactURL makes a URL setting fit for an error message: whatever may be
// credentials is replaced with [redacted], even when v does not parse. That
// is everything before the last "@" (after the "//" if there is one: the user
// name and password) and the query, where tokens go.
func redactURL(v string) string {
	if at := strings.LastIndexByte(v, '@'); at >= 0 {
		start := 0
		if i := strings.Index(v, "//"); i >= 0 && i+2 <= at {
			start = i + 2
		}
		v = v[:start] + "[redacted]" + v[at:]
	}
	if q := strings.IndexByte(v, '?'); q >= 0 && q+1 < len(v) {
		v = v[:q+1] + "[redacted]"
	}
	return v
}

func duration(env, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration such as 500ms, 5s or 1m", env, v)
	}
	return d, nil
}

// durationOrOff is duration where "0" means off (returned as a negative value).
func durationOrOff(env, v string, def time.Duration) (time.Duration, error) {
	if v == "0" || v == "off" {
		return -1, nil
	}
	return duration(env, v, def)
}

// byteSize parses a size in bytes: a whole number, optionally followed by
// KiB or MiB (also K, KB, M, MB, all powers of 1024), from 1KiB to 16MiB.
func byteSize(env, v string, def int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	num, unit := v, int64(1)
	lower := strings.ToLower(v)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"kb", 1 << 10}, {"k", 1 << 10}, {"mib", 1 << 20}, {"mb", 1 << 20}, {"m", 1 << 20}, {"b", 1}} {
		if strings.HasSuffix(lower, u.suffix) {
			num, unit = strings.TrimSpace(lower[:len(lower)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (16<<20)/unit || n*unit < 1<<10 {
		return 0, fmt.Errorf("%s: %q is not a size from 1KiB to 16MiB, such as 65536, 64KiB or 1MiB", env, v)
	}
	return n * unit, nil
}

// proxies parses DINGBOT_TRUSTED_PROXIES: comma-separated IP addresses or CIDRs.
func proxies(v string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return nil, fmt.Errorf("DINGBOT_TRUSTED_PROXIES: %q is not an IP address or CIDR (example: 10.0.0.0/8,192.168.1.5)", p)
		}
		out = append(out, p)
	}
	return out, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
