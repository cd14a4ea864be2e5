package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkLifecycle runs the store calls the bot makes for one message
// answered without a DingTalk call (/help) on SQLite, from many goroutines
// as the bot's workers do, so writes are committed in groups: the claim
// (leased to the receiving process), the outcome, the audit record and the
// reply state.
func BenchmarkLifecycle(b *testing.B) {
	ctx := context.Background()
	s, err := openSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	msg := []byte(`{"MsgID":"x","ConversationID":"cidAAAAAAAAAAAAAAAAAAAA==","Group":true,"SenderStaffID":"lead01","SenderNick":"Lead","Text":"/help","SessionWebhook":"http://127.0.0.1:1234/robot/sendBySession?session=abcdefabcdefabcdefabcdef","MsgType":"text"}`)
	var seq atomic.Int64
	b.SetParallelism(16) // 32 goroutines on 2 cores, like the bot's workers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		const owner = "bench"
		for pb.Next() {
			id := fmt.Sprintf("msg%09d", seq.Add(1))
			now := time.Now()
			if ok, _, err := s.Claim(ctx, id, msg, owner, now, 30*time.Second); err != nil || !ok {
				b.Fatal("claim", err)
			}
			if err := s.Finish(ctx, Outcome{MsgID: id, Owner: owner, State: Done, Reply: "help text", Now: now}); err != nil {
				b.Fatal("finish", err)
			}
			if err := s.RecordCommand(ctx, AuditRecord{MsgID: id, At: now, Sender: "lead01", Command: "help", Text: "/help", Outcome: "answered"}); err != nil {
				b.Fatal(err)
			}
			if _, err := s.SetReplyState(ctx, id, ReplySent, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAdmitSigned admits one msgId per callback under its own header
// pair on SQLite, from many goroutines as concurrent callbacks do, with a
// PruneSigned now and then as the bot's chores run it.
func BenchmarkAdmitSigned(b *testing.B) {
	ctx := context.Background()
	s, err := openSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			now := time.UnixMilli(1_700_000_000_000 + n)
			if ok, err := s.AdmitSigned(ctx, fmt.Sprintf("key%09d", n), fmt.Sprintf("msg%09d", n), 8, now.Add(time.Second), now); err != nil || !ok {
				b.Fatal("admit", ok, err)
			}
			if n%1000 == 0 {
				if _, err := s.PruneSigned(ctx, now); err != nil {
					b.Fatal("prune", err)
				}
			}
		}
	})
}
