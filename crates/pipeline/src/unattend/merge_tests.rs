//! The merge rules as a table: a customer's answer file and a plan in, facts about the
//! re-parsed result and the conflict lines out.

use super::facts::{check_invariants, component_path, count, facts, texts};
use super::*;

const JOB_KEY: &str = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE";
const THEIR_KEY: &str = "VVVVV-WWWWW-XXXXX-YYYYY-ZZZZZ";
const EDITION_KEY: &str = "GGGGG-HHHHH-JJJJJ-KKKKK-MMMMM";

const SHELL: &str = "Microsoft-Windows-Shell-Setup";
const SETUP: &str = "Microsoft-Windows-Setup";
const PNP: &str = "Microsoft-Windows-PnpCustomizationsNonWinPE";
const PNP_PE: &str = "Microsoft-Windows-PnpCustomizationsWinPE";

/// The attributes Windows SIM writes on a component, for `arch`.
fn attrs(arch: &str) -> String {
    format!(
        r#"processorArchitecture="{arch}" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS""#
    )
}

/// A customer file: `body` inside an `<unattend>` that declares `wcm` on the root.
fn file(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- line 7 answer file -->\n<unattend xmlns=\"urn:schemas-microsoft-com:unattend\" xmlns:wcm=\"http://schemas.microsoft.com/WMIConfig/2002/State\">\n{body}\n</unattend>\n"
    )
}

fn comp(name: &str, arch: &str, inner: &str) -> String {
    format!(
        "    <component name=\"{name}\" {}>\n{inner}\n    </component>",
        attrs(arch)
    )
}

fn settings(pass: &str, inner: &str) -> String {
    format!("  <settings pass=\"{pass}\">\n{inner}\n  </settings>")
}

fn base() -> UnattendPlan {
    UnattendPlan {
        arch: "amd64".into(),
        driver_paths: vec![dp(r"C:\WAIT\Drivers")],
        winpe_driver_paths: vec![],
        product_key: None,
        servicing: vec![],
        first_logon: vec![],
    }
}

fn dp(path: &str) -> DriverPath {
    DriverPath { path: path.into() }
}

fn cmd(n: u32) -> FirstLogonCommand {
    FirstLogonCommand {
        command_line: format!(r#"msiexec /i "C:\WAIT\Software\app{n}.msi" /qn"#),
        description: format!("Install app{n}"),
    }
}

fn package(name: &str, version: &str) -> ServicingPackage {
    ServicingPackage {
        name: name.into(),
        version: version.into(),
        processor_architecture: "amd64".into(),
        language: "neutral".into(),
        public_key_token: "31bf3856ad364e35".into(),
        location: format!(r"C:\WAIT\Packages\{name}.cab"),
    }
}

fn path(pass: &str, component: &str, arch: &str, rest: &str) -> String {
    format!("{}{rest}", component_path(pass, component, arch))
}

enum Want {
    Count(usize),
    Texts(Vec<&'static str>),
}

struct Case {
    name: &'static str,
    customer: String,
    plan: UnattendPlan,
    expect: Vec<(String, Want)>,
    /// One entry per expected conflict line, in order: substrings that line contains.
    conflicts: Vec<Vec<&'static str>>,
}

/// A board's file in the shape customers send: windowsPE, specialize and oobeSystem.
fn board_file() -> String {
    file(&[
        settings(
            "windowsPE",
            &comp(
                SETUP,
                "amd64",
                "      <UserData>\n        <AcceptEula>true</AcceptEula>\n        <FullName>Operator</FullName>\n      </UserData>",
            ),
        ),
        settings(
            "specialize",
            &comp(
                SHELL,
                "amd64",
                "      <ComputerName>*</ComputerName>\n      <TimeZone>UTC</TimeZone>",
            ),
        ),
        settings(
            "oobeSystem",
            &comp(
                SHELL,
                "amd64",
                "      <!-- local admin for the line -->\n      <UserAccounts>\n        <LocalAccounts>\n          <LocalAccount wcm:action=\"add\">\n            <Name>Operator</Name>\n            <Group>Administrators</Group>\n          </LocalAccount>\n        </LocalAccounts>\n      </UserAccounts>\n      <TimeZone>UTC</TimeZone>",
            ),
        ),
    ]
    .join("\n"))
}

fn cases() -> Vec<Case> {
    let spec = |rest: &str| path("specialize", SHELL, "amd64", rest);
    let oobe = |rest: &str| path("oobeSystem", SHELL, "amd64", rest);
    let offline = |rest: &str| path("offlineServicing", PNP, "amd64", rest);
    let pe_setup = |rest: &str| path("windowsPE", SETUP, "amd64", rest);
    let flc_order = oobe("/FirstLogonCommands/SynchronousCommand/Order");
    let flc_line = oobe("/FirstLogonCommands/SynchronousCommand/CommandLine");
    let their_commands = |orders: [u32; 2]| {
        comp(
            SHELL,
            "amd64",
            &format!(
                "      <FirstLogonCommands>\n        <SynchronousCommand wcm:action=\"add\">\n          <Order>{}</Order>\n          <CommandLine>cmd /c echo first</CommandLine>\n        </SynchronousCommand>\n        <SynchronousCommand wcm:action=\"add\">\n          <Order>{}</Order>\n          <CommandLine>cmd /c echo second</CommandLine>\n        </SynchronousCommand>\n      </FirstLogonCommands>",
                orders[0], orders[1]
            ),
        )
    };
    vec![
        Case {
            name: "board file: WAIT's sections merged into the customer's Shell-Setup",
            customer: board_file(),
            plan: UnattendPlan {
                product_key: Some(JOB_KEY.into()),
                first_logon: vec![cmd(1), cmd(2)],
                servicing: vec![package("LangPack", "10.0.26100.1")],
                ..base()
            },
            expect: vec![
                (spec("/ComputerName"), Want::Texts(vec!["*"])),
                (spec("/TimeZone"), Want::Texts(vec!["UTC"])),
                (spec("/ProductKey"), Want::Texts(vec![JOB_KEY])),
                (
                    oobe("/UserAccounts/LocalAccounts/LocalAccount/Name"),
                    Want::Texts(vec!["Operator"]),
                ),
                (oobe("/#comment"), Want::Texts(vec!["local admin for the line"])),
                (flc_order.clone(), Want::Texts(vec!["1", "2"])),
                (
                    offline("/DriverPaths/PathAndCredentials/Path"),
                    Want::Texts(vec![r"C:\WAIT\Drivers"]),
                ),
                (
                    "/unattend/servicing/package/assemblyIdentity/@name".into(),
                    Want::Texts(vec!["LangPack"]),
                ),
                ("/#comment".into(), Want::Texts(vec!["line 7 answer file"])),
                (pe_setup("/UserData/FullName"), Want::Texts(vec!["Operator"])),
            ],
            conflicts: vec![],
        },
        Case {
            name: "offlineServicing DriverPaths: next free keyValue, a listed path is not repeated",
            customer: file(&settings(
                "offlineServicing",
                &comp(
                    PNP,
                    "amd64",
                    "      <DriverPaths>\n        <PathAndCredentials wcm:action=\"add\" wcm:keyValue=\"1\">\n          <Path>D:\\Vendor</Path>\n        </PathAndCredentials>\n        <PathAndCredentials wcm:action=\"add\" wcm:keyValue=\"3\">\n          <Path>c:\\wait\\drivers\\</Path>\n        </PathAndCredentials>\n      </DriverPaths>",
                ),
            )),
            plan: UnattendPlan {
                driver_paths: vec![dp(r"C:\WAIT\Drivers"), dp(r"E:\Extra")],
                ..base()
            },
            expect: vec![
                (
                    offline("/DriverPaths/PathAndCredentials/@keyValue"),
                    Want::Texts(vec!["1", "3", "4"]),
                ),
                (
                    offline("/DriverPaths/PathAndCredentials/Path"),
                    Want::Texts(vec![r"D:\Vendor", r"c:\wait\drivers\", r"E:\Extra"]),
                ),
            ],
            conflicts: vec![],
        },
        Case {
            name: "windowsPE DriverPaths merge too; a missing offlineServicing pass is added",
            customer: file(&settings(
                "windowsPE",
                &[
                    comp(
                        "Microsoft-Windows-International-Core-WinPE",
                        "amd64",
                        "      <UILanguage>en-US</UILanguage>",
                    ),
                    comp(
                        PNP_PE,
                        "amd64",
                        "      <DriverPaths>\n        <PathAndCredentials wcm:keyValue=\"storage\" wcm:action=\"add\">\n          <Path>D:\\Storage</Path>\n        </PathAndCredentials>\n      </DriverPaths>",
                    ),
                ]
                .join("\n"),
            )),
            plan: UnattendPlan {
                winpe_driver_paths: vec![dp(r"X:\WAIT\WinPE")],
                ..base()
            },
            expect: vec![
                (
                    path("windowsPE", PNP_PE, "amd64", "/DriverPaths/PathAndCredentials/@keyValue"),
                    Want::Texts(vec!["storage", "1"]),
                ),
                (
                    path("windowsPE", PNP_PE, "amd64", "/DriverPaths/PathAndCredentials/Path"),
                    Want::Texts(vec![r"D:\Storage", r"X:\WAIT\WinPE"]),
                ),
                (
                    offline("/DriverPaths/PathAndCredentials/@keyValue"),
                    Want::Texts(vec!["1"]),
                ),
                (
                    path(
                        "windowsPE",
                        "Microsoft-Windows-International-Core-WinPE",
                        "amd64",
                        "/UILanguage",
                    ),
                    Want::Texts(vec!["en-US"]),
                ),
            ],
            conflicts: vec![],
        },
        Case {
            name: "PnP component without DriverPaths gets one, its comment stays first",
            customer: file(&settings(
                "offlineServicing",
                &comp(PNP, "amd64", "      <!-- drivers come from WAIT -->"),
            )),
            plan: base(),
            expect: vec![
                (offline("/#comment"), Want::Texts(vec!["drivers come from WAIT"])),
                (
                    offline("/DriverPaths/PathAndCredentials/@keyValue"),
                    Want::Texts(vec!["1"]),
                ),
            ],
            conflicts: vec![],
        },
        Case {
            name: "a different ProductKey: the job's key wins, both masked in the conflict",
            customer: file(&settings(
                "specialize",
                &comp(
                    SHELL,
                    "amd64",
                    &format!("      <ComputerName>LINE7-*</ComputerName>\n      <ProductKey>{THEIR_KEY}</ProductKey>"),
                ),
            )),
            plan: UnattendPlan {
                product_key: Some(JOB_KEY.into()),
                ..base()
            },
            expect: vec![
                (spec("/ProductKey"), Want::Texts(vec![JOB_KEY])),
                (spec("/ComputerName"), Want::Texts(vec!["LINE7-*"])),
            ],
            conflicts: vec![vec![
                "specialize Microsoft-Windows-Shell-Setup/ProductKey",
                "*****-*****-*****-*****-ZZZZZ",
                "*****-*****-*****-*****-EEEEE",
                "kept the job's key",
            ]],
        },
        Case {
            name: "the same ProductKey is no conflict",
            customer: file(&settings(
                "specialize",
                &comp(SHELL, "amd64", &format!("      <ProductKey>{JOB_KEY}</ProductKey>")),
            )),
            plan: UnattendPlan {
                product_key: Some(JOB_KEY.into()),
                ..base()
            },
            expect: vec![(spec("/ProductKey"), Want::Texts(vec![JOB_KEY]))],
            conflicts: vec![],
        },
        Case {
            name: "nokey: the customer's keys are removed and reported, the rest stays",
            customer: file(&[
                settings(
                    "windowsPE",
                    &comp(
                        SETUP,
                        "amd64",
                        &format!("      <UserData>\n        <AcceptEula>true</AcceptEula>\n        <ProductKey>\n          <Key>{EDITION_KEY}</Key>\n          <WillShowUI>OnError</WillShowUI>\n        </ProductKey>\n      </UserData>"),
                    ),
                ),
                settings(
                    "specialize",
                    &comp(
                        SHELL,
                        "amd64",
                        &format!("      <ProductKey>{THEIR_KEY}</ProductKey>\n      <TimeZone>UTC</TimeZone>"),
                    ),
                ),
            ]
            .join("\n")),
            plan: base(),
            expect: vec![
                (spec("/ProductKey"), Want::Count(0)),
                (spec("/TimeZone"), Want::Texts(vec!["UTC"])),
                (pe_setup("/UserData/ProductKey/Key"), Want::Count(0)),
                (
                    pe_setup("/UserData/ProductKey/WillShowUI"),
                    Want::Texts(vec!["OnError"]),
                ),
                (pe_setup("/UserData/AcceptEula"), Want::Texts(vec!["true"])),
            ],
            conflicts: vec![
                vec![
                    "windowsPE Microsoft-Windows-Setup/UserData/ProductKey/Key",
                    "removed",
                    "*****-*****-*****-*****-MMMMM",
                    "nokey",
                ],
                vec![
                    "specialize Microsoft-Windows-Shell-Setup/ProductKey",
                    "removed",
                    "*****-*****-*****-*****-ZZZZZ",
                    "nokey",
                ],
            ],
        },
        Case {
            name: "nokey: a ProductKey left empty by removing its Key goes too",
            customer: file(&settings(
                "windowsPE",
                &comp(
                    SETUP,
                    "amd64",
                    &format!("      <UserData>\n        <ProductKey>\n          <Key>{EDITION_KEY}</Key>\n        </ProductKey>\n      </UserData>"),
                ),
            )),
            plan: base(),
            expect: vec![(pe_setup("/UserData/ProductKey"), Want::Count(0))],
            conflicts: vec![vec!["UserData/ProductKey/Key", "removed"]],
        },
        Case {
            name: "with a key: the edition-selection Key stays and a difference is reported",
            customer: file(&settings(
                "windowsPE",
                &comp(
                    SETUP,
                    "amd64",
                    &format!("      <UserData>\n        <ProductKey>\n          <Key>{EDITION_KEY}</Key>\n        </ProductKey>\n      </UserData>"),
                ),
            )),
            plan: UnattendPlan {
                product_key: Some(JOB_KEY.into()),
                ..base()
            },
            expect: vec![
                (pe_setup("/UserData/ProductKey/Key"), Want::Texts(vec![EDITION_KEY])),
                (spec("/ProductKey"), Want::Texts(vec![JOB_KEY])),
            ],
            conflicts: vec![vec![
                "windowsPE Microsoft-Windows-Setup/UserData/ProductKey/Key",
                "*****-*****-*****-*****-MMMMM",
                "*****-*****-*****-*****-EEEEE",
                "kept the answer file's key",
            ]],
        },
        Case {
            name: "with a key: an edition-selection Key equal to the job's is no conflict",
            customer: file(&settings(
                "windowsPE",
                &comp(
                    SETUP,
                    "amd64",
                    &format!("      <UserData>\n        <ProductKey>\n          <Key>{JOB_KEY}</Key>\n        </ProductKey>\n      </UserData>"),
                ),
            )),
            plan: UnattendPlan {
                product_key: Some(JOB_KEY.into()),
                ..base()
            },
            expect: vec![(pe_setup("/UserData/ProductKey/Key"), Want::Texts(vec![JOB_KEY]))],
            conflicts: vec![],
        },
        Case {
            name: "FirstLogonCommands: ours follow the customer's, Orders continue",
            customer: file(&settings("oobeSystem", &their_commands([1, 5]))),
            plan: UnattendPlan {
                first_logon: vec![cmd(1), cmd(2)],
                ..base()
            },
            expect: vec![
                (flc_order.clone(), Want::Texts(vec!["1", "5", "6", "7"])),
                (
                    flc_line.clone(),
                    Want::Texts(vec![
                        "cmd /c echo first",
                        "cmd /c echo second",
                        r#"msiexec /i "C:\WAIT\Software\app1.msi" /qn"#,
                        r#"msiexec /i "C:\WAIT\Software\app2.msi" /qn"#,
                    ]),
                ),
            ],
            conflicts: vec![],
        },
        Case {
            name: "no wcm declaration in the customer's file: ours declare it",
            customer: "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\"><settings pass=\"oobeSystem\"><component name=\"Microsoft-Windows-Shell-Setup\" processorArchitecture=\"amd64\"><FirstLogonCommands><SynchronousCommand><Order>1</Order><CommandLine>cmd /c ver</CommandLine></SynchronousCommand></FirstLogonCommands></component></settings><settings pass=\"offlineServicing\"><component name=\"Microsoft-Windows-PnpCustomizationsNonWinPE\" processorArchitecture=\"amd64\"><DriverPaths/></component></settings></unattend>".into(),
            plan: UnattendPlan {
                first_logon: vec![cmd(1)],
                ..base()
            },
            expect: vec![
                (flc_order.clone(), Want::Texts(vec!["1", "2"])),
                (oobe("/FirstLogonCommands/SynchronousCommand/@action"), Want::Texts(vec!["add"])),
                (
                    offline("/DriverPaths/PathAndCredentials/@keyValue"),
                    Want::Texts(vec!["1"]),
                ),
            ],
            conflicts: vec![],
        },
        Case {
            name: "a prefixed unattend namespace: added elements stay in it",
            customer: "<u:unattend xmlns:u=\"urn:schemas-microsoft-com:unattend\" xmlns:w=\"http://schemas.microsoft.com/WMIConfig/2002/State\">\n  <u:settings pass=\"offlineServicing\">\n    <u:component name=\"Microsoft-Windows-PnpCustomizationsNonWinPE\" processorArchitecture=\"amd64\">\n      <u:DriverPaths>\n        <u:PathAndCredentials w:action=\"add\" w:keyValue=\"1\">\n          <u:Path>D:\\Vendor</u:Path>\n        </u:PathAndCredentials>\n      </u:DriverPaths>\n    </u:component>\n  </u:settings>\n  <u:settings pass=\"specialize\"/>\n</u:unattend>\n".into(),
            plan: UnattendPlan {
                product_key: Some(JOB_KEY.into()),
                first_logon: vec![cmd(1)],
                servicing: vec![package("Package_for_KB1", "10.0.26100.2")],
                ..base()
            },
            expect: vec![
                (
                    offline("/DriverPaths/PathAndCredentials/@keyValue"),
                    Want::Texts(vec!["1", "2"]),
                ),
                (spec("/ProductKey"), Want::Texts(vec![JOB_KEY])),
                (flc_order.clone(), Want::Texts(vec!["1"])),
                ("/unattend/servicing/package/@action".into(), Want::Texts(vec!["install"])),
            ],
            conflicts: vec![],
        },
        Case {
            name: "an arm64 image and an amd64 file: arm64 components of our own, the file's reported",
            customer: file(&[
                settings(
                    "specialize",
                    &comp(SHELL, "amd64", "      <ComputerName>*</ComputerName>"),
                ),
                settings(
                    "oobeSystem",
                    &[
                        comp(SHELL, "amd64", "      <TimeZone>UTC</TimeZone>"),
                        comp("Microsoft-Windows-International-Core", "wow64", "      <UILanguage>en-US</UILanguage>"),
                    ]
                    .join("\n"),
                ),
            ]
            .join("\n")),
            plan: UnattendPlan {
                arch: "arm64".into(),
                product_key: Some(JOB_KEY.into()),
                first_logon: vec![cmd(1)],
                ..base()
            },
            expect: vec![
                (spec("/ComputerName"), Want::Texts(vec!["*"])),
                (spec("/ProductKey"), Want::Count(0)),
                (oobe("/FirstLogonCommands"), Want::Count(0)),
                (
                    path("specialize", SHELL, "arm64", "/ProductKey"),
                    Want::Texts(vec![JOB_KEY]),
                ),
                (
                    path("oobeSystem", SHELL, "arm64", "/FirstLogonCommands/SynchronousCommand/Order"),
                    Want::Texts(vec!["1"]),
                ),
                (
                    path("offlineServicing", PNP, "arm64", "/DriverPaths/PathAndCredentials/Path"),
                    Want::Texts(vec![r"C:\WAIT\Drivers"]),
                ),
            ],
            conflicts: vec![
                vec!["specialize Microsoft-Windows-Shell-Setup", "amd64", "arm64", "Windows skips it"],
                vec!["oobeSystem Microsoft-Windows-Shell-Setup", "amd64", "arm64", "Windows skips it"],
            ],
        },
        Case {
            name: "a two-architecture file: ours merge into the amd64 component, x86 is reported",
            customer: file(&settings(
                "oobeSystem",
                &[
                    comp(SHELL, "x86", "      <TimeZone>UTC</TimeZone>"),
                    comp(SHELL, "amd64", "      <TimeZone>UTC</TimeZone>"),
                ]
                .join("\n"),
            )),
            plan: UnattendPlan {
                first_logon: vec![cmd(1)],
                ..base()
            },
            expect: vec![
                (flc_order.clone(), Want::Texts(vec!["1"])),
                (
                    path("oobeSystem", SHELL, "x86", "/FirstLogonCommands"),
                    Want::Count(0),
                ),
                (path("oobeSystem", SHELL, "x86", "/TimeZone"), Want::Texts(vec!["UTC"])),
            ],
            conflicts: vec![vec!["oobeSystem Microsoft-Windows-Shell-Setup", "x86", "kept it unchanged"]],
        },
        Case {
            name: "existing servicing: a package listed by name keeps the customer's entry",
            customer: file("  <servicing>\n    <package action=\"configure\">\n      <assemblyIdentity name=\"Microsoft-Windows-Foundation-Package\" version=\"10.0.26100.1\" processorArchitecture=\"amd64\" publicKeyToken=\"31bf3856ad364e35\" language=\"\"/>\n      <selection name=\"TelnetClient\" state=\"true\"/>\n    </package>\n    <package action=\"install\">\n      <assemblyIdentity name=\"LangPack\" version=\"10.0.1.0\" processorArchitecture=\"amd64\" publicKeyToken=\"31bf3856ad364e35\" language=\"de-DE\"/>\n      <source location=\"D:\\lp.cab\"/>\n    </package>\n  </servicing>"),
            plan: UnattendPlan {
                servicing: vec![
                    package("LangPack", "10.0.26100.1"),
                    package("Package_for_KB1", "10.0.26100.2"),
                ],
                ..base()
            },
            expect: vec![
                (
                    "/unattend/servicing/package/assemblyIdentity/@name".into(),
                    Want::Texts(vec!["Microsoft-Windows-Foundation-Package", "LangPack", "Package_for_KB1"]),
                ),
                (
                    "/unattend/servicing/package/source/@location".into(),
                    Want::Texts(vec![r"D:\lp.cab", r"C:\WAIT\Packages\Package_for_KB1.cab"]),
                ),
                ("/unattend/servicing".into(), Want::Count(1)),
            ],
            conflicts: vec![vec![
                "servicing package LangPack",
                "10.0.1.0",
                "10.0.26100.1",
                "kept the answer file's entry",
            ]],
        },
        Case {
            name: "a pass written twice: ours go into the component wherever it is",
            customer: file(&[
                settings("oobeSystem", &comp("Microsoft-Windows-International-Core", "amd64", "      <UILanguage>en-US</UILanguage>")),
                settings("oobeSystem", &comp(SHELL, "amd64", "      <TimeZone>UTC</TimeZone>")),
            ]
            .join("\n")),
            plan: UnattendPlan {
                first_logon: vec![cmd(1)],
                ..base()
            },
            expect: vec![
                ("/unattend/settings[oobeSystem]".into(), Want::Count(2)),
                (oobe("/TimeZone"), Want::Texts(vec!["UTC"])),
                (flc_order.clone(), Want::Texts(vec!["1"])),
            ],
            conflicts: vec![],
        },
        Case {
            name: "an empty root gets everything",
            customer: "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\"/>".into(),
            plan: UnattendPlan {
                winpe_driver_paths: vec![dp(r"X:\WAIT\WinPE")],
                product_key: Some(JOB_KEY.into()),
                first_logon: vec![cmd(1)],
                servicing: vec![package("LangPack", "10.0.26100.1")],
                ..base()
            },
            expect: vec![(spec("/ProductKey"), Want::Texts(vec![JOB_KEY]))],
            conflicts: vec![],
        },
        Case {
            name: "self-closing settings and servicing are opened",
            customer: file("  <settings pass=\"specialize\"/>\n  <settings pass=\"oobeSystem\"></settings>\n  <servicing/>"),
            plan: UnattendPlan {
                product_key: Some(JOB_KEY.into()),
                first_logon: vec![cmd(1)],
                servicing: vec![package("LangPack", "10.0.26100.1")],
                ..base()
            },
            expect: vec![
                (spec("/ProductKey"), Want::Texts(vec![JOB_KEY])),
                (flc_order, Want::Texts(vec!["1"])),
                ("/unattend/servicing/package/assemblyIdentity/@name".into(), Want::Texts(vec!["LangPack"])),
            ],
            conflicts: vec![],
        },
    ]
}

#[test]
fn merge_rules_table() {
    for case in cases() {
        let out = merge_answer_file(&case.customer, "5_AnswerFiles/B/a.xml", &case.plan)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        check_invariants(&case.customer, &out, &case.plan);
        let got = facts(&out.xml);
        for (p, want) in &case.expect {
            match want {
                Want::Count(n) => assert_eq!(
                    count(&got, p),
                    *n,
                    "{}: count of {p} in\n{}",
                    case.name,
                    out.xml
                ),
                Want::Texts(t) => {
                    assert_eq!(&texts(&got, p), t, "{}: {p} in\n{}", case.name, out.xml)
                }
            }
        }
        assert_eq!(
            out.conflicts.len(),
            case.conflicts.len(),
            "{}: {:#?}",
            case.name,
            out.conflicts
        );
        for (line, wants) in out.conflicts.iter().zip(&case.conflicts) {
            for w in wants {
                assert!(line.contains(w), "{}: {line:?} lacks {w:?}", case.name);
            }
            for key in [JOB_KEY, THEIR_KEY, EDITION_KEY] {
                assert!(
                    !line.contains(key),
                    "{}: unmasked key in {line:?}",
                    case.name
                );
            }
        }
    }
}

#[test]
fn merging_twice_adds_nothing_new_to_driver_paths_or_servicing() {
    // A re-run over its own output (e.g. a retried build) must not pile up entries.
    let plan = UnattendPlan {
        product_key: Some(JOB_KEY.into()),
        servicing: vec![package("LangPack", "10.0.26100.1")],
        ..base()
    };
    let once = merge_answer_file(&board_file(), "a.xml", &plan).unwrap();
    let twice = merge_answer_file(&once.xml, "a.xml", &plan).unwrap();
    let f = facts(&twice.xml);
    let dp = component_path("offlineServicing", PNP, "amd64") + "/DriverPaths/PathAndCredentials";
    assert_eq!(count(&f, &dp), 1, "{}", twice.xml);
    assert_eq!(count(&f, "/unattend/servicing/package"), 1);
    assert_eq!(twice.conflicts.len(), 1, "{:?}", twice.conflicts);
    assert!(twice.conflicts[0].contains("kept the answer file's entry"));
}

#[test]
fn windows_line_ends_are_kept_for_added_markup() {
    let customer = board_file().replace('\n', "\r\n");
    let plan = UnattendPlan {
        product_key: Some(JOB_KEY.into()),
        first_logon: vec![cmd(1)],
        ..base()
    };
    let out = merge_answer_file(&customer, "a.xml", &plan).unwrap();
    check_invariants(&customer, &out, &plan);
    let lf = out.xml.matches('\n').count();
    assert!(lf > 20);
    assert_eq!(out.xml.matches("\r\n").count(), lf, "{:?}", out.xml);
}
