//! `waitctl openapi [--markdown]`: the API's OpenAPI document as served at
//! `/api/openapi.json`, or rendered as the Markdown reference committed as docs/API.md
//! (`tests/api_doc.rs` fails when the two drift apart).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use clap::Args;
use serde_json::Value;

/// The command that writes docs/API.md, from the repository root.
pub const REGENERATE: &str = "cargo run -q -p waitctl -- openapi --markdown > docs/API.md";

#[derive(Debug, Clone, Args)]
pub struct OpenapiArgs {
    /// Print the Markdown reference (docs/API.md) instead of the JSON document.
    #[arg(long)]
    pub markdown: bool,
}

pub fn run(args: &OpenapiArgs) -> anyhow::Result<ExitCode> {
    let doc = serde_json::to_value(wait_server::openapi::document())?;
    if args.markdown {
        print!("{}", markdown(&doc));
    } else {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The reference: every route grouped by tag in document order, then every schema.
pub fn markdown(doc: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# WAIT HTTP API reference\n");
    let _ = writeln!(
        out,
        "Generated from the OpenAPI document the server serves at `GET /api/openapi.json`; \
         do not edit by hand. Regenerate with `{REGENERATE}`.\n"
    );
    if let Some(text) = doc["info"]["description"].as_str() {
        let _ = writeln!(out, "{text}\n");
    }
    let _ = writeln!(
        out,
        "Signed-in routes take the `wait_session` cookie or `Authorization: Bearer <token>`. \
         Every route can also answer 404 (no such path) and 405 (wrong method). \
         In answer tables, `required` means the field is always present, and `| null` \
         that it can be null; a `Name` type is described under Schemas.\n"
    );
    // groups in the document's tag order, then any tag it does not list
    let mut groups: Vec<(String, Vec<String>)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["name"].as_str()?.to_string(), Vec::new())))
        .collect();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
            let section = operation(doc, method, path, op);
            match groups.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, sections)) => sections.push(section),
                None => groups.push((tag, vec![section])),
            }
        }
    }
    for (tag, sections) in groups.into_iter().filter(|(_, s)| !s.is_empty()) {
        let _ = writeln!(out, "## {}\n", capitalise(&tag));
        let about = doc["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"] == tag.as_str());
        if let Some(text) = about.and_then(|t| t["description"].as_str()) {
            let _ = writeln!(out, "{text}.\n");
        }
        for section in sections {
            out.push_str(&section);
        }
    }
    let _ = writeln!(out, "## Schemas\n");
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let _ = writeln!(out, "### {name}\n");
        if let Some(text) = schema["description"].as_str() {
            let _ = writeln!(out, "{}\n", one_line(text));
        }
        out.push_str(&fields_or_type(doc, schema));
    }
    out
}

fn operation(doc: &Value, method: &str, path: &str, op: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### `{} {path}`\n", method.to_uppercase());
    let _ = writeln!(out, "{}\n", op["summary"].as_str().unwrap_or(""));
    let _ = writeln!(out, "{}\n", op["description"].as_str().unwrap_or(""));
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    if !params.is_empty() {
        let _ = writeln!(out, "Parameters:\n");
        let _ = writeln!(out, "| name | in | type | required | description |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for p in params {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                p["name"].as_str().unwrap_or(""),
                p["in"].as_str().unwrap_or(""),
                type_name(&p["schema"]),
                yes_no(p["required"].as_bool().unwrap_or(false)),
                cell(p["description"].as_str().unwrap_or("")),
            );
        }
        out.push('\n');
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        let required = op["requestBody"]["required"].as_bool().unwrap_or(false);
        for (content_type, media) in content {
            let _ = writeln!(
                out,
                "Body ({}`{content_type}`, {}):\n",
                if required { "" } else { "optional, " },
                type_name(&media["schema"]),
            );
            out.push_str(&fields_or_type(doc, &media["schema"]));
        }
    }
    let mut errors = Vec::new();
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        let schema = &response["content"]["application/json"]["schema"];
        if schema["$ref"] == "#/components/schemas/Error" {
            errors.push(status.clone());
            continue;
        }
        let types: Vec<String> = response["content"]
            .as_object()
            .map(|c| c.keys().map(|k| format!("`{k}`")).collect())
            .unwrap_or_default();
        let what = match (types.is_empty(), schema.get("$ref")) {
            (true, _) => "no body".to_string(),
            (false, Some(_)) => format!("{}, {}", types.join(", "), type_name(schema)),
            (false, None) => types.join(", "),
        };
        let _ = writeln!(
            out,
            "Answer {status} ({}): {what}.\n",
            response["description"].as_str().unwrap_or("")
        );
        if schema.get("$ref").is_some() {
            out.push_str(&fields_or_type(doc, schema));
        }
    }
    if !errors.is_empty() {
        let _ = writeln!(out, "Errors: {}.\n", errors.join(", "));
    }
    out
}

/// A table of an object's fields, or one line naming the type of anything else.
fn fields_or_type(doc: &Value, schema: &Value) -> String {
    let fields = fields(doc, schema);
    if fields.is_empty() {
        return format!("Type: {}.\n\n", type_name(schema));
    }
    let mut out = String::from("| field | type | required | description |\n|---|---|---|---|\n");
    for (name, (field, required)) in &fields {
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {} |",
            type_name(field),
            yes_no(*required),
            cell(field["description"].as_str().unwrap_or("")),
        );
    }
    out.push('\n');
    out
}

/// The properties of an object schema, following `$ref` and merging `allOf`.
fn fields(doc: &Value, schema: &Value) -> BTreeMap<String, (Value, bool)> {
    let mut out = BTreeMap::new();
    let schema = resolve(doc, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(fields(doc, part));
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, field) in schema["properties"].as_object().into_iter().flatten() {
        out.insert(
            name.clone(),
            (field.clone(), required.contains(&name.as_str())),
        );
    }
    out
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => &doc["components"]["schemas"][name],
        None => schema,
    }
}

/// `string`, `integer | null`, `[JobView]`, `"a" \| "b"`, …
fn type_name(schema: &Value) -> String {
    if let Some(name) = schema["$ref"].as_str() {
        return format!("`{}`", name.rsplit('/').next().unwrap_or(name));
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        return values.join(" \\| ");
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(items) = schema[key].as_array() {
            let names: Vec<String> = items.iter().map(type_name).collect();
            return names.join(if key == "allOf" { " and " } else { " \\| " });
        }
    }
    let types: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => return "any".to_string(),
    };
    let names: Vec<String> = types
        .iter()
        .map(|t| match t.as_str() {
            "array" => format!("[{}]", type_name(&schema["items"])),
            "string" | "integer" | "number" => match schema["format"].as_str() {
                Some(format) => format!("{t} ({format})"),
                None => t.clone(),
            },
            _ => t.clone(),
        })
        .collect();
    names.join(" \\| ")
}

fn yes_no(yes: bool) -> &'static str {
    if yes { "yes" } else { "no" }
}

/// Text fit for one table cell.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
