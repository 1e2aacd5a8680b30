import { useState } from "preact/hooks";
import type { AttemptView } from "@hookbus/schemas";
import { describeError } from "../api.js";
import { RecordHead } from "../components/RecordHead.js";
import { LoadingLine, Problem, StatusBadge } from "../components/Status.js";
import { EVENT_TYPE_NAMES, milliseconds, when } from "../format.js";
import { useSession } from "../session.js";
import { useLoad } from "../use-load.js";
import { RecordTable } from "../components/RecordTable.js";

const ERROR_WORDS: Record<NonNullable<AttemptView["error"]>, string> = {
  timeout: "timed out",
  connection: "connection failed",
  dns: "name not found",
  http: "error status",
  ssrf_blocked: "blocked address",
};

/** One delivery: what it is, every attempt, the payload, and "Replay". */
export function DeliveryPage({ id }: { id: string }) {
  const { hookbus } = useSession();
  const [loaded, reload] = useLoad(async () => {
    const delivery = await hookbus.deliveries.get(id);
    const [event, webhook] = await Promise.all([
      hookbus.events.get(delivery.eventId).catch(() => null),
      hookbus.subscriptions.get(delivery.subscriptionId).catch(() => null),
    ]);
    return { delivery, event, webhook };
  }, [id]);
  const [replaying, setReplaying] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const replay = async () => {
    setReplaying(true);
    setMessage(null);
    try {
      await hookbus.deliveries.replay(id);
      setMessage({ ok: true, text: "Replay queued: the delivery is being sent again under the same webhook-id." });
      reload();
    } catch (error) {
      setMessage({ ok: false, text: describeError(error) });
    } finally {
      setReplaying(false);
    }
  };

  return (
    <section aria-labelledby="delivery-title">
      <RecordHead titleId="delivery-title" list={{ segment: "deliveries", label: "Deliveries" }} id={id} onRefresh={reload}>
        <button type="button" class="button primary" onClick={replay} disabled={replaying || loaded.state !== "ready"}>
          {replaying ? "Replaying…" : "Replay"}
        </button>
      </RecordHead>
      <div aria-live="polite">
        {message && (message.ok ? <p class="notice success">{message.text}</p> : <Problem>{message.text}</Problem>)}
      </div>
      {loaded.state === "loading" && <LoadingLine what="the delivery" />}
      {loaded.state === "error" && <Problem>{loaded.message}</Problem>}
      {loaded.state === "ready" && (
        <>
          <div class="card">
            <dl class="facts">
              <div>
                <dt>Status</dt>
                <dd>
                  <StatusBadge status={loaded.value.delivery.status} />
                </dd>
              </div>
              <div>
                <dt>Event</dt>
                <dd>
                  {EVENT_TYPE_NAMES[loaded.value.delivery.eventType]} <span class="id">{loaded.value.delivery.eventId}</span>
                </dd>
              </div>
              <div>
                <dt>Webhook</dt>
                <dd class="url-cell">{loaded.value.webhook?.url ?? loaded.value.delivery.subscriptionId}</dd>
              </div>
              <div>
                <dt>Created</dt>
                <dd>{when(loaded.value.delivery.createdAt)}</dd>
              </div>
              <div>
                <dt>Next attempt</dt>
                <dd>{loaded.value.delivery.nextAttemptAt ? when(loaded.value.delivery.nextAttemptAt) : "none planned"}</dd>
              </div>
              <div>
                <dt>Replays</dt>
                <dd>{loaded.value.delivery.replays}</dd>
              </div>
            </dl>
          </div>
          <h2>Attempts</h2>
          <Attempts attempts={loaded.value.delivery.attempts} />
          <h2>Payload</h2>
          {loaded.value.event ? (
            <pre class="code payload" aria-label="Payload">
              {JSON.stringify(loaded.value.event.data, null, 2)}
            </pre>
          ) : (
            <p class="muted">The event is no longer stored.</p>
          )}
        </>
      )}
    </section>
  );
}

function Attempts({ attempts }: { attempts: AttemptView[] }) {
  if (attempts.length === 0) return <p class="card empty">No attempt yet.</p>;
  return (
    <RecordTable kind="attempts" columns={["#", "Time", "Status code", "Error", { name: "Duration", numbers: true }, "Response body"]}>
      {attempts.map((a, i) => (
        <tr key={a.at + i}>
          <td>{i + 1}</td>
          <td>
            <time dateTime={a.at}>{when(a.at)}</time>
          </td>
          <td>{a.statusCode ?? "—"}</td>
          <td>{a.error ? `${ERROR_WORDS[a.error]}${a.message ? `: ${a.message}` : ""}` : "—"}</td>
          <td class="number">{milliseconds(a.durationMs)}</td>
          <td>{a.responseBody ? <pre class="code small">{a.responseBody}</pre> : "—"}</td>
        </tr>
      ))}
    </RecordTable>
  );
}
