import { useState } from "react";
import type { FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../lib/api";
import { formatTime } from "../lib/format";
import { can } from "../lib/session";
import type { User, Webhook } from "../types/api";
import { EventsField, FormatField } from "../components/WebhookFields";
import { Field } from "../components/Field";
import { WebhookEdit } from "../components/WebhookEdit";
import { CopyButton, Empty, ErrorNote, Loading, PageTitle } from "../components/States";

function Deliveries({ id }: { id: number }) {
  const d = useQuery({ queryKey: ["webhooks", id, "deliveries"], queryFn: () => api.deliveries(id), refetchInterval: 5000 });
  if (d.isPending) return <Loading what="deliveries" />;
  if (d.isError) return <ErrorNote error={d.error} />;
  if (d.data.deliveries.length === 0) return <Empty>No deliveries yet.</Empty>;
  return (
    <table className="w-full text-left text-xs">
      <thead className="text-slate-600">
        <tr>
          <th className="pr-3">Event</th>
          <th className="pr-3">Status</th>
          <th className="pr-3">HTTP</th>
          <th className="pr-3">Attempts</th>
          <th className="pr-3">When</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {d.data.deliveries.map((x) => (
          <tr key={x.id}>
            <td className="pr-3">{x.event}</td>
            <td className="pr-3">{x.state}</td>
            <td className="pr-3">{x.status_code ?? "—"}</td>
            <td className="pr-3">{x.attempt}</td>
            <td className="pr-3">{formatTime(x.created_at)}</td>
            <td className="text-red-700">{x.error ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function HookRow({ hook }: { hook: Webhook }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [editing, setEditing] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async (what: () => Promise<unknown>, done: string) => {
    setError(null);
    setNote(null);
    try {
      await what();
      setNote(done);
      await queryClient.invalidateQueries({ queryKey: ["webhooks"] });
    } catch (e) {
      setError(e);
    }
  };
  return (
    <li className="rounded border border-slate-200 p-3" data-testid="webhook">
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <span className="font-mono">{hook.url}</span>
        <span className="text-slate-500">{hook.format}</span>
        <span className={hook.active ? "text-green-700" : "text-slate-500"}>{hook.active ? "active" : "paused"}</span>
        <span className="text-xs text-slate-500">{hook.events.join(", ")}</span>
        <span className="ml-auto flex gap-2">
          <button type="button" className="btn" onClick={() => void run(() => api.testWebhook(hook.id), "Test delivery queued.")}>
            Test
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => void run(() => api.updateWebhook(hook.id, { active: !hook.active }), hook.active ? "Paused." : "Resumed.")}
          >
            {hook.active ? "Pause" : "Resume"}
          </button>
          <button type="button" className="btn" aria-expanded={editing} onClick={() => setEditing((o) => !o)}>
            Edit
          </button>
          <button type="button" className="btn" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            Deliveries
          </button>
          <button
            type="button"
            className="btn-danger"
            onClick={() => {
              if (window.confirm(`Delete the webhook to ${hook.url}?`)) void run(() => api.deleteWebhook(hook.id), "Deleted.");
            }}
          >
            Delete
          </button>
        </span>
      </div>
      {note ? <p className="mt-1 text-sm text-green-700">{note}</p> : null}
      {error ? <ErrorNote error={error} /> : null}
      {editing ? <WebhookEdit hook={hook} onClose={() => setEditing(false)} /> : null}
      {open ? (
        <div className="mt-2">
          <Deliveries id={hook.id} />
        </div>
      ) : null}
    </li>
  );
}

export function WebhooksPage({ user }: { user: User }) {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<string[]>(["job.completed", "job.failed"]);
  const [format, setFormat] = useState<"json" | "slack">("json");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [created, setCreated] = useState<Webhook | null>(null);
  const hooks = useQuery({ queryKey: ["webhooks"], queryFn: () => api.webhooks(), enabled: can(user, "admin") });

  if (!can(user, "admin")) return <ErrorNote error={new Error("Only admins manage webhooks.")} />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFormError(null);
    setCreated(null);
    if (!url.trim()) return setErrors({ url: "Enter the URL to deliver to." });
    if (events.length === 0) return setErrors({ events: "Choose at least one event." });
    try {
      const hook = await api.createWebhook({ url: url.trim(), events, format });
      setCreated(hook);
      setUrl("");
      await queryClient.invalidateQueries({ queryKey: ["webhooks"] });
    } catch (err) {
      if (err instanceof ApiError && err.field) setErrors({ [err.field]: err.message });
      else setFormError(err);
    }
  };

  return (
    <div className="space-y-6">
      <PageTitle>Webhooks</PageTitle>
      <form className="card space-y-3" onSubmit={(e) => void submit(e)} noValidate aria-label="New webhook">
        <h2 className="font-semibold">New webhook</h2>
        <Field id="url" label="URL" error={errors.url}>
          <input id="url" className="input" type="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://…" />
        </Field>
        <EventsField events={events} onChange={setEvents} error={errors.events} />
        <FormatField id="format" format={format} onChange={setFormat} error={errors.format} />
        <button type="submit" className="btn-primary">
          Create webhook
        </button>
        {formError ? <ErrorNote error={formError} /> : null}
        {created?.secret ? (
          <div role="status" className="rounded border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="secret">
            <p className="font-medium">Signing secret — shown only this once. Store it now.</p>
            <div className="mt-1 flex items-center gap-2">
              <code className="break-all">{created.secret}</code>
              <CopyButton text={created.secret} label="Copy the signing secret" />
            </div>
          </div>
        ) : null}
      </form>
      <section className="card">
        <h2 className="mb-2 font-semibold">Webhooks</h2>
        {hooks.isPending ? (
          <Loading what="webhooks" />
        ) : hooks.isError ? (
          <ErrorNote error={hooks.error} />
        ) : hooks.data.webhooks.length === 0 ? (
          <Empty>No webhooks yet.</Empty>
        ) : (
          <ul className="space-y-3">
            {hooks.data.webhooks.map((h) => (
              <HookRow key={h.id} hook={h} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
