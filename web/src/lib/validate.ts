// Client-side checks that mirror the server's, so mistakes show before a round trip.
// The server still decides: its 400/422 answers are shown at the field they name.
import type { JobRequest } from "../types/api";

/** Five groups of five letters or digits, dash-separated (Windows product key). */
export const PRODUCT_KEY_PATTERN = /^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$/;

/** Upper-cases and inserts dashes as the user types, up to 29 characters. */
export function normaliseProductKey(raw: string): string {
  const chars = raw.toUpperCase().replace(/[^A-Z0-9]/g, "").slice(0, 25);
  const groups = chars.match(/.{1,5}/g) ?? [];
  return groups.join("-");
}

export function productKeyError(key: string): string | null {
  if (key === "") return null;
  if (!PRODUCT_KEY_PATTERN.test(key))
    return "A product key is five groups of five letters or digits: XXXXX-XXXXX-XXXXX-XXXXX-XXXXX.";
  return null;
}

export const CUSTOMER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export type FieldErrors = Partial<Record<keyof JobRequest | "form", string>>;

/** Every problem the form can know about before sending, keyed by API field name. */
export function validateJobRequest(req: JobRequest): FieldErrors {
  const errors: FieldErrors = {};
  if (!req.motherboard_model.trim()) errors.motherboard_model = "Choose a motherboard.";
  if (!req.base_image.trim()) errors.base_image = "Choose a base image.";
  if (req.customer_name !== undefined && req.customer_name !== "") {
    if (!CUSTOMER_PATTERN.test(req.customer_name))
      errors.customer_name =
        "Use letters, digits, dot, dash or underscore (up to 64 characters), starting with a letter or digit.";
  }
  if (req.product_key) {
    const problem = productKeyError(req.product_key);
    if (problem) errors.product_key = problem;
  }
  if ((req.key_variants === "key" || req.key_variants === "both") && !req.product_key)
    errors.key_variants = "An image with a key needs a product key.";
  return errors;
}
