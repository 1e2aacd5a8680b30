import { useMemo, useState } from "preact/hooks";
import { clientFor, forgetKey, storedKey } from "./api.js";
import { AuditPage } from "./pages/Audit.js";
import { DeliveriesPage } from "./pages/Deliveries.js";
import { DeliveryPage } from "./pages/Delivery.js";
import { ErasurePage, ErasureReceiptPage } from "./pages/Erasure.js";
import { KeysPage } from "./pages/Keys.js";
import { OverviewPage } from "./pages/Overview.js";
import { SchedulePage } from "./pages/Schedule.js";
import { SchedulesPage } from "./pages/Schedules.js";
import { SignInPage } from "./pages/SignIn.js";
import { WebhookFormPage } from "./pages/WebhookForm.js";
import { WebhooksPage } from "./pages/Webhooks.js";
import type { ProjectView } from "@hookbus/schemas";
import { LoadingLine, Problem } from "./components/Status.js";
import { pickProject, ProjectContext } from "./project.js";
import { href, navigate, PROJECT_PARAM, useRoute, type Route } from "./router.js";
import { SessionContext, useSession, type Session } from "./session.js";
import { useLoad } from "./use-load.js";

const SECTIONS = [
  { segment: "overview", label: "Overview" },
  { segment: "webhooks", label: "Webhooks" },
  { segment: "deliveries", label: "Deliveries" },
  { segment: "schedules", label: "Schedules" },
  { segment: "keys", label: "Keys" },
  { segment: "audit", label: "Audit" },
  { segment: "erasures", label: "Erasure" },
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
  const { hookbus } = useSession();
  const route = useRoute();
  const section = route.segments[0] ?? "webhooks";
  const [projects] = useLoad(async () => (await hookbus.projects.list()).items, []);
  const named = route.query.get(PROJECT_PARAM);
  const current = projects.state === "ready" ? pickProject(projects.value, named) : undefined;
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <Header section={section} projects={projects.state === "ready" ? projects.value : []} current={current} />
      <main id="main" tabIndex={-1}>
        {projects.state === "loading" && <LoadingLine what="projects" />}
        {projects.state === "error" && <Problem>{projects.message}</Problem>}
        {projects.state === "ready" && !current && <Problem>There is no project {named} that this key may see: pick one above.</Problem>}
        {projects.state === "ready" && current && (
          <ProjectContext.Provider value={current}>
            {/* A page's state belongs to its project: another project starts it afresh. */}
            <Page key={current.id} route={route} />
          </ProjectContext.Provider>
        )}
      </main>
    </>
  );
}

function Header({ section, projects, current }: { section: string; projects: ProjectView[]; current: ProjectView | undefined }) {
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
        <ProjectPicker section={section} projects={projects} current={current} />
        <SignOutButton />
      </div>
    </header>
  );
}

/**
 * An operator's key sees every project and picks one; a project's key sees its own, named
 * but not offered a choice. The choice is in the URL, so a link or a reload keeps it.
 */
function ProjectPicker({ section, projects, current }: { section: string; projects: ProjectView[]; current: ProjectView | undefined }) {
  if (projects.length === 1)
    return (
      <p class="project-label">
        Project <strong>{projects[0]!.name}</strong>
      </p>
    );
  if (projects.length === 0) return null;
  return (
    <div class="project-picker">
      <label for="project-picker">Project</label>
      <select
        id="project-picker"
        value={current?.id ?? ""}
        // A page of one webhook or delivery belongs to the project left: go to the section's list.
        onChange={(e) => navigate(href(section, { [PROJECT_PARAM]: e.currentTarget.value }))}
      >
        {!current && <option value="">Pick a project</option>}
        {projects.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
          </option>
        ))}
      </select>
    </div>
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
    case "schedules":
      return id ? <SchedulePage id={id} /> : <SchedulesPage />;
    case "keys":
      return <KeysPage />;
    case "audit":
      return <AuditPage query={route.query} />;
    case "erasures":
      return id ? <ErasureReceiptPage id={id} /> : <ErasurePage />;
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
