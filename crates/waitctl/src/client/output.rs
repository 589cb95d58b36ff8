//! Text renderings of the server's JSON objects (jobs, log lines) for people; `--json`
//! bypasses all of this and prints the objects themselves.

use serde_json::Value;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("-")
}

/// `ts level [stage] message`, as the job log shows it.
pub fn log_line(line: &Value) -> String {
    let stage = line
        .get("stage")
        .and_then(Value::as_str)
        .map(|s| format!("[{s}] "))
        .unwrap_or_default();
    format!(
        "{} {:<7} {stage}{}",
        text(line, "ts"),
        text(line, "level"),
        text(line, "message")
    )
}

/// One line per job for `job list`.
pub fn job_row(job: &Value) -> String {
    format!(
        "{}  {:<21} {:>3}%  {:<12} {:<12} {}",
        text(job, "job_id"),
        text(job, "status"),
        job.get("progress").and_then(Value::as_u64).unwrap_or(0),
        text(job, "customer_name"),
        text(job, "motherboard_model"),
        text(job, "created_at"),
    )
}

/// The `job status` summary: what was asked, where it stands, where the output is.
pub fn job_summary(job: &Value) -> String {
    let mut lines = vec![
        format!("job:       {}", text(job, "job_id")),
        format!(
            "status:    {}{}",
            text(job, "status"),
            job.get("queue_position")
                .and_then(Value::as_u64)
                .map(|p| format!(" (queue position {p})"))
                .unwrap_or_default()
        ),
        format!(
            "progress:  {}% {}",
            job.get("progress").and_then(Value::as_u64).unwrap_or(0),
            job.get("stage").and_then(Value::as_str).unwrap_or_default()
        ),
        format!("board:     {}", text(job, "motherboard_model")),
        format!(
            "image:     {} (index {})",
            text(job, "base_image"),
            job.get("image_index")
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .unwrap_or_default()
        ),
        format!("customer:  {}", text(job, "customer_name")),
        format!("by:        {}", text(job, "created_by")),
        format!("created:   {}", text(job, "created_at")),
        format!("started:   {}", text(job, "started_at")),
        format!("finished:  {}", text(job, "finished_at")),
    ];
    if let Some(error) = job.get("error").and_then(Value::as_str) {
        lines.push(format!("error:     {error}"));
    }
    for warning in job
        .get("warnings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        lines.push(format!("warning:   {warning}"));
    }
    if let Some(dir) = job.get("output_dir").and_then(Value::as_str) {
        lines.push(format!("output:    {dir}"));
        for file in job
            .get("output_files")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            lines.push(format!("           {file}"));
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_fields_show_as_dashes_not_panics() {
        for v in [json!({}), json!(null), json!({"stage": 3, "progress": "x"})] {
            assert!(job_summary(&v).contains("job:       -"));
            assert!(job_row(&v).contains('-'));
            assert!(log_line(&v).contains('-'));
        }
    }

    #[test]
    fn summary_names_the_output_and_error() {
        let job = json!({"job_id": "j", "status": "Failed_Build", "error": "boom",
                         "output_dir": "C/F", "output_files": ["a.wim"], "image_index": 2});
        let s = job_summary(&job);
        assert!(s.contains("error:     boom"));
        assert!(s.contains("output:    C/F"));
        assert!(s.contains("a.wim"));
        assert!(s.contains("(index 2)"));
    }
}
