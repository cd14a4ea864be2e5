package dingclient

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

// BenchmarkBuildRequest measures building the create-group call for a
// typical /newgroup: encoding the body as call does and making the
// HTTP request (loadtest reports it in BENCHMARKS.md).
func BenchmarkBuildRequest(b *testing.B) {
	tag, one := int64(2), int32(1)
	req := &CreateGroupRequest{
		Name: "Release 4.2", Owner: "lead01", UserIDs: []string{"lead01", "alice01", "bob02"},
		ConversationTag: &tag, ManagementOptions: &ManagementOptions{ChatBannedType: &one},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		payload, err := json.Marshal(req)
		if err != nil {
			b.Fatal(err)
		}
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.dingtalk.com/v1.0/im/group/create", bytes.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("x-acs-dingtalk-access-token", "token")
	}
}
