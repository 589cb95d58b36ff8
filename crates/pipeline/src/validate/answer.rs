//! The answer-file checks of one output: `answer_file` (readable from the image and
//! well-formed), `answer_sections` (every planned section is there) and `answer_key`
//! (the product-key state the manifest records).

use super::Scope;
use super::wim::OpenImage;
use super::xml::{self, Element};
use crate::{IMAGE_UNATTEND_PATH, ManifestOutput, PlannedSection};

/// Read and check the image's answer file; returns its tree for the first-boot check
/// (its FirstLogonCommands), or `None` when it could not be read.
pub(super) fn check_answer_file(
    image: &OpenImage,
    output: &ManifestOutput,
    scope: &mut Scope<'_>,
) -> Option<Element> {
    let root = match image
        .read_small(IMAGE_UNATTEND_PATH)
        .and_then(|bytes| parse_answer_file(&bytes))
    {
        Ok(root) => root,
        Err(e) => {
            scope.push("answer_file", false, format!("{IMAGE_UNATTEND_PATH}: {e}"));
            return None;
        }
    };
    scope.push(
        "answer_file",
        true,
        format!("{IMAGE_UNATTEND_PATH} is a well-formed answer file"),
    );
    let missing = missing_sections(&root, &output.answer_sections);
    scope.push_all(
        "answer_sections",
        &missing,
        format!(
            "all {} planned section(s) present",
            output.answer_sections.len()
        ),
    );
    let problems = key_problems(&root, output.product_key.as_deref());
    let passed = match &output.product_key {
        Some(k) => format!("ProductKey {k} as recorded"),
        None => "no ProductKey, as recorded".to_string(),
    };
    scope.push_all("answer_key", &problems, passed);
    Some(root)
}

/// Decode, parse, and require the `<unattend>` root.
pub(super) fn parse_answer_file(bytes: &[u8]) -> Result<Element, String> {
    let root = xml::parse(&xml::decode(bytes)?)?;
    if root.name != "unattend" {
        return Err(format!("root element is <{}>, not <unattend>", root.name));
    }
    Ok(root)
}

/// The planned sections the file lacks, each as its address.
///
/// `/unattend/settings[@pass=P]/component[@name=C]/E`; pass `servicing` means
/// `/unattend/servicing/package/assemblyIdentity[@name=E]`.
pub(super) fn missing_sections(root: &Element, sections: &[PlannedSection]) -> Vec<String> {
    sections
        .iter()
        .filter(|s| !has_section(root, s))
        .map(|s| {
            if s.pass == "servicing" {
                format!("servicing package {} is missing", s.element)
            } else {
                format!("{}/{}/{} is missing", s.pass, s.component, s.element)
            }
        })
        .collect()
}

fn has_section(root: &Element, s: &PlannedSection) -> bool {
    if s.pass == "servicing" {
        return root
            .children_named("servicing")
            .flat_map(|sv| sv.children_named("package"))
            .flat_map(|p| p.children_named("assemblyIdentity"))
            .any(|id| id.attr("name") == Some(s.element.as_str()));
    }
    root.children_named("settings")
        .filter(|st| st.attr("pass") == Some(s.pass.as_str()))
        .flat_map(|st| st.children_named("component"))
        .filter(|c| c.attr("name") == Some(s.component.as_str()))
        .any(|c| c.children_named(&s.element).next().is_some())
}

/// `None` ⇒ no ProductKey element anywhere; `Some(masked)` ⇒ there is one and every
/// one masks to `masked`. A ProductKey holds the key as text (specialize) or in a
/// `Key` child (windowsPE `UserData`).
fn key_problems(root: &Element, recorded: Option<&str>) -> Vec<String> {
    let keys: Vec<String> = root
        .descendants()
        .into_iter()
        .filter(|e| e.name == "ProductKey")
        .map(|e| {
            e.children_named("Key")
                .next()
                .map_or_else(|| e.text.trim().to_string(), |k| k.text.trim().to_string())
        })
        .collect();
    match recorded {
        None => keys
            .iter()
            .map(|k| {
                format!(
                    "a ProductKey ({}) is present, the manifest records no key",
                    wait_store::mask_product_key(k)
                )
            })
            .collect(),
        Some(_) if keys.is_empty() => {
            vec!["no ProductKey, the manifest records a key".to_string()]
        }
        Some(masked) => keys
            .iter()
            .map(|k| wait_store::mask_product_key(k))
            .filter(|m| m != masked)
            .map(|m| format!("ProductKey {m}, the manifest records {masked}"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(pass: &str, component: &str, element: &str) -> PlannedSection {
        PlannedSection {
            pass: pass.into(),
            component: component.into(),
            element: element.into(),
        }
    }

    const FILE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="offlineServicing">
    <component name="Microsoft-Windows-PnpCustomizationsNonWinPE"><DriverPaths/></component>
  </settings>
  <settings pass="specialize">
    <component name="Microsoft-Windows-Shell-Setup"><ProductKey>AAAAA-BBBBB-CCCCC-DDDDD-EEEEE</ProductKey></component>
  </settings>
  <servicing><package action="install"><assemblyIdentity name="Package_for_KB1"/></package></servicing>
</unattend>"#;

    #[test]
    fn sections_are_found_by_pass_component_and_element() {
        let root = parse_answer_file(FILE.as_bytes()).unwrap();
        let wanted = [
            section(
                "offlineServicing",
                "Microsoft-Windows-PnpCustomizationsNonWinPE",
                "DriverPaths",
            ),
            section("specialize", "Microsoft-Windows-Shell-Setup", "ProductKey"),
            section("servicing", "package", "Package_for_KB1"),
        ];
        assert!(missing_sections(&root, &wanted).is_empty());
        let absent = [
            section(
                "specialize",
                "Microsoft-Windows-PnpCustomizationsNonWinPE",
                "DriverPaths",
            ),
            section("oobeSystem", "Microsoft-Windows-Shell-Setup", "ProductKey"),
            section(
                "specialize",
                "Microsoft-Windows-Shell-Setup",
                "FirstLogonCommands",
            ),
            section("servicing", "package", "Package_for_KB2"),
        ];
        assert_eq!(missing_sections(&root, &absent).len(), 4);
    }

    #[test]
    fn key_state_compares_masked_keys() {
        let root = parse_answer_file(FILE.as_bytes()).unwrap();
        assert!(key_problems(&root, Some("*****-*****-*****-*****-EEEEE")).is_empty());
        assert_eq!(
            key_problems(&root, Some("*****-*****-*****-*****-ZZZZZ")).len(),
            1
        );
        assert_eq!(key_problems(&root, None).len(), 1);
        let keyless = parse_answer_file(b"<unattend/>").unwrap();
        assert!(key_problems(&keyless, None).is_empty());
        assert_eq!(key_problems(&keyless, Some("*****")).len(), 1);
        let user_data = parse_answer_file(
            b"<unattend><settings pass='windowsPE'><component name='Microsoft-Windows-Setup'><UserData><ProductKey><Key>AAAAA-BBBBB-CCCCC-DDDDD-EEEEE</Key></ProductKey></UserData></component></settings></unattend>",
        )
        .unwrap();
        assert!(key_problems(&user_data, Some("*****-*****-*****-*****-EEEEE")).is_empty());
    }

    #[test]
    fn a_root_other_than_unattend_is_refused() {
        assert!(
            parse_answer_file(b"<other/>")
                .unwrap_err()
                .contains("<other>")
        );
    }
}
