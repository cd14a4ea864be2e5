package dingclient

import (
	"net/url"
	"strings"
)

// sensitiveParams are query parameters whose values are credentials: the
// session key of a session webhook, the legacy APIs' access token, the legacy
// gettoken credentials, and a custom robot's signature.
var sensitiveParams = map[string]bool{
	"session":      true,
	"access_token": true,
	"appkey":       true,
	"appsecret":    true,
	"corpsecret":   true,
	"sign":         true,
}

// redactURL returns rawURL with the values of sensitive query parameters
// (session, access_token, appkey, appsecret, corpsecret, sign; any case) and
// any userinfo password replaced by REDACTED, like go-github's sanitizeURL. The
// order of the query parameters is kept. It is used for every URL that can end
// up in an error or a log.
func redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Best effort on a URL that does not parse: redact the query text as is.
		base, query, ok := strings.Cut(rawURL, "?")
		if !ok {
			return rawURL
		}
		query, frag, hasFrag := strings.Cut(query, "#")
		s := base + "?" + redactQuery(query)
		if hasFrag {
			s += "#" + frag
		}
		return s
	}
	changed := false
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
			changed = true
		}
	}
	if q := redactQuery(u.RawQuery); q != u.RawQuery {
		u.RawQuery, changed = q, true
	}
	if !changed {
		return rawURL // keep the text exactly as given
	}
	return u.String()
}

// redactQuery replaces the values of sensitive parameters in a raw query.
func redactQuery(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if ok && sensitiveParams[strings.ToLower(name)] {
			parts[i] = k + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}
