package store

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// mask is what a secret is replaced by.
const mask = "xxxxx"

// secretParam reports whether a connection parameter's value is a secret:
// password, or sslpassword (the passphrase of the client key), in any case.
func secretParam(key string) bool {
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "password", "sslpassword":
		return true
	}
	return false
}

// Redact returns a database setting (DINGBOT_DATABASE_URL) fit for logs and
// errors. In a URL the userinfo password and the values of password and
// sslpassword query parameters (in any case) become "xxxxx" and the fragment
// is dropped; a URL that does not parse, or whose '@' after the host part
// makes it unclear where a password ends (an unencoded '/', '?' or '#' in
// it), is reduced to its scheme. In a key=value connection string the
// password and sslpassword values become "xxxxx". sqlite:PATH and
// file:PATH are kept; anything else is reduced to its scheme, or to "…".
// Whatever the form, no password or sslpassword value of the input is left
// in the result.
func Redact(databaseURL string) string {
	s := databaseURL
	var out string
	switch scheme := urlScheme(s); {
	case scheme != "":
		out = redactURL(s, scheme)
	case hasPrefixFold(s, "sqlite:"), hasPrefixFold(s, "file:"), strings.Contains(s, "="):
		out = s // paths hold no secrets; key=value is masked below
	default:
		out = "…"
		if scheme, _, ok := strings.Cut(s, ":"); ok && validScheme(scheme) {
			out = scheme + ":…"
		}
	}
	return redactText(out, connSecrets(s))
}

// urlScheme returns the scheme of s if s starts "scheme://", or "".
func urlScheme(s string) string {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || !validScheme(scheme) {
		return ""
	}
	return scheme
}

// validScheme reports whether s is a URL scheme (RFC 3986).
func validScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// redactURL masks the secrets of s, a URL with the given scheme.
func redactURL(s, scheme string) string {
	u, err := url.Parse(s)
	if err != nil || ambiguousURL(s[len(scheme)+len("://"):]) {
		return scheme + ":…"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), mask)
		}
	}
	u.RawQuery = redactQuery(u.RawQuery)
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// ambiguousURL reports whether rest (a URL after "scheme://") has an '@'
// after its host part with a ':' somewhere before it, the shape of a
// password holding an unencoded '/', '?' or '#' (user:pass/word@host): then
// the parsed host, port, path or query may hold part of the password.
func ambiguousURL(rest string) bool {
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest, "@")
	return at > end && strings.Contains(rest[:at], ":")
}

// redactQuery masks the values of the secret parameters of a raw query,
// keeping everything else as it is.
func redactQuery(raw string) string {
	if raw == "" {
		return raw
	}
	pairs := strings.Split(raw, "&")
	for i, p := range pairs {
		if k, _, ok := strings.Cut(p, "="); ok && secretParam(unescape(k)) {
			pairs[i] = k + "=" + mask
		}
	}
	return strings.Join(pairs, "&")
}

// unescape decodes a query component, or returns it as it is if it does
// not decode.
func unescape(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// connSecrets returns the secret values in a connection string, URL or
// key=value, spelled every way a driver may echo them (raw and decoded).
// Where the string is malformed it errs on the side of more (and longer)
// candidates: redactText replaces every one of them.
func connSecrets(conn string) []string {
	var out []string
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	addDecoded := func(v string) {
		add(v)
		if d, err := url.PathUnescape(v); err == nil {
			add(d)
		}
		if d, err := url.QueryUnescape(v); err == nil {
			add(d)
		}
	}
	if _, rest, ok := strings.Cut(conn, "://"); ok {
		// The userinfo password as pgx finds it (up to the first '@'
		// before any '/'), as net/url does (up to the last '@' of the host
		// part) and, for a password holding an unencoded '/', '?' or '#',
		// everything from the first ':' to the last '@'.
		if i := strings.IndexAny(rest, "@/"); i >= 0 && rest[i] == '@' {
			if _, pw, ok := strings.Cut(rest[:i], ":"); ok {
				addDecoded(pw)
			}
		}
		host := rest
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if i := strings.LastIndex(host, "@"); i >= 0 {
			if _, pw, ok := strings.Cut(host[:i], ":"); ok {
				addDecoded(pw)
			}
		}
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			if _, pw, ok := strings.Cut(rest[:i], ":"); ok {
				addDecoded(pw)
			}
		}
		if _, query, ok := strings.Cut(rest, "?"); ok {
			for p := range strings.SplitSeq(query, "&") {
				if k, v, ok := strings.Cut(p, "="); ok && secretParam(unescape(k)) {
					addDecoded(v)
					if v, _, cut := strings.Cut(v, "#"); cut {
						addDecoded(v)
					}
				}
			}
		}
	}
	// key=value settings (in a URL too, for its malformed shapes).
	kv := regexp.MustCompile(`(?i)(?:^|[\s?&;])(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'?|(?:[^\s\\]|\\.)*)`)
	for _, m := range kv.FindAllStringSubmatch(conn, -1) {
		v := m[1]
		addDecoded(v)
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
			add(v)
		}
		add(regexp.MustCompile(`\\(.)`).ReplaceAllString(v, "$1")) // as libpq unescapes it
	}
	return out
}

// redactText masks secrets in s: every one of secrets (longest first), then
// whatever still looks like a password or sslpassword setting (key=value or
// query parameter, any case) or a URL's userinfo password.
func redactText(s string, secrets []string) string {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, x := range secrets {
		if x != "" {
			s = strings.ReplaceAll(s, x, mask)
		}
	}
	if lower := strings.ToLower(s); strings.Contains(lower, "password") {
		kv := regexp.MustCompile(`(?i)((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&'"` + "`" + `]*)`)
		s = kv.ReplaceAllString(s, "${1}"+mask)
	}
	if strings.Contains(s, "://") {
		userinfo := regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@` + "`" + `]*):[^\s@` + "`" + `]*@`)
		s = userinfo.ReplaceAllString(s, "${1}:"+mask+"@")
	}
	return s
}

// scrub returns err with the secrets masked in its message (redactText),
// or err itself when nothing was masked. The masked error matches
// errors.Is like err, but does not unwrap to it.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := redactText(msg, secrets); clean != msg {
		return &scrubbedError{msg: clean, err: err}
	}
	return err
}

// scrubbedError is an error whose message had secrets masked.
type scrubbedError struct {
	msg string
	err error // the original, never exposed
}

func (e *scrubbedError) Error() string { return e.msg }

// Is reports whether the original error matches target.
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }
