import type { DeliveryState } from "@hookbus/schemas";
import { STATUS_WORDS } from "../format.js";

/** A delivery's status in words, coloured by it. */
export function StatusBadge({ status }: { status: DeliveryState }) {
  return <span class={`badge status-${status}`}>{STATUS_WORDS[status]}</span>;
}

export function Badge({ tone, children }: { tone: "good" | "bad" | "warn" | "neutral" | "info"; children: preact.ComponentChildren }) {
  return <span class={`badge ${tone}`}>{children}</span>;
}

export function LoadingLine({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Problem({ children }: { children: preact.ComponentChildren }) {
  return (
    <p class="problem" role="alert">
      {children}
    </p>
  );
}
