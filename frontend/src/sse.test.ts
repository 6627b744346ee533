import { describe, expect, it } from "vitest";
import { follow, readEvents, type ServerEvent, type StreamOpener } from "./sse";

const encoder = new TextEncoder();

/** A body delivering `chunks` one read at a time, then ending. */
function body(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
  });
}

async function all(stream: ReadableStream<Uint8Array>): Promise<ServerEvent[]> {
  const events: ServerEvent[] = [];
  for await (const e of readEvents(stream)) events.push(e);
  return events;
}

describe("readEvents", () => {
  it("parses id, event and data, skipping comments, across chunk boundaries", async () => {
    const events = await all(
      body(": connected\n\n", "id: 4", "2\nevent: notifi", 'cation\ndata: {"id": 42}\n', "\n: heartbeat\n\n"),
    );
    expect(events).toEqual([{ id: "42", event: "notification", data: '{"id": 42}' }]);
  });

  it("joins multi-line data, reads CRLF and CR line ends, and defaults the event type to message", async () => {
    const events = await all(body("data: one\r\ndata: two\r", "\n\r\nid: 7\rdata:x\r\r", "data: last\n\n"));
    expect(events).toEqual([
      { id: null, event: "message", data: "one\ntwo" },
      { id: "7", event: "message", data: "x" },
      { id: "7", event: "message", data: "last" }, // the last event id stays until another one comes
    ]);
  });

  it("drops an event cut off before its blank line", async () => {
    expect(await all(body("id: 1\ndata: whole\n\nid: 2\ndata: cut"))).toEqual([
      { id: "1", event: "message", data: "whole" },
    ]);
  });

  it("decodes a multi-byte character split between chunks", async () => {
    const bytes = encoder.encode("data: café\n\n");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 9)); // "data: caf" + the first byte of "é"
        controller.enqueue(bytes.slice(9));
        controller.close();
      },
    });
    expect((await all(stream)).map((e) => e.data)).toEqual(["café"]);
  });
});

describe("follow", () => {
  const fast = { reconnectMs: 1, retryMs: 1, maxRetryMs: 4 };

  it("reconnects with the last event id when the stream ends, and hands every event over", async () => {
    const asked: (string | null)[] = [];
    const stop = new AbortController();
    const streams = [
      body('id: 5\nevent: notification\ndata: {"id":5}\n\n', 'id: 6\nevent: notification\ndata: {"id":6}\n\n'),
      body(": connected\n\n"), // a stream that ends without events keeps the last id
      body('id: 9\nevent: notification\ndata: {"id":9}\n\n'),
    ];
    const open: StreamOpener = async (lastEventId) => {
      asked.push(lastEventId);
      const next = streams.shift();
      if (!next) stop.abort();
      return { status: 200, body: next ?? body() };
    };
    const seen: string[] = [];
    await follow(open, (e) => seen.push(e.data), stop.signal, fast);
    expect(asked).toEqual([null, "6", "6", "9"]);
    expect(seen).toEqual(['{"id":5}', '{"id":6}', '{"id":9}']);
  });

  it("retries after network errors and server errors, keeping the id, and stops on a 401", async () => {
    const asked: (string | null)[] = [];
    const answers: (() => { status: number; body: ReadableStream<Uint8Array> | null })[] = [
      () => ({ status: 200, body: body("id: 3\ndata: a\n\n") }),
      () => {
        throw new TypeError("network down");
      },
      () => ({ status: 503, body: body() }),
      () => ({ status: 401, body: null }),
    ];
    const open: StreamOpener = async (lastEventId) => {
      asked.push(lastEventId);
      return answers.shift()!();
    };
    await follow(open, () => {}, new AbortController().signal, fast);
    expect(asked).toEqual([null, "3", "3", "3"]);
  });

  it("stops when aborted while waiting to reconnect", async () => {
    const stop = new AbortController();
    let opened = 0;
    const open: StreamOpener = async () => {
      opened += 1;
      setTimeout(() => stop.abort(), 5);
      return { status: 200, body: body() };
    };
    await follow(open, () => {}, stop.signal, { reconnectMs: 60_000 });
    expect(opened).toBe(1);
  });
});
