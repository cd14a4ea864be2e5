package dingtalktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// HTTP-mode robot callback: instead of pushing a message on a Stream
// connection, DingTalk POSTs the same JSON document to the app's 消息接收地址,
// with headers timestamp (Unix milliseconds) and
// sign = Base64(HmacSHA256(key=appSecret, msg=timestamp+"\n"+appSecret)).

// SignCallback returns the sign header DingTalk sends with timestamp for an
// app whose AppSecret is secret.
func SignCallback(timestamp, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// CallbackOption changes how PostCallback signs or sends a callback, to forge
// the requests DingTalk would never send.
type CallbackOption func(*callbackRequest)

type callbackRequest struct {
	secret  string
	at      time.Time
	omit    map[string]bool
	headers map[string]string
	body    []byte
	rawBody bool
	client  *http.Client
}

// WithCallbackSecret signs with secret instead of the app's AppSecret.
func WithCallbackSecret(secret string) CallbackOption {
	return func(r *callbackRequest) { r.secret = secret }
}

// WithCallbackTime sends and signs the timestamp of t instead of now (e.g.
// two hours ago: a stale request with a valid sign).
func WithCallbackTime(t time.Time) CallbackOption {
	return func(r *callbackRequest) { r.at = t }
}

// WithoutCallbackHeader leaves out a header: "timestamp" or "sign".
func WithoutCallbackHeader(name string) CallbackOption {
	return func(r *callbackRequest) { r.omit[http.CanonicalHeaderKey(name)] = true }
}

// WithCallbackHeader sets a header to value as is, after signing (e.g. a
// non-numeric timestamp, or a tampered sign).
func WithCallbackHeader(name, value string) CallbackOption {
	return func(r *callbackRequest) { r.headers[name] = value }
}

// WithCallbackBody sends body instead of the message's JSON document. The
// message is still built, so its session webhook exists.
func WithCallbackBody(body []byte) CallbackOption {
	return func(r *callbackRequest) { r.body, r.rawBody = body, true }
}

// WithCallbackClient posts with client instead of a client with a 10 s timeout.
func WithCallbackClient(client *http.Client) CallbackOption {
	return func(r *callbackRequest) { r.client = client }
}

// CallbackPost is one callback PostCallback sent.
type CallbackPost struct {
	URL string
	// MsgID, ConversationID and SessionWebhook are those of the built message.
	MsgID, ConversationID, SessionWebhook string
	// Timestamp and Sign are the headers sent ("" when left out).
	Timestamp, Sign string
	// Body is the request body as sent.
	Body []byte
	// Status is the HTTP status answered; 0 if the request failed.
	Status int
	At     time.Time
}

// PostCallback sends m to the bot the way DingTalk does in HTTP mode: it
// builds the same robot-message data as Send (registering the session webhook,
// so the bot's reply works, and for a group making the bot a member), signs it
// with the app's AppSecret and the current time, and POSTs it as
// "application/json; charset=utf-8" to url, the bot's callback URL, e.g.
// http://127.0.0.1:8080/dingtalk/callback. opts forge bad requests. It returns
// the bot's response; the caller closes its body.
func (s *Server) PostCallback(ctx context.Context, url string, m Message, opts ...CallbackOption) (*http.Response, error) {
	if !m.Group && len(m.Mentions) > 0 {
		return nil, errors.New("dingtalktest: mentions are only possible in group chats")
	}
	r := &callbackRequest{
		secret:  s.opts.ClientSecret,
		at:      time.Now(),
		omit:    map[string]bool{},
		headers: map[string]string{},
		client:  &http.Client{Timeout: 10 * time.Second},
	}
	for _, o := range opts {
		o(r)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	msg, data, err := s.buildBotMessageLocked(m, time.Now())
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if r.rawBody {
		data = r.body
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	ts := strconv.FormatInt(r.at.UnixMilli(), 10)
	req.Header.Set("timestamp", ts)
	req.Header.Set("sign", SignCallback(ts, r.secret))
	for name := range r.omit {
		req.Header.Del(name)
	}
	for name, v := range r.headers {
		req.Header.Set(name, v)
	}
	rec := CallbackPost{
		URL: url, MsgID: msg.MsgID, ConversationID: msg.ConversationID, SessionWebhook: msg.SessionWebhook,
		Timestamp: req.Header.Get("timestamp"), Sign: req.Header.Get("sign"),
		Body: append([]byte(nil), data...), At: time.Now(),
	}
	resp, err := r.client.Do(req)
	if err == nil {
		rec.Status = resp.StatusCode
	}
	s.mu.Lock()
	s.callbackPosts = append(s.callbackPosts, rec)
	s.notifyLocked()
	s.mu.Unlock()
	if err != nil {
		s.logf("callback msgId %s to %s failed: %v", msg.MsgID, url, err)
		return nil, err
	}
	s.logf("callback msgId %s posted to %s: %d", msg.MsgID, url, resp.StatusCode)
	return resp, nil
}

// CallbackPosts returns every callback PostCallback sent, in order.
func (s *Server) CallbackPosts() []CallbackPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackPost(nil), s.callbackPosts...)
}
