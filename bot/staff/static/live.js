// Pilot Rock staff app: keeps the live chat and the navigation's waiting count current.
// The live chat is pushed (live/stream, Server-Sent Events); live.json is polled only while the
// stream is down. The pages work without the script (plain forms, a Refresh link).
// Text goes in with textContent only.
"use strict";

(function () {
  const CHAT_MS = 1000;
  const COUNT_MS = 10000;
  const HIDDEN_MS = 5000;
  const RETRY_MS = 5000;
  const STREAM_RETRY_MS = 2000;
  const STREAM_RETRY_MAX_MS = 30000;
  const RECONNECTING = "Reconnecting to live updates… meanwhile new messages are checked every second.";
  const ENDED = "Your session has ended: refresh the page to sign in again.";

  // GET a JSON address of this site; null when the session has ended (a redirect to sign in).
  async function getJSON(url) {
    const response = await fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
      headers: { Accept: "application/json" },
    });
    if (response.type === "opaqueredirect") {
      return null;
    }
    if (!response.ok) {
      throw new Error("HTTP " + response.status);
    }
    return response.json();
  }

  function later(step, ms) {
    window.setTimeout(step, document.hidden ? Math.max(ms, HIDDEN_MS) : ms);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  // The markup of templates/_chat.html's chat_item, for one live.json item.
  function chatItem(item) {
    const classes = ["chat-item", "from-" + item.from];
    if (item.note) {
      classes.push("note");
    }
    if (item.emergency) {
      classes.push("emergency");
    }
    const li = element("li", classes.join(" "));
    li.id = "event-" + item.id;
    li.dataset.testid = "chat-item";
    const head = element("p", "chat-head");
    head.append(element("span", "who", item.name), " ", element("time", "", item.at));
    li.append(head);
    if (item.emergency) {
      const flag = element("p", "flag", item.flag);
      flag.dataset.testid = "emergency-flag";
      li.append(flag);
    }
    li.append(element("p", "text", item.text));
    return li;
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 160;
  }

  // The live chat: pushed through live/stream (Server-Sent Events) while that is up; while it is
  // down the page says so, polls live.json every second and tries the stream again.
  function startChat(live) {
    const chat = live.querySelector("[data-chat]");
    const stateText = live.querySelector("[data-live-state]");
    const stale = live.querySelector("[data-live-stale]");
    const hint = live.querySelector("[data-live-hint]");
    const push = live.querySelector("[data-live-push]");
    const shownState = live.dataset.state;
    let after = Number(live.dataset.after) || 0;
    let source = null;
    let polling = false; // the stream is down: live.json is polled
    let pollScheduled = false;
    let ended = false;
    let retry = STREAM_RETRY_MS;
    if (hint) {
      hint.textContent = "(new messages also appear by themselves).";
    }

    function showItems(items, cursor) {
      const follow = nearBottom();
      let last = null;
      for (const item of items) {
        if (!document.getElementById("event-" + item.id)) {
          last = chatItem(item);
          chat.append(last);
        }
      }
      if (last && follow) {
        last.scrollIntoView({ block: "nearest" });
      }
      after = Math.max(after, Number(cursor) || 0);
    }

    function showState(state) {
      stateText.textContent = state.text;
      stateText.className = "live-state state-" + state.key;
      stale.hidden = state.key === shownState;
    }

    function end() {
      ended = true;
      if (source) {
        source.close();
        source = null;
      }
      push.hidden = true;
      stateText.textContent = ENDED;
    }

    async function poll() {
      if (!polling || ended) {
        pollScheduled = false;
        return;
      }
      let wait = CHAT_MS;
      try {
        const body = await getJSON(live.dataset.feedUrl + "?after=" + encodeURIComponent(after));
        if (body === null) {
          end();
          return;
        }
        if (polling) {
          showItems(body.items, body.cursor);
          showState(body.state);
        }
        wait = body.more ? 0 : CHAT_MS;
      } catch (error) {
        wait = RETRY_MS;
      }
      later(poll, wait);
    }

    function up() {
      live.dataset.push = "up";
      polling = false;
      retry = STREAM_RETRY_MS;
      push.hidden = true;
    }

    function down() {
      if (source) {
        source.close();
        source = null;
      }
      if (ended) {
        return;
      }
      live.dataset.push = "down";
      push.textContent = RECONNECTING;
      push.hidden = false;
      polling = true;
      if (!pollScheduled) {
        pollScheduled = true;
        poll();
      }
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, STREAM_RETRY_MAX_MS);
    }

    function listen(type, handle) {
      source.addEventListener(type, function (event) {
        handle(JSON.parse(event.data));
      });
    }

    function connect() {
      if (ended || source) {
        return;
      }
      source = new EventSource(live.dataset.streamUrl + "?after=" + encodeURIComponent(after));
      listen("ready", function (body) {
        up();
        showItems(body.items, body.cursor);
        showState(body.state);
      });
      listen("messages", function (body) {
        showItems(body.items, body.cursor);
      });
      listen("state", showState);
      listen("reconnect", function () {
        source.close();
        source = null;
        connect();
      });
      listen("down", down);
      source.onerror = down;
    }

    if (typeof window.EventSource === "function") {
      connect();
    } else {
      live.dataset.push = "none";
      polling = true;
      pollScheduled = true;
      later(poll, CHAT_MS);
    }
  }

  function startCount(badge) {
    const number = badge.querySelector("[data-waiting]");
    const listStale = document.querySelector("[data-list-stale]");
    const shown = number.textContent;

    async function poll() {
      try {
        const body = await getJSON(badge.dataset.waitingUrl);
        if (body === null) {
          return;
        }
        number.textContent = String(body.waiting);
        badge.classList.toggle("waiting", body.waiting > 0);
        if (listStale) {
          listStale.hidden = String(body.waiting) === shown;
        }
      } catch (error) {
        // the next round tries again
      }
      later(poll, COUNT_MS);
    }

    later(poll, COUNT_MS);
  }

  function start() {
    const live = document.querySelector("[data-feed-url]");
    if (live) {
      startChat(live);
    }
    const badge = document.querySelector("[data-waiting-url]");
    if (badge) {
      startCount(badge);
    }
  }

  start();
})();
