import { useState } from "react";
import type { FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../lib/api";
import type { Webhook } from "../types/api";
import { webhookChange } from "../lib/webhooks";
import { EventsField, FormatField } from "./WebhookFields";
import { Field } from "./Field";
import { CopyButton, ErrorNote } from "./States";

/** The edit form of one webhook. A new secret from a rotation is shown here once. */
export function WebhookEdit({ hook, onClose }: { hook: Webhook; onClose: () => void }) {
  const queryClient = useQueryClient();
  const id = `hook-${hook.id}`;
  const [url, setUrl] = useState(hook.url);
  const [events, setEvents] = useState<string[]>(hook.events);
  const [format, setFormat] = useState<"json" | "slack">(hook.format);
  const [active, setActive] = useState(hook.active);
  const [rotate, setRotate] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setError(null);
    setNote(null);
    if (!url.trim()) return setErrors({ url: "Enter the URL to deliver to." });
    if (events.length === 0) return setErrors({ events: "Choose at least one event." });
    const change = webhookChange(hook, { url, events, format, active, rotate });
    if (Object.keys(change).length === 0) return setNote("Nothing changed.");
    try {
      const saved = await api.updateWebhook(hook.id, change);
      setRotate(false);
      setSecret(saved.secret ?? null);
      setNote("Saved.");
      await queryClient.invalidateQueries({ queryKey: ["webhooks"] });
    } catch (err) {
      if (err instanceof ApiError && err.field) setErrors({ [err.field]: err.message });
      else setError(err);
    }
  };

  return (
    <form className="mt-3 space-y-3 border-t pt-3" onSubmit={(e) => void submit(e)} noValidate aria-label={`Edit webhook ${hook.id}`}>
      <Field id={`${id}-url`} label="URL" error={errors.url}>
        <input id={`${id}-url`} className="input" type="url" value={url} onChange={(e) => setUrl(e.target.value)} />
      </Field>
      <EventsField events={events} onChange={setEvents} error={errors.events} />
      <div className="flex flex-wrap items-start gap-6">
        <FormatField id={`${id}-format`} format={format} onChange={setFormat} error={errors.format} />
        <label className="flex items-center gap-1 pt-7 text-sm">
          <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />
          Active
        </label>
        <label className="flex items-center gap-1 pt-7 text-sm">
          <input type="checkbox" checked={rotate} onChange={(e) => setRotate(e.target.checked)} />
          Replace the signing secret
        </label>
      </div>
      <div className="flex gap-2">
        <button type="submit" className="btn-primary">
          Save changes
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
      {note ? (
        <p role="status" className="text-sm text-green-700">
          {note}
        </p>
      ) : null}
      {error ? <ErrorNote error={error} /> : null}
      {secret ? (
        <div role="status" className="rounded border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="secret">
          <p className="font-medium">New signing secret — shown only this once. Update the receiver now.</p>
          <div className="mt-1 flex items-center gap-2">
            <code className="break-all">{secret}</code>
            <CopyButton text={secret} label="Copy the new signing secret" />
          </div>
        </div>
      ) : null}
    </form>
  );
}
