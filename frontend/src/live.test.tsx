// The bell, the live stream behind it, and a message thread updating from it, against a fake API.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Message, Notification } from "./api/types";
import { Bell } from "./pages/Notifications";
import { Thread } from "./pages/Thread";

type Call = { method: string; path: string; headers: Headers; body: string };
let calls: Call[];
let unread: number;
let thread: Message[];
let streams: { push: (text: string) => void; end: () => void }[];
let sendAnswer: Promise<Response> | null;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });

function openStream(): Response {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  streams.push({ push: (text) => controller.enqueue(encoder.encode(text)), end: () => controller.close() });
  return new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

const message = (id: number, body: string, sender = "Wanda Worker"): Message => ({
  id, application_id: 9, sender: { id: 2, full_name: sender }, body, created_at: "2026-03-01T10:00:00Z",
}); // prettier-ignore

const notification = (id: number, applicationId: number): Notification => ({
  id, kind: "message_received", title: "New message", body: "", link: `/applications/${applicationId}`,
  data: { application_id: applicationId }, created_at: "2026-03-01T10:00:00Z", read_at: null,
}); // prettier-ignore

const event = (n: Notification) => `id: ${n.id}\nevent: notification\ndata: ${JSON.stringify(n)}\n\n`;

beforeEach(() => {
  calls = [];
  unread = 0;
  thread = [];
  streams = [];
  sendAnswer = null;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const call = { method: request.method, path: new URL(request.url).pathname, headers: request.headers, body: await request.text() };
      calls.push(call);
      if (call.path === "/api/v1/notifications/stream") return openStream();
      if (call.path === "/api/v1/notifications/unread-count") return json(200, { count: unread });
      if (call.path === "/api/v1/applications/9/messages" && call.method === "GET") return json(200, { items: thread, next_cursor: null });
      if (call.path === "/api/v1/applications/9/messages") return sendAnswer ?? json(201, message(99, JSON.parse(call.body).body, "Me"));
      return json(404, { type: "about:blank", code: "not_found", title: "Not Found", status: 404, detail: "No such thing." });
    }),
  );
});

afterEach(() => {
  cleanup(); // unmounting the bell aborts its stream
  vi.unstubAllGlobals();
});

describe("Bell", () => {
  it("shows the unread count and follows the stream, reconnecting with Last-Event-ID", async () => {
    unread = 2;
    render(<Bell />);
    expect(await screen.findByRole("link", { name: "Notifications, 2 unread" })).toBeTruthy();
    await waitFor(() => expect(streams).toHaveLength(1));
    expect(calls.find((c) => c.path.endsWith("/stream"))!.headers.get("Last-Event-ID")).toBeNull();

    unread = 3;
    streams[0].push(event(notification(41, 9)));
    expect(await screen.findByRole("link", { name: "Notifications, 3 unread" })).toBeTruthy();

    streams[0].end(); // e.g. the access token expired
    await waitFor(() => expect(streams).toHaveLength(2), { timeout: 2000 });
    const reconnect = calls.filter((c) => c.path.endsWith("/stream"))[1];
    expect(reconnect.headers.get("Last-Event-ID")).toBe("41");
  });
});

describe("Thread", () => {
  it("renders messages as text, reloads on a message notification for it, sends once while in flight", async () => {
    thread = [message(1, "<b>not bold</b>\nsecond line")];
    const { container } = render(
      <>
        <Bell />
        <Thread id={9} />
      </>,
    );
    const first = await screen.findByText(/not bold/);
    expect(first.textContent).toBe("<b>not bold</b>\nsecond line");
    expect(container.querySelector("b")).toBeNull();

    // A notification about another application does not reload this thread; one about this one does.
    await waitFor(() => expect(streams).toHaveLength(1));
    const loads = () => calls.filter((c) => c.method === "GET" && c.path === "/api/v1/applications/9/messages").length;
    streams[0].push(event(notification(50, 8)));
    thread = [...thread, message(2, "See you at nine")];
    streams[0].push(event(notification(51, 9)));
    expect(await screen.findByText("See you at nine")).toBeTruthy();
    expect(loads()).toBe(2);

    let answer!: (r: Response) => void;
    sendAnswer = new Promise((r) => (answer = r));
    fireEvent.input(screen.getByLabelText("Message"), { target: { value: "Parking is at the back." } });
    const send = screen.getByRole("button", { name: "Send" });
    fireEvent.click(send);
    await waitFor(() => expect(send).toHaveProperty("disabled", true));
    fireEvent.click(send);
    answer(json(409, { type: "t", code: "thread_closed", title: "Conflict", status: 409, detail: "This thread is closed." }));
    expect((await screen.findByRole("alert")).textContent).toBe("This thread is closed.");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
    expect(JSON.parse(calls.find((c) => c.method === "POST")!.body)).toEqual({ body: "Parking is at the back." });

    sendAnswer = null;
    fireEvent.click(send);
    expect(await screen.findByText("Parking is at the back.")).toBeTruthy();
    expect((screen.getByLabelText("Message") as HTMLTextAreaElement).value).toBe("");
  });
});
