import { useState } from "react";
import type { FormEvent } from "react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../lib/api";
import { useDebounced } from "../lib/debounce";
import { formatTime } from "../lib/format";
import {
  DEFAULT_TEMPLATE,
  NAMING_TOKENS,
  parseDefaults,
  previewRequest,
  templateProblem,
  templateToSave,
} from "../lib/naming";
import { can } from "../lib/session";
import { CUSTOMER_PATTERN } from "../lib/validate";
import type { Customer, User } from "../types/api";
import { Field } from "../components/Field";
import { Empty, ErrorNote, Loading, PageTitle } from "../components/States";

/** How long typing must pause before the preview is asked for. */
const PREVIEW_DELAY_MS = 300;

function TokenHelp() {
  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title" className="mb-2 font-semibold">
        Template tokens
      </h2>
      <p className="mb-2 text-sm text-slate-600">
        A template names each build's folder under <code>8_Output/&lt;customer&gt;/</code>. Without one,{" "}
        <code>{DEFAULT_TEMPLATE}</code> is used. Values are made safe for Windows and SMB; the template's own text may
        not contain <code>/ \ : * ? &quot; &lt; &gt; |</code>.
      </p>
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm" aria-label="Tokens">
        {NAMING_TOKENS.map((t) => (
          <div key={t.token} className="contents">
            <dt className="font-mono">{`{${t.token}}`}</dt>
            <dd className="text-slate-600">{t.meaning}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/** The live preview of what is typed: debounced, and only for templates the quick check accepts. */
function Preview({ template, customer, problem }: { template: string; customer: string; problem: string | null }) {
  // debounce the strings, not the request object: a new object every render would
  // restart the timer for ever
  const settledTemplate = useDebounced(template, PREVIEW_DELAY_MS);
  const settledCustomer = useDebounced(customer, PREVIEW_DELAY_MS);
  const request = previewRequest(settledTemplate, settledCustomer);
  const key = request ? [request.naming_template, request.customer ?? ""] : null;
  const preview = useQuery({
    queryKey: ["customers", "preview", key],
    queryFn: () => (request ? api.previewFolder(request) : Promise.reject(new Error("no template"))),
    enabled: request !== null && !problem,
    placeholderData: keepPreviousData,
  });
  if (problem) return null;
  const serverProblem = preview.error instanceof ApiError && preview.error.field === "naming_template" ? preview.error.message : null;
  return (
    <p className="text-sm" aria-live="polite">
      <span className="text-slate-600">Folder for a build now: </span>
      {serverProblem ? (
        <span className="text-red-700">{serverProblem}</span>
      ) : preview.data ? (
        <code className="font-mono" data-testid="folder-preview">
          {preview.data.folder}
        </code>
      ) : preview.isError ? (
        <span className="text-red-700">the preview is not available</span>
      ) : (
        <span className="text-slate-500">…</span>
      )}
    </p>
  );
}

function CustomerForm({ editing, onDone }: { editing: Customer | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(editing?.name ?? "");
  const [template, setTemplate] = useState(editing?.naming_template ?? "");
  const [defaults, setDefaults] = useState(
    editing && Object.keys(editing.defaults).length > 0 ? JSON.stringify(editing.defaults, null, 2) : "",
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  // a blank template is the default, which is always fine
  const problem = template.trim() === "" ? null : templateProblem(template);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFormError(null);
    setSaved(null);
    const found: Record<string, string> = {};
    if (!CUSTOMER_PATTERN.test(name.trim()))
      found.name = "Use letters, digits, dot, dash or underscore (up to 64 characters), starting with a letter or digit.";
    if (problem) found.naming_template = problem;
    const parsed = parseDefaults(defaults);
    if ("error" in parsed) found.defaults = parsed.error;
    if (Object.keys(found).length > 0 || "error" in parsed) return setErrors(found);
    try {
      const customer = await api.saveCustomer(name.trim(), {
        naming_template: templateToSave(template),
        defaults: parsed.value,
      });
      setSaved(`Saved ${customer.name}.`);
      await queryClient.invalidateQueries({ queryKey: ["customers"] });
    } catch (err) {
      if (err instanceof ApiError && err.field) setErrors({ [err.field]: err.message });
      else setFormError(err);
    }
  };

  return (
    <form className="card space-y-3" onSubmit={(e) => void submit(e)} noValidate aria-label="Customer form">
      <h2 className="font-semibold">{editing ? `Edit ${editing.name}` : "New customer"}</h2>
      <Field id="customer-name" label="Customer" error={errors.name}>
        <input
          id="customer-name"
          className={editing ? "input bg-slate-100 text-slate-600" : "input"}
          value={name}
          readOnly={!!editing}
          onChange={(e) => setName(e.target.value)}
          autoComplete="off"
        />
      </Field>
      <Field
        id="naming-template"
        label="Folder naming template"
        error={errors.naming_template ?? problem ?? undefined}
        hint={<Preview template={template} customer={name} problem={problem} />}
      >
        <input
          id="naming-template"
          className="input font-mono"
          value={template}
          onChange={(e) => setTemplate(e.target.value)}
          placeholder={DEFAULT_TEMPLATE}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={!!(errors.naming_template ?? problem)}
        />
      </Field>
      <Field id="customer-defaults" label="Request defaults (JSON object)" error={errors.defaults}>
        <textarea
          id="customer-defaults"
          className="input font-mono"
          rows={3}
          value={defaults}
          onChange={(e) => setDefaults(e.target.value)}
          placeholder='{"compression": "lzms"}'
          spellCheck={false}
        />
      </Field>
      <div className="flex gap-2">
        <button type="submit" className="btn-primary">
          Save customer
        </button>
        {editing ? (
          <button type="button" className="btn" onClick={onDone}>
            New customer instead
          </button>
        ) : null}
      </div>
      {saved ? (
        <p role="status" className="text-sm text-green-700">
          {saved}
        </p>
      ) : null}
      {formError ? <ErrorNote error={formError} /> : null}
    </form>
  );
}

export function CustomersPage({ user }: { user: User }) {
  const admin = can(user, "admin");
  const customers = useQuery({ queryKey: ["customers"], queryFn: () => api.customers() });
  const [editing, setEditing] = useState<Customer | null>(null);

  return (
    <div className="space-y-6">
      <PageTitle>Customers</PageTitle>
      {admin ? (
        // a new key remounts the form with the chosen customer's values
        <CustomerForm key={editing?.name ?? "new"} editing={editing} onDone={() => setEditing(null)} />
      ) : (
        <p className="text-sm text-slate-600">Only admins change customers; you can read them here.</p>
      )}
      <section className="card">
        <h2 className="mb-2 font-semibold">Customers</h2>
        {customers.isPending ? (
          <Loading what="customers" />
        ) : customers.isError ? (
          <ErrorNote error={customers.error} />
        ) : customers.data.customers.length === 0 ? (
          <Empty>No customers have a naming rule yet; their builds use {DEFAULT_TEMPLATE}.</Empty>
        ) : (
          <table className="w-full text-left text-sm" aria-label="Customers">
            <thead className="border-b text-slate-600">
              <tr>
                <th className="py-1 pr-3">Customer</th>
                <th className="py-1 pr-3">Template</th>
                <th className="py-1 pr-3">Folder for a build now</th>
                <th className="py-1 pr-3">Defaults</th>
                <th className="py-1 pr-3">Created</th>
                {admin ? <th className="py-1" /> : null}
              </tr>
            </thead>
            <tbody>
              {customers.data.customers.map((c) => (
                <tr key={c.name} className="border-b last:border-0" data-testid="customer">
                  <td className="py-1 pr-3 font-medium">{c.name}</td>
                  <td className="py-1 pr-3 font-mono">
                    {c.naming_template ?? <span className="text-slate-500">{DEFAULT_TEMPLATE} (default)</span>}
                  </td>
                  <td className="py-1 pr-3 font-mono">{c.preview}</td>
                  <td className="py-1 pr-3 font-mono text-xs">
                    {Object.keys(c.defaults).length > 0 ? JSON.stringify(c.defaults) : "—"}
                  </td>
                  <td className="py-1 pr-3">{formatTime(c.created_at)}</td>
                  {admin ? (
                    <td className="py-1">
                      <button type="button" className="btn py-0.5" aria-label={`Edit ${c.name}`} onClick={() => setEditing(c)}>
                        Edit
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <TokenHelp />
    </div>
  );
}
