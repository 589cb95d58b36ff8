//! `.msi`: ProductName, ProductVersion and Manufacturer from the Property table, the
//! architecture from the summary information's template (`x64;1033`).

use std::path::Path;

use msi::{Package, Select};

use super::{SoftwareError, SoftwareProblem, err};

pub(super) struct MsiFacts {
    pub product_name: Option<String>,
    pub product_version: Option<String>,
    pub manufacturer: Option<String>,
    pub arch: Option<String>,
}

/// Most Property rows looked at.
const MAX_PROPERTIES: usize = 100_000;

pub(super) fn read(path: &Path, file: &str) -> Result<MsiFacts, SoftwareError> {
    let handle = std::fs::File::open(path)
        .map_err(|e| err(file, None, SoftwareProblem::Io(e.to_string())))?;
    let bad = |m: String| err(file, None, SoftwareProblem::BadMsi(m));
    // The msi crate parses untrusted structures; a panic in it must become an error here.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut package = Package::open(handle).map_err(|e| e.to_string())?;
        let arch = package.summary_info().arch().and_then(template_arch);
        let mut facts = MsiFacts {
            product_name: None,
            product_version: None,
            manufacturer: None,
            arch,
        };
        if !package.has_table("Property") {
            return Err("no Property table".to_string());
        }
        let rows = package
            .select_rows(Select::table("Property").columns(&["Property", "Value"]))
            .map_err(|e| format!("Property table: {e}"))?;
        for row in rows.take(MAX_PROPERTIES) {
            let (Some(key), Some(value)) = (row[0].as_str(), row[1].as_str()) else {
                continue;
            };
            let slot = match key {
                "ProductName" => &mut facts.product_name,
                "ProductVersion" => &mut facts.product_version,
                "Manufacturer" => &mut facts.manufacturer,
                _ => continue,
            };
            *slot = Some(value.to_string());
        }
        Ok(facts)
    }));
    match result {
        Ok(Ok(facts)) => Ok(facts),
        Ok(Err(m)) => Err(bad(m)),
        Err(_) => Err(bad("the MSI reader failed on this file".into())),
    }
}

/// The template's platform as the other kinds spell architectures ("Intel" is x86).
fn template_arch(platform: &str) -> Option<String> {
    let arch = match platform.trim().to_ascii_lowercase().as_str() {
        "" => return None,
        "intel" | "x86" => "x86",
        "x64" | "amd64" => "x64",
        "arm64" => "arm64",
        "intel64" => "ia64",
        other => return Some(other.to_string()),
    };
    Some(arch.to_string())
}
