import { useState } from "preact/hooks";

/** A signing secret, shown this once, with a button that copies it. */
export function SecretNotice({ secret, what, onDismiss }: { secret: string; what: string; onDismiss: () => void }) {
  const [copied, setCopied] = useState<"no" | "yes" | "failed">("no");
  const copy = () =>
    navigator.clipboard.writeText(secret).then(
      () => setCopied("yes"),
      () => setCopied("failed"),
    );
  return (
    <section class="notice success secret" aria-labelledby="secret-title">
      <h2 id="secret-title">{what}</h2>
      <p>Copy the signing secret now: it will not be shown again. Receivers verify each delivery's signature with it.</p>
      <div class="secret-row">
        <code aria-label="Signing secret">{secret}</code>
        <button type="button" class="button" onClick={copy}>
          Copy secret
        </button>
        <button type="button" class="button quiet" onClick={onDismiss}>
          Done
        </button>
      </div>
      <p class="hint" role="status">
        {copied === "yes"
          ? "Copied to the clipboard."
          : copied === "failed"
            ? "The browser refused the clipboard: select the secret and copy it."
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
