//! Windows version tokens used as folder names in the repository: `WINDOWS11_X64`,
//! `WIN11_24H2`, `WIN11_IOT_24H2_X64`, `WINDOWS10_IOT_LTSC_21H2_EN_US_X64`, …
//!
//! A token names a Windows generation, and optionally a release (feature update), an
//! architecture, a language and the IoT / LTSC qualifiers. [`DriverToken::fit`] decides
//! whether a folder with that token suits an image.

use crate::{Arch, ImageIdentity};

/// Windows 10 or Windows 11, told apart by the build number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Generation {
    Windows10,
    Windows11,
}

/// First build of Windows 11.
pub const WINDOWS11_FIRST_BUILD: u32 = 22000;
/// First build of Windows 10.
pub const WINDOWS10_FIRST_BUILD: u32 = 10240;

impl Generation {
    /// Windows 11 from build 22000 on, Windows 10 from 10240 up to 21999.
    pub fn from_build(build: u32) -> Option<Self> {
        if build >= WINDOWS11_FIRST_BUILD {
            Some(Generation::Windows11)
        } else if build >= WINDOWS10_FIRST_BUILD {
            Some(Generation::Windows10)
        } else {
            None
        }
    }

    /// 10 or 11.
    pub fn number(self) -> u8 {
        match self {
            Generation::Windows10 => 10,
            Generation::Windows11 => 11,
        }
    }

    /// "Windows 10" / "Windows 11".
    pub fn label(self) -> &'static str {
        match self {
            Generation::Windows10 => "Windows 10",
            Generation::Windows11 => "Windows 11",
        }
    }
}

/// Known releases: generation, release name as written in tokens, build number.
pub const RELEASES: &[(Generation, &str, u32)] = &[
    (Generation::Windows11, "21H2", 22000),
    (Generation::Windows11, "22H2", 22621),
    (Generation::Windows11, "23H2", 22631),
    (Generation::Windows11, "24H2", 26100),
    (Generation::Windows11, "25H2", 26200),
    (Generation::Windows10, "1507", 10240),
    (Generation::Windows10, "1511", 10586),
    (Generation::Windows10, "1607", 14393),
    (Generation::Windows10, "1703", 15063),
    (Generation::Windows10, "1709", 16299),
    (Generation::Windows10, "1803", 17134),
    (Generation::Windows10, "1809", 17763),
    (Generation::Windows10, "1903", 18362),
    (Generation::Windows10, "1909", 18363),
    (Generation::Windows10, "2004", 19041),
    (Generation::Windows10, "20H2", 19042),
    (Generation::Windows10, "21H1", 19043),
    (Generation::Windows10, "21H2", 19044),
    (Generation::Windows10, "22H2", 19045),
];

/// A release named in a token, with the build it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Release {
    pub name: &'static str,
    pub build: u32,
}

impl Release {
    /// Look a release name up for a generation ("24H2" → 26100 for Windows 11).
    pub fn lookup(generation: Generation, name: &str) -> Option<Self> {
        RELEASES
            .iter()
            .find(|(g, n, _)| *g == generation && n.eq_ignore_ascii_case(name))
            .map(|&(_, name, build)| Release { name, build })
    }

    /// The release whose build is exactly `build`, if it is in the table.
    pub fn for_build(build: u32) -> Option<Self> {
        RELEASES
            .iter()
            .find(|(_, _, b)| *b == build)
            .map(|&(_, name, build)| Release { name, build })
    }
}

/// A parsed folder token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DriverToken {
    pub generation: Generation,
    pub release: Option<Release>,
    pub arch: Option<Arch>,
    /// "en-US" when the token names a language (`EN_US`).
    pub language: Option<String>,
    pub iot: bool,
    pub ltsc: bool,
}

/// Why a token could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{token:?} is not a Windows version token: {message}")]
pub struct TokenError {
    pub token: String,
    pub message: String,
}

/// A token that fits an image: how specific it is and why it fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// Higher is more specific (release > architecture > qualifiers).
    pub score: u32,
    pub reason: String,
}

fn is_alpha(s: &str, lens: std::ops::RangeInclusive<usize>) -> bool {
    lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn looks_like_release(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 4 && b.iter().all(u8::is_ascii_digit))
        || (b.len() == 4
            && b[0].is_ascii_digit()
            && b[1].is_ascii_digit()
            && b[2] == b'H'
            && b[3].is_ascii_digit())
}

impl DriverToken {
    /// Parse a folder token. Case-insensitive; parts are separated by '_'.
    pub fn parse(token: &str) -> Result<Self, TokenError> {
        let fail = |message: String| TokenError {
            token: token.to_string(),
            message,
        };
        if token.is_empty() {
            return Err(fail("empty".into()));
        }
        if !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(fail("only letters, digits, '_' and '-' are allowed".into()));
        }
        let upper = token.to_ascii_uppercase();
        let parts: Vec<&str> = upper.split('_').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(fail("empty part (doubled, leading or trailing '_')".into()));
        }
        let (generation, mut i) = match (parts[0], parts.get(1).copied()) {
            ("WINDOWS10" | "WIN10", _) => (Generation::Windows10, 1),
            ("WINDOWS11" | "WIN11", _) => (Generation::Windows11, 1),
            ("WINDOWS" | "WIN", Some("10")) => (Generation::Windows10, 2),
            ("WINDOWS" | "WIN", Some("11")) => (Generation::Windows11, 2),
            _ => {
                return Err(fail(
                    "must start with WINDOWS10, WINDOWS11, WIN10 or WIN11".into(),
                ));
            }
        };
        let mut out = DriverToken {
            generation,
            release: None,
            arch: None,
            language: None,
            iot: false,
            ltsc: false,
        };
        let dup = |what: &str| fail(format!("names the {what} twice"));
        while i < parts.len() {
            let part = parts[i];
            i += 1;
            match part {
                "IOT" => {
                    if out.iot {
                        return Err(dup("IoT qualifier"));
                    }
                    out.iot = true;
                }
                "LTSC" | "LTSB" => {
                    if out.ltsc {
                        return Err(dup("LTSC qualifier"));
                    }
                    out.ltsc = true;
                }
                "X64" | "AMD64" | "X86" | "ARM64" => {
                    if out.arch.is_some() {
                        return Err(dup("architecture"));
                    }
                    out.arch = Some(match part {
                        "X86" => Arch::X86,
                        "ARM64" => Arch::Arm64,
                        _ => Arch::X64,
                    });
                }
                p if looks_like_release(p) => {
                    if out.release.is_some() {
                        return Err(dup("release"));
                    }
                    let release = Release::lookup(generation, p).ok_or_else(|| {
                        fail(format!("unknown release {p} for {}", generation.label()))
                    })?;
                    out.release = Some(release);
                }
                p => {
                    let language = if let Some((lang, region)) = p.split_once('-') {
                        if is_alpha(lang, 2..=3) && is_alpha(region, 2..=2) {
                            Some(format!("{}-{}", lang.to_ascii_lowercase(), region))
                        } else {
                            None
                        }
                    } else if is_alpha(p, 2..=3) && parts.get(i).is_some_and(|r| is_alpha(r, 2..=2))
                    {
                        let region = parts[i];
                        i += 1;
                        Some(format!("{}-{}", p.to_ascii_lowercase(), region))
                    } else if is_alpha(p, 2..=2) {
                        Some(p.to_ascii_lowercase())
                    } else {
                        None
                    };
                    let Some(language) = language else {
                        return Err(fail(format!("unexpected part {p:?}")));
                    };
                    if out.language.is_some() {
                        return Err(dup("language"));
                    }
                    out.language = Some(language);
                }
            }
        }
        Ok(out)
    }

    /// Whether a folder with this token suits `image`: the generation must match the image
    /// build, the architecture must match when the token names one, and the release must
    /// match when the token names one. `Err` explains the mismatch.
    pub fn fit(&self, token: &str, image: &ImageIdentity) -> Result<Fit, String> {
        let Some(build) = image.build else {
            return Err(format!("{token}: the image has no build number"));
        };
        let Some(generation) = Generation::from_build(build) else {
            return Err(format!(
                "{token}: build {build} is neither Windows 10 nor Windows 11"
            ));
        };
        if generation != self.generation {
            return Err(format!(
                "{token} is for {} but build {build} is {}",
                self.generation.label(),
                generation.label()
            ));
        }
        let mut score = 1;
        let mut what = format!("build {build} ({}", generation.label());
        if let Some(release) = self.release {
            if release.build != build {
                return Err(format!(
                    "{token} is for {} {} (build {}) but the image is build {build}",
                    generation.label(),
                    release.name,
                    release.build
                ));
            }
            score += 8;
            what.push(' ');
            what.push_str(release.name);
        }
        what.push(')');
        let arch_text = match (self.arch, image.arch) {
            (Some(want), Some(have)) if want == have => {
                score += 4;
                format!("arch {have}")
            }
            (Some(want), Some(have)) => {
                return Err(format!("{token} is for {want} but the image is {have}"));
            }
            (Some(want), None) => {
                return Err(format!(
                    "{token} is for {want} but the image architecture is unknown"
                ));
            }
            (None, _) => "any architecture".to_string(),
        };
        let edition = image.edition.as_deref().unwrap_or("").to_ascii_uppercase();
        let name = image.name.to_ascii_uppercase();
        if self.iot && (edition.contains("IOT") || name.contains("IOT")) {
            score += 1;
        }
        if self.ltsc
            && (edition.contains("ENTERPRISES") || name.contains("LTSC") || name.contains("LTSB"))
        {
            score += 1;
        }
        let language_matches = self
            .language
            .as_ref()
            .is_some_and(|lang| image.languages.iter().any(|l| l.eq_ignore_ascii_case(lang)));
        if language_matches {
            score += 1;
        }
        Ok(Fit {
            score,
            reason: format!("{token} matches {what} and {arch_text}"),
        })
    }
}
