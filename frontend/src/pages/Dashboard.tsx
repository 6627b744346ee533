import { useState } from "preact/hooks";
import { api, unwrap } from "../api/client";
import type { Account, Job, JobStatus } from "../api/types";
import { Alert, Loading, SignedIn, StatusBadge } from "../components";
import { label, money } from "../format";
import { useLoad } from "../hooks";
import { OwnerPanel } from "../owner";
import { useMe } from "../session";

const STATUSES: JobStatus[] = ["open", "in_progress", "completed", "cancelled"];

export function Dashboard() {
  return (
    <SignedIn role="client">
      <MyJobs me={useMe()!} />
    </SignedIn>
  );
}

function MyJobs({ me }: { me: Account }) {
  const jobs = useLoad(async () => {
    const all: Job[] = [];
    let cursor: string | undefined;
    do {
      const page = unwrap(
        await api.GET("/api/v1/users/{user_id}/jobs", { params: { path: { user_id: me.id }, query: { limit: 100, cursor } } }),
      );
      all.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor && all.length < 500);
    return all;
  }, `jobs-${me.id}`);
  if (jobs.loading && !jobs.data) return <Loading />;
  if (jobs.error) return <Alert problem={jobs.error} />;
  const list = jobs.data ?? [];
  return (
    <section>
      <h1>My jobs</h1>
      <p>
        <a class="button" href="/jobs/new">
          Post a job
        </a>
      </p>
      {STATUSES.map((status) => {
        const group = list.filter((j) => j.status === status);
        return (
          <section key={status} aria-labelledby={`jobs-${status}`}>
            <h2 id={`jobs-${status}`}>
              {label(status)} ({group.length})
            </h2>
            {group.length === 0 ? <p class="muted">None.</p> : null}
            {group.map((job) => (
              <JobRow key={job.id} job={job} onChange={jobs.reload} />
            ))}
          </section>
        );
      })}
    </section>
  );
}

function JobRow({ job, onChange }: { job: Job; onChange: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <details class="job-row" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <span class="title">{job.title}</span> <StatusBadge status={job.status} />{" "}
        <span class="muted">
          {money(job.total_cost_minor, job.currency)} · {job.applications_count} applications · hired {job.hired_count}/
          {job.openings}
          {job.funded ? " · funded" : ""}
        </span>
      </summary>
      <p>
        <a href={`/jobs/${job.id}`}>Open the job page</a>
      </p>
      {open ? <OwnerPanel job={job} onChange={onChange} /> : null}
    </details>
  );
}
