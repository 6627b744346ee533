import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { api, unwrap } from "../api/client";
import type { Role } from "../api/types";
import { Alert } from "../components";
import { useAction } from "../hooks";
import { logIn } from "../session";

function safeNext(next: string | undefined): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function Login() {
  const { route, query } = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const submit = useAction(async () => {
    await logIn(email, password);
    route(safeNext(query.next), true);
  });
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run();
        }}
      >
        <label>
          Email
          <input type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <Alert problem={submit.error} />
        <button type="submit" disabled={submit.pending}>
          Sign in
        </button>
      </form>
      <p>
        <a href="/forgot-password">Forgot password?</a>
      </p>
      <p>
        New here? <a href="/register">Create an account</a>
      </p>
    </section>
  );
}

export function Register() {
  const { route } = useLocation();
  const [fullName, setFullName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("client");
  const submit = useAction(async () => {
    unwrap(await api.POST("/api/v1/auth/register", { body: { full_name: fullName, email, password, role } }));
    const me = await logIn(email, password);
    route(me.role === "client" ? "/dashboard" : "/", true);
  });
  return (
    <section class="narrow">
      <h1>Create an account</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run();
        }}
      >
        <label>
          Full name
          <input autocomplete="name" required maxLength={120} value={fullName} onInput={(e) => setFullName(e.currentTarget.value)} />
        </label>
        <label>
          Email
          <input type="email" autocomplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autocomplete="new-password"
            required
            minLength={8}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <fieldset>
          <legend>Account type: a client posts jobs and hires, a worker applies</legend>
          {(["client", "worker"] as const).map((r) => (
            <label class="choice" key={r}>
              <input type="radio" name="role" value={r} checked={role === r} onChange={() => setRole(r)} />
              {r === "client" ? "Client" : "Worker"}
            </label>
          ))}
        </fieldset>
        <Alert problem={submit.error} />
        <button type="submit" disabled={submit.pending}>
          Create account
        </button>
      </form>
    </section>
  );
}
