import type { ReactNode } from "react";

/** A labelled control with its hint and error in fixed places (no layout jump). */
export function Field({
  id,
  label,
  error,
  hint,
  children,
}: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div data-field={id}>
      <label className="label" htmlFor={id}>
        {label}
      </label>
      {children}
      {hint ? <div className="mt-1 text-xs text-slate-500">{hint}</div> : null}
      <p className="field-error min-h-[1.25rem]" id={`${id}-error`} role={error ? "alert" : undefined}>
        {error ?? ""}
      </p>
    </div>
  );
}
