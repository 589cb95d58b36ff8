//! The operations of signing in, jobs and the repository's resources.

use axum::http::Method;

use super::operations::{
    CONFLICT, INVALID, JOB_ID, JOB_LIST, Kind, LEVEL, MANIFEST, NONE, ONE, Operation, Query,
    RESOURCE, Success, file, op,
};

/// Auth, jobs and resources, grouped as in `routes::table`.
pub(super) const OPERATIONS: &[Operation] = &[
    // auth
    op(
        Method::POST,
        "/api/auth/login",
        "Sign in; sets the `wait_session` cookie",
        "UserEnvelope",
    )
    .body("LoginBody")
    .errors(&[400, 401, 413, 415, 422, 429]),
    op(
        Method::POST,
        "/api/auth/logout",
        "Sign out; ends the session",
        NONE,
    )
    .no_content(),
    op(
        Method::GET,
        "/api/auth/me",
        "The signed-in user",
        "UserEnvelope",
    ),
    // jobs
    op(Method::POST, "/api/job", "Queue a build job", "JobCreated")
        .body("JobRequestBody")
        .created()
        .errors(&[400, 409, 413, 415, 422]),
    op(Method::GET, "/api/job", "One job, or the latest", "JobView")
        .query(&[JOB_ID])
        .errors(ONE),
    op(
        Method::DELETE,
        "/api/job",
        "Delete a finished job, optionally with its output folder",
        NONE,
    )
    .query(&[
        JOB_ID,
        Query("purge_output", Kind::Text, "also delete the output folder"),
    ])
    .no_content()
    .errors(CONFLICT),
    op(
        Method::GET,
        "/api/queue",
        "The queue and the live workers",
        "QueueView",
    ),
    op(
        Method::GET,
        "/api/job/stream",
        "Live state and log of a job (server-sent events)",
        NONE,
    )
    .query(&[
        JOB_ID,
        LEVEL,
        Query(
            "after",
            Kind::Integer,
            "resume after this log sequence number",
        ),
    ])
    .ok(file(&["text/event-stream"]))
    .errors(ONE),
    op(
        Method::GET,
        "/api/job/manifest",
        "The manifest of a job's output",
        NONE,
    )
    .query(&[
        JOB_ID,
        Query("format", Kind::OneOf(&["json", "text"]), "answer format"),
    ])
    .ok(MANIFEST)
    .errors(CONFLICT),
    op(
        Method::POST,
        "/api/job/cancel",
        "Cancel a queued (200) or running (202) job",
        "JobView",
    )
    .query(&[JOB_ID])
    .ok(Success::Json(&[200, 202], "JobView"))
    .errors(CONFLICT),
    op(
        Method::GET,
        "/api/jobs",
        "Job history, newest first",
        "JobPage",
    )
    .query(JOB_LIST)
    .errors(INVALID),
    op(
        Method::GET,
        "/api/jobs/search",
        "Search the job history",
        "JobPage",
    )
    .query(JOB_LIST)
    .errors(INVALID),
    op(Method::GET, "/api/jobs/{id}", "One job", "JobView").errors(ONE),
    op(
        Method::GET,
        "/api/jobs/{id}/logs",
        "A page of a job's log",
        "LogPage",
    )
    .query(&[
        LEVEL,
        Query("after", Kind::Text, "log sequence number to start after"),
        Query("limit", Kind::Text, "page size"),
    ])
    .errors(ONE),
    op(
        Method::POST,
        "/api/jobs/{id}/clone",
        "Queue a copy of a job with the same inputs",
        "Cloned",
    )
    .optional_body("JobOverrides")
    .query(&[Query(
        "strict",
        Kind::Boolean,
        "refuse (409) when an input changed",
    )])
    .created()
    .errors(&[400, 404, 409, 413, 415, 422]),
    // resources
    op(
        Method::GET,
        "/api/resources/motherboards",
        "Registered motherboards",
        "Motherboards",
    ),
    op(
        Method::GET,
        "/api/resources/motherboards/search",
        "Search motherboards",
        "BoardSearch",
    )
    .query(RESOURCE)
    .errors(ONE),
    op(
        Method::GET,
        "/api/resources/drivers/recommend",
        "Recommended drivers for a motherboard",
        "Recommend",
    )
    .query(RESOURCE)
    .errors(ONE),
    op(
        Method::GET,
        "/api/resources/base-images",
        "Base images of the repository",
        "BaseImages",
    ),
    op(
        Method::GET,
        "/api/resources/driver-versions",
        "Driver versions of a motherboard",
        "DriverVersions",
    )
    .query(RESOURCE)
    .errors(ONE),
    op(
        Method::GET,
        "/api/resources/compatible-versions",
        "Windows versions a base image can take",
        "CompatibleVersions",
    )
    .query(RESOURCE)
    .errors(ONE),
    op(
        Method::GET,
        "/api/resources/langpacks",
        "Language packs",
        "LangPacks",
    )
    .query(RESOURCE)
    .errors(ONE),
    op(Method::GET, "/api/resources/updates", "Updates", "Updates")
        .query(RESOURCE)
        .errors(ONE),
    op(
        Method::GET,
        "/api/resources/software",
        "Software packages",
        "Software",
    )
    .query(RESOURCE)
    .errors(ONE),
    op(
        Method::GET,
        "/api/resources/answer-files",
        "Answer files",
        "AnswerFiles",
    )
    .query(RESOURCE)
    .errors(ONE),
    op(Method::GET, "/api/resources/tools", "Tools", "Tools")
        .query(RESOURCE)
        .errors(ONE),
];
