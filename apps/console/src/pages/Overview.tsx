import { useMemo } from "preact/hooks";
import type { OverviewView } from "@hookbus/schemas";
import { LoadingLine, Problem } from "../components/Status.js";
import { TimeChart } from "../components/TimeChart.js";
import { milliseconds, plural } from "../format.js";
import { useProjectId } from "../project.js";
import { href } from "../router.js";
import { useSession } from "../session.js";
import { useLoad } from "../use-load.js";
import { ColumnHeads } from "../components/RecordTable.js";

/** The last hour at a glance: deliveries, failures, dead letters, slow endpoints. */
export function OverviewPage() {
  const { hookbus } = useSession();
  const projectId = useProjectId();
  const [loaded, reload] = useLoad(() => hookbus.overview({ minutes: 60, projectId }), [projectId]);
  return (
    <section aria-labelledby="overview-title">
      <div class="page-head">
        <h1 id="overview-title">Overview: the last hour</h1>
        <button type="button" class="button" onClick={reload}>
          Refresh
        </button>
      </div>
      {loaded.state === "loading" && <LoadingLine what="the last hour" />}
      {loaded.state === "error" && <Problem>{loaded.message}</Problem>}
      {loaded.state === "ready" && <Charts overview={loaded.value} />}
    </section>
  );
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function Charts({ overview }: { overview: OverviewView }) {
  const data = useMemo(() => {
    const m = overview.minutes;
    return {
      times: m.map((b) => Date.parse(b.at) / 1000),
      deliveries: [{ label: "Deliveries", values: m.map((b) => b.deliveries), color: "#4f46e5", bars: true }],
      failureRatio: [
        {
          label: "Failed attempts",
          values: m.map((b) => (b.attempts ? Math.round((b.failedAttempts / b.attempts) * 1000) / 10 : null)),
          color: "#dc2626",
        },
      ],
      deadLetters: [{ label: "Dead letters", values: m.map((b) => b.deadLetters), color: "#b45309", bars: true }],
      totals: {
        deliveries: sum(m.map((b) => b.deliveries)),
        attempts: sum(m.map((b) => b.attempts)),
        failedAttempts: sum(m.map((b) => b.failedAttempts)),
        deadLetters: sum(m.map((b) => b.deadLetters)),
      },
    };
  }, [overview]);
  const { totals } = data;
  const ratio = totals.attempts ? `${((totals.failedAttempts / totals.attempts) * 100).toFixed(1)}%` : "—";
  const busiest = Math.max(0, ...overview.minutes.map((b) => b.deliveries));

  return (
    <>
      {overview.truncated && <p class="notice">More deliveries were created this hour than the overview reads: the oldest are left out.</p>}
      <ul class="stats" aria-label="The last hour in numbers">
        <li class="card stat">
          <span class="stat-value">{totals.deliveries.toLocaleString()}</span>
          <span class="stat-label">deliveries</span>
        </li>
        <li class="card stat">
          <span class="stat-value">{ratio}</span>
          <span class="stat-label">of {plural(totals.attempts, "attempt")} failed</span>
        </li>
        <li class="card stat">
          <a class="stat-value" href={href("deliveries", { status: "failed" })}>
            {totals.deadLetters.toLocaleString()}
          </a>
          <span class="stat-label">dead letters</span>
        </li>
        <li class="card stat">
          <span class="stat-value">{overview.slowestEndpoints[0] ? milliseconds(overview.slowestEndpoints[0].averageMs) : "—"}</span>
          <span class="stat-label">slowest endpoint, on average</span>
        </li>
      </ul>
      <div class="chart-grid">
        <TimeChart
          title="Deliveries per minute"
          times={data.times}
          series={data.deliveries}
          summary={`${plural(totals.deliveries, "delivery", "deliveries")} in the hour, at most ${busiest} in one minute.`}
        />
        <TimeChart
          title="Failed attempts, % per minute"
          times={data.times}
          series={data.failureRatio}
          unit="%"
          summary={`${ratio} of the hour's attempts failed.`}
        />
        <TimeChart
          title="Dead letters per minute"
          times={data.times}
          series={data.deadLetters}
          summary={`${plural(totals.deadLetters, "delivery", "deliveries")} dead-lettered in the hour.`}
        />
        <SlowestEndpoints overview={overview} />
      </div>
    </>
  );
}

function SlowestEndpoints({ overview }: { overview: OverviewView }) {
  const slowest = overview.slowestEndpoints;
  const longest = Math.max(1, ...slowest.map((e) => e.averageMs));
  return (
    <figure class="card chart">
      <figcaption>Slowest endpoints, by average attempt</figcaption>
      {slowest.length === 0 ? (
        <p class="muted">No attempts in the last hour.</p>
      ) : (
        <table class="slowest">
          <ColumnHeads
            columns={[
              "Endpoint",
              { name: "Average", numbers: true },
              { name: "Slowest", numbers: true },
              { name: "Attempts", numbers: true },
            ]}
          />
          <tbody>
            {slowest.map((e) => (
              <tr key={e.subscriptionId}>
                <td>
                  <span class="url-cell">{e.url ?? `${e.subscriptionId} (deleted)`}</span>
                  <span class="bar" style={{ width: `${(e.averageMs / longest) * 100}%` }} aria-hidden="true" />
                </td>
                <td class="number">{milliseconds(e.averageMs)}</td>
                <td class="number">{milliseconds(e.maxMs)}</td>
                <td class="number">{e.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </figure>
  );
}
