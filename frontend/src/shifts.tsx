// Shift work on the job page: the schedule, the timesheets (a hired worker's own, the owner's all, reloaded
// live when the other side acts on them), and a hired worker's "Cancel my booking".
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, unwrap } from "./api/client";
import type { Job, MyApplication, Notification, Position, Shift, Timesheet } from "./api/types";
import { Alert, Loading, StatusBadge } from "./components";
import { span } from "./format";
import { useAction, useLoad } from "./hooks";
import { onNotification } from "./notifications";

/** The notifications that tell of a change to a job's timesheets (by the other side, or the scheduler). */
const TIMESHEET_KINDS: ReadonlySet<Notification["kind"]> = new Set([
  "checked_in",
  "checked_out",
  "timesheet_submitted",
  "timesheet_approved",
  "timesheet_disputed",
  "no_show",
  "dispute_resolved",
]);

export function ShiftList({ shifts }: { shifts: Shift[] }) {
  return (
    <ol class="shifts">
      {shifts.map((s) => (
        <li key={s.id}>{span(s.starts_at, s.ends_at)}</li>
      ))}
    </ol>
  );
}

/** Where the browser says this device is; a refusal or failure is thrown as a problem the page shows. */
export function currentPosition(): Promise<Position> {
  return new Promise((resolve, reject) => {
    const fail = (detail: string) =>
      reject(new ApiError({ type: "about:blank", code: "location_unavailable", title: "No location", status: 0, detail }));
    if (!navigator.geolocation) {
      fail("This browser cannot share your location, and checking in or out needs it.");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lng: p.coords.longitude }),
      (e) =>
        fail(
          e.code === 1
            ? "Location access was refused. Checking in or out needs your location (the job checks that you are on site): allow it for this site and try again."
            : "Your location is not available right now. Try again in a moment.",
        ),
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 60_000 },
    );
  });
}

/** A hired worker's part of a job: their timesheets and the way out. Nothing for anyone not hired on it. */
export function MyBooking({ job, onChange }: { job: Job; onChange: () => void }) {
  const booking = useLoad(() => acceptedApplication(job.id), `booking-${job.id}-${job.hired_count}`);
  if (booking.loading && booking.data === undefined) return <Loading />;
  if (booking.error) return <Alert problem={booking.error} />;
  const application = booking.data;
  if (!application) return null;
  return (
    <section class="panel" aria-labelledby="my-booking">
      <h2 id="my-booking">My booking</h2>
      {job.shifts.length ? <Timesheets job={job} owner={false} /> : <p>You are hired on this job.</p>}
      {job.status === "open" || job.status === "in_progress" ? (
        <CancelBooking job={job} application={application} onChange={onChange} />
      ) : null}
    </section>
  );
}

async function acceptedApplication(jobId: number): Promise<MyApplication | null> {
  let cursor: string | null = null;
  do {
    const query: { status: "accepted"; limit: number; cursor?: string } = { status: "accepted", limit: 100 };
    if (cursor) query.cursor = cursor;
    const page = unwrap(await api.GET("/api/v1/users/me/applications", { params: { query } }));
    const mine = page.items.find((a) => a.job_id === jobId);
    if (mine) return mine;
    cursor = page.next_cursor ?? null;
  } while (cursor);
  return null;
}

function CancelBooking({ job, application, onChange }: { job: Job; application: MyApplication; onChange: () => void }) {
  const cancel = useAction(async () => {
    const late = job.shifts.length ? " Close to the first shift it counts as a late cancellation in your reliability." : "";
    if (!confirm(`Cancel your booking on “${job.title}”?${late}`)) return;
    unwrap(
      await api.POST("/api/v1/applications/{application_id}/cancel", {
        params: { path: { application_id: application.id } },
      }),
    );
    onChange();
  });
  return (
    <>
      <button type="button" class="danger" onClick={() => void cancel.run()} disabled={cancel.pending}>
        Cancel my booking
      </button>
      <Alert problem={cancel.error} />
    </>
  );
}

/** The job's timesheets: the owner sees everyone's and reviews them, a hired worker sees and fills their own. */
export function Timesheets({ job, owner }: { job: Job; owner: boolean }) {
  const list = useLoad(
    async () =>
      unwrap(await api.GET("/api/v1/jobs/{job_id}/timesheets", { params: { path: { job_id: job.id } } })).items,
    `timesheets-${job.id}-${job.hired_count}`,
  );
  const { reload } = list; // (its state setter is stable: the first render's reload does)
  useEffect(
    () =>
      onNotification((n) => {
        if (TIMESHEET_KINDS.has(n.kind) && n.data.job_id === job.id) reload();
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [job.id],
  );
  if (list.loading && list.data === undefined) return <Loading />;
  if (list.error) return <Alert problem={list.error} />;
  const sheets = list.data ?? [];
  const shifts = new Map(job.shifts.map((s) => [s.id, s]));
  return (
    <>
      <h3>Timesheets</h3>
      {sheets.length === 0 ? (
        <p class="muted">No timesheets yet: each hired worker gets one per shift.</p>
      ) : (
        <table class="timesheets">
          <thead>
            <tr>
              <th scope="col">Shift</th>
              {owner ? <th scope="col">Worker</th> : null}
              <th scope="col">Status</th>
              <th scope="col">Minutes</th>
              <th scope="col">Note</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {sheets.map((sheet) => (
              <TimesheetRow key={sheet.id} sheet={sheet} shift={shifts.get(sheet.shift_id)} owner={owner} onChange={list.reload} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

type RowProps = { sheet: Timesheet; shift: Shift | undefined; owner: boolean; onChange: () => void };

function TimesheetRow({ sheet, shift, owner, onChange }: RowProps) {
  // One request at a time per row: every button of the row is disabled while any of them is in flight.
  const act = useAction(async (send: () => Promise<unknown>) => {
    await send();
    onChange();
  });
  const controls = { busy: act.pending, run: (send: () => Promise<unknown>) => void act.run(send) };
  return (
    <tr>
      <th scope="row">{shift ? span(shift.starts_at, shift.ends_at) : `Shift ${sheet.shift_id}`}</th>
      {owner ? (
        <td>
          <a href={`/users/${sheet.worker.id}`}>{sheet.worker.full_name}</a>
        </td>
      ) : null}
      <td>
        <StatusBadge status={sheet.status} />
        {sheet.dispute_id !== null ? <span class="muted"> (dispute {sheet.dispute_id})</span> : null}
      </td>
      <td>
        <Minutes sheet={sheet} />
      </td>
      <td>{sheet.note ?? ""}</td>
      <td>
        {owner ? <OwnerActions sheet={sheet} shift={shift} {...controls} /> : <WorkerActions sheet={sheet} {...controls} />}
        <Alert problem={act.error} />
      </td>
    </tr>
  );
}

function Minutes({ sheet }: { sheet: Timesheet }) {
  const parts = [`scheduled ${sheet.scheduled_minutes}`];
  if (sheet.recorded_minutes !== null) parts.push(`recorded ${sheet.recorded_minutes}`);
  if (sheet.claimed_minutes !== null) parts.push(`claimed ${sheet.claimed_minutes}`);
  if (sheet.approved_minutes !== null) parts.push(`approved ${sheet.approved_minutes}`);
  return <>{parts.join(" · ")}</>;
}

type Controls = { busy: boolean; run: (send: () => Promise<unknown>) => void };

function WorkerActions({ sheet, busy, run }: { sheet: Timesheet } & Controls) {
  const [minutes, setMinutes] = useState(String(sheet.recorded_minutes ?? sheet.scheduled_minutes));
  const [note, setNote] = useState("");
  const shift = { params: { path: { shift_id: sheet.shift_id } } };
  if (sheet.status === "scheduled" || sheet.status === "checked_in") {
    const checkIn = sheet.status === "scheduled";
    const url = checkIn ? "/api/v1/shifts/{shift_id}/check-in" : "/api/v1/shifts/{shift_id}/check-out";
    return (
      <button
        type="button"
        disabled={busy}
        onClick={() => run(async () => unwrap(await api.POST(url, { ...shift, body: await currentPosition() })))}
      >
        {checkIn ? "Check in" : "Check out"}
      </button>
    );
  }
  if (sheet.status !== "checked_out") return null;
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        run(async () =>
          unwrap(
            await api.POST("/api/v1/timesheets/{timesheet_id}/submit", {
              params: { path: { timesheet_id: sheet.id } },
              body: { minutes: Number(minutes), note: note.trim() || null },
            }),
          ),
        );
      }}
    >
      <label>
        Minutes worked
        <input
          type="number"
          required
          min="0"
          max={sheet.scheduled_minutes}
          step="1"
          value={minutes}
          onInput={(e) => setMinutes(e.currentTarget.value)}
        />
      </label>
      <label>
        Note
        <input maxLength={2000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy}>
        Submit hours
      </button>
    </form>
  );
}

function OwnerActions({ sheet, shift, busy, run }: { sheet: Timesheet; shift: Shift | undefined } & Controls) {
  const [disputing, setDisputing] = useState(false);
  const [proposed, setProposed] = useState(String(sheet.claimed_minutes ?? 0));
  const [reason, setReason] = useState("");
  const path = { params: { path: { timesheet_id: sheet.id } } };
  if (sheet.status === "scheduled") {
    // The API decides when the grace period is over; before the start nobody can be a no-show.
    if (!shift || Date.parse(shift.starts_at) > Date.now()) return null;
    return (
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={() => run(async () => unwrap(await api.POST("/api/v1/timesheets/{timesheet_id}/no-show", path)))}
      >
        Mark no-show
      </button>
    );
  }
  if (sheet.status !== "submitted") return null;
  return (
    <>
      <div class="actions">
        <button
          type="button"
          disabled={busy}
          onClick={() => run(async () => unwrap(await api.POST("/api/v1/timesheets/{timesheet_id}/approve", path)))}
        >
          Approve
        </button>
        <button type="button" class="secondary" aria-expanded={disputing} onClick={() => setDisputing(!disputing)}>
          Dispute
        </button>
      </div>
      {disputing ? (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () =>
              unwrap(
                await api.POST("/api/v1/timesheets/{timesheet_id}/dispute", {
                  ...path,
                  body: { proposed_minutes: Number(proposed), reason },
                }),
              ),
            );
          }}
        >
          <label>
            Proposed minutes
            <input
              type="number"
              required
              min="0"
              max={sheet.scheduled_minutes}
              step="1"
              value={proposed}
              onInput={(e) => setProposed(e.currentTarget.value)}
            />
          </label>
          <label>
            Reason
            <textarea required rows={2} maxLength={2000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={busy}>
            Send dispute
          </button>
        </form>
      ) : null}
    </>
  );
}
