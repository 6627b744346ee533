import type { ComponentChildren } from "preact";
import { CITIES } from "./cities";
import type { Problem } from "./api/types";
import { useSession } from "./session";

/** An API problem, announced to screen readers: its `detail` is the message. */
export function Alert({ problem }: { problem: Problem | null | undefined }) {
  return problem ? (
    <p role="alert" class="alert">
      {problem.detail}
    </p>
  ) : null;
}

export function Loading() {
  return (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  );
}

/** A page only a signed-in person (optionally of one role) may see. */
export function SignedIn({ role, children }: { role?: "client" | "worker"; children: ComponentChildren }) {
  const session = useSession();
  if (session.status === "loading") return <Loading />;
  if (session.status === "anonymous") {
    const next = encodeURIComponent(location.pathname + location.search);
    return (
      <section>
        <h1>Please sign in</h1>
        <p>
          <a href={`/login?next=${next}`}>Sign in</a> or <a href="/register">create an account</a> to see this page.
        </p>
      </section>
    );
  }
  if (role && session.me.role !== role) {
    return (
      <section>
        <h1>Not for your account</h1>
        <p>This page is for {role} accounts.</p>
      </section>
    );
  }
  return <>{children}</>;
}

export function CityList() {
  return (
    <datalist id="cities">
      {Object.keys(CITIES).map((c) => (
        <option key={c} value={c} />
      ))}
    </datalist>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status.replace(/_/g, " ")}</span>;
}
