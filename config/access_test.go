package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dingbot/dingbot/access"
)

// TestAccessSection: the file's access section is read as is and validated
// at load time; errors name the key, unknown keys are refused.
func TestAccessSection(t *testing.T) {
	write := func(yaml string) string {
		path := filepath.Join(t.TempDir(), "dingbot.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	c, err := Load(env(map[string]string{"DINGBOT_CONFIG": write(`
access:
  admins: ["0123", boss]
  trust_dingtalk_admins: true
  allow_users: [alice]
  allow_departments: [7, 8]
  allow_conversations: ["cid1=="]
  standard_groups: everyone
  owner_override: admins
  contact: the IT team (@Wang)
  rate:
    per_user: 5/h
    per_conversation: 20/10m
    conversation_burst: 4
`)}))
	if err != nil {
		t.Fatal(err)
	}
	want := access.Config{
		Admins: []string{"0123", "boss"}, TrustDingTalkAdmins: true, AllowUsers: []string{"alice"},
		AllowDepartments: []int64{7, 8}, AllowConversations: []string{"cid1=="},
		StandardGroups: access.Everyone, OwnerOverride: access.Admins, Contact: "the IT team (@Wang)",
		Rate: access.RateConfig{PerUser: "5/h", PerConversation: "20/10m", ConversationBurst: 4},
	}
	if !reflect.DeepEqual(c.Access, want) {
		t.Errorf("Access = %+v\nwant %+v", c.Access, want)
	}

	c, err = Load(env(map[string]string{}))
	if err != nil || !reflect.DeepEqual(c.Access, access.Config{}) {
		t.Errorf("no file: %+v, %v", c.Access, err)
	}

	for yaml, msg := range map[string]string{
		"access:\n  rate:\n    per_user: 5 per hour\n": `DINGBOT_CONFIG: access.rate.per_user: "5 per hour" is not N/PERIOD`,
		"access:\n  owner_override: nobody\n":          `DINGBOT_CONFIG: access.owner_override: "nobody" is not admins or everyone`,
		"access:\n  admins: [\"\"]\n":                  "DINGBOT_CONFIG: access.admins[0]: empty ID",
		"access:\n  allow_user: [a]\n":                 "yaml: unmarshal errors", // unknown keys are an error
	} {
		_, err := Load(env(map[string]string{"DINGBOT_CONFIG": write(yaml)}))
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", yaml, err, msg)
		}
	}
}
