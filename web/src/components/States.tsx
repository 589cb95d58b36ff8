import type { ReactNode } from "react";
import { ApiError } from "../lib/api";

export function Loading({ what }: { what: string }) {
  return (
    <p className="py-6 text-sm text-slate-500" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="py-6 text-sm text-slate-500">{children}</p>;
}

export function ErrorNote({ error }: { error: unknown }) {
  const message =
    error instanceof ApiError
      ? error.status === 403
        ? "You do not have permission for this."
        : error.message
      : error instanceof Error
        ? error.message
        : "Something went wrong.";
  return (
    <p role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
      {message}
    </p>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  return (
    <button
      type="button"
      className="btn px-2 py-0.5 text-xs"
      aria-label={label}
      onClick={() => {
        void navigator.clipboard?.writeText(text).catch(() => undefined);
      }}
    >
      Copy
    </button>
  );
}

export function PageTitle({ children, actions }: { children: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-4 flex min-h-[2.5rem] items-center justify-between gap-4">
      <h1 className="text-xl font-semibold">{children}</h1>
      {actions ? <div className="flex gap-2">{actions}</div> : null}
    </div>
  );
}
