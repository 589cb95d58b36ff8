//! The component schemas: derived (`utoipa::ToSchema`) from the types the handlers
//! serialise and deserialise, plus mirrors of other crates' types (`mirrors.rs`) and
//! of bodies read field by field (`requests.rs`).
//!
//! serde writes an `Option` field as `null` unless the field says
//! `skip_serializing_if`, while the derive marks every `Option` field optional. So every
//! nullable property of an answer is made required here; fields serde may leave out are
//! declared non-nullable (`#[schema(value_type = T)]`) and stay optional, except
//! those in `MAY_BE_ABSENT`, which are left out or null.

use std::collections::BTreeMap;

use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

use super::{mirrors, requests};
use crate::routes::{admin, auth, clone, customers, jobs, outputs, resources, system, webhooks};
use crate::{slack, views};

type Components = Vec<(String, RefOr<Schema>)>;

/// (component, property): left out when unknown, null when known to be none.
const MAY_BE_ABSENT: &[(&str, &str)] = &[("DriverVersions", "recommended")];

/// `T` and every schema it refers to.
fn add<T: ToSchema>(out: &mut Components) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

/// What the handlers answer with.
fn answers() -> Components {
    let mut out = Components::new();
    add::<auth::UserEnvelope>(&mut out);
    add::<jobs::Created>(&mut out);
    add::<jobs::QueueView>(&mut out);
    add::<views::JobView>(&mut out);
    add::<views::JobPage>(&mut out);
    add::<views::LogPage>(&mut out);
    add::<clone::Cloned>(&mut out);
    add::<resources::boards::Motherboards>(&mut out);
    add::<resources::boards::BoardSearch>(&mut out);
    add::<resources::boards::Recommend>(&mut out);
    add::<resources::boards::DriverVersions>(&mut out);
    add::<resources::image::BaseImages>(&mut out);
    add::<resources::image::CompatibleVersions>(&mut out);
    add::<resources::components::LangPacks>(&mut out);
    add::<resources::components::Updates>(&mut out);
    add::<resources::components::Software>(&mut out);
    add::<resources::components::AnswerFiles>(&mut out);
    add::<resources::tools::Tools>(&mut out);
    add::<outputs::Listing>(&mut out);
    add::<webhooks::WebhookList>(&mut out);
    add::<webhooks::WebhookView>(&mut out);
    add::<webhooks::DeliveryList>(&mut out);
    add::<mirrors::WebhookDelivery>(&mut out);
    add::<admin::AccountList>(&mut out);
    add::<admin::AccountEnvelope>(&mut out);
    add::<admin::TokenList>(&mut out);
    add::<admin::CreatedToken>(&mut out);
    add::<slack::reply::SlackReply>(&mut out);
    add::<system::Health>(&mut out);
    add::<customers::CustomerList>(&mut out);
    add::<customers::CustomerView>(&mut out);
    add::<customers::PreviewAnswer>(&mut out);
    out
}

/// What the handlers read from a body.
fn bodies() -> Components {
    let mut out = Components::new();
    add::<auth::LoginBody>(&mut out);
    add::<requests::JobRequestBody>(&mut out);
    add::<crate::webhooks::CreateWebhook>(&mut out);
    add::<crate::webhooks::UpdateWebhook>(&mut out);
    add::<admin::CreateUser>(&mut out);
    add::<admin::UpdateUser>(&mut out);
    add::<admin::CreateToken>(&mut out);
    add::<requests::SlackCommand>(&mut out);
    add::<customers::PutCustomer>(&mut out);
    add::<customers::PreviewRequest>(&mut out);
    out
}

/// Every component, by name.
pub(crate) fn components() -> BTreeMap<String, RefOr<Schema>> {
    let mut all = BTreeMap::new();
    for (name, mut schema) in answers() {
        if let RefOr::T(schema) = &mut schema {
            require_present(&name, schema);
        }
        all.insert(name, schema);
    }
    all.extend(bodies());
    // a clone takes the fields of a job request, each one optional
    if let Some(RefOr::T(Schema::Object(request))) = all.get("JobRequestBody") {
        let mut overrides = request.clone();
        overrides.required.clear();
        all.insert("JobOverrides".into(), RefOr::T(Schema::Object(overrides)));
    }
    all.insert("Error".into(), RefOr::T(error()));
    all.insert("OpenApiDocument".into(), RefOr::T(document()));
    all.insert("Manifest".into(), RefOr::T(manifest()));
    all
}

/// Make every nullable property of an answer's object required (see the module note).
fn require_present(component: &str, schema: &mut Schema) {
    match schema {
        Schema::Object(object) => {
            let nullable: Vec<String> = object
                .properties
                .iter()
                .filter(|(name, property)| {
                    is_nullable(property)
                        && !object.required.contains(name)
                        && !MAY_BE_ABSENT.contains(&(component, name.as_str()))
                })
                .map(|(name, _)| name.clone())
                .collect();
            object.required.extend(nullable);
        }
        // `#[serde(flatten)]` gives allOf: the own fields are one of the items
        Schema::AllOf(all) => {
            for item in &mut all.items {
                if let RefOr::T(item) = item {
                    require_present(component, item);
                }
            }
        }
        _ => {}
    }
}

fn is_nullable(property: &RefOr<Schema>) -> bool {
    let has_null =
        |t: &SchemaType| matches!(t, SchemaType::Array(types) if types.contains(&Type::Null));
    match property {
        RefOr::Ref(_) => false,
        RefOr::T(Schema::Object(o)) => {
            has_null(&o.schema_type) || o.schema_type == SchemaType::Type(Type::Null)
        }
        RefOr::T(Schema::Array(a)) => has_null(&a.schema_type),
        RefOr::T(Schema::OneOf(one)) => one.items.iter().any(is_nullable),
        RefOr::T(_) => false,
    }
}

fn text() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}

/// `{"error": {"code", "message", "field"?}}`, as `ApiError` writes it.
fn error() -> Schema {
    let inner = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("code", text())
        .property("message", text())
        .property("field", text())
        .required("code")
        .required("message");
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("error", inner)
        .required("error")
        .into()
}

/// `manifest.json` as the build wrote it; its format is the pipeline's (format 2 lists
/// `outputs`, format 1 had one `output`), so only its outline is fixed here.
fn manifest() -> Schema {
    let object = || ObjectBuilder::new().schema_type(Type::Object);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("The manifest a build wrote next to its output"))
        .property("job", object())
        .property(
            "outputs",
            utoipa::openapi::schema::ArrayBuilder::new().items(object()),
        )
        .property("output", object())
        .into()
}

/// This document itself, in outline.
fn document() -> Schema {
    let object = || ObjectBuilder::new().schema_type(Type::Object);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("An OpenAPI 3.1 document"))
        .property("openapi", text())
        .property("info", object())
        .property("paths", object())
        .property("components", object())
        .required("openapi")
        .required("info")
        .required("paths")
        .into()
}
