/*
 * Pilot Rock chat widget: what the visitor does. Typing and sending (with a keyboard Enter
 * sends and Shift+Enter is a new line; on a touch screen Enter is a new line and the send
 * button sends), choosing a quick reply, opening and closing the panel (the launcher, Escape,
 * any page element with data-pilotrock-open; opening marks what arrived as read), clearing,
 * and keeping Tab inside the open dialog.
 */

/**
 * Wire the view's controls. `send(text, payload)` sends a visitor message and `clear()` starts
 * a new conversation; returns `open`, `close` and `chooseReply` (for the quick replies).
 */
export function createControls({ view, store, transcript, send, clear }) {
  const { shadow, root, launcher, clearButton, closeButton, input, composer, panel } = view;

  function chooseReply(message, reply) {
    if (message.answered || !transcript.isLatest(message)) {
      return; // answered, or a newer message came since: the offer is closed
    }
    transcript.closeOpenReplies(reply.payload, message);
    store.save();
    send(reply.title, reply.payload);
    input.focus();
  }

  function submitInput() {
    const text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    transcript.closeOpenReplies();
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
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && view.enterSends()) {
      event.preventDefault();
      submitInput();
    }
  });

  input.addEventListener("input", autoGrow);

  function focusables() {
    return Array.from(
      panel.querySelectorAll("button, textarea, a[href], [tabindex]:not([tabindex='-1'])"),
    ).filter((node) => !node.disabled && node.getClientRects().length > 0);
  }

  function open() {
    if (panel.hidden) {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      transcript.markRead();
      transcript.scrollToBottom();
    }
    if (root.hidden) {
      view.focusWhenShown(); // the stylesheet is still loading
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

  return { open, close, chooseReply };
}
