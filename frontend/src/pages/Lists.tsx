// The signed-in person's lists: a worker's applications, anyone's payments.
import { api, unwrap } from "../api/client";
import type { Account, ApplicationStatus, MyApplication } from "../api/types";
import { Alert, Loading, SignedIn, StatusBadge } from "../components";
import { date, label, money } from "../format";
import { useAction, useLoad } from "../hooks";
import { useMe } from "../session";

const APPLICATION_STATUSES: ApplicationStatus[] = ["pending", "accepted", "rejected", "withdrawn"];

export function MyApplications() {
  return (
    <SignedIn role="worker">
      <ApplicationsList />
    </SignedIn>
  );
}

function ApplicationsList() {
  const list = useLoad(
    async () => unwrap(await api.GET("/api/v1/users/me/applications", { params: { query: { limit: 100 } } })).items,
    "my-applications",
  );
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <Alert problem={list.error} />;
  const items = list.data ?? [];
  return (
    <section>
      <h1>My applications</h1>
      {APPLICATION_STATUSES.map((status) => {
        const group = items.filter((a) => a.status === status);
        return (
          <section key={status} aria-labelledby={`apps-${status}`}>
            <h2 id={`apps-${status}`}>
              {label(status)} ({group.length})
            </h2>
            {group.length === 0 ? <p class="muted">None.</p> : null}
            <ul class="plain">
              {group.map((a) => (
                <ApplicationItem key={a.id} application={a} onChange={list.reload} />
              ))}
            </ul>
          </section>
        );
      })}
    </section>
  );
}

function ApplicationItem({ application, onChange }: { application: MyApplication; onChange: () => void }) {
  const currency = useMe()?.currency ?? "USD";
  const withdraw = useAction(async () => {
    unwrap(
      await api.POST("/api/v1/applications/{application_id}/withdraw", {
        params: { path: { application_id: application.id } },
      }),
    );
    onChange();
  });
  return (
    <li>
      <a href={`/jobs/${application.job.id}`}>{application.job.title}</a> <StatusBadge status={application.status} />{" "}
      <a href={`/applications/${application.id}`} aria-label={`Messages about ${application.job.title}`}>
        Messages
      </a>{" "}
      <span class="muted">
        applied {date(application.created_at)}
        {application.bid_minor ? ` · bid ${money(application.bid_minor, currency)}` : ""}
      </span>
      {application.status === "pending" ? (
        <button type="button" class="secondary small" onClick={() => void withdraw.run()} disabled={withdraw.pending}>
          Withdraw
        </button>
      ) : null}
      <Alert problem={withdraw.error} />
    </li>
  );
}

export function Payments() {
  return (
    <SignedIn>
      <PaymentsTable me={useMe()!} />
    </SignedIn>
  );
}

function PaymentsTable({ me }: { me: Account }) {
  const list = useLoad(
    async () =>
      unwrap(
        await api.GET("/api/v1/users/{user_id}/payments", { params: { path: { user_id: me.id }, query: { limit: 100 } } }),
      ).items,
    `payments-${me.id}`,
  );
  if (list.loading && !list.data) return <Loading />;
  if (list.error) return <Alert problem={list.error} />;
  const items = list.data ?? [];
  return (
    <section>
      <h1>My payments</h1>
      <p>
        Balance: <strong>{money(me.balance_minor, me.currency)}</strong>
      </p>
      {items.length === 0 ? (
        <p class="muted">No payments yet.</p>
      ) : (
        <table class="payments">
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Job</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">Amount</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id}>
                <td>{date(p.created_at)}</td>
                <td>
                  <a href={`/jobs/${p.job_id}`}>Job {p.job_id}</a>
                </td>
                <td>{label(p.kind)}</td>
                <td>{label(p.status)}</td>
                <td class={p.payer_id === me.id ? "out" : "in"}>
                  {p.payer_id === me.id ? "−" : "+"}
                  {money(p.amount_minor, p.currency)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
