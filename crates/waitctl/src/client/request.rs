//! Job request flags → the JSON body of `POST /api/job` (and the overrides of a clone).
//! Values are passed through as typed; the server is the one judge of what resolves in
//! the repository, and its error names the field.

use std::io::Read;

use anyhow::{Context, bail};
use serde_json::{Map, Value};

/// Every request field except the two a new job must name.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RequestFlags {
    /// Customer folder under 8_Output/ (default `default`).
    #[arg(long)]
    pub customer: Option<String>,
    /// Image index: a number or an edition name (default 1).
    #[arg(long)]
    pub index: Option<String>,
    /// Driver folder under 2_Drivers/<board>/ (default: recommended for the image).
    #[arg(long)]
    pub driver_set: Option<String>,
    /// A language pack file name (repeatable).
    #[arg(long = "langpack")]
    pub langpacks: Vec<String>,
    /// An update file name (repeatable).
    #[arg(long = "update")]
    pub updates: Vec<String>,
    /// A software file name (repeatable).
    #[arg(long = "software")]
    pub software: Vec<String>,
    /// Answer file path under 5_AnswerFiles/.
    #[arg(long)]
    pub answer_file: Option<String>,
    /// Product key XXXXX-XXXXX-XXXXX-XXXXX-XXXXX (visible to other users of this
    /// machine; prefer --product-key-stdin).
    #[arg(long, conflicts_with = "product_key_stdin")]
    pub product_key: Option<String>,
    /// Read the product key from standard input.
    #[arg(long)]
    pub product_key_stdin: bool,
    /// key, nokey or both.
    #[arg(long)]
    pub key_variants: Option<String>,
    /// Also build a bootable ISO per variant.
    #[arg(long)]
    pub iso: bool,
    /// lzx (default), xpress, lzms, esd (solid LZMS, `.esd`) or none.
    #[arg(long)]
    pub compression: Option<String>,
    /// Compress the image data again even where the base already holds it in the
    /// requested format.
    #[arg(long)]
    pub recompress: bool,
    /// Silent switches of an .exe given with --software, as FILE=SWITCHES
    /// (repeatable), e.g. --switches 'Tool.exe=/S /norestart'.
    #[arg(long = "switches", value_name = "FILE=SWITCHES")]
    pub switches: Vec<String>,
    /// Name of the output image (and its files).
    #[arg(long)]
    pub image_name: Option<String>,
    /// Recompress WinRE inside the image.
    #[arg(long)]
    pub recompress_winre: bool,
    /// Keep the verbose log for this job.
    #[arg(long)]
    pub verbose_log: bool,
}

impl RequestFlags {
    /// The fields given on the command line; nothing else, so a clone keeps the rest.
    pub fn to_body(&self) -> anyhow::Result<Map<String, Value>> {
        let mut body = Map::new();
        let mut put = |key: &str, value: Value| {
            body.insert(key.to_string(), value);
        };
        if let Some(v) = &self.customer {
            put("customer_name", v.clone().into());
        }
        if let Some(v) = &self.index {
            // a number is an index, anything else an edition name
            let value = v
                .trim()
                .parse::<u32>()
                .map_or_else(|_| Value::from(v.clone()), Value::from);
            put("image_index", value);
        }
        if let Some(v) = &self.driver_set {
            put("driver_set", v.clone().into());
        }
        for (key, list) in [
            ("langpacks", &self.langpacks),
            ("updates", &self.updates),
            ("software", &self.software),
        ] {
            if !list.is_empty() {
                put(key, list.clone().into());
            }
        }
        if let Some(v) = &self.answer_file {
            put("answer_file", v.clone().into());
        }
        let key = if self.product_key_stdin {
            Some(read_key_from_stdin()?)
        } else {
            self.product_key.clone()
        };
        if let Some(v) = key {
            put("product_key", v.into());
        }
        if let Some(v) = &self.key_variants {
            put("key_variants", v.clone().into());
        }
        if self.iso {
            put("create_iso", true.into());
        }
        if let Some(v) = &self.compression {
            put("compression", v.clone().into());
        }
        if let Some(v) = &self.image_name {
            put("image_name", v.clone().into());
        }
        if self.recompress_winre {
            put("recompress_winre", true.into());
        }
        if self.recompress {
            put("recompress", true.into());
        }
        if !self.switches.is_empty() {
            let mut map = Map::new();
            for item in &self.switches {
                let Some((file, switches)) = item.split_once('=') else {
                    bail!("--switches {item:?}: expected FILE=SWITCHES");
                };
                map.insert(file.trim().to_string(), switches.into());
            }
            put("software_switches", Value::Object(map));
        }
        if self.verbose_log {
            put("log_level", "verbose".into());
        }
        Ok(body)
    }
}

fn read_key_from_stdin() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the product key from standard input")?;
    let key = input.trim().to_string();
    if key.is_empty() {
        bail!("--product-key-stdin: standard input was empty");
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_fields_are_sent_with_their_api_names() {
        assert!(RequestFlags::default().to_body().unwrap().is_empty());
        let flags = RequestFlags {
            customer: Some("AABBCCE".into()),
            index: Some("2".into()),
            langpacks: vec!["a.cab".into(), "b.cab".into()],
            iso: true,
            verbose_log: true,
            ..RequestFlags::default()
        };
        let body = Value::Object(flags.to_body().unwrap());
        assert_eq!(
            body,
            serde_json::json!({
                "customer_name": "AABBCCE", "image_index": 2,
                "langpacks": ["a.cab", "b.cab"], "create_iso": true, "log_level": "verbose"
            })
        );
    }

    #[test]
    fn an_edition_name_stays_a_string() {
        let flags = RequestFlags {
            index: Some("IoTEnterpriseS".into()),
            ..RequestFlags::default()
        };
        assert_eq!(flags.to_body().unwrap()["image_index"], "IoTEnterpriseS");
    }

    #[test]
    fn switches_become_an_object_and_a_bad_pair_names_the_flag() {
        let flags = RequestFlags {
            software: vec!["Tool.exe".into()],
            switches: vec!["Tool.exe=/DIR=\"C:\\A B\" /S".into()],
            recompress: true,
            ..RequestFlags::default()
        };
        let body = flags.to_body().unwrap();
        assert_eq!(body["software_switches"]["Tool.exe"], "/DIR=\"C:\\A B\" /S");
        assert_eq!(body["recompress"], true);
        let bad = RequestFlags {
            switches: vec!["Tool.exe /S".into()],
            ..RequestFlags::default()
        };
        let e = bad.to_body().unwrap_err().to_string();
        assert!(
            e.contains("--switches") && e.contains("FILE=SWITCHES"),
            "{e}"
        );
    }
}
