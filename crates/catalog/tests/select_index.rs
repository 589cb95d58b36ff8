//! Choosing an image index from a request value.

use wait_catalog::{Arch, BaseImage, CatalogError, ImageIdentity, select_index};

fn identity(index: u32, name: &str, edition: &str) -> ImageIdentity {
    ImageIdentity {
        index,
        name: name.into(),
        edition: Some(edition.into()),
        product_name: None,
        installation_type: Some("Client".into()),
        arch: Some(Arch::X64),
        version: Some("10.0.26100.1742".into()),
        build: Some(26100),
        languages: vec!["en-US".into()],
        size: 1,
    }
}

fn base() -> BaseImage {
    BaseImage {
        name: "multi.wim".into(),
        format: "wim".into(),
        size: 1,
        images: vec![
            identity(1, "Windows 11 Enterprise LTSC", "EnterpriseS"),
            identity(2, "Windows 11 IoT Enterprise LTSC", "IoTEnterpriseS"),
            identity(3, "Windows 11 Pro", "Professional"),
            identity(4, "Windows 11 Pro N", "Professional"),
        ],
        problems: Vec::new(),
    }
}

#[test]
fn select_index_by_number_edition_or_name() {
    let base = base();
    let cases = [
        ("1", 1),
        ("2", 2),
        (" 3 ", 3),
        ("04", 4),
        ("IoTEnterpriseS", 2),
        ("iotenterprises", 2),
        ("ENTERPRISES", 1),
        ("windows 11 pro", 3),
        ("Windows 11 Pro N", 4),
    ];
    for (wanted, index) in cases {
        assert_eq!(
            select_index(&base, wanted)
                .unwrap_or_else(|e| panic!("{wanted}: {e}"))
                .index,
            index,
            "{wanted}"
        );
    }
}

#[test]
fn select_index_refuses_bad_or_unknown_values_naming_image_index() {
    let base = base();
    for (wanted, kind) in [
        ("0", "invalid"),
        ("5", "not found"),
        ("99999999999999999999", "invalid"),
        ("-1", "invalid"),
        ("", "invalid"),
        ("  ", "invalid"),
        ("Home", "not found"),
        ("Professional", "invalid"), // two images share the edition: ambiguous
    ] {
        let err = select_index(&base, wanted).expect_err(wanted);
        match (kind, &err) {
            (
                "invalid",
                CatalogError::Invalid {
                    field: "image_index",
                    ..
                },
            ) => {}
            (
                "not found",
                CatalogError::NotFound {
                    field: "image_index",
                    ..
                },
            ) => {}
            _ => panic!("{wanted:?}: expected {kind}, got {err:?}"),
        }
        assert!(err.to_string().starts_with("image_index"), "{err}");
    }
}

#[test]
fn select_index_on_a_file_without_identities_is_not_found() {
    let base = BaseImage {
        name: "x.iso".into(),
        format: "iso".into(),
        size: 1,
        images: vec![],
        problems: vec![],
    };
    assert!(matches!(
        select_index(&base, "1"),
        Err(CatalogError::NotFound {
            field: "image_index",
            ..
        })
    ));
}
