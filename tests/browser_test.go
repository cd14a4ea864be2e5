package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/dingbot/dingbot/internal/testutil"
)

// TestBrowserDemo drives `dingbot demo`'s page in headless Chromium, as a
// person would: on a desktop and on a phone-sized viewport it picks who they
// are, sends /newgroup with two people picked from the @ picker, reads the
// bot's reply and the new group in the side panel, then flips the
// permission-error switch and reads the bot's explanation. The new group
// appears in the chat list with the bot's kickoff message; opening it shows
// the kickoff rendered from markdown, and in it /addmember, /removemember
// (with a person picked from the @ picker) and /rename work, the chat list
// showing the new name. The page must log no console error. Screenshots go to $DINGBOT_ARTIFACTS (else a temporary
// directory) and /tmp/dingbot-demo-{desktop,phone}.png.
func TestBrowserDemo(t *testing.T) {
	forEachViewport(t, func(t *testing.T, vp viewport, url string, b *browser, shot func(string)) {
		b.do(t, "open the page",
			chromedp.Navigate(url),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		)
		// Who am I: Bob, a member of the existing group "Release team".
		b.chooseUser(t, "bob02")
		b.do(t, "open the group chat",
			chromedp.Click(chromedp.CSS(`[data-testid="chat-item"][data-name="Release team"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="chat-title"]`)),
		)
		if title := b.eval(t, `document.querySelector('[data-testid="chat-title"]').textContent`); title != "Release team" {
			t.Fatalf("chat title %q, want Release team", title)
		}

		// /newgroup "发布 4.2" @张三 @Alice, both picked from the @ picker.
		composer := chromedp.CSS(`[data-testid="composer"]`)
		b.do(t, "type and mention two people",
			chromedp.Click(composer),
			chromedp.SendKeys(composer, `/newgroup "发布 4.2" `),
			chromedp.Click(chromedp.CSS(`[data-testid="mention-button"]`)),
			chromedp.Click(chromedp.CSS(`[data-testid="pick-person"][data-user="zhangsan"]`)),
			chromedp.Click(chromedp.CSS(`[data-testid="mention-button"]`)),
			chromedp.Click(chromedp.CSS(`[data-testid="pick-person"][data-user="alice01"]`)),
		)
		if text := b.eval(t, `document.querySelector('[data-testid="composer"]').value`); text != `/newgroup "发布 4.2" @张三 @Alice ` {
			t.Fatalf("composer holds %q", text)
		}
		b.do(t, "press Enter", chromedp.SendKeys(composer, kb.Enter))
		reply := b.botReply(t, 1)
		for _, want := range []string{`Created group "发布 4.2".`, "Owner: Bob (bob02)", "Members: 3 (Bob, 张三 and Alice)"} {
			if !strings.Contains(reply, want) {
				t.Errorf("reply lacks %q:\n%s", want, reply)
			}
		}
		if mine := b.eval(t, `document.querySelector('#messages [data-testid="msg-user"] .bubble').innerText`); mine != `/newgroup "发布 4.2" @张三 @Alice` {
			t.Errorf("the chat shows the message as %q", mine)
		}
		// The message reached DingTalk with both people in atUsers.
		if got := sentMentions(t, url); got != "zhangsan,alice01" {
			t.Errorf("mentions sent: %q, want zhangsan,alice01", got)
		}

		// The bot joins the new group and posts its kickoff there: the group
		// appears in the chat list, unread, its last message the kickoff's title.
		newChat := `[data-testid="chat-item"][data-name="发布 4.2"]`
		b.do(t, "see the new group in the chat list",
			chromedp.Poll[chromedp.Void](`document.querySelector('`+newChat+` [data-testid="unread"]') !== null`,
				chromedp.WithPollingTimeout(40*time.Second)))
		if got := b.eval(t, `document.querySelector('`+newChat+` [data-testid="chat-preview"]').textContent`); got != "dingbot: 发布 4.2" {
			t.Errorf("the chat list shows the new group's last message as %q, want the kickoff's title", got)
		}
		newID := b.eval(t, `document.querySelector('`+newChat+`').dataset.chat`)

		// The new group in the side panel.
		if vp.phone {
			shot("chat")
			b.do(t, "open the panel", chromedp.Click(chromedp.CSS(`[data-testid="panel-toggle"]`)))
		}
		card := chromedp.CSS(`[data-testid="group-card"][data-name="发布 4.2"]`)
		b.do(t, "see the group", chromedp.WaitVisible(card))
		cardText := b.eval(t, `document.querySelector('[data-testid="group-card"][data-name="发布 4.2"]').innerText`)
		for _, want := range []string{"created by dingbot", "bot joined", "Bob (bob02)", "张三", "Alice", "dingbot (bot)"} {
			if !strings.Contains(cardText, want) {
				t.Errorf("group card lacks %q:\n%s", want, cardText)
			}
		}
		if !vp.phone {
			shot("created")
		}

		// DingTalk refuses: the permission-error switch.
		b.do(t, "flip the permission switch", chromedp.Click(chromedp.CSS(`[data-testid="switch-permission"]`)))
		waitSwitch(t, url, "permission")
		if vp.phone {
			shot("panel")
			b.do(t, "close the panel", chromedp.Click(chromedp.CSS(`[data-testid="panel-close"]`)))
		}
		b.do(t, "send a second command",
			chromedp.Click(composer),
			chromedp.SendKeys(composer, `/newgroup Oncall `),
			chromedp.Click(chromedp.CSS(`[data-testid="mention-button"]`)),
			chromedp.Click(chromedp.CSS(`[data-testid="pick-person"][data-user="alice01"]`)),
			chromedp.SendKeys(composer, kb.Enter),
		)
		refusal := b.botReply(t, 2)
		for _, want := range []string{"DingTalk refused: its permission check failed", "DingTalk request ID: "} {
			if !strings.Contains(refusal, want) {
				t.Errorf("error reply lacks %q:\n%s", want, refusal)
			}
		}
		if strings.Contains(refusal, "{") || strings.Contains(refusal, "permession.checkFailed") {
			t.Errorf("error reply shows raw DingTalk output:\n%s", refusal)
		}
		shot("permission-error")

		// Open the new group: the kickoff, rendered from markdown, and the bot among the members.
		b.do(t, "open the new group", chromedp.Click(chromedp.CSS(newChat)))
		if title := b.eval(t, `document.querySelector('[data-testid="chat-title"]').textContent`); title != "发布 4.2" {
			t.Fatalf("chat title %q, want 发布 4.2", title)
		}
		kickoff := b.botReply(t, 1)
		for _, want := range []string{"👋 发布 4.2", "Created by Bob (bob02)", "Owner: Bob (bob02)", "Members (3): Bob (bob02), 张三 (zhangsan), Alice (alice01)", "/addmember"} {
			if !strings.Contains(kickoff, want) {
				t.Errorf("kickoff lacks %q:\n%s", want, kickoff)
			}
		}
		if strings.Contains(kickoff, "###") || strings.Contains(kickoff, "**") {
			t.Errorf("kickoff shows raw markdown:\n%s", kickoff)
		}
		md := `#messages [data-testid="msg-bot"][data-format="markdown"]`
		if h := b.eval(t, `document.querySelector('`+md+` [role="heading"]').textContent`); h != "👋 发布 4.2" {
			t.Errorf("kickoff heading %q", h)
		}
		if bold := b.eval(t, `[...document.querySelectorAll('`+md+` strong')].map((e) => e.textContent).join("|")`); bold != "Owner:|Members (3):" {
			t.Errorf("kickoff bold parts %q", bold)
		}
		if fallback := b.eval(t, `String(document.querySelector('`+md+` [data-testid="via"]') !== null)`); fallback != "false" {
			t.Error("the kickoff is labelled as a reply whose session had expired")
		}
		if sub := b.eval(t, `document.getElementById("chat-sub").textContent`); !strings.Contains(sub, "dingbot (bot)") {
			t.Errorf("the group's members shown as %q, without the bot", sub)
		}
		shot("kickoff")

		// /addmember someone outside the group (named: DingTalk only lets you @mention members).
		b.do(t, "add a member",
			chromedp.Click(composer),
			chromedp.SendKeys(composer, `/addmember 李四`+kb.Enter),
		)
		if added := b.botReply(t, 2); !strings.Contains(added, "Added 1 to the group: 李四 (lisi).") {
			t.Errorf("/addmember reply:\n%s", added)
		}
		b.do(t, "see the new member",
			chromedp.Poll[chromedp.Void](`document.getElementById("chat-sub").textContent.includes("李四")`, chromedp.WithPollingTimeout(10*time.Second)))

		// /removemember with a member picked from the @ picker: the mention reaches DingTalk.
		b.do(t, "remove a member picked from the picker",
			chromedp.Click(composer),
			chromedp.SendKeys(composer, `/removemember `),
			chromedp.Click(chromedp.CSS(`[data-testid="mention-button"]`)),
			chromedp.Click(chromedp.CSS(`[data-testid="pick-person"][data-user="zhangsan"]`)),
			chromedp.SendKeys(composer, kb.Enter),
		)
		if removed := b.botReply(t, 3); !strings.Contains(removed, "张三") || !strings.Contains(removed, "Removed") {
			t.Errorf("/removemember reply:\n%s", removed)
		}
		if got := chatMentions(t, url, newID); got != "zhangsan" {
			t.Errorf("mentions sent in the new group: %q, want zhangsan", got)
		}

		// /rename: the chat list and the chat's title show the new name.
		b.do(t, "rename the group",
			chromedp.Click(composer),
			chromedp.SendKeys(composer, `/rename "发布 4.3"`+kb.Enter),
		)
		if renamed := b.botReply(t, 4); !strings.Contains(renamed, `Renamed the group from "发布 4.2" to "发布 4.3".`) {
			t.Errorf("/rename reply:\n%s", renamed)
		}
		b.do(t, "see the new name in the chat list",
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="chat-item"][data-name="发布 4.3"]') !== null &&
					document.querySelector('[data-testid="chat-item"][data-name="发布 4.2"]') === null`, chromedp.WithPollingTimeout(10*time.Second)))
		if title := b.eval(t, `document.querySelector('[data-testid="chat-title"]').textContent`); title != "发布 4.3" {
			t.Errorf("chat title after /rename: %q", title)
		}
		shot("renamed")

	})
}

// viewport is a browser window size; phone emulates a touch phone.
type viewport struct {
	name          string
	width, height int64
	phone         bool
}

// forEachViewport runs test in parallel on a desktop and a phone-sized
// viewport, each with its own demo (url) and headless Chromium (b); shot
// saves a screenshot to $DINGBOT_ARTIFACTS (else a temporary directory)
// and the latest to /tmp/dingbot-demo-{desktop,phone}.png. Without
// Chromium the test is skipped, except in CI.
func forEachViewport(t *testing.T, test func(t *testing.T, vp viewport, url string, b *browser, shot func(string))) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed (.ci/run installs Debian's chromium package)")
		}
		t.Skip("chromium is not installed: apt-get install chromium")
	}
	artifacts := os.Getenv("DINGBOT_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", artifacts)
	for _, vp := range []viewport{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}} {
		t.Run(vp.name, func(t *testing.T) {
			t.Parallel()
			url := startDemo(t)
			b := newBrowser(t, chromium, vp.width, vp.height, vp.phone)
			shot := func(name string) {
				t.Helper()
				png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatalf("screenshot: %v", err)
				}
				path := filepath.Join(artifacts, vp.name+"-"+name+".png")
				if err := os.WriteFile(path, png, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile("/tmp/dingbot-demo-"+vp.name+".png", png, 0o644); err != nil {
					t.Logf("saving /tmp copy: %v", err)
				}
				t.Logf("screenshot %s", path)
			}
			test(t, vp, url, b, shot)
			if t.Failed() {
				return
			}
			// Nothing overflows sideways, and the page logged no error.
			if wide := b.eval(t, `String(document.documentElement.scrollWidth > window.innerWidth)`); wide != "false" {
				t.Errorf("the page is wider than the %d px viewport", vp.width)
			}
			b.close()
			if msgs := b.consoleErrors(); len(msgs) > 0 {
				t.Errorf("console errors:\n%s", strings.Join(msgs, "\n"))
			}
		})
	}
}

// TestBrowserDemoPreview drives a risky /newgroup through the page, on a
// desktop and a phone-sized viewport: the bot answers with a markdown
// preview, rendered with its heading, bold labels, member list, inline code
// and two buttons (DingTalk's dtmd://dingtalkclient/sendMessage links).
// Tapping Create in the one-to-one chat sends /confirm CODE as my message
// and the group is created; tapping Cancel under a preview in a group chat
// sends /cancel CODE there and nothing is created. With the expired-session
// switch the preview comes through the robot API and is still a reply with
// its buttons. The page must log no console error.
func TestBrowserDemoPreview(t *testing.T) {
	forEachViewport(t, func(t *testing.T, vp viewport, url string, b *browser, shot func(string)) {
		b.do(t, "open the page",
			chromedp.Navigate(url),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		)
		composer := chromedp.CSS(`[data-testid="composer"]`)
		preview := `#messages [data-testid="msg-bot"][data-format="markdown"]`
		action := func(verb string) string {
			return preview + ` [data-testid="md-action"][data-content^="/` + verb + ` "]`
		}

		// I am 王芳; in the one-to-one chat, Alice is named, not
		// mentioned: the bot finds her by name search and asks first.
		b.do(t, "send a risky /newgroup", chromedp.Click(composer), chromedp.SendKeys(composer, `/newgroup Standup Alice`+kb.Enter))
		text := b.previewShown(t, 1)
		for _, want := range []string{"Type: internal group", "Owner: 王芳 (manager4220)", "Members (2):", "王芳 (manager4220)\nAlice (alice01)",
			"found by name search", "Create　Cancel", "send me /confirm "} {
			if !strings.Contains(text, want) {
				t.Errorf("the preview lacks %q:\n%s", want, text)
			}
		}
		for _, raw := range []string{"###", "**", "dtmd:", "](", "`"} {
			if strings.Contains(text, raw) {
				t.Errorf("the preview shows raw markdown %q:\n%s", raw, text)
			}
		}
		if h := b.eval(t, `document.querySelector('`+preview+` [role="heading"]').textContent`); h != "Create “Standup”?" {
			t.Errorf("preview heading %q", h)
		}
		if bold := b.eval(t, `[...document.querySelectorAll('`+preview+` strong')].map((e) => e.textContent).join("|")`); bold != "Type:|Owner:|Members (2):|Please check before I create it:" {
			t.Errorf("preview bold parts %q", bold)
		}
		if items := b.eval(t, `[...document.querySelectorAll('`+preview+` li')].map((e) => e.textContent).join("|")`); !strings.HasPrefix(items, "王芳 (manager4220)|Alice (alice01)|found by name search") {
			t.Errorf("preview list items %q", items)
		}
		code := regexp.MustCompile(`^/confirm [2-9A-HJ-NP-Z]{6}$`)
		confirm := b.eval(t, `document.querySelector('`+action("confirm")+`').dataset.content`)
		if !code.MatchString(confirm) {
			t.Fatalf("the Create button sends %q, want /confirm CODE", confirm)
		}
		if got := b.eval(t, `document.querySelector('`+preview+` code').textContent`); got != confirm {
			t.Errorf("the preview's first code span is %q, want %q", got, confirm)
		}
		if posted := b.eval(t, `String(document.querySelector('`+preview+` [data-testid="posted"]') !== null)`); posted != "false" {
			t.Error("the preview, a reply, is labelled as a message the bot posted on its own")
		}
		b.buttonUsable(t, action("confirm"), vp.width)
		shot("preview")

		groups := len(demoState(t, url).Groups)
		b.do(t, "tap Create", chromedp.Click(chromedp.CSS(action("confirm"))))
		b.sent(t, confirm)
		if created := b.botReply(t, 2); !strings.Contains(created, `Created group "Standup".`) {
			t.Errorf("reply to Create:\n%s", created)
		}
		b.do(t, "see the new group in the chat list",
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="chat-item"][data-name="Standup"]') !== null`,
				chromedp.WithPollingTimeout(40*time.Second)))
		if n := len(demoState(t, url).Groups); n != groups+1 {
			t.Errorf("%d groups after Create, want %d", n, groups+1)
		}
		shot("confirmed")

		// In a group chat, with a name markdown would read as emphasis.
		b.do(t, "open the group chat",
			chromedp.Click(chromedp.CSS(`[data-testid="chat-item"][data-name="Release team"]`)),
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="chat-title"]').textContent === "Release team"`, chromedp.WithPollingTimeout(10*time.Second)),
			chromedp.Click(composer),
			chromedp.SendKeys(composer, `/newgroup "On*call* [2]" 李四`+kb.Enter),
		)
		text = b.previewShown(t, 1)
		if h := b.eval(t, `document.querySelector('`+preview+` [role="heading"]').textContent`); h != "Create “On*call* [2]”?" {
			t.Errorf("preview heading %q (escapes not undone?)", h)
		}
		if !strings.Contains(text, "李四 (lisi)") || !strings.Contains(text, "@mention me with /confirm ") {
			t.Errorf("the group's preview:\n%s", text)
		}
		cancel := b.eval(t, `document.querySelector('`+action("cancel")+`').dataset.content`)
		if !regexp.MustCompile(`^/cancel [2-9A-HJ-NP-Z]{6}$`).MatchString(cancel) {
			t.Fatalf("the Cancel button sends %q, want /cancel CODE", cancel)
		}
		b.buttonUsable(t, action("cancel"), vp.width)
		groups = len(demoState(t, url).Groups)
		b.do(t, "tap Cancel", chromedp.Click(chromedp.CSS(action("cancel"))))
		b.sent(t, cancel)
		if cancelled := b.botReply(t, 2); cancelled != "Cancelled: “On*call* [2]” was not created." {
			t.Errorf("reply to Cancel: %q", cancelled)
		}
		st := demoState(t, url)
		if len(st.Groups) != groups {
			t.Errorf("%d groups after Cancel, want %d", len(st.Groups), groups)
		}
		for _, g := range st.Groups {
			if strings.HasPrefix(g.Name, "On*call*") {
				t.Errorf("Cancel created the group %q", g.Name)
			}
		}
		if n := b.eval(t, `String(document.querySelectorAll('[data-testid="chat-item"]').length)`); n != "4" {
			t.Errorf("%s chats after Cancel, want 4 (dingbot, Standup and the two existing groups)", n)
		}
		shot("cancelled")

		// The session webhook expires before the bot answers: the preview
		// comes through the group robot API, and is still a markdown reply
		// with its buttons (not a message the bot posted on its own).
		if vp.phone {
			b.do(t, "open the panel", chromedp.Click(chromedp.CSS(`[data-testid="panel-toggle"]`)))
		}
		b.do(t, "flip the expired-session switch", chromedp.Click(chromedp.CSS(`[data-testid="switch-expired_session"]`)))
		waitSwitch(t, url, "expired_session")
		if vp.phone {
			b.do(t, "close the panel", chromedp.Click(chromedp.CSS(`[data-testid="panel-close"]`)))
		}
		b.do(t, "send a risky /newgroup again", chromedp.Click(composer), chromedp.SendKeys(composer, `/newgroup Retro 李四`+kb.Enter))
		b.previewShown(t, 2)
		last := `[...document.querySelectorAll('` + preview + `')].pop()`
		labels := b.eval(t, `(() => {
				const e = `+last+`;
				return [e.dataset.via, e.querySelector('[data-testid="via"]') !== null, e.querySelector('[data-testid="posted"]') !== null,
					e.querySelector('[role="heading"]').textContent].join(" | ");
			})()`)
		// The bot may beat the demo to the expiry and still use the session.
		if labels != "group_api | true | false | Create “Retro”?" && labels != "session | false | false | Create “Retro”?" {
			t.Errorf("the preview after the session expired: via, fallback label, posted label, heading = %s", labels)
		}
		seq := b.eval(t, last+`.dataset.seq`)
		b.do(t, "tap Cancel", chromedp.Click(chromedp.CSS(`#messages [data-seq="`+seq+`"] [data-testid="md-action"][data-content^="/cancel "]`)))
		if cancelled := b.botReply(t, 4); cancelled != "Cancelled: “Retro” was not created." {
			t.Errorf("reply to Cancel: %q", cancelled)
		}
		shot("expired-session")

	})
}

// previewShown waits until the chat shows n markdown messages from the bot,
// the last with its two buttons, and returns that message's text.
func (b *browser) previewShown(t *testing.T, n int) string {
	t.Helper()
	const md = `#messages [data-testid="msg-bot"][data-format="markdown"]`
	b.do(t, fmt.Sprintf("wait for preview %d", n),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => {
			const all = document.querySelectorAll('%s');
			return all.length >= %d && all[all.length - 1].querySelectorAll('[data-testid="md-action"]').length === 2;
		})()`, md, n), chromedp.WithPollingTimeout(40*time.Second)))
	return b.eval(t, `[...document.querySelectorAll('`+md+` .bubble')].pop().innerText`)
}

// sent waits until my last message in the chat is text, as a button sends
// it: shown in the chat as mine, like a message typed and sent.
func (b *browser) sent(t *testing.T, text string) {
	t.Helper()
	js, _ := json.Marshal(text)
	b.do(t, "wait for my message "+text,
		chromedp.Poll[chromedp.Void](`(() => {
			const mine = document.querySelectorAll('#messages [data-testid="msg-user"].mine .bubble');
			return mine.length > 0 && mine[mine.length - 1].innerText === `+string(js)+`;
		})()`, chromedp.WithPollingTimeout(20*time.Second)))
}

// buttonUsable checks that the button is a real button, shown whole inside
// the viewport's width and big enough to tap.
func (b *browser) buttonUsable(t *testing.T, selector string, width int64) {
	t.Helper()
	got := b.eval(t, `(() => {
		const e = document.querySelector('`+selector+`');
		e.scrollIntoView({block: "nearest"});
		const r = e.getBoundingClientRect();
		return [e.tagName, e.disabled, r.left >= 0 && r.right <= window.innerWidth, r.width >= 40 && r.height >= 28].join(" ");
	})()`)
	if got != "BUTTON false true true" {
		t.Errorf("%s in a %d px viewport: tag, disabled, inside, big enough = %s", selector, width, got)
	}
}

// demoState is the demo's /api/state: its groups.
func demoState(t *testing.T, url string) (st struct {
	Groups []struct {
		Name string `json:"name"`
	} `json:"groups"`
}) {
	t.Helper()
	getJSON(t, url+"api/state", &st)
	return st
}

// chooseUser picks who I am ("I am" selector), as a person would.
func (b *browser) chooseUser(t *testing.T, userID string) {
	t.Helper()
	b.do(t, "choose "+userID, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(() => {
			const s = document.querySelector('[data-testid="user-select"]');
			s.value = `+strconv.Quote(userID)+`;
			s.dispatchEvent(new Event('change', {bubbles: true}));
			return true;
		})()`)(ctx, tg)
		return err
	}))
}

// startDemo runs `dingbot demo` on a free port with its data in a temporary
// directory and returns the page's URL. At the end of the test it is stopped
// with SIGINT (Ctrl-C), which must make it exit 0.
func startDemo(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(binary, "demo", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs testutil.SyncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	urls := make(chan string, 1)
	re := regexp.MustCompile(`Open (http://\S+/) in your browser`)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			_, _ = logs.Write([]byte(sc.Text() + "\n"))
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		exited <- cmd.Wait()
	}()
	printed := logs.String
	var url string
	select {
	case url = <-urls:
	case err := <-exited:
		t.Fatalf("dingbot demo exited early: %v\n%s", err, printed())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("dingbot demo printed no URL\n%s", printed())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("dingbot demo after Ctrl-C: %v (want exit 0)\n%s", err, printed())
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("dingbot demo did not stop after Ctrl-C\n%s", printed())
		}
		if t.Failed() {
			t.Logf("dingbot demo output:\n%s", printed())
		}
	})
	return url
}

// browser is one headless Chromium with one tab.
type browser struct {
	ctx    context.Context
	cancel func()

	mu     sync.Mutex
	errors []string
	done   chan struct{}
}

func newBrowser(t *testing.T, execPath string, width, height int64, phone bool) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(width), int(height)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &browser{ctx: ctx, done: make(chan struct{})}
	b.cancel = func() { cancelCtx(); cancelAlloc() }
	t.Cleanup(b.close)
	viewport := []chromedp.EmulateViewportOption{}
	if phone {
		viewport = append(viewport, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, viewport...)); err != nil {
		b.close()
		t.Fatalf("starting chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		defer close(b.done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// do runs steps with a time limit, failing the test with what the page showed.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v\npage text:\n%s", what, err, b.pageText())
	}
}

// eval evaluates a JavaScript expression that gives a string.
func (b *browser) eval(t *testing.T, expr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return s
}

// botReply waits until the chat shows n replies from the bot and returns the
// text of the last one.
func (b *browser) botReply(t *testing.T, n int) string {
	t.Helper()
	b.do(t, fmt.Sprintf("wait for bot reply %d", n),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll('#messages [data-testid="msg-bot"]').length >= %d`, n),
			chromedp.WithPollingTimeout(40*time.Second)))
	return b.eval(t, `[...document.querySelectorAll('#messages [data-testid="msg-bot"] .bubble')].pop().innerText`)
}

func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// close stops the browser; console messages are then all collected.
func (b *browser) close() {
	b.cancel()
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
	}
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// sentMentions returns the userIds mentioned in the first message sent, as
// the demo passed them to the fake DingTalk (atUsers).
func sentMentions(t *testing.T, url string) string {
	t.Helper()
	var res struct {
		Messages []struct {
			From     string `json:"from"`
			Mentions []struct {
				ID string `json:"id"`
			} `json:"mentions"`
		} `json:"messages"`
	}
	getJSON(t, url+"api/messages?since=0", &res)
	for _, m := range res.Messages {
		if m.From != "bot" {
			var ids []string
			for _, at := range m.Mentions {
				ids = append(ids, at.ID)
			}
			return strings.Join(ids, ",")
		}
	}
	return ""
}

// chatMentions returns the userIds mentioned in the messages sent in chat
// (a group's openConversationId), as the demo passed them to the fake.
func chatMentions(t *testing.T, url, chat string) string {
	t.Helper()
	var res struct {
		Messages []struct {
			Chat     string `json:"chat"`
			From     string `json:"from"`
			Mentions []struct {
				ID string `json:"id"`
			} `json:"mentions"`
		} `json:"messages"`
	}
	getJSON(t, url+"api/messages?since=0", &res)
	var ids []string
	for _, m := range res.Messages {
		if m.Chat == chat && m.From != "bot" {
			for _, at := range m.Mentions {
				ids = append(ids, at.ID)
			}
		}
	}
	return strings.Join(ids, ",")
}

// waitSwitch waits until the page's switch reached the server.
func waitSwitch(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st struct {
			Switch string `json:"switch"`
		}
		getJSON(t, url+"api/state", &st)
		if st.Switch == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("error switch is %q, want %q", st.Switch, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestBrowserDemoComposer drives the composer's @ picker and the page's
// memory, on a desktop and a phone-sized viewport. The "I am" selector shows
// every name whole. Typing "@" opens the picker with the group's members;
// what follows filters it; ↑/↓ choose, Enter and Tab pick, Escape closes; a
// message from someone else closes it, and so does sending. An @Name typed
// in full that is a member's becomes a mention (atUsers) as if picked; with
// the mention-text switch on "strip", a picked mention reaches the bot
// without its @Name text (as some DingTalk clients send it) while the page
// shows the message as typed. The hint /newgroup Oncall @Alice --owner @Dave
// shows a preview whose Create gets DingTalk's visibility refusal. What was
// read stays read after a reload. The page must log no console error.
func TestBrowserDemoComposer(t *testing.T) {
	forEachViewport(t, func(t *testing.T, vp viewport, url string, b *browser, shot func(string)) {
		b.do(t, "open the page",
			chromedp.Navigate(url),
			chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
		)
		// Every option of "I am" fits the selector: no name is cut off.
		if cut := b.eval(t, `(() => {
				const s = document.querySelector('[data-testid="user-select"]');
				const cs = getComputedStyle(s);
				const ctx = document.createElement("canvas").getContext("2d");
				ctx.font = cs.font;
				const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 16; // the arrow
				return [...s.options].filter((o) => ctx.measureText(o.text).width > room)
					.map((o) => o.text + " (" + Math.ceil(ctx.measureText(o.text).width) + " > " + room + " px)").join("; ");
			})()`); cut != "" {
			t.Errorf("the \"I am\" selector cuts off: %s", cut)
		}
		b.do(t, "open the group chat",
			chromedp.Click(chromedp.CSS(`[data-testid="chat-item"][data-name="Release team"]`)),
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="chat-title"]').textContent === "Release team"`, chromedp.WithPollingTimeout(10*time.Second)),
		)
		release := b.eval(t, `document.querySelector('[data-testid="chat-item"][data-name="Release team"]').dataset.chat`)
		composer := chromedp.CSS(`[data-testid="composer"]`)
		listed := func() string {
			return b.eval(t, `document.querySelector('[data-testid="mention-picker"]').hidden ? "(closed)" :
				[...document.querySelectorAll('[data-testid="pick-person"]')].map((e) => e.dataset.name + (e.getAttribute("aria-selected") === "true" ? "*" : "")).join(",")`)
		}
		expect := func(what, want string) {
			t.Helper()
			if got := listed(); got != want {
				t.Errorf("%s: the picker lists %q, want %q", what, got, want)
			}
		}
		value := func() string { return b.eval(t, `document.querySelector('[data-testid="composer"]').value`) }

		// A message from someone else arrives: the picker closes, not to cover it.
		b.do(t, "type @", chromedp.Click(composer), chromedp.SendKeys(composer, "@"))
		expect("@", "Alice*,Bob,张三,Dave")
		postJSON(t, url+"api/send", `{"as":"alice01","chat":"`+release+`","text":"hello"}`)
		b.do(t, "see Alice's message",
			chromedp.Poll[chromedp.Void](`[...document.querySelectorAll('#messages [data-testid="msg-user"] .bubble')].some((e) => e.innerText === "hello")`,
				chromedp.WithPollingTimeout(10*time.Second)))
		expect("after Alice's message", "(closed)")
		b.botReply(t, 1) // the bot answers Alice ("hello" is no command)

		// Typing filters; arrows choose; Enter and Tab pick; Escape closes.
		b.do(t, "clear and type a command", chromedp.SendKeys(composer, kb.Backspace+`/newgroup Picker @`))
		expect("@ again", "Alice*,Bob,张三,Dave")
		b.do(t, "filter", chromedp.SendKeys(composer, "Bo"))
		expect("@Bo", "Bob*")
		b.do(t, "filter less", chromedp.SendKeys(composer, kb.Backspace+kb.Backspace+"a"))
		expect("@a", "Alice*,Dave")
		b.do(t, "arrow down", chromedp.SendKeys(composer, kb.ArrowDown))
		expect("↓", "Alice,Dave*")
		shot("picker")
		b.do(t, "arrow down again", chromedp.SendKeys(composer, kb.ArrowDown))
		expect("↓↓ (wraps)", "Alice*,Dave")
		b.do(t, "arrow up", chromedp.SendKeys(composer, kb.ArrowUp+kb.ArrowUp))
		expect("↑↑", "Alice*,Dave")
		b.do(t, "pick with Enter", chromedp.Focus(composer), press('\r'))
		expect("Enter", "(closed)")
		if got := value(); got != "/newgroup Picker @Alice " {
			t.Fatalf("after Enter the composer holds %q", got)
		}
		b.do(t, "filter by userId", chromedp.SendKeys(composer, "@zh"))
		expect("@zh", "张三*")
		b.do(t, "pick with Tab", chromedp.Focus(composer), press('\t'))
		if got := value(); got != "/newgroup Picker @Alice @张三 " {
			t.Fatalf("after Tab the composer holds %q", got)
		}
		b.do(t, "type Bob", chromedp.SendKeys(composer, "@Bo"))
		expect("@Bo", "Bob*")
		b.do(t, "close with Escape", chromedp.SendKeys(composer, kb.Escape))
		expect("Escape", "(closed)")
		b.do(t, "type on", chromedp.SendKeys(composer, "b"))
		expect("Escape, then typing the same word", "(closed)")
		// @Bob, typed in full, is a member's name: it is sent as a mention.
		b.do(t, "send", chromedp.SendKeys(composer, kb.Enter))
		if reply := b.botReply(t, 2); !strings.Contains(reply, `Created group "Picker".`) || !strings.Contains(reply, "Members: 4") {
			t.Errorf("reply:\n%s", reply)
		}
		if got := chatMentions(t, url, release); got != "alice01,zhangsan,bob02" {
			t.Errorf("mentions sent: %q, want alice01,zhangsan,bob02 (Bob typed, the others picked)", got)
		}
		if got := b.eval(t, `[...document.querySelectorAll('#messages [data-testid="msg-user"].mine .bubble .at')].pop().parentElement.querySelectorAll('.at').length + ""`); got != "3" {
			t.Errorf("the sent message shows %s mentions, want 3", got)
		}

		// Sending closes the picker.
		b.do(t, "type @ and send", chromedp.SendKeys(composer, `/groupinfo @`))
		expect("@ before sending", "Alice*,Bob,张三,Dave")
		b.do(t, "click Send", chromedp.Click(chromedp.CSS(`[data-testid="send"]`)))
		b.botReply(t, 3)
		expect("after sending", "(closed)")

		// Picked mentions stripped of their text: the bot gets atUsers only
		// for Alice (picked) and the text @Bob (typed) with its atUser.
		if vp.phone {
			b.do(t, "open the panel", chromedp.Click(chromedp.CSS(`[data-testid="panel-toggle"]`)))
		}
		b.do(t, "flip the mention-text switch", chromedp.Click(chromedp.CSS(`[data-testid="mention-text-strip"]`)))
		var st struct {
			MentionText string `json:"mentionText"`
		}
		for deadline := time.Now().Add(10 * time.Second); st.MentionText != "strip"; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("mention text is %q, want strip", st.MentionText)
			}
			getJSON(t, url+"api/state", &st)
		}
		if vp.phone {
			b.do(t, "close the panel", chromedp.Click(chromedp.CSS(`[data-testid="panel-close"]`)))
		}
		b.do(t, "pick Alice, type Bob",
			chromedp.Click(composer),
			chromedp.SendKeys(composer, `/newgroup Strip @Al`),
			press('\r'),
			chromedp.SendKeys(composer, `@Bob`+kb.Escape+kb.Enter),
		)
		if reply := b.botReply(t, 4); !strings.Contains(reply, `Created group "Strip".`) || !strings.Contains(reply, "Members: 3") {
			t.Errorf("reply to a message without Alice's @Name text:\n%s", reply)
		}
		last := `[...document.querySelectorAll('#messages [data-testid="msg-user"].mine')].pop()`
		if got := b.eval(t, last+`.querySelector('.bubble').innerText + " | " + [...`+last+`.querySelectorAll('.at')].map((e) => e.textContent).join(",")`); got != "/newgroup Strip @Alice @Bob | @Alice,@Bob" {
			t.Errorf("the page shows the message as %q", got)
		}
		if got := b.eval(t, last+`.querySelector('[data-testid="delivered"]').textContent`); !strings.Contains(got, "“/newgroup Strip @Bob”") || !strings.Contains(got, "stripped the picked @Alice,") {
			t.Errorf("the note on what DingTalk delivered: %q", got)
		}
		shot("stripped")

		// The hint: another owner, a preview, Create, DingTalk's refusal.
		b.do(t, "use the --owner hint",
			chromedp.Click(chromedp.CSS(`[data-testid="hint"][title*="visibility"]`)),
			chromedp.SendKeys(composer, kb.Enter))
		if text := b.previewShown(t, 1); !strings.Contains(text, "Owner: Dave (dave04)") {
			t.Errorf("the preview:\n%s", text)
		}
		if note := b.eval(t, `(() => { const n = document.querySelector('[data-testid="hint-note"]'); return n.hidden ? "(hidden)" : n.textContent; })()`); !strings.Contains(note, "Tap Create, and DingTalk refuses") {
			t.Errorf("the example's note says %q", note)
		}
		shot("owner-preview")
		b.do(t, "tap Create", chromedp.Click(chromedp.CSS(`#messages [data-testid="msg-bot"][data-format="markdown"] [data-testid="md-action"][data-content^="/confirm "]`)))
		if refusal := b.botReply(t, 6); !strings.Contains(refusal, "DingTalk refused: the owner (Dave, dave04) is outside this app's visibility scope.") {
			t.Errorf("reply to Create:\n%s", refusal)
		}
		if got := chatMentions(t, url, release); !strings.HasSuffix(got, ",alice01,dave04") {
			t.Errorf("mentions sent: %q, want the hint's @Alice and @Dave last", got)
		}

		// The new group's kickoff is unread; what I read stays read after a reload.
		picker := `[data-testid="chat-item"][data-name="Picker"]`
		badges := `[...document.querySelectorAll('[data-testid="chat-item"]')].filter((e) => e.querySelector('[data-testid="unread"]')).map((e) => e.dataset.name).sort().join(",")`
		b.do(t, "see the unread kickoffs",
			chromedp.Poll[chromedp.Void](badges+` === "Picker,Strip"`, chromedp.WithPollingTimeout(40*time.Second)))
		reload := func(what string) {
			t.Helper()
			b.do(t, what,
				chromedp.Reload(),
				chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)),
				// Wait until the messages are in: the chat list shows Release team's last one.
				chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="chat-item"][data-name="Release team"] [data-testid="chat-preview"]')?.textContent?.startsWith("dingbot: DingTalk refused") === true`,
					chromedp.WithPollingTimeout(20*time.Second)),
				chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid="chat-item"]').length === 5`, chromedp.WithPollingTimeout(20*time.Second)),
			)
		}
		reload("reload")
		if got := b.eval(t, badges); got != "Picker,Strip" {
			t.Errorf("unread after a reload: %q, want Picker,Strip (Release team was read)", got)
		}
		b.do(t, "read Picker", chromedp.Click(chromedp.CSS(picker)),
			chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="chat-title"]').textContent === "Picker"`, chromedp.WithPollingTimeout(10*time.Second)))
		reload("reload again")
		if got := b.eval(t, badges); got != "Strip" {
			t.Errorf("unread after reading Picker and a reload: %q, want Strip", got)
		}
		// Bob has read nothing.
		b.chooseUser(t, "bob02")
		if got := b.eval(t, badges); got != "Picker,Release team,Strip" {
			t.Errorf("Bob's unread chats: %q, want Picker,Release team,Strip", got)
		}
		shot("unread")
	})
}

// press presses Enter or Tab in the focused element as a keyboard does: one
// keyDown whose default action (a new line, moving the focus) the page can
// prevent. (kb.Enter and kb.Tab also send a char event, which types "\r" or
// "\t" whatever the page did with the keyDown.)
func press(key rune) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		k := kb.Keys[key]
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: k.Key, Code: k.Code,
			WindowsVirtualKeyCode: k.Windows, NativeVirtualKeyCode: k.Native, Text: k.Text, UnmodifiedText: k.Unmodified}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: k.Key, Code: k.Code,
			WindowsVirtualKeyCode: k.Windows, NativeVirtualKeyCode: k.Native}
		for _, p := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
}

// postJSON posts body to url and fails the test unless it is answered 200.
func postJSON(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s %s: %s %s", url, body, resp.Status, b)
	}
}
