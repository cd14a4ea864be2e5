package dingclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// errcodeSessionGone is the session webhook's "session 不存在" errcode.
const errcodeSessionGone = 300001

// sessionReplyPath is the path of DingTalk's session webhooks under the OAPI host.
const sessionReplyPath = "/robot/sendBySession"

// ErrForeignWebhook is returned by ReplyBySession, without any request, for
// a URL that is not DingTalk's session-reply URL (IsSessionWebhook).
var ErrForeignWebhook = errors.New("dingtalk session.reply: not a DingTalk session webhook URL")

// IsSessionWebhook reports whether webhookURL is a session webhook of the
// configured DingTalk: its scheme and host (default ports ignored) are the
// OAPI URL's, its path is the OAPI URL's path + /robot/sendBySession, and it
// has no user info. A sessionWebhook in a message is a URL the bot will
// POST its reply to; only DingTalk's own is ever used.
func (c *Client) IsSessionWebhook(webhookURL string) bool {
	u, err := url.Parse(strings.TrimSpace(webhookURL))
	if err != nil || u.User != nil || u.Opaque != "" || c.session.scheme == "" {
		return false
	}
	return strings.EqualFold(u.Scheme, c.session.scheme) && hostPort(u) == c.session.hostPort && u.EscapedPath() == c.session.path
}

// sessionURL is what a session webhook must be: the OAPI URL's scheme, host
// and port, and its path + /robot/sendBySession.
type sessionURL struct{ scheme, hostPort, path string }

// sessionURLOf works sessionURL out of the OAPI base URL once; the zero
// value (no webhook accepted) if it does not parse.
func sessionURLOf(oapiURL string) sessionURL {
	base, err := url.Parse(oapiURL)
	if err != nil {
		return sessionURL{}
	}
	return sessionURL{scheme: base.Scheme, hostPort: hostPort(base), path: strings.TrimRight(base.EscapedPath(), "/") + sessionReplyPath}
}

// hostPort is u's lower-case host and port, with the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}

// WebhookHost is the host of a webhook URL, for logs: never the URL itself,
// whose query is a credential. It is "" for a URL that does not parse, and
// is cut to 64 bytes.
func WebhookHost(webhookURL string) string {
	u, err := url.Parse(strings.TrimSpace(webhookURL))
	if err != nil {
		return ""
	}
	return truncate(u.Host, 64)
}

// ReplyBySession sends text to the chat a callback came from, through the
// callback's sessionWebhook (valid for about 90 minutes; compare with
// sessionWebhookExpiredTime first). webhookURL is used exactly as received; no
// access token is sent, because the URL itself is the credential, and it never
// appears unredacted in errors or logs.
//
// Only DingTalk's own session-reply URL is used (IsSessionWebhook): any
// other gives ErrForeignWebhook and no request is made.
//
// Results: HTTP 200 with errcode 0 is success; errcode 300001 gives an error
// wrapping ErrSessionGone (fall back to SendGroupText / SendUserText); another
// errcode gives *WebhookError; another HTTP status gives *APIError. Not retried.
//
// DingTalk docs: https://open.dingtalk.com/document/dingstart/robot-reply-and-send-messages
func (c *Client) ReplyBySession(ctx context.Context, webhookURL, text string) error {
	return c.replyBySession(ctx, webhookURL, sessionMessage{MsgType: "text", Text: &sessionText{Content: text}})
}

// ReplyMarkdownBySession is ReplyBySession for a markdown message: title is
// what notifications and the chat list show, text the markdown body (DingTalk's
// subset: headings, bold, italics, links, lists, quotes; "  \n" breaks a line).
// An empty title or text is refused without a request.
//
// DingTalk docs: https://open.dingtalk.com/document/development/robot-message-type
func (c *Client) ReplyMarkdownBySession(ctx context.Context, webhookURL, title, text string) error {
	if strings.TrimSpace(title) == "" || strings.TrimSpace(text) == "" {
		return errors.New("dingtalk session.reply: empty markdown title or text")
	}
	return c.replyBySession(ctx, webhookURL, sessionMessage{MsgType: "markdown", Markdown: &sessionMarkdown{Title: title, Text: text}})
}

// sessionText and sessionMarkdown are the bodies of a session message.
type (
	sessionText struct {
		Content string `json:"content"`
	}
	sessionMarkdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	}
)

// sessionMessage is the JSON a session webhook takes.
type sessionMessage struct {
	MsgType  string           `json:"msgtype"`
	Text     *sessionText     `json:"text,omitempty"`
	Markdown *sessionMarkdown `json:"markdown,omitempty"`
}

// replyBySession posts m to the session webhook (see ReplyBySession).
func (c *Client) replyBySession(ctx context.Context, webhookURL string, m sessionMessage) error {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Do not echo the URL or url.Parse's error, which quotes it.
		return errors.New("dingtalk session.reply: invalid session webhook URL")
	}
	if !c.IsSessionWebhook(webhookURL) {
		return ErrForeignWebhook
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("dingtalk session.reply: encoding message: %w", err)
	}
	start := time.Now()
	res, err := c.roundTrip(ctx, APISessionReply, webhookURL, "", payload)
	if err != nil {
		c.record(ctx, APISessionReply, 1, 0, "transport_error", "", start)
		return err
	}
	if res.status != 200 {
		e := parseAPIError(APISessionReply, res)
		c.record(ctx, APISessionReply, 1, res.status, e.outcome(), e.RequestID, start)
		return e
	}
	var out struct {
		ErrCode json.RawMessage `json:"errcode"`
		ErrMsg  string          `json:"errmsg"`
	}
	if err := json.Unmarshal(res.body, &out); err != nil {
		c.record(ctx, APISessionReply, 1, res.status, "invalid_response", "", start)
		return fmt.Errorf("dingtalk session.reply: undecodable HTTP 200 response (%d bytes)", len(res.body))
	}
	code, err := strconv.Atoi(rawCode(out.ErrCode))
	if rawCode(out.ErrCode) == "" {
		code, err = 0, nil
	}
	if err != nil {
		c.record(ctx, APISessionReply, 1, res.status, "invalid_response", "", start)
		return fmt.Errorf("dingtalk session.reply: errcode %q is not a number", truncate(rawCode(out.ErrCode), 32))
	}
	if code == 0 {
		c.record(ctx, APISessionReply, 1, res.status, "ok", "", start)
		return nil
	}
	c.record(ctx, APISessionReply, 1, res.status, strconv.Itoa(code), "", start)
	werr := &WebhookError{ErrCode: code, ErrMsg: truncate(out.ErrMsg, maxMessageLen)}
	if code == errcodeSessionGone {
		return fmt.Errorf("%w: %w", ErrSessionGone, werr)
	}
	return werr
}
