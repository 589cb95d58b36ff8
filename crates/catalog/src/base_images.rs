//! Base images in `1_BaseImages/` and the identity of each image index.

use std::path::Path;

use wait_wim::{ImageInfo, Wim};

use crate::{Arch, BaseImage, CatalogError, ImageIdentity, Repository, Result, walk};

const FIELD: &str = "base_image";
const INDEX_FIELD: &str = "image_index";

/// Formats listed in `1_BaseImages/`, by lower-case extension.
const FORMATS: [&str; 4] = ["wim", "esd", "swm", "iso"];

fn format_of(name: &str) -> Option<String> {
    let ext = walk::extension(name)?.to_ascii_lowercase();
    FORMATS.contains(&ext.as_str()).then_some(ext)
}

/// Identities of a base image file. Every part of a split set carries the XML, so a
/// `.swm` part is read like a WIM; an ISO's install image is found with the ISO reader
/// and only its header and XML are streamed out of the ISO.
fn identities(path: &Path, format: &str) -> Result<Vec<ImageIdentity>> {
    if format != "iso" {
        return wim_identities(path);
    }
    let (_, images, problems) = crate::scan::iso::read(path);
    if images.is_empty() {
        return Err(CatalogError::Invalid {
            field: FIELD,
            message: problems.join("; "),
        });
    }
    Ok(images)
}

pub(crate) fn list(repo: &Repository) -> Result<Vec<BaseImage>> {
    let dir = repo.root().join("1_BaseImages");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in walk::read_dir_sorted(&dir)? {
        if entry.is_dir {
            continue;
        }
        let Ok(name) = entry.name.into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let Some(format) = format_of(&name) else {
            continue;
        };
        // Goes through `resolve` so a symlink pointing outside the repository is refused.
        let path = match repo.resolve(FIELD, "1_BaseImages", &name) {
            Ok(path) => path,
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "skipping base image");
                continue;
            }
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let mut base = BaseImage {
            name,
            format,
            size: meta.len(),
            images: Vec::new(),
            problems: Vec::new(),
        };
        {
            match identities(&path, &base.format) {
                Ok(images) => base.images = images,
                Err(e) => {
                    tracing::warn!(file = %base.name, error = %e, "base image cannot be read");
                    base.problems.push(e.to_string());
                }
            }
        }
        out.push(base);
    }
    Ok(out)
}

pub(crate) fn one(repo: &Repository, name: &str) -> Result<BaseImage> {
    let path = repo.resolve(FIELD, "1_BaseImages", name)?;
    let meta = match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => {
            return Err(CatalogError::NotFound {
                field: FIELD,
                name: name.to_string(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CatalogError::NotFound {
                field: FIELD,
                name: name.to_string(),
            });
        }
        Err(e) => return Err(CatalogError::io(&path, e)),
    };
    let Some(format) = format_of(name) else {
        return Err(CatalogError::Invalid {
            field: FIELD,
            message: format!("{name:?} is not a base image (expected .wim, .esd, .swm or .iso)"),
        });
    };
    let images = identities(&path, &format)?;
    Ok(BaseImage {
        name: name.to_string(),
        format,
        size: meta.len(),
        images,
        problems: Vec::new(),
    })
}

/// Identity of every image index in a WIM or ESD file.
pub fn wim_identities(path: &Path) -> Result<Vec<ImageIdentity>> {
    let wim = Wim::open(path).map_err(|e| CatalogError::wim(path, e))?;
    let mut out = Vec::new();
    for index in 1..=wim.image_count() {
        let info = wim
            .image_info(index)
            .map_err(|e| CatalogError::wim(path, e))?;
        let mut identity = identity_from_info(index, info);
        if identity.build.is_none() {
            // Some tools write BUILD without the rest of VERSION.
            identity.build = wim
                .image_property(index, "WINDOWS/VERSION/BUILD")
                .ok()
                .flatten()
                .and_then(|b| b.trim().parse().ok());
        }
        out.push(identity);
    }
    Ok(out)
}

/// Map wimlib's view of an image onto the catalog's identity.
pub fn identity_from_info(index: u32, info: ImageInfo) -> ImageIdentity {
    ImageIdentity {
        index,
        name: info.name.unwrap_or_default(),
        edition: info.edition_id,
        product_name: info.product_name,
        installation_type: info.installation_type,
        arch: info.arch.and_then(Arch::from_wim),
        version: info
            .version
            .map(|(major, minor, build, sp)| format!("{major}.{minor}.{build}.{sp}")),
        build: info.version.map(|(_, _, build, _)| build),
        languages: info.languages,
        size: info.total_bytes.unwrap_or(0),
    }
}

pub(crate) fn select_index(base: &BaseImage, wanted: &str) -> Result<ImageIdentity> {
    let wanted = wanted.trim();
    if wanted.is_empty() {
        return Err(CatalogError::Invalid {
            field: INDEX_FIELD,
            message: "is empty (give an index such as 1 or an edition such as IoTEnterpriseS)"
                .into(),
        });
    }
    if base.images.is_empty() {
        return Err(CatalogError::NotFound {
            field: INDEX_FIELD,
            name: format!("{wanted} (no image identities are known for {})", base.name),
        });
    }
    if wanted.bytes().all(|b| b.is_ascii_digit()) {
        let count = base.images.len();
        let Ok(index) = wanted.parse::<u32>() else {
            return Err(CatalogError::Invalid {
                field: INDEX_FIELD,
                message: format!(
                    "{wanted} is out of range ({} has {count} image(s))",
                    base.name
                ),
            });
        };
        if index == 0 {
            return Err(CatalogError::Invalid {
                field: INDEX_FIELD,
                message: "image indexes start at 1".into(),
            });
        }
        return base
            .images
            .iter()
            .find(|i| i.index == index)
            .cloned()
            .ok_or_else(|| CatalogError::NotFound {
                field: INDEX_FIELD,
                name: format!("{index} ({} has {count} image(s))", base.name),
            });
    }
    if wanted.starts_with('-')
        && wanted[1..].bytes().all(|b| b.is_ascii_digit())
        && wanted.len() > 1
    {
        return Err(CatalogError::Invalid {
            field: INDEX_FIELD,
            message: "image indexes start at 1".into(),
        });
    }
    let by_name: Vec<&ImageIdentity> = base
        .images
        .iter()
        .filter(|i| i.name.eq_ignore_ascii_case(wanted))
        .collect();
    let by_edition: Vec<&ImageIdentity> = base
        .images
        .iter()
        .filter(|i| {
            i.edition
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(wanted))
        })
        .collect();
    let chosen = match (by_name.as_slice(), by_edition.as_slice()) {
        ([one], _) => *one,
        ([], [one]) => *one,
        ([], []) => {
            return Err(CatalogError::NotFound {
                field: INDEX_FIELD,
                name: wanted.to_string(),
            });
        }
        (names, editions) => {
            let list = if names.is_empty() { editions } else { names };
            let indexes: Vec<String> = list.iter().map(|i| i.index.to_string()).collect();
            return Err(CatalogError::Invalid {
                field: INDEX_FIELD,
                message: format!(
                    "{wanted:?} matches images {}; give the index instead",
                    indexes.join(", ")
                ),
            });
        }
    };
    Ok(chosen.clone())
}
