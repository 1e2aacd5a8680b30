import { useState } from "preact/hooks";
import { checkAdminKey, rememberKey } from "../api.js";

export function SignInPage({ onSignedIn }: { onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  const signIn = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) return setProblem("Enter an admin API key.");
    setChecking(true);
    const outcome = await checkAdminKey(trimmed);
    setChecking(false);
    if (!outcome.ok) return setProblem(outcome.reason);
    rememberKey(trimmed);
    onSignedIn(trimmed);
  };

  return (
    <main class="sign-in">
      <form class="card sign-in-card" onSubmit={signIn} noValidate>
        <h1>
          <span class="brand-mark" aria-hidden="true">
            ⇶
          </span>{" "}
          Hookbus console
        </h1>
        <p class="muted">Manage webhooks, follow deliveries and replay what failed.</p>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          autoFocus
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-invalid={problem ? "true" : undefined}
          aria-describedby={problem ? "sign-in-problem" : "sign-in-hint"}
        />
        <p id="sign-in-hint" class="hint">
          An admin key from <code>HOOKBUS_API_KEYS</code>. It is kept in this tab only, until you close it or sign out.
        </p>
        {problem && (
          <p id="sign-in-problem" class="problem" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" class="button primary" disabled={checking}>
          {checking ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
