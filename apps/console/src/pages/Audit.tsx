import { auditActions, type AuditAction, type AuditEntry, type AuditFilter, type AuditPage } from "@hookbus/schemas";
import { Pager, useCursors } from "../components/Pager.js";
import { LoadingLine, Problem } from "../components/Status.js";
import { toIso, toLocal, when } from "../format.js";
import { useProjectId } from "../project.js";
import { href, navigate } from "../router.js";
import { useSession } from "../session.js";
import { useLoad } from "../use-load.js";
import { ColumnHeads, RecordTable } from "../components/RecordTable.js";

const PAGE_SIZE = 25;
const TEXT_FILTERS = ["actor", "resourceId", "since", "until"] as const;
const SCOPE_PARAM = "scope";
const EVERY_PROJECT = "all";

/**
 * The filter is in the URL (`#/audit?action=subscription.update`), so a filtered trail can be
 * linked to. It names the project shown unless `scope=all` asks for every project the key may
 * see: an operator's changes to projects and keys, and each project's, in one trail.
 */
function filterOf(query: URLSearchParams, projectId: string): AuditFilter {
  const filter: AuditFilter = query.get(SCOPE_PARAM) === EVERY_PROJECT ? {} : { projectId };
  for (const name of TEXT_FILTERS) {
    const value = query.get(name);
    if (value) filter[name] = value;
  }
  const action = query.get("action");
  if (action && (auditActions as readonly string[]).includes(action)) filter.action = action as AuditAction;
  return filter;
}

/** The audit trail of the project shown, or of every project: who changed what and when, each change as its old and new value. */
export function AuditPage({ query }: { query: URLSearchParams }) {
  const { hookbus } = useSession();
  const filter = filterOf(query, useProjectId());
  const filterKey = JSON.stringify(filter);
  const cursors = useCursors(filterKey);
  const [page, reload] = useLoad(
    () => hookbus.audit.list({ ...filter, limit: PAGE_SIZE, cursor: cursors.cursor }),
    [filterKey, cursors.cursor],
  );
  return (
    <section aria-labelledby="audit-title">
      <div class="page-head">
        <h1 id="audit-title">Audit trail</h1>
        <button type="button" class="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <p class="muted">
        Every change made to {filter.projectId === undefined ? "every project this key may see" : "this project"}, by whom and when, newest
        first. Entries cannot be changed or deleted.
      </p>
      <Filters filter={filter} />
      {page.state === "loading" && <LoadingLine what="the audit trail" />}
      {page.state === "error" && <Problem>{page.message}</Problem>}
      {page.state === "ready" && <AuditTable page={page.value} />}
      {page.state === "ready" && <Pager label="Pages of the audit trail" cursors={cursors} nextCursor={page.value.nextCursor} />}
    </section>
  );
}

function Filters({ filter }: { filter: AuditFilter }) {
  const apply = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => (data.get(name) as string | null)?.trim() || undefined;
    navigate(
      href("audit", {
        [SCOPE_PARAM]: value(SCOPE_PARAM),
        actor: value("actor"),
        action: value("action"),
        resourceId: value("resourceId"),
        since: toIso(value("since") ?? ""),
        until: toIso(value("until") ?? ""),
      }),
    );
  };
  return (
    <form class="card filters" onSubmit={apply} aria-label="Filter the audit trail" key={JSON.stringify(filter)}>
      <div class="field">
        <label for="audit-scope">Entries of</label>
        <select id="audit-scope" name={SCOPE_PARAM} defaultValue={filter.projectId === undefined ? EVERY_PROJECT : ""}>
          <option value="">This project</option>
          <option value={EVERY_PROJECT}>Every project</option>
        </select>
      </div>
      <div class="field">
        <label for="audit-actor">Who (key name or id)</label>
        <input id="audit-actor" name="actor" defaultValue={filter.actor ?? ""} />
      </div>
      <div class="field">
        <label for="audit-action">Action</label>
        <select id="audit-action" name="action" defaultValue={filter.action ?? ""}>
          <option value="">Any</option>
          {auditActions.map((action) => (
            <option key={action} value={action}>
              {action}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="audit-resource">Resource id</label>
        <input id="audit-resource" name="resourceId" defaultValue={filter.resourceId ?? ""} />
      </div>
      <div class="field">
        <label for="audit-since">From</label>
        <input id="audit-since" name="since" type="datetime-local" defaultValue={toLocal(filter.since)} />
      </div>
      <div class="field">
        <label for="audit-until">Before</label>
        <input id="audit-until" name="until" type="datetime-local" defaultValue={toLocal(filter.until)} />
      </div>
      <div class="filter-actions">
        <button type="submit" class="button primary">
          Apply filters
        </button>
        <a class="button quiet" href={href("audit")}>
          Clear
        </a>
      </div>
    </form>
  );
}

function AuditTable({ page }: { page: AuditPage }) {
  if (page.items.length === 0) return <p class="card empty">No audit entries match these filters.</p>;
  return (
    <RecordTable kind="audit" caption="Audit entries, newest first" columns={["Time", "Who", "Action", "Resource", "Change", "Outcome"]}>
      {page.items.map((entry) => (
        <tr key={entry.id} data-entry={entry.id}>
          <td>
            <time dateTime={entry.time}>{when(entry.time)}</time>
          </td>
          <td>
            <Actor actor={entry.actor} />
          </td>
          <td class="id">{entry.action}</td>
          <td>
            {entry.resourceType} <span class="id">{entry.resourceId}</span>
          </td>
          <td>
            <Change entry={entry} />
          </td>
          <td>{entry.outcome}</td>
        </tr>
      ))}
    </RecordTable>
  );
}

function Actor({ actor }: { actor: AuditEntry["actor"] }) {
  return (
    <>
      {actor.name ?? actor.keyId} <span class="muted">({actor.role})</span>
      {actor.name && <div class="id muted">{actor.keyId}</div>}
      {actor.reason && <div class="muted">because: {actor.reason}</div>}
    </>
  );
}

/** Each field of the entry with its value before and after: an empty side shows as "—". */
function Change({ entry }: { entry: AuditEntry }) {
  const before = entry.before ?? {};
  const after = entry.after ?? {};
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  if (fields.length === 0) return <span class="muted">—</span>;
  const shown = (values: Record<string, unknown>, field: string) => (field in values ? JSON.stringify(values[field]) : "—");
  return (
    <table class="changes">
      <ColumnHeads columns={["Field", "Before", "After"]} />
      <tbody>
        {fields.map((field) => (
          <tr key={field}>
            <th scope="row">{field}</th>
            <td>{shown(before, field)}</td>
            <td>{shown(after, field)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
