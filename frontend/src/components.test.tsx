import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { LocationProvider } from "preact-iso";
import { describe, expect, it, vi } from "vitest";
import type { Job } from "./api/types";
import { OwnerPanel } from "./owner";
import { Login, Register } from "./pages/Auth";
import { type Call, deferred, json, problem, stubFetch, fake } from "./testing";

stubFetch();

const job: Job = {
  id: 42, title: "Fix the sink", description: "", status: "open",
  category: { id: 1, slug: "handyman", name: "Handyman" }, skills: [], pay_type: "fixed", pay_rate_minor: 10000,
  hours: null, openings: 1, total_cost_minor: 10000, currency: "USD", location: null, starts_at: null, ends_at: null,
  created_at: "2026-01-01T00:00:00Z", hired_count: 0, applications_count: 0, funded: false, escrow_status: "none",
  client: { id: 1, full_name: "Carla", rating_avg: null }, updated_at: "2026-01-01T00:00:00Z", completed_at: null,
  cancelled_at: null, shifts: [],
}; // prettier-ignore

const listsAreEmpty = (call: Call) =>
  call.path.endsWith("/best-applicants") ? json(200, []) : json(200, { items: [], next_cursor: null });

describe("Login", () => {
  it("has the labelled fields, disables the button in flight and shows the problem's detail", async () => {
    const answer = deferred();
    fake.serve = () => answer.promise;
    render(
      <LocationProvider>
        <Login />
      </LocationProvider>,
    );
    fireEvent.input(screen.getByLabelText("Email"), { target: { value: "a@example.com" } });
    fireEvent.input(screen.getByLabelText("Password"), { target: { value: "wrong-password" } });
    const button = screen.getByRole("button", { name: "Sign in" });
    fireEvent.click(button);
    await waitFor(() => expect(button).toHaveProperty("disabled", true));
    fireEvent.click(button);
    answer.resolve(problem(401, "invalid_credentials", "Incorrect email or password."));
    expect((await screen.findByRole("alert")).textContent).toBe("Incorrect email or password.");
    expect(button).toHaveProperty("disabled", false);
    expect(fake.calls.filter((c) => c.path === "/api/v1/auth/session")).toHaveLength(1);
    expect(JSON.parse(fake.calls[0].body)).toEqual({ email: "a@example.com", password: "wrong-password" });
    expect(fake.calls[0].headers.get("Content-Type")).toBe("application/json");
  });
});

describe("Register", () => {
  it("offers Full name, Email, Password, Client/Worker and Create account", () => {
    render(
      <LocationProvider>
        <Register />
      </LocationProvider>,
    );
    for (const name of ["Full name", "Email", "Password", "Client", "Worker"]) expect(screen.getByLabelText(name)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Create account" })).toBeTruthy();
  });
});

describe("OwnerPanel", () => {
  it("a double click on Fund escrow sends one payment, with an Idempotency-Key", async () => {
    const payment = deferred();
    fake.serve = (call) => (call.path.endsWith("/payments") ? payment.promise : listsAreEmpty(call));
    const onChange = vi.fn();
    render(<OwnerPanel job={job} onChange={onChange} />);
    const fund = screen.getByRole("button", { name: "Fund escrow" });
    // Two clicks before any re-render (native clicks, no act() flush), then one on the disabled button.
    fund.click();
    fund.click();
    await waitFor(() => expect(fund).toHaveProperty("disabled", true));
    fireEvent.click(fund);
    payment.resolve(json(201, { id: 1 }));
    await waitFor(() => expect(onChange).toHaveBeenCalledTimes(1));
    const payments = fake.calls.filter((c) => c.path === "/api/v1/jobs/42/payments");
    expect(payments).toHaveLength(1);
    expect(payments[0].headers.get("Idempotency-Key")).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(JSON.parse(payments[0].body)).toEqual({ amount_minor: 10000 });
  });

  it("reuses the Idempotency-Key when the payment is retried, and shows the problem", async () => {
    let attempt = 0;
    fake.serve = (call) => {
      if (!call.path.endsWith("/payments")) return listsAreEmpty(call);
      attempt += 1;
      if (attempt === 1) throw new TypeError("network down");
      return problem(409, "job_already_funded", "This job is funded already.");
    };
    render(<OwnerPanel job={job} onChange={() => {}} />);
    const fund = screen.getByRole("button", { name: "Fund escrow" });
    fireEvent.click(fund);
    expect((await screen.findByRole("alert")).textContent).toMatch(/could not be reached/);
    fireEvent.click(fund);
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("This job is funded already."));
    const keys = fake.calls.filter((c) => c.path.endsWith("/payments")).map((c) => c.headers.get("Idempotency-Key"));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBeTruthy();
    expect(keys[1]).toBe(keys[0]);
  });

  it("lists best applicants in the API's order with their scores and Accept/Reject", async () => {
    const worker = (id: number, name: string) => ({
      id: id, job_id: 42, worker_id: id, status: "pending", cover_letter: "", bid_minor: null, estimated_hours: null,
      created_at: "2026-01-01T00:00:00Z", decided_at: null,
      worker: { id, full_name: name, headline: null, city: null, rating_avg: null, rating_count: 0, completed_jobs: 0 },
    }); // prettier-ignore
    const parts = { rating: 0.5, skills: 1, distance: 0.5, experience: 0, reliability: 1 };
    const reliability = { attended: 0, no_shows: 0, late_cancellations: 0, score: 1 };
    fake.serve = (call) =>
      call.path.endsWith("/best-applicants")
        ? json(200, [
            { score: 70.25, parts, distance_km: null, reliability, application: worker(5, "Bea Best") },
            { score: 41.5, parts, distance_km: null, reliability, application: worker(6, "Sam Second") },
          ])
        : json(200, { items: [], next_cursor: null });
    render(<OwnerPanel job={job} onChange={() => {}} />);
    await screen.findByText("Bea Best");
    const rows = screen.getAllByRole("row").slice(1);
    expect(rows.map((r) => r.querySelector("th")?.textContent)).toEqual(["Bea Best", "Sam Second"]);
    expect(rows.map((r) => r.querySelector(".score")?.textContent)).toEqual(["70.3", "41.5"]);
    expect(screen.getAllByRole("button", { name: "Accept" })).toHaveLength(2);
    expect(screen.getAllByRole("button", { name: "Reject" })).toHaveLength(2);
  });
});
