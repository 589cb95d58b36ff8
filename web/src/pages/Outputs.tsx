import { useState } from "react";
import { useSearchParams } from "react-router-dom";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, downloadUrl } from "../lib/api";
import { formatBytes, formatTime } from "../lib/format";
import { CopyButton, Empty, ErrorNote, Loading, PageTitle } from "../components/States";

export function OutputsPage() {
  const [params] = useSearchParams();
  const [q, setQ] = useState(params.get("q") ?? "");
  const outputs = useQuery({
    queryKey: ["outputs", q],
    queryFn: () => api.outputs(q.trim() || undefined),
    placeholderData: keepPreviousData,
  });

  return (
    <div className="space-y-4">
      <PageTitle>Outputs</PageTitle>
      <label className="block max-w-md text-sm">
        <span className="label">Filter</span>
        <input className="input" value={q} onChange={(e) => setQ(e.target.value)} placeholder="customer, board or folder" />
      </label>
      {outputs.isPending ? (
        <Loading what="outputs" />
      ) : outputs.isError ? (
        <ErrorNote error={outputs.error} />
      ) : outputs.data.customers.length === 0 ? (
        <Empty>No published images{q ? " match this filter" : " yet"}.</Empty>
      ) : (
        outputs.data.customers.map((c) => (
          <section key={c.customer} className="card" aria-label={`Customer ${c.customer}`}>
            <h2 className="mb-3 font-semibold">{c.customer}</h2>
            <ul className="space-y-4">
              {c.outputs.map((o) => (
                <li key={o.path} className="rounded border border-slate-200 p-3" data-testid="output">
                  <div className="mb-2 flex flex-wrap items-center gap-3 text-sm">
                    <span className="font-mono font-medium">{o.folder}</span>
                    <span className="text-slate-600">{o.board ?? ""}</span>
                    <span className="text-slate-600">{formatTime(o.created_at)}</span>
                    {o.failed_validation ? (
                      <span className="rounded bg-red-100 px-1 text-xs text-red-800">failed validation</span>
                    ) : null}
                  </div>
                  {o.variants.map((v) => (
                    <div key={v.variant} className="mb-2 text-sm">
                      <div>
                        <span className="font-medium">{v.image_file}</span> ({v.variant}) · {formatBytes(v.size)}
                        {v.iso ? ` · ISO ${formatBytes(v.iso.size)}` : ""}
                      </div>
                      <div className="flex items-center gap-2 font-mono text-xs">
                        <span className="break-all" data-testid="sha256">
                          sha256 {v.sha256}
                        </span>
                        <CopyButton text={v.sha256} label={`Copy SHA-256 of ${v.image_file}`} />
                      </div>
                    </div>
                  ))}
                  <div className="flex flex-wrap gap-2">
                    <a className="btn-primary" href={downloadUrl(o.path, "")} download>
                      Download all (ZIP)
                    </a>
                    <a className="btn" href={downloadUrl(o.path, "wim")} download>
                      Image
                    </a>
                    {o.variants.some((v) => v.iso) ? (
                      <a className="btn" href={downloadUrl(o.path, "iso")} download>
                        ISO
                      </a>
                    ) : null}
                    {o.has_checksums ? (
                      <a className="btn" href={downloadUrl(o.path, "checksum")} download>
                        Checksums
                      </a>
                    ) : null}
                    <a className="btn" href={downloadUrl(o.path, "manifest")} download>
                      Manifest
                    </a>
                  </div>
                  {o.problems.length > 0 ? (
                    <ul className="mt-2 list-disc pl-5 text-sm text-amber-800">
                      {o.problems.map((p) => (
                        <li key={p}>{p}</li>
                      ))}
                    </ul>
                  ) : null}
                </li>
              ))}
            </ul>
          </section>
        ))
      )}
    </div>
  );
}
