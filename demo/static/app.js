// dingbot demo page: a DingTalk-like chat against the local fake DingTalk.
// Plain JavaScript, no dependencies. All text from the server is inserted with
// textContent or as text nodes, never as HTML (markdown too: renderMarkdown
// builds elements around text nodes).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  };

  const ui = {
    state: null,          // GET /api/state
    me: "",               // userId of who I am
    chat: "dm",           // "dm" or a group's openConversationId
    entries: [],          // every message, in order
    next: 0,              // ?since= for the next poll
    mentions: [],         // [{id, name}] picked from the @ picker for the message being typed
    pending: new Map(),   // chat key → seq of my last message still waiting for a reply
    lastSeen: new Map(),  // userId + " " + chat key → highest seq that user has seen (also in localStorage)
  };

  const peopleByID = () => new Map(ui.state.people.map((p) => [p.id, p]));
  const chatKey = (chat) => (chat === "dm" ? "dm:" + ui.me : chat);
  const myChats = () => ui.state.chats.filter((g) => g.members.some((m) => m.id === ui.me));
  const currentGroup = () => ui.state.chats.find((g) => g.id === ui.chat);

  const palette = ["#f5a623", "#7b61ff", "#36b37e", "#ff6b6b", "#00b8d9", "#ff8b00", "#6554c0", "#57d9a3"];
  function avatar(name, kind) {
    const a = el("span", { class: "avatar" + (kind ? " " + kind : ""), "aria-hidden": "true", text: kind === "bot" ? "D" : Array.from(name || "?")[0].toUpperCase() });
    if (!kind) {
      let h = 0;
      for (const ch of name || "") h = (h * 31 + ch.codePointAt(0)) >>> 0;
      a.style.background = palette[h % palette.length];
    }
    return a;
  }

  function showStatus(text) {
    const s = $("status");
    s.textContent = text || "";
    s.hidden = !text;
  }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || res.status + " " + res.statusText);
    return data;
  }

  // ---- state: people, chats, groups, switches ----

  async function loadState() {
    const first = !ui.state;
    ui.state = await api("GET", "/api/state");
    if (!ui.me) ui.me = ui.state.me;
    if (first) forgetOtherRuns();
    renderWho();
    renderChats();
    renderHead();
    renderHints();
    renderSwitches();
    renderGroups();
  }

  function renderWho() {
    const sel = $("who");
    if (sel.options.length) return;
    for (const p of ui.state.people) {
      sel.append(el("option", {
        value: p.id, text: p.name + " (" + p.id + ")" + (p.visible ? "" : " · not visible"),
        title: p.visible ? null : "outside the app's visibility scope: DingTalk refuses to make them a group's owner",
      }));
    }
    sel.value = ui.me;
  }

  // What each person has read is kept in the browser (localStorage) under
  // the demo's run ID, so a reload shows no badge for a chat already read,
  // and a restarted demo (whose messages start again from 1) none of it.
  const storePrefix = "dingbot-demo/";
  const seenItem = (key) => storePrefix + ui.state.run + "/seen/" + ui.me + "/" + key;

  function forgetOtherRuns() {
    try {
      const mine = storePrefix + ui.state.run + "/";
      for (let i = localStorage.length - 1; i >= 0; i--) {
        const k = localStorage.key(i);
        if (k && k.startsWith(storePrefix) && !k.startsWith(mine)) localStorage.removeItem(k);
      }
    } catch (err) {
      // No storage (a private window, storage disabled): badges last until reload.
    }
  }

  function lastSeen(key) {
    const k = ui.me + " " + key;
    if (!ui.lastSeen.has(k)) {
      let stored = 0;
      try {
        stored = Number(localStorage.getItem(seenItem(key))) || 0;
      } catch (err) {
        stored = 0;
      }
      ui.lastSeen.set(k, stored);
    }
    return ui.lastSeen.get(k);
  }

  function markSeen(key, seq) {
    if (seq <= lastSeen(key)) return;
    ui.lastSeen.set(ui.me + " " + key, seq);
    try {
      localStorage.setItem(seenItem(key), String(seq));
    } catch (err) {
      // As above: remembered until reload only.
    }
  }

  function unread(key) {
    const seen = lastSeen(key);
    return ui.entries.filter((e) => e.chat === key && e.seq > seen && e.from !== ui.me).length;
  }

  // lastEntry is the latest message of a chat, or undefined.
  function lastEntry(key) {
    for (let i = ui.entries.length - 1; i >= 0; i--) if (ui.entries[i].chat === key) return ui.entries[i];
    return undefined;
  }

  // preview is what the chat list shows of a message: as in DingTalk, a
  // markdown message shows its title.
  function preview(e) {
    const who = e.from === "bot" ? "dingbot" : e.from === ui.me ? "You" : e.name;
    const text = e.format === "markdown" && e.title ? e.title : e.text;
    return who + ": " + (text.split("\n").find((l) => l.trim()) || "").trim();
  }

  function renderChats() {
    const list = $("chat-list");
    list.replaceChildren();
    if (ui.chat !== "dm" && !myChats().some((g) => g.id === ui.chat)) ui.chat = "dm";
    const item = (chat, title, sub, kind) => {
      const key = chatKey(chat);
      const n = ui.chat === chat ? 0 : unread(key);
      const last = lastEntry(key);
      return el("li", {},
        el("button", {
          type: "button", class: "chat-item", "data-testid": "chat-item", "data-chat": chat, "data-name": title,
          "aria-current": ui.chat === chat ? "true" : "false",
          onclick: () => selectChat(chat),
        }, avatar(title, kind), el("span", { class: "meta" }, el("span", { class: "title", text: title }),
          el("span", { class: "sub", "data-testid": "chat-preview", text: last ? preview(last) : sub })),
        n ? el("span", { class: "badge", "data-testid": "unread", "aria-label": n + " unread", text: String(n) }) : null));
    };
    list.append(item("dm", "dingbot", "one-to-one chat with the bot", "bot"));
    // Groups with the latest message first (as in DingTalk), then the quiet ones.
    const latest = (g) => (lastEntry(g.id) || { seq: 0 }).seq;
    const groups = myChats().map((g, i) => ({ g, i })).sort((a, b) => latest(b.g) - latest(a.g) || a.i - b.i);
    for (const { g } of groups) {
      list.append(item(g.id, g.name, g.members.length + " members · " + (g.existing ? "bot installed" : "created by dingbot"), "group"));
    }
  }

  function renderSwitches() {
    const radios = (fs, name, prefix, choices, current, set) => {
      if (!fs.querySelector("input")) {
        for (const s of choices) {
          const input = el("input", { type: "radio", name, id: prefix + s.id, value: s.id, "data-testid": prefix + s.id, onchange: () => set(s.id) });
          fs.append(el("label", { class: "switch", for: prefix + s.id }, input, el("span", {}, el("strong", { text: s.label }), el("small", { text: s.detail }))));
        }
      }
      const on = fs.querySelector("#" + prefix + current);
      if (on) on.checked = true;
    };
    radios($("switches"), "error", "switch-", ui.state.switches, ui.state.switch, setSwitch);
    radios($("mention-text"), "mention-text", "mention-text-", ui.state.mentionTexts, ui.state.mentionText, setMentionText);
  }

  async function setMentionText(mode) {
    try {
      await api("POST", "/api/mention-text", { mode });
      ui.state.mentionText = mode;
      showStatus("");
    } catch (err) {
      showStatus("Could not set the switch: " + err.message);
    }
  }

  async function setSwitch(id) {
    try {
      await api("POST", "/api/switch", { error: id });
      ui.state.switch = id;
      showStatus("");
    } catch (err) {
      showStatus("Could not set the switch: " + err.message);
    }
  }

  function renderGroups() {
    const list = $("groups");
    const groups = ui.state.groups;
    $("group-count").textContent = "(" + groups.length + ")";
    list.replaceChildren(...groups.map((g) => {
      const members = el("dd", {}, ...g.members.map((m) => el("span", { class: "chip" + (m.id === g.owner.id ? " owner" : ""), title: m.id, text: m.name })),
        g.bot ? el("span", { class: "chip bot", title: "the app's robot", text: "dingbot (bot)" }) : null);
      const options = g.options.length ? el("dd", {}, ...g.options.map((o) => el("span", { class: "chip", text: o }))) : el("dd", { text: "DingTalk defaults" });
      return el("li", { class: "group-card" + (g.existing ? "" : " new"), "data-testid": "group-card", "data-name": g.name, "data-id": g.id },
        el("h4", {}, el("span", { class: "group-name", text: g.name }),
          el("span", { class: "tag" + (g.existing ? "" : " created"), text: g.existing ? "existing · bot installed" : "created by dingbot" }),
          !g.existing && g.bot ? el("span", { class: "tag created", "data-testid": "bot-joined", text: "bot joined" }) : null,
          el("span", { class: "tag", text: g.type })),
        el("dl", {},
          el("dt", { text: "Owner" }), el("dd", { "data-testid": "group-owner", text: g.owner.name + " (" + g.owner.id + ")" }),
          el("dt", { text: "Members" }), members,
          el("dt", { text: "Options" }), options,
          el("dt", { text: "chatid" }), el("dd", { class: "mono", text: g.chatId }),
          el("dt", { text: "cid" }), el("dd", { class: "mono", text: g.id })));
    }));
  }

  // ---- the chat ----

  function selectChat(chat) {
    ui.chat = chat;
    ui.mentions = [];
    picker.dismissed = -1;
    closePicker();
    showHintNote("");
    renderChats();
    renderMessages();
    $("composer").focus();
  }

  function renderHead() {
    const g = currentGroup();
    $("chat-title").textContent = ui.chat === "dm" ? "dingbot" : g ? g.name : "";
    $("chat-sub").textContent = ui.chat === "dm"
      ? "one-to-one: people are found by alias, mobile or name"
      : g ? g.members.map((m) => m.name).concat(g.bot ? ["dingbot (bot)"] : []).join(", ") : "";
  }

  // Backslash escapes (\* \_ \[ …: any ASCII punctuation) stand for the
  // character itself. While a line is parsed each escaped character is held as
  // a private-use placeholder, so it can take part in no emphasis, code or
  // link. (A line that already has such characters keeps its backslashes.)
  const escapable = /\\([!-\/:-@\[-`{-~])/g;
  const placeholders = /[\uE000-\uE07F]/g;
  const hold = (line) => line.replace(escapable, (_, c) => String.fromCharCode(0xe000 + c.charCodeAt(0)));
  // release gives the held characters back: as themselves, or with their
  // backslash inside code spans (where markdown has no escapes).
  const release = (s, inCode) => s.replace(placeholders, (p) => (inCode ? "\\" : "") + String.fromCharCode(p.charCodeAt(0) - 0xe000));

  // sendAction is the text a DingTalk client link sends as the user's own
  // message (dtmd://dingtalkclient/sendMessage?content=…), or "" for any
  // other link.
  function sendAction(href) {
    const m = /^dtmd:\/\/dingtalkclient\/sendMessage\?(.*)$/i.exec(href);
    if (!m) return "";
    const content = new URLSearchParams(m[1]).get("content") || "";
    return content.trim() ? content : "";
  }

  // actionButton is a sendMessage link as DingTalk shows it: tapping it sends
  // its content as my message in this chat, exactly as if I had typed it.
  function actionButton(label, content) {
    const b = el("button", {
      type: "button", class: "md-action", "data-testid": "md-action", "data-content": content,
      title: "Sends “" + content + "” as your message in this chat",
    }, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await sendText(ui.chat, content, []);
      } finally {
        b.disabled = false;
      }
    });
    return b;
  }

  // inline renders one line of markdown: **bold**, *italic*, `code`,
  // backslash escapes and [text](link): a dtmd sendMessage link becomes a
  // button, any other link is shown as its text. Everything else is plain text.
  function inline(raw) {
    const held = !/[\uE000-\uE07F]/.test(raw);
    const line = held ? hold(raw) : raw;
    const back = (s, inCode) => (held ? release(s, inCode) : s);
    const out = [];
    const text = (s) => document.createTextNode(back(s, false));
    const re = /\*\*([^*]+)\*\*|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|(?<![\w*])\*([^*\s](?:[^*]*[^*\s])?)\*(?![\w*])/g;
    let at = 0;
    for (const m of line.matchAll(re)) {
      if (m.index > at) out.push(text(line.slice(at, m.index)));
      if (m[1] !== undefined) out.push(el("strong", {}, text(m[1])));
      else if (m[2] !== undefined) out.push(el("code", {}, document.createTextNode(back(m[2], true))));
      else if (m[3] !== undefined) {
        const href = back(m[4], false);
        const content = sendAction(href);
        out.push(content ? actionButton(back(m[3], false), content) : el("span", { class: "md-link", title: href }, text(m[3])));
      } else out.push(el("em", {}, text(m[5])));
      at = m.index + m[0].length;
    }
    if (at < line.length) out.push(text(line.slice(at)));
    return out;
  }

  // renderMarkdown shows DingTalk robot markdown (the kickoff, a /newgroup
  // preview with its Create and Cancel buttons): headings, paragraphs, line
  // breaks, lists, quotes, inline emphasis, code, escapes and links.
  // It builds elements around text nodes, so no text is ever parsed as HTML.
  function renderMarkdown(text) {
    const bubble = el("div", { class: "bubble md", "data-format": "markdown" });
    let block = null; // the paragraph, list or quote being filled
    const close = () => { block = null; };
    for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
      const line = raw.trimEnd();
      let m;
      if (!line.trim()) {
        close();
      } else if ((m = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*$/.exec(line))) {
        close();
        bubble.append(el("div", { class: "md-h md-h" + m[1].length, role: "heading", "aria-level": String(Math.min(m[1].length + 1, 6)) }, ...inline(m[2])));
      } else if ((m = /^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$/.exec(line))) {
        const tag = m[1] === undefined ? "ul" : "ol";
        if (!block || block.tagName.toLowerCase() !== tag) {
          block = el(tag, { class: "md-list" });
          bubble.append(block);
        }
        block.append(el("li", {}, ...inline(m[2])));
      } else if ((m = /^\s*>\s?(.*)$/.exec(line))) {
        if (!block || block.tagName.toLowerCase() !== "blockquote") {
          block = el("blockquote", { class: "md-quote" });
          bubble.append(block);
        } else block.append(el("br"));
        block.append(...inline(m[1]));
      } else if (block && block.tagName.toLowerCase() === "p") {
        block.append(el("br"), ...inline(line));
      } else {
        block = el("p", {}, ...inline(line));
        bubble.append(block);
      }
    }
    return bubble;
  }

  // renderText shows the text with each picked @Name highlighted.
  function renderText(text, mentions) {
    const bubble = el("div", { class: "bubble" });
    const names = (mentions || []).map((m) => "@" + m.name).sort((a, b) => b.length - a.length);
    if (!names.length) {
      bubble.textContent = text;
      return bubble;
    }
    let i = 0;
    let plain = "";
    while (i < text.length) {
      const name = names.find((n) => text.startsWith(n, i));
      if (name) {
        if (plain) bubble.append(plain);
        plain = "";
        bubble.append(el("span", { class: "at", text: name }));
        i += name.length;
      } else {
        plain += text[i];
        i++;
      }
    }
    if (plain) bubble.append(plain);
    return bubble;
  }

  const viaText = {
    session: null,
    group_api: "sent through the group robot API (the session webhook had expired)",
    oto_api: "sent through the one-to-one robot API (the session webhook had expired)",
  };

  function renderMessages() {
    const key = chatKey(ui.chat);
    const g = currentGroup();
    renderHead();
    const list = $("messages");
    const mine = ui.entries.filter((e) => e.chat === key);
    const people = peopleByID();
    if (!mine.length) {
      list.replaceChildren(el("li", { class: "empty", "data-testid": "empty" },
        ui.chat === "dm"
          ? "Say /help to the bot. In a one-to-one chat, people are named by alias (@team), mobile or name."
          : g && !g.existing
            ? "dingbot created this group and joined it. Try /groupinfo, /addmember, /rename, /owner or /removemember here."
            : "Mention people by typing @ or with the @ button (as in DingTalk, that fills atUsers), e.g. /newgroup \"发布 4.2\" @张三 @Alice"));
    } else {
      list.replaceChildren(...mine.map((e) => {
        const isBot = e.from === "bot";
        const who = isBot ? "dingbot" : (people.get(e.from) || { name: e.name }).name;
        const bubble = isBot && e.format === "markdown" ? renderMarkdown(e.text) : renderText(e.text, e.mentions);
        const body = el("div", { class: "body" }, el("span", { class: "name", text: who }), bubble);
        if (!isBot && e.delivered !== undefined) {
          // The mention-text switch stripped the picked mentions' @Name: say what the bot got.
          const ments = e.mentions || [];
          const gone = ments.filter((m) => !e.delivered.includes("@" + m.name)).map((m) => "@" + m.name);
          body.append(el("span", { class: "via", "data-testid": "delivered",
            text: "The bot got “" + e.delivered.trim() + "” with atUsers " + ments.map((m) => m.name).join(", ") +
              ": DingTalk stripped the picked " + gone.join(" ") + ", as some of its clients do." }));
        }
        if (isBot && e.format === "markdown" && !e.replyTo) {
          // Not a reply: the bot posts it on its own (the kickoff), always through the robot API.
          body.append(el("span", { class: "via", "data-testid": "posted", text: "posted by the bot through the group robot API (markdown)" }));
        } else if (isBot && viaText[e.via]) {
          body.append(el("span", { class: "via fallback", "data-testid": "via", text: viaText[e.via] }));
        }
        return el("li", {
          class: "msg " + (isBot ? "bot" : "user") + (e.from === ui.me ? " mine" : ""),
          "data-testid": isBot ? "msg-bot" : "msg-user", "data-seq": String(e.seq), "data-via": e.via || null, "data-format": e.format || null,
        }, avatar(who, isBot ? "bot" : ""), body);
      }));
    }
    if (mine.length) markSeen(key, mine[mine.length - 1].seq);
    $("typing").hidden = !ui.pending.has(key);
    list.scrollTop = list.scrollHeight;
    renderHints();
  }

  // lifecycleHints are examples for a group the bot created: someone to add
  // (not a member: named, since DingTalk only lets you @mention members), a
  // member to make owner or remove, and a new name.
  function lifecycleHints(g) {
    const ids = new Set(g.members.map((m) => m.id));
    const names = new Map();
    for (const p of ui.state.people) names.set(p.name, (names.get(p.name) || 0) + 1);
    const outsider = ui.state.people.find((p) => !ids.has(p.id) && p.visible && names.get(p.name) === 1);
    const other = g.members.find((m) => m.id !== ui.me && m.id !== g.owner.id) || g.members.find((m) => m.id !== ui.me);
    const hints = ["/groupinfo"];
    if (outsider) hints.push("/addmember " + outsider.name);
    hints.push("/rename \"" + (/\d$/.test(g.name) ? g.name.replace(/\d+$/, (d) => String(Number(d) + 1)) : g.name + " 2") + "\"");
    if (other) hints.push("/owner @" + other.name, "/removemember @" + other.name);
    hints.push("/群信息", "/help");
    return hints;
  }

  // hintNotes say what an example shows, where that takes more than one step.
  const hintNotes = {
    "/newgroup Oncall @Alice --owner @Dave": "Another owner: the bot shows a preview first. Tap Create, and DingTalk refuses: Dave is outside the app's visibility scope.",
    "/newgroup Sync Carol": "Two people are called Carol: the bot asks which one.",
    "/newgroup Standup @team 13800000003 张三": "An alias, a mobile and a name: the bot shows a preview first (tap Create or Cancel).",
  };

  function renderHints() {
    const g = currentGroup();
    const hints = ui.chat === "dm"
      ? ["/help", "/newgroup Standup @team 13800000003 张三", "/newgroup Sync Carol", "/newgroup --template release \"Release 4.3\" --dry-run"]
      : g && !g.existing ? lifecycleHints(g)
      : ["/newgroup \"发布 4.2\" @张三 @Alice", "/建群 “发布 4.2” @张三 --mute yes", "/newgroup Oncall @Alice --owner @Dave", "/help newgroup"];
    $("hints").replaceChildren(...hints.map((h) => el("button", {
      type: "button", class: "hint", "data-testid": "hint", title: hintNotes[h] || null, onclick: () => useHint(h), text: h,
    })));
  }

  // useHint puts an example in the input. Its @Names of members become
  // mentions when it is sent, as any @Name typed in full does. Its note, if
  // any, shows above the examples while the input holds it.
  function useHint(text) {
    const box = $("composer");
    box.value = text;
    ui.mentions = [];
    closePicker();
    showHintNote(text);
    box.focus();
    box.setSelectionRange(text.length, text.length);
    autosize();
  }

  // showHintNote shows the note of the example the input holds, if any.
  function showHintNote(text) {
    const note = $("hint-note");
    note.textContent = hintNotes[text.trim()] || "";
    note.hidden = !note.textContent;
  }

  // ---- @ picker ----
  //
  // Typing "@" opens the picker, and what follows it filters the list (by
  // name, userId or mobile); ↑/↓ choose, Enter or Tab picks, Escape closes.
  // The @ button opens the whole list, focused: ↑/↓ move, Enter or Tab
  // picks. The picker closes when a message is sent or a reply arrives.

  const picker = {
    at: -1,          // typing: where the "@" being completed is in the text; -1 when opened with the @ button
    items: [],       // the people listed
    active: 0,       // index in items of the one Enter or Tab picks
    dismissed: -1,   // the "@" whose picker Escape closed: it stays closed while that word is typed
  };

  function pickable() {
    const g = currentGroup();
    const people = g ? g.members : ui.state.people;
    const byID = peopleByID();
    return people.filter((p) => p.id !== ui.me).map((p) => byID.get(p.id) || p);
  }

  // filterPeople lists the people a typed query matches: names that start
  // with it first, then names containing it, userIds and mobiles starting with it.
  function filterPeople(people, query) {
    const q = query.toLowerCase();
    if (!q) return people;
    const rank = (p) => {
      const name = p.name.toLowerCase();
      if (name.startsWith(q)) return 0;
      if (name.includes(q)) return 1;
      if (p.id.toLowerCase().startsWith(q) || (p.mobile || "").startsWith(q)) return 2;
      return -1;
    };
    return people.map((p, i) => ({ p, i, r: rank(p) })).filter((x) => x.r >= 0).sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.p);
  }

  // typedMention is the @word being typed at the caret: {at, query}, or null.
  function typedMention() {
    const box = $("composer");
    const caret = box.selectionStart;
    if (caret === null || caret !== box.selectionEnd) return null;
    // An "@" after a letter or digit is part of a word (an e-mail address).
    const m = /(^|[^A-Za-z0-9_.+-])@([^\s@]*)$/.exec(box.value.slice(0, caret));
    return m ? { at: caret - m[2].length - 1, query: m[2] } : null;
  }

  const pickerOpen = () => !$("picker").hidden;

  function renderPicker(query) {
    const note = ui.chat === "dm"
      ? "One-to-one chat: DingTalk sends no mentions here, so @Name is plain text the bot looks up."
      : "Group members: picking one mentions them (atUsers).";
    const rows = picker.items.map((p, i) => el("button", {
      type: "button", class: "pick" + (i === picker.active ? " active" : ""), role: "option", id: "pick-" + p.id,
      "aria-selected": i === picker.active ? "true" : "false", tabindex: "-1",
      "data-testid": "pick-person", "data-user": p.id, "data-name": p.name,
      onclick: () => pick(p),
      onmousemove: () => { if (picker.active !== i) setActive(i, picker.at < 0); },
    }, avatar(p.name), el("span", {}, document.createTextNode(p.name), el("small", { text: [p.title, p.id].filter(Boolean).join(" · ") }))));
    $("picker").replaceChildren(el("div", { class: "picker-note", text: query ? note + " Matching “@" + query + "”:" : note }), ...rows);
  }

  // openPicker opens the picker: for the @word being typed (t, from
  // typedMention), or with everyone when t is null (the @ button).
  function openPicker(t) {
    picker.at = t ? t.at : -1;
    picker.items = t ? filterPeople(pickable(), t.query) : pickable();
    picker.active = 0;
    if (!picker.items.length) {
      closePicker();
      return;
    }
    renderPicker(t ? t.query : "");
    $("picker").hidden = false;
    $("at").setAttribute("aria-expanded", "true");
    const box = $("composer");
    if (t) {
      box.setAttribute("aria-activedescendant", "pick-" + picker.items[0].id);
    } else {
      box.removeAttribute("aria-activedescendant");
      $("picker").querySelector(".pick").focus();
    }
  }

  function closePicker() {
    $("picker").hidden = true;
    $("at").setAttribute("aria-expanded", "false");
    $("composer").removeAttribute("aria-activedescendant");
    picker.items = [];
  }

  // setActive makes items[i] the one Enter or Tab picks; focus moves to it
  // when the picker has the focus (opened with the @ button).
  function setActive(i, focus) {
    const rows = $("picker").querySelectorAll(".pick");
    if (!rows.length) return;
    picker.active = (i + rows.length) % rows.length;
    rows.forEach((r, j) => {
      r.classList.toggle("active", j === picker.active);
      r.setAttribute("aria-selected", j === picker.active ? "true" : "false");
    });
    const row = rows[picker.active];
    row.scrollIntoView({ block: "nearest" });
    if (focus) row.focus();
    else if (picker.at >= 0) $("composer").setAttribute("aria-activedescendant", row.id);
  }

  // onTyped follows the text: an @word at the caret opens the picker,
  // filtered by what follows the "@"; anything else closes it.
  function onTyped() {
    const t = typedMention();
    if (!t) {
      picker.dismissed = -1;
      if (pickerOpen() && picker.at >= 0) closePicker();
      return;
    }
    if (t.at === picker.dismissed) return;
    picker.dismissed = -1;
    openPicker(t);
  }

  function pick(p) {
    const box = $("composer");
    let start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? start;
    if (picker.at >= 0 && picker.at <= start) start = picker.at; // replace the typed "@query"
    const before = box.value.slice(0, start);
    const after = box.value.slice(end);
    const sep = before && !/\s$/.test(before) ? " " : "";
    const insert = sep + "@" + p.name + (/^\s/.test(after) ? "" : " ");
    box.value = before + insert + after;
    const pos = before.length + insert.length + (/^\s/.test(after) ? 1 : 0);
    ui.mentions.push({ id: p.id, name: p.name });
    closePicker();
    box.focus();
    box.setSelectionRange(pos, pos);
    autosize();
  }

  // mentionsIn is who the text mentions (atUsers), in text order, each
  // once: the people picked from the picker whose @Name is still in the
  // text, and in a group every @Name typed in full that is the name of
  // exactly one other member, as if picked (DingTalk makes a mention of a
  // person picked from its list; typing the whole name is the same intent).
  // A typed @word that is no member's name (an alias, a mobile, someone
  // else) stays text. Each mention says whether it was picked.
  function mentionsIn(text) {
    const found = [];
    const at = new Set();
    const from = new Map();
    for (const m of ui.mentions) {
      const token = "@" + m.name;
      const i = text.indexOf(token, from.get(token) || 0);
      if (i < 0) continue;
      from.set(token, i + token.length);
      found.push({ id: m.id, name: m.name, i, picked: true });
      at.add(i);
    }
    const g = ui.chat === "dm" ? null : currentGroup();
    if (g) {
      for (const w of text.matchAll(/(^|\s)@(\S+)/g)) {
        const i = w.index + w[1].length;
        if (at.has(i)) continue;
        const same = g.members.filter((m) => m.name === w[2]);
        if (same.length === 1 && same[0].id !== ui.me) found.push({ id: same[0].id, name: same[0].name, i, picked: false });
      }
    }
    found.sort((a, b) => a.i - b.i);
    const ids = new Set();
    return found.filter((m) => !ids.has(m.id) && ids.add(m.id));
  }

  // ---- sending and receiving ----

  // sendText sends text as me in chat, with its mentions ([{id, picked}],
  // from mentionsIn); it reports whether the demo took it.
  async function sendText(chat, text, mentions) {
    closePicker();
    const group = chat !== "dm";
    try {
      const res = await api("POST", "/api/send", {
        as: ui.me, chat, text,
        mentions: group ? mentions.map((m) => m.id) : [],
        picked: group ? mentions.filter((m) => m.picked).map((m) => m.id) : [],
      });
      ui.pending.set(res.chat, res.seq);
      showStatus("");
      renderMessages();
      return true;
    } catch (err) {
      showStatus("Not sent: " + err.message);
      return false;
    }
  }

  // send sends what is typed in the composer.
  async function send() {
    const box = $("composer");
    const text = box.value.trim();
    if (!text) return;
    $("send").disabled = true;
    try {
      if (await sendText(ui.chat, text, mentionsIn(text))) {
        box.value = "";
        ui.mentions = [];
        autosize(); // an example's note stays until something else is typed: it says what comes next
      }
    } finally {
      $("send").disabled = false;
      box.focus();
    }
  }

  function receive(entries) {
    let botReplied = false;
    let arrived = false; // a message from someone else in the open chat
    for (const e of entries) {
      if (ui.entries.length && e.seq <= ui.entries[ui.entries.length - 1].seq) continue;
      ui.entries.push(e);
      if (e.chat === chatKey(ui.chat) && e.from !== ui.me) arrived = true;
      if (e.from === "bot") {
        botReplied = true;
        const waiting = ui.pending.get(e.chat);
        if (waiting !== undefined && e.seq > waiting) ui.pending.delete(e.chat);
      } else if (e.from === ui.me) {
        ui.pending.set(e.chat, e.seq);
      }
    }
    // The picker would cover the newest message: it closes (typing on in
    // the @word reopens it).
    if (arrived && pickerOpen()) closePicker();
    renderMessages();
    renderChats();
    if (botReplied) loadState().catch(() => {});
  }

  async function poll() {
    for (;;) {
      try {
        const res = await api("GET", "/api/messages?since=" + ui.next + "&wait=20000");
        ui.next = res.next;
        if (res.messages.length) receive(res.messages);
        showStatus("");
      } catch (err) {
        showStatus("Lost the demo server (" + err.message + "); retrying…");
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }

  function autosize() {
    const box = $("composer");
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight + 2, 140) + "px";
  }

  function setPanel(open) {
    document.body.classList.toggle("panel-open", open);
    $("panel-toggle").setAttribute("aria-expanded", open ? "true" : "false");
  }

  function wire() {
    $("who").addEventListener("change", (e) => {
      ui.me = e.target.value;
      ui.pending.clear();
      selectChat(ui.chat);
    });
    $("composer-form").addEventListener("submit", (e) => {
      e.preventDefault();
      send();
    });
    const box = $("composer");
    box.addEventListener("keydown", (e) => {
      if (e.isComposing) return; // an input method is composing: its keys are its own
      if (pickerOpen() && picker.items.length) {
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          setActive(picker.active + (e.key === "ArrowDown" ? 1 : -1), false);
          return;
        }
        if ((e.key === "Enter" && !e.shiftKey) || (e.key === "Tab" && !e.shiftKey)) {
          e.preventDefault();
          pick(picker.items[picker.active]);
          return;
        }
        if (e.key === "Escape") {
          e.preventDefault();
          if (picker.at >= 0) picker.dismissed = picker.at;
          closePicker();
          return;
        }
      }
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        send();
      }
    });
    box.addEventListener("input", () => {
      autosize();
      onTyped();
      if (!$("hint-note").hidden) showHintNote(box.value);
    });
    // Moving the caret out of the @word closes its picker.
    box.addEventListener("click", onTyped);
    box.addEventListener("keyup", (e) => {
      if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) onTyped();
    });
    $("at").addEventListener("click", () => (pickerOpen() ? closePicker() : openPicker(null)));
    $("picker").addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        setActive(picker.active + (e.key === "ArrowDown" ? 1 : -1), true);
      } else if (e.key === "Tab" && !e.shiftKey && picker.items.length) {
        e.preventDefault();
        pick(picker.items[picker.active]);
      } else if (e.key === "Escape") {
        e.preventDefault();
        closePicker();
        box.focus();
      }
    });
    document.addEventListener("click", (e) => {
      if (pickerOpen() && !e.target.closest("#picker") && !e.target.closest("#at") && !e.target.closest("#composer")) closePicker();
    });
    $("panel-toggle").addEventListener("click", () => setPanel(!document.body.classList.contains("panel-open")));
    $("panel-close").addEventListener("click", () => setPanel(false));
  }

  async function main() {
    wire();
    for (;;) {
      try {
        await loadState();
        break;
      } catch (err) {
        showStatus("Cannot reach the demo server (" + err.message + "); retrying…");
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    showStatus("");
    renderMessages();
    document.body.dataset.ready = "true";
    poll();
  }

  main();
})();
