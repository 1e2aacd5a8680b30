/**
 * Characters that steer a terminal rather than print: C0 controls other than tab and newline
 * (ESC starts colour, title and clipboard sequences), DEL, the C1 controls (U+009B is a
 * one-character CSI) and the bidirectional overrides that reorder what is shown.
 */
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text with every terminal control removed: anything a receiver sent passes through here before the terminal. */
export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_CONTROLS, "");
}

/**
 * JSON that means the same but carries no terminal control raw: JSON.stringify already escapes
 * C0 controls; DEL, C1 and the bidi overrides get the same \u escape.
 */
export function terminalSafeJson(value: unknown, indent: 2 | 0 = 2): string {
  return JSON.stringify(value, null, indent).replace(TERMINAL_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
