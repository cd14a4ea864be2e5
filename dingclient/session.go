package dingclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// errcodeSessionGone is the session webhook's "session 不存在" errcode.
const errcodeSessionGone = 300001

// ReplyBySession sends text to the chat a callback came from, through the
// callback's sessionWebhook (valid for about 90 minutes; compare with
// sessionWebhookExpiredTime first). webhookURL is used exactly as received; no
// access token is sent, because the URL itself is the credential, and it never
// appears unredacted in errors or logs.
//
// Results: HTTP 200 with errcode 0 is success; errcode 300001 gives an error
// wrapping ErrSessionGone (fall back to SendGroupText / SendUserText); another
// errcode gives *WebhookError; another HTTP status gives *APIError. Not retried.
//
// DingTalk docs: https://open.dingtalk.com/document/dingstart/robot-reply-and-send-messages
func (c *Client) ReplyBySession(ctx context.Context, webhookURL, text string) error {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Do not echo the URL or url.Parse's error, which quotes it.
		return errors.New("dingtalk session.reply: invalid session webhook URL")
	}
	payload, err := json.Marshal(struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
	}{MsgType: "text", Text: struct {
		Content string `json:"content"`
	}{text}})
	if err != nil {
		return fmt.Errorf("dingtalk session.reply: encoding message: %w", err)
	}
	start := time.Now()
	res, err := c.roundTrip(ctx, apiSessionReply, webhookURL, "", payload)
	if err != nil {
		c.record(ctx, apiSessionReply, 1, 0, "transport_error", "", start)
		return err
	}
	if res.status != 200 {
		e := parseAPIError(apiSessionReply, res)
		outcome := e.Code
		if outcome == "" {
			outcome = "http_" + strconv.Itoa(res.status)
		}
		c.record(ctx, apiSessionReply, 1, res.status, outcome, e.RequestID, start)
		return e
	}
	var out struct {
		ErrCode json.RawMessage `json:"errcode"`
		ErrMsg  string          `json:"errmsg"`
	}
	if err := json.Unmarshal(res.body, &out); err != nil {
		c.record(ctx, apiSessionReply, 1, res.status, "invalid_response", "", start)
		return fmt.Errorf("dingtalk session.reply: undecodable HTTP 200 response (%d bytes)", len(res.body))
	}
	code, err := strconv.Atoi(rawCode(out.ErrCode))
	if rawCode(out.ErrCode) == "" {
		code, err = 0, nil
	}
	if err != nil {
		c.record(ctx, apiSessionReply, 1, res.status, "invalid_response", "", start)
		return fmt.Errorf("dingtalk session.reply: errcode %q is not a number", truncate(rawCode(out.ErrCode), 32))
	}
	if code == 0 {
		c.record(ctx, apiSessionReply, 1, res.status, "ok", "", start)
		return nil
	}
	c.record(ctx, apiSessionReply, 1, res.status, strconv.Itoa(code), "", start)
	werr := &WebhookError{ErrCode: code, ErrMsg: truncate(out.ErrMsg, maxMessageLen)}
	if code == errcodeSessionGone {
		return fmt.Errorf("%w: %w", ErrSessionGone, werr)
	}
	return werr
}
