// Pilot Rock staff app: keeps the live chat and the navigation's waiting count current.
// The pages work without it (plain forms, a Refresh link). Text goes in with textContent only.
"use strict";

(function () {
  const CHAT_MS = 1000;
  const COUNT_MS = 10000;
  const HIDDEN_MS = 5000;
  const RETRY_MS = 5000;
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

  function startChat(live) {
    const chat = live.querySelector("[data-chat]");
    const stateText = live.querySelector("[data-live-state]");
    const stale = live.querySelector("[data-live-stale]");
    const hint = live.querySelector("[data-live-hint]");
    const shownState = live.dataset.state;
    let after = live.dataset.after;
    if (hint) {
      hint.textContent = "(new messages also appear by themselves).";
    }

    function show(body) {
      const follow = nearBottom();
      let last = null;
      for (const item of body.items) {
        if (!document.getElementById("event-" + item.id)) {
          last = chatItem(item);
          chat.append(last);
        }
      }
      if (last && follow) {
        last.scrollIntoView({ block: "nearest" });
      }
      stateText.textContent = body.state.text;
      stateText.className = "live-state state-" + body.state.key;
      stale.hidden = body.state.key === shownState;
      after = String(body.cursor);
    }

    async function poll() {
      let wait = CHAT_MS;
      try {
        const body = await getJSON(live.dataset.feedUrl + "?after=" + encodeURIComponent(after));
        if (body === null) {
          stateText.textContent = ENDED;
          return;
        }
        show(body);
        wait = body.more ? 0 : CHAT_MS;
      } catch (error) {
        wait = RETRY_MS;
      }
      later(poll, wait);
    }

    later(poll, CHAT_MS);
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
