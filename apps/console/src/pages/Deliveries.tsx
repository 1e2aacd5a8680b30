import type { DeliveryFilter, DeliveryPage, DeliveryStatus, EventType, SubscriptionView } from "@hookbus/schemas";
import { Pager, useCursors } from "../components/Pager.js";
import { ReplayAll } from "../components/ReplayAll.js";
import { LoadingLine, Problem, StatusBadge } from "../components/Status.js";
import { DELIVERY_STATUSES, EVENT_TYPE_NAMES, EVENT_TYPES, STATUS_WORDS, toIso, toLocal, when } from "../format.js";
import { useProjectId } from "../project.js";
import { href, navigate } from "../router.js";
import { useSession } from "../session.js";
import { useLoad } from "../use-load.js";
import { RecordTable } from "../components/RecordTable.js";

const PAGE_SIZE = 25;

/** The filter is in the URL (`#/deliveries?status=failed`), so a filtered list can be linked to. */
function filterOf(query: URLSearchParams): DeliveryFilter {
  const filter: DeliveryFilter = {};
  const status = query.get("status");
  if (status && (DELIVERY_STATUSES as string[]).includes(status)) filter.status = status as DeliveryStatus;
  const type = query.get("eventType");
  if (type && (EVENT_TYPES as string[]).includes(type)) filter.eventType = type as EventType;
  const subscriptionId = query.get("subscriptionId");
  if (subscriptionId) filter.subscriptionId = subscriptionId;
  const since = query.get("since");
  if (since) filter.since = since;
  const until = query.get("until");
  if (until) filter.until = until;
  return filter;
}

export function DeliveriesPage({ query }: { query: URLSearchParams }) {
  const { hookbus } = useSession();
  // The project is part of the filter: the listing and "Replay all shown" stay within it.
  const filter = { ...filterOf(query), projectId: useProjectId() };
  const filterKey = JSON.stringify(filter);
  const cursors = useCursors(filterKey);
  const { cursor } = cursors;

  const [webhooks] = useLoad(async () => {
    const all: SubscriptionView[] = [];
    for await (const webhook of hookbus.subscriptions.iterate({ projectId: filter.projectId })) all.push(webhook);
    return all;
  }, [filter.projectId]);
  const [page, reload] = useLoad(() => hookbus.deliveries.list({ ...filter, limit: PAGE_SIZE, cursor }), [filterKey, cursor]);
  const urls = new Map(webhooks.state === "ready" ? webhooks.value.map((w) => [w.id, w.url]) : []);

  return (
    <section aria-labelledby="deliveries-title">
      <div class="page-head">
        <h1 id="deliveries-title">Deliveries</h1>
        <button type="button" class="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <Filters filter={filter} webhooks={webhooks.state === "ready" ? webhooks.value : []} />
      <ReplayAll filter={filter} onFinished={reload} />
      {page.state === "loading" && <LoadingLine what="deliveries" />}
      {page.state === "error" && <Problem>{page.message}</Problem>}
      {page.state === "ready" && <DeliveryTable page={page.value} urls={urls} />}
      {page.state === "ready" && <Pager label="Pages of deliveries" cursors={cursors} nextCursor={page.value.nextCursor} />}
    </section>
  );
}

function Filters({ filter, webhooks }: { filter: DeliveryFilter; webhooks: SubscriptionView[] }) {
  const apply = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => (data.get(name) as string | null) || undefined;
    navigate(
      href("deliveries", {
        status: value("status"),
        subscriptionId: value("subscriptionId"),
        eventType: value("eventType"),
        since: toIso(value("since") ?? ""),
        until: toIso(value("until") ?? ""),
      }),
    );
  };
  return (
    <form class="card filters" onSubmit={apply} aria-label="Filter deliveries" key={JSON.stringify(filter)}>
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" name="status" defaultValue={filter.status ?? ""}>
          <option value="">Any</option>
          {DELIVERY_STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_WORDS[s]}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-webhook">Webhook</label>
        <select id="filter-webhook" name="subscriptionId" defaultValue={filter.subscriptionId ?? ""}>
          <option value="">Any</option>
          {webhooks.map((w) => (
            <option key={w.id} value={w.id}>
              {w.url}
            </option>
          ))}
          {filter.subscriptionId && !webhooks.some((w) => w.id === filter.subscriptionId) && (
            <option value={filter.subscriptionId}>{filter.subscriptionId}</option>
          )}
        </select>
      </div>
      <div class="field">
        <label for="filter-type">Event type</label>
        <select id="filter-type" name="eventType" defaultValue={filter.eventType ?? ""}>
          <option value="">Any</option>
          {EVENT_TYPES.map((t) => (
            <option key={t} value={t}>
              {EVENT_TYPE_NAMES[t]}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-since">Created from</label>
        <input id="filter-since" name="since" type="datetime-local" defaultValue={toLocal(filter.since)} />
      </div>
      <div class="field">
        <label for="filter-until">Created before</label>
        <input id="filter-until" name="until" type="datetime-local" defaultValue={toLocal(filter.until)} />
      </div>
      <div class="filter-actions">
        <button type="submit" class="button primary">
          Apply filters
        </button>
        <a class="button quiet" href={href("deliveries")}>
          Clear
        </a>
      </div>
    </form>
  );
}

function DeliveryTable({ page, urls }: { page: DeliveryPage; urls: Map<string, string> }) {
  if (page.items.length === 0) return <p class="card empty">No deliveries match these filters.</p>;
  return (
    <RecordTable
      kind="deliveries"
      caption="Deliveries, newest first"
      columns={["Created", "Status", "Event type", "Webhook", { name: "Attempts", numbers: true }, "Next attempt", "Delivery"]}
    >
      {page.items.map((d) => (
        <tr key={d.id} data-status={d.status}>
          <td>
            <time dateTime={d.createdAt}>{when(d.createdAt)}</time>
          </td>
          <td>
            <StatusBadge status={d.status} />
          </td>
          <td>{EVENT_TYPE_NAMES[d.eventType]}</td>
          <td class="url-cell">{urls.get(d.subscriptionId) ?? d.subscriptionId}</td>
          <td class="number">{d.attemptCount}</td>
          <td>{d.nextAttemptAt ? when(d.nextAttemptAt) : "—"}</td>
          <td>
            <a href={href("deliveries", d.id)} class="id">
              {d.id}
            </a>
          </td>
        </tr>
      ))}
    </RecordTable>
  );
}
