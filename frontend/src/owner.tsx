// What a job's owner does with it: fund, hire from the best applicants, complete, cancel.
import { useRef } from "preact/hooks";
import { api, unwrap } from "./api/client";
import type { Application, Job, RankedApplicant } from "./api/types";
import { Alert, Loading, StatusBadge } from "./components";
import { attendance, money } from "./format";
import { newIdempotencyKey, useAction, useLoad } from "./hooks";
import { Timesheets } from "./shifts";


export function OwnerPanel({ job, onChange }: { job: Job; onChange: () => void }) {
  // One key per intended payment, kept until the payment succeeded, so a retry cannot pay twice.
  const paymentKey = useRef<string | null>(null);
  const path = { params: { path: { job_id: job.id } } };
  const fund = useAction(async () => {
    paymentKey.current ??= newIdempotencyKey();
    unwrap(
      await api.POST("/api/v1/jobs/{job_id}/payments", {
        params: { ...path.params, header: { "Idempotency-Key": paymentKey.current } },
        body: { amount_minor: job.total_cost_minor },
      }),
    );
    paymentKey.current = null;
    onChange();
  });
  const complete = useAction(async () => {
    unwrap(await api.POST("/api/v1/jobs/{job_id}/complete", path));
    onChange();
  });
  const cancel = useAction(async () => {
    if (!confirm(`Cancel “${job.title}”?${job.funded ? " The escrow is refunded to you." : ""}`)) return;
    unwrap(await api.POST("/api/v1/jobs/{job_id}/cancel", path));
    onChange();
  });
  const active = job.status === "open" || job.status === "in_progress";

  return (
    <section class="owner" aria-label="Manage this job">
      <p>
        Escrow: <strong>{job.funded ? `${money(job.total_cost_minor, job.currency)} held` : job.escrow_status}</strong> ·
        hired {job.hired_count} of {job.openings} · {job.applications_count} applications
      </p>
      <div class="actions">
        {active && job.escrow_status === "none" ? (
          <button type="button" onClick={() => void fund.run()} disabled={fund.pending}>
            Fund escrow
          </button>
        ) : null}
        {job.status === "in_progress" && job.funded ? (
          <button type="button" onClick={() => void complete.run()} disabled={complete.pending}>
            Mark completed
          </button>
        ) : null}
        {active ? (
          <button type="button" class="danger" onClick={() => void cancel.run()} disabled={cancel.pending}>
            Cancel job
          </button>
        ) : null}
      </div>
      <Alert problem={fund.error ?? complete.error ?? cancel.error} />
      {job.shifts.length && job.hired_count ? <Timesheets job={job} owner /> : null}
      {job.status === "open" ? <BestApplicants job={job} onChange={onChange} /> : null}
      <Applicants job={job} />
    </section>
  );
}

function BestApplicants({ job, onChange }: { job: Job; onChange: () => void }) {
  const ranked = useLoad(
    async () =>
      unwrap(await api.GET("/api/v1/jobs/{job_id}/best-applicants", { params: { path: { job_id: job.id } } })),
    `best-${job.id}-${job.updated_at}-${job.applications_count}`,
  );
  if (ranked.loading) return <Loading />;
  if (ranked.error) return <Alert problem={ranked.error} />;
  const rows = ranked.data ?? [];
  return (
    <>
      <h3>Best applicants</h3>
      {rows.length === 0 ? (
        <p class="muted">No pending applications yet.</p>
      ) : (
        <table class="ranking">
          <caption class="muted">
            Score = 35 × rating + 20 × skills + 20 × distance + 10 × experience + 15 × reliability (each part 0–1)
          </caption>
          <thead>
            <tr>
              <th scope="col">Applicant</th>
              <th scope="col">Score</th>
              <th scope="col">Rating</th>
              <th scope="col">Skills</th>
              <th scope="col">Distance</th>
              <th scope="col">Experience</th>
              <th scope="col">Reliability</th>
              <th scope="col">Bid</th>
              <th scope="col">Decision</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <ApplicantRow key={row.application.id} row={row} job={job} onChange={() => {
                ranked.reload();
                onChange();
              }} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function ApplicantRow({ row, job, onChange }: { row: RankedApplicant; job: Job; onChange: () => void }) {
  const application = row.application;
  const path = { params: { path: { application_id: application.id } } };
  const decide = useAction(async (accept: boolean) => {
    const url = accept ? "/api/v1/applications/{application_id}/accept" : "/api/v1/applications/{application_id}/reject";
    unwrap(await api.POST(url, path));
    onChange();
  });
  return (
    <tr>
      <th scope="row">
        <a href={`/users/${application.worker.id}`}>{application.worker.full_name}</a>
      </th>
      <td class="score">{row.score.toFixed(1)}</td>
      <td>{row.parts.rating.toFixed(2)}</td>
      <td>{row.parts.skills.toFixed(2)}</td>
      <td>
        {row.parts.distance.toFixed(2)}
        {row.distance_km !== null ? <span class="muted"> ({row.distance_km.toFixed(1)} km)</span> : null}
      </td>
      <td>{row.parts.experience.toFixed(2)}</td>
      <td>
        {row.parts.reliability.toFixed(2)} <span class="muted">({attendance(row.reliability)})</span>
      </td>
      <td>{application.bid_minor ? money(application.bid_minor, job.currency) : "—"}</td>
      <td class="actions">
        <button type="button" onClick={() => void decide.run(true)} disabled={decide.pending}>
          Accept
        </button>
        <button type="button" class="secondary" onClick={() => void decide.run(false)} disabled={decide.pending}>
          Reject
        </button>
        <Alert problem={decide.error} />
      </td>
    </tr>
  );
}

function Applicants({ job }: { job: Job }) {
  const list = useLoad(
    async () =>
      unwrap(
        await api.GET("/api/v1/jobs/{job_id}/applications", { params: { path: { job_id: job.id }, query: { limit: 100 } } }),
      ).items,
    `applicants-${job.id}-${job.updated_at}-${job.applications_count}-${job.hired_count}`,
  );
  if (list.loading) return <Loading />;
  if (list.error) return <Alert problem={list.error} />;
  const items: Application[] = list.data ?? [];
  return (
    <>
      <h3>All applicants ({items.length})</h3>
      <ul class="plain">
        {items.map((a) => (
          <li key={a.id}>
            <a href={`/users/${a.worker.id}`}>{a.worker.full_name}</a> <StatusBadge status={a.status} />{" "}
            <a href={`/applications/${a.id}`} aria-label={`Messages with ${a.worker.full_name}`}>
              Messages
            </a>
            {a.cover_letter ? <p class="quote">{a.cover_letter}</p> : null}
          </li>
        ))}
      </ul>
    </>
  );
}
