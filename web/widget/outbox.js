/*
 * Pilot Rock chat widget: the visitor's messages on their way out, as `user_uttered` {message,
 * session_id, metadata: {timezone, page_url, message_id}}; the server handles one in the
 * socket's confirmed session and its ack carries {error} when it refused it. A message waits in
 * the queue (kept in storage with the transcript) until the session is confirmed, is taken off
 * the queue before it is emitted (so it is never sent twice), and goes back to the head of the
 * queue, with the same message id, when it was lost with the connection or sent for a session
 * the server no longer had for this socket.
 */

import { newId } from "./storage.js";
import { TEXT } from "./strings.js";

const ACK_TIMEOUT_MS = 60000;

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

/** The outbox; `onChange()` is called whenever `waiting()` may have changed. */
export function createOutbox({ store, transcript, connection, onChange }) {
  const inflight = new Map(); // message id -> payload object emitted, awaiting the ack
  const emitted = new Map(); // payload object -> message id (to requeue unsent packets)

  /** Whether a message went out and its ack has not come back yet. */
  function waiting() {
    return inflight.size > 0;
  }

  /** The visitor's message: shown at once, sent now or once the session is back. */
  function send(text, payload) {
    const shown = String(text || "").trim();
    if (!shown) {
      return;
    }
    const id = newId();
    transcript.appendMessage({
      id,
      from: "user",
      text: shown,
      ts: Date.now(),
      pending: !connection.isReady(),
    });
    store.state.queue.push({ id, message: payload === undefined ? shown : String(payload) });
    store.save();
    flush();
  }

  function flush() {
    while (connection.isReady() && store.state.queue.length) {
      const item = store.state.queue.shift();
      store.save(); // off the queue before it goes out: never sent twice
      emitItem(item);
    }
  }

  function emitItem(item) {
    const socket = connection.socket;
    const message = store.findMessage(item.id);
    if (message && (message.pending || message.note)) {
      delete message.pending;
      delete message.note;
      store.save();
      transcript.refreshMessage(message);
    }
    // The message id lets the server answer a resent message once (bot/rasa/runtime/delivery.py).
    const payload = {
      message: item.message,
      session_id: store.state.sessionId,
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
      onChange();
      const refused = !error && answer && typeof answer.error === "string" ? answer.error : "";
      if (error && /disconnected/.test(String(error.message))) {
        // Lost with the connection: sent again, same id, once the session is back. The
        // server answers it once, whether or not the first copy got through.
        putBack(item);
        flush();
      } else if (refused === "no_session" || refused === "wrong_session") {
        // The socket's session is not (or no longer) the one we sent for: confirm it again.
        putBack(item);
        if (connection.socket.connected) {
          connection.requestSession();
        }
      } else if (refused) {
        noteNotSent(item.id);
      }
    });
    onChange();
  }

  /** An emitted message goes back to the head of the queue, shown as waiting. */
  function putBack(item) {
    store.state.queue.unshift({ id: item.id, message: item.message });
    const sent = store.findMessage(item.id);
    if (sent) {
      sent.pending = true;
      transcript.refreshMessage(sent);
    }
    store.save();
  }

  function noteNotSent(id) {
    const message = store.findMessage(id);
    if (message) {
      message.note = TEXT.notSent;
      store.save();
      transcript.refreshMessage(message);
    }
  }

  /** Packets socket.io buffered (never written to the network) go back to our own queue. */
  function reclaimBuffered() {
    const socket = connection.socket;
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
        const message = store.findMessage(id);
        if (message) {
          message.pending = true;
          transcript.refreshMessage(message);
        }
      }
    }
    store.state.queue = back.concat(store.state.queue);
    store.save();
  }

  /** Drop everything on its way out (the visitor cleared the conversation). */
  function forget() {
    const socket = connection.socket;
    if (socket && Array.isArray(socket.sendBuffer)) {
      // Messages of the old conversation that socket.io still holds must not reach the new one.
      socket.sendBuffer = socket.sendBuffer.filter(
        (packet) => !(packet && packet.data && packet.data[0] === "user_uttered"),
      );
    }
    inflight.clear();
    emitted.clear();
  }

  return { send, flush, reclaimBuffered, forget, waiting };
}
