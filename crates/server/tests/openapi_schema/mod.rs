//! A JSON Schema validator for the subset the API document uses (`$ref`, `type` as a
//! name or a list, `properties`, `required`, `items`, `enum`, `allOf`, `oneOf`), strict
//! about undocumented fields: an answer with a field the schema does not name fails, as
//! does one missing a required field, so a renamed field fails both ways.
#![allow(dead_code)]

use serde_json::Value;

/// Every way `value` differs from `schema` (empty when it conforms), each with the JSON
/// path where it happens.
pub fn problems(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(doc, schema, value, "$", &mut out);
    out
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => {
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "dangling $ref to {name}");
            resolve(doc, target)
        }
        None => schema,
    }
}

fn check(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(parts) = schema["allOf"].as_array() {
        // each part checks its own fields; unknown ones are judged against all of them
        for part in parts {
            check_fields(doc, resolve(doc, part), value, at, out, false);
        }
        check_unknown(doc, schema, value, at, out);
        return;
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let fits = options
            .iter()
            .filter(|o| problems(doc, o, value).is_empty())
            .count();
        if fits != 1 {
            out.push(format!(
                "{at}: matches {fits} of the oneOf options: {value}"
            ));
        }
        return;
    }
    if let Some(values) = schema["enum"].as_array() {
        if !values.contains(value) {
            out.push(format!("{at}: {value} is not one of {values:?}"));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return, // any value
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let fits = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
    if !fits {
        out.push(format!("{at}: {actual} where the schema says {types:?}"));
        return;
    }
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check(doc, &schema["items"], item, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(_) => check_fields(doc, schema, value, at, out, true),
        _ => {}
    }
}

fn check_fields(
    doc: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    out: &mut Vec<String>,
    strict: bool,
) {
    let Some(object) = value.as_object() else {
        out.push(format!("{at}: {value} is not an object"));
        return;
    };
    for name in schema["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        if !object.contains_key(name) {
            out.push(format!("{at}: required field {name:?} is missing"));
        }
    }
    for (name, field) in schema["properties"].as_object().into_iter().flatten() {
        if let Some(v) = object.get(name) {
            check(doc, field, v, &format!("{at}.{name}"), out);
        }
    }
    if strict {
        check_unknown(doc, schema, value, at, out);
    }
}

/// Fields of `value` that no part of `schema` names.
fn check_unknown(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let mut known = Vec::new();
    collect_names(doc, schema, &mut known);
    if known.is_empty() {
        return; // an object whose fields are not fixed (a manifest)
    }
    for name in value.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !known.contains(name) {
            out.push(format!("{at}: field {name:?} is not in the schema"));
        }
    }
}

fn collect_names(doc: &Value, schema: &Value, names: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        collect_names(doc, part, names);
    }
    names.extend(
        schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone()),
    );
}

/// The schema of the JSON answer `status` of `method path`.
pub fn answer_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]
        ["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no JSON answer {status}"
    );
    schema
}
