//! Base images: which image a request means (`base_image` + `index`), the
//! `/base-images` listing, and the version folders that fit an image
//! (`/compatible-versions`).

use serde::Serialize;
use wait_catalog::scan::identity_tokens;
use wait_catalog::token::DriverToken;
use wait_catalog::{Arch, ImageIdentity, Repository};

use super::errors::{catalog_error, unreadable};
use super::tree;
use crate::error::ApiError;
use crate::routes::params;

/// The image a request names: a file in `1_BaseImages/` and an index or edition in it.
#[derive(Debug, Clone)]
pub(super) struct Choice {
    base_image: String,
    index: String,
}

impl Choice {
    /// A base image name: one plain file name (422 naming `base_image` otherwise).
    pub(super) fn base_image_name(raw: &str) -> Result<String, ApiError> {
        wait_catalog::validate_name("base_image", raw)
            .map_err(|e| catalog_error("base_image", e))?;
        Ok(raw.to_string())
    }

    /// Both parameters must be usable; `index` defaults to 1.
    pub(super) fn required(
        base_image: Option<&str>,
        index: Option<&str>,
    ) -> Result<Self, ApiError> {
        let base_image = Self::base_image_name(params::required("base_image", base_image)?)?;
        let index = params::text("index", index)?.unwrap_or_else(|| "1".to_string());
        Ok(Choice { base_image, index })
    }

    /// None when neither parameter is given; `index` alone is a 400 naming `base_image`.
    pub(super) fn optional(
        base_image: Option<&str>,
        index: Option<&str>,
    ) -> Result<Option<Self>, ApiError> {
        if params::present(base_image).is_none() && params::present(index).is_none() {
            return Ok(None);
        }
        Self::required(base_image, index).map(Some)
    }

    /// Read the base image and pick the image (404/422 naming `base_image` or `index`).
    pub(super) fn select(&self, repo: &Repository) -> Result<Selected, ApiError> {
        let base = repo
            .base_image(&self.base_image)
            .map_err(|e| catalog_error("base_image", e))?;
        let identity = wait_catalog::select_index(&base, &self.index)
            .map_err(|e| catalog_error("index", e))?;
        Ok(Selected {
            base_image: base.name,
            identity,
        })
    }
}

/// A chosen image with its identity.
#[derive(Debug, Clone)]
pub(super) struct Selected {
    pub base_image: String,
    pub identity: ImageIdentity,
}

impl Selected {
    pub(super) fn view(&self) -> ImageRef {
        ImageRef::new(&self.base_image, &self.identity)
    }
}

/// An image as the answers name it, with the version folder names that describe it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct ImageRef {
    pub base_image: String,
    pub index: u32,
    pub name: String,
    pub edition: Option<String>,
    #[schema(value_type = Option<crate::openapi::mirrors::Arch>)]
    pub arch: Option<Arch>,
    pub build: Option<u32>,
    pub version: Option<String>,
    pub languages: Vec<String>,
    /// e.g. `WINDOWS11_X64`, `WIN11_24H2`, `WIN11_IOT_24H2_X64`.
    pub tokens: Vec<String>,
}

impl ImageRef {
    fn new(base_image: &str, image: &ImageIdentity) -> Self {
        ImageRef {
            base_image: base_image.to_string(),
            index: image.index,
            name: image.name.clone(),
            edition: image.edition.clone(),
            arch: image.arch,
            build: image.build,
            version: image.version.clone(),
            languages: image.languages.clone(),
            tokens: identity_tokens(image),
        }
    }
}

/// `GET /api/resources/base-images`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BaseImages {
    pub base_images: Vec<BaseImageView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BaseImageView {
    /// File name inside `1_BaseImages/`.
    pub name: String,
    /// "wim", "esd", "swm" or "iso".
    pub format: String,
    pub size: u64,
    /// Architecture, build, version and edition of the first image in the file.
    #[schema(value_type = Option<crate::openapi::mirrors::Arch>)]
    pub arch: Option<Arch>,
    pub build: Option<u32>,
    pub version: Option<String>,
    pub edition: Option<String>,
    /// The edition of every image, in index order.
    pub editions: Vec<String>,
    /// Languages of all images, each once.
    pub languages: Vec<String>,
    pub images: Vec<ImageView>,
    /// Why the file could not be read; its images are then unknown.
    pub problems: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ImageView {
    #[serde(flatten)]
    #[schema(value_type = crate::openapi::mirrors::ImageIdentity)]
    pub identity: ImageIdentity,
    pub tokens: Vec<String>,
}

pub(super) fn base_images(repo: &Repository) -> Result<BaseImages, ApiError> {
    let list = repo.base_images().map_err(unreadable)?;
    let base_images = list
        .into_iter()
        .map(|base| {
            let first = base.images.first();
            let mut languages: Vec<String> = Vec::new();
            for lang in base.images.iter().flat_map(|i| &i.languages) {
                if !languages.contains(lang) {
                    languages.push(lang.clone());
                }
            }
            BaseImageView {
                arch: first.and_then(|i| i.arch),
                build: first.and_then(|i| i.build),
                version: first.and_then(|i| i.version.clone()),
                edition: first.and_then(|i| i.edition.clone()),
                editions: base
                    .images
                    .iter()
                    .filter_map(|i| i.edition.clone())
                    .collect(),
                languages,
                images: base
                    .images
                    .into_iter()
                    .map(|identity| ImageView {
                        tokens: identity_tokens(&identity),
                        identity,
                    })
                    .collect(),
                name: base.name,
                format: base.format,
                size: base.size,
                problems: base.problems,
            }
        })
        .collect();
    Ok(BaseImages { base_images })
}

/// `GET /api/resources/compatible-versions`: per image, the version folders of the
/// repository whose token fits it, most specific first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CompatibleVersions {
    pub base_image: String,
    pub images: Vec<CompatibleImage>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CompatibleImage {
    pub image: ImageRef,
    pub folders: Vec<VersionFolder>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct VersionFolder {
    /// "drivers", "langpacks", "updates", "answer_files" or "software".
    #[schema(value_type = String)]
    pub kind: &'static str,
    /// Repository-relative path of the folder.
    pub path: String,
    /// The board (drivers, answer files) or customer (updates, software) it belongs to.
    pub owner: Option<String>,
    pub token: String,
    /// Higher is more specific.
    pub score: u32,
    pub reason: String,
}

/// Where version folders sit: (kind, top folder, whether a board/customer folder comes
/// first).
const VERSION_FOLDERS: [(&str, &str, bool); 5] = [
    ("drivers", "2_Drivers", true),
    ("langpacks", "3_LangPacks", false),
    ("updates", "4_Updates", true),
    ("answer_files", "5_AnswerFiles", true),
    ("software", "6_Software", true),
];

/// A version folder of the repository.
struct Found {
    kind: &'static str,
    owner: Option<String>,
    token: String,
    path: String,
}

fn version_folders(repo: &Repository) -> Result<Vec<Found>, ApiError> {
    let mut out = Vec::new();
    for (kind, top, owned) in VERSION_FOLDERS {
        let dir = repo.root().join(top);
        let owners = if owned {
            tree::subdirs(&dir)?.into_iter().map(Some).collect()
        } else {
            vec![None]
        };
        for owner in owners {
            let (owner_dir, prefix) = match &owner {
                Some(o) => (dir.join(o), format!("{top}/{o}")),
                None => (dir.clone(), top.to_string()),
            };
            for token in tree::subdirs(&owner_dir)? {
                out.push(Found {
                    kind,
                    owner: owner.clone(),
                    path: format!("{prefix}/{token}"),
                    token,
                });
            }
        }
    }
    Ok(out)
}

pub(super) fn compatible_versions(
    repo: &Repository,
    base_image: &str,
    index: Option<&str>,
) -> Result<CompatibleVersions, ApiError> {
    let base = repo
        .base_image(base_image)
        .map_err(|e| catalog_error("base_image", e))?;
    let images = match index {
        Some(index) => {
            vec![wait_catalog::select_index(&base, index).map_err(|e| catalog_error("index", e))?]
        }
        None => base.images.clone(),
    };
    let folders = version_folders(repo)?;
    let images = images
        .iter()
        .map(|image| {
            let mut fitting: Vec<VersionFolder> = folders
                .iter()
                .filter_map(|f| {
                    let fit = DriverToken::parse(&f.token)
                        .ok()?
                        .fit(&f.token, image)
                        .ok()?;
                    Some(VersionFolder {
                        kind: f.kind,
                        path: f.path.clone(),
                        owner: f.owner.clone(),
                        token: f.token.clone(),
                        score: fit.score,
                        reason: fit.reason,
                    })
                })
                .collect();
            fitting.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.path.cmp(&b.path)));
            CompatibleImage {
                image: ImageRef::new(&base.name, image),
                folders: fitting,
            }
        })
        .collect();
    Ok(CompatibleVersions {
        base_image: base.name,
        images,
    })
}
