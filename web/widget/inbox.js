/*
 * Pilot Rock chat widget: the bot's and the navigators' messages coming in (`bot_uttered`).
 * Each becomes a transcript message; one with `handoff_kind` "staff_message" (or a `staff_name`
 * and no kind) shows under the navigator's name, while "joined" / "handed_back" notices stay
 * the assistant's. A reply carries its event's server `timestamp` (seconds) and `part`: one
 * whose timestamp and part are shown already (a catch-up after a reconnect, or the replies to
 * a resent message) is not shown twice, and the newest timestamp shown is kept as `lastSeen`
 * for the next `session_request`.
 */

import { newId, partNumber, serverTime } from "./storage.js";

const MAX_STAFF_NAME = 80;

/** A navigator's name from a reply (never HTML: it only ever becomes a text node). */
function staffName(data) {
  const name = typeof data.staff_name === "string" ? data.staff_name : "";
  return name.replace(/\s+/g, " ").trim().slice(0, MAX_STAFF_NAME);
}

/** The quick replies of a message, as {title, payload} strings. */
function quickReplies(data) {
  const raw = Array.isArray(data.quick_replies)
    ? data.quick_replies
    : Array.isArray(data.buttons)
      ? data.buttons
      : [];
  return raw
    .filter((b) => b && (typeof b.title === "string" || typeof b.payload === "string"))
    .map((b) => ({
      title: String(b.title ?? b.payload),
      payload: String(b.payload ?? b.title),
    }));
}

/** The handler of `bot_uttered`: adds each new message to the transcript. */
export function createInbox({ store, transcript }) {
  /** Whether the message of this server event and part is in the transcript already. */
  function shownBefore(at, part) {
    return store.state.messages.some((m) => m.at === at && (m.part || 0) === part);
  }

  /** Remember a shown server timestamp if it is the newest (saved with the next save()). */
  function noteSeen(at) {
    if (at !== null && (store.state.lastSeen === null || at > store.state.lastSeen)) {
      store.state.lastSeen = at;
    }
  }

  return function handleBotMessage(data) {
    if (!data || typeof data !== "object") {
      return;
    }
    const at = serverTime(data.timestamp);
    const part = partNumber(data.part);
    if (at !== null && shownBefore(at, part)) {
      noteSeen(at); // sent again (a catch-up, or the replies to a resent message): not shown twice
      store.save();
      return;
    }
    const replies = quickReplies(data);
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
    transcript.appendMessage({
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
  };
}
