// An application and its message thread (its worker and the job's owner), live: a `message_received`
// notification about this application reloads the thread. Messages are plain text, rendered as text.
import { useEffect, useRef, useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { api, problemOf, unwrap } from "../api/client";
import type { ApplicationDetail, Message, Problem } from "../api/types";
import { Alert, Loading, SignedIn, StatusBadge } from "../components";
import { date, dateTime, money } from "../format";
import { useAction, useLoad } from "../hooks";
import { onNotification } from "../notifications";
import { useMe } from "../session";

export function ThreadPage() {
  const { params } = useRoute();
  return (
    <SignedIn>
      <ApplicationThread id={Number(params.id)} />
    </SignedIn>
  );
}

function ApplicationThread({ id }: { id: number }) {
  const application = useLoad(
    async () => unwrap(await api.GET("/api/v1/applications/{application_id}", { params: { path: { application_id: id } } })),
    `application-${id}`,
  );
  if (application.loading && !application.data) return <Loading />;
  if (application.error) return <Alert problem={application.error} />;
  const a = application.data!;
  return (
    <section>
      <h1>
        Application for <a href={`/jobs/${a.job.id}`}>{a.job.title}</a>
      </h1>
      <ApplicationFacts application={a} />
      <Thread id={id} />
    </section>
  );
}

function ApplicationFacts({ application: a }: { application: ApplicationDetail }) {
  const currency = useMe()?.currency ?? "USD";
  return (
    <dl class="facts">
      <dt>Worker</dt>
      <dd>
        <a href={`/users/${a.worker.id}`}>{a.worker.full_name}</a>
      </dd>
      <dt>Status</dt>
      <dd>
        <StatusBadge status={a.status} />
      </dd>
      <dt>Applied</dt>
      <dd>{date(a.created_at)}</dd>
      {a.bid_minor ? (
        <>
          <dt>Bid</dt>
          <dd>{money(a.bid_minor, currency)}</dd>
        </>
      ) : null}
      {a.cover_letter ? (
        <>
          <dt>Cover letter</dt>
          <dd class="description">{a.cover_letter}</dd>
        </>
      ) : null}
    </dl>
  );
}

async function loadThread(id: number): Promise<Message[]> {
  const all: Message[] = [];
  let cursor: string | undefined;
  do {
    const page = unwrap(
      await api.GET("/api/v1/applications/{application_id}/messages", {
        params: { path: { application_id: id }, query: { limit: 100, cursor } },
      }),
    );
    all.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return all;
}

export function Thread({ id }: { id: number }) {
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [loadError, setLoadError] = useState<Problem | null>(null);
  const [body, setBody] = useState("");
  const round = useRef(0); // only the newest load is shown
  useEffect(() => {
    const reload = () => {
      const mine = ++round.current;
      loadThread(id).then(
        (all) => {
          if (mine !== round.current) return;
          setMessages(all);
          setLoadError(null);
        },
        (e: unknown) => mine === round.current && setLoadError(problemOf(e)),
      );
    };
    reload();
    const stop = onNotification((n) => {
      if (n.kind === "message_received" && n.data.application_id === id) reload();
    });
    return () => {
      round.current += 1;
      stop();
    };
  }, [id]);
  const send = useAction(async () => {
    const sent = unwrap(
      await api.POST("/api/v1/applications/{application_id}/messages", {
        params: { path: { application_id: id } },
        body: { body },
      }),
    );
    setMessages((old) => [...(old ?? []).filter((m) => m.id !== sent.id), sent]);
    setBody("");
  });

  return (
    <section aria-labelledby="thread-heading">
      <h2 id="thread-heading">Messages</h2>
      <Alert problem={loadError} />
      {messages === null ? (
        loadError ? null : <Loading />
      ) : (
        <div role="log" aria-label="Conversation">
          {messages.length === 0 ? <p class="muted">No messages yet.</p> : null}
          <ol class="plain thread">
            {messages.map((m) => (
              <li key={m.id}>
                <strong>{m.sender.full_name}</strong> <span class="muted">{dateTime(m.created_at)}</span>
                <p class="message">{m.body}</p>
              </li>
            ))}
          </ol>
        </div>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send.run();
        }}
      >
        <label>
          Message
          <textarea rows={3} required minLength={1} maxLength={2000} value={body} onInput={(e) => setBody(e.currentTarget.value)} />
        </label>
        <Alert problem={send.error} />
        <button type="submit" disabled={send.pending}>
          Send
        </button>
      </form>
    </section>
  );
}
