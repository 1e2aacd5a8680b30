import { useEffect, useRef, useState } from "preact/hooks";
import type { DeliveryFilter, ReplayDryRun, ReplayView } from "@hookbus/schemas";
import { describeError } from "../api.js";
import { plural } from "../format.js";
import { useSession } from "../session.js";
import { Problem } from "./Status.js";

type Step =
  | { at: "idle" }
  | { at: "counting" }
  | { at: "confirm"; count: number }
  | { at: "running"; progress: ReplayView | null }
  | { at: "finished"; progress: ReplayView };

/**
 * "Replay all shown": counts what the filter would replay (a dry run), asks, then follows the
 * replay's progress until it is done. Only dead letters and delivered deliveries replay.
 */
export function ReplayAll({ filter, onFinished }: { filter: DeliveryFilter; onFinished: () => void }) {
  const { hookbus } = useSession();
  const [step, setStep] = useState<Step>({ at: "idle" });
  const [problem, setProblem] = useState<string | null>(null);
  const following = useRef<AbortController | null>(null);
  useEffect(() => () => following.current?.abort(), []);
  useEffect(() => setStep({ at: "idle" }), [JSON.stringify(filter)]);

  const status = filter.status ?? "failed";
  if (status !== "failed" && status !== "delivered") {
    return <p class="hint replay-bar">Only failed or delivered deliveries can be replayed: choose one of those statuses to replay them.</p>;
  }
  const replayFilter = { ...filter, status };
  const what = status === "failed" ? "failed deliveries" : "delivered deliveries";

  const count = async () => {
    setProblem(null);
    setStep({ at: "counting" });
    try {
      const dryRun = (await hookbus.replays.start({ ...replayFilter, dryRun: true })) as ReplayDryRun;
      setStep({ at: "confirm", count: dryRun.count });
    } catch (error) {
      setProblem(describeError(error));
      setStep({ at: "idle" });
    }
  };
  const run = async () => {
    setStep({ at: "running", progress: null });
    following.current = new AbortController();
    try {
      const progress = await hookbus.replays.run(replayFilter, {
        pollMs: 250,
        signal: following.current.signal,
        onProgress: (p) => setStep({ at: "running", progress: p }),
      });
      setStep({ at: "finished", progress });
      onFinished();
    } catch (error) {
      if (following.current.signal.aborted) return;
      setProblem(describeError(error));
      setStep({ at: "idle" });
    }
  };

  return (
    <div class="card replay-bar" aria-live="polite">
      {(step.at === "idle" || step.at === "counting") && (
        <div class="replay-line">
          <span>Send the {what} matching these filters again.</span>
          <button type="button" class="button" onClick={count} disabled={step.at === "counting"}>
            {step.at === "counting" ? "Counting…" : "Replay all shown"}
          </button>
        </div>
      )}
      {step.at === "confirm" &&
        (step.count === 0 ? (
          <div class="replay-line">
            <span>No {what} match these filters: nothing to replay.</span>
            <button type="button" class="button quiet" onClick={() => setStep({ at: "idle" })}>
              OK
            </button>
          </div>
        ) : (
          <div class="replay-line">
            <span data-testid="replay-count">
              {plural(
                step.count,
                status === "failed" ? "failed delivery" : "delivered delivery",
                status === "failed" ? "failed deliveries" : "delivered deliveries",
              )}{" "}
              will be sent again.
            </span>
            <button type="button" class="button primary" onClick={run}>
              Replay {step.count.toLocaleString()}
            </button>
            <button type="button" class="button quiet" onClick={() => setStep({ at: "idle" })}>
              Cancel
            </button>
          </div>
        ))}
      {(step.at === "running" || step.at === "finished") && (
        <Progress progress={step.progress} finished={step.at === "finished"} onClose={() => setStep({ at: "idle" })} />
      )}
      {problem && <Problem>{problem}</Problem>}
    </div>
  );
}

function Progress({ progress, finished, onClose }: { progress: ReplayView | null; finished: boolean; onClose: () => void }) {
  const settled = progress ? progress.done + progress.failed + progress.skipped : 0;
  const total = progress?.total ?? 0;
  const percent = total ? Math.round((settled / total) * 100) : finished ? 100 : 0;
  return (
    <div class="replay-progress">
      <p class="progress-title">{finished ? "Replay finished" : "Replaying…"}</p>
      <progress id="replay-progress" aria-label="Replay progress" max={total || 1} value={finished && !total ? 1 : settled}>
        {percent}%
      </progress>
      <p class="progress-words" data-testid="replay-words">
        {progress
          ? `${percent}%: ${settled.toLocaleString()} of ${total.toLocaleString()} (${progress.done} delivered, ${progress.failed} failed, ${progress.skipped} skipped)`
          : "Starting…"}
      </p>
      {finished && (
        <button type="button" class="button quiet" onClick={onClose}>
          Close
        </button>
      )}
    </div>
  );
}
