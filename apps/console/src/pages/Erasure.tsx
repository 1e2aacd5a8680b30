import { useState } from "preact/hooks";
import { erasureFields, type ErasureField, type ErasureView } from "@hookbus/schemas";
import { describeError, HookbusApiError } from "../api.js";
import { Field } from "../components/Field.js";
import { RecordHead } from "../components/RecordHead.js";
import { LoadingLine, Problem } from "../components/Status.js";
import { when } from "../format.js";
import { useProject } from "../project.js";
import { href, navigate } from "../router.js";
import { useSession } from "../session.js";
import { useLoad } from "../use-load.js";

const FIELD_WORDS: Record<ErasureField, string> = {
  participantId: "MyDataHelps participant id (PatientID)",
  participantIdentifier: "MyDataHelps participant identifier (PatientIdentifier)",
  transId: "TrialKit record trans_id",
};

const PERSISTENCE_WORDS: Record<ErasureView["persistence"]["status"], string> = {
  pending: "Rewrite of Redis's append-only file pending",
  rewritten: "Redis's append-only file rewritten",
  refused: "Redis refused to rewrite its append-only file: see the README's Erasure section",
  failed: "Redis's append-only file rewrite failed: see the README's Erasure section",
  not_enabled: "Redis keeps no append-only file",
};

/** Erase one participant's data in the current project; once done, its receipt (`#/erasures/ID`). */
export function ErasurePage() {
  const { hookbus } = useSession();
  const { id: projectId, name: projectName } = useProject();
  const [field, setField] = useState<ErasureField>("participantId");
  const [value, setValue] = useState("");
  const [issues, setIssues] = useState<string[] | undefined>();
  const [problem, setProblem] = useState<string | null>(null);
  const [erasing, setErasing] = useState(false);

  const erase = async (event: Event) => {
    event.preventDefault();
    setErasing(true);
    setIssues(undefined);
    setProblem(null);
    try {
      const receipt = await hookbus.erasures.run({ [field]: value, projectId });
      setValue("");
      navigate(href("erasures", receipt.id));
    } catch (error) {
      if (error instanceof HookbusApiError && error.issues.length) setIssues(error.issues.map((issue) => issue.message));
      setProblem(describeError(error));
    } finally {
      setErasing(false);
    }
  };

  return (
    <section aria-labelledby="erasure-title">
      <div class="page-head">
        <h1 id="erasure-title">Erase a participant's data in {projectName}</h1>
      </div>
      <form class="card form" onSubmit={erase} noValidate aria-labelledby="erasure-title">
        <p class="hint">
          Every event carrying the value is erased, with its deliveries' payloads and attempts; deliveries still pending are cancelled. This
          cannot be undone.
        </p>
        {problem && <Problem>{problem}</Problem>}
        <div class="grid three">
          <Field id="erasure-field" label="Field">
            {(describedBy) => (
              <select
                id="erasure-field"
                value={field}
                onChange={(e) => setField(e.currentTarget.value as ErasureField)}
                aria-describedby={describedBy}
              >
                {erasureFields.map((f) => (
                  <option key={f} value={f}>
                    {FIELD_WORDS[f]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id="erasure-value" label="Value" issues={issues}>
            {(describedBy, invalid) => (
              <input
                id="erasure-value"
                value={value}
                autoComplete="off"
                onInput={(e) => setValue(e.currentTarget.value)}
                aria-describedby={describedBy}
                aria-invalid={invalid ? "true" : undefined}
              />
            )}
          </Field>
        </div>
        <div class="actions">
          <button type="submit" class="button primary" disabled={erasing}>
            {erasing ? "Erasing…" : "Erase"}
          </button>
        </div>
      </form>
    </section>
  );
}

/** An erasure's receipt: what it erased (never the value), and whether Redis's files were rewritten. */
export function ErasureReceiptPage({ id }: { id: string }) {
  const { hookbus } = useSession();
  const [loaded, reload] = useLoad(() => hookbus.erasures.get(id), [id]);
  return (
    <section aria-labelledby="receipt-title">
      <RecordHead titleId="receipt-title" list={{ segment: "erasures", label: "Erasure" }} id={id} onRefresh={reload} />
      {loaded.state === "loading" && <LoadingLine what="the receipt" />}
      {loaded.state === "error" && <Problem>{loaded.message}</Problem>}
      {loaded.state === "ready" && <Receipt receipt={loaded.value} />}
    </section>
  );
}

function Receipt({ receipt }: { receipt: ErasureView }) {
  const { persistence } = receipt;
  return (
    <dl class="facts card" aria-label="Receipt">
      <dt>Status</dt>
      <dd>{receipt.status === "done" ? "Done" : `Running: ${receipt.events} of ${receipt.total} events so far`}</dd>
      <dt>Erased by</dt>
      <dd>{FIELD_WORDS[receipt.field]}</dd>
      <dt>Started</dt>
      <dd>{when(receipt.createdAt)}</dd>
      {receipt.finishedAt && (
        <>
          <dt>Finished</dt>
          <dd>{when(receipt.finishedAt)}</dd>
        </>
      )}
      <dt>Events erased</dt>
      <dd>{receipt.events}</dd>
      <dt>Deliveries erased</dt>
      <dd>{receipt.deliveries}</dd>
      <dt>Attempts erased</dt>
      <dd>{receipt.attempts}</dd>
      <dt>Redis's files</dt>
      <dd>
        {PERSISTENCE_WORDS[persistence.status]}
        {persistence.status === "rewritten" && persistence.finishedAt && ` at ${when(persistence.finishedAt)}`}
        {persistence.message && ` (${persistence.message})`}
      </dd>
    </dl>
  );
}
