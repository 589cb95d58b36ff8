//! Motherboards: the list, the fuzzy search, their driver sets (`/driver-versions`) and
//! the driver set recommended for an image (`/drivers/recommend`).

use serde::Serialize;
use wait_catalog::token::DriverToken;
use wait_catalog::{DriverSet, ImageIdentity, Repository};
use wait_store::Motherboard;

use super::errors::{catalog_error, unreadable};
use super::image::{Choice, ImageRef};
use crate::error::ApiError;

const PARAM: &str = "motherboard";

/// The board's folder name under `2_Drivers/`: the exact name, else the one folder that
/// equals it without case. 404 naming `motherboard` (with the closest board) otherwise.
fn resolve_board(repo: &Repository, raw: &str) -> Result<String, ApiError> {
    wait_catalog::validate_name(PARAM, raw).map_err(|e| catalog_error(PARAM, e))?;
    let boards = repo.motherboards().map_err(unreadable)?;
    if boards.iter().any(|b| b == raw) {
        return Ok(raw.to_string());
    }
    let same: Vec<&String> = boards
        .iter()
        .filter(|b| b.eq_ignore_ascii_case(raw))
        .collect();
    if let [only] = same.as_slice() {
        return Ok((*only).clone());
    }
    let closest = wait_catalog::search_boards(raw, &boards, 1)
        .into_iter()
        .next()
        .map(|m| format!("; the closest board is {}", m.model))
        .unwrap_or_default();
    Err(ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        format!("{PARAM}: {raw:?} has no folder under 2_Drivers/{closest}"),
    )
    .with_field(PARAM))
}

/// `GET /api/resources/motherboards`: boards with a driver folder and boards registered
/// in the database, by name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Motherboards {
    pub motherboards: Vec<BoardView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BoardView {
    pub model: String,
    /// It has a folder under `2_Drivers/` (jobs can only be built for such boards).
    pub has_drivers: bool,
    /// It is registered in the database.
    pub registered: bool,
    /// Where its drivers are fetched from, when registered with one.
    pub scrape_url: Option<String>,
}

fn board_view(model: String, folders: &[String], registered: &[Motherboard]) -> BoardView {
    let record = registered
        .iter()
        .find(|m| m.model.eq_ignore_ascii_case(&model));
    BoardView {
        has_drivers: folders.iter().any(|f| f.eq_ignore_ascii_case(&model)),
        registered: record.is_some(),
        scrape_url: record.and_then(|m| m.scrape_url.clone()),
        model,
    }
}

pub(super) fn motherboards(
    repo: &Repository,
    registered: &[Motherboard],
) -> Result<Motherboards, ApiError> {
    let folders = repo.motherboards().map_err(unreadable)?;
    let mut models = folders.clone();
    for m in registered {
        if !models.iter().any(|f| f.eq_ignore_ascii_case(&m.model)) {
            models.push(m.model.clone());
        }
    }
    models.sort_by_key(|m| m.to_lowercase());
    let motherboards = models
        .into_iter()
        .map(|model| board_view(model, &folders, registered))
        .collect();
    Ok(Motherboards { motherboards })
}

/// `GET /api/resources/motherboards/search`: best match first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BoardSearch {
    pub query: String,
    pub results: Vec<BoardHit>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BoardHit {
    /// 0–1; 1 only for an exact match (ignoring case, spaces, `-` and `_`).
    pub score: f64,
    #[serde(flatten)]
    pub board: BoardView,
}

pub(super) fn search_boards(
    repo: &Repository,
    query: &str,
    limit: usize,
    registered: &[Motherboard],
) -> Result<BoardSearch, ApiError> {
    let folders = repo.motherboards().map_err(unreadable)?;
    let extra: Vec<String> = registered.iter().map(|m| m.model.clone()).collect();
    let matches = repo
        .search_motherboards(query, &extra, limit)
        .map_err(unreadable)?;
    let results = matches
        .into_iter()
        .map(|m| BoardHit {
            score: m.score,
            board: board_view(m.model, &folders, registered),
        })
        .collect();
    Ok(BoardSearch {
        query: query.to_string(),
        results,
    })
}

/// One driver set judged against an image.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct SetFit {
    pub fits: bool,
    pub reason: String,
}

fn set_fit(set: &str, image: &ImageIdentity) -> SetFit {
    match DriverToken::parse(set) {
        Ok(token) => match token.fit(set, image) {
            Ok(fit) => SetFit {
                fits: true,
                reason: fit.reason,
            },
            Err(why) => SetFit {
                fits: false,
                reason: why,
            },
        },
        Err(e) => SetFit {
            fits: false,
            reason: e.to_string(),
        },
    }
}

/// A driver set with what its folder name says and, when an image was given, its fit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SetView {
    #[serde(flatten)]
    #[schema(value_type = crate::openapi::mirrors::DriverSet)]
    pub set: DriverSet,
    /// What the folder name means, when it is a version token.
    #[schema(value_type = Option<crate::openapi::mirrors::DriverToken>)]
    pub token: Option<DriverToken>,
    /// Why the folder name is not a version token.
    pub token_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = SetFit)]
    pub fit: Option<SetFit>,
}

fn set_view(set: DriverSet, image: Option<&ImageIdentity>) -> SetView {
    let (token, token_error) = match DriverToken::parse(&set.name) {
        Ok(t) => (Some(t), None),
        Err(e) => (None, Some(e.to_string())),
    };
    SetView {
        fit: image.map(|i| set_fit(&set.name, i)),
        set,
        token,
        token_error,
    }
}

/// `GET /api/resources/driver-versions?motherboard=` (optionally `&base_image=&index=`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DriverVersions {
    pub motherboard: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ImageRef)]
    pub image: Option<ImageRef>,
    pub driver_sets: Vec<SetView>,
    /// The set a job without `driver_set` would use for the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommended: Option<Option<String>>,
}

pub(super) fn driver_versions(
    repo: &Repository,
    raw_board: &str,
    choice: Option<&Choice>,
) -> Result<DriverVersions, ApiError> {
    let board = resolve_board(repo, raw_board)?;
    let selected = choice.map(|c| c.select(repo)).transpose()?;
    let sets = repo
        .driver_sets(&board)
        .map_err(|e| catalog_error(PARAM, e))?;
    let recommended = match &selected {
        Some(s) => Some(
            repo.recommend_driver_set(&board, &s.identity)
                .map_err(|e| catalog_error(PARAM, e))?
                .map(|r| r.driver_set.name),
        ),
        None => None,
    };
    let image = selected.as_ref().map(|s| &s.identity);
    Ok(DriverVersions {
        motherboard: board,
        image: selected.as_ref().map(|s| s.view()),
        driver_sets: sets.into_iter().map(|s| set_view(s, image)).collect(),
        recommended,
    })
}

/// `GET /api/resources/drivers/recommend?motherboard=&base_image=` (`&index=`, default
/// 1): the set a job without `driver_set` would use, and why; when none fits,
/// `driver_set` is null and `reason` says so, and `candidates` say why each set does not.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Recommend {
    pub motherboard: String,
    pub image: ImageRef,
    #[schema(value_type = Option<crate::openapi::mirrors::DriverSet>)]
    pub driver_set: Option<DriverSet>,
    pub reason: String,
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Candidate {
    pub name: String,
    pub path: String,
    pub inf_count: usize,
    #[serde(flatten)]
    pub fit: SetFit,
}

pub(super) fn recommend(
    repo: &Repository,
    raw_board: &str,
    choice: &Choice,
) -> Result<Recommend, ApiError> {
    let board = resolve_board(repo, raw_board)?;
    let selected = choice.select(repo)?;
    let sets = repo
        .driver_sets(&board)
        .map_err(|e| catalog_error(PARAM, e))?;
    let recommendation = repo
        .recommend_driver_set(&board, &selected.identity)
        .map_err(|e| catalog_error(PARAM, e))?;
    let candidates = sets
        .iter()
        .map(|s| Candidate {
            name: s.name.clone(),
            path: s.path.clone(),
            inf_count: s.inf_count,
            fit: set_fit(&s.name, &selected.identity),
        })
        .collect();
    let (driver_set, reason) = match recommendation {
        Some(r) => (Some(r.driver_set), r.reason),
        None => {
            let described = identity_description(&selected.identity);
            let hint = wait_catalog::driver_folder_token(&selected.identity)
                .map(|t| format!("; add its drivers under 2_Drivers/{board}/{t}/"))
                .unwrap_or_default();
            (
                None,
                format!("no driver set under 2_Drivers/{board}/ fits {described}{hint}"),
            )
        }
    };
    Ok(Recommend {
        motherboard: board,
        image: selected.view(),
        driver_set,
        reason,
        candidates,
    })
}

/// "build 26100 x64" (or what is known of it).
fn identity_description(image: &ImageIdentity) -> String {
    match (image.build, image.arch) {
        (Some(build), Some(arch)) => format!("build {build} {arch}"),
        (Some(build), None) => format!("build {build}"),
        (None, _) => format!("image {} (its build is unknown)", image.index),
    }
}
