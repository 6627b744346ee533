import { useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { api, unwrap } from "../api/client";
import type { Account, Job } from "../api/types";
import { Alert, Loading, StatusBadge } from "../components";
import { date, money, rating } from "../format";
import { useAction, useLoad } from "../hooks";
import { OwnerPanel } from "../owner";
import { useMe } from "../session";
import { toMinor } from "../format";
import { MyBooking, ShiftList } from "../shifts";

export function JobPage() {
  const { params } = useRoute();
  const jobId = Number(params.id);
  const me = useMe();
  const job = useLoad(
    async () => unwrap(await api.GET("/api/v1/jobs/{job_id}", { params: { path: { job_id: jobId } } })),
    `job-${jobId}`,
  );
  if (job.loading && !job.data) return <Loading />;
  if (job.error) return <Alert problem={job.error} />;
  const j = job.data!;
  const owner = me !== null && me.id === j.client.id;
  return (
    <article class="job">
      <h1>{j.title}</h1>
      <p>
        <StatusBadge status={j.status} /> <strong>{money(j.pay_rate_minor, j.currency)}</strong>
        {j.pay_type === "hourly" ? ` per hour × ${j.hours} h` : " fixed"} · total {money(j.total_cost_minor, j.currency)}
      </p>
      <dl class="facts">
        <dt>Category</dt>
        <dd>{j.category.name}</dd>
        <dt>Skills</dt>
        <dd>{j.skills.length ? j.skills.map((s) => s.name).join(", ") : "none listed"}</dd>
        <dt>Where</dt>
        <dd>{j.location ? (j.location.city ?? `${j.location.lat}, ${j.location.lng}`) : "remote / not given"}</dd>
        <dt>Openings</dt>
        <dd>
          {j.hired_count} of {j.openings} filled · {j.applications_count} applications
        </dd>
        {j.shifts.length ? (
          <>
            <dt>Shifts</dt>
            <dd>
              <ShiftList shifts={j.shifts} />
            </dd>
          </>
        ) : j.starts_at ? (
          <>
            <dt>When</dt>
            <dd>
              {date(j.starts_at)}
              {j.ends_at ? ` – ${date(j.ends_at)}` : ""}
            </dd>
          </>
        ) : null}
        <dt>Client</dt>
        <dd>
          <a href={`/users/${j.client.id}`}>{j.client.full_name}</a> · {rating(j.client.rating_avg)}
        </dd>
        <dt>Posted</dt>
        <dd>{date(j.created_at)}</dd>
      </dl>
      {j.description ? <p class="description">{j.description}</p> : null}
      {owner ? <OwnerPanel job={j} onChange={job.reload} /> : null}
      {me?.role === "worker" && j.hired_count > 0 ? <MyBooking job={j} onChange={job.reload} /> : null}
      {me?.role === "worker" && j.status === "open" ? <ApplyForm job={j} onApplied={job.reload} /> : null}
      {me && j.status === "completed" ? <Reviews job={j} me={me} /> : null}
    </article>
  );
}

function ApplyForm({ job, onApplied }: { job: Job; onApplied: () => void }) {
  const [open, setOpen] = useState(false);
  const [sent, setSent] = useState(false);
  const [coverLetter, setCoverLetter] = useState("");
  const [bid, setBid] = useState("");
  const [hours, setHours] = useState("");
  const send = useAction(async () => {
    unwrap(
      await api.POST("/api/v1/jobs/{job_id}/applications", {
        params: { path: { job_id: job.id } },
        body: {
          cover_letter: coverLetter,
          bid_minor: toMinor(bid) ?? null,
          estimated_hours: hours ? Number(hours) : null,
        },
      }),
    );
    setSent(true);
    setOpen(false);
    onApplied();
  });
  if (sent)
    return (
      <p role="status" class="notice">
        Application sent. Follow it under <a href="/applications">My applications</a>.
      </p>
    );
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Apply
      </button>
    );
  return (
    <form
      class="panel"
      onSubmit={(e) => {
        e.preventDefault();
        void send.run();
      }}
    >
      <h2>Apply for this job</h2>
      <label>
        Cover letter
        <textarea rows={5} maxLength={5000} value={coverLetter} onInput={(e) => setCoverLetter(e.currentTarget.value)} />
      </label>
      <label>
        Bid ({job.currency}, optional)
        <input type="number" min="0.01" step="0.01" value={bid} onInput={(e) => setBid(e.currentTarget.value)} />
      </label>
      <label>
        Estimated hours (optional)
        <input type="number" min="1" max="10000" step="1" value={hours} onInput={(e) => setHours(e.currentTarget.value)} />
      </label>
      <Alert problem={send.error} />
      <button type="submit" disabled={send.pending}>
        Send application
      </button>
    </form>
  );
}

/** After completion each side reviews the other: the client each hired worker, a hired worker the client. */
function Reviews({ job, me }: { job: Job; me: Account }) {
  const people = useLoad(async () => {
    if (me.id === job.client.id) {
      const hired = unwrap(
        await api.GET("/api/v1/jobs/{job_id}/applications", {
          params: { path: { job_id: job.id }, query: { status: "accepted", limit: 100 } },
        }),
      );
      return hired.items.map((a) => ({ id: a.worker.id, name: a.worker.full_name }));
    }
    if (me.role !== "worker") return [];
    const mine = unwrap(
      await api.GET("/api/v1/users/me/applications", { params: { query: { status: "accepted", limit: 100 } } }),
    );
    return mine.items.some((a) => a.job_id === job.id) ? [{ id: job.client.id, name: job.client.full_name }] : [];
  }, `reviewees-${job.id}-${me.id}`);
  if (people.loading) return <Loading />;
  if (people.error) return <Alert problem={people.error} />;
  const reviewees = people.data ?? [];
  if (reviewees.length === 0) return null;
  return <ReviewForm jobId={job.id} reviewees={reviewees} />;
}

function ReviewForm({ jobId, reviewees }: { jobId: number; reviewees: { id: number; name: string }[] }) {
  const [reviewee, setReviewee] = useState(reviewees[0].id);
  const [stars, setStars] = useState("5");
  const [comment, setComment] = useState("");
  const [done, setDone] = useState<string[]>([]);
  const submit = useAction(async () => {
    unwrap(
      await api.POST("/api/v1/jobs/{job_id}/reviews", {
        params: { path: { job_id: jobId } },
        body: { reviewee_id: reviewee, rating: Number(stars), comment },
      }),
    );
    setDone((d) => [...d, reviewees.find((r) => r.id === reviewee)?.name ?? ""]);
    setComment("");
  });
  return (
    <form
      class="panel"
      onSubmit={(e) => {
        e.preventDefault();
        void submit.run();
      }}
    >
      <h2>Leave a review</h2>
      {done.map((name) => (
        <p role="status" class="notice" key={name}>
          Review of {name} submitted.
        </p>
      ))}
      {reviewees.length > 1 ? (
        <label>
          Person
          <select value={reviewee} onChange={(e) => setReviewee(Number(e.currentTarget.value))}>
            {reviewees.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <p>About {reviewees[0].name}</p>
      )}
      <label>
        Rating
        <select value={stars} onChange={(e) => setStars(e.currentTarget.value)}>
          {["5", "4", "3", "2", "1"].map((n) => (
            <option key={n} value={n}>
              {n} {n === "1" ? "star" : "stars"}
            </option>
          ))}
        </select>
      </label>
      <label>
        Comment
        <textarea rows={3} maxLength={2000} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      </label>
      <Alert problem={submit.error} />
      <button type="submit" disabled={submit.pending}>
        Submit review
      </button>
    </form>
  );
}
