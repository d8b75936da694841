/*!
 * Pilot Rock chat widget: the website front end of the Pilot Rock intake assistant (Rasa).
 *
 * Embed with one tag (vanilla ES2020, no build step):
 *
 *   <script src="https://WEB-APP/widget/pilotrock-widget.js" defer
 *           data-server="https://chat.example.org"   Rasa server (default: this page's host, :5005)
 *           data-title="Pilot Rock assistant"        panel title / dialog label
 *           data-color="#0b5e59"                     accent colour (text colour is picked for contrast)
 *           data-open="true"                         open the panel on load
 *           data-storage="local"                     "session" (default) or "local"
 *           data-socket-path="/socket.io/"></script>
 *
 * Files it loads, relative to its own URL (so they come from the same web server):
 *   widget.css                  through a <link> inside the shadow root (CSP: style-src of that server)
 *   vendor/socket.io.min.js     socket.io-client v4, injected before connecting, unless the page
 *                               already has a socket.io v4 client as window.io
 *
 * Protocol (bot/rasa/channels/socketio.py, Rasa 3.6 SocketIOInput with session_persistence): connect,
 * emit `session_request` {session_id, session_token, request} with the session this browser was
 * given (both null at first) and a request number; wait for `session_confirm` {session_id,
 * session_token, request}. The server issues sessions: it rejoins ours only when the token is
 * the one it issued for that id, else it starts a new one, and the widget adopts whatever it
 * confirms (a confirm for an older request number, such as one from before "Clear", is ignored).
 * Visitor messages go out as `user_uttered` {message, session_id, metadata: {timezone, page_url,
 * message_id}}; the server handles them in the socket's confirmed session, and the ack (after
 * the message is handled) carries {error} when it refused one. Replies arrive on `bot_uttered`;
 * a navigator's message there carries `staff_name` and `handoff_kind` "staff_message" and is
 * shown under the navigator's name ("joined" / "handed_back" notices stay the assistant's).
 * A reply also carries its event's server `timestamp` (seconds) and `part` (its place among that
 * event's messages). The widget keeps the newest timestamp it has shown (`lastSeen`, stored with
 * the transcript) and sends it as `last_seen` in `session_request` when it rejoins its session;
 * the server then sends again the bot messages that came after it (a navigator's message while
 * the connection was down). A reply whose timestamp and part it has shown already is ignored, so
 * neither that catch-up nor the replies to a resent message ever show one message twice.
 * Visitor messages typed while disconnected wait in a queue (kept in storage with the
 * transcript) and go out after the next `session_confirm`; a message is taken off the queue
 * before it is emitted, so it is never sent twice.
 *
 * Nothing the bot sends is parsed as HTML: text becomes text nodes, with only **bold** and
 * http(s)/mailto links turned into <strong>/<a> elements built one by one.
 */
(() => {
  "use strict";

  if (window.PilotRockChat || document.getElementById("pilotrock-chat")) {
    return;
  }

  const script =
    document.currentScript || document.querySelector('script[src*="pilotrock-widget"]');
  const scriptUrl = script && script.src ? script.src : location.href;
  const attrs = (script && script.dataset) || {};

  const DEFAULTS = {
    title: "Pilot Rock assistant",
    color: "#0b5e59",
    socketPath: "/socket.io/",
  };
  const STORAGE_KEY = "pilotrock-chat";
  const MAX_MESSAGES = 200;
  const MAX_LENGTH = 1000;
  const ACK_TIMEOUT_MS = 60000;
  const SESSION_ID = /^[A-Za-z0-9-]{16,64}$/;
  const SESSION_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;
  const TEAM = "Pilot Rock team";
  const MAX_STAFF_NAME = 80;
  const BOTTOM_SLACK_PX = 80;

  const config = {
    server: serverUrl(attrs.server),
    title: (attrs.title || "").trim() || DEFAULTS.title,
    color: validColor(attrs.color) || DEFAULTS.color,
    open: attrs.open === "true",
    storageKind: attrs.storage === "local" ? "local" : "session",
    socketPath: (attrs.socketPath || "").trim() || DEFAULTS.socketPath,
    cssUrl: new URL("widget.css", scriptUrl).href,
    socketIoUrl: new URL("vendor/socket.io.min.js", scriptUrl).href,
  };

  /** The Rasa server: data-server, else this page's protocol and host on port 5005. */
  function serverUrl(value) {
    const given = (value || "").trim();
    if (given) {
      return given.replace(/\/+$/, "");
    }
    const protocol = location.protocol === "https:" ? "https:" : "http:";
    const host = location.hostname || "localhost";
    return `${protocol}//${host.includes(":") ? `[${host}]` : host}:5005`;
  }

  function validColor(value) {
    const colour = (value || "").trim();
    return colour && window.CSS && CSS.supports("color", colour) ? colour : "";
  }

  // ---------------------------------------------------------------------------------------
  // Storage: the session (id and token), the transcript and the queue of unsent messages.
  // ---------------------------------------------------------------------------------------

  function pickStorage(kind) {
    try {
      const store = kind === "local" ? window.localStorage : window.sessionStorage;
      const probe = `${STORAGE_KEY}:probe`;
      store.setItem(probe, "1");
      store.removeItem(probe);
      return store;
    } catch (_) {
      return null; // storage blocked: keep everything in memory for this page view
    }
  }

  const storage = pickStorage(config.storageKind);

  function newId() {
    if (window.crypto && typeof crypto.randomUUID === "function") {
      return crypto.randomUUID();
    }
    // crypto.randomUUID needs a secure context; getRandomValues does not.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** No session yet: the server issues one with its token on the first `session_confirm`. */
  function freshState() {
    return { v: 1, sessionId: null, sessionToken: null, lastSeen: null, messages: [], queue: [] };
  }

  /** A server timestamp (seconds since the epoch), or null. */
  function serverTime(value) {
    return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
  }

  /** A reply's place among its event's messages (0 when not given). */
  function partNumber(value) {
    return Number.isInteger(value) && value >= 0 ? value : 0;
  }

  function validSession(data) {
    const id = data.sessionId;
    const token = data.sessionToken;
    if (typeof id === "string" && SESSION_ID.test(id)) {
      // A stored session without a token (an older widget) is simply replaced by a new one.
      return typeof token === "string" && SESSION_TOKEN.test(token)
        ? { sessionId: id, sessionToken: token }
        : { sessionId: null, sessionToken: null };
    }
    return { sessionId: null, sessionToken: null };
  }

  function validMessage(m) {
    if (!m || typeof m.text !== "string" || !["bot", "user", "staff"].includes(m.from)) {
      return false;
    }
    for (const key of ["staff", "kind"]) {
      if (m[key] !== undefined && typeof m[key] !== "string") {
        delete m[key];
      }
    }
    if (m.at !== undefined && serverTime(m.at) === null) {
      delete m.at;
    }
    if (m.part !== undefined && !Number.isInteger(m.part)) {
      delete m.part;
    }
    return true;
  }

  function loadState() {
    try {
      const raw = storage && storage.getItem(STORAGE_KEY);
      const data = raw ? JSON.parse(raw) : null;
      if (data && data.v === 1 && Array.isArray(data.messages) && Array.isArray(data.queue)) {
        Object.assign(data, validSession(data));
        data.lastSeen = serverTime(data.lastSeen);
        data.messages = data.messages.filter(validMessage);
        data.queue = data.queue.filter((q) => q && typeof q.message === "string");
        return data;
      }
    } catch (_) {
      // unreadable: start again
    }
    return freshState();
  }

  let state = loadState();

  function save() {
    if (state.messages.length > MAX_MESSAGES) {
      state.messages = state.messages.slice(-MAX_MESSAGES);
    }
    try {
      if (storage) {
        storage.setItem(STORAGE_KEY, JSON.stringify(state));
      }
    } catch (_) {
      // quota exceeded: the conversation still works, it just is not restored
    }
  }

  // ---------------------------------------------------------------------------------------
  // DOM helpers (no innerHTML anywhere).
  // ---------------------------------------------------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === false || value === null || value === undefined) {
        continue;
      }
      if (key === "text") {
        node.textContent = value;
      } else if (key === "className") {
        node.className = value;
      } else {
        node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child);
      }
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat: ["M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"],
    close: ["M6 6l12 12", "M18 6L6 18"],
    clear: ["M4 7h16", "M10 11v6", "M14 11v6", "M6 7l1 13h10l1-13", "M9 7V4h6v3"],
    send: ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"],
  };

  function icon(name) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    for (const d of ICONS[name]) {
      const path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.append(path);
    }
    return svg;
  }

  /** A safe link, or null when the URL is not http(s)/mailto. */
  function safeLink(href, label) {
    let url;
    try {
      url = new URL(href);
    } catch (_) {
      return null;
    }
    if (!["http:", "https:", "mailto:"].includes(url.protocol)) {
      return null;
    }
    return el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer", text: label });
  }

  const LINK_PATTERN = /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|\b((?:https?:\/\/|mailto:)[^\s<>"]+)/g;

  /** Append text with markdown links and bare URLs turned into safe <a> elements. */
  function appendLinks(parent, text) {
    let last = 0;
    for (const match of text.matchAll(LINK_PATTERN)) {
      let [whole, label, href, bare] = match;
      let trailing = "";
      if (bare) {
        // Sentence punctuation after a bare URL is not part of it.
        const cut = bare.match(/[.,;:!?)\]'"]+$/);
        if (cut) {
          trailing = cut[0];
          bare = bare.slice(0, -trailing.length);
        }
      }
      const link = bare ? safeLink(bare, bare.replace(/^mailto:/, "")) : safeLink(href, label);
      parent.append(document.createTextNode(text.slice(last, match.index)));
      parent.append(link || document.createTextNode(bare || whole));
      if (trailing) {
        parent.append(document.createTextNode(trailing));
      }
      last = match.index + whole.length;
    }
    parent.append(document.createTextNode(text.slice(last)));
  }

  /** Render the bot's light markup: **bold** and links. Everything else stays text. */
  function renderRich(parent, text) {
    const parts = text.split(/\*\*(?=\S)([\s\S]*?\S)\*\*/);
    parts.forEach((part, index) => {
      if (index % 2 === 1) {
        const strong = el("strong");
        appendLinks(strong, part);
        parent.append(strong);
      } else if (part) {
        appendLinks(parent, part);
      }
    });
  }

  const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
  const DATE_TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
  });

  function timeElement(ms) {
    const date = new Date(ms);
    const today = new Date().toDateString() === date.toDateString();
    return el("time", {
      datetime: date.toISOString(),
      title: date.toLocaleString(),
      text: (today ? TIME_FORMAT : DATE_TIME_FORMAT).format(date),
    });
  }

  // ---------------------------------------------------------------------------------------
  // Build the widget.
  // ---------------------------------------------------------------------------------------

  const host = el("div", { id: "pilotrock-chat" });
  // Inline (CSSOM) styles on the host win over any page rule that targets it.
  host.style.setProperty("all", "initial");
  host.style.setProperty("--pr-accent", config.color);
  const shadow = host.attachShadow({ mode: "open" });

  const stylesheet = el("link", { rel: "stylesheet", href: config.cssUrl });
  const root = el("div", { className: "pr-root", hidden: true });
  let focusWhenShown = false;
  const reveal = () => {
    if (!root.hidden) {
      return;
    }
    root.removeAttribute("hidden");
    if (focusWhenShown && !panel.hidden) {
      input.focus();
    }
    focusWhenShown = false;
  };
  stylesheet.addEventListener("load", reveal);
  stylesheet.addEventListener("error", reveal);
  setTimeout(reveal, 3000);

  const badge = el("span", { className: "badge", hidden: true });
  const launcher = el(
    "button",
    {
      type: "button",
      className: "launcher",
      "data-testid": "launcher",
      "aria-label": "Open chat",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      "aria-controls": "pr-panel",
    },
    icon("chat"),
    badge,
  );

  const clearButton = el(
    "button",
    {
      type: "button",
      className: "icon-btn",
      "data-testid": "clear",
      "aria-label": "Clear conversation",
      title: "Clear conversation",
    },
    icon("clear"),
  );
  const closeButton = el(
    "button",
    {
      type: "button",
      className: "icon-btn",
      "data-testid": "close",
      "aria-label": "Close chat",
      title: "Close chat",
    },
    icon("close"),
  );

  const status = el("div", {
    className: "status",
    "data-testid": "status",
    role: "status",
    "aria-live": "polite",
    hidden: true,
  });

  const notice = el(
    "div",
    { className: "notice", "data-testid": "notice", id: "pr-notice" },
    el(
      "p",
      null,
      el("strong", { text: "This chat is not for emergencies:" }),
      " call 911, or call or text 988 (Suicide & Crisis Lifeline) if you are thinking about " +
        "harming yourself. The assistant explains our services and books calls; it is not " +
        "medical advice and cannot review your case.",
    ),
    el(
      "p",
      null,
      "Messages are stored to answer you and to follow up when you ask us to. Share only the " +
        "health details you are comfortable with; 'Clear conversation' removes this chat " +
        "from this browser.",
    ),
  );

  const log = el("div", {
    className: "log",
    "data-testid": "log",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Conversation",
  });

  const typing = el(
    "div",
    { className: "typing", "data-testid": "typing", "aria-hidden": "true", hidden: true },
    el("span"),
    el("span"),
    el("span"),
  );

  const scroller = el("div", { className: "scroll" }, notice, log, typing);

  const input = el("textarea", {
    className: "input",
    "data-testid": "input",
    "aria-label": "Message",
    "aria-describedby": "pr-notice",
    rows: "1",
    maxlength: String(MAX_LENGTH),
    placeholder: "Type your question…",
    autocomplete: "off",
  });
  const sendButton = el(
    "button",
    { type: "submit", className: "send", "data-testid": "send", "aria-label": "Send message" },
    icon("send"),
  );
  const composer = el("form", { className: "composer", novalidate: true }, input, sendButton);

  const panel = el(
    "section",
    {
      id: "pr-panel",
      className: "panel",
      "data-testid": "panel",
      role: "dialog",
      "aria-modal": "true",
      "aria-label": config.title,
      hidden: true,
    },
    el(
      "div",
      { className: "header" },
      el(
        "div",
        { className: "titles" },
        el("h2", { className: "title", text: config.title }),
        el("p", { className: "subtitle", text: "Pilot Rock Medical Navigators" }),
      ),
      clearButton,
      closeButton,
    ),
    status,
    scroller,
    composer,
    el("p", {
      className: "footnote",
      text: "Enter to send · Shift+Enter for a new line",
      "aria-hidden": "true",
    }),
  );

  root.append(launcher, panel);
  shadow.append(stylesheet, root);

  // Text colours that keep contrast with whatever accent the page chose.
  function applyContrast() {
    const probe = el("span");
    probe.style.setProperty("color", config.color);
    shadow.append(probe);
    const rgb = (getComputedStyle(probe).color.match(/[\d.]+/g) || [11, 94, 89]).map(Number);
    probe.remove();
    const lum = (r, g, b) => {
      const f = (c) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (a, b) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const accent = lum(rgb[0], rgb[1], rgb[2]);
    const onAccent = ratio(accent, 1) >= ratio(accent, lum(17, 17, 17)) ? "#ffffff" : "#111111";
    host.style.setProperty("--pr-on-accent", onAccent);
    const bubble = lum(0xee, 0xf4, 0xf3);
    host.style.setProperty("--pr-link", ratio(accent, bubble) >= 4.5 ? config.color : "#0b4a8c");
  }

  // ---------------------------------------------------------------------------------------
  // Rendering the transcript.
  // ---------------------------------------------------------------------------------------

  const messageNodes = new Map(); // message id -> element

  function isNearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < BOTTOM_SLACK_PX;
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  /** Who said it, for screen readers ("You:", "Assistant:", or the navigator's name). */
  function speaker(message) {
    if (message.from === "staff") {
      return `${message.staff || TEAM}:`;
    }
    return message.from === "bot" ? "Assistant:" : "You:";
  }

  /** The visible name over a navigator's message (screen readers get it from the prefix). */
  function senderLabel(message) {
    if (message.from !== "staff") {
      return null;
    }
    const text = message.staff ? `${message.staff} · ${TEAM}` : TEAM;
    return el("div", { className: "sender", "data-testid": "sender", "aria-hidden": "true", text });
  }

  function renderMessage(message) {
    const text = el("div", { className: "text" });
    if (message.from === "user") {
      text.textContent = message.text;
    } else {
      renderRich(text, message.text);
    }
    const meta = el("div", { className: "meta" }, timeElement(message.ts));
    const node = el(
      "div",
      {
        className: `msg${message.pending ? " pending" : ""}`,
        "data-testid": "message",
        "data-from": message.from,
        "data-handoff": message.kind,
      },
      el("span", { className: "sr-only", text: speaker(message) }),
      senderLabel(message),
      el("div", { className: "bubble" }, text),
      meta,
    );
    if (message.pending) {
      meta.append(el("span", { className: "state", text: "Waiting to send" }));
    }
    if (message.note) {
      meta.append(el("span", { className: "note", text: message.note }));
    }
    if (message.replies && message.replies.length) {
      node.append(renderReplies(message));
    }
    messageNodes.set(message.id, node);
    return node;
  }

  function renderReplies(message) {
    const group = el("div", {
      className: "replies",
      role: "group",
      "aria-label": "Suggested replies",
    });
    for (const reply of message.replies) {
      const button = el("button", {
        type: "button",
        className: `reply${message.chosen === reply.payload ? " chosen" : ""}`,
        "data-testid": "quick-reply",
        disabled: Boolean(message.answered),
        "aria-pressed": message.answered ? String(message.chosen === reply.payload) : false,
        text: reply.title,
      });
      button.addEventListener("click", () => chooseReply(message, reply));
      group.append(button);
    }
    return group;
  }

  function refreshMessage(message) {
    const old = messageNodes.get(message.id);
    if (old) {
      old.replaceWith(renderMessage(message));
    }
  }

  function appendMessage(message) {
    const follow = message.from === "user" || isNearBottom();
    state.messages.push(message);
    save();
    log.append(renderMessage(message));
    if (follow) {
      scrollToBottom();
    }
    if (message.from !== "user" && panel.hidden) {
      badge.hidden = false;
    }
  }

  function renderAll() {
    messageNodes.clear();
    log.replaceChildren(...state.messages.map(renderMessage));
    scrollToBottom();
  }

  /** Disable every quick-reply group still open (a choice or a typed answer closes them). */
  function closeOpenReplies(chosenPayload, chosenMessage) {
    for (const message of state.messages) {
      if (message.replies && message.replies.length && !message.answered) {
        message.answered = true;
        if (message === chosenMessage) {
          message.chosen = chosenPayload;
        }
        refreshMessage(message);
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // Connection: socket.io, the session handshake, the send queue.
  // ---------------------------------------------------------------------------------------

  let socket = null;
  let confirmed = false; // session_confirm received for the latest session_request
  let requestNo = 0; // numbers session requests, so a stale confirm is recognised
  const inflight = new Map(); // message id -> payload object emitted, awaiting the ack
  const emitted = new Map(); // payload object -> message id (to requeue unsent packets)

  function isReady() {
    return Boolean(socket && socket.connected && confirmed);
  }

  function setStatus(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  function showReconnecting() {
    setStatus(
      "Reconnecting… Messages you send now will be delivered when the connection is back.",
    );
  }

  function updateTyping() {
    typing.hidden = !(inflight.size > 0 && isReady());
    if (!typing.hidden && isNearBottom()) {
      scrollToBottom();
    }
  }

  function metadata() {
    let timezone = "";
    try {
      timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (_) {
      timezone = "";
    }
    // The page, without its query string or fragment (they can carry personal data).
    return { timezone, page_url: `${location.origin}${location.pathname}` };
  }

  function findMessage(id) {
    return state.messages.find((m) => m.id === id);
  }

  function flushQueue() {
    while (isReady() && state.queue.length) {
      const item = state.queue.shift();
      save(); // off the queue before it goes out: never sent twice
      emitItem(item);
    }
  }

  function emitItem(item) {
    const message = findMessage(item.id);
    if (message && (message.pending || message.note)) {
      delete message.pending;
      delete message.note;
      save();
      refreshMessage(message);
    }
    // The message id lets the server answer a resent message once (bot/rasa/runtime/delivery.py).
    const payload = {
      message: item.message,
      session_id: state.sessionId,
      metadata: { ...metadata(), message_id: item.id },
    };
    inflight.set(item.id, payload);
    emitted.set(payload, item.id);
    socket.timeout(ACK_TIMEOUT_MS).emit("user_uttered", payload, (error, answer) => {
      emitted.delete(payload);
      if (inflight.get(item.id) !== payload) {
        return; // requeued before it left the browser
      }
      inflight.delete(item.id);
      updateTyping();
      const refused = !error && answer && typeof answer.error === "string" ? answer.error : "";
      if (error && /disconnected/.test(String(error.message))) {
        // Lost with the connection: sent again, same id, once the session is back. The
        // server answers it once, whether or not the first copy got through.
        putBack(item);
        flushQueue();
      } else if (refused === "no_session" || refused === "wrong_session") {
        // The socket's session is not (or no longer) the one we sent for: confirm it again.
        putBack(item);
        if (socket.connected) {
          requestSession();
        }
      } else if (refused) {
        noteNotSent(item.id);
      }
    });
    updateTyping();
  }

  /** An emitted message goes back to the head of the queue, shown as waiting. */
  function putBack(item) {
    state.queue.unshift({ id: item.id, message: item.message });
    const sent = findMessage(item.id);
    if (sent) {
      sent.pending = true;
      refreshMessage(sent);
    }
    save();
  }

  function noteNotSent(id) {
    const message = findMessage(id);
    if (message) {
      message.note = "Not sent";
      save();
      refreshMessage(message);
    }
  }

  /** Packets socket.io buffered (never written to the network) go back to our own queue. */
  function reclaimBuffered() {
    const buffered = (socket.sendBuffer || []).filter(
      (packet) => packet && packet.data && packet.data[0] === "user_uttered",
    );
    if (!buffered.length) {
      return;
    }
    socket.sendBuffer = socket.sendBuffer.filter((packet) => !buffered.includes(packet));
    const back = [];
    for (const packet of buffered) {
      const payload = packet.data[1];
      const id = emitted.get(payload);
      if (id !== undefined) {
        inflight.delete(id);
        emitted.delete(payload);
        back.push({ id, message: payload.message });
        const message = findMessage(id);
        if (message) {
          message.pending = true;
          refreshMessage(message);
        }
      }
    }
    state.queue = back.concat(state.queue);
    save();
  }

  function requestSession() {
    confirmed = false;
    requestNo += 1;
    const request = {
      session_id: state.sessionId,
      session_token: state.sessionToken,
      request: requestNo,
    };
    if (state.sessionId && state.sessionToken && state.lastSeen !== null) {
      request.last_seen = state.lastSeen; // the server sends again what came after it
    }
    socket.emit("session_request", request);
  }

  /** Adopt the session the server confirmed for our latest request; false if stale or bad. */
  function adoptSession(data) {
    if (!data || typeof data !== "object" || data.request !== requestNo) {
      return false; // an answer to an older request (say, from before the visitor cleared)
    }
    const { session_id: id, session_token: token } = data;
    if (typeof id !== "string" || !SESSION_ID.test(id)) {
      return false;
    }
    if (typeof token !== "string" || !SESSION_TOKEN.test(token)) {
      return false;
    }
    if (id !== state.sessionId || token !== state.sessionToken) {
      state.sessionId = id;
      state.sessionToken = token;
      save();
    }
    return true;
  }

  /** A navigator's name from a reply (never HTML: it only ever becomes a text node). */
  function staffName(data) {
    const name = typeof data.staff_name === "string" ? data.staff_name : "";
    return name.replace(/\s+/g, " ").trim().slice(0, MAX_STAFF_NAME);
  }

  /** Whether the message of this server event and part is in the transcript already. */
  function shownBefore(at, part) {
    return state.messages.some((m) => m.at === at && (m.part || 0) === part);
  }

  /** Remember a shown server timestamp if it is the newest (saved with the next save()). */
  function noteSeen(at) {
    if (at !== null && (state.lastSeen === null || at > state.lastSeen)) {
      state.lastSeen = at;
    }
  }

  function handleBotMessage(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    const at = serverTime(data.timestamp);
    const part = partNumber(data.part);
    if (at !== null && shownBefore(at, part)) {
      noteSeen(at); // sent again (a catch-up, or the replies to a resent message): not shown twice
      save();
      return;
    }
    const raw = Array.isArray(data.quick_replies)
      ? data.quick_replies
      : Array.isArray(data.buttons)
        ? data.buttons
        : [];
    const replies = raw
      .filter((b) => b && (typeof b.title === "string" || typeof b.payload === "string"))
      .map((b) => ({
        title: String(b.title ?? b.payload),
        payload: String(b.payload ?? b.title),
      }));
    let text = typeof data.text === "string" ? data.text : "";
    const attachment = data.attachment && data.attachment.payload;
    if (!text && attachment && typeof attachment.src === "string") {
      text = attachment.src; // an image or file: shown as a link, never embedded
    }
    if (!text && !replies.length) {
      return;
    }
    const kind = typeof data.handoff_kind === "string" ? data.handoff_kind : "";
    const staff = kind === "staff_message" || (!kind && staffName(data) !== "");
    noteSeen(at);
    appendMessage({
      id: newId(),
      from: staff ? "staff" : "bot",
      staff: staff ? staffName(data) || undefined : undefined,
      kind: kind || undefined,
      text,
      ts: Date.now(),
      at: at === null ? undefined : at,
      part: at === null ? undefined : part,
      replies: replies.length ? replies : undefined,
    });
  }

  function startSocket(io) {
    socket = io(config.server, {
      path: config.socketPath,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      timeout: 10000,
      // WebSocket only: no long-polling, so any of several server workers can hold the socket.
      transports: ["websocket"],
    });

    socket.on("connect", () => {
      requestSession();
    });

    socket.on("session_confirm", (data) => {
      if (!adoptSession(data)) {
        return;
      }
      confirmed = true;
      setStatus("");
      flushQueue();
      updateTyping();
    });

    socket.on("bot_uttered", handleBotMessage);

    socket.on("disconnect", (reason) => {
      confirmed = false;
      reclaimBuffered();
      if (reason !== "io client disconnect") {
        showReconnecting(); // our own disconnect (clear) reconnects at once
      }
      updateTyping();
      if (reason === "io server disconnect") {
        // The server closed the socket: socket.io does not retry by itself then.
        setTimeout(() => socket.connect(), 2000);
      }
    });

    socket.on("connect_error", () => {
      showReconnecting();
      if (!socket.active) {
        setTimeout(() => socket.connect(), 5000);
      }
    });
  }

  let loadAttempts = 0;

  function loadSocketIo() {
    if (window.io && window.io.protocol === 5 && typeof window.io === "function") {
      return Promise.resolve(window.io);
    }
    return new Promise((resolve, reject) => {
      const previous = window.io;
      const tag = document.createElement("script");
      tag.src = config.socketIoUrl;
      tag.async = true;
      tag.addEventListener("load", () => {
        const io = window.io;
        if (previous !== undefined) {
          window.io = previous; // leave the page's own `io` alone
        }
        tag.remove();
        if (typeof io === "function") {
          resolve(io);
        } else {
          reject(new Error("socket.io-client did not load"));
        }
      });
      tag.addEventListener("error", () => {
        tag.remove();
        reject(new Error("socket.io-client could not be fetched"));
      });
      (document.head || document.documentElement).append(tag);
    });
  }

  function connect() {
    setStatus("Connecting…");
    loadSocketIo().then(startSocket, () => {
      showReconnecting();
      loadAttempts += 1;
      setTimeout(connect, Math.min(30000, 1000 * 2 ** loadAttempts));
    });
  }

  // A lost network is noticed at once, not after the ping timeout.
  window.addEventListener("offline", () => {
    if (socket && socket.connected && socket.io.engine) {
      socket.io.engine.close();
    }
  });

  // ---------------------------------------------------------------------------------------
  // Visitor actions.
  // ---------------------------------------------------------------------------------------

  function send(text, payload) {
    const shown = String(text || "").trim();
    if (!shown) {
      return;
    }
    const id = newId();
    appendMessage({ id, from: "user", text: shown, ts: Date.now(), pending: !isReady() });
    state.queue.push({ id, message: payload === undefined ? shown : String(payload) });
    save();
    flushQueue();
  }

  function chooseReply(message, reply) {
    if (message.answered) {
      return;
    }
    closeOpenReplies(reply.payload, message);
    save();
    send(reply.title, reply.payload);
    input.focus();
  }

  function submitInput() {
    const text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    closeOpenReplies();
    input.value = "";
    autoGrow();
    send(text);
    input.focus();
  }

  function autoGrow() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight + 2, 132)}px`;
  }

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submitInput();
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitInput();
    }
  });

  input.addEventListener("input", autoGrow);

  // ---------------------------------------------------------------------------------------
  // Open, close, keyboard.
  // ---------------------------------------------------------------------------------------

  function focusables() {
    return Array.from(
      panel.querySelectorAll("button, textarea, a[href], [tabindex]:not([tabindex='-1'])"),
    ).filter((node) => !node.disabled && node.getClientRects().length > 0);
  }

  function open() {
    if (panel.hidden) {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      badge.hidden = true;
      scrollToBottom();
    }
    if (root.hidden) {
      focusWhenShown = true; // the stylesheet is still loading
    } else {
      input.focus();
    }
  }

  function close() {
    if (panel.hidden) {
      return;
    }
    const hadFocus = panel.contains(shadow.activeElement);
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    if (hadFocus) {
      launcher.focus();
    }
  }

  function clear() {
    if (socket && Array.isArray(socket.sendBuffer)) {
      // Messages of the old conversation that socket.io still holds must not reach the new one.
      socket.sendBuffer = socket.sendBuffer.filter(
        (packet) => !(packet && packet.data && packet.data[0] === "user_uttered"),
      );
    }
    inflight.clear();
    emitted.clear();
    requestNo += 1; // a confirm on its way for the old session is ignored
    confirmed = false;
    state = freshState();
    save();
    renderAll();
    updateTyping();
    if (socket && socket.connected) {
      // A new socket: the old one stays in the old session's room and would still get its replies.
      socket.disconnect();
      socket.connect();
    }
  }

  launcher.addEventListener("click", open);
  closeButton.addEventListener("click", () => {
    close();
    launcher.focus();
  });
  clearButton.addEventListener("click", () => {
    clear();
    input.focus();
  });

  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
      launcher.focus();
      return;
    }
    if (event.key !== "Tab") {
      return;
    }
    const items = focusables();
    if (!items.length) {
      return;
    }
    const first = items[0];
    const last = items[items.length - 1];
    const active = shadow.activeElement;
    if (event.shiftKey && (active === first || !items.includes(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !items.includes(active))) {
      event.preventDefault();
      first.focus();
    }
  });

  // Any element on the page with data-pilotrock-open opens the chat (no inline script needed).
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target && target.closest("[data-pilotrock-open]")) {
      event.preventDefault();
      open();
    }
  });

  // ---------------------------------------------------------------------------------------
  // Start.
  // ---------------------------------------------------------------------------------------

  window.PilotRockChat = Object.freeze({
    open,
    close,
    clear,
    send: (text) => send(text),
    get sessionId() {
      return state.sessionId;
    },
    get connected() {
      return isReady();
    },
  });

  function mount() {
    document.body.append(host);
    applyContrast();
    renderAll();
    connect();
    if (config.open) {
      open();
    }
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount, { once: true });
  }
})();
