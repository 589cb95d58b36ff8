//! Target-OS decorations of `[Manufacturer]` entries and `CatalogFile.xxx` keys:
//! `NT[arch][.major[.minor[.productType[.suiteMask[.buildNumber]]]]]`.

use serde::Serialize;

use crate::Arch;

/// Processor architectures an INF decoration can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InfArch {
    X86,
    Amd64,
    Arm,
    Arm64,
    Ia64,
}

impl InfArch {
    pub fn as_str(self) -> &'static str {
        match self {
            InfArch::X86 => "x86",
            InfArch::Amd64 => "amd64",
            InfArch::Arm => "arm",
            InfArch::Arm64 => "arm64",
            InfArch::Ia64 => "ia64",
        }
    }

    fn parse(lower: &str) -> Option<Self> {
        Some(match lower {
            "x86" => InfArch::X86,
            "amd64" => InfArch::Amd64,
            "arm" => InfArch::Arm,
            "arm64" => InfArch::Arm64,
            "ia64" => InfArch::Ia64,
            _ => return None,
        })
    }
}

impl From<Arch> for InfArch {
    fn from(arch: Arch) -> Self {
        match arch {
            Arch::X86 => InfArch::X86,
            Arch::X64 => InfArch::Amd64,
            Arch::Arm64 => InfArch::Arm64,
        }
    }
}

impl std::fmt::Display for InfArch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed decoration. Absent parts are `None` (`NTamd64.10.0...22000` has no product
/// type and no suite mask).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetOs {
    /// As written in the INF.
    pub text: String,
    /// `None` for a bare `NT`, which (like an undecorated section) serves x86 only.
    pub arch: Option<InfArch>,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// 1 workstation, 2 domain controller, 3 server.
    pub product_type: Option<u32>,
    pub suite_mask: Option<u32>,
    /// Minimum build (Windows 10 1607 and later understand it).
    pub build: Option<u32>,
}

impl TargetOs {
    /// Parse a decoration; `Err` says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.trim().to_ascii_lowercase();
        let Some(rest) = lower.strip_prefix("nt") else {
            return Err(format!("decoration {text:?} does not start with \"NT\""));
        };
        let mut parts = rest.split('.');
        let arch_text = parts.next().unwrap_or("");
        let arch = if arch_text.is_empty() {
            None
        } else {
            Some(InfArch::parse(arch_text).ok_or_else(|| {
                format!("decoration {text:?} names unknown architecture {arch_text:?}")
            })?)
        };
        let numbers: Vec<&str> = parts.collect();
        if numbers.len() > 5 {
            return Err(format!(
                "decoration {text:?} has more than NT<arch>.major.minor.productType.suiteMask.build"
            ));
        }
        let part = |i: usize, what: &str, hex: bool| -> Result<Option<u32>, String> {
            match numbers.get(i).copied() {
                None | Some("") => Ok(None),
                Some(s) => number(s, hex)
                    .map(Some)
                    .ok_or_else(|| format!("decoration {text:?}: {what} {s:?} is not a number")),
            }
        };
        let product_type = part(2, "product type", true)?;
        if let Some(p) = product_type {
            if !(1..=3).contains(&p) {
                return Err(format!(
                    "decoration {text:?}: product type {p} is not 1 (workstation), 2 (domain controller) or 3 (server)"
                ));
            }
        }
        Ok(TargetOs {
            text: text.trim().to_string(),
            arch,
            major: part(0, "major version", false)?,
            minor: part(1, "minor version", false)?,
            product_type,
            suite_mask: part(3, "suite mask", true)?,
            build: part(4, "build number", false)?,
        })
    }
}

/// Decimal, or hexadecimal with `0x` where `hex` allows it.
fn number(s: &str, hex: bool) -> Option<u32> {
    if let Some(h) = s.strip_prefix("0x") {
        return if hex {
            u32::from_str_radix(h, 16).ok()
        } else {
            None
        };
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_partial_decorations() {
        let t = TargetOs::parse("NTamd64.10.0...22000").expect("parse");
        assert_eq!(t.arch, Some(InfArch::Amd64));
        assert_eq!(
            (t.major, t.minor, t.product_type, t.build),
            (Some(10), Some(0), None, Some(22000))
        );
        let t = TargetOs::parse("ntx86.6.1.1.0x110").expect("parse");
        assert_eq!(
            (t.product_type, t.suite_mask, t.build),
            (Some(1), Some(0x110), None)
        );
        assert_eq!(TargetOs::parse("NT").expect("parse").arch, None);
        assert!(TargetOs::parse("NTfoo").is_err());
        assert!(TargetOs::parse("amd64").is_err());
        assert!(TargetOs::parse("NTamd64.a").is_err());
        assert!(TargetOs::parse("NTamd64.10.0.7").is_err());
        assert!(TargetOs::parse("NTamd64.1.2.3.4.5.6").is_err());
    }
}
