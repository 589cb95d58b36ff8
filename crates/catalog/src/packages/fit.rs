//! Whether a package fits an image. Setup does not check applicability on the answer-file
//! `<servicing>` path, and a wrong pack makes DISM fail at first boot with 0x800f081e, so
//! WAIT checks architecture and build itself (SERVICING.md, "Packages", "Language packs").

use serde::Serialize;

use super::PackageInfo;
use crate::ImageIdentity;

/// The verdict and a sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fit {
    pub fits: bool,
    pub reason: String,
}

/// Servicing baselines: releases delivered as enablement packages share their baseline's
/// language packs and cumulative updates (SERVICING.md, "Language packs").
/// (first build, last build, baseline)
pub const SERVICING_BASELINES: &[(u32, u32, u32)] = &[
    (19041, 19045, 19041),
    (22621, 22631, 22621),
    (26100, 26200, 26100),
];

/// The baseline a build is serviced with: itself unless the table groups it.
pub fn servicing_baseline(build: u32) -> u32 {
    SERVICING_BASELINES
        .iter()
        .find(|(lo, hi, _)| (*lo..=*hi).contains(&build))
        .map_or(build, |(_, _, base)| *base)
}

/// Release names as pkgProperties writes them, and their builds. Longer names first, so
/// that "Windows 11, version 24H2" is not taken for "Windows 11".
pub const RELEASE_NAMES: &[(&str, u32)] = &[
    ("windows 11, version 25h2", 26200),
    ("windows 11, version 24h2", 26100),
    ("windows 11, version 23h2", 22631),
    ("windows 11, version 22h2", 22621),
    ("windows 11, version 21h2", 22000),
    ("windows 10, version 22h2", 19045),
    ("windows 10, version 21h2", 19044),
    ("windows 10, version 21h1", 19043),
    ("windows 10, version 20h2", 19042),
    ("windows 10, version 2004", 19041),
    ("windows 10, version 1809", 17763),
    ("windows 10, version 1607", 14393),
    ("windows server 2025", 26100),
    ("windows server 2022", 20348),
    ("windows server 2019", 17763),
    ("windows server 2016", 14393),
];

/// The build a release name stands for ("Windows 11, version 24H2" → 26100). A name
/// without a version ("Windows 11") says nothing about the build.
pub fn build_of_release(name: &str) -> Option<u32> {
    let folded = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    RELEASE_NAMES
        .iter()
        .find(|(release, _)| folded.contains(release))
        .map(|(_, build)| *build)
}

fn no(reason: String) -> Fit {
    Fit {
        fits: false,
        reason,
    }
}

/// Whether `info` can be applied to `image`, with the reason either way.
pub fn package_fits(info: &PackageInfo, image: &ImageIdentity) -> Fit {
    let what = if info.is_language_pack {
        format!(
            "language pack {}",
            info.language.as_deref().unwrap_or("(language unknown)")
        )
    } else {
        format!("update {}", info.kb.as_deref().unwrap_or(&info.file))
    };
    let (Some(image_arch), Some(image_build)) = (image.arch, image.build) else {
        return no(format!(
            "{what}: the image's architecture or build is unknown, so applicability cannot be checked"
        ));
    };
    let Some(arch) = info.arch else {
        return no(format!("{what}: the package's architecture is unknown"));
    };
    if arch != image_arch {
        return no(format!("{what} is for {arch}, the image is {image_arch}"));
    }
    let image_base = servicing_baseline(image_build);
    if info.is_language_pack {
        let Some(build) = info.build else {
            return no(format!("{what}: the build it was made for is unknown"));
        };
        let base = servicing_baseline(build);
        if base != image_base {
            return no(format!(
                "{what} is for build {build} (baseline {base}); the image is build {image_build} \
                 (baseline {image_base}), so DISM would refuse it as not applicable (0x800f081e)"
            ));
        }
        return Fit {
            fits: true,
            reason: format!(
                "{what} ({arch}, build {build}) matches the image's servicing baseline {image_base} \
                 (image build {image_build}, {image_arch})"
            ),
        };
    }
    let named = info
        .applies_to
        .as_deref()
        .and_then(build_of_release)
        .or_else(|| info.product_name.as_deref().and_then(build_of_release));
    if let Some(named) = named {
        if servicing_baseline(named) != image_base {
            let label = info
                .applies_to
                .as_deref()
                .or(info.product_name.as_deref())
                .unwrap_or("?");
            return no(format!(
                "{what} applies to {label} (build {named}); the image is build {image_build}"
            ));
        }
    }
    let Some(build) = info.build.or(named) else {
        return no(format!(
            "{what}: cannot tell which Windows release it applies to (no build, no \"Applies to\")"
        ));
    };
    if servicing_baseline(build) != image_base {
        return no(format!(
            "{what} is for build {build}; the image is build {image_build}"
        ));
    }
    let image_revision = image
        .version
        .as_deref()
        .and_then(|v| super::names::build_of_version(v).1);
    if let (Some(rev), Some(image_rev)) = (info.revision, image_revision) {
        if rev < image_rev {
            return no(format!(
                "{what} is {build}.{rev}, older than the image ({image_build}.{image_rev}): already superseded"
            ));
        }
    }
    let applies = info
        .applies_to
        .as_deref()
        .map(|a| format!(", applies to {a}"))
        .unwrap_or_default();
    Fit {
        fits: true,
        reason: format!(
            "{what} is for build {build} ({arch}{applies}), which serves the image's build {image_build} ({image_arch})"
        ),
    }
}
