// Account recovery and the landing pages of the account e-mails' links (the token is in the fragment,
// `#token=...`, which the browser never sends to a server).
import { useState } from "preact/hooks";
import { api, done, hasSession, unwrap } from "../api/client";
import { Alert, Loading } from "../components";
import { useAction, useLoad } from "../hooks";
import { reloadMe } from "../session";

function linkToken(): string | null {
  return new URLSearchParams(location.hash.slice(1)).get("token");
}

function IncompleteLink() {
  return (
    <p role="alert" class="alert">
      This link is incomplete: open the link from the e-mail again.
    </p>
  );
}

export function ForgotPassword() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState<string | null>(null);
  const submit = useAction(async () => {
    setSent(unwrap(await api.POST("/api/v1/auth/password-reset", { body: { email } })).detail ?? "");
  });
  return (
    <section class="narrow">
      <h1>Reset your password</h1>
      {sent !== null ? (
        <p role="status" class="notice">
          {sent}
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run();
          }}
        >
          <label>
            Email
            <input type="email" autocomplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </label>
          <Alert problem={submit.error} />
          <button type="submit" disabled={submit.pending}>
            Send reset link
          </button>
        </form>
      )}
      <p>
        <a href="/login">Back to sign in</a>
      </p>
    </section>
  );
}

export function ResetPassword() {
  const token = linkToken();
  const [password, setPassword] = useState("");
  const [isSet, setIsSet] = useState(false);
  const submit = useAction(async () => {
    done(await api.POST("/api/v1/auth/password-reset/confirm", { body: { token: token!, password } }));
    setIsSet(true);
  });
  return (
    <section class="narrow">
      <h1>Choose a new password</h1>
      {token === null ? (
        <IncompleteLink />
      ) : isSet ? (
        <p role="status" class="notice">
          Your password is set, and every session of the account is signed out. <a href="/login">Sign in</a> with the new
          password.
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run();
          }}
        >
          <label>
            New password
            <input
              type="password"
              autocomplete="new-password"
              required
              minLength={8}
              maxLength={128}
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </label>
          <Alert problem={submit.error} />
          <button type="submit" disabled={submit.pending}>
            Set password
          </button>
        </form>
      )}
    </section>
  );
}

export function VerifyEmail() {
  const token = linkToken();
  return (
    <section class="narrow">
      <h1>Verify your e-mail address</h1>
      {token === null ? <IncompleteLink /> : <Verification token={token} />}
    </section>
  );
}

function Verification({ token }: { token: string }) {
  const result = useLoad(async () => {
    done(await api.POST("/api/v1/auth/verify-email", { body: { token } }));
    if (hasSession()) await reloadMe(); // the profile shows the flag
  }, token);
  if (result.loading) return <Loading />;
  if (result.error) return <Alert problem={result.error} />;
  return (
    <p role="status" class="notice">
      Your e-mail address is verified. <a href="/">Find work</a>
    </p>
  );
}
