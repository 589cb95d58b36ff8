-- Request options added after the first release (output image name, WinRE handling),
-- kept in one JSON object so later options need no new column.
ALTER TABLE build_jobs ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
