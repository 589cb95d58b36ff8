// Types mirroring the WAIT HTTP API (docs/API.md). Fields the UI does not read are
// left out; the server may send more.

export type Role = "admin" | "builder" | "viewer";

export interface User {
  id: number;
  username: string;
  role: Role;
  disabled?: boolean;
  created_at?: string;
}

export type JobStatus =
  | "Queued"
  | "Processing_Build"
  | "Pending_Validation"
  | "Processing_Validation"
  | "Completed"
  | "Failed_Build"
  | "Failed_Validation"
  | "Cancelled";

export const FINAL_STATUSES: readonly JobStatus[] = [
  "Completed",
  "Failed_Build",
  "Failed_Validation",
  "Cancelled",
];

export const ALL_STATUSES: readonly JobStatus[] = [
  "Queued",
  "Processing_Build",
  "Pending_Validation",
  "Processing_Validation",
  ...FINAL_STATUSES,
];

export interface Resource {
  kind: string;
  path: string;
  sha256: string;
  size: number;
}

export interface Job {
  job_id: string;
  status: JobStatus;
  progress: number;
  stage: string | null;
  customer_name: string;
  motherboard_model: string;
  base_image: string;
  image_index: string;
  driver_set: string | null;
  langpacks: string[];
  updates: string[];
  software: string[];
  answer_file: string | null;
  key_variants: string;
  create_iso: boolean;
  compression: string;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  attempt: number;
  error: string | null;
  warnings: string[];
  output_dir: string | null;
  output_files: string[];
  resources: Resource[];
  queue_position?: number | null;
}

export interface JobList {
  jobs: Job[];
  total?: number;
  limit?: number;
  offset?: number;
}

// "lzms" is a non-solid LZMS .wim; "esd" is solid LZMS written as .esd.
export type Compression = "lzx" | "xpress" | "lzms" | "esd" | "none";
export type KeyVariants = "key" | "nokey" | "both";

export interface JobRequest {
  motherboard_model: string;
  base_image: string;
  customer_name?: string;
  image_index?: number | string;
  driver_set?: string;
  langpacks?: string[];
  updates?: string[];
  software?: string[];
  answer_file?: string;
  product_key?: string;
  key_variants?: KeyVariants;
  create_iso?: boolean;
  compression?: Compression;
  /** Compress data again even where the base image already holds it in the chosen format. */
  recompress?: boolean;
  log_level?: "normal" | "verbose";
}

export interface JobCreated {
  job_id: string;
  status: string;
  queue_position: number | null;
}

export interface LogLine {
  seq: number;
  ts: string;
  level: string;
  stage: string;
  message: string;
}

export interface JobLogs {
  job_id: string;
  status: string;
  lines: LogLine[];
}

export interface StreamStatus {
  job_id: string;
  status: JobStatus;
  error: string | null;
  queue_position: number | null;
}

export interface StreamProgress {
  job_id: string;
  progress: number;
  stage: string;
}

export interface Timing {
  stage: string;
  seconds: number;
}

export interface Manifest {
  format: number;
  tool: string;
  timings?: Timing[];
  warnings?: unknown[];
  inputs?: unknown[];
  [key: string]: unknown;
}

export interface ImageIndex {
  index: number;
  name: string;
  edition: string;
  arch: string;
  build: number;
  version: string;
  languages: string[];
  size: number;
}

export interface BaseImage {
  name: string;
  format: string;
  size: number;
  arch: string;
  build: number;
  edition: string;
  languages: string[];
  images: ImageIndex[];
  problems: string[];
}

export interface BoardMatch {
  model: string;
  score: number;
  has_drivers: boolean;
}

export interface DriverCandidate {
  name: string;
  path: string;
  inf_count: number;
  fits: boolean;
  reason: string;
}

export interface DriverRecommendation {
  motherboard: string;
  driver_set: { name: string; path: string; inf_count: number } | null;
  reason: string;
  candidates: DriverCandidate[];
}

export interface PackageInfo {
  arch?: string | null;
  build?: number | null;
  language?: string | null;
  kb?: string | null;
  name?: string | null;
  version?: string | null;
}

export interface RepoFile {
  path: string;
  file: string;
  token?: string;
  customer?: string;
  size: number;
  info: PackageInfo | null;
  error: string | null;
}

export interface AnswerFile {
  path: string;
  board: string;
  token: string;
  well_formed: boolean;
  problems: string[];
}

export interface OutputVariant {
  variant: string;
  image_file: string;
  size: number;
  sha256: string;
  md5: string;
  iso: { file: string; size: number; sha256?: string } | null;
}

export interface Output {
  customer: string;
  folder: string;
  path: string;
  job_id: string | null;
  board: string | null;
  created_at: string | null;
  failed_validation: boolean;
  variants: OutputVariant[];
  has_checksums: boolean;
  problems: string[];
}

export interface OutputList {
  customers: { customer: string; outputs: Output[] }[];
  total: number;
}

export const WEBHOOK_EVENTS = [
  "job.queued",
  "job.started",
  "job.build_succeeded",
  "job.completed",
  "job.failed",
  "job.cancelled",
] as const;

export interface Webhook {
  id: number;
  url: string;
  events: string[];
  format: "json" | "slack";
  active: boolean;
  secret?: string;
}

export interface Delivery {
  id: number;
  delivery_id: string;
  event: string;
  attempt: number;
  state: string;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
  created_at: string;
}

export interface Customer {
  name: string;
  /** null = the default template `{timestamp}_{board}`. */
  naming_template: string | null;
  defaults: Record<string, unknown>;
  created_at: string;
  /** The folder name the template gives for a build started now. */
  preview: string;
  preview_board: string;
}

export interface CustomerInput {
  naming_template: string | null;
  defaults?: Record<string, unknown>;
}

export interface FolderPreview {
  folder: string;
  board: string;
  customer: string;
}

/** A change to a webhook (PATCH /api/webhooks/{id}); absent fields stay as they are. */
export interface WebhookChange {
  url?: string;
  events?: string[];
  format?: "json" | "slack";
  active?: boolean;
  /** Replace the signing secret with a new random one, shown once in the answer. */
  rotate_secret?: boolean;
}

/** A change to a user (PATCH /api/users/{id}). */
export interface UserChange {
  role?: Role;
  disabled?: boolean;
  password?: string;
}

export interface ApiToken {
  id: number;
  name: string;
  user: string;
  state: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  /** Only in the answer that created it. */
  token?: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}
