//! Finding language packs, updates and software named by a job in the repository:
//! `3_LangPacks/<token>/<file>`, `4_Updates/<customer>/<token>/<file>` and
//! `6_Software/<customer>/<token>/<file>`, where the folder token must fit the image.
//! Shared by the API (checked at submit) and the build (checked again before staging).

use std::path::PathBuf;

use crate::packages::{PackageInfo, inspect_package, package_fits};
use crate::software::{SoftwareInfo, inspect_software};
use crate::token::DriverToken;
use crate::{CatalogError, ImageIdentity, Repository, Result, paths};

/// Which list of the job a name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentKind {
    LangPack,
    Update,
    Software,
}

impl ComponentKind {
    /// The request field that names it.
    pub fn field(self) -> &'static str {
        match self {
            ComponentKind::LangPack => "langpacks",
            ComponentKind::Update => "updates",
            ComponentKind::Software => "software",
        }
    }

    /// The repository folder it lives in.
    pub fn folder(self) -> &'static str {
        match self {
            ComponentKind::LangPack => "3_LangPacks",
            ComponentKind::Update => "4_Updates",
            ComponentKind::Software => "6_Software",
        }
    }

    /// The resource kind recorded on the job.
    pub fn resource_kind(self) -> &'static str {
        match self {
            ComponentKind::LangPack => "langpack",
            ComponentKind::Update => "update",
            ComponentKind::Software => "software",
        }
    }
}

/// What a found file is.
#[derive(Debug, Clone)]
pub enum ComponentDetail {
    Package(Box<PackageInfo>),
    Software(Box<SoftwareInfo>),
}

/// A file found for a job, checked against the image.
#[derive(Debug, Clone)]
pub struct FoundComponent {
    pub kind: ComponentKind,
    /// Absolute path on the host.
    pub path: PathBuf,
    /// Repository-relative path (`4_Updates/DEMO/WIN11_24H2/x.cab`).
    pub rel: String,
    pub detail: ComponentDetail,
    /// Why the folder and (for packages) the package fit the image.
    pub reason: String,
}

impl Repository {
    /// Find `name` (a plain file name) for `kind` in the folders whose token fits `image`.
    /// The most specific folder wins; two equally specific folders holding the name are
    /// ambiguous. Returns the host path and the repository-relative path.
    pub fn find_component(
        &self,
        kind: ComponentKind,
        customer: &str,
        name: &str,
        image: &ImageIdentity,
    ) -> Result<(PathBuf, String)> {
        let (path, rel, _) = self.find_component_with_reason(kind, customer, name, image)?;
        Ok((path, rel))
    }

    fn find_component_with_reason(
        &self,
        kind: ComponentKind,
        customer: &str,
        name: &str,
        image: &ImageIdentity,
    ) -> Result<(PathBuf, String, String)> {
        let field = kind.field();
        paths::validate_name(field, name)?;
        let prefix = match kind {
            ComponentKind::LangPack => String::new(),
            _ => {
                paths::validate_name("customer_name", customer)?;
                format!("{customer}/")
            }
        };
        let base = if prefix.is_empty() {
            self.folder(kind.folder())?
        } else {
            self.resolve(field, kind.folder(), customer)?
        };
        let entries = match std::fs::read_dir(&base) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CatalogError::NotFound {
                    field,
                    name: format!("{name} (no folder {}/{prefix})", kind.folder()),
                });
            }
            Err(e) => return Err(CatalogError::io(&base, e)),
        };
        let mut tokens = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| CatalogError::io(&base, e))?;
            let token = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                tokens.push(token);
            }
        }
        tokens.sort();
        let mut found: Vec<(u32, String, PathBuf, String)> = Vec::new();
        let mut unfit: Vec<String> = Vec::new();
        for token in tokens {
            let rel_in = format!("{prefix}{token}/{name}");
            let path = self.resolve(field, kind.folder(), &rel_in)?;
            if !path.is_file() {
                continue;
            }
            let fit = DriverToken::parse(&token)
                .map_err(|e| e.to_string())
                .and_then(|t| t.fit(&token, image));
            match fit {
                Ok(f) => found.push((
                    f.score,
                    format!("{}/{rel_in}", kind.folder()),
                    path,
                    f.reason,
                )),
                Err(why) => unfit.push(why),
            }
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        match found.as_slice() {
            [] if unfit.is_empty() => Err(CatalogError::NotFound {
                field,
                name: format!("{name} (looked in {}/{prefix}<token>/)", kind.folder()),
            }),
            [] => Err(CatalogError::Incompatible {
                field,
                reason: format!(
                    "{name} is only in folders that do not fit the image: {}",
                    unfit.join("; ")
                ),
            }),
            [first, second, ..] if first.0 == second.0 => Err(CatalogError::Incompatible {
                field,
                reason: format!(
                    "{name} is ambiguous: both {} and {} fit the image equally well",
                    first.1, second.1
                ),
            }),
            [first, ..] => Ok((first.2.clone(), first.1.clone(), first.3.clone())),
        }
    }

    /// Find `name`, inspect it and check that it fits `image` (`package_fits` for
    /// language packs and updates). Errors name the request field and the reason.
    pub fn locate_component(
        &self,
        kind: ComponentKind,
        customer: &str,
        name: &str,
        image: &ImageIdentity,
    ) -> Result<FoundComponent> {
        let field = kind.field();
        let (path, rel, folder_reason) =
            self.find_component_with_reason(kind, customer, name, image)?;
        let (detail, reason) = match kind {
            ComponentKind::LangPack | ComponentKind::Update => {
                let info = inspect_package(&path).map_err(|e| CatalogError::Invalid {
                    field,
                    message: format!("{rel}: {e}"),
                })?;
                if kind == ComponentKind::LangPack && !info.is_language_pack {
                    return Err(CatalogError::Incompatible {
                        field,
                        reason: format!("{rel} is not a language pack"),
                    });
                }
                let fit = package_fits(&info, image);
                if !fit.fits {
                    return Err(CatalogError::Incompatible {
                        field,
                        reason: format!("{rel}: {}", fit.reason),
                    });
                }
                (ComponentDetail::Package(Box::new(info)), fit.reason)
            }
            ComponentKind::Software => {
                let info = inspect_software(&path).map_err(|e| CatalogError::Invalid {
                    field,
                    message: format!("{rel}: {e}"),
                })?;
                (ComponentDetail::Software(Box::new(info)), folder_reason)
            }
        };
        Ok(FoundComponent {
            kind,
            path,
            rel,
            detail,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Arch;

    fn image(build: u32, arch: Arch) -> ImageIdentity {
        ImageIdentity {
            index: 1,
            name: "Windows 11 IoT Enterprise".into(),
            edition: Some("IoTEnterprise".into()),
            product_name: None,
            installation_type: None,
            arch: Some(arch),
            version: Some(format!("10.0.{build}.1")),
            build: Some(build),
            languages: vec!["en-US".into()],
            size: 0,
        }
    }

    #[test]
    fn components_are_found_in_fitting_folders_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(dir.path()).expect("init");
        crate::fixtures::write_demo_packages(repo.root()).expect("packages");
        let x64 = image(26100, Arch::X64);
        let lp = "Microsoft-Windows-Client-Language-Pack_x64_de-de.cab";
        let (path, rel) = repo
            .find_component(ComponentKind::LangPack, "ignored", lp, &x64)
            .expect("found");
        assert!(path.is_file());
        assert_eq!(rel, format!("3_LangPacks/WIN11_IOT_24H2_X64/{lp}"));
        let found = repo
            .locate_component(ComponentKind::Software, "DEMO", "DemoAgent.msi", &x64)
            .expect("software");
        assert_eq!(found.rel, "6_Software/DEMO/WIN11_24H2/DemoAgent.msi");

        // Another release: the folder token does not fit.
        let other = image(22631, Arch::X64);
        let e = repo
            .locate_component(ComponentKind::LangPack, "", lp, &other)
            .expect_err("does not fit");
        assert!(
            matches!(
                e,
                CatalogError::Incompatible {
                    field: "langpacks",
                    ..
                }
            ),
            "{e}"
        );
        // Unknown customer and unknown file.
        for (customer, name) in [("NOBODY", "DemoAgent.msi"), ("DEMO", "Missing.msi")] {
            let e = repo
                .find_component(ComponentKind::Software, customer, name, &x64)
                .expect_err("missing");
            assert!(
                matches!(
                    e,
                    CatalogError::NotFound {
                        field: "software",
                        ..
                    }
                ),
                "{e}"
            );
        }
        // The same file in two equally specific fitting folders is ambiguous.
        let src = repo
            .root()
            .join("4_Updates/DEMO/WIN11_24H2/Windows11.0-KB5999001-x64.cab");
        let twin = repo.root().join("4_Updates/DEMO/WINDOWS11_24H2");
        std::fs::create_dir_all(&twin).expect("mkdir");
        std::fs::copy(&src, twin.join("Windows11.0-KB5999001-x64.cab")).expect("copy");
        let e = repo
            .find_component(
                ComponentKind::Update,
                "DEMO",
                "Windows11.0-KB5999001-x64.cab",
                &x64,
            )
            .expect_err("ambiguous");
        assert!(e.to_string().contains("ambiguous"), "{e}");
    }
}
