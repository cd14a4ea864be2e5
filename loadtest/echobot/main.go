// Command echobot is the baseline of the load benchmark (../): the smallest
// bot the official DingTalk Stream SDK allows. It connects with
// client.NewStreamClient, registers RegisterChatBotCallbackRouter and answers
// every message by POSTing the text back to the message's sessionWebhook,
// inside the handler, before the SDK ACKs the frame. It has no inbox, no
// parser, no database and no metrics, so it is the upper bound of what the
// SDK and the fake allow on this machine.
//
// It reads DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET and DINGTALK_API_URL
// like dingbot, prints "connected" once the websocket is up, and exits on
// SIGTERM or SIGINT. It is not part of the bot.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/chatbot"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	sdklogger "github.com/open-dingtalk/dingtalk-stream-sdk-go/logger"
)

// quiet drops the SDK's per-frame log lines (dingbot logs at info level, so
// neither side pays for debug output).
type quiet struct{}

func (quiet) Debugf(string, ...interface{}) {}
func (quiet) Infof(string, ...interface{})  {}
func (quiet) Warningf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "echobot: "+format+"\n", args...)
}
func (quiet) Errorf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "echobot: "+format+"\n", args...)
}
func (quiet) Fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "echobot: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sdklogger.SetLogger(quiet{})
	httpClient := &http.Client{Timeout: 5 * time.Second}

	// The SDK's chatbot.ChatbotReplier.SimpleReplyText does the same POST but
	// never closes a 200 response's body, so every reply would open a new
	// TCP connection; reading and closing it keeps the baseline honest.
	reply := func(ctx context.Context, webhook, text string) error {
		body, _ := json.Marshal(map[string]any{"msgtype": "text", "text": map[string]string{"content": text}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhook, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("session webhook: HTTP %d", resp.StatusCode)
		}
		return nil
	}

	cli := client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(os.Getenv("DINGTALK_CLIENT_ID"), os.Getenv("DINGTALK_CLIENT_SECRET"))),
		client.WithOpenApiHost(strings.TrimRight(os.Getenv("DINGTALK_API_URL"), "/")),
	)
	cli.RegisterChatBotCallbackRouter(func(ctx context.Context, data *chatbot.BotCallbackDataModel) ([]byte, error) {
		if err := reply(ctx, data.SessionWebhook, "echo: "+strings.TrimSpace(data.Text.Content)); err != nil {
			fmt.Fprintln(os.Stderr, "echobot: reply:", err)
		}
		return []byte(""), nil
	})
	if err := cli.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "echobot: start:", err)
		os.Exit(1)
	}
	fmt.Println("connected")
	<-ctx.Done()
	cli.Close()
}
