/*!
 * Pilot Rock chat widget: the website front end of the Pilot Rock intake assistant (Rasa).
 *
 * Embed with one tag (native ES modules, ES2020, no build step):
 *
 *   <script type="module" src="https://WEB-APP/widget/pilotrock-widget.js"
 *           data-server="https://chat.example.org"   Rasa server (default: this page's host, :5005)
 *           data-title="Pilot Rock assistant"        panel title / dialog label
 *           data-color="#0b5e59"                     accent colour (text colour is picked for contrast)
 *           data-open="true"                         open the panel on load
 *           data-storage="local"                     "session" (default) or "local"
 *           data-socket-path="/socket.io/"></script>
 *
 * This entry module imports the others from its own folder, and loads, relative to its URL:
 *   widget.css                  through a <link> inside the shadow root (CSP: style-src of that server)
 *   vendor/socket.io.min.js     socket.io-client v4, injected before connecting, unless the page
 *                               already has a socket.io v4 client as window.io
 *
 * Modules: config.js (the tag's settings), strings.js (texts), storage.js (state kept in the
 * browser), dom.js (element helpers, safe rich text), view.js (the shadow DOM), render.js (the
 * transcript), connection.js (Socket.IO and the session handshake), outbox.js (the send and
 * resend queue), inbox.js (incoming messages), controls.js (visitor actions, keyboard).
 *
 * Public API: window.PilotRockChat {open(), close(), clear(), send(text), sessionId, connected}.
 */

import { readConfig } from "./config.js";
import { createConnection } from "./connection.js";
import { createControls } from "./controls.js";
import { createInbox } from "./inbox.js";
import { createOutbox } from "./outbox.js";
import { createTranscript } from "./render.js";
import { createStore } from "./storage.js";
import { buildView } from "./view.js";

function start(config) {
  const store = createStore(config.storageKind);
  const view = buildView(config);
  const transcript = createTranscript({
    view,
    store,
    onChoose: (message, reply) => controls.chooseReply(message, reply),
  });
  const connection = createConnection({
    config,
    store,
    transcript,
    hooks: {
      onConfirm: () => {
        outbox.flush();
        updateTyping();
      },
      onBotMessage: (data) => handleBotMessage(data),
      onDisconnect: () => outbox.reclaimBuffered(),
      onChange: () => updateTyping(),
    },
  });
  const outbox = createOutbox({ store, transcript, connection, onChange: () => updateTyping() });
  const handleBotMessage = createInbox({ store, transcript });
  const controls = createControls({
    view,
    store,
    transcript,
    send: (text, payload) => outbox.send(text, payload),
    clear,
  });

  function updateTyping() {
    transcript.showTyping(outbox.waiting() && connection.isReady());
  }

  /** A new conversation: a new session from the server, nothing of the old one sent on. */
  function clear() {
    outbox.forget();
    connection.forgetSession(); // a confirm on its way for the old session is ignored
    store.reset();
    store.save();
    transcript.renderAll();
    updateTyping();
    connection.reconnect();
  }

  window.PilotRockChat = Object.freeze({
    open: controls.open,
    close: controls.close,
    clear,
    send: (text) => outbox.send(text),
    get sessionId() {
      return store.state.sessionId;
    },
    get connected() {
      return connection.isReady();
    },
  });

  function mount() {
    document.body.append(view.host);
    view.applyContrast();
    transcript.renderAll();
    connection.connect();
    if (config.open) {
      controls.open();
    }
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount, { once: true });
  }
}

// Once per page, even when the tag is there twice.
if (!window.PilotRockChat && !document.getElementById("pilotrock-chat")) {
  start(readConfig(import.meta.url));
}
