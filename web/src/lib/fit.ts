// Which repository files fit the chosen image, and why not when they do not.
import type { ImageIndex, RepoFile } from "../types/api";

export interface Fit {
  fits: boolean;
  reason: string | null;
}

/** Packages and software that name an arch or build must match the image's. */
export function fitFor(file: RepoFile, image: ImageIndex | undefined, customer: string): Fit {
  if (file.error) return { fits: false, reason: file.error };
  if (!file.info) return { fits: false, reason: "not recognised as a package" };
  if (!image) return { fits: true, reason: null };
  const info = file.info;
  if (info.arch && image.arch && info.arch.toLowerCase() !== image.arch.toLowerCase())
    return { fits: false, reason: `for ${info.arch}, the image is ${image.arch}` };
  if (info.build && image.build && info.build !== image.build)
    return { fits: false, reason: `for build ${info.build}, the image is build ${image.build}` };
  if (file.customer && customer && file.customer !== customer)
    return { fits: false, reason: `belongs to customer ${file.customer}` };
  return { fits: true, reason: null };
}
