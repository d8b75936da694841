/*
 * Pilot Rock chat widget: builds its elements in an open shadow root on a host <div
 * id="pilotrock-chat"> (the launcher with its unread count, a polite live region that announces
 * messages arriving while the chat is closed, the dialog panel with its notice, log, typing
 * indicator and composer), links widget.css inside it and picks text colours that contrast
 * with the accent. The elements carry the test ids the browser tests rely on.
 *
 * On a touch screen (a coarse primary pointer: the on-screen keyboard) Enter starts a new line
 * and the send button sends, so the "Enter to send" hint is hidden there.
 */

import { el, icon } from "./dom.js";
import { TEXT, launcherLabel, unreadText } from "./strings.js";

const MAX_LENGTH = 1000;
const MAX_BADGE = 9; // more shows as "9+"
const TOUCH_QUERY = "(pointer: coarse)";

/** The widget's elements (not yet in the page: `mount` appends `host` to the body). */
export function buildView(config) {
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

  // The unread count; the launcher's accessible name says it in words.
  const badge = el("span", {
    className: "badge",
    "data-testid": "unread-count",
    "aria-hidden": "true",
    hidden: true,
  });
  const launcher = el(
    "button",
    {
      type: "button",
      className: "launcher",
      "data-testid": "launcher",
      "aria-label": TEXT.openChat,
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
      "aria-label": TEXT.clearConversation,
      title: TEXT.clearConversation,
    },
    icon("clear"),
  );
  const closeButton = el(
    "button",
    {
      type: "button",
      className: "icon-btn",
      "data-testid": "close",
      "aria-label": TEXT.closeChat,
      title: TEXT.closeChat,
    },
    icon("close"),
  );

  // Outside the panel, so that it is heard while the panel is closed (hidden).
  const announcer = el("div", {
    className: "sr-only",
    "data-testid": "announcer",
    role: "status",
    "aria-live": "polite",
    "aria-atomic": "true",
  });

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
    el("p", null, el("strong", { text: TEXT.emergencyLead }), TEXT.emergency),
    el("p", null, TEXT.privacy),
  );

  const log = el("div", {
    className: "log",
    "data-testid": "log",
    role: "log",
    "aria-live": "polite",
    "aria-label": TEXT.conversation,
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
    "aria-label": TEXT.message,
    "aria-describedby": "pr-notice",
    rows: "1",
    maxlength: String(MAX_LENGTH),
    placeholder: TEXT.placeholder,
    autocomplete: "off",
  });
  const sendButton = el(
    "button",
    { type: "submit", className: "send", "data-testid": "send", "aria-label": TEXT.sendMessage },
    icon("send"),
  );
  const composer = el("form", { className: "composer", novalidate: true }, input, sendButton);
  const footnote = el("p", {
    className: "footnote",
    "data-testid": "footnote",
    text: TEXT.footnote,
    "aria-hidden": "true",
  });

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
        el("p", { className: "subtitle", text: TEXT.subtitle }),
      ),
      clearButton,
      closeButton,
    ),
    status,
    scroller,
    composer,
    footnote,
  );

  root.append(launcher, announcer, panel);
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

  // Touch screen or keyboard: what Enter does, the hint and the on-screen key's label.
  const touch = typeof window.matchMedia === "function" ? window.matchMedia(TOUCH_QUERY) : null;
  const enterSends = () => !(touch && touch.matches);
  function applyKeyboard() {
    footnote.hidden = !enterSends();
    input.setAttribute("enterkeyhint", enterSends() ? "send" : "enter");
  }
  applyKeyboard();
  if (touch && typeof touch.addEventListener === "function") {
    touch.addEventListener("change", applyKeyboard); // a tablet docked to a keyboard, say
  }

  /**
   * Show `count` messages arrived while the chat was closed (`fromStaff` of them a navigator's):
   * the badge, the launcher's accessible name and, when `announce`, the live region. 0 clears.
   */
  function showUnread(count, fromStaff, announce) {
    badge.textContent = count > MAX_BADGE ? `${MAX_BADGE}+` : String(count);
    badge.hidden = count <= 0;
    launcher.setAttribute("aria-label", launcherLabel(count, fromStaff));
    if (count <= 0) {
      announcer.textContent = "";
    } else if (announce) {
      announcer.textContent = `${config.title}: ${unreadText(count, fromStaff)}`;
    }
  }

  return {
    host,
    shadow,
    root,
    badge,
    announcer,
    launcher,
    clearButton,
    closeButton,
    status,
    log,
    typing,
    scroller,
    input,
    composer,
    panel,
    footnote,
    applyContrast,
    enterSends,
    showUnread,
    /** Focus the input once the stylesheet has loaded and the widget is shown. */
    focusWhenShown() {
      focusWhenShown = true;
    },
  };
}
