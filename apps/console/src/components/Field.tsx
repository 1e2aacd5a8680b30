import type { ComponentChildren } from "preact";

/**
 * A labelled form field with its hint and the API's complaint about it, both tied to the
 * control by aria-describedby so a screen reader reads them with it.
 */
export function Field({
  id,
  label,
  hint,
  issues,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  issues?: string[];
  children: (describedBy: string | undefined, invalid: boolean) => ComponentChildren;
}) {
  const hintId = hint ? `${id}-hint` : undefined;
  const issueId = issues?.length ? `${id}-issue` : undefined;
  const describedBy = [hintId, issueId].filter(Boolean).join(" ") || undefined;
  return (
    <div class={`field ${issueId ? "has-issue" : ""}`}>
      <label for={id}>{label}</label>
      {children(describedBy, Boolean(issueId))}
      {hint && (
        <p id={hintId} class="hint">
          {hint}
        </p>
      )}
      {issueId && (
        <p id={issueId} class="issue">
          {issues!.join("; ")}
        </p>
      )}
    </div>
  );
}
