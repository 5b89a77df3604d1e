"""Step 04 · Reporting: data-quality checks, scores and their trend."""
