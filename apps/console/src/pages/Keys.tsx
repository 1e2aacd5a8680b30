import { useState } from "preact/hooks";
import type { CreateProjectKeyBody, ProjectKeyRole, ProjectKeyView } from "@hookbus/schemas";
import { describeError, HookbusApiError } from "../api.js";
import { Field } from "../components/Field.js";
import { SecretNotice } from "../components/SecretNotice.js";
import { LoadingLine, Problem } from "../components/Status.js";
import { when } from "../format.js";
import { useProject } from "../project.js";
import { useSession } from "../session.js";
import { useAction } from "../use-action.js";
import { useLoad } from "../use-load.js";
import { ACTIONS, RecordTable } from "../components/RecordTable.js";

const ROLE_WORDS: Record<ProjectKeyRole, string> = {
  admin: "Admin: manages this project's webhooks, deliveries and keys",
  publisher: "Publisher: publishes this project's events",
};

/** The current project's API keys: made here (the key shown once), listed without it, revoked. */
export function KeysPage() {
  const { hookbus } = useSession();
  const { id: projectId, name: projectName } = useProject();
  const [made, setMade] = useState<{ key: string; name: string } | null>(null);
  const [loaded, reload] = useLoad(async () => (await hookbus.keys.list(projectId)).items, [projectId]);

  return (
    <section aria-labelledby="keys-title">
      <div class="page-head">
        <h1 id="keys-title">API keys of {projectName}</h1>
      </div>
      {made && <SecretNotice secret={made.key} what={`Key "${made.name}" made`} kind="api-key" onDismiss={() => setMade(null)} />}
      <NewKeyForm
        projectId={projectId}
        onMade={(key, name) => {
          setMade({ key, name });
          reload();
        }}
      />
      {loaded.state === "loading" && <LoadingLine what="keys" />}
      {loaded.state === "error" && <Problem>{loaded.message}</Problem>}
      {loaded.state === "ready" && <KeyTable keys={loaded.value} onRevoked={reload} />}
    </section>
  );
}

type KeyField = keyof CreateProjectKeyBody;

function NewKeyForm({ projectId, onMade }: { projectId: string; onMade: (key: string, name: string) => void }) {
  const { hookbus } = useSession();
  const [name, setName] = useState("");
  const [role, setRole] = useState<ProjectKeyRole>("publisher");
  const [issues, setIssues] = useState<Partial<Record<KeyField, string[]>>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const make = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setIssues({});
    setProblem(null);
    try {
      // The name goes as typed: the API says, beside the field, what it wants of it.
      const made = await hookbus.keys.create(projectId, { name, role });
      setName("");
      onMade(made.key, made.name);
    } catch (error) {
      if (error instanceof HookbusApiError && error.issues.length) {
        const byField: Partial<Record<KeyField, string[]>> = {};
        for (const issue of error.issues) {
          const field = issue.path[0] === "role" ? "role" : "name";
          (byField[field] ??= []).push(issue.message);
        }
        setIssues(byField);
        setProblem("The key was not made: see the fields marked below.");
      } else {
        setProblem(describeError(error));
      }
    } finally {
      setSaving(false);
    }
  };

  return (
    <form class="card form" onSubmit={make} noValidate aria-labelledby="new-key-title">
      <h2 id="new-key-title" class="form-section">
        Make a key
      </h2>
      {problem && <Problem>{problem}</Problem>}
      <div class="grid three">
        <Field id="key-name" label="Name" hint="Who or what will use it, e.g. sleep study coordinator." issues={issues.name}>
          {(describedBy, invalid) => (
            <input
              id="key-name"
              value={name}
              autoComplete="off"
              onInput={(e) => setName(e.currentTarget.value)}
              aria-describedby={describedBy}
              aria-invalid={invalid ? "true" : undefined}
            />
          )}
        </Field>
        <Field id="key-role" label="Role" issues={issues.role}>
          {(describedBy, invalid) => (
            <select
              id="key-role"
              value={role}
              onChange={(e) => setRole(e.currentTarget.value as ProjectKeyRole)}
              aria-describedby={describedBy}
              aria-invalid={invalid ? "true" : undefined}
            >
              {Object.entries(ROLE_WORDS).map(([value, words]) => (
                <option key={value} value={value}>
                  {words}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div class="actions">
        <button type="submit" class="button primary" disabled={saving}>
          {saving ? "Making…" : "Make key"}
        </button>
      </div>
    </form>
  );
}

function KeyTable({ keys, onRevoked }: { keys: ProjectKeyView[]; onRevoked: () => void }) {
  if (keys.length === 0) return <p class="card empty">No keys yet: this project is reached with an operator's key only.</p>;
  return (
    <RecordTable kind="keys" caption="API keys of this project" columns={["Name", "Role", "Created", "Last used", ACTIONS]}>
      {keys.map((key) => (
        <KeyRow key={key.id} projectKey={key} onRevoked={onRevoked} />
      ))}
    </RecordTable>
  );
}

function KeyRow({ projectKey, onRevoked }: { projectKey: ProjectKeyView; onRevoked: () => void }) {
  const { hookbus } = useSession();
  const { busy, problem, act } = useAction();
  const revoke = async () => {
    if (!confirm(`Revoke the key "${projectKey.name}"? Whoever uses it is refused at once; this cannot be undone.`)) return;
    await act(async () => {
      await hookbus.keys.revoke(projectKey.projectId, projectKey.id);
      onRevoked();
    });
  };
  return (
    <tr data-key-id={projectKey.id}>
      <td>{projectKey.name}</td>
      <td>{projectKey.role}</td>
      <td>
        <time dateTime={projectKey.createdAt}>{when(projectKey.createdAt)}</time>
      </td>
      <td>{projectKey.lastUsedAt ? <time dateTime={projectKey.lastUsedAt}>{when(projectKey.lastUsedAt)}</time> : "never"}</td>
      <td>
        <button type="button" class="button danger" disabled={busy} onClick={revoke} aria-label={`Revoke ${projectKey.name}`}>
          Revoke
        </button>
        {problem && <Problem>{problem}</Problem>}
      </td>
    </tr>
  );
}
