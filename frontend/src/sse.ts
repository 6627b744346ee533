// Server-sent events read from a fetch response body (EventSource cannot send the bearer header, and a
// token in a URL would end up in logs), with reconnects that resume from the last event id.

export type ServerEvent = { id: string | null; event: string; data: string };

/** The events of an SSE body as they arrive (the text/event-stream format; comments are skipped). */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let id: string | null = null;
  let event = "";
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // A line ends at \r\n, \n or \r; a \r at the end of the buffer may be the first half of a \r\n.
      let match: RegExpExecArray | null;
      while ((match = /\r\n|\n|\r(?=[^\n])/.exec(buffer)) !== null) {
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === "") {
          if (data.length > 0) yield { id, event: event || "message", data: data.join("\n") };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(value);
        else if (field === "event") event = value;
        else if (field === "id" && !value.includes("\0")) id = value;
      }
      if (done) return; // an event without its closing blank line is incomplete: dropped, as the format says
    }
  } finally {
    reader.releaseLock();
  }
}

/** Opens the stream, resuming after `lastEventId` when there is one; answers the response's status and body. */
export type StreamOpener = (
  lastEventId: string | null,
  signal: AbortSignal,
) => Promise<{ status: number; body: ReadableStream<Uint8Array> | null }>;

export type FollowOptions = {
  /** Wait before reconnecting after a stream ended normally (token expiry, server shutdown). */
  reconnectMs?: number;
  /** First wait after a failed attempt (network error, 5xx); doubled per failure up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
};

/**
 * Read the stream until `signal` aborts: every event goes to `onEvent`; when the stream ends it is opened
 * again with `Last-Event-ID` (the server replays what was missed). Stops on a 401/403: the session is over.
 */
export async function follow(
  open: StreamOpener,
  onEvent: (event: ServerEvent) => void,
  signal: AbortSignal,
  { reconnectMs = 500, retryMs = 1000, maxRetryMs = 30_000 }: FollowOptions = {},
): Promise<void> {
  let lastEventId: string | null = null;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const { status, body } = await open(lastEventId, signal);
      if (status === 401 || status === 403) return;
      if (status >= 200 && status < 300 && body) {
        failures = 0;
        for await (const event of readEvents(body)) {
          if (event.id !== null) lastEventId = event.id;
          onEvent(event);
        }
      } else {
        failures += 1;
      }
    } catch {
      if (signal.aborted) return;
      failures += 1;
    }
    await sleep(failures === 0 ? reconnectMs : Math.min(retryMs * 2 ** (failures - 1), maxRetryMs), signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
