//! What package file names and identity strings say: architecture, language, KB number,
//! Windows build and revision. Microsoft's naming is regular enough to read
//! (`Microsoft-Windows-Client-Language-Pack_x64_de-de.cab`,
//! `…-Package~31bf3856ad364e35~amd64~de-DE~10.0.26100.1.cab`, `windows11.0-kb5044284-x64.msu`)
//! but never guaranteed, so every function here answers `Option`.

use crate::Arch;

/// `amd64`/`x64`, `x86`, `arm64` (case-insensitive); anything else is unknown.
pub(crate) fn arch_from(value: &str) -> Option<Arch> {
    match value.trim().to_ascii_lowercase().as_str() {
        "amd64" | "x64" => Some(Arch::X64),
        "x86" => Some(Arch::X86),
        "arm64" => Some(Arch::Arm64),
        _ => None,
    }
}

/// The architecture spelled somewhere in a file name, between separators.
pub(crate) fn arch_in_name(name: &str) -> Option<Arch> {
    name.split(['_', '-', '~', '.', ' ']).find_map(arch_from)
}

/// Build and revision of a version string. Two layouts occur: `10.0.26100.1742`
/// (major.minor.build.revision) and `26100.1742.1.10` (rollup packages put the build
/// first). Only numbers in the range of Windows NT 10+ builds count as builds.
pub(crate) fn build_of_version(version: &str) -> (Option<u32>, Option<u32>) {
    let fields: Vec<Option<u32>> = version.trim().split('.').map(|f| f.parse().ok()).collect();
    let looks_like_build = |b: u32| (10240..=99_999).contains(&b);
    let get = |i: usize| fields.get(i).copied().flatten();
    match (get(0), get(1), get(2)) {
        (Some(10), Some(0), Some(b)) if looks_like_build(b) => (Some(b), get(3)),
        (Some(b), _, _) if looks_like_build(b) => (Some(b), get(1)),
        _ => (None, None),
    }
}

/// `KB1234567` found in a file name (case-insensitive), spelled `KB…`.
pub(crate) fn kb_in_name(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(pos) = lower[from..].find("kb") {
        let start = from + pos + 2;
        let digits = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if (6..=9).contains(&digits) {
            return Some(format!("KB{}", &lower[start..start + digits]));
        }
        from = start;
    }
    None
}

/// Whether an identity name or a file name marks a language pack or a language feature
/// on demand.
pub(crate) fn is_language_pack_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("languagepack")
        || lower.contains("language-pack")
        || lower.contains("languagefeatures-")
}

/// A language tag as Windows writes it: `de-DE`, `sr-Latn-RS`, `zh-CN`.
pub(crate) fn normalize_tag(tag: &str) -> Option<String> {
    let parts: Vec<&str> = tag.split('-').collect();
    let alpha = |p: &&str| p.bytes().all(|b| b.is_ascii_alphabetic());
    if !(2..=3).contains(&parts.len())
        || !parts.iter().all(alpha)
        || !(2..=3).contains(&parts[0].len())
    {
        return None;
    }
    let mut out = parts[0].to_ascii_lowercase();
    for p in &parts[1..] {
        out.push('-');
        match p.len() {
            2 => out.push_str(&p.to_ascii_uppercase()),
            4 => {
                out.push_str(&p[..1].to_ascii_uppercase());
                out.push_str(&p[1..].to_ascii_lowercase());
            }
            _ => return None,
        }
    }
    Some(out)
}

/// What a language-pack file name says: (language, version).
/// `Microsoft-Windows-Client-Language-Pack_x64_de-de.cab` gives the language after the last
/// `_`; the DISM-style `name~token~arch~lang~version` names give their fields, and for
/// `Microsoft-Windows-LanguageFeatures-<Feature>-<lang>-Package` the tag sits between the
/// feature and `-Package`.
pub(crate) fn language_pack_name(file: &str) -> (Option<String>, Option<String>) {
    let stem = file
        .rsplit_once('.')
        .filter(|(_, ext)| ext.eq_ignore_ascii_case("cab") || ext.eq_ignore_ascii_case("msu"))
        .map_or(file, |(s, _)| s);
    let fields: Vec<&str> = stem.split('~').collect();
    let mut language = fields.get(3).and_then(|l| normalize_tag(l));
    let version = fields
        .get(4)
        .filter(|v| !v.is_empty())
        .map(|v| (*v).to_string());
    let name = fields.first().copied().unwrap_or(stem);
    if language.is_none() {
        language = name.rsplit('_').next().and_then(normalize_tag);
    }
    if language.is_none() {
        let lower = name.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("microsoft-windows-languagefeatures-") {
            let rest = rest.strip_suffix("-package").unwrap_or(rest);
            language = rest.split_once('-').and_then(|(_, tag)| normalize_tag(tag));
        }
    }
    (language, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_give_build_and_revision() {
        assert_eq!(
            build_of_version("10.0.26100.1742"),
            (Some(26100), Some(1742))
        );
        assert_eq!(
            build_of_version("26100.1742.1.10"),
            (Some(26100), Some(1742))
        );
        assert_eq!(build_of_version("10.0.26100"), (Some(26100), None));
        assert_eq!(build_of_version("1.0.0.0"), (None, None));
        assert_eq!(build_of_version(""), (None, None));
    }

    #[test]
    fn names_give_language_arch_and_kb() {
        assert_eq!(
            language_pack_name("Microsoft-Windows-Client-Language-Pack_x64_de-de.cab"),
            (Some("de-DE".into()), None)
        );
        assert_eq!(
            language_pack_name(
                "Microsoft-Windows-LanguageFeatures-Basic-de-de-Package~31bf3856ad364e35~amd64~~.cab"
            ),
            (Some("de-DE".into()), None)
        );
        assert_eq!(
            language_pack_name("X-Package~31bf3856ad364e35~amd64~sr-latn-rs~10.0.26100.1.cab"),
            (Some("sr-Latn-RS".into()), Some("10.0.26100.1".into()))
        );
        assert_eq!(
            arch_in_name("Microsoft-Windows-Client-Language-Pack_x64_de-de.cab"),
            Some(Arch::X64)
        );
        assert_eq!(
            arch_in_name("a~31bf3856ad364e35~arm64~~.cab"),
            Some(Arch::Arm64)
        );
        assert_eq!(
            kb_in_name("windows11.0-kb5044284-x64_abc.msu").as_deref(),
            Some("KB5044284")
        );
        assert_eq!(kb_in_name("kb12.cab"), None);
        assert!(is_language_pack_name(
            "Microsoft-Windows-Client-LanguagePack-Package"
        ));
        assert!(!is_language_pack_name("Package_for_RollupFix"));
    }
}
