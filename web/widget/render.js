/*
 * Pilot Rock chat widget: renders the transcript into the log (one element per message, with
 * its speaker, time, state and quick replies), keeps it scrolled to the newest message, and
 * shows the status line and the typing indicator.
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
  const { scroller, log, panel, badge, status, typing } = view;
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
    for (const reply of message.replies) {
      const button = el("button", {
        type: "button",
        className: `reply${message.chosen === reply.payload ? " chosen" : ""}`,
        "data-testid": "quick-reply",
        disabled: Boolean(message.answered),
        "aria-pressed": message.answered ? String(message.chosen === reply.payload) : false,
        text: reply.title,
      });
      button.addEventListener("click", () => onChoose(message, reply));
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

  /** Add a message to the transcript (saved) and to the log. */
  function appendMessage(message) {
    const follow = message.from === "user" || isNearBottom();
    store.state.messages.push(message);
    store.save();
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
    log.replaceChildren(...store.state.messages.map(renderMessage));
    scrollToBottom();
  }

  /** Disable every quick-reply group still open (a choice or a typed answer closes them). */
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
    refreshMessage,
    renderAll,
    closeOpenReplies,
    scrollToBottom,
    setStatus,
    showTyping,
  };
}
