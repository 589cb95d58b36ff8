//! The resolve stage: turn a job request into concrete files, each hashed and recorded,
//! before any heavy work starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use wait_catalog::components::{ComponentKind, FoundComponent};
use wait_catalog::{DriverSet, ImageIdentity, Repository};
use wait_store::{Job, JobRequest, Resource};

use crate::IMAGE_DRIVER_ROOT;
use crate::PipelineError;
use crate::checksum::staged_digest_until;
use crate::manifest::StagedFile;
use crate::plan::file_name_of;
use crate::report::Reporter;

/// Everything the resolve stage found, before any heavy work.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub(crate) base_path: PathBuf,
    pub(crate) identity: ImageIdentity,
    pub(crate) driver_set: DriverSet,
    pub(crate) driver_files: Vec<(PathBuf, StagedFile)>,
    pub(crate) answer: Option<(String, String)>,
    /// Language packs, then updates, then software, each in request order.
    pub(crate) components: Vec<FoundComponent>,
    pub(crate) resources: Vec<Resource>,
    /// The ISO in `1_BaseImages` whose Setup media an ISO output is made from (the base
    /// itself when it is an ISO); None without ISO output.
    pub(crate) install_media: Option<String>,
}

/// Hashes inputs through the content-hash cache when the worker has one, so a
/// multi-GB base image is read once, not once per build. Every hash watches the job's
/// cancel flag: a cold base image takes many seconds to read, and a cancel must not
/// wait for it.
pub(crate) struct Hasher {
    cache: Option<wait_catalog::HashCache>,
    cancel: Arc<AtomicBool>,
}

impl Hasher {
    pub(crate) fn new(cache_file: Option<&Path>, cancel: Arc<AtomicBool>) -> Self {
        let cache = cache_file.map(|f| {
            wait_catalog::HashCache::open(f).unwrap_or_else(|_| wait_catalog::HashCache::empty(f))
        });
        Self { cache, cancel }
    }

    fn hash(&mut self, path: &Path) -> Result<wait_catalog::HashedFile, PipelineError> {
        use wait_catalog::hash_cache::{HashStop, hash_file_until};
        let hashed = match &mut self.cache {
            Some(cache) => cache.hash_until(path, &self.cancel),
            None => hash_file_until(path, &self.cancel),
        };
        hashed.map_err(|stop| match stop {
            HashStop::Cancelled => PipelineError::Cancelled,
            HashStop::Failed(e) => e.into(),
        })
    }

    /// Size, SHA-1 and SHA-256 of a file that goes into the image, stopping on cancel.
    fn staged(&self, path: &Path) -> Result<(u64, String, String), PipelineError> {
        staged_digest_until(path, &self.cancel)
    }

    /// Keep what was learned. A cache that cannot be saved only costs time later.
    pub(crate) fn save(&mut self, r: &Reporter) {
        if let Some(cache) = &mut self.cache {
            if let Err(e) = cache.save() {
                r.verbose("resolve", || format!("hash cache not saved: {e}"));
            }
        }
    }
}

pub(crate) fn resolve(
    job: &Job,
    repo: &Repository,
    r: &Reporter,
    warnings: &mut Vec<String>,
    hasher: &mut Hasher,
) -> Result<Resolved, PipelineError> {
    let req = &job.request;
    let base = repo.base_image(&req.base_image)?;
    let identity = wait_catalog::select_index(&base, &req.image_index)?;
    let base_path = repo.resolve("base_image", "1_BaseImages", &req.base_image)?;
    r.info(
        "resolve",
        format!(
            "Base image {} index {}: {} {} build {} {}",
            req.base_image,
            identity.index,
            identity.name,
            identity.edition.as_deref().unwrap_or("?"),
            identity.version.as_deref().unwrap_or("?"),
            identity.arch.map(|a| a.as_str()).unwrap_or("?"),
        ),
    );
    let driver_set = choose_driver_set(repo, req, &identity, r)?;

    let mut resources = Vec::new();
    r.info("resolve", format!("Hashing {}", req.base_image));
    let hashed = hasher.hash(&base_path)?;
    resources.push(Resource {
        kind: "base_image".into(),
        path: format!("1_BaseImages/{}", req.base_image),
        sha256: hashed.sha256,
        size: hashed.size,
    });
    r.check_cancel()?;

    let set_dir = repo.root().join(&driver_set.path);
    let mut driver_files = Vec::new();
    for host in walk_files(&set_dir, warnings, r)? {
        let rel = host.strip_prefix(&set_dir).map_err(|_| {
            PipelineError::Permanent(format!(
                "{} is outside {}",
                host.display(),
                set_dir.display()
            ))
        })?;
        let rel = rel.to_string_lossy().replace('\\', "/");
        let (size, sha1, sha256) = hasher.staged(&host)?;
        resources.push(Resource {
            kind: "driver".into(),
            path: format!("{}/{}", driver_set.path, rel),
            sha256: sha256.clone(),
            size,
        });
        r.verbose("resolve", || {
            format!("driver file {}/{rel} ({size} bytes)", driver_set.path)
        });
        driver_files.push((
            host,
            StagedFile {
                image_path: format!("{IMAGE_DRIVER_ROOT}/{rel}"),
                size,
                sha1,
                sha256,
            },
        ));
    }
    if driver_files.is_empty() {
        return Err(PipelineError::Permanent(format!(
            "driver_set: {} holds no files",
            driver_set.path
        )));
    }

    let answer = match &req.answer_file {
        Some(name) => {
            let rel = name.strip_prefix("5_AnswerFiles/").unwrap_or(name);
            let path = repo.resolve("answer_file", "5_AnswerFiles", rel)?;
            let text = read_text(&path)?;
            let hashed = hasher.hash(&path)?;
            let shown = format!("5_AnswerFiles/{rel}");
            resources.push(Resource {
                kind: "answer_file".into(),
                path: shown.clone(),
                sha256: hashed.sha256,
                size: hashed.size,
            });
            Some((shown, text))
        }
        None => None,
    };
    let mut components = Vec::new();
    for (kind, names) in [
        (ComponentKind::LangPack, &req.langpacks),
        (ComponentKind::Update, &req.updates),
        (ComponentKind::Software, &req.software),
    ] {
        for name in names {
            r.check_cancel()?;
            let found = repo
                .locate_component(kind, &req.customer_name, name, &identity)
                .map_err(|e| PipelineError::Permanent(e.to_string()))?;
            r.info(
                "resolve",
                format!("{}: {} ({})", kind.field(), found.rel, found.reason),
            );
            let hashed = hasher.hash(&found.path)?;
            resources.push(Resource {
                kind: kind.resource_kind().into(),
                path: found.rel.clone(),
                sha256: hashed.sha256,
                size: hashed.size,
            });
            let twice = components.iter().any(|c: &FoundComponent| {
                c.kind == kind && file_name_of(c) == file_name_of(&found)
            });
            if twice {
                return Err(PipelineError::Permanent(format!(
                    "{}: {name} is named twice",
                    kind.field()
                )));
            }
            // The silent switches beside an .exe are staged with it and shape its
            // command: an input like the installer itself.
            if let Some(sidecar) = crate::plan::switches_sidecar(&found) {
                let hashed = hasher.hash(&sidecar)?;
                resources.push(Resource {
                    kind: kind.resource_kind().into(),
                    path: format!("{}.switches", found.rel),
                    sha256: hashed.sha256,
                    size: hashed.size,
                });
            }
            components.push(found);
        }
    }
    add_checkpoints(&mut components, &mut resources, hasher, r)?;
    let install_media = install_media(req, repo, &identity)?;
    if let Some(media) = install_media.as_ref().filter(|m| **m != req.base_image) {
        r.check_cancel()?;
        let path = repo.resolve("create_iso", "1_BaseImages", media)?;
        r.info(
            "resolve",
            format!("Setup media for the ISO: 1_BaseImages/{media}"),
        );
        let hashed = hasher.hash(&path)?;
        resources.push(Resource {
            kind: "install_media".into(),
            path: format!("1_BaseImages/{media}"),
            sha256: hashed.sha256,
            size: hashed.size,
        });
    }
    r.info("resolve", format!("Recorded {} inputs", resources.len()));
    Ok(Resolved {
        base_path,
        identity,
        driver_set,
        driver_files,
        answer,
        components,
        resources,
        install_media,
    })
}

/// Whether `path` ends in `.ext`, ignoring case as Windows does.
pub(crate) fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case(ext))
}

/// Which ISO's Setup media an ISO output is made from: the base when it is an ISO, else
/// an ISO in `1_BaseImages` with the base's build and architecture.
fn install_media(
    req: &JobRequest,
    repo: &Repository,
    identity: &ImageIdentity,
) -> Result<Option<String>, PipelineError> {
    if !req.create_iso {
        return Ok(None);
    }
    if has_extension(Path::new(&req.base_image), "iso") {
        return Ok(Some(req.base_image.clone()));
    }
    let media = repo
        .install_media_for(&req.base_image, identity)
        .map_err(|e| PipelineError::Permanent(e.to_string()))?;
    match media {
        Some(name) => Ok(Some(name)),
        None => Err(PipelineError::Permanent(format!(
            "create_iso: no install ISO in 1_BaseImages has the build and architecture of {}",
            req.base_image
        ))),
    }
}

/// Stage the checkpoint updates the selected cumulative updates need, from the same
/// folder, right before the update that needs them: DISM installs a checkpoint first
/// and finds it beside the target. A needed checkpoint that is not there fails the
/// build here, before any heavy work.
fn add_checkpoints(
    components: &mut Vec<FoundComponent>,
    resources: &mut Vec<Resource>,
    hasher: &mut Hasher,
    r: &Reporter,
) -> Result<(), PipelineError> {
    use wait_catalog::components::{ComponentDetail, ComponentKind};
    use wait_catalog::packages::{PackageKind, inspect_package, plan_updates};

    let mut out: Vec<FoundComponent> = Vec::with_capacity(components.len());
    for c in components.drain(..) {
        let ComponentDetail::Package(info) = &c.detail else {
            out.push(c);
            continue;
        };
        if c.kind != ComponentKind::Update || info.kind == PackageKind::Cab {
            out.push(c);
            continue;
        }
        let Some(folder) = c.path.parent() else {
            out.push(c);
            continue;
        };
        let mut available = Vec::new();
        let entries = std::fs::read_dir(folder).map_err(|e| PipelineError::io(folder, e))?;
        for entry in entries.flatten() {
            // Each candidate is opened and read; a folder of big updates takes a while.
            r.check_cancel()?;
            let p = entry.path();
            let is_msu = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("msu"));
            if is_msu && p != c.path {
                if let Ok(found) = inspect_package(&p) {
                    available.push(found);
                }
            }
        }
        let plan = plan_updates(std::slice::from_ref(info), &available);
        if let Some(m) = plan.missing.first() {
            return Err(PipelineError::Permanent(format!(
                "updates: {} needs checkpoint update {} ({}), which is not in {}",
                m.for_file,
                m.kb,
                m.version,
                c.rel.rsplit_once('/').map_or(c.rel.as_str(), |(d, _)| d)
            )));
        }
        for note in &plan.notes {
            r.info("resolve", note.clone());
        }
        for step in &plan.updates {
            for file in &step.checkpoints {
                let already = out
                    .iter()
                    .any(|o| o.kind == ComponentKind::Update && file_name_of(o) == file);
                let Some(cp) = available.iter().find(|a| &a.file == file) else {
                    continue;
                };
                if already {
                    continue;
                }
                let path = folder.join(file);
                let rel = match c.rel.rsplit_once('/') {
                    Some((dir, _)) => format!("{dir}/{file}"),
                    None => file.clone(),
                };
                let hashed = hasher.hash(&path)?;
                resources.push(Resource {
                    kind: "update".into(),
                    path: rel.clone(),
                    sha256: hashed.sha256,
                    size: hashed.size,
                });
                r.info(
                    "resolve",
                    format!(
                        "updates: staging checkpoint {rel} before {} (DISM needs it first)",
                        c.rel
                    ),
                );
                out.push(FoundComponent {
                    kind: ComponentKind::Update,
                    path,
                    rel,
                    detail: ComponentDetail::Package(Box::new(cp.clone())),
                    reason: format!("checkpoint needed by {}", c.rel),
                });
            }
        }
        out.push(c);
    }
    *components = out;
    Ok(())
}

pub(crate) fn choose_driver_set(
    repo: &Repository,
    req: &JobRequest,
    identity: &ImageIdentity,
    r: &Reporter,
) -> Result<DriverSet, PipelineError> {
    let board = &req.motherboard_model;
    if let Some(name) = &req.driver_set {
        let set = repo
            .driver_sets(board)?
            .into_iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| {
                PipelineError::Permanent(format!(
                    "driver_set: {board}/{name} not found in 2_Drivers"
                ))
            })?;
        r.info(
            "resolve",
            format!("Driver set {} (chosen by the request)", set.path),
        );
        return Ok(set);
    }
    match repo.recommend_driver_set(board, identity)? {
        Some(rec) => {
            r.info(
                "resolve",
                format!(
                    "Driver set {} (recommended: {})",
                    rec.driver_set.path, rec.reason
                ),
            );
            Ok(rec.driver_set)
        }
        None => Err(PipelineError::Permanent(format!(
            "driver_set: no driver set of board {board} fits {} build {}",
            identity.arch.map(|a| a.as_str()).unwrap_or("unknown arch"),
            identity
                .build
                .map(|b| b.to_string())
                .unwrap_or_else(|| "unknown".into())
        ))),
    }
}

/// Regular files under `dir`, sorted, without following symlinks (a link in a driver
/// folder could point anywhere on the host, so it is skipped with a warning).
pub(crate) fn walk_files(
    dir: &Path,
    warnings: &mut Vec<String>,
    r: &Reporter,
) -> Result<Vec<PathBuf>, PipelineError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        // A driver tree can hold many thousands of folders (or sit on a slow share).
        r.check_cancel()?;
        let entries = std::fs::read_dir(&d).map_err(|e| PipelineError::io(&d, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| PipelineError::io(&d, e))?;
            let ft = entry
                .file_type()
                .map_err(|e| PipelineError::io(entry.path(), e))?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                out.push(entry.path());
            } else {
                let w = format!("skipped {} (not a regular file)", entry.path().display());
                r.info("resolve", format!("Warning: {w}"));
                warnings.push(w);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Answer files are UTF-8, or UTF-16LE with a byte-order mark as some editors save them.
pub(crate) fn read_text(path: &Path) -> Result<String, PipelineError> {
    let bytes = std::fs::read(path).map_err(|e| PipelineError::io(path, e))?;
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units)
            .map_err(|_| PipelineError::Permanent(format!("{}: invalid UTF-16", path.display())));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec())
        .map_err(|_| PipelineError::Permanent(format!("{}: not UTF-8 or UTF-16LE", path.display())))
}
