import { WEBHOOK_EVENTS } from "../types/api";
import { Field } from "./Field";

export type WebhookFormat = "json" | "slack";

/** The event checkboxes of a webhook form (new and edit), with the field's error. */
export function EventsField({
  events,
  onChange,
  error,
}: {
  events: string[];
  onChange: (events: string[]) => void;
  error?: string;
}) {
  return (
    <fieldset data-field="events">
      <legend className="label">Events</legend>
      <div className="flex flex-wrap gap-3">
        {WEBHOOK_EVENTS.map((ev) => (
          <label key={ev} className="flex items-center gap-1 text-sm">
            <input
              type="checkbox"
              checked={events.includes(ev)}
              onChange={(e) => onChange(e.target.checked ? [...events, ev] : events.filter((x) => x !== ev))}
            />
            {ev}
          </label>
        ))}
      </div>
      <p className="field-error min-h-[1.25rem]">{error ?? ""}</p>
    </fieldset>
  );
}

/** The delivery format picker of a webhook form. */
export function FormatField({
  id,
  format,
  onChange,
  error,
}: {
  id: string;
  format: WebhookFormat;
  onChange: (format: WebhookFormat) => void;
  error?: string;
}) {
  return (
    <Field id={id} label="Format" error={error}>
      <select id={id} className="input w-auto" value={format} onChange={(e) => onChange(e.target.value as WebhookFormat)}>
        <option value="json">JSON (signed)</option>
        <option value="slack">Slack message</option>
      </select>
    </Field>
  );
}
