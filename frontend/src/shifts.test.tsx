import { fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import type { Job, Notification, Timesheet } from "./api/types";
import { MyBooking, Timesheets } from "./shifts";
import { type Call, deferred, fake, json, problem, stubFetch } from "./testing";

// The live stream's notifications, delivered by the test (src/notifications.ts is tested in live.test.tsx).
const listeners = vi.hoisted(() => new Set<(n: Notification) => void>());
vi.mock("./notifications", () => ({
  onNotification: (listener: (n: Notification) => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
}));
const deliver = (kind: Notification["kind"], jobId: number) =>
  listeners.forEach((l) =>
    l({ id: 1, kind, title: "", body: "", link: `/jobs/${jobId}`, data: { job_id: jobId }, created_at: "", read_at: null }),
  );

stubFetch();

const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
const soon = { id: 7, starts_at: inMinutes(10), ends_at: inMinutes(70) };
const started = { id: 8, starts_at: inMinutes(-45), ends_at: inMinutes(15) };

const job: Job = {
  id: 42, title: "Stock the shelves", description: "", status: "in_progress",
  category: { id: 1, slug: "retail", name: "Retail" }, skills: [], pay_type: "hourly", pay_rate_minor: 2000,
  hours: 2, openings: 1, total_cost_minor: 4000, currency: "USD", location: { city: "Berlin", lat: 52.52, lng: 13.405 },
  starts_at: soon.starts_at, ends_at: started.ends_at, created_at: "2026-01-01T00:00:00Z", hired_count: 1,
  applications_count: 1, funded: true, escrow_status: "held", client: { id: 1, full_name: "Carla", rating_avg: null },
  updated_at: "2026-01-01T00:00:00Z", completed_at: null, cancelled_at: null, shifts: [soon, started],
}; // prettier-ignore

function sheet(fields: Partial<Timesheet>): Timesheet {
  return {
    id: 100, shift_id: soon.id, worker: { id: 5, full_name: "Wanda Worker" }, status: "scheduled",
    scheduled_minutes: 60, checked_in_at: null, checked_out_at: null, recorded_minutes: null, submitted_at: null,
    claimed_minutes: null, approved_minutes: null, note: null, dispute_id: null, ...fields,
  }; // prettier-ignore
}

/** Timesheets as given, and `write` for every POST (200 with the sheet by default). */
function serveSheets(sheets: Timesheet[], write: (call: Call) => Response | Promise<Response> = () => json(200, {})) {
  fake.serve = (call) => (call.method === "GET" ? json(200, { items: sheets }) : write(call));
}

const posts = () => fake.calls.filter((c) => c.method === "POST");

function stubPosition(answer: "granted" | "refused") {
  vi.stubGlobal("navigator", {
    ...navigator,
    geolocation: {
      getCurrentPosition: (ok: PositionCallback, fail: PositionErrorCallback) =>
        answer === "granted"
          ? ok({ coords: { latitude: 52.5201, longitude: 13.4049 } } as GeolocationPosition)
          : fail({ code: 1, message: "User denied Geolocation" } as GeolocationPositionError),
    },
  });
}

describe("Timesheets, for the hired worker", () => {
  it("checks in with the browser's position, and shows the status as text", async () => {
    stubPosition("granted");
    serveSheets([sheet({})]);
    render(<Timesheets job={job} owner={false} />);
    const row = (await screen.findByText("scheduled")).closest("tr")!;
    fireEvent.click(within(row).getByRole("button", { name: "Check in" }));
    await waitFor(() => expect(posts()).toHaveLength(1));
    expect(posts()[0].path).toBe("/api/v1/shifts/7/check-in");
    expect(JSON.parse(posts()[0].body)).toEqual({ lat: 52.5201, lng: 13.4049 });
    await waitFor(() => expect(fake.calls.filter((c) => c.method === "GET")).toHaveLength(2)); // reloaded
    expect(screen.queryByRole("columnheader", { name: "Worker" })).toBeNull();
  });

  it("says clearly that location access was refused, and sends nothing", async () => {
    stubPosition("refused");
    serveSheets([sheet({ status: "checked_in", checked_in_at: inMinutes(-5) })]);
    render(<Timesheets job={job} owner={false} />);
    const checkOut = await screen.findByRole("button", { name: "Check out" });
    fireEvent.click(checkOut);
    expect((await screen.findByRole("alert")).textContent).toMatch(/^Location access was refused\./);
    expect(posts()).toHaveLength(0);
    expect(checkOut).toHaveProperty("disabled", false);
  });

  it("submits the minutes worked and a note, one request however often it is clicked", async () => {
    const answer = deferred();
    serveSheets([sheet({ status: "checked_out", recorded_minutes: 58 })], () => answer.promise);
    render(<Timesheets job={job} owner={false} />);
    const minutes = await screen.findByLabelText("Minutes worked");
    expect(minutes).toHaveProperty("value", "58");
    fireEvent.input(minutes, { target: { value: "55" } });
    fireEvent.input(screen.getByLabelText("Note"), { target: { value: "Left early, agreed." } });
    const submit = screen.getByRole("button", { name: "Submit hours" });
    submit.click();
    submit.click();
    await waitFor(() => expect(submit).toHaveProperty("disabled", true));
    answer.resolve(problem(409, "conflict", "This timesheet is submitted already."));
    expect((await screen.findByRole("alert")).textContent).toBe("This timesheet is submitted already.");
    expect(posts().map((c) => c.path)).toEqual(["/api/v1/timesheets/100/submit"]);
    expect(JSON.parse(posts()[0].body)).toEqual({ minutes: 55, note: "Left early, agreed." });
  });

  it("offers Cancel my booking on the accepted application", async () => {
    vi.stubGlobal("confirm", () => true);
    const application = { id: 31, job_id: 42, status: "accepted" };
    const onChange = vi.fn();
    fake.serve = (call) =>
      call.path === "/api/v1/users/me/applications"
        ? json(200, { items: [{ ...application, job_id: 41, id: 30 }, application], next_cursor: null })
        : call.method === "GET"
          ? json(200, { items: [] })
          : json(200, {});
    render(<MyBooking job={job} onChange={onChange} />);
    fireEvent.click(await screen.findByRole("button", { name: "Cancel my booking" }));
    await waitFor(() => expect(onChange).toHaveBeenCalledTimes(1));
    expect(posts().map((c) => c.path)).toEqual(["/api/v1/applications/31/cancel"]);
  });

  it("shows nothing to a worker not hired on the job", async () => {
    fake.serve = () => json(200, { items: [{ id: 30, job_id: 41, status: "accepted" }], next_cursor: null });
    const { container } = render(<MyBooking job={job} onChange={() => {}} />);
    await waitFor(() => expect(container.textContent).toBe(""));
    expect(fake.calls.map((c) => c.path)).toEqual(["/api/v1/users/me/applications"]);
  });
});

describe("Timesheets, for the job's owner", () => {
  const submitted = sheet({ status: "submitted", recorded_minutes: 58, claimed_minutes: 58, note: "All done" });

  it("approves a submitted timesheet, with every button of the row disabled in flight", async () => {
    const answer = deferred();
    serveSheets([submitted], () => answer.promise);
    render(<Timesheets job={job} owner />);
    const row = (await screen.findByText("Wanda Worker")).closest("tr")!;
    expect(row.textContent).toContain("submitted");
    expect(row.textContent).toContain("claimed 58");
    const approve = within(row).getByRole("button", { name: "Approve" });
    approve.click();
    approve.click();
    await waitFor(() => expect(approve).toHaveProperty("disabled", true));
    answer.resolve(json(200, {}));
    await waitFor(() => expect(fake.calls.filter((c) => c.method === "GET")).toHaveLength(2));
    expect(posts().map((c) => c.path)).toEqual(["/api/v1/timesheets/100/approve"]);
  });

  it("disputes with proposed minutes and a reason", async () => {
    serveSheets([submitted], () => json(201, { id: 9 }));
    render(<Timesheets job={job} owner />);
    fireEvent.click(await screen.findByRole("button", { name: "Dispute" }));
    fireEvent.input(screen.getByLabelText("Proposed minutes"), { target: { value: "30" } });
    fireEvent.input(screen.getByLabelText("Reason"), { target: { value: "Arrived half an hour late." } });
    fireEvent.click(screen.getByRole("button", { name: "Send dispute" }));
    await waitFor(() => expect(posts()).toHaveLength(1));
    expect(posts()[0].path).toBe("/api/v1/timesheets/100/dispute");
    expect(JSON.parse(posts()[0].body)).toEqual({ proposed_minutes: 30, reason: "Arrived half an hour late." });
  });

  it("marks a no-show once the shift has started, never before", async () => {
    serveSheets([sheet({ id: 101, shift_id: soon.id }), sheet({ id: 102, shift_id: started.id })]);
    render(<Timesheets job={job} owner />);
    const buttons = await screen.findAllByRole("button", { name: "Mark no-show" });
    expect(buttons).toHaveLength(1);
    fireEvent.click(buttons[0]);
    await waitFor(() => expect(posts().map((c) => c.path)).toEqual(["/api/v1/timesheets/102/no-show"]));
  });
});

describe("Timesheets, live", () => {
  it("reload when a notification about this job's timesheets arrives, and only then", async () => {
    serveSheets([sheet({})]);
    const { unmount } = render(<Timesheets job={job} owner />);
    await screen.findByText("scheduled");
    const gets = () => fake.calls.filter((c) => c.method === "GET").length;
    expect(gets()).toBe(1);
    deliver("checked_in", job.id);
    await waitFor(() => expect(gets()).toBe(2));
    deliver("timesheet_approved", job.id + 1); // another job's
    deliver("message_received", job.id); // not about timesheets
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(gets()).toBe(2);
    unmount();
    expect(listeners.size).toBe(0); // it stops listening when it leaves the page
  });
});
