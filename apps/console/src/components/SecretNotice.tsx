import { useState } from "preact/hooks";

/** What a secret the notice shows is, and what it is for. */
const KINDS = {
  "signing-secret": {
    label: "Signing secret",
    copy: "Copy secret",
    words: "Copy the signing secret now: it will not be shown again. Receivers verify each delivery's signature with it.",
  },
  "api-key": {
    label: "API key",
    copy: "Copy key",
    words: "Copy the API key now: it will not be shown again, as Hookbus keeps only its hash. Give it to whoever will use it.",
  },
} as const;

/** A signing secret or an API key, shown this once, with a button that copies it. */
export function SecretNotice({
  secret,
  what,
  kind = "signing-secret",
  onDismiss,
}: {
  secret: string;
  what: string;
  kind?: keyof typeof KINDS;
  onDismiss: () => void;
}) {
  const { label, copy: copyWords, words } = KINDS[kind];
  const [copied, setCopied] = useState<"no" | "yes" | "failed">("no");
  const copy = () =>
    navigator.clipboard.writeText(secret).then(
      () => setCopied("yes"),
      () => setCopied("failed"),
    );
  return (
    <section class="notice success secret" aria-labelledby="secret-title">
      <h2 id="secret-title">{what}</h2>
      <p>{words}</p>
      <div class="secret-row">
        <code aria-label={label}>{secret}</code>
        <button type="button" class="button" onClick={copy}>
          {copyWords}
        </button>
        <button type="button" class="button quiet" onClick={onDismiss}>
          Done
        </button>
      </div>
      <p class="hint" role="status">
        {copied === "yes"
          ? "Copied to the clipboard."
          : copied === "failed"
            ? `The browser refused the clipboard: select the ${label.toLowerCase()} and copy it.`
            : ""}
      </p>
    </section>
  );
}

let shownNext: { secret: string; what: string } | null = null;

/** Hands a secret to the next page shown (the list, after a create). */
export function showSecretNext(secret: string, what: string): void {
  shownNext = { secret, what };
}

export function takeSecretToShow(): { secret: string; what: string } | null {
  const taken = shownNext;
  shownNext = null;
  return taken;
}
