//! What a build needs besides the install image: the install media an ISO output is
//! made from (boot files and the Setup tree), and every part of a split base image.

use std::path::PathBuf;
use std::time::SystemTime;

use wait_wim::{Wim, WimError};

use crate::{BaseImage, CatalogError, ImageIdentity, Repository, Result, walk};

const FIELD: &str = "base_image";
const BASE_FOLDER: &str = "1_BaseImages";

/// An ISO in `1_BaseImages/` that could serve as install media.
#[derive(Debug, Clone)]
struct Candidate {
    base: BaseImage,
    modified: SystemTime,
}

fn is_iso(name: &str) -> bool {
    walk::extension(name).is_some_and(|e| e.eq_ignore_ascii_case("iso"))
}

/// Whether `image` is a build of the same Windows release and architecture. Unknown
/// values never match: boot files of a guessed build may not start the image.
fn same_build_and_arch(image: &ImageIdentity, wanted: &ImageIdentity) -> bool {
    image.build.is_some()
        && image.arch.is_some()
        && image.build == wanted.build
        && image.arch == wanted.arch
}

fn same_edition(image: &ImageIdentity, wanted: &ImageIdentity) -> bool {
    match (&image.edition, &wanted.edition) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// The rules of [`Repository::install_media_for`] for an install image that is not an
/// ISO: among ISOs holding an image of the same build and architecture, one with the
/// same edition wins, then the most recently modified file, then the first name.
fn choose<'a>(candidates: &'a [Candidate], wanted: &ImageIdentity) -> Option<&'a str> {
    candidates
        .iter()
        .filter(|c| c.base.images.iter().any(|i| same_build_and_arch(i, wanted)))
        .min_by(|a, b| {
            let edition = |c: &Candidate| {
                c.base
                    .images
                    .iter()
                    .any(|i| same_build_and_arch(i, wanted) && same_edition(i, wanted))
            };
            edition(b)
                .cmp(&edition(a))
                .then(b.modified.cmp(&a.modified))
                .then(a.base.name.cmp(&b.base.name))
        })
        .map(|c| c.base.name.as_str())
}

impl Repository {
    /// The ISO in `1_BaseImages/` whose boot files and Setup tree an ISO output of
    /// `base` (image `identity`) is built from. An ISO base image is its own media. For
    /// a WIM, ESD or SWM, an ISO whose install image has the same build and
    /// architecture is chosen (same edition first, then the newest file); `None` when
    /// there is none. ISOs that cannot be read are skipped.
    pub fn install_media_for(
        &self,
        base: &str,
        identity: &ImageIdentity,
    ) -> Result<Option<String>> {
        if is_iso(base) {
            return Ok(Some(base.to_string()));
        }
        let candidates = self.iso_candidates()?;
        Ok(choose(&candidates, identity).map(str::to_string))
    }

    fn iso_candidates(&self) -> Result<Vec<Candidate>> {
        let dir = self.root().join(BASE_FOLDER);
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
            if name.starts_with('.') || !is_iso(&name) {
                continue;
            }
            let base = match self.base_image(&name) {
                Ok(base) => base,
                Err(e) => {
                    tracing::warn!(file = %name, error = %e, "ISO skipped as install media");
                    continue;
                }
            };
            let path = self.resolve(FIELD, BASE_FOLDER, &name)?;
            let modified = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map_err(|e| CatalogError::io(&path, e))?;
            out.push(Candidate { base, modified });
        }
        Ok(out)
    }

    /// Every part of the split base image `base` (a `.swm` in `1_BaseImages/`), in
    /// order; a WIM that is not split comes back alone. Only the first part names a
    /// set (`install.swm`, not `install2.swm`), and the other parts must sit beside it
    /// under libwim's names: otherwise `Invalid` says which part to choose or which
    /// file is missing.
    pub fn split_parts(&self, base: &str) -> Result<Vec<PathBuf>> {
        let path = self.resolve(FIELD, BASE_FOLDER, base)?;
        if !path.is_file() {
            return Err(CatalogError::NotFound {
                field: FIELD,
                name: base.to_string(),
            });
        }
        let info = Wim::open(&path)
            .map_err(|e| CatalogError::wim(&path, e))?
            .info();
        if info.total_parts <= 1 {
            return Ok(vec![path]);
        }
        if info.part_number != 1 {
            let first = first_part_name(base, info.part_number)
                .map_or_else(|| "its first part".to_string(), |n| format!("{n:?}"));
            return Err(CatalogError::Invalid {
                field: FIELD,
                message: format!(
                    "{base:?} is part {} of {} of a split image; choose {first} instead",
                    info.part_number, info.total_parts
                ),
            });
        }
        match Wim::open_split(&path) {
            Ok(_) => {
                let file = base.rsplit('/').next().unwrap_or(base);
                Ok((1..=info.total_parts)
                    .map(|n| path.with_file_name(part_name(file, n)))
                    .collect())
            }
            Err(WimError::MissingPart {
                part,
                path: missing,
            }) => {
                let file = missing
                    .file_name()
                    .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
                Err(CatalogError::Invalid {
                    field: FIELD,
                    message: format!(
                        "part {part} of {} of the split image {base:?}, {file:?}, is missing from 1_BaseImages/",
                        info.total_parts
                    ),
                })
            }
            Err(WimError::InvalidArgument(message)) => Err(CatalogError::Invalid {
                field: FIELD,
                message: format!("split image {base:?}: {message}"),
            }),
            Err(e) => Err(CatalogError::wim(&path, e)),
        }
    }
}

/// libwim's name for part `n` of the set whose first part is `first`: the number goes
/// before the last extension (`install.swm` → `install2.swm`).
fn part_name(first: &str, n: u16) -> String {
    if n == 1 {
        return first.to_string();
    }
    match first.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}{n}.{ext}"),
        None => format!("{first}{n}"),
    }
}

/// The first part's name for part `n` named `name`, when the name follows libwim's
/// numbering.
fn first_part_name(name: &str, n: u16) -> Option<String> {
    let number = n.to_string();
    let first = match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{}.{ext}", stem.strip_suffix(number.as_str())?),
        None => name.strip_suffix(number.as_str())?.to_string(),
    };
    (!first.starts_with('.') && !first.is_empty()).then_some(first)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Arch;

    fn identity(edition: &str, build: Option<u32>, arch: Option<Arch>) -> ImageIdentity {
        ImageIdentity {
            index: 1,
            name: edition.to_string(),
            edition: Some(edition.to_string()),
            product_name: None,
            installation_type: None,
            arch,
            version: None,
            build,
            languages: Vec::new(),
            size: 0,
        }
    }

    fn iso(name: &str, age_secs: u64, images: Vec<ImageIdentity>) -> Candidate {
        Candidate {
            base: BaseImage {
                name: name.to_string(),
                format: "iso".to_string(),
                size: 0,
                images,
                problems: Vec::new(),
            },
            modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 - age_secs),
        }
    }

    const X64: Option<Arch> = Some(Arch::X64);

    #[test]
    fn same_build_and_arch_is_required() {
        let wanted = identity("IoTEnterpriseS", Some(26100), X64);
        let isos = [
            iso(
                "other_build.iso",
                0,
                vec![identity("IoTEnterpriseS", Some(22631), X64)],
            ),
            iso(
                "other_arch.iso",
                0,
                vec![identity("IoTEnterpriseS", Some(26100), Some(Arch::Arm64))],
            ),
            iso(
                "unknown.iso",
                0,
                vec![identity("IoTEnterpriseS", None, None)],
            ),
        ];
        assert_eq!(choose(&isos, &wanted), None);
        assert_eq!(choose(&[], &wanted), None);
    }

    #[test]
    fn unknown_build_of_the_image_matches_nothing() {
        let wanted = identity("IoTEnterpriseS", None, None);
        let isos = [iso(
            "unknown.iso",
            0,
            vec![identity("IoTEnterpriseS", None, None)],
        )];
        assert_eq!(choose(&isos, &wanted), None);
    }

    #[test]
    fn same_edition_wins_over_a_newer_file() {
        let wanted = identity("IoTEnterpriseS", Some(26100), X64);
        let isos = [
            iso(
                "pro_new.iso",
                10,
                vec![identity("Professional", Some(26100), X64)],
            ),
            iso(
                "iot_old.iso",
                5000,
                vec![
                    identity("EnterpriseS", Some(26100), X64),
                    identity("iotenterprises", Some(26100), X64),
                ],
            ),
        ];
        assert_eq!(choose(&isos, &wanted), Some("iot_old.iso"));
    }

    #[test]
    fn newest_file_wins_among_equals_then_the_first_name() {
        let wanted = identity("IoTEnterpriseS", Some(26100), X64);
        let isos = [
            iso(
                "b_old.iso",
                500,
                vec![identity("Professional", Some(26100), X64)],
            ),
            iso(
                "c_new.iso",
                100,
                vec![identity("Professional", Some(26100), X64)],
            ),
            iso(
                "a_new.iso",
                100,
                vec![identity("Professional", Some(26100), X64)],
            ),
        ];
        assert_eq!(choose(&isos, &wanted), Some("a_new.iso"));
        assert_eq!(choose(&isos[..2], &wanted), Some("c_new.iso"));
    }

    #[test]
    fn an_edition_match_of_another_build_does_not_count() {
        let wanted = identity("IoTEnterpriseS", Some(26100), X64);
        let isos = [
            iso(
                "pro.iso",
                500,
                vec![
                    identity("Professional", Some(26100), X64),
                    identity("IoTEnterpriseS", Some(19044), X64),
                ],
            ),
            iso("home.iso", 100, vec![identity("Core", Some(26100), X64)]),
        ];
        assert_eq!(choose(&isos, &wanted), Some("home.iso"));
    }

    #[test]
    fn iso_base_images_are_their_own_media() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(dir.path()).expect("init");
        let wanted = identity("IoTEnterpriseS", Some(26100), X64);
        assert_eq!(
            repo.install_media_for("Win11.ISO", &wanted)
                .expect("lookup"),
            Some("Win11.ISO".to_string())
        );
        assert_eq!(
            repo.install_media_for("a.wim", &wanted).expect("lookup"),
            None
        );
    }

    /// A repository whose `1_BaseImages/` holds `install.swm`, `install2.swm`, … split
    /// from a generated base WIM; returns the part names.
    fn split_repository(dir: &std::path::Path) -> (Repository, Vec<String>) {
        let repo = Repository::init(&dir.join("repo")).expect("init");
        let wim_path = dir.join("base.wim");
        crate::fixtures::write_base_wim(&wim_path, &crate::fixtures::TreeSpec::small(2))
            .expect("base wim");
        let mut wim = Wim::open(&wim_path).expect("open");
        let parts = wim
            .split(
                &repo.root().join("1_BaseImages/install.swm"),
                64 * 1024,
                &wait_wim::WriteOptions::default(),
            )
            .expect("split");
        let names = parts
            .iter()
            .map(|p| {
                p.file_name()
                    .expect("file name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        (repo, names)
    }

    #[test]
    fn split_parts_lists_a_complete_set_from_its_first_part() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (repo, names) = split_repository(dir.path());
        assert!(names.len() >= 3, "{names:?}");
        let parts = repo.split_parts("install.swm").expect("complete set");
        let found: Vec<String> = parts
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert_eq!(found, names);
        assert!(parts.iter().all(|p| p.is_file()));
    }

    #[test]
    fn split_parts_refuses_a_later_part_naming_the_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (repo, _) = split_repository(dir.path());
        match repo.split_parts("install2.swm") {
            Err(CatalogError::Invalid { field, message }) => {
                assert_eq!(field, "base_image");
                assert!(message.contains("\"install.swm\""), "{message}");
                assert!(message.contains("part 2 of"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn split_parts_names_a_missing_part() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (repo, names) = split_repository(dir.path());
        let last = names.last().expect("parts").clone();
        std::fs::remove_file(repo.root().join("1_BaseImages").join(&last)).expect("remove");
        match repo.split_parts("install.swm") {
            Err(CatalogError::Invalid { field, message }) => {
                assert_eq!(field, "base_image");
                assert!(message.contains(&format!("{last:?}")), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            repo.split_parts("absent.swm"),
            Err(CatalogError::NotFound { .. })
        ));
    }

    #[test]
    fn split_parts_of_a_plain_wim_is_the_file_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(&dir.path().join("repo")).expect("init");
        let path = repo.root().join("1_BaseImages/plain.wim");
        crate::fixtures::write_base_wim(&path, &crate::fixtures::TreeSpec::small(2))
            .expect("base wim");
        assert_eq!(repo.split_parts("plain.wim").expect("parts"), vec![path]);
    }

    #[test]
    fn part_names_follow_libwim() {
        assert_eq!(part_name("install.swm", 1), "install.swm");
        assert_eq!(part_name("install.swm", 3), "install3.swm");
        assert_eq!(part_name("a.b.swm", 2), "a.b2.swm");
        assert_eq!(
            first_part_name("install2.swm", 2).as_deref(),
            Some("install.swm")
        );
        assert_eq!(
            first_part_name("install12.swm", 12).as_deref(),
            Some("install.swm")
        );
        assert_eq!(first_part_name("oddname.swm", 2), None);
        assert_eq!(first_part_name("2.swm", 2), None);
    }
}
