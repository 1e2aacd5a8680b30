import { useState } from "preact/hooks";
import type { SendSampleResult, SubscriptionStatsView, SubscriptionView } from "@hookbus/schemas";
import { describeError } from "../api.js";
import { SecretNotice, takeSecretToShow } from "../components/SecretNotice.js";
import { Badge, LoadingLine, Problem } from "../components/Status.js";
import { circuitWords, DISABLED_REASON_WORDS, EVENT_TYPE_NAMES, milliseconds, when } from "../format.js";
import { useProjectId } from "../project.js";
import { href } from "../router.js";
import { useSession } from "../session.js";
import { useLoad } from "../use-load.js";

type WebhookRow = { webhook: SubscriptionView; stats: SubscriptionStatsView | null };

export function WebhooksPage() {
  const { hookbus } = useSession();
  const projectId = useProjectId();
  const [secret, setSecret] = useState(takeSecretToShow);
  const [loaded, reload] = useLoad(async (): Promise<WebhookRow[]> => {
    const webhooks: SubscriptionView[] = [];
    for await (const webhook of hookbus.subscriptions.iterate({ projectId })) webhooks.push(webhook);
    // Last success and failure come with each webhook's counts.
    const stats = await Promise.all(webhooks.map((w) => hookbus.subscriptions.stats(w.id).catch(() => null)));
    return webhooks.map((webhook, i) => ({ webhook, stats: stats[i] ?? null }));
  }, [projectId]);

  return (
    <section aria-labelledby="webhooks-title">
      <div class="page-head">
        <h1 id="webhooks-title">Webhooks</h1>
        <a class="button primary" href={href("webhooks", "new")}>
          Add webhook
        </a>
      </div>
      {secret && <SecretNotice secret={secret.secret} what={secret.what} onDismiss={() => setSecret(null)} />}
      {loaded.state === "loading" && <LoadingLine what="webhooks" />}
      {loaded.state === "error" && <Problem>{loaded.message}</Problem>}
      {loaded.state === "ready" && loaded.value.length === 0 && (
        <div class="card empty">
          <p>No webhooks yet. Add one to have events delivered to a URL of yours.</p>
        </div>
      )}
      {loaded.state === "ready" && (
        <ul class="webhook-list" aria-label="Webhooks">
          {loaded.value.map((row) => (
            <WebhookCard key={row.webhook.id} row={row} onChanged={reload} onSecret={setSecret} />
          ))}
        </ul>
      )}
    </section>
  );
}

function WebhookCard({
  row,
  onChanged,
  onSecret,
}: {
  row: WebhookRow;
  onChanged: () => void;
  onSecret: (s: { secret: string; what: string }) => void;
}) {
  const { hookbus } = useSession();
  const { webhook, stats } = row;
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [sample, setSample] = useState<SendSampleResult | null>(null);
  const titleId = `webhook-${webhook.id}`;

  /** Runs one action of the card, saying what went wrong, then reloads the list. */
  const act = async (name: string, action: () => Promise<unknown>) => {
    setBusy(name);
    setProblem(null);
    try {
      await action();
      onChanged();
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(null);
    }
  };
  const live = webhook.environment === "live";

  return (
    <li class="card webhook" aria-labelledby={titleId}>
      <div class="webhook-head">
        <div class="webhook-title">
          <h2 id={titleId} class="url">
            {webhook.url}
          </h2>
          {webhook.description && <p class="muted">{webhook.description}</p>}
          <p class="id">{webhook.id}</p>
        </div>
        <div class="webhook-badges">
          {webhook.enabled ? <Badge tone="good">enabled</Badge> : <Badge tone="bad">disabled</Badge>}
          <Badge tone={webhook.health.circuit === "closed" ? "neutral" : "warn"}>
            {webhook.health.circuit === "closed" ? "healthy" : `circuit ${webhook.health.circuit}`}
          </Badge>
        </div>
      </div>

      {!webhook.enabled && (
        <p class="state-line" data-testid="disabled-reason">
          {webhook.disabledReason ? DISABLED_REASON_WORDS[webhook.disabledReason] : "Disabled"}
          {webhook.disabledAt ? ` (${when(webhook.disabledAt)})` : ""}. Deliveries are kept and resume when it is enabled.
        </p>
      )}

      <dl class="facts">
        <div>
          <dt>Events</dt>
          <dd>{webhook.eventTypes.map((t) => EVENT_TYPE_NAMES[t]).join(", ")}</dd>
        </div>
        <div>
          <dt>Filters</dt>
          <dd>{filterWords(webhook)}</dd>
        </div>
        <div>
          <dt>Mode</dt>
          <dd>{webhook.mode === "sync" ? "sync: the publisher waits" : "async"}</dd>
        </div>
        <div>
          <dt>Format</dt>
          <dd>
            {webhook.format}
            {webhook.legacyParameters ? ", legacy parameters" : ""}
          </dd>
        </div>
        <div>
          <dt>Order</dt>
          <dd>{webhook.ordering === "key" ? "per ordering key, in publish order" : "none"}</dd>
        </div>
        <div>
          <dt>Health</dt>
          <dd>{circuitWords(webhook.health)}</dd>
        </div>
        <div>
          <dt>Last success</dt>
          <dd>{stats ? when(stats.lastSuccessAt) : "unknown"}</dd>
        </div>
        <div>
          <dt>Last failure</dt>
          <dd>{stats ? when(stats.lastFailureAt) : "unknown"}</dd>
        </div>
        <div>
          <dt>Deliveries</dt>
          <dd>
            {stats ? (
              <a href={href("deliveries", { subscriptionId: webhook.id })}>
                {stats.delivered} delivered, {stats.retrying + stats.pending} in progress, {stats.failed} failed
              </a>
            ) : (
              "unknown"
            )}
          </dd>
        </div>
      </dl>

      <div class="actions">
        <div class="switch-group">
          <span class="switch-label" aria-hidden="true">
            Environment
          </span>
          <button
            type="button"
            role="switch"
            aria-checked={live}
            aria-label="Live mode"
            class={`switch ${live ? "on" : ""}`}
            disabled={busy !== null}
            onClick={() => act("environment", () => hookbus.subscriptions.update(webhook.id, { environment: live ? "test" : "live" }))}
          >
            <span class={live ? "" : "chosen"}>Test</span>
            <span class={live ? "chosen" : ""}>Live</span>
          </button>
        </div>
        <button
          type="button"
          class="button"
          disabled={busy !== null}
          onClick={() =>
            act(
              "sample",
              // The list reloads after it too: the webhook's last success or failure changed.
              async () => {
                setSample(null);
                setSample(await hookbus.subscriptions.sendSample(webhook.id));
              },
            )
          }
        >
          {busy === "sample" ? "Sending…" : "Send sample"}
        </button>
        <button
          type="button"
          class="button"
          disabled={busy !== null}
          onClick={() => act("enabled", () => hookbus.subscriptions.update(webhook.id, { enabled: !webhook.enabled }))}
        >
          {webhook.enabled ? "Disable" : "Enable"}
        </button>
        <a class="button" href={href("webhooks", webhook.id)}>
          Edit
        </a>
        <button
          type="button"
          class="button"
          disabled={busy !== null}
          onClick={() =>
            confirm(`Rotate the signing secret of ${webhook.url}? The old one keeps signing beside the new one for a while.`) &&
            act("rotate", async () => {
              const rotated = await hookbus.subscriptions.rotateSecret(webhook.id);
              onSecret({ secret: rotated.secret, what: `New secret for ${webhook.url}` });
            })
          }
        >
          Rotate secret
        </button>
        <button
          type="button"
          class="button danger"
          disabled={busy !== null}
          onClick={() =>
            confirm(`Delete the webhook to ${webhook.url}? This cannot be undone.`) &&
            act("delete", () => hookbus.subscriptions.delete(webhook.id))
          }
        >
          Delete
        </button>
      </div>

      {problem && <Problem>{problem}</Problem>}
      <div aria-live="polite">{sample && <SampleAnswer sample={sample} />}</div>
    </li>
  );
}

function SampleAnswer({ sample }: { sample: SendSampleResult }) {
  const good = sample.outcome === "delivered";
  return (
    <div class={`notice ${good ? "success" : "failure"}`} data-testid="sample-answer">
      <p>
        <strong>Sample {EVENT_TYPE_NAMES[sample.type]}:</strong> {sample.outcome}
        {sample.statusCode !== undefined ? `, status ${sample.statusCode}` : ""}, {milliseconds(sample.durationMs)}
        {sample.deliveryId && (
          <>
            {" "}
            · <a href={href("deliveries", sample.deliveryId)}>delivery</a>
          </>
        )}
      </p>
      {sample.body !== undefined && sample.body !== "" && (
        <pre class="code" aria-label="Receiver's answer">
          {sample.body}
        </pre>
      )}
    </div>
  );
}

function filterWords(webhook: SubscriptionView): string {
  const { surveyNames, scheduleNames, formIds } = webhook.filter ?? {};
  const parts = [
    surveyNames && `surveys ${surveyNames.join(", ")}`,
    scheduleNames && `schedules ${scheduleNames.join(", ")}`,
    formIds && `forms ${formIds.join(", ")}`,
  ].filter(Boolean);
  return parts.length ? parts.join("; ") : "none: every event of these types";
}
