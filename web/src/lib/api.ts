// The one typed client for the WAIT HTTP API. Every request goes through `request`, so
// errors always arrive as `ApiError` with the server's code, human message and field.
import type {
  AnswerFile,
  ApiToken,
  BaseImage,
  BoardMatch,
  Customer,
  CustomerInput,
  Delivery,
  DriverRecommendation,
  FolderPreview,
  Job,
  JobCreated,
  JobList,
  JobLogs,
  JobRequest,
  Manifest,
  OutputList,
  RepoFile,
  Role,
  User,
  UserChange,
  Webhook,
  WebhookChange,
} from "../types/api";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export type Query = Record<string, string | number | boolean | undefined | null>;

/** `path?key=value…`, leaving out empty values. */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy's page, a dropped connection): fall through to the status text
  }
  const err = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)
    ?.error;
  if (err && typeof err.message === "string") {
    return new ApiError(
      response.status,
      typeof err.code === "string" ? err.code : "error",
      err.message,
      typeof err.field === "string" ? err.field : undefined,
    );
  }
  const fallback =
    response.status === 401
      ? "Your session has ended. Please sign in again."
      : response.status >= 500
        ? "The server had a problem. Try again in a moment."
        : `The request failed (${response.status} ${response.statusText}).`;
  return new ApiError(response.status, "http_" + response.status, fallback);
}

export class Client {
  private readonly fetchFn: Fetch;

  constructor(fetchFn?: Fetch) {
    this.fetchFn = fetchFn ?? ((input, init) => fetch(input, init));
  }

  async request<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const init: RequestInit = {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { ...init.headers, "Content-Type": "application/json" };
    }
    let response: Response;
    try {
      response = await this.fetchFn(withQuery(path, query), init);
    } catch {
      throw new ApiError(0, "network", "Cannot reach the WAIT server. Check your connection.");
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204) return undefined as T;
    const type = response.headers.get("content-type") ?? "";
    if (type.includes("application/json")) return (await response.json()) as T;
    return (await response.text()) as T;
  }

  // auth
  login(username: string, password: string) {
    return this.request<{ user: User }>("POST", "/api/auth/login", { username, password });
  }
  logout() {
    return this.request<void>("POST", "/api/auth/logout");
  }
  me() {
    return this.request<{ user: User }>("GET", "/api/auth/me");
  }

  // jobs
  createJob(body: JobRequest) {
    return this.request<JobCreated>("POST", "/api/job", body);
  }
  currentJob() {
    return this.request<Job>("GET", "/api/job");
  }
  job(id: string) {
    return this.request<Job>("GET", `/api/jobs/${encodeURIComponent(id)}`);
  }
  queue() {
    return this.request<JobList>("GET", "/api/queue");
  }
  jobs(query?: Query) {
    return this.request<JobList>("GET", "/api/jobs", undefined, query);
  }
  /** Free-text search; takes the same filters and paging (limit, offset) as `jobs`. */
  searchJobs(q: string, query?: Query) {
    return this.request<JobList>("GET", "/api/jobs/search", undefined, { ...query, q });
  }
  jobLogs(id: string, level?: string) {
    return this.request<JobLogs>("GET", `/api/jobs/${encodeURIComponent(id)}/logs`, undefined, {
      level,
    });
  }
  manifest(id: string) {
    return this.request<Manifest>("GET", "/api/job/manifest", undefined, {
      job_id: id,
      format: "json",
    });
  }
  cancelJob(id: string) {
    return this.request<unknown>("POST", withQuery("/api/job/cancel", { job_id: id }));
  }
  cloneJob(id: string) {
    return this.request<{ job_id: string; inputs: string }>(
      "POST",
      `/api/jobs/${encodeURIComponent(id)}/clone`,
      {},
    );
  }
  deleteJob(id: string, purgeOutput = false) {
    return this.request<unknown>(
      "DELETE",
      withQuery("/api/job", { job_id: id, purge_output: purgeOutput || undefined }),
    );
  }

  // resources
  baseImages() {
    return this.request<{ base_images: BaseImage[] }>("GET", "/api/resources/base-images");
  }
  searchBoards(q: string) {
    return this.request<{ results: BoardMatch[] }>(
      "GET",
      "/api/resources/motherboards/search",
      undefined,
      { q },
    );
  }
  recommendDrivers(motherboard: string, baseImage: string) {
    return this.request<DriverRecommendation>(
      "GET",
      "/api/resources/drivers/recommend",
      undefined,
      { motherboard, base_image: baseImage },
    );
  }
  langpacks() {
    return this.request<{ langpacks: RepoFile[] }>("GET", "/api/resources/langpacks");
  }
  updates() {
    return this.request<{ updates: RepoFile[] }>("GET", "/api/resources/updates");
  }
  software() {
    return this.request<{ software: RepoFile[] }>("GET", "/api/resources/software");
  }
  answerFiles() {
    return this.request<{ answer_files: AnswerFile[] }>("GET", "/api/resources/answer-files");
  }

  // outputs
  outputs(q?: string) {
    return this.request<OutputList>("GET", "/api/outputs", undefined, { q });
  }

  // webhooks
  webhooks() {
    return this.request<{ webhooks: Webhook[] }>("GET", "/api/webhooks");
  }
  createWebhook(body: { url: string; events: string[]; format: string; secret?: string }) {
    return this.request<Webhook>("POST", "/api/webhooks", body);
  }
  updateWebhook(id: number, body: WebhookChange) {
    return this.request<Webhook>("PATCH", `/api/webhooks/${id}`, body);
  }
  deleteWebhook(id: number) {
    return this.request<unknown>("DELETE", `/api/webhooks/${id}`);
  }
  testWebhook(id: number) {
    return this.request<unknown>("POST", `/api/webhooks/${id}/test`);
  }
  deliveries(id: number) {
    return this.request<{ deliveries: Delivery[] }>("GET", `/api/webhooks/${id}/deliveries`);
  }

  // customers
  customers() {
    return this.request<{ customers: Customer[] }>("GET", "/api/customers");
  }
  customer(name: string) {
    return this.request<Customer>("GET", `/api/customers/${encodeURIComponent(name)}`);
  }
  saveCustomer(name: string, body: CustomerInput) {
    return this.request<Customer>("PUT", `/api/customers/${encodeURIComponent(name)}`, body);
  }
  previewFolder(body: { naming_template: string; customer?: string; board?: string }) {
    return this.request<FolderPreview>("POST", "/api/customers/preview", body);
  }

  // users and tokens
  users() {
    return this.request<{ users: User[] }>("GET", "/api/users");
  }
  createUser(username: string, password: string, role: Role) {
    return this.request<{ user: User }>("POST", "/api/users", { username, password, role });
  }
  updateUser(id: number, body: UserChange) {
    return this.request<{ user: User }>("PATCH", `/api/users/${id}`, body);
  }
  tokens() {
    return this.request<{ tokens: ApiToken[] }>("GET", "/api/tokens");
  }
  createToken(name: string) {
    return this.request<ApiToken>("POST", "/api/tokens", { name });
  }
  revokeToken(id: number) {
    return this.request<unknown>("DELETE", `/api/tokens/${id}`);
  }
}

/** Download links are plain URLs: the browser sends the session cookie itself. */
export function downloadUrl(
  outputPath: string,
  what: "" | "wim" | "iso" | "checksum" | "manifest",
): string {
  const [customer = "", folder = ""] = outputPath.split("/");
  const base = `/api/outputs/${encodeURIComponent(customer)}/${encodeURIComponent(folder)}/download`;
  return what ? `${base}/${what}` : base;
}

export const api = new Client();
