/*
 * Pilot Rock chat widget: every text the visitor sees or hears (labels, notices, status lines).
 * Plain strings only (and functions that return them): they always become text nodes or
 * attribute values, never markup.
 */

/** The team's name, over a navigator's message and for screen readers. */
export const TEAM = "Pilot Rock team";

export const TEXT = Object.freeze({
  title: "Pilot Rock assistant",
  subtitle: "Pilot Rock Medical Navigators",
  openChat: "Open chat",
  clearConversation: "Clear conversation",
  closeChat: "Close chat",
  emergencyLead: "This chat is not for emergencies:",
  emergency:
    " call 911, or call or text 988 (Suicide & Crisis Lifeline) if you are thinking about " +
    "harming yourself. The assistant explains our services and books calls; it is not " +
    "medical advice and cannot review your case.",
  privacy:
    "Messages are stored to answer you and to follow up when you ask us to. Share only the " +
    "health details you are comfortable with; 'Clear conversation' removes this chat " +
    "from this browser.",
  conversation: "Conversation",
  message: "Message",
  placeholder: "Type your question…",
  sendMessage: "Send message",
  // Keyboards with Enter to send; on touch screens Enter is a new line and there is no hint.
  footnote: "Enter to send · Shift+Enter for a new line",
  suggestedReplies: "Suggested replies",
  assistant: "Assistant:",
  you: "You:",
  waiting: "Waiting to send",
  notSent: "Not sent",
  connecting: "Connecting…",
  reconnecting:
    "Reconnecting… Messages you send now will be delivered when the connection is back.",
});

/** "1 new message", "2 new messages from a navigator", "3 new messages, 1 from a navigator". */
export function unreadText(count, fromStaff) {
  const messages = `${count} new message${count === 1 ? "" : "s"}`;
  if (!fromStaff) {
    return messages;
  }
  const staff = "from a navigator";
  return fromStaff === count ? `${messages} ${staff}` : `${messages}, ${fromStaff} ${staff}`;
}

/** The launcher's accessible name, with what arrived while the chat was closed. */
export function launcherLabel(count, fromStaff) {
  return count > 0 ? `${TEXT.openChat} – ${unreadText(count, fromStaff)}` : TEXT.openChat;
}
