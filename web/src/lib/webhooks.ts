// The webhook edit form's request: only the fields that changed.
import type { Webhook, WebhookChange } from "../types/api";

export interface WebhookForm {
  url: string;
  events: string[];
  format: "json" | "slack";
  active: boolean;
  rotate: boolean;
}

/** Only what differs from `hook`, so an unchanged field is never sent (and never re-checked). */
export function webhookChange(
  hook: Webhook,
  form: WebhookForm,
): WebhookChange {
  const change: WebhookChange = {};
  const url = form.url.trim();
  if (url !== hook.url) change.url = url;
  const sorted = (xs: string[]) => [...xs].sort().join(",");
  if (sorted(form.events) !== sorted(hook.events)) change.events = form.events;
  if (form.format !== hook.format) change.format = form.format;
  if (form.active !== hook.active) change.active = form.active;
  if (form.rotate) change.rotate_secret = true;
  return change;
}
