//! Opening WIMs and reading header / XML information, checked against `wimlib-imagex info`.

mod common;

use common::*;
use wait_wim::{Compression, ImageSelector, Wim, WriteOptions};

#[test]
fn open_reports_same_header_as_wimlib_imagex() {
    let fx = fixture();
    imagex_append(&fx.src, &fx.wim, "Second");
    let wim = Wim::open(&fx.wim).expect("open");
    let info = wim.info();
    let cli = imagex_info(&fx.wim, None);
    assert_eq!(info.image_count.to_string(), cli["Image Count"]);
    assert_eq!(wim.image_count(), 2);
    assert_eq!(
        imagex_compression_name(info.compression),
        cli["Compression"]
    );
    assert_eq!(format!("{} bytes", info.chunk_size), cli["Chunk Size"]);
    assert_eq!(
        format!("{}/{}", info.part_number, info.total_parts),
        cli["Part Number"]
    );
    let guid: String = info.guid.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(format!("0x{guid}"), cli["GUID"]);
    assert!(!info.has_integrity_table);
    assert_eq!(wim.path(), Some(fx.wim.as_path()));
}

#[test]
fn image_info_matches_wimlib_imagex_for_each_image() {
    let fx = fixture();
    imagex_append(&fx.src, &fx.wim, "Second");
    let wim = Wim::open(&fx.wim).expect("open");
    for image in 1..=2 {
        let ours = wim.image_info(image).expect("image_info");
        let cli = imagex_info(&fx.wim, Some(image));
        assert_eq!(ours.index, image);
        assert_eq!(ours.name.as_deref(), Some(cli["Name"].as_str()));
        assert_eq!(
            ours.total_bytes.map(|b| b.to_string()),
            Some(cli["Total Bytes"].clone())
        );
        assert_eq!(
            ours.file_count.map(|b| b.to_string()),
            Some(cli["File Count"].clone())
        );
        assert_eq!(
            ours.dir_count.map(|b| b.to_string()),
            Some(cli["Directory Count"].clone())
        );
        assert_eq!(ours.arch, None);
        assert!(ours.languages.is_empty());
    }
    assert_eq!(
        wim.image_property(2, "NAME").expect("prop"),
        Some("Second".to_owned())
    );
    assert_eq!(
        wim.image_property(1, "WINDOWS/EDITIONID").expect("prop"),
        None
    );
}

#[test]
fn windows_properties_round_trip_through_a_written_wim() {
    let fx = fixture();
    let out = fx.dir.path().join("props.wim");
    {
        let mut wim = Wim::open(&fx.wim).expect("open");
        for (name, value) in [
            ("WINDOWS/ARCH", "9"),
            ("WINDOWS/EDITIONID", "IoTEnterpriseS"),
            ("WINDOWS/PRODUCTNAME", "Microsoft Windows Operating System"),
            ("WINDOWS/INSTALLATIONTYPE", "Client"),
            ("WINDOWS/VERSION/MAJOR", "10"),
            ("WINDOWS/VERSION/MINOR", "0"),
            ("WINDOWS/VERSION/BUILD", "26100"),
            ("WINDOWS/VERSION/SPBUILD", "1742"),
            ("WINDOWS/LANGUAGES/LANGUAGE", "en-US"),
            ("WINDOWS/LANGUAGES/LANGUAGE[2]", "de-DE"),
            ("WINDOWS/LANGUAGES/DEFAULT", "en-US"),
            ("DISPLAYNAME", "Windows 11 IoT Enterprise LTSC"),
            ("FLAGS", "IoTEnterpriseS"),
            ("DESCRIPTION", "test image"),
        ] {
            wim.set_image_property(1, name, value).expect(name);
        }
        // Visible in memory before writing.
        assert_eq!(
            wim.image_property(1, "WINDOWS/ARCH").expect("prop"),
            Some("9".to_owned())
        );
        wim.write(&out, ImageSelector::All, &WriteOptions::default())
            .expect("write");
    }

    let wim = Wim::open(&out).expect("reopen");
    let info = wim.image_info(1).expect("image_info");
    assert_eq!(info.arch, Some(9));
    assert_eq!(info.edition_id.as_deref(), Some("IoTEnterpriseS"));
    assert_eq!(
        info.product_name.as_deref(),
        Some("Microsoft Windows Operating System")
    );
    assert_eq!(info.installation_type.as_deref(), Some("Client"));
    assert_eq!(info.version, Some((10, 0, 26100, 1742)));
    assert_eq!(info.languages, vec!["en-US".to_owned(), "de-DE".to_owned()]);
    assert_eq!(info.default_language.as_deref(), Some("en-US"));
    assert_eq!(
        info.display_name.as_deref(),
        Some("Windows 11 IoT Enterprise LTSC")
    );
    assert_eq!(info.flags.as_deref(), Some("IoTEnterpriseS"));
    assert_eq!(info.description.as_deref(), Some("test image"));
    assert_eq!(info.name.as_deref(), Some("Base"));

    let cli = imagex_info(&out, Some(1));
    assert_eq!(cli["Architecture"], "x86_64");
    assert_eq!(cli["Edition ID"], "IoTEnterpriseS");
    assert_eq!(cli["Build"], "26100");
    assert_eq!(cli["Languages"], "en-US de-DE");
    assert_eq!(cli["Default Language"], "en-US");
    assert!(imagex_verify_ok(&out));
}

#[test]
fn empty_value_removes_a_property() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.set_image_property(1, "WINDOWS/EDITIONID", "Pro")
        .expect("set");
    assert_eq!(
        wim.image_property(1, "WINDOWS/EDITIONID").expect("get"),
        Some("Pro".to_owned())
    );
    wim.set_image_property(1, "WINDOWS/EDITIONID", "")
        .expect("remove");
    assert_eq!(
        wim.image_property(1, "WINDOWS/EDITIONID").expect("get"),
        None
    );
}

#[test]
fn xml_is_decoded_from_utf16() {
    let fx = fixture();
    let wim = Wim::open(&fx.wim).expect("open");
    let xml = wim.xml().expect("xml");
    assert!(xml.starts_with("<WIM>"), "{}", &xml[..xml.len().min(80)]);
    assert!(xml.contains("<NAME>Base</NAME>"));
    assert!(xml.trim_end().ends_with("</WIM>"));
}

#[test]
fn xml_shows_the_file_not_unsaved_property_changes() {
    let fx = fixture();
    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.set_image_property(1, "WINDOWS/EDITIONID", "Unsaved")
        .expect("set");
    assert!(!wim.xml().expect("xml").contains("Unsaved"));
    wim.overwrite(&WriteOptions::default()).expect("overwrite");
    assert!(
        wim.xml()
            .expect("xml")
            .contains("<EDITIONID>Unsaved</EDITIONID>")
    );
}

#[test]
fn new_in_memory_wim_has_no_images_and_empty_xml() {
    let wim = Wim::create_new(Compression::Lzx).expect("create");
    assert_eq!(wim.image_count(), 0);
    // The header describes the (not yet existing) file; the LZX choice applies to the
    // next write.
    assert_eq!(wim.info().compression, Compression::None);
    assert_eq!(wim.path(), None);
    assert_eq!(wim.xml().expect("xml"), "");
}

#[test]
fn version_is_the_installed_libwim() {
    let v = wait_wim::version();
    let cli = imagex(&["--version".as_ref()]);
    assert!(cli.contains(&v), "{v} not in {cli}");
    assert!(v.starts_with("1."), "{v}");
}

#[test]
fn open_checked_verifies_integrity_table() {
    let fx = fixture();
    let out = fx.dir.path().join("integrity.wim");
    let mut wim = Wim::open(&fx.wim).expect("open");
    wim.write(
        &out,
        ImageSelector::All,
        &WriteOptions {
            check_integrity: true,
            ..Default::default()
        },
    )
    .expect("write");
    let checked = Wim::open_checked(&out).expect("open_checked");
    assert!(checked.info().has_integrity_table);
}

#[test]
fn wim_handle_is_send() {
    fn needs_send<T: Send>() {}
    needs_send::<Wim<'static>>();
    needs_send::<Wim<'_>>();
}
