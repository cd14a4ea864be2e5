package callback_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dingbot/dingbot/bot"
	"github.com/dingbot/dingbot/bot/callback"
	"github.com/dingbot/dingbot/internal/testutil"
)

const secret = "app-secret-0123456789"

// now is the fixed clock of every test.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// sign is DingTalk's algorithm written out independently of the package.
func sign(ts, key string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + "\n" + key))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

const validBody = `{"conversationId":"cidGroup==","atUsers":[{"dingtalkId":"$:LWCP_v1:$bot"},{"dingtalkId":"$:LWCP_v1:$bob","staffId":"bob02"}],
"chatbotCorpId":"dingcorp","chatbotUserId":"$:LWCP_v1:$bot","msgId":"msgA==","senderNick":"Lead","isAdmin":false,
"senderStaffId":"lead01","sessionWebhookExpiredTime":1748782800000,"createAt":1748779200000,"senderCorpId":"dingcorp",
"conversationType":"2","senderId":"$:LWCP_v1:$lead","conversationTitle":"Team","isInAtList":true,
"sessionWebhook":"https://oapi.dingtalk.com/robot/sendBySession?session=abc","text":{"content":" /newgroup Ops @Bob"},
"robotCode":"dingbot","msgtype":"text"}`

// recorder is a bot.HandlerFunc that records messages and fails with err if set.
type recorder struct {
	mu   sync.Mutex
	msgs []bot.Message
	err  error
}

func (r *recorder) handle(m bot.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *recorder) got() []bot.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Message(nil), r.msgs...)
}

type fixture struct {
	cb       *callback.Callback
	rec      *recorder
	logs     *testutil.SyncBuffer
	registry *prometheus.Registry
	mux      *http.ServeMux
}

// mount serves cb on POST callback.Path, as dingbot's HTTP listener does.
func mount(cb *callback.Callback) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(http.MethodPost+" "+callback.Path, cb)
	return mux
}

func newFixture(t *testing.T, maxBody int64) *fixture {
	t.Helper()
	f := &fixture{rec: &recorder{}, logs: &testutil.SyncBuffer{}, registry: prometheus.NewRegistry()}
	f.cb = callback.New(callback.Options{
		AppSecret:  secret,
		MaxBody:    maxBody,
		Logger:     slog.New(slog.NewJSONHandler(f.logs, nil)),
		Registerer: f.registry,
		Now:        func() time.Time { return now },
	}, f.rec.handle)
	f.mux = mount(f.cb)
	return f
}

// post sends body with the given headers (nil values are left out).
func (f *fixture) post(t *testing.T, headers map[string]string, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, callback.Path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

func signed(at time.Time) map[string]string {
	ts := ms(at)
	return map[string]string{"timestamp": ts, "sign": sign(ts, secret)}
}

func TestSignatureCases(t *testing.T) {
	ts := ms(now)
	secs := strconv.FormatInt(now.Unix(), 10)
	good := sign(ts, secret)
	tampered := []byte(good)
	tampered[3] ^= 1
	cases := []struct {
		name    string
		headers map[string]string
		want    int
		reason  string
	}{
		{"valid", map[string]string{"timestamp": ts, "sign": good}, 200, ""},
		{"missing timestamp", map[string]string{"sign": good}, 401, "missing timestamp header"},
		{"empty timestamp", map[string]string{"timestamp": "  ", "sign": good}, 401, "missing timestamp header"},
		{"missing sign", map[string]string{"timestamp": ts}, 401, "missing sign header"},
		{"empty sign", map[string]string{"timestamp": ts, "sign": ""}, 401, "missing sign header"},
		{"no headers", nil, 401, "missing timestamp header"},
		{"non-numeric timestamp", map[string]string{"timestamp": "noon", "sign": sign("noon", secret)}, 401, "timestamp is not a number of milliseconds"},
		{"timestamp in seconds is stale", map[string]string{"timestamp": secs, "sign": sign(secs, secret)}, 401, "timestamp is too far from now"},
		{"hex timestamp", map[string]string{"timestamp": "0x1", "sign": sign("0x1", secret)}, 401, "timestamp is not a number of milliseconds"},
		{"stale -6min", signed(now.Add(-6 * time.Minute)), 401, "timestamp is too far from now"},
		{"future +6min", signed(now.Add(6 * time.Minute)), 401, "timestamp is too far from now"},
		{"within DingTalk's hour but outside the window", signed(now.Add(-30 * time.Minute)), 401, "timestamp is too far from now"},
		{"past 4min ok", signed(now.Add(-4 * time.Minute)), 200, ""},
		{"future 4min ok", signed(now.Add(4 * time.Minute)), 200, ""},
		{"exactly the window ok", signed(now.Add(-callback.DefaultWindow)), 200, ""},
		{"the window and 1ms", signed(now.Add(-callback.DefaultWindow - time.Millisecond)), 401, "timestamp is too far from now"},
		{"wrong secret", map[string]string{"timestamp": ts, "sign": sign(ts, "another-secret")}, 401, "sign does not match"},
		{"tampered sign", map[string]string{"timestamp": ts, "sign": string(tampered)}, 401, "sign does not match"},
		{"sign of another timestamp", map[string]string{"timestamp": ts, "sign": sign(ms(now.Add(time.Second)), secret)}, 401, "sign does not match"},
		{"sign without base64 padding", map[string]string{"timestamp": ts, "sign": strings.TrimRight(good, "=")}, 401, "sign does not match"},
		{"spaces trimmed", map[string]string{"timestamp": "  " + ts + " ", "sign": "\t" + good + "  "}, 200, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 0)
			body := strings.Replace(validBody, "msgA==", "msg"+strconv.Itoa(i), 1)
			code, resp := f.post(t, tc.headers, body)
			if code != tc.want {
				t.Fatalf("status %d (%s), want %d", code, resp, tc.want)
			}
			if tc.want == 200 {
				if resp != "{}" {
					t.Errorf("body %q, want {}", resp)
				}
				if n := len(f.rec.got()); n != 1 {
					t.Errorf("%d messages handled, want 1", n)
				}
				return
			}
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(resp), &e); err != nil || e.Error != tc.reason {
				t.Errorf("body %q, want {\"error\":%q}", resp, tc.reason)
			}
			if n := len(f.rec.got()); n != 0 {
				t.Errorf("%d messages handled after a bad signature, want 0", n)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, "callback rejected") {
				t.Errorf("no warn log for the rejection: %s", logs)
			}
			if s := tc.headers["sign"]; strings.TrimSpace(s) != "" && strings.Contains(logs, strings.TrimSpace(s)) {
				t.Errorf("the sign appears in the log: %s", logs)
			}
			if strings.Contains(logs, secret) {
				t.Errorf("the secret appears in the log")
			}
		})
	}
}

func TestVerify(t *testing.T) {
	ts := ms(now)
	if err := callback.Verify(ts, sign(ts, secret), secret, now); err != nil {
		t.Errorf("valid: %v", err)
	}
	// Fail closed without a secret, even if the sign is "right" for the empty key.
	if err := callback.Verify(ts, sign(ts, ""), "", now); !errors.Is(err, callback.ErrNoSecret) {
		t.Errorf("empty secret: %v, want ErrNoSecret", err)
	}
	if got := callback.Sign("1577262236757", "testsecret"); got != "J+BiSbR3jshnMXl7lBt86VHVkxu/BShC2VzSWYBVCKE=" {
		t.Errorf("Sign = %q, want the vector computed with Python", got)
	}
}

func TestEmptySecretRejectsEverything(t *testing.T) {
	rec := &recorder{}
	cb := callback.New(callback.Options{Now: func() time.Time { return now }}, rec.handle)
	e := mount(cb)
	ts := ms(now)
	req := httptest.NewRequest(http.MethodPost, callback.Path, strings.NewReader(validBody))
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", sign(ts, ""))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	if w.Code != 401 || len(rec.got()) != 0 {
		t.Errorf("status %d, %d handled; want 401, 0", w.Code, len(rec.got()))
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, 1024)
	pad := strings.Repeat("x", 1024)
	big := strings.Replace(validBody, `"msgtype":"text"`, `"msgtype":"text","pad":"`+pad+`"`, 1)
	code, resp := f.post(t, signed(now), big)
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d (%s), want 413", code, resp)
	}
	if !strings.Contains(resp, "larger than 1024 bytes") {
		t.Errorf("body %q", resp)
	}

	// Without a Content-Length the limit is enforced while reading.
	req := httptest.NewRequest(http.MethodPost, callback.Path, struct{ *strings.Reader }{strings.NewReader(big)})
	req.ContentLength = -1
	for k, v := range signed(now) {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: status %d, want 413", w.Code)
	}

	// The signature is checked first: an unsigned big body is 401.
	if code, _ := f.post(t, nil, big); code != http.StatusUnauthorized {
		t.Errorf("unsigned big body: status %d, want 401", code)
	}
	if n := len(f.rec.got()); n != 0 {
		t.Errorf("%d messages handled, want 0", n)
	}

	// Exactly at the limit is fine.
	exact := validBody
	if len(exact) > 1024 {
		t.Fatalf("validBody is %d bytes", len(exact))
	}
	exact = strings.Replace(exact, `"msgtype":"text"`, `"msgtype":"text","pad":"`+strings.Repeat("y", 1024-len(exact)-9)+`"`, 1)
	if len(exact) != 1024 {
		t.Fatalf("exact body is %d bytes", len(exact))
	}
	if code, resp := f.post(t, signed(now), exact); code != 200 {
		t.Errorf("body of exactly the limit: status %d (%s), want 200", code, resp)
	}
}

func TestDefaultBodyLimitIs64KiB(t *testing.T) {
	f := newFixture(t, 0)
	body := strings.Replace(validBody, `"msgtype":"text"`, `"msgtype":"text","pad":"`+strings.Repeat("z", 64<<10)+`"`, 1)
	if code, _ := f.post(t, signed(now), body); code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", code)
	}
}

func TestMalformedBodies(t *testing.T) {
	for _, tc := range []struct{ name, body, reason string }{
		{"empty", "", "body is not a JSON robot message"},
		{"not JSON", "msgId=1", "body is not a JSON robot message"},
		{"truncated", validBody[:50], "body is not a JSON robot message"},
		{"array", `[1,2]`, "body is not a JSON robot message"},
		{"wrong type", `{"msgId":1,"conversationId":"c"}`, "body is not a JSON robot message"},
		{"no msgId", `{"conversationId":"cid","text":{"content":"/help"}}`, "msgId and conversationId are required"},
		{"no conversationId", `{"msgId":"m1","text":{"content":"/help"}}`, "msgId and conversationId are required"},
		{"blank msgId", `{"msgId":"  ","conversationId":"cid"}`, "msgId and conversationId are required"},
		{"null", `null`, "msgId and conversationId are required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 0)
			code, resp := f.post(t, signed(now), tc.body)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d (%s), want 400", code, resp)
			}
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(resp), &e); err != nil || e.Error != tc.reason {
				t.Errorf("body %q, want error %q", resp, tc.reason)
			}
			if n := len(f.rec.got()); n != 0 {
				t.Errorf("%d messages handled, want 0", n)
			}
		})
	}
}

func TestMessageIsConvertedLikeStream(t *testing.T) {
	f := newFixture(t, 0)
	if code, resp := f.post(t, signed(now), validBody); code != 200 || resp != "{}" {
		t.Fatalf("status %d %q, want 200 {}", code, resp)
	}
	msgs := f.rec.got()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.MsgID != "msgA==" || m.ConversationID != "cidGroup==" || !m.Group || m.SenderStaffID != "lead01" || m.SenderNick != "Lead" ||
		m.BotUserID != "$:LWCP_v1:$bot" || m.MsgType != "text" || m.Text != " /newgroup Ops @Bob" ||
		m.SessionWebhook != "https://oapi.dingtalk.com/robot/sendBySession?session=abc" || !m.SessionExpires.Equal(time.UnixMilli(1748782800000)) {
		t.Errorf("message = %+v", m)
	}
	if len(m.Mentions) != 2 || m.Mentions[1].StaffID != "bob02" || m.Mentions[1].DingtalkID != "$:LWCP_v1:$bob" {
		t.Errorf("mentions = %+v", m.Mentions)
	}
}

func TestHandleErrorIs503(t *testing.T) {
	f := newFixture(t, 0)
	f.rec.err = errors.New("database is locked")
	code, resp := f.post(t, signed(now), validBody)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%s), want 503", code, resp)
	}
	if strings.Contains(resp, "database") {
		t.Errorf("the internal error leaks into the response: %s", resp)
	}
	if !strings.Contains(f.logs.String(), "database is locked") {
		t.Errorf("the store error is not logged: %s", f.logs.String())
	}

	f.rec.err = bot.ErrStopping
	if code, _ := f.post(t, signed(now), validBody); code != http.StatusServiceUnavailable {
		t.Errorf("core stopping: status %d, want 503", code)
	}
}

func TestStopRefusesNewCallbacks(t *testing.T) {
	f := newFixture(t, 0)
	if !f.cb.Accepting() {
		t.Fatal("a new Callback is not accepting")
	}
	f.cb.Stop()
	if f.cb.Accepting() {
		t.Error("Accepting after Stop")
	}
	code, resp := f.post(t, signed(now), validBody)
	if code != http.StatusServiceUnavailable || !strings.Contains(resp, "shutting down") {
		t.Errorf("after Stop: %d %s, want 503 shutting down", code, resp)
	}
	if n := len(f.rec.got()); n != 0 {
		t.Errorf("%d messages handled after Stop, want 0", n)
	}
}

func TestMetricsCountStatuses(t *testing.T) {
	f := newFixture(t, 1024)
	f.post(t, signed(now), validBody)
	f.post(t, nil, validBody)
	f.post(t, signed(now.Add(-2*time.Hour)), validBody)
	f.post(t, signed(now), "{")
	f.post(t, signed(now), validBody+strings.Repeat(" ", 2000))
	families, err := f.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range families {
		if mf.GetName() != "dingbot_callback_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" {
					got[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	want := map[string]float64{"200": 1, "400": 1, "401": 2, "413": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dingbot_callback_requests_total by status = %v, want %v", got, want)
	}
}

func TestOnlyPOST(t *testing.T) {
	f := newFixture(t, 0)
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, callback.Path, nil))
	if w.Code == http.StatusOK {
		t.Errorf("GET answered 200")
	}
	if mfs, err := f.registry.Gather(); err != nil || len(mfs) != 0 {
		t.Errorf("a GET was counted as a callback: %v %v", mfs, err)
	}
}

// TestResponsesAreCompactJSON pins the bytes DingTalk and operators see.
func TestResponsesAreCompactJSON(t *testing.T) {
	f := newFixture(t, 0)
	for _, tc := range []struct {
		headers map[string]string
		code    int
		body    string
	}{
		{signed(now), 200, `{}`},
		{nil, 401, `{"error":"missing timestamp header"}`},
	} {
		req := httptest.NewRequest(http.MethodPost, callback.Path, strings.NewReader(validBody))
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		f.cb.ServeHTTP(w, req)
		if w.Code != tc.code || w.Body.String() != tc.body || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("%d %q %q, want %d %q application/json; charset=utf-8", w.Code, w.Header().Get("Content-Type"), w.Body.String(), tc.code, tc.body)
		}
	}
}

// withMsgID is validBody with another msgId.
func withMsgID(id string) string { return strings.Replace(validBody, "msgA==", id, 1) }

// TestOneHeaderPairAdmitsAHandfulOfMessages replays the headers of one
// captured request with fresh msgIds: the signature covers only the
// timestamp, so without a bound each would be taken for an hour.
func TestOneHeaderPairAdmitsAHandfulOfMessages(t *testing.T) {
	f := newFixture(t, 0)
	captured := signed(now)
	for i := range 20 {
		code, resp := f.post(t, captured, withMsgID("forged"+strconv.Itoa(i)))
		want := 200
		if i >= callback.DefaultMaxPerSign {
			want = 401
		}
		if code != want {
			t.Fatalf("message %d under one header pair: %d %s, want %d", i, code, resp, want)
		}
		if want == 401 && !strings.Contains(resp, callback.ErrSignUsedUp.Error()) {
			t.Errorf("refusal body %s, want %q", resp, callback.ErrSignUsedUp)
		}
	}
	if n := len(f.rec.got()); n != callback.DefaultMaxPerSign {
		t.Fatalf("%d messages reached the core, want %d", n, callback.DefaultMaxPerSign)
	}
	// A redelivery of an admitted message is still taken (the core deduplicates it).
	if code, _ := f.post(t, captured, withMsgID("forged0")); code != 200 {
		t.Errorf("redelivery of an admitted msgId: %d, want 200", code)
	}
	// Another header pair (another millisecond) is counted on its own.
	if code, _ := f.post(t, signed(now.Add(time.Millisecond)), withMsgID("other")); code != 200 {
		t.Errorf("a fresh header pair: %d, want 200", code)
	}
	if n := len(f.rec.got()); n != callback.DefaultMaxPerSign+2 {
		t.Errorf("%d messages reached the core, want %d", n, callback.DefaultMaxPerSign+2)
	}
}

// fakeSignatures is a Signatures that records its calls and can fail.
type fakeSignatures struct {
	mu      sync.Mutex
	keys    []string
	expires []time.Time
	max     []int
	err     error
}

func (s *fakeSignatures) AdmitSigned(_ context.Context, key, msgID string, max int, expires, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys, s.expires, s.max = append(s.keys, key), append(s.expires, expires), append(s.max, max)
	return s.err == nil, s.err
}

func TestHeaderPairsAreCountedInTheConfiguredStore(t *testing.T) {
	sigs := &fakeSignatures{}
	rec := &recorder{}
	cb := callback.New(callback.Options{AppSecret: secret, Now: func() time.Time { return now },
		Window: time.Hour, MaxPerSign: 3, Signatures: sigs}, rec.handle)
	e := mount(cb)
	at := now.Add(-30 * time.Minute) // inside the configured hour
	h := signed(at)
	req := httptest.NewRequest(http.MethodPost, callback.Path, strings.NewReader(validBody))
	for k, v := range h {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	if w.Code != 200 || len(sigs.keys) != 1 {
		t.Fatalf("status %d, %d AdmitSigned calls; want 200, 1", w.Code, len(sigs.keys))
	}
	if want := callback.SignatureKey(h["timestamp"], h["sign"]); sigs.keys[0] != want || strings.Contains(sigs.keys[0], h["sign"]) {
		t.Errorf("key %q, want the digest %q (never the sign itself)", sigs.keys[0], want)
	}
	if want := at.Add(time.Hour); !sigs.expires[0].Equal(want) || sigs.max[0] != 3 {
		t.Errorf("expires %v max %d, want %v 3: the pair counts until its window closes", sigs.expires[0], sigs.max[0], want)
	}
	// The store failing: nothing stored, 503 so DingTalk delivers it again.
	sigs.err = errors.New("database is down")
	w = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, callback.Path, strings.NewReader(validBody))
	for k, v := range h {
		req.Header.Set(k, v)
	}
	e.ServeHTTP(w, req)
	if w.Code != 503 || len(rec.got()) != 1 {
		t.Errorf("with the store failing: %d, %d handled; want 503, 1", w.Code, len(rec.got()))
	}
}

func TestRejectionWarningsAreRateLimited(t *testing.T) {
	f := newFixture(t, 0)
	for range 200 {
		f.post(t, map[string]string{"timestamp": ms(now), "sign": "forged"}, validBody)
	}
	lines := strings.Count(f.logs.String(), "callback rejected")
	if lines == 0 || lines > 30 {
		t.Fatalf("%d warn lines for 200 rejected requests, want between 1 and 30", lines)
	}
	if got := testutilCount(t, f, "401"); got != 200 {
		t.Errorf("dingbot_callback_requests_total{status=401} = %v, want 200 (every one counted)", got)
	}
}

func testutilCount(t *testing.T, f *fixture, status string) float64 {
	t.Helper()
	mfs, err := f.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" && l.GetValue() == status {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestClientIPBelievesForwardedForOnlyFromTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		remote, xff string
		trusted     []netip.Prefix
		want        string
	}{
		{"203.0.113.9:4431", "", nil, "203.0.113.9"},
		{"203.0.113.9:4431", "1.2.3.4", nil, "203.0.113.9"},        // anyone's header: ignored
		{"203.0.113.9:4431", "1.2.3.4", trusted, "203.0.113.9"},    // not from a proxy: ignored
		{"10.0.0.5:4431", "198.51.100.7", trusted, "198.51.100.7"}, // the proxy's hop
		{"10.0.0.5:4431", "1.2.3.4, 198.51.100.7", trusted, "198.51.100.7"},
		{"10.0.0.5:4431", "198.51.100.7, 10.0.0.6", trusted, "198.51.100.7"}, // two proxies
		{"10.0.0.5:4431", "junk", trusted, "10.0.0.5"},
		{"[::ffff:10.0.0.5]:4431", "198.51.100.7", trusted, "198.51.100.7"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodPost, callback.Path, nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := callback.ClientIP(r, tc.trusted); got != tc.want {
			t.Errorf("remote %s, X-Forwarded-For %q, trusted %v: %s, want %s", tc.remote, tc.xff, tc.trusted, got, tc.want)
		}
	}
}

func TestRejectionLogsTheRemoteAddressNotAForwardedHeader(t *testing.T) {
	f := newFixture(t, 0)
	req := httptest.NewRequest(http.MethodPost, callback.Path, strings.NewReader(validBody))
	req.RemoteAddr = "203.0.113.9:4431"
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	f.mux.ServeHTTP(httptest.NewRecorder(), req)
	logs := f.logs.String()
	if !strings.Contains(logs, `"remote":"203.0.113.9"`) || strings.Contains(logs, "6.6.6.6") {
		t.Errorf("log should name the connection's address only: %s", logs)
	}
}
