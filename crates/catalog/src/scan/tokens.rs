//! Version-token folders both ways: what a folder name such as `WIN11_IOT_24H2_X64`
//! means, and which folder names describe a given image.

use serde::Serialize;

use crate::ImageIdentity;
use crate::token::{DriverToken, Generation, Release};

/// A folder whose name is (or should be) a Windows version token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenFolder {
    /// Repository-relative path of the folder.
    pub path: String,
    /// The folder name.
    pub token: String,
    /// What the name says, when it parses.
    pub parsed: Option<DriverToken>,
    /// Why it does not parse.
    pub error: Option<String>,
    /// Base images (`file#index`) the token fits.
    pub fits: Vec<String>,
}

fn is_iot(image: &ImageIdentity) -> bool {
    let edition = image.edition.as_deref().unwrap_or("").to_ascii_uppercase();
    edition.contains("IOT") || image.name.to_ascii_uppercase().contains("IOT")
}

/// LTSC editions are the Enterprise "S" ones (EnterpriseS, IoTEnterpriseS).
fn is_ltsc(image: &ImageIdentity) -> bool {
    let edition = image.edition.as_deref().unwrap_or("").to_ascii_uppercase();
    let name = image.name.to_ascii_uppercase();
    edition.ends_with("ENTERPRISES") || name.contains("LTSC") || name.contains("LTSB")
}

/// Folder tokens that describe `image`, from the least to the most specific:
/// `WINDOWS11_X64` (driver sets), `WIN11_24H2` (answer files, updates),
/// `WIN11[_IOT]_24H2_X64` (language packs) and the full
/// `WINDOWS11[_IOT][_LTSC]_24H2_EN_US_X64`. Parts that are unknown are left out, and so
/// are tokens that would need them.
pub fn identity_tokens(image: &ImageIdentity) -> Vec<String> {
    let mut out = Vec::new();
    let Some(generation) = image.build.and_then(Generation::from_build) else {
        return out;
    };
    let number = generation.number();
    let arch = image.arch.map(|a| a.token());
    let release = image.build.and_then(Release::for_build).map(|r| r.name);
    let iot = if is_iot(image) { "_IOT" } else { "" };
    let ltsc = if is_ltsc(image) { "_LTSC" } else { "" };
    if let Some(arch) = arch {
        out.push(format!("WINDOWS{number}_{arch}"));
    }
    if let Some(release) = release {
        out.push(format!("WIN{number}_{release}"));
        if let Some(arch) = arch {
            out.push(format!("WIN{number}{iot}_{release}_{arch}"));
            let language = image
                .languages
                .first()
                .map(|l| l.replace('-', "_").to_ascii_uppercase())
                .filter(|l| {
                    !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_')
                });
            if let Some(language) = language {
                out.push(format!(
                    "WINDOWS{number}{iot}{ltsc}_{release}_{language}_{arch}"
                ));
            }
        }
    }
    out.dedup();
    out
}

/// Describe the folder `path` whose last component is `token`, with the images it fits.
pub(crate) fn folder(path: String, token: &str, images: &[(String, ImageIdentity)]) -> TokenFolder {
    match DriverToken::parse(token) {
        Ok(parsed) => {
            let fits = images
                .iter()
                .filter(|(_, image)| parsed.fit(token, image).is_ok())
                .map(|(label, _)| label.clone())
                .collect();
            TokenFolder {
                path,
                token: token.to_string(),
                parsed: Some(parsed),
                error: None,
                fits,
            }
        }
        Err(e) => TokenFolder {
            path,
            token: token.to_string(),
            parsed: None,
            error: Some(e.to_string()),
            fits: Vec::new(),
        },
    }
}

/// A stand-in image for a token, so the INFs of a driver set can be checked against
/// the system its folder names: the release's build, else the newest known build of
/// the generation; the token's architecture, else x64.
pub(crate) fn representative_image(token: &DriverToken) -> ImageIdentity {
    let build = token.release.map(|r| r.build).or_else(|| {
        crate::token::RELEASES
            .iter()
            .filter(|(g, _, _)| *g == token.generation)
            .map(|(_, _, b)| *b)
            .max()
    });
    ImageIdentity {
        index: 1,
        name: String::new(),
        edition: None,
        product_name: None,
        installation_type: Some("Client".into()),
        arch: Some(token.arch.unwrap_or(crate::Arch::X64)),
        version: build.map(|b| format!("10.0.{b}.0")),
        build,
        languages: token.language.iter().cloned().collect(),
        size: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Arch;

    fn image(build: u32, arch: Arch, edition: &str, name: &str, lang: &str) -> ImageIdentity {
        ImageIdentity {
            index: 1,
            name: name.into(),
            edition: Some(edition.into()),
            product_name: None,
            installation_type: Some("Client".into()),
            arch: Some(arch),
            version: Some(format!("10.0.{build}.1")),
            build: Some(build),
            languages: vec![lang.into()],
            size: 0,
        }
    }

    #[test]
    fn tokens_for_an_identity_parse_back_and_fit_it() {
        let cases = [
            (
                image(
                    26100,
                    Arch::X64,
                    "IoTEnterpriseS",
                    "Windows 11 IoT Enterprise LTSC",
                    "en-US",
                ),
                vec![
                    "WINDOWS11_X64",
                    "WIN11_24H2",
                    "WIN11_IOT_24H2_X64",
                    "WINDOWS11_IOT_LTSC_24H2_EN_US_X64",
                ],
            ),
            (
                image(
                    19044,
                    Arch::X64,
                    "IoTEnterpriseS",
                    "Windows 10 IoT Enterprise LTSC",
                    "en-US",
                ),
                vec![
                    "WINDOWS10_X64",
                    "WIN10_21H2",
                    "WIN10_IOT_21H2_X64",
                    "WINDOWS10_IOT_LTSC_21H2_EN_US_X64",
                ],
            ),
            (
                image(
                    22631,
                    Arch::Arm64,
                    "Professional",
                    "Windows 11 Pro",
                    "de-DE",
                ),
                vec![
                    "WINDOWS11_ARM64",
                    "WIN11_23H2",
                    "WIN11_23H2_ARM64",
                    "WINDOWS11_23H2_DE_DE_ARM64",
                ],
            ),
            // A build outside the release table: only the generation token.
            (
                image(26120, Arch::X64, "Professional", "Windows 11 Pro", "en-US"),
                vec!["WINDOWS11_X64"],
            ),
        ];
        for (img, want) in cases {
            let got = identity_tokens(&img);
            assert_eq!(got, want);
            for token in &got {
                let parsed = DriverToken::parse(token).expect("parses");
                assert!(
                    parsed.fit(token, &img).is_ok(),
                    "{token} should fit {img:?}"
                );
            }
        }
    }

    #[test]
    fn folders_map_to_the_images_they_fit() {
        let images = vec![
            (
                "a.wim#1".to_string(),
                image(26100, Arch::X64, "IoTEnterpriseS", "x", "en-US"),
            ),
            (
                "b.wim#1".to_string(),
                image(19044, Arch::X64, "EnterpriseS", "y", "en-US"),
            ),
        ];
        let f = folder("2_Drivers/B/WINDOWS11_X64".into(), "WINDOWS11_X64", &images);
        assert_eq!(f.fits, vec!["a.wim#1"]);
        let f = folder("5_AnswerFiles/B/WIN10_21H2".into(), "WIN10_21H2", &images);
        assert_eq!(f.fits, vec!["b.wim#1"]);
        let f = folder("3_LangPacks/junk".into(), "junk", &images);
        assert!(f.parsed.is_none() && f.error.is_some() && f.fits.is_empty());
        let rep = representative_image(&DriverToken::parse("WIN10_21H2").expect("token"));
        assert_eq!((rep.build, rep.arch), (Some(19044), Some(Arch::X64)));
        let rep = representative_image(&DriverToken::parse("WINDOWS11_ARM64").expect("token"));
        assert_eq!(rep.arch, Some(Arch::Arm64));
        assert!(rep.build.is_some_and(|b| b >= 26100));
    }
}
