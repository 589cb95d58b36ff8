// Output folder naming templates, as the Customers page edits them. The token list
// mirrors TOKENS in crates/catalog/src/naming.rs (a unit test holds the two in step);
// the quick check mirrors the server's checker so most mistakes show while typing
// without a round trip. The server still decides: its 422 is shown at the field.
import { CUSTOMER_PATTERN } from "./validate";

/** The template used when a customer has none. */
export const DEFAULT_TEMPLATE = "{timestamp}_{board}";
/** Longest template the server accepts, in characters. */
export const MAX_TEMPLATE_CHARS = 200;

/** Every token a template may use, with what it stands for, in the documented order. */
export const NAMING_TOKENS: readonly { token: string; meaning: string }[] = [
  { token: "timestamp", meaning: "build start, UTC: YYYYMMDD_HHMMSS" },
  { token: "date", meaning: "build start date, UTC: YYYYMMDD" },
  { token: "time", meaning: "build start time, UTC: HHMMSS" },
  { token: "board", meaning: "motherboard model" },
  { token: "customer", meaning: "customer name" },
  { token: "job", meaning: "first 8 hex digits of the job id" },
  { token: "edition", meaning: "edition id of the image (unknown without one)" },
  { token: "build", meaning: "Windows build number of the image (unknown without one)" },
  { token: "index", meaning: "image index in the base image" },
  { token: "variant", meaning: "both when a job builds the key and no-key variants; empty otherwise" },
];

const KNOWN = new Set(NAMING_TOKENS.map((t) => t.token));

/** Characters Windows (and so SMB clients) refuse in a folder name. */
const FORBIDDEN = new Set(["/", "\\", ":", "*", "?", '"', "<", ">", "|"]);

function isHidden(c: string): boolean {
  const code = c.codePointAt(0) ?? 0;
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * The first problem with a template, worded for the form, or null when the server's
 * checker would accept it. Positions are 1-based characters, as the server counts.
 */
export function templateProblem(template: string): string | null {
  if (template.trim() === "") return "Enter a template, or leave it empty for the default.";
  const chars = Array.from(template);
  if (chars.length > MAX_TEMPLATE_CHARS)
    return `The template is ${chars.length} characters long (at most ${MAX_TEMPLATE_CHARS}).`;
  let open = -1;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? "";
    const at = i + 1;
    if (c === "{") {
      if (open >= 0) return `Unbalanced “{” at character ${at} (tokens look like {board}).`;
      open = i;
    } else if (c === "}") {
      if (open < 0) return `Unbalanced “}” at character ${at} (tokens look like {board}).`;
      const name = chars.slice(open + 1, i).join("");
      if (!KNOWN.has(name)) return `Unknown token {${name}}. Use one of the tokens listed below.`;
      open = -1;
    } else if (open < 0 && (FORBIDDEN.has(c) || isHidden(c))) {
      return `“${isHidden(c) ? "control character" : c}” at character ${at} is not allowed in a folder name.`;
    }
  }
  if (open >= 0) return `Unbalanced “{” at character ${open + 1} (tokens look like {board}).`;
  return null;
}

/** What the form saves: a blank template means the default (null). */
export function templateToSave(input: string): string | null {
  return input.trim() === "" ? null : input;
}

/**
 * The preview request for what is typed: the default template when blank, nothing when
 * the quick check already knows the template is wrong (no request is worth sending).
 */
export function previewRequest(
  input: string,
  customer: string,
): { naming_template: string; customer?: string } | null {
  const template = templateToSave(input) ?? DEFAULT_TEMPLATE;
  if (templateProblem(template)) return null;
  // a name still being typed that is not yet valid previews as the example customer
  const name = customer.trim();
  return CUSTOMER_PATTERN.test(name) ? { naming_template: template, customer: name } : { naming_template: template };
}

/** Read the defaults textarea: a JSON object, or a message for the field. */
export function parseDefaults(text: string): { value: Record<string, unknown> } | { error: string } {
  if (text.trim() === "") return { value: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: "Defaults must be JSON, e.g. {\"compression\": \"lzms\"}." };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    return { error: "Defaults must be a JSON object." };
  return { value: parsed as Record<string, unknown> };
}
