import { useState } from "preact/hooks";
import { describeError } from "./api.js";

/** A button's action on one row: busy while it runs, and its failure as one sentence. */
export function useAction(): { busy: boolean; problem: string | null; act: (run: () => Promise<void>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const act = async (run: () => Promise<void>) => {
    setBusy(true);
    setProblem(null);
    try {
      await run();
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };
  return { busy, problem, act };
}
