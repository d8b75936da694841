/*
 * Pilot Rock chat widget: renders the transcript into the log (one element per message, with
 * its speaker, time, state and quick replies), keeps it scrolled to the newest message, and
 * shows the status line and the typing indicator.
 *
 * Quick replies are open on the newest message only: any message after it (the visitor's
 * answer, typed or chosen, or a newer message from the bot or a navigator) closes them for good
 * (`answered`, kept in storage), and a closed button is disabled and ignores clicks. Messages
 * from the bot or a navigator that arrive while the panel is closed are counted as unread
 * (kept in storage) until the panel is opened.
 */

import { el, renderRich, timeElement } from "./dom.js";
import { TEAM, TEXT } from "./strings.js";

const BOTTOM_SLACK_PX = 80;

/** Who said it, for screen readers ("You:", "Assistant:", or the navigator's name). */
function speaker(message) {
  if (message.from === "staff") {
    return `${message.staff || TEAM}:`;
  }
  return message.from === "bot" ? TEXT.assistant : TEXT.you;
}

/** The visible name over a navigator's message (screen readers get it from the prefix). */
function senderLabel(message) {
  if (message.from !== "staff") {
    return null;
  }
  const text = message.staff ? `${message.staff} · ${TEAM}` : TEAM;
  return el("div", { className: "sender", "data-testid": "sender", "aria-hidden": "true", text });
}

/**
 * The transcript of `store.state.messages` in `view.log`. `onChoose(message, reply)` is called
 * when the visitor clicks one of a message's quick replies.
 */
export function createTranscript({ view, store, onChoose }) {
  const { scroller, log, panel, status, typing } = view;
  const messageNodes = new Map(); // message id -> element

  function isNearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < BOTTOM_SLACK_PX;
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
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
      meta.append(el("span", { className: "state", text: TEXT.waiting }));
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
      "aria-label": TEXT.suggestedReplies,
    });
    const closed = Boolean(message.answered);
    for (const reply of message.replies) {
      const button = el("button", {
        type: "button",
        className: `reply${message.chosen === reply.payload ? " chosen" : ""}`,
        "data-testid": "quick-reply",
        disabled: closed,
        "aria-disabled": closed ? "true" : false,
        "aria-pressed": closed ? String(message.chosen === reply.payload) : false,
        text: reply.title,
      });
      button.addEventListener("click", () => {
        if (!closed && !message.answered && isLatest(message)) {
          onChoose(message, reply);
        }
      });
      group.append(button);
    }
    return group;
  }

  /** Draw a message again after its state changed (sent, waiting, not sent, answered). */
  function refreshMessage(message) {
    const old = messageNodes.get(message.id);
    if (old) {
      old.replaceWith(renderMessage(message));
    }
  }

  /** Whether `message` is the newest of the transcript (the only one whose replies are open). */
  function isLatest(message) {
    const messages = store.state.messages;
    return messages.length > 0 && messages[messages.length - 1] === message;
  }

  /** Add a message to the transcript (saved) and to the log; earlier quick replies close. */
  function appendMessage(message) {
    const follow = message.from === "user" || isNearBottom();
    closeOpenReplies();
    store.state.messages.push(message);
    if (message.from !== "user" && panel.hidden) {
      const state = store.state;
      state.unread += 1;
      state.unreadStaff += message.from === "staff" ? 1 : 0;
      view.showUnread(state.unread, state.unreadStaff, true);
    }
    store.save();
    log.append(renderMessage(message));
    if (follow) {
      scrollToBottom();
    }
  }

  /** The panel was opened: nothing is unread any more. */
  function markRead() {
    if (store.state.unread || store.state.unreadStaff) {
      store.state.unread = 0;
      store.state.unreadStaff = 0;
      store.save();
    }
    view.showUnread(0, 0, false);
  }

  function renderAll() {
    const messages = store.state.messages;
    // A stored offer with a newer message after it (saved by an older widget) is closed.
    const superseded = messages
      .slice(0, -1)
      .filter((message) => message.replies && message.replies.length && !message.answered);
    if (superseded.length) {
      superseded.forEach((message) => {
        message.answered = true;
      });
      store.save();
    }
    messageNodes.clear();
    log.replaceChildren(...messages.map(renderMessage));
    scrollToBottom();
    view.showUnread(store.state.unread, store.state.unreadStaff, false);
  }

  /** Close every quick-reply group still open (a choice, a typed answer, any newer message). */
  function closeOpenReplies(chosenPayload, chosenMessage) {
    for (const message of store.state.messages) {
      if (message.replies && message.replies.length && !message.answered) {
        message.answered = true;
        if (message === chosenMessage) {
          message.chosen = chosenPayload;
        }
        refreshMessage(message);
      }
    }
  }

  /** The status line over the log; hidden when `text` is empty. */
  function setStatus(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  /** The typing indicator: shown while a sent message awaits the bot's answer. */
  function showTyping(active) {
    typing.hidden = !active;
    if (!typing.hidden && isNearBottom()) {
      scrollToBottom();
    }
  }

  return {
    appendMessage,
    isLatest,
    markRead,
    refreshMessage,
    renderAll,
    closeOpenReplies,
    scrollToBottom,
    setStatus,
    showTyping,
  };
}
