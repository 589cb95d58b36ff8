import { useEffect, useMemo, useState } from "react";
import type { FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../lib/api";
import { fitFor } from "../lib/fit";
import { formatBytes } from "../lib/format";
import { can } from "../lib/session";
import { normaliseProductKey, productKeyError, validateJobRequest } from "../lib/validate";
import type { FieldErrors } from "../lib/validate";
import type { Compression, JobRequest, KeyVariants, RepoFile, User } from "../types/api";
import { Field } from "../components/Field";
import { ErrorNote, Loading, PageTitle } from "../components/States";

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

function PackagePicker({
  legend,
  name,
  files,
  chosen,
  onChange,
  fit,
  error,
}: {
  legend: string;
  name: string;
  files: RepoFile[] | undefined;
  chosen: string[];
  onChange: (next: string[]) => void;
  fit: (f: RepoFile) => { fits: boolean; reason: string | null };
  error?: string | undefined;
}) {
  return (
    <fieldset className="rounded border border-slate-200 p-3" data-field={name}>
      <legend className="px-1 text-sm font-medium">{legend}</legend>
      {!files ? (
        <Loading what={legend.toLowerCase()} />
      ) : files.length === 0 ? (
        <p className="text-sm text-slate-500">None in the repository.</p>
      ) : (
        <ul className="space-y-1">
          {files.map((f) => {
            const { fits, reason } = fit(f);
            const id = `${name}-${f.path}`;
            return (
              <li key={f.path} className={fits ? "" : "text-slate-400"}>
                <label htmlFor={id} className="flex items-start gap-2 text-sm">
                  <input
                    id={id}
                    type="checkbox"
                    className="mt-1"
                    disabled={!fits}
                    checked={chosen.includes(f.file)}
                    onChange={(e) =>
                      onChange(e.target.checked ? [...chosen, f.file] : chosen.filter((c) => c !== f.file))
                    }
                  />
                  <span>
                    <span className="font-mono">{f.file}</span>{" "}
                    <span className="text-xs text-slate-500">{formatBytes(f.size)}</span>
                    {!fits && reason ? <span className="block text-xs">Does not fit: {reason}</span> : null}
                  </span>
                </label>
              </li>
            );
          })}
        </ul>
      )}
      <p className="field-error min-h-[1.25rem]">{error ?? ""}</p>
    </fieldset>
  );
}

export function NewBuildPage({ user }: { user: User }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [board, setBoard] = useState("");
  const [boardQuery, setBoardQuery] = useState("");
  const [baseImage, setBaseImage] = useState("");
  const [imageIndex, setImageIndex] = useState(1);
  const [customer, setCustomer] = useState("");
  const [driverSet, setDriverSet] = useState<string | null>(null);
  const [langpacks, setLangpacks] = useState<string[]>([]);
  const [updates, setUpdates] = useState<string[]>([]);
  const [software, setSoftware] = useState<string[]>([]);
  const [answerFile, setAnswerFile] = useState("");
  const [productKey, setProductKey] = useState("");
  const [showKey, setShowKey] = useState(false);
  const [keyVariants, setKeyVariants] = useState<KeyVariants>("nokey");
  const [createIso, setCreateIso] = useState(false);
  const [compression, setCompression] = useState<Compression>("lzx");
  const [recompress, setRecompress] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const images = useQuery({ queryKey: ["res", "base-images"], queryFn: () => api.baseImages() });
  const lp = useQuery({ queryKey: ["res", "langpacks"], queryFn: () => api.langpacks() });
  const up = useQuery({ queryKey: ["res", "updates"], queryFn: () => api.updates() });
  const sw = useQuery({ queryKey: ["res", "software"], queryFn: () => api.software() });
  const af = useQuery({ queryKey: ["res", "answer-files"], queryFn: () => api.answerFiles() });
  const q = useDebounced(boardQuery.trim(), 200);
  const boards = useQuery({
    queryKey: ["res", "boards", q],
    queryFn: () => api.searchBoards(q),
    enabled: q.length > 0 && q !== board,
  });
  const recommend = useQuery({
    queryKey: ["res", "recommend", board, baseImage],
    queryFn: () => api.recommendDrivers(board, baseImage),
    enabled: !!board && !!baseImage,
    retry: false,
  });

  // a field's error goes away as soon as the user changes that field
  const clear = (field: keyof FieldErrors) =>
    setErrors((e) => {
      const rest = { ...e };
      delete rest[field];
      return rest;
    });

  const base = images.data?.base_images.find((b) => b.name === baseImage);
  const image = base?.images.find((i) => i.index === imageIndex) ?? base?.images[0];
  const recommended = recommend.data?.driver_set?.name ?? null;
  useEffect(() => {
    setDriverSet(recommended);
  }, [recommended]);

  const fit = useMemo(() => (f: RepoFile) => fitFor(f, image, customer), [image, customer]);
  const answers = (af.data?.answer_files ?? []).filter((a) => !board || a.board === board);

  if (!can(user, "builder"))
    return <ErrorNote error={new Error("Your role cannot start builds. Ask an admin for the builder role.")} />;

  const request = (): JobRequest => ({
    motherboard_model: board,
    base_image: baseImage,
    customer_name: customer || undefined,
    image_index: imageIndex,
    driver_set: driverSet ?? undefined,
    langpacks,
    updates,
    software,
    answer_file: answerFile || undefined,
    product_key: productKey || undefined,
    key_variants: keyVariants,
    create_iso: createIso,
    compression,
    // only sent when asked for, so requests stay as they were by default
    recompress: recompress || undefined,
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(null);
    const req = request();
    const found = validateJobRequest(req);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const created = await api.createJob(req);
      void queryClient.invalidateQueries({ queryKey: ["job"] });
      void queryClient.invalidateQueries({ queryKey: ["queue"] });
      navigate(`/jobs/${created.job_id}`);
    } catch (err) {
      if (err instanceof ApiError && err.field) setErrors({ [err.field]: err.message });
      else setFormError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="space-y-6" aria-label="New build">
      <PageTitle>New build</PageTitle>
      <section className="card grid gap-4 md:grid-cols-2">
        <Field id="base_image" label="Base image" error={errors.base_image}>
          {images.isPending ? (
            <Loading what="base images" />
          ) : images.isError ? (
            <ErrorNote error={images.error} />
          ) : (
            <select
              id="base_image"
              className="input"
              value={baseImage}
              onChange={(e) => {
                setBaseImage(e.target.value);
                setImageIndex(1);
                clear("base_image");
              }}
            >
              <option value="">Choose a base image…</option>
              {images.data.base_images.map((b) => (
                <option key={b.name} value={b.name}>
                  {b.name} — {b.edition} {b.build} {b.arch} ({b.languages.join(", ")})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="image_index" label="Image index" error={errors.image_index}>
          <select
            id="image_index"
            className="input"
            value={imageIndex}
            disabled={!base}
            onChange={(e) => setImageIndex(Number(e.target.value))}
          >
            {(base?.images ?? []).map((i) => (
              <option key={i.index} value={i.index}>
                {i.index}: {i.name} — {i.edition}, build {i.build}, {i.arch}, {i.languages.join(", ")}
              </option>
            ))}
          </select>
        </Field>
        <Field
          id="motherboard_model"
          label="Motherboard"
          error={errors.motherboard_model}
          hint={board ? `Chosen: ${board}` : "Type part of the model name and pick a match."}
        >
          <input
            id="motherboard_model"
            className="input"
            autoComplete="off"
            value={boardQuery}
            onChange={(e) => {
              setBoardQuery(e.target.value);
              setBoard("");
            }}
            aria-describedby="motherboard_model-error"
          />
          {boards.data && q !== board && boards.data.results.length > 0 ? (
            <ul className="mt-1 max-h-48 overflow-y-auto rounded border border-slate-200 bg-white" aria-label="Matching motherboards">
              {boards.data.results.map((m) => (
                <li key={m.model}>
                  <button
                    type="button"
                    className="flex w-full justify-between px-2 py-1 text-left text-sm hover:bg-slate-100 focus:bg-slate-100 focus:outline-none"
                    onClick={() => {
                      setBoard(m.model);
                      setBoardQuery(m.model);
                      clear("motherboard_model");
                    }}
                  >
                    <span>{m.model}</span>
                    <span className="text-slate-500">
                      {Math.round(m.score * 100)}% match{m.has_drivers ? "" : " · no drivers"}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          ) : boards.data && q !== board && q ? (
            <p className="mt-1 text-sm text-slate-500">No motherboard matches “{q}”.</p>
          ) : null}
        </Field>
        <Field id="customer_name" label="Customer" error={errors.customer_name} hint="Empty means “default”.">
          <input id="customer_name" className="input" value={customer} onChange={(e) => {
              setCustomer(e.target.value);
              clear("customer_name");
            }} />
        </Field>
      </section>

      <section className="card" data-field="driver_set">
        <h2 className="mb-2 font-semibold">Drivers</h2>
        {!board || !baseImage ? (
          <p className="text-sm text-slate-500">Choose a base image and a motherboard to see driver sets.</p>
        ) : recommend.isPending ? (
          <Loading what="driver sets" />
        ) : recommend.isError ? (
          <ErrorNote error={recommend.error} />
        ) : (
          <div className="space-y-1">
            {recommend.data.candidates.map((c) => (
              <label key={c.name} className={`flex items-start gap-2 text-sm ${c.fits ? "" : "text-slate-400"}`}>
                <input
                  type="radio"
                  name="driver_set"
                  className="mt-1"
                  checked={driverSet === c.name}
                  disabled={!c.fits}
                  onChange={() => setDriverSet(c.name)}
                />
                <span>
                  <span className="font-mono">{c.name}</span> ({c.inf_count} INF)
                  {c.name === recommended ? <span className="ml-2 rounded bg-green-100 px-1 text-xs text-green-800">recommended</span> : null}
                  <span className="block text-xs">{c.reason}</span>
                </span>
              </label>
            ))}
          </div>
        )}
        <p className="field-error min-h-[1.25rem]">{errors.driver_set ?? ""}</p>
      </section>

      <section className="grid gap-4 md:grid-cols-3">
        <PackagePicker legend="Language packs" name="langpacks" files={lp.data?.langpacks} chosen={langpacks} onChange={setLangpacks} fit={fit} error={errors.langpacks} />
        <PackagePicker legend="Updates" name="updates" files={up.data?.updates} chosen={updates} onChange={setUpdates} fit={fit} error={errors.updates} />
        <PackagePicker legend="Software" name="software" files={sw.data?.software} chosen={software} onChange={setSoftware} fit={fit} error={errors.software} />
      </section>

      <section className="card grid gap-4 md:grid-cols-2">
        <Field id="answer_file" label="Answer file" error={errors.answer_file}>
          <select id="answer_file" className="input" value={answerFile} onChange={(e) => setAnswerFile(e.target.value)}>
            <option value="">None (WAIT writes its own)</option>
            {answers.map((a) => (
              <option key={a.path} value={a.path} disabled={!a.well_formed}>
                {a.path}
                {a.well_formed ? "" : " (not well-formed)"}
              </option>
            ))}
          </select>
        </Field>
        <Field
          id="product_key"
          label="Product key"
          error={errors.product_key}
          hint="Optional. Letters and digits; dashes are added for you."
        >
          <div className="flex gap-2">
            <input
              id="product_key"
              className="input font-mono"
              type={showKey ? "text" : "password"}
              autoComplete="off"
              spellCheck={false}
              placeholder="XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
              value={productKey}
              onChange={(e) => {
                setProductKey(normaliseProductKey(e.target.value));
                clear("product_key");
                clear("key_variants");
              }}
              onBlur={() => setErrors((er) => ({ ...er, product_key: productKeyError(productKey) ?? undefined }))}
            />
            <button type="button" className="btn" onClick={() => setShowKey((s) => !s)} aria-pressed={showKey}>
              {showKey ? "Hide" : "Show"}
            </button>
          </div>
        </Field>
        <Field id="key_variants" label="Key variants" error={errors.key_variants}>
          <select id="key_variants" className="input" value={keyVariants} onChange={(e) => {
              setKeyVariants(e.target.value as KeyVariants);
              clear("key_variants");
            }}>
            <option value="nokey">Without key</option>
            <option value="key">With key</option>
            <option value="both">Both (two images)</option>
          </select>
        </Field>
        <Field id="compression" label="Compression" error={errors.compression}>
          <select id="compression" className="input" value={compression} onChange={(e) => setCompression(e.target.value as Compression)}>
            <option value="lzx">LZX (default)</option>
            <option value="xpress">XPRESS (fast)</option>
            <option value="lzms">LZMS (small, non-solid .wim)</option>
            <option value="esd">ESD (solid LZMS, smallest, slowest)</option>
            <option value="none">None</option>
          </select>
        </Field>
        <div data-field="recompress">
          <label className="flex items-center gap-2 text-sm font-medium" htmlFor="recompress">
            <input id="recompress" type="checkbox" checked={recompress} onChange={(e) => setRecompress(e.target.checked)} />
            Recompress already-compressed data
          </label>
          <p className="field-error min-h-[1.25rem]">{errors.recompress ?? ""}</p>
        </div>
        <div data-field="create_iso">
          <label className="flex items-center gap-2 text-sm font-medium" htmlFor="create_iso">
            <input id="create_iso" type="checkbox" checked={createIso} onChange={(e) => setCreateIso(e.target.checked)} />
            Also write a bootable ISO
          </label>
          <p className="field-error min-h-[1.25rem]">{errors.create_iso ?? ""}</p>
        </div>
      </section>

      <div className="flex items-center gap-4">
        <button type="submit" className="btn-primary" disabled={busy}>
          {busy ? "Queuing…" : "Start build"}
        </button>
        {formError ? <ErrorNote error={formError} /> : null}
        {errors.form ? <p className="field-error">{errors.form}</p> : null}
      </div>
    </form>
  );
}
