package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/dingbot/dingbot/dingclient"
	"github.com/dingbot/dingbot/store"
)

// CheckStatus is the result of one preflight check.
type CheckStatus string

// Check statuses, shown as ✓, ✗ and ?.
const (
	CheckOK      CheckStatus = "ok"      // works
	CheckMissing CheckStatus = "missing" // does not work: an admin must act
	CheckUnknown CheckStatus = "unknown" // cannot be checked without side effects, or the check itself failed
)

// Check is one line of the preflight checklist.
type Check struct {
	// Name is what was checked: "credentials", "storage" or a permission scope.
	Name string `json:"name"`
	// Status is ok, missing or unknown.
	Status CheckStatus `json:"status"`
	// Detail says what was found and, when something is missing, what an admin must do.
	Detail string `json:"detail"`
}

// PreflightDingTalk is what the preflight calls; *dingclient.Client implements it.
// Every call is a read: nothing is created or sent.
type PreflightDingTalk interface {
	AccessToken(ctx context.Context) (string, error)
	SearchUsers(ctx context.Context, query string, exact bool, size int) ([]string, error)
	UserByMobile(ctx context.Context, mobile string) (string, error)
	GetUser(ctx context.Context, userID string) (*dingclient.User, error)
}

// PreflightOptions configures Preflight.
type PreflightOptions struct {
	// DingTalk is the OpenAPI client. Required.
	DingTalk PreflightDingTalk
	// ClientID and RobotCode are the configured app and robot; an empty
	// RobotCode means the client ID.
	ClientID, RobotCode string
	// Store is checked with one cheap read; nil skips the check.
	Store store.Store
	// StoreName describes the store for the checklist ("SQLite data/dingbot.db"); never a password.
	StoreName string
}

// Values the preflight looks up: no such user or mobile is expected to exist;
// "not found" proves the permission is granted.
const (
	preflightQuery  = "dingbot-preflight-check"
	preflightMobile = "13800000000"
	preflightUserID = "dingbot-preflight-check"
)

// consoleFix is where an admin grants a permission.
const consoleFix = "grant it in the DingTalk developer console → the app → Permissions (权限管理), then publish a new app version"

// Preflight checks what can be checked without side effects, in a fixed
// order: that DingTalk issues an access token for the credentials, that the
// store answers, and which look-up permissions the app has (one read each:
// an address-book search for a name nobody has, which counts once against the
// monthly API quota, a mobile and a user ID that do not exist). The create
// permission and the robot cannot be checked without creating a group or
// sending a message; their lines say so. It never returns an error: every
// problem is a line.
func Preflight(ctx context.Context, o PreflightOptions) []Check {
	var checks []Check
	_, tokErr := o.DingTalk.AccessToken(ctx)
	if tokErr == nil {
		checks = append(checks, Check{"credentials", CheckOK, fmt.Sprintf("DingTalk issued an access token for client ID %s", o.ClientID)})
	} else {
		checks = append(checks, Check{"credentials", CheckMissing, tokenProblem(tokErr)})
	}
	if o.Store != nil {
		if _, err := o.Store.Counts(ctx); err != nil {
			checks = append(checks, Check{"storage", CheckMissing, fmt.Sprintf("%s does not answer: %v", o.StoreName, err)})
		} else {
			checks = append(checks, Check{"storage", CheckOK, fmt.Sprintf("%s answers, schema up to date", o.StoreName)})
		}
	}

	scopes := []struct {
		scope, use string
		call       func(context.Context) error
	}{
		{"qyapi_addresslist_search", "finding people by name", func(ctx context.Context) error {
			_, err := o.DingTalk.SearchUsers(ctx, preflightQuery, true, 1)
			return err
		}},
		{"qyapi_get_member_by_mobile", "finding people by mobile number", func(ctx context.Context) error {
			_, err := o.DingTalk.UserByMobile(ctx, preflightMobile)
			return err
		}},
		{"qyapi_get_member", "showing names of people found and reading departments for access rules", func(ctx context.Context) error {
			_, err := o.DingTalk.GetUser(ctx, preflightUserID)
			return err
		}},
	}
	results := make([]Check, len(scopes))
	if tokErr != nil {
		for i, s := range scopes {
			results[i] = Check{s.scope, CheckUnknown, "not checked: no access token"}
		}
	} else {
		var wg sync.WaitGroup
		for i, s := range scopes {
			wg.Go(func() { results[i] = scopeCheck(s.scope, s.use, s.call(ctx)) })
		}
		wg.Wait()
	}
	checks = append(checks, results...)

	robot := o.RobotCode
	if robot == "" || robot == o.ClientID {
		robot = o.ClientID + " (defaults to the client ID)"
	}
	checks = append(checks,
		Check{"qyapi_chat_manage", CheckUnknown, "creating groups: cannot be checked without creating a group; " +
			"DingTalk checks it at the first /newgroup, and the reply names it if it is missing"},
		Check{"robot", CheckUnknown, "robot code = " + robot + "; DingTalk checks it, and qyapi_robot_sendmsg, " +
			"on the first robot-API send (replies after a chat's session webhook expired)"},
		Check{"visibility", CheckUnknown, "everyone who may own a group must be in the app's visibility scope " +
			"(Version management & release → 应用可见范围), and the robot must be published"},
	)
	return checks
}

// scopeCheck turns the answer of a look-up into a checklist line: success or
// "not found" means the permission is granted.
func scopeCheck(scope, use string, err error) Check {
	if err == nil || errors.Is(err, dingclient.ErrUserNotFound) {
		return Check{scope, CheckOK, use + ": granted"}
	}
	var apiErr *dingclient.APIError
	var legacy *dingclient.LegacyError
	if (errors.As(err, &apiErr) && apiErr.Code == "Forbidden.AccessDenied.AccessTokenPermissionDenied") ||
		(errors.As(err, &legacy) && legacy.PermissionDenied()) {
		return Check{scope, CheckMissing, use + " will fail: " + consoleFix + " (only needed if people are named that way)"}
	}
	return Check{scope, CheckUnknown, "could not check: " + err.Error()}
}

// tokenProblem explains a failed token fetch.
func tokenProblem(err error) string {
	var apiErr *dingclient.APIError
	if errors.As(err, &apiErr) && apiErr.HTTPStatus >= 400 && apiErr.HTTPStatus < 500 {
		return fmt.Sprintf("DingTalk refused the credentials (%s): check DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET", apiErr.Code)
	}
	return "no access token (check DINGTALK_API_URL and the network): " + err.Error()
}

// PreflightFailed reports whether any check found something missing.
func PreflightFailed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == CheckMissing {
			return true
		}
	}
	return false
}

// mark is the checklist symbol of a status.
func (s CheckStatus) mark() string {
	switch s {
	case CheckOK:
		return "✓"
	case CheckMissing:
		return "✗"
	}
	return "?"
}

// FormatChecklist renders the checks as a one-screen checklist, one line
// each, with a closing line saying whether an admin must act.
func FormatChecklist(checks []Check) string {
	width := 0
	for _, c := range checks {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	b.WriteString("dingbot preflight\n")
	for _, c := range checks {
		fmt.Fprintf(&b, "%s %-*s  %s\n", c.Status.mark(), width, c.Name, c.Detail)
	}
	if PreflightFailed(checks) {
		b.WriteString("✗ lines need an admin; ? lines cannot be checked from here.\n")
	} else {
		b.WriteString("Nothing is missing that can be checked from here; ? lines cannot be checked without side effects.\n")
	}
	return b.String()
}

// LogChecklist logs one line per check: Info for ✓ and ?, Warn for ✗.
func LogChecklist(log *slog.Logger, checks []Check) {
	for _, c := range checks {
		level := slog.LevelInfo
		if c.Status == CheckMissing {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "preflight", "check", c.Name, "status", string(c.Status), "detail", c.Detail)
	}
}
