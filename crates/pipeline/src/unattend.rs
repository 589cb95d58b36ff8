//! The answer file written into the image (`Windows/Panther/unattend.xml`).
//!
//! WAIT cannot service an image offline from Linux, so it hands the work to Windows
//! Setup: staged drivers are listed in `Microsoft-Windows-PnpCustomizationsNonWinPE`
//! (offlineServicing pass) and the product key goes to `Microsoft-Windows-Shell-Setup`
//! (specialize). When the job names an answer file from the repository, our components
//! are merged into it; a component the file already has in that pass is refused rather
//! than silently duplicated.

use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::escape::escape;
use quick_xml::events::{BytesEnd, BytesStart, Event};

use crate::PipelineError;

const UNATTEND_NS: &str = "urn:schemas-microsoft-com:unattend";
const WCM_NS: &str = "http://schemas.microsoft.com/WMIConfig/2002/State";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Windows paths in DriverPaths are limited to 259 characters.
const MAX_DRIVER_PATH: usize = 259;

/// One folder of drivers as Windows will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverPath {
    pub path: String,
}

/// What WAIT adds to the answer file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnattendPlan {
    /// `processorArchitecture` of the components: amd64, x86 or arm64.
    pub arch: String,
    pub driver_paths: Vec<DriverPath>,
    /// Activation key (specialize pass). Already validated by the caller.
    pub product_key: Option<String>,
    /// `.cab` packages for the `<servicing>` element, in install order (language packs
    /// first, then updates).
    pub servicing: Vec<ServicingPackage>,
    /// Commands for `Microsoft-Windows-Shell-Setup/FirstLogonCommands` (oobeSystem).
    pub first_logon: Vec<FirstLogonCommand>,
}

/// One `<package action="install">` of the `<servicing>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicingPackage {
    pub name: String,
    pub version: String,
    pub processor_architecture: String,
    pub language: String,
    pub public_key_token: String,
    /// Windows path of the staged `.cab`.
    pub location: String,
}

/// One `<SynchronousCommand>` run at the first administrator logon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstLogonCommand {
    pub command_line: String,
    pub description: String,
}

struct Component {
    pass: &'static str,
    name: &'static str,
    body: String,
}

impl UnattendPlan {
    fn components(&self) -> Result<Vec<Component>, PipelineError> {
        let mut out = Vec::new();
        if !self.driver_paths.is_empty() {
            let mut body = String::from("      <DriverPaths>\n");
            for (n, dp) in self.driver_paths.iter().enumerate() {
                if dp.path.is_empty() || dp.path.chars().count() > MAX_DRIVER_PATH {
                    return Err(PipelineError::Permanent(format!(
                        "driver path {:?} must be 1 to {MAX_DRIVER_PATH} characters",
                        dp.path
                    )));
                }
                let _ = write!(
                    body,
                    "        <PathAndCredentials wcm:action=\"add\" wcm:keyValue=\"{}\">\n          <Path>{}</Path>\n        </PathAndCredentials>\n",
                    n + 1,
                    escape(dp.path.as_str())
                );
            }
            body.push_str("      </DriverPaths>\n");
            out.push(Component {
                pass: "offlineServicing",
                name: "Microsoft-Windows-PnpCustomizationsNonWinPE",
                body,
            });
        }
        if let Some(key) = &self.product_key {
            out.push(Component {
                pass: "specialize",
                name: "Microsoft-Windows-Shell-Setup",
                body: format!("      <ProductKey>{}</ProductKey>\n", escape(key.as_str())),
            });
        }
        if !self.first_logon.is_empty() {
            let mut body = String::from("      <FirstLogonCommands>\n");
            for (n, c) in self.first_logon.iter().enumerate() {
                let _ = write!(
                    body,
                    "        <SynchronousCommand wcm:action=\"add\">\n          <Order>{}</Order>\n          <CommandLine>{}</CommandLine>\n          <Description>{}</Description>\n          <RequiresUserInput>false</RequiresUserInput>\n        </SynchronousCommand>\n",
                    n + 1,
                    escape(c.command_line.as_str()),
                    escape(c.description.as_str())
                );
            }
            body.push_str("      </FirstLogonCommands>\n");
            out.push(Component {
                pass: "oobeSystem",
                name: "Microsoft-Windows-Shell-Setup",
                body,
            });
        }
        Ok(out)
    }

    /// The `<servicing>` element (empty when there is nothing to install).
    fn servicing_xml(&self) -> String {
        if self.servicing.is_empty() {
            return String::new();
        }
        let mut xml = String::from("  <servicing>\n");
        for p in &self.servicing {
            let _ = write!(
                xml,
                "    <package action=\"install\">\n      <assemblyIdentity name=\"{}\" version=\"{}\" processorArchitecture=\"{}\" language=\"{}\" publicKeyToken=\"{}\"/>\n      <source location=\"{}\"/>\n    </package>\n",
                escape(p.name.as_str()),
                escape(p.version.as_str()),
                escape(p.processor_architecture.as_str()),
                escape(p.language.as_str()),
                escape(p.public_key_token.as_str()),
                escape(p.location.as_str()),
            );
        }
        xml.push_str("  </servicing>\n");
        xml
    }

    fn component_xml(&self, c: &Component) -> String {
        format!(
            "    <component name=\"{}\" processorArchitecture=\"{}\" publicKeyToken=\"31bf3856ad364e35\" language=\"neutral\" versionScope=\"nonSxS\" xmlns:wcm=\"{WCM_NS}\" xmlns:xsi=\"{XSI_NS}\">\n{}    </component>\n",
            c.name,
            escape(self.arch.as_str()),
            c.body
        )
    }
}

/// A complete answer file holding only WAIT's components.
pub fn render_unattend(plan: &UnattendPlan) -> Result<String, PipelineError> {
    let components = plan.components()?;
    let mut xml =
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<unattend xmlns=\"{UNATTEND_NS}\">\n");
    for pass in passes_in_order(&components) {
        let _ = writeln!(xml, "  <settings pass=\"{pass}\">");
        for c in components.iter().filter(|c| c.pass == pass) {
            xml.push_str(&plan.component_xml(c));
        }
        xml.push_str("  </settings>\n");
    }
    xml.push_str(&plan.servicing_xml());
    xml.push_str("</unattend>\n");
    Ok(xml)
}

fn passes_in_order(components: &[Component]) -> Vec<&'static str> {
    let mut passes: Vec<&'static str> = Vec::new();
    for c in components {
        if !passes.contains(&c.pass) {
            passes.push(c.pass);
        }
    }
    passes
}

/// Merge WAIT's components into a user's answer file. `source` names the file in errors.
pub fn merge_answer_file(
    user_xml: &str,
    source: &str,
    plan: &UnattendPlan,
) -> Result<String, PipelineError> {
    let components = plan.components()?;
    let bad = |msg: String| PipelineError::Permanent(format!("answer file {source}: {msg}"));
    let mut reader = Reader::from_str(user_xml);
    let mut writer = Writer::new(Vec::new());
    let mut depth = 0usize;
    let mut saw_root = false;
    let mut pass: Option<String> = None;
    let mut merged_passes: Vec<String> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            bad(format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position()
            ))
        })?;
        match &event {
            Event::DocType(_) => return Err(bad("DOCTYPE declarations are not accepted".into())),
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name();
                if depth == 0 {
                    if name.as_ref() != b"unattend" {
                        return Err(bad("the root element must be <unattend>".into()));
                    }
                    saw_root = true;
                }
                if depth == 1 && name.as_ref() == b"settings" {
                    pass = attr(e, b"pass");
                }
                if depth == 1 && name.as_ref() == b"servicing" && !plan.servicing.is_empty() {
                    return Err(bad(
                        "it already has a <servicing> element; merging packages into it is not supported yet"
                            .into(),
                    ));
                }
                if depth == 2 && name.as_ref() == b"component" {
                    if let (Some(p), Some(cname)) = (&pass, attr(e, b"name")) {
                        if components.iter().any(|c| c.pass == p && c.name == cname) {
                            return Err(bad(format!(
                                "it already has {cname} in the {p} pass; merging into it is not supported yet"
                            )));
                        }
                    }
                }
                if matches!(event, Event::Empty(_)) && depth == 1 && name.as_ref() == b"settings" {
                    // <settings pass="x"/>: open it so our components can go inside.
                    let start = e.to_owned();
                    let end =
                        BytesEnd::new(String::from_utf8_lossy(start.name().as_ref()).into_owned());
                    write(&mut writer, Event::Start(start), source)?;
                    if let Some(p) = pass.take() {
                        inject(&mut writer, plan, &components, &p)?;
                        merged_passes.push(p);
                    }
                    write(&mut writer, Event::End(end), source)?;
                    continue;
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if depth == 1 && e.local_name().as_ref() == b"settings" {
                    if let Some(p) = pass.take() {
                        inject(&mut writer, plan, &components, &p)?;
                        merged_passes.push(p);
                    }
                }
                if depth == 0 && e.local_name().as_ref() == b"unattend" {
                    for p in passes_in_order(&components) {
                        if merged_passes.iter().any(|m| m == p) {
                            continue;
                        }
                        let mut block = format!("  <settings pass=\"{p}\">\n");
                        for c in components.iter().filter(|c| c.pass == p) {
                            block.push_str(&plan.component_xml(c));
                        }
                        block.push_str("  </settings>\n");
                        raw(&mut writer, &block);
                    }
                    raw(&mut writer, &plan.servicing_xml());
                }
            }
            Event::Eof if depth > 0 => {
                return Err(bad("not well-formed XML: an element is not closed".into()));
            }
            Event::Eof => break,
            _ => {}
        }
        write(&mut writer, event, source)?;
    }
    if !saw_root {
        return Err(bad("no <unattend> element".into()));
    }
    String::from_utf8(writer.into_inner()).map_err(|_| bad("result is not UTF-8".into()))
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

fn inject(
    writer: &mut Writer<Vec<u8>>,
    plan: &UnattendPlan,
    components: &[Component],
    pass: &str,
) -> Result<(), PipelineError> {
    let mut block = String::new();
    for c in components.iter().filter(|c| c.pass == pass) {
        block.push_str(&plan.component_xml(c));
    }
    if !block.is_empty() {
        raw(writer, &format!("\n{block}  "));
    }
    Ok(())
}

fn raw(writer: &mut Writer<Vec<u8>>, text: &str) {
    writer.get_mut().extend_from_slice(text.as_bytes());
}

fn write(
    writer: &mut Writer<Vec<u8>>,
    event: Event<'_>,
    source: &str,
) -> Result<(), PipelineError> {
    writer
        .write_event(event)
        .map_err(|e| PipelineError::Permanent(format!("answer file {source}: cannot rewrite: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> UnattendPlan {
        UnattendPlan {
            arch: "amd64".into(),
            driver_paths: vec![DriverPath {
                path: r"C:\WAIT\Drivers".into(),
            }],
            product_key: None,
            servicing: vec![],
            first_logon: vec![],
        }
    }

    fn package(name: &str, loc: &str) -> ServicingPackage {
        ServicingPackage {
            name: name.into(),
            version: "10.0.26100.1".into(),
            processor_architecture: "amd64".into(),
            language: "neutral".into(),
            public_key_token: "31bf3856ad364e35".into(),
            location: loc.into(),
        }
    }

    /// (name, version, arch, language, token, location) of every servicing package, and
    /// whether `<servicing>` is a direct child of `<unattend>` after all settings.
    fn servicing_of(xml: &str) -> Vec<[String; 6]> {
        let mut r = Reader::from_str(xml);
        let mut stack: Vec<String> = Vec::new();
        let mut out = Vec::new();
        let mut seen_servicing = false;
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) | Event::Empty(e)
                    if e.local_name().as_ref() == b"assemblyIdentity" =>
                {
                    assert_eq!(stack.last().map(String::as_str), Some("package"));
                    let g = |k: &[u8]| attr(&e, k).unwrap();
                    out.push([
                        g(b"name"),
                        g(b"version"),
                        g(b"processorArchitecture"),
                        g(b"language"),
                        g(b"publicKeyToken"),
                        String::new(),
                    ]);
                }
                Event::Empty(e) if e.local_name().as_ref() == b"source" => {
                    let last = out.last_mut().unwrap();
                    last[5] = attr(&e, b"location").unwrap();
                }
                Event::Start(e) => {
                    let n = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    if n == "servicing" {
                        assert_eq!(stack, vec!["unattend".to_string()]);
                        seen_servicing = true;
                    }
                    if n == "settings" {
                        assert!(!seen_servicing, "settings after servicing");
                    }
                    stack.push(n);
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    #[test]
    fn servicing_packages_are_rendered_in_order_with_full_identity() {
        let mut p = plan();
        p.servicing = vec![
            package("LangPack", r"C:\WAIT\Packages\LangPacks\lp.cab"),
            package("Package_for_KB1", r"C:\WAIT\Packages\Updates\kb1.cab"),
        ];
        for xml in [
            render_unattend(&p).unwrap(),
            merge_answer_file(
                r#"<unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="oobeSystem"/></unattend>"#,
                "a.xml",
                &p,
            )
            .unwrap(),
        ] {
            let pkgs = servicing_of(&xml);
            assert_eq!(pkgs.len(), 2, "{xml}");
            assert_eq!(pkgs[0][0], "LangPack");
            assert_eq!(pkgs[1][0], "Package_for_KB1");
            assert_eq!(pkgs[0][4], "31bf3856ad364e35");
            assert_eq!(pkgs[0][3], "neutral");
            assert_eq!(pkgs[1][5], r"C:\WAIT\Packages\Updates\kb1.cab");
        }
    }

    #[test]
    fn user_file_with_servicing_is_refused_when_packages_are_added() {
        let mut p = plan();
        p.servicing = vec![package("X", r"C:\x.cab")];
        let user =
            r#"<unattend xmlns="urn:schemas-microsoft-com:unattend"><servicing/></unattend>"#;
        let msg = merge_answer_file(user, "5_AnswerFiles/B/s.xml", &p)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("5_AnswerFiles/B/s.xml") && msg.contains("<servicing>"),
            "{msg}"
        );
        // Without packages the user's element is kept as it is.
        assert!(merge_answer_file(user, "a.xml", &plan()).is_ok());
    }

    #[test]
    fn first_logon_commands_go_to_oobe_system() {
        let mut p = plan();
        p.first_logon = vec![FirstLogonCommand {
            command_line: r#"msiexec /i "C:\WAIT\Software\a.msi" /qn /norestart"#.into(),
            description: "Install a.msi".into(),
        }];
        let xml = render_unattend(&p).unwrap();
        let oobe = xml.find("pass=\"oobeSystem\"").unwrap();
        let rest = &xml[oobe..];
        assert!(rest.contains("<FirstLogonCommands>"));
        assert!(rest.contains("<Order>1</Order>"));
        assert!(
            rest.contains("&quot;C:\\WAIT\\Software\\a.msi&quot;")
                || rest.contains("\"C:\\WAIT\\Software\\a.msi\"")
        );
        assert!(rest.contains("<RequiresUserInput>false</RequiresUserInput>"));
        let mut r = Reader::from_str(&xml);
        while !matches!(r.read_event().unwrap(), Event::Eof) {}
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn rendered_file_lists_driver_paths_in_offline_servicing() {
        let xml = render_unattend(&plan()).unwrap();
        assert!(xml.contains("<settings pass=\"offlineServicing\">"));
        assert!(xml.contains("Microsoft-Windows-PnpCustomizationsNonWinPE"));
        assert!(xml.contains(r"<Path>C:\WAIT\Drivers</Path>"));
        assert!(xml.contains("wcm:keyValue=\"1\""));
        // Parses back as XML.
        let mut r = Reader::from_str(&xml);
        while !matches!(r.read_event().unwrap(), Event::Eof) {}
    }

    #[test]
    fn product_key_goes_to_specialize() {
        let mut p = plan();
        p.product_key = Some("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE".into());
        let xml = render_unattend(&p).unwrap();
        let spec = xml.find("pass=\"specialize\"").unwrap();
        assert!(xml[spec..].contains("<ProductKey>AAAAA-BBBBB-CCCCC-DDDDD-EEEEE</ProductKey>"));
    }

    #[test]
    fn merge_adds_into_existing_pass_and_keeps_user_content() {
        let user = r#"<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="offlineServicing">
    <component name="Microsoft-Windows-LUA-Settings" processorArchitecture="amd64"/>
  </settings>
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-Shell-Setup"><TimeZone>UTC</TimeZone></component>
  </settings>
</unattend>"#;
        let out = merge_answer_file(user, "a.xml", &plan()).unwrap();
        assert_eq!(count(&out, "pass=\"offlineServicing\""), 1);
        assert!(out.contains("Microsoft-Windows-LUA-Settings"));
        assert!(out.contains("<TimeZone>UTC</TimeZone>"));
        let off = out.find("pass=\"offlineServicing\"").unwrap();
        let oobe = out.find("pass=\"oobeSystem\"").unwrap();
        let pnp = out.find("PnpCustomizationsNonWinPE").unwrap();
        assert!(off < pnp && pnp < oobe);
    }

    #[test]
    fn merge_adds_missing_pass_and_handles_empty_settings() {
        let user = r#"<unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="specialize"/></unattend>"#;
        let mut p = plan();
        p.product_key = Some("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE".into());
        let out = merge_answer_file(user, "a.xml", &p).unwrap();
        assert_eq!(count(&out, "pass=\"specialize\""), 1);
        assert_eq!(count(&out, "pass=\"offlineServicing\""), 1);
        assert!(out.contains("<ProductKey>"));
        let mut r = Reader::from_str(&out);
        while !matches!(r.read_event().unwrap(), Event::Eof) {}
    }

    #[test]
    fn malformed_answer_files_are_refused_with_the_file_name() {
        let cases = [
            ("", "no <unattend>"),
            ("<notunattend/>", "root element"),
            ("<unattend><settings pass=\"x\">", "not well-formed"),
            ("<unattend></settings></unattend>", "not well-formed"),
            (
                "<!DOCTYPE unattend [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><unattend/>",
                "DOCTYPE",
            ),
            (
                "<unattend><settings pass=\"offlineServicing\"><component name=\"Microsoft-Windows-PnpCustomizationsNonWinPE\"/></settings></unattend>",
                "already has",
            ),
        ];
        for (xml, want) in cases {
            let err = merge_answer_file(xml, "5_AnswerFiles/B/x.xml", &plan()).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("5_AnswerFiles/B/x.xml"), "{xml:?}: {msg}");
            assert!(msg.contains(want), "{xml:?}: {msg}");
        }
    }

    #[test]
    fn overlong_driver_path_is_refused() {
        let mut p = plan();
        p.driver_paths = vec![DriverPath {
            path: "C:\\".to_string() + &"a".repeat(300),
        }];
        assert!(render_unattend(&p).is_err());
    }
}
