import { useMemo, useState } from "preact/hooks";
import { clientFor, forgetKey, storedKey } from "./api.js";
import { DeliveriesPage } from "./pages/Deliveries.js";
import { DeliveryPage } from "./pages/Delivery.js";
import { OverviewPage } from "./pages/Overview.js";
import { SignInPage } from "./pages/SignIn.js";
import { WebhookFormPage } from "./pages/WebhookForm.js";
import { WebhooksPage } from "./pages/Webhooks.js";
import { href, useRoute, type Route } from "./router.js";
import { SessionContext, useSession, type Session } from "./session.js";

const SECTIONS = [
  { segment: "overview", label: "Overview" },
  { segment: "webhooks", label: "Webhooks" },
  { segment: "deliveries", label: "Deliveries" },
] as const;

export function App() {
  const [key, setKey] = useState(storedKey);
  const session = useMemo<Session | null>(
    () =>
      key
        ? {
            hookbus: clientFor(key),
            signOut: () => {
              forgetKey();
              setKey(null);
            },
          }
        : null,
    [key],
  );
  if (!session) return <SignInPage onSignedIn={setKey} />;
  return (
    <SessionContext.Provider value={session}>
      <SignedIn />
    </SessionContext.Provider>
  );
}

function SignedIn() {
  const route = useRoute();
  const section = route.segments[0] ?? "webhooks";
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <Header section={section} />
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

function Header({ section }: { section: string }) {
  return (
    <header class="top">
      <div class="top-inner">
        <a class="brand" href={href("webhooks")}>
          <span class="brand-mark" aria-hidden="true">
            ⇶
          </span>
          Hookbus
        </a>
        <nav aria-label="Main">
          <ul>
            {SECTIONS.map(({ segment, label }) => (
              <li key={segment}>
                <a href={href(segment)} aria-current={section === segment ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <SignOutButton />
      </div>
    </header>
  );
}

function SignOutButton() {
  const { signOut } = useSession();
  return (
    <button type="button" class="button quiet on-dark" onClick={signOut}>
      Sign out
    </button>
  );
}

function Page({ route }: { route: Route }) {
  const [section = "webhooks", id] = route.segments;
  switch (section) {
    case "overview":
      return <OverviewPage />;
    case "deliveries":
      return id ? <DeliveryPage id={id} /> : <DeliveriesPage query={route.query} />;
    case "webhooks":
      if (id === "new") return <WebhookFormPage />;
      if (id) return <WebhookFormPage id={id} />;
      return <WebhooksPage />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page here. Go to the <a href={href("webhooks")}>webhooks</a>.
          </p>
        </section>
      );
  }
}
